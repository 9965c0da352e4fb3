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

/* Cost bounds of one search (design.md: Enquire's time limit alone only
   stops checking more matches). */
#define SEARCH_CHECK_AT_LEAST 200  /* documents checked at least, for a
                                      sound `total` on small pages */
#define SEARCH_MAX_EXPANSION 200   /* terms one trailing wildcard becomes */
#define SEARCH_TIME_LIMIT_S 0.5    /* seconds spent checking matches, per
                                      search of an op */
#define SEARCH_SNIPPET_CHARS 240   /* snippet length, bytes */
#define SEARCH_MAX_TERMS 100       /* terms of a parsed query, synonyms
                                      included */
#define FACET_CHECK_AT_LEAST 100000 /* documents a facet search checks at
                                      least: counts are exact on indexes
                                      up to this size */

/*
 * A search spec with the daemon's settings: the index's
 * (sdx_index_spec_init: Q, NULL for all documents, the query fields,
 * FS's filters), the cost bounds, synonyms on, snippets off.
 */
void sdx_ops_spec_init(sdx_search_spec_t *spec, const char *q,
                       const sdx_index_filters_t *fs);

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

/* Pack the levels of MASK as an ascending array of ints. */
void sdx_ops_pack_levels(msgpack_packer *pk, unsigned mask);

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
sdx_errcode_t sdx_op_stats(sdx_ops_ctx_t *ctx, const sdx_request_t *req,
                           sdx_body_t *body, sdx_proto_error_t *err);
sdx_errcode_t sdx_op_series(sdx_ops_ctx_t *ctx, const sdx_request_t *req,
                            sdx_body_t *body, sdx_proto_error_t *err);

#endif /* SDX_OPS_INT_H */
