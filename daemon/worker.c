/*
 * worker: one thread, one Xapian handle.  The thread opens its handle
 * and then runs the broker's loop (sdx_broker_work, broker.c), which
 * takes each request from the frontend under the broker's lock and
 * calls sdx_worker_answer here, with the lock released, for its reply.
 *
 * Nothing here is shared with other threads but the stats counters and
 * the cache: the database handle is opened and closed inside the thread
 * (Xapian objects are not thread-safe).
 *
 * Between the decoded request and the op sits the result cache every
 * worker shares (cache.c): the key names this handle's revision, so a
 * worker never answers from a revision it does not serve.
 *
 * The handle follows the index.  Every SDX_DAEMON_REFRESH_MS, before a
 * request or while waiting for one, the worker resolves the index
 * directory again and, when `current` now names another revision (a new
 * build was swapped in), none was open, or a SIGHUP asked for it, opens
 * a fresh handle and only then closes the old one: requests never wait
 * on a missing index, and an idle worker moves on as promptly as a busy
 * one.  So the daemon starts without an index (answering `unavailable`)
 * and picks up each new build by itself within a fraction of a second.
 *
 * Old revisions: while a worker reads DIR/rev-NNNNNN it holds a shared
 * flock(2) on that directory; the indexer removes a revision only under
 * an exclusive flock taken without waiting (indexer/build.c), so it never
 * removes one a worker reads, and leaves a busy one for its next build.
 * The worker takes its lock before opening and then checks the revision
 * is still whole (its `iamglass` is there): a revision the indexer
 * removed between our resolve and our lock is seen as gone, never read.
 */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <sodium.h>

#include "sdx_index.h"
#include "sdx_log.h"

#define REFRESH_US (SDX_DAEMON_REFRESH_MS * 1000ull) /* re-resolve, us */
#define RETRY_MAX_US (60 * 1000000ull) /* a revision that cannot be opened
                                          is tried again after 0.25 s,
                                          doubling up to this, us */
#define OPEN_LOG_BURST 5        /* open-failure lines per window */
#define OPEN_LOG_WINDOW_S 60    /* the window, seconds */

struct sdx_worker {
    pthread_t thread;          /* the worker's thread */
    sdx_broker_t *broker;      /* where it takes requests */
    const sdx_config_t *cfg;   /* the daemon's configuration */
    sdx_stats_t *stats;        /* shared counters */
    sdx_cache_t *cache;        /* shared result cache, or NULL */
    unsigned number;           /* 0-based, for log lines */
    sdx_db_t *db;              /* this thread's handle, or NULL */
    int db_locks[SDX_DB_SHARDS_MAX]; /* the revisions' directories (one
                                  per local shard), flock'd LOCK_SH while
                                  DB reads them */
    size_t nlocks;             /* number of DB_LOCKS */
    char db_path[PATH_MAX];    /* what DB was opened on, or "" */
    char db_error[SDX_PROTO_MSG_MAX]; /* why DB is NULL, for clients:
                                  no paths (sdx_index_public_msg) */
    uint64_t resolved_us;      /* when the index was last resolved */
    unsigned reopen_gen;       /* SIGHUP generation last acted on */
    char failed_path[PATH_MAX]; /* the revision that last failed to
                                  open, or "": not tried again before
                                  RETRY_AT_US */
    uint64_t retry_at_us;      /* when FAILED_PATH may be tried again */
    uint64_t backoff_us;       /* the wait after its last failure, us */
    sdx_log_limit_t open_log;  /* rate limit of open-failure lines */
};

/*
 * Take a shared lock on the revision directory PATH for as long as a
 * handle reads it.  Returns the locked descriptor, or -1 with WHY set
 * when the revision is being removed or is gone.
 */
static int
s_lock_revision(const char *path, const char **why)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        *why = strerror(errno);
        return -1;
    }
    if (flock(fd, LOCK_SH | LOCK_NB) < 0) {
        *why = errno == EWOULDBLOCK ? "being removed by the indexer"
                                    : strerror(errno);
        close(fd);
        return -1;
    }
    /* removed between resolve and lock: the lock was free again */
    if (faccessat(fd, "iamglass", F_OK, 0) < 0) {
        *why = "removed by the indexer";
        close(fd);
        return -1;
    }
    return fd;
}

/* Close the handle and drop its revisions' locks. */
static void
s_close_db(sdx_worker_t *w)
{
    sdx_db_destroy(&w->db);
    for (size_t i = 0; i < w->nlocks; i++)
        close(w->db_locks[i]);
    w->nlocks = 0;
}

/* Keep TEXT, made path-free, as why there is no handle. */
static void
s_set_db_error(sdx_worker_t *w, const char *text)
{
    if (!w->db)
        sdx_index_public_msg(text, w->db_error, sizeof w->db_error);
}

/*
 * PATH could not be opened (WHY, which names it, for the log): try it
 * again only after a back-off that doubles from REFRESH_US up to
 * RETRY_MAX_US, and log at most OPEN_LOG_BURST lines a minute.  A new
 * revision in `current` or a SIGHUP is tried at once (s_refresh_db).
 * Only the first handle logs at WARN: every handle meets the same
 * broken index, and one line says it.
 */
static void
s_open_failed(sdx_worker_t *w, const char *path, const char *why)
{
    uint64_t now = sdx_now_us();
    if (strcmp(path, w->failed_path) != 0) {
        snprintf(w->failed_path, sizeof w->failed_path, "%s", path);
        w->backoff_us = REFRESH_US;
    } else if ((w->backoff_us *= 2) > RETRY_MAX_US) {
        w->backoff_us = RETRY_MAX_US;
    }
    w->retry_at_us = now + w->backoff_us;
    if (w->number != 0 || sdx_log_allowed(&w->open_log))
        sdx_log(w->number == 0 ? SDX_LOG_WARN : SDX_LOG_DEBUG,
                "worker %u: %s; trying again in %.2f s", w->number, why,
                (double)w->backoff_us / 1e6);
    s_set_db_error(w, why);
}

/*
 * Open the database DIR/current points at (each --index's, as shards of
 * one index; a tcp:// one is a remote shard, not resolved), unless it is
 * the one open (and no SIGHUP asks for a fresh handle, and no remote
 * shard has failed on it: Xapian's remote handle does not reconnect).
 * On failure keep the old handle if there is one (a half-finished swap
 * must not take the service down), else remember why.  FORCE skips the
 * period check.
 */
static void
s_refresh_db(sdx_worker_t *w, bool force)
{
    char paths[SDX_DB_SHARDS_MAX][PATH_MAX];
    const char *specs[SDX_DB_SHARDS_MAX];
    int locks[SDX_DB_SHARDS_MAX];
    char joined[PATH_MAX];
    char err[SDX_PROTO_MSG_MAX];
    size_t n = w->cfg->nindex ? w->cfg->nindex : 1, nlocks = 0, len = 0;
    uint64_t now = sdx_now_us();
    unsigned gen = sdx_stats_reopen_generation(w->stats);
    bool broken = w->db && sdx_db_broken(w->db);
    bool reopen = gen != w->reopen_gen;
    if (!force && !reopen && w->resolved_us &&
        now - w->resolved_us < REFRESH_US)
        return;
    w->resolved_us = now;
    joined[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *dir = w->cfg->nindex ? w->cfg->index_dirs[i]
                                         : w->cfg->index_dir;
        if (strncmp(dir, "tcp://", 6) == 0) {
            specs[i] = dir;    /* xapian-tcpsrv's: it resolves its own */
        } else if (sdx_index_resolve(dir, paths[i], sizeof paths[i], err,
                                     sizeof err) != SDX_OK) {
            s_set_db_error(w, err);
            w->reopen_gen = gen;
            return;
        } else {
            specs[i] = paths[i];
        }
        int k = snprintf(joined + len, sizeof joined - len, "%s%s",
                         i ? " + " : "", specs[i]);
        if (k < 0 || (size_t)k >= sizeof joined - len) {
            s_set_db_error(w, "the --index paths are too long together");
            return;
        }
        len += (size_t)k;
    }
    if (w->db && !reopen && !broken && strcmp(joined, w->db_path) == 0)
        return;
    /* the revision that failed waits out its back-off; a new one in
       `current`, or a SIGHUP, is tried now; so is a broken handle's
       remote shard, each refresh (its failure is cheap to say) */
    if (!reopen && !broken && now < w->retry_at_us &&
        strcmp(joined, w->failed_path) == 0)
        return;

    const char *why = NULL;
    for (size_t i = 0; i < n; i++) {
        if (specs[i] != paths[i])
            continue;
        int lock = s_lock_revision(paths[i], &why);
        if (lock < 0) {
            /* the next resolve finds the revision that replaced it */
            sdx_log(SDX_LOG_DEBUG, "worker %u: not opening %s: %s",
                    w->number, paths[i], why);
            char text[PATH_MAX + 64];
            snprintf(text, sizeof text, "cannot open %s: %s", specs[i],
                     why);
            s_set_db_error(w, text);
            while (nlocks)
                close(locks[--nlocks]);
            return;
        }
        locks[nlocks++] = lock;
    }
    sdx_db_t *db = NULL;
    char *msg = NULL;
    sdx_status_t st = sdx_index_open_shards(specs, n, &db, &msg);
    if (st != SDX_OK) {
        while (nlocks)
            close(locks[--nlocks]);
        /* a handle whose remote shard failed is no use: without it the
           requests are answered `unavailable` at once, with the reason,
           instead of each waiting on the network, until a reopen works */
        if (broken)
            s_close_db(w);
        s_open_failed(w, joined, msg ? msg : sdx_status_str(st));
        free(msg);
        w->reopen_gen = gen;
        return;
    }
    /* the new handle first, then the old one and its locks go */
    s_close_db(w);
    w->db = db;
    memcpy(w->db_locks, locks, nlocks * sizeof locks[0]);
    w->nlocks = nlocks;
    w->reopen_gen = gen;
    snprintf(w->db_path, sizeof w->db_path, "%s", joined);
    w->db_error[0] = '\0';
    w->failed_path[0] = '\0';
    w->backoff_us = 0;
    uint64_t rev = 0;
    sdx_index_revision(db, &rev); /* 0: the indexer wrote none */
    sdx_stats_set_revision(w->stats, w->number, rev);
    sdx_log(w->number == 0 ? SDX_LOG_INFO : SDX_LOG_DEBUG,
            "worker %u: serving index %s (revision %llu%s)", w->number,
            joined, (unsigned long long)rev, reopen ? ", reopened" : "");
}

/*
 * The operator's limits (sdx_config_t), tighter than the protocol's,
 * which the decoder has already checked.  Messages read like the
 * decoder's.  A --max-limit below the default limit lowers the default
 * too: a search that leaves `limit` out (or asks for the default) gets
 * --max-limit hits rather than an error.
 */
static sdx_errcode_t
s_check_limits(const sdx_config_t *cfg, sdx_request_t *req,
               sdx_proto_error_t *err)
{
    size_t qlen = req->q ? strlen(req->q) : 0;
    if (cfg->max_limit && req->limit == SDX_PROTO_LIMIT_DEFAULT &&
        cfg->max_limit < SDX_PROTO_LIMIT_DEFAULT)
        req->limit = cfg->max_limit;
    err->code = SDX_E_BAD_REQUEST;
    if (cfg->max_query && qlen > cfg->max_query) {
        snprintf(err->message, sizeof err->message,
                 "q: length %zu is out of range 1..%zu bytes", qlen,
                 cfg->max_query);
    } else if (cfg->max_limit && req->op == SDX_OP_SEARCH &&
               req->limit > cfg->max_limit) {
        snprintf(err->message, sizeof err->message,
                 "limit: %u is out of range 1..%u", req->limit,
                 cfg->max_limit);
    } else if (cfg->max_ids && req->ids.n > cfg->max_ids) {
        snprintf(err->message, sizeof err->message,
                 "ids: %zu entries, expected 1..%u", req->ids.n,
                 cfg->max_ids);
    } else {
        err->code = SDX_E_NONE;
    }
    return err->code;
}

/* Close every message of PARTS[0..N-1]. */
/* Run the op, once more on a fresh look at the index if it changed. */
static sdx_errcode_t
s_handle(sdx_worker_t *w, const sdx_request_t *req, sdx_body_t *body,
         sdx_proto_error_t *err, bool *reopened)
{
    sdx_errcode_t code;
    for (int attempt = 0;; attempt++) {
        sdx_ops_ctx_t ctx = {
            .db = w->db,
            .db_path = w->db_path,
            .db_error = w->db_error,
            .stats = w->stats,
            .cache = w->cache,
            .cfg = w->cfg,
        };
        code = sdx_ops_handle(&ctx, req, body, err);
        /* The shim retries a search on DatabaseModifiedError itself;
           get and stats come here as `unavailable`.  Revisions are
           never written after their build, so this is for an index
           served in place (a bare database directory). */
        if (code != SDX_E_UNAVAILABLE || !w->db || attempt > 0)
            break;
        sdx_body_clear(body);
        *reopened = true;
        if (sdx_db_reopen(w->db) != SDX_OK)
            break;
    }
    return code;
}

/*
 * Run the op through the result cache: a repeated request on the same
 * revision gets the body answered before; a fresh ok body is kept.  The
 * key names this handle's database path and Xapian revision, read now
 * (a bare database reopened in place has moved on), so a body is only
 * ever served by a handle on the revision that made it.  Without an
 * index (db NULL) nothing is looked up: `unavailable` is not kept.
 */
static sdx_errcode_t
s_answer_cached(sdx_worker_t *w, const sdx_request_t *req,
                sdx_body_t *body, sdx_proto_error_t *err)
{
    bool reopened = false;
    void *key = NULL;
    size_t klen = 0;
    uint64_t rev = 0;
    if (sdx_cache_enabled(w->cache) && sdx_cache_op(req->op) && w->db &&
        sdx_db_revision(w->db, &rev) == SDX_OK &&
        (key = sdx_cache_key(req, w->db_path, rev, &klen)) &&
        sdx_cache_get(w->cache, key, klen, body)) {
        free(key);
        return SDX_E_NONE;
    }
    sdx_errcode_t code = s_handle(w, req, body, err, &reopened);
    if (key && code == SDX_E_NONE && !body->failed && !reopened)
        sdx_cache_put(w->cache, key, klen, body);
    free(key);
    return code;
}

/*
 * " q#" and the query's SipHash-2-4 (libsodium's crypto_shorthash) under
 * the process's random key, in hex: the same query gets the same hash
 * for the daemon's life, so its slow lines can be told apart and counted;
 * a guess cannot be hashed to compare without the key, which is never
 * logged and dies with the process.
 */
static void
s_query_hash(const sdx_config_t *cfg, const char *q, char *out,
             size_t size)
{
    _Static_assert(SDX_DAEMON_QUERY_KEY == crypto_shorthash_KEYBYTES,
                   "the key is SipHash's");
    unsigned char h[crypto_shorthash_BYTES];
    crypto_shorthash(h, (const unsigned char *)q, strlen(q),
                     cfg->query_key);
    int n = snprintf(out, size, " q#");
    for (size_t i = 0; i < sizeof h && n > 0 && (size_t)n + 2 < size; i++)
        n += snprintf(out + n, size - (size_t)n, "%02x", h[i]);
}

/*
 * Answer one request: BODY (LEN bytes) in, *reply out (malloc'd).
 * Returns the reply's error code, for the counters.
 */
static sdx_errcode_t
s_answer(sdx_worker_t *w, const void *frame, size_t len, void **reply,
         size_t *reply_len)
{
    uint64_t t0 = sdx_now_us();
    sdx_request_t req;
    sdx_proto_error_t err;
    sdx_body_t body;
    sdx_errcode_t code;

    sdx_body_init(&body);
    code = sdx_request_decode(frame, len, &req, &err);
    bool decoded = code == SDX_E_NONE;
    if (decoded)
        code = s_check_limits(w->cfg, &req, &err);
    if (code == SDX_E_NONE) {
        if (req.op != SDX_OP_PING)
            s_refresh_db(w, false);
        code = s_answer_cached(w, &req, &body, &err);
    }
    uint64_t took = sdx_now_us() - t0;
    sdx_stats_note_cost(w->stats, took);
    if (code == SDX_E_NONE && !body.failed) {
        sdx_reply_ok(req.id, req.id_len, took, &body, reply, reply_len);
    } else {
        if (code == SDX_E_NONE) {
            code = SDX_E_INTERNAL;
            snprintf(err.message, sizeof err.message, "out of memory");
        }
        sdx_reply_error(req.id, req.id_len, took, code, err.message, reply,
                        reply_len);
    }
    const char *op = req.op < SDX_OP_LAST ? sdx_op_name(req.op)
                                          : "(undecoded)";
    bool show_q = w->cfg->log_queries && req.q;
    /* query text only when the operator asked for it */
    sdx_log(SDX_LOG_DEBUG, "worker %u: %s %lluus %s%s%s%s", w->number, op,
            (unsigned long long)took, code ? sdx_errcode_str(code) : "ok",
            show_q ? " q=\"" : "", show_q ? req.q : "",
            show_q ? "\"" : "");
    if (w->cfg->slow_ms && took >= w->cfg->slow_ms * 1000ull) {
        sdx_stats_record_slow(w->stats);
        char hash[24] = "";
        if (req.q)
            s_query_hash(w->cfg, req.q, hash, sizeof hash);
        sdx_log(SDX_LOG_WARN, "slow: %s %llums %s%s%s%s%s", op,
                (unsigned long long)(took / 1000),
                code ? sdx_errcode_str(code) : "ok", hash,
                show_q ? " q=\"" : "", show_q ? req.q : "",
                show_q ? "\"" : "");
    }
    /* a refused request counts under the op it named (SDX_OP_LAST,
       "none", when the frame never got that far) */
    sdx_stats_record_op(w->stats, req.op, code, took);
    sdx_body_clear(&body);
    sdx_request_clear(&req);
    return code;
}

void
sdx_worker_answer(sdx_worker_t *w, const void *frame, size_t len,
                  void **reply, size_t *reply_len)
{
    *reply = NULL;
    *reply_len = 0;
    s_answer(w, frame, len, reply, reply_len);
    if (*reply)
        return;
    sdx_log(SDX_LOG_ERROR, "worker %u: out of memory for a reply",
            w->number);
    /* a reply made of constants: the client hears why, not a timeout */
    static const char fallback[] = "\x83\xa1v\x01\xa2ok\xc2\xa5"
                                   "error\x82\xa4" "code\xa8internal"
                                   "\xa7message\xadout of memory";
    if ((*reply = malloc(sizeof fallback - 1))) {
        memcpy(*reply, fallback, sizeof fallback - 1);
        *reply_len = sizeof fallback - 1;
    }
}

void
sdx_worker_refresh(sdx_worker_t *w)
{
    s_refresh_db(w, false);
}

static void *
s_worker_main(void *arg)
{
    sdx_worker_t *w = arg;
    s_refresh_db(w, true);
    if (!w->db && !w->failed_path[0])  /* a failed open said it already */
        sdx_log(SDX_LOG_WARN, "worker %u: no index in %s: %s", w->number,
                w->cfg->index_dir, w->db_error);
    sdx_broker_work(w->broker, w);
    s_close_db(w);
    return NULL;
}

/* A worker's state, no thread yet; NULL (logged) when out of memory. */
static sdx_worker_t *
s_worker_new(sdx_broker_t *broker, const sdx_config_t *cfg,
             sdx_stats_t *stats, sdx_cache_t *cache, unsigned number)
{
    sdx_worker_t *w = calloc(1, sizeof *w);
    if (!w) {
        sdx_log(SDX_LOG_ERROR, "worker %u: out of memory", number);
        return NULL;
    }
    w->broker = broker;
    w->cfg = cfg;
    w->stats = stats;
    w->cache = cache;
    w->number = number;
    w->nlocks = 0;
    w->reopen_gen = sdx_stats_reopen_generation(stats);
    w->open_log = (sdx_log_limit_t){.what = "index open failure",
                                    .burst = OPEN_LOG_BURST,
                                    .window_s = OPEN_LOG_WINDOW_S};
    return w;
}

sdx_worker_t *
sdx_worker_new_threadless(const sdx_config_t *cfg, sdx_stats_t *stats,
                          sdx_cache_t *cache, unsigned number)
{
    sdx_worker_t *w = s_worker_new(NULL, cfg, stats, cache, number);
    if (w)
        s_refresh_db(w, true);
    return w;
}

void
sdx_worker_free(sdx_worker_t **worker_p)
{
    if (!worker_p || !*worker_p)
        return;
    s_close_db(*worker_p);
    free(*worker_p);
    *worker_p = NULL;
}

sdx_worker_t *
sdx_worker_start(sdx_broker_t *broker, const sdx_config_t *cfg,
                 sdx_stats_t *stats, sdx_cache_t *cache, unsigned number)
{
    sdx_worker_t *w = s_worker_new(broker, cfg, stats, cache, number);
    if (!w)
        return NULL;
    int rc = pthread_create(&w->thread, NULL, s_worker_main, w);
    if (rc != 0) {
        sdx_log(SDX_LOG_ERROR, "worker %u: pthread_create: %s", number,
                strerror(rc));
        free(w);
        return NULL;
    }
    return w;
}

void
sdx_worker_join(sdx_worker_t **worker_p)
{
    if (!worker_p || !*worker_p)
        return;
    pthread_join((*worker_p)->thread, NULL);
    free(*worker_p);
    *worker_p = NULL;
}
