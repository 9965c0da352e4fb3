/*
 * test_ladder: the ladder's collapse by scan (daemon/op_ladder.c) when a
 * level's best clause lies beyond the scanned matches.
 *
 * The bundled corpus is too small for that (every level's best is among
 * a query's first 40 matches), so this test writes its own: 48 clauses
 * at levels 1..4 that repeat the query word, each outranking the one
 * level 5 clause, which uses it once in a longer text.  The ladder must
 * then search level 5 on its own and answer exactly what collapsing
 * every match on the level (Xapian's collapse) answers: the same clause,
 * score and percent.  The index is built in-process as specdex-index
 * builds it, and the request answered by the daemon's own
 * sdx_ops_handle on a shim handle.
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

#include "../integration/harness.h" /* h_pack_op */
#include "daemon.h"
#include "sdx_clause.h"
#include "sdx_proto.h"
#include "test_ops.h"
#include "test_tree.h"

#define PER_LEVEL 12     /* clauses at each of levels 1..4: 48 in all,
                            more than the ladder's scan of 40 */
#define LEVEL5_ID "105/ksa-01" /* the one level 5 clause */

static char tmpdir[] = "/tmp/sdx-test-ladder-XXXXXX";

/* One clause of the test series as a JSON line. */
static void
s_clause(FILE *f, int level, int item, const char *text)
{
    fprintf(f, "{\"id\": \"10%d/ksa-%02d\", \"series\": \"Ladder Test 1-5 "
            "LT\", \"level\": %d, \"job_code\": \"10%d\", \"title\": "
            "\"Ladder Test %d LT\", \"flsa\": \"Exempt\", \"row\": \"KSA "
            "%02d\", \"section\": \"ksa\", \"item\": %d, \"text\": \"%s\"}\n",
            level, item, level, level, level, item, item, text);
}

/* Write the test corpus into DIR/ladder.jsonl; its path into PATH. */
static void
s_corpus(char *path, size_t size)
{
    snprintf(path, size, "%s/ladder.jsonl", tmpdir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int level = 1; level <= 4; level++)
        for (int i = 1; i <= PER_LEVEL; i++)
            s_clause(f, level, i, "Zephyr zephyr zephyr checks.");
    s_clause(f, 5, 1, "Plans the yearly budget and, where a zephyr is "
             "involved, reviews the outcome with the team.");
    assert_int_equal(fclose(f), 0);
}

/* The ladder of Q through the daemon's ops: level 5's hit into *ID,
   *SCORE and *PERCENT (ID "" when nil). */
static void
s_ladder5(sdx_ops_ctx_t *ctx, const char *q, char *id, size_t size,
          double *score, int64_t *percent)
{
    msgpack_sbuffer sb;
    void *reply = NULL;
    msgpack_unpacked u;

    h_pack_op(&sb, "ladder", q);
    t_ops_answer(ctx, &sb, q, &u, &reply);
    const msgpack_object *ladder = sdx_msgpack_get(&u.data, "ladder");
    assert_non_null(ladder);
    assert_int_equal(ladder->via.array.size, 5);
    const msgpack_object *hit = sdx_msgpack_get(&ladder->via.array.ptr[4],
                                                "hit");
    id[0] = '\0';
    if (hit && hit->type == MSGPACK_OBJECT_MAP) {
        const msgpack_object *o = sdx_msgpack_get(hit, "id");
        snprintf(id, size, "%.*s", (int)o->via.str.size, o->via.str.ptr);
        *score = sdx_msgpack_get(hit, "score")->via.f64;
        *percent = sdx_msgpack_get(hit, "percent")->via.i64;
    }
    msgpack_unpacked_destroy(&u);
    free(reply);
}

static void
test_level_beyond_the_scan(void **state)
{
    (void)state;
    char corpus[256];
    t_ops_index_t ix;
    assert_non_null(mkdtemp(tmpdir));
    s_corpus(corpus, sizeof corpus);
    t_ops_index_open(&ix, tmpdir, corpus, NULL);
    sdx_db_t *db = ix.db;

    /* What collapsing every match on the level answers. */
    static const char *const levels[] = {"XL1", "XL2", "XL3", "XL4", "XL5"};
    sdx_filter_t filter = {levels, 5, false};
    sdx_search_spec_t spec = {.query = "zephyr", .filters = &filter,
                              .nfilters = 1, .limit = 5, .collapse = true,
                              .key_slot = SDX_SLOT_LEVEL,
                              .data_slot = SDX_SLOT_RECORD};
    sdx_results_t *r = NULL;
    assert_int_equal(sdx_db_search(db, &spec, &r), SDX_OK);
    assert_int_equal(sdx_results_count(r), 5);
    sdx_hit_t want;
    sdx_results_hit(r, 4, &want);
    assert_int_equal(want.key_len, 1);
    assert_int_equal(want.key[0], '5');
    /* and the scan alone does not reach level 5 */
    sdx_results_t *scanned = NULL;
    double floor;
    spec.collapse_scan = 40;
    assert_int_equal(sdx_db_search(db, &spec, &scanned), SDX_OK);
    assert_int_equal(sdx_results_count(scanned), 4);
    assert_true(sdx_results_scan_cut(scanned, &floor));
    sdx_results_destroy(&scanned);

    char id[64];
    double score = 0;
    int64_t percent = -1;
    s_ladder5(&ix.ctx, "zephyr", id, sizeof id, &score, &percent);
    assert_string_equal(id, LEVEL5_ID);
    assert_true(score == want.score);
    assert_int_equal(percent, want.percent);
    assert_true(percent < 100); /* relative to the best, not to itself */

    sdx_results_destroy(&r);
    t_ops_index_close(&ix);
    t_rm_tree(tmpdir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_level_beyond_the_scan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
