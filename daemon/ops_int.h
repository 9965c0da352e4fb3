/*
 * ops_int: what the operation handlers share (ops.c, op_search.c,
 * op_ladder.c, stats.c), kept out of daemon.h because nothing outside the
 * handlers needs it: the cost bounds of a search, error helpers, and
 * reading a clause record back out of a hit.  The index's shape (its
 * terms, slots, fields and request filters as terms) is lib/sdx_index.h's.
 */
#ifndef SDX_OPS_INT_H
#define SDX_OPS_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "daemon.h"
#include "sdx_clause.h"
#include "sdx_index.h"

/* The cost bounds of one search are lib/sdx_index.h's SDX_SEARCH_*. */
#define FACET_CHECK_AT_LEAST 100000 /* documents a facet search checks at
                                      least: counts are exact on indexes
                                      up to this size */

/* Set ERR to CODE with MESSAGE; returns CODE. */
sdx_errcode_t sdx_ops_fail(sdx_proto_error_t *err, sdx_errcode_t code,
                           const char *message);

/*
 * Turn a failed shim call on CTX->db into ERR: Xapian's parser message
 * for a bad query, the status table's safe message otherwise (the
 * detail is logged).  Returns the code.
 */
sdx_errcode_t sdx_ops_status_error(sdx_ops_ctx_t *ctx, sdx_status_t st,
                                   const char *what,
                                   sdx_proto_error_t *err);

/* `unavailable` when CTX has no index open, else SDX_E_NONE. */
sdx_errcode_t sdx_ops_need_db(sdx_ops_ctx_t *ctx, sdx_proto_error_t *err);

/*
 * The clause record of HIT as a clause (caller owns), or an `internal`
 * error (logged, naming WHAT) when the index holds a malformed record.
 */
sdx_errcode_t sdx_ops_hit_clause(const sdx_hit_t *hit, const char *what,
                                 sdx_clause_t **out, sdx_proto_error_t *err);

/*
 * For each hit of PAGE (searched with keys on SDX_SLOT_GROUP), the
 * levels (bit L set for level L) of the clauses that share its group
 * key and match SPEC's query and filters.  MASKS has one entry per hit.
 * FS is SPEC's filter set; a filter is added and removed again.
 */
sdx_errcode_t sdx_ops_group_levels(sdx_ops_ctx_t *ctx,
                                   sdx_search_spec_t *spec,
                                   sdx_index_filters_t *fs,
                                   const sdx_results_t *page,
                                   unsigned *masks, bool *partial,
                                   sdx_proto_error_t *err);

#define SLUG_MAX 200               /* bytes of a slug */
#define SDX_OPS_MIN_SHARE 0.25     /* a clause counts as a match of a
                                      query when its score is at least
                                      this share of the best match's
                                      (ladder, first; docs/RELEVANCE.md):
                                      under it, a stray word matched */

/*
 * Levels 1..5 as a filter added to FS (excluding 0 and 6..9: short
 * posting lists, the same clauses).
 */
sdx_errcode_t sdx_ops_levels_1_5(sdx_index_filters_t *fs,
                                 sdx_proto_error_t *err);

/* A series' level: what an empty cell at that level still shows. */
typedef struct level_info {
    int level;                 /* 1..9 */
    char *title;               /* that level's title, owned */
    char *job_code;            /* that level's job code, owned */
} level_info_t;

/* Clauses found for a row, owned. */
typedef struct clauses {
    sdx_clause_t **v;          /* the clauses */
    size_t n;                  /* how many */
} clauses_t;

/* Free the clauses of CS; CS is empty again. */
void sdx_ops_clauses_free(clauses_t *cs);

/* Free the titles and codes of LV[0..N). */
void sdx_ops_levels_free(level_info_t *lv, size_t n);

/*
 * Search Q (NULL: every document) with the filters FS, at most LIMIT
 * hits, collapsed on COLLAPSE_SLOT unless it is -1; every hit as a
 * clause into *OUT (caller frees with sdx_ops_clauses_free).  WHAT
 * names the op in errors.
 */
sdx_errcode_t sdx_ops_fetch(sdx_ops_ctx_t *ctx, const sdx_index_filters_t *fs,
                            unsigned limit, int collapse_slot,
                            const char *what, clauses_t *out,
                            sdx_proto_error_t *err);

/*
 * The levels (1..9) of the series with slug SERIES, ascending, with
 * each level's title and job code: at most 9 into LV, *NLV of them
 * (caller frees with sdx_ops_levels_free).
 */
sdx_errcode_t sdx_ops_series_levels(sdx_ops_ctx_t *ctx, const char *series,
                                    level_info_t *lv, size_t *nlv,
                                    const char *what,
                                    sdx_proto_error_t *err);

/* The clauses of the row with slug ROW (exactly), in the series with
   slug SERIES when not NULL, into *OUT. */
sdx_errcode_t sdx_ops_row_clauses(sdx_ops_ctx_t *ctx, const char *series,
                                  const char *row, const char *what,
                                  clauses_t *out, sdx_proto_error_t *err);

/*
 * The clauses of the row REQ->row names (in REQ->series when given) by
 * series, then level, into *CS; its slug into ROW.  A label or series
 * without a letter or digit is `bad_request`; WHAT names the op.
 */
sdx_errcode_t sdx_ops_request_row(sdx_ops_ctx_t *ctx,
                                  const sdx_request_t *req,
                                  const char *what, char row[SLUG_MAX],
                                  clauses_t *cs, sdx_proto_error_t *err);

/* Pack B as a msgpack bool. */
void sdx_ops_pack_bool(msgpack_packer *pk, bool b);

/* Pack the levels of MASK as an ascending array of ints. */
void sdx_ops_pack_levels(msgpack_packer *pk, unsigned mask);

/* How fit scores a level from the matches of the text's terms
   (docs/RELEVANCE.md, "Level fit", has what each scored). */
typedef struct sdx_fit_method {
    enum {
        SDX_FIT_TOP_K,         /* the sum of a level's K best scores
                                  (K = 1: the levels in the order of
                                  their first hits, the naive baseline
                                  of a plain search) */
        SDX_FIT_SUM,           /* the sum of all its scores */
        SDX_FIT_RANK,          /* its K best, the r-th divided by r */
        SDX_FIT_CONTRAST,      /* each hit's score less the mean of its
                                  row's five levels (a row's topic words
                                  cancel, its level words stay), summed */
        SDX_FIT_VOTE,          /* each row matched votes for its best
                                  level (ties: the sum of best scores);
                                  K: only rows whose best scores K% of
                                  the best hit's at least */
        SDX_FIT_VOTE_MARGIN,   /* ... with its lead over its second */
        SDX_FIT_VOTE_WEIGHED,  /* ... with its best score's share of
                                  the best hit's */
        SDX_FIT_SOFT_VOTE,     /* each row adds (score / its best)^K to
                                  each of its levels */
    } kind;
    size_t k;                  /* TOP_K, RANK: clauses per level;
                                  VOTE: a share, percent */
} sdx_fit_method_t;

/* The method the `fit` op uses. */
extern const sdx_fit_method_t sdx_fit_default;

/* One series of a fit: its levels' scores and ranking. */
typedef struct sdx_fit_series {
    const char *name;          /* the series, as the records (in HITS) */
    double score[6];           /* score of levels 1..5 */
    size_t hits[6];            /* matches read at levels 1..5 */
    int rank[5];               /* levels 1..5, best first */
    double best;               /* score of RANK[0] */
    double topic;              /* how well the series matches as a
                                  whole: the sum of its hits' scores
                                  among the first FIT_TOPIC_HITS; the
                                  series are ranked by it */
} sdx_fit_series_t;

/* What sdx_ops_fit_rank found; sdx_fit_clear frees it. */
typedef struct sdx_fit {
    clauses_t hits;            /* the matches read, in rank order */
    double *scores;            /* their scores */
    sdx_fit_series_t series[64]; /* series matched, best first (more
                                  are left out) */
    size_t nseries;            /* how many */
    bool partial;              /* the time limit cut the search short */
} sdx_fit_t;

/*
 * Rank the levels of each series that TEXT's terms match (in SERIES
 * only when not NULL; without the clauses EXCLUDE names, NULL for none)
 * by METHOD into *FIT (always to be cleared).  A text with no term
 * searched for gives no series.  Returns as the handlers.
 */
sdx_errcode_t sdx_ops_fit_rank(sdx_ops_ctx_t *ctx, const char *text,
                               const char *series,
                               const sdx_strlist_t *exclude,
                               const sdx_fit_method_t *method,
                               sdx_fit_t *fit, sdx_proto_error_t *err);

/*
 * Score FIT's hits again by METHOD: its series and their levels' scores
 * and ranks, as sdx_ops_fit_rank would have made them (one search, any
 * number of methods: the evaluation's way).  Returns 0, or -1 when out
 * of memory.
 */
int sdx_fit_score(sdx_fit_t *fit, const sdx_fit_method_t *method);

/* Free what FIT holds.  Idempotent. */
void sdx_fit_clear(sdx_fit_t *fit);

/* The handlers (same shape as sdx_ops_handle). */
sdx_errcode_t sdx_op_search(sdx_ops_ctx_t *ctx, const sdx_request_t *req,
                            sdx_body_t *body, sdx_proto_error_t *err);
sdx_errcode_t sdx_op_suggest(sdx_ops_ctx_t *ctx, const sdx_request_t *req,
                             sdx_body_t *body, sdx_proto_error_t *err);
sdx_errcode_t sdx_op_context(sdx_ops_ctx_t *ctx, const sdx_request_t *req,
                             sdx_body_t *body, sdx_proto_error_t *err);
sdx_errcode_t sdx_op_ladder(sdx_ops_ctx_t *ctx, const sdx_request_t *req,
                            sdx_body_t *body, sdx_proto_error_t *err);
sdx_errcode_t sdx_op_row(sdx_ops_ctx_t *ctx, const sdx_request_t *req,
                         sdx_body_t *body, sdx_proto_error_t *err);
sdx_errcode_t sdx_op_fit(sdx_ops_ctx_t *ctx, const sdx_request_t *req,
                         sdx_body_t *body, sdx_proto_error_t *err);
sdx_errcode_t sdx_op_diff(sdx_ops_ctx_t *ctx, const sdx_request_t *req,
                          sdx_body_t *body, sdx_proto_error_t *err);
sdx_errcode_t sdx_op_first(sdx_ops_ctx_t *ctx, const sdx_request_t *req,
                           sdx_body_t *body, sdx_proto_error_t *err);
sdx_errcode_t sdx_op_verify(sdx_ops_ctx_t *ctx, const sdx_request_t *req,
                            sdx_body_t *body, sdx_proto_error_t *err);
sdx_errcode_t sdx_op_gaps(sdx_ops_ctx_t *ctx, const sdx_request_t *req,
                          sdx_body_t *body, sdx_proto_error_t *err);
sdx_errcode_t sdx_op_stats(sdx_ops_ctx_t *ctx, const sdx_request_t *req,
                           sdx_body_t *body, sdx_proto_error_t *err);
sdx_errcode_t sdx_op_series(sdx_ops_ctx_t *ctx, const sdx_request_t *req,
                            sdx_body_t *body, sdx_proto_error_t *err);

#endif /* SDX_OPS_INT_H */
