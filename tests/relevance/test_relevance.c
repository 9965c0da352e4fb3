/*
 * test_relevance: precision@1 of specdex on a table of judged queries
 * (tests/relevance/judged.tsv), against a real index of the seed corpus.
 *
 * The index is built in-process into a mkdtemp directory exactly as
 * specdex-index builds it (sdx_parse_paths, the corpus's synonyms.txt,
 * sdx_build_index_syn); each case is then a real request, decoded by
 * sdx_request_decode and answered by the daemon's own sdx_ops_handle on
 * a shim handle, so the query language, synonyms, spelling correction,
 * ladder and context are the ones specdexd serves.  A search that finds
 * nothing but returns `corrected` is asked again with the correction,
 * as the CLI and a chatbot do.
 *
 * The test prints one line per case and precision@1, and fails unless
 * every case ranks its judged clause first (precision@1 = 1.0).
 */
#define _GNU_SOURCE /* mkdtemp, nftw */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <msgpack.h>

#include "daemon.h"
#include "sdx_clause.h"
#include "sdx_proto.h"
#include "test_ops.h"
#include "table.h"
#include "test_tree.h"

#define MAX_FIELD 512   /* bytes of one field of the table */

/* One judged case. */
typedef struct judged {
    char op[16];             /* search, ladder, context */
    char query[MAX_FIELD];   /* q */
    int levels[5];           /* levels filter */
    size_t nlevels;
    char sections[4][32];    /* sections filter */
    size_t nsections;
    int step;                /* ladder: the level judged */
    char expected[MAX_FIELD]; /* the clause id that must come first */
    size_t line;             /* line of the table */
} judged_t;

static char tmpdir[] = "/tmp/sdx-relevance-XXXXXX";

/* Split the options field ("levels=2|3 sections=ksa step=1") into J. */
static void
s_options(judged_t *j, char *opts)
{
    for (char *kv = strtok(opts, " "); kv; kv = strtok(NULL, " ")) {
        char *eq = strchr(kv, '=');
        if (strcmp(kv, "-") == 0)
            continue;
        assert_non_null(eq);
        *eq = '\0';
        char *v = eq + 1;
        if (strcmp(kv, "step") == 0) {
            j->step = atoi(v);
            continue;
        }
        for (char *x = v; x && *x;) {
            char *bar = strchr(x, '|');
            if (bar)
                *bar = '\0';
            if (strcmp(kv, "levels") == 0) {
                assert_true(j->nlevels < 5);
                j->levels[j->nlevels++] = atoi(x);
            } else {
                assert_string_equal(kv, "sections");
                assert_true(j->nsections < 4);
                snprintf(j->sections[j->nsections++], 32, "%s", x);
            }
            x = bar ? bar + 1 : NULL;
        }
    }
}

/* Read the table; returns the number of cases into *OUT (malloc'd). */
static size_t
s_read_table(const char *path, judged_t **out)
{
    FILE *f = fopen(path, "r");
    char line[4 * MAX_FIELD];
    size_t n = 0, cap = 64, lineno = 0;
    judged_t *v = calloc(cap, sizeof *v);
    assert_non_null(f);
    assert_non_null(v);
    while (t_table_line(f, line, sizeof line, &lineno)) {
        char *field[4];
        char *p = line;
        for (int k = 0; k < 4; k++) {
            field[k] = p;
            p = strchr(p, '\t');
            if (k < 3) {
                if (!p)
                    fail_msg("%s:%zu: needs 4 tab-separated fields", path,
                             lineno);
                *p++ = '\0';
            }
        }
        if (p)
            *p = '\0'; /* a tab before the comment */
        char *hash = strchr(field[3], '#');
        if (hash)
            *hash = '\0';
        field[3][strcspn(field[3], " \t")] = '\0';
        if (n == cap) {
            cap *= 2;
            v = realloc(v, cap * sizeof *v);
            assert_non_null(v);
        }
        judged_t *j = &v[n++];
        memset(j, 0, sizeof *j);
        j->line = lineno;
        snprintf(j->op, sizeof j->op, "%s", field[0]);
        snprintf(j->query, sizeof j->query, "%s", field[1]);
        snprintf(j->expected, sizeof j->expected, "%s", field[3]);
        s_options(j, field[2]);
    }
    fclose(f);
    *out = v;
    return n;
}

/* Pack the request of case J with query Q into SB. */
static void
s_pack(const judged_t *j, const char *q, msgpack_sbuffer *sb)
{
    msgpack_packer pk;
    msgpack_sbuffer_init(sb);
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    bool search = strcmp(j->op, "search") == 0;
    unsigned keys = 3 + (j->nlevels > 0) + (j->nsections > 0) + search;
    msgpack_pack_map(&pk, keys);
    msgpack_pack_str_with_body(&pk, "v", 1);
    msgpack_pack_int(&pk, 1);
    msgpack_pack_str_with_body(&pk, "op", 2);
    msgpack_pack_str_with_body(&pk, j->op, strlen(j->op));
    msgpack_pack_str_with_body(&pk, "q", 1);
    msgpack_pack_str_with_body(&pk, q, strlen(q));
    if (j->nlevels) {
        msgpack_pack_str_with_body(&pk, "levels", 6);
        msgpack_pack_array(&pk, j->nlevels);
        for (size_t i = 0; i < j->nlevels; i++)
            msgpack_pack_int(&pk, j->levels[i]);
    }
    if (j->nsections) {
        msgpack_pack_str_with_body(&pk, "sections", 8);
        msgpack_pack_array(&pk, j->nsections);
        for (size_t i = 0; i < j->nsections; i++)
            msgpack_pack_str_with_body(&pk, j->sections[i],
                                       strlen(j->sections[i]));
    }
    if (search) {
        msgpack_pack_str_with_body(&pk, "snippet", 7);
        msgpack_pack_false(&pk);
    }
}

/* Copy the str O into OUT ("" when O is not a str). */
static void
s_copy(const msgpack_object *o, char *out, size_t size)
{
    if (!o || o->type != MSGPACK_OBJECT_STR) {
        out[0] = '\0';
        return;
    }
    snprintf(out, size, "%.*s", (int)o->via.str.size, o->via.str.ptr);
}

/*
 * Ask case J with query Q through the daemon's ops; the id ranked first
 * into GOT ("" for none) and, for a search without hits, the correction
 * into CORRECTED.
 */
static void
s_ask(sdx_ops_ctx_t *ctx, const judged_t *j, const char *q, char *got,
      char *corrected, size_t size)
{
    msgpack_sbuffer sb;
    void *reply = NULL;
    msgpack_unpacked u;
    char what[32];

    got[0] = corrected[0] = '\0';
    s_pack(j, q, &sb);
    snprintf(what, sizeof what, "line %zu", j->line);
    t_ops_answer(ctx, &sb, what, &u, &reply);
    const msgpack_object *r = &u.data, *first = NULL;
    if (strcmp(j->op, "search") == 0) {
        const msgpack_object *hits = sdx_msgpack_get(r, "hits");
        if (hits && hits->via.array.size > 0)
            first = &hits->via.array.ptr[0];
        s_copy(sdx_msgpack_get(r, "corrected"), corrected, size);
    } else if (strcmp(j->op, "ladder") == 0) {
        const msgpack_object *ladder = sdx_msgpack_get(r, "ladder");
        assert_true(j->step >= 1 && j->step <= 5);
        first = sdx_msgpack_get(&ladder->via.array.ptr[j->step - 1], "hit");
    } else {
        const msgpack_object *ps = sdx_msgpack_get(r, "passages");
        if (ps && ps->via.array.size > 0)
            first = &ps->via.array.ptr[0];
    }
    s_copy(sdx_msgpack_get(first, "id"), got, size);
    msgpack_unpacked_destroy(&u);
    free(reply);
}

static void
test_precision_at_1(void **state)
{
    (void)state;
    char synfile[512];
    judged_t *cases = NULL;
    t_ops_index_t ix;

    assert_non_null(mkdtemp(tmpdir));
    snprintf(synfile, sizeof synfile, "%s/%s", SDX_SEED_CORPUS,
             SDX_SYNONYMS_FILE);
    t_ops_index_open(&ix, tmpdir, SDX_SEED_CORPUS, synfile);
    sdx_ops_ctx_t *ctx = &ix.ctx;

    size_t n = s_read_table(SDX_RELEVANCE_TABLE, &cases), right = 0;
    assert_true(n >= 25);
    for (size_t i = 0; i < n; i++) {
        const judged_t *j = &cases[i];
        char got[MAX_FIELD], corrected[MAX_FIELD], unused[MAX_FIELD];
        s_ask(ctx, j, j->query, got, corrected, sizeof got);
        bool followed = !got[0] && corrected[0];
        if (followed)
            s_ask(ctx, j, corrected, got, unused, sizeof got);
        bool ok = strcmp(got, j->expected) == 0;
        right += ok;
        printf("%s %-7s %-36s%s%s -> %s%s%s\n", ok ? "ok  " : "MISS",
               j->op, j->query, followed ? " => " : "",
               followed ? corrected : "", got[0] ? got : "(nothing)",
               ok ? "" : ", judged: ", ok ? "" : j->expected);
    }
    printf("precision@1 = %zu/%zu = %.3f\n", right, n, (double)right / n);
    fflush(stdout);

    free(cases);
    t_ops_index_close(&ix);
    t_rm_tree(tmpdir);
    assert_int_equal(right, n);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_precision_at_1),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
