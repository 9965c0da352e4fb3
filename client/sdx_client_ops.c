/*
 * sdx_client_ops: the operations of the contract as typed C calls.
 *
 * Requests are made here and nowhere else on the client side, so the
 * CLI (and any C program) never speaks the wire protocol by hand; they
 * are packed by the protocol's own packer (sdx_request_pack), which
 * reads the same key table as the daemon's decoder.
 * Replies are decoded defensively: a key of the wrong type is treated as
 * absent, keys this version does not know are ignored (forward
 * compatibility, as the contract asks of clients).
 */
#include <stdlib.h>
#include <string.h>

#include "client_private.h"
#include "sdx_client.h"
#include "sdx_proto.h"

/* ---------------------------------------------------------------- */
/* Packing requests                                                 */
/* ---------------------------------------------------------------- */

/*
 * The request of OP made of the members of Q that are set, borrowing
 * Q's strings, into *REQ.  Which of them OP takes, their wire names and
 * order are the protocol's (sdx_request_pack, lib/sdx_proto.c's key
 * table), not this file's.  Returns SDX_BAD_INPUT for more levels than
 * a request holds (SDX_PROTO_LIST_MAX, which the daemon refuses too).
 */
static sdx_status_t
s_request(sdx_op_t op, const sdx_query_t *q, sdx_request_t *req)
{
    sdx_request_init(req, op);
    if (q->nlevels > SDX_PROTO_LIST_MAX)
        return SDX_BAD_INPUT;
    req->q = (char *)q->q;
    req->offset = q->offset;
    if (q->limit > 0)
        req->limit = q->limit;
    if (q->nlevels > 0)
        memcpy(req->levels, q->levels, q->nlevels * sizeof *req->levels);
    req->nlevels = q->nlevels;
    req->sections = (sdx_strlist_t){(char **)q->sections, q->nsections};
    req->rows = (sdx_strlist_t){(char **)q->rows, q->nrows};
    req->codes = (sdx_strlist_t){(char **)q->codes, q->ncodes};
    if (q->hl_open && q->hl_close) {
        req->highlight[0] = (char *)q->hl_open;
        req->highlight[1] = (char *)q->hl_close;
    }
    req->snippet = !q->no_snippet;
    req->group = q->group;
    req->facets = q->facets;
    if (q->k > 0)
        req->k = q->k;
    if (q->max_chars > 0)
        req->max_chars = q->max_chars;
    req->syntax = (char *)q->syntax;
    if (q->has_min_score)
        req->min_score = q->min_score;
    req->text = (char *)q->text;
    req->series = (char *)q->series;
    req->level = q->level;
    if (q->nexclude > SDX_PROTO_LIST_MAX)
        return SDX_BAD_INPUT;
    req->exclude = (sdx_strlist_t){(char **)q->exclude, q->nexclude};
    return SDX_OK;
}

/* ---------------------------------------------------------------- */
/* Decoding replies                                                 */
/* ---------------------------------------------------------------- */

/* A malloc'd copy of a str object; "" for anything else; NULL: no mem. */
static char *
dup_str(const msgpack_object *o)
{
    if (o && o->type == MSGPACK_OBJECT_STR)
        return strndup(o->via.str.ptr, o->via.str.size);
    return strdup("");
}

/* A copy of a str object, or NULL (not an error) for nil or absent. */
static sdx_status_t
dup_opt_str(const msgpack_object *o, char **out)
{
    *out = NULL;
    if (!o || o->type != MSGPACK_OBJECT_STR)
        return SDX_OK;
    *out = strndup(o->via.str.ptr, o->via.str.size);
    return *out ? SDX_OK : SDX_NOMEM;
}

static uint64_t
get_u64(const msgpack_object *map, const char *key)
{
    const msgpack_object *o = sdx_msgpack_get(map, key);
    return o && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? o->via.u64 : 0;
}

static double
get_double(const msgpack_object *map, const char *key)
{
    const msgpack_object *o = sdx_msgpack_get(map, key);
    if (o && (o->type == MSGPACK_OBJECT_FLOAT64 ||
              o->type == MSGPACK_OBJECT_FLOAT32))
        return o->via.f64;
    return (double)get_u64(map, key);
}

static bool
get_bool(const msgpack_object *map, const char *key)
{
    const msgpack_object *o = sdx_msgpack_get(map, key);
    return o && o->type == MSGPACK_OBJECT_BOOLEAN && o->via.boolean;
}

/* The array under KEY, or NULL. */
static const msgpack_object_array *
get_array(const msgpack_object *map, const char *key)
{
    const msgpack_object *o = sdx_msgpack_get(map, key);
    return o && o->type == MSGPACK_OBJECT_ARRAY ? &o->via.array : NULL;
}

/* Levels under KEY into LEVELS (at most SDX_MAX_LEVEL). */
static size_t
get_levels(const msgpack_object *map, const char *key, int *levels)
{
    const msgpack_object_array *a = get_array(map, key);
    size_t n = 0;
    for (uint32_t i = 0; a && i < a->size && n < SDX_MAX_LEVEL; i++)
        if (a->ptr[i].type == MSGPACK_OBJECT_POSITIVE_INTEGER)
            levels[n++] = (int)a->ptr[i].via.u64;
    return n;
}

/* A clause from a map, or NULL for nil; SDX_BAD_INPUT for other types. */
static sdx_status_t
get_clause(const msgpack_object *o, sdx_clause_t **out)
{
    *out = NULL;
    if (!o || o->type == MSGPACK_OBJECT_NIL)
        return SDX_OK;
    return sdx_clause_unpack(o, out);
}

static sdx_status_t
decode_hits(const msgpack_object *root, sdx_result_t *r)
{
    const msgpack_object_array *a = get_array(root, "hits");
    if (!a || a->size == 0)
        return SDX_OK;
    r->hits = calloc(a->size, sizeof *r->hits);
    if (!r->hits)
        return SDX_NOMEM;
    for (uint32_t i = 0; i < a->size; i++) {
        const msgpack_object *h = &a->ptr[i];
        sdx_result_hit_t *hit = &r->hits[i];
        r->nhits++;
        sdx_status_t st = sdx_clause_unpack(h, &hit->clause);
        if (st != SDX_OK)
            return st;
        hit->rank = (unsigned)get_u64(h, "rank");
        hit->score = get_double(h, "score");
        hit->percent = (int)get_u64(h, "percent");
        hit->snippet = dup_str(sdx_msgpack_get(h, "snippet"));
        if (!hit->snippet)
            return SDX_NOMEM;
        hit->nlevels = get_levels(h, "levels", hit->levels);
    }
    return SDX_OK;
}

static sdx_status_t
decode_cells(const msgpack_object *root, const char *key, sdx_result_t *r)
{
    const msgpack_object_array *a = get_array(root, key);
    if (!a || a->size == 0)
        return SDX_OK;
    r->cells = calloc(a->size, sizeof *r->cells);
    if (!r->cells)
        return SDX_NOMEM;
    for (uint32_t i = 0; i < a->size; i++) {
        const msgpack_object *c = &a->ptr[i];
        sdx_result_cell_t *cell = &r->cells[i];
        r->ncells++;
        cell->level = (int)get_u64(c, "level");
        cell->id = dup_str(sdx_msgpack_get(c, "id"));
        cell->title = dup_str(sdx_msgpack_get(c, "title"));
        cell->series = dup_str(sdx_msgpack_get(c, "series"));
        if (!cell->id || !cell->title || !cell->series ||
            dup_opt_str(sdx_msgpack_get(c, "text"), &cell->text) != SDX_OK)
            return SDX_NOMEM;
    }
    return SDX_OK;
}

static sdx_status_t
decode_ladder(const msgpack_object *root, sdx_result_t *r)
{
    const msgpack_object_array *a = get_array(root, "ladder");
    for (uint32_t i = 0; a && i < a->size; i++) {
        const msgpack_object *step = &a->ptr[i];
        uint64_t level = get_u64(step, "level");
        if (level < 1 || level > SDX_MAX_LEVEL || r->ladder[level])
            return SDX_BAD_INPUT;
        sdx_status_t st = get_clause(sdx_msgpack_get(step, "hit"),
                                     &r->ladder[level]);
        if (st != SDX_OK)
            return st;
    }
    if (dup_opt_str(sdx_msgpack_get(root, "row"), &r->row) != SDX_OK)
        return SDX_NOMEM;
    return decode_cells(root, "row_cells", r);
}

static sdx_status_t
decode_clauses(const msgpack_object *root, sdx_result_t *r)
{
    const msgpack_object_array *a = get_array(root, "clauses");
    if (!a || a->size == 0)
        return SDX_OK;
    r->clauses = calloc(a->size, sizeof *r->clauses);
    if (!r->clauses)
        return SDX_NOMEM;
    r->nclauses = a->size;
    for (uint32_t i = 0; i < a->size; i++) {
        sdx_status_t st = get_clause(&a->ptr[i], &r->clauses[i]);
        if (st != SDX_OK)
            return st;
    }
    return SDX_OK;
}

/* The strs under KEY into a new array *OUT of *N copies. */
static sdx_status_t
get_strs(const msgpack_object *map, const char *key, char ***out, size_t *n)
{
    const msgpack_object_array *a = get_array(map, key);
    *out = NULL;
    *n = 0;
    if (!a || a->size == 0)
        return SDX_OK;
    if (!(*out = calloc(a->size, sizeof **out)))
        return SDX_NOMEM;
    for (uint32_t i = 0; i < a->size; i++) {
        if (a->ptr[i].type != MSGPACK_OBJECT_STR)
            continue;
        if (!((*out)[*n] = dup_str(&a->ptr[i])))
            return SDX_NOMEM;
        (*n)++;
    }
    return SDX_OK;
}

/* `understood`, `note` and `corrected` of a reply to plain words. */
static sdx_status_t
decode_plain(const msgpack_object *root, sdx_result_t *r)
{
    const msgpack_object *u = sdx_msgpack_get(root, "understood");
    sdx_result_understood_t *x = &r->understood;
    sdx_status_t st;
    if (dup_opt_str(sdx_msgpack_get(root, "note"), &r->note) != SDX_OK ||
        (!r->corrected &&
         dup_opt_str(sdx_msgpack_get(root, "corrected"), &r->corrected) !=
             SDX_OK))
        return SDX_NOMEM;
    if (!u || u->type != MSGPACK_OBJECT_MAP)
        return SDX_OK;
    r->has_understood = true;
    x->nlevels = get_levels(u, "levels", x->levels);
    if ((st = get_strs(u, "sections", &x->sections, &x->nsections)) ||
        (st = get_strs(u, "series", &x->series, &x->nseries)) ||
        (st = get_strs(u, "rows", &x->rows, &x->nrows)))
        return st;
    return SDX_OK;
}

static sdx_status_t
decode_passages(const msgpack_object *root, sdx_result_t *r)
{
    const msgpack_object_array *a = get_array(root, "passages");
    r->chars = get_u64(root, "chars");
    sdx_status_t st = decode_plain(root, r);
    if (st != SDX_OK || !a || a->size == 0)
        return st;
    r->passages = calloc(a->size, sizeof *r->passages);
    if (!r->passages)
        return SDX_NOMEM;
    for (uint32_t i = 0; i < a->size; i++) {
        const msgpack_object *p = &a->ptr[i];
        sdx_result_passage_t *pas = &r->passages[i];
        r->npassages++;
        pas->id = dup_str(sdx_msgpack_get(p, "id"));
        pas->cite = dup_str(sdx_msgpack_get(p, "cite"));
        pas->text = dup_str(sdx_msgpack_get(p, "text"));
        if (!pas->id || !pas->cite || !pas->text)
            return SDX_NOMEM;
        pas->nlevels = get_levels(p, "levels", pas->levels);
        pas->score = get_double(p, "score");
    }
    return SDX_OK;
}

static sdx_status_t
decode_fit(const msgpack_object *root, sdx_result_t *r)
{
    const msgpack_object_array *a = get_array(root, "levels");
    sdx_status_t st = dup_opt_str(sdx_msgpack_get(root, "series"),
                                  &r->series);
    if (st != SDX_OK || !a || a->size == 0)
        return st;
    if (!(r->fit_levels = calloc(a->size, sizeof *r->fit_levels)))
        return SDX_NOMEM;
    for (uint32_t i = 0; i < a->size; i++) {
        const msgpack_object *l = &a->ptr[i];
        sdx_result_fit_level_t *f = &r->fit_levels[i];
        r->nfit_levels++;
        f->level = (int)get_u64(l, "level");
        f->score = get_double(l, "score");
        f->share = get_double(l, "share");
        if (!(f->title = dup_str(sdx_msgpack_get(l, "title"))))
            return SDX_NOMEM;
    }
    return SDX_OK;
}

/* A place (a verify match, or its closest) from the map O. */
static sdx_status_t
get_place(const msgpack_object *o, sdx_result_place_t *p)
{
    p->start = (unsigned)get_u64(o, "start");
    p->end = (unsigned)get_u64(o, "end");
    p->distance = (unsigned)get_u64(o, "distance");
    return (p->id = dup_str(sdx_msgpack_get(o, "id"))) ? SDX_OK
                                                        : SDX_NOMEM;
}

static sdx_status_t
decode_verify(const msgpack_object *root, sdx_result_t *r)
{
    const msgpack_object_array *a = get_array(root, "matches");
    const msgpack_object *closest = sdx_msgpack_get(root, "closest");
    r->verbatim = get_bool(root, "verbatim");
    r->cited_verbatim = get_bool(sdx_msgpack_get(root, "cited"),
                                 "verbatim");
    if (closest && closest->type == MSGPACK_OBJECT_MAP) {
        r->has_closest = true;
        if (get_place(closest, &r->closest) != SDX_OK)
            return SDX_NOMEM;
    }
    if (!a || a->size == 0)
        return SDX_OK;
    if (!(r->places = calloc(a->size, sizeof *r->places)))
        return SDX_NOMEM;
    for (uint32_t i = 0; i < a->size; i++) {
        r->nplaces++;
        if (get_place(&a->ptr[i], &r->places[i]) != SDX_OK)
            return SDX_NOMEM;
    }
    return SDX_OK;
}

static sdx_status_t
decode_stats(const msgpack_object *root, sdx_result_t *r)
{
    sdx_result_stats_t *s = &r->stats;
    const msgpack_object *index = sdx_msgpack_get(root, "index");
    const msgpack_object *lat = sdx_msgpack_get(root, "latency_us");
    s->docs = get_u64(root, "docs");
    s->uptime_s = get_u64(root, "uptime_s");
    s->requests = get_u64(root, "requests");
    s->errors = get_u64(root, "errors");
    s->workers = get_u64(root, "workers");
    s->revision = get_u64(index, "revision");
    s->p50_us = get_u64(lat, "p50");
    s->p90_us = get_u64(lat, "p90");
    s->p99_us = get_u64(lat, "p99");
    s->max_us = get_u64(lat, "max");
    s->index_path = dup_str(sdx_msgpack_get(index, "path"));
    s->built_at = dup_str(sdx_msgpack_get(index, "built_at"));
    return s->index_path && s->built_at ? SDX_OK : SDX_NOMEM;
}

/* Which decoder a reply goes through. */
typedef sdx_status_t (*decode_fn)(const msgpack_object *root,
                                  sdx_result_t *r);

static sdx_status_t
decode_search(const msgpack_object *root, sdx_result_t *r)
{
    r->total = get_u64(root, "total");
    r->partial = get_bool(root, "partial");
    if (dup_opt_str(sdx_msgpack_get(root, "corrected"), &r->corrected)
            != SDX_OK)
        return SDX_NOMEM;
    sdx_status_t st = decode_plain(root, r);
    return st != SDX_OK ? st : decode_hits(root, r);
}

static sdx_status_t
decode_row(const msgpack_object *root, sdx_result_t *r)
{
    if (dup_opt_str(sdx_msgpack_get(root, "row"), &r->row) != SDX_OK)
        return SDX_NOMEM;
    return decode_cells(root, "cells", r);
}

static sdx_status_t
decode_suggest(const msgpack_object *root, sdx_result_t *r)
{
    return dup_opt_str(sdx_msgpack_get(root, "suggestion"), &r->suggestion);
}

static sdx_status_t
decode_nothing(const msgpack_object *root, sdx_result_t *r)
{
    (void)root;
    (void)r;
    return SDX_OK;
}

/*
 * Pack REQ, send it, decode the reply with DECODE into a new result.
 */
static sdx_status_t
exchange(sdx_client_t *c, const sdx_request_t *req, decode_fn decode,
         sdx_result_t **out)
{
    msgpack_sbuffer buf;
    msgpack_packer pk;
    sdx_client_reply_t *reply = NULL;
    *out = NULL;
    msgpack_sbuffer_init(&buf);
    msgpack_packer_init(&pk, &buf, msgpack_sbuffer_write);
    sdx_request_pack(req, false, &pk);
    sdx_status_t st = buf.data ? sdx_client_call(c, buf.data, buf.size,
                                                 &reply)
                               : SDX_NOMEM;
    msgpack_sbuffer_destroy(&buf);
    if (st != SDX_OK)
        return st;
    sdx_result_t *r = calloc(1, sizeof *r);
    if (!r) {
        sdx_client_reply_destroy(&reply);
        return SDX_NOMEM;
    }
    r->reply = reply;
    r->took_us = get_u64(sdx_client_reply_root(reply), "took_us");
    if (!sdx_client_reply_ok(reply)) {
        sdx_client_note_error_reply(c, reply);
        *out = r;
        return SDX_REMOTE;
    }
    st = decode(sdx_client_reply_root(reply), r);
    if (st != SDX_OK) {
        sdx_result_destroy(&r);
        return st;
    }
    *out = r;
    return SDX_OK;
}

/* The request of OP for Q, sent; the reply decoded with DECODE. */
static sdx_status_t
s_query(sdx_client_t *c, sdx_op_t op, const sdx_query_t *q,
        decode_fn decode, sdx_result_t **out)
{
    sdx_request_t req;
    *out = NULL;
    sdx_status_t st = s_request(op, q, &req);
    return st != SDX_OK ? st : exchange(c, &req, decode, out);
}

sdx_status_t
sdx_client_ping(sdx_client_t *c, sdx_result_t **out)
{
    static const sdx_query_t none = { 0 };
    return s_query(c, SDX_OP_PING, &none, decode_nothing, out);
}

sdx_status_t
sdx_client_stats(sdx_client_t *c, sdx_result_t **out)
{
    static const sdx_query_t none = { 0 };
    return s_query(c, SDX_OP_STATS, &none, decode_stats, out);
}

sdx_status_t
sdx_client_search(sdx_client_t *c, const sdx_query_t *q, sdx_result_t **out)
{
    *out = NULL;
    if (!q->q)
        return SDX_BAD_INPUT;
    return s_query(c, SDX_OP_SEARCH, q, decode_search, out);
}

sdx_status_t
sdx_client_ladder(sdx_client_t *c, const sdx_query_t *q, sdx_result_t **out)
{
    *out = NULL;
    if (!q->q)
        return SDX_BAD_INPUT;
    return s_query(c, SDX_OP_LADDER, q, decode_ladder, out);
}

sdx_status_t
sdx_client_context(sdx_client_t *c, const sdx_query_t *q,
                   sdx_result_t **out)
{
    *out = NULL;
    if (!q->q)
        return SDX_BAD_INPUT;
    return s_query(c, SDX_OP_CONTEXT, q, decode_passages, out);
}

sdx_status_t
sdx_client_suggest(sdx_client_t *c, const char *q, sdx_result_t **out)
{
    sdx_query_t query = { .q = q };
    *out = NULL;
    if (!q)
        return SDX_BAD_INPUT;
    return s_query(c, SDX_OP_SUGGEST, &query, decode_suggest, out);
}

sdx_status_t
sdx_client_row(sdx_client_t *c, const char *row, const char *series,
               sdx_result_t **out)
{
    sdx_request_t req;
    *out = NULL;
    if (!row)
        return SDX_BAD_INPUT;
    sdx_request_init(&req, SDX_OP_ROW);
    req.row = (char *)row;
    req.series = (char *)series;
    return exchange(c, &req, decode_row, out);
}

sdx_status_t
sdx_client_get(sdx_client_t *c, const char *const *ids, size_t nids,
               sdx_result_t **out)
{
    sdx_request_t req;
    *out = NULL;
    if (!ids || nids == 0)
        return SDX_BAD_INPUT;
    sdx_request_init(&req, SDX_OP_GET);
    req.ids = (sdx_strlist_t){(char **)ids, nids};
    return exchange(c, &req, decode_clauses, out);
}

sdx_status_t
sdx_client_fit(sdx_client_t *c, const sdx_query_t *q, sdx_result_t **out)
{
    *out = NULL;
    if (!q->text)
        return SDX_BAD_INPUT;
    return s_query(c, SDX_OP_FIT, q, decode_fit, out);
}

sdx_status_t
sdx_client_first(sdx_client_t *c, const sdx_query_t *q, sdx_result_t **out)
{
    *out = NULL;
    if (!q->q)
        return SDX_BAD_INPUT;
    return s_query(c, SDX_OP_FIRST, q, decode_nothing, out);
}

sdx_status_t
sdx_client_gaps(sdx_client_t *c, const sdx_query_t *q, sdx_result_t **out)
{
    *out = NULL;
    if (!q->text || !q->series || !q->level)
        return SDX_BAD_INPUT;
    return s_query(c, SDX_OP_GAPS, q, decode_nothing, out);
}

sdx_status_t
sdx_client_diff(sdx_client_t *c, const char *row, const char *series,
                sdx_result_t **out)
{
    sdx_request_t req;
    *out = NULL;
    if (!row)
        return SDX_BAD_INPUT;
    sdx_request_init(&req, SDX_OP_DIFF);
    req.row = (char *)row;
    req.series = (char *)series;
    return exchange(c, &req, decode_nothing, out);
}

sdx_status_t
sdx_client_verify(sdx_client_t *c, const char *text, const char *clause,
                  sdx_result_t **out)
{
    sdx_request_t req;
    *out = NULL;
    if (!text)
        return SDX_BAD_INPUT;
    sdx_request_init(&req, SDX_OP_VERIFY);
    req.text = (char *)text;
    req.clause = (char *)clause;
    return exchange(c, &req, decode_verify, out);
}

void
sdx_result_destroy(sdx_result_t **result_p)
{
    if (!result_p || !*result_p)
        return;
    sdx_result_t *r = *result_p;
    for (size_t i = 0; i < r->nhits; i++) {
        sdx_clause_destroy(&r->hits[i].clause);
        free(r->hits[i].snippet);
    }
    free(r->hits);
    for (size_t l = 0; l <= SDX_MAX_LEVEL; l++)
        sdx_clause_destroy(&r->ladder[l]);
    free(r->row);
    for (size_t i = 0; i < r->ncells; i++) {
        free(r->cells[i].id);
        free(r->cells[i].title);
        free(r->cells[i].text);
        free(r->cells[i].series);
    }
    free(r->cells);
    for (size_t i = 0; i < r->nclauses; i++)
        sdx_clause_destroy(&r->clauses[i]);
    free(r->clauses);
    for (size_t i = 0; i < r->npassages; i++) {
        free(r->passages[i].id);
        free(r->passages[i].cite);
        free(r->passages[i].text);
    }
    free(r->passages);
    sdx_result_understood_t *u = &r->understood;
    for (size_t i = 0; i < u->nsections; i++)
        free(u->sections[i]);
    for (size_t i = 0; i < u->nseries; i++)
        free(u->series[i]);
    for (size_t i = 0; i < u->nrows; i++)
        free(u->rows[i]);
    free(u->sections);
    free(u->series);
    free(u->rows);
    free(r->note);
    free(r->corrected);
    free(r->suggestion);
    free(r->stats.index_path);
    free(r->stats.built_at);
    free(r->series);
    for (size_t i = 0; i < r->nfit_levels; i++)
        free(r->fit_levels[i].title);
    free(r->fit_levels);
    for (size_t i = 0; i < r->nplaces; i++)
        free(r->places[i].id);
    free(r->places);
    free(r->closest.id);
    sdx_client_reply_destroy(&r->reply);
    free(r);
    *result_p = NULL;
}
