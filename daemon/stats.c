/*
 * stats: the counters `stats` reports, the one thing worker threads
 * share.  A mutex guards them; it is held for a few stores per request
 * and for one copy of the window per `stats` request (percentiles are
 * sorted outside the lock), so contention stays far below the cost of
 * a search.
 */
#include "daemon.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct sdx_stats {
    pthread_mutex_t lock;      /* guards everything below */
    uint64_t started_us;       /* sdx_now_us() at creation */
    uint64_t requests;         /* requests answered */
    uint64_t errors;           /* of them, errors */
    unsigned workers;          /* worker threads */
    uint64_t window[SDX_STATS_WINDOW]; /* recent latencies, us */
    size_t nwindow;            /* entries filled, <= SDX_STATS_WINDOW */
    size_t next;               /* slot the next latency goes to */
};

uint64_t
sdx_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

sdx_stats_t *
sdx_stats_new(unsigned workers)
{
    sdx_stats_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    if (pthread_mutex_init(&s->lock, NULL) != 0) {
        free(s);
        return NULL;
    }
    s->started_us = sdx_now_us();
    s->workers = workers;
    return s;
}

void
sdx_stats_destroy(sdx_stats_t **stats_p)
{
    if (!stats_p || !*stats_p)
        return;
    pthread_mutex_destroy(&(*stats_p)->lock);
    free(*stats_p);
    *stats_p = NULL;
}

void
sdx_stats_record(sdx_stats_t *s, uint64_t took_us, bool error)
{
    pthread_mutex_lock(&s->lock);
    s->requests++;
    if (error)
        s->errors++;
    if (took_us != UINT64_MAX) {
        s->window[s->next] = took_us;
        s->next = (s->next + 1) % SDX_STATS_WINDOW;
        if (s->nwindow < SDX_STATS_WINDOW)
            s->nwindow++;
    }
    pthread_mutex_unlock(&s->lock);
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
