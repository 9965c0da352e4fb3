/*
 * op_ladder: the operations that read a job standard across its levels:
 * `ladder` (for one query, the best clause at each level 1..5, and the
 * row of the overall best hit at every level), `row` (one row at
 * every level) and `series` (every series with its levels, job codes
 * and clause count).  This is how staff see one duty change from level 1 to
 * level 5.
 *
 * A ladder is one search whose first SDX_SEARCH_LADDER_SCAN matches
 * (sdx_index.h) give the best hit of each level (the shim's
 * collapse_scan: Xapian's own collapse weighs every match once all five
 * levels have a hit, three times the cost on a large index), a search per level only for a level missing
 * there that could still be shown, then two small boolean searches: the
 * row's cells (series and row terms) and one clause per level of the
 * series, for the titles and job codes of the levels where the row has
 * no cell.
 */
#include "ops_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdx_log.h"

#define LADDER_LEVELS 5            /* the ladder's levels, 1..5 */
#define ROW_MAX_CLAUSES 1000       /* clauses one row search reads */
#define ROW_MAX_SERIES 20          /* series one `row` reply covers */

void
sdx_ops_clauses_free(clauses_t *cs)
{
    for (size_t i = 0; i < cs->n; i++)
        sdx_clause_destroy(&cs->v[i]);
    free(cs->v);
    cs->v = NULL;
    cs->n = 0;
}

void
sdx_ops_levels_free(level_info_t *lv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(lv[i].title);
        free(lv[i].job_code);
    }
}

/*
 * Search Q (NULL: every document) with the filters FS, at most LIMIT
 * hits, collapsed on COLLAPSE_SLOT unless it is -1; every hit as a
 * clause into *OUT.
 */
sdx_errcode_t
sdx_ops_fetch(sdx_ops_ctx_t *ctx, const sdx_index_filters_t *fs,
              unsigned limit, int collapse_slot, const char *what,
              clauses_t *out, sdx_proto_error_t *err)
{
    sdx_search_spec_t spec;
    sdx_results_t *r = NULL;
    sdx_errcode_t code = SDX_E_NONE;
    sdx_index_search_init(&spec, NULL, fs);
    spec.limit = limit;
    spec.check_at_least = 0;
    if (collapse_slot >= 0) {
        spec.collapse = true;
        spec.key_slot = (unsigned)collapse_slot;
    }
    sdx_status_t st = sdx_db_search(ctx->db, &spec, &r);
    if (st != SDX_OK)
        return sdx_ops_status_error(ctx, st, what, err);
    size_t n = sdx_results_count(r);
    out->n = 0;
    out->v = n ? calloc(n, sizeof *out->v) : NULL;
    if (n && !out->v) {
        code = sdx_ops_fail(err, SDX_E_INTERNAL, "out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++) {
        sdx_hit_t hit;
        sdx_results_hit(r, i, &hit);
        if ((code = sdx_ops_hit_clause(&hit, what, &out->v[i], err)))
            goto cleanup;
        out->n++;
    }
cleanup:
    sdx_results_destroy(&r);
    return code;
}

/*
 * The levels (1..9) of the series with slug SERIES, ascending, with
 * each level's title and job code: at most 9 into LV, *NLV of them.
 */
sdx_errcode_t
sdx_ops_series_levels(sdx_ops_ctx_t *ctx, const char *series,
                      level_info_t *lv,                size_t *nlv, const char *what, sdx_proto_error_t *err)
{
    sdx_index_filters_t fs;
    clauses_t cs = {NULL, 0};
    sdx_errcode_t code;
    *nlv = 0;
    memset(&fs, 0, sizeof fs);
    if ((code = sdx_index_filter_add(&fs, SDX_PREFIX_SERIES, &series, 1,
                                   false, "series", err)) ||
        (code = sdx_ops_fetch(ctx, &fs, 10, SDX_SLOT_LEVEL, what, &cs, err)))
        goto cleanup;
    for (int l = 1; l <= 9; l++) {
        for (size_t i = 0; i < cs.n; i++) {
            if (cs.v[i]->level != l)
                continue;
            lv[*nlv].level = l;
            lv[*nlv].title = strdup(cs.v[i]->title);
            lv[*nlv].job_code = strdup(cs.v[i]->job_code);
            (*nlv)++;
            if (!lv[*nlv - 1].title || !lv[*nlv - 1].job_code) {
                code = sdx_ops_fail(err, SDX_E_INTERNAL, "out of memory");
                goto cleanup;
            }
            break;
        }
    }
cleanup:
    sdx_ops_clauses_free(&cs);
    sdx_index_filters_free(&fs);
    return code;
}

/* The clauses of the row with slug ROW (exactly), in SERIES when not
   NULL (a series slug). */
sdx_errcode_t
sdx_ops_row_clauses(sdx_ops_ctx_t *ctx, const char *series,
                    const char *row,              const char *what, clauses_t *out, sdx_proto_error_t *err)
{
    sdx_index_filters_t fs;
    sdx_errcode_t code;
    memset(&fs, 0, sizeof fs);
    if ((code = sdx_index_filter_add(&fs, SDX_PREFIX_ROW, &row, 1, false,
                                   "row", err)) ||
        (series && (code = sdx_index_filter_add(&fs, SDX_PREFIX_SERIES,
                                              &series, 1, false, "series",
                                              err))) ||
        (code = sdx_ops_fetch(ctx, &fs, ROW_MAX_CLAUSES, -1, what, out, err)))
        goto cleanup;
    /* XR also holds the un-numbered base ("key-resp"): keep the row
       itself only */
    size_t k = 0;
    for (size_t i = 0; i < out->n; i++) {
        char slug[SLUG_MAX];
        if (sdx_slug(out->v[i]->row, slug, sizeof slug) > 0 &&
            strcmp(slug, row) == 0)
            out->v[k++] = out->v[i];
        else
            sdx_clause_destroy(&out->v[i]);
    }
    out->n = k;
cleanup:
    sdx_index_filters_free(&fs);
    return code;
}

/*
 * Pack the cells of row ROW (slug) of one series at each of its levels
 * LV: {level, series, id, title, text}, text nil (and id the id the cell would
 * have) where the row has no cell.  CS holds the row's clauses of that
 * series (others are ignored by SERIES, the series name).
 */
static void
s_pack_cells(msgpack_packer *pk, const char *row, const char *series,
             const char *series_slug, const clauses_t *cs,
             const level_info_t *lv, size_t nlv)
{
    for (size_t i = 0; i < nlv; i++) {
        const sdx_clause_t *cell = NULL;
        for (size_t j = 0; j < cs->n && !cell; j++)
            if (cs->v[j]->level == lv[i].level &&
                strcmp(cs->v[j]->series, series) == 0)
                cell = cs->v[j];
        msgpack_pack_map(pk, 5);
        sdx_msgpack_pack_str(pk, "level");
        msgpack_pack_int(pk, lv[i].level);
        /* the series as the records write it: a client that asked with
           a series that has not this row can name the one that has */
        sdx_msgpack_pack_str(pk, "series");
        sdx_msgpack_pack_str(pk, series);
        sdx_msgpack_pack_str(pk, "id");
        if (cell) {
            sdx_msgpack_pack_str(pk, cell->id);
        } else {
            char id[2 * SLUG_MAX + 2];
            snprintf(id, sizeof id, "%s/%s",
                     lv[i].job_code[0] ? lv[i].job_code : series_slug, row);
            sdx_msgpack_pack_str(pk, id);
        }
        sdx_msgpack_pack_str(pk, "title");
        sdx_msgpack_pack_str(pk, cell ? cell->title : lv[i].title);
        sdx_msgpack_pack_str(pk, "text");
        sdx_msgpack_pack_str(pk, cell ? cell->text : NULL);
    }
}

/* ---------------------------------------------------------------- */
/* ladder                                                           */
/* ---------------------------------------------------------------- */

/*
 * Levels 1..5 as a filter: every clause has one level term, 0..9, so
 * excluding 0 and 6..9 keeps exactly 1..5, and their posting lists are
 * short (one series-wide clause per series; levels past 5 are rare)
 * where those of 1..5 together hold almost every clause.
 */
sdx_errcode_t
sdx_ops_levels_1_5(sdx_index_filters_t *fs, sdx_proto_error_t *err)
{
    static const char *const others[] = {"0", "6", "7", "8", "9"};
    sdx_errcode_t code = sdx_index_filter_add(
        fs, SDX_PREFIX_LEVEL, others, sizeof others / sizeof others[0],
        false, "levels", err);
    if (!code)
        fs->f[fs->n - 1].exclude = true;
    return code;
}

/*
 * The best hit at LEVEL for SPEC's query and filters FS (the ladder's,
 * levels included), searched on its own: a level not among the first
 * SDX_SEARCH_LADDER_SCAN matches.  The clause TOP_ID (the ladder's best
 * hit) is let through as well: Xapian's percent is relative to the best match,
 * so with it in the match the level's percent is the one the ladder's
 * own search gives.  *OUT holds the match, *AT the index of the level's
 * hit in it or -1.
 */
static sdx_errcode_t
s_level_best(sdx_ops_ctx_t *ctx, const sdx_search_spec_t *spec,
             sdx_index_filters_t *fs, int level, const char *top_id,
             sdx_results_t **out, int *at, sdx_proto_error_t *err)
{
    char level_term[8], id_term[SDX_INDEX_TERM_MAX];
    const char *terms[2] = {level_term, id_term};
    sdx_errcode_t code;
    *at = -1;
    snprintf(level_term, sizeof level_term, "%s%d", SDX_PREFIX_LEVEL,
             level);
    snprintf(id_term, sizeof id_term, "%s%s", SDX_PREFIX_ID, top_id);
    if ((code = sdx_index_filter_add(fs, "", terms, 2, false, "levels", err)))
        return code;
    sdx_search_spec_t s = *spec;
    s.filters = fs->f;
    s.nfilters = fs->n;
    s.limit = 2;
    s.collapse = false;
    s.collapse_scan = 0;
    s.keys = true;
    s.correct = false;
    sdx_status_t st = sdx_db_search(ctx->db, &s, out);
    sdx_index_filter_pop(fs);
    if (st != SDX_OK)
        return sdx_ops_status_error(ctx, st, "ladder", err);
    for (size_t i = 0; i < sdx_results_count(*out) && *at < 0; i++) {
        sdx_hit_t hit;
        sdx_results_hit(*out, i, &hit);
        if (hit.key_len == 1 && hit.key[0] - '0' == level)
            *at = (int)i;
    }
    return SDX_E_NONE;
}

sdx_errcode_t
sdx_op_ladder(sdx_ops_ctx_t *ctx, const sdx_request_t *req,
              sdx_body_t *body, sdx_proto_error_t *err)
{
    sdx_index_filters_t fs;
    sdx_search_spec_t spec;
    sdx_results_t *results = NULL;
    sdx_results_t *alone[LADDER_LEVELS] = {NULL}; /* a level searched on
                                                     its own */
    sdx_clause_t *best = NULL;
    clauses_t cells = {NULL, 0};
    level_info_t lv[9];
    size_t nlv = 0;
    int at[LADDER_LEVELS]; /* hit index of each level, -1: none */
    char row[SLUG_MAX], series[SLUG_MAX];
    bool partial;
    double floor;
    sdx_errcode_t code;

    if ((code = sdx_ops_need_db(ctx, err)))
        return code;
    memset(&fs, 0, sizeof fs);
    if ((code = sdx_index_filters_from_request(ctx->db, &fs, req, err)) ||
        (code = sdx_ops_levels_1_5(&fs, err)))
        goto cleanup;

    /* The best hit of each level, best first. */
    sdx_index_search_init(&spec, req->q, &fs);
    spec.limit = LADDER_LEVELS;
    spec.check_at_least = 0;   /* the reply has no total */
    spec.collapse = true;
    spec.collapse_scan = SDX_SEARCH_LADDER_SCAN;
    spec.key_slot = SDX_SLOT_LEVEL;
    spec.correct = true;
    sdx_status_t st = sdx_db_search(ctx->db, &spec, &results);
    if (st != SDX_OK) {
        code = sdx_ops_status_error(ctx, st, "ladder", err);
        goto cleanup;
    }
    partial = sdx_results_partial(results);
    size_t n = sdx_results_count(results);
    double top = 0;
    for (int l = 0; l < LADDER_LEVELS; l++)
        at[l] = -1;
    for (size_t i = 0; i < n; i++) {
        sdx_hit_t hit;
        sdx_results_hit(results, i, &hit);
        int level = hit.key_len == 1 ? hit.key[0] - '0' : -1;
        if (i == 0)
            top = hit.score;
        /* a level whose best hit is far below the overall best has
           nothing relevant: nil rather than a stray word match */
        if (level >= 1 && level <= LADDER_LEVELS &&
            hit.score >= SDX_OPS_MIN_SHARE * top)
            at[level - 1] = (int)i;
    }
    if (n > 0) {
        sdx_hit_t hit;
        sdx_results_hit(results, 0, &hit);
        if ((code = sdx_ops_hit_clause(&hit, "ladder", &best, err)))
            goto cleanup;
    }
    /* A level the scan did not reach weighs at most FLOOR: searched
       only when that could still be shown. */
    if (best && sdx_results_scan_cut(results, &floor) &&
        floor >= SDX_OPS_MIN_SHARE * top) {
        for (int l = 0; l < LADDER_LEVELS; l++) {
            bool met = false;
            for (size_t i = 0; i < n && !met; i++) {
                sdx_hit_t hit;
                sdx_results_hit(results, i, &hit);
                met = hit.key_len == 1 && hit.key[0] - '0' == l + 1;
            }
            if (met)
                continue;
            int i;
            if ((code = s_level_best(ctx, &spec, &fs, l + 1, best->id,
                                     &alone[l], &i, err)))
                goto cleanup;
            partial = partial || sdx_results_partial(alone[l]);
            if (i < 0)
                continue;
            sdx_hit_t hit;
            sdx_results_hit(alone[l], (size_t)i, &hit);
            if (hit.score >= SDX_OPS_MIN_SHARE * top)
                at[l] = i;
        }
    }

    if (best) {
        if (sdx_slug(best->row, row, sizeof row) <= 0 ||
            sdx_slug(best->series, series, sizeof series) < 0) {
            code = sdx_ops_fail(err, SDX_E_INTERNAL,
                                "ladder: the index holds a malformed "
                                "record");
            goto cleanup;
        }
        if ((code = sdx_ops_row_clauses(ctx, series, row, "ladder", &cells,
                                  err)) ||
            (code = sdx_ops_series_levels(ctx, series, lv, &nlv, "ladder", err)))
            goto cleanup;
    }

    sdx_body_key(body, "ladder");
    msgpack_pack_array(&body->pk, LADDER_LEVELS);
    for (int l = 0; l < LADDER_LEVELS; l++) {
        msgpack_pack_map(&body->pk, 2);
        sdx_msgpack_pack_str(&body->pk, "level");
        msgpack_pack_int(&body->pk, l + 1);
        sdx_msgpack_pack_str(&body->pk, "hit");
        if (at[l] < 0) {
            msgpack_pack_nil(&body->pk);
            continue;
        }
        sdx_hit_t hit;
        sdx_results_hit(alone[l] ? alone[l] : results, (size_t)at[l], &hit);
        if (sdx_proto_pack_map_extend(&body->pk, hit.data, hit.data_len,
                                      2)) {
            code = sdx_ops_fail(err, SDX_E_INTERNAL,
                                "ladder: the index holds a malformed "
                                "record");
            goto cleanup;
        }
        sdx_msgpack_pack_str(&body->pk, "score");
        msgpack_pack_double(&body->pk, hit.score);
        sdx_msgpack_pack_str(&body->pk, "percent");
        msgpack_pack_int(&body->pk, hit.percent);
    }
    sdx_body_key(body, "row");
    sdx_msgpack_pack_str(&body->pk, best ? best->row : NULL);
    sdx_body_key(body, "row_cells");
    msgpack_pack_array(&body->pk, nlv);
    if (best)
        s_pack_cells(&body->pk, row, best->series, series, &cells, lv, nlv);
    sdx_body_key(body, "partial");
    if (partial)
        msgpack_pack_true(&body->pk);
    else
        msgpack_pack_false(&body->pk);
    const char *corrected = sdx_results_corrected(results);
    if (corrected[0]) {
        sdx_body_key(body, "corrected");
        sdx_msgpack_pack_str(&body->pk, corrected);
    }
    code = SDX_E_NONE;
cleanup:
    sdx_ops_levels_free(lv, nlv);
    sdx_ops_clauses_free(&cells);
    sdx_clause_destroy(&best);
    sdx_results_destroy(&results);
    for (int l = 0; l < LADDER_LEVELS; l++)
        sdx_results_destroy(&alone[l]);
    sdx_index_filters_free(&fs);
    return code;
}

/* ---------------------------------------------------------------- */
/* row                                                              */
/* ---------------------------------------------------------------- */

static int
s_cmp_clause(const void *a, const void *b)
{
    const sdx_clause_t *x = *(sdx_clause_t *const *)a;
    const sdx_clause_t *y = *(sdx_clause_t *const *)b;
    int c = strcmp(x->series, y->series);
    return c ? c : (x->level > y->level) - (x->level < y->level);
}

sdx_errcode_t
sdx_ops_request_row(sdx_ops_ctx_t *ctx, const sdx_request_t *req,
                    const char *what, char row[SLUG_MAX], clauses_t *cs,
                    sdx_proto_error_t *err)
{
    char series[SLUG_MAX];
    sdx_errcode_t code;
    if (sdx_slug(req->row, row, SLUG_MAX) <= 0)
        return sdx_ops_fail(err, SDX_E_BAD_REQUEST,
                            "row: a row label needs a letter or digit");
    if (req->series && (code = sdx_index_series_slug(ctx->db, req->series,
                                                     series, sizeof series,
                                                     err)))
        return code;
    if ((code = sdx_ops_row_clauses(ctx, req->series ? series : NULL, row,
                                    what, cs, err)))
        return code;
    if (cs->n > 1)
        qsort(cs->v, cs->n, sizeof *cs->v, s_cmp_clause);
    return SDX_E_NONE;
}

sdx_errcode_t
sdx_op_row(sdx_ops_ctx_t *ctx, const sdx_request_t *req, sdx_body_t *body,
           sdx_proto_error_t *err)
{
    clauses_t cs = {NULL, 0};
    level_info_t lv[ROW_MAX_SERIES][9];
    size_t nlv[ROW_MAX_SERIES];
    const sdx_clause_t *first[ROW_MAX_SERIES]; /* a clause per series */
    char row[SLUG_MAX];
    size_t nseries = 0, ncells = 0;
    sdx_errcode_t code;

    if ((code = sdx_ops_need_db(ctx, err)))
        return code;
    if ((code = sdx_ops_request_row(ctx, req, "row", row, &cs, err)))
        goto cleanup;

    /* each series once, in name order, with its levels */
    for (size_t i = 0; i < cs.n && nseries < ROW_MAX_SERIES; i++) {
        if (nseries > 0 &&
            strcmp(first[nseries - 1]->series, cs.v[i]->series) == 0)
            continue;
        char slug[SLUG_MAX];
        if (sdx_slug(cs.v[i]->series, slug, sizeof slug) < 0) {
            code = sdx_ops_fail(err, SDX_E_INTERNAL,
                                "row: the index holds a malformed record");
            goto cleanup;
        }
        first[nseries] = cs.v[i];
        nlv[nseries] = 0;
        nseries++;
        if ((code = sdx_ops_series_levels(ctx, slug, lv[nseries - 1],
                                    &nlv[nseries - 1], "row", err)))
            goto cleanup;
        ncells += nlv[nseries - 1];
    }

    /* the label as the corpus writes it ("Key Resp 06"), as ladder's */
    sdx_body_key(body, "row");
    sdx_msgpack_pack_str(&body->pk, nseries ? first[0]->row : NULL);
    sdx_body_key(body, "cells");
    msgpack_pack_array(&body->pk, ncells);
    for (size_t s = 0; s < nseries; s++) {
        char slug[SLUG_MAX];
        sdx_slug(first[s]->series, slug, sizeof slug);
        s_pack_cells(&body->pk, row, first[s]->series, slug, &cs, lv[s],
                     nlv[s]);
    }
    code = SDX_E_NONE;
cleanup:
    for (size_t s = 0; s < nseries; s++)
        sdx_ops_levels_free(lv[s], nlv[s]);
    sdx_ops_clauses_free(&cs);
    return code;
}

/* ---------------------------------------------------------------- */
/* series                                                           */
/* ---------------------------------------------------------------- */

/* The series of one reply, at most: a health system has hundreds. */
#define SERIES_LIST_MAX 10000

/*
 * Pack one series (slug SLUG): {series, levels, codes, clauses}.  Its
 * levels and codes come from one clause per level (s_series_levels),
 * its title from the first of them or, for a series with only
 * series-wide clauses, from its summary.
 */
static sdx_errcode_t
s_pack_series(sdx_ops_ctx_t *ctx, msgpack_packer *pk, const char *slug,
              sdx_proto_error_t *err)
{
    char term[SDX_INDEX_TERM_MAX];
    level_info_t lv[9];
    size_t nlv = 0;
    uint64_t count = 0;
    sdx_index_filters_t fs;
    clauses_t one = {NULL, 0};
    sdx_errcode_t code;
    memset(&fs, 0, sizeof fs);
    snprintf(term, sizeof term, "%s%s", SDX_PREFIX_SERIES, slug);
    sdx_status_t st = sdx_db_term_count(ctx->db, term, &count);
    if (st != SDX_OK)
        return sdx_ops_status_error(ctx, st, "series", err);
    /* the title as the records write it: any clause of the series */
    if ((code = sdx_index_filter_add(&fs, SDX_PREFIX_SERIES, &slug, 1,
                                     false, "series", err)) ||
        (code = sdx_ops_fetch(ctx, &fs, 1, -1, "series", &one, err)) ||
        (code = sdx_ops_series_levels(ctx, slug, lv, &nlv, "series", err)))
        goto cleanup;
    msgpack_pack_map(pk, 4);
    sdx_msgpack_pack_str(pk, "series");
    sdx_msgpack_pack_str(pk, one.n ? one.v[0]->series : slug);
    sdx_msgpack_pack_str(pk, "levels");
    msgpack_pack_array(pk, nlv);
    for (size_t i = 0; i < nlv; i++)
        msgpack_pack_int(pk, lv[i].level);
    sdx_msgpack_pack_str(pk, "codes");
    msgpack_pack_array(pk, nlv);
    for (size_t i = 0; i < nlv; i++)
        sdx_msgpack_pack_str(pk, lv[i].job_code);
    sdx_msgpack_pack_str(pk, "clauses");
    msgpack_pack_uint64(pk, count);
cleanup:
    sdx_ops_levels_free(lv, nlv);
    sdx_ops_clauses_free(&one);
    sdx_index_filters_free(&fs);
    return code;
}

sdx_errcode_t
sdx_op_series(sdx_ops_ctx_t *ctx, const sdx_request_t *req,
              sdx_body_t *body, sdx_proto_error_t *err)
{
    char *slugs = NULL;
    size_t len = 0, count = 0;
    bool more = false;
    sdx_errcode_t code;
    (void)req;
    if ((code = sdx_ops_need_db(ctx, err)))
        return code;
    sdx_status_t st = sdx_db_terms(ctx->db, SDX_PREFIX_SERIES,
                                   SERIES_LIST_MAX, &slugs, &len, &count,
                                   &more);
    if (st != SDX_OK)
        return sdx_ops_status_error(ctx, st, "series", err);
    /* in slug order: the order of the index's series terms */
    sdx_body_key(body, "series");
    msgpack_pack_array(&body->pk, count);
    const char *p = slugs;
    for (size_t i = 0; i < count; i++, p += strlen(p) + 1)
        if ((code = s_pack_series(ctx, &body->pk, p, err)))
            goto cleanup;
    sdx_body_key(body, "more");
    if (more)
        msgpack_pack_true(&body->pk);
    else
        msgpack_pack_false(&body->pk);
cleanup:
    free(slugs);
    return code;
}
