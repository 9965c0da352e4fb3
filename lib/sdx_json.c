/*
 * sdx_json: msgpack <-> JSON.  JSON to msgpack walks a jansson tree
 * (jansson reads JSON strictly: duplicate keys, types, UTF-8).  msgpack
 * to JSON is written straight, in jansson's forms (sdx_json_dumps): the
 * gateway writes every reply this way, and a tree per reply cost it
 * more than its HTTP (docs/BENCH.md); a tree, when one is wanted, is
 * read back from that text, so the forms have one home.
 */
#include "sdx_json.h"
#include "sdx_utf8.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/*
 * The writer: msgpack straight to compact JSON text, with jansson's
 * forms (json_dumps with JSON_COMPACT | JSON_ENCODE_ANY |
 * JSON_REAL_PRECISION(17)), so that a reply crosses the gateway with no
 * tree of its own: no allocation per value, one pass.
 */
typedef struct jout {
    char *p;                   /* the text so far, not terminated */
    size_t len, cap;
    bool oom;                  /* a growth failed: the text is void */
} jout_t;

static void
put(jout_t *o, const char *s, size_t n)
{
    if (o->oom)
        return;
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 4096; /* a reply's size */
        while (cap < o->len + n + 1)
            cap *= 2;
        char *grown = realloc(o->p, cap);
        if (!grown) {
            o->oom = true;
            return;
        }
        o->p = grown;
        o->cap = cap;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
}

/* Broadcast byte B to the 8 bytes of a word. */
#define BYTES8(b) (0x0101010101010101ull * (uint64_t)(b))

/* True when one of the 8 bytes of W needs a look: a control character,
 * '"', '\\', or 0x80 and up (a UTF-8 sequence to check).  The usual
 * SWAR tests: a byte is zero in X when (X - 1) borrows into its top bit
 * and that bit was clear. */
static inline bool
word_needs_look(uint64_t w)
{
    uint64_t hi = BYTES8(0x80);
    uint64_t quote = w ^ BYTES8('"'), bslash = w ^ BYTES8('\\');
    uint64_t low = (w - BYTES8(0x20)) & ~w;        /* bytes < 0x20 */
    uint64_t q = (quote - BYTES8(1)) & ~quote;     /* bytes == '"' */
    uint64_t b = (bslash - BYTES8(1)) & ~bslash;   /* bytes == '\\' */
    return ((w | low | q | b) & hi) != 0;
}

/* S (LEN bytes) as a JSON string: JSON's escapes for '"', '\\' and the
 * control characters, UTF-8 kept, invalid bytes as U+FFFD. */
static void
put_string(jout_t *o, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t run = 0; /* start of the bytes that go as they are */
    put(o, "\"", 1);
    for (size_t i = 0; i < len;) {
        uint64_t w;
        if (len - i >= 8 && (memcpy(&w, u + i, 8), !word_needs_look(w))) {
            i += 8; /* the common case: plain ASCII text */
            continue;
        }
        unsigned char c = u[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            i++;
            continue;
        }
        size_t k = c < 0x80 ? 1 : sdx_utf8_seq_len(u + i, len - i);
        if (k > 1) {
            i += k;
            continue;
        }
        put(o, s + run, i - run);
        char esc[8];
        if (k == 0)
            put(o, "\xef\xbf\xbd", 3);
        else if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put(o, esc, 2);
        } else {
            static const char short_esc[] = "btnvfr"; /* 8..13 */
            if (c >= 8 && c <= 13 && c != 11) {
                esc[0] = '\\';
                esc[1] = short_esc[c - 8];
                put(o, esc, 2);
            } else {
                snprintf(esc, sizeof esc, "\\u%04X", c);
                put(o, esc, 6);
            }
        }
        i++;
        run = i;
    }
    put(o, s + run, len - run);
    put(o, "\"", 1);
}

/* P (N bytes) as a string of hex digits. */
static void
put_hex(jout_t *o, const unsigned char *p, uint32_t n)
{
    static const char digits[] = "0123456789abcdef";
    put(o, "\"", 1);
    for (uint32_t i = 0; i < n; i++) {
        char two[2] = {digits[p[i] >> 4], digits[p[i] & 15]};
        put(o, two, 2);
    }
    put(o, "\"", 1);
}

/* A real as jansson writes it: %.17g, with ".0" when it would read as an
 * integer, and the exponent without '+' or leading zeros. */
static void
put_real(jout_t *o, double v)
{
    char buf[40];
    int n = snprintf(buf, sizeof buf, "%.17g", v);
    if (n < 0 || (size_t)n >= sizeof buf - 3) {
        o->oom = true;
        return;
    }
    if (!strchr(buf, '.') && !strchr(buf, 'e')) {
        memcpy(buf + n, ".0", 3);
        n += 2;
    }
    char *e = strchr(buf, 'e');
    if (e) {
        char *start = e + 1, *end = e + 2;
        if (*start == '-')
            start++;
        while (*end == '0')
            end++;
        if (end != start) {
            memmove(start, end, (size_t)(buf + n - end) + 1);
            n -= (int)(end - start);
        }
    }
    put(o, buf, (size_t)n);
}

static void put_value(jout_t *o, const msgpack_object *v);

/* A map key: a string as itself, anything else as a string of its JSON. */
static void
put_key(jout_t *o, const msgpack_object *k)
{
    if (k->type == MSGPACK_OBJECT_STR) {
        put_string(o, k->via.str.ptr, k->via.str.size);
        return;
    }
    jout_t inner = {0};
    put_value(&inner, k);
    if (inner.oom)
        o->oom = true;
    else
        put_string(o, inner.p ? inner.p : "", inner.len);
    free(inner.p);
}

static void
put_value(jout_t *o, const msgpack_object *v)
{
    char num[32];
    switch (v->type) {
    case MSGPACK_OBJECT_NIL:
        put(o, "null", 4);
        return;
    case MSGPACK_OBJECT_BOOLEAN:
        if (v->via.boolean)
            put(o, "true", 4);
        else
            put(o, "false", 5);
        return;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        /* jansson's integers are long long: a u64 past its range keeps
         * its value as a real rather than wrapping to a negative one */
        if (v->via.u64 > (uint64_t)INT64_MAX) {
            put_real(o, (double)v->via.u64);
            return;
        }
        put(o, num, (size_t)snprintf(num, sizeof num, "%" PRIu64,
                                     v->via.u64));
        return;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        put(o, num, (size_t)snprintf(num, sizeof num, "%" PRId64,
                                     v->via.i64));
        return;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        if (isfinite(v->via.f64))
            put_real(o, v->via.f64);
        else
            put(o, "null", 4); /* JSON has no NaN */
        return;
    case MSGPACK_OBJECT_STR:
        put_string(o, v->via.str.ptr, v->via.str.size);
        return;
    case MSGPACK_OBJECT_BIN:
        put_hex(o, (const unsigned char *)v->via.bin.ptr, v->via.bin.size);
        return;
    case MSGPACK_OBJECT_EXT:
        put_hex(o, (const unsigned char *)v->via.ext.ptr, v->via.ext.size);
        return;
    case MSGPACK_OBJECT_ARRAY:
        put(o, "[", 1);
        for (uint32_t i = 0; i < v->via.array.size && !o->oom; i++) {
            if (i)
                put(o, ",", 1);
            put_value(o, &v->via.array.ptr[i]);
        }
        put(o, "]", 1);
        return;
    case MSGPACK_OBJECT_MAP:
        put(o, "{", 1);
        for (uint32_t i = 0; i < v->via.map.size && !o->oom; i++) {
            if (i)
                put(o, ",", 1);
            put_key(o, &v->via.map.ptr[i].key);
            put(o, ":", 1);
            put_value(o, &v->via.map.ptr[i].val);
        }
        put(o, "}", 1);
        return;
    }
    put(o, "null", 4);
}

char *
sdx_json_dumps(const msgpack_object *obj, size_t *len)
{
    jout_t o = {0};
    put_value(&o, obj);
    put(&o, "", 0);
    if (o.oom || !o.p) {
        free(o.p);
        return NULL;
    }
    o.p[o.len] = '\0'; /* put keeps a byte spare */
    if (len)
        *len = o.len;
    return o.p;
}

json_t *
sdx_json_from_msgpack(const msgpack_object *o)
{
    /* Through the writer's text, so that its rules are the only ones;
     * a duplicate key keeps its last value, as jansson's objects do. */
    size_t len = 0;
    char *text = sdx_json_dumps(o, &len);
    if (!text)
        return NULL;
    json_t *v = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL,
                           NULL);
    free(text);
    return v;
}

sdx_status_t
sdx_json_to_msgpack(const json_t *v, msgpack_packer *pk)
{
    int rc = 0;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *k;
        size_t klen;
        json_t *val;
        rc = msgpack_pack_map(pk, json_object_size(v));
        json_object_keylen_foreach((json_t *)v, k, klen, val) {
            if (rc == 0)
                rc = msgpack_pack_str_with_body(pk, k, klen);
            if (rc == 0 && sdx_json_to_msgpack(val, pk) != SDX_OK)
                rc = -1;
        }
        break;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *val;
        rc = msgpack_pack_array(pk, json_array_size(v));
        json_array_foreach((json_t *)v, i, val) {
            if (rc == 0 && sdx_json_to_msgpack(val, pk) != SDX_OK)
                rc = -1;
        }
        break;
    }
    case JSON_STRING:
        rc = msgpack_pack_str_with_body(pk, json_string_value(v),
                                        json_string_length(v));
        break;
    case JSON_INTEGER:
        rc = msgpack_pack_int64(pk, json_integer_value(v));
        break;
    case JSON_REAL:
        rc = msgpack_pack_double(pk, json_real_value(v));
        break;
    case JSON_TRUE:
        rc = msgpack_pack_true(pk);
        break;
    case JSON_FALSE:
        rc = msgpack_pack_false(pk);
        break;
    case JSON_NULL:
        rc = msgpack_pack_nil(pk);
        break;
    }
    return rc == 0 ? SDX_OK : SDX_NOMEM;
}

void
sdx_json_print(FILE *out, const msgpack_object *obj)
{
    size_t len = 0;
    char *text = sdx_json_dumps(obj, &len);
    if (text)
        fwrite(text, 1, len, out);
    else
        fputs("null", out); /* out of memory: still one JSON value */
    free(text);
}
