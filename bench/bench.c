/*
 * bench: the query-set reader and the latency percentiles shared by the
 * benchmark programs (bench.h).
 *
 * Percentiles are exact: every sample is kept (up to BQ_LAT_MAX, 4 bytes
 * each) and sorted once at the end, so p99.9 of a short run is a real
 * sample, not an interpolation from buckets.
 *
 * The JSON reader takes the flat objects of our corpus format (strings
 * and integers, standard escapes) for the peers' builds (fts5-bench,
 * lucene-bench); it is not a general parser.
 */
#include "bench.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- */
/* Query set                                                        */
/* ---------------------------------------------------------------- */

static void
s_query_free(bq_query_t *q)
{
    free(q->q);
    for (size_t i = 0; i < q->nsections; i++)
        free(q->sections[i]);
    memset(q, 0, sizeof *q);
}

void
bq_set_destroy(bq_set_t **set_p)
{
    if (!set_p || !*set_p)
        return;
    bq_set_t *set = *set_p;
    for (size_t i = 0; i < set->n; i++)
        s_query_free(&set->v[i]);
    free(set->v);
    free(set);
    *set_p = NULL;
}

/* Parse LINE (tabs split, modified in place) into Q.  NULL or a why. */
static const char *
s_parse_line(char *line, bq_query_t *q)
{
    char *field[4] = {NULL, NULL, NULL, NULL};
    size_t nf = 0;
    char *p = line;
    while (nf < 4) {
        field[nf++] = p;
        char *tab = strchr(p, '\t');
        if (!tab)
            break;
        *tab = '\0';
        p = tab + 1;
    }
    if (nf < 2)
        return "expected OP<TAB>Q[<TAB>LEVELS<TAB>SECTIONS]";
    if (strcmp(field[0], "search") == 0)
        q->op = BQ_SEARCH;
    else if (strcmp(field[0], "ladder") == 0)
        q->op = BQ_LADDER;
    else
        return "op must be search or ladder";
    size_t qlen = strlen(field[1]);
    if (qlen == 0 || qlen > BQ_Q_MAX)
        return "query must be 1..1024 bytes";
    if (!(q->q = strdup(field[1])))
        return "out of memory";
    if (nf > 2 && field[2][0]) {
        for (char *tok = strtok(field[2], ","); tok;
             tok = strtok(NULL, ",")) {
            char *end;
            long v = strtol(tok, &end, 10);
            if (*end || v < 1 || v > 5)
                return "levels: each must be 1..5";
            if (q->nlevels == BQ_MAX_LEVELS)
                return "levels: at most 5";
            q->levels[q->nlevels++] = (int)v;
        }
    }
    if (nf > 3 && field[3][0]) {
        for (char *tok = strtok(field[3], ","); tok;
             tok = strtok(NULL, ",")) {
            if (q->nsections == BQ_MAX_SECTIONS)
                return "sections: at most 7";
            if (!(q->sections[q->nsections++] = strdup(tok)))
                return "out of memory";
        }
    }
    return NULL;
}

int
bq_set_load(const char *path, bool skip_ladder, bq_set_t **out,
            char *err, size_t err_size)
{
    FILE *f = NULL;
    bq_set_t *set = NULL;
    char line[BQ_Q_MAX + 512];
    size_t lineno = 0, cap = 0;
    int rc = -1;

    *out = NULL;
    if (!(f = fopen(path, "r"))) {
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (!(set = calloc(1, sizeof *set)))
        goto nomem;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strlen(line);
        if (len && line[len - 1] == '\n')
            line[--len] = '\0';
        else if (!feof(f)) {
            snprintf(err, err_size, "%s:%zu: line too long", path, lineno);
            goto cleanup;
        }
        if (len == 0 || line[0] == '#')
            continue;
        if (set->n == BQ_MAX_QUERIES) {
            snprintf(err, err_size, "%s:%zu: more than %d queries", path,
                     lineno, BQ_MAX_QUERIES);
            goto cleanup;
        }
        if (set->n == cap) {
            size_t ncap = cap ? cap * 2 : 256;
            bq_query_t *v = realloc(set->v, ncap * sizeof *v);
            if (!v)
                goto nomem;
            set->v = v;
            cap = ncap;
        }
        bq_query_t *q = &set->v[set->n];
        memset(q, 0, sizeof *q);
        const char *why = s_parse_line(line, q);
        if (why) {
            s_query_free(q);
            snprintf(err, err_size, "%s:%zu: %s", path, lineno, why);
            goto cleanup;
        }
        if (skip_ladder && q->op == BQ_LADDER) {
            s_query_free(q);
            continue;
        }
        set->n++;
    }
    if (ferror(f)) {
        snprintf(err, err_size, "%s: read error", path);
        goto cleanup;
    }
    if (set->n == 0) {
        snprintf(err, err_size, "%s: no queries", path);
        goto cleanup;
    }
    *out = set;
    set = NULL;
    rc = 0;
    goto cleanup;
nomem:
    snprintf(err, err_size, "%s: out of memory", path);
cleanup:
    bq_set_destroy(&set);
    fclose(f);
    return rc;
}

/* ---------------------------------------------------------------- */
/* Latency                                                          */
/* ---------------------------------------------------------------- */

int
bq_lat_add(bq_lat_t *lat, uint64_t ns)
{
    if (lat->n == lat->cap) {
        if (lat->cap >= BQ_LAT_MAX) {
            lat->dropped++;
            return 0;
        }
        size_t ncap = lat->cap ? lat->cap * 2 : 65536;
        if (ncap > BQ_LAT_MAX)
            ncap = BQ_LAT_MAX;
        uint32_t *us = realloc(lat->us, ncap * sizeof *us);
        if (!us)
            return -1;
        lat->us = us;
        lat->cap = ncap;
    }
    uint64_t us = (ns + 500) / 1000;
    lat->us[lat->n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
    return 0;
}

int
bq_lat_merge(bq_lat_t *dst, const bq_lat_t *src)
{
    for (size_t i = 0; i < src->n; i++)
        if (bq_lat_add(dst, (uint64_t)src->us[i] * 1000))
            return -1;
    dst->dropped += src->dropped;
    return 0;
}

void
bq_lat_free(bq_lat_t *lat)
{
    free(lat->us);
    memset(lat, 0, sizeof *lat);
}

static int
s_cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The sample at quantile P (0..1) of sorted LAT: nearest rank. */
static uint32_t
s_pct(const bq_lat_t *lat, double p)
{
    if (lat->n == 0)
        return 0;
    size_t rank = (size_t)(p * (double)lat->n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > lat->n)
        rank = lat->n;
    return lat->us[rank - 1];
}

void
bq_result_print(FILE *f, bool header, const bq_result_t *r, bq_lat_t *lat)
{
    double sum = 0;
    qsort(lat->us, lat->n, sizeof *lat->us, s_cmp_u32);
    for (size_t i = 0; i < lat->n; i++)
        sum += lat->us[i];
    if (header)
        fprintf(f, "engine,corpus,inflight,threads,snippets,requests,"
                "errors,seconds,qps,p50_us,p90_us,p99_us,p999_us,max_us,"
                "mean_us,reply_bytes,matches\n");
    fprintf(f, "%s,%s,%u,%u,%d,%llu,%llu,%.3f,%.1f,%u,%u,%u,%u,%u,%.1f,"
            "%.0f,%.1f\n",
            r->engine, r->corpus, r->inflight, r->threads, r->snippets,
            (unsigned long long)r->requests,
            (unsigned long long)r->errors, r->seconds,
            r->seconds > 0 ? (double)r->requests / r->seconds : 0.0,
            s_pct(lat, 0.50), s_pct(lat, 0.90), s_pct(lat, 0.99),
            s_pct(lat, 0.999), lat->n ? lat->us[lat->n - 1] : 0,
            lat->n ? sum / (double)lat->n : 0.0, r->reply_bytes,
            r->matches);
    fflush(f);
}

int
bq_thread_collect(bq_thread_t *t, bq_result_t *r, bq_lat_t *all)
{
    int failed;
    pthread_join(t->tid, NULL);
    failed = t->failed;
    r->requests += t->requests;
    r->errors += t->errors;
    if (t->seconds > r->seconds)
        r->seconds = t->seconds;
    if (bq_lat_merge(all, &t->lat))
        failed = 1;
    bq_lat_free(&t->lat);
    return failed;
}

int
bq_threads_run(bq_thread_t *t, unsigned n, const void *shared,
               void *(*fn)(void *), const char *prog, bq_result_t *r,
               bq_lat_t *all)
{
    unsigned started = 0;
    for (; started < n; started++) {
        t[started].shared = shared;
        t[started].index = started;
        int e = pthread_create(&t[started].tid, NULL, fn, &t[started]);
        if (e) {
            fprintf(stderr, "%s: pthread_create: %s\n", prog, strerror(e));
            break;
        }
    }
    int failed = started < n;
    for (unsigned i = 0; i < started; i++)
        failed |= bq_thread_collect(&t[i], r, all);
    return failed;
}

/* ---------------------------------------------------------------- */
/* Per-query times                                                  */
/* ---------------------------------------------------------------- */

static int
s_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

void
bq_per_query_print(FILE *f, const bq_query_t *q, uint64_t *us, size_t n)
{
    qsort(us, n, sizeof *us, s_cmp_u64);
    fprintf(f, "%llu\t%llu\t%s\t%s\t", (unsigned long long)us[n / 2],
            (unsigned long long)us[n - 1],
            q->op == BQ_SEARCH ? "search" : "ladder", q->q);
    for (size_t j = 0; j < q->nlevels; j++)
        fprintf(f, "%s%d", j ? "," : "", q->levels[j]);
    fputc('\t', f);
    for (size_t j = 0; j < q->nsections; j++)
        fprintf(f, "%s%s", j ? "," : "", q->sections[j]);
    fputc('\n', f);
}

/* ---------------------------------------------------------------- */
/* JSON Lines (flat objects)                                        */
/* ---------------------------------------------------------------- */

/* Append code point CP as UTF-8 at *o. */
static void
s_utf8(char **o, unsigned long cp)
{
    unsigned char *p = (unsigned char *)*o;
    if (cp < 0x80) {
        *p++ = (unsigned char)cp;
    } else if (cp < 0x800) {
        *p++ = (unsigned char)(0xC0 | (cp >> 6));
        *p++ = (unsigned char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *p++ = (unsigned char)(0xE0 | (cp >> 12));
        *p++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        *p++ = (unsigned char)(0x80 | (cp & 0x3F));
    } else {
        *p++ = (unsigned char)(0xF0 | (cp >> 18));
        *p++ = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        *p++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        *p++ = (unsigned char)(0x80 | (cp & 0x3F));
    }
    *o = (char *)p;
}

static int
s_hex4(const char *p, unsigned long *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return -1;
        *v = *v * 16 + (unsigned long)d;
    }
    return 0;
}

/*
 * Decode the JSON string starting at *p (just past its '"') in place;
 * the decoded text ends with NUL.  Advances *p past the closing quote.
 * Returns the decoded start, or NULL when malformed.
 */
static char *
s_json_str(char **p)
{
    char *in = *p, *out = *p, *start = *p;
    while (*in && *in != '"') {
        if (*in != '\\') {
            *out++ = *in++;
            continue;
        }
        in++;
        switch (*in) {
        case '"': case '\\': case '/': *out++ = *in++; break;
        case 'b': *out++ = '\b'; in++; break;
        case 'f': *out++ = '\f'; in++; break;
        case 'n': *out++ = '\n'; in++; break;
        case 'r': *out++ = '\r'; in++; break;
        case 't': *out++ = '\t'; in++; break;
        case 'u': {
            unsigned long cp, lo;
            if (s_hex4(in + 1, &cp))
                return NULL;
            in += 5;
            if (cp >= 0xD800 && cp < 0xDC00 && in[0] == '\\' &&
                in[1] == 'u' && s_hex4(in + 2, &lo) == 0 &&
                lo >= 0xDC00 && lo < 0xE000) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                in += 6;
            }
            s_utf8(&out, cp);  /* 6 escaped bytes make at most 4 */
            break;
        }
        default: return NULL;
        }
    }
    if (*in != '"')
        return NULL;
    *out = '\0';
    *p = in + 1;
    return start;
}

static void
s_ws(char **p)
{
    while (**p == ' ' || **p == '\t' || **p == '\r' || **p == '\n')
        (*p)++;
}

/* Set the value of key KEY, when it is one of KEYS (others are ignored). */
static void
s_set(const char *const *keys, size_t nkeys, const char **vals,
      const char *key, const char *val)
{
    for (size_t i = 0; i < nkeys; i++)
        if (strcmp(keys[i], key) == 0)
            vals[i] = val;
}

int
bq_json_line(char *line, const char *const *keys, size_t nkeys,
             const char **vals)
{
    char *p = line;
    for (size_t i = 0; i < nkeys; i++)
        vals[i] = "";
    s_ws(&p);
    if (*p++ != '{')
        return -1;
    for (;;) {
        s_ws(&p);
        if (*p == '}')
            return 0;
        if (*p++ != '"')
            return -1;
        char *key = s_json_str(&p);
        if (!key)
            return -1;
        s_ws(&p);
        if (*p++ != ':')
            return -1;
        s_ws(&p);
        const char *val;
        if (*p == '"') {
            p++;
            if (!(val = s_json_str(&p)))
                return -1;
        } else {
            val = p;
            while (*p == '-' || (*p >= '0' && *p <= '9'))
                p++;
            if (val == p)
                return -1;
            char end = *p;
            *p++ = '\0';            /* ends the number in place */
            s_set(keys, nkeys, vals, key, val);
            if (end == ' ' || end == '\t') {
                s_ws(&p);
                end = *p++;
            }
            if (end == '}')
                return 0;
            if (end != ',')
                return -1;
            continue;
        }
        s_set(keys, nkeys, vals, key, val);
        s_ws(&p);
        if (*p == ',')
            p++;
        else if (*p == '}')
            return 0;
        else
            return -1;
    }
}

void
bq_thread_loop(bq_thread_t *w, size_t n, unsigned nthreads, double warmup,
               double duration, bq_query_fn *query, void *ctx)
{
    size_t qi = (n * w->index) / nthreads;
    uint64_t end = sdx_now_ns() + (uint64_t)(warmup * 1e9);
    for (int timed = 0; timed < 2; timed++) {
        uint64_t start = sdx_now_ns(), now = start;
        if (timed)
            end = start + (uint64_t)(duration * 1e9);
        while (now < end) {
            if (query(w, ctx, qi, timed))
                w->errors++;
            uint64_t t = sdx_now_ns();
            if (timed) {
                if (bq_lat_add(&w->lat, t - now)) {
                    w->failed = 1;
                    return;
                }
                w->requests++;
            }
            now = t;
            qi = (qi + 1) % n;
        }
        if (timed)
            w->seconds = (double)(now - start) / 1e9;
    }
}

/* ---------------------------------------------------------------- */
/* The peers' options                                               */
/* ---------------------------------------------------------------- */

int
bq_peer_opts_parse(int argc, char **argv, const char *prog,
                   const char *store_opt, const char *store_arg,
                   bq_peer_opts_t *o)
{
    const struct option longopts[] = {
        {store_opt, required_argument, NULL, 'D'},
        {"queries", required_argument, NULL, 'q'},
        {"threads", required_argument, NULL, 't'},
        {"duration", required_argument, NULL, 'd'},
        {"warmup", required_argument, NULL, 'w'},
        {"no-snippet", no_argument, NULL, 'S'},
        {"no-ladder", no_argument, NULL, 'L'},
        {"corpus", required_argument, NULL, 'C'},
        {"header", no_argument, NULL, 'H'},
        {NULL, 0, NULL, 0},
    };
    *o = (bq_peer_opts_t){.nthreads = 2, .duration = 10, .warmup = 1,
                          .snippets = true, .corpus = "-"};
    bool bad = false;
    int c;
    /* stop at the first unknown option (moving optind past argc from
       inside the loop makes getopt spin) */
    while (!bad && (c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'D': o->store = optarg; break;
        case 'q': o->queries = optarg; break;
        case 't': o->nthreads = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'd': o->duration = strtod(optarg, NULL); break;
        case 'w': o->warmup = strtod(optarg, NULL); break;
        case 'S': o->snippets = false; break;
        case 'L': o->no_ladder = true; break;
        case 'C': o->corpus = optarg; break;
        case 'H': o->header = true; break;
        default: bad = true; break;
        }
    }
    if (bad || !o->store || !o->queries || optind < argc ||
        o->nthreads < 1 || o->nthreads > BQ_THREADS_MAX ||
        o->duration <= 0 || o->warmup < 0) {
        fprintf(stderr, "usage: %s search --%s %s --queries FILE"
                " [--threads N]\n         [--duration S] [--warmup S] "
                "[--no-snippet] [--no-ladder]\n         [--corpus LABEL] "
                "[--header]\n", prog, store_opt, store_arg);
        return 2;
    }
    return 0;
}
