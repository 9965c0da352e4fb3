/*
 * mp_notation: msgpack frames written in a small JSON-like notation, for
 * the protocol's tests (tests/unit/test_proto.c and test_daemon.c), so a
 * test case reads like the request it sends: {v:1, op:'ping'}.
 *
 * Keys are bare words or ints; strings are single-quoted and may hold
 * any byte (C escapes included; no quote inside); numbers are ints
 * unless they have a dot (float64); true, false and nil are themselves;
 * commas and colons are separators, nothing more.  Include after
 * <cmocka.h>: a malformed notation fails the test.
 */
#ifndef SDX_MP_NOTATION_H
#define SDX_MP_NOTATION_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

static void s_value(const char **p, msgpack_packer *pk);

static void
s_ws(const char **p)
{
    while (**p == ' ' || **p == ',' || **p == ':')
        (*p)++;
}

/* Count the entries of the list or map starting after its bracket. */
static size_t
s_count(const char *p, char close)
{
    size_t n = 0;
    int depth = 0;
    bool in_str = false, any = false;
    for (; *p; p++) {
        if (in_str) {
            in_str = *p != '\'';
            continue;
        }
        if (*p == '\'')
            in_str = true;
        if (depth == 0 && *p == close)
            break;
        if (*p == '[' || *p == '{')
            depth++;
        if (*p == ']' || *p == '}')
            depth--;
        if (depth == 0 && *p == ',')
            n++;
        if (*p != ' ')
            any = true;
    }
    return any ? n + 1 : 0;
}

static void
s_value(const char **p, msgpack_packer *pk)
{
    s_ws(p);
    const char *s = *p;
    if (*s == '{' || *s == '[') {
        char close = *s == '{' ? '}' : ']';
        size_t n = s_count(s + 1, close);
        if (*s == '{')
            msgpack_pack_map(pk, n);
        else
            msgpack_pack_array(pk, n);
        *p = s + 1;
        for (size_t i = 0; i < n * (*s == '{' ? 2 : 1); i++)
            s_value(p, pk);
        s_ws(p);
        assert_int_equal(**p, close);
        (*p)++;
    } else if (*s == '\'') {
        const char *end = strchr(s + 1, '\'');
        assert_non_null(end);
        msgpack_pack_str(pk, (size_t)(end - s - 1));
        msgpack_pack_str_body(pk, s + 1, (size_t)(end - s - 1));
        *p = end + 1;
    } else if (strncmp(s, "true", 4) == 0) {
        msgpack_pack_true(pk);
        *p = s + 4;
    } else if (strncmp(s, "false", 5) == 0) {
        msgpack_pack_false(pk);
        *p = s + 5;
    } else if (strncmp(s, "nil", 3) == 0) {
        msgpack_pack_nil(pk);
        *p = s + 3;
    } else if (*s == '-' || (*s >= '0' && *s <= '9')) {
        char *end;
        long long v = strtoll(s, &end, 10);
        if (*end == '.')
            msgpack_pack_double(pk, strtod(s, &end));
        else if (*s == '-')
            msgpack_pack_long_long(pk, v);
        else
            msgpack_pack_uint64(pk, strtoull(s, &end, 10));
        *p = end;
    } else {
        size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz_");
        assert_true(n > 0);
        msgpack_pack_str(pk, n);
        msgpack_pack_str_body(pk, s, n);
        *p = s + n;
    }
}

/* A frame in the notation, printf-style; the caller destroys SB. */
__attribute__((format(printf, 2, 3))) static void
s_mp(msgpack_sbuffer *sb, const char *fmt, ...)
{
    static char text[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    msgpack_packer pk;
    msgpack_sbuffer_init(sb);
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    const char *p = text;
    s_value(&p, &pk);
}

#endif /* SDX_MP_NOTATION_H */
