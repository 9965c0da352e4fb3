/*
 * op_first: `first`, "at which level does X first appear, and is it
 * there at every level above?": for a query, per row and series, the
 * lowest level with a match, the levels with one, the levels whose cell
 * has none and the levels where the row has no cell at all.
 *
 * One search reads up to FIRST_MAX_HITS matches (levels 1..5, the
 * request's sections and rows); a clause counts as a match when it
 * scores at least SDX_OPS_MIN_SHARE of the best, the ladder's rule, so
 * a stray word does not make a row "have" X.  Then one boolean search
 * finds every cell of the rows shown, and one small search per series
 * its levels, so that "without" is never a level the row lacks.
 */
#include "ops_int.h"

#include <stdlib.h>
#include <string.h>

#define FIRST_MAX_HITS 300         /* matches read: the quarter-share cut
                                      comes earlier for all but the
                                      broadest queries, and each hit's
                                      record is read (1000 was a third
                                      of the QPS on 20k bench clauses) */
#define FIRST_MAX_ROWS 50          /* rows (of a series) in a reply */
#define FIRST_MAX_SERIES 20        /* series whose levels are read */

/* One row of one series and the levels where the query matched it. */
typedef struct first_row {
    const sdx_clause_t *best;  /* its best matching clause (in CS) */
    double score;              /* that clause's score */
    char slug[SLUG_MAX];       /* the row's slug */
    char series[SLUG_MAX];     /* the series' slug */
    unsigned match;            /* bit L: level L's cell matched */
    unsigned cells;            /* bit L: the row has a cell at level L */
    unsigned levels;           /* bit L: the series has level L */
} first_row_t;

static int
s_cmp_row(const void *a, const void *b)
{
    const first_row_t *x = a, *y = b;
    return (x->score < y->score) - (x->score > y->score);
}

/* The lowest level in MASK, or -1. */
static int
s_lowest(unsigned mask)
{
    for (int l = 0; l <= 9; l++)
        if ((mask >> l) & 1u)
            return l;
    return -1;
}

sdx_errcode_t
sdx_op_first(sdx_ops_ctx_t *ctx, const sdx_request_t *req,
             sdx_body_t *body, sdx_proto_error_t *err)
{
    sdx_index_filters_t fs, cf;
    sdx_search_spec_t spec;
    sdx_results_t *r = NULL;
    clauses_t hits = {NULL, 0}, cells = {NULL, 0};
    first_row_t *rows = NULL;
    const char **row_slugs = NULL, **series_slugs = NULL;
    size_t nrows = 0, nseries = 0;
    bool more = false;
    sdx_errcode_t code;

    if ((code = sdx_ops_need_db(ctx, err)))
        return code;
    memset(&fs, 0, sizeof fs);
    memset(&cf, 0, sizeof cf);
    if ((code = sdx_index_filters_from_request(ctx->db, &fs, req, err)) ||
        (code = sdx_ops_levels_1_5(&fs, err)))
        goto cleanup;
    sdx_index_search_init(&spec, req->q, &fs);
    spec.limit = FIRST_MAX_HITS;
    spec.check_at_least = FIRST_MAX_HITS + 1; /* is there more? */
    spec.correct = true;
    sdx_status_t st = sdx_db_search(ctx->db, &spec, &r);
    if (st != SDX_OK) {
        code = sdx_ops_status_error(ctx, st, "first", err);
        goto cleanup;
    }
    size_t n = sdx_results_count(r);
    hits.v = n ? calloc(n, sizeof *hits.v) : NULL;
    rows = calloc(n ? n : 1, sizeof *rows);
    if ((n && !hits.v) || !rows) {
        code = sdx_ops_fail(err, SDX_E_INTERNAL, "out of memory");
        goto cleanup;
    }
    double top = 0;
    for (size_t i = 0; i < n; i++) {
        sdx_hit_t hit;
        sdx_results_hit(r, i, &hit);
        if (i == 0)
            top = hit.score;
        if (hit.score < SDX_OPS_MIN_SHARE * top)
            break; /* in rank order: the rest are stray words too */
        /* the last hit read still counts: more may lie beyond it */
        if (i + 1 == n && sdx_results_estimate(r) > n)
            more = true;
        if ((code = sdx_ops_hit_clause(&hit, "first", &hits.v[i], err)))
            goto cleanup;
        hits.n++;
        const sdx_clause_t *c = hits.v[i];
        char slug[SLUG_MAX], series[SLUG_MAX];
        if (sdx_slug(c->row, slug, sizeof slug) <= 0 ||
            sdx_slug(c->series, series, sizeof series) < 0) {
            code = sdx_ops_fail(err, SDX_E_INTERNAL,
                                "first: the index holds a malformed record");
            goto cleanup;
        }
        size_t j = 0;
        while (j < nrows && (strcmp(rows[j].slug, slug) != 0 ||
                             strcmp(rows[j].series, series) != 0))
            j++;
        if (j == nrows) {
            rows[nrows].best = c;
            rows[nrows].score = hit.score;
            strcpy(rows[nrows].slug, slug);
            strcpy(rows[nrows].series, series);
            nrows++;
        }
        if (c->level >= 0 && c->level <= 9)
            rows[j].match |= 1u << c->level;
    }
    /* already in score order (a row enters at its best hit) */
    qsort(rows, nrows, sizeof *rows, s_cmp_row);
    if (nrows > FIRST_MAX_ROWS) {
        nrows = FIRST_MAX_ROWS;
        more = true;
    }

    /* every cell of the rows shown: which levels each row has */
    if (nrows) {
        row_slugs = calloc(nrows, sizeof *row_slugs);
        series_slugs = calloc(nrows, sizeof *series_slugs);
        if (!row_slugs || !series_slugs) {
            code = sdx_ops_fail(err, SDX_E_INTERNAL, "out of memory");
            goto cleanup;
        }
        for (size_t i = 0; i < nrows; i++) {
            row_slugs[i] = rows[i].slug;
            size_t s = 0;
            while (s < nseries && strcmp(series_slugs[s], rows[i].series))
                s++;
            if (s == nseries)
                series_slugs[nseries++] = rows[i].series;
        }
        if ((code = sdx_index_filter_add(&cf, SDX_PREFIX_ROW, row_slugs,
                                         nrows, false, "rows", err)) ||
            (code = sdx_index_filter_add(&cf, SDX_PREFIX_SERIES,
                                         series_slugs, nseries, false,
                                         "series", err)) ||
            (code = sdx_ops_fetch(ctx, &cf, (unsigned)(nrows * 10 + 10), -1,
                                  "first", &cells, err)))
            goto cleanup;
        for (size_t k = 0; k < cells.n; k++) {
            const sdx_clause_t *c = cells.v[k];
            char slug[SLUG_MAX], series[SLUG_MAX];
            if (sdx_slug(c->row, slug, sizeof slug) <= 0 ||
                sdx_slug(c->series, series, sizeof series) < 0 ||
                c->level < 0 || c->level > 9)
                continue;
            for (size_t i = 0; i < nrows; i++)
                if (strcmp(rows[i].slug, slug) == 0 &&
                    strcmp(rows[i].series, series) == 0)
                    rows[i].cells |= 1u << c->level;
        }
        /* each series' levels */
        for (size_t s = 0; s < nseries && s < FIRST_MAX_SERIES; s++) {
            level_info_t lv[9];
            size_t nlv = 0;
            unsigned mask = 0;
            code = sdx_ops_series_levels(ctx, series_slugs[s], lv, &nlv,
                                         "first", err);
            for (size_t l = 0; l < nlv; l++)
                mask |= 1u << lv[l].level;
            sdx_ops_levels_free(lv, nlv);
            if (code)
                goto cleanup;
            for (size_t i = 0; i < nrows; i++)
                if (strcmp(rows[i].series, series_slugs[s]) == 0)
                    rows[i].levels = mask;
        }
    }

    sdx_body_key(body, "rows");
    msgpack_pack_array(&body->pk, nrows);
    for (size_t i = 0; i < nrows; i++) {
        const first_row_t *fr = &rows[i];
        unsigned levels = fr->levels ? fr->levels : fr->cells;
        int first = s_lowest(fr->match);
        /* every level of the series above the first has a match */
        unsigned above = levels & ~((2u << first) - 1u);
        msgpack_pack_map(&body->pk, 10);
        sdx_msgpack_pack_str(&body->pk, "series");
        sdx_msgpack_pack_str(&body->pk, fr->best->series);
        sdx_msgpack_pack_str(&body->pk, "row");
        sdx_msgpack_pack_str(&body->pk, fr->best->row);
        sdx_msgpack_pack_str(&body->pk, "first");
        msgpack_pack_int(&body->pk, first);
        sdx_msgpack_pack_str(&body->pk, "with");
        sdx_ops_pack_levels(&body->pk, fr->match);
        sdx_msgpack_pack_str(&body->pk, "without");
        sdx_ops_pack_levels(&body->pk, fr->cells & ~fr->match);
        sdx_msgpack_pack_str(&body->pk, "no_cell");
        sdx_ops_pack_levels(&body->pk, levels & ~fr->cells);
        sdx_msgpack_pack_str(&body->pk, "every_level_above");
        sdx_ops_pack_bool(&body->pk, (above & ~fr->match) == 0);
        sdx_msgpack_pack_str(&body->pk, "id");
        sdx_msgpack_pack_str(&body->pk, fr->best->id);
        sdx_msgpack_pack_str(&body->pk, "first_id");
        const char *first_id = fr->best->id;
        for (size_t k = 0; k < hits.n && first_id == fr->best->id; k++)
            if (hits.v[k]->level == first &&
                strcmp(hits.v[k]->series, fr->best->series) == 0 &&
                strcmp(hits.v[k]->row, fr->best->row) == 0)
                first_id = hits.v[k]->id;
        sdx_msgpack_pack_str(&body->pk, first_id);
        sdx_msgpack_pack_str(&body->pk, "score");
        msgpack_pack_double(&body->pk, fr->score);
    }
    sdx_body_key(body, "more");
    sdx_ops_pack_bool(&body->pk, more);
    sdx_body_key(body, "partial");
    sdx_ops_pack_bool(&body->pk, sdx_results_partial(r));
    const char *corrected = sdx_results_corrected(r);
    if (corrected[0]) {
        sdx_body_key(body, "corrected");
        sdx_msgpack_pack_str(&body->pk, corrected);
    }
    code = SDX_E_NONE;
cleanup:
    free(row_slugs);
    free(series_slugs);
    free(rows);
    sdx_ops_clauses_free(&hits);
    sdx_ops_clauses_free(&cells);
    sdx_results_destroy(&r);
    sdx_index_filters_free(&fs);
    sdx_index_filters_free(&cf);
    return code;
}
