/*
 * parse: the flattened-table text of a job standard -> clause records.
 *
 * A job standard is a web page's table copied to lines (docs/CORPUS.md):
 * preamble lines, the series title ("Clinical Applications Professional
 * 1-5 HX", its range "1-5" giving the levels), a "Job Summary" line and
 * its paragraph (one clause, level 0), then one line per table row: a
 * row label glued to one cell per level with no separator at all.  The
 * metadata rows (Job Title, Job Code, Bargaining Unit, FLSA) give each
 * level's title, job code and FLSA status; every other row is text whose
 * cells become clauses.
 *
 * The hard part is finding the cell boundaries in a text row.  The rule:
 *
 *  1. Leading empty cells: each U+00A0 (optionally followed by spaces) in
 *     the whitespace right after the label is one empty cell, from
 *     level 1 up ("Key Resp 08\u00a0\u00a0Adjusts" = levels 1, 2 empty).
 *  2. Candidate boundaries in the rest of the row:
 *     strong: a sentence end ('.', '!' or '?', then any closing ')' '"'
 *       U+2019 U+201D) followed by a whitespace run holding at least one
 *       U+00A0, then an uppercase ASCII letter, '(', '"', U+2018 or U+201C;
 *     glued: a sentence end immediately followed by an uppercase ASCII
 *       letter ("complexity.Designs"), or a lowercase ASCII letter
 *       immediately followed by an uppercase one ("trainingBachelor").
 *     U+00A0 anywhere else ("to \u00a0enhance"), and ". " with plain
 *     spaces, are inside a cell.
 *  3. Every strong candidate is a cell boundary.  When more glued
 *     candidates remain than boundaries are needed, the combination that
 *     makes the row's cells most even (least sum of squared byte lengths)
 *     wins, found by a small dynamic programme: cells of one row describe
 *     one duty at successive levels, so they are of similar length.  In
 *     the seed, Key Resp 02 has five glued candidates for four boundaries;
 *     "...and outcomes.Utilizes innovative approaches..." stays inside
 *     level 4, which reads right (level 5 parallels level 4's first
 *     sentence).
 *  4. More strong candidates than boundaries, or fewer candidates in all,
 *     is an error naming the row: a file is indexed whole or not at all.
 *
 * Cost: one pass over the text to check it (UTF-8, no NUL or control
 * bytes), one over each line; the programme is O(boundaries x
 * candidates^2) per row, with candidates bounded by MAX_CANDIDATES.
 */
#include "parse.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sdx_utf8.h"

#define MAX_LEVELS 9         /* levels in a series: a range within 1..9 */
#define MIN_CODE 4           /* digits in one job code, at least */
#define MAX_CODE 8           /* digits in one job code, at most */
#define MAX_ROWS 1000        /* text rows in one standard */
#define MAX_CANDIDATES 1024  /* candidate boundaries in one row */
#define LABEL_MAX 64         /* bytes of a row label as written, with NUL */
#define EXCERPT 40           /* bytes of input quoted in an error */

/* A slice of the input text; not owned. */
typedef struct span {
    const char *p; /* first byte */
    size_t n;      /* length in bytes */
} span_t;

/* What a row is for. */
typedef enum row_role {
    ROLE_SUMMARY, /* "Job Summary": the series-wide paragraph follows */
    ROLE_TITLE,   /* "Job Title": each level's title */
    ROLE_CODE,    /* "Job Code": each level's job code */
    ROLE_UNIT,    /* "Bargaining Unit": checked, not stored */
    ROLE_FLSA,    /* "FLSA": each level's FLSA status */
    ROLE_TEXT,    /* a row of clauses */
} row_role_t;

/* One kind of row label. */
typedef struct row_kind {
    const char *label;   /* as written, without its number */
    row_role_t role;     /* what the row is for */
    const char *section; /* section kind of its clauses (ROLE_TEXT) */
    bool numbered;       /* the label carries a number: "Key Resp 06" */
    bool repeatable;     /* may occur more than once; then numbered 1.. */
} row_kind_t;

static const row_kind_t row_kinds[] = {
    { "Job Summary", ROLE_SUMMARY, "summary", false, false },
    { "Job Title", ROLE_TITLE, NULL, false, false },
    { "Job Code", ROLE_CODE, NULL, false, false },
    { "Bargaining Unit", ROLE_UNIT, NULL, false, false },
    { "FLSA", ROLE_FLSA, NULL, false, false },
    { "Generic Scope", ROLE_TEXT, "scope", false, false },
    { "Custom Scope", ROLE_TEXT, "scope", false, false },
    { "Key Resp", ROLE_TEXT, "responsibility", true, false },
    { "KSA", ROLE_TEXT, "ksa", true, false },
    { "Education", ROLE_TEXT, "education", false, true },
    { "Special Condition", ROLE_TEXT, "condition", false, true },
    { "Environment", ROLE_TEXT, "environment", false, true },
};

#define NKINDS (sizeof row_kinds / sizeof row_kinds[0])

/* A line matched against row_kinds[]. */
typedef struct row_match {
    const row_kind_t *kind; /* the kind of row */
    int item;               /* the label's number; 0 when none */
    char label[LABEL_MAX];  /* the label as written: "Key Resp 06" */
    span_t rest;            /* what follows the label, untrimmed */
} row_match_t;

/* A text row, its cells found. */
typedef struct text_row {
    const row_kind_t *kind;    /* the kind of row */
    size_t line;               /* 1-based line number */
    int item;                  /* clause item: label number or ordinal */
    char label[LABEL_MAX];     /* clause row: "Special Condition 2" */
    char *cells[MAX_LEVELS];   /* per level, normalised, owned; NULL:
                                * empty */
} text_row_t;

/* A candidate cell boundary: the cell before ends at END, the next
 * starts at START (byte offsets in the row's text). */
typedef struct cand {
    size_t end;   /* end of the cell before */
    size_t start; /* start of the cell after */
    bool strong;  /* sentence end + whitespace with U+00A0 */
    bool sentence; /* glued after a sentence end: "outcomes.Utilizes" */
} cand_t;

/* The state of one file's parse. */
typedef struct parser {
    const char *name;         /* file name for messages */
    char *err;                /* error buffer, may be NULL */
    size_t err_size;          /* its size in bytes */
    span_t series;            /* series title line, trimmed */
    size_t series_line;       /* its line number */
    size_t range_off;         /* byte offset of "1-5" in SERIES */
    size_t range_len;         /* its length in bytes */
    int lo;                   /* first level (1 for "1-5") */
    int nlev;                 /* number of levels (5 for "1-5") */
    span_t summary;           /* the summary paragraph (maybe lines) */
    size_t summary_line;      /* line of the "Job Summary" label */
    size_t meta_line[ROLE_TEXT]; /* line of each metadata row; 0: none */
    char *titles[MAX_LEVELS]; /* each level's title, owned */
    char codes[MAX_LEVELS][MAX_CODE + 1]; /* each level's job code */
    char *flsa[MAX_LEVELS];   /* each level's FLSA status, owned */
    text_row_t *rows;         /* text rows in file order, owned */
    size_t nrows;             /* rows held */
    size_t rows_cap;          /* rows allocated */
} parser_t;

/* ---- errors ---------------------------------------------------------- */

/* Write "NAME:LINE: row \"LABEL\": ..." into the error buffer. */
static sdx_status_t
fail(parser_t *ps, size_t line, const char *label, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static sdx_status_t
fail(parser_t *ps, size_t line, const char *label, const char *fmt, ...)
{
    va_list ap;
    int n;
    if (!ps->err || ps->err_size == 0)
        return SDX_BAD_INPUT;
    if (label)
        n = snprintf(ps->err, ps->err_size, "%s:%zu: row \"%s\": ",
                     ps->name, line, label);
    else
        n = snprintf(ps->err, ps->err_size, "%s:%zu: ", ps->name, line);
    if (n >= 0 && (size_t)n < ps->err_size) {
        va_start(ap, fmt);
        vsnprintf(ps->err + n, ps->err_size - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return SDX_BAD_INPUT;
}

static sdx_status_t
fail_nomem(parser_t *ps)
{
    if (ps->err && ps->err_size > 0)
        snprintf(ps->err, ps->err_size, "%s: out of memory", ps->name);
    return SDX_NOMEM;
}

/* Copy at most EXCERPT bytes of S into BUF (EXCERPT + 4 bytes), cut on
 * a UTF-8 boundary, "..." added when cut. */
static const char *
excerpt(span_t s, char *buf)
{
    size_t n = s.n;
    if (n > EXCERPT) {
        n = EXCERPT;
        while (n > 0 && ((unsigned char)s.p[n] & 0xc0) == 0x80)
            n--;
    }
    memcpy(buf, s.p, n);
    strcpy(buf + n, n < s.n ? "..." : "");
    return buf;
}

/* ---- bytes and characters -------------------------------------------- */

static bool
is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

static bool
is_lower(char c)
{
    return c >= 'a' && c <= 'z';
}

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* True when P (N bytes left) starts with the UTF-8 sequence U. */
static bool
starts(const char *p, size_t n, const char *u)
{
    size_t len = strlen(u);
    return n >= len && memcmp(p, u, len) == 0;
}

#define NBSP "\xc2\xa0"       /* U+00A0 NO-BREAK SPACE */
#define LSQUO "\xe2\x80\x98"  /* U+2018 ‘ */
#define RSQUO "\xe2\x80\x99"  /* U+2019 ’ */
#define LDQUO "\xe2\x80\x9c"  /* U+201C “ */
#define RDQUO "\xe2\x80\x9d"  /* U+201D ” */
#define ENDASH "\xe2\x80\x93" /* U+2013 – */

/* Length of the whitespace character at P (ASCII or U+00A0), or 0. */
static size_t
ws_len(const char *p, size_t n)
{
    if (n == 0)
        return 0;
    if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' ||
        *p == '\v' || *p == '\f')
        return 1;
    return starts(p, n, NBSP) ? 2 : 0;
}

/* S without whitespace at either end. */
static span_t
trim(span_t s)
{
    size_t w;
    while ((w = ws_len(s.p, s.n)) > 0) {
        s.p += w;
        s.n -= w;
    }
    while (s.n > 0) {
        if (ws_len(s.p + s.n - 1, 1))
            s.n--;
        else if (s.n >= 2 && starts(s.p + s.n - 2, 2, NBSP))
            s.n -= 2;
        else
            break;
    }
    return s;
}

/* Length of a closing mark after a sentence end at P: ) " ’ ”, or 0. */
static size_t
closer_len(const char *p, size_t n)
{
    if (n > 0 && (*p == ')' || *p == '"'))
        return 1;
    if (starts(p, n, RSQUO) || starts(p, n, RDQUO))
        return 3;
    return 0;
}

/* True when a cell may start at P after a strong boundary. */
static bool
is_opener(const char *p, size_t n)
{
    return n > 0 && (is_upper(*p) || *p == '(' || *p == '"' ||
                     starts(p, n, LSQUO) || starts(p, n, LDQUO));
}

/* Refuse what is not UTF-8 text: NUL, control bytes, bad sequences. */
static sdx_status_t
check_text(parser_t *ps, const char *text, size_t len)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t line = 1, col = 1;
    if (len > SDX_PARSE_MAX_BYTES)
        return fail(ps, 1, NULL, "%zu bytes, over the limit of %d bytes",
                    len, SDX_PARSE_MAX_BYTES);
    for (size_t i = 0; i < len;) {
        if (p[i] == '\n') {
            line++;
            col = 1;
            i++;
            continue;
        }
        if (p[i] == 0)
            return fail(ps, line, NULL,
                        "NUL byte at column %zu: not a text file", col);
        if ((p[i] < 0x20 && p[i] != '\t' && p[i] != '\r') || p[i] == 0x7f)
            return fail(ps, line, NULL,
                        "control character 0x%02x at column %zu", p[i],
                        col);
        size_t n = sdx_utf8_seq_len(p + i, len - i);
        if (n == 0)
            return fail(ps, line, NULL,
                        "invalid UTF-8 (byte 0x%02x) at column %zu", p[i],
                        col);
        i += n;
        col++;
    }
    return SDX_OK;
}

/*
 * A copy of S with whitespace runs as one space, trimmed, and a space
 * put at each offset of GAPS (NGAPS, ascending): the glued sentence ends
 * that were not cell boundaries ("outcomes.Utilizes" reads "outcomes.
 * Utilizes").  NULL when out of memory.
 */
static char *
norm_text(span_t s, const size_t *gaps, size_t ngaps)
{
    char *out = malloc(s.n + ngaps + 1);
    size_t o = 0, g = 0;
    bool space = false;
    if (!out)
        return NULL;
    for (size_t i = 0; i < s.n;) {
        size_t w = ws_len(s.p + i, s.n - i);
        while (g < ngaps && gaps[g] <= i) {
            space = space || (gaps[g] == i && o > 0);
            g++;
        }
        if (w > 0) {
            space = o > 0;
            i += w;
            continue;
        }
        if (space) {
            out[o++] = ' ';
            space = false;
        }
        out[o++] = s.p[i++];
    }
    out[o] = '\0';
    return out;
}

/* True when A and B hold the same bytes once whitespace is skipped. */
static bool
same_but_ws(span_t a, span_t b)
{
    size_t i = 0, j = 0, w;
    for (;;) {
        while ((w = ws_len(a.p + i, a.n - i)) > 0)
            i += w;
        while ((w = ws_len(b.p + j, b.n - j)) > 0)
            j += w;
        if (i == a.n || j == b.n)
            return i == a.n && j == b.n;
        if (a.p[i++] != b.p[j++])
            return false;
    }
}

/* ---- row labels ------------------------------------------------------ */

/*
 * Match LINE (trimmed) against the row labels.  A label must not run on
 * into a lowercase letter ("Educational" is no label); a numbered label
 * takes " " and one or two digits, 01..99.  Returns false when no label
 * fits; *BAD_NUMBER is set when a numbered label has a bad number.
 */
static bool
match_row(span_t line, row_match_t *m, bool *bad_number)
{
    *bad_number = false;
    for (size_t k = 0; k < NKINDS; k++) {
        const row_kind_t *kind = &row_kinds[k];
        size_t len = strlen(kind->label);
        int item = 0;
        if (line.n < len || memcmp(line.p, kind->label, len) != 0)
            continue;
        if (kind->numbered) {
            size_t d = 0;
            if (len < line.n && line.p[len] == ' ')
                while (d < 2 && len + 1 + d < line.n &&
                       is_digit(line.p[len + 1 + d])) {
                    item = item * 10 + (line.p[len + 1 + d] - '0');
                    d++;
                }
            if (d == 0)
                continue;
            len += 1 + d;
            if (item == 0)
                *bad_number = true;
        }
        if (len < line.n && is_lower(line.p[len]))
            continue;
        m->kind = kind;
        m->item = item;
        memcpy(m->label, line.p, len);
        m->label[len] = '\0';
        m->rest.p = line.p + len;
        m->rest.n = line.n - len;
        return true;
    }
    return false;
}

/*
 * A name for an unknown row in an error: the line up to its first glued
 * boundary (a lowercase letter or digit then an uppercase letter), at
 * most LABEL_MAX - 4 bytes: "Key Rsp 01" for "Key Rsp 01Applies...".
 */
static void
guess_label(span_t line, char *out)
{
    size_t n = 0;
    while (n < line.n && n < LABEL_MAX - 4) {
        if (n > 0 && is_upper(line.p[n]) &&
            (is_lower(line.p[n - 1]) || is_digit(line.p[n - 1])))
            break;
        n++;
    }
    while (n < line.n && n > 0 && ((unsigned char)line.p[n] & 0xc0) == 0x80)
        n--;
    memcpy(out, line.p, n);
    strcpy(out + n, n < line.n && n >= LABEL_MAX - 4 ? "..." : "");
}

/* ---- series title and metadata rows ---------------------------------- */

/*
 * Find the level range in the series title: a digit, '-' or U+2013, a
 * digit, standing as a word ("Professional 1-5 HX").
 */
static sdx_status_t
parse_series(parser_t *ps)
{
    span_t s = ps->series;
    char buf[EXCERPT + 4];
    for (size_t i = 0; i < s.n; i++) {
        size_t dash;
        if (!is_digit(s.p[i]) || (i > 0 && s.p[i - 1] != ' '))
            continue;
        if (i + 1 < s.n && s.p[i + 1] == '-')
            dash = 1;
        else if (starts(s.p + i + 1, s.n - i - 1, ENDASH))
            dash = 3;
        else
            continue;
        size_t j = i + 1 + dash;
        if (j >= s.n || !is_digit(s.p[j]) ||
            (j + 1 < s.n && s.p[j + 1] != ' '))
            continue;
        int lo = s.p[i] - '0', hi = s.p[j] - '0';
        if (lo < 1 || hi < lo)
            return fail(ps, ps->series_line, "Job Summary",
                        "series title \"%s\": level range %d-%d is not "
                        "ascending within 1..9", excerpt(s, buf), lo, hi);
        ps->range_off = i;
        ps->range_len = j + 1 - i;
        ps->lo = lo;
        ps->nlev = hi - lo + 1;
        return SDX_OK;
    }
    return fail(ps, ps->series_line, "Job Summary",
                "the series title before it, \"%s\", has no level range "
                "such as \"1-5\"", excerpt(s, buf));
}

/* The series title with its range replaced by WHAT (NUL-terminated). */
static char *
series_with(const parser_t *ps, const char *what)
{
    size_t wl = strlen(what);
    size_t tail = ps->series.n - ps->range_off - ps->range_len;
    char *out = malloc(ps->range_off + wl + tail + 1);
    if (!out)
        return NULL;
    memcpy(out, ps->series.p, ps->range_off);
    memcpy(out + ps->range_off, what, wl);
    memcpy(out + ps->range_off + wl,
           ps->series.p + ps->range_off + ps->range_len, tail);
    out[ps->range_off + wl + tail] = '\0';
    return out;
}

/* Job Title: the series title at each level, concatenated. */
static sdx_status_t
parse_titles(parser_t *ps, const row_match_t *m, size_t line)
{
    size_t total = 0, off = 0;
    char *all = NULL;
    char buf[EXCERPT + 4];
    sdx_status_t st = SDX_OK;
    for (int k = 0; k < ps->nlev; k++) {
        char num[2] = { (char)('0' + ps->lo + k), '\0' };
        ps->titles[k] = series_with(ps, num);
        if (!ps->titles[k])
            return fail_nomem(ps);
        total += strlen(ps->titles[k]);
    }
    all = malloc(total + 1);
    if (!all)
        return fail_nomem(ps);
    for (int k = 0; k < ps->nlev; k++) {
        size_t l = strlen(ps->titles[k]);
        memcpy(all + off, ps->titles[k], l);
        off += l;
    }
    all[off] = '\0';
    span_t want = { all, off };
    if (!same_but_ws(trim(m->rest), want))
        st = fail(ps, line, m->label,
                  "\"%s\" is not the series title at each level "
                  "(\"%s\" ... for levels %d..%d)", excerpt(m->rest, buf),
                  ps->titles[0], ps->lo, ps->lo + ps->nlev - 1);
    free(all);
    return st;
}

/* Job Code: N codes of equal length, digits only, all different. */
static sdx_status_t
parse_codes(parser_t *ps, const row_match_t *m, size_t line)
{
    char digits[MAX_LEVELS * MAX_CODE + 1];
    char buf[EXCERPT + 4];
    size_t nd = 0, w;
    span_t s = trim(m->rest);
    for (size_t i = 0; i < s.n;) {
        if ((w = ws_len(s.p + i, s.n - i)) > 0) {
            i += w;
            continue;
        }
        if (!is_digit(s.p[i]))
            return fail(ps, line, m->label,
                        "\"%s\" holds a non-digit", excerpt(s, buf));
        if (nd == sizeof digits - 1)
            return fail(ps, line, m->label,
                        "more than %zu digits", sizeof digits - 1);
        digits[nd++] = s.p[i++];
    }
    size_t per = nd / (size_t)ps->nlev;
    if (nd % (size_t)ps->nlev != 0 || per < MIN_CODE || per > MAX_CODE)
        return fail(ps, line, m->label,
                    "%zu digits are not %d job codes of %d to %d digits "
                    "each", nd, ps->nlev, MIN_CODE, MAX_CODE);
    for (int k = 0; k < ps->nlev; k++) {
        memcpy(ps->codes[k], digits + (size_t)k * per, per);
        ps->codes[k][per] = '\0';
        for (int j = 0; j < k; j++)
            if (strcmp(ps->codes[j], ps->codes[k]) == 0)
                return fail(ps, line, m->label,
                            "job code %s is given to levels %d and %d",
                            ps->codes[k], ps->lo + j, ps->lo + k);
    }
    return SDX_OK;
}

/* Bargaining Unit: one string repeated N times; checked, not stored. */
static sdx_status_t
parse_unit(parser_t *ps, const row_match_t *m, size_t line)
{
    char buf[EXCERPT + 4];
    span_t s = trim(m->rest);
    size_t per = s.n / (size_t)ps->nlev;
    bool ok = per > 0 && s.n % (size_t)ps->nlev == 0;
    for (int k = 1; ok && k < ps->nlev; k++)
        ok = memcmp(s.p, s.p + (size_t)k * per, per) == 0;
    if (!ok)
        return fail(ps, line, m->label,
                    "\"%s\" is not one bargaining unit repeated for %d "
                    "levels", excerpt(s, buf), ps->nlev);
    return SDX_OK;
}

/* FLSA: N values split at whitespace and at lowercase-uppercase glue
 * ("Non-ExemptExempt"). */
static sdx_status_t
parse_flsa(parser_t *ps, const row_match_t *m, size_t line)
{
    char buf[EXCERPT + 4];
    span_t s = trim(m->rest);
    int k = 0;
    size_t i = 0;
    while (i < s.n) {
        size_t j = i, w;
        while (j < s.n && ws_len(s.p + j, s.n - j) == 0 &&
               !(j > i && is_lower(s.p[j - 1]) && is_upper(s.p[j])))
            j++;
        if (k == ps->nlev)
            return fail(ps, line, m->label,
                        "\"%s\" holds more than %d values", excerpt(s, buf),
                        ps->nlev);
        ps->flsa[k] = strndup(s.p + i, j - i);
        if (!ps->flsa[k])
            return fail_nomem(ps);
        k++;
        i = j;
        while ((w = ws_len(s.p + i, s.n - i)) > 0)
            i += w;
    }
    if (k != ps->nlev)
        return fail(ps, line, m->label, "\"%s\" holds %d values, expected %d",
                    excerpt(s, buf), k, ps->nlev);
    return SDX_OK;
}

/* ---- text rows: finding the cells ------------------------------------ */

/* The candidate boundaries of S (rule 2 above), in order. */
static size_t
find_candidates(span_t s, cand_t *c, size_t max, bool *too_many)
{
    size_t m = 0;
    *too_many = false;
    for (size_t i = 0; i < s.n; i++) {
        size_t end = 0, start = 0, k, l;
        bool strong = false, sentence = false;
        char ch = s.p[i];
        if (ch == '.' || ch == '!' || ch == '?') {
            for (k = i + 1; (l = closer_len(s.p + k, s.n - k)) > 0; k += l)
                ;
            if (k < s.n && is_upper(s.p[k])) {
                end = start = k;
                sentence = true;
            } else {
                bool nbsp = false;
                size_t w = k;
                while ((l = ws_len(s.p + w, s.n - w)) > 0) {
                    nbsp = nbsp || l == 2;
                    w += l;
                }
                if (!nbsp || !is_opener(s.p + w, s.n - w))
                    continue;
                end = k;
                start = w;
                strong = true;
            }
        } else if (is_lower(ch) && i + 1 < s.n && is_upper(s.p[i + 1])) {
            end = start = i + 1;
        } else {
            continue;
        }
        if (m > 0 && c[m - 1].end == end)
            continue;
        if (m == max) {
            *too_many = true;
            return m;
        }
        c[m].end = end;
        c[m].start = start;
        c[m].strong = strong;
        c[m].sentence = sentence;
        m++;
    }
    return m;
}

static uint64_t
square(size_t n)
{
    return (uint64_t)n * (uint64_t)n;
}

/*
 * Choose NEED of the M candidates (rule 3): all strong ones, and glued
 * ones so that the sum of squared cell lengths is least.  PICK gets the
 * chosen indexes in order.  f[t][j] is the least cost of the first t+1
 * cells when the (t+1)-th boundary is candidate j; a step from i to j
 * may not pass over a strong candidate.  Ties go to the earlier choice.
 */
static sdx_status_t
choose(const cand_t *c, size_t m, size_t need, size_t total, size_t *pick)
{
    uint64_t *f = NULL;
    size_t *from = NULL, *sp = NULL;
    sdx_status_t st = SDX_NOMEM;
    const uint64_t inf = UINT64_MAX;
    if (need == 0)
        return SDX_OK;
    f = malloc(need * m * sizeof *f);
    from = malloc(need * m * sizeof *from);
    sp = malloc((m + 1) * sizeof *sp);
    if (!f || !from || !sp)
        goto cleanup;
    /* sp[j]: strong candidates among c[0..j) */
    sp[0] = 0;
    for (size_t j = 0; j < m; j++)
        sp[j + 1] = sp[j] + (c[j].strong ? 1 : 0);
    for (size_t j = 0; j < m; j++)
        f[j] = sp[j] == 0 ? square(c[j].end) : inf;
    for (size_t t = 1; t < need; t++) {
        for (size_t j = 0; j < m; j++) {
            uint64_t best = inf;
            size_t arg = 0;
            for (size_t i = 0; i < j; i++) {
                uint64_t prev = f[(t - 1) * m + i];
                if (prev == inf || sp[j] - sp[i + 1] != 0)
                    continue;
                uint64_t cost = prev + square(c[j].end - c[i].start);
                if (cost < best) {
                    best = cost;
                    arg = i;
                }
            }
            f[t * m + j] = best;
            from[t * m + j] = arg;
        }
    }
    uint64_t best = inf;
    size_t last = 0;
    for (size_t j = 0; j < m; j++) {
        uint64_t prev = f[(need - 1) * m + j];
        if (prev == inf || sp[m] - sp[j + 1] != 0)
            continue;
        uint64_t cost = prev + square(total - c[j].start);
        if (cost < best) {
            best = cost;
            last = j;
        }
    }
    if (best == inf) {
        st = SDX_INTERNAL; /* the caller checked a choice exists */
        goto cleanup;
    }
    for (size_t t = need; t-- > 0;) {
        pick[t] = last;
        if (t > 0)
            last = from[t * m + last];
    }
    st = SDX_OK;
cleanup:
    free(f);
    free(from);
    free(sp);
    return st;
}

/* Split a text row's cells (rules 1-4) into R->cells. */
static sdx_status_t
split_cells(parser_t *ps, const row_match_t *m, size_t line, text_row_t *r)
{
    cand_t *c = NULL;
    size_t *gaps = NULL, pick[MAX_LEVELS];
    sdx_status_t st = SDX_OK;
    span_t s = m->rest;
    int empties = 0;
    size_t w;
    bool too_many;
    /* Rule 1: each U+00A0 right after the label is an empty cell. */
    while ((w = ws_len(s.p, s.n)) > 0) {
        empties += w == 2;
        s.p += w;
        s.n -= w;
    }
    s = trim(s);
    if (s.n == 0)
        return fail(ps, line, m->label, "the row has no text");
    if (empties >= ps->nlev)
        return fail(ps, line, m->label,
                    "%d empty cells (U+00A0) before the text, but the "
                    "series has %d levels", empties, ps->nlev);
    size_t ncells = (size_t)(ps->nlev - empties), need = ncells - 1;
    c = malloc(MAX_CANDIDATES * sizeof *c);
    if (!c)
        return fail_nomem(ps);
    size_t nc = find_candidates(s, c, MAX_CANDIDATES, &too_many);
    size_t nstrong = 0;
    for (size_t i = 0; i < nc; i++)
        nstrong += c[i].strong;
    if (too_many) {
        st = fail(ps, line, m->label,
                  "more than %d candidate cell boundaries",
                  MAX_CANDIDATES);
        goto cleanup;
    }
    if (nstrong > need) {
        st = fail(ps, line, m->label,
                  "found %zu cell boundaries marked by U+00A0 but "
                  "expected %zu cells (%d empty), so at most %zu",
                  nstrong, ncells, empties, need);
        goto cleanup;
    }
    if (nc < need) {
        st = fail(ps, line, m->label,
                  "found %zu cells, expected %zu (%d levels, %d empty)",
                  nc + 1, ncells, ps->nlev, empties);
        goto cleanup;
    }
    st = choose(c, nc, need, s.n, pick);
    if (st == SDX_NOMEM) {
        st = fail_nomem(ps);
        goto cleanup;
    }
    if (st != SDX_OK) {
        st = fail(ps, line, m->label, "internal error: no segmentation");
        goto cleanup;
    }
    /* Each cell, with a space where a glued sentence end stays inside
     * it (at most NC such places in all). */
    gaps = malloc((nc + 1) * sizeof *gaps);
    if (!gaps) {
        st = fail_nomem(ps);
        goto cleanup;
    }
    for (size_t k = 0, ci = 0; k < ncells; k++) {
        size_t a = k == 0 ? 0 : c[pick[k - 1]].start;
        size_t b = k == need ? s.n : c[pick[k]].end;
        size_t ngaps = 0;
        span_t cell = { s.p + a, b - a };
        for (; ci < nc && c[ci].end < b; ci++)
            if (c[ci].start > a && c[ci].sentence)
                gaps[ngaps++] = c[ci].end - a;
        if (k < need)
            ci++; /* the boundary itself */
        if (trim(cell).n == 0) {
            st = fail(ps, line, m->label, "cell %zu is empty", k + 1);
            goto cleanup;
        }
        r->cells[empties + (int)k] = norm_text(cell, gaps, ngaps);
        if (!r->cells[empties + (int)k]) {
            st = fail_nomem(ps);
            goto cleanup;
        }
    }
cleanup:
    free(c);
    free(gaps);
    return st;
}

/* ---- rows ------------------------------------------------------------ */

static const char *const meta_names[] = {
    [ROLE_TITLE] = "Job Title", [ROLE_CODE] = "Job Code",
    [ROLE_UNIT] = "Bargaining Unit", [ROLE_FLSA] = "FLSA",
};

static sdx_status_t
add_text_row(parser_t *ps, const row_match_t *m, size_t line)
{
    for (int role = ROLE_TITLE; role <= ROLE_CODE; role++)
        if (ps->meta_line[role] == 0)
            return fail(ps, line, m->label,
                        "appears before the metadata rows (no \"%s\" row "
                        "yet; Job Title, Job Code, Bargaining Unit and "
                        "FLSA come first)", meta_names[role]);
    if (!m->kind->repeatable)
        for (size_t i = 0; i < ps->nrows; i++)
            if (ps->rows[i].kind == m->kind &&
                ps->rows[i].item == m->item)
                return fail(ps, line, m->label,
                            "appears twice (first at line %zu)",
                            ps->rows[i].line);
    if (ps->nrows == MAX_ROWS)
        return fail(ps, line, m->label, "more than %d rows", MAX_ROWS);
    if (ps->nrows == ps->rows_cap) {
        size_t cap = ps->rows_cap ? ps->rows_cap * 2 : 32;
        text_row_t *rows = realloc(ps->rows, cap * sizeof *rows);
        if (!rows)
            return fail_nomem(ps);
        ps->rows = rows;
        ps->rows_cap = cap;
    }
    text_row_t *r = &ps->rows[ps->nrows];
    memset(r, 0, sizeof *r);
    r->kind = m->kind;
    r->line = line;
    r->item = m->item;
    strcpy(r->label, m->label);
    ps->nrows++; /* counted now so that its cells are freed on error */
    return split_cells(ps, m, line, r);
}

static sdx_status_t
add_row(parser_t *ps, const row_match_t *m, size_t line)
{
    row_role_t role = m->kind->role;
    if (role == ROLE_SUMMARY)
        return fail(ps, line, m->label, "appears twice (first at line %zu)",
                    ps->summary_line);
    if (role == ROLE_TEXT)
        return add_text_row(ps, m, line);
    if (ps->nrows > 0)
        return fail(ps, line, m->label,
                    "metadata row after the text rows (Job Title, Job "
                    "Code, Bargaining Unit and FLSA come first)");
    if (ps->meta_line[role] != 0)
        return fail(ps, line, m->label, "appears twice (first at line %zu)",
                    ps->meta_line[role]);
    ps->meta_line[role] = line;
    switch (role) {
    case ROLE_TITLE:
        return parse_titles(ps, m, line);
    case ROLE_CODE:
        return parse_codes(ps, m, line);
    case ROLE_UNIT:
        return parse_unit(ps, m, line);
    case ROLE_FLSA:
        return parse_flsa(ps, m, line);
    default:
        return SDX_INTERNAL;
    }
}

/* ---- lines ----------------------------------------------------------- */

/* Where a parse is in the file. */
typedef enum where {
    IN_PREAMBLE, /* before "Job Summary": remember the last line */
    IN_SUMMARY,  /* the summary paragraph, up to the first row label */
    IN_ROWS,     /* every line is a row */
} where_t;

static sdx_status_t
read_lines(parser_t *ps, const char *text, size_t len)
{
    where_t where = IN_PREAMBLE;
    size_t line = 0, nonblank = 0;
    const char *p = text, *end = text + len;
    sdx_status_t st;
    row_match_t m;
    char buf[LABEL_MAX];
    /* A UTF-8 byte order mark is not part of the text. */
    if (starts(p, len, "\xef\xbb\xbf"))
        p += 3;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        span_t t = { p, (size_t)((nl ? nl : end) - p) };
        bool bad_number, is_row;
        p = nl ? nl + 1 : end;
        line++;
        t = trim(t);
        if (t.n == 0)
            continue;
        nonblank++;
        is_row = match_row(t, &m, &bad_number);
        switch (where) {
        case IN_PREAMBLE:
            if (!is_row || m.kind->role != ROLE_SUMMARY) {
                ps->series = t;
                ps->series_line = line;
                continue;
            }
            if (ps->series.n == 0)
                return fail(ps, line, m.label,
                            "no series title line before it");
            if ((st = parse_series(ps)) != SDX_OK)
                return st;
            ps->summary_line = line;
            ps->summary = trim(m.rest);
            where = IN_SUMMARY;
            continue;
        case IN_SUMMARY:
            if (!is_row) {
                if (ps->summary.n == 0)
                    ps->summary = t;
                else
                    ps->summary.n = (size_t)(t.p + t.n - ps->summary.p);
                continue;
            }
            if (ps->summary.n == 0)
                return fail(ps, ps->summary_line, "Job Summary",
                            "no summary paragraph after it");
            where = IN_ROWS;
            /* fall through */
        case IN_ROWS:
            if (!is_row) {
                guess_label(t, buf);
                return fail(ps, line, buf, "unknown row label");
            }
            if (bad_number)
                return fail(ps, line, m.label, "row number must be 01..99");
            if ((st = add_row(ps, &m, line)) != SDX_OK)
                return st;
            continue;
        }
    }
    if (nonblank == 0)
        return fail(ps, line ? line : 1, NULL, "empty file");
    if (where == IN_PREAMBLE)
        return fail(ps, line, "Job Summary",
                    "not found: not a job standard in the flattened-table "
                    "format (docs/CORPUS.md)");
    if (where == IN_SUMMARY && ps->summary.n == 0)
        return fail(ps, ps->summary_line, "Job Summary",
                    "no summary paragraph after it");
    if (where == IN_SUMMARY || ps->meta_line[ROLE_TITLE] == 0 ||
        ps->meta_line[ROLE_CODE] == 0)
        return fail(ps, line, ps->meta_line[ROLE_TITLE] ? "Job Code"
                                                        : "Job Title",
                    "missing at the end of the file");
    if (ps->nrows == 0)
        return fail(ps, line, NULL,
                    "no text rows (Generic Scope, Key Resp NN, KSA NN, "
                    "...) after the metadata rows");
    return SDX_OK;
}

/* ---- clauses --------------------------------------------------------- */

/* A new clause; TEXT is already normalised.  NULL when out of memory. */
static sdx_clause_t *
make_clause(const char *id, const char *series, int level,
            const char *code, const char *title, const char *flsa,
            const char *row, const char *section, int item,
            const char *text)
{
    sdx_clause_t *c = sdx_clause_new();
    char *norm = strdup(text);
    if (!c || !norm)
        goto fail;
    if (sdx_clause_set(&c->id, id) != SDX_OK ||
        sdx_clause_set(&c->series, series) != SDX_OK ||
        sdx_clause_set(&c->job_code, code) != SDX_OK ||
        sdx_clause_set(&c->title, title) != SDX_OK ||
        sdx_clause_set(&c->flsa, flsa) != SDX_OK ||
        sdx_clause_set(&c->row, row) != SDX_OK ||
        sdx_clause_set(&c->section, section) != SDX_OK)
        goto fail;
    free(c->text);
    c->text = norm;
    c->level = level;
    c->item = item;
    return c;
fail:
    free(norm);
    sdx_clause_destroy(&c);
    return NULL;
}

/* Append C to LIST, or free it; false when out of memory. */
static bool
push_or_free(sdx_clause_list_t *list, sdx_clause_t *c)
{
    if (!c)
        return false;
    if (sdx_clause_list_push(list, &c) != SDX_OK) {
        sdx_clause_destroy(&c);
        return false;
    }
    return true;
}

/* Number repeated labels ("Special Condition 1", "... 2"). */
static void
number_repeats(parser_t *ps)
{
    for (size_t i = 0; i < ps->nrows; i++) {
        text_row_t *r = &ps->rows[i];
        int count = 0, ordinal = 0;
        if (!r->kind->repeatable)
            continue;
        for (size_t j = 0; j < ps->nrows; j++) {
            if (ps->rows[j].kind != r->kind)
                continue;
            count++;
            if (j <= i)
                ordinal++;
        }
        if (count > 1) {
            snprintf(r->label, sizeof r->label, "%s %d", r->kind->label,
                     ordinal);
            r->item = ordinal;
        }
    }
}

static sdx_status_t
make_clauses(parser_t *ps, sdx_clause_list_t *out)
{
    char *series = NULL, *bare = NULL, *id = NULL, *summary = NULL;
    sdx_status_t st = SDX_NOMEM;
    size_t idsize = ps->series.n + LABEL_MAX + MAX_CODE + 16;
    series = strndup(ps->series.p, ps->series.n);
    bare = series_with(ps, "");
    id = malloc(idsize);
    summary = norm_text(ps->summary, NULL, 0);
    if (!series || !bare || !id || !summary)
        goto cleanup;
    /* The slug of the series without its range is never longer than it;
     * "/job-summary" fits in the room left for a label. */
    int n = sdx_slug(bare, id, idsize);
    if (n < 0)
        goto cleanup;
    strcpy(id + n, "/job-summary");
    if (!push_or_free(out, make_clause(id, series, 0, "", series, "",
                                       "Job Summary", "summary", 0,
                                       summary)))
        goto cleanup;
    number_repeats(ps);
    for (size_t i = 0; i < ps->nrows; i++) {
        const text_row_t *r = &ps->rows[i];
        for (int k = 0; k < ps->nlev; k++) {
            if (!r->cells[k])
                continue;
            n = snprintf(id, idsize, "%s/", ps->codes[k]);
            if (n < 0 || sdx_slug(r->label, id + n, idsize - (size_t)n) < 0)
                goto cleanup;
            if (!push_or_free(out, make_clause(id, series, ps->lo + k,
                                               ps->codes[k], ps->titles[k],
                                               ps->flsa[k] ? ps->flsa[k]
                                                           : "",
                                               r->label, r->kind->section,
                                               r->item, r->cells[k])))
                goto cleanup;
        }
    }
    st = SDX_OK;
cleanup:
    free(series);
    free(bare);
    free(id);
    free(summary);
    if (st != SDX_OK)
        return fail_nomem(ps);
    return st;
}

/* ---- lists ----------------------------------------------------------- */

/* Make room for NEED clauses in LIST. */
static sdx_status_t
list_reserve(sdx_clause_list_t *list, size_t need)
{
    if (need <= list->cap)
        return SDX_OK;
    size_t cap = list->cap ? list->cap : 64;
    while (cap < need) {
        if (cap > SIZE_MAX / 2 / sizeof *list->items)
            return SDX_NOMEM;
        cap *= 2;
    }
    sdx_clause_t **items = realloc(list->items, cap * sizeof *items);
    if (!items)
        return SDX_NOMEM;
    list->items = items;
    list->cap = cap;
    return SDX_OK;
}

/* Move every clause of FROM to the end of TO; all or nothing. */
static sdx_status_t
list_move(sdx_clause_list_t *to, sdx_clause_list_t *from)
{
    if (from->count == 0)
        return SDX_OK;
    if (list_reserve(to, to->count + from->count) != SDX_OK)
        return SDX_NOMEM;
    memcpy(to->items + to->count, from->items,
           from->count * sizeof *from->items);
    to->count += from->count;
    from->count = 0;
    return SDX_OK;
}

sdx_status_t
sdx_clause_list_push(sdx_clause_list_t *list, sdx_clause_t **clause_p)
{
    if (list_reserve(list, list->count + 1) != SDX_OK)
        return SDX_NOMEM;
    list->items[list->count++] = *clause_p;
    *clause_p = NULL;
    return SDX_OK;
}

void
sdx_clause_list_clear(sdx_clause_list_t *list)
{
    for (size_t i = 0; i < list->count; i++)
        sdx_clause_destroy(&list->items[i]);
    free(list->items);
    list->items = NULL;
    list->count = 0;
    list->cap = 0;
}

/* ---- entry points ---------------------------------------------------- */

sdx_status_t
sdx_parse_text(const char *name, const char *text, size_t len,
               sdx_clause_list_t *out, char *err, size_t err_size)
{
    parser_t ps = { .name = name ? name : "<text>", .err = err,
                    .err_size = err_size };
    sdx_clause_list_t tmp = SDX_CLAUSE_LIST_INIT;
    sdx_status_t st;
    if (err && err_size > 0)
        err[0] = '\0';
    if ((st = check_text(&ps, text, len)) != SDX_OK)
        goto cleanup;
    if ((st = read_lines(&ps, text, len)) != SDX_OK)
        goto cleanup;
    if ((st = make_clauses(&ps, &tmp)) != SDX_OK)
        goto cleanup;
    if (list_move(out, &tmp) != SDX_OK)
        st = fail_nomem(&ps);
cleanup:
    sdx_clause_list_clear(&tmp);
    for (int k = 0; k < MAX_LEVELS; k++) {
        free(ps.titles[k]);
        free(ps.flsa[k]);
    }
    for (size_t i = 0; i < ps.nrows; i++)
        for (int k = 0; k < MAX_LEVELS; k++)
            free(ps.rows[i].cells[k]);
    free(ps.rows);
    return st;
}

/* Write "PATH: what: strerror" into ERR; SDX_IO. */
static sdx_status_t
io_fail(const char *path, const char *what, int errnum, char *err,
        size_t err_size)
{
    if (err && err_size > 0)
        snprintf(err, err_size, "%s: %s: %s", path, what, strerror(errnum));
    return SDX_IO;
}

/* True when NAME ends in SUFFIX and has something before it. */
static bool
ends_with(const char *name, const char *suffix)
{
    size_t n = strlen(name), k = strlen(suffix);
    return n > k && strcmp(name + n - k, suffix) == 0;
}

/* The last component of PATH. */
static const char *
base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/*
 * Which file each clause came from, for the duplicate-id message: file
 * I holds the clauses before ENDS[I] (and from ENDS[I-1] on).
 */
typedef struct origins {
    char **paths;   /* file paths, owned */
    size_t *ends;   /* clause count after each file */
    size_t n, cap;  /* files recorded, slots */
} origins_t;

static void
origins_clear(origins_t *o)
{
    for (size_t i = 0; i < o->n; i++)
        free(o->paths[i]);
    free(o->paths);
    free(o->ends);
    memset(o, 0, sizeof *o);
}

/* Record that the clauses up to END came from PATH. */
static sdx_status_t
origins_add(origins_t *o, const char *path, size_t end)
{
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 16;
        char **p = realloc(o->paths, cap * sizeof *p);
        if (!p)
            return SDX_NOMEM;
        o->paths = p;
        size_t *e = realloc(o->ends, cap * sizeof *e);
        if (!e)
            return SDX_NOMEM;
        o->ends = e;
        o->cap = cap;
    }
    if (!(o->paths[o->n] = strdup(path)))
        return SDX_NOMEM;
    o->ends[o->n++] = end;
    return SDX_OK;
}

/* The file clause I came from. */
static const char *
origin_of(const origins_t *o, size_t i)
{
    for (size_t f = 0; f < o->n; f++)
        if (i < o->ends[f])
            return o->paths[f];
    return "?";
}

/* Sort clause indices by id, then by index (first seen first). */
static const sdx_clause_list_t *sort_list; /* qsort has no context arg */

static int
compare_ids(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int c = strcmp(sort_list->items[x]->id, sort_list->items[y]->id);
    return c ? c : (x > y) - (x < y);
}

/*
 * SDX_BAD_INPUT when two clauses of LIST share an id: the message names
 * the id and both files.  O(n log n).
 */
static sdx_status_t
check_unique_ids(const sdx_clause_list_t *list, const origins_t *o,
                 char *err, size_t err_size)
{
    sdx_status_t st = SDX_OK;
    if (list->count < 2)
        return SDX_OK;
    size_t *idx = malloc(list->count * sizeof *idx);
    if (!idx) {
        if (err && err_size > 0)
            snprintf(err, err_size, "out of memory");
        return SDX_NOMEM;
    }
    for (size_t i = 0; i < list->count; i++)
        idx[i] = i;
    sort_list = list;
    qsort(idx, list->count, sizeof *idx, compare_ids);
    sort_list = NULL;
    for (size_t i = 1; i < list->count; i++) {
        const sdx_clause_t *a = list->items[idx[i - 1]];
        const sdx_clause_t *b = list->items[idx[i]];
        if (strcmp(a->id, b->id) != 0)
            continue;
        const char *fa = origin_of(o, idx[i - 1]);
        const char *fb = origin_of(o, idx[i]);
        if (err && err_size > 0) {
            if (strcmp(fa, fb) == 0)
                snprintf(err, err_size, "%s: duplicate clause id \"%s\" "
                         "(twice in this file)", fa, a->id);
            else
                snprintf(err, err_size, "duplicate clause id \"%s\": in "
                         "%s and in %s", a->id, fa, fb);
        }
        st = SDX_BAD_INPUT;
        break;
    }
    free(idx);
    return st;
}

/* Read and parse one file into OUT: *.jsonl as JSON Lines, else text. */
static sdx_status_t
parse_file(const char *path, sdx_clause_list_t *out, char *err,
           size_t err_size)
{
    struct stat sb;
    char *buf = NULL;
    size_t len = 0;
    sdx_status_t st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return io_fail(path, "cannot open", errno, err, err_size);
    if (fstat(fd, &sb) != 0) {
        st = io_fail(path, "cannot stat", errno, err, err_size);
        goto cleanup;
    }
    if (!S_ISREG(sb.st_mode)) {
        st = io_fail(path, "cannot read", EINVAL, err, err_size);
        goto cleanup;
    }
    /* Check the limit before allocating; read one byte past it so a
     * file that grew meanwhile is still caught. */
    if (sb.st_size > SDX_PARSE_MAX_BYTES) {
        if (err && err_size > 0)
            snprintf(err, err_size, "%s: %lld bytes, over the limit of "
                     "%d bytes", path, (long long)sb.st_size,
                     SDX_PARSE_MAX_BYTES);
        st = SDX_BAD_INPUT;
        goto cleanup;
    }
    size_t cap = (size_t)sb.st_size + 1;
    buf = malloc(cap);
    if (!buf) {
        if (err && err_size > 0)
            snprintf(err, err_size, "%s: out of memory", path);
        st = SDX_NOMEM;
        goto cleanup;
    }
    for (;;) {
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            st = io_fail(path, "cannot read", errno, err, err_size);
            goto cleanup;
        }
        if (r == 0)
            break;
        len += (size_t)r;
        if (len == cap) {
            if (err && err_size > 0)
                snprintf(err, err_size, "%s: the file grew while being "
                         "read", path);
            st = SDX_IO;
            goto cleanup;
        }
    }
    if (ends_with(base_name(path), ".jsonl"))
        st = sdx_parse_jsonl(path, buf, len, out, err, err_size);
    else
        st = sdx_parse_text(path, buf, len, out, err, err_size);
cleanup:
    free(buf);
    close(fd);
    return st;
}

static int
compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * True when NAME is a job-standard file: "*.txt" or "*.jsonl", not
 * hidden, not the synonym list.
 */
static bool
is_standard_name(const char *name)
{
    return name[0] != '.' && strcmp(name, SDX_SYNONYMS_FILE) != 0 &&
           (ends_with(name, ".txt") || ends_with(name, ".jsonl"));
}

/*
 * Files parsed side by side: each into a list of its own, one thread per
 * core taking the next file, so that a corpus of many files parses in
 * a fraction of the time; the lists are then joined in file order, so
 * the clauses, ids and the first error reported are those of a parse
 * one file after another.
 */
typedef struct file_job {
    const char *path;            /* the file (not owned) */
    sdx_clause_list_t list;      /* its clauses */
    sdx_status_t st;             /* its result */
    char err[1024];              /* why, when ST is not SDX_OK */
} file_job_t;

typedef struct file_jobs {
    file_job_t *jobs;            /* every file, in name order */
    size_t n;                    /* how many */
    atomic_size_t next;          /* the next one to take */
} file_jobs_t;

#define PARSE_THREADS_MAX 16     /* parser threads, at most */

static void *
parse_thread(void *arg)
{
    file_jobs_t *fj = arg;
    size_t i;
    while ((i = atomic_fetch_add(&fj->next, 1)) < fj->n) {
        file_job_t *j = &fj->jobs[i];
        j->st = parse_file(j->path, &j->list, j->err, sizeof j->err);
    }
    return NULL;
}

/* Parse the files PATHS[0..N-1] (in that order) into OUT and ORIGINS. */
static sdx_status_t
parse_files(const char *const *paths, size_t n, sdx_clause_list_t *out,
            origins_t *origins, char *err, size_t err_size)
{
    file_jobs_t fj = { calloc(n ? n : 1, sizeof *fj.jobs), n, 0 };
    pthread_t threads[PARSE_THREADS_MAX];
    size_t started = 0;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    size_t want = cores < 1 ? 1 : (size_t)cores;
    sdx_status_t st = SDX_OK;

    if (!fj.jobs)
        goto nomem;
    for (size_t i = 0; i < n; i++) {
        fj.jobs[i].path = paths[i];
        fj.jobs[i].list = (sdx_clause_list_t)SDX_CLAUSE_LIST_INIT;
    }
    if (want > PARSE_THREADS_MAX)
        want = PARSE_THREADS_MAX;
    if (want > n)
        want = n;
    /* this thread parses too: helpers only when there is a second file */
    for (; started + 1 < want; started++)
        if (pthread_create(&threads[started], NULL, parse_thread, &fj))
            break;         /* fewer threads: the files still all parse */
    parse_thread(&fj);
    for (size_t t = 0; t < started; t++)
        pthread_join(threads[t], NULL);
    for (size_t i = 0; i < n && st == SDX_OK; i++) {
        file_job_t *j = &fj.jobs[i];
        if (j->st != SDX_OK) {
            st = j->st;
            if (err && err_size > 0)
                snprintf(err, err_size, "%s", j->err);
        } else if (list_move(out, &j->list) != SDX_OK ||
                   origins_add(origins, j->path, out->count) != SDX_OK) {
            goto nomem;
        }
    }
    goto cleanup;
nomem:
    if (err && err_size > 0)
        snprintf(err, err_size, "out of memory");
    st = SDX_NOMEM;
cleanup:
    for (size_t i = 0; fj.jobs && i < n; i++)
        sdx_clause_list_clear(&fj.jobs[i].list);
    free(fj.jobs);
    return st;
}

/* Parse DIR's job-standard files, sorted by name, into OUT. */
static sdx_status_t
parse_dir(const char *dir, sdx_clause_list_t *out, origins_t *origins,
          char *err, size_t err_size)
{
    char **names = NULL;
    size_t n = 0, cap = 0, nfiles = 0;
    sdx_status_t st = SDX_OK;
    struct dirent *de;
    DIR *d = opendir(dir);
    if (!d)
        return io_fail(dir, "cannot open directory", errno, err, err_size);
    for (;;) {
        errno = 0;
        if (!(de = readdir(d))) {
            if (errno != 0)
                st = io_fail(dir, "cannot read directory", errno, err,
                             err_size);
            break;
        }
        if (!is_standard_name(de->d_name))
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **nn = realloc(names, ncap * sizeof *nn);
            if (!nn)
                goto nomem;
            names = nn;
            cap = ncap;
        }
        if (!(names[n] = strdup(de->d_name)))
            goto nomem;
        n++;
    }
    if (st != SDX_OK)
        goto cleanup;
    if (n > 0)
        qsort(names, n, sizeof *names, compare_names);
    /* NAMES[i] becomes the path of the i-th regular file */
    for (size_t i = 0; i < n; i++) {
        struct stat sb;
        size_t dl = strlen(dir);
        bool slash = dl > 0 && dir[dl - 1] == '/';
        char *path = malloc(dl + strlen(names[i]) + 2);
        if (!path)
            goto nomem;
        sprintf(path, "%s%s%s", dir, slash ? "" : "/", names[i]);
        free(names[i]);
        names[i] = path;
        if (stat(path, &sb) != 0) {
            st = io_fail(path, "cannot stat", errno, err, err_size);
            goto cleanup;
        }
        if (!S_ISREG(sb.st_mode))
            continue;
        names[i] = names[nfiles];
        names[nfiles++] = path;
    }
    st = parse_files((const char *const *)names, nfiles, out, origins, err,
                     err_size);
    goto cleanup;
nomem:
    if (err && err_size > 0)
        snprintf(err, err_size, "%s: out of memory", dir);
    st = SDX_NOMEM;
cleanup:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    closedir(d);
    return st;
}

sdx_status_t
sdx_parse_paths(const char *const *paths, size_t npaths,
                sdx_clause_list_t *out, size_t *nfiles, char *err,
                size_t err_size)
{
    sdx_clause_list_t tmp = SDX_CLAUSE_LIST_INIT;
    origins_t origins = { NULL, NULL, 0, 0 };
    sdx_status_t st = SDX_OK;
    if (err && err_size > 0)
        err[0] = '\0';
    for (size_t i = 0; i < npaths && st == SDX_OK; i++) {
        struct stat sb;
        if (stat(paths[i], &sb) != 0) {
            st = io_fail(paths[i], "cannot read", errno, err, err_size);
        } else if (S_ISDIR(sb.st_mode)) {
            st = parse_dir(paths[i], &tmp, &origins, err, err_size);
        } else {
            st = parse_files(&paths[i], 1, &tmp, &origins, err, err_size);
        }
    }
    size_t files = origins.n;
    if (st == SDX_OK)
        st = check_unique_ids(&tmp, &origins, err, err_size);
    origins_clear(&origins);
    if (st == SDX_OK && list_move(out, &tmp) != SDX_OK) {
        if (err && err_size > 0)
            snprintf(err, err_size, "out of memory");
        st = SDX_NOMEM;
    }
    sdx_clause_list_clear(&tmp);
    if (nfiles)
        *nfiles = st == SDX_OK ? files : 0;
    return st;
}

/* ---- synonyms -------------------------------------------------------- */

void
sdx_synonyms_clear(sdx_synonyms_t *syn)
{
    if (!syn)
        return;
    for (size_t i = 0; i < syn->count; i++)
        for (size_t j = 0; j < syn->groups[i].n; j++)
            free(syn->groups[i].terms[j].text);
    free(syn->groups);
    syn->groups = NULL;
    syn->count = 0;
}

/*
 * One comma-separated term of LINE (bytes P..P+N) into *T: trimmed,
 * whitespace runs to one space, lower-cased unless written "=TERM".
 * Returns NULL or what is wrong with it.
 */
static const char *
synonym_term(const char *p, size_t n, sdx_synonym_t *t)
{
    span_t s = trim((span_t){ p, n });
    t->text = NULL;
    t->exact = s.n > 0 && s.p[0] == '=';
    if (t->exact)
        s = trim((span_t){ s.p + 1, s.n - 1 });
    if (s.n == 0)
        return "an empty term";
    if (s.n > SDX_SYNONYM_MAX)
        return "a term over 100 bytes";
    char *out = malloc(s.n + 1);
    if (!out)
        return "out of memory";
    size_t k = 0, words = 1;
    for (size_t i = 0; i < s.n; i++) {
        char c = s.p[i];
        if (c == '"' || (unsigned char)c < 0x20) {
            free(out);
            return "a '\"' or control character in a term";
        }
        if (c == ' ' || c == '\t') {
            if (out[k - 1] != ' ') {
                out[k++] = ' ';
                words++;
            }
            continue;
        }
        out[k++] = !t->exact && c >= 'A' && c <= 'Z'
                       ? (char)(c - 'A' + 'a') : c;
    }
    out[k] = '\0';
    if (words > SDX_SYNONYM_WORDS) {
        free(out);
        return "a term of more than 8 words";
    }
    t->text = out;
    return NULL;
}

/* Parse one line (no newline) into *G; NULL or what is wrong. */
static const char *
synonym_line(const char *line, size_t len, sdx_synonym_group_t *g)
{
    g->n = 0;
    for (size_t b = 0; b <= len;) {
        const char *comma = memchr(line + b, ',', len - b);
        size_t e = comma ? (size_t)(comma - line) : len;
        if (g->n == SDX_SYNONYM_GROUP)
            return "more than 32 terms on one line";
        const char *why = synonym_term(line + b, e - b, &g->terms[g->n]);
        if (why)
            return why;
        for (size_t j = 0; j < g->n; j++)
            if (strcmp(g->terms[j].text, g->terms[g->n].text) == 0) {
                free(g->terms[g->n].text);
                return "the same term twice";
            }
        g->n++;
        b = e + 1;
    }
    return g->n < 2 ? "a group needs at least two terms" : NULL;
}

sdx_status_t
sdx_parse_synonyms(const char *path, sdx_synonyms_t *out, char *err,
                   size_t err_size)
{
    sdx_synonyms_t tmp = SDX_SYNONYMS_INIT;
    size_t cap = 0, lineno = 0, len = 0;
    char *line = NULL;
    sdx_status_t st = SDX_OK;
    ssize_t n;
    FILE *f = fopen(path, "r");
    if (!f)
        return io_fail(path, "cannot read", errno, err, err_size);
    while ((n = getline(&line, &len, f)) >= 0) {
        lineno++;
        size_t k = (size_t)n;
        char *hash = memchr(line, '#', k);
        if (hash)
            k = (size_t)(hash - line);
        while (k > 0 && strchr(" \t\r\n", line[k - 1]))
            k--;
        if (trim((span_t){ line, k }).n == 0)
            continue;
        if (tmp.count == cap) {
            size_t ncap = cap ? cap * 2 : 32;
            sdx_synonym_group_t *g = realloc(tmp.groups, ncap * sizeof *g);
            if (!g) {
                st = SDX_NOMEM;
                if (err && err_size > 0)
                    snprintf(err, err_size, "%s: out of memory", path);
                goto cleanup;
            }
            tmp.groups = g;
            cap = ncap;
        }
        sdx_synonym_group_t *g = &tmp.groups[tmp.count];
        const char *why = synonym_line(line, k, g);
        if (why) {
            for (size_t j = 0; j < g->n; j++)
                free(g->terms[j].text);
            st = SDX_BAD_INPUT;
            if (err && err_size > 0)
                snprintf(err, err_size, "%s:%zu: %s (docs/CORPUS.md, "
                         "\"Synonyms\")", path, lineno, why);
            goto cleanup;
        }
        tmp.count++;
    }
    if (ferror(f)) {
        st = io_fail(path, "cannot read", errno, err, err_size);
        goto cleanup;
    }
    sdx_synonym_group_t *all = realloc(out->groups, (out->count + tmp.count +
                                                     1) * sizeof *all);
    if (!all) {
        st = SDX_NOMEM;
        if (err && err_size > 0)
            snprintf(err, err_size, "%s: out of memory", path);
        goto cleanup;
    }
    if (tmp.count > 0)
        memcpy(all + out->count, tmp.groups, tmp.count * sizeof *all);
    out->groups = all;
    out->count += tmp.count;
    free(tmp.groups);
    tmp.groups = NULL;
    tmp.count = 0;
cleanup:
    sdx_synonyms_clear(&tmp);
    free(line);
    fclose(f);
    return st;
}
