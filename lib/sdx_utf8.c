/*
 * sdx_utf8: UTF-8 validation (see sdx_utf8.h).  A lead byte fixes the
 * sequence's length and first bits; the code point is then rebuilt so
 * overlong forms, surrogates and values past U+10FFFF can be refused.
 */
#include "sdx_utf8.h"

#include <stdint.h>
#include <stdio.h>

size_t
sdx_utf8_seq_len(const unsigned char *p, size_t left)
{
    size_t len;
    uint32_t cp;
    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        len = 2;
        cp = p[0] & 0x1f;
    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        len = 3;
        cp = p[0] & 0x0f;
    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        len = 4;
        cp = p[0] & 0x07;
    } else {
        return 0;
    }
    if (len > left)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

bool
sdx_utf8_valid(const char *buf, size_t len, size_t *bad)
{
    const unsigned char *s = (const unsigned char *)buf;
    size_t i = 0;
    while (i < len) {
        size_t n = sdx_utf8_seq_len(s + i, len - i);
        if (n == 0) {
            if (bad)
                *bad = i;
            return false;
        }
        i += n;
    }
    return true;
}

bool
sdx_utf8_check_text(const char *text, size_t len, size_t *line, char *msg,
                    size_t msg_size)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t ln = 1, col = 1;
    for (size_t i = 0; i < len;) {
        if (p[i] == '\n') {
            ln++;
            col = 1;
            i++;
            continue;
        }
        size_t n = sdx_utf8_seq_len(p + i, len - i);
        bool control = (p[i] < 0x20 && p[i] != '\t' && p[i] != '\r') ||
                       p[i] == 0x7f;
        if (p[i] == 0 || control || n == 0) {
            *line = ln;
            if (msg_size == 0)
                return false;
            if (p[i] == 0)
                snprintf(msg, msg_size,
                         "NUL byte at column %zu: not a text file", col);
            else if (control)
                snprintf(msg, msg_size,
                         "control character 0x%02x at column %zu", p[i], col);
            else
                snprintf(msg, msg_size,
                         "invalid UTF-8 (byte 0x%02x) at column %zu", p[i],
                         col);
            return false;
        }
        i += n;
        col++;
    }
    return true;
}
