/*
 * read_text: the flattened-table text of a job standard -> clause records.
 *
 * A job standard is a web page's table copied to lines (docs/CORPUS.md):
 * preamble lines, the series title ("Clinical Applications Professional
 * 1-5 HX", its range giving the levels; no range: one level), a "Job
 * Summary" line and its paragraph, then one line per table row: a row
 * label glued to one cell per level with no separator at all.
 *
 * The hard part is finding the cell boundaries of a text row, and the
 * rule is never to guess.  In short (docs/CORPUS.md, "Where the cells of
 * a text row end", says it in full, with examples):
 *
 *  1. A '|' a person wrote is a cut.  Each U+00A0 right after the label
 *     is an empty cell from level 1 up.
 *  2. Candidate cuts, by kind:
 *       nbsp:     a sentence end, white space holding U+00A0, then a
 *                 capital, digit, '(' '[' or opening quote — always a cut;
 *       sentence: a sentence end glued to a capital, digit, '(' '[' or
 *                 opening quote ("complexity.Designs", "policy.(Leads");
 *       lower:    a sentence end glued to a lowercase word ("done.eMAR");
 *       word:     a lowercase letter (or ')') glued to a capital
 *                 ("trainingBachelor’s", but also "SharePoint").
 *     A "sentence end" is '.', '!' or '?' with its closing marks, not in
 *     a number (2.5) or an abbreviation (e.g., U.S.).
 *  3. Which kinds may cut depends on how the row's last cell ends, the
 *     one ending the line shows for sure: a row whose last cell ends a
 *     sentence is cut at sentence ends (nbsp, sentence, then lower when
 *     those are too few) and never inside a word — a name with an inner
 *     capital cannot split it; a row of fragments ("... / training") is
 *     cut at sentence ends and word glue alike.
 *     2b. One token (a run without white space) where word glue competes
 *     with other glue is cut at one place at most: the one whose pieces
 *     are words the file writes on their own ("NetSuite|Bachelor’s").
 *  4. When the candidates are exactly the cuts needed, the row is
 *     certain.  When there are more, the most even cells win (least sum
 *     of squared lengths), but only when the next best choice spreads the
 *     lengths of the cells the two make differently at least twice as
 *     much and by 8 bytes more (standard deviation); otherwise the row is
 *     ambiguous: an error that shows both cuts, settled by writing '|' at
 *     the true one.
 *  5. Too few candidates is an error naming the row, with the words
 *     around the places a cut could be.
 *
 * Errors inside one row (rules 4 and 5) do not stop the reading, so one
 * run shows every such row of a file (specdex-index --check, which shows
 * a row it could not cut whole, as NOT CUT); the file is refused all the
 * same.  Cost: one pass over the text to check it,
 * one over each line; the choice is O(cuts x candidates^2) per row, run
 * once more per chosen cut, with candidates bounded by MAX_CANDIDATES.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grid.h"
#include "reader.h"
#include "sdx_util.h"

#define MAX_CANDIDATES 1024 /* candidate cuts in one row */
#define EXCERPT 40          /* bytes of input quoted in an error */
#define CONTEXT 24          /* bytes shown each side of a cut */
#define SURE_RATIO 2.0      /* rule 4: the next best spreads this much */
#define SURE_BYTES 8.0      /* ... and by this many bytes, at least */

#define LSQUO "\xe2\x80\x98" /* U+2018 ‘ */
#define RSQUO "\xe2\x80\x99" /* U+2019 ’ */
#define LDQUO "\xe2\x80\x9c" /* U+201C “ */
#define RDQUO "\xe2\x80\x9d" /* U+201D ” */
#define MARKER '|'           /* a cut written by a person */

/* A slice of the input text; not owned. */
typedef struct span {
    const char *p; /* first byte */
    size_t n;      /* length in bytes */
} span_t;

/* The kinds of candidate cut (rule 2), strongest first. */
typedef enum cand_kind {
    K_MARKER,   /* '|' */
    K_NBSP,     /* sentence end + white space with U+00A0 + opener */
    K_SENTENCE, /* sentence end glued to an opener */
    K_LOWER,    /* sentence end glued to a lowercase letter */
    K_WORD,     /* lowercase or ')' glued to a capital */
} cand_kind_t;

/* A candidate cut: the cell before ends at END, the next starts at
 * START (byte offsets in the row's text). */
typedef struct cand {
    size_t end;       /* end of the cell before */
    size_t start;     /* start of the cell after */
    cand_kind_t kind; /* what it is */
} cand_t;

/* The state of one file's reading. */
/*
 * The words of a file: every token of its lines (labels taken off),
 * stripped of the punctuation around it, in an open-addressed set of
 * slices of the text.  Rule 2b asks it whether a piece of a glued token
 * is a word this standard also writes on its own.
 */
typedef struct vocab {
    span_t *slots;         /* NULL p: empty; slices of the file */
    size_t cap;            /* slots, a power of two */
    size_t n;              /* words held */
} vocab_t;

typedef struct text_reader {
    sdx_grid_t g;          /* the standard so far */
    sdx_file_read_t *r;    /* notes and clauses */
    vocab_t words;         /* the file's words */
} text_reader_t;

/* One row of text being split. */
typedef struct row_text {
    const char *label;     /* the row's label as written */
    size_t line;           /* its line */
    const char *line_p;    /* the line's first byte, for columns */
    span_t s;              /* the text after the label and its empties */
    int empties;           /* leading empty cells */
    size_t ncells;         /* cells to find in S */
} row_text_t;

/* ---- small helpers ---------------------------------------------------- */

static span_t
trim(span_t s)
{
    size_t w;
    while ((w = sdx_ws_len(s.p, s.n)) > 0) {
        s.p += w;
        s.n -= w;
    }
    while (s.n > 0) {
        if (sdx_ws_len(s.p + s.n - 1, 1))
            s.n--;
        else if (s.n >= 2 && sdx_starts(s.p + s.n - 2, 2, SDX_NBSP))
            s.n -= 2;
        else
            break;
    }
    return s;
}

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Copy at most EXCERPT bytes of S into BUF (EXCERPT + 4 bytes). */
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

/* The 1-based column (in characters) of P in the line starting at L. */
static size_t
column(const char *l, const char *p)
{
    size_t col = 1;
    for (; l < p; l++)
        col += ((unsigned char)*l & 0xc0) != 0x80;
    return col;
}

/*
 * "...words before|words after..." around cut C of S into BUF (at least
 * 2 * CONTEXT + 16 bytes), white space shown as one space.
 */
static const char *
around(span_t s, const cand_t *c, char *buf)
{
    size_t a = c->end > CONTEXT ? c->end - CONTEXT : 0;
    size_t b = c->start + CONTEXT < s.n ? c->start + CONTEXT : s.n;
    size_t o = 0;
    while (a > 0 && ((unsigned char)s.p[a] & 0xc0) == 0x80)
        a++;
    while (b < s.n && ((unsigned char)s.p[b] & 0xc0) == 0x80)
        b--;
    if (a > 0)
        o += (size_t)sprintf(buf + o, "...");
    for (size_t i = a; i < b;) {
        if (i == c->end) {
            buf[o++] = '|';
            i = c->start;
            if (c->kind == K_MARKER)
                continue;
        }
        size_t w = sdx_ws_len(s.p + i, s.n - i);
        if (w > 0) {
            if (o == 0 || buf[o - 1] != ' ')
                buf[o++] = ' ';
            i += w;
        } else {
            buf[o++] = s.p[i++];
        }
    }
    if (b < s.n)
        o += (size_t)sprintf(buf + o, "...");
    buf[o] = '\0';
    return buf;
}

/* True when a cell may start at P after a sentence end: a capital, a
 * digit, '(' '[' an opening curly quote, or '"' opening a quote. */
static bool
is_opener(const char *p, size_t n, size_t quotes)
{
    if (n == 0)
        return false;
    return sdx_is_upper_at(p, n) || is_digit(*p) || *p == '(' ||
           *p == '[' || (*p == '"' && quotes % 2 == 0) ||
           sdx_starts(p, n, LSQUO) || sdx_starts(p, n, LDQUO);
}

/* True when the text S ends a sentence (its closing marks aside). */
static bool
ends_sentence(span_t s)
{
    for (size_t i = s.n; i-- > 0;) {
        char ch = s.p[i];
        if (ch == '.' || ch == '!' || ch == '?') {
            size_t quotes = 0;
            for (size_t j = 0; j < i; j++)
                quotes += s.p[j] == '"';
            return sdx_sentence_end(s.p, s.n, i, quotes) == s.n;
        }
        /* closing marks: ) ] " and the bytes of ’ ” */
        if (!(ch == ')' || ch == ']' || ch == '"' ||
              ((unsigned char)ch & 0x80)))
            return false;
    }
    return false;
}

/* ---- the file's words (rule 2b) --------------------------------------- */

/* S without the punctuation around a word: ( [ " “ ‘ before, ) ] " ” ’
 * , ; : . ! ? after. */
static span_t
strip_word(span_t s)
{
    for (;;) {
        if (s.n > 0 && strchr("([{\"'", s.p[0]) && s.p[0]) {
            s.p++, s.n--;
        } else if (sdx_starts(s.p, s.n, LSQUO) ||
                   sdx_starts(s.p, s.n, LDQUO)) {
            s.p += 3, s.n -= 3;
        } else {
            break;
        }
    }
    for (;;) {
        if (s.n > 0 && s.p[s.n - 1] && strchr(")]}\"',;:.!?", s.p[s.n - 1]))
            s.n--;
        else if (s.n >= 3 && (sdx_starts(s.p + s.n - 3, 3, RSQUO) ||
                              sdx_starts(s.p + s.n - 3, 3, RDQUO)))
            s.n -= 3;
        else
            break;
    }
    return s;
}

static uint64_t
word_hash(span_t w)
{
    return sdx_fnv1a(SDX_FNV1A_INIT, w.p, w.n);
}

static bool
vocab_has(const vocab_t *v, span_t w)
{
    if (w.n == 0 || v->cap == 0)
        return false;
    for (size_t i = word_hash(w) & (v->cap - 1);; i = (i + 1) & (v->cap - 1)) {
        span_t e = v->slots[i];
        if (!e.p)
            return false;
        if (e.n == w.n && memcmp(e.p, w.p, w.n) == 0)
            return true;
    }
}

static sdx_status_t
vocab_add(vocab_t *v, span_t w)
{
    if (w.n == 0 || vocab_has(v, w))
        return SDX_OK;
    if ((v->n + 1) * 2 > v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 1024;
        span_t *slots = calloc(cap, sizeof *slots);
        if (!slots)
            return SDX_NOMEM;
        for (size_t i = 0; i < v->cap; i++) {
            if (!v->slots[i].p)
                continue;
            size_t j = word_hash(v->slots[i]) & (cap - 1);
            while (slots[j].p)
                j = (j + 1) & (cap - 1);
            slots[j] = v->slots[i];
        }
        free(v->slots);
        v->slots = slots;
        v->cap = cap;
    }
    size_t i = word_hash(w) & (v->cap - 1);
    while (v->slots[i].p)
        i = (i + 1) & (v->cap - 1);
    v->slots[i] = w;
    v->n++;
    return SDX_OK;
}

/* Every word of TEXT into V, each line's row label taken off first. */
static sdx_status_t
vocab_read(vocab_t *v, const char *text, size_t len)
{
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        span_t t = trim((span_t){ p, (size_t)((nl ? nl : end) - p) });
        sdx_label_t m;
        p = nl ? nl + 1 : end;
        if (sdx_label_match(t.p, t.n, false, &m)) {
            t.p += m.len;
            t.n -= m.len;
        }
        for (size_t i = 0; i < t.n;) {
            size_t w, j = i;
            while (j < t.n && sdx_ws_len(t.p + j, t.n - j) == 0)
                j++;
            if (vocab_add(v, strip_word((span_t){ t.p + i, j - i })) !=
                SDX_OK)
                return SDX_NOMEM;
            i = j;
            while ((w = sdx_ws_len(t.p + i, t.n - i)) > 0)
                i += w;
        }
    }
    return SDX_OK;
}

/* ---- candidates (rule 2) ---------------------------------------------- */

/* The candidate cuts of S in order; *TOO_MANY when over MAX. */
static size_t
find_candidates(span_t s, cand_t *c, size_t max, bool *too_many)
{
    size_t m = 0, quotes = 0;
    *too_many = false;
    for (size_t i = 0; i < s.n; i++) {
        size_t end = 0, start = 0, k;
        cand_kind_t kind;
        if (s.p[i] == MARKER) {
            end = i;
            start = i + 1;
            kind = K_MARKER;
        } else if ((k = sdx_sentence_end(s.p, s.n, i, quotes)) > 0) {
            size_t q = quotes;
            for (size_t j = i; j < k; j++)
                q += s.p[j] == '"';
            if (k < s.n && is_opener(s.p + k, s.n - k, q)) {
                end = start = k;
                kind = K_SENTENCE;
            } else if (k < s.n && sdx_is_lower_at(s.p + k, s.n - k)) {
                end = start = k;
                kind = K_LOWER;
            } else {
                bool nbsp = false;
                size_t w = k, l;
                while ((l = sdx_ws_len(s.p + w, s.n - w)) > 0) {
                    nbsp = nbsp || l == 2;
                    w += l;
                }
                if (!nbsp || w == s.n || s.p[w] == MARKER)
                    goto next;
                end = k;
                start = w;
                if (is_opener(s.p + w, s.n - w, q))
                    kind = K_NBSP;
                else if (sdx_is_lower_at(s.p + w, s.n - w))
                    kind = K_LOWER;
                else
                    goto next;
            }
        } else if ((sdx_is_lower_at(s.p + i, s.n - i) || s.p[i] == ')') &&
                   ((unsigned char)s.p[i] & 0xc0) != 0x80) {
            size_t l = ((unsigned char)s.p[i] & 0x80) ? 2 : 1;
            if (i + l >= s.n || !sdx_is_upper_at(s.p + i + l, s.n - i - l))
                goto next;
            end = start = i + l;
            kind = K_WORD;
        } else {
            goto next;
        }
        if (m > 0 && c[m - 1].end == end)
            goto next;
        if (m == max) {
            *too_many = true;
            return m;
        }
        c[m].end = end;
        c[m].start = start;
        c[m].kind = kind;
        m++;
    next:
        quotes += s.p[i] == '"';
    }
    return m;
}

/* ---- the choice (rule 4) ---------------------------------------------- */

static uint64_t
square(size_t n)
{
    return (uint64_t)n * (uint64_t)n;
}

/*
 * Choose NEED of the M candidates C: every forced one (FORCED[j]), and
 * others so that the sum of squared cell lengths is least, never taking
 * candidate SKIP (M for none).  PICK gets the chosen indexes in order,
 * *COST the sum.  f[t][j] is the least cost of the first t+1 cells when
 * the (t+1)-th cut is candidate j; a step from i to j may not pass over
 * a forced candidate.  Ties go to the earlier choice.  SDX_NOT_FOUND
 * when no choice exists.
 */
static sdx_status_t
choose(const cand_t *c, const bool *forced, size_t m, size_t need,
       size_t total, size_t skip, size_t *pick, uint64_t *cost)
{
    uint64_t *f = NULL;
    size_t *from = NULL, *fp = NULL;
    sdx_status_t st = SDX_NOMEM;
    const uint64_t inf = UINT64_MAX;
    if (need == 0) {
        for (size_t j = 0; j < m; j++)
            if (forced[j])
                return SDX_NOT_FOUND;
        *cost = square(total);
        return SDX_OK;
    }
    f = malloc(need * m * sizeof *f);
    from = malloc(need * m * sizeof *from);
    fp = malloc((m + 1) * sizeof *fp);
    if (!f || !from || !fp)
        goto cleanup;
    /* fp[j]: forced candidates among c[0..j) */
    fp[0] = 0;
    for (size_t j = 0; j < m; j++)
        fp[j + 1] = fp[j] + (forced[j] ? 1 : 0);
    for (size_t j = 0; j < m; j++)
        f[j] = fp[j] == 0 && j != skip ? square(c[j].end) : inf;
    for (size_t t = 1; t < need; t++) {
        for (size_t j = 0; j < m; j++) {
            uint64_t best = inf;
            size_t arg = 0;
            for (size_t i = 0; i < j && j != skip; i++) {
                uint64_t prev = f[(t - 1) * m + i];
                if (prev == inf || fp[j] - fp[i + 1] != 0)
                    continue;
                uint64_t v = prev + square(c[j].end - c[i].start);
                if (v < best) {
                    best = v;
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
        if (prev == inf || fp[m] - fp[j + 1] != 0)
            continue;
        uint64_t v = prev + square(total - c[j].start);
        if (v < best) {
            best = v;
            last = j;
        }
    }
    if (best == inf) {
        st = SDX_NOT_FOUND;
        goto cleanup;
    }
    for (size_t t = need; t-- > 0;) {
        pick[t] = last;
        if (t > 0)
            last = from[t * m + last];
    }
    *cost = best;
    st = SDX_OK;
cleanup:
    free(f);
    free(from);
    free(fp);
    return st;
}

/* Where cell K of a choice PICK (NEED cuts of C) begins and ends. */
static void
cell_bounds(const cand_t *c, const size_t *pick, size_t need, size_t total,
            size_t k, size_t *a, size_t *b)
{
    *a = k == 0 ? 0 : c[pick[k - 1]].start;
    *b = k == need ? total : c[pick[k]].end;
}

/*
 * The spread (standard deviation, bytes) of the lengths of the cells
 * that choices A and B make differently, into *SA and *SB: the cells
 * both make alike say nothing about which is more even.
 */
static void
spreads(const cand_t *c, const size_t *pa, const size_t *pb, size_t need,
        size_t total, double *sa, double *sb)
{
    double sum = 0, qa = 0, qb = 0;
    size_t d = 0;
    for (size_t k = 0; k <= need; k++) {
        size_t a1, b1, a2, b2;
        cell_bounds(c, pa, need, total, k, &a1, &b1);
        cell_bounds(c, pb, need, total, k, &a2, &b2);
        if (a1 == a2 && b1 == b2)
            continue;
        sum += (double)(b1 - a1);
        d++;
    }
    double mean = d ? sum / (double)d : 0;
    for (size_t k = 0; k <= need; k++) {
        size_t a1, b1, a2, b2;
        cell_bounds(c, pa, need, total, k, &a1, &b1);
        cell_bounds(c, pb, need, total, k, &a2, &b2);
        if (a1 == a2 && b1 == b2)
            continue;
        qa += ((double)(b1 - a1) - mean) * ((double)(b1 - a1) - mean);
        qb += ((double)(b2 - a2) - mean) * ((double)(b2 - a2) - mean);
    }
    *sa = d ? sqrt(qa / (double)d) : 0;
    *sb = d ? sqrt(qb / (double)d) : 0;
}

/* "163, 207 and 199" for the cells of PICK into BUF (96 bytes). */
static const char *
lengths(const cand_t *c, const size_t *pick, size_t need, size_t total,
        char *buf)
{
    size_t o = 0;
    for (size_t k = 0; k <= need; k++) {
        size_t a = k == 0 ? 0 : c[pick[k - 1]].start;
        size_t b = k == need ? total : c[pick[k]].end;
        o += (size_t)snprintf(buf + o, 96 - o, "%s%zu",
                              k == 0 ? "" : k == need ? " and " : ", ",
                              b - a);
        if (o >= 96)
            break;
    }
    return buf;
}

/* ---- splitting a row ------------------------------------------------- */

/* The cells of row RT, cut at PICK (NEED cuts of C), into ROW with the
 * cut kinds KINDS[k] for the k-th cut. */
static sdx_status_t
store_cells(text_reader_t *tr, const row_text_t *rt, const cand_t *c,
            const size_t *pick, size_t need, const sdx_cut_t *kinds,
            sdx_grid_row_t *row)
{
    span_t s = rt->s;
    for (size_t k = 0; k <= need; k++) {
        size_t a = k == 0 ? 0 : c[pick[k - 1]].start;
        size_t b = k == need ? s.n : c[pick[k]].end;
        span_t cell = trim((span_t){ s.p + a, b - a });
        int level = rt->empties + (int)k;
        if (cell.n == 0) {
            /* an empty cell only between cuts a person wrote */
            bool before = k == 0 || c[pick[k - 1]].kind == K_MARKER;
            bool after = k == need || c[pick[k]].kind == K_MARKER;
            if (before && after)
                continue;
            return sdx_note(tr->r, SDX_NOTE_ERROR, rt->line, rt->label,
                            "cell %zu (level %d) is empty", k + 1,
                            tr->g.lo + level);
        }
        if (!(row->cells[level] = sdx_cell_text(cell.p, cell.n)))
            return sdx_note_nomem(tr->r);
        row->cuts[level] = (uint8_t)(k == 0 ? SDX_CUT_NONE : kinds[k - 1]);
    }
    return SDX_OK;
}

/* The cut kind shown for a certain candidate of kind K. */
static sdx_cut_t
certain_cut(cand_kind_t k)
{
    switch (k) {
    case K_MARKER:
        return SDX_CUT_MARKER;
    case K_NBSP:
        return SDX_CUT_NBSP;
    case K_SENTENCE:
    case K_LOWER:
        return SDX_CUT_SENTENCE;
    case K_WORD:
        return SDX_CUT_WORD;
    }
    return SDX_CUT_NONE;
}

/*
 * Too few candidates of the kinds allowed (rule 5): say how many cells
 * were found and where more cuts could be but were not allowed.
 */
static sdx_status_t
too_few(text_reader_t *tr, const row_text_t *rt, const cand_t *c, size_t m,
        size_t found, bool sentence_row)
{
    char where[512] = "", buf[2 * CONTEXT + 16];
    size_t o = 0, shown = 0;
    for (size_t j = 0; j < m && shown < 3; j++) {
        if (c[j].kind != K_WORD || !sentence_row)
            continue;
        o += (size_t)snprintf(where + o, sizeof where - o, "%s\"%s\"",
                              shown ? ", " : "", around(rt->s, &c[j], buf));
        shown++;
        if (o >= sizeof where)
            break;
    }
    if (shown > 0)
        return sdx_note(tr->r, SDX_NOTE_ERROR, rt->line, rt->label,
                        "found %zu cells, expected %zu (%d levels, %d "
                        "empty); the other places a cut could be are "
                        "inside words with an inner capital (%s), which "
                        "cut no row that ends a sentence: write '|' at "
                        "each true cut (docs/CORPUS.md, \"Settling a cut\")",
                        found, rt->ncells, tr->g.nlev, rt->empties, where);
    return sdx_note(tr->r, SDX_NOTE_ERROR, rt->line, rt->label,
                    "found %zu cells, expected %zu (%d levels, %d empty): "
                    "a cell that does not end a sentence is glued to one "
                    "that starts with no capital; write '|' at each cut "
                    "(docs/CORPUS.md, \"Settling a cut\")", found,
                    rt->ncells, tr->g.nlev, rt->empties);
}

/*
 * Cut row RT among the M candidates C of which USE[j] may be taken and
 * FORCED[j] must be (rule 4), into ROW.
 */
static sdx_status_t
cut_row(text_reader_t *tr, const row_text_t *rt, const cand_t *all,
        const bool *use, size_t m_all, sdx_grid_row_t *row)
{
    size_t need = rt->ncells - 1, m = 0;
    cand_t *c = malloc((m_all ? m_all : 1) * sizeof *c);
    bool *forced = malloc((m_all ? m_all : 1) * sizeof *forced);
    size_t pick[SDX_LEVELS_MAX], alt[SDX_LEVELS_MAX];
    size_t best_alt[SDX_LEVELS_MAX];
    sdx_cut_t kinds[SDX_LEVELS_MAX];
    uint64_t cost = 0, alt_cost = 0, best_alt_cost = UINT64_MAX;
    sdx_status_t st;
    char b1[2 * CONTEXT + 16], b2[2 * CONTEXT + 16], l1[96], l2[96];
    if (!c || !forced) {
        st = sdx_note_nomem(tr->r);
        goto cleanup;
    }
    for (size_t j = 0; j < m_all; j++)
        if (use[j]) {
            c[m] = all[j];
            forced[m] = all[j].kind == K_MARKER || all[j].kind == K_NBSP;
            m++;
        }
    st = choose(c, forced, m, need, rt->s.n, m, pick, &cost);
    if (st == SDX_NOMEM) {
        st = sdx_note_nomem(tr->r);
        goto cleanup;
    }
    if (st != SDX_OK) {
        st = sdx_note(tr->r, SDX_NOTE_ERROR, rt->line, rt->label,
                      "internal error: no segmentation");
        goto cleanup;
    }
    /* Each cut taken that could be left: the best choice without it. */
    size_t diff = need; /* the cut of PICK the runner-up does without */
    for (size_t t = 0; t < need; t++) {
        kinds[t] = certain_cut(c[pick[t]].kind);
        if (forced[pick[t]])
            continue;
        st = choose(c, forced, m, need, rt->s.n, pick[t], alt, &alt_cost);
        if (st == SDX_NOMEM) {
            st = sdx_note_nomem(tr->r);
            goto cleanup;
        }
        if (st != SDX_OK)
            continue; /* no choice without it: certain */
        kinds[t] = SDX_CUT_CHOSEN;
        if (alt_cost < best_alt_cost) {
            best_alt_cost = alt_cost;
            memcpy(best_alt, alt, need * sizeof *alt);
            diff = t;
        }
    }
    st = SDX_OK;
    if (diff < need) {
        double s1, s2;
        spreads(c, pick, best_alt, need, rt->s.n, &s1, &s2);
        /* the runner-up's cut that the best does without */
        size_t other = 0;
        for (size_t t = 0; t < need; t++) {
            bool in_best = false;
            for (size_t u = 0; u < need; u++)
                in_best = in_best || pick[u] == best_alt[t];
            if (!in_best) {
                other = best_alt[t];
                break;
            }
        }
        const cand_t *cb = &c[pick[diff]], *co = &c[other];
        bool sure = s2 >= SURE_RATIO * s1 && s2 - s1 >= SURE_BYTES;
        char why[512];
        snprintf(why, sizeof why, "\"%s\" (column %zu) %s \"%s\" (column "
                 "%zu): cells of %s bytes against %s, a spread of %.0f "
                 "bytes against %.0f", around(rt->s, cb, b1),
                 column(rt->line_p, rt->s.p + cb->end),
                 sure ? "and not" : "and", around(rt->s, co, b2),
                 column(rt->line_p, rt->s.p + co->end),
                 lengths(c, pick, need, rt->s.n, l1),
                 lengths(c, best_alt, need, rt->s.n, l2), s1, s2);
        if (sure) {
            sdx_note(tr->r, SDX_NOTE_CHOICE, rt->line, rt->label,
                     "cut at %s (docs/CORPUS.md, rule 4)", why);
        } else {
            for (size_t t = 0; t < need; t++)
                if (kinds[t] == SDX_CUT_CHOSEN)
                    kinds[t] = SDX_CUT_AMBIGUOUS;
            sdx_note(tr->r, SDX_NOTE_ERROR, rt->line, rt->label,
                     "ambiguous between %s, not clearly more even; write "
                     "'|' at the true cut (docs/CORPUS.md, \"Settling a "
                     "cut\")", why);
        }
    }
    sdx_status_t st2 = store_cells(tr, rt, c, pick, need, kinds, row);
    if (st2 != SDX_OK)
        st = st2;
cleanup:
    free(c);
    free(forced);
    return st == SDX_NOMEM ? st : SDX_OK;
}

/*
 * Rule 2b: a token (a run without white space) holding two or more
 * usable glued candidates, one of them word glue, can be cut at one of
 * them at most (a run of sentence ends alone may be one-word cells,
 * "None.None.", and is left to rule 4).  Each is
 * scored by the pieces it leaves, the token's start up to it and from
 * it to the token's end: one point for each that this file also writes
 * as a word of its own ("NetSuite|Bachelor’s" scores 2 where NetSuite is
 * written elsewhere, "Net|SuiteBachelor’s" 0), half a point for a
 * sentence end.  One best: the others stop being candidates, and a note
 * says so.  A tie leaves them all to rule 4, which will likely refuse.
 */
static sdx_status_t
settle_tokens(text_reader_t *tr, const row_text_t *rt, const cand_t *c,
              size_t m, bool *use)
{
    span_t s = rt->s;
    for (size_t j = 0; j < m;) {
        /* the group: usable glued candidates with no white space between */
        if (!use[j] || c[j].start != c[j].end || c[j].kind == K_MARKER) {
            j++;
            continue;
        }
        size_t a = c[j].end, b = c[j].end, w;
        while (a > 0 && sdx_ws_len(s.p + a - 1, 1) == 0 &&
               !(a >= 2 && sdx_starts(s.p + a - 2, 2, SDX_NBSP)) &&
               s.p[a - 1] != MARKER)
            a--;
        while (b < s.n && (w = sdx_ws_len(s.p + b, s.n - b)) == 0 &&
               s.p[b] != MARKER)
            b++;
        size_t g = j, ng = 0, nword = 0, best = j;
        double best_score = -1, second = -1;
        for (; g < m && c[g].end <= b; g++) {
            if (!use[g] || c[g].start != c[g].end || c[g].kind == K_MARKER)
                continue;
            span_t left = strip_word((span_t){ s.p + a, c[g].end - a });
            span_t right = strip_word((span_t){ s.p + c[g].end,
                                                b - c[g].end });
            double score = (vocab_has(&tr->words, left) ? 1.0 : 0.0) +
                           (vocab_has(&tr->words, right) ? 1.0 : 0.0) +
                           (c[g].kind == K_WORD ? 0.0 : 0.5);
            if (score > best_score) {
                second = best_score;
                best_score = score;
                best = g;
            } else if (score > second) {
                second = score;
            }
            ng++;
            nword += c[g].kind == K_WORD;
        }
        /* Sentence ends alone may each be a cut ("None.None.Must..."):
         * one-word cells; only glue inside a word settles a token. */
        if (ng >= 2 && nword > 0 && best_score > second) {
            char b1[2 * CONTEXT + 16], tok[EXCERPT + 4];
            for (size_t k = j; k < g; k++)
                if (k != best && c[k].start == c[k].end &&
                    c[k].kind != K_MARKER)
                    use[k] = false;
            sdx_note(tr->r, SDX_NOTE_CHOICE, rt->line, rt->label,
                     "\"%s\" can be cut at one place at most: at \"%s\" "
                     "(column %zu), where the pieces are words this file "
                     "writes on their own (docs/CORPUS.md, rule 2b)",
                     excerpt((span_t){ s.p + a, b - a }, tok),
                     around(s, &c[best], b1),
                     column(rt->line_p, s.p + c[best].end));
        }
        j = g > j ? g : j + 1;
    }
    return tr->r->st == SDX_NOMEM ? SDX_NOMEM : SDX_OK;
}

/*
 * A row whose cells could not be found: its whole text as one cell at
 * the first level not empty, marked SDX_CUT_UNCUT, so --check still
 * shows it (the file is refused, so it is never indexed).
 */
static sdx_status_t
keep_uncut(text_reader_t *tr, const row_text_t *rt, sdx_grid_row_t *row)
{
    int level = rt->empties;
    if (!(row->cells[level] = sdx_cell_text(rt->s.p, rt->s.n)))
        return sdx_note_nomem(tr->r);
    row->cuts[level] = (uint8_t)SDX_CUT_UNCUT;
    return SDX_OK;
}

/*
 * Split the text REST after a row's label into ROW's cells (rules 1-5).
 * Errors of this row are notes; the status is SDX_OK unless out of
 * memory, so the reading goes on.
 */
static sdx_status_t
split_cells(text_reader_t *tr, const char *label, size_t line,
            const char *line_p, span_t rest, sdx_grid_row_t *row)
{
    row_text_t rt = { label, line, line_p, rest, 0, 0 };
    cand_t *c = NULL;
    bool *use = NULL;
    size_t w;
    bool too_many;
    sdx_status_t st = SDX_OK;
    int nbsp = 0;
    span_t s = rest;
    /* Rule 1: each U+00A0 right after the label is an empty cell, unless
     * a '|' follows: then the first cell is empty and written so. */
    while ((w = sdx_ws_len(s.p, s.n)) > 0) {
        nbsp += w == 2;
        s.p += w;
        s.n -= w;
    }
    if (trim(s).n == 0)
        return SDX_OK; /* no text at any level: sdx_grid_finish says so */
    if (s.p[0] == MARKER)
        s = rest;
    else
        rt.empties = nbsp;
    s = (span_t){ s.p, trim(s).n + (size_t)(trim(s).p - s.p) };
    rt.s = s;
    if (rt.empties >= tr->g.nlev)
        return sdx_note(tr->r, SDX_NOTE_ERROR, line, label,
                        "%d empty cells (U+00A0) before the text, but the "
                        "series has %d level%s", rt.empties, tr->g.nlev,
                        tr->g.nlev == 1 ? "" : "s");
    rt.ncells = (size_t)(tr->g.nlev - rt.empties);
    size_t need = rt.ncells - 1;
    c = malloc(MAX_CANDIDATES * sizeof *c);
    use = malloc(MAX_CANDIDATES * sizeof *use);
    if (!c || !use) {
        st = sdx_note_nomem(tr->r);
        goto cleanup;
    }
    size_t m = find_candidates(s, c, MAX_CANDIDATES, &too_many);
    if (too_many) {
        sdx_note(tr->r, SDX_NOTE_ERROR, line, label,
                 "more than %d candidate cell boundaries", MAX_CANDIDATES);
        st = keep_uncut(tr, &rt, row);
        goto cleanup;
    }
    size_t nmarker = 0, nforced = 0, n1 = 0, n2 = 0;
    for (size_t j = 0; j < m; j++) {
        nmarker += c[j].kind == K_MARKER;
        nforced += c[j].kind == K_MARKER || c[j].kind == K_NBSP;
    }
    /* Every cut marked by hand: the row is exactly as written. */
    if (nmarker == need && nmarker > 0) {
        for (size_t j = 0; j < m; j++)
            use[j] = c[j].kind == K_MARKER;
        st = cut_row(tr, &rt, c, use, m, row);
        goto cleanup;
    }
    if (nforced > need) {
        sdx_note(tr->r, SDX_NOTE_ERROR, line, label,
                 "found %zu certain cuts (%zu marked by '|', %zu sentence "
                 "ends followed by U+00A0) but expected %zu cells (%d "
                 "empty), so at most %zu; mark every cut of the row with "
                 "'|' (docs/CORPUS.md, \"Settling a cut\")", nforced,
                 nmarker, nforced - nmarker, rt.ncells, rt.empties, need);
        st = keep_uncut(tr, &rt, row);
        goto cleanup;
    }
    /* Rule 3: which kinds may cut, by how the row ends. */
    bool sentence_row = ends_sentence(s);
    for (size_t j = 0; j < m; j++) {
        cand_kind_t k = c[j].kind;
        use[j] = k == K_MARKER || k == K_NBSP || k == K_SENTENCE ||
                 (k == K_WORD && !sentence_row);
    }
    if ((st = settle_tokens(tr, &rt, c, m, use)) != SDX_OK)
        goto cleanup;
    for (size_t j = 0; j < m; j++)
        n1 += use[j];
    if (n1 < need) {
        /* then sentence ends glued to a lowercase word as well */
        for (size_t j = 0; j < m; j++)
            use[j] = use[j] || c[j].kind == K_LOWER;
        if ((st = settle_tokens(tr, &rt, c, m, use)) != SDX_OK)
            goto cleanup;
        for (size_t j = 0; j < m; j++)
            n2 += use[j];
        if (n2 < need) {
            too_few(tr, &rt, c, m, n2 + 1, sentence_row);
            st = keep_uncut(tr, &rt, row);
            goto cleanup;
        }
    }
    st = cut_row(tr, &rt, c, use, m, row);
cleanup:
    free(c);
    free(use);
    return st == SDX_NOMEM ? st : SDX_OK;
}

/* ---- metadata rows ---------------------------------------------------- */

/* Job Code: N codes of equal length glued, digits only. */
static sdx_status_t
read_codes(text_reader_t *tr, span_t rest, size_t line)
{
    char digits[SDX_LEVELS_MAX * SDX_CODE_MAX + 1], buf[EXCERPT + 4];
    const char *codes[SDX_LEVELS_MAX];
    size_t n[SDX_LEVELS_MAX], nd = 0, w;
    span_t s = trim(rest);
    int nlev = tr->g.nlev;
    for (size_t i = 0; i < s.n;) {
        if ((w = sdx_ws_len(s.p + i, s.n - i)) > 0) {
            i += w;
            continue;
        }
        if (!is_digit(s.p[i]))
            return sdx_note(tr->r, SDX_NOTE_ERROR, line, "Job Code",
                            "\"%s\" holds a non-digit", excerpt(s, buf));
        if (nd == sizeof digits - 1)
            return sdx_note(tr->r, SDX_NOTE_ERROR, line, "Job Code",
                            "more than %zu digits", sizeof digits - 1);
        digits[nd++] = s.p[i++];
    }
    size_t per = nd / (size_t)nlev;
    if (nd % (size_t)nlev != 0 || per < SDX_CODE_MIN || per > SDX_CODE_MAX)
        return sdx_note(tr->r, SDX_NOTE_ERROR, line, "Job Code",
                        "%zu digits are not %d job code%s of %d to %d "
                        "digits each", nd, nlev, nlev == 1 ? "" : "s",
                        SDX_CODE_MIN, SDX_CODE_MAX);
    for (int k = 0; k < nlev; k++) {
        codes[k] = digits + (size_t)k * per;
        n[k] = per;
    }
    return sdx_grid_set_codes(&tr->g, line, codes, n);
}

/* Bargaining Unit: one string repeated N times; checked, not stored. */
static sdx_status_t
read_unit(text_reader_t *tr, span_t rest, size_t line)
{
    char buf[EXCERPT + 4];
    span_t s = trim(rest);
    size_t nlev = (size_t)tr->g.nlev, per = s.n / nlev;
    bool ok = per > 0 && s.n % nlev == 0;
    for (size_t k = 1; ok && k < nlev; k++)
        ok = memcmp(s.p, s.p + k * per, per) == 0;
    if (!ok)
        return sdx_note(tr->r, SDX_NOTE_ERROR, line, "Bargaining Unit",
                        "\"%s\" is not one bargaining unit repeated for %zu "
                        "level%s", excerpt(s, buf), nlev,
                        nlev == 1 ? "" : "s");
    return SDX_OK;
}

/* FLSA: N values split at white space and at lowercase-capital glue
 * ("Non-ExemptExempt"). */
static sdx_status_t
read_flsa(text_reader_t *tr, span_t rest, size_t line)
{
    char buf[EXCERPT + 4];
    span_t s = trim(rest);
    int k = 0;
    size_t i = 0;
    while (i < s.n) {
        size_t j = i, w;
        while (j < s.n && sdx_ws_len(s.p + j, s.n - j) == 0 &&
               !(j > i && s.p[j - 1] >= 'a' && s.p[j - 1] <= 'z' &&
                 s.p[j] >= 'A' && s.p[j] <= 'Z'))
            j++;
        if (k == tr->g.nlev)
            return sdx_note(tr->r, SDX_NOTE_ERROR, line, "FLSA",
                            "\"%s\" holds more than %d value%s",
                            excerpt(s, buf), tr->g.nlev,
                            tr->g.nlev == 1 ? "" : "s");
        free(tr->g.flsa[k]);
        if (!(tr->g.flsa[k] = strndup(s.p + i, j - i)))
            return sdx_note_nomem(tr->r);
        k++;
        i = j;
        while ((w = sdx_ws_len(s.p + i, s.n - i)) > 0)
            i += w;
    }
    if (k != tr->g.nlev)
        return sdx_note(tr->r, SDX_NOTE_ERROR, line, "FLSA",
                        "\"%s\" holds %d value%s, expected %d",
                        excerpt(s, buf), k, k == 1 ? "" : "s", tr->g.nlev);
    return SDX_OK;
}

/* ---- rows ------------------------------------------------------------ */

/* A row label's name for an unknown row: the line up to its first glued
 * boundary, "Key Rsp 01" for "Key Rsp 01Applies...". */
static void
guess_label(span_t line, char *out)
{
    size_t n = 0;
    while (n < line.n && n < SDX_LABEL_MAX - 4) {
        if (n > 0 && line.p[n] >= 'A' && line.p[n] <= 'Z' &&
            ((line.p[n - 1] >= 'a' && line.p[n - 1] <= 'z') ||
             is_digit(line.p[n - 1])))
            break;
        n++;
    }
    while (n < line.n && n > 0 && ((unsigned char)line.p[n] & 0xc0) == 0x80)
        n--;
    memcpy(out, line.p, n);
    strcpy(out + n, n < line.n && n >= SDX_LABEL_MAX - 4 ? "..." : "");
}

static sdx_status_t
add_row(text_reader_t *tr, const sdx_label_t *m, const char *label,
        span_t rest, size_t line, const char *line_p)
{
    sdx_grid_t *g = &tr->g;
    sdx_row_role_t role = m->kind->role;
    sdx_status_t st;
    if (role == SDX_ROLE_SUMMARY)
        return sdx_note(tr->r, SDX_NOTE_ERROR, line, label,
                        "appears twice (first at line %zu)",
                        g->summary_line);
    if (role == SDX_ROLE_TEXT) {
        sdx_grid_row_t *row;
        if ((st = sdx_grid_add_row(g, m->kind, label, m->item, line, &row)) !=
            SDX_OK)
            return st;
        size_t errors = tr->r->nerrors;
        st = split_cells(tr, label, line, line_p, rest, row);
        row->failed = tr->r->nerrors > errors;
        return st;
    }
    if ((st = sdx_grid_meta_row(g, role, label, line)) != SDX_OK)
        return st;
    switch (role) {
    case SDX_ROLE_TITLE: {
        span_t t = trim(rest);
        char *all = strndup(t.p, t.n);
        if (!all)
            return sdx_note_nomem(tr->r);
        st = sdx_grid_set_titles(g, line, all, NULL, NULL);
        free(all);
        return st;
    }
    case SDX_ROLE_CODE:
        return read_codes(tr, rest, line);
    case SDX_ROLE_UNIT:
        return read_unit(tr, rest, line);
    case SDX_ROLE_FLSA:
        return read_flsa(tr, rest, line);
    default:
        return SDX_INTERNAL;
    }
}

/* Where the reading is in the file. */
typedef enum where {
    IN_PREAMBLE, /* before "Job Summary": remember the last line */
    IN_SUMMARY,  /* the summary paragraph, up to the first row label */
    IN_ROWS,     /* every line is a row */
} where_t;

static sdx_status_t
read_lines(text_reader_t *tr, const char *text, size_t len)
{
    where_t where = IN_PREAMBLE;
    size_t line = 0, nonblank = 0;
    const char *p = text, *end = text + len;
    span_t series = { NULL, 0 }, summary = { NULL, 0 };
    size_t series_line = 0;
    sdx_status_t st;
    char label[SDX_LABEL_MAX];
    /* A UTF-8 byte order mark is not part of the text. */
    if (sdx_starts(p, len, "\xef\xbb\xbf"))
        p += 3;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_p = p;
        span_t t = { p, (size_t)((nl ? nl : end) - p) };
        sdx_label_t m;
        p = nl ? nl + 1 : end;
        line++;
        t = trim(t);
        if (t.n == 0)
            continue;
        nonblank++;
        bool is_row = sdx_label_match(t.p, t.n, false, &m);
        if (is_row) {
            memcpy(label, t.p, m.len);
            label[m.len] = '\0';
        }
        span_t rest = is_row ? (span_t){ t.p + m.len, t.n - m.len }
                             : (span_t){ NULL, 0 };
        switch (where) {
        case IN_PREAMBLE:
            if (!is_row || m.kind->role != SDX_ROLE_SUMMARY) {
                series = t;
                series_line = line;
                continue;
            }
            if (series.n == 0)
                return sdx_note(tr->r, SDX_NOTE_ERROR, line, label,
                                "no series title line before it");
            st = sdx_grid_set_series(&tr->g, series.p, series.n,
                                     series_line);
            if (st != SDX_OK)
                return st;
            tr->g.summary_line = line;
            summary = trim(rest);
            where = IN_SUMMARY;
            continue;
        case IN_SUMMARY:
            if (!is_row) {
                if (summary.n == 0)
                    summary = t;
                else
                    summary.n = (size_t)(t.p + t.n - summary.p);
                continue;
            }
            if (summary.n == 0)
                return sdx_note(tr->r, SDX_NOTE_ERROR, tr->g.summary_line,
                                "Job Summary", "no summary paragraph after it");
            if (!(tr->g.summary = sdx_cell_text(summary.p, summary.n)))
                return sdx_note_nomem(tr->r);
            where = IN_ROWS;
            /* fall through */
        case IN_ROWS:
            if (!is_row) {
                const sdx_row_kind_t *k = sdx_label_glued(t.p, t.n);
                guess_label(t, label);
                if (k)
                    return sdx_note(tr->r, SDX_NOTE_ERROR, line, label,
                                    "unknown row label; if it is the row "
                                    "\"%s\" glued to a cell that begins "
                                    "with a lowercase letter, write a space "
                                    "after the label (docs/CORPUS.md, "
                                    "\"Rows\")", k->label);
                return sdx_note(tr->r, SDX_NOTE_ERROR, line, label,
                                "unknown row label (the labels: %s)",
                                sdx_label_list());
            }
            if (m.bad_number)
                return sdx_note(tr->r, SDX_NOTE_ERROR, line, label,
                                "row number must be 01..99");
            if ((st = add_row(tr, &m, label, rest, line, line_p)) != SDX_OK)
                return st;
            continue;
        }
    }
    if (nonblank == 0)
        return sdx_note(tr->r, SDX_NOTE_ERROR, line ? line : 1, NULL,
                        "empty file");
    if (where == IN_PREAMBLE)
        return sdx_note(tr->r, SDX_NOTE_ERROR, line, "Job Summary",
                        "not found: not a job standard in the flattened-"
                        "table format (docs/CORPUS.md)");
    if (where == IN_SUMMARY && summary.n == 0)
        return sdx_note(tr->r, SDX_NOTE_ERROR, tr->g.summary_line,
                        "Job Summary", "no summary paragraph after it");
    if (where == IN_SUMMARY)
        return sdx_note(tr->r, SDX_NOTE_ERROR, line, "Job Title",
                        "missing at the end of the file");
    return sdx_grid_finish(&tr->g, line);
}

sdx_status_t
sdx_read_text(sdx_file_read_t *r, const char *text, size_t len)
{
    text_reader_t tr;
    memset(&tr, 0, sizeof tr);
    tr.r = r;
    tr.g.r = r;
    if (sdx_check_utf8_text(r, text, len) == SDX_OK) {
        if (vocab_read(&tr.words, text, len) != SDX_OK)
            sdx_note_nomem(r);
        else
            read_lines(&tr, text, len);
    }
    free(tr.words.slots);
    sdx_grid_clear(&tr.g);
    return r->st;
}
