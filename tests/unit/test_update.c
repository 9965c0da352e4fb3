/*
 * test_update: an index updated one series at a time is the index a full
 * build of the same corpus gives (indexer/build.h, sdx_build_update).
 *
 * The library corpus is the sixteen standards of tests/data/family and
 * the seed, seventeen series of one to five levels
 * (tests/data/library/README.md); the
 * library folder adds a revised standard, a new one and a broken one.
 * One index goes through update, remove, re-add and add; after each step
 * a second index is built in full from the corpus that step stands for,
 * and the two must hold the same records (in id order) and answer the
 * same requests with the same bytes: searches with ties across series,
 * facets, groups, ladders, rows, the series list, context, spelling.
 * Then every kind of bad input, each leaving the served index as it was.
 */
#define _XOPEN_SOURCE 700 /* nftw(), mkdtemp(), readlink(), strdup() */

#include <dirent.h>
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

#include "build.h"
#include "daemon.h"
#include "parse.h"
#include "sdx_index.h"
#include "sdx_proto.h"
#include "test_ops.h"
#include "test_tree.h"
#include "../integration/mp_notation.h"

#define FAMILY SDX_TEST_DATA "/family"
#define LIBRARY SDX_TEST_DATA "/library"
#define SYNONYMS SDX_SEED_CORPUS "/synonyms.txt"
#define MAX_FILES 32

/* The standards of one corpus, as paths. */
typedef struct corpus {
    char *paths[MAX_FILES];    /* malloc'd */
    size_t n;                  /* how many */
} corpus_t;

/* The library corpus: every family standard and the seed. */
static void
s_library(corpus_t *c)
{
    DIR *d = opendir(FAMILY);
    struct dirent *e;
    char path[512];
    memset(c, 0, sizeof *c);
    assert_non_null(d);
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".txt") != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", FAMILY, e->d_name);
        assert_true(c->n < MAX_FILES);
        c->paths[c->n++] = strdup(path);
    }
    closedir(d);
    snprintf(path, sizeof path, "%s/clinical-applications-professional-hx.txt",
             SDX_SEED_CORPUS);
    c->paths[c->n++] = strdup(path);
    assert_true(c->n >= 10); /* at least ten series, as the issue asks */
}

/* C with the file named NAME (its last path part) replaced by PATH, or
   left out when PATH is NULL, or added when C has none of that name. */
static void
s_swap(corpus_t *c, const char *name, const char *path)
{
    for (size_t i = 0; i < c->n; i++) {
        const char *slash = strrchr(c->paths[i], '/');
        if (strcmp(slash ? slash + 1 : c->paths[i], name) != 0)
            continue;
        free(c->paths[i]);
        if (path) {
            c->paths[i] = strdup(path);
        } else {
            c->paths[i] = c->paths[--c->n];
        }
        return;
    }
    assert_non_null(path);
    c->paths[c->n++] = strdup(path);
}

static void
s_corpus_free(corpus_t *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->paths[i]);
    c->n = 0;
}

/* Parse PATHS into *OUT; a refused file fails the test. */
static void
s_parse(const char *const *paths, size_t n, sdx_clause_list_t *out)
{
    char err[1024];
    if (sdx_parse_paths(paths, n, out, NULL, err, sizeof err) != SDX_OK)
        fail_msg("parsing: %s", err);
}

/* A full build of C into DIR, with the seed's synonyms. */
static void
s_build(const char *dir, const corpus_t *c)
{
    sdx_clause_list_t clauses = SDX_CLAUSE_LIST_INIT;
    sdx_synonyms_t syn = SDX_SYNONYMS_INIT;
    char err[1024];
    s_parse((const char *const *)c->paths, c->n, &clauses);
    assert_int_equal(sdx_parse_synonyms(SYNONYMS, &syn, err, sizeof err),
                     SDX_OK);
    if (sdx_build_index_syn(dir, &clauses, &syn, NULL, err, sizeof err))
        fail_msg("building %s: %s", dir, err);
    sdx_clause_list_clear(&clauses);
    sdx_synonyms_clear(&syn);
}

/* --update FILE on the index at DIR; returns its status (ERR set). */
static sdx_status_t
s_update(const char *dir, const char *file, sdx_update_report_t *report,
         char *err, size_t err_size)
{
    sdx_clause_list_t clauses = SDX_CLAUSE_LIST_INIT;
    s_parse(&file, 1, &clauses);
    sdx_status_t st = sdx_build_update(dir, &clauses, NULL, report, err,
                                       err_size);
    sdx_clause_list_clear(&clauses);
    return st;
}

/* The requests both indexes must answer alike: ties across series
   (the boilerplate rows), facets, groups, a series filter, ladder, rows
   across every series, the series list, context, spelling. */
static const char *const requests[] = {
    "{v:1, op:'search', q:'background check', limit:100, facets:true}",
    "{v:1, op:'search', q:'background check', limit:20, group:true}",
    "{v:1, op:'search', q:'must pass', limit:7, offset:3}",
    "{v:1, op:'search', q:'payroll reconciliation', limit:30}",
    "{v:1, op:'search', q:'training', limit:100, snippet:false}",
    "{v:1, op:'search', q:'level:2 schedul*', limit:50}",
    "{v:1, op:'search', q:'reconcilation benfits'}",
    "{v:1, op:'search', q:'communication', limit:40, "
    "series:'Clinical Applications Professional 1-5 HX'}",
    "{v:1, op:'search', q:'who schedules exams', syntax:'plain', "
    "limit:20}",
    "{v:1, op:'ladder', q:'written communication skills'}",
    "{v:1, op:'ladder', q:'payroll calendar'}",
    "{v:1, op:'row', row:'KSA 01'}",
    "{v:1, op:'row', row:'key resp 03'}",
    "{v:1, op:'row', row:'Special Condition'}",
    "{v:1, op:'series'}",
    "{v:1, op:'context', q:'what does a payroll analyst reconcile'}",
    "{v:1, op:'context', q:'background check', k:10, min_score:0}",
    "{v:1, op:'suggest', q:'payrol reconcilation'}",
    "{v:1, op:'suggest', q:'imagng radiolgy'}",
    /* words of one series only (HR's): gone from the spelling table
       while that series is out of the index */
    "{v:1, op:'suggest', q:'recertifes onbording'}",
    "{v:1, op:'search', q:'recertifes'}",
};

/* The record of every clause of IX's index, in id order, as bytes. */
static void
s_records(t_ops_index_t *ix, msgpack_sbuffer *out)
{
    char *ids = NULL;
    size_t len = 0, count = 0;
    bool more = false;
    msgpack_sbuffer_init(out);
    assert_int_equal(sdx_db_terms(ix->db, SDX_PREFIX_ID, SIZE_MAX, &ids,
                                  &len, &count, &more), SDX_OK);
    assert_false(more);
    const char *id = ids;
    for (size_t i = 0; i < count; i++, id += strlen(id) + 1) {
        void *data = NULL;
        size_t n = 0;
        assert_int_equal(sdx_index_get_record(ix->db, id, &data, &n),
                         SDX_OK);
        msgpack_sbuffer_write(out, data, n);
        free(data);
    }
    free(ids);
}

/* The reply to REQ on IX, as bytes (malloc'd, *LEN). */
static void *
s_reply(t_ops_index_t *ix, const char *req, size_t *len)
{
    msgpack_sbuffer sb;
    msgpack_unpacked u;
    void *reply = NULL;
    s_mp(&sb, "%s", req);
    t_ops_answer(&ix->ctx, &sb, req, &u, &reply);
    /* packed again from what was read: the reply's own bytes */
    msgpack_sbuffer bytes;
    msgpack_packer pk;
    msgpack_sbuffer_init(&bytes);
    msgpack_packer_init(&pk, &bytes, msgpack_sbuffer_write);
    msgpack_pack_object(&pk, u.data);
    msgpack_unpacked_destroy(&u);
    free(reply);
    *len = bytes.size;
    return bytes.data;
}

/*
 * The updated index at UPDATED and a full build of C hold the same
 * clauses and answer every request alike.  WHAT names the step.
 */
static void
s_same(const char *updated, const corpus_t *c, const char *scratch,
       const char *what)
{
    t_ops_index_t a, b;
    msgpack_sbuffer ra, rb;
    char full[1024];
    snprintf(full, sizeof full, "%s/full-%s", scratch, what);
    s_build(full, c);
    t_ops_index_open_dir(&a, updated);
    t_ops_index_open_dir(&b, full);

    s_records(&a, &ra);
    s_records(&b, &rb);
    if (ra.size != rb.size || memcmp(ra.data, rb.data, ra.size) != 0)
        fail_msg("%s: the records differ from a full build's", what);
    assert_true(ra.size > 0);
    msgpack_sbuffer_destroy(&ra);
    msgpack_sbuffer_destroy(&rb);
    uint64_t na = 0, nb = 0;
    assert_int_equal(sdx_db_doc_count(a.db, &na), SDX_OK);
    assert_int_equal(sdx_db_doc_count(b.db, &nb), SDX_OK);
    assert_int_equal(na, nb);

    for (size_t i = 0; i < sizeof requests / sizeof requests[0]; i++) {
        size_t la = 0, lb = 0;
        void *x = s_reply(&a, requests[i], &la);
        void *y = s_reply(&b, requests[i], &lb);
        if (la != lb || memcmp(x, y, la) != 0)
            fail_msg("%s: %s answers differently from a full build", what,
                     requests[i]);
        free(x);
        free(y);
    }
    t_ops_index_close(&a);
    t_ops_index_close(&b);
}

/* DIR/current's target, to see that a refused update changed nothing. */
static void
s_current(const char *dir, char *out, size_t size)
{
    char link[1024];
    snprintf(link, sizeof link, "%s/current", dir);
    ssize_t n = readlink(link, out, size - 1);
    assert_true(n > 0);
    out[n] = '\0';
}

static int
setup(void **state)
{
    char *dir = strdup("/tmp/sdx-test-update-XXXXXX");
    if (!dir || !mkdtemp(dir))
        return -1;
    *state = dir;
    return 0;
}

static int
teardown(void **state)
{
    t_rm_tree(*state);
    free(*state);
    return 0;
}

/* Update, remove, re-add, add: each step equals a full build. */
static void
test_update_equals_full_build(void **state)
{
    const char *tmp = *state;
    char index[512], err[1024];
    sdx_update_report_t rep;
    corpus_t c;
    snprintf(index, sizeof index, "%s/index", tmp);
    s_library(&c);
    s_build(index, &c);

    /* a revised standard replaces its series: fewer rows, new words */
    assert_int_equal(s_update(index, LIBRARY "/payroll-systems-analyst.txt",
                              &rep, err, sizeof err), SDX_OK);
    assert_int_equal(rep.nseries, 1);
    assert_string_equal(rep.series[0], "payroll-systems-analyst-1-5");
    assert_int_equal(rep.replaced[0], 68);
    assert_int_equal(rep.added, 63); /* KSA 02 dropped at five levels */
    s_swap(&c, "payroll-systems-analyst.txt",
           LIBRARY "/payroll-systems-analyst.txt");
    s_same(index, &c, tmp, "update");

    /* remove a series, then put it back */
    assert_int_equal(sdx_build_update(index, NULL,
                                      "hr-information-systems-analyst-1-2",
                                      &rep, err, sizeof err), SDX_OK);
    assert_int_equal(rep.replaced[0], 24);
    assert_int_equal(rep.added, 0);
    s_swap(&c, "hr-information-systems-analyst.txt", NULL);
    s_same(index, &c, tmp, "remove");
    assert_int_equal(s_update(index,
                              FAMILY "/hr-information-systems-analyst.txt",
                              &rep, err, sizeof err), SDX_OK);
    assert_int_equal(rep.replaced[0], 0); /* new to the index again */
    s_swap(&c, "hr-information-systems-analyst.txt",
           FAMILY "/hr-information-systems-analyst.txt");
    s_same(index, &c, tmp, "re-add");

    /* a series the index never held */
    assert_int_equal(s_update(index,
                              LIBRARY "/radiology-scheduling-coordinator.txt",
                              &rep, err, sizeof err), SDX_OK);
    assert_int_equal(rep.replaced[0], 0);
    assert_int_equal(rep.added, 21);
    s_swap(&c, "radiology-scheduling-coordinator.txt",
           LIBRARY "/radiology-scheduling-coordinator.txt");
    s_same(index, &c, tmp, "add");
    s_corpus_free(&c);
}

/* Bad input: refused, with a message, and the served index as it was. */
static void
test_bad_input_changes_nothing(void **state)
{
    const char *tmp = *state;
    char index[512], before[64], after[64], err[1024];
    sdx_update_report_t rep;
    sdx_clause_list_t clauses = SDX_CLAUSE_LIST_INIT;
    corpus_t c;
    snprintf(index, sizeof index, "%s/index", tmp);

    /* no index yet */
    assert_int_equal(sdx_build_update(index, NULL, "x", &rep, err,
                                      sizeof err), SDX_UNAVAILABLE);
    assert_non_null(strstr(err, "no index at"));

    s_library(&c);
    s_build(index, &c);
    s_current(index, before, sizeof before);

    /* a file that fails to parse never reaches the index: specdex-index
       reads it whole first, as a build reads its corpus */
    const char *broken = LIBRARY "/broken/payroll-systems-analyst.txt";
    assert_int_not_equal(sdx_parse_paths(&broken, 1, &clauses, NULL, err,
                                         sizeof err), SDX_OK);
    assert_non_null(strstr(err, "Key Duties 01"));
    sdx_clause_list_clear(&clauses);

    /* an unknown series to remove is named */
    assert_int_equal(sdx_build_update(index, NULL, "no-such-series-1-3",
                                      &rep, err, sizeof err), SDX_BAD_INPUT);
    assert_string_equal(err, "no series \"no-such-series-1-3\" in the index");

    /* an id another series holds: the new series may not take it */
    const char *seed = SDX_SEED_CORPUS
        "/clinical-applications-professional-hx.txt";
    s_parse(&seed, 1, &clauses);
    free(clauses.items[0]->series);
    clauses.items[0]->series = strdup("Some Other Series 1-5");
    assert_non_null(clauses.items[0]->series);
    for (size_t i = 1; i < clauses.count; i++)
        sdx_clause_destroy(&clauses.items[i]);
    clauses.count = 1;
    assert_int_equal(sdx_build_update(index, &clauses, NULL, &rep, err,
                                      sizeof err), SDX_BAD_INPUT);
    assert_non_null(strstr(err, "is already in the index"));
    /* a clause without a series cannot say what it replaces */
    clauses.items[0]->series[0] = '\0';
    assert_int_equal(sdx_build_update(index, &clauses, NULL, &rep, err,
                                      sizeof err), SDX_BAD_INPUT);
    assert_non_null(strstr(err, "has no series"));
    s_current(index, after, sizeof after);
    assert_string_equal(before, after);
    s_corpus_free(&c);
    sdx_clause_list_clear(&clauses);

    /* the last series is refused: an index is never empty */
    char one[512];
    snprintf(one, sizeof one, "%s/one", tmp);
    corpus_t seed_only = { { strdup(seed) }, 1 };
    s_build(one, &seed_only);
    s_current(one, before, sizeof before);
    assert_int_equal(sdx_build_update(one, NULL,
                                      "clinical-applications-professional-"
                                      "1-5-hx", &rep, err, sizeof err),
                     SDX_BAD_INPUT);
    assert_non_null(strstr(err, "is the last one in the index"));
    s_current(one, after, sizeof after);
    assert_string_equal(before, after);
    s_corpus_free(&seed_only);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_update_equals_full_build, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_input_changes_nothing,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
