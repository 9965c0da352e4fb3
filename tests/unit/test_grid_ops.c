/*
 * test_grid_ops: the grid ops of issue 17 (fit, diff, first, verify,
 * gaps) answered by the daemon's handlers in-process (tests/test_ops.h)
 * on a real index of the seed corpus: what each finds, checked against
 * the clauses the index itself returns (get, row) rather than copied
 * text, and every kind of bad input each refuses, with its code and
 * message, decoder and handler alike, and `unavailable` without an
 * index.
 */
#define _GNU_SOURCE /* mkdtemp */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <msgpack.h>

#include "../integration/mp_notation.h"
#include "daemon.h"
#include "sdx_proto.h"
#include "sdx_words.h"
#include "test_ops.h"
#include "test_tree.h"

#define SERIES "Clinical Applications Professional 1-5 HX"

static char tmpdir[] = "/tmp/sdx-test-grid-ops-XXXXXX";
static t_ops_index_t ix;

static int
s_setup(void **state)
{
    (void)state;
    if (!mkdtemp(tmpdir))
        return -1;
    /* the seed, and a second series of three levels (Records Analyst
     * 1-3): the ops that take a series must keep to the one named */
    const char *paths[] = { SDX_SEED_CORPUS, SDX_TEST_DATA "/good" };
    t_ops_index_open_paths(&ix, tmpdir, paths, 2, NULL);
    return 0;
}

static int
s_teardown(void **state)
{
    (void)state;
    t_ops_index_close(&ix);
    return t_rm_tree(tmpdir);
}


/* Answer the request packed in SB (destroyed) with the ops. */
static const msgpack_object *
s_ask_sb(t_answer_t *a, msgpack_sbuffer *sb, const char *what)
{
    t_ops_answer(&ix.ctx, sb, what, &a->u, &a->bytes);
    return &a->u.data;
}

/*
 * Pack {v:1, op:OP, text:TEXT} and CLAUSE, EXCLUDE (one id), LEVEL and
 * SERIES where not NULL or 0 into SB: texts taken from the index, which
 * the notation's quotes could not hold.
 */
static void
s_pack(msgpack_sbuffer *sb, const char *op, const char *text,
       const char *clause, const char *exclude, unsigned level,
       const char *series)
{
    msgpack_packer pk;
    msgpack_sbuffer_init(sb);
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3 + !!clause + !!exclude + !!level + !!series);
    sdx_msgpack_pack_str(&pk, "v");
    msgpack_pack_int(&pk, 1);
    sdx_msgpack_pack_str(&pk, "op");
    sdx_msgpack_pack_str(&pk, op);
    sdx_msgpack_pack_str(&pk, "text");
    sdx_msgpack_pack_str(&pk, text);
    if (clause) {
        sdx_msgpack_pack_str(&pk, "clause");
        sdx_msgpack_pack_str(&pk, clause);
    }
    if (exclude) {
        sdx_msgpack_pack_str(&pk, "exclude");
        msgpack_pack_array(&pk, 1);
        sdx_msgpack_pack_str(&pk, exclude);
    }
    if (level) {
        sdx_msgpack_pack_str(&pk, "level");
        msgpack_pack_unsigned_int(&pk, level);
    }
    if (series) {
        sdx_msgpack_pack_str(&pk, "series");
        sdx_msgpack_pack_str(&pk, series);
    }
}

/* Answer the request written in the notation TEXT. */
static const msgpack_object *
s_ask(t_answer_t *a, const char *text)
{
    msgpack_sbuffer sb;
    s_mp(&sb, "%s", text);
    return s_ask_sb(a, &sb, text);
}

/* A malloc'd copy of the str under KEY of MAP ("" when none). */
static char *
s_str(const msgpack_object *map, const char *key)
{
    const msgpack_object *o = sdx_msgpack_get(map, key);
    if (!o || o->type != MSGPACK_OBJECT_STR)
        return strdup("");
    return strndup(o->via.str.ptr, o->via.str.size);
}

static int64_t
s_int(const msgpack_object *map, const char *key)
{
    const msgpack_object *o = sdx_msgpack_get(map, key);
    assert_non_null(o);
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        return o->via.i64;
    assert_int_equal(o->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
    return (int64_t)o->via.u64;
}

static bool
s_bool(const msgpack_object *map, const char *key)
{
    const msgpack_object *o = sdx_msgpack_get(map, key);
    assert_non_null(o);
    assert_int_equal(o->type, MSGPACK_OBJECT_BOOLEAN);
    return o->via.boolean;
}

static const msgpack_object_array *
s_list(const msgpack_object *map, const char *key)
{
    const msgpack_object *o = sdx_msgpack_get(map, key);
    assert_non_null(o);
    assert_int_equal(o->type, MSGPACK_OBJECT_ARRAY);
    return &o->via.array;
}

/* The text of clause ID, from the index (malloc'd). */
static char *
s_clause_text(const char *id)
{
    t_answer_t a;
    char req[300];
    snprintf(req, sizeof req, "{v:1, op:'get', ids:['%s']}", id);
    const msgpack_object_array *cs = s_list(s_ask(&a, req), "clauses");
    assert_int_equal(cs->size, 1);
    char *t = s_str(&cs->ptr[0], "text");
    t_answer_done(&a);
    assert_true(t[0]);
    return t;
}

/* TEXT's words joined by single spaces (malloc'd). */
static char *
s_words(const char *text)
{
    size_t n = sdx_words_split(text, NULL, 0), k = 0;
    sdx_span_t *w = calloc(n + 1, sizeof *w);
    char *out = calloc(strlen(text) + 1, 1);
    assert_non_null(w);
    assert_non_null(out);
    sdx_words_split(text, w, n);
    for (size_t i = 0; i < n; i++) {
        if (i)
            out[k++] = ' ';
        memcpy(out + k, text + w[i].off, w[i].len);
        k += w[i].len;
    }
    free(w);
    return out;
}

/* The request TEXT (in notation) refused with CODE and MESSAGE, by the
   decoder or by the handler. */
static void
s_refused(msgpack_sbuffer *sb, sdx_errcode_t code, const char *message)
{
    sdx_request_t req;
    sdx_proto_error_t err;
    sdx_body_t body;
    sdx_errcode_t got = sdx_request_decode(sb->data, sb->size, &req, &err);
    msgpack_sbuffer_destroy(sb);
    if (got == SDX_E_NONE) {
        sdx_body_init(&body);
        got = sdx_ops_handle(&ix.ctx, &req, &body, &err);
        sdx_body_clear(&body);
    }
    sdx_request_clear(&req);
    if (got != code || strcmp(err.message, message) != 0)
        print_error("want %s \"%s\"\n got %s \"%s\"\n",
                    sdx_errcode_str(code), message, sdx_errcode_str(got),
                    err.message);
    assert_int_equal(got, code);
    assert_string_equal(err.message, message);
}

#define REFUSED(code, message, ...)                                         \
    do {                                                                    \
        msgpack_sbuffer sb_;                                                \
        s_mp(&sb_, __VA_ARGS__);                                            \
        s_refused(&sb_, code, message);                                     \
    } while (0)
#define BAD(message, ...) REFUSED(SDX_E_BAD_REQUEST, message, __VA_ARGS__)

/* ---------------------------------------------------------------- */
/* diff                                                             */
/* ---------------------------------------------------------------- */

/* The side of a step's runs: A (same and del) or B (same and add),
   joined by spaces (malloc'd). */
static char *
s_side(const msgpack_object_array *runs, char skip)
{
    size_t size = 1;
    for (uint32_t i = 0; i < runs->size; i++)
        size += sdx_msgpack_get(&runs->ptr[i], "text")->via.str.size + 1;
    char *out = calloc(size, 1);
    assert_non_null(out);
    for (uint32_t i = 0; i < runs->size; i++) {
        char *op = s_str(&runs->ptr[i], "op");
        char *t = s_str(&runs->ptr[i], "text");
        if (op[0] != skip) {
            if (out[0])
                strcat(out, " ");
            strcat(out, t);
        }
        free(op);
        free(t);
    }
    return out;
}

static void
test_diff(void **state)
{
    (void)state;
    t_answer_t a;
    const msgpack_object *r = s_ask(&a, "{v:1, op:'diff', row:'ksa 02'}");
    char *row = s_str(r, "row");
    assert_string_equal(row, "KSA 02");
    free(row);
    const msgpack_object_array *steps = s_list(r, "steps");
    assert_int_equal(steps->size, 4); /* levels 1..5 of the seed */
    for (uint32_t i = 0; i < steps->size; i++) {
        const msgpack_object *s = &steps->ptr[i];
        assert_int_equal(s_int(s, "to"), s_int(s, "from") + 1);
        /* each side of the runs is that level's text, word for word */
        char *from = s_str(s, "from_id"), *to = s_str(s, "to_id");
        char *ta = s_clause_text(from), *tb = s_clause_text(to);
        char *wa = s_words(ta), *wb = s_words(tb);
        const msgpack_object_array *runs = s_list(s, "runs");
        char *sa = s_side(runs, 'a'), *sb = s_side(runs, 'd');
        assert_string_equal(sa, wa);
        assert_string_equal(sb, wb);
        size_t added = 0, removed = 0;
        for (uint32_t j = 0; j < runs->size; j++) {
            char *op = s_str(&runs->ptr[j], "op");
            char *t = s_str(&runs->ptr[j], "text");
            size_t n = sdx_words_split(t, NULL, 0);
            added += op[0] == 'a' ? n : 0;
            removed += op[0] == 'd' ? n : 0;
            free(op);
            free(t);
        }
        assert_int_equal(s_int(s, "added"), added);
        assert_int_equal(s_int(s, "removed"), removed);
        free(from);
        free(to);
        free(ta);
        free(tb);
        free(wa);
        free(wb);
        free(sa);
        free(sb);
    }
    /* "Basic ..." -> "Demonstrated ...": the first word replaced */
    const msgpack_object_array *runs = s_list(&steps->ptr[0], "runs");
    char *op0 = s_str(&runs->ptr[0], "op"), *op1 = s_str(&runs->ptr[1], "op");
    assert_string_equal(op0, "del");
    assert_string_equal(op1, "add");
    free(op0);
    free(op1);
    t_answer_done(&a);

    /* a row whose text is the same at two levels: one "same" run */
    r = s_ask(&a, "{v:1, op:'diff', row:'special condition 2'}");
    steps = s_list(r, "steps");
    assert_true(steps->size >= 1);
    size_t unchanged = 0;
    for (uint32_t i = 0; i < steps->size; i++)
        unchanged += s_int(&steps->ptr[i], "added") == 0 &&
                     s_int(&steps->ptr[i], "removed") == 0 &&
                     s_list(&steps->ptr[i], "runs")->size == 1;
    assert_true(unchanged >= 1);
    t_answer_done(&a);

    /* no such row, or not in that series: nil and no steps */
    r = s_ask(&a, "{v:1, op:'diff', row:'ksa 99'}");
    assert_int_equal(sdx_msgpack_get(r, "row")->type, MSGPACK_OBJECT_NIL);
    assert_int_equal(s_list(r, "steps")->size, 0);
    t_answer_done(&a);
    BAD("series: no series \"Other 1-5 XX\" in the index (specdex series "
        "lists them)", "{v:1, op:'diff', row:'ksa 02', series:'Other 1-5 XX'}");
}

/* ---------------------------------------------------------------- */
/* first                                                            */
/* ---------------------------------------------------------------- */

static void
test_first(void **state)
{
    (void)state;
    t_answer_t a, l;
    /* the ladder of the same query says which levels have it */
    const msgpack_object *r =
        s_ask(&a, "{v:1, op:'first', q:'\"root cause analysis\"'}");
    const msgpack_object *lad =
        s_ask(&l, "{v:1, op:'ladder', q:'\"root cause analysis\"'}");
    const msgpack_object_array *rows = s_list(r, "rows");
    const msgpack_object_array *ladder = s_list(lad, "ladder");
    assert_true(rows->size >= 1);
    const msgpack_object *row = &rows->ptr[0];
    char *name = s_str(row, "row"), *lrow = s_str(lad, "row");
    assert_string_equal(name, lrow);
    free(name);
    free(lrow);
    unsigned with = 0, ladder_levels = 0;
    const msgpack_object_array *w = s_list(row, "with");
    for (uint32_t i = 0; i < w->size; i++)
        with |= 1u << w->ptr[i].via.u64;
    for (uint32_t i = 0; i < ladder->size; i++)
        if (sdx_msgpack_get(&ladder->ptr[i], "hit")->type !=
            MSGPACK_OBJECT_NIL)
            ladder_levels |= 1u << s_int(&ladder->ptr[i], "level");
    assert_int_equal(with, ladder_levels);
    int first = 0;
    while (!((with >> first) & 1u))
        first++;
    assert_int_equal(s_int(row, "first"), first);
    /* with, without and no_cell are the series' levels, once each */
    unsigned all = with;
    const msgpack_object_array *wo = s_list(row, "without");
    for (uint32_t i = 0; i < wo->size; i++) {
        assert_false((all >> wo->ptr[i].via.u64) & 1u);
        all |= 1u << wo->ptr[i].via.u64;
    }
    const msgpack_object_array *nc = s_list(row, "no_cell");
    for (uint32_t i = 0; i < nc->size; i++) {
        assert_false((all >> nc->ptr[i].via.u64) & 1u);
        all |= 1u << nc->ptr[i].via.u64;
    }
    assert_int_equal(all, 0x3e); /* levels 1..5 */
    bool above = true;
    for (int lv = first + 1; lv <= 5; lv++)
        above = above && ((with >> lv) & 1u);
    assert_int_equal(s_bool(row, "every_level_above"), above);
    t_answer_done(&a);
    t_answer_done(&l);

    /* nothing matches: no rows, and a correction when there is one */
    r = s_ask(&a, "{v:1, op:'first', q:'troubleshootng'}");
    assert_int_equal(s_list(r, "rows")->size, 0);
    char *corrected = s_str(r, "corrected");
    assert_string_equal(corrected, "troubleshooting");
    free(corrected);
    t_answer_done(&a);
}

/* ---------------------------------------------------------------- */
/* verify                                                           */
/* ---------------------------------------------------------------- */

static void
test_verify(void **state)
{
    (void)state;
    t_answer_t a;
    msgpack_sbuffer sb;
    char *text = s_clause_text("5366/ksa-02");
    /* a span of the clause's words 2..6, re-typed as a chatbot does:
       capitals, a non-breaking space, doubled spaces */
    sdx_span_t w[64];
    size_t n = sdx_words_split(text, w, 64);
    assert_true(n > 8);
    size_t start = w[2].off, end = w[6].off + w[6].len;
    char span[512];
    size_t k = 0;
    for (size_t i = start; i < end; i++) {
        char c = text[i];
        if (c == ' ' && i == w[3].off - 1) {
            memcpy(span + k, "\xc2\xa0", 2); /* U+00A0 */
            k += 2;
        } else if (c == ' ') {
            span[k++] = ' ';
            span[k++] = ' ';
        } else {
            span[k++] = c >= 'a' && c <= 'z' ? (char)(c - 32) : c;
        }
    }
    span[k] = '\0';
    s_pack(&sb, "verify", span, "5366/ksa-02", NULL, 0, NULL);
    const msgpack_object *r = s_ask_sb(&a, &sb, "verify");
    assert_true(s_bool(r, "verbatim"));
    const msgpack_object_array *m = s_list(r, "matches");
    assert_true(m->size >= 1);
    char *id = s_str(&m->ptr[0], "id");
    assert_string_equal(id, "5366/ksa-02");
    free(id);
    /* character offsets: the seed's text is ASCII, so bytes */
    assert_int_equal(s_int(&m->ptr[0], "start"), start);
    assert_int_equal(s_int(&m->ptr[0], "end"), end);
    const msgpack_object *cited = sdx_msgpack_get(r, "cited");
    assert_true(s_bool(cited, "found") && s_bool(cited, "verbatim"));
    assert_int_equal(sdx_msgpack_get(r, "closest")->type,
                     MSGPACK_OBJECT_NIL);
    t_answer_done(&a);

    /* one word changed: not verbatim; the clause is the closest, one
       edit away, over the words it spans */
    char changed[512];
    snprintf(changed, sizeof changed, "%.*s zebra %.*s",
             (int)(w[4].off - w[2].off - 1), text + w[2].off,
             (int)(w[8].off + w[8].len - w[5].off), text + w[5].off);
    s_pack(&sb, "verify", changed, "5365/ksa-02", NULL, 0, NULL);
    r = s_ask_sb(&a, &sb, "verify changed");
    assert_false(s_bool(r, "verbatim"));
    assert_int_equal(s_list(r, "matches")->size, 0);
    cited = sdx_msgpack_get(r, "cited");
    assert_true(s_bool(cited, "found"));
    assert_false(s_bool(cited, "verbatim"));
    const msgpack_object *c = sdx_msgpack_get(r, "closest");
    assert_int_equal(c->type, MSGPACK_OBJECT_MAP);
    id = s_str(c, "id");
    assert_string_equal(id, "5366/ksa-02");
    free(id);
    assert_int_equal(s_int(c, "distance"), 1);
    assert_int_equal(s_int(c, "start"), w[2].off);
    /* the run ends with the last term: before a trailing comma */
    size_t last = w[8].off + w[8].len;
    if (text[last - 1] == ',' || text[last - 1] == '.')
        last--;
    assert_int_equal(s_int(c, "end"), last);
    t_answer_done(&a);

    /* a span that starts inside a word is not verbatim */
    s_pack(&sb, "verify", text + w[2].off + 1, NULL, NULL, 0, NULL);
    r = s_ask_sb(&a, &sb, "verify mid-word");
    assert_false(s_bool(r, "verbatim"));
    t_answer_done(&a);

    /* a clause that does not exist is said to be missing */
    r = s_ask(&a, "{v:1, op:'verify', text:'Basic problem-solving', "
                  "clause:'9999/ksa-02'}");
    cited = sdx_msgpack_get(r, "cited");
    assert_false(s_bool(cited, "found"));
    assert_true(s_bool(r, "verbatim")); /* it is elsewhere */
    t_answer_done(&a);

    /* no word the index holds: no closest */
    r = s_ask(&a, "{v:1, op:'verify', text:'zzqx qqzx'}");
    assert_false(s_bool(r, "verbatim"));
    assert_int_equal(sdx_msgpack_get(r, "closest")->type,
                     MSGPACK_OBJECT_NIL);
    t_answer_done(&a);
    free(text);
}

/* ---------------------------------------------------------------- */
/* fit                                                              */
/* ---------------------------------------------------------------- */

static void
test_fit(void **state)
{
    (void)state;
    t_answer_t a;
    msgpack_sbuffer sb;
    char *text = s_clause_text("6373/ksa-02");
    s_pack(&sb, "fit", text, NULL, "6373/ksa-02", 0, NULL);
    const msgpack_object *r = s_ask_sb(&a, &sb, "fit");
    char *series = s_str(r, "series");
    assert_string_equal(series, SERIES);
    free(series);
    const msgpack_object_array *lv = s_list(r, "levels");
    assert_int_equal(lv->size, 5);
    double prev = 1e300;
    for (uint32_t i = 0; i < lv->size; i++) {
        const msgpack_object *l = &lv->ptr[i];
        const msgpack_object *sc = sdx_msgpack_get(l, "score");
        assert_true(sc->via.f64 <= prev);
        prev = sc->via.f64;
        const msgpack_object_array *sup = s_list(l, "support");
        for (uint32_t j = 0; j < sup->size; j++) {
            char *id = s_str(&sup->ptr[j], "id");
            assert_string_not_equal(id, "6373/ksa-02"); /* excluded */
            /* a clause of the level it supports */
            char *title = s_str(l, "job_code");
            assert_memory_equal(id, title, strlen(title));
            free(title);
            free(id);
        }
    }
    assert_true(sdx_msgpack_get(&lv->ptr[0], "share")->via.f64 == 1.0);
    t_answer_done(&a);

    /* only stop words: nothing to search, a note */
    r = s_ask(&a, "{v:1, op:'fit', text:'the of and to'}");
    assert_int_equal(s_list(r, "levels")->size, 0);
    assert_int_equal(sdx_msgpack_get(r, "series")->type, MSGPACK_OBJECT_NIL);
    assert_non_null(sdx_msgpack_get(r, "note"));
    t_answer_done(&a);

    /* a series that is not there is named */
    BAD("series: no series \"Other 1-5 XX\" in the index (specdex series "
        "lists them)", "{v:1, op:'fit', text:'problem-solving skills', "
                       "series:'Other 1-5 XX'}");
    free(text);
}

/* ---------------------------------------------------------------- */
/* gaps                                                             */
/* ---------------------------------------------------------------- */

static void
test_gaps(void **state)
{
    (void)state;
    t_answer_t a;
    msgpack_sbuffer sb;
    /* a draft of two of level 2's rows, copied: those two covered */
    char *t1 = s_clause_text("5366/key-resp-06");
    char *t2 = s_clause_text("5366/ksa-05");
    char draft[4096];
    snprintf(draft, sizeof draft, "%s\n%s", t1, t2);
    s_pack(&sb, "gaps", draft, NULL, NULL, 2, SERIES);
    const msgpack_object *r = s_ask_sb(&a, &sb, "gaps");
    const msgpack_object_array *gaps = s_list(r, "gaps");
    const msgpack_object_array *cov = s_list(r, "covered");
    bool kr6 = false, ksa5 = false;
    for (uint32_t i = 0; i < cov->size; i++) {
        char *id = s_str(&cov->ptr[i], "id");
        kr6 = kr6 || strcmp(id, "5366/key-resp-06") == 0;
        ksa5 = ksa5 || strcmp(id, "5366/ksa-05") == 0;
        free(id);
    }
    assert_true(kr6 && ksa5);
    assert_true(gaps->size >= 5);
    /* every gap is a responsibility or KSA row of level 2, with its
       clause, ranked by how near the draft came (least first) */
    double prev = -1;
    for (uint32_t i = 0; i < gaps->size; i++) {
        const msgpack_object *g = &gaps->ptr[i];
        char *id = s_str(g, "id"), *sec = s_str(g, "section");
        char *txt = s_str(g, "text");
        assert_memory_equal(id, "5366/", 5);
        assert_true(strcmp(sec, "ksa") == 0 ||
                    strcmp(sec, "responsibility") == 0);
        char *want = s_clause_text(id);
        assert_string_equal(txt, want);
        double touch = sdx_msgpack_get(g, "touch")->via.f64;
        assert_true(touch >= prev);
        prev = touch;
        free(want);
        free(id);
        free(sec);
        free(txt);
    }
    assert_true(s_int(r, "sentences") >= 2);
    assert_int_equal(s_int(r, "sentences_read"), s_int(r, "sentences"));
    assert_false(s_bool(r, "partial"));
    t_answer_done(&a);

    /* a series without that level: no rows, and a note saying so */
    r = s_ask(&a, "{v:1, op:'gaps', text:'Leads the team.', level:5, "
                  "series:'Records Analyst 1-3'}");
    assert_int_equal(s_list(r, "gaps")->size, 0);
    assert_non_null(sdx_msgpack_get(r, "note"));
    t_answer_done(&a);
    free(t1);
    free(t2);
}

/* ---------------------------------------------------------------- */
/* Bad input                                                        */
/* ---------------------------------------------------------------- */


static void
test_bad_input(void **state)
{
    (void)state;
    char big[SDX_PROTO_TEXT_MAX + 2];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    /* fit */
    msgpack_sbuffer sb;
    s_pack(&sb, "fit", big, NULL, NULL, 0, NULL);
    s_refused(&sb, SDX_E_BAD_REQUEST,
              "text: length 8193 is out of range 1..8192 bytes");
    s_pack(&sb, "gaps", big, NULL, NULL, 2, SERIES);
    s_refused(&sb, SDX_E_BAD_REQUEST,
              "text: length 8193 is out of range 1..8192 bytes");
    s_pack(&sb, "verify", big, NULL, NULL, 0, NULL);
    s_refused(&sb, SDX_E_BAD_REQUEST,
              "text: length 8193 is out of range 1..8192 bytes");
    big[SDX_PROTO_TEXT_MAX] = '\0';
    msgpack_sbuffer ok;
    s_pack(&ok, "fit", big, NULL, NULL, 0, NULL); /* 8 KiB is allowed */
    t_answer_t a;
    s_ask_sb(&a, &ok, "fit 8 KiB");
    t_answer_done(&a);
    BAD("missing key \"text\" (required by op \"fit\")", "{v:1, op:'fit'}");
    BAD("text: only blanks; it needs a word",
        "{v:1, op:'fit', text:' \t\n'}");
    BAD("text: expected str, got int", "{v:1, op:'fit', text:3}");
    BAD("exclude: 0 entries, expected 1..64 (leave the key out for all)",
        "{v:1, op:'fit', text:'x', exclude:[]}");
    BAD("series: a series needs a letter or digit",
        "{v:1, op:'fit', text:'skills', series:'!!'}");
    BAD("key \"q\" is not accepted by op \"fit\"",
        "{v:1, op:'fit', text:'x', q:'x'}");
    /* diff */
    BAD("missing key \"row\" (required by op \"diff\")", "{v:1, op:'diff'}");
    BAD("row: a row label needs a letter or digit",
        "{v:1, op:'diff', row:'--'}");
    BAD("series: a series needs a letter or digit",
        "{v:1, op:'diff', row:'ksa 02', series:'!'}");
    BAD("key \"text\" is not accepted by op \"diff\"",
        "{v:1, op:'diff', row:'ksa 02', text:'x'}");
    /* first */
    BAD("missing key \"q\" (required by op \"first\")", "{v:1, op:'first'}");
    REFUSED(SDX_E_BAD_QUERY, "q: Syntax: <expression> AND <expression>",
            "{v:1, op:'first', q:'vendors AND'}");
    BAD("sections[0]: \"duties\" is not a section (one of summary, scope, "
        "responsibility, ksa, education, condition, environment)",
        "{v:1, op:'first', q:'x', sections:['duties']}");
    /* verify */
    BAD("missing key \"text\" (required by op \"verify\")",
        "{v:1, op:'verify'}");
    BAD("clause: length 0 is out of range 1..256 bytes",
        "{v:1, op:'verify', text:'x', clause:''}");
    BAD("text: not valid UTF-8 (byte 1)",
        "{v:1, op:'verify', text:'a\xff'}");
    /* gaps */
    BAD("missing key \"level\" (required by op \"gaps\")",
        "{v:1, op:'gaps', text:'x', series:'" SERIES "'}");
    BAD("missing key \"series\" (required by op \"gaps\")",
        "{v:1, op:'gaps', text:'x', level:2}");
    BAD("level: 0 is out of range 1..5",
        "{v:1, op:'gaps', text:'x', level:0, series:'" SERIES "'}");
    BAD("level: 6 is out of range 1..5",
        "{v:1, op:'gaps', text:'x', level:6, series:'" SERIES "'}");
    BAD("level: expected int, got str",
        "{v:1, op:'gaps', text:'x', level:'2', series:'" SERIES "'}");
    BAD("series: a series needs a letter or digit",
        "{v:1, op:'gaps', text:'x', level:2, series:'::'}");
    /* a draft of more sentences than gaps searches */
    char many[SDX_PROTO_TEXT_MAX];
    size_t k = 0;
    for (int i = 0; i < 201; i++)
        k += (size_t)snprintf(many + k, sizeof many - k, "Leads. ");
    s_pack(&sb, "gaps", many, NULL, NULL, 2, SERIES);
    s_refused(&sb, SDX_E_BAD_REQUEST,
              "text: 201 sentences, at most 200 (one search each)");
}

static void
test_unavailable(void **state)
{
    (void)state;
    static const char *const frames[] = {
        "{v:1, op:'fit', text:'x'}",
        "{v:1, op:'diff', row:'x'}",
        "{v:1, op:'first', q:'x'}",
        "{v:1, op:'verify', text:'x'}",
        "{v:1, op:'gaps', text:'x', level:1, series:'x'}",
    };
    sdx_ops_ctx_t ctx = ix.ctx;
    ctx.db = NULL;
    ctx.db_error = "no index at /nowhere";
    for (size_t i = 0; i < sizeof frames / sizeof frames[0]; i++) {
        msgpack_sbuffer sb;
        sdx_proto_error_t err;
        s_mp(&sb, "%s", frames[i]);
        assert_int_equal(t_ops_handle(&ctx, &sb, &err), SDX_E_UNAVAILABLE);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diff),
        cmocka_unit_test(test_first),
        cmocka_unit_test(test_verify),
        cmocka_unit_test(test_fit),
        cmocka_unit_test(test_gaps),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_unavailable),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
