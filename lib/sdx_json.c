/*
 * sdx_json: msgpack <-> JSON over jansson.  The tree is built whole and
 * then written (or packed): the replies and records that pass through
 * here are at most a few hundred kilobytes, and jansson gets the escapes,
 * number forms and strictness of JSON right where a hand printer has to
 * be checked case by case.
 */
#include "sdx_json.h"
#include "sdx_utf8.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* S (LEN bytes) as a jansson string, invalid UTF-8 bytes as U+FFFD. */
static json_t *
string_of(const char *s, size_t len)
{
    if (sdx_utf8_valid(s, len, NULL))
        return json_stringn_nocheck(s, len);
    /* Each bad byte grows to three (EF BF BD). */
    char *buf = malloc(len * 3 + 1);
    if (!buf)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        size_t k = sdx_utf8_seq_len((const unsigned char *)s + i, len - i);
        if (k == 0) {
            memcpy(buf + n, "\xef\xbf\xbd", 3);
            n += 3;
            i++;
        } else {
            memcpy(buf + n, s + i, k);
            n += k;
            i += k;
        }
    }
    json_t *v = json_stringn_nocheck(buf, n);
    free(buf);
    return v;
}

/* P (N bytes) as a string of hex digits. */
static json_t *
hex_of(const unsigned char *p, uint32_t n)
{
    static const char digits[] = "0123456789abcdef";
    char *buf = malloc((size_t)n * 2 + 1);
    if (!buf)
        return NULL;
    for (uint32_t i = 0; i < n; i++) {
        buf[2 * i] = digits[p[i] >> 4];
        buf[2 * i + 1] = digits[p[i] & 15];
    }
    json_t *v = json_stringn_nocheck(buf, (size_t)n * 2);
    free(buf);
    return v;
}

/* A map key as the text jansson's object wants; caller frees. */
static char *
key_text(const msgpack_object *k, size_t *len)
{
    if (k->type == MSGPACK_OBJECT_STR) {
        json_t *s = string_of(k->via.str.ptr, k->via.str.size);
        if (!s)
            return NULL;
        *len = json_string_length(s);
        char *out = malloc(*len + 1);
        if (out)
            memcpy(out, json_string_value(s), *len + 1);
        json_decref(s);
        return out;
    }
    json_t *v = sdx_json_from_msgpack(k);
    char *out = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY
                                  | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(v);
    if (out)
        *len = strlen(out);
    return out;
}

json_t *
sdx_json_from_msgpack(const msgpack_object *o)
{
    switch (o->type) {
    case MSGPACK_OBJECT_NIL:
        return json_null();
    case MSGPACK_OBJECT_BOOLEAN:
        return json_boolean(o->via.boolean);
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        /* json_int_t is long long: a u64 past its range keeps its value
         * as a real rather than wrapping to a negative number. */
        if (o->via.u64 > (uint64_t)INT64_MAX)
            return json_real((double)o->via.u64);
        return json_integer((json_int_t)o->via.u64);
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        return json_integer((json_int_t)o->via.i64);
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        return isfinite(o->via.f64) ? json_real(o->via.f64) : json_null();
    case MSGPACK_OBJECT_STR:
        return string_of(o->via.str.ptr, o->via.str.size);
    case MSGPACK_OBJECT_BIN:
        return hex_of((const unsigned char *)o->via.bin.ptr,
                      o->via.bin.size);
    case MSGPACK_OBJECT_EXT:
        return hex_of((const unsigned char *)o->via.ext.ptr,
                      o->via.ext.size);
    case MSGPACK_OBJECT_ARRAY: {
        json_t *a = json_array();
        for (uint32_t i = 0; a && i < o->via.array.size; i++) {
            json_t *v = sdx_json_from_msgpack(&o->via.array.ptr[i]);
            if (!v || json_array_append_new(a, v) != 0) {
                json_decref(a);
                a = NULL;
            }
        }
        return a;
    }
    case MSGPACK_OBJECT_MAP: {
        json_t *m = json_object();
        for (uint32_t i = 0; m && i < o->via.map.size; i++) {
            size_t klen = 0;
            char *k = key_text(&o->via.map.ptr[i].key, &klen);
            json_t *v = k ? sdx_json_from_msgpack(&o->via.map.ptr[i].val)
                          : NULL;
            if (!v || json_object_setn_new_nocheck(m, k, klen, v) != 0) {
                json_decref(m);
                m = NULL;
            }
            free(k);
        }
        return m;
    }
    }
    return json_null();
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
    json_t *v = sdx_json_from_msgpack(obj);
    if (!v || json_dumpf(v, out, JSON_COMPACT | JSON_ENCODE_ANY
                                 | JSON_REAL_PRECISION(17)) != 0)
        fputs("null", out); /* out of memory: still one JSON value */
    json_decref(v);
}
