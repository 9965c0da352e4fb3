/*
 * harness: what the production tests (test_reindex, test_soak,
 * test_lifecycle) share: a mkdtemp directory, the real specdex-index and
 * specdexd started with fork + exec on an ipc socket there, one-reply
 * exchanges with a timeout, reading a reply map, the daemon's VmRSS.
 *
 * Every function here is safe to call from client threads (no cmocka
 * assertions inside): failures come back as return values, and the test
 * body asserts on them.  Header-only like mp_notation.h; static inline,
 * so a test that leaves some unused builds without warnings.
 */
#ifndef SDX_TEST_HARNESS_H
#define SDX_TEST_HARNESS_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <msgpack.h>

#include "sdx_msgpack.h" /* sdx_msgpack_get */
#include "sdx_util.h"    /* sdx_now_us */
#include <zmq.h>

/* SANITIZED: 1 in the sanitizer build (make test's second run), where
   RSS means nothing: ASan's quarantine holds freed memory on purpose. */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

#define H_START_TIMEOUT_MS 15000 /* daemon start-up, milliseconds */
#define H_STOP_TIMEOUT_MS 2000   /* SIGTERM to exit, ms (the issue's) */
#define H_MAX_ARGS 32            /* daemon arguments, at most */

/* One test program's world: its temp dir, index, socket, daemon. */
typedef struct harness {
    char tmpdir[64];           /* /tmp/sdx-NAME-XXXXXX */
    char index_dir[128];       /* tmpdir/index */
    char endpoint[160];        /* ipc://tmpdir/sock */
    char log_path[128];        /* the daemon's stderr */
    pid_t pid;                 /* the daemon, or -1 */
    void *zctx;                /* the clients' ZeroMQ context */
    unsigned long nofile;      /* when not 0, the daemon's RLIMIT_NOFILE,
                                  soft and hard (h_spawn) */
} harness_t;

/* Milliseconds of lib's monotonic clock. */
static inline uint64_t
h_now_ms(void)
{
    return sdx_now_us() / 1000u;
}

static inline void
h_sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Print the file PATH to stderr, indented (a failed test's evidence). */
static inline void
h_cat(const char *path)
{
    char line[1024];
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    while (fgets(line, sizeof line, f))
        fprintf(stderr, "  | %s", line);
    fclose(f);
}

/* True when the file PATH contains NEEDLE. */
static inline bool
h_file_has(const char *path, const char *needle)
{
    char line[2048];
    bool found = false;
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, needle) != NULL;
    fclose(f);
    return found;
}

/* How many lines of the file PATH contain NEEDLE (0: none, or no file). */
static inline unsigned
h_file_count(const char *path, const char *needle)
{
    char line[2048];
    unsigned n = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

/* Make the temp dir for NAME and the paths in it; 0 or -1. */
static inline int
h_init(harness_t *h, const char *name)
{
    memset(h, 0, sizeof *h);
    h->pid = -1;
    snprintf(h->tmpdir, sizeof h->tmpdir, "/tmp/sdx-%s-XXXXXX", name);
    if (!mkdtemp(h->tmpdir))
        return -1;
    snprintf(h->index_dir, sizeof h->index_dir, "%s/index", h->tmpdir);
    snprintf(h->endpoint, sizeof h->endpoint, "ipc://%s/sock", h->tmpdir);
    snprintf(h->log_path, sizeof h->log_path, "%s/daemon.log", h->tmpdir);
    h->zctx = zmq_ctx_new();
    return h->zctx ? 0 : -1;
}

/* Build the seed corpus into the index: the indexer's exit status. */
static inline int
h_index(harness_t *h)
{
    char indexer[512], log[192];
    snprintf(indexer, sizeof indexer, "%s/specdex-index", SDX_BIN_DIR);
    snprintf(log, sizeof log, "%s/index.log", h->tmpdir);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execl(indexer, indexer, "-o", h->index_dir, SDX_SEED_CORPUS,
              (char *)NULL);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "specdex-index failed:\n");
        h_cat(log);
        return -1;
    }
    return 0;
}

/*
 * Start specdexd on the harness's index and endpoint with the extra
 * arguments (NULL-terminated), stderr to the log.  ENV, when not NULL,
 * is a NULL-terminated list of NAME=VALUE put in its environment; with
 * h->nofile its descriptor limit is that.  A daemon a failed test left
 * running is killed first.  Returns its pid
 * (also in h->pid) or -1.
 */
static inline pid_t
h_spawn_env(harness_t *h, char *const *env, ...)
{
    char daemon[512];
    const char *argv[H_MAX_ARGS];
    size_t n = 0;
    va_list ap;
    if (h->pid > 0) {             /* left by a failed test */
        kill(h->pid, SIGKILL);
        waitpid(h->pid, NULL, 0);
        h->pid = -1;
    }
    snprintf(daemon, sizeof daemon, "%s/specdexd", SDX_BIN_DIR);
    argv[n++] = daemon;
    argv[n++] = "--index";
    argv[n++] = h->index_dir;
    argv[n++] = "--endpoint";
    argv[n++] = h->endpoint;
    va_start(ap, env);
    const char *a;
    while ((a = va_arg(ap, const char *)) && n < H_MAX_ARGS - 1)
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid != 0) {
        h->pid = pid;
        return pid;
    }
    int fd = open(h->log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0)
        dup2(fd, 2);
    for (size_t i = 0; env && env[i]; i++)
        putenv(env[i]);
    if (h->nofile) {
        struct rlimit lim = {h->nofile, h->nofile};
        if (setrlimit(RLIMIT_NOFILE, &lim) != 0)
            _exit(126);
    }
    execv(daemon, (char *const *)argv);
    _exit(127);
}

#define h_spawn(h, ...) h_spawn_env((h), NULL, __VA_ARGS__)

/* A connected socket of TYPE with LINGER 0 and TIMEOUT_MS both ways. */
static inline void *
h_socket(harness_t *h, int type, int timeout_ms)
{
    int linger = 0;
    void *s = zmq_socket(h->zctx, type);
    if (!s)
        return NULL;
    if (zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
        zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout_ms,
                       sizeof timeout_ms) != 0 ||
        zmq_setsockopt(s, ZMQ_SNDTIMEO, &timeout_ms,
                       sizeof timeout_ms) != 0 ||
        zmq_connect(s, h->endpoint) != 0) {
        zmq_close(s);
        return NULL;
    }
    return s;
}

/*
 * Receive one frame on SOCK and unpack it into *out (caller destroys
 * it).  msgpack-c's strings point into the buffer unpacked, so the frame
 * is copied into memory the unpacked zone frees.  Returns 0, or -1 on a
 * timeout or a frame that is not one msgpack map.
 */
static int
h_recv(void *sock, msgpack_unpacked *out)
{
    zmq_msg_t m;
    size_t off = 0;
    msgpack_unpacked_init(out);
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, sock, 0) < 0) {
        zmq_msg_close(&m);
        return -1;
    }
    size_t size = zmq_msg_size(&m);
    char *copy = malloc(size ? size : 1);
    if (!copy) {
        zmq_msg_close(&m);
        return -1;
    }
    memcpy(copy, zmq_msg_data(&m), size);
    zmq_msg_close(&m);
    if (msgpack_unpack_next(out, copy, size, &off) !=
            MSGPACK_UNPACK_SUCCESS ||
        !out->zone || !msgpack_zone_push_finalizer(out->zone, free, copy)) {
        free(copy);
        msgpack_unpacked_destroy(out);
        msgpack_unpacked_init(out);
        return -1;
    }
    return off == size && out->data.type == MSGPACK_OBJECT_MAP ? 0 : -1;
}

/*
 * Send the request REQ (LEN bytes) on the REQ socket SOCK and unpack the
 * reply into *out (caller destroys it; h_recv).  Returns 0, or -1 on a
 * timeout or a reply that is not one msgpack map (the REQ socket is then
 * unusable: close it).
 */
static int
h_call(void *sock, const void *req, size_t len, msgpack_unpacked *out)
{
    if (zmq_send(sock, req, len, 0) < 0) {
        msgpack_unpacked_init(out);
        return -1;
    }
    return h_recv(sock, out);
}

static inline bool
h_str_eq(const msgpack_object *o, const char *want)
{
    return o && o->type == MSGPACK_OBJECT_STR &&
           o->via.str.size == strlen(want) &&
           memcmp(o->via.str.ptr, want, o->via.str.size) == 0;
}

/* The unsigned int O, or UINT64_MAX when it is not one. */
static inline uint64_t
h_uint(const msgpack_object *o)
{
    return o && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? o->via.u64
                                                           : UINT64_MAX;
}

/* True for a reply with ok: true. */
static inline bool
h_ok(const msgpack_object *reply)
{
    const msgpack_object *ok = sdx_msgpack_get(reply, "ok");
    return ok && ok->type == MSGPACK_OBJECT_BOOLEAN && ok->via.boolean;
}

/* Print REPLY's error code and message (for a failed expectation). */
static inline void
h_print_error(const char *what, const msgpack_object *reply)
{
    const msgpack_object *e = sdx_msgpack_get(reply, "error");
    const msgpack_object *c = sdx_msgpack_get(e, "code"), *m = sdx_msgpack_get(e, "message");
    fprintf(stderr, "%s: %.*s: %.*s\n", what,
            c && c->type == MSGPACK_OBJECT_STR ? (int)c->via.str.size : 0,
            c && c->type == MSGPACK_OBJECT_STR ? c->via.str.ptr : "",
            m && m->type == MSGPACK_OBJECT_STR ? (int)m->via.str.size : 0,
            m && m->type == MSGPACK_OBJECT_STR ? m->via.str.ptr : "");
}

/* Pack {v:1, op:OP} plus, when Q is not NULL, q:Q into SB (init'd). */
static inline void
h_pack_op(msgpack_sbuffer *sb, const char *op, const char *q)
{
    msgpack_packer pk;
    msgpack_sbuffer_init(sb);
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, q ? 3 : 2);
    msgpack_pack_str_with_body(&pk, "v", 1);
    msgpack_pack_int(&pk, 1);
    msgpack_pack_str_with_body(&pk, "op", 2);
    msgpack_pack_str_with_body(&pk, op, strlen(op));
    if (q) {
        msgpack_pack_str_with_body(&pk, "q", 1);
        msgpack_pack_str_with_body(&pk, q, strlen(q));
    }
}

/*
 * One request on a fresh REQ socket, reply into *out (destroy it).
 * Returns 0 or -1 (timeout, bad reply).
 */
static inline int
h_once(harness_t *h, const void *req, size_t len, msgpack_unpacked *out,
       int timeout_ms)
{
    void *s = h_socket(h, ZMQ_REQ, timeout_ms);
    if (!s) {
        msgpack_unpacked_init(out);
        return -1;
    }
    int rc = h_call(s, req, len, out);
    zmq_close(s);
    return rc;
}

/*
 * Wait until the daemon answers ping (fresh socket per try).  Returns 0,
 * or -1 when it died (h->pid is then -1) or never answered.
 */
static inline int
h_wait_ready(harness_t *h)
{
    msgpack_sbuffer sb;
    int rc = -1;
    h_pack_op(&sb, "ping", NULL);
    for (uint64_t t0 = h_now_ms(); h_now_ms() - t0 < H_START_TIMEOUT_MS;) {
        msgpack_unpacked u;
        int got = h_once(h, sb.data, sb.size, &u, 100);
        msgpack_unpacked_destroy(&u);
        if (got == 0) {
            rc = 0;
            break;
        }
        if (waitpid(h->pid, NULL, WNOHANG) == h->pid) {
            h->pid = -1;
            break;
        }
    }
    msgpack_sbuffer_destroy(&sb);
    if (rc != 0) {
        fprintf(stderr, "specdexd did not answer ping:\n");
        h_cat(h->log_path);
    }
    return rc;
}

/*
 * SIGTERM the daemon and wait up to H_STOP_TIMEOUT_MS.  Returns its exit
 * status, -1 when it did not exit in time (then killed) or died of a
 * signal; *ms (may be NULL) is how long it took.
 */
static inline int
h_stop(harness_t *h, uint64_t *ms)
{
    int status = 0;
    pid_t got = 0;
    uint64_t t0 = h_now_ms();
    if (h->pid <= 0 || kill(h->pid, SIGTERM) != 0)
        return -1;
    while (got == 0 && h_now_ms() - t0 < H_STOP_TIMEOUT_MS) {
        got = waitpid(h->pid, &status, WNOHANG);
        if (got == 0)
            h_sleep_ms(5);
    }
    if (ms)
        *ms = h_now_ms() - t0;
    if (got != h->pid) {
        kill(h->pid, SIGKILL);
        waitpid(h->pid, NULL, 0);
        h->pid = -1;
        return -1;
    }
    h->pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * Kill what is left and remove the temp dir.  The context is not
 * terminated: after a failed assertion a test's sockets may still be
 * open, and zmq_ctx_term would wait for them for ever; the process is
 * about to end anyway.
 */
static inline void
h_fini(harness_t *h)
{
    char cmd[256];
    if (h->pid > 0) {
        kill(h->pid, SIGKILL);
        waitpid(h->pid, NULL, 0);
        h->pid = -1;
    }
    if (getenv("SDX_KEEP_TMP")) {
        fprintf(stderr, "kept %s\n", h->tmpdir);
        return;
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", h->tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", h->tmpdir);
}

/* VmRSS of process PID in KiB, or 0 when it cannot be read. */
static inline unsigned long
h_rss_kib(pid_t pid)
{
    char path[64], line[256];
    unsigned long kib = 0;
    snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %lu kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

/*
 * Ask for `stats` until the revisions every worker serves are all REV,
 * or TIMEOUT_MS passes.  Returns the milliseconds it took, or -1.
 */
static inline long
h_wait_revision(harness_t *h, uint64_t rev, unsigned timeout_ms)
{
    msgpack_sbuffer sb;
    long took = -1;
    uint64_t t0 = h_now_ms();
    h_pack_op(&sb, "stats", NULL);
    while (took < 0 && h_now_ms() - t0 < timeout_ms) {
        msgpack_unpacked u;
        if (h_once(h, sb.data, sb.size, &u, 2000) == 0 && h_ok(&u.data)) {
            const msgpack_object *revs = sdx_msgpack_get(&u.data, "revisions");
            bool all = revs && revs->type == MSGPACK_OBJECT_ARRAY &&
                       revs->via.array.size > 0;
            for (uint32_t i = 0; all && i < revs->via.array.size; i++)
                all = h_uint(&revs->via.array.ptr[i]) == rev;
            if (all)
                took = (long)(h_now_ms() - t0);
        }
        msgpack_unpacked_destroy(&u);
        if (took < 0)
            h_sleep_ms(20);
    }
    msgpack_sbuffer_destroy(&sb);
    return took;
}

#endif /* SDX_TEST_HARNESS_H */
