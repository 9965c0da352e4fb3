/*
 * daemon: the parts of specdexd and how they meet.
 *
 * main.c reads the arguments, binds through the broker, starts the
 * workers and waits for a signal.  The broker (broker.c) owns the one
 * ROUTER socket clients connect to and a bounded queue of requests read
 * while every worker was busy (past its end `overloaded`).  Each worker
 * (worker.c) is one thread with its own Xapian handle that takes the
 * next request from the broker's socket itself, under the broker's lock
 * (leader/followers), answers it without the lock, and sends the reply;
 * ops.c turns one decoded request into one reply body.  Besides the
 * broker's socket and queue, the threads share sdx_stats_t (stats.c):
 * counters and a latency window behind one mutex; and the result cache
 * (cache.c), behind another.
 */
#ifndef SDX_DAEMON_H
#define SDX_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sdx_proto.h"
#include "sdx_util.h" /* sdx_now_us, the clock of every part */
#include "sdx_xapian.h"

#define SDX_DAEMON_MAX_THREADS 256   /* --threads upper bound, threads */
#define SDX_DAEMON_QUEUE_FACTOR 4    /* default queue: workers x this */
#define SDX_DAEMON_SLOW_MS 500       /* default --slow-ms, milliseconds */
#define SDX_DAEMON_REFRESH_MS 250    /* index re-resolve period, ms: a
                                        swapped-in build is served within
                                        this plus one open */
#define SDX_DAEMON_DRAIN_MS 1200     /* SIGTERM: in-flight requests may
                                        finish for this long, ms */
#define SDX_DAEMON_CLIENT_IN_FLIGHT 4 /* requests one connection may have
                                        taken and unanswered; past it
                                        `overloaded` (broker.c) */
#define SDX_DAEMON_CLIENT_FRAMES 16  /* ZMQ_SNDHWM: frames queued to one
                                        connection (a reply is 1 or 2, its
                                        envelope and body); past it a
                                        reply is dropped (broker.c) */
#define SDX_DAEMON_CLIENT_SNDBUF 65536 /* SO_SNDBUF of each connection,
                                        bytes: the kernel's share */
#define SDX_DAEMON_QUERY_KEY 16     /* bytes of the slow log's hash key
                                        (crypto_shorthash_KEYBYTES) */
#define SDX_DAEMON_LINGER_MS 300     /* SIGTERM: replies already sent may
                                        reach their clients for this, ms */

/* What the operator asked for on the command line. */
typedef struct sdx_config {
    const char *index_dir;     /* --index DIR (sdx_index_resolve): the
                                  first of INDEX_DIRS */
    const char *index_dirs[SDX_DB_SHARDS_MAX]; /* --index given again:
                                  the shards of one index, each a DIR or
                                  tcp://HOST:PORT (xapian-tcpsrv) */
    size_t nindex;             /* number of INDEX_DIRS */
    const char *endpoint;      /* --endpoint EP, the frontend */
    unsigned threads;          /* --threads: worker threads */
    unsigned queue_max;        /* --queue: requests waiting, at most */
    bool log_queries;          /* --log-queries: query text in D: lines */
    /* Limits below the protocol's own (sdx_proto.h), 0 meaning "the
       protocol's": requests past them get the error the decoder would
       give past the protocol's. */
    size_t max_frame;          /* --max-frame: request frame, bytes */
    size_t max_query;          /* --max-query: q, bytes */
    unsigned max_limit;        /* --max-limit: search limit, hits */
    unsigned max_ids;          /* --max-ids: ids of one get */
    unsigned slow_ms;          /* --slow-ms: W: line past this, ms;
                                  0: none */
    bool curve;                /* CURVE on the frontend (--curve-secret) */
    char curve_secret[41];     /* the daemon's secret key, Z85 */
    const char *allow_keys;    /* --allow-keys DIR: admitted NAME.key */
    size_t cache_bytes;        /* --cache-mb in bytes; 0: no cache */
    unsigned char query_key[SDX_DAEMON_QUERY_KEY]; /* the slow log's
                                  query hash key: random, made at start,
                                  never written anywhere (worker.c) */
} sdx_config_t;

/* ---------------------------------------------------------------- */
/* stats.c: counters shared by every thread                         */
/* ---------------------------------------------------------------- */

typedef struct sdx_stats sdx_stats_t;

#define SDX_STATS_WINDOW 1024 /* latency window, most recent requests */

/* A copy of the counters at one moment. */
typedef struct sdx_stats_snapshot {
    uint64_t uptime_s;         /* seconds since sdx_stats_new */
    uint64_t requests;         /* requests answered, errors included */
    uint64_t errors;           /* replies with ok: false */
    unsigned workers;          /* worker threads */
    uint64_t p50_us, p90_us, p99_us, max_us; /* over the window, us */
} sdx_stats_snapshot_t;

/*
 * New counters for WORKERS workers and HANDLES database handles (one a
 * worker); NULL when out of memory.
 */
sdx_stats_t *sdx_stats_new(unsigned workers, unsigned handles);

/* Free STATS; NULL-safe, sets *stats_p to NULL. */
void sdx_stats_destroy(sdx_stats_t **stats_p);

/*
 * Count one answered request.  TOOK_US enters the latency window unless
 * it is UINT64_MAX (replies the broker makes without a worker).
 */
void sdx_stats_record(sdx_stats_t *stats, uint64_t took_us, bool error);

/* Fill *out with the current counters. */
void sdx_stats_snapshot(sdx_stats_t *stats, sdx_stats_snapshot_t *out);

/*
 * Count one answered request of OP (SDX_OP_LAST when it could not be
 * read: broker replies, undecodable frames) with reply code CODE
 * (SDX_E_NONE for ok), for `stats`'s by_op and by_code.  TOOK_US as for
 * sdx_stats_record.
 */
void sdx_stats_record_op(sdx_stats_t *stats, sdx_op_t op,
                         sdx_errcode_t code, uint64_t took_us);

/*
 * Fold the time one request took to answer (decode to reply, on any
 * thread) into a running mean, `cost_us` in stats.
 */
void sdx_stats_note_cost(sdx_stats_t *stats, uint64_t took_us);

/* That running mean, microseconds (0 before any request). */
uint64_t sdx_stats_cost_us(sdx_stats_t *stats);

/* Count one request that took longer than --slow-ms. */
void sdx_stats_record_slow(sdx_stats_t *stats);

/*
 * Count one reply the broker could not hand to ZeroMQ because its
 * connection already had SDX_DAEMON_CLIENT_FRAMES unread (FULL) or was
 * gone (!FULL).
 */
void sdx_stats_record_dropped(sdx_stats_t *stats, bool full);

/* Count one connection the frontend could not accept (EMFILE...). */
void sdx_stats_record_accept_failed(sdx_stats_t *stats);

/*
 * The process's descriptors: *open (entries of /proc/self/fd, 0 when it
 * cannot be read) and *limit (RLIMIT_NOFILE's soft limit).
 */
void sdx_stats_fds(uint64_t *open, uint64_t *limit);

/*
 * Worker NUMBER now serves revision REV (the indexer's NNNNNN; 0: no
 * index).  sdx_stats_revisions() gives the lowest and highest served.
 */
void sdx_stats_set_revision(sdx_stats_t *stats, unsigned number,
                            uint64_t rev);
void sdx_stats_revisions(sdx_stats_t *stats, uint64_t *lowest,
                         uint64_t *highest);

/*
 * Ask every worker to open the index again with a fresh handle (SIGHUP),
 * and read the request count a worker compares with the one it last
 * acted on.  Lock-free; safe from any thread.
 */
void sdx_stats_request_reopen(sdx_stats_t *stats);
unsigned sdx_stats_reopen_generation(sdx_stats_t *stats);

/* ---------------------------------------------------------------- */
/* cache.c: reply bodies every worker shares                        */
/* ---------------------------------------------------------------- */

typedef struct sdx_cache sdx_cache_t;

#define SDX_DAEMON_CACHE_MB 32       /* default --cache-mb, MiB */
#define SDX_DAEMON_CACHE_MB_MAX 65536 /* --cache-mb upper bound, MiB */

/* What `stats` reports of the cache. */
typedef struct sdx_cache_stats {
    uint64_t hits;             /* lookups answered from the cache */
    uint64_t misses;           /* lookups that were not */
    uint64_t entries;          /* bodies held */
    uint64_t bytes;            /* their size: header, key, body; bytes */
    uint64_t max_bytes;        /* the bound, bytes; 0: cache off */
} sdx_cache_stats_t;

/*
 * A cache of at most MAX_BYTES (0: off; every lookup misses without
 * being counted and nothing is kept).  NULL when out of memory.
 */
sdx_cache_t *sdx_cache_new(size_t max_bytes);

/* Free CACHE and every entry; NULL-safe, sets *cache_p to NULL. */
void sdx_cache_destroy(sdx_cache_t **cache_p);

/* True when CACHE is not NULL and keeps anything. */
bool sdx_cache_enabled(const sdx_cache_t *cache);

/* True for the ops whose ok replies may be cached (not ping, stats). */
bool sdx_cache_op(sdx_op_t op);

/*
 * The canonical key of REQ answered by the handle on DB_PATH at Xapian
 * revision REV: the path, the revision and the request's canonical form
 * (sdx_request_pack without the id), as msgpack.  Malloc'd (caller
 * frees), *len its size; NULL when out of memory.
 */
void *sdx_cache_key(const sdx_request_t *req, const char *db_path,
                    uint64_t rev, size_t *len);

/*
 * Look KEY (KLEN bytes) up; on a hit append the body's pairs to BODY
 * (which must be empty), set its key count, make the entry the most
 * recent and return true.  Counts a hit or a miss.  Thread-safe.
 */
bool sdx_cache_get(sdx_cache_t *cache, const void *key, size_t klen,
                   sdx_body_t *body);

/*
 * Keep a copy of BODY's pairs under KEY, evicting the least recently
 * used entries to stay within the bound.  A body larger than an eighth
 * of the bound, a failed body, or one already held is not kept; out of
 * memory keeps nothing.  Thread-safe.
 */
void sdx_cache_put(sdx_cache_t *cache, const void *key, size_t klen,
                   const sdx_body_t *body);

/* Fill *out with the counters (all 0 for a NULL cache). */
void sdx_cache_snapshot(sdx_cache_t *cache, sdx_cache_stats_t *out);


/* ---------------------------------------------------------------- */
/* ops.c: one request -> one reply body                             */
/* ---------------------------------------------------------------- */

/* What a handler may use; owned by the worker thread calling it. */
typedef struct sdx_ops_ctx {
    sdx_db_t *db;              /* this thread's handle; NULL: no index */
    const char *db_path;       /* the resolved database path, or "" */
    const char *db_error;      /* why DB is NULL, for `unavailable` */
    sdx_stats_t *stats;        /* shared counters */
    sdx_cache_t *cache;        /* shared result cache, for `stats`; or
                                  NULL */
    const sdx_config_t *cfg;   /* the daemon's configuration */
} sdx_ops_ctx_t;

/*
 * Answer REQ: fill BODY with the op's reply keys and return SDX_E_NONE,
 * or return an error code with ERR's message (BODY is then ignored).
 */
sdx_errcode_t sdx_ops_handle(sdx_ops_ctx_t *ctx, const sdx_request_t *req,
                             sdx_body_t *body, sdx_proto_error_t *err);

/* The wire error code for a shim status (the one table). */
sdx_errcode_t sdx_ops_status_code(sdx_status_t status);

/* ---------------------------------------------------------------- */
/* worker.c                                                         */
/* ---------------------------------------------------------------- */

typedef struct sdx_worker sdx_worker_t;
typedef struct sdx_broker sdx_broker_t;

/*
 * Start worker thread NUMBER: it opens its own database handle and then
 * takes requests from BROKER (sdx_broker_work) until the broker releases
 * it.  CACHE (shared by every worker; NULL: none) answers repeated
 * requests.  Returns NULL (logged) when the thread cannot start.
 */
sdx_worker_t *sdx_worker_start(sdx_broker_t *broker, const sdx_config_t *cfg,
                               sdx_stats_t *stats, sdx_cache_t *cache,
                               unsigned number);

/*
 * Wait for the worker to end (after sdx_broker_release) and free it.
 * NULL-safe, sets *worker_p to NULL.
 */
void sdx_worker_join(sdx_worker_t **worker_p);

/*
 * A worker with no thread, answering on its caller's (the unit tests):
 * handle NUMBER, opened now.  NULL (logged) when out of memory; a
 * missing index is not an error (requests get `unavailable`, as from
 * any worker).
 */
sdx_worker_t *sdx_worker_new_threadless(const sdx_config_t *cfg,
                                        sdx_stats_t *stats,
                                        sdx_cache_t *cache,
                                        unsigned number);

/* Free a worker made by sdx_worker_new_threadless; NULL-safe. */
void sdx_worker_free(sdx_worker_t **worker_p);

/*
 * Answer the request FRAME (LEN bytes) on worker W's handle: *reply
 * (malloc'd, the caller's) is the reply, an `internal` error when memory
 * ran out, or NULL when not even that could be made.
 */
void sdx_worker_answer(sdx_worker_t *w, const void *frame, size_t len,
                       void **reply, size_t *reply_len);

/* Look at the index again when SDX_DAEMON_REFRESH_MS have passed. */
void sdx_worker_refresh(sdx_worker_t *w);

/* ---------------------------------------------------------------- */
/* broker.c                                                         */
/* ---------------------------------------------------------------- */

/*
 * Create the frontend socket on ZCTX and bind it to CFG->endpoint, for
 * CFG->threads workers and a queue of CFG->queue_max.  Returns NULL with
 * a message in ERR when a bind fails (address in use, bad endpoint).
 */
sdx_broker_t *sdx_broker_new(void *zctx, const sdx_config_t *cfg,
                             sdx_stats_t *stats, char *err,
                             size_t err_size);

/*
 * Worker W's loop, on its own thread: take a request (under the broker's
 * lock), answer it (without), send the reply (under it), until
 * sdx_broker_release.
 */
void sdx_broker_work(sdx_broker_t *broker, sdx_worker_t *w);

/* What sdx_broker_serve calls back, on the broker's (main) thread. */
typedef struct sdx_broker_hooks {
    void (*on_ready)(void *arg);  /* once: every worker has opened its
                                     index (or found none) */
    void (*on_tick)(void *arg);   /* every TICK_MS or so; NULL: none */
    void (*on_reload)(void *arg); /* a SIGHUP arrived; NULL: ignored */
    void (*on_handshake_failed)(void *arg, unsigned event,
                                const char *address); /* the monitor saw
                                  a CURVE handshake fail; NULL: none */
    void *arg;                    /* passed to each */
    unsigned tick_ms;             /* on_tick's period, ms */
} sdx_broker_hooks_t;

/*
 * Serve until SIGTERM or SIGINT: SIGNAL_FD is the read end of a
 * self-pipe that gets one byte per signal, the signal's number.  The
 * workers answer; this thread reads the frontend only when none waits
 * for a request (the queue and `overloaded`), and watches the socket
 * monitor.  A stop reads no more requests but lets the queued and
 * running ones finish for up to SDX_DAEMON_DRAIN_MS and their replies go
 * out (the frontend then lingers SDX_DAEMON_LINGER_MS).  Returns 0 on a
 * requested stop, -1 on a ZeroMQ failure (logged).
 */
int sdx_broker_serve(sdx_broker_t *broker, int signal_fd,
                     const sdx_broker_hooks_t *hooks);

/*
 * Let the workers end: each finishes the request it holds, sends its
 * reply and returns from sdx_broker_work.  Call after sdx_broker_serve,
 * before joining them.  NULL-safe.
 */
void sdx_broker_release(sdx_broker_t *broker);

/* Close the sockets (LINGER 0) and free; NULL-safe, nulls *broker_p.
   The workers must have been joined. */
void sdx_broker_destroy(sdx_broker_t **broker_p);


#endif /* SDX_DAEMON_H */
