/*
 * stats: the counters `stats` reports, the one thing worker threads
 * share, and the `stats` reply itself (sdx_op_stats), built here and
 * nowhere else: the index served, these counters, the cache's.  A mutex guards them; it is held for a few stores per request
 * and for one copy of the window per `stats` request (percentiles are
 * sorted outside the lock), so contention stays far below the cost of
 * a search.  Everything is a fixed-size array sized at creation: the
 * counters cost the same after a billion requests as after one.
 *
 * The reopen generation (SIGHUP) is an atomic counter beside the lock,
 * so a worker can look at it on every turn without taking the mutex.
 */
#include "ops_int.h"

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "sdx_index.h"

/* Requests and errors of one op. */
typedef struct op_count {
    uint64_t requests;         /* answered */
    uint64_t errors;           /* of them, ok: false */
} op_count_t;

struct sdx_stats {
    pthread_mutex_t lock;      /* guards everything below but REOPEN */
    uint64_t started_us;       /* sdx_now_us() at creation */
    uint64_t requests;         /* requests answered */
    uint64_t errors;           /* of them, errors */
    uint64_t slow;             /* of them, over --slow-ms */
    op_count_t by_op[SDX_OP_LAST + 1]; /* [SDX_OP_LAST]: op never read */
    uint64_t by_code[SDX_E_LAST];      /* [SDX_E_NONE]: ok */
    uint64_t dropped_full;     /* replies dropped: the client's queue was
                                  full (it does not read) */
    uint64_t dropped_gone;     /* replies dropped: the client was gone */
    uint64_t accept_failed;    /* connections the frontend could not
                                  accept */
    unsigned workers;          /* worker threads */
    unsigned handles;          /* database handles, one a worker */
    uint64_t *revisions;       /* revision each handle serves, 0: none */
    uint64_t window[SDX_STATS_WINDOW]; /* recent latencies, us */
    size_t nwindow;            /* entries filled, <= SDX_STATS_WINDOW */
    size_t next;               /* slot the next latency goes to */
    atomic_uint reopen;        /* SIGHUPs so far */
    _Atomic uint64_t cost_us;  /* running mean of answer times, us */
};

#define COST_SHIFT 3           /* a new answer time weighs 1/8 */

sdx_stats_t *
sdx_stats_new(unsigned workers, unsigned handles)
{
    sdx_stats_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->revisions = calloc(handles ? handles : 1, sizeof *s->revisions);
    if (!s->revisions || pthread_mutex_init(&s->lock, NULL) != 0) {
        free(s->revisions);
        free(s);
        return NULL;
    }
    atomic_init(&s->reopen, 0);
    atomic_init(&s->cost_us, 0);
    s->started_us = sdx_now_us();
    s->workers = workers;
    s->handles = handles;
    return s;
}

void
sdx_stats_destroy(sdx_stats_t **stats_p)
{
    if (!stats_p || !*stats_p)
        return;
    pthread_mutex_destroy(&(*stats_p)->lock);
    free((*stats_p)->revisions);
    free(*stats_p);
    *stats_p = NULL;
}

void
sdx_stats_record_op(sdx_stats_t *s, sdx_op_t op, sdx_errcode_t code,
                    uint64_t took_us)
{
    bool error = code != SDX_E_NONE;
    if ((unsigned)op > SDX_OP_LAST)
        op = SDX_OP_LAST;
    if ((unsigned)code >= SDX_E_LAST)
        code = SDX_E_INTERNAL;
    pthread_mutex_lock(&s->lock);
    s->requests++;
    s->by_op[op].requests++;
    s->by_code[code]++;
    if (error) {
        s->errors++;
        s->by_op[op].errors++;
    }
    if (took_us != UINT64_MAX) {
        s->window[s->next] = took_us;
        s->next = (s->next + 1) % SDX_STATS_WINDOW;
        if (s->nwindow < SDX_STATS_WINDOW)
            s->nwindow++;
    }
    pthread_mutex_unlock(&s->lock);
}

void
sdx_stats_record(sdx_stats_t *s, uint64_t took_us, bool error)
{
    sdx_stats_record_op(s, SDX_OP_LAST,
                        error ? SDX_E_INTERNAL : SDX_E_NONE, took_us);
}

/*
 * Lock-free: threads racing here may lose a sample, which a running
 * mean of thousands does not notice; no request waits on a lock.
 */
void
sdx_stats_note_cost(sdx_stats_t *s, uint64_t took_us)
{
    uint64_t mean = atomic_load_explicit(&s->cost_us, memory_order_relaxed);
    if (took_us >= mean)
        mean += (took_us - mean) >> COST_SHIFT;
    else
        mean -= (mean - took_us) >> COST_SHIFT;
    atomic_store_explicit(&s->cost_us, mean, memory_order_relaxed);
}

uint64_t
sdx_stats_cost_us(sdx_stats_t *s)
{
    return atomic_load_explicit(&s->cost_us, memory_order_relaxed);
}

void
sdx_stats_record_slow(sdx_stats_t *s)
{
    pthread_mutex_lock(&s->lock);
    s->slow++;
    pthread_mutex_unlock(&s->lock);
}

void
sdx_stats_record_dropped(sdx_stats_t *s, bool full)
{
    pthread_mutex_lock(&s->lock);
    if (full)
        s->dropped_full++;
    else
        s->dropped_gone++;
    pthread_mutex_unlock(&s->lock);
}

void
sdx_stats_record_accept_failed(sdx_stats_t *s)
{
    pthread_mutex_lock(&s->lock);
    s->accept_failed++;
    pthread_mutex_unlock(&s->lock);
}

void
sdx_stats_fds(uint64_t *open, uint64_t *limit)
{
    struct rlimit lim;
    *limit = getrlimit(RLIMIT_NOFILE, &lim) == 0 ? (uint64_t)lim.rlim_cur
                                                 : 0;
    *open = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            (*open)++;
    closedir(d);
    if (*open)
        (*open)--;             /* opendir's own */
}

void
sdx_stats_set_revision(sdx_stats_t *s, unsigned number, uint64_t rev)
{
    if (number >= s->handles)
        return;
    pthread_mutex_lock(&s->lock);
    s->revisions[number] = rev;
    pthread_mutex_unlock(&s->lock);
}

void
sdx_stats_revisions(sdx_stats_t *s, uint64_t *lowest, uint64_t *highest)
{
    uint64_t lo = UINT64_MAX, hi = 0;
    pthread_mutex_lock(&s->lock);
    for (unsigned i = 0; i < s->handles; i++) {
        if (s->revisions[i] < lo)
            lo = s->revisions[i];
        if (s->revisions[i] > hi)
            hi = s->revisions[i];
    }
    pthread_mutex_unlock(&s->lock);
    *lowest = s->handles ? lo : 0;
    *highest = hi;
}

void
sdx_stats_request_reopen(sdx_stats_t *s)
{
    atomic_fetch_add(&s->reopen, 1);
}

unsigned
sdx_stats_reopen_generation(sdx_stats_t *s)
{
    return atomic_load(&s->reopen);
}

static int
s_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The P-th percentile (nearest rank) of N sorted values. */
static uint64_t
s_percentile(const uint64_t *sorted, size_t n, unsigned p)
{
    if (n == 0)
        return 0;
    size_t rank = (n * p + 99) / 100;
    return sorted[rank ? rank - 1 : 0];
}

void
sdx_stats_snapshot(sdx_stats_t *s, sdx_stats_snapshot_t *out)
{
    uint64_t copy[SDX_STATS_WINDOW];
    size_t n;
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&s->lock);
    out->requests = s->requests;
    out->errors = s->errors;
    out->workers = s->workers;
    n = s->nwindow;
    memcpy(copy, s->window, n * sizeof copy[0]);
    pthread_mutex_unlock(&s->lock);

    out->uptime_s = (sdx_now_us() - s->started_us) / 1000000u;
    qsort(copy, n, sizeof copy[0], s_cmp_u64);
    out->p50_us = s_percentile(copy, n, 50);
    out->p90_us = s_percentile(copy, n, 90);
    out->p99_us = s_percentile(copy, n, 99);
    out->max_us = n ? copy[n - 1] : 0;
}

/* Pack a map of the N names NAMES, each with its uint64 of VALUES. */
static void
s_pack_u64_map(msgpack_packer *pk, const char *const *names,
               const uint64_t *values, size_t n)
{
    msgpack_pack_map(pk, n);
    for (size_t i = 0; i < n; i++) {
        sdx_msgpack_pack_str(pk, names[i]);
        msgpack_pack_uint64(pk, values[i]);
    }
}

/*
 * Pack the keys `stats` adds to the contract's: by_op ({op: {requests,
 * errors}}, "none" for requests whose op was never read), by_code ({"ok"
 * or code: count}), slow, replies_dropped ({unread, gone}), descriptors
 * ({open, limit}), accept_failed, cost_us, revisions (the revision each
 * worker's handle serves, by number).
 */
static void
s_pack_counts(sdx_stats_t *s, sdx_body_t *body)
{
    op_count_t by_op[SDX_OP_LAST + 1];
    uint64_t by_code[SDX_E_LAST];
    uint64_t revisions[SDX_DAEMON_MAX_THREADS + 1];
    uint64_t slow;
    unsigned handles;

    pthread_mutex_lock(&s->lock);
    memcpy(by_op, s->by_op, sizeof by_op);
    memcpy(by_code, s->by_code, sizeof by_code);
    slow = s->slow;
    uint64_t dropped[2] = {s->dropped_full, s->dropped_gone};
    uint64_t accept_failed = s->accept_failed;
    handles = s->handles <= SDX_DAEMON_MAX_THREADS + 1
                  ? s->handles
                  : SDX_DAEMON_MAX_THREADS + 1;
    memcpy(revisions, s->revisions, handles * sizeof revisions[0]);
    pthread_mutex_unlock(&s->lock);

    sdx_body_key(body, "by_op");
    msgpack_pack_map(&body->pk, SDX_OP_LAST + 1);
    for (unsigned op = 0; op <= SDX_OP_LAST; op++) {
        sdx_msgpack_pack_str(&body->pk, op == SDX_OP_LAST
                                          ? "none"
                                          : sdx_op_name((sdx_op_t)op));
        msgpack_pack_map(&body->pk, 2);
        sdx_msgpack_pack_str(&body->pk, "requests");
        msgpack_pack_uint64(&body->pk, by_op[op].requests);
        sdx_msgpack_pack_str(&body->pk, "errors");
        msgpack_pack_uint64(&body->pk, by_op[op].errors);
    }
    sdx_body_key(body, "by_code");
    msgpack_pack_map(&body->pk, SDX_E_LAST);
    for (unsigned code = 0; code < SDX_E_LAST; code++) {
        sdx_msgpack_pack_str(&body->pk,
                           code == SDX_E_NONE
                               ? "ok"
                               : sdx_errcode_str((sdx_errcode_t)code));
        msgpack_pack_uint64(&body->pk, by_code[code]);
    }
    sdx_body_key(body, "slow");
    msgpack_pack_uint64(&body->pk, slow);
    sdx_body_key(body, "replies_dropped");
    static const char *const drop_names[] = {"unread", "gone"};
    s_pack_u64_map(&body->pk, drop_names, dropped, 2);
    uint64_t fds[2];
    sdx_stats_fds(&fds[0], &fds[1]);
    sdx_body_key(body, "descriptors");
    static const char *const fd_names[] = {"open", "limit"};
    s_pack_u64_map(&body->pk, fd_names, fds, 2);
    sdx_body_key(body, "accept_failed");
    msgpack_pack_uint64(&body->pk, accept_failed);
    sdx_body_key(body, "cost_us");
    msgpack_pack_uint64(&body->pk, sdx_stats_cost_us(s));
    sdx_body_key(body, "revisions");
    msgpack_pack_array(&body->pk, handles);
    for (unsigned i = 0; i < handles; i++)
        msgpack_pack_uint64(&body->pk, revisions[i]);
}

/* Pack `cache: {hits, misses, entries, bytes, max_bytes}`. */
static void
s_pack_cache(sdx_cache_t *cache, sdx_body_t *body)
{
    static const char *const names[] = {"hits", "misses", "entries",
                                        "bytes", "max_bytes"};
    sdx_cache_stats_t s;
    sdx_cache_snapshot(cache, &s);
    const uint64_t values[] = {s.hits, s.misses, s.entries, s.bytes,
                               s.max_bytes};
    sdx_body_key(body, "cache");
    s_pack_u64_map(&body->pk, names, values, 5);
}

/* ---------------------------------------------------------------- */
/* The `stats` reply                                                */
/* ---------------------------------------------------------------- */

/* Pack the `index` map: path, revision (int), built_at (str). */
static sdx_errcode_t
s_pack_index(sdx_ops_ctx_t *ctx, sdx_body_t *body, uint64_t *docs,
             sdx_proto_error_t *err)
{
    char *built_at = NULL;
    uint64_t xapian_rev = 0, rev = 0;
    sdx_status_t st, ours = SDX_OK;
    sdx_errcode_t code = SDX_E_NONE;

    if ((st = sdx_db_doc_count(ctx->db, docs)) ||
        (st = sdx_db_revision(ctx->db, &xapian_rev)) ||
        ((ours = st = sdx_index_revision(ctx->db, &rev)) &&
         st != SDX_NOT_FOUND) ||
        (st = sdx_db_get_metadata(ctx->db, SDX_META_BUILT_AT, &built_at))) {
        code = sdx_ops_status_error(ctx, st, "stats", err);
        goto cleanup;
    }
    /* our revision number (rev-NNNNNN) when the indexer wrote one */
    if (ours == SDX_NOT_FOUND)
        rev = xapian_rev;

    sdx_body_key(body, "index");
    msgpack_pack_map(&body->pk, 3);
    sdx_msgpack_pack_str(&body->pk, "path");
    sdx_msgpack_pack_str(&body->pk, ctx->db_path);
    sdx_msgpack_pack_str(&body->pk, "revision");
    msgpack_pack_uint64(&body->pk, rev);
    sdx_msgpack_pack_str(&body->pk, "built_at");
    sdx_msgpack_pack_str(&body->pk, built_at);
cleanup:
    free(built_at);
    return code;
}

sdx_errcode_t
sdx_op_stats(sdx_ops_ctx_t *ctx, const sdx_request_t *req, sdx_body_t *body,
             sdx_proto_error_t *err)
{
    sdx_stats_snapshot_t snap;
    uint64_t docs = 0;
    sdx_errcode_t code;
    (void)req;

    if (ctx->db) {
        if ((code = s_pack_index(ctx, body, &docs, err)))
            return code;
    } else {
        sdx_body_key(body, "index");  /* no index loaded */
        msgpack_pack_nil(&body->pk);
    }
    sdx_stats_snapshot(ctx->stats, &snap);
    sdx_body_key(body, "docs");
    msgpack_pack_uint64(&body->pk, docs);
    sdx_body_key(body, "uptime_s");
    msgpack_pack_uint64(&body->pk, snap.uptime_s);
    sdx_body_key(body, "requests");
    msgpack_pack_uint64(&body->pk, snap.requests);
    sdx_body_key(body, "errors");
    msgpack_pack_uint64(&body->pk, snap.errors);
    sdx_body_key(body, "workers");
    msgpack_pack_unsigned_int(&body->pk, snap.workers);
    sdx_body_key(body, "latency_us");
    static const char *const latency[] = {"p50", "p90", "p99", "max"};
    const uint64_t us[] = {snap.p50_us, snap.p90_us, snap.p99_us,
                           snap.max_us};
    s_pack_u64_map(&body->pk, latency, us, 4);
    s_pack_counts(ctx->stats, body);
    s_pack_cache(ctx->cache, body);
    return SDX_E_NONE;
}

