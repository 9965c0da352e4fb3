/*
 * op_fit: the ops that read a whole description against a series'
 * levels.  `fit`: "which level fits this text?", the levels of a series
 * ranked, each with a score and the clauses that support it.  `gaps`: a
 * draft and the level it is meant for, and the responsibility and KSA
 * rows of that level no sentence of the draft covers.
 *
 * fit is one search: the text's terms (the most frequent first, stop
 * words out, at most FIT_TERMS, lower-cased so none is an operator)
 * ORed, over levels 1..5 (and the series named, and without the
 * clauses `exclude` names), FIT_HITS matches read.  The series are
 * ranked by the sum of their scores among the first FIT_TOPIC_HITS
 * (what the text is about); a series' levels by votes: each row of the
 * series among the matches votes for the level where it matched best,
 * so a level wins by the words that set it apart in many rows ("basic",
 * "moderately complex", "leads"), not by the one row whose topic the
 * text shares, whose nearest cells are one level either side of the
 * text's own.  A level's score is its votes, and a ten-thousandth of its
 * voters' best scores between equal votes.  docs/RELEVANCE.md, "Level
 * fit", has the methods tried and what each scored leave-one-out; the
 * evaluation (tests/relevance/test_fit.c) calls sdx_ops_fit_rank with
 * each.
 *
 * gaps searches each sentence of the draft (its terms, as fit's) over
 * the level's responsibility and KSA rows: a sentence covers the rows it
 * ranks within GAPS_SHARE of its best match that share at least
 * GAPS_SHARED content words with it (crude stems, sdx_words_stem, so
 * that one common word does not cover a row).  The rows no sentence
 * covers are the gaps, those the draft came nowhere near first.
 */
#include "ops_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdx_util.h" /* sdx_now_ns */
#include "sdx_words.h"

#define FIT_TERMS 90               /* terms of the query (the bound is 100
                                      terms, and synonyms are off) */
#define FIT_HITS 200               /* matches read */
#define FIT_TOPIC_HITS 20          /* hits that rank the series (20 and
                                      30 best of 5..200, RELEVANCE.md) */
#define FIT_SUPPORT 3              /* supporting clauses per level */
#define FIT_OTHER_SERIES 4         /* other series listed */
#define FIT_MAX_SERIES 64          /* series told apart in one match */
#define GAPS_SHARE 0.75            /* a sentence covers the rows it ranks
                                      within this share of its best */
#define GAPS_SHARED 2              /* ... that hold this many of its
                                      content words (all, when fewer) */
#define GAPS_SENTENCE_HITS 50      /* matches read per sentence */
#define GAPS_MAX_SENTENCES 200     /* sentences of one draft */
#define GAPS_TIME_S 2.0            /* seconds of sentence searches, in
                                      all: past it the rest are not read
                                      and the reply is partial */
#define GAPS_MAX_CLAUSES 500       /* clauses of one level read */
#define STEM_MAX 64                /* bytes of a stem */

/* The method of the op (docs/RELEVANCE.md: the best measured). */
const sdx_fit_method_t sdx_fit_default = {SDX_FIT_VOTE, 0};

/* ---------------------------------------------------------------- */
/* fit                                                              */
/* ---------------------------------------------------------------- */

/* A term of the text and how often it occurs. */
typedef struct term_count {
    sdx_span_t t;              /* its first occurrence */
    unsigned n;                /* occurrences */
} term_count_t;

static int
s_cmp_count(const void *a, const void *b)
{
    const term_count_t *x = a, *y = b;
    if (x->n != y->n)
        return x->n < y->n ? 1 : -1;
    return (x->t.off > y->t.off) - (x->t.off < y->t.off);
}

/* TEXT's query: its FIT_TERMS most frequent terms, lower-cased, into a
   malloc'd *Q; NULL when it has none.  -1 out of memory. */
static int
s_fit_query(const char *text, char **q)
{
    size_t n = sdx_words_terms(text, NULL, 0), nd = 0;
    sdx_span_t *t = malloc((n ? n : 1) * sizeof *t);
    term_count_t *d = malloc((n ? n : 1) * sizeof *d);
    *q = NULL;
    if (!t || !d) {
        free(t);
        free(d);
        return -1;
    }
    sdx_words_terms(text, t, n);
    for (size_t i = 0; i < n; i++) {
        if (sdx_words_stop(text + t[i].off, t[i].len))
            continue;
        size_t j = 0;
        while (j < nd && !sdx_words_term_eq(text, d[j].t, text, t[i]))
            j++;
        if (j == nd)
            d[nd++] = (term_count_t){t[i], 0};
        d[j].n++;
    }
    qsort(d, nd, sizeof *d, s_cmp_count);
    if (nd > FIT_TERMS)
        nd = FIT_TERMS;
    size_t len = 0;
    for (size_t i = 0; i < nd; i++)
        len += d[i].t.len + 1;
    if (nd && (*q = malloc(len + 1))) {
        size_t k = 0;
        for (size_t i = 0; i < nd; i++) {
            for (size_t j = 0; j < d[i].t.len; j++) {
                char c = text[d[i].t.off + j];
                (*q)[k++] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
            }
            (*q)[k++] = ' ';
        }
        (*q)[k - 1] = '\0';
    }
    free(t);
    free(d);
    return nd && !*q ? -1 : 0;
}

void
sdx_fit_clear(sdx_fit_t *fit)
{
    sdx_ops_clauses_free(&fit->hits);
    free(fit->scores);
    memset(fit, 0, sizeof *fit);
}

/* The share of a hit's score that METHOD adds to its level, given that
   RANK (0-based) hits of that level came before it in the match. */
static double
s_weight(const sdx_fit_method_t *m, size_t rank, double score)
{
    switch (m->kind) {
    case SDX_FIT_TOP_K:
        return rank < m->k ? score : 0;
    case SDX_FIT_SUM:
        return score;
    case SDX_FIT_RANK:
        return rank < m->k ? score / (double)(rank + 1) : 0;
    case SDX_FIT_CONTRAST:
    case SDX_FIT_VOTE:
    case SDX_FIT_VOTE_MARGIN:
    case SDX_FIT_VOTE_WEIGHED:
    case SDX_FIT_SOFT_VOTE:
        return 0; /* by rows: s_by_rows */
    }
    return 0;
}

/* A row of a series among the hits, and its best score per level. */
typedef struct fit_row {
    const sdx_clause_t *c;     /* a clause of it (series, row) */
    size_t series;             /* its series, an index into FIT's */
    double score[6];           /* best score at levels 1..5 */
} fit_row_t;

/* The row methods: scores of FIT's series' levels from its hits, grouped
   by row.  -1 when out of memory. */
static int
s_by_rows(const sdx_fit_method_t *m, sdx_fit_t *fit)
{
    double top = fit->hits.n ? fit->scores[0] : 1;
    fit_row_t *rows = calloc(fit->hits.n ? fit->hits.n : 1, sizeof *rows);
    size_t nrows = 0;
    if (!rows)
        return -1;
    for (size_t i = 0; i < fit->hits.n; i++) {
        const sdx_clause_t *c = fit->hits.v[i];
        if (c->level < 1 || c->level > 5)
            continue;
        size_t s = 0;
        while (s < fit->nseries && strcmp(fit->series[s].name, c->series))
            s++;
        if (s == fit->nseries)
            continue; /* past FIT_MAX_SERIES */
        size_t r = 0;
        while (r < nrows && (rows[r].series != s ||
                             strcmp(rows[r].c->row, c->row) != 0))
            r++;
        if (r == nrows)
            rows[nrows++] = (fit_row_t){c, s, {0}};
        if (fit->scores[i] > rows[r].score[c->level])
            rows[r].score[c->level] = fit->scores[i];
    }
    for (size_t r = 0; r < nrows; r++) {
        double *sc = fit->series[rows[r].series].score, mean = 0;
        int best = 1, second = 0;
        for (int l = 1; l <= 5; l++) {
            mean += rows[r].score[l] / 5;
            if (rows[r].score[l] > rows[r].score[best])
                best = l;
        }
        for (int l = 1; l <= 5; l++)
            if (l != best && (!second ||
                              rows[r].score[l] > rows[r].score[second]))
                second = l;
        if (m->kind == SDX_FIT_CONTRAST) {
            for (int l = 1; l <= 5; l++)
                sc[l] += rows[r].score[l] - mean;
        } else if (m->kind == SDX_FIT_SOFT_VOTE) {
            for (int l = 1; l <= 5; l++)
                sc[l] += pow(rows[r].score[l] / rows[r].score[best],
                             (double)m->k);
        } else {
            /* VOTE's K: rows whose best is under K% of the best hit's
               do not vote (a stray word) */
            if (m->kind == SDX_FIT_VOTE &&
                rows[r].score[best] * 100 < (double)m->k * top)
                continue;
            double lead = rows[r].score[best] - rows[r].score[second];
            double w = m->kind == SDX_FIT_VOTE         ? 1.0
                       : m->kind == SDX_FIT_VOTE_MARGIN ? lead
                       : rows[r].score[best] / top;
            /* the best scores decide between equal votes */
            sc[best] += w + 1e-4 * rows[r].score[best];
        }
    }
    free(rows);
    return 0;
}

int
sdx_fit_score(sdx_fit_t *fit, const sdx_fit_method_t *method)
{
    /* the series met, in the order of their first hits, from nothing */
    memset(fit->series, 0, sizeof fit->series);
    fit->nseries = 0;
    /* per series and level: the method's sum; the hits come in rank
       order, so a level's rank is how many of its hits came before */
    for (size_t i = 0; i < fit->hits.n; i++) {
        const sdx_clause_t *c = fit->hits.v[i];
        size_t s = 0;
        while (s < fit->nseries &&
               strcmp(fit->series[s].name, c->series) != 0)
            s++;
        if (s == fit->nseries) {
            if (s == FIT_MAX_SERIES)
                continue;
            fit->series[s].name = c->series;
            fit->nseries++;
        }
        if (c->level < 1 || c->level > 5)
            continue;
        sdx_fit_series_t *fsr = &fit->series[s];
        if (i < FIT_TOPIC_HITS)
            fsr->topic += fit->scores[i];
        size_t rank = fsr->hits[c->level]++;
        fsr->score[c->level] +=
            s_weight(method, rank, fit->scores[i]);
    }
    if (method->kind >= SDX_FIT_CONTRAST && s_by_rows(method, fit))
        return -1;
    for (size_t s = 0; s < fit->nseries; s++) {
        sdx_fit_series_t *fsr = &fit->series[s];
        /* levels by score, then lower first */
        for (int l = 1; l <= 5; l++)
            fsr->rank[l - 1] = l;
        for (int a = 0; a < 5; a++)
            for (int b = a + 1; b < 5; b++)
                if (fsr->score[fsr->rank[b]] > fsr->score[fsr->rank[a]]) {
                    int t = fsr->rank[a];
                    fsr->rank[a] = fsr->rank[b];
                    fsr->rank[b] = t;
                }
        fsr->best = fsr->score[fsr->rank[0]];
    }
    /* series by how well they match as a whole (their topic), not by
       their best level: a vote counts rows, and a series of many rows
       would win on them */
    for (size_t a = 0; a < fit->nseries; a++)
        for (size_t b = a + 1; b < fit->nseries; b++)
            if (fit->series[b].topic > fit->series[a].topic) {
                sdx_fit_series_t t = fit->series[a];
                fit->series[a] = fit->series[b];
                fit->series[b] = t;
            }
    return 0;
}

sdx_errcode_t
sdx_ops_fit_rank(sdx_ops_ctx_t *ctx, const char *text, const char *series,
                 const sdx_strlist_t *exclude,
                 const sdx_fit_method_t *method, sdx_fit_t *fit,
                 sdx_proto_error_t *err)
{
    sdx_index_filters_t fs;
    sdx_search_spec_t spec;
    sdx_results_t *r = NULL;
    char *q = NULL, slug[SLUG_MAX];
    sdx_errcode_t code = SDX_E_NONE;

    memset(fit, 0, sizeof *fit);
    memset(&fs, 0, sizeof fs);
    if (s_fit_query(text, &q))
        return sdx_ops_fail(err, SDX_E_INTERNAL, "out of memory");
    if (!q)
        return SDX_E_NONE; /* no word to search for: nothing fits */
    /* a title or a job code; one the index has not is named */
    if (series && (code = sdx_index_series_slug(ctx->db, series, slug,
                                                sizeof slug, err)))
        goto cleanup;
    const char *sv = slug;
    if ((code = sdx_ops_levels_1_5(&fs, err)) ||
        (series && (code = sdx_index_filter_add(&fs, SDX_PREFIX_SERIES, &sv,
                                                1, false, "series", err))) ||
        (exclude && exclude->n &&
         (code = sdx_index_filter_add(&fs, SDX_PREFIX_ID,
                                      (const char *const *)exclude->v,
                                      exclude->n, false, "exclude", err))))
        goto cleanup;
    if (exclude && exclude->n)
        fs.f[fs.n - 1].exclude = true;
    sdx_index_search_init(&spec, q, &fs);
    spec.limit = FIT_HITS;
    spec.check_at_least = 0;
    spec.synonyms = false;
    sdx_status_t st = sdx_db_search(ctx->db, &spec, &r);
    if (st != SDX_OK) {
        code = sdx_ops_status_error(ctx, st, "fit", err);
        goto cleanup;
    }
    fit->partial = sdx_results_partial(r);
    size_t n = sdx_results_count(r);
    fit->hits.v = n ? calloc(n, sizeof *fit->hits.v) : NULL;
    fit->scores = n ? calloc(n, sizeof *fit->scores) : NULL;
    if (n && (!fit->hits.v || !fit->scores)) {
        code = sdx_ops_fail(err, SDX_E_INTERNAL, "out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++) {
        sdx_hit_t hit;
        sdx_results_hit(r, i, &hit);
        if ((code = sdx_ops_hit_clause(&hit, "fit", &fit->hits.v[i], err)))
            goto cleanup;
        fit->hits.n++;
        fit->scores[i] = hit.score;
    }
    if (sdx_fit_score(fit, method))
        code = sdx_ops_fail(err, SDX_E_INTERNAL, "out of memory");
cleanup:
    sdx_results_destroy(&r);
    sdx_index_filters_free(&fs);
    free(q);
    return code;
}

sdx_errcode_t
sdx_op_fit(sdx_ops_ctx_t *ctx, const sdx_request_t *req, sdx_body_t *body,
           sdx_proto_error_t *err)
{
    sdx_fit_t fit;
    level_info_t lv[9];
    size_t nlv = 0;
    sdx_errcode_t code;

    if ((code = sdx_ops_need_db(ctx, err)))
        return code;
    if ((code = sdx_ops_fit_rank(ctx, req->text, req->series, &req->exclude,
                                 &sdx_fit_default, &fit, err)))
        goto cleanup;
    const sdx_fit_series_t *top = fit.nseries ? &fit.series[0] : NULL;
    if (top && top->best > 0) {
        char slug[SLUG_MAX];
        if (sdx_slug(top->name, slug, sizeof slug) < 0) {
            code = sdx_ops_fail(err, SDX_E_INTERNAL,
                                "fit: the index holds a malformed record");
            goto cleanup;
        }
        if ((code = sdx_ops_series_levels(ctx, slug, lv, &nlv, "fit", err)))
            goto cleanup;
    } else {
        top = NULL;
    }
    sdx_body_key(body, "series");
    sdx_msgpack_pack_str(&body->pk, top ? top->name : NULL);
    sdx_body_key(body, "levels");
    size_t shown = 0;
    for (int i = 0; top && i < 5; i++)
        for (size_t l = 0; l < nlv; l++)
            shown += lv[l].level == top->rank[i];
    msgpack_pack_array(&body->pk, shown);
    for (int i = 0; top && i < 5; i++) {
        int level = top->rank[i];
        const level_info_t *info = NULL;
        for (size_t l = 0; l < nlv; l++)
            if (lv[l].level == level)
                info = &lv[l];
        if (!info)
            continue; /* the series has no such level */
        size_t nsup = 0;
        for (size_t h = 0; h < fit.hits.n && nsup < FIT_SUPPORT; h++)
            nsup += fit.hits.v[h]->level == level &&
                    strcmp(fit.hits.v[h]->series, top->name) == 0;
        msgpack_pack_map(&body->pk, 6);
        sdx_msgpack_pack_str(&body->pk, "level");
        msgpack_pack_int(&body->pk, level);
        sdx_msgpack_pack_str(&body->pk, "title");
        sdx_msgpack_pack_str(&body->pk, info->title);
        sdx_msgpack_pack_str(&body->pk, "job_code");
        sdx_msgpack_pack_str(&body->pk, info->job_code);
        sdx_msgpack_pack_str(&body->pk, "score");
        msgpack_pack_double(&body->pk, top->score[level]);
        sdx_msgpack_pack_str(&body->pk, "share");
        msgpack_pack_double(&body->pk, top->score[level] / top->best);
        sdx_msgpack_pack_str(&body->pk, "support");
        msgpack_pack_array(&body->pk, nsup);
        size_t k = 0;
        for (size_t h = 0; h < fit.hits.n && k < nsup; h++) {
            const sdx_clause_t *c = fit.hits.v[h];
            if (c->level != level || strcmp(c->series, top->name) != 0)
                continue;
            k++;
            msgpack_pack_map(&body->pk, 4);
            sdx_msgpack_pack_str(&body->pk, "id");
            sdx_msgpack_pack_str(&body->pk, c->id);
            sdx_msgpack_pack_str(&body->pk, "row");
            sdx_msgpack_pack_str(&body->pk, c->row);
            sdx_msgpack_pack_str(&body->pk, "text");
            sdx_msgpack_pack_str(&body->pk, c->text);
            sdx_msgpack_pack_str(&body->pk, "score");
            msgpack_pack_double(&body->pk, fit.scores[h]);
        }
    }
    /* other series that matched: a text that fits two says so */
    size_t nother = 0;
    for (size_t s = 1; top && s < fit.nseries && nother < FIT_OTHER_SERIES;
         s++)
        nother += fit.series[s].best > 0;
    sdx_body_key(body, "other_series");
    msgpack_pack_array(&body->pk, nother);
    for (size_t s = 1, k = 0; k < nother; s++) {
        if (!(fit.series[s].best > 0))
            continue;
        k++;
        msgpack_pack_map(&body->pk, 3);
        sdx_msgpack_pack_str(&body->pk, "series");
        sdx_msgpack_pack_str(&body->pk, fit.series[s].name);
        sdx_msgpack_pack_str(&body->pk, "level");
        msgpack_pack_int(&body->pk, fit.series[s].rank[0]);
        sdx_msgpack_pack_str(&body->pk, "share");
        /* the share of the first series' match as a whole, by which
           the series are ranked */
        msgpack_pack_double(&body->pk,
                            fit.series[s].topic / top->topic);
    }
    sdx_body_key(body, "partial");
    sdx_ops_pack_bool(&body->pk, fit.partial);
    if (!top) {
        sdx_body_key(body, "note");
        sdx_msgpack_pack_str(&body->pk,
                             req->series
                                 ? "no clause of levels 1..5 of that series "
                                   "matches the text's words (or the index "
                                   "has no such series)"
                                 : "no clause of levels 1..5 matches the "
                                   "text's words (stop words are not "
                                   "searched)");
    }
    code = SDX_E_NONE;
cleanup:
    sdx_ops_levels_free(lv, nlv);
    sdx_fit_clear(&fit);
    return code;
}

/* ---------------------------------------------------------------- */
/* gaps                                                             */
/* ---------------------------------------------------------------- */

/* A set of stems (the distinct content words of a text), owned. */
typedef struct stems {
    char (*v)[STEM_MAX];       /* the stems */
    size_t n;                  /* how many */
} stems_t;

/* The stems of TEXT[0..LEN) (not NUL-ended there) into *S. */
static int
s_stems(const char *text, size_t len, stems_t *s)
{
    char *copy = strndup(text, len);
    s->v = NULL;
    s->n = 0;
    if (!copy)
        return -1;
    size_t n = sdx_words_terms(copy, NULL, 0);
    sdx_span_t *t = malloc((n ? n : 1) * sizeof *t);
    s->v = malloc((n ? n : 1) * sizeof *s->v);
    if (!t || !s->v) {
        free(copy);
        free(t);
        free(s->v);
        s->v = NULL;
        return -1;
    }
    sdx_words_terms(copy, t, n);
    for (size_t i = 0; i < n; i++) {
        char stem[STEM_MAX];
        if (sdx_words_stop(copy + t[i].off, t[i].len) ||
            sdx_words_stem(copy + t[i].off, t[i].len, stem, sizeof stem) ==
                0)
            continue;
        size_t j = 0;
        while (j < s->n && strcmp(s->v[j], stem) != 0)
            j++;
        if (j == s->n)
            memcpy(s->v[s->n++], stem, sizeof stem);
    }
    free(copy);
    free(t);
    return 0;
}

/* How many of A's stems B holds. */
static size_t
s_shared(const stems_t *a, const stems_t *b)
{
    size_t k = 0;
    for (size_t i = 0; i < a->n; i++)
        for (size_t j = 0; j < b->n; j++)
            if (strcmp(a->v[i], b->v[j]) == 0) {
                k++;
                break;
            }
    return k;
}

/* A row of the level and how near the draft comes to it. */
typedef struct gap {
    const sdx_clause_t *c;     /* its clause */
    stems_t stems;             /* its content words, owned */
    bool covered;              /* a sentence covers it */
    double touch;              /* the best share of a sentence's top
                                  score it reached, 0..1 */
    long sentence;             /* that sentence, 0-based; -1: none */
} gap_t;

static int
s_cmp_gap(const void *a, const void *b)
{
    const gap_t *x = a, *y = b;
    if (x->covered != y->covered)
        return x->covered ? 1 : -1;
    if (x->touch != y->touch)
        return x->touch < y->touch ? -1 : 1;
    int s = strcmp(x->c->section, y->c->section);
    if (s)
        return -s; /* responsibilities before KSAs */
    return (x->c->item > y->c->item) - (x->c->item < y->c->item);
}

/* Pack GAP (with the sentence's text from DRAFT at SENTS). */
static void
s_pack_gap(msgpack_packer *pk, const gap_t *g, const char *draft,
           const sdx_span_t *sents)
{
    msgpack_pack_map(pk, 7);
    sdx_msgpack_pack_str(pk, "row");
    sdx_msgpack_pack_str(pk, g->c->row);
    sdx_msgpack_pack_str(pk, "section");
    sdx_msgpack_pack_str(pk, g->c->section);
    sdx_msgpack_pack_str(pk, "id");
    sdx_msgpack_pack_str(pk, g->c->id);
    sdx_msgpack_pack_str(pk, "text");
    sdx_msgpack_pack_str(pk, g->c->text);
    sdx_msgpack_pack_str(pk, "touch");
    msgpack_pack_double(pk, g->touch);
    sdx_msgpack_pack_str(pk, "sentence");
    if (g->sentence < 0)
        msgpack_pack_nil(pk);
    else
        msgpack_pack_int(pk, g->sentence);
    sdx_msgpack_pack_str(pk, "sentence_text");
    if (g->sentence < 0) {
        msgpack_pack_nil(pk);
    } else {
        const sdx_span_t *s = &sents[g->sentence];
        msgpack_pack_str(pk, s->len);
        msgpack_pack_str_body(pk, draft + s->off, s->len);
    }
}

sdx_errcode_t
sdx_op_gaps(sdx_ops_ctx_t *ctx, const sdx_request_t *req, sdx_body_t *body,
            sdx_proto_error_t *err)
{
    static const char *const sections[] = {"responsibility", "ksa"};
    sdx_index_filters_t fs;
    clauses_t cs = {NULL, 0};
    sdx_span_t *sents = NULL;
    stems_t *ss = NULL;
    gap_t *gaps = NULL;
    size_t nsents = 0;
    char series[SLUG_MAX], level[4];
    sdx_errcode_t code;

    if ((code = sdx_ops_need_db(ctx, err)))
        return code;
    if ((code = sdx_index_series_slug(ctx->db, req->series, series,
                                      sizeof series, err)))
        return code;
    memset(&fs, 0, sizeof fs);
    snprintf(level, sizeof level, "%u", req->level);
    const char *sv = series, *lvv = level;
    if ((code = sdx_index_filter_add(&fs, SDX_PREFIX_SERIES, &sv, 1, false,
                                     "series", err)) ||
        (code = sdx_index_filter_add(&fs, SDX_PREFIX_LEVEL, &lvv, 1, false,
                                     "level", err)) ||
        (code = sdx_index_filter_add(&fs, SDX_PREFIX_SECTION, sections, 2,
                                     false, "sections", err)) ||
        (code = sdx_ops_fetch(ctx, &fs, GAPS_MAX_CLAUSES, -1, "gaps", &cs,
                              err)))
        goto cleanup;

    nsents = sdx_words_sentences(req->text, NULL, 0);
    sents = malloc((nsents ? nsents : 1) * sizeof *sents);
    ss = calloc(nsents ? nsents : 1, sizeof *ss);
    gaps = calloc(cs.n ? cs.n : 1, sizeof *gaps);
    if (!sents || !ss || !gaps) {
        code = sdx_ops_fail(err, SDX_E_INTERNAL, "out of memory");
        goto cleanup;
    }
    if (nsents > GAPS_MAX_SENTENCES) {
        code = sdx_ops_fail(err, SDX_E_BAD_REQUEST, "");
        snprintf(err->message, sizeof err->message,
                 "text: %zu sentences, at most %d (one search each)",
                 nsents, GAPS_MAX_SENTENCES);
        goto cleanup;
    }
    sdx_words_sentences(req->text, sents, nsents);
    for (size_t i = 0; i < nsents; i++)
        if (s_stems(req->text + sents[i].off, sents[i].len, &ss[i])) {
            code = sdx_ops_fail(err, SDX_E_INTERNAL, "out of memory");
            goto cleanup;
        }
    for (size_t i = 0; i < cs.n; i++) {
        const char *t = cs.v[i]->text ? cs.v[i]->text : "";
        gaps[i] = (gap_t){cs.v[i], {NULL, 0}, false, 0, -1};
        if (s_stems(t, strlen(t), &gaps[i].stems)) {
            code = sdx_ops_fail(err, SDX_E_INTERNAL, "out of memory");
            goto cleanup;
        }
    }
    /* each sentence against the level's rows: what it ranks near its
       best covers a row when they share content words */
    uint64_t deadline = sdx_now_ns() + (uint64_t)(GAPS_TIME_S * 1e9);
    size_t read = 0;
    bool partial = false;
    for (size_t s = 0; s < nsents; s++) {
        if (sdx_now_ns() > deadline)
            break; /* the rest unread: said by `partial` and `read` */
        read++;
        char *q = NULL;
        sdx_results_t *r = NULL;
        char *sent = strndup(req->text + sents[s].off, sents[s].len);
        if (!sent || s_fit_query(sent, &q)) {
            free(sent);
            code = sdx_ops_fail(err, SDX_E_INTERNAL, "out of memory");
            goto cleanup;
        }
        free(sent);
        if (!q)
            continue;
        sdx_search_spec_t spec;
        sdx_index_search_init(&spec, q, &fs);
        spec.limit = GAPS_SENTENCE_HITS;
        spec.check_at_least = 0;
        spec.synonyms = false;
        sdx_status_t st = sdx_db_search(ctx->db, &spec, &r);
        free(q);
        if (st != SDX_OK) {
            code = sdx_ops_status_error(ctx, st, "gaps", err);
            goto cleanup;
        }
        double top = 0;
        partial = partial || sdx_results_partial(r);
        for (size_t h = 0; h < sdx_results_count(r); h++) {
            sdx_hit_t hit;
            sdx_clause_t *c = NULL;
            sdx_results_hit(r, h, &hit);
            if (h == 0)
                top = hit.score;
            if ((code = sdx_ops_hit_clause(&hit, "gaps", &c, err))) {
                sdx_results_destroy(&r);
                goto cleanup;
            }
            for (size_t i = 0; i < cs.n; i++) {
                gap_t *g = &gaps[i];
                if (strcmp(g->c->id, c->id) != 0)
                    continue;
                double share = top > 0 ? hit.score / top : 0;
                size_t shared = s_shared(&g->stems, &ss[s]);
                size_t need = g->stems.n < GAPS_SHARED ? g->stems.n
                                                       : GAPS_SHARED;
                if (share > g->touch) {
                    g->touch = share;
                    g->sentence = (long)s;
                }
                if (share >= GAPS_SHARE && need && shared >= need)
                    g->covered = true;
            }
            sdx_clause_destroy(&c);
        }
        sdx_results_destroy(&r);
    }
    size_t ngaps = 0;
    for (size_t i = 0; i < cs.n; i++)
        ngaps += !gaps[i].covered;
    qsort(gaps, cs.n, sizeof *gaps, s_cmp_gap);

    sdx_body_key(body, "gaps");
    msgpack_pack_array(&body->pk, ngaps);
    for (size_t i = 0; i < ngaps; i++)
        s_pack_gap(&body->pk, &gaps[i], req->text, sents);
    sdx_body_key(body, "covered");
    msgpack_pack_array(&body->pk, cs.n - ngaps);
    for (size_t i = cs.n; i-- > ngaps;)
        s_pack_gap(&body->pk, &gaps[i], req->text, sents);
    sdx_body_key(body, "sentences");
    msgpack_pack_unsigned_int(&body->pk, (unsigned)nsents);
    /* a row listed as a gap may be covered by a sentence not read */
    sdx_body_key(body, "sentences_read");
    msgpack_pack_unsigned_int(&body->pk, (unsigned)read);
    sdx_body_key(body, "partial");
    sdx_ops_pack_bool(&body->pk, partial || read < nsents);
    if (cs.n == 0) {
        sdx_body_key(body, "note");
        sdx_msgpack_pack_str(&body->pk,
                             "the index has no responsibility or KSA row "
                             "of that series at that level");
    }
    code = SDX_E_NONE;
cleanup:
    for (size_t i = 0; ss && i < nsents; i++)
        free(ss[i].v);
    for (size_t i = 0; gaps && i < cs.n; i++)
        free(gaps[i].stems.v);
    free(ss);
    free(sents);
    free(gaps);
    sdx_ops_clauses_free(&cs);
    sdx_index_filters_free(&fs);
    return code;
}
