/*
 * fts5-bench: the peer.  SQLite FTS5 on the same clauses and the same
 * queries, as a user who picked SQLite instead of specdex would set it
 * up: one FTS5 table, porter stemming over unicode61, ranked by bm25,
 * snippets by snippet().  Not tuned beyond that (no 'optimize', default
 * page size and cache): the tool as it comes.
 *
 *   fts5-bench build --db FILE JSONL...
 *       Load clause records (JSON Lines, docs/CORPUS.md) in one
 *       transaction; prints "fts5_build,CLAUSES,SECONDS,BYTES".
 *   fts5-bench search --db FILE --queries FILE [--threads N]
 *       [--duration S] [--warmup S] [--no-snippet] [--no-ladder]
 *       [--corpus LABEL] [--header]
 *       Run the query set from N threads, each with its own read-only
 *       connection, for S seconds; prints the CSV line of bench.h.
 *
 * Query translation (Xapian syntax -> FTS5), so both engines answer the
 * same question: a "phrase" stays a phrase; a bare word becomes a quoted
 * FTS5 string; a trailing wildcard `word*` a prefix query; AND, OR, NOT
 * are kept; two operands with no operator between them are joined by OR
 * (the shim's default operator; FTS5's is AND).  Level and section
 * filters become WHERE clauses on the (unindexed) columns.  A ladder is
 * five queries, one per level, top 1.
 *
 * The clause records are read with bench.h's flat JSON reader.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "bench.h"

#define LINE_MAX_BYTES (1 << 20) /* bytes of one JSON line */
#define NCOLS 10                 /* columns of a clause */
#define SQL_MAX 4096             /* bytes of one statement */
#define MATCH_MAX (BQ_Q_MAX * 3) /* bytes of one translated query */

/* Columns in table order; text first (the only indexed one). */
static const char *const cols[NCOLS] = {
    "text", "id", "series", "level", "job_code", "title", "flsa", "row",
    "section", "item"};

/* ---------------------------------------------------------------- */
/* build                                                            */
/* ---------------------------------------------------------------- */

static int
s_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "fts5-bench: %s: %s\n", sql, msg ? msg : "?");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static int
s_build(const char *dbfile, char **files, int nfiles)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *ins = NULL;
    char *line = NULL;
    FILE *f = NULL;
    size_t clauses = 0;
    int rc = 1;
    uint64_t t0 = sdx_now_ns();

    if (remove(dbfile) && errno != ENOENT) {
        fprintf(stderr, "fts5-bench: %s: %s\n", dbfile, strerror(errno));
        return 1;
    }
    if (sqlite3_open(dbfile, &db) != SQLITE_OK) {
        fprintf(stderr, "fts5-bench: %s: %s\n", dbfile, sqlite3_errmsg(db));
        goto cleanup;
    }
    if (s_exec(db, "PRAGMA journal_mode=OFF") ||
        s_exec(db, "PRAGMA synchronous=OFF") ||
        s_exec(db, "CREATE VIRTUAL TABLE clauses USING fts5(text, "
                   "id UNINDEXED, series UNINDEXED, level UNINDEXED, "
                   "job_code UNINDEXED, title UNINDEXED, flsa UNINDEXED, "
                   "row UNINDEXED, section UNINDEXED, item UNINDEXED, "
                   "tokenize='porter unicode61')") ||
        s_exec(db, "BEGIN"))
        goto cleanup;
    if (sqlite3_prepare_v2(db, "INSERT INTO clauses VALUES "
                               "(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
                           -1, &ins, NULL) != SQLITE_OK) {
        fprintf(stderr, "fts5-bench: prepare: %s\n", sqlite3_errmsg(db));
        goto cleanup;
    }
    if (!(line = malloc(LINE_MAX_BYTES)))
        goto cleanup;
    for (int fi = 0; fi < nfiles; fi++) {
        size_t lineno = 0;
        if (!(f = fopen(files[fi], "r"))) {
            fprintf(stderr, "fts5-bench: %s: %s\n", files[fi],
                    strerror(errno));
            goto cleanup;
        }
        while (fgets(line, LINE_MAX_BYTES, f)) {
            const char *vals[NCOLS];
            lineno++;
            if (line[0] == '\n' || line[0] == '\0')
                continue;
            if (bq_json_line(line, cols, NCOLS, vals)) {
                fprintf(stderr, "fts5-bench: %s:%zu: not a flat JSON "
                        "object\n", files[fi], lineno);
                goto cleanup;
            }
            for (int i = 0; i < NCOLS; i++) {
                if (i == 3 || i == 9)
                    sqlite3_bind_int(ins, i + 1, atoi(vals[i]));
                else
                    sqlite3_bind_text(ins, i + 1, vals[i], -1,
                                      SQLITE_STATIC);
            }
            if (sqlite3_step(ins) != SQLITE_DONE) {
                fprintf(stderr, "fts5-bench: insert: %s\n",
                        sqlite3_errmsg(db));
                goto cleanup;
            }
            sqlite3_reset(ins);
            clauses++;
        }
        fclose(f);
        f = NULL;
    }
    if (s_exec(db, "COMMIT"))
        goto cleanup;
    rc = 0;
cleanup:
    if (f)
        fclose(f);
    free(line);
    sqlite3_finalize(ins);
    sqlite3_close(db);
    if (rc == 0) {
        struct stat st;
        double secs = (double)(sdx_now_ns() - t0) / 1e9;
        printf("fts5_build,%zu,%.3f,%lld\n", clauses, secs,
               stat(dbfile, &st) == 0 ? (long long)st.st_size : -1LL);
    }
    return rc;
}

/* ---------------------------------------------------------------- */
/* search                                                           */
/* ---------------------------------------------------------------- */

/*
 * Translate Xapian query Q into an FTS5 MATCH expression in OUT.
 * Returns 0, or -1 when it does not fit or a quote is unbalanced.
 */
static int
s_translate(const char *q, char *out, size_t size)
{
    size_t o = 0;
    bool operand_before = false;   /* an operand waits for an operator */
    const char *p = q;
#define PUT(s, n)                                                       \
    do {                                                                \
        if (o + (n) + 1 > size)                                         \
            return -1;                                                  \
        memcpy(out + o, (s), (n));                                      \
        o += (n);                                                       \
    } while (0)
    while (*p) {
        if (*p == ' ') {
            p++;
            continue;
        }
        const char *s = p;
        size_t n;
        if (*p == '"') {
            const char *e = strchr(p + 1, '"');
            if (!e)
                return -1;
            n = (size_t)(e + 1 - s);
            p = e + 1;
            if (operand_before)
                PUT(" OR ", 4);
            PUT(s, n);
            operand_before = true;
            continue;
        }
        while (*p && *p != ' ')
            p++;
        n = (size_t)(p - s);
        if ((n == 3 && memcmp(s, "AND", 3) == 0) ||
            (n == 2 && memcmp(s, "OR", 2) == 0) ||
            (n == 3 && memcmp(s, "NOT", 3) == 0)) {
            PUT(" ", 1);
            PUT(s, n);
            PUT(" ", 1);
            operand_before = false;
            continue;
        }
        if (operand_before)
            PUT(" OR ", 4);
        bool prefix = s[n - 1] == '*';
        PUT("\"", 1);
        for (size_t i = 0; i < n - prefix; i++) {
            if (s[i] == '"')
                return -1;
            PUT(&s[i], 1);
        }
        PUT("\"", 1);
        if (prefix)
            PUT("*", 1);
        operand_before = true;
    }
    out[o] = '\0';
    return 0;
#undef PUT
}

/* One query's statements: one for a search, five for a ladder. */
typedef struct qstmt {
    sqlite3_stmt *st[5];     /* prepared statements */
    size_t n;                /* in use */
} qstmt_t;

/* What the threads share. */
typedef struct shared {
    const char *dbfile;      /* the database */
    const bq_set_t *set;     /* the queries */
    char **match;            /* translated MATCH text per query */
    bool snippets;           /* ask for snippet() */
    double warmup, duration; /* seconds */
    unsigned nthreads;       /* threads */
} shared_t;

/* The SELECT for query Q (LEVEL > 0: a ladder step) into SQL. */
static void
s_sql(const bq_query_t *q, int level, bool snippets, char *sql, size_t size)
{
    size_t o = (size_t)snprintf(sql, size,
        "SELECT id, series, level, job_code, title, flsa, row, section, "
        "item, text, bm25(clauses)%s FROM clauses WHERE clauses MATCH ?1",
        snippets ? ", snippet(clauses, 0, '<mark>', '</mark>', '…', 32)"
                 : "");
    if (level > 0) {
        o += (size_t)snprintf(sql + o, size - o, " AND level = %d", level);
    } else if (q->nlevels) {
        o += (size_t)snprintf(sql + o, size - o, " AND level IN (");
        for (size_t i = 0; i < q->nlevels; i++)
            o += (size_t)snprintf(sql + o, size - o, "%s%d", i ? "," : "",
                                  q->levels[i]);
        o += (size_t)snprintf(sql + o, size - o, ")");
    }
    if (q->nsections) {
        o += (size_t)snprintf(sql + o, size - o, " AND section IN (");
        for (size_t i = 0; i < q->nsections; i++)
            o += (size_t)snprintf(sql + o, size - o, "%s'%s'", i ? "," : "",
                                  q->sections[i]);
        o += (size_t)snprintf(sql + o, size - o, ")");
    }
    snprintf(sql + o, size - o, " ORDER BY rank LIMIT %d",
             level > 0 ? 1 : 10);
}

/* Run one prepared statement to the end, reading every column. */
static int
s_run(sqlite3_stmt *st, const char *match)
{
    int rc;
    volatile size_t touched = 0;
    if (sqlite3_bind_text(st, 1, match, -1, SQLITE_STATIC) != SQLITE_OK)
        return -1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int nc = sqlite3_column_count(st);
        for (int i = 0; i < nc; i++)
            touched += (size_t)sqlite3_column_bytes(st, i) +
                       (sqlite3_column_text(st, i) != NULL);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* What one thread's queries run on. */
typedef struct fctx {
    const shared_t *sh;      /* the run */
    sqlite3 *db;             /* its connection */
    const qstmt_t *qs;       /* its statements, one entry per query */
} fctx_t;

/* One query of the set (bq_query_fn): its statements, each run through. */
static int
s_query(bq_thread_t *w, void *arg, size_t qi, bool timed)
{
    const fctx_t *c = arg;
    int rc = 0;
    (void)timed;
    for (size_t j = 0; j < c->qs[qi].n; j++)
        if (s_run(c->qs[qi].st[j], c->sh->match[qi]))
            rc = -1;
    if (rc && w->errors < 3)
        fprintf(stderr, "fts5-bench: %s: %s\n", c->sh->match[qi],
                sqlite3_errmsg(c->db));
    return rc;
}

static void *
s_worker(void *arg)
{
    bq_thread_t *w = arg;
    const shared_t *sh = w->shared;
    sqlite3 *db = NULL;
    qstmt_t *qs = NULL;
    size_t n = sh->set->n;
    char sql[SQL_MAX];

    if (sqlite3_open_v2(sh->dbfile, &db, SQLITE_OPEN_READONLY |
                        SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
        !(qs = calloc(n, sizeof *qs))) {
        fprintf(stderr, "fts5-bench: %s: %s\n", sh->dbfile,
                db ? sqlite3_errmsg(db) : "out of memory");
        w->failed = 1;
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++) {
        const bq_query_t *q = &sh->set->v[i];
        qs[i].n = q->op == BQ_LADDER ? 5 : 1;
        for (size_t j = 0; j < qs[i].n; j++) {
            s_sql(q, q->op == BQ_LADDER ? (int)j + 1 : 0,
                  q->op == BQ_LADDER || sh->snippets, sql, sizeof sql);
            if (sqlite3_prepare_v2(db, sql, -1, &qs[i].st[j], NULL) !=
                SQLITE_OK) {
                fprintf(stderr, "fts5-bench: %s: %s\n", sql,
                        sqlite3_errmsg(db));
                w->failed = 1;
                goto cleanup;
            }
        }
    }
    fctx_t ctx = {sh, db, qs};
    bq_thread_loop(w, n, sh->nthreads, sh->warmup, sh->duration, s_query,
                   &ctx);
cleanup:
    if (qs)
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < qs[i].n; j++)
                sqlite3_finalize(qs[i].st[j]);
    free(qs);
    sqlite3_close(db);
    return NULL;
}

static int
s_search(int argc, char **argv)
{
    bq_peer_opts_t o;
    bq_set_t *set = NULL;
    bq_thread_t *w = NULL;
    char err[512];
    int rc = 1;

    if (bq_peer_opts_parse(argc, argv, "fts5-bench", "db", "FILE", &o))
        return 2;
    shared_t sh = {.dbfile = o.store, .snippets = o.snippets,
                   .warmup = o.warmup, .duration = o.duration,
                   .nthreads = o.nthreads};
    if (bq_set_load(o.queries, o.no_ladder, &set, err, sizeof err)) {
        fprintf(stderr, "fts5-bench: %s\n", err);
        return 1;
    }
    sh.set = set;
    if (!(sh.match = calloc(set->n, sizeof *sh.match)) ||
        !(w = calloc(sh.nthreads, sizeof *w)))
        goto cleanup;
    for (size_t i = 0; i < set->n; i++) {
        char m[MATCH_MAX];
        if (s_translate(set->v[i].q, m, sizeof m)) {
            fprintf(stderr, "fts5-bench: query %zu: cannot translate\n", i);
            goto cleanup;
        }
        if (!(sh.match[i] = strdup(m)))
            goto cleanup;
    }
    bq_lat_t all = {0};
    bq_result_t r = {.engine = sh.snippets ? "fts5" : "fts5-nosnip",
                     .corpus = o.corpus, .inflight = sh.nthreads,
                     .threads = sh.nthreads, .snippets = sh.snippets,
                     .matches = -1};
    int failed = bq_threads_run(w, sh.nthreads, &sh, s_worker,
                                "fts5-bench", &r, &all);
    if (!failed) {
        bq_result_print(stdout, o.header, &r, &all);
        rc = r.errors ? 1 : 0;
    }
    bq_lat_free(&all);
cleanup:
    if (sh.match)
        for (size_t i = 0; i < set->n; i++)
            free(sh.match[i]);
    free(sh.match);
    free(w);
    bq_set_destroy(&set);
    return rc;
}

int
main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "search") == 0)
        return s_search(argc - 1, argv + 1);
    if (argc >= 5 && strcmp(argv[1], "build") == 0 &&
        strcmp(argv[2], "--db") == 0)
        return s_build(argv[3], argv + 4, argc - 4);
    fprintf(stderr, "usage: fts5-bench build --db FILE JSONL...\n"
            "       fts5-bench search --db FILE --queries FILE ...\n");
    return 2;
}
