/*
 * bench: what the benchmark programs share -- the fixed query set,
 * latency samples with their percentiles, and the one CSV line every
 * engine's run prints.  Their clock is lib's (sdx_now_ns, sdx_util.h,
 * included here), the one the daemon times requests with.
 *
 * The programs (specdex-load over ZeroMQ, specdex-inproc through the
 * shim, fts5-bench over SQLite) answer the same queries and report in
 * the same shape, so bench/run-bench can put them side by side.  None of
 * this is part of specdex itself; it is linked only into bench/.
 *
 * Query set format (bench/queries.txt): one query a line,
 *   OP <TAB> Q <TAB> LEVELS <TAB> SECTIONS
 * OP is "search" or "ladder"; LEVELS a comma list of 1..5, SECTIONS a
 * comma list of section kinds, either may be empty.  '#' starts a
 * comment line.
 */
#ifndef SDX_BENCH_H
#define SDX_BENCH_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {             /* lucene-bench is C++; lib's headers are C */
#endif

#include "sdx_util.h"

#define BQ_MAX_QUERIES 100000  /* queries in one set, at most */
#define BQ_MAX_LEVELS 5        /* levels in one filter */
#define BQ_MAX_SECTIONS 7      /* sections in one filter */
#define BQ_Q_MAX 1024          /* bytes of one query string */

typedef enum bq_op { BQ_SEARCH, BQ_LADDER } bq_op_t;

/* One query of the set. */
typedef struct bq_query {
    bq_op_t op;                /* search or ladder */
    char *q;                   /* the query string, Xapian syntax */
    int levels[BQ_MAX_LEVELS]; /* level filter, 1..5 */
    size_t nlevels;            /* entries of LEVELS; 0: no filter */
    char *sections[BQ_MAX_SECTIONS]; /* section filter */
    size_t nsections;          /* entries of SECTIONS; 0: no filter */
} bq_query_t;

/* The query set. */
typedef struct bq_set {
    bq_query_t *v;             /* the queries, in file order */
    size_t n;                  /* number of queries */
} bq_set_t;

/*
 * Read the query set at PATH into *out (caller frees with
 * bq_set_destroy).  With SKIP_LADDER, ladder lines are left out.
 * Returns 0, or -1 with a "PATH:LINE: what" message in ERR.
 */
int bq_set_load(const char *path, bool skip_ladder, bq_set_t **out,
                char *err, size_t err_size);

/* Free a set; NULL-safe, nulls *set_p. */
void bq_set_destroy(bq_set_t **set_p);

/* Latency samples of one run. */
typedef struct bq_lat {
    uint32_t *us;              /* samples, microseconds */
    size_t n;                  /* samples held */
    size_t cap;                /* capacity of US (bounded) */
    uint64_t dropped;          /* samples past BQ_LAT_MAX, not kept */
} bq_lat_t;

#define BQ_LAT_MAX 20000000    /* samples kept per run, at most (80 MB) */

/* Add one sample of NS nanoseconds.  Returns -1 when out of memory. */
int bq_lat_add(bq_lat_t *lat, uint64_t ns);

/* Append SRC's samples to DST.  Returns -1 when out of memory. */
int bq_lat_merge(bq_lat_t *dst, const bq_lat_t *src);

/* Free the samples (the struct itself is the caller's). */
void bq_lat_free(bq_lat_t *lat);

/* What one run measured, as printed by bq_result_print. */
typedef struct bq_result {
    const char *engine;        /* "daemon", "inproc", "fts5", "echo" */
    const char *corpus;        /* a label for the corpus ("1M") */
    unsigned inflight;         /* requests in flight (or threads) */
    unsigned threads;          /* server or engine threads */
    bool snippets;             /* snippets asked for */
    uint64_t requests;         /* answered requests in the timed part */
    uint64_t errors;           /* error replies or failed calls */
    double seconds;            /* length of the timed part */
    double reply_bytes;        /* mean reply size in bytes (0: n/a) */
    double matches;            /* mean matches per query (-1: n/a) */
} bq_result_t;

/*
 * Print the CSV header line (with HEADER) and one line for R and the
 * percentiles of LAT (sorted in place) to F.  Columns:
 * engine,corpus,inflight,threads,snippets,requests,errors,seconds,qps,
 * p50_us,p90_us,p99_us,p999_us,max_us,mean_us,reply_bytes,matches
 */
void bq_result_print(FILE *f, bool header, const bq_result_t *r,
                     bq_lat_t *lat);

/*
 * --per-query output: sort the N (> 0) times US (microseconds, sorted
 * in place) of query Q and print one line to F,
 * `median_us<TAB>max_us<TAB>op<TAB>q<TAB>levels<TAB>sections`,
 * the last three as the query file has them.
 */
void bq_per_query_print(FILE *f, const bq_query_t *q, uint64_t *us,
                        size_t n);

/* One in-process benchmark thread: what it is given, what it measures. */
typedef struct bq_thread {
    pthread_t tid;             /* the thread */
    const void *shared;        /* the engine's shared state */
    unsigned index;            /* 0-based thread number */
    bq_lat_t lat;              /* its latency samples */
    uint64_t requests;         /* queries answered in the timed part */
    uint64_t errors;           /* failed queries */
    double seconds;            /* its timed part */
    int failed;                /* setup failed, or a sample was lost */
} bq_thread_t;

/*
 * Join T, add its counts to R (the longest timed part wins) and its
 * samples to ALL, then free them.  Returns nonzero when T failed or its
 * samples could not be merged.
 */
int bq_thread_collect(bq_thread_t *t, bq_result_t *r, bq_lat_t *all);

/*
 * Run FN on N threads, each given its T[i] (SHARED and i set here), wait
 * for them and collect each into R and ALL (bq_thread_collect).  Returns
 * nonzero when a thread could not start (PROG names the program in the
 * message) or failed.
 */
int bq_threads_run(bq_thread_t *t, unsigned n, const void *shared,
                   void *(*fn)(void *), const char *prog, bq_result_t *r,
                   bq_lat_t *all);

/*
 * One query of an in-process thread's loop: run query QI of the set on
 * CTX (TIMED: the measured part).  Returns 0, or -1 for a failed query,
 * which the loop counts in W->errors; it says why on stderr while
 * W->errors < 3, so a broken run is not a flood.
 */
typedef int bq_query_fn(bq_thread_t *w, void *ctx, size_t qi, bool timed);

/*
 * The loop of an in-process thread (fts5-bench, lucene-bench): the N
 * queries of the set in turn from W's own starting point (its share of
 * NTHREADS), WARMUP seconds unmeasured, then DURATION seconds measured
 * into W (latency samples, requests, errors, seconds).  Stops early with
 * W->failed set when a sample cannot be kept.
 */
void bq_thread_loop(bq_thread_t *w, size_t n, unsigned nthreads,
                    double warmup, double duration, bq_query_fn *query,
                    void *ctx);

/* The `search` options the peers (fts5-bench, lucene-bench) share. */
typedef struct bq_peer_opts {
    const char *store;         /* --db FILE or --index DIR */
    const char *queries;       /* --queries FILE */
    unsigned nthreads;         /* --threads, 1..BQ_THREADS_MAX (2) */
    double duration;           /* --duration, seconds (10) */
    double warmup;             /* --warmup, seconds (1) */
    bool snippets;             /* false with --no-snippet */
    bool no_ladder;            /* --no-ladder */
    const char *corpus;        /* --corpus LABEL ("-") */
    bool header;               /* --header */
} bq_peer_opts_t;

#define BQ_THREADS_MAX 64      /* --threads, at most */

/*
 * Parse a peer's `search` options ARGV (ARGV[0] is "search") into *O,
 * defaults first; STORE_OPT names the store's option ("db" or "index",
 * its value STORE_ARG in the usage).  Returns 0, or 2 after printing
 * PROG's usage to stderr (an unknown option, a missing one, a value out
 * of range).
 */
int bq_peer_opts_parse(int argc, char **argv, const char *prog,
                       const char *store_opt, const char *store_arg,
                       bq_peer_opts_t *o);

/*
 * Parse one flat JSON object LINE (a clause record of docs/CORPUS.md:
 * string and integer values), decoding it in place: VALS[i] becomes the
 * value of key KEYS[i] (integers as their text; "" when the key is
 * absent), pointing into LINE.  Other keys are skipped.  Returns 0, or
 * -1 when LINE is not such an object.
 */
int bq_json_line(char *line, const char *const *keys, size_t nkeys,
                 const char **vals);

#ifdef __cplusplus
}
#endif

#endif /* SDX_BENCH_H */
