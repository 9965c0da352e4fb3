/*
 * fuzz_request: libFuzzer harness for the request decoder and the reply
 * encoder (lib/sdx_proto).  Each input is one request frame as a client
 * would send it, handed to sdx_request_decode() exactly as received (a
 * buffer of its own size, so ASan catches an overread), then answered
 * the way the daemon answers: an error reply, or an ok reply whose body
 * echoes what was decoded.  Everything is freed, so LeakSanitizer sees
 * what the decoder loses on any of its error paths.
 *
 * The harness also checks the contract of sdx_proto.h and aborts when it
 * breaks (libFuzzer reports that like a crash):
 *  - a request decoded without error holds only values within the
 *    protocol's limits, its strings valid UTF-8;
 *  - every error message is terminated, non-empty and valid UTF-8 (it
 *    goes on the wire as a msgpack str);
 *  - a decoded request packs (sdx_request_pack) into a frame that
 *    decodes and packs again into the same bytes;
 *  - every reply is exactly one msgpack map and echoes the id verbatim;
 *  - sdx_proto_peek_id() finds the same id as the decoder;
 *  - sdx_proto_pack_map_extend() over the frame yields one valid map.
 *
 * Built by SDX_FUZZ with -fsanitize=fuzzer; without clang it is linked
 * with replay_main.c, which replays the seed corpus under `make test`.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#define FUZZ_HARNESS "fuzz_request"
#include "fuzz_contract.h"
#include "sdx_proto.h"
#include "sdx_utf8.h"

#define TOOK_US 1234 /* a fixed took_us for replies, microseconds */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Check a string the decoder handed out: set, terminated, UTF-8. */
static void
check_str(const char *s, size_t min, size_t max, const char *what)
{
    if (!s)
        broken(what);
    size_t n = strlen(s);
    if (n < min || n > max || !sdx_utf8_valid(s, n, NULL))
        broken(what);
}

static void
check_list(const sdx_strlist_t *l, size_t max_n, const char *what)
{
    if (l->n > max_n || (l->n > 0 && !l->v))
        broken(what);
    for (size_t i = 0; i < l->n; i++)
        check_str(l->v[i], 0, SDX_PROTO_STR_MAX, what);
}

/* Check that a request decoded without error is within every limit. */
static void
check_request(const sdx_request_t *r)
{
    if ((unsigned)r->op >= SDX_OP_LAST)
        broken("op outside the enum");
    if (r->q)
        check_str(r->q, 1, SDX_PROTO_Q_MAX, "q");
    if ((r->op == SDX_OP_SEARCH || r->op == SDX_OP_LADDER ||
         r->op == SDX_OP_CONTEXT || r->op == SDX_OP_SUGGEST) && !r->q)
        broken("an op that needs q decoded without it");
    if (r->op == SDX_OP_ROW)
        check_str(r->row, 1, SDX_PROTO_STR_MAX, "row");
    if (r->series)
        check_str(r->series, 1, SDX_PROTO_STR_MAX, "series");
    if (r->offset > SDX_PROTO_OFFSET_MAX)
        broken("offset out of range");
    if (r->limit < 1 || r->limit > SDX_PROTO_LIMIT_MAX)
        broken("limit out of range");
    if (r->nlevels > SDX_PROTO_LIST_MAX)
        broken("too many levels");
    for (size_t i = 0; i < r->nlevels; i++)
        if (r->levels[i] < SDX_PROTO_LEVEL_MIN ||
            r->levels[i] > SDX_PROTO_LEVEL_MAX)
            broken("a level out of range");
    check_list(&r->sections, SDX_PROTO_LIST_MAX, "sections");
    check_list(&r->rows, SDX_PROTO_LIST_MAX, "rows");
    check_list(&r->codes, SDX_PROTO_LIST_MAX, "codes");
    check_list(&r->ids, SDX_PROTO_IDS_MAX, "ids");
    if (r->op == SDX_OP_GET && r->ids.n == 0)
        broken("get decoded without ids");
    for (int i = 0; i < 2; i++)
        check_str(r->highlight[i], 1, SDX_PROTO_MARK_MAX, "highlight");
    if (r->k < SDX_PROTO_K_MIN || r->k > SDX_PROTO_K_MAX)
        broken("k out of range");
    if (r->max_chars < SDX_PROTO_CHARS_MIN ||
        r->max_chars > SDX_PROTO_CHARS_MAX)
        broken("max_chars out of range");
    if (r->syntax && strcmp(r->syntax, "plain") != 0 &&
        strcmp(r->syntax, "query") != 0)
        broken("syntax neither plain nor query");
    if (!(r->min_score >= 0 && r->min_score <= 1))
        broken("min_score out of range 0..1");
    if (r->text)
        check_str(r->text, 1, SDX_PROTO_TEXT_MAX, "text");
    if (r->clause)
        check_str(r->clause, 1, SDX_PROTO_STR_MAX, "clause");
    check_list(&r->exclude, SDX_PROTO_LIST_MAX, "exclude");
    if (r->level > SDX_PROTO_LEVEL_MAX ||
        (r->op == SDX_OP_GAPS && r->level < SDX_PROTO_LEVEL_MIN))
        broken("level out of range");
}

/*
 * Check that REQ packs (sdx_request_pack) into a frame that decodes
 * without error and packs again into the same bytes: the decoder and
 * the packer read one table.
 */
static void
check_round_trip(const sdx_request_t *req)
{
    msgpack_sbuffer a, b;
    msgpack_packer pk;
    sdx_request_t again;
    sdx_proto_error_t err;
    msgpack_sbuffer_init(&a);
    msgpack_sbuffer_init(&b);
    msgpack_packer_init(&pk, &a, msgpack_sbuffer_write);
    sdx_request_pack(req, true, &pk);
    if (sdx_request_decode(a.data, a.size, &again, &err) != SDX_E_NONE)
        broken("a packed request does not decode");
    msgpack_packer_init(&pk, &b, msgpack_sbuffer_write);
    sdx_request_pack(&again, true, &pk);
    if (a.size != b.size || memcmp(a.data, b.data, a.size) != 0)
        broken("a request packed, decoded and packed again changed");
    sdx_request_clear(&again);
    msgpack_sbuffer_destroy(&a);
    msgpack_sbuffer_destroy(&b);
}

/* An ok body echoing the request, as a handler would build one. */
static void
build_body(sdx_body_t *b, const sdx_request_t *r)
{
    sdx_body_key(b, "request");
    sdx_request_pack(r, false, &b->pk);
}

/*
 * Check that REPLY is exactly one msgpack map and, when ID is set, that
 * its "id" value is ID's bytes.
 */
static void
check_reply(const void *reply, size_t len, const void *id, size_t id_len)
{
    msgpack_unpacked msg;
    size_t off = 0;
    msgpack_unpacked_init(&msg);
    if (msgpack_unpack_next(&msg, reply, len, &off) !=
            MSGPACK_UNPACK_SUCCESS ||
        off != len || msg.data.type != MSGPACK_OBJECT_MAP)
        broken("a reply is not exactly one msgpack map");
    if (id) {
        const msgpack_object_map *m = &msg.data.via.map;
        bool found = false;
        for (uint32_t i = 0; i < m->size; i++) {
            const msgpack_object *k = &m->ptr[i].key;
            if (k->type != MSGPACK_OBJECT_STR || k->via.str.size != 2 ||
                memcmp(k->via.str.ptr, "id", 2) != 0)
                continue;
            msgpack_sbuffer sb;
            msgpack_packer pk;
            msgpack_sbuffer_init(&sb);
            msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
            msgpack_pack_object(&pk, m->ptr[i].val);
            found = sb.size == id_len && memcmp(sb.data, id, id_len) == 0;
            msgpack_sbuffer_destroy(&sb);
        }
        if (!found)
            broken("a reply does not echo the id");
    }
    msgpack_unpacked_destroy(&msg);
}

/* Extend the frame's map by one pair, as the daemon does for clauses. */
static void
check_extend(const uint8_t *data, size_t size)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    if (sdx_proto_pack_map_extend(&pk, data, size, 1) == 0) {
        sdx_msgpack_pack_str(&pk, "rank");
        msgpack_pack_int(&pk, 1);
        check_reply(sb.data, sb.size, NULL, 0);
    } else if (sb.size != 0) {
        broken("pack_map_extend packed something and failed");
    }
    msgpack_sbuffer_destroy(&sb);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sdx_request_t req;
    sdx_proto_error_t err;
    void *reply = NULL;
    size_t reply_len = 0;

    sdx_errcode_t code = sdx_request_decode(data, size, &req, &err);
    if (code != err.code || (unsigned)code >= SDX_E_LAST)
        broken("returned code and err->code differ");
    if (code == SDX_E_NONE) {
        check_request(&req);
        check_round_trip(&req);
        sdx_body_t body;
        sdx_body_init(&body);
        build_body(&body, &req);
        if (sdx_reply_ok(req.id, req.id_len, TOOK_US, &body, &reply,
                         &reply_len) != SDX_OK)
            broken("sdx_reply_ok failed");
        sdx_body_clear(&body);
    } else {
        size_t n = strnlen(err.message, sizeof err.message);
        if (n == 0 || n == sizeof err.message ||
            !sdx_utf8_valid(err.message, n, NULL))
            broken("error message empty, unterminated or not UTF-8");
        if (sdx_reply_error(req.id, req.id_len, TOOK_US, code, err.message,
                            &reply, &reply_len) != SDX_OK)
            broken("sdx_reply_error failed");
    }
    check_reply(reply, reply_len, req.id, req.id_len);
    free(reply);

    /* the broker's shortcut must agree with the decoder about the id */
    void *id = NULL;
    size_t id_len = 0;
    if (sdx_proto_peek_id(data, size, &id, &id_len) != 0)
        broken("sdx_proto_peek_id ran out of memory");
    if (req.id && (!id || id_len != req.id_len ||
                   memcmp(id, req.id, id_len) != 0))
        broken("peek_id and the decoder disagree about the id");
    free(id);
    sdx_request_clear(&req);

    check_extend(data, size);
    return 0;
}
