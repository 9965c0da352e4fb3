/*
 * sdx_words: words, terms, normalisation, word diff and approximate
 * word matching for the grid ops (sdx_words.h).
 *
 * Everything walks UTF-8 by hand: the characters that matter (the
 * spaces and quotes a chatbot's copy changes, the punctuation that ends
 * a term) are a handful of code points, so a table of them beats a
 * Unicode library as a dependency.  The LCS of a diff is the textbook
 * table, bounded by SDX_WORDS_DIFF_MAX words a side (1 MB at most);
 * Sellers' approximate match keeps two rows, so a span of 1,500 words
 * against a clause of 300 costs 450,000 cells and no table.
 */
#include "sdx_words.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The code point at P (LEFT bytes readable) and its length in *N. */
static uint32_t
s_cp(const unsigned char *p, size_t left, size_t *n)
{
    if (p[0] < 0x80 || left < 2) {
        *n = 1;
        return p[0];
    }
    if ((p[0] & 0xe0) == 0xc0) {
        *n = 2;
        return ((uint32_t)(p[0] & 0x1f) << 6) | (p[1] & 0x3f);
    }
    if ((p[0] & 0xf0) == 0xe0 && left >= 3) {
        *n = 3;
        return ((uint32_t)(p[0] & 0x0f) << 12) |
               ((uint32_t)(p[1] & 0x3f) << 6) | (p[2] & 0x3f);
    }
    if (left >= 4) {
        *n = 4;
        return ((uint32_t)(p[0] & 0x07) << 18) |
               ((uint32_t)(p[1] & 0x3f) << 12) |
               ((uint32_t)(p[2] & 0x3f) << 6) | (p[3] & 0x3f);
    }
    *n = 1;
    return p[0];
}

/* White space a copy of a text may have changed into another. */
static bool
s_space(uint32_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
           c == '\f' || c == 0xa0 || c == 0x2007 || c == 0x2009 ||
           c == 0x202f || c == 0x3000;
}

/* Characters that end a term besides ASCII non-alphanumerics. */
static bool
s_punct(uint32_t c)
{
    return (c >= 0xa0 && c <= 0xbf) || c == 0xd7 || c == 0xf7 ||
           (c >= 0x2000 && c <= 0x206f) || c == 0x3000;
}

size_t
sdx_words_split(const char *text, sdx_span_t *out, size_t max)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t len = strlen(text), i = 0, n = 0;
    while (i < len) {
        size_t k;
        uint32_t c = s_cp(p + i, len - i, &k);
        if (s_space(c)) {
            i += k;
            continue;
        }
        size_t start = i;
        while (i < len && !s_space(s_cp(p + i, len - i, &k)))
            i += k;
        if (n < max)
            out[n] = (sdx_span_t){start, i - start};
        n++;
    }
    return n;
}

/* True when the character at P is part of a term. */
static bool
s_term_char(const unsigned char *p, size_t left, size_t *k)
{
    uint32_t c = s_cp(p, left, k);
    if (c < 0x80)
        return isalnum((int)c) != 0;
    return !s_punct(c) && !s_space(c);
}

size_t
sdx_words_terms(const char *text, sdx_span_t *out, size_t max)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t len = strlen(text), i = 0, n = 0, k;
    while (i < len) {
        if (!s_term_char(p + i, len - i, &k)) {
            i += k;
            continue;
        }
        size_t start = i;
        for (;;) {
            while (i < len && s_term_char(p + i, len - i, &k))
                i += k;
            /* an apostrophe between letters stays ("don't") */
            size_t a = 0;
            if (i < len && p[i] == '\'')
                a = 1;
            else if (i + 2 < len && p[i] == 0xe2 && p[i + 1] == 0x80 &&
                     p[i + 2] == 0x99)
                a = 3;
            if (a && i + a < len && s_term_char(p + i + a, len - i - a, &k))
                i += a;
            else
                break;
        }
        if (n < max)
            out[n] = (sdx_span_t){start, i - start};
        n++;
    }
    return n;
}

bool
sdx_words_term_eq(const char *a, sdx_span_t sa, const char *b, sdx_span_t sb)
{
    if (sa.len != sb.len)
        return false;
    for (size_t i = 0; i < sa.len; i++)
        if (tolower((unsigned char)a[sa.off + i]) !=
            tolower((unsigned char)b[sb.off + i]))
            return false;
    return true;
}

sdx_status_t
sdx_words_normalise(const char *text, char **norm, size_t **chars,
                    size_t *len)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t tlen = strlen(text), i = 0, n = 0, ch = 0;
    bool space = false;        /* a space is pending */
    *norm = malloc(tlen + 1);
    *chars = malloc((tlen + 1) * sizeof **chars);
    if (!*norm || !*chars) {
        free(*norm);
        free(*chars);
        *norm = NULL;
        *chars = NULL;
        return SDX_NOMEM;
    }
    size_t end_ch = 0;         /* one past the last character kept */
    while (i < tlen) {
        size_t k;
        uint32_t c = s_cp(p + i, tlen - i, &k);
        if (s_space(c)) {
            space = n > 0;
            i += k;
            ch++;
            continue;
        }
        if (space) {
            (*norm)[n] = ' ';
            (*chars)[n++] = ch - 1;
            space = false;
        }
        const char *as = NULL; /* the character as one ASCII byte */
        if (c == 0x2019 || c == 0x2018 || c == 0x201b || c == 0x2032)
            as = "'";
        else if (c == 0x201c || c == 0x201d || c == 0x201e || c == 0x2033)
            as = "\"";
        if (as) {
            (*norm)[n] = as[0];
            (*chars)[n++] = ch;
        } else {
            for (size_t j = 0; j < k; j++) {
                (*norm)[n] = k == 1 ? (char)tolower(p[i]) : (char)p[i + j];
                (*chars)[n++] = ch;
            }
        }
        i += k;
        end_ch = ++ch;
    }
    (*norm)[n] = '\0';
    (*chars)[n] = end_ch;
    *len = n;
    return SDX_OK;
}

/* Equal words, byte for byte. */
static bool
s_word_eq(const char *a, sdx_span_t sa, const char *b, sdx_span_t sb)
{
    return sa.len == sb.len && memcmp(a + sa.off, b + sb.off, sa.len) == 0;
}

/* Append a run of KIND to RUNS, merging it with the last when alike. */
static void
s_run(sdx_diff_run_t *runs, size_t *n, sdx_diff_kind_t kind, size_t first)
{
    if (*n > 0 && runs[*n - 1].kind == kind &&
        runs[*n - 1].first + runs[*n - 1].count == first) {
        runs[*n - 1].count++;
        return;
    }
    runs[(*n)++] = (sdx_diff_run_t){kind, first, 1};
}

sdx_status_t
sdx_words_diff(const char *a, const sdx_span_t *aw, size_t na, const char *b,
               const sdx_span_t *bw, size_t nb, sdx_diff_run_t **runs,
               size_t *nruns)
{
    *runs = NULL;
    *nruns = 0;
    if (na + nb == 0)
        return SDX_OK;
    /* at most one run per word, merged as they come */
    sdx_diff_run_t *r = malloc((na + nb) * sizeof *r);
    if (!r)
        return SDX_NOMEM;
    size_t n = 0;
    if (na > SDX_WORDS_DIFF_MAX || nb > SDX_WORDS_DIFF_MAX || !na || !nb) {
        if (na)
            r[n++] = (sdx_diff_run_t){SDX_DIFF_DEL, 0, na};
        if (nb)
            r[n++] = (sdx_diff_run_t){SDX_DIFF_ADD, 0, nb};
        *runs = r;
        *nruns = n;
        return SDX_OK;
    }
    /* L[i][j]: the LCS of A's words from i and B's from j */
    uint32_t *L = calloc((na + 1) * (nb + 1), sizeof *L);
    if (!L) {
        free(r);
        return SDX_NOMEM;
    }
#define LCS(i, j) L[(i) * (nb + 1) + (j)]
    for (size_t i = na; i-- > 0;)
        for (size_t j = nb; j-- > 0;)
            LCS(i, j) = s_word_eq(a, aw[i], b, bw[j])
                            ? LCS(i + 1, j + 1) + 1
                            : (LCS(i + 1, j) >= LCS(i, j + 1)
                                   ? LCS(i + 1, j)
                                   : LCS(i, j + 1));
    size_t i = 0, j = 0;
    while (i < na || j < nb) {
        if (i < na && j < nb && s_word_eq(a, aw[i], b, bw[j])) {
            s_run(r, &n, SDX_DIFF_SAME, i);
            i++;
            j++;
        } else if (i < na && (j == nb || LCS(i + 1, j) >= LCS(i, j + 1))) {
            s_run(r, &n, SDX_DIFF_DEL, i++);
        } else {
            s_run(r, &n, SDX_DIFF_ADD, j++);
        }
    }
#undef LCS
    free(L);
    /* between two common runs, removals first: swap an ADD then DEL */
    for (size_t k = 0; k + 1 < n; k++)
        if (r[k].kind == SDX_DIFF_ADD && r[k + 1].kind == SDX_DIFF_DEL) {
            sdx_diff_run_t t = r[k];
            r[k] = r[k + 1];
            r[k + 1] = t;
        }
    /* the swap may have put two alike runs side by side */
    size_t m = 0;
    for (size_t k = 0; k < n; k++) {
        if (m > 0 && r[m - 1].kind == r[k].kind &&
            r[m - 1].first + r[m - 1].count == r[k].first)
            r[m - 1].count += r[k].count;
        else
            r[m++] = r[k];
    }
    *runs = r;
    *nruns = m;
    return SDX_OK;
}

size_t
sdx_words_closest(const char *span, const sdx_span_t *sw, size_t ns,
                  const char *text, const sdx_span_t *tw, size_t nt,
                  size_t *from, size_t *to)
{
    /* D[j]: edits of SPAN's first i terms against a run ending before
       text term j; S[j]: where that run starts */
    size_t *D = malloc((nt + 1) * sizeof *D);
    size_t *S = malloc((nt + 1) * sizeof *S);
    size_t *D2 = malloc((nt + 1) * sizeof *D2);
    size_t *S2 = malloc((nt + 1) * sizeof *S2);
    size_t best = (size_t)-1;
    if (!D || !S || !D2 || !S2)
        goto cleanup;
    for (size_t j = 0; j <= nt; j++) {
        D[j] = 0;
        S[j] = j;
    }
    for (size_t i = 1; i <= ns; i++) {
        D2[0] = i;
        S2[0] = 0;
        for (size_t j = 1; j <= nt; j++) {
            size_t sub = D[j - 1] +
                         !sdx_words_term_eq(span, sw[i - 1], text, tw[j - 1]);
            size_t del = D[j] + 1;      /* a span term not in the text */
            size_t ins = D2[j - 1] + 1; /* a text term not in the span */
            if (sub <= del && sub <= ins) {
                D2[j] = sub;
                S2[j] = S[j - 1];
            } else if (del <= ins) {
                D2[j] = del;
                S2[j] = S[j];
            } else {
                D2[j] = ins;
                S2[j] = S2[j - 1];
            }
        }
        size_t *t = D;
        D = D2;
        D2 = t;
        t = S;
        S = S2;
        S2 = t;
    }
    *from = *to = 0;
    for (size_t j = 0; j <= nt; j++) {
        if (D[j] < best) {
            best = D[j];
            *from = S[j];
            *to = j;
        }
    }
cleanup:
    free(D);
    free(S);
    free(D2);
    free(S2);
    return best;
}

bool
sdx_words_stop(const char *w, size_t len)
{
    static const char *const stop[] = {
        "a", "an", "and", "are", "as", "at", "be", "by", "for", "from",
        "in", "into", "is", "it", "its", "of", "on", "or", "that", "the",
        "these", "this", "those", "to", "was", "were", "with", NULL,
    };
    for (const char *const *s = stop; *s; s++)
        if (strlen(*s) == len && strncasecmp(*s, w, len) == 0)
            return true;
    return false;
}

/* True when S (N bytes) ends with SUF. */
static bool
s_ends(const char *s, size_t n, const char *suf)
{
    size_t k = strlen(suf);
    return n >= k && memcmp(s + n - k, suf, k) == 0;
}

size_t
sdx_words_stem(const char *w, size_t len, char *out, size_t size)
{
    if (len + 1 > size)
        return 0;
    for (size_t i = 0; i < len; i++)
        out[i] = (char)tolower((unsigned char)w[i]);
    size_t n = len;
    if (s_ends(out, n, "'s"))
        n -= 2;
    if (n >= 6 && s_ends(out, n, "ing"))
        n -= 3;
    else if (n >= 5 && s_ends(out, n, "ied"))
        n -= 2, out[n - 1] = 'y';
    else if (n >= 5 && s_ends(out, n, "ed"))
        n -= 2;
    else if (n >= 5 && s_ends(out, n, "ies"))
        n -= 2, out[n - 1] = 'y';
    else if (n >= 5 && (s_ends(out, n, "ses") || s_ends(out, n, "xes") ||
                        s_ends(out, n, "ches") || s_ends(out, n, "shes")))
        n -= 2;
    else if (n >= 4 && out[n - 1] == 's' && out[n - 2] != 's')
        n -= 1;
    out[n] = '\0';
    return n;
}

/* True when a list item or a paragraph starts at P (after a newline). */
static bool
s_item_start(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\n' || *p == '\r' || *p == '-' || *p == '*' || !*p)
        return true;
    if (strncmp(p, "\xe2\x80\xa2", 3) == 0) /* • */
        return true;
    if (isdigit((unsigned char)*p)) {
        while (isdigit((unsigned char)*p))
            p++;
        return *p == '.' || *p == ')';
    }
    return false;
}

/* Add TEXT[start..end) trimmed to OUT when it holds anything. */
static void
s_sentence(const char *text, size_t start, size_t end, sdx_span_t *out,
           size_t max, size_t *n)
{
    while (start < end && isspace((unsigned char)text[start]))
        start++;
    while (end > start && isspace((unsigned char)text[end - 1]))
        end--;
    if (end == start)
        return;
    if (*n < max)
        out[*n] = (sdx_span_t){start, end - start};
    (*n)++;
}

size_t
sdx_words_sentences(const char *text, sdx_span_t *out, size_t max)
{
    size_t len = strlen(text), start = 0, n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        bool end = false;
        if ((c == '.' || c == '!' || c == '?' || c == ';') &&
            (i + 1 == len || isspace((unsigned char)text[i + 1])))
            end = true;
        else if (c == '\n' && s_item_start(text + i + 1))
            end = true;
        if (end) {
            s_sentence(text, start, i + 1, out, max, &n);
            start = i + 1;
        }
    }
    s_sentence(text, start, len, out, max, &n);
    return n;
}

size_t
sdx_words_chars(const char *text, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)text[i] & 0xc0) != 0x80;
    return n;
}
