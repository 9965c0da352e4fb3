/*
 * grid: the job-standard table shared by the text and HTML readers.
 *
 * The label table below is the one list of row labels (docs/CORPUS.md,
 * "Row labels", shows the same table).  Everything a reader must check
 * whatever the format (the series range, the titles and codes per
 * level, the order of the rows) and the making of clause records live
 * here, so a standard read from its web page and from its flattened
 * text gives the same clauses and the same messages.
 */
#include "grid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdx_clause.h"

/* The label table: every row a job standard may have. */
static const sdx_row_kind_t row_kinds[] = {
    { "Job Summary", SDX_ROLE_SUMMARY, "summary", false, false },
    { "Job Title", SDX_ROLE_TITLE, NULL, false, false },
    { "Job Code", SDX_ROLE_CODE, NULL, false, false },
    { "Bargaining Unit", SDX_ROLE_UNIT, NULL, false, false },
    { "FLSA", SDX_ROLE_FLSA, NULL, false, false },
    { "Generic Scope", SDX_ROLE_TEXT, "scope", false, false },
    { "Custom Scope", SDX_ROLE_TEXT, "scope", false, false },
    { "Key Resp", SDX_ROLE_TEXT, "responsibility", true, false },
    { "KSA", SDX_ROLE_TEXT, "ksa", true, false },
    { "Education", SDX_ROLE_TEXT, "education", false, true },
    { "Special Condition", SDX_ROLE_TEXT, "condition", false, true },
    { "Environment", SDX_ROLE_TEXT, "environment", false, true },
};

#define NKINDS (sizeof row_kinds / sizeof row_kinds[0])

static const char *const meta_names[] = {
    [SDX_ROLE_TITLE] = "Job Title", [SDX_ROLE_CODE] = "Job Code",
    [SDX_ROLE_UNIT] = "Bargaining Unit", [SDX_ROLE_FLSA] = "FLSA",
};

#define ENDASH "\xe2\x80\x93" /* U+2013 – */
#define RSQUO "\xe2\x80\x99"  /* U+2019 ’ */
#define RDQUO "\xe2\x80\x9d"  /* U+201D ” */
#define EXCERPT 40            /* bytes of input quoted in a message */

/* ---- characters ------------------------------------------------------ */

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool
is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool
sdx_starts(const char *p, size_t n, const char *u)
{
    size_t len = strlen(u);
    return n >= len && memcmp(p, u, len) == 0;
}

size_t
sdx_ws_len(const char *p, size_t n)
{
    if (n == 0)
        return 0;
    if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' ||
        *p == '\v' || *p == '\f')
        return 1;
    return sdx_starts(p, n, SDX_NBSP) ? 2 : 0;
}

bool
sdx_is_upper_at(const char *p, size_t n)
{
    const unsigned char *u = (const unsigned char *)p;
    if (n == 0)
        return false;
    if (u[0] >= 'A' && u[0] <= 'Z')
        return true;
    /* U+00C0..U+00DE but U+00D7 (x): 0xC3 0x80..0x9E */
    return n >= 2 && u[0] == 0xc3 && u[1] >= 0x80 && u[1] <= 0x9e &&
           u[1] != 0x97;
}

bool
sdx_is_lower_at(const char *p, size_t n)
{
    const unsigned char *u = (const unsigned char *)p;
    if (n == 0)
        return false;
    if (u[0] >= 'a' && u[0] <= 'z')
        return true;
    /* U+00DF..U+00FF but U+00F7 (division sign): 0xC3 0x9F..0xBF */
    return n >= 2 && u[0] == 0xc3 && u[1] >= 0x9f && u[1] != 0xb7;
}

/* Length of a closing mark at P: ) ] ’ ”, or '"' when CLOSES; or 0. */
static size_t
closer_len(const char *p, size_t n, bool closes)
{
    if (n > 0 && (*p == ')' || *p == ']' || (*p == '"' && closes)))
        return 1;
    if (sdx_starts(p, n, RSQUO) || sdx_starts(p, n, RDQUO))
        return 3;
    return 0;
}

size_t
sdx_sentence_end(const char *p, size_t n, size_t i, size_t quotes)
{
    char ch = p[i];
    size_t k, l;
    if (ch != '.' && ch != '!' && ch != '?')
        return 0;
    for (k = i + 1; (l = closer_len(p + k, n - k, quotes % 2 == 1)) > 0;
         k += l)
        if (p[k] == '"')
            quotes++;
    if (ch != '.' || k == n)
        return k; /* the text's last point ends it, even "the U.S." */
    /* 2.5, v2.0: inside a number */
    if (i > 0 && is_digit(p[i - 1]) && i + 1 < n && is_digit(p[i + 1]))
        return 0;
    /* e.g. i.e. U.S.: a single letter before the point, itself at a
     * word's start or after a point */
    if (i > 0 && is_alpha(p[i - 1]) &&
        (i == 1 || p[i - 2] == '.' || p[i - 2] == ' ' || p[i - 2] == '('))
        return 0;
    /* Ph.D., Pharm.D.: one letter and a point after it */
    if (i + 2 < n && is_alpha(p[i + 1]) && p[i + 2] == '.')
        return 0;
    return k;
}

/* ---- labels ---------------------------------------------------------- */

bool
sdx_label_match(const char *p, size_t n, bool whole, sdx_label_t *m)
{
    memset(m, 0, sizeof *m);
    for (size_t k = 0; k < NKINDS; k++) {
        const sdx_row_kind_t *kind = &row_kinds[k];
        size_t len = strlen(kind->label);
        int item = 0;
        bool bad = false;
        if (n < len || memcmp(p, kind->label, len) != 0)
            continue;
        if (kind->numbered) {
            size_t d = 0;
            if (len < n && p[len] == ' ')
                while (d < 2 && len + 1 + d < n && is_digit(p[len + 1 + d])) {
                    item = item * 10 + (p[len + 1 + d] - '0');
                    d++;
                }
            if (d == 0)
                continue;
            len += 1 + d;
            bad = item == 0;
        }
        /* "Educational" is no label; "Key Resp 01iOS..." is one, its
         * number ending it */
        if (!kind->numbered && len < n && sdx_is_lower_at(p + len, n - len))
            continue;
        if (whole && len != n)
            continue;
        m->kind = kind;
        m->item = item;
        m->len = len;
        m->bad_number = bad;
        return true;
    }
    return false;
}

const sdx_row_kind_t *
sdx_label_glued(const char *p, size_t n)
{
    for (size_t k = 0; k < NKINDS; k++) {
        size_t len = strlen(row_kinds[k].label);
        if (!row_kinds[k].numbered && n > len &&
            memcmp(p, row_kinds[k].label, len) == 0 &&
            sdx_is_lower_at(p + len, n - len))
            return &row_kinds[k];
    }
    return NULL;
}

const char *
sdx_label_list(void)
{
    return "Job Summary, Job Title, Job Code, Bargaining Unit, FLSA, "
           "Generic Scope, Custom Scope, Key Resp NN, KSA NN, Education, "
           "Special Condition, Environment";
}

/* ---- messages -------------------------------------------------------- */

/* Copy at most EXCERPT bytes of P (N) into BUF (EXCERPT + 4 bytes), cut
 * on a UTF-8 boundary, "..." added when cut. */
static const char *
excerpt(const char *p, size_t n, char *buf)
{
    size_t k = n;
    if (k > EXCERPT) {
        k = EXCERPT;
        while (k > 0 && ((unsigned char)p[k] & 0xc0) == 0x80)
            k--;
    }
    memcpy(buf, p, k);
    strcpy(buf + k, k < n ? "..." : "");
    return buf;
}

/* ---- text ------------------------------------------------------------ */

char *
sdx_cell_text(const char *p, size_t n)
{
    /* a space may be added at each glued sentence end: at most n / 2 */
    char *out = malloc(n + n / 2 + 1);
    size_t o = 0, quotes = 0;
    bool space = false;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n;) {
        size_t w = sdx_ws_len(p + i, n - i);
        if (w > 0) {
            space = o > 0;
            i += w;
            continue;
        }
        if (space) {
            out[o++] = ' ';
            space = false;
        }
        size_t end = sdx_sentence_end(p, n, i, quotes);
        if (end > 0 && end < n && end > i &&
            (sdx_is_upper_at(p + end, n - end))) {
            /* copy the sentence end and its closers, then a space */
            for (; i < end; i++) {
                quotes += p[i] == '"';
                out[o++] = p[i];
            }
            space = true;
            continue;
        }
        quotes += p[i] == '"';
        out[o++] = p[i++];
    }
    out[o] = '\0';
    return out;
}

/* True when A (AN) and B (BN) hold the same bytes once white space is
 * skipped. */
static bool
same_but_ws(const char *a, size_t an, const char *b, size_t bn)
{
    size_t i = 0, j = 0, w;
    for (;;) {
        while ((w = sdx_ws_len(a + i, an - i)) > 0)
            i += w;
        while ((w = sdx_ws_len(b + j, bn - j)) > 0)
            j += w;
        if (i == an || j == bn)
            return i == an && j == bn;
        if (a[i++] != b[j++])
            return false;
    }
}

/* ---- the grid -------------------------------------------------------- */

void
sdx_grid_clear(sdx_grid_t *g)
{
    free(g->series);
    free(g->summary);
    for (int k = 0; k < SDX_LEVELS_MAX; k++) {
        free(g->titles[k]);
        free(g->flsa[k]);
    }
    for (size_t i = 0; i < g->nrows; i++)
        for (int k = 0; k < SDX_LEVELS_MAX; k++)
            free(g->rows[i].cells[k]);
    free(g->rows);
    sdx_file_read_t *r = g->r;
    memset(g, 0, sizeof *g);
    g->r = r;
}

sdx_status_t
sdx_grid_set_series(sdx_grid_t *g, const char *s, size_t n, size_t line)
{
    char buf[EXCERPT + 4];
    free(g->series);
    if (!(g->series = strndup(s, n)))
        return sdx_note_nomem(g->r);
    g->series_line = line;
    for (size_t i = 0; i < n; i++) {
        size_t dash;
        if (!is_digit(s[i]) || (i > 0 && s[i - 1] != ' '))
            continue;
        if (i + 1 < n && s[i + 1] == '-')
            dash = 1;
        else if (sdx_starts(s + i + 1, n - i - 1, ENDASH))
            dash = 3;
        else
            continue;
        size_t j = i + 1 + dash;
        if (j >= n || !is_digit(s[j]) || (j + 1 < n && s[j + 1] != ' '))
            continue;
        int lo = s[i] - '0', hi = s[j] - '0';
        if (lo < 1 || hi < lo)
            return sdx_note(g->r, SDX_NOTE_ERROR, line, "Job Summary",
                            "series title \"%s\": level range %d-%d is not "
                            "ascending within 1..9", excerpt(s, n, buf), lo,
                            hi);
        g->ranged = true;
        g->range_off = i;
        g->range_len = j + 1 - i;
        g->lo = lo;
        g->nlev = hi - lo + 1;
        return SDX_OK;
    }
    /* No range: one position, level 1; its Job Title row says whether
     * that is what the standard means (sdx_grid_set_titles). */
    g->ranged = false;
    g->lo = 1;
    g->nlev = 1;
    return SDX_OK;
}

char *
sdx_grid_series_with(const sdx_grid_t *g, const char *what)
{
    size_t sn = strlen(g->series);
    if (!g->ranged)
        return strdup(g->series);
    size_t wl = strlen(what);
    size_t tail = sn - g->range_off - g->range_len;
    char *out = malloc(g->range_off + wl + tail + 2);
    if (!out)
        return NULL;
    size_t o = g->range_off;
    memcpy(out, g->series, o);
    /* "Professional  HX" for an empty WHAT: one space, not two */
    if (wl == 0 && o > 0 && out[o - 1] == ' ' && tail > 0 &&
        g->series[g->range_off + g->range_len] == ' ')
        o--;
    memcpy(out + o, what, wl);
    memcpy(out + o + wl, g->series + g->range_off + g->range_len, tail);
    out[o + wl + tail] = '\0';
    /* a range at the end: "Analyst 1-3" -> "Analyst" */
    size_t len = strlen(out);
    while (wl == 0 && len > 0 && out[len - 1] == ' ')
        out[--len] = '\0';
    return out;
}

sdx_status_t
sdx_grid_meta_row(sdx_grid_t *g, sdx_row_role_t role, const char *label,
                  size_t line)
{
    if (g->nrows > 0)
        return sdx_note(g->r, SDX_NOTE_ERROR, line, label,
                        "metadata row after the text rows (Job Title, Job "
                        "Code, Bargaining Unit and FLSA come first)");
    if (g->meta_line[role] != 0)
        return sdx_note(g->r, SDX_NOTE_ERROR, line, label,
                        "appears twice (first at line %zu)",
                        g->meta_line[role]);
    g->meta_line[role] = line;
    return SDX_OK;
}

sdx_status_t
sdx_grid_set_titles(sdx_grid_t *g, size_t line, const char *all,
                    const char *const *titles, const size_t *n)
{
    char buf[EXCERPT + 4];
    size_t total = 0;
    char *want = NULL;
    sdx_status_t st = SDX_OK;
    for (int k = 0; k < g->nlev; k++) {
        char num[2] = { (char)('0' + g->lo + k), '\0' };
        free(g->titles[k]);
        if (!(g->titles[k] = sdx_grid_series_with(g, num)))
            return sdx_note_nomem(g->r);
        total += strlen(g->titles[k]);
    }
    if (!titles) {
        /* the text format: every level's title glued in one row */
        if (!(want = malloc(total + 1)))
            return sdx_note_nomem(g->r);
        want[0] = '\0';
        for (int k = 0; k < g->nlev; k++)
            strcat(want, g->titles[k]);
    }
    for (int k = 0; k < g->nlev; k++) {
        bool ok = titles ? same_but_ws(titles[k], n[k], g->titles[k],
                                       strlen(g->titles[k]))
                         : same_but_ws(all, strlen(all), want, total);
        if (ok && titles)
            continue;
        if (ok)
            break;
        const char *shown = titles ? titles[k] : all;
        size_t shown_n = titles ? n[k] : strlen(all);
        if (!g->ranged)
            st = sdx_note(g->r, SDX_NOTE_ERROR, line, "Job Title",
                          "\"%s\" is not the series title \"%s\" (a "
                          "series title without a level range such as "
                          "\"1-5\" is a single position, whose title is "
                          "the series title)", excerpt(shown, shown_n, buf),
                          g->series);
        else if (titles)
            st = sdx_note(g->r, SDX_NOTE_ERROR, line, "Job Title",
                          "level %d: \"%s\" is not the series title at "
                          "that level (\"%s\")", g->lo + k,
                          excerpt(shown, shown_n, buf), g->titles[k]);
        else
            st = sdx_note(g->r, SDX_NOTE_ERROR, line, "Job Title",
                          "\"%s\" is not the series title at each level "
                          "(\"%s\" ... for levels %d..%d)",
                          excerpt(shown, shown_n, buf), g->titles[0], g->lo,
                          g->lo + g->nlev - 1);
        break;
    }
    free(want);
    return st;
}

sdx_status_t
sdx_grid_set_codes(sdx_grid_t *g, size_t line, const char *const *codes,
                   const size_t *n)
{
    char buf[EXCERPT + 4];
    for (int k = 0; k < g->nlev; k++) {
        if (n[k] < SDX_CODE_MIN || n[k] > SDX_CODE_MAX)
            return sdx_note(g->r, SDX_NOTE_ERROR, line, "Job Code",
                            "level %d: \"%s\" is not a job code of %d to "
                            "%d digits", g->lo + k,
                            excerpt(codes[k], n[k], buf), SDX_CODE_MIN,
                            SDX_CODE_MAX);
        for (size_t i = 0; i < n[k]; i++)
            if (!is_digit(codes[k][i]))
                return sdx_note(g->r, SDX_NOTE_ERROR, line, "Job Code",
                                "\"%s\" holds a non-digit",
                                excerpt(codes[k], n[k], buf));
        memcpy(g->codes[k], codes[k], n[k]);
        g->codes[k][n[k]] = '\0';
        for (int j = 0; j < k; j++)
            if (strcmp(g->codes[j], g->codes[k]) == 0)
                return sdx_note(g->r, SDX_NOTE_ERROR, line, "Job Code",
                                "job code %s is given to levels %d and %d",
                                g->codes[k], g->lo + j, g->lo + k);
    }
    return SDX_OK;
}

sdx_status_t
sdx_grid_add_row(sdx_grid_t *g, const sdx_row_kind_t *kind,
                 const char *label, int item, size_t line,
                 sdx_grid_row_t **row_p)
{
    *row_p = NULL;
    for (int role = SDX_ROLE_TITLE; role <= SDX_ROLE_CODE; role++)
        if (g->meta_line[role] == 0)
            return sdx_note(g->r, SDX_NOTE_ERROR, line, label,
                            "appears before the metadata rows (no \"%s\" "
                            "row yet; Job Title, Job Code, Bargaining Unit "
                            "and FLSA come first)", meta_names[role]);
    if (!kind->repeatable)
        for (size_t i = 0; i < g->nrows; i++)
            if (g->rows[i].kind == kind && g->rows[i].item == item)
                return sdx_note(g->r, SDX_NOTE_ERROR, line, label,
                                "appears twice (first at line %zu)",
                                g->rows[i].line);
    if (g->nrows == SDX_ROWS_MAX)
        return sdx_note(g->r, SDX_NOTE_ERROR, line, label,
                        "more than %d rows", SDX_ROWS_MAX);
    if (g->nrows == g->rows_cap) {
        size_t cap = g->rows_cap ? g->rows_cap * 2 : 32;
        sdx_grid_row_t *rows = realloc(g->rows, cap * sizeof *rows);
        if (!rows)
            return sdx_note_nomem(g->r);
        g->rows = rows;
        g->rows_cap = cap;
    }
    sdx_grid_row_t *row = &g->rows[g->nrows++];
    memset(row, 0, sizeof *row);
    row->kind = kind;
    row->line = line;
    row->item = item;
    snprintf(row->label, sizeof row->label, "%s", label);
    *row_p = row;
    return SDX_OK;
}

/* Number repeated labels ("Special Condition 1", "... 2"). */
static void
number_repeats(sdx_grid_t *g)
{
    for (size_t i = 0; i < g->nrows; i++) {
        sdx_grid_row_t *row = &g->rows[i];
        int count = 0, ordinal = 0;
        if (!row->kind->repeatable)
            continue;
        for (size_t j = 0; j < g->nrows; j++) {
            if (g->rows[j].kind != row->kind)
                continue;
            count++;
            if (j <= i)
                ordinal++;
        }
        if (count > 1) {
            snprintf(row->label, sizeof row->label, "%s %d",
                     row->kind->label, ordinal);
            row->item = ordinal;
        }
    }
}

/* A new clause into G->r with CUT before it. */
static sdx_status_t
push_clause(sdx_grid_t *g, const char *id, int level, const char *code,
            const char *title, const char *flsa, const char *row,
            const char *section, int item, const char *text, sdx_cut_t cut)
{
    sdx_clause_t *c = sdx_clause_new();
    if (!c || sdx_clause_set(&c->id, id) != SDX_OK ||
        sdx_clause_set(&c->series, g->series) != SDX_OK ||
        sdx_clause_set(&c->job_code, code) != SDX_OK ||
        sdx_clause_set(&c->title, title) != SDX_OK ||
        sdx_clause_set(&c->flsa, flsa) != SDX_OK ||
        sdx_clause_set(&c->row, row) != SDX_OK ||
        sdx_clause_set(&c->section, section) != SDX_OK ||
        sdx_clause_set(&c->text, text) != SDX_OK) {
        sdx_clause_destroy(&c);
        return sdx_note_nomem(g->r);
    }
    c->level = level;
    c->item = item;
    if (sdx_file_read_push(g->r, &c, cut) != SDX_OK)
        return sdx_note_nomem(g->r);
    return SDX_OK;
}

sdx_status_t
sdx_grid_finish(sdx_grid_t *g, size_t line)
{
    char *bare = NULL, *id = NULL;
    sdx_status_t st;
    if (g->meta_line[SDX_ROLE_TITLE] == 0 || g->meta_line[SDX_ROLE_CODE] == 0)
        return sdx_note(g->r, SDX_NOTE_ERROR, line,
                        g->meta_line[SDX_ROLE_TITLE] ? "Job Code"
                                                     : "Job Title",
                        "missing at the end of the file");
    if (g->nrows == 0)
        return sdx_note(g->r, SDX_NOTE_ERROR, line, NULL,
                        "no text rows (Generic Scope, Key Resp NN, KSA NN, "
                        "...) after the metadata rows");
    number_repeats(g);
    size_t idsize = strlen(g->series) + SDX_LABEL_MAX + SDX_CODE_MAX + 16;
    bare = sdx_grid_series_with(g, "");
    id = malloc(idsize);
    if (!bare || !id) {
        st = sdx_note_nomem(g->r);
        goto cleanup;
    }
    /* The slug of the series without its range is never longer than it;
     * "/job-summary" fits in the room left for a label. */
    int n = sdx_slug(bare, id, idsize);
    if (n < 0) {
        st = sdx_note_nomem(g->r);
        goto cleanup;
    }
    strcpy(id + n, "/job-summary");
    st = push_clause(g, id, 0, "", g->series, "", "Job Summary", "summary",
                     0, g->summary, SDX_CUT_NONE);
    for (size_t i = 0; i < g->nrows && st == SDX_OK; i++) {
        const sdx_grid_row_t *row = &g->rows[i];
        bool any = false;
        for (int k = 0; k < g->nlev && st == SDX_OK; k++) {
            if (!row->cells[k])
                continue;
            any = true;
            n = snprintf(id, idsize, "%s/", g->codes[k]);
            if (n < 0 || sdx_slug(row->label, id + n, idsize - (size_t)n) < 0) {
                st = sdx_note_nomem(g->r);
                break;
            }
            st = push_clause(g, id, g->lo + k, g->codes[k], g->titles[k],
                             g->flsa[k] ? g->flsa[k] : "", row->label,
                             row->kind->section, row->item, row->cells[k],
                             (sdx_cut_t)row->cuts[k]);
        }
        if (!any && !row->failed && st == SDX_OK)
            sdx_note(g->r, SDX_NOTE_INFO, row->line, row->label,
                     "empty at every level: no clauses");
    }
cleanup:
    free(bare);
    free(id);
    return st == SDX_OK ? g->r->st : st;
}
