/*
 * sdx_proto: decoding and validation of request frames, assembly of
 * reply frames, and the transport rules (frame split, endpoint policy).
 *
 * A frame goes through three steps.  First a bounded scan (s_scan) walks
 * the raw bytes: it rejects bad msgpack, nesting deeper than
 * SDX_PROTO_MAX_DEPTH, and any array or map that declares more elements
 * than there are bytes left, so msgpack-c, which allocates an element
 * table before it reads the elements, never sees a lie about sizes.
 * Then msgpack-c unpacks it.  Then each key of the map is looked up in
 * one table (key_defs: name, type, limits, member) and checked against
 * the op's own set of keys (op_defs).  The same tables pack a request
 * (sdx_request_pack), for the client and for the daemon's cache key.
 * Every failure writes the message a person reads; the messages quote
 * outside text only through s_quote, which escapes it to ASCII.
 */
#include "sdx_proto.h"

#include <arpa/inet.h>
#include <assert.h>
#include <ctype.h>
#include <sys/socket.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdx_clause.h"
#include "sdx_utf8.h"

/* ---------------------------------------------------------------- */
/* Names                                                            */
/* ---------------------------------------------------------------- */

static const char *const errcode_names[SDX_E_LAST] = {
    [SDX_E_NONE] = "",
    [SDX_E_BAD_REQUEST] = "bad_request",
    [SDX_E_UNSUPPORTED_VERSION] = "unsupported_version",
    [SDX_E_UNKNOWN_OP] = "unknown_op",
    [SDX_E_BAD_QUERY] = "bad_query",
    [SDX_E_TOO_LARGE] = "too_large",
    [SDX_E_OVERLOADED] = "overloaded",
    [SDX_E_UNAVAILABLE] = "unavailable",
    [SDX_E_INTERNAL] = "internal",
};

const char *
sdx_errcode_str(sdx_errcode_t code)
{
    if ((unsigned)code >= SDX_E_LAST)
        return "internal";
    return errcode_names[code];
}

static const char *const op_names[SDX_OP_LAST] = {
    [SDX_OP_PING] = "ping",
    [SDX_OP_SEARCH] = "search",
    [SDX_OP_LADDER] = "ladder",
    [SDX_OP_ROW] = "row",
    [SDX_OP_GET] = "get",
    [SDX_OP_CONTEXT] = "context",
    [SDX_OP_SUGGEST] = "suggest",
    [SDX_OP_STATS] = "stats",
    [SDX_OP_FIT] = "fit",
    [SDX_OP_DIFF] = "diff",
    [SDX_OP_FIRST] = "first",
    [SDX_OP_VERIFY] = "verify",
    [SDX_OP_GAPS] = "gaps",
};

const char *
sdx_op_name(sdx_op_t op)
{
    if ((unsigned)op >= SDX_OP_LAST)
        return "";
    return op_names[op];
}

/* ---------------------------------------------------------------- */
/* Error messages                                                   */
/* ---------------------------------------------------------------- */

/* Set ERR to CODE and a printf-formatted message; returns CODE. */
__attribute__((format(printf, 3, 4))) static sdx_errcode_t
s_fail(sdx_proto_error_t *err, sdx_errcode_t code, const char *fmt, ...)
{
    va_list ap;
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return code;
}

/*
 * Copy outside text S (LEN bytes) into OUT as printable ASCII: other
 * bytes become \xNN, and text past QUOTE_MAX bytes becomes "...".  The
 * result is safe in a log line and valid UTF-8 in a reply.
 */
#define QUOTE_MAX 48  /* bytes of outside text quoted in a message */
#define QUOTE_SIZE (QUOTE_MAX * 4 + 4) /* worst case of s_quote */

static const char *
s_quote(const char *s, size_t len, char out[QUOTE_SIZE])
{
    size_t n = 0;
    for (size_t i = 0; i < len && i < QUOTE_MAX; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
            out[n++] = (char)c;
        else
            n += (size_t)snprintf(out + n, 5, "\\x%02x", c);
    }
    if (len > QUOTE_MAX) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
    return out;
}

/* The contract's name for the type of O, for "expected int, got str". */
static const char *
s_type_name(const msgpack_object *o)
{
    switch (o->type) {
    case MSGPACK_OBJECT_NIL:              return "nil";
    case MSGPACK_OBJECT_BOOLEAN:          return "bool";
    case MSGPACK_OBJECT_POSITIVE_INTEGER: return "int";
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: return "int";
    case MSGPACK_OBJECT_FLOAT32:          return "float";
    case MSGPACK_OBJECT_FLOAT64:          return "float";
    case MSGPACK_OBJECT_STR:              return "str";
    case MSGPACK_OBJECT_ARRAY:            return "array";
    case MSGPACK_OBJECT_MAP:              return "map";
    case MSGPACK_OBJECT_BIN:              return "bin";
    case MSGPACK_OBJECT_EXT:              return "ext";
    }
    return "unknown";
}

/* ---------------------------------------------------------------- */
/* UTF-8                                                            */
/* ---------------------------------------------------------------- */

/* ---------------------------------------------------------------- */
/* The bounded scan                                                 */
/* ---------------------------------------------------------------- */

/* A walk over raw msgpack bytes. */
typedef struct scan {
    const unsigned char *p;    /* the frame */
    size_t len;                /* its size, bytes */
    size_t off;                /* next byte to read */
} scan_t;

/* Read an N-byte big-endian length at the cursor; -1 when truncated. */
static int
s_read_be(scan_t *s, size_t n, uint64_t *value)
{
    if (s->len - s->off < n)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | s->p[s->off + i];
    s->off += n;
    *value = v;
    return 0;
}

/*
 * Step over one msgpack object at the cursor, at nesting DEPTH.  Checks
 * every length against the bytes left before going on.  Returns 0, or
 * -1 with ERR set (bad_request).
 */
static int
s_scan(scan_t *s, unsigned depth, sdx_proto_error_t *err)
{
    static const unsigned char fixed[32] = {
        /* extra bytes after the type byte for 0xc0..0xdf; 0xff marks a
           type whose size is read from the frame */
        [0x00] = 0, [0x01] = 0xff, [0x02] = 0, [0x03] = 0,
        [0x04] = 0xff, [0x05] = 0xff, [0x06] = 0xff,
        [0x07] = 0xff, [0x08] = 0xff, [0x09] = 0xff,
        [0x0a] = 4, [0x0b] = 8,
        [0x0c] = 1, [0x0d] = 2, [0x0e] = 4, [0x0f] = 8,
        [0x10] = 1, [0x11] = 2, [0x12] = 4, [0x13] = 8,
        [0x14] = 2, [0x15] = 3, [0x16] = 5, [0x17] = 9, [0x18] = 17,
        [0x19] = 0xff, [0x1a] = 0xff, [0x1b] = 0xff,
        [0x1c] = 0xff, [0x1d] = 0xff, [0x1e] = 0xff, [0x1f] = 0xff,
    };
    uint64_t count = 0;   /* child objects */
    uint64_t body = 0;    /* raw bytes */
    uint64_t n;
    size_t start = s->off;

    if (depth > SDX_PROTO_MAX_DEPTH) {
        s_fail(err, SDX_E_BAD_REQUEST,
               "msgpack nested deeper than %d levels", SDX_PROTO_MAX_DEPTH);
        return -1;
    }
    if (s->off >= s->len)
        goto truncated;
    unsigned char b = s->p[s->off++];
    if (b <= 0x7f || b >= 0xe0)
        return 0;
    if (b <= 0x8f) {
        count = 2u * (b & 0x0f);
    } else if (b <= 0x9f) {
        count = b & 0x0f;
    } else if (b <= 0xbf) {
        body = b & 0x1f;
    } else if (fixed[b - 0xc0] != 0xff) {
        body = fixed[b - 0xc0];
    } else {
        switch (b) {
        case 0xc1:
            s_fail(err, SDX_E_BAD_REQUEST,
                   "not msgpack: invalid byte 0xc1 at offset %zu", start);
            return -1;
        case 0xc4: case 0xd9:
            if (s_read_be(s, 1, &body)) goto truncated;
            break;
        case 0xc5: case 0xda:
            if (s_read_be(s, 2, &body)) goto truncated;
            break;
        case 0xc6: case 0xdb:
            if (s_read_be(s, 4, &body)) goto truncated;
            break;
        case 0xc7:
            if (s_read_be(s, 1, &body)) goto truncated;
            body += 1;
            break;
        case 0xc8:
            if (s_read_be(s, 2, &body)) goto truncated;
            body += 1;
            break;
        case 0xc9:
            if (s_read_be(s, 4, &body)) goto truncated;
            body += 1;
            break;
        case 0xdc:
            if (s_read_be(s, 2, &count)) goto truncated;
            break;
        case 0xdd:
            if (s_read_be(s, 4, &count)) goto truncated;
            break;
        case 0xde:
            if (s_read_be(s, 2, &n)) goto truncated;
            count = 2 * n;
            break;
        case 0xdf:
            if (s_read_be(s, 4, &n)) goto truncated;
            count = 2 * n;
            break;
        default:
            goto truncated; /* not reached: the table covers the rest */
        }
    }
    if (body > s->len - s->off)
        goto truncated;
    s->off += (size_t)body;
    /* Every child takes at least one byte: a count beyond the bytes
       left is a lie, refused before anyone allocates for it. */
    if (count > s->len - s->off) {
        s_fail(err, SDX_E_BAD_REQUEST,
               "not msgpack: the %s at offset %zu declares %llu elements "
               "but only %zu bytes follow",
               (b & 0xf0) == 0x80 || b == 0xde || b == 0xdf ? "map"
                                                              : "array",
               start,
               (unsigned long long)((b & 0xf0) == 0x80 || b == 0xde ||
                                            b == 0xdf
                                        ? count / 2
                                        : count),
               s->len - s->off);
        return -1;
    }
    for (uint64_t i = 0; i < count; i++)
        if (s_scan(s, depth + 1, err))
            return -1;
    return 0;
truncated:
    s_fail(err, SDX_E_BAD_REQUEST,
           "not msgpack: truncated (object at offset %zu runs past the "
           "end of the %zu-byte frame)", start, s->len);
    return -1;
}

/*
 * Scan BUF as exactly one msgpack object.  Returns 0, or -1 with ERR set
 * for bad msgpack or trailing bytes.
 */
static int
s_scan_one(const void *buf, size_t len, sdx_proto_error_t *err)
{
    scan_t s = {.p = buf, .len = len, .off = 0};
    if (len == 0) {
        s_fail(err, SDX_E_BAD_REQUEST,
               "empty frame: expected one msgpack map");
        return -1;
    }
    if (s_scan(&s, 0, err))
        return -1;
    if (s.off != len) {
        s_fail(err, SDX_E_BAD_REQUEST,
               "trailing garbage: the msgpack object ends at offset %zu of "
               "%zu bytes", s.off, len);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- */
/* Value decoders                                                   */
/* ---------------------------------------------------------------- */

/* Write "name" or "name[i]" for messages about list entries. */
static const char *
s_path(char *out, size_t size, const char *key, long index)
{
    if (index < 0)
        snprintf(out, size, "%s", key);
    else
        snprintf(out, size, "%s[%ld]", key, index);
    return out;
}

#define PATH_SIZE 48 /* "sections[63]" and the like, bytes */

/*
 * Check O is an int within MIN..MAX and store it.  KEY and INDEX (-1 for
 * none) name it in the message.
 */
static int
s_int(const msgpack_object *o, const char *key, long index, int64_t min,
      int64_t max, int64_t *value, sdx_proto_error_t *err)
{
    char path[PATH_SIZE];
    s_path(path, sizeof path, key, index);
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        if (o->via.u64 > (uint64_t)max) {
            s_fail(err, SDX_E_BAD_REQUEST,
                   "%s: %llu is out of range %lld..%lld", path,
                   (unsigned long long)o->via.u64, (long long)min,
                   (long long)max);
            return -1;
        }
        *value = (int64_t)o->via.u64;
    } else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        *value = o->via.i64;
    } else {
        s_fail(err, SDX_E_BAD_REQUEST, "%s: expected int, got %s", path,
               s_type_name(o));
        return -1;
    }
    if (*value < min || *value > max) {
        s_fail(err, SDX_E_BAD_REQUEST, "%s: %lld is out of range %lld..%lld",
               path, (long long)*value, (long long)min, (long long)max);
        return -1;
    }
    return 0;
}

/* Check O is a bool and store it. */
static int
s_bool(const msgpack_object *o, const char *key, bool *value,
       sdx_proto_error_t *err)
{
    if (o->type != MSGPACK_OBJECT_BOOLEAN) {
        s_fail(err, SDX_E_BAD_REQUEST, "%s: expected bool, got %s", key,
               s_type_name(o));
        return -1;
    }
    *value = o->via.boolean;
    return 0;
}

/*
 * Check O is a str of MIN..MAX bytes of UTF-8 without NUL, and store a
 * NUL-terminated copy in *value (freeing an old one).
 */
static int
s_str(const msgpack_object *o, const char *key, long index, size_t min,
      size_t max, char **value, sdx_proto_error_t *err)
{
    char path[PATH_SIZE];
    size_t bad;
    s_path(path, sizeof path, key, index);
    if (o->type != MSGPACK_OBJECT_STR) {
        s_fail(err, SDX_E_BAD_REQUEST, "%s: expected str, got %s", path,
               s_type_name(o));
        return -1;
    }
    size_t len = o->via.str.size;
    if (len < min || len > max) {
        s_fail(err, SDX_E_BAD_REQUEST,
               "%s: length %zu is out of range %zu..%zu bytes", path, len,
               min, max);
        return -1;
    }
    if (!sdx_utf8_valid(o->via.str.ptr, len, &bad)) {
        s_fail(err, SDX_E_BAD_REQUEST, "%s: not valid UTF-8 (byte %zu)",
               path, bad);
        return -1;
    }
    if (memchr(o->via.str.ptr, '\0', len)) {
        s_fail(err, SDX_E_BAD_REQUEST, "%s: contains a NUL byte", path);
        return -1;
    }
    char *copy = malloc(len + 1);
    if (!copy) {
        s_fail(err, SDX_E_INTERNAL, "out of memory");
        return -1;
    }
    memcpy(copy, o->via.str.ptr, len);
    copy[len] = '\0';
    free(*value);
    *value = copy;
    return 0;
}

/*
 * Check O is an array of 1..MAX entries and return its size, or -1 with
 * ERR set.  Done before anything is allocated for the entries.
 */
static long
s_array(const msgpack_object *o, const char *key, size_t max,
        sdx_proto_error_t *err)
{
    if (o->type != MSGPACK_OBJECT_ARRAY) {
        s_fail(err, SDX_E_BAD_REQUEST, "%s: expected array, got %s", key,
               s_type_name(o));
        return -1;
    }
    if (o->via.array.size == 0 || o->via.array.size > max) {
        s_fail(err, SDX_E_BAD_REQUEST,
               "%s: %u entries, expected 1..%zu%s", key,
               o->via.array.size, max,
               o->via.array.size == 0 ? " (leave the key out for all)"
                                      : "");
        return -1;
    }
    return (long)o->via.array.size;
}

/* Fill LIST from an array of strings of 1..MAX_LEN bytes each. */
static int
s_strlist(const msgpack_object *o, const char *key, size_t max_entries,
          size_t max_len, sdx_strlist_t *list, sdx_proto_error_t *err)
{
    long n = s_array(o, key, max_entries, err);
    if (n < 0)
        return -1;
    for (long i = 0; i < n; i++) {
        /* type and length first, so a bad entry allocates nothing */
        const msgpack_object *e = &o->via.array.ptr[i];
        if (e->type != MSGPACK_OBJECT_STR) {
            s_fail(err, SDX_E_BAD_REQUEST, "%s[%ld]: expected str, got %s",
                   key, i, s_type_name(e));
            return -1;
        }
    }
    list->v = calloc((size_t)n, sizeof *list->v);
    if (!list->v) {
        s_fail(err, SDX_E_INTERNAL, "out of memory");
        return -1;
    }
    list->n = (size_t)n;
    for (long i = 0; i < n; i++)
        if (s_str(&o->via.array.ptr[i], key, i, 1, max_len, &list->v[i],
                  err))
            return -1;
    return 0;
}

/* Free the strings of LIST and empty it. */
static void
s_strlist_clear(sdx_strlist_t *list)
{
    for (size_t i = 0; i < list->n; i++)
        free(list->v[i]);
    free(list->v);
    list->v = NULL;
    list->n = 0;
}

/* ---------------------------------------------------------------- */
/* The request's keys: one table to decode, pack and key them       */
/* ---------------------------------------------------------------- */

/*
 * Every key of any request, the envelope's (v, op, id) first, then in
 * the order sdx_request_pack writes them.  A new request key is one
 * entry here, one in the table below, the member of sdx_request_t it
 * fills and the ops that take it (op_defs): the decoder, the packer
 * (the client's requests) and the canonical form (the daemon's cache
 * key) all read the table, so none of them can miss it.
 */
enum key_id {
    K_V, K_OP, K_ID, K_Q, K_OFFSET, K_LIMIT, K_LEVELS, K_SECTIONS, K_ROWS,
    K_CODES, K_HIGHLIGHT, K_SNIPPET, K_GROUP, K_FACETS, K_IDS, K_K,
    K_MAX_CHARS, K_ROW, K_SERIES, K_SYNTAX, K_MIN_SCORE,
    K_TEXT,
    K_LEVEL,
    K_CLAUSE,
    K_EXCLUDE,
    K_COUNT
};

#define BIT(k) (1u << (k))
#define ENVELOPE_KEYS (BIT(K_V) | BIT(K_OP) | BIT(K_ID))

/* What a key's value is, and so how it is decoded and packed. */
typedef enum kind {
    KIND_ENVELOPE,             /* v, op, id: read by s_envelope */
    KIND_STR,                  /* char *: a str of MIN..MAX bytes;
                                  NULL when not given */
    KIND_UINT,                 /* unsigned: an int in MIN..MAX */
    KIND_BOOL,                 /* bool */
    KIND_STRLIST,              /* sdx_strlist_t: 1..ENTRIES str of
                                  1..MAX bytes each */
    KIND_LEVELS,               /* int[] at OFF, its count (size_t) at
                                  OFF_N: 1..ENTRIES ints in MIN..MAX */
    KIND_MARKS,                /* char *[2]: exactly 2 str of 1..MAX
                                  bytes (open, close) */
    KIND_SHARE,                /* double: a float (or the int 0 or 1)
                                  in MIN..MAX */
} kind_t;

/* Checks a key's value needs beyond its kind's (sections' names). */
typedef int (*check_fn)(const sdx_request_t *req, sdx_proto_error_t *err);

static int s_check_sections(const sdx_request_t *req,
                            sdx_proto_error_t *err);
static int s_check_syntax(const sdx_request_t *req, sdx_proto_error_t *err);

#define AT(member) offsetof(sdx_request_t, member)

static const struct key_def {
    const char *name;          /* the key on the wire */
    kind_t kind;               /* its value's type */
    size_t off;                /* the member of sdx_request_t it fills */
    size_t off_n;              /* KIND_LEVELS: the member counting them */
    int64_t min, max;          /* values (KIND_UINT, each level) or
                                  bytes (each str) */
    size_t entries;            /* lists: entries at most */
    unsigned def;              /* KIND_UINT, KIND_BOOL: the value when
                                  the key is not given */
    check_fn check;            /* more checks once decoded, or NULL */
    double share_def;          /* KIND_SHARE: the value when not given */
} key_defs[K_COUNT] = {
    [K_V] = {"v", KIND_ENVELOPE, 0, 0, 0, 0, 0, 0, NULL},
    [K_OP] = {"op", KIND_ENVELOPE, 0, 0, 0, 0, 0, 0, NULL},
    [K_ID] = {"id", KIND_ENVELOPE, 0, 0, 0, 0, 0, 0, NULL},
    [K_Q] = {"q", KIND_STR, AT(q), 0, 1, SDX_PROTO_Q_MAX, 0, 0, NULL},
    [K_OFFSET] = {"offset", KIND_UINT, AT(offset), 0, 0,
                  SDX_PROTO_OFFSET_MAX, 0, 0, NULL},
    [K_LIMIT] = {"limit", KIND_UINT, AT(limit), 0, 1, SDX_PROTO_LIMIT_MAX,
                 0, SDX_PROTO_LIMIT_DEFAULT, NULL},
    [K_LEVELS] = {"levels", KIND_LEVELS, AT(levels), AT(nlevels),
                  SDX_PROTO_LEVEL_MIN, SDX_PROTO_LEVEL_MAX,
                  SDX_PROTO_LIST_MAX, 0, NULL},
    [K_SECTIONS] = {"sections", KIND_STRLIST, AT(sections), 0, 1,
                    SDX_PROTO_STR_MAX, SDX_PROTO_LIST_MAX, 0,
                    s_check_sections},
    [K_ROWS] = {"rows", KIND_STRLIST, AT(rows), 0, 1, SDX_PROTO_STR_MAX,
                SDX_PROTO_LIST_MAX, 0, NULL},
    [K_CODES] = {"codes", KIND_STRLIST, AT(codes), 0, 1, SDX_PROTO_STR_MAX,
                 SDX_PROTO_LIST_MAX, 0, NULL},
    [K_HIGHLIGHT] = {"highlight", KIND_MARKS, AT(highlight), 0, 1,
                     SDX_PROTO_MARK_MAX, 2, 0, NULL},
    [K_SNIPPET] = {"snippet", KIND_BOOL, AT(snippet), 0, 0, 0, 0, true,
                   NULL},
    [K_GROUP] = {"group", KIND_BOOL, AT(group), 0, 0, 0, 0, false, NULL},
    [K_FACETS] = {"facets", KIND_BOOL, AT(facets), 0, 0, 0, 0, false, NULL},
    [K_IDS] = {"ids", KIND_STRLIST, AT(ids), 0, 1, SDX_PROTO_STR_MAX,
               SDX_PROTO_IDS_MAX, 0, NULL},
    [K_K] = {"k", KIND_UINT, AT(k), 0, SDX_PROTO_K_MIN, SDX_PROTO_K_MAX, 0,
             SDX_PROTO_K_DEFAULT, NULL},
    [K_MAX_CHARS] = {"max_chars", KIND_UINT, AT(max_chars), 0,
                     SDX_PROTO_CHARS_MIN, SDX_PROTO_CHARS_MAX, 0,
                     SDX_PROTO_CHARS_DEFAULT, NULL},
    [K_ROW] = {"row", KIND_STR, AT(row), 0, 1, SDX_PROTO_STR_MAX, 0, 0,
               NULL},
    [K_SERIES] = {"series", KIND_STR, AT(series), 0, 1, SDX_PROTO_STR_MAX,
                  0, 0, NULL},
    [K_SYNTAX] = {"syntax", KIND_STR, AT(syntax), 0, 1, 16, 0, 0,
                  s_check_syntax},
    [K_MIN_SCORE] = {"min_score", KIND_SHARE, AT(min_score), 0, 0, 1, 0, 0,
                     NULL, SDX_PROTO_MIN_SCORE_DEFAULT},
    [K_TEXT] = {"text", KIND_STR, AT(text), 0, 1, SDX_PROTO_TEXT_MAX, 0, 0,
                NULL},
    /* 0 is "not given": gaps requires it, so 0 never reaches a handler */
    [K_LEVEL] = {"level", KIND_UINT, AT(level), 0, SDX_PROTO_LEVEL_MIN,
                 SDX_PROTO_LEVEL_MAX, 0, 0, NULL},
    [K_CLAUSE] = {"clause", KIND_STR, AT(clause), 0, 1, SDX_PROTO_STR_MAX,
                  0, 0, NULL},
    [K_EXCLUDE] = {"exclude", KIND_STRLIST, AT(exclude), 0, 1,
                   SDX_PROTO_STR_MAX, SDX_PROTO_LIST_MAX, 0, NULL},
};

/* The markers of a snippet when `highlight` is not given. */
static const char *const default_marks[2] = {"<mark>", "</mark>"};

/* The keys each op takes (besides v, op, id) and those it requires. */
static const struct op_def {
    unsigned allowed;          /* BIT(K_*) of accepted keys */
    unsigned required;         /* BIT(K_*) of keys that must be there */
} op_defs[SDX_OP_LAST] = {
    [SDX_OP_PING] = {0, 0},
    [SDX_OP_SEARCH] = {BIT(K_Q) | BIT(K_OFFSET) | BIT(K_LIMIT) |
                           BIT(K_LEVELS) | BIT(K_SECTIONS) | BIT(K_ROWS) |
                           BIT(K_CODES) | BIT(K_SNIPPET) |
                           BIT(K_HIGHLIGHT) | BIT(K_FACETS) | BIT(K_GROUP) |
                           BIT(K_SYNTAX),
                       BIT(K_Q)},
    [SDX_OP_LADDER] = {BIT(K_Q) | BIT(K_SECTIONS) | BIT(K_ROWS), BIT(K_Q)},
    [SDX_OP_ROW] = {BIT(K_ROW) | BIT(K_SERIES), BIT(K_ROW)},
    [SDX_OP_GET] = {BIT(K_IDS), BIT(K_IDS)},
    [SDX_OP_CONTEXT] = {BIT(K_Q) | BIT(K_K) | BIT(K_MAX_CHARS) |
                            BIT(K_LEVELS) | BIT(K_SECTIONS) |
                            BIT(K_SYNTAX) | BIT(K_MIN_SCORE),
                        BIT(K_Q)},
    [SDX_OP_SUGGEST] = {BIT(K_Q), BIT(K_Q)},
    [SDX_OP_STATS] = {0, 0},
    [SDX_OP_FIT] = {BIT(K_TEXT) | BIT(K_SERIES) | BIT(K_EXCLUDE),
                    BIT(K_TEXT)},
    [SDX_OP_DIFF] = {BIT(K_ROW) | BIT(K_SERIES), BIT(K_ROW)},
    [SDX_OP_FIRST] = {BIT(K_Q) | BIT(K_SECTIONS) | BIT(K_ROWS), BIT(K_Q)},
    [SDX_OP_VERIFY] = {BIT(K_TEXT) | BIT(K_CLAUSE), BIT(K_TEXT)},
    [SDX_OP_GAPS] = {BIT(K_TEXT) | BIT(K_LEVEL) | BIT(K_SERIES),
                     BIT(K_TEXT) | BIT(K_LEVEL) | BIT(K_SERIES)},
};

/* Each section named in `sections` must be one of sdx_sections[]. */
static int
s_check_sections(const sdx_request_t *req, sdx_proto_error_t *err)
{
    for (size_t i = 0; i < req->sections.n; i++) {
        if (!sdx_section_valid(req->sections.v[i])) {
            char q[QUOTE_SIZE];
            char kinds[160] = "";
            for (const char *const *s = sdx_sections; *s; s++) {
                strncat(kinds, *s, sizeof kinds - strlen(kinds) - 1);
                if (s[1])
                    strncat(kinds, ", ", sizeof kinds - strlen(kinds) - 1);
            }
            const char *v = req->sections.v[i];
            s_fail(err, SDX_E_BAD_REQUEST,
                   "sections[%zu]: \"%s\" is not a section (one of %s)", i,
                   s_quote(v, strlen(v), q), kinds);
            return -1;
        }
    }
    return 0;
}

/* How each op reads q when `syntax` is not given. */
static bool
s_plain_by_default(sdx_op_t op)
{
    return op == SDX_OP_CONTEXT;
}

bool
sdx_request_plain(const sdx_request_t *req)
{
    if (req->syntax)
        return strcmp(req->syntax, "plain") == 0;
    return s_plain_by_default(req->op);
}

/*
 * `syntax` is "plain" or "query".  The op's own is forgotten (NULL), so
 * that a request spelling out the default packs, and keys the cache,
 * as one that leaves it out.
 */
static int
s_check_syntax(const sdx_request_t *req, sdx_proto_error_t *err)
{
    sdx_request_t *r = (sdx_request_t *)req;
    bool plain = strcmp(r->syntax, "plain") == 0;
    if (!plain && strcmp(r->syntax, "query") != 0) {
        char q[QUOTE_SIZE];
        s_fail(err, SDX_E_BAD_REQUEST,
               "syntax: \"%s\" is not a syntax (one of plain, query)",
               s_quote(r->syntax, strlen(r->syntax), q));
        return -1;
    }
    if (plain == s_plain_by_default(r->op)) {
        free(r->syntax);
        r->syntax = NULL;
    }
    return 0;
}

/* Check O is a number in MIN..MAX (a float, or an int) and store it. */
static int
s_share(const msgpack_object *o, const char *key, double min, double max,
        double *value, sdx_proto_error_t *err)
{
    double v;
    if (o->type == MSGPACK_OBJECT_FLOAT64 ||
        o->type == MSGPACK_OBJECT_FLOAT32) {
        v = o->via.f64;
    } else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        v = o->via.u64 > 1000 ? 1000 : (double)o->via.u64;
    } else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        v = -1;
    } else {
        s_fail(err, SDX_E_BAD_REQUEST, "%s: expected float, got %s", key,
               s_type_name(o));
        return -1;
    }
    /* written so that NaN fails too */
    if (!(v >= min && v <= max)) {
        s_fail(err, SDX_E_BAD_REQUEST, "%s: %g is out of range %g..%g", key,
               v, min, max);
        return -1;
    }
    *value = v;
    return 0;
}

/* True when S holds nothing but blanks (ASCII white space). */
static bool
s_blank(const char *s)
{
    for (; *s; s++)
        if (!strchr(" \t\r\n\v\f", *s))
            return false;
    return true;
}

/* Exactly two markers (open, close) into MARKS, each 1..MAX bytes. */
static int
s_marks(const msgpack_object *o, const char *key, size_t max, char **marks,
        sdx_proto_error_t *err)
{
    if (o->type != MSGPACK_OBJECT_ARRAY) {
        s_fail(err, SDX_E_BAD_REQUEST,
               "%s: expected an array of 2 str, got %s", key,
               s_type_name(o));
        return -1;
    }
    if (o->via.array.size != 2) {
        s_fail(err, SDX_E_BAD_REQUEST,
               "%s: expected 2 entries (open, close), got %u", key,
               o->via.array.size);
        return -1;
    }
    for (long i = 0; i < 2; i++)
        if (s_str(&o->via.array.ptr[i], key, i, 1, max, &marks[i], err))
            return -1;
    return 0;
}

/* Decode the value O of key D into its member of REQ. */
static int
s_decode_key(sdx_request_t *req, const struct key_def *d,
             const msgpack_object *o, sdx_proto_error_t *err)
{
    char *member = (char *)req + d->off;
    int64_t v;
    int rc = 0;
    switch (d->kind) {
    case KIND_ENVELOPE:
        break;
    case KIND_STR:
        rc = s_str(o, d->name, -1, (size_t)d->min, (size_t)d->max,
                   (char **)member, err);
        break;
    case KIND_UINT:
        if ((rc = s_int(o, d->name, -1, d->min, d->max, &v, err)) == 0)
            *(unsigned *)member = (unsigned)v;
        break;
    case KIND_BOOL:
        rc = s_bool(o, d->name, (bool *)member, err);
        break;
    case KIND_STRLIST:
        rc = s_strlist(o, d->name, d->entries, (size_t)d->max,
                       (sdx_strlist_t *)member, err);
        break;
    case KIND_LEVELS: {
        long n = s_array(o, d->name, d->entries, err);
        if (n < 0)
            return -1;
        for (long i = 0; i < n; i++) {
            if (s_int(&o->via.array.ptr[i], d->name, i, d->min, d->max, &v,
                      err))
                return -1;
            ((int *)member)[i] = (int)v;
        }
        *(size_t *)((char *)req + d->off_n) = (size_t)n;
        break;
    }
    case KIND_MARKS:
        rc = s_marks(o, d->name, (size_t)d->max, (char **)member, err);
        break;
    case KIND_SHARE:
        rc = s_share(o, d->name, (double)d->min, (double)d->max,
                     (double *)member, err);
        break;
    }
    if (rc == 0 && d->check)
        rc = d->check(req, err);
    return rc;
}

/* True when key D of REQ holds what it holds when not given. */
static bool
s_is_default(const sdx_request_t *req, const struct key_def *d)
{
    const char *member = (const char *)req + d->off;
    switch (d->kind) {
    case KIND_ENVELOPE:
        return true;
    case KIND_STR:
        return *(char *const *)member == NULL;
    case KIND_UINT:
        return *(const unsigned *)member == d->def;
    case KIND_BOOL:
        return *(const bool *)member == (bool)d->def;
    case KIND_STRLIST:
        return ((const sdx_strlist_t *)member)->n == 0;
    case KIND_LEVELS:
        return *(const size_t *)((const char *)req + d->off_n) == 0;
    case KIND_MARKS: {
        char *const *m = (char *const *)member;
        return !m[0] || !m[1] ||
               (strcmp(m[0], default_marks[0]) == 0 &&
                strcmp(m[1], default_marks[1]) == 0);
    }
    case KIND_SHARE:
        return *(const double *)member == d->share_def;
    }
    return true;
}

/* Pack the value of key D of REQ. */
static void
s_pack_value(const sdx_request_t *req, const struct key_def *d,
             msgpack_packer *pk)
{
    const char *member = (const char *)req + d->off;
    switch (d->kind) {
    case KIND_ENVELOPE:
        msgpack_pack_nil(pk);
        break;
    case KIND_STR:
        sdx_msgpack_pack_str(pk, *(char *const *)member);
        break;
    case KIND_UINT:
        msgpack_pack_unsigned_int(pk, *(const unsigned *)member);
        break;
    case KIND_BOOL:
        if (*(const bool *)member)
            msgpack_pack_true(pk);
        else
            msgpack_pack_false(pk);
        break;
    case KIND_STRLIST: {
        const sdx_strlist_t *l = (const sdx_strlist_t *)member;
        msgpack_pack_array(pk, l->n);
        for (size_t i = 0; i < l->n; i++)
            sdx_msgpack_pack_str(pk, l->v[i]);
        break;
    }
    case KIND_LEVELS: {
        size_t n = *(const size_t *)((const char *)req + d->off_n);
        msgpack_pack_array(pk, n);
        for (size_t i = 0; i < n; i++)
            msgpack_pack_int(pk, ((const int *)member)[i]);
        break;
    }
    case KIND_MARKS:
        msgpack_pack_array(pk, 2);
        sdx_msgpack_pack_str(pk, ((char *const *)member)[0]);
        sdx_msgpack_pack_str(pk, ((char *const *)member)[1]);
        break;
    case KIND_SHARE:
        msgpack_pack_double(pk, *(const double *)member);
        break;
    }
}

void
sdx_request_init(sdx_request_t *req, sdx_op_t op)
{
    memset(req, 0, sizeof *req);
    req->op = op;
    for (int k = 0; k < K_COUNT; k++) {
        const struct key_def *d = &key_defs[k];
        if (d->kind == KIND_UINT)
            *(unsigned *)((char *)req + d->off) = d->def;
        else if (d->kind == KIND_BOOL)
            *(bool *)((char *)req + d->off) = d->def;
        else if (d->kind == KIND_SHARE)
            *(double *)((char *)req + d->off) = d->share_def;
    }
}

void
sdx_request_pack(const sdx_request_t *req, bool with_id, msgpack_packer *pk)
{
    assert((unsigned)req->op < SDX_OP_LAST);
    unsigned allowed = op_defs[req->op].allowed;
    unsigned want = 0;
    size_t n = 2 + (with_id && req->id ? 1 : 0);
    for (int k = 0; k < K_COUNT; k++) {
        if ((allowed & BIT(k)) && !s_is_default(req, &key_defs[k])) {
            want |= BIT(k);
            n++;
        }
    }
    msgpack_pack_map(pk, n);
    sdx_msgpack_pack_str(pk, "v");
    msgpack_pack_int(pk, SDX_PROTO_VERSION);
    sdx_msgpack_pack_str(pk, "op");
    sdx_msgpack_pack_str(pk, op_names[req->op]);
    if (with_id && req->id) {
        sdx_msgpack_pack_str(pk, "id");
        pk->callback(pk->data, req->id, req->id_len);
    }
    for (int k = 0; k < K_COUNT; k++) {
        if (want & BIT(k)) {
            sdx_msgpack_pack_str(pk, key_defs[k].name);
            s_pack_value(req, &key_defs[k], pk);
        }
    }
}

size_t
sdx_proto_op_keys(sdx_op_t op, const char **names, size_t size)
{
    size_t n = 0;
    if ((unsigned)op >= SDX_OP_LAST)
        return 0;
    for (int k = 0; k < K_COUNT; k++) {
        if (!(op_defs[op].allowed & BIT(k)))
            continue;
        if (n < size)
            names[n] = key_defs[k].name;
        n++;
    }
    return n;
}

static bool
s_str_is(const msgpack_object *o, const char *name)
{
    size_t len = strlen(name);
    return o->type == MSGPACK_OBJECT_STR && o->via.str.size == len &&
           memcmp(o->via.str.ptr, name, len) == 0;
}

/*
 * Levenshtein distance between A (ALEN bytes) and B, ignoring ASCII
 * case, for "did you mean"; gives up (returns a large number) past
 * DIST_MAX_LEN bytes.
 */
#define DIST_MAX_LEN 32 /* bytes of a name worth comparing */

static size_t
s_distance(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    size_t row[DIST_MAX_LEN + 1];
    if (alen > DIST_MAX_LEN || blen > DIST_MAX_LEN)
        return (size_t)-1;
    for (size_t j = 0; j <= blen; j++)
        row[j] = j;
    for (size_t i = 1; i <= alen; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= blen; j++) {
            size_t up = row[j];
            size_t best = diag + (tolower((unsigned char)a[i - 1]) !=
                                  tolower((unsigned char)b[j - 1]));
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[blen];
}

/*
 * The closest of NAMES (NAMES[i] for each bit i of MASK; all when MASK
 * is ~0u) to S within 2 edits, or NULL.
 */
static const char *
s_closest(const char *s, size_t len, const char *const *names, size_t n,
          unsigned mask)
{
    const char *best = NULL;
    size_t best_d = 3;
    for (size_t i = 0; i < n; i++) {
        if (!(mask & BIT(i)) || !names[i][0])
            continue;
        size_t d = s_distance(s, len, names[i]);
        if (d < best_d) {
            best_d = d;
            best = names[i];
        }
    }
    return best;
}

/* Fill the defaults of every op's optional keys, owned by REQ. */
static sdx_errcode_t
s_defaults(sdx_request_t *req, sdx_proto_error_t *err)
{
    /* SDX_OP_LAST until `op` is read: a frame refused before that is
       nobody's op in the daemon's by_op counts */
    sdx_request_init(req, SDX_OP_LAST);
    req->highlight[0] = strdup(default_marks[0]);
    req->highlight[1] = strdup(default_marks[1]);
    if (!req->highlight[0] || !req->highlight[1])
        return s_fail(err, SDX_E_INTERNAL, "out of memory");
    return SDX_E_NONE;
}

/* Store a msgpack copy of O as REQ's id. */
static sdx_errcode_t
s_keep_id(sdx_request_t *req, const msgpack_object *o,
          sdx_proto_error_t *err)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    if (msgpack_pack_object(&pk, *o) != 0) {
        msgpack_sbuffer_destroy(&sb);
        return s_fail(err, SDX_E_INTERNAL, "out of memory");
    }
    req->id = sb.data;
    req->id_len = sb.size;
    return SDX_E_NONE;
}

/*
 * Find the request map's v and op, check them, and return the index of
 * each key in the key table via KEYS (K_COUNT for an unknown key).
 */
static sdx_errcode_t
s_envelope(sdx_request_t *req, const msgpack_object *map, int *keys,
           sdx_proto_error_t *err)
{
    const msgpack_object *v = NULL, *op = NULL;
    char q[QUOTE_SIZE];
    uint32_t n = map->via.map.size;

    if (n > SDX_PROTO_MAX_KEYS)
        return s_fail(err, SDX_E_BAD_REQUEST,
                      "the request map has %u keys; at most %d", n,
                      SDX_PROTO_MAX_KEYS);
    for (uint32_t i = 0; i < n; i++) {
        const msgpack_object *key = &map->via.map.ptr[i].key;
        if (key->type != MSGPACK_OBJECT_STR)
            return s_fail(err, SDX_E_BAD_REQUEST,
                          "key %u of the request map is %s %s; keys must "
                          "be str", i,
                          strchr("aeiou", s_type_name(key)[0]) ? "an" : "a",
                          s_type_name(key));
        for (uint32_t j = 0; j < i; j++) {
            const msgpack_object *other = &map->via.map.ptr[j].key;
            /* msgpack-c gives "" a NULL pointer: memcmp(NULL, NULL, 0)
             * is undefined, so empty keys compare by size alone. */
            if (other->via.str.size == key->via.str.size &&
                (key->via.str.size == 0 ||
                 memcmp(other->via.str.ptr, key->via.str.ptr,
                        key->via.str.size) == 0))
                return s_fail(err, SDX_E_BAD_REQUEST,
                              "duplicate key \"%s\"",
                              s_quote(key->via.str.ptr, key->via.str.size,
                                      q));
        }
        keys[i] = K_COUNT;
        for (int k = 0; k < K_COUNT; k++) {
            if (s_str_is(key, key_defs[k].name)) {
                keys[i] = k;
                break;
            }
        }
        if (keys[i] == K_V)
            v = &map->via.map.ptr[i].val;
        else if (keys[i] == K_OP)
            op = &map->via.map.ptr[i].val;
        else if (keys[i] == K_ID &&
                 s_keep_id(req, &map->via.map.ptr[i].val, err))
            return err->code;
    }

    if (!v)
        return s_fail(err, SDX_E_BAD_REQUEST, "missing key \"v\"");
    if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER &&
        v->type != MSGPACK_OBJECT_NEGATIVE_INTEGER)
        return s_fail(err, SDX_E_BAD_REQUEST, "v: expected int, got %s",
                      s_type_name(v));
    if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER ||
        v->via.u64 != SDX_PROTO_VERSION)
        return s_fail(err, SDX_E_UNSUPPORTED_VERSION,
                      "v: version %s%llu is not supported; this server "
                      "speaks version %d",
                      v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER ? "-" : "",
                      v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER
                          ? 0ull - (unsigned long long)v->via.i64
                          : (unsigned long long)v->via.u64,
                      SDX_PROTO_VERSION);
    if (!op)
        return s_fail(err, SDX_E_BAD_REQUEST, "missing key \"op\"");
    if (op->type != MSGPACK_OBJECT_STR)
        return s_fail(err, SDX_E_BAD_REQUEST, "op: expected str, got %s",
                      s_type_name(op));
    for (int i = 0; i < SDX_OP_LAST; i++) {
        if (s_str_is(op, op_names[i])) {
            req->op = (sdx_op_t)i;
            return SDX_E_NONE;
        }
    }
    const char *hint = s_closest(op->via.str.ptr, op->via.str.size,
                                 op_names, SDX_OP_LAST, ~0u);
    char hint_text[48] = "";
    if (hint)
        snprintf(hint_text, sizeof hint_text, " (did you mean \"%s\"?)",
                 hint);
    /* the list from the table, so that a new op is named here too */
    char ops[160] = "";
    for (int i = 0; i < SDX_OP_LAST; i++) {
        strncat(ops, op_names[i], sizeof ops - strlen(ops) - 1);
        if (i + 1 < SDX_OP_LAST)
            strncat(ops, ", ", sizeof ops - strlen(ops) - 1);
    }
    return s_fail(err, SDX_E_UNKNOWN_OP, "unknown op \"%s\"%s; ops are %s",
                  s_quote(op->via.str.ptr, op->via.str.size, q), hint_text,
                  ops);
}

sdx_errcode_t
sdx_request_decode(const void *buf, size_t len, sdx_request_t *req,
                   sdx_proto_error_t *err)
{
    msgpack_unpacked msg;
    int keys[SDX_PROTO_MAX_KEYS];
    unsigned seen = 0;
    char q[QUOTE_SIZE];

    memset(req, 0, sizeof *req);
    err->code = SDX_E_NONE;
    err->message[0] = '\0';
    msgpack_unpacked_init(&msg);

    if (len > SDX_PROTO_MAX_FRAME) {
        s_fail(err, SDX_E_TOO_LARGE,
               "request frame is %zu bytes; at most %d", len,
               SDX_PROTO_MAX_FRAME);
        goto done;
    }
    if (s_defaults(req, err))
        goto done;
    if (s_scan_one(buf, len, err))
        goto done;

    size_t off = 0;
    msgpack_unpack_return ret = msgpack_unpack_next(&msg, buf, len, &off);
    if (ret == MSGPACK_UNPACK_NOMEM_ERROR) {
        s_fail(err, SDX_E_INTERNAL, "out of memory");
        goto done;
    }
    if (ret != MSGPACK_UNPACK_SUCCESS || off != len) {
        /* the scan accepted what msgpack-c refuses: say so plainly */
        s_fail(err, SDX_E_BAD_REQUEST, "not msgpack (rejected by decoder)");
        goto done;
    }
    const msgpack_object *map = &msg.data;
    if (map->type != MSGPACK_OBJECT_MAP) {
        s_fail(err, SDX_E_BAD_REQUEST,
               "the request must be a msgpack map, got %s",
               s_type_name(map));
        goto done;
    }
    if (s_envelope(req, map, keys, err))
        goto done;

    const struct op_def *def = &op_defs[req->op];
    const char *op = op_names[req->op];
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *key = &map->via.map.ptr[i].key;
        int k = keys[i];
        if (k == K_COUNT) {
            const char *names[K_COUNT];
            for (int j = 0; j < K_COUNT; j++)
                names[j] = key_defs[j].name;
            const char *hint =
                s_closest(key->via.str.ptr, key->via.str.size, names,
                          K_COUNT, def->allowed | ENVELOPE_KEYS);
            char hint_text[48] = "";
            if (hint)
                snprintf(hint_text, sizeof hint_text,
                         " (did you mean \"%s\"?)", hint);
            s_fail(err, SDX_E_BAD_REQUEST, "unknown key \"%s\"%s",
                   s_quote(key->via.str.ptr, key->via.str.size, q),
                   hint_text);
            goto done;
        }
        seen |= BIT(k);
        if (BIT(k) & ENVELOPE_KEYS)
            continue;
        if (!(BIT(k) & def->allowed)) {
            /* a key of another op that is one typo away from one of
               this op's ("level" for search's "levels") */
            const char *names[K_COUNT];
            for (int j = 0; j < K_COUNT; j++)
                names[j] = key_defs[j].name;
            const char *hint = s_closest(key->via.str.ptr,
                                         key->via.str.size, names, K_COUNT,
                                         def->allowed);
            char hint_text[48] = "";
            if (hint)
                snprintf(hint_text, sizeof hint_text,
                         " (did you mean \"%s\"?)", hint);
            s_fail(err, SDX_E_BAD_REQUEST,
                   "key \"%s\" is not accepted by op \"%s\"%s",
                   key_defs[k].name, op, hint_text);
            goto done;
        }
        if (s_decode_key(req, &key_defs[k], &map->via.map.ptr[i].val,
                         err))
            goto done;
    }
    for (int k = 0; k < K_COUNT; k++) {
        if ((def->required & BIT(k)) && !(seen & BIT(k))) {
            s_fail(err, SDX_E_BAD_REQUEST,
                   "missing key \"%s\" (required by op \"%s\")",
                   key_defs[k].name, op);
            goto done;
        }
    }
    /* A blank question is as empty as "": in the query language it
       matches every clause, which grounds a chatbot in nothing. */
    if (req->q && s_blank(req->q) &&
        (req->op == SDX_OP_CONTEXT || sdx_request_plain(req)))
        s_fail(err, SDX_E_BAD_REQUEST,
               "q: only blanks; a question needs a word");
    else if (req->text && s_blank(req->text))
        s_fail(err, SDX_E_BAD_REQUEST, "text: only blanks; it needs a word");
done:
    msgpack_unpacked_destroy(&msg);
    return err->code;
}

void
sdx_request_clear(sdx_request_t *req)
{
    free(req->id);
    /* what each key owns, from the key table: a new key is freed too */
    for (int k = 0; k < K_COUNT; k++) {
        char *member = (char *)req + key_defs[k].off;
        switch (key_defs[k].kind) {
        case KIND_STR:
            free(*(char **)member);
            break;
        case KIND_STRLIST:
            s_strlist_clear((sdx_strlist_t *)member);
            break;
        case KIND_MARKS:
            free(((char **)member)[0]);
            free(((char **)member)[1]);
            break;
        default:
            break;
        }
    }
    memset(req, 0, sizeof *req);
}

int
sdx_proto_peek_id(const void *buf, size_t len, void **id, size_t *id_len)
{
    sdx_proto_error_t err;
    msgpack_unpacked msg;
    size_t off = 0;
    int rc = 0;

    *id = NULL;
    *id_len = 0;
    if (len > SDX_PROTO_MAX_FRAME || s_scan_one(buf, len, &err))
        return 0;
    msgpack_unpacked_init(&msg);
    if (msgpack_unpack_next(&msg, buf, len, &off) ==
            MSGPACK_UNPACK_SUCCESS &&
        msg.data.type == MSGPACK_OBJECT_MAP) {
        const msgpack_object_map *m = &msg.data.via.map;
        for (uint32_t i = 0; i < m->size; i++) {
            if (s_str_is(&m->ptr[i].key, "id")) {
                sdx_request_t tmp = {0};
                if (s_keep_id(&tmp, &m->ptr[i].val, &err))
                    rc = -1;
                *id = tmp.id;
                *id_len = tmp.id_len;
                break;
            }
        }
    }
    msgpack_unpacked_destroy(&msg);
    return rc;
}

/* ---------------------------------------------------------------- */
/* Replies                                                          */
/* ---------------------------------------------------------------- */

/* The body's packer callback: sdx_sbuffer_write, remembering failure. */
static int
s_body_write(void *data, const char *buf, size_t len)
{
    sdx_body_t *b = data;
    if (b->failed)
        return -1;
    if (msgpack_sbuffer_write(&b->sb, buf, len) != 0) {
        b->failed = true;
        return -1;
    }
    return 0;
}

void
sdx_body_init(sdx_body_t *b)
{
    memset(b, 0, sizeof *b);
    msgpack_sbuffer_init(&b->sb);
    msgpack_packer_init(&b->pk, b, s_body_write);
}

void
sdx_body_clear(sdx_body_t *b)
{
    msgpack_sbuffer_destroy(&b->sb);
    sdx_body_init(b);
}

void
sdx_body_key(sdx_body_t *b, const char *key)
{
    sdx_msgpack_pack_str(&b->pk, key);
    b->nkeys++;
}

int
sdx_proto_pack_map_extend(msgpack_packer *pk, const void *map, size_t len,
                          unsigned extra)
{
    sdx_proto_error_t err;
    const unsigned char *p = map;
    uint64_t n;
    size_t hdr;
    if (s_scan_one(map, len, &err))
        return -1;
    if ((p[0] & 0xf0) == 0x80) {
        n = p[0] & 0x0f;
        hdr = 1;
    } else if (p[0] == 0xde) {
        n = ((uint64_t)p[1] << 8) | p[2];
        hdr = 3;
    } else if (p[0] == 0xdf) {
        n = ((uint64_t)p[1] << 24) | ((uint64_t)p[2] << 16) |
            ((uint64_t)p[3] << 8) | p[4];
        hdr = 5;
    } else {
        return -1;
    }
    if (n + extra > UINT32_MAX)
        return -1;
    msgpack_pack_map(pk, (size_t)(n + extra));
    /* the pairs themselves go through unchanged */
    pk->callback(pk->data, (const char *)p + hdr, len - hdr);
    return 0;
}

/* Pack the keys every reply has; NKEYS counts the caller's as well. */
static void
s_reply_head(msgpack_packer *pk, const void *id, size_t id_len, bool ok,
             uint64_t took_us, unsigned nkeys)
{
    msgpack_pack_map(pk, 3 + (id ? 1 : 0) + nkeys);
    sdx_msgpack_pack_str(pk, "v");
    msgpack_pack_int(pk, SDX_PROTO_VERSION);
    if (id) {
        sdx_msgpack_pack_str(pk, "id");
        pk->callback(pk->data, id, id_len);
    }
    sdx_msgpack_pack_str(pk, "ok");
    if (ok)
        msgpack_pack_true(pk);
    else
        msgpack_pack_false(pk);
    sdx_msgpack_pack_str(pk, "took_us");
    msgpack_pack_uint64(pk, took_us);
}

/* Hand the buffer of a finished reply to the caller. */
static sdx_status_t
s_reply_finish(sdx_body_t *out_body, void **out, size_t *out_len)
{
    if (out_body->failed) {
        msgpack_sbuffer_destroy(&out_body->sb);
        return SDX_NOMEM;
    }
    *out = out_body->sb.data;
    *out_len = out_body->sb.size;
    return SDX_OK;
}

sdx_status_t
sdx_reply_error(const void *id, size_t id_len, uint64_t took_us,
                sdx_errcode_t code, const char *message, void **out,
                size_t *out_len)
{
    sdx_body_t r;
    *out = NULL;
    *out_len = 0;
    sdx_body_init(&r);
    s_reply_head(&r.pk, id, id_len, false, took_us, 1);
    sdx_msgpack_pack_str(&r.pk, "error");
    msgpack_pack_map(&r.pk, 2);
    sdx_msgpack_pack_str(&r.pk, "code");
    sdx_msgpack_pack_str(&r.pk, sdx_errcode_str(code));
    sdx_msgpack_pack_str(&r.pk, "message");
    sdx_msgpack_pack_str(&r.pk, message ? message : "");
    return s_reply_finish(&r, out, out_len);
}

sdx_status_t
sdx_reply_ok(const void *id, size_t id_len, uint64_t took_us,
             const sdx_body_t *body, void **out, size_t *out_len)
{
    sdx_body_t r;
    *out = NULL;
    *out_len = 0;
    if (body->failed)
        return sdx_reply_error(id, id_len, took_us, SDX_E_INTERNAL,
                               "out of memory while building the reply",
                               out, out_len);
    sdx_body_init(&r);
    s_reply_head(&r.pk, id, id_len, true, took_us, body->nkeys);
    if (body->sb.size)
        r.pk.callback(r.pk.data, body->sb.data, body->sb.size);
    return s_reply_finish(&r, out, out_len);
}

/* ---------------------------------------------------------------- */
/* Transport policy                                                 */
/* ---------------------------------------------------------------- */

/* Answer a broken message to its sender: the identity, and the empty
   delimiter when there is one, so REQ and DEALER clients both get it. */
static size_t
s_min_envelope(const size_t *sizes, size_t nframes)
{
    if (nframes >= 3 && sizes[1] == 0)
        return 2;
    return 1;
}

void
sdx_proto_split(const size_t *sizes, size_t nframes, sdx_split_t *out)
{
    sdx_proto_error_t err = {0};
    memset(out, 0, sizeof *out);
    /* the identity (sizes[0]) is the ROUTER's, not the client's: the
       limits count only the frames and bytes the client sent */
    if (nframes < 2) {
        out->nenv = nframes;
        s_fail(&err, SDX_E_BAD_REQUEST, "message has no request frame");
    } else if (nframes - 1 > SDX_PROTO_MAX_FRAMES) {
        out->nenv = s_min_envelope(sizes, nframes);
        s_fail(&err, SDX_E_BAD_REQUEST,
               "message has more than %d frames; send one msgpack map "
               "(after the empty delimiter, from a DEALER)",
               SDX_PROTO_MAX_FRAMES);
    } else {
        size_t env = 0;
        out->nenv = nframes - 1;
        for (size_t i = 1; i < nframes - 1; i++)
            env += sizes[i];
        if (env > SDX_PROTO_MAX_ENVELOPE) {
            out->nenv = s_min_envelope(sizes, nframes);
            s_fail(&err, SDX_E_BAD_REQUEST,
                   "message envelope is %zu bytes; at most %d", env,
                   SDX_PROTO_MAX_ENVELOPE);
        } else if (sizes[nframes - 1] > SDX_PROTO_MAX_FRAME) {
            s_fail(&err, SDX_E_TOO_LARGE,
                   "request frame is %zu bytes; at most %d",
                   sizes[nframes - 1], SDX_PROTO_MAX_FRAME);
        }
    }
    out->code = err.code;
    memcpy(out->message, err.message, sizeof out->message);
}

bool
sdx_proto_endpoint_is_local(const char *ep)
{
    char host[256];
    if (strncmp(ep, "ipc://", 6) == 0)
        return ep[6] != '\0';
    if (strncmp(ep, "inproc://", 9) == 0)
        return ep[9] != '\0';
    if (strncmp(ep, "tcp://", 6) != 0)
        return false;
    const char *h = ep + 6;
    const char *colon = strrchr(h, ':');
    if (!colon || colon == h || colon[1] == '\0')
        return false;
    size_t len = (size_t)(colon - h);
    if (h[0] == '[') {
        if (len < 2 || h[len - 1] != ']')
            return false;
        h++;
        len -= 2;
    }
    if (len >= sizeof host)
        return false;
    memcpy(host, h, len);
    host[len] = '\0';
    /* interface names, "*" and "source;address" forms all fall through
       to false: only a literal loopback address is accepted */
    if (strcmp(host, "localhost") == 0)
        return true;
    unsigned char addr[16];
    if (inet_pton(AF_INET, host, addr) == 1)
        return addr[0] == 127;
    if (inet_pton(AF_INET6, host, addr) == 1) {
        static const unsigned char loop6[16] = {[15] = 1};
        return memcmp(addr, loop6, sizeof loop6) == 0;
    }
    return false;
}
