/*
 * sdx_json: msgpack objects printed as JSON.  Small on purpose: specdex
 * never reads JSON back through this module, it only writes it, so a
 * printer over msgpack_object is all that is needed.
 */
#include "sdx_json.h"
#include "sdx_utf8.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

void
sdx_json_print_str(FILE *out, const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    fputc('"', out);
    for (size_t i = 0; i < len;) {
        unsigned char ch = s[i];
        if (ch == '"' || ch == '\\') {
            fputc('\\', out);
            fputc(ch, out);
            i++;
        } else if (ch == '\n') {
            fputs("\\n", out);
            i++;
        } else if (ch == '\t') {
            fputs("\\t", out);
            i++;
        } else if (ch == '\r') {
            fputs("\\r", out);
            i++;
        } else if (ch < 0x20 || ch == 0x7f) {
            fprintf(out, "\\u%04x", ch);
            i++;
        } else {
            size_t n = sdx_utf8_seq_len(s + i, len - i);
            if (n == 0) {
                fputs("\\ufffd", out);
                i++;
            } else {
                fwrite(s + i, 1, n, out);
                i += n;
            }
        }
    }
    fputc('"', out);
}

void
sdx_json_print(FILE *out, const msgpack_object *o)
{
    switch (o->type) {
    case MSGPACK_OBJECT_NIL:
        fputs("null", out);
        break;
    case MSGPACK_OBJECT_BOOLEAN:
        fputs(o->via.boolean ? "true" : "false", out);
        break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        fprintf(out, "%" PRIu64, o->via.u64);
        break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        fprintf(out, "%" PRId64, o->via.i64);
        break;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        if (isfinite(o->via.f64))
            fprintf(out, "%.17g", o->via.f64);
        else
            fputs("null", out);
        break;
    case MSGPACK_OBJECT_STR:
        sdx_json_print_str(out, o->via.str.ptr, o->via.str.size);
        break;
    case MSGPACK_OBJECT_BIN:
    case MSGPACK_OBJECT_EXT: {
        const unsigned char *p = (const unsigned char *)
            (o->type == MSGPACK_OBJECT_BIN ? o->via.bin.ptr : o->via.ext.ptr);
        uint32_t n = o->type == MSGPACK_OBJECT_BIN ? o->via.bin.size
                                                   : o->via.ext.size;
        fputc('"', out);
        for (uint32_t i = 0; i < n; i++)
            fprintf(out, "%02x", p[i]);
        fputc('"', out);
        break;
    }
    case MSGPACK_OBJECT_ARRAY:
        fputc('[', out);
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            if (i)
                fputc(',', out);
            sdx_json_print(out, &o->via.array.ptr[i]);
        }
        fputc(']', out);
        break;
    case MSGPACK_OBJECT_MAP:
        fputc('{', out);
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            const msgpack_object *k = &o->via.map.ptr[i].key;
            if (i)
                fputc(',', out);
            if (k->type == MSGPACK_OBJECT_STR) {
                sdx_json_print(out, k);
            } else {
                /* JSON keys must be strings; print the key's JSON form
                 * through a memory stream and quote it. */
                char *buf = NULL;
                size_t len = 0;
                FILE *mem = open_memstream(&buf, &len);
                if (mem) {
                    sdx_json_print(mem, k);
                    fclose(mem);
                    sdx_json_print_str(out, buf, len);
                } else {
                    fputs("\"?\"", out);
                }
                free(buf);
            }
            fputc(':', out);
            sdx_json_print(out, &o->via.map.ptr[i].val);
        }
        fputc('}', out);
        break;
    }
}
