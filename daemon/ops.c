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
 * Not implemented in this version (docs/PROTOCOL.md): search's `facets`
 * and `group` (bad_request when true), and the ops ladder, row, context
 * and suggest (unknown_op saying so).
 */
#include "daemon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdx_clause.h"
#include "sdx_log.h"

/* Cost bounds of one search (design.md: Enquire's time limit alone only
   stops checking more matches). */
#define SEARCH_CHECK_AT_LEAST 200  /* documents checked at least, for a
                                      sound `total` on small pages */
#define SEARCH_MAX_EXPANSION 200   /* terms one trailing wildcard becomes */
#define SEARCH_TIME_LIMIT_S 0.5    /* seconds spent checking matches */
#define SEARCH_SNIPPET_CHARS 240   /* snippet length, bytes */
#define TERM_MAX (SDX_PROTO_STR_MAX + 8) /* a prefixed term, bytes + NUL */

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
static sdx_errcode_t
s_status_error(sdx_ops_ctx_t *ctx, sdx_status_t st, const char *what,
               sdx_proto_error_t *err)
{
    const char *detail = ctx->db ? sdx_db_errmsg(ctx->db) : "";
    err->code = sdx_ops_status_code(st);
    if (st == SDX_BAD_QUERY) {
        snprintf(err->message, sizeof err->message, "q: %s",
                 detail[0] ? detail : status_map[st].message);
        return err->code;
    }
    sdx_log(SDX_LOG_ERROR, "%s: %s: %s", what, sdx_status_str(st), detail);
    snprintf(err->message, sizeof err->message, "%s: %s", what,
             (unsigned)st < SDX_STATUS_LAST ? status_map[st].message
                                            : "internal error");
    return err->code;
}

static sdx_errcode_t
s_fail(sdx_proto_error_t *err, sdx_errcode_t code, const char *message)
{
    err->code = code;
    snprintf(err->message, sizeof err->message, "%s", message);
    return code;
}

/* `unavailable` when this worker has no index open. */
static sdx_errcode_t
s_need_db(sdx_ops_ctx_t *ctx, sdx_proto_error_t *err)
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
/* search                                                           */
/* ---------------------------------------------------------------- */

/* The query language's fields, all boolean filters on index terms. */
static const sdx_field_t query_fields[] = {
    {"level", SDX_PREFIX_LEVEL, true},
    {"section", SDX_PREFIX_SECTION, true},
    {"row", SDX_PREFIX_ROW, true},
    {"code", SDX_PREFIX_CODE, true},
};

/* The request's filters as terms; at most four lists of terms. */
typedef struct filters {
    char *terms[4][SDX_PROTO_LIST_MAX]; /* "XL3", "XSksa", ... */
    sdx_filter_t f[4];         /* views of TERMS for the shim */
    size_t n;                  /* filters in use */
} filters_t;

static void
s_filters_free(filters_t *fs)
{
    for (size_t i = 0; i < 4; i++)
        for (size_t j = 0; j < SDX_PROTO_LIST_MAX; j++)
            free(fs->terms[i][j]);
    memset(fs, 0, sizeof *fs);
}

/* Add one filter of N terms PREFIX + VALUES[i] (slugged when SLUG). */
static sdx_errcode_t
s_filter_add(filters_t *fs, const char *prefix, char *const *values,
             size_t n, bool slug, const char *key, sdx_proto_error_t *err)
{
    if (n == 0)
        return SDX_E_NONE;
    size_t k = fs->n;
    for (size_t i = 0; i < n; i++) {
        char term[TERM_MAX];
        size_t plen = strlen(prefix);
        memcpy(term, prefix, plen + 1);
        if (slug) {
            if (sdx_slug(values[i], term + plen, sizeof term - plen) <= 0) {
                err->code = SDX_E_BAD_REQUEST;
                snprintf(err->message, sizeof err->message,
                         "%s[%zu]: a row label needs a letter or digit",
                         key, i);
                return err->code;
            }
        } else {
            snprintf(term + plen, sizeof term - plen, "%s", values[i]);
        }
        fs->terms[k][i] = strdup(term);
        if (!fs->terms[k][i])
            return s_fail(err, SDX_E_INTERNAL, "out of memory");
    }
    fs->f[k].terms = (const char *const *)fs->terms[k];
    fs->f[k].nterms = n;
    fs->n++;
    return SDX_E_NONE;
}

static sdx_errcode_t
s_filters_build(filters_t *fs, const sdx_request_t *req,
                sdx_proto_error_t *err)
{
    char *levels[SDX_PROTO_LIST_MAX];
    char level_text[SDX_PROTO_LIST_MAX][4];
    sdx_errcode_t code;
    for (size_t i = 0; i < req->nlevels; i++) {
        snprintf(level_text[i], sizeof level_text[i], "%d", req->levels[i]);
        levels[i] = level_text[i];
    }
    if ((code = s_filter_add(fs, SDX_PREFIX_LEVEL, levels, req->nlevels,
                             false, "levels", err)) ||
        (code = s_filter_add(fs, SDX_PREFIX_SECTION, req->sections.v,
                             req->sections.n, false, "sections", err)) ||
        (code = s_filter_add(fs, SDX_PREFIX_ROW, req->rows.v, req->rows.n,
                             true, "rows", err)) ||
        (code = s_filter_add(fs, SDX_PREFIX_CODE, req->codes.v,
                             req->codes.n, false, "codes", err)))
        return code;
    return SDX_E_NONE;
}

static sdx_errcode_t
op_search(sdx_ops_ctx_t *ctx, const sdx_request_t *req, sdx_body_t *body,
          sdx_proto_error_t *err)
{
    filters_t fs;
    sdx_results_t *results = NULL;
    sdx_errcode_t code;

    if (req->facets)
        return s_fail(err, SDX_E_BAD_REQUEST,
                      "facets: not supported yet (leave it out or false)");
    if (req->group)
        return s_fail(err, SDX_E_BAD_REQUEST,
                      "group: not supported yet (leave it out or false)");
    if ((code = s_need_db(ctx, err)))
        return code;

    memset(&fs, 0, sizeof fs);
    if ((code = s_filters_build(&fs, req, err)))
        goto cleanup;

    sdx_search_spec_t spec = {
        .query = req->q,
        .fields = query_fields,
        .nfields = sizeof query_fields / sizeof query_fields[0],
        .filters = fs.f,
        .nfilters = fs.n,
        .offset = req->offset,
        .limit = req->limit,
        .check_at_least = SEARCH_CHECK_AT_LEAST,
        .max_expansion = SEARCH_MAX_EXPANSION,
        .time_limit_s = SEARCH_TIME_LIMIT_S,
        .snippets = req->snippet,
        .snippet_slot = SDX_SLOT_TEXT,
        .hl_open = req->highlight[0],
        .hl_close = req->highlight[1],
        .snippet_chars = SEARCH_SNIPPET_CHARS,
    };
    sdx_status_t st = sdx_db_search(ctx->db, &spec, &results);
    if (st != SDX_OK) {
        code = s_status_error(ctx, st, "search", err);
        goto cleanup;
    }

    size_t n = sdx_results_count(results);
    sdx_body_key(body, "total");
    msgpack_pack_uint64(&body->pk, sdx_results_estimate(results));
    sdx_body_key(body, "hits");
    msgpack_pack_array(&body->pk, n);
    for (size_t i = 0; i < n; i++) {
        sdx_hit_t hit;
        sdx_results_hit(results, i, &hit);
        if (sdx_proto_pack_map_extend(&body->pk, hit.data, hit.data_len,
                                      req->snippet ? 4 : 3)) {
            sdx_log(SDX_LOG_ERROR, "search: hit %zu: document data is not "
                    "a msgpack map", i);
            code = s_fail(err, SDX_E_INTERNAL,
                          "search: the index holds a malformed record");
            goto cleanup;
        }
        sdx_proto_pack_str(&body->pk, "rank");
        msgpack_pack_uint64(&body->pk, (uint64_t)req->offset + i + 1);
        sdx_proto_pack_str(&body->pk, "score");
        msgpack_pack_double(&body->pk, hit.score);
        sdx_proto_pack_str(&body->pk, "percent");
        msgpack_pack_int(&body->pk, hit.percent);
        if (req->snippet) {
            sdx_proto_pack_str(&body->pk, "snippet");
            sdx_proto_pack_str(&body->pk, hit.snippet ? hit.snippet : "");
        }
    }
    code = SDX_E_NONE;
cleanup:
    sdx_results_destroy(&results);
    s_filters_free(&fs);
    return code;
}

/* ---------------------------------------------------------------- */
/* get                                                              */
/* ---------------------------------------------------------------- */

static sdx_errcode_t
op_get(sdx_ops_ctx_t *ctx, const sdx_request_t *req, sdx_body_t *body,
       sdx_proto_error_t *err)
{
    sdx_errcode_t code;
    if ((code = s_need_db(ctx, err)))
        return code;
    sdx_body_key(body, "clauses");
    msgpack_pack_array(&body->pk, req->ids.n);
    for (size_t i = 0; i < req->ids.n; i++) {
        char term[TERM_MAX];
        void *data = NULL;
        size_t len = 0;
        snprintf(term, sizeof term, "%s%s", SDX_PREFIX_ID, req->ids.v[i]);
        sdx_status_t st = sdx_db_get_data_by_term(ctx->db, term, &data,
                                                  &len);
        if (st == SDX_NOT_FOUND) {
            msgpack_pack_nil(&body->pk);
            continue;
        }
        if (st != SDX_OK)
            return s_status_error(ctx, st, "get", err);
        int rc = sdx_proto_pack_map_extend(&body->pk, data, len, 0);
        free(data);
        if (rc) {
            sdx_log(SDX_LOG_ERROR, "get: ids[%zu]: document data is not a "
                    "msgpack map", i);
            return s_fail(err, SDX_E_INTERNAL,
                          "get: the index holds a malformed record");
        }
    }
    return SDX_E_NONE;
}

/* ---------------------------------------------------------------- */
/* stats                                                            */
/* ---------------------------------------------------------------- */

/* Pack the `index` map: path, revision (int), built_at (str). */
static sdx_errcode_t
s_pack_index(sdx_ops_ctx_t *ctx, sdx_body_t *body, uint64_t *docs,
             sdx_proto_error_t *err)
{
    char *revision = NULL, *built_at = NULL;
    uint64_t xapian_rev = 0;
    sdx_status_t st;
    sdx_errcode_t code = SDX_E_NONE;

    if ((st = sdx_db_doc_count(ctx->db, docs)) ||
        (st = sdx_db_revision(ctx->db, &xapian_rev)) ||
        (st = sdx_db_get_metadata(ctx->db, "specdex.revision", &revision)) ||
        (st = sdx_db_get_metadata(ctx->db, "specdex.built_at", &built_at))) {
        code = s_status_error(ctx, st, "stats", err);
        goto cleanup;
    }
    /* our revision number (rev-NNNNNN) when the indexer wrote one */
    char *end = NULL;
    unsigned long long rev = strtoull(revision, &end, 10);
    if (!revision[0] || *end)
        rev = xapian_rev;

    sdx_body_key(body, "index");
    msgpack_pack_map(&body->pk, 3);
    sdx_proto_pack_str(&body->pk, "path");
    sdx_proto_pack_str(&body->pk, ctx->db_path);
    sdx_proto_pack_str(&body->pk, "revision");
    msgpack_pack_uint64(&body->pk, rev);
    sdx_proto_pack_str(&body->pk, "built_at");
    sdx_proto_pack_str(&body->pk, built_at);
cleanup:
    free(revision);
    free(built_at);
    return code;
}

static sdx_errcode_t
op_stats(sdx_ops_ctx_t *ctx, const sdx_request_t *req, sdx_body_t *body,
         sdx_proto_error_t *err)
{
    sdx_stats_snapshot_t snap;
    uint64_t docs = 0;
    sdx_errcode_t code;
    (void)req;

    if (ctx->db) {
        if ((code = s_pack_index(ctx, body, &docs, err)))
            return code;
    } else {
        sdx_body_key(body, "index");  /* no index loaded */
        msgpack_pack_nil(&body->pk);
    }
    sdx_stats_snapshot(ctx->stats, &snap);
    sdx_body_key(body, "docs");
    msgpack_pack_uint64(&body->pk, docs);
    sdx_body_key(body, "uptime_s");
    msgpack_pack_uint64(&body->pk, snap.uptime_s);
    sdx_body_key(body, "requests");
    msgpack_pack_uint64(&body->pk, snap.requests);
    sdx_body_key(body, "errors");
    msgpack_pack_uint64(&body->pk, snap.errors);
    sdx_body_key(body, "workers");
    msgpack_pack_unsigned_int(&body->pk, snap.workers);
    sdx_body_key(body, "latency_us");
    msgpack_pack_map(&body->pk, 4);
    sdx_proto_pack_str(&body->pk, "p50");
    msgpack_pack_uint64(&body->pk, snap.p50_us);
    sdx_proto_pack_str(&body->pk, "p90");
    msgpack_pack_uint64(&body->pk, snap.p90_us);
    sdx_proto_pack_str(&body->pk, "p99");
    msgpack_pack_uint64(&body->pk, snap.p99_us);
    sdx_proto_pack_str(&body->pk, "max");
    msgpack_pack_uint64(&body->pk, snap.max_us);
    return SDX_E_NONE;
}

/* ---------------------------------------------------------------- */
/* Not implemented yet                                              */
/* ---------------------------------------------------------------- */

static sdx_errcode_t
op_missing(sdx_ops_ctx_t *ctx, const sdx_request_t *req, sdx_body_t *body,
           sdx_proto_error_t *err)
{
    (void)ctx;
    (void)body;
    err->code = SDX_E_UNKNOWN_OP;
    snprintf(err->message, sizeof err->message,
             "%s: not implemented in this version", sdx_op_name(req->op));
    return err->code;
}

/* ---------------------------------------------------------------- */
/* Dispatch                                                         */
/* ---------------------------------------------------------------- */

typedef sdx_errcode_t (*op_fn)(sdx_ops_ctx_t *ctx, const sdx_request_t *req,
                               sdx_body_t *body, sdx_proto_error_t *err);

static const op_fn op_table[SDX_OP_LAST] = {
    [SDX_OP_PING] = op_ping,
    [SDX_OP_SEARCH] = op_search,
    [SDX_OP_LADDER] = op_missing,
    [SDX_OP_ROW] = op_missing,
    [SDX_OP_GET] = op_get,
    [SDX_OP_CONTEXT] = op_missing,
    [SDX_OP_SUGGEST] = op_missing,
    [SDX_OP_STATS] = op_stats,
};

sdx_errcode_t
sdx_ops_handle(sdx_ops_ctx_t *ctx, const sdx_request_t *req,
               sdx_body_t *body, sdx_proto_error_t *err)
{
    err->code = SDX_E_NONE;
    err->message[0] = '\0';
    if ((unsigned)req->op >= SDX_OP_LAST || !op_table[req->op])
        return s_fail(err, SDX_E_UNKNOWN_OP, "unknown op");
    return op_table[req->op](ctx, req, body, err);
}
