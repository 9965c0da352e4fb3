/*
 * test_xapian: the Xapian shim (lib/sdx_xapian.h) against a real
 * database in a mkdtemp directory: writing, reading, searching
 * (stemming, phrases, fields, filters, paging, wildcards, stop words),
 * snippets, and every error the contract names.  Being a C file, this
 * test is also the proof that the header compiles as C.
 *
 * The documents are written through the shim alone, with terms and
 * values spelled out, so the test does not depend on the indexer.
 */
#define _XOPEN_SOURCE 700 /* nftw(), mkdtemp() */

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "sdx_xapian.h"
#include "test_tree.h"

#define DATA_SLOT 0 /* the hits' data, the ids (spec.data_slot's zero) */
#define LEVEL_SLOT 1 /* the second database's level, a key and facet */
#define TEXT_SLOT 3 /* a value slot holding the text */
#define UNSET_SLOT 7 /* a value slot no document sets */

/* The test corpus: id, text, level term, section term. */
static const struct {
    const char *id, *text, *level, *section;
} docs[] = {
    { "d1", "Troubleshoots network problems & outages for the clinical "
            "team.", "XL3", "XSresponsibility" },
    { "d2", "Knowledge of clinical applications and workflows.", "XL2",
      "XSksa" },
    { "d3", "Maintains documentation of system configurations.", "XL3",
      "XSksa" },
    { "d4", "Provides training to end users on clinical systems.", "XL1",
      "XSresponsibility" },
    { "d5", "Analyzes workflow requirements for the laboratory.", "XL2",
      "XSresponsibility" },
};
#define NDOCS (sizeof docs / sizeof docs[0])

static const sdx_field_t fields[] = {
    { "level", "XL", true, NULL },
    { "section", "XS", true, NULL },
};

/*
 * The snippet text of a hit of the first database, whose data is its
 * id: the text of that id (sdx_search_spec_t.snippet_text).  An id not
 * in docs[] has none.
 */
static bool
doc_text(const void *data, size_t len, const char **text, size_t *text_len)
{
    for (size_t i = 0; i < NDOCS; i++)
        if (strlen(docs[i].id) == len && memcmp(docs[i].id, data, len) == 0) {
            *text = docs[i].text;
            *text_len = strlen(docs[i].text);
            return true;
        }
    return false;
}

/* A snippet_text that finds no text in any data. */
static bool
no_text(const void *data, size_t len, const char **text, size_t *text_len)
{
    (void)data;
    (void)len;
    (void)text;
    (void)text_len;
    return false;
}

/* The fixture: a temporary directory holding database "db". */
typedef struct fixture {
    char dir[64];       /* the mkdtemp directory */
    char path[128];     /* DIR/db */
    sdx_db_t *db;       /* open on PATH */
} fixture_t;

static void
add_doc(sdx_writer_t *w, int i)
{
    char unique[16];
    snprintf(unique, sizeof unique, "Q%s", docs[i].id);
    assert_int_equal(sdx_writer_begin_doc(w), SDX_OK);
    assert_int_equal(sdx_writer_index_text(w, docs[i].text, "", 1, true),
                     SDX_OK);
    assert_int_equal(sdx_writer_add_term(w, docs[i].level), SDX_OK);
    assert_int_equal(sdx_writer_add_term(w, docs[i].section), SDX_OK);
    assert_int_equal(sdx_writer_set_value(w, TEXT_SLOT, docs[i].text,
                                          strlen(docs[i].text)), SDX_OK);
    assert_int_equal(sdx_writer_set_value(w, DATA_SLOT, docs[i].id,
                                          strlen(docs[i].id)), SDX_OK);
    assert_int_equal(sdx_writer_add_doc(w, unique), SDX_OK);
}

static int
setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    sdx_writer_t *w = NULL;
    char *msg = NULL;
    assert_non_null(f);
    strcpy(f->dir, "/tmp/test_xapian-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/db", f->dir);
    assert_int_equal(sdx_writer_create(f->path, &w, &msg), SDX_OK);
    assert_null(msg);
    for (size_t i = 0; i < NDOCS; i++)
        add_doc(w, (int)i);
    assert_int_equal(sdx_writer_set_metadata(w, "k", "v"), SDX_OK);
    assert_int_equal(sdx_writer_commit(w), SDX_OK);
    sdx_writer_destroy(&w);
    assert_null(w);
    assert_int_equal(sdx_db_open(f->path, &f->db, &msg), SDX_OK);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture_t *f = *state;
    sdx_db_destroy(&f->db);
    t_rm_tree(f->dir);
    free(f);
    return 0;
}

/*
 * Search SPEC and return the ids of the hits, sorted and joined by ','
 * into OUT (for order-free comparison); returns the status.
 */
static sdx_status_t
ids(fixture_t *f, const sdx_search_spec_t *spec, char *out, size_t size)
{
    sdx_results_t *r = NULL;
    char got[NDOCS][8];
    size_t n;
    sdx_status_t st = sdx_db_search(f->db, spec, &r);
    out[0] = '\0';
    if (st != SDX_OK) {
        assert_null(r);
        return st;
    }
    n = sdx_results_count(r);
    assert_true(n <= NDOCS);
    for (size_t i = 0; i < n; i++) {
        sdx_hit_t h;
        sdx_results_hit(r, i, &h);
        assert_true(h.data_len < sizeof got[i]);
        memcpy(got[i], h.data, h.data_len);
        got[i][h.data_len] = '\0';
        assert_string_equal(h.snippet, spec->snippets ? h.snippet : "");
    }
    qsort(got, n, sizeof got[0], (int (*)(const void *, const void *))strcmp);
    for (size_t i = 0; i < n; i++) {
        strncat(out, got[i], size - strlen(out) - 1);
        if (i + 1 < n)
            strncat(out, ",", size - strlen(out) - 1);
    }
    sdx_results_destroy(&r);
    assert_null(r);
    return st;
}

/* The ids matching QUERY with the test's fields and no filters. */
static const char *
query(fixture_t *f, const char *q)
{
    static char out[64];
    sdx_search_spec_t spec = { .query = q, .fields = fields, .nfields = 2,
                               .limit = 10 };
    assert_int_equal(ids(f, &spec, out, sizeof out), SDX_OK);
    return out;
}

static void
test_counts_and_metadata(void **state)
{
    fixture_t *f = *state;
    uint64_t n = 0, rev = 0;
    char *v = NULL;
    assert_int_equal(sdx_db_doc_count(f->db, &n), SDX_OK);
    assert_int_equal(n, NDOCS);
    assert_int_equal(sdx_db_revision(f->db, &rev), SDX_OK);
    assert_true(rev >= 1);
    assert_int_equal(sdx_db_get_metadata(f->db, "k", &v), SDX_OK);
    assert_string_equal(v, "v");
    free(v);
    assert_int_equal(sdx_db_get_metadata(f->db, "unset", &v), SDX_OK);
    assert_string_equal(v, "");
    free(v);
    assert_int_equal(sdx_db_reopen(f->db), SDX_OK);
    assert_string_equal(sdx_db_errmsg(f->db), "");
}

static void
test_data_by_term(void **state)
{
    fixture_t *f = *state;
    void *data = NULL;
    size_t len = 0;
    /* A slot the document does not set: nothing. */
    assert_int_equal(sdx_db_get_data_by_term(f->db, "Qd3", UNSET_SLOT,
                                             &data, &len), SDX_OK);
    assert_int_equal(len, 0);
    free(data);
    /* A slot it sets: that value. */
    assert_int_equal(sdx_db_get_data_by_term(f->db, "Qd3", DATA_SLOT,
                                             &data, &len), SDX_OK);
    assert_int_equal(len, 2);
    assert_memory_equal(data, "d3", 2);
    free(data);
    assert_int_equal(sdx_db_get_data_by_term(f->db, "Qd3", TEXT_SLOT,
                                             &data, &len), SDX_OK);
    assert_int_equal(len, strlen(docs[2].text));
    assert_memory_equal(data, docs[2].text, len);
    free(data);
    assert_int_equal(sdx_db_get_data_by_term(f->db, "Qnone", TEXT_SLOT,
                                             &data, &len),
                     SDX_NOT_FOUND);
    assert_null(data);
    assert_int_equal(len, 0);
}

static void
test_stemming_phrase_wildcard(void **state)
{
    fixture_t *f = *state;
    assert_string_equal(query(f, "troubleshoot"), "d1");
    assert_string_equal(query(f, "workflow"), "d2,d5");
    assert_string_equal(query(f, "\"clinical applications\""), "d2");
    assert_string_equal(query(f, "\"applications clinical\""), "");
    assert_string_equal(query(f, "network NEAR outages"), "d1");
    assert_string_equal(query(f, "config*"), "d3");
    assert_string_equal(query(f, "work*"), "d2,d5");
    assert_string_equal(query(f, "clinical AND NOT training"), "d1,d2");
    assert_string_equal(query(f, "clinical and -training"), "d1,d2");
    assert_string_equal(query(f, "NOT clinical"), "d3,d5");
    assert_string_equal(query(f, "+clinical +knowledge"), "d2");
}

static void
test_stop_words(void **state)
{
    fixture_t *f = *state;
    /* "the" alone is kept (the only word); with others it is dropped. */
    assert_string_equal(query(f, "the"), "d1,d5");
    assert_string_equal(query(f, "the laboratory"), "d5");
    /* Inside a phrase it counts. */
    assert_string_equal(query(f, "\"for the laboratory\""), "d5");
    assert_string_equal(query(f, "\"for a laboratory\""), "");
}

static void
test_fields_and_filters(void **state)
{
    fixture_t *f = *state;
    const char *levels[] = { "XL2", "XL3" };
    const char *ksa[] = { "XSksa" };
    sdx_filter_t filters[] = { { levels, 2, false }, { ksa, 1, false } };
    sdx_search_spec_t spec = { .query = "", .filters = filters,
                               .nfilters = 1, .limit = 10 };
    char out[64];

    assert_string_equal(query(f, "level:3"), "d1,d3");
    assert_string_equal(query(f, "level:3 section:ksa"), "d3");
    assert_string_equal(query(f, "clinical level:2"), "d2");

    assert_int_equal(ids(f, &spec, out, sizeof out), SDX_OK);
    assert_string_equal(out, "d1,d2,d3,d5");     /* OR in a group */
    spec.nfilters = 2;
    assert_int_equal(ids(f, &spec, out, sizeof out), SDX_OK);
    assert_string_equal(out, "d2,d3");           /* AND across groups */
    spec.query = "clinical";
    assert_int_equal(ids(f, &spec, out, sizeof out), SDX_OK);
    assert_string_equal(out, "d2");
    filters[1].nterms = 0;                       /* an empty group */
    assert_int_equal(ids(f, &spec, out, sizeof out), SDX_OK);
    assert_string_equal(out, "d1,d2");
}

static void
test_exclude_filters(void **state)
{
    fixture_t *f = *state;
    const char *l3[] = { "XL3" };
    const char *l1[] = { "XL1" };
    const char *ksa[] = { "XSksa" };
    sdx_filter_t filters[] = { { l3, 1, true }, { ksa, 1, false },
                               { l1, 1, true } };
    sdx_search_spec_t spec = { .query = "", .filters = filters,
                               .nfilters = 1, .limit = 10 };
    char out[64];

    assert_int_equal(ids(f, &spec, out, sizeof out), SDX_OK);
    assert_string_equal(out, "d2,d4,d5");        /* none of XL3 */
    spec.nfilters = 2;                           /* and ksa */
    assert_int_equal(ids(f, &spec, out, sizeof out), SDX_OK);
    assert_string_equal(out, "d2");
    /* two exclusions: neither XL1 nor ksa */
    filters[0] = (sdx_filter_t){ ksa, 1, true };
    filters[1] = (sdx_filter_t){ l1, 1, true };
    assert_int_equal(ids(f, &spec, out, sizeof out), SDX_OK);
    assert_string_equal(out, "d1,d5");
    /* with a query: the exclusion does not change the scores */
    spec.query = "clinical";
    spec.nfilters = 3;
    filters[0].exclude = false;                  /* ksa, not XL3, XL1 */
    filters[1] = (sdx_filter_t){ l3, 1, true };
    assert_int_equal(ids(f, &spec, out, sizeof out), SDX_OK);
    assert_string_equal(out, "d2");
    sdx_results_t *r = NULL;
    spec.nfilters = 0;
    spec.query = "clinical workflows";
    assert_int_equal(sdx_db_search(f->db, &spec, &r), SDX_OK);
    sdx_hit_t h;
    sdx_results_hit(r, 0, &h);
    double plain = h.score;
    sdx_results_destroy(&r);
    spec.nfilters = 1;
    filters[0] = (sdx_filter_t){ l1, 1, true };
    assert_int_equal(sdx_db_search(f->db, &spec, &r), SDX_OK);
    sdx_results_hit(r, 0, &h);
    assert_memory_equal(h.data, "d2", 2);
    assert_true(h.score == plain);
    sdx_results_destroy(&r);
}

static void
test_paging(void **state)
{
    fixture_t *f = *state;
    sdx_search_spec_t spec = { .query = NULL, .limit = 2 };
    sdx_results_t *r = NULL;
    char seen[64] = "";

    for (unsigned off = 0; off < NDOCS + 2; off += 2) {
        spec.offset = off;
        assert_int_equal(sdx_db_search(f->db, &spec, &r), SDX_OK);
        size_t want = off >= NDOCS ? 0 : NDOCS - off < 2 ? 1 : 2;
        assert_int_equal(sdx_results_count(r), want);
        assert_int_equal(sdx_results_estimate(r), NDOCS);
        for (size_t i = 0; i < sdx_results_count(r); i++) {
            sdx_hit_t h;
            sdx_results_hit(r, i, &h);
            strncat(seen, h.data, h.data_len);
        }
        sdx_results_destroy(&r);
    }
    /* Every document once: "d1d2..." in some order, 10 bytes. */
    assert_int_equal(strlen(seen), 2 * NDOCS);
    for (size_t i = 0; i < NDOCS; i++)
        assert_non_null(strstr(seen, docs[i].id));

    spec.offset = 0;
    spec.limit = 0;                      /* the default, 10 */
    assert_int_equal(sdx_db_search(f->db, &spec, &r), SDX_OK);
    assert_int_equal(sdx_results_count(r), NDOCS);
    sdx_results_destroy(&r);
}

static void
test_ranking(void **state)
{
    fixture_t *f = *state;
    sdx_search_spec_t spec = { .query = "clinical troubleshoot",
                               .limit = 10, .check_at_least = 100,
                               .time_limit_s = 5.0 };
    sdx_results_t *r = NULL;
    sdx_hit_t h;
    assert_int_equal(sdx_db_search(f->db, &spec, &r), SDX_OK);
    assert_int_equal(sdx_results_count(r), 3);
    sdx_results_hit(r, 0, &h);
    assert_memory_equal(h.data, "d1", 2);
    assert_int_equal(h.percent, 100);
    assert_true(h.score > 0.0);
    sdx_results_destroy(&r);
}

static void
test_snippets(void **state)
{
    fixture_t *f = *state;
    sdx_search_spec_t spec = { .query = "outage", .limit = 10,
                               .snippets = true, .snippet_text = doc_text,
                               .hl_open = "[[", .hl_close = "]]" };
    sdx_results_t *r = NULL;
    sdx_hit_t h;

    assert_int_equal(sdx_db_search(f->db, &spec, &r), SDX_OK);
    assert_int_equal(sdx_results_count(r), 1);
    sdx_results_hit(r, 0, &h);
    /* Stemmed match highlighted, '&' escaped. */
    assert_non_null(strstr(h.snippet, "[[outages]]"));
    assert_non_null(strstr(h.snippet, "&amp;"));
    assert_null(strstr(h.snippet, "& "));
    sdx_results_destroy(&r);

    /* No markers given: <b> and </b>, still escaped. */
    spec.hl_open = spec.hl_close = NULL;
    spec.query = "troubleshooting";
    assert_int_equal(sdx_db_search(f->db, &spec, &r), SDX_OK);
    assert_int_equal(sdx_results_count(r), 1);
    sdx_results_hit(r, 0, &h);
    assert_non_null(strstr(h.snippet, "<b>Troubleshoots</b>"));
    assert_non_null(strstr(h.snippet, "&amp;"));
    sdx_results_destroy(&r);

    /* A short snippet of a long text is cut, with an ellipsis. */
    spec.query = "clinical";
    spec.snippet_chars = 12;
    spec.offset = 0;
    assert_int_equal(sdx_db_search(f->db, &spec, &r), SDX_OK);
    assert_true(sdx_results_count(r) >= 1);
    for (size_t i = 0; i < sdx_results_count(r); i++) {
        sdx_results_hit(r, i, &h);
        assert_non_null(strstr(h.snippet, "<b>clinical</b>"));
        assert_non_null(strstr(h.snippet, "\xe2\x80\xa6"));
    }
    sdx_results_destroy(&r);

    /* The bench's baseline, Xapian's MSet::snippet, on the same text. */
    spec.query = "outage";
    spec.snippet_chars = 0;
    spec.hl_open = "[[";
    spec.hl_close = "]]";
    sdx_db_set_xapian_snippets(f->db, true);
    assert_int_equal(sdx_db_search(f->db, &spec, &r), SDX_OK);
    sdx_db_set_xapian_snippets(f->db, false);
    assert_int_equal(sdx_results_count(r), 1);
    sdx_results_hit(r, 0, &h);
    assert_non_null(strstr(h.snippet, "[[outages]]"));
    assert_non_null(strstr(h.snippet, "&amp;"));
    sdx_results_destroy(&r);

    /* Data without a text (the callback fails): an empty snippet, not
       one cut from elsewhere. */
    spec.snippet_text = no_text;
    assert_int_equal(sdx_db_search(f->db, &spec, &r), SDX_OK);
    assert_int_equal(sdx_results_count(r), 1);
    sdx_results_hit(r, 0, &h);
    assert_string_equal(h.snippet, "");
    sdx_results_destroy(&r);
}

/* The text every hit's snippet is cut from in test_snippet_text. */
static const char *g_snippet_text;

static bool
given_text(const void *data, size_t len, const char **text,
           size_t *text_len)
{
    (void)data;
    (void)len;
    *text = g_snippet_text;
    *text_len = strlen(g_snippet_text);
    return true;
}

/* The snippet of the first hit of QUERY, cut to CHARS bytes from TEXT;
 * the caller frees it. */
static char *
snippet_of(sdx_db_t *db, const char *query, const char *text,
           unsigned chars)
{
    sdx_search_spec_t spec = { .query = query, .limit = 1,
                               .snippets = true, .snippet_text = given_text,
                               .snippet_chars = chars,
                               .hl_open = "[[", .hl_close = "]]" };
    sdx_results_t *r = NULL;
    sdx_hit_t h;
    g_snippet_text = text;
    assert_int_equal(sdx_db_search(db, &spec, &r), SDX_OK);
    assert_int_equal(sdx_results_count(r) > 0, 1);
    sdx_results_hit(r, 0, &h);
    char *out = strdup(h.snippet);
    assert_non_null(out);
    sdx_results_destroy(&r);
    return out;
}

/*
 * The highlighter reads plain ASCII clauses 16 bytes at a time, and any
 * other text (non-ASCII, apostrophes) a character at a time.  Both must
 * find the same words: matches across the 16- and 64-byte blocks, at a
 * text's last byte, stems, one-letter words, and the same window when a
 * long text is cut.
 */
static void
test_snippet_text(void **state)
{
    fixture_t *f = *state;
    static const struct {
        const char *query, *text, *want;
    } cases[] = {
        /* "clinical" on bytes 60-67, across the first 64-byte block */
        { "clinical",
          "ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab "
          "clinical care",
          "ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab "
          "[[clinical]] care" },
        /* 64 bytes, the match its last 8, then twice that */
        { "clinical",
          "abc abc abc abc abc abc abc abc abc abc abc abc abc abc clinical",
          "abc abc abc abc abc abc abc abc abc abc abc abc abc abc "
          "[[clinical]]" },
        { "clinical",
          "abc abc abc abc abc abc abc abc abc abc abc abc abc abc clinical"
          "abc abc abc abc abc abc abc abc abc abc abc abc abc abc clinical",
          "abc abc abc abc abc abc abc abc abc abc abc abc abc abc "
          "clinicalabc abc abc abc abc abc abc abc abc abc abc abc abc abc "
          "[[clinical]]" },
        /* a phrase of matches is one mark; a stem; a word holding the
           query word is not it; digits and one-letter words */
        { "clinical",
          "Clinical clinical, clinics; preclinical clinical9 9 c p clinical",
          "[[Clinical clinical]], [[clinics]]; preclinical clinical9 9 c p "
          "[[clinical]]" },
        { "training OR c",
          "c training c, x c", "[[c training c]], x [[c]]" },
        { "train*", "Trains trainees; restrains.",
          "[[Trains trainees]]; restrains." },
        { "clinical", "& <clinical> &", "&amp; &lt;[[clinical]]&gt; &amp;" },
    };
    /* Endings that send the same text down the other path, and which
       change none of its words. */
    static const char *const endings[] = { "", " don't", " caf\xc3\xa9",
                                           " \xe2\x80\x99" };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (size_t k = 0; k < sizeof endings / sizeof endings[0]; k++) {
            char text[512], want[512];
            snprintf(text, sizeof text, "%s%s", cases[i].text, endings[k]);
            snprintf(want, sizeof want, "%s%s", cases[i].want, endings[k]);
            char *got = snippet_of(f->db, cases[i].query, text, 1000);
            assert_string_equal(got, want);
            free(got);
        }

    /* A long text cut to 40 bytes around its matches: the same window
       whichever path reads it (the far words differ only in an
       apostrophe after "a", which ends that word). */
    const char *tail = " ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab";
    char ascii[512], other[512];
    snprintf(ascii, sizeof ascii,
             "Words before the window ab ab ab ab ab ab ab ab ab ab ab ab "
             "ab ab ab then clinical and clinical text after%s", tail);
    snprintf(other, sizeof other,
             "Words before the window ab ab ab ab ab ab ab ab ab ab ab ab "
             "ab ab ab then clinical and clinical text after%s", tail);
    other[strlen(other) - 1] = '\'';
    const char *want = "\xe2\x80\xa6" "ab then [[clinical]] and "
                       "[[clinical]] text after\xe2\x80\xa6";
    char *a = snippet_of(f->db, "clinical", ascii, 40);
    char *b = snippet_of(f->db, "clinical", other, 40);
    assert_string_equal(a, want);
    assert_string_equal(b, want);
    free(a);
    free(b);
}

static void
test_bad_query(void **state)
{
    fixture_t *f = *state;
    const char *bad[] = { "clinical AND", "OR OR", "secretword NOT" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sdx_search_spec_t spec = { .query = bad[i], .limit = 10 };
        sdx_results_t *r = (sdx_results_t *)&spec; /* must become NULL */
        assert_int_equal(sdx_db_search(f->db, &spec, &r), SDX_BAD_QUERY);
        assert_null(r);
        assert_true(strlen(sdx_db_errmsg(f->db)) > 0);
        assert_null(strstr(sdx_db_errmsg(f->db), "secretword"));
        assert_null(strstr(sdx_db_errmsg(f->db), "clinical"));
    }
    /* The handle still works afterwards. */
    assert_string_equal(query(f, "troubleshoot"), "d1");
}

static void
test_open_errors(void **state)
{
    fixture_t *f = *state;
    sdx_db_t *db = (sdx_db_t *)f;        /* must become NULL */
    sdx_writer_t *w = (sdx_writer_t *)f;
    char *msg = NULL;
    char path[160];

    snprintf(path, sizeof path, "%s/missing", f->dir);
    assert_int_equal(sdx_db_open(path, &db, &msg), SDX_UNAVAILABLE);
    assert_null(db);
    assert_non_null(msg);
    assert_true(strlen(msg) > 0);
    free(msg);
    /* ERRMSG may be NULL. */
    assert_int_equal(sdx_db_open(f->dir, &db, NULL), SDX_UNAVAILABLE);
    assert_null(db);
    /* A database exists there already. */
    assert_int_equal(sdx_writer_create(f->path, &w, &msg), SDX_UNAVAILABLE);
    assert_null(w);
    assert_non_null(msg);
    free(msg);
}

static void
test_writer_abandon(void **state)
{
    fixture_t *f = *state;
    sdx_writer_t *w = NULL;
    sdx_db_t *db = NULL;
    char path[160];
    uint64_t n = 0;

    snprintf(path, sizeof path, "%s/abandon", f->dir);
    assert_int_equal(sdx_writer_create(path, &w, NULL), SDX_OK);
    /* Describing a document before begin_doc is a caller's bug. */
    assert_int_equal(sdx_writer_add_term(w, "XL1"), SDX_INTERNAL);
    assert_true(strlen(sdx_writer_errmsg(w)) > 0);
    add_doc(w, 0);
    assert_int_equal(sdx_writer_commit(w), SDX_OK);
    add_doc(w, 0);            /* replaces Qd1: still one document */
    assert_int_equal(sdx_writer_commit(w), SDX_OK);
    add_doc(w, 1);
    sdx_writer_destroy(&w);   /* without commit: d2 is dropped */
    assert_int_equal(sdx_db_open(path, &db, NULL), SDX_OK);
    assert_int_equal(sdx_db_doc_count(db, &n), SDX_OK);
    assert_int_equal(n, 1);
    sdx_db_destroy(&db);

    /* Creating over an existing database fails. */
    assert_int_equal(sdx_writer_create(path, &w, NULL), SDX_UNAVAILABLE);
}

/*
 * Bulk writers (no termlist table, no fsync) write two shards of the
 * corpus; sdx_compact merges them in order.  The merged database reads
 * as one writer's would: the second shard's documents follow the
 * first's, and terms, positions, values, the spelling table and the
 * first shard's metadata survive.
 */
static void
test_bulk_and_compact(void **state)
{
    fixture_t *f = *state;
    char a[160], b[160], out[160], missing[160], termlist[192];
    const char *paths[2] = { a, b };
    sdx_writer_t *w = NULL;
    sdx_db_t *db = NULL;
    sdx_results_t *r = NULL;
    sdx_hit_t h;
    char *msg = NULL, *value = NULL;
    uint64_t n = 0;

    snprintf(a, sizeof a, "%s/shard-a", f->dir);
    snprintf(b, sizeof b, "%s/shard-b", f->dir);
    snprintf(out, sizeof out, "%s/merged", f->dir);
    snprintf(missing, sizeof missing, "%s/no-such-shard", f->dir);
    for (int k = 0; k < 2; k++) {
        assert_int_equal(sdx_writer_create_flags(
                             paths[k], SDX_WRITER_BULK | SDX_WRITER_NO_SYNC,
                             &w, &msg),
                         SDX_OK);
        assert_null(msg);
        for (size_t i = k ? 3 : 0; i < (k ? NDOCS : 3); i++)
            add_doc(w, (int)i);
        assert_int_equal(sdx_writer_set_metadata(w, "k", k ? "b" : "a"),
                         SDX_OK);
        assert_int_equal(sdx_writer_commit(w), SDX_OK);
        sdx_writer_destroy(&w);
    }
    /* The termlist table stays, bulk or not: an update deletes. */
    snprintf(termlist, sizeof termlist, "%s/termlist.glass", a);
    assert_int_equal(access(termlist, F_OK), 0);

    assert_int_equal(sdx_compact(paths, 2, out, &msg), SDX_OK);
    assert_null(msg);
    assert_int_equal(sdx_db_open(out, &db, NULL), SDX_OK);
    assert_int_equal(sdx_db_doc_count(db, &n), SDX_OK);
    assert_int_equal(n, NDOCS);
    assert_int_equal(sdx_db_get_metadata(db, "k", &value), SDX_OK);
    assert_string_equal(value, "a"); /* the first database's */
    free(value);
    /* Match-all ranks by document id: the shards' order. */
    sdx_search_spec_t spec = { .query = "", .limit = 10 };
    assert_int_equal(sdx_db_search(db, &spec, &r), SDX_OK);
    assert_int_equal(sdx_results_count(r), NDOCS);
    for (size_t i = 0; i < NDOCS; i++) {
        sdx_results_hit(r, i, &h);
        assert_int_equal(h.data_len, strlen(docs[i].id));
        assert_memory_equal(h.data, docs[i].id, h.data_len);
    }
    sdx_results_destroy(&r);
    /* Positions (a phrase), values (a snippet), boolean terms. */
    const char *level[] = { "XL2" };
    sdx_filter_t filter = { level, 1, false };
    spec = (sdx_search_spec_t){ .query = "\"workflow requirements\"",
                                .limit = 10, .snippets = true,
                                .snippet_text = doc_text,
                                .filters = &filter, .nfilters = 1 };
    assert_int_equal(sdx_db_search(db, &spec, &r), SDX_OK);
    assert_int_equal(sdx_results_count(r), 1);
    sdx_results_hit(r, 0, &h);
    assert_memory_equal(h.data, "d5", 2);
    assert_non_null(strstr(h.snippet, "<b>workflow requirements</b>"));
    sdx_results_destroy(&r);
    /* The spelling tables of both shards. */
    spec = (sdx_search_spec_t){ .query = "netwrk laboratry", .limit = 10 };
    assert_int_equal(sdx_db_suggest(db, &spec, &value), SDX_OK);
    assert_string_equal(value, "network laboratory");
    free(value);
    sdx_db_destroy(&db);

    /* Nothing to merge; a source that is not there. */
    snprintf(out, sizeof out, "%s/merged-2", f->dir);
    assert_int_equal(sdx_compact(paths, 0, out, &msg), SDX_BAD_INPUT);
    assert_non_null(msg);
    free(msg);
    paths[1] = missing;
    assert_int_equal(sdx_compact(paths, 2, out, &msg), SDX_UNAVAILABLE);
    assert_non_null(msg);
    free(msg);
    assert_int_equal(sdx_compact(paths, 2, out, NULL), SDX_UNAVAILABLE);
}

/*
 * An update (sdx_writer_open) deletes every document of a term and its
 * spelling words, counts terms with what is pending, adds by replacing;
 * a tie slot orders equal scores on a value instead of the document id.
 */
static void
test_update_and_ties(void **state)
{
    fixture_t *f = *state;
    char path[160];
    sdx_writer_t *w = NULL;
    sdx_db_t *db = NULL;
    sdx_results_t *r = NULL;
    sdx_hit_t h;
    char *msg = NULL, *value = NULL;
    uint64_t n = 0;

    snprintf(path, sizeof path, "%s/update", f->dir);
    assert_int_equal(sdx_writer_create_flags(path, SDX_WRITER_BULK, &w,
                                             NULL), SDX_OK);
    for (size_t i = 0; i < NDOCS; i++)
        add_doc(w, (int)i);
    assert_int_equal(sdx_writer_commit(w), SDX_OK);
    sdx_writer_destroy(&w);

    assert_int_equal(sdx_writer_open(path, &w, &msg), SDX_OK);
    assert_null(msg);
    assert_int_equal(sdx_writer_delete_term(w, "XSresponsibility", &n),
                     SDX_OK);
    assert_int_equal(n, 3); /* d1, d4, d5 */
    assert_int_equal(sdx_writer_delete_term(w, "XL9", &n), SDX_OK);
    assert_int_equal(n, 0);
    assert_int_equal(sdx_writer_term_count(w, "", &n), SDX_OK);
    assert_int_equal(n, NDOCS - 3);
    assert_int_equal(sdx_writer_term_count(w, "Qd1", &n), SDX_OK);
    assert_int_equal(n, 0);
    add_doc(w, 4); /* d5 again, after d2 and d3 */
    add_doc(w, 1); /* d2 replaced by itself: one document still */
    assert_int_equal(sdx_writer_term_count(w, "Qd2", &n), SDX_OK);
    assert_int_equal(n, 1);
    assert_int_equal(sdx_writer_commit(w), SDX_OK);
    sdx_writer_destroy(&w);

    assert_int_equal(sdx_db_open(path, &db, NULL), SDX_OK);
    assert_int_equal(sdx_db_doc_count(db, &n), SDX_OK);
    assert_int_equal(n, 3);
    /* the deleted documents' words left the spelling table with them:
       "netwrk" (d1 only) has no suggestion, "laboratry" (d5, back) has */
    sdx_search_spec_t spec = { .query = "netwrk laboratry", .limit = 10 };
    assert_int_equal(sdx_db_suggest(db, &spec, &value), SDX_OK);
    assert_string_equal(value, "netwrk laboratory");
    free(value);
    /* match-all ties: by document id d2 d3 d5; on the text slot
       "Analyzes" (d5) < "Knowledge" (d2) < "Maintains" (d3) */
    const char *by_id[] = { "d2", "d3", "d5" };
    const char *by_text[] = { "d5", "d2", "d3" };
    for (int k = 0; k < 3; k++) {
        sdx_db_set_tie_slot(db, k == 1 ? TEXT_SLOT : -1);
        spec = (sdx_search_spec_t){ .query = "", .limit = 10 };
        assert_int_equal(sdx_db_search(db, &spec, &r), SDX_OK);
        assert_int_equal(sdx_results_count(r), 3);
        for (size_t i = 0; i < 3; i++) {
            sdx_results_hit(r, i, &h);
            assert_memory_equal(h.data, k == 1 ? by_text[i] : by_id[i], 2);
        }
        sdx_results_destroy(&r);
    }
    sdx_db_destroy(&db);

    /* a database without a termlist (as built before updates): the
       message says what to do */
    char termlist[192];
    snprintf(termlist, sizeof termlist, "%s/termlist.glass", path);
    assert_int_equal(unlink(termlist), 0);
    assert_int_equal(sdx_writer_open(path, &w, &msg), SDX_UNAVAILABLE);
    assert_null(w);
    assert_non_null(msg);
    assert_non_null(strstr(msg, "no termlist table"));
    free(msg);
    msg = NULL;

    /* no database to update: refused with a message */
    snprintf(path, sizeof path, "%s/no-such-db", f->dir);
    assert_int_equal(sdx_writer_open(path, &w, &msg), SDX_UNAVAILABLE);
    assert_null(w);
    assert_non_null(msg);
    free(msg);
}

/*
 * A bulk writer counts spelling words per document (its unprefixed
 * terms), so unprefixed text of one document is all spelled or all not,
 * spelled text has no prefix and wdf 1; prefixed text without spelling
 * is free.
 */
static void
test_bulk_spelling_rules(void **state)
{
    fixture_t *f = *state;
    char path[160];
    sdx_writer_t *w = NULL;

    snprintf(path, sizeof path, "%s/bulk-rules", f->dir);
    assert_int_equal(sdx_writer_create_flags(path, SDX_WRITER_BULK, &w,
                                             NULL), SDX_OK);
    assert_int_equal(sdx_writer_begin_doc(w), SDX_OK);
    assert_int_equal(sdx_writer_index_text(w, "network", "", 1, true),
                     SDX_OK);
    assert_int_equal(sdx_writer_index_text(w, "title", "S", 1, false),
                     SDX_OK);
    assert_int_equal(sdx_writer_index_text(w, "plain", "", 1, false),
                     SDX_BAD_INPUT);
    assert_true(strlen(sdx_writer_errmsg(w)) > 0);
    assert_int_equal(sdx_writer_index_text(w, "title", "S", 1, true),
                     SDX_BAD_INPUT);
    assert_int_equal(sdx_writer_index_text(w, "twice", "", 2, true),
                     SDX_BAD_INPUT);
    assert_int_equal(sdx_writer_add_doc(w, "Qb1"), SDX_OK);
    assert_int_equal(sdx_writer_begin_doc(w), SDX_OK);
    assert_int_equal(sdx_writer_index_text(w, "plain", "", 1, false),
                     SDX_OK);
    assert_int_equal(sdx_writer_index_text(w, "network", "", 1, true),
                     SDX_BAD_INPUT);
    assert_int_equal(sdx_writer_add_doc(w, "Qb2"), SDX_OK);
    assert_int_equal(sdx_writer_commit(w), SDX_OK);
    sdx_writer_destroy(&w);
}

/* Document I of round ROUND of test_modified_retry. */
static void
many_doc(sdx_writer_t *w, int i, int round)
{
    char unique[16], text[128];
    snprintf(unique, sizeof unique, "Qm%d", i);
    snprintf(text, sizeof text, "clinical word%d round%d term%d", i, round,
             (i * 7 + round) % 101);
    assert_int_equal(sdx_writer_begin_doc(w), SDX_OK);
    assert_int_equal(sdx_writer_index_text(w, text, "", 1, false), SDX_OK);
    assert_int_equal(sdx_writer_set_value(w, DATA_SLOT, text, strlen(text)),
                     SDX_OK);
    assert_int_equal(sdx_writer_add_doc(w, unique), SDX_OK);
}

/*
 * A reader left at an old revision while the writer commits several new
 * ones gets DatabaseModifiedError from Xapian; the search must reopen
 * and succeed, which shows as the handle's revision moving on.
 */
static void
test_modified_retry(void **state)
{
    fixture_t *f = *state;
    sdx_writer_t *w = NULL;
    sdx_db_t *db = NULL;
    sdx_results_t *r = NULL;
    sdx_search_spec_t spec = { .query = "clinical", .limit = 50,
                               .snippets = true }; /* the data: text */
    uint64_t before = 0, after = 0;
    char path[160];

    snprintf(path, sizeof path, "%s/modified", f->dir);
    assert_int_equal(sdx_writer_create(path, &w, NULL), SDX_OK);
    for (int round = 0; round < 4; round++) {
        /* Enough documents that the posting lists span many blocks,
         * which the later commits free and overwrite. */
        for (int i = 0; i < 3000; i++)
            many_doc(w, i, round);
        assert_int_equal(sdx_writer_commit(w), SDX_OK);
        if (round == 0) {
            assert_int_equal(sdx_db_open(path, &db, NULL), SDX_OK);
            assert_int_equal(sdx_db_revision(db, &before), SDX_OK);
        }
    }
    assert_int_equal(sdx_db_search(db, &spec, &r), SDX_OK);
    assert_int_equal(sdx_results_count(r), 50);
    assert_int_equal(sdx_db_revision(db, &after), SDX_OK);
    assert_true(after > before);
    sdx_results_destroy(&r);
    sdx_db_destroy(&db);
    sdx_writer_destroy(&w);
}

static void
test_wildcard_cap(void **state)
{
    fixture_t *f = *state;
    char out[64];
    /* "work*" has two terms, workflow and workflows: one is kept. */
    sdx_search_spec_t spec = { .query = "work*", .limit = 10,
                               .max_expansion = 1 };
    assert_int_equal(ids(f, &spec, out, sizeof out), SDX_OK);
    assert_int_equal(strlen(out), 2);
}

static void
test_null_safe_destroy(void **state)
{
    (void)state;
    sdx_db_t *db = NULL;
    sdx_writer_t *w = NULL;
    sdx_results_t *r = NULL;
    sdx_db_destroy(NULL);
    sdx_db_destroy(&db);
    sdx_writer_destroy(NULL);
    sdx_writer_destroy(&w);
    sdx_results_destroy(NULL);
    sdx_results_destroy(&r);
    assert_int_equal(sdx_results_count(NULL), 0);
    assert_string_equal(sdx_db_errmsg(NULL), "");
    assert_string_equal(sdx_writer_errmsg(NULL), "");
}

/* ---------------------------------------------------------------- */
/* A second small database: synonyms, fields, collapse, facets      */
/* ---------------------------------------------------------------- */

/* Its documents: id, text, level value, row term. */
static const struct {
    const char *id, *text, *level, *row;
} docs2[] = {
    { "e1", "Performs RCA on incidents.", "1", "XRkey-resp-06" },
    { "e2", "Leads root cause analysis of outages.", "2", "XRkey-resp-06" },
    { "e3", "Uses IT systems daily.", "2", "XRksa-01" },
    { "e4", "Put it into practice with care.", "3", "XRksa-01" },
    { "e5", "Root vegetables cause no analysis.", "3", "XRksa-02" },
};
#define NDOCS2 (sizeof docs2 / sizeof docs2[0])

/* "Key Resp 06" -> "key-resp-06": lower case, blanks to '-'. */
static int
test_slug(const char *in, char *out, size_t size)
{
    size_t k = 0;
    for (; *in && k + 1 < size; in++) {
        char c = *in;
        if (c == ' ')
            c = '-';
        else if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                   c == '-'))
            continue;
        out[k++] = c;
    }
    out[k] = '\0';
    return (int)k;
}

static const sdx_field_t fields2[] = {
    { "row", "XR", true, test_slug },
};

/* Build the second database in F's directory and open it at *DB. */
static void
open_db2(fixture_t *f, sdx_db_t **db)
{
    static unsigned made; /* one directory per call: tests share F */
    char path[160];
    sdx_writer_t *w = NULL;
    char *msg = NULL;
    snprintf(path, sizeof path, "%s/db2-%u", f->dir, made++);
    assert_int_equal(sdx_writer_create(path, &w, &msg), SDX_OK);
    for (size_t i = 0; i < NDOCS2; i++) {
        char unique[16];
        snprintf(unique, sizeof unique, "Q%s", docs2[i].id);
        assert_int_equal(sdx_writer_begin_doc(w), SDX_OK);
        assert_int_equal(sdx_writer_index_text(w, docs2[i].text, "", 1,
                                               true), SDX_OK);
        assert_int_equal(sdx_writer_add_term(w, docs2[i].row), SDX_OK);
        assert_int_equal(sdx_writer_set_value(w, LEVEL_SLOT,
                                              docs2[i].level, 1), SDX_OK);
        assert_int_equal(sdx_writer_set_value(w, DATA_SLOT, docs2[i].id,
                                              strlen(docs2[i].id)), SDX_OK);
        assert_int_equal(sdx_writer_add_doc(w, unique), SDX_OK);
    }
    /* a group: both directions; an exact-case key */
    assert_int_equal(sdx_writer_add_synonym(w, "rca", "root cause analysis"),
                     SDX_OK);
    assert_int_equal(sdx_writer_add_synonym(w, "root cause analysis", "rca"),
                     SDX_OK);
    assert_int_equal(sdx_writer_add_synonym(w, "IT",
                                            "information technology"),
                     SDX_OK);
    assert_int_equal(sdx_writer_add_synonym(w, "information technology",
                                            "IT"), SDX_OK);
    assert_int_equal(sdx_writer_add_synonym(w, "bad\"key", "x"),
                     SDX_BAD_INPUT);
    assert_int_equal(sdx_writer_add_synonym(w, "", "x"), SDX_BAD_INPUT);
    assert_int_equal(sdx_writer_commit(w), SDX_OK);
    sdx_writer_destroy(&w);
    assert_int_equal(sdx_db_open(path, db, &msg), SDX_OK);
}

/*
 * The data of every hit of SPEC on DB in rank order, each followed by
 * "/" and its key when KEYS, joined by ',': "e2,e1" or "e2/2,e4/3".
 */
static const char *
joined(sdx_db_t *db, const sdx_search_spec_t *spec, bool keys)
{
    static char out[64];
    sdx_results_t *r = NULL;
    out[0] = '\0';
    assert_int_equal(sdx_db_search(db, spec, &r), SDX_OK);
    for (size_t i = 0; i < sdx_results_count(r); i++) {
        sdx_hit_t h;
        sdx_results_hit(r, i, &h);
        if (i)
            strcat(out, ",");
        strncat(out, h.data, h.data_len);
        if (keys) {
            strcat(out, "/");
            strncat(out, h.key, h.key_len);
        }
    }
    sdx_results_destroy(&r);
    return out;
}

/* The ids of Q on DB (synonyms as SYN) in rank order, joined by ','. */
static const char *
ranked(sdx_db_t *db, const char *q, bool syn)
{
    sdx_search_spec_t spec = { .query = q, .fields = fields2, .nfields = 1,
                               .limit = 10, .synonyms = syn };
    return joined(db, &spec, false);
}

static void
test_synonyms(void **state)
{
    fixture_t *f = *state;
    sdx_db_t *db = NULL;
    open_db2(f, &db);
    /* both directions; the phrase, not its words apart (e5) */
    assert_string_equal(ranked(db, "RCA", false), "e1");
    /* the phrase's three words outweigh one acronym */
    assert_string_equal(ranked(db, "RCA", true), "e2,e1");
    assert_string_equal(ranked(db, "rca", true), "e2,e1");
    assert_string_equal(ranked(db, "\"root cause analysis\"", true), "e2");
    const char *both = ranked(db, "root cause analysis", true);
    assert_non_null(strstr(both, "e1"));
    assert_non_null(strstr(both, "e2"));
    /* not expanded: in quotes, a +/- term, a wildcard, a field value */
    assert_string_equal(ranked(db, "\"rca\"", true), "e1");
    assert_string_equal(ranked(db, "incidents -rca", true), "");
    assert_string_equal(ranked(db, "rc*", true), "e1");
    /* in an AND it keeps its meaning */
    assert_string_equal(ranked(db, "RCA AND outages", true), "e2");
    /* an exact-case key: "IT" expands (and is not stopped), "it" not */
    assert_string_equal(ranked(db, "IT", true), "e3,e4");
    assert_string_equal(ranked(db, "information technology", true),
                        "e3,e4");
    assert_string_equal(ranked(db, "it", true), "e3,e4"); /* stop word
                                                   alone: kept, no syn */
    assert_string_equal(ranked(db, "it practice", true), "e4");
    sdx_db_destroy(&db);
}

static void
test_normalised_field(void **state)
{
    fixture_t *f = *state;
    sdx_db_t *db = NULL;
    open_db2(f, &db);
    assert_string_equal(ranked(db, "row:key-resp-06", false), "e1,e2");
    assert_string_equal(ranked(db, "row:\"Key Resp 06\"", false), "e1,e2");
    assert_string_equal(ranked(db, "row:KEY-RESP-06 outages", false), "e2");
    sdx_search_spec_t spec = { .query = "row:\"!!\"", .fields = fields2,
                               .nfields = 1 };
    sdx_results_t *r = NULL;
    assert_int_equal(sdx_db_search(db, &spec, &r), SDX_BAD_QUERY);
    assert_null(strstr(sdx_db_errmsg(db), "!!"));
    assert_non_null(strstr(sdx_db_errmsg(db), "row"));
    sdx_db_destroy(&db);
}

static void
test_collapse_and_facets(void **state)
{
    fixture_t *f = *state;
    sdx_db_t *db = NULL;
    sdx_results_t *r = NULL;
    static const unsigned slots[] = { LEVEL_SLOT };
    open_db2(f, &db);

    /* one hit per level value, the best of each */
    sdx_search_spec_t spec = { .query = "", .limit = 10, .collapse = true,
                               .key_slot = LEVEL_SLOT };
    assert_int_equal(sdx_db_search(db, &spec, &r), SDX_OK);
    assert_int_equal(sdx_results_count(r), 3);
    sdx_hit_t h;
    sdx_results_hit(r, 1, &h);
    assert_int_equal(h.key_len, 1);
    assert_memory_equal(h.key, "2", 1);
    assert_int_equal(h.collapsed, 1); /* e3 left out */
    sdx_results_destroy(&r);

    /* facets over every match: exact when all were checked */
    spec = (sdx_search_spec_t){ .query = "", .limit = 1,
                                .check_at_least = 100,
                                .facet_slots = slots, .nfacets = 1 };
    assert_int_equal(sdx_db_search(db, &spec, &r), SDX_OK);
    assert_int_equal(sdx_results_facet_size(r, 0), 3);
    const char *value;
    size_t len;
    uint64_t count;
    sdx_results_facet(r, 0, 1, &value, &len, &count);
    assert_memory_equal(value, "2", 1);
    assert_int_equal(count, 2);
    assert_true(sdx_results_facets_exact(r));
    assert_false(sdx_results_partial(r));
    sdx_results_destroy(&r);
    /* the match stops early without check_at_least: not exact */
    spec.check_at_least = 0;
    spec.query = "root";
    assert_int_equal(sdx_db_search(db, &spec, &r), SDX_OK);
    assert_int_equal(sdx_results_facet_size(r, 0), 2);
    sdx_results_destroy(&r);
    sdx_db_destroy(&db);
}

static void
test_collapse_scan(void **state)
{
    fixture_t *f = *state;
    sdx_db_t *db = NULL;
    sdx_results_t *r = NULL;
    char xapian[64];
    double floor = -1;
    open_db2(f, &db);

    /* the same hits as Xapian's collapse when the scan sees them all */
    sdx_search_spec_t spec = { .query = "root cause analysis incidents "
                                        "daily practice",
                               .limit = 10, .collapse = true,
                               .key_slot = LEVEL_SLOT };
    snprintf(xapian, sizeof xapian, "%s", joined(db, &spec, true));
    assert_int_equal(strlen(xapian) > 0, 1);
    spec.collapse_scan = 100;
    assert_string_equal(joined(db, &spec, true), xapian);
    assert_int_equal(sdx_db_search(db, &spec, &r), SDX_OK);
    assert_false(sdx_results_scan_cut(r, &floor));
    assert_true(floor == 0);
    sdx_results_destroy(&r);

    /* the other matches of a kept key are counted */
    spec = (sdx_search_spec_t){ .query = "", .limit = 10, .collapse = true,
                                .key_slot = LEVEL_SLOT, .collapse_scan = 10 };
    assert_string_equal(joined(db, &spec, true), "e1/1,e2/2,e4/3");
    assert_int_equal(sdx_db_search(db, &spec, &r), SDX_OK);
    sdx_hit_t h;
    sdx_results_hit(r, 1, &h);
    assert_int_equal(h.collapsed, 1); /* e3 */
    sdx_results_destroy(&r);
    /* OFFSET counts keys; the limit stops the page */
    spec.offset = 1;
    assert_string_equal(joined(db, &spec, true), "e2/2,e4/3");
    spec.offset = 0;
    spec.limit = 2;
    assert_string_equal(joined(db, &spec, true), "e1/1,e2/2");
    assert_int_equal(sdx_db_search(db, &spec, &r), SDX_OK);
    assert_false(sdx_results_scan_cut(r, &floor)); /* the page is full */
    sdx_results_destroy(&r);

    /* cut short: keys beyond weigh at most the floor */
    spec = (sdx_search_spec_t){ .query = "root cause analysis incidents "
                                         "daily practice",
                                .limit = 10, .collapse = true,
                                .key_slot = LEVEL_SLOT, .collapse_scan = 1 };
    assert_int_equal(sdx_db_search(db, &spec, &r), SDX_OK);
    assert_int_equal(sdx_results_count(r), 1);
    assert_true(sdx_results_scan_cut(r, &floor));
    sdx_results_hit(r, 0, &h);
    assert_true(floor == h.score);
    assert_true(floor > 0);
    sdx_results_destroy(&r);
    /* a NULL results object is no cut */
    assert_false(sdx_results_scan_cut(NULL, &floor));
    assert_true(floor == 0);
    sdx_db_destroy(&db);
}

static void
test_spelling(void **state)
{
    fixture_t *f = *state;
    char *s = NULL;
    sdx_search_spec_t spec = { .query = "troubleshots netwrk", .limit = 10 };
    assert_int_equal(sdx_db_suggest(f->db, &spec, &s), SDX_OK);
    assert_string_equal(s, "troubleshoots network");
    free(s);
    /* known words are left alone; nothing to correct is NULL */
    spec.query = "clinical team";
    assert_int_equal(sdx_db_suggest(f->db, &spec, &s), SDX_OK);
    assert_null(s);
    spec.query = "level:3 documentaton";
    spec.fields = fields;
    spec.nfields = 2;
    assert_int_equal(sdx_db_suggest(f->db, &spec, &s), SDX_OK);
    assert_string_equal(s, "level:3 documentation");
    free(s);
    /* a search with no match carries the correction when asked */
    sdx_results_t *r = NULL;
    spec.query = "documentaton";
    spec.correct = true;
    assert_int_equal(sdx_db_search(f->db, &spec, &r), SDX_OK);
    assert_int_equal(sdx_results_count(r), 0);
    assert_string_equal(sdx_results_corrected(r), "documentation");
    sdx_results_destroy(&r);
    spec.query = "documentation";
    assert_int_equal(sdx_db_search(f->db, &spec, &r), SDX_OK);
    assert_string_equal(sdx_results_corrected(r), "");
    sdx_results_destroy(&r);
    /* the spelling table holds the stop words too, and offers none:
       "fro" is two edits from "for" and from nothing else */
    spec.query = "fro";
    spec.fields = NULL;
    spec.nfields = 0;
    assert_int_equal(sdx_db_suggest(f->db, &spec, &s), SDX_OK);
    assert_null(s);
    spec.query = "teh team";
    assert_int_equal(sdx_db_suggest(f->db, &spec, &s), SDX_OK);
    assert_null(s);
}

/* The terms of a prefix, and what a caller keeps with a handle. */
static int user_freed;

static void
s_user_free(void *data)
{
    user_freed++;
    free(data);
}

static void
test_terms_and_user(void **state)
{
    fixture_t *f = *state;
    char *terms = NULL;
    size_t len = 0, count = 0;
    bool more = true;
    assert_int_equal(sdx_db_terms(f->db, "XL", 10, &terms, &len, &count,
                                  &more), SDX_OK);
    assert_int_equal(count, 3);
    assert_false(more);
    assert_int_equal(len, 6);
    assert_memory_equal(terms, "1\0" "2\0" "3\0", 6);
    free(terms);
    assert_int_equal(sdx_db_terms(f->db, "XL", 2, &terms, &len, &count,
                                  &more), SDX_OK);
    assert_int_equal(count, 2);
    assert_true(more);
    free(terms);
    assert_int_equal(sdx_db_terms(f->db, "XNONE", 10, &terms, &len, &count,
                                  &more), SDX_OK);
    assert_null(terms);
    assert_int_equal(count, 0);

    /* kept until replaced or the handle goes, never on a reopen */
    sdx_db_t *db = NULL;
    assert_int_equal(sdx_db_open(f->path, &db, NULL), SDX_OK);
    assert_null(sdx_db_user(db));
    char *a = strdup("a"), *b = strdup("b");
    user_freed = 0;
    sdx_db_set_user(db, a, s_user_free);
    assert_ptr_equal(sdx_db_user(db), a);
    assert_int_equal(sdx_db_reopen(db), SDX_OK);
    assert_ptr_equal(sdx_db_user(db), a);
    sdx_db_set_user(db, a, s_user_free); /* the same: not freed */
    assert_int_equal(user_freed, 0);
    sdx_db_set_user(db, b, s_user_free);
    assert_int_equal(user_freed, 1);
    sdx_db_destroy(&db);
    assert_int_equal(user_freed, 2);
    assert_null(sdx_db_user(NULL));
}

static void
test_operators_and_bounds(void **state)
{
    fixture_t *f = *state;
    /* lower-case and/or/not are words (stopped), not operators */
    assert_string_equal(query(f, "clinical and"), "d1,d2,d4");
    assert_string_equal(query(f, "clinical or not"), "d1,d2,d4");
    assert_string_equal(query(f, "clinical AND team"), "d1");
    assert_string_equal(query(f, "clinical AND workflows"), "d2");
    /* the term bound */
    sdx_search_spec_t spec = { .query = "one two three", .max_terms = 2 };
    sdx_results_t *r = NULL;
    assert_int_equal(sdx_db_search(f->db, &spec, &r), SDX_BAD_QUERY);
    assert_string_equal(sdx_db_errmsg(f->db),
                        "too many terms (at most 2, synonyms included)");
    spec.max_terms = 3;
    assert_int_equal(sdx_db_search(f->db, &spec, &r), SDX_OK);
    sdx_results_destroy(&r);
}

/*
 * A write that fails for want of room says why: the errno text rides on
 * Xapian's message.  A full disk cannot be made without root, so the
 * child lowers RLIMIT_FSIZE (with SIGXFSZ ignored a write past it fails
 * with EFBIG), the same path through Xapian's io_write as ENOSPC.  The
 * child writes until Xapian fails and exits 0 only when the message
 * carries strerror(EFBIG).
 */
static void
test_write_error_says_why(void **state)
{
    fixture_t *f = *state;
    char path[160];
    snprintf(path, sizeof path, "%s/full", f->dir);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct rlimit lim = {64 * 1024, 64 * 1024};
        sdx_writer_t *w = NULL;
        sdx_status_t st = SDX_OK;
        char text[2000];
        signal(SIGXFSZ, SIG_IGN);
        if (setrlimit(RLIMIT_FSIZE, &lim) != 0 ||
            sdx_writer_create(path, &w, NULL) != SDX_OK)
            _exit(2);
        for (int i = 0; st == SDX_OK && i < 100000; i++) {
            char unique[32];
            snprintf(unique, sizeof unique, "Qdoc%d", i);
            for (size_t j = 0; j + 12 < sizeof text; j += 12)
                snprintf(text + j, 13, "w%05dx%04d ", i, (int)j);
            if ((st = sdx_writer_begin_doc(w)) == SDX_OK &&
                (st = sdx_writer_index_text(w, text, "", 1, true))
                    == SDX_OK &&
                (st = sdx_writer_add_doc(w, unique)) == SDX_OK &&
                i % 100 == 99)
                st = sdx_writer_commit(w);
        }
        if (st == SDX_OK)
            st = sdx_writer_commit(w);
        const char *msg = sdx_writer_errmsg(w);
        fprintf(stderr, "writer failed (%s): %s\n", sdx_status_str(st),
                msg);
        _exit(st != SDX_OK && strstr(msg, strerror(EFBIG)) ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_and_metadata),
        cmocka_unit_test(test_data_by_term),
        cmocka_unit_test(test_stemming_phrase_wildcard),
        cmocka_unit_test(test_stop_words),
        cmocka_unit_test(test_fields_and_filters),
        cmocka_unit_test(test_exclude_filters),
        cmocka_unit_test(test_paging),
        cmocka_unit_test(test_ranking),
        cmocka_unit_test(test_snippets),
        cmocka_unit_test(test_snippet_text),
        cmocka_unit_test(test_bad_query),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_writer_abandon),
        cmocka_unit_test(test_write_error_says_why),
        cmocka_unit_test(test_bulk_and_compact),
        cmocka_unit_test(test_update_and_ties),
        cmocka_unit_test(test_bulk_spelling_rules),
        cmocka_unit_test(test_modified_retry),
        cmocka_unit_test(test_wildcard_cap),
        cmocka_unit_test(test_null_safe_destroy),
        cmocka_unit_test(test_synonyms),
        cmocka_unit_test(test_normalised_field),
        cmocka_unit_test(test_collapse_and_facets),
        cmocka_unit_test(test_collapse_scan),
        cmocka_unit_test(test_spelling),
        cmocka_unit_test(test_terms_and_user),
        cmocka_unit_test(test_operators_and_bounds),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
