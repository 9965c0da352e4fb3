/*
 * sdx_proto: the wire protocol, version 1 (docs/PROTOCOL.md), in one
 * place.  Requests come in as one msgpack map per frame and are decoded
 * here into a typed sdx_request_t with every check the contract asks for
 * (types, ranges, unknown keys, UTF-8), so the daemon's handlers only
 * ever see valid requests.  Replies are assembled here too, so every
 * reply carries the same envelope keys (v, id, ok, took_us, error).
 *
 * Nothing here touches ZeroMQ or Xapian: the frame-splitting rule and the
 * endpoint policy are plain functions over sizes and strings, so they are
 * tested without a socket (tests/unit/test_proto.c).
 *
 * Outside input is never trusted: a frame is scanned with explicit bounds
 * (nesting depth, element counts against the bytes that follow) before
 * msgpack-c allocates anything for it, so a small frame cannot make the
 * decoder allocate much more than a small multiple of its size.
 */
#ifndef SDX_PROTO_H
#define SDX_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "sdx_msgpack.h"
#include "sdx_status.h"

/* ---------------------------------------------------------------- */
/* Limits of protocol version 1                                     */
/* ---------------------------------------------------------------- */

#define SDX_PROTO_VERSION 1          /* the `v` this code speaks */
#define SDX_PROTO_MAX_FRAME 65536    /* request frame, bytes */
#define SDX_PROTO_MAX_FRAMES 8       /* frames a client sends in one
                                        message, envelope included (REQ
                                        clients send 2); the ROUTER's
                                        identity frame is not counted */
#define SDX_PROTO_MAX_ENVELOPE 1024  /* bytes of the client's envelope
                                        frames (identity not counted) */
#define SDX_PROTO_MAX_DEPTH 16       /* msgpack nesting, levels */
#define SDX_PROTO_MAX_KEYS 32        /* keys in a request map */
#define SDX_PROTO_Q_MAX 1024         /* q, bytes (at least 1) */
#define SDX_PROTO_OFFSET_MAX 10000   /* search offset, hits */
#define SDX_PROTO_LIMIT_MAX 100      /* search limit, hits */
#define SDX_PROTO_LIMIT_DEFAULT 10   /* search limit when not given */
#define SDX_PROTO_LEVEL_MIN 1        /* lowest level in a filter */
#define SDX_PROTO_LEVEL_MAX 5        /* highest level in a filter */
#define SDX_PROTO_LIST_MAX 64        /* entries of levels/sections/rows/
                                        codes */
#define SDX_PROTO_IDS_MAX 100        /* entries of get's ids */
#define SDX_PROTO_STR_MAX 256        /* an id, row, code or series, bytes */
#define SDX_PROTO_MARK_MAX 64        /* a highlight marker, bytes (>= 1) */
#define SDX_PROTO_K_MIN 1            /* context k, passages */
#define SDX_PROTO_K_MAX 20
#define SDX_PROTO_K_DEFAULT 5
#define SDX_PROTO_CHARS_MIN 200      /* context max_chars, characters */
#define SDX_PROTO_CHARS_MAX 20000
#define SDX_PROTO_CHARS_DEFAULT 4000
#define SDX_PROTO_MIN_SCORE_DEFAULT 0.4 /* context min_score: a share of
                                        the best passage's score
                                        (docs/RELEVANCE.md) */
#define SDX_PROTO_TEXT_MAX 8192     /* fit, verify, gaps: text, bytes */
#define SDX_PROTO_MSG_MAX 256        /* an error message, bytes with NUL */

/* ---------------------------------------------------------------- */
/* Error codes and operations                                       */
/* ---------------------------------------------------------------- */

/* The error codes of the contract; SDX_E_NONE is success. */
typedef enum sdx_errcode {
    SDX_E_NONE = 0,            /* no error */
    SDX_E_BAD_REQUEST,         /* "bad_request" */
    SDX_E_UNSUPPORTED_VERSION, /* "unsupported_version" */
    SDX_E_UNKNOWN_OP,          /* "unknown_op" */
    SDX_E_BAD_QUERY,           /* "bad_query" */
    SDX_E_TOO_LARGE,           /* "too_large" */
    SDX_E_OVERLOADED,          /* "overloaded" */
    SDX_E_UNAVAILABLE,         /* "unavailable" */
    SDX_E_INTERNAL,            /* "internal" */
    SDX_E_LAST                 /* not a code: the number of codes */
} sdx_errcode_t;

/*
 * The wire string of CODE ("bad_request"); "internal" for a value
 * outside the enum, "" for SDX_E_NONE.  Static, never NULL.
 */
const char *sdx_errcode_str(sdx_errcode_t code);

/* An error code with the message a person reads. */
typedef struct sdx_proto_error {
    sdx_errcode_t code;              /* SDX_E_NONE when all went well */
    char message[SDX_PROTO_MSG_MAX]; /* "limit: 0 is out of range 1..100" */
} sdx_proto_error_t;

/* The operations of the contract. */
typedef enum sdx_op {
    SDX_OP_PING = 0,
    SDX_OP_SEARCH,
    SDX_OP_LADDER,
    SDX_OP_ROW,
    SDX_OP_GET,
    SDX_OP_CONTEXT,
    SDX_OP_SUGGEST,
    SDX_OP_STATS,
    SDX_OP_FIT,
    SDX_OP_DIFF,
    SDX_OP_FIRST,
    SDX_OP_VERIFY,
    SDX_OP_GAPS,
    SDX_OP_LAST                /* not an op: the number of ops */
} sdx_op_t;

/* The wire name of OP ("search"); "" outside the enum.  Static. */
const char *sdx_op_name(sdx_op_t op);

/* ---------------------------------------------------------------- */
/* Requests                                                         */
/* ---------------------------------------------------------------- */

/* A list of NUL-terminated UTF-8 strings, each owned by the list. */
typedef struct sdx_strlist {
    char **v;                  /* the strings */
    size_t n;                  /* how many */
} sdx_strlist_t;

/*
 * One request.  Keys an op does not take keep their defaults; lists not
 * given are empty (n == 0, meaning "all").  A decoded request
 * (sdx_request_decode) owns every pointer: sdx_request_clear() frees
 * them.  A request made with sdx_request_init() to be packed borrows
 * whatever its maker puts in it and is never cleared.
 *
 * Each key of the wire is described once, in lib/sdx_proto.c's key
 * table (name, type, limits, default, member, the ops that take it):
 * the decoder, the packer and the canonical form that keys the daemon's
 * cache are all driven by it.
 */
typedef struct sdx_request {
    sdx_op_t op;               /* the operation */
    void *id;                  /* the `id` value as msgpack, to echo;
                                  NULL when the request had none */
    size_t id_len;             /* bytes of ID */
    char *q;                   /* search/ladder/context/suggest query */
    unsigned offset;           /* search: first hit, 0-based */
    unsigned limit;            /* search: hits at most */
    int levels[SDX_PROTO_LIST_MAX]; /* filter: levels 1..5 */
    size_t nlevels;            /* entries of LEVELS; 0: all */
    sdx_strlist_t sections;    /* filter: section kinds */
    sdx_strlist_t rows;        /* filter: row labels as given */
    sdx_strlist_t codes;       /* filter: job codes */
    bool snippet;              /* search: add snippets (default true) */
    char *highlight[2];        /* snippet markers (default <mark>) */
    bool facets;               /* search: add facets */
    bool group;                /* search: merge identical rows */
    sdx_strlist_t ids;         /* get: clause ids */
    unsigned k;                /* context: passages */
    unsigned max_chars;        /* context: characters of text in all */
    char *row;                 /* row: the row label */
    char *series;              /* row: the series, NULL when not given */
    char *syntax;              /* search, context: how q reads, "plain"
                                  or "query"; NULL when it is the op's
                                  own (sdx_request_plain) */
    double min_score;          /* context: passages under this share of
                                  the best passage's score are left out,
                                  0..1 */
    char *text;                /* fit, gaps: a description or draft;
                                  verify: the quoted span */
    unsigned level;            /* gaps: the intended level, 1..5 */
    char *clause;              /* verify: the clause id cited, or NULL */
    sdx_strlist_t exclude;     /* fit: clause ids left out of the match */
} sdx_request_t;

/*
 * True when REQ's q is plain words (a question: no operators, no
 * fields), false when it is the query language: `syntax` when given,
 * else the op's own (context: plain; search and the rest: query).
 */
bool sdx_request_plain(const sdx_request_t *req);

/*
 * Decode the request frame BUF (LEN bytes) into *REQ, which needs no
 * initialisation and must be released with sdx_request_clear() whatever
 * the result.  On failure ERR holds the code and message and *REQ may be
 * partly filled: its id is set when the frame was a well-formed map
 * with an `id`, so an error reply can still echo it, and its op is the
 * op named (SDX_OP_LAST until a known `op` was read), so a refused
 * request is counted under the op it asked for.
 * Returns ERR->code: SDX_E_NONE, SDX_E_BAD_REQUEST (not msgpack, trailing
 * bytes, not a map, missing / ill-typed / unknown key, out of range,
 * invalid UTF-8), SDX_E_UNSUPPORTED_VERSION, SDX_E_UNKNOWN_OP,
 * SDX_E_TOO_LARGE (LEN > SDX_PROTO_MAX_FRAME), SDX_E_INTERNAL (out of
 * memory).
 */
sdx_errcode_t sdx_request_decode(const void *buf, size_t len,
                                 sdx_request_t *req, sdx_proto_error_t *err);

/* Free what *REQ holds and zero it.  Idempotent. */
void sdx_request_clear(sdx_request_t *req);

/*
 * Set *REQ to a request of OP with every key at its default and nothing
 * allocated (HIGHLIGHT NULL, meaning the default markers): to be filled
 * with borrowed values and packed, never cleared.
 */
void sdx_request_init(sdx_request_t *req, sdx_op_t op);

/*
 * Pack REQ as the request frame a client sends: {v, op, id (when
 * WITH_ID and REQ has one), then each key OP takes whose value is not
 * its default, in the key table's order}.  Requests that decode alike
 * pack alike, whatever order or defaults their frames spelled out, so
 * without the id this is also REQ's canonical form (the daemon's cache
 * key); decoding what it packs gives REQ back.
 */
void sdx_request_pack(const sdx_request_t *req, bool with_id,
                      msgpack_packer *pk);

/*
 * The keys op OP takes besides v, op and id, in packing order: the
 * first SIZE names into NAMES (static).  Returns how many there are.
 */
size_t sdx_proto_op_keys(sdx_op_t op, const char **names, size_t size);

/*
 * Find the `id` of a frame without decoding the rest (for replies the
 * broker makes itself, such as `overloaded`).  On success *id is a
 * malloc'd copy of its msgpack (caller frees) and *id_len its size; when
 * the frame is not a valid map or has no id, *id is NULL.  Returns 0, or
 * -1 when out of memory.
 */
int sdx_proto_peek_id(const void *buf, size_t len, void **id,
                      size_t *id_len);

/* ---------------------------------------------------------------- */
/* Replies                                                          */
/* ---------------------------------------------------------------- */

/*
 * The op-specific part of a reply, built by a handler: key/value pairs
 * packed into a buffer while they are counted, because a msgpack map
 * states its size up front.  Pack a key with sdx_body_key(), then
 * exactly one value with the packer PK.  An allocation failure is
 * remembered in FAILED and turns the reply into `internal`.  The struct
 * must not move between sdx_body_init() and sdx_body_clear().
 */
typedef struct sdx_body {
    msgpack_sbuffer sb;        /* the packed pairs */
    msgpack_packer pk;         /* packs into SB; use it for values */
    unsigned nkeys;            /* pairs packed so far */
    bool failed;               /* a write ran out of memory */
} sdx_body_t;

/* Start an empty body at B. */
void sdx_body_init(sdx_body_t *b);

/* Free what B holds and start it empty again.  Idempotent. */
void sdx_body_clear(sdx_body_t *b);

/* Pack KEY (a NUL-terminated str) as the next key of B. */
void sdx_body_key(sdx_body_t *b, const char *key);

/*
 * Pack the msgpack map at MAP (LEN bytes, exactly one valid map, such as
 * a clause record from the index) with its header enlarged by EXTRA, so
 * the caller can pack EXTRA more key/value pairs into it right after.
 * Nothing is packed on failure.  Returns 0, or -1 when MAP is not
 * exactly one valid msgpack map.
 */
int sdx_proto_pack_map_extend(msgpack_packer *pk, const void *map,
                              size_t len, unsigned extra);

/*
 * Assemble the reply {v: 1, id (when ID is not NULL), ok: true, took_us,
 * BODY's pairs} into *out (malloc'd, caller frees) and *out_len.
 * ID/ID_LEN are the request's id as msgpack (sdx_request_t.id).  When
 * BODY->failed, the reply is an `internal` error instead.  Returns SDX_OK
 * or SDX_NOMEM (*out NULL).
 */
sdx_status_t sdx_reply_ok(const void *id, size_t id_len, uint64_t took_us,
                          const sdx_body_t *body, void **out,
                          size_t *out_len);

/*
 * Assemble the error reply {v: 1, id, ok: false, took_us, error: {code,
 * message}} into *out (malloc'd, caller frees) and *out_len.  MESSAGE
 * must be valid UTF-8 (every message made here is).  Returns SDX_OK or
 * SDX_NOMEM (*out NULL).
 */
sdx_status_t sdx_reply_error(const void *id, size_t id_len,
                             uint64_t took_us, sdx_errcode_t code,
                             const char *message, void **out,
                             size_t *out_len);

/* ---------------------------------------------------------------- */
/* Transport policy                                                 */
/* ---------------------------------------------------------------- */

/*
 * How a message from the ROUTER socket splits: its envelope is every
 * frame before the last, its body the last.  This serves REQ clients
 * ([identity][""][body]) and DEALER clients alike, with or without the
 * empty delimiter; the reply is the envelope followed by one frame.
 */
typedef struct sdx_split {
    size_t nenv;               /* leading frames to echo in the reply */
    sdx_errcode_t code;        /* SDX_E_NONE: the last frame is the body;
                                  else reply this error at once */
    char message[SDX_PROTO_MSG_MAX]; /* what was wrong, for CODE */
} sdx_split_t;

/*
 * Decide how a message of NFRAMES frames (at least 1; the first is the
 * ROUTER's identity) with sizes SIZES[0..NFRAMES-1] splits.  The limits
 * count what the client sent, so the identity is left out of both.  A
 * caller that stopped storing frames may pass NFRAMES =
 * SDX_PROTO_MAX_FRAMES + 2 for "more than allowed".  Errors: a body over
 * SDX_PROTO_MAX_FRAME bytes is `too_large`; a message with no body, more
 * than SDX_PROTO_MAX_FRAMES client frames or more than
 * SDX_PROTO_MAX_ENVELOPE bytes of client envelope is `bad_request`, answered to the identity and (when the
 * second frame is empty) the delimiter only.
 */
void sdx_proto_split(const size_t *sizes, size_t nframes, sdx_split_t *out);

/*
 * True when ZeroMQ endpoint EP stays on this machine: ipc://, inproc://,
 * or tcp:// on 127.0.0.0/8, [::1] / ::1 or localhost.  specdexd refuses
 * anything else unless CURVE is on or --insecure-bind is given.
 */
bool sdx_proto_endpoint_is_local(const char *ep);


#endif /* SDX_PROTO_H */
