/*
 * op_search: the operations that rank clauses for a query: `search`
 * (with grouping, facets, spelling correction), `suggest`, and
 * `context`, the grounded passages a chatbot quotes from.
 *
 * All three go through the shim's one search call with the daemon's
 * cost bounds (ops_int.h).  Grouping and context's merged passages use
 * Xapian's collapse on the group key the indexer stores (sdx_index.h): one
 * hit per (series, row, text), so offset/limit pages count groups and
 * stay stable; a second search over the page's group keys finds which
 * levels each group covers.
 */
#include "ops_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "question.h"
#include "sdx_log.h"

#define CONTEXT_MIN_CUT 100        /* characters: a passage that does not
                                      fit is cut to the budget when at
                                      least this much is left, else the
                                      list ends */
#define ELLIPSIS "\xe2\x80\xa6"    /* U+2026, ends a cut passage */
#define ROWS_MIN_SHARE 0.25        /* the rows a question names answer it
                                      when their best match scores at
                                      least this share of the best in
                                      all rows (docs/RELEVANCE.md) */

/* ---------------------------------------------------------------- */
/* Plain words (question.h)                                         */
/* ---------------------------------------------------------------- */

/* What a search of a question in plain words did. */
typedef struct plain {
    sdx_question_t qn;         /* the question as read */
    bool searched;             /* it had something to search for */
    bool rows_applied;         /* the hits come from the rows it named */
} plain_t;

/*
 * Read REQ's q as a question into P and add what it restricts (levels,
 * series) to FS, before a spec is made of FS.
 */
static sdx_errcode_t
s_plain_read(sdx_ops_ctx_t *ctx, const sdx_request_t *req,
             sdx_index_filters_t *fs, plain_t *p, sdx_proto_error_t *err)
{
    sdx_errcode_t code = sdx_question_read(ctx->db, req->q, &p->qn, err);
    return code ? code : sdx_question_restrict(&p->qn, fs, err);
}

/* The score of R's first hit, 0 when it has none. */
static double
s_best(const sdx_results_t *r)
{
    sdx_hit_t hit;
    if (sdx_results_count(r) == 0)
        return 0;
    sdx_results_hit(r, 0, &hit);
    return hit.score;
}

/*
 * Search for P's question with SPEC (made of FS): among the rows it
 * names, unless their best match scores under ROWS_MIN_SHARE of the
 * best match in all rows (then the named rows hold only a stray word of
 * the question, and all rows answer: a named row says where the answer
 * should be, never that there is none when it is elsewhere).  The
 * choice is made on the best matches, so every page of one question
 * makes the same one.  A question with neither words nor rows searches
 * nothing: *RESULTS stays NULL.  FS keeps the filter of the named rows
 * when they answer.
 */
static sdx_errcode_t
s_plain_search(sdx_ops_ctx_t *ctx, plain_t *p, sdx_search_spec_t *spec,
               sdx_index_filters_t *fs, const char *what,
               sdx_results_t **results, sdx_proto_error_t *err)
{
    sdx_errcode_t code;
    sdx_results_t *all = NULL, *named = NULL;
    sdx_status_t st = SDX_OK;
    bool rows = sdx_question_names_rows(&p->qn);
    *results = NULL;
    spec->query = p->qn.query;
    if (p->qn.nwords == 0 && !rows)
        return SDX_E_NONE;
    p->searched = true;
    if (!rows) {
        st = sdx_db_search(ctx->db, spec, results);
        return st ? sdx_ops_status_error(ctx, st, what, err) : SDX_E_NONE;
    }
    /* past the first page, the best matches come from a probe */
    sdx_search_spec_t probe = *spec;
    probe.offset = 0;
    probe.limit = 1;
    probe.snippets = false;
    probe.nfacets = 0;
    probe.correct = false;
    const sdx_search_spec_t *first = spec->offset ? &probe : spec;
    if (p->qn.nwords > 0 && (st = sdx_db_search(ctx->db, first, &all)))
        goto failed;
    if ((code = sdx_question_prefer(&p->qn, fs, err))) {
        sdx_results_destroy(&all);
        return code;
    }
    spec->filters = probe.filters = fs->f;
    spec->nfilters = probe.nfilters = fs->n;
    if ((st = sdx_db_search(ctx->db, first, &named)))
        goto failed;
    if (!all || (sdx_results_count(named) > 0 &&
                 s_best(named) >= ROWS_MIN_SHARE * s_best(all))) {
        p->rows_applied = true;
        sdx_results_destroy(&all);
        if (first == spec) {
            *results = named;
            return SDX_E_NONE;
        }
        sdx_results_destroy(&named);
        st = sdx_db_search(ctx->db, spec, results);
        return st ? sdx_ops_status_error(ctx, st, what, err) : SDX_E_NONE;
    }
    sdx_results_destroy(&named);
    sdx_index_filter_pop(fs);
    spec->nfilters = fs->n;
    if (first == spec) {
        *results = all;
        return SDX_E_NONE;
    }
    sdx_results_destroy(&all);
    st = sdx_db_search(ctx->db, spec, results);
    return st ? sdx_ops_status_error(ctx, st, what, err) : SDX_E_NONE;
failed:
    sdx_results_destroy(&all);
    sdx_results_destroy(&named);
    return sdx_ops_status_error(ctx, st, what, err);
}

/*
 * Search with SPEC: for P's question (s_plain_search) when P is not
 * NULL, else for SPEC's query as it is (the query language).
 */
static sdx_errcode_t
s_search(sdx_ops_ctx_t *ctx, plain_t *p, sdx_search_spec_t *spec,
         sdx_index_filters_t *fs, const char *what, sdx_results_t **results,
         sdx_proto_error_t *err)
{
    if (p)
        return s_plain_search(ctx, p, spec, fs, what, results, err);
    sdx_status_t st = sdx_db_search(ctx->db, spec, results);
    return st ? sdx_ops_status_error(ctx, st, what, err) : SDX_E_NONE;
}

/*
 * Pack `understood`, and when nothing matched, `note` saying why and
 * `corrected` (the question with its misspelt words put right) when
 * there is one.
 */
static sdx_errcode_t
s_plain_pack(sdx_ops_ctx_t *ctx, const sdx_request_t *req, const plain_t *p,
             size_t found, sdx_body_t *body, sdx_proto_error_t *err)
{
    sdx_body_key(body, "understood");
    sdx_question_pack(&p->qn, p->rows_applied, &body->pk);
    if (found > 0)
        return SDX_E_NONE;
    bool restricted = p->qn.levels || p->qn.nseries;
    const char *note =
        !p->searched
            ? "the question has no words to search for: only question "
              "words, or only what it names (see understood)"
        : restricted ? "no clause matches the question's words within "
                       "what it names (see understood)"
                     : "no clause matches the question's words";
    sdx_body_key(body, "note");
    sdx_msgpack_pack_str(&body->pk, note);
    sdx_status_t st;
    char *fixed = sdx_question_correct(ctx->db, req->q, &p->qn, &st);
    if (st != SDX_OK)
        return sdx_ops_status_error(ctx, st, "suggest", err);
    if (fixed) {
        sdx_body_key(body, "corrected");
        sdx_msgpack_pack_str(&body->pk, fixed);
        free(fixed);
    }
    return SDX_E_NONE;
}

/* ---------------------------------------------------------------- */
/* search                                                           */
/* ---------------------------------------------------------------- */

/* Facets of search: level and section, in this order. */
static const unsigned facet_slots[] = {SDX_SLOT_LEVEL, SDX_SLOT_SECTION,
                                       SDX_SLOT_SERIES};
static const char *const facet_names[] = {"level", "section", "series"};

#define NFACETS (sizeof facet_slots / sizeof facet_slots[0])

/* Pack `facets` ({level: {"1": n}, section: {"ksa": n}, series:
   {"payroll-systems-analyst-1-5": n}}) of R. */
static void
s_pack_facets(sdx_body_t *body, const sdx_results_t *r)
{
    sdx_body_key(body, "facets");
    msgpack_pack_map(&body->pk, NFACETS);
    for (size_t i = 0; i < NFACETS; i++) {
        size_t n = sdx_results_facet_size(r, i);
        sdx_msgpack_pack_str(&body->pk, facet_names[i]);
        msgpack_pack_map(&body->pk, n);
        for (size_t j = 0; j < n; j++) {
            const char *value;
            size_t len;
            uint64_t count;
            sdx_results_facet(r, i, j, &value, &len, &count);
            msgpack_pack_str(&body->pk, len);
            msgpack_pack_str_body(&body->pk, value, len);
            msgpack_pack_uint64(&body->pk, count);
        }
    }
    sdx_body_key(body, "facets_exact");
    if (sdx_results_facets_exact(r))
        msgpack_pack_true(&body->pk);
    else
        msgpack_pack_false(&body->pk);
}

/* Pack `partial` and, when there is one, `corrected`. */
static void
s_pack_partial(sdx_body_t *body, bool partial, const char *corrected)
{
    sdx_body_key(body, "partial");
    if (partial)
        msgpack_pack_true(&body->pk);
    else
        msgpack_pack_false(&body->pk);
    if (corrected && corrected[0]) {
        sdx_body_key(body, "corrected");
        sdx_msgpack_pack_str(&body->pk, corrected);
    }
}

sdx_errcode_t
sdx_op_search(sdx_ops_ctx_t *ctx, const sdx_request_t *req,
              sdx_body_t *body, sdx_proto_error_t *err)
{
    sdx_index_filters_t fs;
    sdx_search_spec_t spec;
    sdx_results_t *results = NULL;
    unsigned *masks = NULL;
    bool partial = false;
    bool plain = sdx_request_plain(req);
    plain_t p;
    sdx_errcode_t code;

    if ((code = sdx_ops_need_db(ctx, err)))
        return code;
    memset(&fs, 0, sizeof fs);
    memset(&p, 0, sizeof p);
    if ((code = sdx_index_filters_from_request(ctx->db, &fs, req, err)) ||
        (plain && (code = s_plain_read(ctx, req, &fs, &p, err))))
        goto cleanup;

    sdx_index_search_init(&spec, req->q, &fs);
    spec.offset = req->offset;
    spec.limit = req->limit;
    spec.snippets = req->snippet;
    spec.hl_open = req->highlight[0];
    spec.hl_close = req->highlight[1];
    spec.correct = !plain; /* a question's correction is its own */
    if (req->group) {
        spec.collapse = true;
        spec.key_slot = SDX_SLOT_GROUP;
    }
    if (req->facets) {
        spec.facet_slots = facet_slots;
        spec.nfacets = NFACETS;
        spec.check_at_least = FACET_CHECK_AT_LEAST;
    }
    if ((code = s_search(ctx, plain ? &p : NULL, &spec, &fs, "search",
                         &results, err)))
        goto cleanup;
    partial = sdx_results_partial(results);

    size_t n = sdx_results_count(results);
    if (req->group && n > 0) {
        if (!(masks = calloc(n, sizeof *masks))) {
            code = sdx_ops_fail(err, SDX_E_INTERNAL, "out of memory");
            goto cleanup;
        }
        if ((code = sdx_ops_group_levels(ctx, &spec, &fs, results, masks,
                                         &partial, err)))
            goto cleanup;
    }

    sdx_body_key(body, "total");
    msgpack_pack_uint64(&body->pk, sdx_results_estimate(results));
    sdx_body_key(body, "hits");
    msgpack_pack_array(&body->pk, n);
    for (size_t i = 0; i < n; i++) {
        sdx_hit_t hit;
        sdx_results_hit(results, i, &hit);
        unsigned extra = 3 + (req->snippet ? 1 : 0) + (req->group ? 1 : 0);
        if (sdx_proto_pack_map_extend(&body->pk, hit.data, hit.data_len,
                                      extra)) {
            sdx_log(SDX_LOG_ERROR, "search: hit %zu: document data is not "
                    "a msgpack map", i);
            code = sdx_ops_fail(err, SDX_E_INTERNAL,
                                "search: the index holds a malformed "
                                "record");
            goto cleanup;
        }
        sdx_msgpack_pack_str(&body->pk, "rank");
        msgpack_pack_uint64(&body->pk, (uint64_t)req->offset + i + 1);
        sdx_msgpack_pack_str(&body->pk, "score");
        msgpack_pack_double(&body->pk, hit.score);
        sdx_msgpack_pack_str(&body->pk, "percent");
        msgpack_pack_int(&body->pk, hit.percent);
        if (req->snippet) {
            sdx_msgpack_pack_str(&body->pk, "snippet");
            sdx_msgpack_pack_str(&body->pk, hit.snippet ? hit.snippet : "");
        }
        if (req->group) {
            sdx_msgpack_pack_str(&body->pk, "levels");
            sdx_ops_pack_levels(&body->pk, masks[i]);
        }
    }
    if (req->facets)
        s_pack_facets(body, results);
    s_pack_partial(body, partial, sdx_results_corrected(results));
    /* a page past the last hit is no "nothing matches" */
    size_t found = n + (size_t)sdx_results_estimate(results);
    code = plain ? s_plain_pack(ctx, req, &p, found, body, err) : SDX_E_NONE;
cleanup:
    free(masks);
    sdx_results_destroy(&results);
    sdx_index_filters_free(&fs);
    sdx_question_clear(&p.qn);
    return code;
}

/* ---------------------------------------------------------------- */
/* suggest                                                          */
/* ---------------------------------------------------------------- */

sdx_errcode_t
sdx_op_suggest(sdx_ops_ctx_t *ctx, const sdx_request_t *req,
               sdx_body_t *body, sdx_proto_error_t *err)
{
    sdx_search_spec_t spec;
    char *suggestion = NULL;
    sdx_errcode_t code;
    if ((code = sdx_ops_need_db(ctx, err)))
        return code;
    sdx_index_search_init(&spec, req->q, NULL);
    sdx_status_t st = sdx_db_suggest(ctx->db, &spec, &suggestion);
    if (st != SDX_OK)
        return sdx_ops_status_error(ctx, st, "suggest", err);
    sdx_body_key(body, "suggestion");
    sdx_msgpack_pack_str(&body->pk, suggestion); /* NULL packs nil */
    free(suggestion);
    return SDX_E_NONE;
}

/* ---------------------------------------------------------------- */
/* context                                                          */
/* ---------------------------------------------------------------- */

/* Characters (code points) in the first LEN bytes of UTF-8 text S. */
static size_t
s_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xc0) != 0x80;
    return n;
}

/*
 * Bytes of S to keep so that it plus an ellipsis is at most CHARS
 * characters: cut at the last space that fits (at a character boundary
 * when there is none), trailing spaces and commas dropped.
 */
static size_t
s_cut(const char *s, size_t chars)
{
    size_t i = 0, n = 0, space = 0;
    if (chars == 0)
        return 0;
    while (s[i] && n < chars - 1) {
        if (s[i] == ' ')
            space = i;
        i++;
        while (((unsigned char)s[i] & 0xc0) == 0x80)
            i++;
        n++;
    }
    size_t end = s[i] == ' ' ? i : space ? space : i;
    while (end > 0 && (s[end - 1] == ' ' || s[end - 1] == ','))
        end--;
    return end;
}

/*
 * The citation of clause C covering the levels of MASK: one level,
 * `Title (code), Row`; several, the series with its level range
 * replaced by them, `Series 1-5 HX, Row` (levels listed as 1, 3 when
 * not contiguous; appended in brackets when the series has no range).
 */
static void
s_cite(const sdx_clause_t *c, unsigned mask, char *out, size_t size)
{
    int lo = -1, hi = -1, count = 0;
    for (int l = 0; l <= 9; l++)
        if ((mask >> l) & 1u) {
            if (lo < 0)
                lo = l;
            hi = l;
            count++;
        }
    if (count <= 1) {
        if (c->job_code[0])
            snprintf(out, size, "%s (%s), %s", c->title, c->job_code,
                     c->row);
        else
            snprintf(out, size, "%s, %s", c->title, c->row);
        return;
    }
    char levels[32];
    if (hi - lo + 1 == count) {
        snprintf(levels, sizeof levels, "%d-%d", lo, hi);
    } else {
        size_t k = 0;
        levels[0] = '\0';
        for (int l = lo; l <= hi; l++)
            if ((mask >> l) & 1u)
                k += (size_t)snprintf(levels + k, sizeof levels - k, "%s%d",
                                      k ? ", " : "", l);
    }
    /* the series' range: a digit, '-' or U+2013, a digit, alone */
    const char *s = c->series, *range = NULL;
    size_t rlen = 0;
    for (const char *p = s; *p && !range; p++) {
        if (*p < '0' || *p > '9' || (p > s && p[-1] != ' '))
            continue;
        const char *q = p + 1;
        if (*q == '-')
            q++;
        else if (strncmp(q, "\xe2\x80\x93", 3) == 0)
            q += 3;
        else
            continue;
        if (*q >= '0' && *q <= '9' && (q[1] == ' ' || q[1] == '\0')) {
            range = p;
            rlen = (size_t)(q + 1 - p);
        }
    }
    if (range)
        snprintf(out, size, "%.*s%s%s, %s", (int)(range - s), s, levels,
                 range + rlen, c->row);
    else
        snprintf(out, size, "%s (levels %s), %s", s, levels, c->row);
}

/* One passage of context, before packing. */
typedef struct passage {
    sdx_clause_t *clause;      /* the best clause of its group */
    unsigned mask;             /* levels sharing its text */
    double score;              /* the hit's weight */
    size_t keep;               /* bytes of text kept */
    bool cut;                  /* text cut to the budget: add "…" */
} passage_t;

sdx_errcode_t
sdx_op_context(sdx_ops_ctx_t *ctx, const sdx_request_t *req,
               sdx_body_t *body, sdx_proto_error_t *err)
{
    sdx_index_filters_t fs;
    sdx_search_spec_t spec;
    sdx_results_t *results = NULL;
    unsigned masks[SDX_PROTO_K_MAX];
    passage_t ps[SDX_PROTO_K_MAX];
    size_t np = 0, used = 0;
    bool partial = false;
    bool plain = sdx_request_plain(req);
    plain_t p;
    sdx_errcode_t code;

    if ((code = sdx_ops_need_db(ctx, err)))
        return code;
    memset(&fs, 0, sizeof fs);
    memset(ps, 0, sizeof ps);
    memset(&p, 0, sizeof p);
    if ((code = sdx_index_filters_from_request(ctx->db, &fs, req, err)) ||
        (plain && (code = s_plain_read(ctx, req, &fs, &p, err))))
        goto cleanup;
    sdx_index_search_init(&spec, req->q, &fs);
    spec.limit = req->k;
    spec.collapse = true;
    spec.key_slot = SDX_SLOT_GROUP;
    if ((code = s_search(ctx, plain ? &p : NULL, &spec, &fs, "context",
                         &results, err)))
        goto cleanup;
    partial = sdx_results_partial(results);
    size_t n = sdx_results_count(results);
    if (n > SDX_PROTO_K_MAX)
        n = SDX_PROTO_K_MAX;
    /* Not padded in: a passage far below the best matched a stray word
       of the question, not its point (docs/RELEVANCE.md). */
    if (n > 0) {
        sdx_hit_t best;
        sdx_results_hit(results, 0, &best);
        for (size_t i = 1; i < n; i++) {
            sdx_hit_t hit;
            sdx_results_hit(results, i, &hit);
            if (hit.score < req->min_score * best.score) {
                n = i;
                break;
            }
        }
    }
    if ((code = sdx_ops_group_levels(ctx, &spec, &fs, results, masks,
                                     &partial, err)))
        goto cleanup;

    /* Passages in rank order while they fit the budget; one that does
       not is cut to what is left (if that is worth it) and ends it. */
    for (size_t i = 0; i < n; i++) {
        sdx_hit_t hit;
        passage_t *p = &ps[np];
        sdx_results_hit(results, i, &hit);
        if ((code = sdx_ops_hit_clause(&hit, "context", &p->clause, err)))
            goto cleanup;
        np++;
        p->mask = masks[i] ? masks[i] : 1u << p->clause->level;
        p->score = hit.score;
        size_t len = strlen(p->clause->text);
        size_t chars = s_chars(p->clause->text, len);
        size_t left = req->max_chars - used;
        if (chars <= left) {
            p->keep = len;
            used += chars;
            continue;
        }
        if (left < CONTEXT_MIN_CUT) {
            sdx_clause_destroy(&p->clause);
            np--;
            break;
        }
        p->keep = s_cut(p->clause->text, left);
        p->cut = true;
        used += s_chars(p->clause->text, p->keep) + 1;
        break;
    }

    sdx_body_key(body, "passages");
    msgpack_pack_array(&body->pk, np);
    for (size_t i = 0; i < np; i++) {
        const passage_t *p = &ps[i];
        char cite[1024];
        s_cite(p->clause, p->mask, cite, sizeof cite);
        msgpack_pack_map(&body->pk, 5);
        sdx_msgpack_pack_str(&body->pk, "id");
        sdx_msgpack_pack_str(&body->pk, p->clause->id);
        sdx_msgpack_pack_str(&body->pk, "cite");
        sdx_msgpack_pack_str(&body->pk, cite);
        sdx_msgpack_pack_str(&body->pk, "levels");
        sdx_ops_pack_levels(&body->pk, p->mask);
        sdx_msgpack_pack_str(&body->pk, "text");
        size_t len = p->keep + (p->cut ? strlen(ELLIPSIS) : 0);
        msgpack_pack_str(&body->pk, len);
        msgpack_pack_str_body(&body->pk, p->clause->text, p->keep);
        if (p->cut)
            msgpack_pack_str_body(&body->pk, ELLIPSIS, strlen(ELLIPSIS));
        sdx_msgpack_pack_str(&body->pk, "score");
        msgpack_pack_double(&body->pk, p->score);
    }
    sdx_body_key(body, "chars");
    msgpack_pack_uint64(&body->pk, used);
    s_pack_partial(body, partial, NULL);
    code = plain ? s_plain_pack(ctx, req, &p, np, body, err) : SDX_E_NONE;
cleanup:
    for (size_t i = 0; i < np; i++)
        sdx_clause_destroy(&ps[i].clause);
    sdx_results_destroy(&results);
    sdx_index_filters_free(&fs);
    sdx_question_clear(&p.qn);
    return code;
}
