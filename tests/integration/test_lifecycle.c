/*
 * test_lifecycle: specdexd as an operator runs it.
 *
 * Each test starts its own real daemon on an ipc socket in one temp dir
 * (the seed corpus indexed once) and stops it with SIGTERM, which must
 * end it with status 0 within two seconds.  Covered: the limits given
 * on the command line (each refused with the decoder's code and a
 * message naming it, and accepted at the bound), --help naming every
 * limit, bad values refused; `overloaded` past threads + queue; SIGTERM
 * finishing requests already taken; sd_notify (READY=1, STATUS= with the
 * revision, WATCHDOG=1 when WATCHDOG_USEC asks for it, STOPPING=1) read
 * from a datagram socket standing in for systemd's; the slow-query line
 * (timing and hash, no query text); `stats`' by_op, by_code, slow and
 * revisions.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cmocka.h>

#include "harness.h"

#define REPLY_TIMEOUT_MS 10000 /* one reply, milliseconds */
#define HEAVY_Q "c* OR s* OR p* OR a* OR d* OR e* OR m*" /* a costly q */

static harness_t h;

/* ---------------------------------------------------------------- */
/* Helpers                                                          */
/* ---------------------------------------------------------------- */

/* Pack a search for Q with LIMIT (0: none) and an id of PAD_ID bytes. */
static void
s_search(msgpack_sbuffer *sb, const char *q, unsigned limit, size_t pad_id)
{
    msgpack_packer pk;
    msgpack_sbuffer_init(sb);
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3 + (limit > 0) + (pad_id > 0));
    msgpack_pack_str_with_body(&pk, "v", 1);
    msgpack_pack_int(&pk, 1);
    msgpack_pack_str_with_body(&pk, "op", 2);
    msgpack_pack_str_with_body(&pk, "search", 6);
    msgpack_pack_str_with_body(&pk, "q", 1);
    msgpack_pack_str_with_body(&pk, q, strlen(q));
    if (limit) {
        msgpack_pack_str_with_body(&pk, "limit", 5);
        msgpack_pack_unsigned_int(&pk, limit);
    }
    if (pad_id) {
        char *pad = malloc(pad_id);
        assert_non_null(pad);
        memset(pad, 'x', pad_id);
        msgpack_pack_str_with_body(&pk, "id", 2);
        msgpack_pack_str_with_body(&pk, pad, pad_id);
        free(pad);
    }
}

/* Pack a get of N made-up ids. */
static void
s_get_ids(msgpack_sbuffer *sb, unsigned n)
{
    msgpack_packer pk;
    msgpack_sbuffer_init(sb);
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3);
    msgpack_pack_str_with_body(&pk, "v", 1);
    msgpack_pack_int(&pk, 1);
    msgpack_pack_str_with_body(&pk, "op", 2);
    msgpack_pack_str_with_body(&pk, "get", 3);
    msgpack_pack_str_with_body(&pk, "ids", 3);
    msgpack_pack_array(&pk, n);
    for (unsigned i = 0; i < n; i++)
        msgpack_pack_str_with_body(&pk, "nope", 4);
}

/* Send SB (destroyed) and return the reply (destroy it). */
static msgpack_unpacked
s_call(msgpack_sbuffer *sb)
{
    msgpack_unpacked u;
    int rc = h_once(&h, sb->data, sb->size, &u, REPLY_TIMEOUT_MS);
    msgpack_sbuffer_destroy(sb);
    assert_int_equal(rc, 0);
    return u;
}

static void
s_expect_ok(msgpack_sbuffer *sb)
{
    msgpack_unpacked u = s_call(sb);
    if (!h_ok(&u.data))
        h_print_error("expected ok", &u.data);
    assert_true(h_ok(&u.data));
    msgpack_unpacked_destroy(&u);
}

/* The reply must be error CODE with exactly MESSAGE. */
static void
s_expect_error(msgpack_sbuffer *sb, const char *code, const char *message)
{
    msgpack_unpacked u = s_call(sb);
    const msgpack_object *e = sdx_msgpack_get(&u.data, "error");
    if (!h_str_eq(sdx_msgpack_get(e, "code"), code) ||
        !h_str_eq(sdx_msgpack_get(e, "message"), message)) {
        h_print_error("got", &u.data);
        fprintf(stderr, "want: %s: %s\n", code, message);
    }
    assert_false(h_ok(&u.data));
    assert_true(h_str_eq(sdx_msgpack_get(e, "code"), code));
    assert_true(h_str_eq(sdx_msgpack_get(e, "message"), message));
    msgpack_unpacked_destroy(&u);
}

/* SIGTERM: exit 0 within two seconds. */
static void
s_stop_clean(void)
{
    uint64_t ms = 0;
    int status = h_stop(&h, &ms);
    if (status != 0) {
        fprintf(stderr, "specdexd: status %d after %llu ms\n", status,
                (unsigned long long)ms);
        h_cat(h.log_path);
    }
    assert_int_equal(status, 0);
    assert_true(ms <= H_STOP_TIMEOUT_MS);
}

/* Run specdexd with ARGS (NULL-terminated) to its end: its status, and
   its stdout in OUT (OUT_SIZE bytes) when OUT is not NULL. */
static int
s_run_daemon(char *out, size_t out_size, const char *a1, const char *a2)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s/specdexd' %s %s 2>/dev/null",
             SDX_BIN_DIR, a1, a2 ? a2 : "");
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = out ? fread(out, 1, out_size - 1, p) : 0;
    if (out)
        out[n] = '\0';
    char scratch[4096];
    while (fread(scratch, 1, sizeof scratch, p) > 0)
        ;
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * With --slow-ms 1, a request that took 1 ms or more (SLOWEST_US, the
 * reply's took_us: the same measurement the daemon compares) has a W:
 * line with its hash and never its text Q (no --log-queries).
 */
static void
s_check_slow_line(uint64_t slowest_us, const char *q)
{
    if (slowest_us >= 1000) {
        uint64_t t0 = h_now_ms();
        while (!h_file_has(h.log_path, "slow: search") &&
               h_now_ms() - t0 < 5000)
            h_sleep_ms(10);
        assert_true(h_file_has(h.log_path, "slow: search"));
        assert_true(h_file_has(h.log_path, " q#"));
        /* keyed: not the plain FNV-1a anyone could compute from a guess
           (the hash of an earlier release) */
        char unkeyed[32];
        snprintf(unkeyed, sizeof unkeyed, " q#%016llx",
                 (unsigned long long)sdx_fnv1a(SDX_FNV1A_INIT, q,
                                               strlen(q)));
        assert_false(h_file_has(h.log_path, unkeyed));
    } else {
        fprintf(stderr, "no search took 1 ms here; slow line unchecked\n");
    }
    assert_false(h_file_has(h.log_path, q));
}

/* ---------------------------------------------------------------- */
/* Tests                                                            */
/* ---------------------------------------------------------------- */

static void
test_help_and_bad_values(void **state)
{
    (void)state;
    char out[8192];
    static const char *const flags[] = {
        "--queue", "--max-frame", "--max-query", "--max-limit",
        "--max-ids", "--slow-ms", "--log-queries", "--threads",
    };
    assert_int_equal(s_run_daemon(out, sizeof out, "--help", NULL), 0);
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        if (!strstr(out, flags[i]))
            fprintf(stderr, "--help does not name %s\n", flags[i]);
        assert_non_null(strstr(out, flags[i]));
    }
    /* past the protocol's own limits, or zero: refused */
    assert_int_equal(s_run_daemon(NULL, 0, "--index /x --max-frame",
                                  "65537"), 2);
    assert_int_equal(s_run_daemon(NULL, 0, "--index /x --max-limit",
                                  "0"), 2);
    assert_int_equal(s_run_daemon(NULL, 0, "--index /x --max-ids",
                                  "101"), 2);
    assert_int_equal(s_run_daemon(NULL, 0, "--index /x --max-query",
                                  "x"), 2);
}

/*
 * The limits set on the command line: refused past, served at; the
 * stats that count them.
 */
static void
test_limits_and_stats(void **state)
{
    (void)state;
    msgpack_sbuffer sb;
    assert_true(h_spawn(&h, "--threads", "1", "--max-frame", "2048",
                        "--max-query", "16", "--max-limit", "5",
                        "--max-ids", "2", "--slow-ms", "1",
                        (char *)NULL) > 0);
    assert_int_equal(h_wait_ready(&h), 0);

    char want[128];
    s_search(&sb, "clinical", 0, 2100);
    assert_true(sb.size > 2048);
    snprintf(want, sizeof want, "request frame is %zu bytes; at most 2048",
             sb.size);
    s_expect_error(&sb, "too_large", want);
    s_search(&sb, "clinical", 0, 1900);
    s_expect_ok(&sb);

    s_search(&sb, "clinical systems", 0, 0);           /* 16 bytes */
    s_expect_ok(&sb);
    s_search(&sb, "clinical systemsX", 0, 0);          /* 17 bytes */
    s_expect_error(&sb, "bad_request",
                   "q: length 17 is out of range 1..16 bytes");

    s_search(&sb, "clinical", 5, 0);
    s_expect_ok(&sb);
    s_search(&sb, "clinical", 6, 0);
    s_expect_error(&sb, "bad_request", "limit: 6 is out of range 1..5");

    s_get_ids(&sb, 2);
    s_expect_ok(&sb);
    s_get_ids(&sb, 3);
    s_expect_error(&sb, "bad_request", "ids: 3 entries, expected 1..2");

    assert_false(h_file_has(h.log_path, "clinical"));

    /* stats: by_op, by_code, slow, revisions */
    h_pack_op(&sb, "stats", NULL);
    msgpack_unpacked u = s_call(&sb);
    assert_true(h_ok(&u.data));
    const msgpack_object *by_op = sdx_msgpack_get(&u.data, "by_op");
    const msgpack_object *by_code = sdx_msgpack_get(&u.data, "by_code");
    const msgpack_object *search = sdx_msgpack_get(by_op, "search");
    assert_int_equal(h_uint(sdx_msgpack_get(search, "requests")), 5);
    assert_int_equal(h_uint(sdx_msgpack_get(search, "errors")), 2);
    assert_int_equal(h_uint(sdx_msgpack_get(sdx_msgpack_get(by_op, "get"), "requests")), 2);
    assert_int_equal(h_uint(sdx_msgpack_get(sdx_msgpack_get(by_op, "get"), "errors")), 1);
    /* the broker's too_large never had its op read */
    assert_int_equal(h_uint(sdx_msgpack_get(sdx_msgpack_get(by_op, "none"), "errors")), 1);
    assert_int_equal(h_uint(sdx_msgpack_get(by_code, "too_large")), 1);
    assert_int_equal(h_uint(sdx_msgpack_get(by_code, "bad_request")), 3);
    assert_int_equal(h_uint(sdx_msgpack_get(by_code, "overloaded")), 0);
    assert_true(h_uint(sdx_msgpack_get(by_code, "ok")) >= 5);
    const msgpack_object *revs = sdx_msgpack_get(&u.data, "revisions");
    assert_non_null(revs);
    assert_int_equal(revs->type, MSGPACK_OBJECT_ARRAY);
    /* the one worker's handle */
    assert_int_equal(revs->via.array.size, 1);
    assert_int_equal(h_uint(&revs->via.array.ptr[0]), 1);
    assert_int_equal(h_uint(sdx_msgpack_get(sdx_msgpack_get(&u.data, "index"), "revision")),
                     1);
    const msgpack_object *lat = sdx_msgpack_get(&u.data, "latency_us");
    assert_true(h_uint(sdx_msgpack_get(lat, "p50")) <= h_uint(sdx_msgpack_get(lat, "p99")));
    assert_true(h_uint(sdx_msgpack_get(lat, "p99")) <= h_uint(sdx_msgpack_get(lat, "max")));
    msgpack_unpacked_destroy(&u);
    s_stop_clean();
}

/*
 * One worker, a queue of two: of many requests sent at once, at most
 * three are in flight; the rest are answered `overloaded` by the broker
 * itself (took_us 0: no worker touched them), with their id, and
 * nothing goes unanswered.  The heavy searches also make slow lines.
 */
static void
test_overloaded_at_once(void **state)
{
    (void)state;
    enum { CLIENTS = 40, ROUNDS = 5 };
    unsigned long ok = 0, overloaded = 0;
    uint64_t slowest_us = 0;
    assert_true(h_spawn(&h, "--threads", "1", "--queue", "2",
                        "--slow-ms", "1", (char *)NULL) > 0);
    assert_int_equal(h_wait_ready(&h), 0);
    msgpack_sbuffer sb;
    s_search(&sb, HEAVY_Q, 100, 8);
    for (int round = 0; round < ROUNDS && overloaded == 0; round++) {
        void *socks[CLIENTS];
        for (int i = 0; i < CLIENTS; i++)
            assert_non_null(socks[i] = h_socket(&h, ZMQ_DEALER,
                                                REPLY_TIMEOUT_MS));
        h_sleep_ms(50);   /* let every connection finish */
        for (int i = 0; i < CLIENTS; i++) {
            assert_true(zmq_send(socks[i], "", 0, ZMQ_SNDMORE) == 0);
            assert_true(zmq_send(socks[i], sb.data, sb.size, 0) >= 0);
        }
        unsigned long round_ok = 0;
        for (int i = 0; i < CLIENTS; i++) {
            char delim[8];
            zmq_msg_t m;
            msgpack_unpacked u;
            size_t off = 0;
            assert_int_equal(zmq_recv(socks[i], delim, sizeof delim, 0), 0);
            zmq_msg_init(&m);
            assert_true(zmq_msg_recv(&m, socks[i], 0) > 0);
            msgpack_unpacked_init(&u);
            assert_int_equal(msgpack_unpack_next(&u, zmq_msg_data(&m),
                                                 zmq_msg_size(&m), &off),
                             MSGPACK_UNPACK_SUCCESS);
            /* strings point into M: it stays open until U goes */
            assert_true(h_str_eq(sdx_msgpack_get(&u.data, "id"), "xxxxxxxx"));
            if (h_ok(&u.data)) {
                uint64_t took = h_uint(sdx_msgpack_get(&u.data, "took_us"));
                if (took > slowest_us)
                    slowest_us = took;
                round_ok++;
            } else {
                if (!h_str_eq(sdx_msgpack_get(sdx_msgpack_get(&u.data, "error"), "code"),
                              "overloaded"))
                    h_print_error("want ok or overloaded", &u.data);
                assert_true(h_str_eq(sdx_msgpack_get(sdx_msgpack_get(&u.data, "error"),
                                           "code"), "overloaded"));
                assert_int_equal(h_uint(sdx_msgpack_get(&u.data, "took_us")), 0);
                overloaded++;
            }
            msgpack_unpacked_destroy(&u);
            zmq_msg_close(&m);
            zmq_close(socks[i]);
        }
        assert_true(round_ok >= 1);
        ok += round_ok;
    }
    msgpack_sbuffer_destroy(&sb);
    fprintf(stderr, "overloaded: %lu ok, %lu overloaded\n", ok,
            overloaded);
    assert_true(overloaded > 0);
    s_check_slow_line(slowest_us, HEAVY_Q);

    h_pack_op(&sb, "stats", NULL);
    msgpack_unpacked u = s_call(&sb);
    assert_int_equal(h_uint(sdx_msgpack_get(sdx_msgpack_get(&u.data, "by_code"), "overloaded")),
                     overloaded);
    if (slowest_us >= 1000)
        assert_true(h_uint(sdx_msgpack_get(&u.data, "slow")) >= 1);
    msgpack_unpacked_destroy(&u);
    s_stop_clean();
}

/*
 * SIGTERM with requests in flight: the ones the daemon has taken are
 * all answered, then it exits 0 within two seconds.
 */
static void
test_sigterm_finishes_in_flight(void **state)
{
    (void)state;
    enum { CLIENTS = 30 };
    void *socks[CLIENTS];
    msgpack_sbuffer sb;
    assert_true(h_spawn(&h, "--threads", "1", "--queue", "64",
                        (char *)NULL) > 0);
    assert_int_equal(h_wait_ready(&h), 0);
    s_search(&sb, HEAVY_Q, 100, 0);
    for (int i = 0; i < CLIENTS; i++)
        assert_non_null(socks[i] = h_socket(&h, ZMQ_REQ, REPLY_TIMEOUT_MS));
    h_sleep_ms(50);       /* let every connection finish */
    for (int i = 0; i < CLIENTS; i++)
        assert_true(zmq_send(socks[i], sb.data, sb.size, 0) >= 0);
    msgpack_sbuffer_destroy(&sb);
    /* the broker reads each request as it comes; the one worker takes
       a few ms over each, so most are still queued at the signal */
    h_sleep_ms(20);
    assert_int_equal(kill(h.pid, SIGTERM), 0);
    for (int i = 0; i < CLIENTS; i++) {
        msgpack_unpacked u;
        zmq_msg_t m;
        size_t off = 0;
        zmq_msg_init(&m);
        int n = zmq_msg_recv(&m, socks[i], 0);
        if (n < 0)
            fprintf(stderr, "request %d: no reply after SIGTERM\n", i);
        assert_true(n > 0);
        msgpack_unpacked_init(&u);
        assert_int_equal(msgpack_unpack_next(&u, zmq_msg_data(&m),
                                             zmq_msg_size(&m), &off),
                         MSGPACK_UNPACK_SUCCESS);
        if (!h_ok(&u.data))
            h_print_error("after SIGTERM", &u.data);
        assert_true(h_ok(&u.data));
        msgpack_unpacked_destroy(&u);
        zmq_msg_close(&m);
        zmq_close(socks[i]);
    }
    /* already signalled: h_stop's SIGTERM is a second one, harmless */
    s_stop_clean();
    assert_true(h_file_has(h.log_path, "stopping: no new requests"));
}

/*
 * sd_notify, read from a datagram socket standing in for systemd's:
 * READY=1, STATUS= naming the revision, WATCHDOG=1 (WATCHDOG_USEC set),
 * STOPPING=1 on SIGTERM.
 */
static void
test_sd_notify(void **state)
{
    (void)state;
    char path[sizeof ((struct sockaddr_un *)0)->sun_path];
    char env_sock[160], msg[1024];
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    bool ready = false, status = false, stopping = false;
    int watchdogs = 0;

    snprintf(path, sizeof path, "%s/notify", h.tmpdir);
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    struct timeval tv = {0, 100 * 1000};
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
                                sizeof tv), 0);
    snprintf(env_sock, sizeof env_sock, "NOTIFY_SOCKET=%s", path);
    char *env[] = {env_sock, "WATCHDOG_USEC=200000", NULL};
    assert_true(h_spawn_env(&h, env, "--threads", "2", (char *)NULL) > 0);

    uint64_t t0 = h_now_ms();
    while (!(ready && status && watchdogs >= 2) &&
           h_now_ms() - t0 < 10000) {
        ssize_t n = recv(fd, msg, sizeof msg - 1, 0);
        if (n <= 0)
            continue;
        msg[n] = '\0';
        ready |= strstr(msg, "READY=1") != NULL;
        status |= strstr(msg, "STATUS=serving revision 1 ") != NULL;
        watchdogs += strstr(msg, "WATCHDOG=1") != NULL;
    }
    if (!(ready && status && watchdogs >= 2))
        h_cat(h.log_path);
    assert_true(ready);
    assert_true(status);
    assert_true(watchdogs >= 2);

    assert_int_equal(kill(h.pid, SIGTERM), 0);
    t0 = h_now_ms();
    while (!stopping && h_now_ms() - t0 < 5000) {
        ssize_t n = recv(fd, msg, sizeof msg - 1, 0);
        if (n <= 0)
            continue;
        msg[n] = '\0';
        stopping |= strstr(msg, "STOPPING=1") != NULL;
    }
    assert_true(stopping);
    s_stop_clean();
    close(fd);
}

/*
 * An index that exists and cannot be opened (a copy of the served
 * revision with its version file overwritten): for 3 s of searches
 * every 100 ms every reply is `unavailable` saying which revision and
 * what is wrong, with no path; the daemon backs off, so its log has at
 * most OPEN_LOG_BURST (5) lines about it, where retrying every 250 ms on
 * each of two handles logged 24.  The bound holds however slow the
 * machine (fewer retries, never more).  A fixed build swapped in is then
 * served.
 */
static void
test_broken_index_backs_off(void **state)
{
    (void)state;
    char dir[128], cmd[2048], needle[300];
    snprintf(dir, sizeof dir, "%s/broken", h.tmpdir);
    snprintf(cmd, sizeof cmd, "mkdir '%s' && cp -r '%s/current/' "
             "'%s/rev-000001' && ln -s rev-000001 '%s/current' && "
             "printf garbage > '%s/rev-000001/iamglass'", dir, h.index_dir,
             dir, dir, dir);
    assert_int_equal(system(cmd), 0);
    /* and what a killed build left: named, not removed (the daemon
       never writes the index) */
    snprintf(cmd, sizeof cmd, "mkdir '%s/.build-dead1'", dir);
    assert_int_equal(system(cmd), 0);
    /* the daemon on DIR alone: --index given twice would be two
       shards of one index (docs/DEPLOYMENT.md), not the last one */
    char served_dir[sizeof h.index_dir];
    memcpy(served_dir, h.index_dir, sizeof served_dir);
    snprintf(h.index_dir, sizeof h.index_dir, "%s", dir);
    pid_t pid = h_spawn(&h, "--threads", "1", (char *)NULL);
    memcpy(h.index_dir, served_dir, sizeof served_dir);
    assert_true(pid > 0);
    assert_int_equal(h_wait_ready(&h), 0);
    snprintf(needle, sizeof needle, "%s holds 1 .build-* directory", dir);
    assert_true(h_file_has(h.log_path, needle));
    snprintf(needle, sizeof needle, "%s/.build-dead1", dir);
    assert_int_equal(access(needle, F_OK), 0);
    const char *want = "no index loaded: cannot open revision 1: "
                       "DatabaseCorruptError: ";
    unsigned replies = 0;
    for (uint64_t t0 = h_now_ms(); h_now_ms() - t0 < 3000; replies++) {
        msgpack_sbuffer sb;
        s_search(&sb, "clinical", 0, 0);
        msgpack_unpacked u = s_call(&sb);
        const msgpack_object *e = sdx_msgpack_get(&u.data, "error");
        const msgpack_object *m = sdx_msgpack_get(e, "message");
        assert_true(h_str_eq(sdx_msgpack_get(e, "code"), "unavailable"));
        assert_non_null(m);
        assert_int_equal(m->type, MSGPACK_OBJECT_STR);
        if (m->via.str.size < strlen(want) ||
            memcmp(m->via.str.ptr, want, strlen(want)) != 0 ||
            memchr(m->via.str.ptr, '/', m->via.str.size))
            h_print_error("got", &u.data);
        assert_true(m->via.str.size >= strlen(want));
        assert_memory_equal(m->via.str.ptr, want, strlen(want));
        assert_null(memchr(m->via.str.ptr, '/', m->via.str.size));
        msgpack_unpacked_destroy(&u);
        h_sleep_ms(100);
    }
    snprintf(needle, sizeof needle, "cannot open %s/rev-000001", dir);
    unsigned lines = h_file_count(h.log_path, needle);
    fprintf(stderr, "broken index: %u replies, %u log lines\n", replies,
            lines);
    assert_true(lines >= 1);
    assert_true(lines <= 5);

    /* a good build swapped in is served at once, back-off or not */
    snprintf(cmd, sizeof cmd, "cp -r '%s/current/' '%s/rev-000002' && "
             "ln -s rev-000002 '%s/next' && mv -T '%s/next' '%s/current'",
             h.index_dir, dir, dir, dir, dir);
    assert_int_equal(system(cmd), 0);
    bool served = false;
    for (uint64_t t0 = h_now_ms(); !served && h_now_ms() - t0 < 10000;) {
        msgpack_sbuffer sb;
        s_search(&sb, "clinical", 0, 0);
        msgpack_unpacked u = s_call(&sb);
        served = h_ok(&u.data);
        msgpack_unpacked_destroy(&u);
        if (!served)
            h_sleep_ms(50);
    }
    assert_true(served);
    s_stop_clean();
}

static int
s_setup(void **state)
{
    (void)state;
    return h_init(&h, "lifecycle") == 0 && h_index(&h) == 0 ? 0 : -1;
}

static int
s_teardown(void **state)
{
    (void)state;
    h_fini(&h);
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help_and_bad_values),
        cmocka_unit_test(test_limits_and_stats),
        cmocka_unit_test(test_overloaded_at_once),
        cmocka_unit_test(test_sigterm_finishes_in_flight),
        cmocka_unit_test(test_sd_notify),
        cmocka_unit_test(test_broken_index_backs_off),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
