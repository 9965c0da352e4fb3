/*
 * test_cache: the daemon's result cache (daemon/cache.c): a key made
 * from the decoded request ignores the id and the order of the frame's
 * keys and changes with every field and the revision; a body put is got
 * back byte for byte; the byte bound holds and the least recently used
 * entry goes first; a cache of 0 bytes keeps nothing; the counters
 * `stats` reports.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon.h"

/* Decode the msgpack of a request map written as bytes. */
static void
s_decode(const char *frame, size_t len, sdx_request_t *req)
{
    sdx_proto_error_t err;
    assert_int_equal(sdx_request_decode(frame, len, req, &err), SDX_E_NONE);
}

/* Pack {v:1, op:'search', q:Q, id:ID} with the keys in an order. */
static size_t
s_frame(char *out, size_t size, const char *q, int id, bool reversed,
        int limit)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, limit ? 5 : 4);
    const char *keys[] = {"v", "op", "q", "id"};
    for (int j = 0; j < 4; j++) {
        int i = reversed ? 3 - j : j;
        sdx_proto_pack_str(&pk, keys[i]);
        if (i == 0)
            msgpack_pack_int(&pk, 1);
        else if (i == 1)
            sdx_proto_pack_str(&pk, "search");
        else if (i == 2)
            sdx_proto_pack_str(&pk, q);
        else
            msgpack_pack_int(&pk, id);
    }
    if (limit) {
        sdx_proto_pack_str(&pk, "limit");
        msgpack_pack_int(&pk, limit);
    }
    assert_true(sb.size <= size);
    memcpy(out, sb.data, sb.size);
    size_t n = sb.size;
    msgpack_sbuffer_destroy(&sb);
    return n;
}

/* The key of a search request for Q with ID, on revision REV. */
static void *
s_key(const char *q, int id, bool reversed, int limit, uint64_t rev,
      size_t *len)
{
    char frame[256];
    sdx_request_t req;
    size_t n = s_frame(frame, sizeof frame, q, id, reversed, limit);
    s_decode(frame, n, &req);
    void *key = sdx_cache_key(&req, "/idx/rev-000001", rev, len);
    assert_non_null(key);
    sdx_request_clear(&req);
    return key;
}

static bool
s_same(const void *a, size_t alen, const void *b, size_t blen)
{
    return alen == blen && memcmp(a, b, alen) == 0;
}

static void
test_key_is_canonical(void **state)
{
    (void)state;
    size_t l1, l2, l3, l4, l5;
    void *k1 = s_key("root cause", 1, false, 0, 7, &l1);
    void *k2 = s_key("root cause", 99, true, 0, 7, &l2);  /* id, order */
    void *k3 = s_key("root cause", 1, false, 0, 8, &l3);  /* revision */
    void *k4 = s_key("root causes", 1, false, 0, 7, &l4); /* q */
    void *k5 = s_key("root cause", 1, false, 3, 7, &l5);  /* limit */
    assert_true(s_same(k1, l1, k2, l2));
    assert_false(s_same(k1, l1, k3, l3));
    assert_false(s_same(k1, l1, k4, l4));
    assert_false(s_same(k1, l1, k5, l5));
    free(k1);
    free(k2);
    free(k3);
    free(k4);
    free(k5);
}

/* A body of one pair, "hits": a string of N bytes of C. */
static void
s_body(sdx_body_t *b, size_t n, char c)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, c, n);
    s[n] = '\0';
    sdx_body_init(b);
    sdx_body_key(b, "hits");
    sdx_proto_pack_str(&b->pk, s);
    free(s);
}

static void
test_put_get_and_counters(void **state)
{
    (void)state;
    sdx_cache_t *c = sdx_cache_new(1 << 20);
    sdx_body_t in, out;
    sdx_cache_stats_t st;
    assert_non_null(c);
    assert_true(sdx_cache_enabled(c));

    sdx_body_init(&out);
    assert_false(sdx_cache_get(c, "k1", 2, &out));
    s_body(&in, 100, 'a');
    sdx_cache_put(c, "k1", 2, &in);
    assert_true(sdx_cache_get(c, "k1", 2, &out));
    assert_int_equal(out.nkeys, 1);
    assert_int_equal(out.sb.size, in.sb.size);
    assert_memory_equal(out.sb.data, in.sb.data, in.sb.size);
    sdx_body_clear(&out);
    assert_false(sdx_cache_get(c, "k2", 2, &out));
    assert_int_equal(out.sb.size, 0);

    sdx_cache_snapshot(c, &st);
    assert_int_equal(st.hits, 1);
    assert_int_equal(st.misses, 2);
    assert_int_equal(st.entries, 1);
    assert_true(st.bytes >= 100 && st.bytes <= 1000);
    assert_int_equal(st.max_bytes, 1 << 20);
    sdx_body_clear(&in);
    sdx_body_clear(&out);
    sdx_cache_destroy(&c);
    assert_null(c);
    sdx_cache_destroy(&c);  /* NULL-safe */
}

static void
test_bound_and_lru(void **state)
{
    (void)state;
    const size_t bound = 64 * 1024;
    sdx_cache_t *c = sdx_cache_new(bound);
    sdx_body_t b, out;
    sdx_cache_stats_t st;
    char key[16];
    assert_non_null(c);
    s_body(&b, 1000, 'x');
    /* 200 bodies of about 1 KB into 64 KB: the bound holds */
    for (int i = 0; i < 200; i++) {
        snprintf(key, sizeof key, "key%d", i);
        sdx_cache_put(c, key, strlen(key), &b);
        if (i >= 1) {
            /* key0 is used after every put: it stays */
            sdx_body_init(&out);
            assert_true(sdx_cache_get(c, "key0", 4, &out));
            sdx_body_clear(&out);
        }
        sdx_cache_snapshot(c, &st);
        assert_true(st.bytes <= bound);
    }
    assert_true(st.entries > 30 && st.entries < 64);
    sdx_body_init(&out);
    assert_false(sdx_cache_get(c, "key1", 4, &out));   /* evicted */
    assert_true(sdx_cache_get(c, "key199", 6, &out)); /* most recent */
    sdx_body_clear(&out);
    sdx_body_clear(&b);

    /* a body over an eighth of the bound is not kept */
    s_body(&b, bound / 4, 'y');
    sdx_cache_put(c, "big", 3, &b);
    sdx_body_init(&out);
    assert_false(sdx_cache_get(c, "big", 3, &out));
    sdx_body_clear(&out);
    sdx_body_clear(&b);
    sdx_cache_destroy(&c);
}

static void
test_off(void **state)
{
    (void)state;
    sdx_cache_t *c = sdx_cache_new(0);
    sdx_body_t b, out;
    sdx_cache_stats_t st;
    assert_non_null(c);
    assert_false(sdx_cache_enabled(c));
    assert_false(sdx_cache_enabled(NULL));
    s_body(&b, 10, 'z');
    sdx_cache_put(c, "k", 1, &b);
    sdx_body_init(&out);
    assert_false(sdx_cache_get(c, "k", 1, &out));
    sdx_cache_snapshot(c, &st);
    assert_int_equal(st.entries, 0);
    assert_int_equal(st.hits + st.misses, 0);
    assert_int_equal(st.max_bytes, 0);
    sdx_body_clear(&out);
    sdx_body_clear(&b);
    sdx_cache_destroy(&c);
}

static void
test_ops(void **state)
{
    (void)state;
    assert_true(sdx_cache_op(SDX_OP_SEARCH));
    assert_true(sdx_cache_op(SDX_OP_LADDER));
    assert_true(sdx_cache_op(SDX_OP_ROW));
    assert_true(sdx_cache_op(SDX_OP_GET));
    assert_true(sdx_cache_op(SDX_OP_CONTEXT));
    assert_true(sdx_cache_op(SDX_OP_SUGGEST));
    assert_false(sdx_cache_op(SDX_OP_PING));
    assert_false(sdx_cache_op(SDX_OP_STATS));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_is_canonical),
        cmocka_unit_test(test_put_get_and_counters),
        cmocka_unit_test(test_bound_and_lru),
        cmocka_unit_test(test_off),
        cmocka_unit_test(test_ops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
