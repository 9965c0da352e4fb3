/*
 * test_replicas: libspecdex-client over three specdexd replicas.
 *
 * Three daemons serve one index, each on its own ipc socket; one client
 * of the library sends a steady load of searches to the three.  Mid-run
 * one daemon is killed with SIGKILL and, later, started again on the same
 * socket.  The caller sees no failed request (every call SDX_OK with an
 * ok reply: a silent replica costs one timeout, then the request goes to
 * the next), and before the run ends the restarted daemon answers again
 * (the client tries it when its back-off has passed): its own `stats`
 * counts the searches it answered, and so do the other two.
 *
 * Also: a replica that answers `unavailable` (no index) is passed over
 * for one that serves; with every replica gone the call ends
 * SDX_UNAVAILABLE naming how many were tried; bad back-offs are refused.
 *
 * The run is bounded by count (LOAD_MIN..LOAD_MAX requests); nothing is
 * asserted about how long anything took.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "harness.h"
#include "sdx_client.h"

#define NREPLICAS 3
#define TIMEOUT_MS 300     /* per attempt: a dead replica costs this */
#define BACKOFF_MIN_MS 100 /* short, so the run sees the restart */
#define BACKOFF_MAX_MS 400
#define LOAD_MIN 1500      /* requests at least */
#define LOAD_MAX 20000     /* requests at most, restarted one or not */
#define KILL_AT 300        /* the request before which one is killed */
#define RESTART_AT 600     /* ... and started again */
#define PACE_MS 2          /* between requests: a steady load */
#define WANT_BACK 20       /* replies the restarted one must give */

/* three objects, not an array: GCC then knows each path's bound */
static harness_t ha, hb, hc;
static harness_t *const h[NREPLICAS] = {&ha, &hb, &hc};

static int
setup(void **state)
{
    (void)state;
    static const char *names[NREPLICAS] = {"replica-a", "replica-b",
                                           "replica-c"};
    for (int i = 0; i < NREPLICAS; i++)
        if (h_init(h[i], names[i]) != 0)
            return -1;
    if (h_index(h[0]) != 0)
        return -1;
    /* one index, three daemons: replicas on one machine */
    for (int i = 1; i < NREPLICAS; i++)
        memcpy(h[i]->index_dir, h[0]->index_dir, sizeof h[i]->index_dir);
    for (int i = 0; i < NREPLICAS; i++)
        if (h_spawn(h[i], "--threads", "1", NULL) < 0 ||
            h_wait_ready(h[i]) != 0)
            return -1;
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    for (int i = 0; i < NREPLICAS; i++)
        h_fini(h[i]);
    return 0;
}

/* by_op.search.requests of H's `stats`, or UINT64_MAX. */
static uint64_t
searches_answered(harness_t *hh)
{
    msgpack_sbuffer sb;
    msgpack_unpacked u;
    uint64_t n = UINT64_MAX;
    h_pack_op(&sb, "stats", NULL);
    if (h_once(hh, sb.data, sb.size, &u, 2000) == 0 && h_ok(&u.data))
        n = h_uint(sdx_msgpack_get(
            sdx_msgpack_get(sdx_msgpack_get(&u.data, "by_op"), "search"),
            "requests"));
    msgpack_unpacked_destroy(&u);
    msgpack_sbuffer_destroy(&sb);
    return n;
}

static sdx_client_t *
client_of(harness_t *const *hs, size_t n)
{
    const char *eps[NREPLICAS];
    sdx_client_t *c = NULL;
    for (size_t i = 0; i < n; i++)
        eps[i] = hs[i]->endpoint;
    assert_int_equal(sdx_client_new(eps, n, TIMEOUT_MS, (int)n, &c),
                     SDX_OK);
    assert_int_equal(sdx_client_set_backoff(c, BACKOFF_MIN_MS,
                                            BACKOFF_MAX_MS), SDX_OK);
    return c;
}

/* Which of the harnesses sent C's last reply. */
static int
answered_by(const sdx_client_t *c)
{
    const char *ep = sdx_client_last_endpoint(c);
    for (int i = 0; ep && i < NREPLICAS; i++)
        if (strcmp(ep, h[i]->endpoint) == 0)
            return i;
    return -1;
}

static void
test_kill_and_restart_under_load(void **state)
{
    (void)state;
    sdx_client_t *c = client_of(h, NREPLICAS);
    sdx_query_t q = {.q = "root cause analysis", .limit = 5};
    uint64_t by_caller[NREPLICAS] = {0}; /* since the restart for [1] */
    unsigned failed = 0, back = 0, n;
    for (n = 0; n < LOAD_MAX && (n < LOAD_MIN || back < WANT_BACK); n++) {
        if (n == KILL_AT) {
            assert_int_equal(kill(h[1]->pid, SIGKILL), 0);
            waitpid(h[1]->pid, NULL, 0);
            h[1]->pid = -1;
        }
        if (n == RESTART_AT) {
            assert_true(h_spawn(h[1], "--threads", "1", NULL) > 0);
            by_caller[1] = 0;
        }
        sdx_result_t *r = NULL;
        sdx_status_t st = sdx_client_search(c, &q, &r);
        if (st != SDX_OK || r->nhits == 0) {
            if (failed++ < 5)
                fprintf(stderr, "request %u failed: %s: %s\n", n,
                        sdx_status_str(st), sdx_client_errmsg(c));
        } else {
            int who = answered_by(c);
            assert_true(who >= 0);
            by_caller[who]++;
            if (who == 1 && n >= RESTART_AT)
                back++;
        }
        sdx_result_destroy(&r);
        h_sleep_ms(PACE_MS);
    }
    fprintf(stderr, "%u requests; since the restart replica b answered "
            "%u; a %llu, b %llu, c %llu by the caller's count\n", n, back,
            (unsigned long long)by_caller[0],
            (unsigned long long)by_caller[1],
            (unsigned long long)by_caller[2]);
    assert_int_equal(failed, 0);
    assert_true(back >= WANT_BACK);
    /* each daemon's own count: the restarted one's began at its restart */
    for (int i = 0; i < NREPLICAS; i++) {
        uint64_t served = searches_answered(h[i]);
        fprintf(stderr, "replica %c: stats by_op.search.requests %llu\n",
                'a' + i, (unsigned long long)served);
        assert_true(served != UINT64_MAX);
        assert_true(served >= by_caller[i]);
        assert_true(served > 0);
    }
    sdx_client_destroy(&c);
}

/* A replica without an index answers `unavailable`: the next serves. */
static void
test_unavailable_replica_is_passed_over(void **state)
{
    (void)state;
    harness_t empty;
    assert_int_equal(h_init(&empty, "replica-empty"), 0);
    assert_true(h_spawn(&empty, "--threads", "1", NULL) > 0);
    assert_int_equal(h_wait_ready(&empty), 0);
    harness_t *pair[2] = {&empty, h[0]};
    sdx_client_t *c = client_of(pair, 2);
    sdx_query_t q = {.q = "root cause analysis", .limit = 1};
    for (int i = 0; i < 20; i++) {
        sdx_result_t *r = NULL;
        assert_int_equal(sdx_client_search(c, &q, &r), SDX_OK);
        assert_string_equal(sdx_client_last_endpoint(c), h[0]->endpoint);
        sdx_result_destroy(&r);
    }
    /* ... but alone, its answer is the answer */
    sdx_client_destroy(&c);
    c = client_of(pair, 1);
    sdx_result_t *r = NULL;
    assert_int_equal(sdx_client_search(c, &q, &r), SDX_REMOTE);
    assert_string_equal(sdx_client_error_code(c), "unavailable");
    sdx_result_destroy(&r);
    sdx_client_destroy(&c);
    assert_int_equal(h_stop(&empty, NULL), 0);
    h_fini(&empty);
}

static void
test_every_replica_gone(void **state)
{
    (void)state;
    const char *eps[] = {"ipc:///nonexistent/a.sock",
                         "ipc:///nonexistent/b.sock"};
    sdx_client_t *c = NULL;
    sdx_result_t *r = NULL;
    assert_int_equal(sdx_client_new(eps, 2, 50, 3, &c), SDX_OK);
    assert_int_equal(sdx_client_set_backoff(c, 0, 10), SDX_BAD_INPUT);
    assert_int_equal(sdx_client_set_backoff(c, 20, 10), SDX_BAD_INPUT);
    assert_int_equal(sdx_client_ping(c, &r), SDX_UNAVAILABLE);
    assert_null(r);
    assert_non_null(strstr(sdx_client_errmsg(c), "any of 2 endpoints"));
    assert_null(sdx_client_last_endpoint(c));
    assert_int_equal(sdx_client_replica_answered(c, 0), 0);
    sdx_client_destroy(&c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_replica_gone),
        cmocka_unit_test(test_unavailable_replica_is_passed_over),
        cmocka_unit_test(test_kill_and_restart_under_load),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
