/*
 * test_xapian_threads: the shim used as the daemon uses it, one handle
 * per thread, several threads at once.
 *
 * Xapian 1.4's objects are not thread-safe, reference counts included, so
 * any Xapian object shared behind the shim's back (a static query, a
 * shared stemmer) corrupts memory when workers search at the same time.
 * This test runs blank (match-all), filtered, phrase and wildcard searches
 * with snippets in four threads on their own handles, many times over;
 * it once crashed on a shared Xapian::Query::MatchAll.  Under the
 * sanitizer build it also stands for a data-race smoke test.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sdx_xapian.h"

#define THREADS 4        /* concurrent readers */
#define ROUNDS 3000      /* searches per thread */
#define DOCS 200         /* documents in the test database */

static char tmpdir[] = "/tmp/test_xapian_threads-XXXXXX"; /* removed after */
static char dbdir[sizeof tmpdir + 8];                      /* TMPDIR/db */

static int
setup(void **state)
{
    sdx_writer_t *w = NULL;
    char text[128], term[32];
    (void)state;
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(dbdir, sizeof dbdir, "%s/db", tmpdir);
    if (sdx_writer_create(dbdir, &w, NULL) != SDX_OK)
        return -1;
    for (int i = 0; i < DOCS; i++) {
        snprintf(text, sizeof text, "clinical vendor %d performs root "
                 "cause analysis of issue %d", i, i * 7);
        snprintf(term, sizeof term, "Qdoc%d", i);
        char level[8];
        snprintf(level, sizeof level, "XL%d", 1 + i % 5);
        if (sdx_writer_begin_doc(w) != SDX_OK ||
            sdx_writer_index_text(w, text, "", 1, true) != SDX_OK ||
            sdx_writer_add_term(w, level) != SDX_OK ||
            sdx_writer_set_value(w, 0, text, strlen(text)) != SDX_OK ||
            sdx_writer_add_doc(w, term) != SDX_OK)
            return -1;
    }
    sdx_status_t st = sdx_writer_commit(w);
    sdx_writer_destroy(&w);
    return st == SDX_OK ? 0 : -1;
}

static int
teardown(void **state)
{
    char cmd[128];
    (void)state;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* One reader: its own handle, ROUNDS searches; returns failures. */
static void *
reader(void *arg)
{
    static const char *const queries[] = {
        "", "\"root cause analysis\"", "vend*", "clinical AND issue",
        "NOT xyzzy",
    };
    static const char *const level3[] = { "XL3" };
    const sdx_filter_t filter = { level3, 1, false };
    sdx_db_t *db = NULL;
    uintptr_t failures = 0;
    (void)arg;
    if (sdx_db_open(dbdir, &db, NULL) != SDX_OK)
        return (void *)(uintptr_t)ROUNDS;
    for (int i = 0; i < ROUNDS; i++) {
        sdx_search_spec_t spec = {
            .query = queries[i % 5],
            .filters = i % 2 ? &filter : NULL,
            .nfilters = i % 2 ? 1 : 0,
            .limit = 10,
            .snippets = true, /* from the data (slot 0): the text */
            .hl_open = "[",
            .hl_close = "]",
        };
        sdx_results_t *r = NULL;
        if (sdx_db_search(db, &spec, &r) != SDX_OK ||
            sdx_results_count(r) == 0)
            failures++;
        sdx_results_destroy(&r);
    }
    sdx_db_destroy(&db);
    return (void *)failures;
}

static void
test_concurrent_searches(void **state)
{
    pthread_t threads[THREADS];
    (void)state;
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, reader, NULL), 0);
    for (int i = 0; i < THREADS; i++) {
        void *failures;
        assert_int_equal(pthread_join(threads[i], &failures), 0);
        assert_int_equal((uintptr_t)failures, 0);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_searches),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
