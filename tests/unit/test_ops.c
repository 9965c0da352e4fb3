/*
 * test_ops: the daemon's op handlers in-process (tests/test_ops.h) on
 * the seed corpus, so tests/integration/test_daemon.c is not their only
 * test: ping, get (found, unknown, order), search (hits, snippets,
 * group, facets), suggest, context (the budget), stats (its keys, in
 * order, built in stats.c), `unavailable` without an index, and the
 * status -> wire code table.
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
#include "test_ops.h"
#include "test_tree.h"

static char tmpdir[] = "/tmp/sdx-test-ops-XXXXXX";
static t_ops_index_t ix;

static int
s_setup(void **state)
{
    (void)state;
    if (!mkdtemp(tmpdir))
        return -1;
    t_ops_index_open(&ix, tmpdir, SDX_SEED_CORPUS, NULL);
    return 0;
}

static int
s_teardown(void **state)
{
    (void)state;
    t_ops_index_close(&ix);
    return t_rm_tree(tmpdir);
}


/* Answer the request written in the notation TEXT with the ops. */
static const msgpack_object *
s_ask(t_answer_t *a, const char *text)
{
    msgpack_sbuffer sb;
    s_mp(&sb, "%s", text);
    t_ops_answer(&ix.ctx, &sb, text, &a->u, &a->bytes);
    return &a->u.data;
}

/* True when O is the str S. */
static bool
s_is(const msgpack_object *o, const char *s)
{
    return o && o->type == MSGPACK_OBJECT_STR &&
           o->via.str.size == strlen(s) &&
           memcmp(o->via.str.ptr, s, o->via.str.size) == 0;
}

static void
test_ping(void **state)
{
    (void)state;
    t_answer_t a;
    const msgpack_object *pong =
        sdx_msgpack_get(s_ask(&a, "{v:1, op:'ping'}"), "pong");
    assert_non_null(pong);
    assert_true(pong->type == MSGPACK_OBJECT_BOOLEAN && pong->via.boolean);
    t_answer_done(&a);
}

static void
test_get(void **state)
{
    (void)state;
    t_answer_t a;
    const msgpack_object *cs = sdx_msgpack_get(
        s_ask(&a, "{v:1, op:'get', ids:['5366/key-resp-06', 'nope/x', "
                  "'5365/key-resp-06']}"),
        "clauses");
    assert_non_null(cs);
    assert_int_equal(cs->via.array.size, 3);
    assert_true(s_is(sdx_msgpack_get(&cs->via.array.ptr[0], "id"),
                     "5366/key-resp-06"));
    assert_int_equal(cs->via.array.ptr[1].type, MSGPACK_OBJECT_NIL);
    assert_true(s_is(sdx_msgpack_get(&cs->via.array.ptr[2], "id"),
                     "5365/key-resp-06"));
    t_answer_done(&a);
}

static void
test_search(void **state)
{
    (void)state;
    t_answer_t a;
    const msgpack_object *r =
        s_ask(&a, "{v:1, op:'search', q:'root cause analysis'}");
    const msgpack_object *hits = sdx_msgpack_get(r, "hits");
    assert_non_null(hits);
    assert_true(hits->via.array.size > 1);
    const msgpack_object *first = &hits->via.array.ptr[0];
    assert_true(s_is(sdx_msgpack_get(first, "id"), "5365/key-resp-06"));
    assert_int_equal(sdx_msgpack_get(first, "rank")->via.u64, 1);
    const msgpack_object *snippet = sdx_msgpack_get(first, "snippet");
    assert_non_null(snippet);
    assert_non_null(memmem(snippet->via.str.ptr, snippet->via.str.size,
                           "<mark>", 6));
    assert_non_null(sdx_msgpack_get(r, "total"));
    assert_non_null(sdx_msgpack_get(r, "partial"));
    t_answer_done(&a);

    r = s_ask(&a, "{v:1, op:'search', q:'root cause analysis', "
                  "snippet:false, group:true, facets:true, limit:2}");
    hits = sdx_msgpack_get(r, "hits");
    assert_int_equal(hits->via.array.size, 2);
    assert_null(sdx_msgpack_get(&hits->via.array.ptr[0], "snippet"));
    const msgpack_object *levels =
        sdx_msgpack_get(&hits->via.array.ptr[0], "levels");
    assert_non_null(levels);
    assert_true(levels->via.array.size >= 1);
    assert_non_null(sdx_msgpack_get(sdx_msgpack_get(r, "facets"), "level"));
    assert_non_null(sdx_msgpack_get(r, "facets_exact"));
    t_answer_done(&a);
}

static void
test_suggest(void **state)
{
    (void)state;
    t_answer_t a;
    const msgpack_object *s = sdx_msgpack_get(
        s_ask(&a, "{v:1, op:'suggest', q:'troubleshoting'}"), "suggestion");
    assert_non_null(s);
    assert_int_equal(s->type, MSGPACK_OBJECT_STR);
    t_answer_done(&a);
    s = sdx_msgpack_get(s_ask(&a, "{v:1, op:'suggest', q:'analysis'}"),
                        "suggestion");
    assert_int_equal(s->type, MSGPACK_OBJECT_NIL); /* every word known */
    t_answer_done(&a);
}

static void
test_context(void **state)
{
    (void)state;
    t_answer_t a;
    const msgpack_object *r = s_ask(&a, "{v:1, op:'context', q:'root cause "
                                        "analysis', k:3, max_chars:300}");
    const msgpack_object *ps = sdx_msgpack_get(r, "passages");
    assert_non_null(ps);
    assert_true(ps->via.array.size >= 1 && ps->via.array.size <= 3);
    assert_true(sdx_msgpack_get(r, "chars")->via.u64 <= 300);
    assert_non_null(sdx_msgpack_get(&ps->via.array.ptr[0], "cite"));
    t_answer_done(&a);
}

static void
test_stats(void **state)
{
    (void)state;
    static const char *const keys[] = {
        "v", "ok", "took_us", "index", "docs", "uptime_s", "requests",
        "errors", "workers", "latency_us", "by_op", "by_code", "slow",
        "replies_dropped", "descriptors", "accept_failed",
        "cost_us", "revisions", "cache",
    };
    t_answer_t a;
    const msgpack_object *r = s_ask(&a, "{v:1, op:'stats'}");
    assert_int_equal(r->via.map.size, sizeof keys / sizeof keys[0]);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        assert_true(s_is(&r->via.map.ptr[i].key, keys[i]));
    assert_int_equal(sdx_msgpack_get(r, "docs")->via.u64, 105);
    assert_true(s_is(sdx_msgpack_get(sdx_msgpack_get(r, "index"), "path"),
                     ix.path));
    /* this process's descriptors: some open, under the soft limit */
    const msgpack_object *fds = sdx_msgpack_get(r, "descriptors");
    uint64_t open = sdx_msgpack_get(fds, "open")->via.u64;
    assert_true(open >= 3);
    assert_true(open <= sdx_msgpack_get(fds, "limit")->via.u64);
    /* no cache in this context: all zero, max_bytes 0 */
    assert_int_equal(sdx_msgpack_get(sdx_msgpack_get(r, "cache"),
                                     "max_bytes")->via.u64, 0);
    t_answer_done(&a);
}

static void
test_unavailable(void **state)
{
    (void)state;
    static const char *const frames[] = {
        "{v:1, op:'search', q:'x'}", "{v:1, op:'ladder', q:'x'}",
        "{v:1, op:'row', row:'x'}", "{v:1, op:'get', ids:['x']}",
        "{v:1, op:'context', q:'x'}", "{v:1, op:'suggest', q:'x'}",
    };
    sdx_ops_ctx_t ctx = ix.ctx;
    ctx.db = NULL;
    ctx.db_error = "no index at /nowhere";
    for (size_t i = 0; i < sizeof frames / sizeof frames[0]; i++) {
        msgpack_sbuffer sb;
        sdx_proto_error_t err;
        s_mp(&sb, "%s", frames[i]);
        assert_int_equal(t_ops_handle(&ctx, &sb, &err), SDX_E_UNAVAILABLE);
        assert_string_equal(err.message,
                            "no index loaded: no index at /nowhere");
    }
}

static void
test_status_codes(void **state)
{
    (void)state;
    assert_int_equal(sdx_ops_status_code(SDX_OK), SDX_E_NONE);
    assert_int_equal(sdx_ops_status_code(SDX_BAD_QUERY), SDX_E_BAD_QUERY);
    assert_int_equal(sdx_ops_status_code(SDX_UNAVAILABLE),
                     SDX_E_UNAVAILABLE);
    assert_int_equal(sdx_ops_status_code(SDX_MODIFIED), SDX_E_UNAVAILABLE);
    assert_int_equal(sdx_ops_status_code(SDX_XAPIAN), SDX_E_INTERNAL);
    assert_int_equal(sdx_ops_status_code(SDX_NOMEM), SDX_E_INTERNAL);
    assert_int_equal(sdx_ops_status_code((sdx_status_t)999), SDX_E_INTERNAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ping),
        cmocka_unit_test(test_get),
        cmocka_unit_test(test_search),
        cmocka_unit_test(test_suggest),
        cmocka_unit_test(test_context),
        cmocka_unit_test(test_stats),
        cmocka_unit_test(test_unavailable),
        cmocka_unit_test(test_status_codes),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
