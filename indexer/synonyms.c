/*
 * synonyms: synonyms.txt -> groups of terms that mean the same
 * (docs/CORPUS.md, "Synonyms"), for the index's synonym table.
 *
 * One group per line, terms separated by commas, '#' comments.  A
 * broken line is "PATH:LINE: what" and nothing of the file is kept.
 */
#include "parse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A slice of a line; not owned. */
typedef struct span {
    const char *p; /* first byte */
    size_t n;      /* length in bytes */
} span_t;

/* S without ASCII white space at either end. */
static span_t
trim(span_t s)
{
    while (s.n > 0 && s.p[0] && strchr(" \t\r\n\v\f", s.p[0]))
        s.p++, s.n--;
    while (s.n > 0 && s.p[s.n - 1] && strchr(" \t\r\n\v\f", s.p[s.n - 1]))
        s.n--;
    return s;
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
