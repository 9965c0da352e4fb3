/*
 * ops: the handler of each operation, and the one table that turns a
 * shim status into a wire error code.
 *
 * A handler gets a request sdx_proto has already validated (types,
 * ranges, keys), the worker's own database handle, and an empty reply
 * body; it packs its reply keys or returns an error code with a message.
 * Clause records come out of the index as msgpack maps and go into
 * replies as they are (sdx_proto_pack_map_extend), with the hit's rank,
 * score, percent and snippet added to the same map.
 *
 * This file holds the dispatch table, the status table, what the
 * handlers share (ops_int.h: filters, specs, errors, group levels) and
 * the small ops (ping, get); search, suggest and context live in
 * op_search.c, ladder, row and series in op_ladder.c, diff in op_diff.c,
 * first in op_first.c, verify in op_verify.c, fit and gaps in op_fit.c,
 * stats in stats.c beside the counters it reports.
 */
#include "ops_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdx_clause.h"
#include "sdx_log.h"

/* ---------------------------------------------------------------- */
/* Status -> wire code                                              */
/* ---------------------------------------------------------------- */

static const struct status_map {
    sdx_errcode_t code;        /* the wire code */
    const char *message;       /* a message safe to send (no detail) */
} status_map[SDX_STATUS_LAST] = {
    [SDX_OK] = {SDX_E_NONE, ""},
    [SDX_BAD_INPUT] = {SDX_E_INTERNAL, "the index returned malformed data"},
    [SDX_BAD_QUERY] = {SDX_E_BAD_QUERY, "the query does not parse"},
    [SDX_NOT_FOUND] = {SDX_E_INTERNAL, "not found"},
    [SDX_UNAVAILABLE] = {SDX_E_UNAVAILABLE, "the index is unavailable"},
    /* still changing after the shim's one retry: the client may retry */
    [SDX_MODIFIED] = {SDX_E_UNAVAILABLE,
                      "the index changed during the request; retry"},
    [SDX_XAPIAN] = {SDX_E_INTERNAL, "search engine error (logged)"},
    [SDX_NOMEM] = {SDX_E_INTERNAL, "out of memory"},
    [SDX_IO] = {SDX_E_INTERNAL, "input/output error (logged)"},
    [SDX_INTERNAL] = {SDX_E_INTERNAL, "internal error (logged)"},
    [SDX_REMOTE] = {SDX_E_INTERNAL, "internal error (logged)"},
};

sdx_errcode_t
sdx_ops_status_code(sdx_status_t status)
{
    if ((unsigned)status >= SDX_STATUS_LAST)
        return SDX_E_INTERNAL;
    return status_map[status].code;
}

/*
 * Turn a failed shim call on DB into ERR: Xapian's parser message for a
 * bad query (it never holds the query text), the table's safe message
 * otherwise, with the detail logged.
 */
sdx_errcode_t
sdx_ops_status_error(sdx_ops_ctx_t *ctx, sdx_status_t st,
                     const char *what, sdx_proto_error_t *err)
{
    const char *detail = ctx->db ? sdx_db_errmsg(ctx->db) : "";
    err->code = sdx_ops_status_code(st);
    if (st == SDX_BAD_QUERY) {
        snprintf(err->message, sizeof err->message, "q: %s",
                 detail[0] ? detail : status_map[st].message);
        return err->code;
    }
    sdx_log(SDX_LOG_ERROR, "%s: %s: %s", what, sdx_status_str(st), detail);
    if (st == SDX_UNAVAILABLE && ctx->db && sdx_db_broken(ctx->db)) {
        /* which remote shard is missing: the caller's to know (the
           message names endpoints, never the query) */
        snprintf(err->message, sizeof err->message, "%s: %s", what, detail);
        return err->code;
    }
    snprintf(err->message, sizeof err->message, "%s: %s", what,
             (unsigned)st < SDX_STATUS_LAST ? status_map[st].message
                                            : "internal error");
    return err->code;
}

sdx_errcode_t
sdx_ops_fail(sdx_proto_error_t *err, sdx_errcode_t code, const char *message)
{
    err->code = code;
    snprintf(err->message, sizeof err->message, "%s", message);
    return code;
}

/* `unavailable` when this worker has no index open. */
sdx_errcode_t
sdx_ops_need_db(sdx_ops_ctx_t *ctx, sdx_proto_error_t *err)
{
    if (ctx->db)
        return SDX_E_NONE;
    err->code = SDX_E_UNAVAILABLE;
    snprintf(err->message, sizeof err->message, "no index loaded: %s",
             ctx->db_error && ctx->db_error[0] ? ctx->db_error
                                               : "not opened yet");
    return err->code;
}

/* ---------------------------------------------------------------- */
/* ping                                                             */
/* ---------------------------------------------------------------- */

static sdx_errcode_t
op_ping(sdx_ops_ctx_t *ctx, const sdx_request_t *req, sdx_body_t *body,
        sdx_proto_error_t *err)
{
    (void)ctx;
    (void)req;
    (void)err;
    sdx_body_key(body, "pong");
    msgpack_pack_true(&body->pk);
    return SDX_E_NONE;
}

/* ---------------------------------------------------------------- */
/* What the handlers share (ops_int.h)                              */
/* ---------------------------------------------------------------- */

sdx_errcode_t
sdx_ops_hit_clause(const sdx_hit_t *hit, const char *what,
                   sdx_clause_t **out, sdx_proto_error_t *err)
{
    sdx_status_t st = sdx_clause_from_msgpack(hit->data, hit->data_len, out);
    if (st == SDX_OK)
        return SDX_E_NONE;
    if (st == SDX_NOMEM)
        return sdx_ops_fail(err, SDX_E_INTERNAL, "out of memory");
    sdx_log(SDX_LOG_ERROR, "%s: document data is not a clause record",
            what);
    err->code = SDX_E_INTERNAL;
    snprintf(err->message, sizeof err->message,
             "%s: the index holds a malformed record", what);
    return err->code;
}

sdx_errcode_t
sdx_ops_group_levels(sdx_ops_ctx_t *ctx, sdx_search_spec_t *spec,
                     sdx_index_filters_t *fs, const sdx_results_t *page,
                     unsigned *masks, bool *partial, sdx_proto_error_t *err)
{
    size_t n = sdx_results_count(page);
    const char **keys = NULL;
    sdx_results_t *r = NULL;
    sdx_errcode_t code = SDX_E_NONE;
    if (n == 0)
        return SDX_E_NONE;
    if (!(keys = calloc(n, sizeof *keys))) {
        code = sdx_ops_fail(err, SDX_E_INTERNAL, "out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++) {
        sdx_hit_t hit;
        sdx_results_hit(page, i, &hit);
        keys[i] = hit.key;
        masks[i] = 0;
    }
    if ((code = sdx_index_filter_add(fs, SDX_PREFIX_GROUP, keys, n, false,
                                   "group", err)))
        goto cleanup;

    /* The same query and filters, restricted to the page's groups: each
       group has at most one clause per level, 0..9. */
    sdx_search_spec_t s = *spec;
    s.filters = fs->f;
    s.nfilters = fs->n;
    s.offset = 0;
    s.limit = (unsigned)(n * 10);
    s.check_at_least = 0;
    s.snippets = false;
    s.correct = false;
    s.collapse = false;
    s.keys = true;
    s.key_slot = SDX_SLOT_GROUP;
    s.facet_slots = NULL;
    s.nfacets = 0;
    sdx_status_t st = sdx_db_search(ctx->db, &s, &r);
    sdx_index_filter_pop(fs);
    if (st != SDX_OK) {
        code = sdx_ops_status_error(ctx, st, "group", err);
        goto cleanup;
    }
    *partial = *partial || sdx_results_partial(r);
    for (size_t j = 0; j < sdx_results_count(r); j++) {
        sdx_hit_t hit;
        sdx_clause_t *c = NULL;
        sdx_results_hit(r, j, &hit);
        if ((code = sdx_ops_hit_clause(&hit, "group", &c, err)))
            goto cleanup;
        for (size_t i = 0; i < n; i++)
            if (strcmp(keys[i], hit.key) == 0 && c->level >= 0 &&
                c->level <= 9)
                masks[i] |= 1u << c->level;
        sdx_clause_destroy(&c);
    }
cleanup:
    sdx_results_destroy(&r);
    free(keys);
    return code;
}

void
sdx_ops_pack_bool(msgpack_packer *pk, bool b)
{
    if (b)
        msgpack_pack_true(pk);
    else
        msgpack_pack_false(pk);
}

void
sdx_ops_pack_levels(msgpack_packer *pk, unsigned mask)
{
    unsigned n = 0;
    for (int l = 0; l <= 9; l++)
        n += (mask >> l) & 1u;
    msgpack_pack_array(pk, n);
    for (int l = 0; l <= 9; l++)
        if ((mask >> l) & 1u)
            msgpack_pack_int(pk, l);
}

/* ---------------------------------------------------------------- */
/* get                                                              */
/* ---------------------------------------------------------------- */

static sdx_errcode_t
op_get(sdx_ops_ctx_t *ctx, const sdx_request_t *req, sdx_body_t *body,
       sdx_proto_error_t *err)
{
    sdx_errcode_t code;
    if ((code = sdx_ops_need_db(ctx, err)))
        return code;
    sdx_body_key(body, "clauses");
    msgpack_pack_array(&body->pk, req->ids.n);
    for (size_t i = 0; i < req->ids.n; i++) {
        void *data = NULL;
        size_t len = 0;
        sdx_status_t st = sdx_index_get_record(ctx->db, req->ids.v[i],
                                               &data, &len);
        if (st == SDX_NOT_FOUND) {
            msgpack_pack_nil(&body->pk);
            continue;
        }
        if (st != SDX_OK)
            return sdx_ops_status_error(ctx, st, "get", err);
        int rc = sdx_proto_pack_map_extend(&body->pk, data, len, 0);
        free(data);
        if (rc) {
            sdx_log(SDX_LOG_ERROR, "get: ids[%zu]: document data is not a "
                    "msgpack map", i);
            return sdx_ops_fail(err, SDX_E_INTERNAL,
                          "get: the index holds a malformed record");
        }
    }
    return SDX_E_NONE;
}

/* ---------------------------------------------------------------- */
/* Dispatch                                                         */
/* ---------------------------------------------------------------- */

typedef sdx_errcode_t (*op_fn)(sdx_ops_ctx_t *ctx, const sdx_request_t *req,
                               sdx_body_t *body, sdx_proto_error_t *err);

static const op_fn op_table[SDX_OP_LAST] = {
    [SDX_OP_PING] = op_ping,
    [SDX_OP_SEARCH] = sdx_op_search,
    [SDX_OP_LADDER] = sdx_op_ladder,
    [SDX_OP_ROW] = sdx_op_row,
    [SDX_OP_GET] = op_get,
    [SDX_OP_CONTEXT] = sdx_op_context,
    [SDX_OP_SUGGEST] = sdx_op_suggest,
    [SDX_OP_STATS] = sdx_op_stats,
    [SDX_OP_FIT] = sdx_op_fit,
    [SDX_OP_DIFF] = sdx_op_diff,
    [SDX_OP_FIRST] = sdx_op_first,
    [SDX_OP_VERIFY] = sdx_op_verify,
    [SDX_OP_GAPS] = sdx_op_gaps,
    [SDX_OP_SERIES] = sdx_op_series,
};

sdx_errcode_t
sdx_ops_handle(sdx_ops_ctx_t *ctx, const sdx_request_t *req,
               sdx_body_t *body, sdx_proto_error_t *err)
{
    err->code = SDX_E_NONE;
    err->message[0] = '\0';
    if ((unsigned)req->op >= SDX_OP_LAST || !op_table[req->op])
        return sdx_ops_fail(err, SDX_E_UNKNOWN_OP, "unknown op");
    return op_table[req->op](ctx, req, body, err);
}
