/*
 * test_ops.h: a request answered by the daemon's op handlers in-process
 * (no socket), as a worker answers it, for the tests that judge what the
 * ops return (test_relevance, test_ladder).  Include after cmocka.h,
 * msgpack.h, daemon.h and sdx_proto.h.
 */
#ifndef SDX_TEST_OPS_H
#define SDX_TEST_OPS_H

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

#endif /* SDX_TEST_OPS_H */
