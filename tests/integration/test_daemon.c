/*
 * test_daemon: the real specdexd on a real ipc socket, driven by REQ and
 * DEALER clients the way protocol-v1.md describes them.
 *
 * The group setup indexes the shipped corpus into a mkdtemp directory
 * with the real specdex-index, starts specdexd there (fork + exec) and
 * waits until it answers ping.  The tests then send good requests
 * (ping, search, filters, get, stats), every kind of bad frame the
 * contract names (each must get its error code, and the daemon must go
 * on serving: a ping follows each one), and finally SIGTERM, after which
 * the daemon must exit 0 within two seconds.
 */
#define _GNU_SOURCE /* memmem, usleep */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <zmq.h>

#include "harness.h"
#include "mp_notation.h"
#include "sdx_clause.h"
#include "sdx_proto.h"

#define REPLY_TIMEOUT_MS 3000  /* one reply, milliseconds */
#define START_TIMEOUT_MS 10000 /* daemon start-up, milliseconds */
#define STOP_TIMEOUT_MS 2000   /* SIGTERM to exit, milliseconds */
#define MAX_REPLY_FRAMES 16    /* frames of one reply we keep */

static char tmpdir[] = "/tmp/sdx-test-daemon-XXXXXX";
static char index_dir[256]; /* tmpdir/index */
static char endpoint[300];  /* ipc://tmpdir/sock */
static char log_path[300];  /* the daemon's stderr */
static pid_t daemon_pid = -1;
static void *zctx;

/* ---------------------------------------------------------------- */
/* Talking to the daemon                                            */
/* ---------------------------------------------------------------- */

/* A reply: its frames' sizes and the last frame unpacked. */
typedef struct reply {
    size_t nframes;                    /* frames received */
    size_t sizes[MAX_REPLY_FRAMES];    /* their sizes */
    char *data;                        /* the last frame */
    size_t len;                        /* its size */
    msgpack_unpacked msg;              /* DATA unpacked */
    const msgpack_object *root;        /* the reply map */
} reply_t;

static void
s_reply_free(reply_t *r)
{
    msgpack_unpacked_destroy(&r->msg);
    free(r->data);
    memset(r, 0, sizeof *r);
}

/* A raw frame to send. */
typedef struct frame {
    const void *data;                  /* bytes */
    size_t len;                        /* size */
} frame_t;

static void *
s_socket(int type)
{
    int linger = 0, timeout = REPLY_TIMEOUT_MS;
    void *s = zmq_socket(zctx, type);
    assert_non_null(s);
    assert_int_equal(zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger),
                     0);
    assert_int_equal(zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout,
                                    sizeof timeout), 0);
    assert_int_equal(zmq_setsockopt(s, ZMQ_SNDTIMEO, &timeout,
                                    sizeof timeout), 0);
    assert_int_equal(zmq_connect(s, endpoint), 0);
    return s;
}

/*
 * Send FRAMES on a fresh socket of TYPE and read the whole reply into
 * *r.  Returns 0, or -1 on timeout (nothing in *r).
 */
static int
s_exchange(int type, const frame_t *frames, size_t n, reply_t *r,
           int timeout_ms)
{
    void *s = s_socket(type);
    memset(r, 0, sizeof *r);
    msgpack_unpacked_init(&r->msg);
    if (timeout_ms > 0)
        zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms);
    for (size_t i = 0; i < n; i++)
        assert_true(zmq_send(s, frames[i].data, frames[i].len,
                             i + 1 < n ? ZMQ_SNDMORE : 0) >= 0);
    int more = 1;
    while (more) {
        zmq_msg_t part;
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, s, 0) < 0) {
            zmq_msg_close(&part);
            zmq_close(s);
            free(r->data);
            r->data = NULL;
            return -1;
        }
        more = zmq_msg_more(&part);
        if (r->nframes < MAX_REPLY_FRAMES)
            r->sizes[r->nframes] = zmq_msg_size(&part);
        r->nframes++;
        free(r->data);
        r->len = zmq_msg_size(&part);
        r->data = malloc(r->len + 1);
        assert_non_null(r->data);
        memcpy(r->data, zmq_msg_data(&part), r->len);
        zmq_msg_close(&part);
    }
    zmq_close(s);
    size_t off = 0;
    assert_int_equal(msgpack_unpack_next(&r->msg, r->data, r->len, &off),
                     MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(off, r->len);
    assert_int_equal(r->msg.data.type, MSGPACK_OBJECT_MAP);
    r->root = &r->msg.data;
    return 0;
}

/* REQ: one frame out, one reply back (asserted). */
static void
s_req_raw(const void *data, size_t len, reply_t *r)
{
    frame_t f = {data, len};
    assert_int_equal(s_exchange(ZMQ_REQ, &f, 1, r, 0), 0);
    assert_int_equal(r->nframes, 1);
}

/* REQ with a request in the notation. */
__attribute__((format(printf, 2, 3))) static void
s_req(reply_t *r, const char *fmt, ...)
{
    char text[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    msgpack_sbuffer sb;
    s_mp(&sb, "%s", text);
    s_req_raw(sb.data, sb.size, r);
    msgpack_sbuffer_destroy(&sb);
}

static void
s_assert_str(const msgpack_object *o, const char *want)
{
    if (!h_str_eq(o, want))
        print_error("want \"%s\", got %.*s\n", want,
                    o && o->type == MSGPACK_OBJECT_STR
                        ? (int)o->via.str.size : 6,
                    o && o->type == MSGPACK_OBJECT_STR ? o->via.str.ptr
                                                       : "(none)");
    assert_true(h_str_eq(o, want));
}

static uint64_t
s_uint(const msgpack_object *o)
{
    assert_non_null(o);
    assert_int_equal(o->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
    return o->via.u64;
}

/* Every reply has v: 1, ok, took_us. */
static void
s_assert_envelope(const reply_t *r)
{
    assert_int_equal(s_uint(sdx_msgpack_get(r->root, "v")), 1);
    assert_non_null(sdx_msgpack_get(r->root, "ok"));
    assert_int_equal(sdx_msgpack_get(r->root, "ok")->type, MSGPACK_OBJECT_BOOLEAN);
    s_uint(sdx_msgpack_get(r->root, "took_us"));
}

static void
s_assert_ok(const reply_t *r)
{
    s_assert_envelope(r);
    const msgpack_object *e = sdx_msgpack_get(sdx_msgpack_get(r->root, "error"), "message");
    if (!sdx_msgpack_get(r->root, "ok")->via.boolean && e)
        print_error("error reply: %.*s\n", (int)e->via.str.size,
                    e->via.str.ptr);
    assert_true(sdx_msgpack_get(r->root, "ok")->via.boolean);
}

/* An error reply with CODE; its message must be non-empty. */
static void
s_assert_error(const reply_t *r, const char *code)
{
    s_assert_envelope(r);
    assert_false(sdx_msgpack_get(r->root, "ok")->via.boolean);
    const msgpack_object *e = sdx_msgpack_get(r->root, "error");
    assert_non_null(e);
    s_assert_str(sdx_msgpack_get(e, "code"), code);
    const msgpack_object *m = sdx_msgpack_get(e, "message");
    assert_non_null(m);
    assert_int_equal(m->type, MSGPACK_OBJECT_STR);
    assert_true(m->via.str.size > 0);
}

/* The error's message must be exactly MESSAGE. */
static void
s_assert_message(const reply_t *r, const char *message)
{
    s_assert_str(sdx_msgpack_get(sdx_msgpack_get(r->root, "error"), "message"), message);
}

/* The daemon still answers. */
static void
s_assert_alive(void)
{
    reply_t r;
    s_req(&r, "{v:1, op:'ping'}");
    s_assert_ok(&r);
    assert_true(sdx_msgpack_get(r.root, "pong")->via.boolean);
    s_reply_free(&r);
}

/* ---------------------------------------------------------------- */
/* Setup: index, daemon                                             */
/* ---------------------------------------------------------------- */

/* Run ARGV (NULL-terminated) with stdout/stderr to LOG; its status. */
static int
s_run(char *const argv[], const char *log)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * Start specdexd on the current ENDPOINT with THREADS workers and, when
 * QUEUE is not NULL, that --queue; stderr to LOG_PATH.  Returns its pid.
 */
static pid_t
s_spawn(const char *threads, const char *queue)
{
    char daemon[512];
    snprintf(daemon, sizeof daemon, "%s/specdexd", SDX_BIN_DIR);
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0)
        dup2(fd, 2);
    if (queue)
        execl(daemon, daemon, "--index", index_dir, "--endpoint", endpoint,
              "--threads", threads, "-v", "--queue", queue, (char *)NULL);
    else
        execl(daemon, daemon, "--index", index_dir, "--endpoint", endpoint,
              "--threads", threads, "-v", (char *)NULL);
    _exit(127);
}

/*
 * Wait until the daemon *PID on ENDPOINT answers ping, with a fresh REQ
 * socket per try (Lazy Pirate).  Returns 0, or -1 when it died (*pid is
 * then -1) or never answered.
 */
static int
s_wait_ready(pid_t *pid)
{
    msgpack_sbuffer sb;
    int rc = -1;
    s_mp(&sb, "{v:1, op:'ping'}");
    frame_t f = {sb.data, sb.size};
    for (int waited = 0; waited < START_TIMEOUT_MS; waited += 100) {
        reply_t r;
        if (s_exchange(ZMQ_REQ, &f, 1, &r, 100) == 0) {
            s_reply_free(&r);
            rc = 0;
            break;
        }
        msgpack_unpacked_destroy(&r.msg);
        if (waitpid(*pid, NULL, WNOHANG) == *pid) {
            *pid = -1;
            break;
        }
    }
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

/* SIGTERM *PID and wait up to STOP_TIMEOUT_MS; its exit status or -1. */
static int
s_stop(pid_t *pid, long *ms)
{
    int status = 0;
    pid_t got = 0;
    uint64_t t0 = sdx_now_us();
    if (kill(*pid, SIGTERM) != 0)
        return -1;
    for (int waited = 0; waited < STOP_TIMEOUT_MS && got == 0; waited += 10) {
        got = waitpid(*pid, &status, WNOHANG);
        if (got == 0)
            usleep(10 * 1000);
    }
    *ms = (long)((sdx_now_us() - t0) / 1000);
    if (got != *pid) {
        kill(*pid, SIGKILL);
        waitpid(*pid, NULL, 0);
        *pid = -1;
        return -1;
    }
    *pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int
s_setup(void **state)
{
    (void)state;
    char indexer[512], corpus[512], ilog[300];
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(index_dir, sizeof index_dir, "%s/index", tmpdir);
    snprintf(endpoint, sizeof endpoint, "ipc://%s/sock", tmpdir);
    snprintf(log_path, sizeof log_path, "%s/daemon.log", tmpdir);
    snprintf(ilog, sizeof ilog, "%s/index.log", tmpdir);
    snprintf(indexer, sizeof indexer, "%s/specdex-index", SDX_BIN_DIR);
    snprintf(corpus, sizeof corpus, "%s", SDX_SEED_CORPUS);

    char *iargv[] = {indexer, "-o", index_dir, corpus, NULL};
    if (s_run(iargv, ilog) != 0) {
        fprintf(stderr, "specdex-index failed:\n");
        h_cat(ilog);
        return -1;
    }

    daemon_pid = s_spawn("2", NULL);
    if (daemon_pid < 0)
        return -1;
    zctx = zmq_ctx_new();
    if (!zctx)
        return -1;
    if (s_wait_ready(&daemon_pid) == 0)
        return 0;
    fprintf(stderr, "specdexd did not answer ping:\n");
    h_cat(log_path);
    return -1;
}

static int
s_teardown(void **state)
{
    (void)state;
    char cmd[512];
    if (daemon_pid > 0) {
        kill(daemon_pid, SIGKILL);
        waitpid(daemon_pid, NULL, 0);
        daemon_pid = -1;
    }
    if (zctx)
        zmq_ctx_term(zctx);
    if (getenv("SDX_KEEP_TMP")) {
        fprintf(stderr, "kept %s\n", tmpdir);
        return 0;
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---------------------------------------------------------------- */
/* Good requests                                                    */
/* ---------------------------------------------------------------- */

static void
test_ping(void **state)
{
    (void)state;
    reply_t r;
    s_req(&r, "{v:1, op:'ping', id:'req-1'}");
    s_assert_ok(&r);
    assert_true(sdx_msgpack_get(r.root, "pong")->via.boolean);
    s_assert_str(sdx_msgpack_get(r.root, "id"), "req-1");
    s_reply_free(&r);

    /* any id comes back as it went */
    s_req(&r, "{id:{a:[1,-2,'x',nil,true]}, v:1, op:'ping'}");
    s_assert_ok(&r);
    const msgpack_object *id = sdx_msgpack_get(r.root, "id");
    assert_int_equal(sdx_msgpack_get(id, "a")->via.array.size, 5);
    assert_int_equal(sdx_msgpack_get(id, "a")->via.array.ptr[1].via.i64, -2);
    s_reply_free(&r);
}

static void
test_dealer(void **state)
{
    (void)state;
    msgpack_sbuffer sb;
    reply_t r;
    s_mp(&sb, "{v:1, op:'ping', id:7}");

    /* with the empty delimiter REQ would add */
    frame_t two[] = {{"", 0}, {sb.data, sb.size}};
    assert_int_equal(s_exchange(ZMQ_DEALER, two, 2, &r, 0), 0);
    assert_int_equal(r.nframes, 2);
    assert_int_equal(r.sizes[0], 0);
    s_assert_ok(&r);
    assert_int_equal(s_uint(sdx_msgpack_get(r.root, "id")), 7);
    s_reply_free(&r);

    /* without it: the reply has no delimiter either */
    frame_t one[] = {{sb.data, sb.size}};
    assert_int_equal(s_exchange(ZMQ_DEALER, one, 1, &r, 0), 0);
    assert_int_equal(r.nframes, 1);
    s_assert_ok(&r);
    s_reply_free(&r);

    /* extra routing frames are echoed before the reply */
    frame_t three[] = {{"", 0}, {"hop", 3}, {sb.data, sb.size}};
    assert_int_equal(s_exchange(ZMQ_DEALER, three, 3, &r, 0), 0);
    assert_int_equal(r.nframes, 3);
    assert_int_equal(r.sizes[1], 3);
    s_assert_ok(&r);
    s_reply_free(&r);
    msgpack_sbuffer_destroy(&sb);
}

/* Check the hit at INDEX of a search reply. */
static const msgpack_object *
s_hit(const reply_t *r, size_t index)
{
    const msgpack_object *hits = sdx_msgpack_get(r->root, "hits");
    assert_non_null(hits);
    assert_int_equal(hits->type, MSGPACK_OBJECT_ARRAY);
    assert_true(hits->via.array.size > index);
    return &hits->via.array.ptr[index];
}

static void
test_search(void **state)
{
    (void)state;
    reply_t r;
    s_req(&r, "{v:1, op:'search', q:'root cause analysis', id:1}");
    s_assert_ok(&r);
    assert_true(s_uint(sdx_msgpack_get(r.root, "total")) >= 2);
    const msgpack_object *h0 = s_hit(&r, 0), *h1 = s_hit(&r, 1);
    s_assert_str(sdx_msgpack_get(h0, "id"), "5365/key-resp-06");
    s_assert_str(sdx_msgpack_get(h1, "id"), "5366/key-resp-06");
    assert_int_equal(s_uint(sdx_msgpack_get(h0, "level")), 1);
    assert_int_equal(s_uint(sdx_msgpack_get(h1, "level")), 2);
    assert_int_equal(s_uint(sdx_msgpack_get(h0, "rank")), 1);
    assert_int_equal(s_uint(sdx_msgpack_get(h1, "rank")), 2);
    s_assert_str(sdx_msgpack_get(h0, "row"), "Key Resp 06");
    s_assert_str(sdx_msgpack_get(h0, "section"), "responsibility");
    assert_int_equal(s_uint(sdx_msgpack_get(h0, "item")), 6);
    s_assert_str(sdx_msgpack_get(h0, "job_code"), "5365");
    assert_int_equal(sdx_msgpack_get(h0, "score")->type, MSGPACK_OBJECT_FLOAT64);
    assert_true(sdx_msgpack_get(h0, "score")->via.f64 > 0);
    assert_true(s_uint(sdx_msgpack_get(h0, "percent")) <= 100);
    const msgpack_object *snip = sdx_msgpack_get(h0, "snippet");
    assert_non_null(snip);
    assert_int_equal(snip->type, MSGPACK_OBJECT_STR);
    assert_non_null(memmem(snip->via.str.ptr, snip->via.str.size,
                           "<mark>", 6));
    s_reply_free(&r);

    /* paging: offset 1 starts at the second hit, rank 2 */
    s_req(&r, "{v:1, op:'search', q:'root cause analysis', offset:1, "
              "limit:1, snippet:false, highlight:['[',']']}");
    s_assert_ok(&r);
    assert_int_equal(sdx_msgpack_get(r.root, "hits")->via.array.size, 1);
    s_assert_str(sdx_msgpack_get(s_hit(&r, 0), "id"), "5366/key-resp-06");
    assert_int_equal(s_uint(sdx_msgpack_get(s_hit(&r, 0), "rank")), 2);
    assert_null(sdx_msgpack_get(s_hit(&r, 0), "snippet"));
    s_reply_free(&r);

    /* custom markers */
    s_req(&r, "{v:1, op:'search', q:'root cause analysis', limit:1, "
              "highlight:['[[',']]']}");
    s_assert_ok(&r);
    snip = sdx_msgpack_get(s_hit(&r, 0), "snippet");
    assert_non_null(memmem(snip->via.str.ptr, snip->via.str.size, "[[", 2));
    s_reply_free(&r);
}

static void
test_search_filters(void **state)
{
    (void)state;
    reply_t r;
    s_req(&r, "{v:1, op:'search', q:'root cause analysis', levels:[2]}");
    s_assert_ok(&r);
    s_assert_str(sdx_msgpack_get(s_hit(&r, 0), "id"), "5366/key-resp-06");
    const msgpack_object *hits = sdx_msgpack_get(r.root, "hits");
    for (uint32_t i = 0; i < hits->via.array.size; i++)
        assert_int_equal(s_uint(sdx_msgpack_get(&hits->via.array.ptr[i], "level")), 2);
    s_reply_free(&r);

    s_req(&r, "{v:1, op:'search', q:'skills', sections:['ksa'], "
              "levels:[4,5], limit:50}");
    s_assert_ok(&r);
    hits = sdx_msgpack_get(r.root, "hits");
    assert_true(hits->via.array.size > 0);
    for (uint32_t i = 0; i < hits->via.array.size; i++) {
        const msgpack_object *h = &hits->via.array.ptr[i];
        s_assert_str(sdx_msgpack_get(h, "section"), "ksa");
        assert_true(s_uint(sdx_msgpack_get(h, "level")) >= 4);
    }
    s_reply_free(&r);

    s_req(&r, "{v:1, op:'search', q:'analysis', rows:['key resp 06'], "
              "codes:['5366'], limit:50}");
    s_assert_ok(&r);
    hits = sdx_msgpack_get(r.root, "hits");
    assert_int_equal(hits->via.array.size, 1);
    s_assert_str(sdx_msgpack_get(&hits->via.array.ptr[0], "id"), "5366/key-resp-06");
    s_reply_free(&r);

    /* the query language's fields */
    s_req(&r, "{v:1, op:'search', q:'root cause analysis level:2'}");
    s_assert_ok(&r);
    s_assert_str(sdx_msgpack_get(s_hit(&r, 0), "id"), "5366/key-resp-06");
    s_reply_free(&r);

    /* a filter that matches nothing */
    s_req(&r, "{v:1, op:'search', q:'root cause', codes:['0000']}");
    s_assert_ok(&r);
    assert_int_equal(s_uint(sdx_msgpack_get(r.root, "total")), 0);
    assert_int_equal(sdx_msgpack_get(r.root, "hits")->via.array.size, 0);
    s_reply_free(&r);
}

static void
test_get(void **state)
{
    (void)state;
    reply_t r;
    s_req(&r, "{v:1, op:'get', ids:['5365/key-resp-06', 'no/such', "
              "'5366/key-resp-06']}");
    s_assert_ok(&r);
    const msgpack_object *c = sdx_msgpack_get(r.root, "clauses");
    assert_non_null(c);
    assert_int_equal(c->via.array.size, 3);
    s_assert_str(sdx_msgpack_get(&c->via.array.ptr[0], "id"), "5365/key-resp-06");
    s_assert_str(sdx_msgpack_get(&c->via.array.ptr[0], "title"),
                 "Clinical Applications Professional 1 HX");
    assert_int_equal(c->via.array.ptr[1].type, MSGPACK_OBJECT_NIL);
    assert_int_equal(s_uint(sdx_msgpack_get(&c->via.array.ptr[2], "level")), 2);
    const msgpack_object *text = sdx_msgpack_get(&c->via.array.ptr[0], "text");
    assert_non_null(memmem(text->via.str.ptr, text->via.str.size,
                           "root cause analysis", 19));
    s_reply_free(&r);
}

static void
test_stats(void **state)
{
    (void)state;
    reply_t r;
    s_req(&r, "{v:1, op:'stats'}");
    s_assert_ok(&r);
    assert_true(s_uint(sdx_msgpack_get(r.root, "docs")) > 50);
    const msgpack_object *idx = sdx_msgpack_get(r.root, "index");
    assert_non_null(idx);
    const msgpack_object *path = sdx_msgpack_get(idx, "path");
    assert_non_null(path);
    assert_non_null(memmem(path->via.str.ptr, path->via.str.size,
                           "rev-000001", 10));
    assert_int_equal(s_uint(sdx_msgpack_get(idx, "revision")), 1);
    assert_int_equal(sdx_msgpack_get(idx, "built_at")->type, MSGPACK_OBJECT_STR);
    s_uint(sdx_msgpack_get(r.root, "uptime_s"));
    assert_true(s_uint(sdx_msgpack_get(r.root, "requests")) >= 5);
    s_uint(sdx_msgpack_get(r.root, "errors"));
    assert_int_equal(s_uint(sdx_msgpack_get(r.root, "workers")), 2);
    const msgpack_object *lat = sdx_msgpack_get(r.root, "latency_us");
    uint64_t p50 = s_uint(sdx_msgpack_get(lat, "p50"));
    uint64_t p99 = s_uint(sdx_msgpack_get(lat, "p99"));
    uint64_t max = s_uint(sdx_msgpack_get(lat, "max"));
    s_uint(sdx_msgpack_get(lat, "p90"));
    assert_true(p50 <= p99 && p99 <= max && max > 0);
    s_reply_free(&r);
}

/* ---------------------------------------------------------------- */
/* Bad requests: each answered, the daemon still serving            */
/* ---------------------------------------------------------------- */

static void
test_bad_frames(void **state)
{
    (void)state;
    reply_t r;

    s_req_raw("\xc1garbage", 8, &r);
    s_assert_error(&r, "bad_request");
    s_reply_free(&r);
    s_assert_alive();

    s_req_raw("", 0, &r);
    s_assert_error(&r, "bad_request");
    s_reply_free(&r);
    s_assert_alive();

    s_req_raw("\xdd\xff\xff\xff\xff", 5, &r);  /* a 4G-entry array */
    s_assert_error(&r, "bad_request");
    s_reply_free(&r);
    s_assert_alive();

    s_req(&r, "[1, 2, 3]");
    s_assert_error(&r, "bad_request");
    s_assert_message(&r, "the request must be a msgpack map, got array");
    s_reply_free(&r);
    s_assert_alive();

    s_req(&r, "{v:1, op:'search', q:'x', limit:'ten', id:5}");
    s_assert_error(&r, "bad_request");
    s_assert_message(&r, "limit: expected int, got str");
    assert_int_equal(s_uint(sdx_msgpack_get(r.root, "id")), 5);
    s_reply_free(&r);
    s_assert_alive();

    s_req(&r, "{v:1, op:'search', q:'x', level:[1]}");
    s_assert_error(&r, "bad_request");
    s_assert_message(&r, "key \"level\" is not accepted by op \"search\" "
                         "(did you mean \"levels\"?)");
    s_reply_free(&r);
    s_assert_alive();

    s_req(&r, "{v:1, op:'search', q:'x', levels:[1,2,7]}");
    s_assert_error(&r, "bad_request");
    s_assert_message(&r, "levels[2]: 7 is out of range 1..5");
    s_reply_free(&r);
    s_req(&r, "{v:1, op:'search', q:'x', limit:101}");
    s_assert_message(&r, "limit: 101 is out of range 1..100");
    s_reply_free(&r);
    s_req(&r, "{v:1, op:'get', ids:[]}");
    s_assert_error(&r, "bad_request");
    s_reply_free(&r);
    s_assert_alive();

    s_req(&r, "{v:2, op:'ping'}");
    s_assert_error(&r, "unsupported_version");
    s_reply_free(&r);
    s_req(&r, "{v:1, op:'frobnicate'}");
    s_assert_error(&r, "unknown_op");
    s_reply_free(&r);
    s_req(&r, "{v:1, op:'ladder', q:'root cause', offset:1}");
    s_assert_error(&r, "bad_request");
    s_assert_message(&r, "key \"offset\" is not accepted by op \"ladder\"");
    s_reply_free(&r);
    s_req(&r, "{v:1, op:'search', q:'x', facets:'yes'}");
    s_assert_error(&r, "bad_request");
    s_reply_free(&r);
    s_assert_alive();
}

static void
test_too_large(void **state)
{
    (void)state;
    reply_t r;
    size_t len = 70 * 1024;
    char *big = malloc(len);
    assert_non_null(big);
    /* a valid map with a 70 KiB q: the size is refused before decoding */
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3);
    msgpack_pack_str_with_body(&pk, "v", 1);
    msgpack_pack_int(&pk, 1);
    msgpack_pack_str_with_body(&pk, "op", 2);
    msgpack_pack_str_with_body(&pk, "search", 6);
    msgpack_pack_str_with_body(&pk, "q", 1);
    memset(big, 'a', len);
    msgpack_pack_str_with_body(&pk, big, len);
    s_req_raw(sb.data, sb.size, &r);
    s_assert_error(&r, "too_large");
    s_reply_free(&r);
    s_assert_alive();

    /* and plain bytes */
    s_req_raw(big, len, &r);
    s_assert_error(&r, "too_large");
    s_reply_free(&r);
    s_assert_alive();

    /* a q over 1024 bytes in a small frame is a bad request */
    big[2000] = '\0';
    s_req(&r, "{v:1, op:'search', q:'%s'}", big);
    s_assert_error(&r, "bad_request");
    s_assert_message(&r, "q: length 2000 is out of range 1..1024 bytes");
    s_reply_free(&r);
    msgpack_sbuffer_destroy(&sb);
    free(big);
    s_assert_alive();
}

static void
test_odd_frames(void **state)
{
    (void)state;
    reply_t r;
    msgpack_sbuffer sb;
    s_mp(&sb, "{v:1, op:'ping'}");

    /* the request first, junk after it: the last frame is the body */
    frame_t junk_last[] = {{"", 0}, {sb.data, sb.size}, {"junk", 4}};
    assert_int_equal(s_exchange(ZMQ_DEALER, junk_last, 3, &r, 0), 0);
    s_assert_error(&r, "bad_request");
    s_reply_free(&r);

    /* an empty last frame */
    frame_t empty[] = {{"", 0}, {"", 0}};
    assert_int_equal(s_exchange(ZMQ_DEALER, empty, 2, &r, 0), 0);
    assert_int_equal(r.nframes, 2);
    s_assert_error(&r, "bad_request");
    s_reply_free(&r);

    /* too many frames: answered after the delimiter */
    frame_t many[SDX_PROTO_MAX_FRAMES + 1];
    many[0] = (frame_t){"", 0};
    for (size_t i = 1; i < SDX_PROTO_MAX_FRAMES + 1; i++)
        many[i] = (frame_t){sb.data, sb.size};
    assert_int_equal(s_exchange(ZMQ_DEALER, many, SDX_PROTO_MAX_FRAMES + 1,
                                &r, 0), 0);
    assert_int_equal(r.nframes, 2);
    s_assert_error(&r, "bad_request");
    s_reply_free(&r);

    /* exactly the limit the client may send: the ROUTER's identity is
       not counted, so [""][6 routing frames][body] is answered, every
       envelope frame echoed */
    frame_t eight[SDX_PROTO_MAX_FRAMES];
    eight[0] = (frame_t){"", 0};
    for (size_t i = 1; i < SDX_PROTO_MAX_FRAMES - 1; i++)
        eight[i] = (frame_t){"hop", 3};
    eight[SDX_PROTO_MAX_FRAMES - 1] = (frame_t){sb.data, sb.size};
    assert_int_equal(s_exchange(ZMQ_DEALER, eight, SDX_PROTO_MAX_FRAMES,
                                &r, 0), 0);
    assert_int_equal(r.nframes, SDX_PROTO_MAX_FRAMES);
    s_assert_ok(&r);
    s_reply_free(&r);

    /* a big envelope */
    static char hop[2000];
    frame_t fat[] = {{"", 0}, {hop, sizeof hop}, {sb.data, sb.size}};
    assert_int_equal(s_exchange(ZMQ_DEALER, fat, 3, &r, 0), 0);
    assert_int_equal(r.nframes, 2);
    s_assert_error(&r, "bad_request");
    s_reply_free(&r);

    msgpack_sbuffer_destroy(&sb);
    s_assert_alive();
}

static void
test_bad_query(void **state)
{
    (void)state;
    reply_t r;
    /* a boolean operator with nothing on one side does not parse; the
       message is Xapian's, without the query text */
    s_req(&r, "{v:1, op:'search', q:'x AND AND y'}");
    s_assert_error(&r, "bad_query");
    s_assert_message(&r, "q: Syntax: <expression> AND <expression>");
    s_reply_free(&r);
    s_assert_alive();
    s_req(&r, "{v:1, op:'search', q:'NOT'}");
    s_assert_error(&r, "bad_query");
    s_reply_free(&r);
    s_assert_alive();

    /* odd queries that Xapian parses all the same */
    s_req(&r, "{v:1, op:'search', q:'(( \"unclosed 1..5 foo:bar *'}");
    s_assert_ok(&r);
    s_reply_free(&r);
    s_assert_alive();
}

/* ---------------------------------------------------------------- */
/* Issue 3: ladder, row, group, facets, suggest, synonyms, context  */
/* ---------------------------------------------------------------- */

/* The array at KEY of R's reply, asserted, with at least MIN entries. */
static const msgpack_object *
s_array(const msgpack_object *map, const char *key, uint32_t min)
{
    const msgpack_object *a = sdx_msgpack_get(map, key);
    assert_non_null(a);
    assert_int_equal(a->type, MSGPACK_OBJECT_ARRAY);
    assert_true(a->via.array.size >= min);
    return a;
}

/* The int array O equals WANT[0..n). */
static void
s_assert_ints(const msgpack_object *o, const int *want, size_t n)
{
    assert_non_null(o);
    assert_int_equal(o->type, MSGPACK_OBJECT_ARRAY);
    assert_int_equal(o->via.array.size, n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(s_uint(&o->via.array.ptr[i]), want[i]);
}

static void
test_ladder(void **state)
{
    (void)state;
    static const char *const codes[] = {"5365", "5366", "5367", "6372",
                                        "6373"};
    /* the acceptance: Key Resp 06 at levels 1 and 2, its row
       across all five; and the acronym finds the same ladder */
    static const char *const queries[] = {"root cause analysis", "RCA"};
    for (size_t q = 0; q < 2; q++) {
        reply_t r;
        s_req(&r, "{v:1, op:'ladder', q:'%s'}", queries[q]);
        s_assert_ok(&r);
        const msgpack_object *ladder = s_array(r.root, "ladder", 5);
        assert_int_equal(ladder->via.array.size, 5);
        for (uint32_t l = 0; l < 5; l++) {
            const msgpack_object *step = &ladder->via.array.ptr[l];
            const msgpack_object *hit = sdx_msgpack_get(step, "hit");
            assert_int_equal(s_uint(sdx_msgpack_get(step, "level")), l + 1);
            assert_non_null(hit);
            if (l < 2) {
                char id[32];
                snprintf(id, sizeof id, "%s/key-resp-06", codes[l]);
                s_assert_str(sdx_msgpack_get(hit, "id"), id);
                assert_int_equal(s_uint(sdx_msgpack_get(hit, "level")), l + 1);
                assert_int_equal(sdx_msgpack_get(hit, "score")->type,
                                 MSGPACK_OBJECT_FLOAT64);
            } else {
                assert_int_equal(hit->type, MSGPACK_OBJECT_NIL);
            }
        }
        s_assert_str(sdx_msgpack_get(r.root, "row"), "Key Resp 06");
        const msgpack_object *cells = s_array(r.root, "row_cells", 5);
        assert_int_equal(cells->via.array.size, 5);
        for (uint32_t l = 0; l < 5; l++) {
            const msgpack_object *c = &cells->via.array.ptr[l];
            char id[32];
            snprintf(id, sizeof id, "%s/key-resp-06", codes[l]);
            assert_int_equal(s_uint(sdx_msgpack_get(c, "level")), l + 1);
            s_assert_str(sdx_msgpack_get(c, "id"), id);
            assert_int_equal(sdx_msgpack_get(c, "title")->type, MSGPACK_OBJECT_STR);
            assert_int_equal(sdx_msgpack_get(c, "text")->type, MSGPACK_OBJECT_STR);
        }
        assert_false(sdx_msgpack_get(r.root, "partial")->via.boolean);
        s_reply_free(&r);
    }

    /* a row filter, and a query with no match: all nil, no row */
    reply_t r;
    s_req(&r, "{v:1, op:'ladder', q:'skills', rows:['ksa 02']}");
    s_assert_ok(&r);
    s_assert_str(sdx_msgpack_get(r.root, "row"), "KSA 02");
    s_reply_free(&r);
    s_req(&r, "{v:1, op:'ladder', q:'zzzyyyxxx'}");
    s_assert_ok(&r);
    const msgpack_object *ladder = s_array(r.root, "ladder", 5);
    for (uint32_t l = 0; l < 5; l++)
        assert_int_equal(sdx_msgpack_get(&ladder->via.array.ptr[l], "hit")->type,
                         MSGPACK_OBJECT_NIL);
    assert_int_equal(sdx_msgpack_get(r.root, "row")->type, MSGPACK_OBJECT_NIL);
    assert_int_equal(s_array(r.root, "row_cells", 0)->via.array.size, 0);
    s_reply_free(&r);
    s_req(&r, "{v:1, op:'ladder', q:'x AND AND y'}");
    s_assert_error(&r, "bad_query");
    s_reply_free(&r);
    s_req(&r, "{v:1, op:'ladder'}");
    s_assert_error(&r, "bad_request");
    s_reply_free(&r);
}

static void
test_row(void **state)
{
    (void)state;
    reply_t r;
    /* any case and spacing; Key Resp 08 has no cell at levels 1 and 2 */
    s_req(&r, "{v:1, op:'row', row:'KEY  resp 08'}");
    s_assert_ok(&r);
    /* the label as the corpus writes it, each cell's series */
    s_assert_str(sdx_msgpack_get(r.root, "row"), "Key Resp 08");
    const msgpack_object *cells = s_array(r.root, "cells", 5);
    assert_int_equal(cells->via.array.size, 5);
    const msgpack_object *c0 = &cells->via.array.ptr[0];
    assert_int_equal(s_uint(sdx_msgpack_get(c0, "level")), 1);
    s_assert_str(sdx_msgpack_get(c0, "series"),
                 "Clinical Applications Professional 1-5 HX");
    s_assert_str(sdx_msgpack_get(c0, "id"), "5365/key-resp-08");
    s_assert_str(sdx_msgpack_get(c0, "title"),
                 "Clinical Applications Professional 1 HX");
    assert_int_equal(sdx_msgpack_get(c0, "text")->type, MSGPACK_OBJECT_NIL);
    assert_int_equal(sdx_msgpack_get(&cells->via.array.ptr[1], "text")->type,
                     MSGPACK_OBJECT_NIL);
    const msgpack_object *c2 = &cells->via.array.ptr[2];
    s_assert_str(sdx_msgpack_get(c2, "id"), "5367/key-resp-08");
    assert_int_equal(sdx_msgpack_get(c2, "text")->type, MSGPACK_OBJECT_STR);
    s_reply_free(&r);

    /* with the series, by name; a numbered repeated row */
    s_req(&r, "{v:1, op:'row', row:'special condition 2', "
              "series:'Clinical Applications Professional 1-5 HX'}");
    s_assert_ok(&r);
    cells = s_array(r.root, "cells", 5);
    assert_int_equal(cells->via.array.size, 5);
    s_assert_str(sdx_msgpack_get(&cells->via.array.ptr[4], "id"),
                 "6373/special-condition-2");
    s_reply_free(&r);

    /* no such row, no such series: no cells */
    s_req(&r, "{v:1, op:'row', row:'key resp 99'}");
    s_assert_ok(&r);
    assert_int_equal(s_array(r.root, "cells", 0)->via.array.size, 0);
    assert_int_equal(sdx_msgpack_get(r.root, "row")->type,
                     MSGPACK_OBJECT_NIL);
    s_reply_free(&r);
    /* an unknown series is an error naming it, never an empty answer */
    s_req(&r, "{v:1, op:'row', row:'key resp 06', series:'nothing'}");
    s_assert_error(&r, "bad_request");
    s_assert_message(&r, "series: no series \"nothing\" in the index "
                         "(specdex series lists them)");
    s_reply_free(&r);
    s_req(&r, "{v:1, op:'search', q:'vendors', series:'nothing'}");
    s_assert_error(&r, "bad_request");
    s_assert_message(&r, "series: no series \"nothing\" in the index "
                         "(specdex series lists them)");
    s_reply_free(&r);
    s_req(&r, "{v:1, op:'ladder', q:'vendors', series:'9999'}");
    s_assert_error(&r, "bad_request");
    s_assert_message(&r, "series: no series \"9999\" in the index "
                         "(specdex series lists them)");
    s_reply_free(&r);
    s_req(&r, "{v:1, op:'search', q:'vendors', series:'--'}");
    s_assert_error(&r, "bad_request");
    s_assert_message(&r, "series: a series needs a letter or digit");
    s_reply_free(&r);
    /* 250 digits: a request may hold them, no series title can */
    s_req(&r, "{v:1, op:'search', q:'x', series:'%0250d'}", 0);
    s_assert_error(&r, "bad_request");
    s_assert_message(&r, "series: too long for a series title");
    s_reply_free(&r);
    /* by its title in any case, or by a job code of any level */
    s_req(&r, "{v:1, op:'row', row:'key resp 06', "
              "series:'CLINICAL applications professional 1-5 hx'}");
    s_assert_ok(&r);
    assert_int_equal(s_array(r.root, "cells", 0)->via.array.size, 5);
    s_reply_free(&r);
    s_req(&r, "{v:1, op:'row', row:'key resp 06', series:'6373'}");
    s_assert_ok(&r);
    assert_int_equal(s_array(r.root, "cells", 0)->via.array.size, 5);
    s_reply_free(&r);
    /* the base of a numbered label is not a row */
    s_req(&r, "{v:1, op:'row', row:'key resp'}");
    s_assert_ok(&r);
    assert_int_equal(s_array(r.root, "cells", 0)->via.array.size, 0);
    s_reply_free(&r);

    s_req(&r, "{v:1, op:'row', row:'!!'}");
    s_assert_error(&r, "bad_request");
    s_assert_message(&r, "row: a row label needs a letter or digit");
    s_reply_free(&r);
    s_req(&r, "{v:1, op:'row'}");
    s_assert_error(&r, "bad_request");
    s_reply_free(&r);
    s_assert_alive();
}

static void
test_group(void **state)
{
    (void)state;
    static const int all[] = {1, 2, 3, 4, 5}, upper[] = {2, 3, 4, 5};
    reply_t r;
    s_req(&r, "{v:1, op:'search', q:'background check', group:true}");
    s_assert_ok(&r);
    const msgpack_object *hits = s_array(r.root, "hits", 1);
    assert_int_equal(hits->via.array.size, 1);
    s_assert_str(sdx_msgpack_get(&hits->via.array.ptr[0], "id"),
                 "5365/special-condition-2");
    s_assert_ints(sdx_msgpack_get(&hits->via.array.ptr[0], "levels"), all, 5);
    s_reply_free(&r);

    /* Environment differs at level 1 ("requires.)."): two groups */
    s_req(&r, "{v:1, op:'search', q:'\"classroom setting\"', group:true, "
              "snippet:false}");
    s_assert_ok(&r);
    hits = s_array(r.root, "hits", 2);
    assert_int_equal(hits->via.array.size, 2);
    s_assert_ints(sdx_msgpack_get(&hits->via.array.ptr[0], "levels"), all, 1);
    s_assert_ints(sdx_msgpack_get(&hits->via.array.ptr[1], "levels"), upper, 4);
    s_reply_free(&r);

    /* a level filter narrows the levels of a group */
    s_req(&r, "{v:1, op:'search', q:'background check', group:true, "
              "levels:[2,4]}");
    s_assert_ok(&r);
    static const int two_four[] = {2, 4};
    s_assert_ints(sdx_msgpack_get(s_hit(&r, 0), "levels"), two_four, 2);
    s_assert_str(sdx_msgpack_get(s_hit(&r, 0), "id"), "5366/special-condition-2");
    s_reply_free(&r);

    /* ungrouped: five hits, no levels key */
    s_req(&r, "{v:1, op:'search', q:'background check'}");
    s_assert_ok(&r);
    assert_int_equal(s_array(r.root, "hits", 5)->via.array.size, 5);
    assert_null(sdx_msgpack_get(s_hit(&r, 0), "levels"));
    s_reply_free(&r);
}

static void
test_facets(void **state)
{
    (void)state;
    reply_t r;
    s_req(&r, "{v:1, op:'search', q:'skills', facets:true, limit:1}");
    s_assert_ok(&r);
    uint64_t total = s_uint(sdx_msgpack_get(r.root, "total"));
    const msgpack_object *f = sdx_msgpack_get(r.root, "facets");
    assert_non_null(f);
    const msgpack_object *level = sdx_msgpack_get(f, "level");
    const msgpack_object *section = sdx_msgpack_get(f, "section");
    assert_non_null(level);
    assert_non_null(section);
    uint64_t sum_l = 0, sum_s = 0;
    for (uint32_t i = 0; i < level->via.map.size; i++)
        sum_l += s_uint(&level->via.map.ptr[i].val);
    for (uint32_t i = 0; i < section->via.map.size; i++)
        sum_s += s_uint(&section->via.map.ptr[i].val);
    assert_int_equal(sum_l, total);
    assert_int_equal(sum_s, total);
    assert_true(s_uint(sdx_msgpack_get(section, "ksa")) > 0);
    assert_true(s_uint(sdx_msgpack_get(level, "1")) > 0);
    assert_true(sdx_msgpack_get(r.root, "facets_exact")->via.boolean);
    s_reply_free(&r);

    /* the counts follow the filters */
    s_req(&r, "{v:1, op:'search', q:'level:5 skills', facets:true}");
    s_assert_ok(&r);
    level = sdx_msgpack_get(sdx_msgpack_get(r.root, "facets"), "level");
    assert_int_equal(level->via.map.size, 1);
    s_assert_str(&level->via.map.ptr[0].key, "5");
    s_reply_free(&r);

    /* without facets: no key */
    s_req(&r, "{v:1, op:'search', q:'skills'}");
    s_assert_ok(&r);
    assert_null(sdx_msgpack_get(r.root, "facets"));
    s_reply_free(&r);
}

static void
test_suggest(void **state)
{
    (void)state;
    reply_t r;
    s_req(&r, "{v:1, op:'suggest', q:'troubleshootng'}");
    s_assert_ok(&r);
    s_assert_str(sdx_msgpack_get(r.root, "suggestion"), "troubleshooting");
    s_reply_free(&r);
    /* every word known: nil, even when a more frequent word is near */
    s_req(&r, "{v:1, op:'suggest', q:'root cause'}");
    s_assert_ok(&r);
    assert_int_equal(sdx_msgpack_get(r.root, "suggestion")->type, MSGPACK_OBJECT_NIL);
    s_reply_free(&r);
    /* field values are left alone */
    s_req(&r, "{v:1, op:'suggest', q:'level:5 vendrs'}");
    s_assert_ok(&r);
    s_assert_str(sdx_msgpack_get(r.root, "suggestion"), "level:5 vendors");
    s_reply_free(&r);

    /* search: no match -> corrected; a match -> none */
    s_req(&r, "{v:1, op:'search', q:'troubleshootng'}");
    s_assert_ok(&r);
    assert_int_equal(s_uint(sdx_msgpack_get(r.root, "total")), 0);
    s_assert_str(sdx_msgpack_get(r.root, "corrected"), "troubleshooting");
    s_reply_free(&r);
    s_req(&r, "{v:1, op:'search', q:'troubleshooting'}");
    s_assert_ok(&r);
    assert_null(sdx_msgpack_get(r.root, "corrected"));
    assert_false(sdx_msgpack_get(r.root, "partial")->via.boolean);
    s_reply_free(&r);
    /* no match because of a filter: nothing to correct */
    s_req(&r, "{v:1, op:'search', q:'root cause', levels:[4]}");
    s_assert_ok(&r);
    assert_null(sdx_msgpack_get(r.root, "corrected"));
    s_reply_free(&r);

    s_req(&r, "{v:1, op:'suggest', q:'x AND AND y'}");
    s_assert_ok(&r); /* nothing is parsed: words only */
    s_reply_free(&r);
    s_req(&r, "{v:1, op:'suggest'}");
    s_assert_error(&r, "bad_request");
    s_reply_free(&r);
}

static void
test_synonyms(void **state)
{
    (void)state;
    /* corpus/synonyms.txt: acronym -> phrase, variant -> variant */
    static const struct {
        const char *q, *first;
    } cases[] = {
        {"RCA", "5365/key-resp-06"},
        {"rca", "5365/key-resp-06"},
        {"EHR", "6373/key-resp-01"},
        {"EMR", "6373/key-resp-01"},
        {"SOP", "6372/key-resp-07"},
        {"SOPs", "6372/key-resp-07"},
        {"IT tools", "5365/key-resp-05"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        reply_t r;
        s_req(&r, "{v:1, op:'search', q:'%s', snippet:false}", cases[i].q);
        s_assert_ok(&r);
        s_assert_str(sdx_msgpack_get(s_hit(&r, 0), "id"), cases[i].first);
        s_reply_free(&r);
    }
    /* a quoted acronym is not expanded; an exact-case key stays a word
       in lower case ("it" is a stop word, nothing else) */
    reply_t r;
    s_req(&r, "{v:1, op:'search', q:'\"rca\"'}");
    s_assert_ok(&r);
    assert_int_equal(s_uint(sdx_msgpack_get(r.root, "total")), 0);
    s_reply_free(&r);
}

static void
test_context(void **state)
{
    (void)state;
    reply_t r;
    s_req(&r, "{v:1, op:'context', q:'root cause analysis'}");
    s_assert_ok(&r);
    const msgpack_object *ps = s_array(r.root, "passages", 2);
    const msgpack_object *p0 = &ps->via.array.ptr[0];
    s_assert_str(sdx_msgpack_get(p0, "id"), "5365/key-resp-06");
    s_assert_str(sdx_msgpack_get(p0, "cite"),
                 "Clinical Applications Professional 1 HX (5365), "
                 "Key Resp 06");
    static const int one[] = {1};
    s_assert_ints(sdx_msgpack_get(p0, "levels"), one, 1);
    assert_int_equal(sdx_msgpack_get(p0, "score")->type, MSGPACK_OBJECT_FLOAT64);
    s_assert_str(sdx_msgpack_get(&ps->via.array.ptr[1], "cite"),
                 "Clinical Applications Professional 2 HX (5366), "
                 "Key Resp 06");
    uint64_t sum = 0;
    for (uint32_t i = 0; i < ps->via.array.size; i++)
        sum += sdx_msgpack_get(&ps->via.array.ptr[i], "text")->via.str.size;
    assert_int_equal(s_uint(sdx_msgpack_get(r.root, "chars")), sum); /* ASCII */
    assert_true(sum <= 4000);
    s_reply_free(&r);

    /* identical texts across levels: one passage citing the range */
    s_req(&r, "{v:1, op:'context', q:'background check', k:1}");
    s_assert_ok(&r);
    ps = s_array(r.root, "passages", 1);
    assert_int_equal(ps->via.array.size, 1);
    s_assert_str(sdx_msgpack_get(&ps->via.array.ptr[0], "cite"),
                 "Clinical Applications Professional 1-5 HX, "
                 "Special Condition 2");
    static const int all[] = {1, 2, 3, 4, 5};
    s_assert_ints(sdx_msgpack_get(&ps->via.array.ptr[0], "levels"), all, 5);
    s_assert_str(sdx_msgpack_get(&ps->via.array.ptr[0], "text"),
                 "Must pass a background check.");
    s_reply_free(&r);

    /* the budget: the sum of text lengths stays within max_chars */
    s_req(&r, "{v:1, op:'context', q:'clinical systems', k:20, "
              "max_chars:200}");
    s_assert_ok(&r);
    assert_true(s_uint(sdx_msgpack_get(r.root, "chars")) <= 200);
    s_reply_free(&r);
    s_req(&r, "{v:1, op:'context', q:'discretion sensitive information', "
              "k:3, max_chars:300, levels:[3]}");
    s_assert_ok(&r);
    ps = s_array(r.root, "passages", 1);
    const msgpack_object *t = sdx_msgpack_get(&ps->via.array.ptr[0], "text");
    /* Special Condition 1 is 1005 characters: cut, with an ellipsis */
    assert_non_null(memmem(t->via.str.ptr, t->via.str.size,
                           "\xe2\x80\xa6", 3));
    assert_true(s_uint(sdx_msgpack_get(r.root, "chars")) <= 300);
    s_reply_free(&r);

    s_req(&r, "{v:1, op:'context', q:'x', max_chars:100}");
    s_assert_error(&r, "bad_request");
    s_reply_free(&r);
    s_req(&r, "{v:1, op:'context', q:'\"unclosed AND AND', "
              "syntax:'query'}");
    s_assert_ok(&r); /* Xapian parses it all the same */
    s_reply_free(&r);
    s_req(&r, "{v:1, op:'context', q:'a AND AND b', syntax:'query'}");
    s_assert_error(&r, "bad_query");
    s_reply_free(&r);
    s_req(&r, "{v:1, op:'context', q:'a AND AND b'}");
    s_assert_ok(&r); /* plain words: no operators */
    s_reply_free(&r);
}

/* The first passage (context) or hit (search) of R is clause ID. */
static void
s_assert_first(const reply_t *r, const char *key, const char *id)
{
    s_assert_ok(r);
    const msgpack_object *a = s_array(r->root, key, 1);
    s_assert_str(sdx_msgpack_get(&a->via.array.ptr[0], "id"), id);
}

/* R's understood[KEY] is the str list WANT[0..n). */
static void
s_assert_understood(const reply_t *r, const char *key,
                    const char *const *want, size_t n)
{
    const msgpack_object *u = sdx_msgpack_get(r->root, "understood");
    assert_non_null(u);
    const msgpack_object *a = s_array(u, key, (uint32_t)n);
    assert_int_equal(a->via.array.size, n);
    for (size_t i = 0; i < n; i++)
        s_assert_str(&a->via.array.ptr[i], want[i]);
}

/* Issue 14: questions in plain words, as a chatbot passes them on. */
static void
test_plain_words(void **state)
{
    (void)state;
    reply_t r;
    static const int two[] = {2};
    /* the query language's characters are words: a trailing AND, a
       leading NOT, an odd quote, a field prefix */
    s_req(&r, "{v:1, op:'context', q:'What does a level 2 do for root "
              "cause analysis AND?'}");
    s_assert_first(&r, "passages", "5366/key-resp-06");
    s_assert_ints(sdx_msgpack_get(sdx_msgpack_get(r.root, "understood"),
                                  "levels"), two, 1);
    s_reply_free(&r);
    s_req(&r, "{v:1, op:'context', q:'NOT sure who does root cause "
              "analysis'}");
    s_assert_first(&r, "passages", "5365/key-resp-06");
    s_reply_free(&r);
    s_req(&r, "{v:1, op:'context', q:'who does the \"root cause analysis'}");
    s_assert_first(&r, "passages", "5365/key-resp-06");
    s_reply_free(&r);
    s_req(&r, "{v:1, op:'context', q:'row:ksa level:2 problem solving'}");
    s_assert_first(&r, "passages", "5366/ksa-02");
    s_reply_free(&r);

    /* rows, levels, titles and codes named in the question */
    s_req(&r, "{v:1, op:'context', q:'what are the special conditions "
              "for Clinical Applications Professional 4?'}");
    s_assert_first(&r, "passages", "6372/special-condition-1");
    static const char *const condition[] = {"condition"};
    static const char *const cap[] = {
        "Clinical Applications Professional 1-5 HX"};
    s_assert_understood(&r, "sections", condition, 1);
    s_assert_understood(&r, "series", cap, 1);
    assert_int_equal(s_array(r.root, "passages", 2)->via.array.size, 2);
    s_reply_free(&r);
    s_req(&r, "{v:1, op:'context', q:'job code 5366 end user training'}");
    s_assert_first(&r, "passages", "5366/key-resp-05");
    s_reply_free(&r);
    static const char *const kr[] = {"Key Resp 06"};
    s_req(&r, "{v:1, op:'context', q:'key resp 06 at levels 1 and 2'}");
    s_assert_first(&r, "passages", "5365/key-resp-06");
    s_assert_understood(&r, "rows", kr, 1);
    static const int one_two[] = {1, 2};
    s_assert_ints(sdx_msgpack_get(sdx_msgpack_get(r.root, "understood"),
                                  "levels"), one_two, 2);
    assert_int_equal(s_array(r.root, "passages", 2)->via.array.size, 2);
    s_reply_free(&r);
    /* a row named that holds none of the words: all rows, said so */
    s_req(&r, "{v:1, op:'context', q:'which KSA covers root cause "
              "analysis?'}");
    s_assert_first(&r, "passages", "5365/key-resp-06");
    s_assert_understood(&r, "sections", NULL, 0);
    s_reply_free(&r);

    /* nothing to search for, or nothing found: no passages, and why */
    s_req(&r, "{v:1, op:'context', q:'what is it?'}");
    s_assert_ok(&r);
    assert_int_equal(s_array(r.root, "passages", 0)->via.array.size, 0);
    assert_non_null(sdx_msgpack_get(r.root, "note"));
    s_reply_free(&r);
    s_req(&r, "{v:1, op:'context', q:'forklift salary'}");
    s_assert_ok(&r);
    assert_int_equal(s_array(r.root, "passages", 0)->via.array.size, 0);
    s_assert_str(sdx_msgpack_get(r.root, "note"),
                 "no clause matches the question's words");
    s_reply_free(&r);
    s_req(&r, "{v:1, op:'context', q:'who does troubleshootng?'}");
    s_assert_ok(&r);
    s_assert_str(sdx_msgpack_get(r.root, "corrected"),
                 "who does troubleshooting?");
    s_reply_free(&r);
    s_req(&r, "{v:1, op:'context', q:' \t '}");
    s_assert_error(&r, "bad_request");
    s_assert_message(&r, "q: only blanks; a question needs a word");
    s_reply_free(&r);

    /* the cut-off: a share of the best passage's score */
    s_req(&r, "{v:1, op:'context', q:'root cause analysis'}");
    s_assert_ok(&r);
    uint32_t cut = s_array(r.root, "passages", 2)->via.array.size;
    s_reply_free(&r);
    s_req(&r, "{v:1, op:'context', q:'root cause analysis', min_score:0}");
    s_assert_ok(&r);
    assert_int_equal(s_array(r.root, "passages", 5)->via.array.size, 5);
    assert_true(cut < 5);
    s_reply_free(&r);

    /* search reads plain words on request, and only then */
    s_req(&r, "{v:1, op:'search', q:'who does root cause analysis AND?'}");
    s_assert_error(&r, "bad_query");
    s_reply_free(&r);
    s_req(&r, "{v:1, op:'search', q:'who does root cause analysis AND?', "
              "syntax:'plain'}");
    s_assert_first(&r, "hits", "5365/key-resp-06");
    assert_non_null(sdx_msgpack_get(r.root, "understood"));
    s_reply_free(&r);
    s_req(&r, "{v:1, op:'search', q:'background check', syntax:'query'}");
    s_assert_first(&r, "hits", "5365/special-condition-2");
    assert_null(sdx_msgpack_get(r.root, "understood"));
    s_reply_free(&r);
    /* a page past the last hit is not "nothing matches" */
    s_req(&r, "{v:1, op:'search', q:'root cause analysis', "
              "syntax:'plain', offset:1000}");
    s_assert_ok(&r);
    assert_int_equal(s_array(r.root, "hits", 0)->via.array.size, 0);
    assert_null(sdx_msgpack_get(r.root, "note"));
    s_reply_free(&r);
    s_req(&r, "{v:1, op:'search', q:'root cause', syntax:'Plain'}");
    s_assert_error(&r, "bad_request");
    s_reply_free(&r);
}

static void
test_query_language(void **state)
{
    (void)state;
    reply_t r;
    /* row: as a slug, quoted label, any case: the same five clauses */
    static const char *const rows[] = {
        "row:key-resp-06", "row:\"key resp 06\"", "row:\"Key Resp 06\"",
        "row:KEY-RESP-06",
    };
    for (size_t i = 0; i < 4; i++) {
        s_req(&r, "{v:1, op:'search', q:'%s', snippet:false}", rows[i]);
        s_assert_ok(&r);
        assert_int_equal(s_uint(sdx_msgpack_get(r.root, "total")), 5);
        s_assert_str(sdx_msgpack_get(s_hit(&r, 0), "row"), "Key Resp 06");
        s_reply_free(&r);
    }
    s_req(&r, "{v:1, op:'search', q:'row:\"!!\" x'}");
    s_assert_error(&r, "bad_query");
    s_reply_free(&r);

    /* level: filters: only level 5 */
    s_req(&r, "{v:1, op:'search', q:'level:5 troubleshooting', limit:50}");
    s_assert_ok(&r);
    const msgpack_object *hits = s_array(r.root, "hits", 1);
    for (uint32_t i = 0; i < hits->via.array.size; i++)
        assert_int_equal(s_uint(sdx_msgpack_get(&hits->via.array.ptr[i], "level")), 5);
    s_reply_free(&r);
    s_req(&r, "{v:1, op:'search', q:'section:KSA code:6373 problems'}");
    s_assert_ok(&r);
    s_assert_str(sdx_msgpack_get(s_hit(&r, 0), "id"), "6373/ksa-02");
    s_reply_free(&r);

    /* phrases, NEAR, NOT, wildcards */
    s_req(&r, "{v:1, op:'search', q:'\"root cause analysis\"'}");
    s_assert_ok(&r);
    assert_int_equal(s_uint(sdx_msgpack_get(r.root, "total")), 2);
    s_reply_free(&r);
    s_req(&r, "{v:1, op:'search', q:'troubleshoots NEAR issues'}");
    s_assert_ok(&r);
    s_assert_str(sdx_msgpack_get(s_hit(&r, 0), "row"), "Key Resp 06");
    s_reply_free(&r);
    s_req(&r, "{v:1, op:'search', q:'troubleshooting NOT skills', "
              "limit:50}");
    s_assert_ok(&r);
    hits = s_array(r.root, "hits", 3);
    for (uint32_t i = 0; i < hits->via.array.size; i++)
        assert_false(h_str_eq(sdx_msgpack_get(&hits->via.array.ptr[i], "section"),
                              "ksa"));
    s_reply_free(&r);
    s_req(&r, "{v:1, op:'search', q:'troublesh*', limit:50}");
    s_assert_ok(&r);
    assert_true(s_uint(sdx_msgpack_get(r.root, "total")) >= 3);
    s_reply_free(&r);

    /* lower-case and/or/not are words: a question ending in "and" */
    s_req(&r, "{v:1, op:'search', q:'what are the skills and'}");
    s_assert_ok(&r);
    assert_true(s_uint(sdx_msgpack_get(r.root, "total")) > 0);
    s_reply_free(&r);
    s_req(&r, "{v:1, op:'search', q:'skills AND'}");
    s_assert_error(&r, "bad_query");
    s_reply_free(&r);

    /* bounded: too many terms */
    char q[1100];
    size_t k = 0;
    for (int i = 0; i < 150 && k + 8 < sizeof q; i++)
        k += (size_t)snprintf(q + k, sizeof q - k, "w%03d ", i);
    s_req(&r, "{v:1, op:'search', q:'%s'}", q);
    s_assert_error(&r, "bad_query");
    s_assert_message(&r, "q: too many terms (at most 100, synonyms "
                         "included)");
    s_reply_free(&r);
    s_assert_alive();
}

static void
test_pagination(void **state)
{
    (void)state;
    /* pages of 3 are the slices of one page of 30, ties included */
    reply_t all, page;
    s_req(&all, "{v:1, op:'search', q:'clinical', limit:30, "
                "snippet:false}");
    s_assert_ok(&all);
    const msgpack_object *hits = s_array(all.root, "hits", 30);
    for (unsigned off = 0; off < 30; off += 3) {
        s_req(&page, "{v:1, op:'search', q:'clinical', offset:%u, "
                     "limit:3, snippet:false}", off);
        s_assert_ok(&page);
        const msgpack_object *ph = s_array(page.root, "hits", 3);
        for (uint32_t i = 0; i < 3; i++) {
            const msgpack_object *id = sdx_msgpack_get(&ph->via.array.ptr[i], "id");
            const msgpack_object *want =
                sdx_msgpack_get(&hits->via.array.ptr[off + i], "id");
            assert_int_equal(id->via.str.size, want->via.str.size);
            assert_memory_equal(id->via.str.ptr, want->via.str.ptr,
                                id->via.str.size);
        }
        s_reply_free(&page);
    }
    s_reply_free(&all);
}

/* Many clients at once: every one answered (ok or overloaded). */
static void
test_concurrent(void **state)
{
    (void)state;
    enum { CLIENTS = 40 };
    void *socks[CLIENTS];
    msgpack_sbuffer sb;
    s_mp(&sb, "{v:1, op:'search', q:'clinical OR software OR systems', "
              "limit:100}");
    for (int i = 0; i < CLIENTS; i++) {
        socks[i] = s_socket(ZMQ_REQ);
        assert_true(zmq_send(socks[i], sb.data, sb.size, 0) >= 0);
    }
    int ok = 0, overloaded = 0;
    for (int i = 0; i < CLIENTS; i++) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        assert_true(zmq_msg_recv(&m, socks[i], 0) >= 0);
        msgpack_unpacked u;
        size_t off = 0;
        msgpack_unpacked_init(&u);
        assert_int_equal(msgpack_unpack_next(&u, zmq_msg_data(&m),
                                             zmq_msg_size(&m), &off),
                         MSGPACK_UNPACK_SUCCESS);
        const msgpack_object *okv = sdx_msgpack_get(&u.data, "ok");
        if (okv->via.boolean)
            ok++;
        else if (h_str_eq(sdx_msgpack_get(sdx_msgpack_get(&u.data, "error"), "code"),
                          "overloaded"))
            overloaded++;
        msgpack_unpacked_destroy(&u);
        zmq_msg_close(&m);
        zmq_close(socks[i]);
    }
    msgpack_sbuffer_destroy(&sb);
    assert_int_equal(ok + overloaded, CLIENTS);
    assert_true(ok >= 2);
    s_assert_alive();
}

/*
 * A daemon with one worker and no queue: requests that find the worker
 * busy are answered `overloaded` at once, with their id; none is lost.
 */
static void
test_overloaded(void **state)
{
    (void)state;
    enum { CLIENTS = 30, ROUNDS = 5 };
    char saved[sizeof endpoint];
    memcpy(saved, endpoint, sizeof saved);
    snprintf(endpoint, sizeof endpoint, "ipc://%s/sock-small", tmpdir);
    pid_t pid = s_spawn("1", "0");
    assert_true(pid > 0);
    assert_int_equal(s_wait_ready(&pid), 0);

    msgpack_sbuffer sb;
    s_mp(&sb, "{v:1, op:'search', q:'c* OR s* OR p* OR a* OR d*', "
              "limit:100, id:'load'}");
    int ok = 0, overloaded = 0;
    for (int round = 0; round < ROUNDS && overloaded == 0; round++) {
        void *socks[CLIENTS];
        for (int i = 0; i < CLIENTS; i++)
            socks[i] = s_socket(ZMQ_REQ);
        usleep(50 * 1000);  /* let every connection finish */
        for (int i = 0; i < CLIENTS; i++)
            assert_true(zmq_send(socks[i], sb.data, sb.size, 0) >= 0);
        for (int i = 0; i < CLIENTS; i++) {
            zmq_msg_t m;
            msgpack_unpacked u;
            size_t off = 0;
            zmq_msg_init(&m);
            assert_true(zmq_msg_recv(&m, socks[i], 0) >= 0);
            msgpack_unpacked_init(&u);
            assert_int_equal(msgpack_unpack_next(&u, zmq_msg_data(&m),
                                                 zmq_msg_size(&m), &off),
                             MSGPACK_UNPACK_SUCCESS);
            assert_true(h_str_eq(sdx_msgpack_get(&u.data, "id"), "load"));
            if (sdx_msgpack_get(&u.data, "ok")->via.boolean)
                ok++;
            else if (h_str_eq(sdx_msgpack_get(sdx_msgpack_get(&u.data, "error"), "code"),
                              "overloaded"))
                overloaded++;
            else
                fail_msg("neither ok nor overloaded");
            msgpack_unpacked_destroy(&u);
            zmq_msg_close(&m);
            zmq_close(socks[i]);
        }
    }
    msgpack_sbuffer_destroy(&sb);
    assert_true(ok >= 1);
    assert_true(overloaded >= 1);

    long ms;
    assert_int_equal(s_stop(&pid, &ms), 0);
    memcpy(endpoint, saved, sizeof saved);
    s_assert_alive();
}

/*
 * A daemon started before any index exists: `unavailable` for searches,
 * ping and stats still answered; once an index is built into its
 * directory, the workers find it by themselves.
 */
static void
test_no_index_then_built(void **state)
{
    (void)state;
    char saved_ep[sizeof endpoint], saved_index[sizeof index_dir];
    char indexer[512], corpus[512], ilog[300];
    reply_t r;
    memcpy(saved_ep, endpoint, sizeof saved_ep);
    memcpy(saved_index, index_dir, sizeof saved_index);
    snprintf(endpoint, sizeof endpoint, "ipc://%s/sock-late", tmpdir);
    snprintf(index_dir, sizeof index_dir, "%s/late-index", tmpdir);
    pid_t pid = s_spawn("2", NULL);
    assert_true(pid > 0);
    assert_int_equal(s_wait_ready(&pid), 0);

    s_req(&r, "{v:1, op:'search', q:'root cause'}");
    s_assert_error(&r, "unavailable");
    s_reply_free(&r);
    s_req(&r, "{v:1, op:'get', ids:['5365/key-resp-06']}");
    s_assert_error(&r, "unavailable");
    s_reply_free(&r);
    s_req(&r, "{v:1, op:'stats'}");
    s_assert_ok(&r);
    assert_int_equal(sdx_msgpack_get(r.root, "index")->type, MSGPACK_OBJECT_NIL);
    s_reply_free(&r);

    snprintf(indexer, sizeof indexer, "%s/specdex-index", SDX_BIN_DIR);
    snprintf(corpus, sizeof corpus, "%s", SDX_SEED_CORPUS);
    snprintf(ilog, sizeof ilog, "%s/late-index.log", tmpdir);
    char *iargv[] = {indexer, "-o", index_dir, corpus, NULL};
    assert_int_equal(s_run(iargv, ilog), 0);

    bool found = false;
    for (int waited = 0; waited < 5000 && !found; waited += 100) {
        s_req(&r, "{v:1, op:'search', q:'root cause analysis'}");
        found = sdx_msgpack_get(r.root, "ok")->via.boolean;
        if (found)
            s_assert_str(sdx_msgpack_get(s_hit(&r, 0), "id"), "5365/key-resp-06");
        s_reply_free(&r);
        if (!found)
            usleep(100 * 1000);
    }
    assert_true(found);

    long ms;
    assert_int_equal(s_stop(&pid, &ms), 0);
    memcpy(endpoint, saved_ep, sizeof saved_ep);
    memcpy(index_dir, saved_index, sizeof saved_index);
    s_assert_alive();
}

/*
 * The result cache (on by default): the same search twice is one miss
 * and one hit in `stats`, whatever the id; after a new build is swapped
 * in, the same request answers from the new index, never the old one's
 * cached reply.
 */
static void
test_cache(void **state)
{
    (void)state;
    char saved_ep[sizeof endpoint], saved_index[sizeof index_dir];
    char indexer[512], corpus[512], ilog[300];
    reply_t r;
    memcpy(saved_ep, endpoint, sizeof saved_ep);
    memcpy(saved_index, index_dir, sizeof saved_index);
    snprintf(endpoint, sizeof endpoint, "ipc://%s/sock-cache", tmpdir);
    snprintf(index_dir, sizeof index_dir, "%s/cache-index", tmpdir);
    snprintf(indexer, sizeof indexer, "%s/specdex-index", SDX_BIN_DIR);
    snprintf(ilog, sizeof ilog, "%s/cache-index.log", tmpdir);
    snprintf(corpus, sizeof corpus, "%s", SDX_SEED_CORPUS);
    char *iargv[] = {indexer, "-o", index_dir, corpus, NULL};
    assert_int_equal(s_run(iargv, ilog), 0);
    pid_t pid = s_spawn("2", NULL);
    assert_true(pid > 0);
    assert_int_equal(s_wait_ready(&pid), 0);

    s_req(&r, "{v:1, op:'search', q:'root cause analysis', id:1}");
    s_assert_ok(&r);
    s_assert_str(sdx_msgpack_get(s_hit(&r, 0), "id"), "5365/key-resp-06");
    s_reply_free(&r);
    s_req(&r, "{id:'two', q:'root cause analysis', op:'search', v:1}");
    s_assert_ok(&r);
    s_assert_str(sdx_msgpack_get(r.root, "id"), "two");  /* its own id echoed */
    s_assert_str(sdx_msgpack_get(s_hit(&r, 0), "id"), "5365/key-resp-06");
    s_reply_free(&r);
    s_req(&r, "{v:1, op:'stats'}");
    s_assert_ok(&r);
    const msgpack_object *cache = sdx_msgpack_get(r.root, "cache");
    assert_non_null(cache);
    assert_int_equal(s_uint(sdx_msgpack_get(cache, "hits")), 1);
    assert_int_equal(s_uint(sdx_msgpack_get(cache, "misses")), 1);
    assert_int_equal(s_uint(sdx_msgpack_get(cache, "entries")), 1);
    uint64_t bytes = s_uint(sdx_msgpack_get(cache, "bytes"));
    uint64_t max = s_uint(sdx_msgpack_get(cache, "max_bytes"));
    assert_true(bytes > 0 && bytes <= max);
    s_reply_free(&r);

    /* a new build with other clauses (revision 2): once every handle
       serves it (stats' `revisions`: one handle's answer alone says
       nothing of the others', and the cache must not answer from the
       old one), the same request has the new answers */
    snprintf(corpus, sizeof corpus, "%s/../tests/data/good",
             SDX_SEED_CORPUS);
    assert_int_equal(s_run(iargv, ilog), 0);
    bool moved = false;
    for (int waited = 0; waited < 10000 && !moved; waited += 100) {
        s_req(&r, "{v:1, op:'stats'}");
        s_assert_ok(&r);
        const msgpack_object *revs = sdx_msgpack_get(r.root, "revisions");
        assert_non_null(revs);
        moved = revs->via.array.size > 0;
        for (uint32_t i = 0; i < revs->via.array.size; i++)
            moved = moved && s_uint(&revs->via.array.ptr[i]) == 2;
        s_reply_free(&r);
        if (!moved)
            usleep(100 * 1000);
    }
    assert_true(moved);
    s_req(&r, "{v:1, op:'search', q:'root cause analysis', id:3}");
    s_assert_ok(&r);
    assert_int_equal(sdx_msgpack_get(r.root, "hits")->via.array.size, 0);
    s_reply_free(&r);
    s_req(&r, "{v:1, op:'search', q:'filing rules'}");
    s_assert_ok(&r);
    assert_true(sdx_msgpack_get(r.root, "hits")->via.array.size > 0);
    s_reply_free(&r);

    long ms;
    assert_int_equal(s_stop(&pid, &ms), 0);
    memcpy(endpoint, saved_ep, sizeof saved_ep);
    memcpy(index_dir, saved_index, sizeof saved_index);
    s_assert_alive();
}

static void
test_sigterm(void **state)
{
    (void)state;
    long ms = 0;
    assert_true(daemon_pid > 0);
    int status = s_stop(&daemon_pid, &ms);
    if (status != 0)
        h_cat(log_path);
    assert_int_equal(status, 0);
    assert_true(ms < STOP_TIMEOUT_MS);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ping),
        cmocka_unit_test(test_dealer),
        cmocka_unit_test(test_search),
        cmocka_unit_test(test_search_filters),
        cmocka_unit_test(test_get),
        cmocka_unit_test(test_stats),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_bad_frames),
        cmocka_unit_test(test_too_large),
        cmocka_unit_test(test_odd_frames),
        cmocka_unit_test(test_bad_query),
        cmocka_unit_test(test_ladder),
        cmocka_unit_test(test_row),
        cmocka_unit_test(test_group),
        cmocka_unit_test(test_facets),
        cmocka_unit_test(test_suggest),
        cmocka_unit_test(test_synonyms),
        cmocka_unit_test(test_context),
        cmocka_unit_test(test_plain_words),
        cmocka_unit_test(test_query_language),
        cmocka_unit_test(test_pagination),
        cmocka_unit_test(test_concurrent),
        cmocka_unit_test(test_overloaded),
        cmocka_unit_test(test_no_index_then_built),
        cmocka_unit_test(test_sigterm),  /* last: it stops the daemon */
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
