/*
 * test_cache: the daemon's result cache (daemon/cache.c): a key made
 * from the decoded request ignores the id and the order of the frame's
 * keys and changes with the revision; for every key of every op, a
 * value that changes the reply (answered by the ops on the seed corpus)
 * changes the cache key; a body put is got back byte for byte; the byte
 * bound holds and the least recently used entry goes first; a cache of
 * 0 bytes keeps nothing; the counters `stats` reports.
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
        sdx_msgpack_pack_str(&pk, keys[i]);
        if (i == 0)
            msgpack_pack_int(&pk, 1);
        else if (i == 1)
            sdx_msgpack_pack_str(&pk, "search");
        else if (i == 2)
            sdx_msgpack_pack_str(&pk, q);
        else
            msgpack_pack_int(&pk, id);
    }
    if (limit) {
        sdx_msgpack_pack_str(&pk, "limit");
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

/*
 * A value for each request key: BASE where an op needs the key (every
 * base request has them), SAMPLE a value that changes the reply of
 * every op taking the key, on the seed corpus, from what the base
 * request answers.  A key the protocol adds must be given a row here
 * (or, when its default differs by op, as `syntax` does, one per op in
 * op_samples below): the test below fails for a key without one.
 */
static const struct sample {
    const char *key;           /* the request key */
    const char *base;          /* its value in base requests, or NULL */
    const char *sample;        /* a value that changes the reply */
} samples[] = {
    {"q", "'root cause analysis'", "'troubleshoting'"},
    {"offset", NULL, "1"},
    {"limit", NULL, "1"},
    {"levels", NULL, "[2]"},
    {"sections", NULL, "['ksa']"},
    {"rows", NULL, "['Key Resp 05']"},
    {"codes", NULL, "['5366']"},
    {"highlight", NULL, "['[', ']']"},
    {"snippet", NULL, "false"},
    {"group", NULL, "true"},
    {"facets", NULL, "true"},
    {"ids", "['5366/key-resp-06']", "['5365/key-resp-06']"},
    {"k", NULL, "1"},
    {"max_chars", NULL, "200"},
    {"row", "'Key Resp 06'", "'KSA 01'"},
    {"series", NULL, "'Some Other Series 1-5 XX'"},
    {"min_score", NULL, "0.0"},
    {"text", "'root cause analysis'", "'troubleshooting'"},
    {"level", "2", "3"},
    {"clause", NULL, "'5366/key-resp-06'"},
    {"exclude", NULL, "['5365/key-resp-06']"},
};

/* Keys whose default differs by op: a sample for each op. */
static const struct op_sample {
    const char *op;            /* the op */
    struct sample s;           /* its sample */
} op_samples[] = {
    {"search", {"syntax", NULL, "'plain'"}},
    {"context", {"syntax", NULL, "'query'"}},
    /* gaps needs a series: the seed's, and another */
    {"gaps", {"series", "'Clinical Applications Professional 1-5 HX'",
              "'Some Other Series 1-5 XX'"}},
};

static const struct sample *
s_sample(const char *key, sdx_op_t op)
{
    for (size_t i = 0; i < sizeof op_samples / sizeof op_samples[0]; i++)
        if (strcmp(op_samples[i].s.key, key) == 0 &&
            strcmp(op_samples[i].op, sdx_op_name(op)) == 0)
            return &op_samples[i].s;
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++)
        if (strcmp(samples[i].key, key) == 0)
            return &samples[i];
    return NULL;
}

/*
 * The request of OP with the base values of the keys it takes, KEY (when
 * not NULL) set to its sample: its cache key into *KEY_OUT, its reply
 * into *REPLY (both malloc'd).
 */
static void
s_answer(t_ops_index_t *ix, sdx_op_t op, const char *key, void **key_out,
         size_t *klen, void **reply, size_t *rlen)
{
    const char *names[32];
    char text[1024];
    size_t n = sdx_proto_op_keys(op, names, 32), len = 0;
    assert_true(n <= 32);
    len += (size_t)snprintf(text + len, sizeof text - len, "{v:1, op:'%s'",
                            sdx_op_name(op));
    for (size_t i = 0; i < n; i++) {
        const struct sample *s = s_sample(names[i], op);
        const char *value = key && strcmp(names[i], key) == 0 ? s->sample
                                                               : s->base;
        if (value)
            len += (size_t)snprintf(text + len, sizeof text - len,
                                    ", %s:%s", names[i], value);
    }
    snprintf(text + len, sizeof text - len, "}");

    msgpack_sbuffer sb;
    sdx_request_t req;
    sdx_proto_error_t err;
    sdx_body_t body;
    s_mp(&sb, "%s", text);
    if (sdx_request_decode(sb.data, sb.size, &req, &err) != SDX_E_NONE)
        fail_msg("%s: refused: %s", text, err.message);
    msgpack_sbuffer_destroy(&sb);
    *key_out = sdx_cache_key(&req, ix->path, 1, klen);
    assert_non_null(*key_out);
    sdx_body_init(&body);
    if (sdx_ops_handle(&ix->ctx, &req, &body, &err) != SDX_E_NONE)
        fail_msg("%s: %s: %s", text, sdx_errcode_str(err.code),
                 err.message);
    assert_int_equal(sdx_reply_ok(NULL, 0, 0, &body, reply, rlen), SDX_OK);
    sdx_body_clear(&body);
    sdx_request_clear(&req);
}

static void
test_every_key_changes_the_key(void **state)
{
    (void)state;
    char tmpdir[] = "/tmp/sdx-test-cache-XXXXXX";
    t_ops_index_t ix;
    assert_non_null(mkdtemp(tmpdir));
    t_ops_index_open(&ix, tmpdir, SDX_SEED_CORPUS, NULL);

    size_t checked = 0;
    for (int op = 0; op < SDX_OP_LAST; op++) {
        const char *names[32];
        size_t n = sdx_proto_op_keys((sdx_op_t)op, names, 32);
        if (!sdx_cache_op((sdx_op_t)op))
            continue;  /* never cached: the key does not matter */
        void *k0, *r0;
        size_t kl0, rl0;
        for (size_t i = 0; i < n; i++)
            if (!s_sample(names[i], (sdx_op_t)op))
                fail_msg("key \"%s\" of op %s has no sample in "
                         "test_cache.c", names[i], sdx_op_name(op));
        s_answer(&ix, (sdx_op_t)op, NULL, &k0, &kl0, &r0, &rl0);
        for (size_t i = 0; i < n; i++) {
            void *k1, *r1;
            size_t kl1, rl1;
            s_answer(&ix, (sdx_op_t)op, names[i], &k1, &kl1, &r1, &rl1);
            if (s_same(r0, rl0, r1, rl1))
                fail_msg("%s: the sample of \"%s\" does not change the "
                         "reply: pick one that does", sdx_op_name(op),
                         names[i]);
            if (s_same(k0, kl0, k1, kl1))
                fail_msg("%s: \"%s\" changes the reply but not the "
                         "cache key", sdx_op_name(op), names[i]);
            checked++;
            free(k1);
            free(r1);
        }
        free(k0);
        free(r0);
    }
    assert_true(checked >= 20);
    t_ops_index_close(&ix);
    t_rm_tree(tmpdir);
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
    sdx_msgpack_pack_str(&b->pk, s);
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
        cmocka_unit_test(test_every_key_changes_the_key),
        cmocka_unit_test(test_put_get_and_counters),
        cmocka_unit_test(test_bound_and_lru),
        cmocka_unit_test(test_off),
        cmocka_unit_test(test_ops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
