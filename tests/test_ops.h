/*
 * test_ops.h: a request answered by the daemon's op handlers in-process
 * (no socket), as a worker answers it, for the tests that judge what the
 * ops return (test_ops, test_relevance, test_ladder, test_cache), and
 * the index they answer from, built as specdex-index builds it.  Include
 * after cmocka.h, msgpack.h, daemon.h and sdx_proto.h; link sdx_daemon
 * and sdx_indexer.
 */
#ifndef SDX_TEST_OPS_H
#define SDX_TEST_OPS_H

#include <stdio.h>
#include <string.h>

#include "build.h"
#include "parse.h"
#include "sdx_index.h"

/* An index opened for the ops, and what a handler needs besides. */
typedef struct t_ops_index {
    sdx_db_t *db;              /* the shim's handle */
    sdx_stats_t *stats;        /* counters, for stats */
    sdx_config_t cfg;          /* the daemon's settings: all defaults */
    sdx_ops_ctx_t ctx;         /* what t_ops_answer is given */
    char path[4096];           /* the resolved revision */
} t_ops_index_t;

/*
 * Open the index served at INDEX_DIR (its DIR/current) into *IX, as a
 * worker opens it.  A failure fails the test.
 */
static inline void
t_ops_index_open_dir(t_ops_index_t *ix, const char *index)
{
    char err[1024], *msg = NULL;
    memset(ix, 0, sizeof *ix);
    if (sdx_index_resolve(index, ix->path, sizeof ix->path, err,
                          sizeof err))
        fail_msg("resolving the index: %s", err);
    if (sdx_index_open(ix->path, &ix->db, &msg) != SDX_OK)
        fail_msg("opening the index: %s", msg ? msg : "?");
    free(msg);
    ix->stats = sdx_stats_new(1, 1);
    assert_non_null(ix->stats);
    ix->ctx = (sdx_ops_ctx_t){.db = ix->db, .db_path = ix->path,
                              .db_error = "", .stats = ix->stats,
                              .cfg = &ix->cfg};
}

/*
 * Parse PATHS[0..N-1] (corpus files or directories) and build them, with
 * the synonyms of SYNONYMS (a file, or NULL for none), into DIR/index as
 * specdex-index does; open it into *IX.  A failure fails the test.
 */
static inline void
t_ops_index_open_paths(t_ops_index_t *ix, const char *dir,
                       const char *const *paths, size_t n,
                       const char *synonyms)
{
    sdx_clause_list_t clauses = SDX_CLAUSE_LIST_INIT;
    sdx_synonyms_t syn = SDX_SYNONYMS_INIT;
    char err[1024], index[512];

    snprintf(index, sizeof index, "%s/index", dir);
    if (sdx_parse_paths(paths, n, &clauses, NULL, err, sizeof err) ||
        (synonyms &&
         sdx_parse_synonyms(synonyms, &syn, err, sizeof err)) ||
        sdx_build_index_syn(index, &clauses, &syn, NULL, err, sizeof err))
        fail_msg("building the index: %s", err);
    sdx_clause_list_clear(&clauses);
    sdx_synonyms_clear(&syn);
    t_ops_index_open_dir(ix, index);
}

/* t_ops_index_open_paths of the one corpus file or directory PATH. */
static inline void
t_ops_index_open(t_ops_index_t *ix, const char *dir, const char *path,
                 const char *synonyms)
{
    t_ops_index_open_paths(ix, dir, &path, 1, synonyms);
}

/* Close what t_ops_index_open opened. */
static inline void
t_ops_index_close(t_ops_index_t *ix)
{
    sdx_stats_destroy(&ix->stats);
    sdx_db_destroy(&ix->db);
}

/*
 * Answer the request packed in SB (destroyed here) with the ops on CTX
 * and unpack the reply into *U.  The reply's strings point into *REPLY:
 * the caller destroys *U, then frees *REPLY.  A refused request or an
 * error reply fails the test, its message prefixed with WHAT.
 */
static inline void
t_ops_answer(sdx_ops_ctx_t *ctx, msgpack_sbuffer *sb, const char *what,
             msgpack_unpacked *u, void **reply)
{
    sdx_request_t req;
    sdx_proto_error_t err;
    sdx_body_t body;
    size_t reply_len = 0, off = 0;

    *reply = NULL;
    if (sdx_request_decode(sb->data, sb->size, &req, &err) != SDX_E_NONE)
        fail_msg("%s: request refused: %s", what, err.message);
    msgpack_sbuffer_destroy(sb);
    sdx_body_init(&body);
    if (sdx_ops_handle(ctx, &req, &body, &err) != SDX_E_NONE)
        fail_msg("%s: %s: %s", what, sdx_errcode_str(err.code),
                 err.message);
    assert_int_equal(sdx_reply_ok(NULL, 0, 0, &body, reply, &reply_len),
                     SDX_OK);
    sdx_body_clear(&body);
    sdx_request_clear(&req);
    msgpack_unpacked_init(u);
    assert_int_equal(msgpack_unpack_next(u, *reply, reply_len, &off),
                     MSGPACK_UNPACK_SUCCESS);
}

/*
 * Decode the request packed in SB (destroyed here), which must decode,
 * and answer it with the ops on CTX; the handler's code, its message in
 * *ERR.  For requests the handler refuses.
 */
static inline sdx_errcode_t
t_ops_handle(sdx_ops_ctx_t *ctx, msgpack_sbuffer *sb, sdx_proto_error_t *err)
{
    sdx_request_t req;
    sdx_body_t body;
    assert_int_equal(sdx_request_decode(sb->data, sb->size, &req, err),
                     SDX_E_NONE);
    msgpack_sbuffer_destroy(sb);
    sdx_body_init(&body);
    sdx_errcode_t code = sdx_ops_handle(ctx, &req, &body, err);
    sdx_body_clear(&body);
    sdx_request_clear(&req);
    return code;
}

/* One reply, unpacked, and the bytes it points into. */
typedef struct t_answer {
    msgpack_unpacked u;        /* the reply */
    void *bytes;               /* what U points into */
} t_answer_t;

/* Free what A holds. */
static inline void
t_answer_done(t_answer_t *a)
{
    msgpack_unpacked_destroy(&a->u);
    free(a->bytes);
}

#endif /* SDX_TEST_OPS_H */
