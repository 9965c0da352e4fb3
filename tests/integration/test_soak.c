/*
 * test_soak: memory stays flat under load.
 *
 * A real specdexd (2 workers, a queue deep enough that 32 clients never
 * see `overloaded`) serves the seed corpus on an ipc socket; 32 client
 * threads, each with its own REQ socket, send SOAK_REQUESTS requests in
 * all, a mix of ping, search (with and without snippets, filters,
 * wildcards, bad queries), get and stats, and check every reply.  The
 * daemon's VmRSS is read once the first WARMUP_REQUESTS are answered
 * (allocator arenas, Xapian's caches and ZeroMQ's pipes have reached
 * their working size by then) and again at the end: growth past
 * RSS_MARGIN_KIB would be a leak or an unbounded cache.
 *
 * In the sanitizer build (make test's second run) RSS means nothing
 * (ASan's quarantine holds freed memory on purpose), so the run is
 * shorter and the daemon's exit is the check instead: LeakSanitizer
 * reports at exit and makes the status non-zero on any leak.
 * SDX_SOAK_REQUESTS in the environment overrides the count.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>

#include <cmocka.h>

#include "harness.h"

#define CLIENTS 32             /* concurrent clients (the issue's) */
#define SOAK_REQUESTS (SANITIZED ? 20000 : 200000) /* requests in all */
#define WARMUP_REQUESTS (SOAK_REQUESTS / 10) /* before the first RSS */
#define RSS_MARGIN_KIB 2048    /* RSS growth allowed after warm-up, KiB */
#define REPLY_TIMEOUT_MS 10000 /* one reply; past it the request failed */

static harness_t h;
static unsigned long total;    /* requests to send in all */
static atomic_ulong claimed, answered, failed;
static atomic_ulong bad_queries; /* "AND OR" answered bad_query */

/* The requests, in the order a client cycles through them. */
static const char *const mix[] = {
    "{ping}",
    "clinical practice",
    "{ping}",
    "level:3 knowledge",
    "{get}",
    "{ping}",
    "patient* OR software",
    "{ping}",
    "\"root cause\" analysis",
    "{ping}",
    "AND OR",                  /* bad_query: an error reply is expected */
    "{ping}",
    "nothingmatchesthisword",
    "{ping}",
    "section:ksa systems",
    "{stats}",
};
#define NMIX (sizeof mix / sizeof mix[0])

static void
s_pack(msgpack_sbuffer *sb, const char *what, unsigned variant)
{
    msgpack_packer pk;
    if (strcmp(what, "{ping}") == 0 || strcmp(what, "{stats}") == 0) {
        h_pack_op(sb, what[1] == 'p' ? "ping" : "stats", NULL);
        return;
    }
    msgpack_sbuffer_init(sb);
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    if (strcmp(what, "{get}") == 0) {
        static const char *const ids[] = {"no-such-id", "another/missing"};
        msgpack_pack_map(&pk, 4);
        msgpack_pack_str_with_body(&pk, "v", 1);
        msgpack_pack_int(&pk, 1);
        msgpack_pack_str_with_body(&pk, "op", 2);
        msgpack_pack_str_with_body(&pk, "get", 3);
        msgpack_pack_str_with_body(&pk, "id", 2);
        msgpack_pack_unsigned_int(&pk, variant);
        msgpack_pack_str_with_body(&pk, "ids", 3);
        msgpack_pack_array(&pk, 2);
        for (int i = 0; i < 2; i++)
            msgpack_pack_str_with_body(&pk, ids[i], strlen(ids[i]));
        return;
    }
    msgpack_pack_map(&pk, 6);
    msgpack_pack_str_with_body(&pk, "v", 1);
    msgpack_pack_int(&pk, 1);
    msgpack_pack_str_with_body(&pk, "op", 2);
    msgpack_pack_str_with_body(&pk, "search", 6);
    msgpack_pack_str_with_body(&pk, "id", 2);
    msgpack_pack_unsigned_int(&pk, variant);
    msgpack_pack_str_with_body(&pk, "q", 1);
    msgpack_pack_str_with_body(&pk, what, strlen(what));
    msgpack_pack_str_with_body(&pk, "limit", 5);
    msgpack_pack_unsigned_int(&pk, 1 + variant % 20);
    msgpack_pack_str_with_body(&pk, "snippet", 7);
    if (variant % 2)
        msgpack_pack_true(&pk);
    else
        msgpack_pack_false(&pk);
}

/* The reply is what WHAT must get: ok, or bad_query for "AND OR". */
static bool
s_expected(const char *what, const msgpack_object *reply)
{
    if (strcmp(what, "AND OR") == 0)
        return !h_ok(reply) &&
               h_str_eq(sdx_msgpack_get(sdx_msgpack_get(reply, "error"), "code"), "bad_query");
    return h_ok(reply);
}

static void *
s_client(void *arg)
{
    unsigned number = (unsigned)(uintptr_t)arg;
    msgpack_sbuffer reqs[NMIX];
    void *sock = NULL;
    for (size_t k = 0; k < NMIX; k++)
        s_pack(&reqs[k], mix[k], number + (unsigned)k);
    while (atomic_fetch_add(&claimed, 1) < total) {
        unsigned long n = atomic_load(&answered) + number;
        size_t k = n % NMIX;
        msgpack_unpacked u;
        msgpack_unpacked_init(&u);
        if (!sock)
            sock = h_socket(&h, ZMQ_REQ, REPLY_TIMEOUT_MS);
        int rc = sock ? h_call(sock, reqs[k].data, reqs[k].size, &u) : -1;
        bool good = rc == 0 && s_expected(mix[k], &u.data);
        if (good && strcmp(mix[k], "AND OR") == 0)
            atomic_fetch_add(&bad_queries, 1);
        if (!good) {
            if (atomic_fetch_add(&failed, 1) < 5) {
                if (rc)
                    fprintf(stderr, "client %u: no reply\n", number);
                else
                    h_print_error(mix[k], &u.data);
            }
            if (rc && sock) {
                zmq_close(sock);
                sock = NULL;
            }
        }
        msgpack_unpacked_destroy(&u);
        atomic_fetch_add(&answered, 1);
    }
    if (sock)
        zmq_close(sock);
    for (size_t k = 0; k < NMIX; k++)
        msgpack_sbuffer_destroy(&reqs[k]);
    return NULL;
}

static int
s_setup(void **state)
{
    (void)state;
    const char *env = getenv("SDX_SOAK_REQUESTS");
    total = env ? strtoul(env, NULL, 10) : SOAK_REQUESTS;
    if (total < CLIENTS)
        total = CLIENTS;
    if (h_init(&h, "soak") != 0 || h_index(&h) != 0)
        return -1;
    /* threads + queue >= CLIENTS: nobody is ever `overloaded` */
    if (h_spawn(&h, "--threads", "2", "--queue", "64", (char *)NULL) < 0 ||
        h_wait_ready(&h) != 0)
        return -1;
    return 0;
}

static int
s_teardown(void **state)
{
    (void)state;
    h_fini(&h);
    return 0;
}

/* The daemon's own count: every request answered, none an error but
   the expected bad queries. */
static void
s_check_stats(unsigned long bad_queries)
{
    msgpack_sbuffer sb;
    msgpack_unpacked u;
    h_pack_op(&sb, "stats", NULL);
    assert_int_equal(h_once(&h, sb.data, sb.size, &u, REPLY_TIMEOUT_MS), 0);
    msgpack_sbuffer_destroy(&sb);
    assert_true(h_ok(&u.data));
    uint64_t requests = h_uint(sdx_msgpack_get(&u.data, "requests"));
    uint64_t errors = h_uint(sdx_msgpack_get(&u.data, "errors"));
    const msgpack_object *by_code = sdx_msgpack_get(&u.data, "by_code");
    fprintf(stderr, "soak: daemon counted %llu requests, %llu errors "
            "(bad_query %llu, overloaded %llu)\n",
            (unsigned long long)requests, (unsigned long long)errors,
            (unsigned long long)h_uint(sdx_msgpack_get(by_code, "bad_query")),
            (unsigned long long)h_uint(sdx_msgpack_get(by_code, "overloaded")));
    assert_true(requests >= total);
    assert_int_equal(errors, bad_queries);
    assert_int_equal(h_uint(sdx_msgpack_get(by_code, "bad_query")), bad_queries);
    assert_int_equal(h_uint(sdx_msgpack_get(by_code, "ok")), requests - errors);
    msgpack_unpacked_destroy(&u);
}

static void
test_soak(void **state)
{
    (void)state;
    pthread_t threads[CLIENTS];
    unsigned long rss_warm = 0, rss_peak = 0, rss_end;
    uint64_t t0 = h_now_ms();

    for (unsigned i = 0; i < CLIENTS; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, s_client,
                                        (void *)(uintptr_t)i), 0);
    while (atomic_load(&answered) < total) {
        unsigned long rss = h_rss_kib(h.pid);
        if (!rss_warm && atomic_load(&answered) >= total / 10)
            rss_warm = rss;
        if (rss_warm && rss > rss_peak)
            rss_peak = rss;
        h_sleep_ms(50);
    }
    for (unsigned i = 0; i < CLIENTS; i++)
        pthread_join(threads[i], NULL);
    rss_end = h_rss_kib(h.pid);
    if (!rss_warm)
        rss_warm = rss_end;
    uint64_t ms = h_now_ms() - t0;

    fprintf(stderr, "soak: %lu requests from %d clients in %llu ms "
            "(%llu/s), %lu failed; specdexd VmRSS %lu KiB after %lu "
            "requests, %lu KiB at the end (peak %lu KiB, growth %ld KiB, "
            "margin %d KiB%s)\n",
            total, CLIENTS, (unsigned long long)ms,
            (unsigned long long)(ms ? total * 1000 / ms : 0),
            atomic_load(&failed), rss_warm, total / 10, rss_end, rss_peak,
            (long)rss_end - (long)rss_warm, RSS_MARGIN_KIB,
            SANITIZED ? ", not checked under ASan" : "");
    assert_int_equal(atomic_load(&failed), 0);
    s_check_stats(atomic_load(&bad_queries));
    if (!SANITIZED)
        assert_true(rss_end <= rss_warm + RSS_MARGIN_KIB);

    /* a clean exit: under ASan, LeakSanitizer has found nothing */
    int status = h_stop(&h, NULL);
    if (status != 0 || h_file_has(h.log_path, "Sanitizer"))
        h_cat(h.log_path);
    assert_int_equal(status, 0);
    assert_false(h_file_has(h.log_path, "Sanitizer"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_soak),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
