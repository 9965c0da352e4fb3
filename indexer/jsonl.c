/*
 * jsonl: JSON Lines of clause records -> clause records.
 *
 * For standards that do not come as the flattened-table text: any
 * organisation can export its job standards as one JSON object per
 * line, one line per clause (docs/CORPUS.md, "JSON Lines").  msgpack-c
 * reads no JSON, and a general JSON library would accept far more than
 * a clause record is, so this is a small strict reader for exactly that
 * shape: one flat object per line whose values are strings or integers,
 * with the keys of a clause record and nothing else.
 *
 * Strict means: standard JSON strings (escapes, \uXXXX with surrogate
 * pairs, UTF-8 checked, no raw control characters, no NUL), integers
 * without fraction or exponent, no duplicate or unknown keys, nothing
 * after the object but blanks.  Every error says "NAME:LINE: what",
 * with the column where that helps; one bad line and nothing from the
 * file is kept.  Cost: one pass over each line; a duplicate-id check
 * sorts the file's ids once.
 */
#include "parse.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdx_utf8.h"

#define ID_MAX 200       /* bytes of a clause id */
#define LEVEL_MAX 9      /* highest level */
#define ITEM_MAX 999     /* highest item number */

/* The state of one line's parse. */
typedef struct jp {
    const char *p;       /* the line */
    size_t n;            /* its length */
    size_t i;            /* the next byte */
    const char *why;     /* what went wrong (static), or NULL */
    size_t col;          /* 1-based column of WHY */
    char why_buf[128];   /* WHY when it had to be formatted */
} jp_t;

/* The keys of a clause record, in the order of docs/CORPUS.md. */
enum { K_ID, K_SERIES, K_LEVEL, K_JOB_CODE, K_TITLE, K_FLSA, K_ROW,
       K_SECTION, K_ITEM, K_TEXT, K_COUNT };

static const struct key {
    const char *name;    /* the JSON key */
    bool integer;        /* an integer value (else a string) */
    bool required;       /* must be present */
} keys[K_COUNT] = {
    [K_ID] = { "id", false, true },
    [K_SERIES] = { "series", false, true },
    [K_LEVEL] = { "level", true, true },
    [K_JOB_CODE] = { "job_code", false, false },
    [K_TITLE] = { "title", false, false },
    [K_FLSA] = { "flsa", false, false },
    [K_ROW] = { "row", false, true },
    [K_SECTION] = { "section", false, true },
    [K_ITEM] = { "item", true, false },
    [K_TEXT] = { "text", false, true },
};

static bool
bad(jp_t *j, const char *why)
{
    if (!j->why) {
        j->why = why;
        j->col = j->i + 1;
    }
    return false;
}

__attribute__((format(printf, 2, 3))) static bool
badf(jp_t *j, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->why_buf, sizeof j->why_buf, fmt, ap);
    va_end(ap);
    return bad(j, j->why_buf);
}

static void
skip_ws(jp_t *j)
{
    while (j->i < j->n && strchr(" \t\r", j->p[j->i]) && j->p[j->i])
        j->i++;
}

/* Append code point CP to OUT (at *K) as UTF-8. */
static void
put_utf8(char *out, size_t *k, uint32_t cp)
{
    if (cp < 0x80) {
        out[(*k)++] = (char)cp;
    } else if (cp < 0x800) {
        out[(*k)++] = (char)(0xc0 | cp >> 6);
        out[(*k)++] = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out[(*k)++] = (char)(0xe0 | cp >> 12);
        out[(*k)++] = (char)(0x80 | (cp >> 6 & 0x3f));
        out[(*k)++] = (char)(0x80 | (cp & 0x3f));
    } else {
        out[(*k)++] = (char)(0xf0 | cp >> 18);
        out[(*k)++] = (char)(0x80 | (cp >> 12 & 0x3f));
        out[(*k)++] = (char)(0x80 | (cp >> 6 & 0x3f));
        out[(*k)++] = (char)(0x80 | (cp & 0x3f));
    }
}

/* Four hex digits at J's position into *CP. */
static bool
hex4(jp_t *j, uint32_t *cp)
{
    *cp = 0;
    if (j->n - j->i < 4)
        return bad(j, "\\u needs four hex digits");
    for (int k = 0; k < 4; k++) {
        char c = j->p[j->i++];
        int v = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (v < 0)
            return bad(j, "\\u needs four hex digits");
        *cp = *cp << 4 | (uint32_t)v;
    }
    return true;
}

/*
 * A JSON string at J's position (on its '"') into *OUT (malloc'd; the
 * decoded text is never longer than the escaped one).
 */
static bool
read_string(jp_t *j, char **out)
{
    *out = NULL;
    if (j->i >= j->n || j->p[j->i] != '"')
        return bad(j, "expected a string");
    j->i++;
    char *s = malloc(j->n - j->i + 1);
    size_t k = 0;
    if (!s)
        return bad(j, "out of memory");
    for (;;) {
        if (j->i >= j->n) {
            free(s);
            return bad(j, "unterminated string");
        }
        unsigned char c = (unsigned char)j->p[j->i];
        if (c == '"') {
            j->i++;
            break;
        }
        if (c < 0x20) {
            free(s);
            return badf(j, "control character 0x%02x in a string "
                        "(escape it)", c);
        }
        if (c != '\\') {
            size_t len = sdx_utf8_seq_len((const unsigned char *)j->p + j->i,
                                  j->n - j->i);
            if (len == 0) {
                free(s);
                return badf(j, "invalid UTF-8 (byte 0x%02x)", c);
            }
            memcpy(s + k, j->p + j->i, len);
            k += len;
            j->i += len;
            continue;
        }
        j->i++;
        char e = j->i < j->n ? j->p[j->i++] : '\0';
        uint32_t cp, lo;
        switch (e) {
        case '"': s[k++] = '"'; break;
        case '\\': s[k++] = '\\'; break;
        case '/': s[k++] = '/'; break;
        case 'b': s[k++] = '\b'; break;
        case 'f': s[k++] = '\f'; break;
        case 'n': s[k++] = '\n'; break;
        case 'r': s[k++] = '\r'; break;
        case 't': s[k++] = '\t'; break;
        case 'u':
            if (!hex4(j, &cp))
                goto fail;
            if (cp >= 0xdc00 && cp <= 0xdfff) {
                bad(j, "a lone low surrogate (\\udc00..\\udfff)");
                goto fail;
            }
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (j->n - j->i < 2 || j->p[j->i] != '\\' ||
                    j->p[j->i + 1] != 'u') {
                    bad(j, "a high surrogate without its low half");
                    goto fail;
                }
                j->i += 2;
                if (!hex4(j, &lo))
                    goto fail;
                if (lo < 0xdc00 || lo > 0xdfff) {
                    bad(j, "a high surrogate without its low half");
                    goto fail;
                }
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }
            if (cp == 0) {
                bad(j, "\\u0000 (NUL) in a string");
                goto fail;
            }
            put_utf8(s, &k, cp);
            break;
        default:
            j->i--;
            bad(j, "unknown escape in a string");
            goto fail;
        }
    }
    s[k] = '\0';
    *out = s;
    return true;
fail:
    free(s);
    return false;
}

/* A JSON integer (no fraction, no exponent) within 0..MAX. */
static bool
read_int(jp_t *j, const char *key, long max, long *out)
{
    size_t b = j->i;
    bool neg = j->i < j->n && j->p[j->i] == '-';
    if (neg)
        j->i++;
    if (j->i >= j->n || j->p[j->i] < '0' || j->p[j->i] > '9') {
        j->i = b;
        return badf(j, "\"%s\": expected an integer", key);
    }
    long v = 0;
    while (j->i < j->n && j->p[j->i] >= '0' && j->p[j->i] <= '9') {
        if (v < 1000000)
            v = v * 10 + (j->p[j->i] - '0');
        j->i++;
    }
    if (j->i < j->n && strchr(".eE", j->p[j->i]) && j->p[j->i]) {
        j->i = b;
        return badf(j, "\"%s\": expected an integer, not a fraction",
                    key);
    }
    if (neg)
        v = -v;
    if (v < 0 || v > max) {
        j->i = b;
        return badf(j, "\"%s\": %ld is out of range 0..%ld", key, v, max);
    }
    *out = v;
    return true;
}

/* Whitespace runs (ASCII) in S to one space, trimmed, in place. */
static void
squeeze(char *s)
{
    size_t k = 0;
    bool space = true; /* drops leading blanks */
    for (size_t i = 0; s[i]; i++) {
        bool ws = strchr(" \t\r\n\f\b", s[i]) != NULL;
        if (ws && space)
            continue;
        s[k++] = ws ? ' ' : s[i];
        space = ws;
    }
    while (k > 0 && s[k - 1] == ' ')
        k--;
    s[k] = '\0';
}

/* Check the values of a record: what is wrong, or NULL. */
static bool
check_values(jp_t *j, char *const *str, const bool *seen, long level)
{
    for (int k = 0; k < K_COUNT; k++)
        if (keys[k].required && !seen[k])
            return badf(j, "missing key \"%s\"", keys[k].name);
    const char *id = str[K_ID];
    if (!id[0] || strlen(id) > ID_MAX || strpbrk(id, " \t\n\r"))
        return bad(j, "\"id\": 1 to 200 bytes without blanks");
    if (!sdx_section_valid(str[K_SECTION]))
        return badf(j, "\"section\": \"%.40s\" is not a section (one of "
                    "summary, scope, responsibility, ksa, education, "
                    "condition, environment)", str[K_SECTION]);
    char slug[8];
    if (sdx_slug(str[K_ROW], slug, sizeof slug) == 0)
        return bad(j, "\"row\": needs a letter or digit");
    for (int k = 0; k < K_COUNT; k++)
        if (!keys[k].integer && str[k] && strlen(str[k]) > 64 * 1024)
            return badf(j, "\"%s\": over 65536 bytes", keys[k].name);
    if (!str[K_TEXT][0])
        return bad(j, "\"text\": empty");
    if (!str[K_SERIES][0])
        return bad(j, "\"series\": empty");
    (void)level;
    return true;
}

/* Parse one non-blank line into *OUT (a new clause). */
static bool
parse_record(jp_t *j, sdx_clause_t **out)
{
    char *str[K_COUNT] = { NULL };
    bool seen[K_COUNT] = { false };
    long num[K_COUNT] = { 0 };
    sdx_clause_t *c = NULL;
    bool ok = false;

    *out = NULL;
    skip_ws(j);
    if (j->i >= j->n || j->p[j->i] != '{') {
        bad(j, "expected '{' (one JSON object per line)");
        goto cleanup;
    }
    j->i++;
    skip_ws(j);
    if (j->i < j->n && j->p[j->i] == '}') {
        bad(j, "an empty object");
        goto cleanup;
    }
    for (;;) {
        char *name = NULL;
        size_t at = j->i;
        skip_ws(j);
        if (!read_string(j, &name))
            goto cleanup;
        int k;
        for (k = 0; k < K_COUNT && strcmp(keys[k].name, name) != 0; k++)
            ;
        if (k == K_COUNT) {
            j->i = at;
            badf(j, "unknown key \"%.40s\" (a clause record has id, "
                 "series, level, job_code, title, flsa, row, section, "
                 "item, text)", name);
            free(name);
            goto cleanup;
        }
        free(name);
        if (seen[k]) {
            j->i = at;
            badf(j, "key \"%s\" twice", keys[k].name);
            goto cleanup;
        }
        seen[k] = true;
        skip_ws(j);
        if (j->i >= j->n || j->p[j->i] != ':') {
            bad(j, "expected ':'");
            goto cleanup;
        }
        j->i++;
        skip_ws(j);
        if (keys[k].integer) {
            long max = k == K_LEVEL ? LEVEL_MAX : ITEM_MAX;
            if (!read_int(j, keys[k].name, max, &num[k]))
                goto cleanup;
        } else if (j->i < j->n && j->p[j->i] != '"') {
            badf(j, "\"%s\": expected a string", keys[k].name);
            goto cleanup;
        } else if (!read_string(j, &str[k])) {
            goto cleanup;
        }
        skip_ws(j);
        if (j->i < j->n && j->p[j->i] == ',') {
            j->i++;
            continue;
        }
        if (j->i < j->n && j->p[j->i] == '}') {
            j->i++;
            break;
        }
        bad(j, "expected ',' or '}'");
        goto cleanup;
    }
    skip_ws(j);
    if (j->i < j->n) {
        bad(j, "text after the object (one object per line)");
        goto cleanup;
    }
    for (int k = 0; k < K_COUNT; k++)
        if (!keys[k].integer && !str[k] && !(str[k] = strdup(""))) {
            bad(j, "out of memory");
            goto cleanup;
        }
    squeeze(str[K_TEXT]);
    squeeze(str[K_ROW]);
    squeeze(str[K_SERIES]);
    if (!check_values(j, str, seen, num[K_LEVEL]))
        goto cleanup;
    if (!(c = sdx_clause_new())) {
        bad(j, "out of memory");
        goto cleanup;
    }
    const char *title = str[K_TITLE][0] ? str[K_TITLE] : str[K_SERIES];
    if (sdx_clause_set(&c->id, str[K_ID]) ||
        sdx_clause_set(&c->series, str[K_SERIES]) ||
        sdx_clause_set(&c->job_code, str[K_JOB_CODE]) ||
        sdx_clause_set(&c->title, title) ||
        sdx_clause_set(&c->flsa, str[K_FLSA]) ||
        sdx_clause_set(&c->row, str[K_ROW]) ||
        sdx_clause_set(&c->section, str[K_SECTION]) ||
        sdx_clause_set(&c->text, str[K_TEXT])) {
        bad(j, "out of memory");
        goto cleanup;
    }
    c->level = (int)num[K_LEVEL];
    c->item = (int)num[K_ITEM];
    *out = c;
    c = NULL;
    ok = true;
cleanup:
    sdx_clause_destroy(&c);
    for (int k = 0; k < K_COUNT; k++)
        free(str[k]);
    return ok;
}

/* For the duplicate check: a clause's id and line. */
typedef struct idline {
    const char *id;   /* the clause's id (not owned) */
    size_t line;      /* its line */
} idline_t;

static int
compare_idline(const void *a, const void *b)
{
    const idline_t *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    return c ? c : (x->line > y->line) - (x->line < y->line);
}

sdx_status_t
sdx_parse_jsonl(const char *name, const char *text, size_t len,
                sdx_clause_list_t *out, char *err, size_t err_size)
{
    sdx_clause_list_t tmp = SDX_CLAUSE_LIST_INIT;
    idline_t *lines = NULL;
    size_t nlines = 0, caplines = 0, lineno = 0;
    sdx_status_t st = SDX_OK;

    name = name ? name : "<jsonl>";
    if (err && err_size > 0)
        err[0] = '\0';
    if (len > SDX_PARSE_MAX_BYTES) {
        if (err && err_size > 0)
            snprintf(err, err_size, "%s: %zu bytes, over the limit of %d "
                     "bytes", name, len, SDX_PARSE_MAX_BYTES);
        return SDX_BAD_INPUT;
    }
    for (size_t b = 0; b < len;) {
        const char *nl = memchr(text + b, '\n', len - b);
        size_t e = nl ? (size_t)(nl - text) : len;
        jp_t j = { .p = text + b, .n = e - b };
        lineno++;
        b = e + 1;
        skip_ws(&j);
        if (j.i == j.n)
            continue; /* a blank line */
        j.i = 0;
        if (memchr(j.p, '\0', j.n)) {
            if (err && err_size > 0)
                snprintf(err, err_size, "%s:%zu: NUL byte: not a text "
                         "file", name, lineno);
            st = SDX_BAD_INPUT;
            goto cleanup;
        }
        sdx_clause_t *c = NULL;
        if (!parse_record(&j, &c)) {
            if (err && err_size > 0)
                snprintf(err, err_size, "%s:%zu: column %zu: %s", name,
                         lineno, j.col, j.why);
            st = strcmp(j.why, "out of memory") == 0 ? SDX_NOMEM
                                                      : SDX_BAD_INPUT;
            goto cleanup;
        }
        if (sdx_clause_list_push(&tmp, &c) != SDX_OK) {
            sdx_clause_destroy(&c);
            st = SDX_NOMEM;
            goto nomem;
        }
        if (nlines == caplines) {
            size_t cap = caplines ? caplines * 2 : 64;
            idline_t *l = realloc(lines, cap * sizeof *l);
            if (!l) {
                st = SDX_NOMEM;
                goto nomem;
            }
            lines = l;
            caplines = cap;
        }
        lines[nlines++] = (idline_t){ tmp.items[tmp.count - 1]->id, lineno };
    }
    if (tmp.count == 0) {
        if (err && err_size > 0)
            snprintf(err, err_size, "%s:%zu: no clause records (an empty "
                     "file)", name, lineno ? lineno : 1);
        st = SDX_BAD_INPUT;
        goto cleanup;
    }
    if (nlines > 1)
        qsort(lines, nlines, sizeof *lines, compare_idline);
    for (size_t i = 1; i < nlines; i++)
        if (strcmp(lines[i - 1].id, lines[i].id) == 0) {
            if (err && err_size > 0)
                snprintf(err, err_size, "%s:%zu: duplicate clause id "
                         "\"%s\" (first at line %zu)", name, lines[i].line,
                         lines[i].id, lines[i - 1].line);
            st = SDX_BAD_INPUT;
            goto cleanup;
        }
    for (size_t i = 0; i < tmp.count; i++) {
        if (sdx_clause_list_push(out, &tmp.items[i]) != SDX_OK) {
            /* give back what was moved: all or nothing */
            out->count -= i;
            memcpy(tmp.items, out->items + out->count,
                   i * sizeof *tmp.items);
            st = SDX_NOMEM;
            goto nomem;
        }
    }
    tmp.count = 0;
    goto cleanup;
nomem:
    if (err && err_size > 0)
        snprintf(err, err_size, "%s: out of memory", name);
cleanup:
    sdx_clause_list_clear(&tmp);
    free(lines);
    return st;
}
