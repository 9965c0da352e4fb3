/*
 * op_verify: `verify`, for chatbot backends: is a quoted span really in
 * the standard, and where?  A chatbot that quotes a clause it did not
 * read verbatim is the worst outcome this product can have (a wrong
 * clause cited with confidence), so a backend calls verify before it
 * shows a citation.
 *
 * The span and each candidate clause's text are normalised the same way
 * (sdx_words_normalise: white space, ASCII case, curly quotes, non-
 * breaking spaces); the span is verbatim in a clause when the one is a
 * substring of the other that starts and ends at word boundaries.
 * Candidates: the clause cited (`clause`), then the matches of the span's
 * terms as one phrase (Xapian's positions: every clause holding the span
 * holds that phrase, stop words included) up to VERIFY_PHRASE_HITS.
 * When none holds it, the closest: the best of the cited clause and the
 * first VERIFY_NEAR_HITS matches of the span's terms ORed, by the word
 * edits (Sellers' approximate match) between the span and a run of the
 * clause's words.  Offsets in the reply are characters (code points) of
 * the clause's text as stored, start inclusive, end exclusive.
 */
#include "ops_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "sdx_words.h"

#define VERIFY_PHRASE_TERMS 60     /* span terms in the phrase search (the
                                      query's bound is 100) */
#define VERIFY_PHRASE_HITS 100     /* clauses holding the phrase read */
#define VERIFY_NEAR_TERMS 60       /* distinct span terms ORed for the
                                      closest clause */
#define VERIFY_NEAR_HITS 20        /* clauses compared for the closest */
#define VERIFY_MAX_MATCHES 20      /* places a verbatim span is listed */

/* A text normalised, with its terms. */
typedef struct normal {
    char *s;                   /* normalised text, owned */
    size_t *chars;             /* byte of S -> character of the original */
    size_t len;                /* bytes of S */
    sdx_span_t *terms;         /* its terms, owned */
    size_t nterms;             /* how many */
} normal_t;

static void
s_normal_free(normal_t *n)
{
    free(n->s);
    free(n->chars);
    free(n->terms);
    memset(n, 0, sizeof *n);
}

static sdx_errcode_t
s_normal(const char *text, normal_t *n, sdx_proto_error_t *err)
{
    memset(n, 0, sizeof *n);
    if (sdx_words_normalise(text, &n->s, &n->chars, &n->len) != SDX_OK)
        return sdx_ops_fail(err, SDX_E_INTERNAL, "out of memory");
    n->nterms = sdx_words_terms(n->s, NULL, 0);
    n->terms = malloc((n->nterms ? n->nterms : 1) * sizeof *n->terms);
    if (!n->terms) {
        s_normal_free(n);
        return sdx_ops_fail(err, SDX_E_INTERNAL, "out of memory");
    }
    sdx_words_terms(n->s, n->terms, n->nterms);
    return SDX_E_NONE;
}

/* A clause that was looked at: its record and normalised text. */
typedef struct cand {
    sdx_clause_t *c;           /* owned */
    normal_t n;                /* its text normalised */
} cand_t;

/* What verify found, packed at the end. */
typedef struct found {
    cand_t *v;                 /* candidates, the cited one first */
    size_t n, size;            /* used, allocated */
    size_t nmatches;           /* verbatim places found */
    struct { size_t cand, start, end; } match[VERIFY_MAX_MATCHES];
    bool more_matches;         /* more places than MATCH holds */
} found_t;

static void
s_found_free(found_t *f)
{
    for (size_t i = 0; i < f->n; i++) {
        sdx_clause_destroy(&f->v[i].c);
        s_normal_free(&f->v[i].n);
    }
    free(f->v);
}

/* True when byte I of S is inside a word (an ASCII letter or digit on
   both sides of the boundary before it). */
static bool
s_mid_word(const char *s, size_t i)
{
    return i > 0 && s[i] && isalnum((unsigned char)s[i - 1]) &&
           isalnum((unsigned char)s[i]);
}

/* Add clause C (taken) unless it is there; record where SPAN is in it. */
static sdx_errcode_t
s_add(found_t *f, sdx_clause_t *c, const normal_t *span,
      sdx_proto_error_t *err)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->v[i].c->id, c->id) == 0) {
            sdx_clause_destroy(&c);
            return SDX_E_NONE;
        }
    if (f->n == f->size) {
        size_t size = f->size ? 2 * f->size : 16;
        cand_t *v = realloc(f->v, size * sizeof *v);
        if (!v) {
            sdx_clause_destroy(&c);
            return sdx_ops_fail(err, SDX_E_INTERNAL, "out of memory");
        }
        f->v = v;
        f->size = size;
    }
    cand_t *cd = &f->v[f->n];
    cd->c = c;
    sdx_errcode_t code = s_normal(c->text ? c->text : "", &cd->n, err);
    if (code) {
        sdx_clause_destroy(&cd->c);
        return code;
    }
    f->n++;
    const char *t = cd->n.s;
    for (const char *p = strstr(t, span->s); p; p = strstr(p + 1, span->s)) {
        size_t at = (size_t)(p - t), end = at + span->len;
        if (s_mid_word(t, at) || s_mid_word(t, end))
            continue;
        if (f->nmatches == VERIFY_MAX_MATCHES) {
            f->more_matches = true;
            break;
        }
        f->match[f->nmatches].cand = f->n - 1;
        f->match[f->nmatches].start = cd->n.chars[at];
        f->match[f->nmatches].end = cd->n.chars[end - 1] + 1;
        f->nmatches++;
    }
    return SDX_E_NONE;
}

/*
 * The span's terms as a query into Q (SIZE bytes): one phrase of the
 * first VERIFY_PHRASE_TERMS, or the distinct ones outside stop words
 * ORed (at most VERIFY_NEAR_TERMS).  Terms hold only letters, digits and
 * apostrophes, so nothing in them is an operator of the query language
 * (operators are capitals, and the span is lower-cased).  Returns the
 * terms used.
 */
static size_t
s_span_query(const normal_t *span, bool phrase, char *q, size_t size)
{
    size_t len = 0, used = 0;
    if (phrase)
        q[len++] = '"';
    for (size_t i = 0; i < span->nterms; i++) {
        const sdx_span_t *t = &span->terms[i];
        if (used == (phrase ? VERIFY_PHRASE_TERMS : VERIFY_NEAR_TERMS))
            break;
        if (!phrase) {
            bool seen = sdx_words_stop(span->s + t->off, t->len);
            for (size_t j = 0; j < i && !seen; j++)
                seen = sdx_words_term_eq(span->s, span->terms[j], span->s,
                                         *t);
            if (seen)
                continue;
        }
        if (len + t->len + 3 >= size)
            break;
        if (used)
            q[len++] = ' ';
        memcpy(q + len, span->s + t->off, t->len);
        len += t->len;
        used++;
    }
    if (phrase)
        q[len++] = '"';
    q[len] = '\0';
    return used;
}

/* Search Q; each hit not seen yet becomes a candidate.  *MORE: the
   match holds more than was read. */
static sdx_errcode_t
s_search(sdx_ops_ctx_t *ctx, const char *q, unsigned limit, found_t *f,
         const normal_t *span, bool *more, sdx_proto_error_t *err)
{
    sdx_index_filters_t fs;
    sdx_search_spec_t spec;
    sdx_results_t *r = NULL;
    sdx_errcode_t code = SDX_E_NONE;
    memset(&fs, 0, sizeof fs);
    sdx_index_search_init(&spec, q, &fs);
    spec.limit = limit;
    spec.check_at_least = limit + 1;
    spec.synonyms = false;     /* the span's own words, not others */
    sdx_status_t st = sdx_db_search(ctx->db, &spec, &r);
    if (st != SDX_OK)
        return sdx_ops_status_error(ctx, st, "verify", err);
    size_t n = sdx_results_count(r);
    if (more)
        *more = sdx_results_estimate(r) > n || sdx_results_partial(r);
    for (size_t i = 0; i < n && !code; i++) {
        sdx_hit_t hit;
        sdx_clause_t *c = NULL;
        sdx_results_hit(r, i, &hit);
        if (!(code = sdx_ops_hit_clause(&hit, "verify", &c, err)))
            code = s_add(f, c, span, err);
    }
    sdx_results_destroy(&r);
    return code;
}

sdx_errcode_t
sdx_op_verify(sdx_ops_ctx_t *ctx, const sdx_request_t *req,
              sdx_body_t *body, sdx_proto_error_t *err)
{
    normal_t span;
    found_t f;
    char *q = NULL;
    bool cited_found = false, more = false;
    size_t cited_matches = 0;
    sdx_errcode_t code;

    if ((code = sdx_ops_need_db(ctx, err)))
        return code;
    memset(&f, 0, sizeof f);
    if ((code = s_normal(req->text, &span, err)))
        return code;
    /* the cited clause first, so that its matches come first */
    if (req->clause) {
        void *data = NULL;
        size_t len = 0;
        sdx_status_t st = sdx_index_get_record(ctx->db, req->clause, &data,
                                               &len);
        if (st == SDX_OK) {
            sdx_clause_t *c = NULL;
            sdx_hit_t hit = {.data = data, .data_len = len};
            code = sdx_ops_hit_clause(&hit, "verify", &c, err);
            free(data);
            if (!code) {
                cited_found = true;
                code = s_add(&f, c, &span, err);
                cited_matches = f.nmatches;
            }
            if (code)
                goto cleanup;
        } else if (st != SDX_NOT_FOUND) {
            code = sdx_ops_status_error(ctx, st, "verify", err);
            goto cleanup;
        }
    }
    size_t qsize = span.len + 4;
    if (!(q = malloc(qsize))) {
        code = sdx_ops_fail(err, SDX_E_INTERNAL, "out of memory");
        goto cleanup;
    }
    if (span.nterms && s_span_query(&span, true, q, qsize) &&
        (code = s_search(ctx, q, VERIFY_PHRASE_HITS, &f, &span, &more,
                         err)))
        goto cleanup;
    /* no verbatim place: the closest, among the span's terms' matches */
    size_t best = (size_t)-1, best_d = (size_t)-1, from = 0, to = 0;
    if (f.nmatches == 0 && span.nterms) {
        if (s_span_query(&span, false, q, qsize) &&
            (code = s_search(ctx, q, VERIFY_NEAR_HITS, &f, &span, NULL,
                             err)))
            goto cleanup;
        for (size_t i = 0; i < f.n; i++) {
            size_t a, b;
            size_t d = sdx_words_closest(span.s, span.terms, span.nterms,
                                         f.v[i].n.s, f.v[i].n.terms,
                                         f.v[i].n.nterms, &a, &b);
            if (d == (size_t)-1) {
                code = sdx_ops_fail(err, SDX_E_INTERNAL, "out of memory");
                goto cleanup;
            }
            if (d < best_d && b > a) {
                best_d = d;
                best = i;
                from = a;
                to = b;
            }
        }
    }

    sdx_body_key(body, "verbatim");
    sdx_ops_pack_bool(&body->pk, f.nmatches > 0);
    sdx_body_key(body, "matches");
    msgpack_pack_array(&body->pk, f.nmatches);
    for (size_t i = 0; i < f.nmatches; i++) {
        const sdx_clause_t *c = f.v[f.match[i].cand].c;
        msgpack_pack_map(&body->pk, 5);
        sdx_msgpack_pack_str(&body->pk, "id");
        sdx_msgpack_pack_str(&body->pk, c->id);
        sdx_msgpack_pack_str(&body->pk, "title");
        sdx_msgpack_pack_str(&body->pk, c->title);
        sdx_msgpack_pack_str(&body->pk, "row");
        sdx_msgpack_pack_str(&body->pk, c->row);
        sdx_msgpack_pack_str(&body->pk, "start");
        msgpack_pack_unsigned_int(&body->pk, (unsigned)f.match[i].start);
        sdx_msgpack_pack_str(&body->pk, "end");
        msgpack_pack_unsigned_int(&body->pk, (unsigned)f.match[i].end);
    }
    /* the list may be short of some places: the phrase matched more
       clauses than were read, or the span is in more places than shown */
    sdx_body_key(body, "more");
    sdx_ops_pack_bool(&body->pk,
                      (more && f.nmatches) || f.more_matches);
    if (req->clause) {
        sdx_body_key(body, "cited");
        msgpack_pack_map(&body->pk, 3);
        sdx_msgpack_pack_str(&body->pk, "id");
        sdx_msgpack_pack_str(&body->pk, req->clause);
        sdx_msgpack_pack_str(&body->pk, "found");
        sdx_ops_pack_bool(&body->pk, cited_found);
        sdx_msgpack_pack_str(&body->pk, "verbatim");
        sdx_ops_pack_bool(&body->pk, cited_matches > 0);
    }
    sdx_body_key(body, "closest");
    if (best == (size_t)-1) {
        msgpack_pack_nil(&body->pk);
    } else {
        const cand_t *cd = &f.v[best];
        const sdx_span_t *a = &cd->n.terms[from], *b = &cd->n.terms[to - 1];
        size_t start = cd->n.chars[a->off];
        size_t end = cd->n.chars[b->off + b->len - 1] + 1;
        double sim = 1.0 - (double)best_d / (double)span.nterms;
        msgpack_pack_map(&body->pk, 8);
        sdx_msgpack_pack_str(&body->pk, "id");
        sdx_msgpack_pack_str(&body->pk, cd->c->id);
        sdx_msgpack_pack_str(&body->pk, "title");
        sdx_msgpack_pack_str(&body->pk, cd->c->title);
        sdx_msgpack_pack_str(&body->pk, "row");
        sdx_msgpack_pack_str(&body->pk, cd->c->row);
        sdx_msgpack_pack_str(&body->pk, "distance");
        msgpack_pack_unsigned_int(&body->pk, (unsigned)best_d);
        sdx_msgpack_pack_str(&body->pk, "words");
        msgpack_pack_unsigned_int(&body->pk, (unsigned)span.nterms);
        sdx_msgpack_pack_str(&body->pk, "similarity");
        msgpack_pack_double(&body->pk, sim > 0 ? sim : 0);
        sdx_msgpack_pack_str(&body->pk, "start");
        msgpack_pack_unsigned_int(&body->pk, (unsigned)start);
        sdx_msgpack_pack_str(&body->pk, "end");
        msgpack_pack_unsigned_int(&body->pk, (unsigned)end);
    }
    code = SDX_E_NONE;
cleanup:
    free(q);
    s_found_free(&f);
    s_normal_free(&span);
    return code;
}
