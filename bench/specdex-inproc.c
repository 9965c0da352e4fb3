/*
 * specdex-inproc: the floor.  The query set run straight through the
 * Xapian shim (sdx_db_search), in this process, with no socket and no
 * msgpack: what specdexd could at best do with the same cores.
 *
 * Each of --threads threads opens its own sdx_db_t (Xapian objects are
 * not thread-safe) and runs the query set from its own starting point,
 * one query after the other, for --duration seconds.  A search is the
 * daemon's search, from the same sdx_index_search_init: the same query
 * fields, cost bounds (check_at_least 200, wildcard expansion 200, time
 * limit 0.5 s), synonyms expanded (corpus/synonyms.txt, as the index
 * holds them), top 10 and, unless --no-snippet, 240-byte snippets with <mark>
 * markers; every hit's data and snippet are read.  A ladder is the
 * daemon's main ladder search: levels 1..5 (as the exclusion of 0 and
 * 6..9), the best hit per level from the first 40 matches, no snippets
 * (the rare search of a level beyond them, and the row's cells, are
 * left out).  Nothing else of the daemon (request decoding, reply
 * packing, the broker) is here.
 *
 * --matches runs the set once more with check_at_least = the number of
 * documents, so Xapian counts every match exactly, and reports the mean
 * matches per search query (the corpus generator's selectivity).
 *
 * --per-query R finds the tail: one handle, one pass over the set to
 * warm the caches, then each query R times in a row; one line per query,
 * `median_us<TAB>max_us<TAB>op<TAB>q<TAB>levels<TAB>sections`, in file
 * order (sort -n to see the slowest).  No thread contends, so the time
 * is the query's own cost, not the queue it waited in.
 *
 * Usage: specdex-inproc --index DIR --queries FILE [--threads N]
 *          [--duration S] [--warmup S] [--no-snippet] [--no-ladder]
 *          [--xapian-snippets] [--per-query R]
 * --xapian-snippets makes the snippets with Xapian's MSet::snippet and
 * its default flags (background model, exhaustive): the naive figure
 * issue 7's daemon target is set against (engine inproc-xapian).  By
 * default the snippets are the daemon's (the shim's highlighter, the
 * text found in the clause record).
 *          [--matches] [--corpus LABEL] [--header]
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench.h"
#include "sdx_clause.h"
#include "sdx_index.h"
#include "sdx_xapian.h"

#define THREADS_MAX 64          /* --threads, at most */
#define PER_QUERY_MAX 1000      /* --per-query repeats, at most */

/* One query's filters as terms, made once before the clock starts. */
typedef struct qterms {
    char *lv[BQ_MAX_LEVELS];   /* "XL3", ... */
    char *sec[BQ_MAX_SECTIONS]; /* "XSksa", ... */
    sdx_filter_t f[2];         /* views for the shim */
    size_t nf;                 /* filters in use */
} qterms_t;

/* What all threads share (read only while they run). */
typedef struct shared {
    const char *db_path;       /* the database to open */
    const bq_set_t *set;       /* the queries */
    qterms_t *terms;           /* per query */
    char *ladder_terms[5];     /* "XL0", "XL6".."XL9": not a ladder's */
    bool snippets;             /* ask for snippets */
    bool xapian_snippets;      /* MSet::snippet, default flags */
    double warmup;             /* seconds */
    double duration;           /* seconds */
    unsigned nthreads;         /* threads */
} shared_t;

/* Run one search; read every hit.  Returns the estimate or -1. */
static int64_t
s_search(sdx_db_t *db, const char *q, const sdx_filter_t *f, size_t nf,
         unsigned limit, unsigned check_at_least, bool snippets,
         bool ladder)
{
    /* the daemon's search (fields, bounds, synonyms), then this run's */
    sdx_search_spec_t spec;
    sdx_index_search_init(&spec, q, NULL);
    spec.filters = f;
    spec.nfilters = nf;
    spec.limit = limit;
    spec.check_at_least = check_at_least;
    if (check_at_least > SDX_SEARCH_CHECK_AT_LEAST)
        spec.time_limit_s = 0; /* --matches counts them all */
    spec.snippets = snippets;
    spec.hl_open = "<mark>";
    spec.hl_close = "</mark>";
    spec.collapse = ladder;
    spec.collapse_scan = ladder ? SDX_SEARCH_LADDER_SCAN : 0;
    spec.key_slot = SDX_SLOT_LEVEL;
    sdx_results_t *r = NULL;
    sdx_status_t st = sdx_db_search(db, &spec, &r);
    if (st != SDX_OK) {
        fprintf(stderr, "specdex-inproc: search: %s: %s\n",
                sdx_status_str(st), sdx_db_errmsg(db));
        return -1;
    }
    size_t n = sdx_results_count(r);
    volatile size_t touched = 0;
    for (size_t i = 0; i < n; i++) {
        sdx_hit_t hit;
        sdx_results_hit(r, i, &hit);
        touched += hit.data_len + strlen(hit.snippet ? hit.snippet : "");
    }
    int64_t est = (int64_t)sdx_results_estimate(r);
    sdx_results_destroy(&r);
    return est;
}

/* One query of the set: a search, or a ladder of five.  0 or -1. */
static int
s_query(sdx_db_t *db, const shared_t *sh, size_t qi)
{
    const bq_query_t *q = &sh->set->v[qi];
    const qterms_t *t = &sh->terms[qi];
    if (q->op == BQ_SEARCH)
        return s_search(db, q->q, t->f, t->nf, 10,
                        SDX_SEARCH_CHECK_AT_LEAST,
                        sh->snippets, false) < 0
                   ? -1 : 0;
    sdx_filter_t f[2];
    size_t nf = 0;
    f[nf++] = (sdx_filter_t){
        .terms = (const char *const *)sh->ladder_terms, .nterms = 5,
        .exclude = true};
    if (q->nsections)
        f[nf++] = t->f[t->nf - 1];
    return s_search(db, q->q, f, nf, 5, 0, false, true) < 0 ? -1 : 0;
}

static void *
s_worker(void *arg)
{
    bq_thread_t *w = arg;
    const shared_t *sh = w->shared;
    sdx_db_t *db = NULL;
    char *errmsg = NULL;
    if (sdx_index_open(sh->db_path, &db, &errmsg) != SDX_OK) {
        fprintf(stderr, "specdex-inproc: %s: %s\n", sh->db_path,
                errmsg ? errmsg : "cannot open");
        free(errmsg);
        w->failed = 1;
        return NULL;
    }
    sdx_db_set_xapian_snippets(db, sh->xapian_snippets);
    size_t n = sh->set->n;
    size_t qi = (n * w->index) / sh->nthreads;
    uint64_t end = sdx_now_ns() + (uint64_t)(sh->warmup * 1e9);
    while (sdx_now_ns() < end) {
        if (s_query(db, sh, qi))
            w->errors++;
        qi = (qi + 1) % n;
    }
    uint64_t start = sdx_now_ns(), now = start;
    end = start + (uint64_t)(sh->duration * 1e9);
    while (now < end) {
        int rc = s_query(db, sh, qi);
        uint64_t t = sdx_now_ns();
        if (rc)
            w->errors++;
        if (bq_lat_add(&w->lat, t - now)) {
            w->errors++;
            break;
        }
        w->requests++;
        now = t;
        qi = (qi + 1) % n;
    }
    w->seconds = (double)(now - start) / 1e9;
    sdx_db_destroy(&db);
    return NULL;
}

/* Make the filter terms of every query; -1 when out of memory. */
static int
s_make_terms(shared_t *sh)
{
    const bq_set_t *set = sh->set;
    if (!(sh->terms = calloc(set->n, sizeof *sh->terms)))
        return -1;
    for (size_t i = 0; i < set->n; i++) {
        const bq_query_t *q = &set->v[i];
        qterms_t *t = &sh->terms[i];
        char buf[256];
        for (size_t j = 0; j < q->nlevels; j++) {
            snprintf(buf, sizeof buf, "%s%d", SDX_PREFIX_LEVEL, q->levels[j]);
            if (!(t->lv[j] = strdup(buf)))
                return -1;
        }
        for (size_t j = 0; j < q->nsections; j++) {
            snprintf(buf, sizeof buf, "%s%s", SDX_PREFIX_SECTION,
                     q->sections[j]);
            if (!(t->sec[j] = strdup(buf)))
                return -1;
        }
        if (q->nlevels)
            t->f[t->nf++] = (sdx_filter_t){
                .terms = (const char *const *)t->lv, .nterms = q->nlevels};
        if (q->nsections)
            t->f[t->nf++] = (sdx_filter_t){
                .terms = (const char *const *)t->sec,
                .nterms = q->nsections};
    }
    static const int others[5] = {0, 6, 7, 8, 9};
    for (int l = 0; l < 5; l++) {
        char buf[16];
        snprintf(buf, sizeof buf, "%s%d", SDX_PREFIX_LEVEL, others[l]);
        if (!(sh->ladder_terms[l] = strdup(buf)))
            return -1;
    }
    return 0;
}

static void
s_free_terms(shared_t *sh)
{
    if (sh->terms)
        for (size_t i = 0; i < sh->set->n; i++) {
            for (size_t j = 0; j < BQ_MAX_LEVELS; j++)
                free(sh->terms[i].lv[j]);
            for (size_t j = 0; j < BQ_MAX_SECTIONS; j++)
                free(sh->terms[i].sec[j]);
        }
    free(sh->terms);
    sh->terms = NULL;
    for (int l = 0; l < 5; l++)
        free(sh->ladder_terms[l]);
}

/*
 * --per-query: each query REPEAT times on one handle after a warm-up
 * pass; its median and largest time printed.  0, or -1 on failure.
 */
static int
s_per_query(const shared_t *sh, unsigned repeat)
{
    sdx_db_t *db = NULL;
    char *errmsg = NULL;
    uint64_t *us = calloc(repeat, sizeof *us);
    int rc = -1;
    if (!us) {
        fprintf(stderr, "specdex-inproc: out of memory\n");
        return -1;
    }
    if (sdx_index_open(sh->db_path, &db, &errmsg) != SDX_OK) {
        fprintf(stderr, "specdex-inproc: %s: %s\n", sh->db_path,
                errmsg ? errmsg : "cannot open");
        goto cleanup;
    }
    sdx_db_set_xapian_snippets(db, sh->xapian_snippets);
    for (size_t i = 0; i < sh->set->n; i++)
        if (s_query(db, sh, i))
            goto cleanup;
    for (size_t i = 0; i < sh->set->n; i++) {
        for (unsigned k = 0; k < repeat; k++) {
            uint64_t t0 = sdx_now_ns();
            if (s_query(db, sh, i))
                goto cleanup;
            us[k] = (sdx_now_ns() - t0) / 1000;
        }
        bq_per_query_print(stdout, &sh->set->v[i], us, repeat);
    }
    rc = 0;
cleanup:
    free(errmsg);
    sdx_db_destroy(&db);
    free(us);
    return rc;
}

/*
 * Mean exact matches per search query (ladders left out), on one
 * handle; -1 on failure.
 */
static double
s_mean_matches(const shared_t *sh)
{
    sdx_db_t *db = NULL;
    char *errmsg = NULL;
    uint64_t docs = 0;
    double sum = 0;
    size_t n = 0;
    if (sdx_index_open(sh->db_path, &db, &errmsg) != SDX_OK ||
        sdx_db_doc_count(db, &docs) != SDX_OK) {
        free(errmsg);
        sdx_db_destroy(&db);
        return -1;
    }
    unsigned all = docs > 4000000000u ? 4000000000u : (unsigned)docs;
    for (size_t i = 0; i < sh->set->n; i++) {
        const bq_query_t *q = &sh->set->v[i];
        if (q->op != BQ_SEARCH)
            continue;
        const qterms_t *t = &sh->terms[i];
        int64_t est = s_search(db, q->q, t->f, t->nf, 1, all, false,
                               false);
        if (est < 0) {
            sdx_db_destroy(&db);
            return -1;
        }
        sum += (double)est;
        n++;
    }
    sdx_db_destroy(&db);
    return n ? sum / (double)n : 0;
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"index", required_argument, NULL, 'i'},
        {"queries", required_argument, NULL, 'q'},
        {"threads", required_argument, NULL, 't'},
        {"duration", required_argument, NULL, 'd'},
        {"warmup", required_argument, NULL, 'w'},
        {"no-snippet", no_argument, NULL, 'S'},
        {"xapian-snippets", no_argument, NULL, 'X'},
        {"no-ladder", no_argument, NULL, 'L'},
        {"matches", no_argument, NULL, 'm'},
        {"per-query", required_argument, NULL, 'P'},
        {"corpus", required_argument, NULL, 'C'},
        {"header", no_argument, NULL, 'H'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *index = NULL, *queries = NULL, *corpus = "-";
    bool no_ladder = false, matches = false, header = false;
    long per_query = 0;
    shared_t sh = {.snippets = true, .warmup = 1, .duration = 10,
                   .nthreads = 2};
    bq_set_t *set = NULL;
    bq_thread_t *w = NULL;
    char err[512], path[4096];
    int c, rc = 1;
    bool usage = false;

    /* An unknown option ends the loop: setting optind past argc instead
       made glibc's getopt read beyond argv and spin for ever. */
    while (!usage && (c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'i': index = optarg; break;
        case 'q': queries = optarg; break;
        case 't': sh.nthreads = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'd': sh.duration = strtod(optarg, NULL); break;
        case 'w': sh.warmup = strtod(optarg, NULL); break;
        case 'S': sh.snippets = false; break;
        case 'X': sh.xapian_snippets = true; break;
        case 'L': no_ladder = true; break;
        case 'm': matches = true; break;
        case 'P': per_query = strtol(optarg, NULL, 10);
                  usage = per_query < 1 || per_query > PER_QUERY_MAX;
                  break;
        case 'C': corpus = optarg; break;
        case 'H': header = true; break;
        default: usage = true; break;  /* 'h' and unknown options */
        }
    }
    if (usage || !index || !queries || optind != argc || sh.nthreads < 1 ||
        sh.nthreads > THREADS_MAX || sh.duration <= 0 || sh.warmup < 0) {
        fprintf(stderr, "usage: specdex-inproc --index DIR --queries FILE "
                "[--threads N]\n         [--duration S] [--warmup S] "
                "[--no-snippet] [--no-ladder]\n         [--xapian-snippets] "
                "[--matches] "
                "[--corpus LABEL] [--header]\n         [--per-query R]\n");
        return 2;
    }
    /* an index directory of specdex-index: open what "current" names */
    struct stat stbuf;
    snprintf(path, sizeof path, "%s/current", index);
    sh.db_path = stat(path, &stbuf) == 0 ? path : index;

    if (bq_set_load(queries, no_ladder, &set, err, sizeof err)) {
        fprintf(stderr, "specdex-inproc: %s\n", err);
        return 1;
    }
    sh.set = set;
    if (s_make_terms(&sh) ||
        !(w = calloc(sh.nthreads, sizeof *w))) {
        fprintf(stderr, "specdex-inproc: out of memory\n");
        goto cleanup;
    }
    if (per_query) {
        rc = s_per_query(&sh, (unsigned)per_query) ? 1 : 0;
        goto cleanup;
    }
    double mean = -1;
    if (matches && (mean = s_mean_matches(&sh)) < 0)
        goto cleanup;
    bq_lat_t all = {0};
    bq_result_t r = {.engine = !sh.snippets ? "inproc-nosnip"
                             : sh.xapian_snippets ? "inproc-xapian"
                                                  : "inproc",
                     .corpus = corpus, .inflight = sh.nthreads,
                     .threads = sh.nthreads, .snippets = sh.snippets,
                     .matches = mean};
    int failed = bq_threads_run(w, sh.nthreads, &sh, s_worker,
                                "specdex-inproc", &r, &all);
    if (!failed) {
        bq_result_print(stdout, header, &r, &all);
        rc = r.errors ? 1 : 0;
    }
    bq_lat_free(&all);
cleanup:
    free(w);
    s_free_terms(&sh);
    bq_set_destroy(&set);
    return rc;
}
