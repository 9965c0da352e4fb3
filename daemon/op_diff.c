/*
 * op_diff: `diff`, the words a row's text adds and removes from one
 * level to the next ("Basic knowledge ..." -> "Demonstrated knowledge
 * ..." -> "Strong knowledge ..."), so that staff see what a level asks
 * beyond the one below without reading two paragraphs side by side.
 *
 * The row's clauses come from the same search as `row` (exactly that
 * row, every series that has it, at most DIFF_MAX_SERIES); each series'
 * cells in level order are compared pairwise by sdx_words_diff (an LCS
 * over words, lib/sdx_words.c).  A level where the row has no cell is
 * stepped over: a step says which two levels it compares.
 */
#include "ops_int.h"

#include <stdlib.h>
#include <string.h>

#include "sdx_words.h"

#define DIFF_MAX_SERIES 20         /* series one reply covers, as row's */

/* The words of TEXT, malloc'd into *W (*N of them); -1 out of memory. */
static int
s_words(const char *text, sdx_span_t **w, size_t *n)
{
    *n = sdx_words_split(text, NULL, 0);
    *w = malloc((*n ? *n : 1) * sizeof **w);
    if (!*w)
        return -1;
    sdx_words_split(text, *w, *n);
    return 0;
}

/* Pack the words [FIRST, FIRST + COUNT) of TEXT as one str, the text
   between them as it is. */
static void
s_pack_words(msgpack_packer *pk, const char *text, const sdx_span_t *w,
             size_t first, size_t count)
{
    size_t from = w[first].off;
    size_t to = w[first + count - 1].off + w[first + count - 1].len;
    msgpack_pack_str(pk, to - from);
    msgpack_pack_str_body(pk, text + from, to - from);
}

/* Pack the step from clause A to clause B. */
static sdx_errcode_t
s_pack_step(msgpack_packer *pk, const sdx_clause_t *a, const sdx_clause_t *b,
            sdx_proto_error_t *err)
{
    sdx_span_t *aw = NULL, *bw = NULL;
    sdx_diff_run_t *runs = NULL;
    size_t na, nb, nruns = 0, added = 0, removed = 0;
    sdx_errcode_t code = SDX_E_NONE;
    if (s_words(a->text, &aw, &na) || s_words(b->text, &bw, &nb) ||
        sdx_words_diff(a->text, aw, na, b->text, bw, nb, &runs, &nruns)) {
        code = sdx_ops_fail(err, SDX_E_INTERNAL, "out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < nruns; i++) {
        if (runs[i].kind == SDX_DIFF_ADD)
            added += runs[i].count;
        else if (runs[i].kind == SDX_DIFF_DEL)
            removed += runs[i].count;
    }
    msgpack_pack_map(pk, 8);
    sdx_msgpack_pack_str(pk, "series");
    sdx_msgpack_pack_str(pk, a->series);
    sdx_msgpack_pack_str(pk, "from");
    msgpack_pack_int(pk, a->level);
    sdx_msgpack_pack_str(pk, "to");
    msgpack_pack_int(pk, b->level);
    sdx_msgpack_pack_str(pk, "from_id");
    sdx_msgpack_pack_str(pk, a->id);
    sdx_msgpack_pack_str(pk, "to_id");
    sdx_msgpack_pack_str(pk, b->id);
    sdx_msgpack_pack_str(pk, "added");
    msgpack_pack_unsigned_int(pk, (unsigned)added);
    sdx_msgpack_pack_str(pk, "removed");
    msgpack_pack_unsigned_int(pk, (unsigned)removed);
    sdx_msgpack_pack_str(pk, "runs");
    msgpack_pack_array(pk, nruns);
    for (size_t i = 0; i < nruns; i++) {
        static const char *const ops[] = {
            [SDX_DIFF_SAME] = "same", [SDX_DIFF_DEL] = "del",
            [SDX_DIFF_ADD] = "add",
        };
        bool from_b = runs[i].kind == SDX_DIFF_ADD;
        msgpack_pack_map(pk, 2);
        sdx_msgpack_pack_str(pk, "op");
        sdx_msgpack_pack_str(pk, ops[runs[i].kind]);
        sdx_msgpack_pack_str(pk, "text");
        s_pack_words(pk, from_b ? b->text : a->text, from_b ? bw : aw,
                     runs[i].first, runs[i].count);
    }
cleanup:
    free(runs);
    free(aw);
    free(bw);
    return code;
}

sdx_errcode_t
sdx_op_diff(sdx_ops_ctx_t *ctx, const sdx_request_t *req, sdx_body_t *body,
            sdx_proto_error_t *err)
{
    clauses_t cs = {NULL, 0};
    char row[SLUG_MAX];
    sdx_errcode_t code;

    if ((code = sdx_ops_need_db(ctx, err)))
        return code;
    if ((code = sdx_ops_request_row(ctx, req, "diff", row, &cs, err)))
        goto cleanup;
    /* levels 1..9 only: a series-wide clause (level 0) has no step */
    size_t k = 0;
    for (size_t i = 0; i < cs.n; i++)
        if (cs.v[i]->level >= 1)
            cs.v[k++] = cs.v[i];
        else
            sdx_clause_destroy(&cs.v[i]);
    cs.n = k;

    /* steps: consecutive cells of one series, within the first
       DIFF_MAX_SERIES series */
    size_t nsteps = 0, nseries = cs.n ? 1 : 0, last = cs.n;
    for (size_t i = 1; i < cs.n; i++) {
        if (strcmp(cs.v[i]->series, cs.v[i - 1]->series) != 0) {
            if (++nseries > DIFF_MAX_SERIES) {
                last = i;
                break;
            }
            continue;
        }
        nsteps++;
    }
    sdx_body_key(body, "row");
    sdx_msgpack_pack_str(&body->pk, cs.n ? cs.v[0]->row : NULL);
    sdx_body_key(body, "steps");
    msgpack_pack_array(&body->pk, nsteps);
    for (size_t i = 1; i < last; i++) {
        if (strcmp(cs.v[i]->series, cs.v[i - 1]->series) != 0)
            continue;
        if ((code = s_pack_step(&body->pk, cs.v[i - 1], cs.v[i], err)))
            goto cleanup;
    }
    code = SDX_E_NONE;
cleanup:
    sdx_ops_clauses_free(&cs);
    return code;
}
