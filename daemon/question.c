/*
 * question: plain words in, the words to search and what the question
 * named out (question.h says why).
 *
 * A question is cut into tokens (words much as Xapian's tokeniser sees
 * them, an apostrophe, hyphen or dot between letters kept; quotes,
 * dashes and '&' noted; a symbol inside a word is kept here where Xapian
 * splits, which is why only plain ASCII acronyms keep their capitals),
 * then read in passes, each marking the tokens it
 * understood: series names and titles (longest first), levels, job
 * codes, row and section names.  What is left is searched for, minus
 * the question and function words.  Nothing here parses the query
 * language: the words that come out are written so that the parser can
 * only read them as words (no operator in capitals, no ':', '*', '+',
 * '-', brackets), and a quoted span comes out as the words and, beside
 * them, the phrase.
 *
 * Costs: a question is at most 1024 bytes, so at most 512 tokens; each
 * pass is linear in the tokens but for the series names, a binary
 * search per token and length (at most SERIES_WORDS_MAX); a job code or
 * a numbered row costs one term look-up in the index.  The series table
 * is read once per handle and revision: one walk over the XT terms
 * (1,000 series, the bench generator's 100,000 clauses: about a
 * millisecond, once).  On that corpus a question read costs some 80 us
 * beside its search; one that names a row is searched twice.
 */
#include "question.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sdx_clause.h"
#include "sdx_log.h"

#define TOKEN_TEXT 48          /* bytes of a token kept for matching
                                  (longer tokens match no name) */
#define SERIES_WORDS_MAX 8     /* words of a series name, at most */
#define SERIES_MAX 100000      /* series read from an index, at most */

/* ---------------------------------------------------------------- */
/* Words that ask rather than say                                   */
/* ---------------------------------------------------------------- */

/*
 * Question and function words: they carry no evidence about which
 * clause answers, and some of them ("who", "what", "can") are in the
 * texts, so searching for them ranks a clause that says "Professional
 * who applies ..." for every "who" question.  Sorted (bsearch); lower
 * case.  Measured against the alternatives in docs/RELEVANCE.md,
 * "Questions".  Words a clause says for what it means (need, needs,
 * requirements, work, staff) are not here.
 */
static const char *const function_words[] = {
    "a", "about", "abt", "after", "all", "also", "am", "an", "and", "any",
    "anyone", "anything", "are", "aren't", "as", "at", "be", "been",
    "before", "being", "both", "but", "by", "can", "can't", "cannot",
    "could", "couldn't", "describe", "did", "didn't", "difference",
    "differences", "differs", "do", "does", "doesn't", "doing", "don't",
    "done", "each", "either", "else", "etc", "every", "example", "examples",
    "explain", "find", "for", "from", "get", "give", "had", "handle",
    "handles", "has", "have", "having", "he", "hello", "help", "her",
    "here", "hey", "hi", "him", "his", "how", "i", "i'd", "i'm", "if", "in",
    "into", "involve", "involved", "involves", "is", "isn't", "it", "it's",
    "its", "job", "jobs", "just", "kind", "know", "let", "let's", "list",
    "looking", "may", "me", "mean", "means", "might", "mine", "more",
    "most", "much", "must", "my", "need", "needed", "no", "nor", "not",
    "now", "of", "on", "or", "our", "please", "position", "positions",
    "really", "regarding", "required", "role", "roles", "row", "rows",
    "says", "section", "sections", "series", "shall", "she", "should",
    "show", "so", "some", "someone", "something", "such", "tell", "than",
    "thank", "thanks", "that", "that's", "the", "their", "them", "then",
    "there", "these", "they", "thing", "things", "this", "those", "title",
    "titles", "to", "too", "us", "versus", "very", "vs", "want", "was",
    "we", "were", "what", "what's", "whats", "when", "where", "whether",
    "which", "who", "who's", "whom", "whose", "why", "will", "with",
    "would", "you", "your",
};

static int
s_cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* True when WORD (lower case) is a question or function word. */
static bool
s_function_word(const char *word)
{
    return bsearch(&word, function_words,
                   sizeof function_words / sizeof function_words[0],
                   sizeof function_words[0], s_cmp_str) != NULL;
}

/* Xapian's operators: in capitals they would be read as such. */
static bool
s_operator(const char *lower)
{
    static const char *const ops[] = {"adj", "and", "near", "not", "or",
                                      "xor"};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strcmp(lower, ops[i]) == 0)
            return true;
    return false;
}

/* ---------------------------------------------------------------- */
/* Row and section names                                            */
/* ---------------------------------------------------------------- */

/*
 * How questions name the rows of a standard (the labels themselves are
 * indexer/grid.c's row_kinds[]; a new label gets its names here too).
 * The longest name that matches wins.  A one-word name
 * right after a word that is searched for is that word's object, not a
 * row ("troubleshooting skills", "broad scope", "lab environment"), and
 * stays a word.
 */
static const struct row_name {
    const char *words;         /* lower case, one space between */
    const char *section;       /* the section it names */
    const char *row;           /* the row's slug ("generic-scope"), or
                                  with NUMBERED its base ("ksa" of
                                  "ksa-07"); NULL: the section only */
    bool numbered;             /* a number may follow: "ksa 7" */
} row_names[] = {
    {"knowledge skills and abilities", "ksa", "ksa", true},
    {"knowledge skills abilities", "ksa", "ksa", true},
    {"skills and abilities", "ksa", NULL, false},
    {"ksa", "ksa", "ksa", true},
    {"ksas", "ksa", NULL, false},
    {"skills", "ksa", NULL, false},
    {"skill", "ksa", NULL, false},
    {"abilities", "ksa", NULL, false},
    {"ability", "ksa", NULL, false},
    {"knowledge", "ksa", NULL, false},
    {"competencies", "ksa", NULL, false},
    {"key responsibilities", "responsibility", "key-resp", true},
    {"key responsibility", "responsibility", "key-resp", true},
    {"key resp", "responsibility", "key-resp", true},
    {"responsibilities", "responsibility", NULL, false},
    {"responsibility", "responsibility", NULL, false},
    {"duties", "responsibility", NULL, false},
    {"duty", "responsibility", NULL, false},
    {"special conditions", "condition", "special-condition", true},
    {"special condition", "condition", "special-condition", true},
    {"working conditions", "environment", NULL, false},
    {"work conditions", "environment", NULL, false},
    {"conditions", "condition", NULL, false},
    {"condition", "condition", NULL, false},
    {"work environment", "environment", NULL, false},
    {"working environment", "environment", NULL, false},
    {"work setting", "environment", NULL, false},
    {"environment", "environment", NULL, false},
    {"educational requirements", "education", NULL, false},
    {"education requirements", "education", NULL, false},
    {"education", "education", NULL, false},
    {"generic scope", "scope", "generic-scope", false},
    {"custom scope", "scope", "custom-scope", false},
    {"scope", "scope", NULL, false},
    {"job summary", "summary", NULL, false},
    {"summary", "summary", NULL, false},
};

/* ---------------------------------------------------------------- */
/* Tokens                                                           */
/* ---------------------------------------------------------------- */

/* What a character of the question is, for the tokeniser. */
typedef enum cclass {
    C_WORD,                    /* letter, digit, other UTF-8 */
    C_JOIN,                    /* ' ’ ‘ - . : part of a word between
                                  two word characters */
    C_QUOTE,                   /* " “ ” */
    C_DASH,                    /* – — (and a '-' standing alone) */
    C_AMP,                     /* & */
    C_SEP,                     /* anything else */
} cclass_t;

/* The class of the character at Q[I] and its length in bytes. */
static cclass_t
s_class(const char *q, size_t i, size_t *len)
{
    unsigned char c = (unsigned char)q[i];
    *len = 1;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9'))
        return C_WORD;
    if (c == '\'' || c == '-' || c == '.')
        return C_JOIN;
    if (c == '"')
        return C_QUOTE;
    if (c == '&')
        return C_AMP;
    if (c < 0x80)
        return C_SEP;
    if (c == 0xc2 && (unsigned char)q[i + 1] >= 0xa0 &&
        (unsigned char)q[i + 1] <= 0xbf) {
        *len = 2; /* NBSP and Latin-1 punctuation: ¡ « » ¿ ... */
        return C_SEP;
    }
    if (c == 0xe2 && (unsigned char)q[i + 1] == 0x80) {
        unsigned char d = (unsigned char)q[i + 2];
        *len = 3;
        if (d == 0x98 || d == 0x99)
            return C_JOIN;  /* ‘ ’ */
        if (d == 0x9c || d == 0x9d)
            return C_QUOTE; /* “ ” */
        if (d == 0x93 || d == 0x94)
            return C_DASH;  /* – — */
        return C_SEP;       /* … • and the other punctuation */
    }
    /* the rest of a UTF-8 character: letters of other scripts */
    while ((((unsigned char)q[i + *len]) & 0xc0) == 0x80)
        (*len)++;
    return C_WORD;
}

/* One token of the question. */
typedef struct token {
    size_t begin, end;         /* bytes in the question */
    char text[TOKEN_TEXT];     /* lower case, ’ as ', a possessive 's
                                  cut: what names are matched against */
    bool caps;                 /* ASCII letters and digits only, two
                                  capitals or more and no small letter:
                                  an acronym (IT, EHR, HL7) */
    bool dash;                 /* a dash between words, not a word */
    bool amp;                  /* '&', not a word */
    int quote;                 /* the quoted span it is in, or -1 */
    bool used;                 /* understood: not searched for */
} token_t;

/* A question being read. */
typedef struct reader {
    sdx_db_t *db;              /* the index */
    const char *q;             /* the question */
    token_t *t;                /* its tokens */
    size_t n;                  /* how many */
    sdx_question_t *qn;        /* what is understood */
    sdx_proto_error_t *err;    /* where a failure is told */
    bool failed;               /* the index failed or memory ran out */
} reader_t;

/* Fill T's matching text from the question's bytes. */
static void
s_token_text(const char *q, token_t *t)
{
    size_t k = 0, letters = 0, small = 0;
    bool alnum = true; /* ASCII letters and digits only */
    for (size_t i = t->begin; i < t->end; i++) {
        unsigned char c = (unsigned char)q[i];
        alnum = alnum && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                          (c >= '0' && c <= '9'));
    }
    for (size_t i = t->begin; i < t->end && k + 1 < TOKEN_TEXT; i++) {
        unsigned char c = (unsigned char)q[i];
        if (c == 0xe2 && i + 2 < t->end && (unsigned char)q[i + 1] == 0x80 &&
            ((unsigned char)q[i + 2] == 0x99 ||
             (unsigned char)q[i + 2] == 0x98)) {
            t->text[k++] = '\'';
            i += 2;
            continue;
        }
        if (c >= 'A' && c <= 'Z') {
            letters++;
            c = (unsigned char)(c - 'A' + 'a');
        } else if (c >= 'a' && c <= 'z') {
            letters++;
            small++;
        }
        t->text[k++] = (char)c;
    }
    t->text[k] = '\0';
    if (k > 2 && strcmp(t->text + k - 2, "'s") == 0)
        t->text[k - 2] = '\0';
    /* Kept as typed only when nothing in it can split it for Xapian's
       tokeniser: "☃OR" is one word here but the operator OR there. */
    t->caps = alnum && letters >= 2 && small == 0;
}

/* Cut Q into tokens: R->t (malloc'd), R->n.  Returns -1 out of memory. */
static int
s_tokens(reader_t *r)
{
    const char *q = r->q;
    size_t n = strlen(q), len;
    int span = 0, open = -1; /* quoted spans so far; the open one */
    size_t open_from = 0;    /* its first token */
    r->t = calloc(n + 1, sizeof *r->t);
    if (!r->t)
        return -1;
    r->n = 0;
    for (size_t i = 0; i < n;) {
        cclass_t c = s_class(q, i, &len);
        token_t *t = &r->t[r->n];
        if (c == C_QUOTE) {
            if (open < 0) {
                open = span++;
                open_from = r->n;
            } else {
                open = -1;
            }
            i += len;
            continue;
        }
        if (c == C_DASH || c == C_AMP ||
            (q[i] == '-' && (i == 0 || q[i - 1] == ' ') &&
             (i + 1 == n || q[i + 1] == ' '))) {
            memset(t, 0, sizeof *t);
            t->begin = i;
            t->end = i + len;
            t->dash = c != C_AMP;
            t->amp = c == C_AMP;
            t->quote = open;
            r->n++;
            i += len;
            continue;
        }
        if (c != C_WORD) {
            i += len;
            continue;
        }
        size_t b = i;
        i += len;
        for (;;) {
            size_t l2, l3;
            if (i >= n)
                break;
            cclass_t d = s_class(q, i, &l2);
            if (d == C_WORD) {
                i += l2;
                continue;
            }
            /* a joiner between two word characters stays in the word */
            if (d == C_JOIN && i + l2 < n &&
                s_class(q, i + l2, &l3) == C_WORD) {
                i += l2 + l3;
                continue;
            }
            break;
        }
        memset(t, 0, sizeof *t);
        t->begin = b;
        t->end = i;
        t->quote = open;
        s_token_text(q, t);
        r->n++;
    }
    /* an unbalanced quote is no quote: its words are plain words */
    if (open >= 0)
        for (size_t k = open_from; k < r->n; k++)
            r->t[k].quote = -1;
    return 0;
}

/*
 * True when token I exists and may still be understood.  Words in
 * quotes too: a chatbot may quote the whole question, and what a level
 * or a row is does not change in quotes.
 */
static bool
s_free(const reader_t *r, size_t i)
{
    return i < r->n && !r->t[i].used;
}

/* The level 1..9 token T spells (3, "three"), or 0. */
static int
s_number(const token_t *t)
{
    static const char *const words[] = {"one", "two", "three", "four",
                                        "five", "six", "seven", "eight",
                                        "nine"};
    if (t->text[0] >= '1' && t->text[0] <= '9' && t->text[1] == '\0')
        return t->text[0] - '0';
    for (int k = 0; k < 9; k++)
        if (strcmp(t->text, words[k]) == 0)
            return k + 1;
    return 0;
}

/* True when token T is the word W. */
static bool
s_is(const token_t *t, const char *w)
{
    return !t->dash && !t->amp && strcmp(t->text, w) == 0;
}

/* ---------------------------------------------------------------- */
/* What a question names                                            */
/* ---------------------------------------------------------------- */

/* Note a failure of the index or of memory (once). */
static void
s_fail(reader_t *r, const char *what)
{
    if (r->failed)
        return;
    r->failed = true;
    r->err->code = SDX_E_INTERNAL;
    snprintf(r->err->message, sizeof r->err->message,
             "q: reading the question: %s", what);
}

/* Add section kind KIND (static) to the question. */
static void
s_add_section(sdx_question_t *qn, const char *kind)
{
    for (size_t i = 0; i < qn->nsections; i++)
        if (strcmp(qn->sections[i], kind) == 0)
            return;
    if (qn->nsections < SDX_QUESTION_NAMED_MAX)
        qn->sections[qn->nsections++] = kind;
}

/*
 * The record of the first clause with TERM, or NULL when there is none
 * (or the index failed, which is noted).
 */
static sdx_clause_t *
s_record(reader_t *r, const char *term)
{
    void *data = NULL;
    size_t len = 0;
    sdx_clause_t *c = NULL;
    sdx_status_t st = sdx_db_get_data_by_term(r->db, term, SDX_SLOT_RECORD,
                                              &data, &len);
    if (st == SDX_OK && sdx_clause_from_msgpack(data, len, &c) != SDX_OK)
        c = NULL;
    if (st != SDX_OK && st != SDX_NOT_FOUND) {
        sdx_log(SDX_LOG_ERROR, "question: %s", sdx_db_errmsg(r->db));
        s_fail(r, "the index failed (logged)");
    }
    free(data);
    return c;
}

/* Add the series SLUG (named NAME; NULL: as its records write it). */
static void
s_add_series(reader_t *r, const char *slug, const char *name)
{
    sdx_question_t *qn = r->qn;
    for (size_t i = 0; i < qn->nseries; i++)
        if (strcmp(qn->series[i], slug) == 0)
            return;
    if (qn->nseries == SDX_QUESTION_NAMED_MAX)
        return;
    char *copy = strdup(slug), *label = NULL;
    if (copy && name) {
        label = strdup(name);
    } else if (copy) {
        char term[SDX_INDEX_TERM_MAX];
        snprintf(term, sizeof term, "%s%s", SDX_PREFIX_SERIES, slug);
        sdx_clause_t *c = s_record(r, term);
        label = strdup(c ? c->series : slug);
        sdx_clause_destroy(&c);
    }
    if (!copy || !label) {
        free(copy);
        free(label);
        s_fail(r, "out of memory");
        return;
    }
    qn->series[qn->nseries] = copy;
    qn->series_names[qn->nseries++] = label;
}

/* Add the row whose slug is SLUG when the index has it; true if so. */
static bool
s_add_row(reader_t *r, const char *slug)
{
    sdx_question_t *qn = r->qn;
    char term[SDX_INDEX_TERM_MAX];
    snprintf(term, sizeof term, "%s%s", SDX_PREFIX_ROW, slug);
    sdx_clause_t *c = s_record(r, term);
    if (!c)
        return false;
    bool known = false;
    for (size_t i = 0; i < qn->nrows; i++)
        known = known || strcmp(qn->rows[i], slug) == 0;
    if (!known && qn->nrows < SDX_QUESTION_NAMED_MAX) {
        char *s = strdup(slug), *label = strdup(c->row);
        if (!s || !label) {
            free(s);
            free(label);
            s_fail(r, "out of memory");
        } else {
            qn->rows[qn->nrows] = s;
            qn->row_labels[qn->nrows++] = label;
        }
    }
    /* not its section too: "KSA 02" asks for that row, not every KSA */
    sdx_clause_destroy(&c);
    return true;
}

/* ---- series names ----------------------------------------------- */

/* One series of the index, as its slug gives it. */
typedef struct series_entry {
    const char *slug;          /* its slug, the XT term's value:
                                  "clinical-applications-professional-
                                  1-5-hx" */
    size_t base_len;           /* bytes of its name without the levels
                                  and unit ("clinical-applications-
                                  professional") */
    const char *suffix;        /* the words after the levels ("hx"), ""
                                  for none */
    int lo, hi;                /* its levels as the name gives them; 0
                                  when it gives none */
    char *short_name;          /* the first and last words of a base
                                  name of three or more, as people
                                  shorten it ("payroll-analyst" of
                                  "payroll-systems-analyst"); or NULL */
} series_entry_t;

/* Every series of one revision of an index (kept with the handle). */
typedef struct catalog {
    uint64_t revision;         /* the revision it was read from */
    char *terms;               /* the slugs, NUL-separated (owned) */
    series_entry_t *v;         /* sorted by base name */
    size_t n;                  /* entries of V */
    const series_entry_t **by_short; /* those with a short name, sorted
                                  by it */
    size_t nshort;             /* entries of BY_SHORT */
} catalog_t;

static void
s_catalog_free(void *data)
{
    catalog_t *c = data;
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        free(c->v[i].short_name);
    free(c->terms);
    free(c->v);
    free(c->by_short);
    free(c);
}

static int
s_cmp_short(const void *a, const void *b)
{
    const series_entry_t *x = *(const series_entry_t *const *)a;
    const series_entry_t *y = *(const series_entry_t *const *)b;
    return strcmp(x->short_name, y->short_name);
}

/* E's short name, when its base name has three words or more. */
static int
s_short_name(series_entry_t *e)
{
    const char *first = memchr(e->slug, '-', e->base_len);
    const char *last = NULL;
    for (const char *p = e->slug; p < e->slug + e->base_len; p++)
        if (*p == '-')
            last = p;
    if (!first || first == last)
        return 0; /* one or two words: nothing to shorten */
    size_t flen = (size_t)(first - e->slug);
    size_t llen = (size_t)(e->slug + e->base_len - last - 1);
    if (!(e->short_name = malloc(flen + llen + 2)))
        return -1;
    memcpy(e->short_name, e->slug, flen + 1); /* with its '-' */
    memcpy(e->short_name + flen + 1, last + 1, llen);
    e->short_name[flen + 1 + llen] = '\0';
    return 0;
}

/* Compare base name A (ALEN bytes) with entry E's. */
static int
s_cmp_base(const char *a, size_t alen, const series_entry_t *e)
{
    size_t m = alen < e->base_len ? alen : e->base_len;
    int c = memcmp(a, e->slug, m);
    if (c)
        return c;
    return alen < e->base_len ? -1 : alen > e->base_len;
}

static int
s_cmp_entry(const void *a, const void *b)
{
    const series_entry_t *x = a, *y = b;
    int c = s_cmp_base(x->slug, x->base_len, y);
    return c ? c : strcmp(x->slug, y->slug);
}

/* True when the LEN bytes at S are digits only. */
static bool
s_digits(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/*
 * Split slug E->slug into base name, levels and unit: the base ends
 * before the first number ("...-professional" of "...-1-5-hx"); a name
 * without levels ("patient-access-lead-hx") ends before its unit, the
 * trailing words of one or two characters.  False when no base is left.
 */
static bool
s_parse_slug(series_entry_t *e)
{
    const char *s = e->slug;
    size_t n = strlen(s);
    const char *w = s;
    e->lo = e->hi = 0;
    e->suffix = "";
    while (w < s + n) {
        const char *end = strchr(w, '-');
        size_t len = end ? (size_t)(end - w) : strlen(w);
        if (s_digits(w, len) && w > s && len <= 1) {
            e->base_len = (size_t)(w - s - 1);
            e->lo = e->hi = w[0] - '0';
            const char *next = end ? end + 1 : s + n;
            const char *nend = strchr(next, '-');
            size_t nlen = nend ? (size_t)(nend - next) : strlen(next);
            if (*next && s_digits(next, nlen) && nlen == 1) {
                e->hi = next[0] - '0';
                next = nend ? nend + 1 : s + n;
            }
            e->suffix = next;
            return e->base_len > 0;
        }
        w = end ? end + 1 : s + n;
    }
    /* no levels: drop a trailing unit ("-hx", "-k7") */
    e->base_len = n;
    const char *dash = strrchr(s, '-');
    if (dash && strlen(dash + 1) <= 2) {
        e->base_len = (size_t)(dash - s);
        e->suffix = dash + 1;
    }
    return e->base_len > 0;
}

/* The series table of R's index, read when the handle has none yet. */
static const catalog_t *
s_catalog(reader_t *r)
{
    uint64_t rev = 0;
    if (sdx_db_revision(r->db, &rev) != SDX_OK)
        rev = 0;
    catalog_t *c = sdx_db_user(r->db);
    if (c && c->revision == rev)
        return c;
    c = calloc(1, sizeof *c);
    if (!c) {
        s_fail(r, "out of memory");
        return NULL;
    }
    c->revision = rev;
    size_t len = 0, count = 0;
    bool more = false;
    if (sdx_db_terms(r->db, SDX_PREFIX_SERIES, SERIES_MAX, &c->terms, &len,
                     &count, &more) != SDX_OK) {
        sdx_log(SDX_LOG_ERROR, "question: %s", sdx_db_errmsg(r->db));
        s_catalog_free(c);
        s_fail(r, "the index failed (logged)");
        return NULL;
    }
    if (more)
        sdx_log(SDX_LOG_WARN, "question: more than %d series; series "
                "names past them are not understood", SERIES_MAX);
    if (count && !(c->v = calloc(count, sizeof *c->v))) {
        s_catalog_free(c);
        s_fail(r, "out of memory");
        return NULL;
    }
    const char *p = c->terms;
    for (size_t i = 0; i < count; i++, p += strlen(p) + 1) {
        c->v[c->n].slug = p;
        if (s_parse_slug(&c->v[c->n]))
            c->n++;
    }
    qsort(c->v, c->n, sizeof *c->v, s_cmp_entry);
    if (c->n && !(c->by_short = calloc(c->n, sizeof *c->by_short))) {
        s_catalog_free(c);
        s_fail(r, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < c->n; i++) {
        if (s_short_name(&c->v[i])) {
            s_catalog_free(c);
            s_fail(r, "out of memory");
            return NULL;
        }
        if (c->v[i].short_name)
            c->by_short[c->nshort++] = &c->v[i];
    }
    qsort(c->by_short, c->nshort, sizeof *c->by_short, s_cmp_short);
    sdx_db_set_user(r->db, c, s_catalog_free);
    return c;
}

/* The first entry of C whose base name is the LEN bytes at A, or NULL. */
static const series_entry_t *
s_find_base(const catalog_t *c, const char *a, size_t len)
{
    size_t lo = 0, hi = c->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s_cmp_base(a, len, &c->v[mid]) > 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < c->n && s_cmp_base(a, len, &c->v[lo]) == 0 ? &c->v[lo]
                                                           : NULL;
}

/* Append token T's text to OUT (SIZE bytes) as slug words; -1: no room. */
static int
s_append_slug(char *out, size_t size, size_t *len, const token_t *t,
              bool plural_cut)
{
    char buf[TOKEN_TEXT + 1];
    char word[TOKEN_TEXT];
    snprintf(word, sizeof word, "%s", t->text);
    size_t wl = strlen(word);
    if (plural_cut) {
        if (wl < 3 || word[wl - 1] != 's')
            return -1;
        word[wl - 1] = '\0';
    }
    int n = sdx_slug(word, buf, sizeof buf);
    if (n <= 0 || *len + (size_t)n + 2 > size)
        return -1;
    if (*len)
        out[(*len)++] = '-';
    memcpy(out + *len, buf, (size_t)n + 1);
    *len += (size_t)n;
    return 0;
}

/*
 * After a series' base name at token I: how many tokens of E's name
 * follow (its levels "1-5" or "1 – 5", its unit "HX"), and the level of
 * a title ("... Professional 4 HX") into *LEVEL (0: none).
 */
static size_t
s_series_tail(const reader_t *r, size_t i, const series_entry_t *e,
              int *level)
{
    size_t k = i;
    *level = 0;
    char range[8];
    snprintf(range, sizeof range, "%d-%d", e->lo, e->hi);
    if (e->lo && s_free(r, k) && strcmp(r->t[k].text, range) == 0) {
        k++;
    } else if (e->lo && e->hi != e->lo && s_free(r, k + 2) &&
               s_number(&r->t[k]) == e->lo && r->t[k + 1].dash &&
               s_number(&r->t[k + 2]) == e->hi &&
               r->t[k].text[0] >= '0' && r->t[k].text[0] <= '9') {
        k += 3;
    } else if (s_free(r, k) && r->t[k].text[0] >= '1' &&
               r->t[k].text[0] <= '9' && r->t[k].text[1] == '\0') {
        *level = r->t[k].text[0] - '0';
        k++;
    }
    /* the unit, one word: "HX" */
    if (e->suffix[0] && !strchr(e->suffix, '-') && s_free(r, k) &&
        strcmp(r->t[k].text, e->suffix) == 0)
        k++;
    return k - i;
}

/* The first of C's short names equal to KEY: its index, or C->nshort. */
static size_t
s_find_short(const catalog_t *c, const char *key)
{
    size_t lo = 0, hi = c->nshort;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(key, c->by_short[mid]->short_name) > 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < c->nshort && strcmp(key, c->by_short[lo]->short_name) == 0
               ? lo
               : c->nshort;
}

#define SERIES_SAME_NAME 64 /* series of one name considered, at most */

/*
 * The series named at token I: by its base name, the longest first
 * ("Clinical Applications Professional"), or else by its short name
 * ("payroll analysts"); every series of that name into CAND (at most
 * SERIES_SAME_NAME), how many returned, the tokens of the name in
 * *WORDS.
 */
static size_t
s_series_at(const reader_t *r, const catalog_t *c, size_t i,
            const series_entry_t **cand, size_t *words)
{
    char slug[SERIES_WORDS_MAX * (TOKEN_TEXT + 1)];
    const series_entry_t *found = NULL;
    size_t len = 0, n = 0;
    *words = 0;
    for (size_t k = 0; k < SERIES_WORDS_MAX && s_free(r, i + k) &&
                       !r->t[i + k].dash && !r->t[i + k].amp;
         k++) {
        size_t before = len;
        if (s_append_slug(slug, sizeof slug, &len, &r->t[i + k], false))
            break;
        const series_entry_t *e = s_find_base(c, slug, len);
        if (!e) {
            /* "... Professionals": the name in the plural */
            char alt[sizeof slug];
            size_t alen = before;
            memcpy(alt, slug, before);
            if (s_append_slug(alt, sizeof alt, &alen, &r->t[i + k],
                              true) == 0)
                e = s_find_base(c, alt, alen);
        }
        if (e) {
            found = e;
            *words = k + 1;
        }
    }
    if (found) {
        for (const series_entry_t *e = found;
             e < c->v + c->n && n < SERIES_SAME_NAME &&
             s_cmp_base(found->slug, found->base_len, e) == 0;
             e++)
            cand[n++] = e;
        return n;
    }
    if (!s_free(r, i + 1) || r->t[i + 1].dash || r->t[i + 1].amp)
        return 0;
    for (int plural = 0; plural < 2 && n == 0; plural++) {
        len = 0;
        if (s_append_slug(slug, sizeof slug, &len, &r->t[i], false) ||
            s_append_slug(slug, sizeof slug, &len, &r->t[i + 1],
                          plural == 1))
            continue;
        for (size_t k = s_find_short(c, slug);
             k < c->nshort && n < SERIES_SAME_NAME &&
             strcmp(slug, c->by_short[k]->short_name) == 0;
             k++)
            cand[n++] = c->by_short[k];
    }
    *words = n ? 2 : 0;
    return n;
}

/* Series names and titles, the longest name first at each token. */
static void
s_read_series(reader_t *r)
{
    const catalog_t *c = s_catalog(r);
    if (!c || c->n == 0)
        return;
    for (size_t i = 0; i < r->n; i++) {
        const series_entry_t *cand[SERIES_SAME_NAME];
        size_t words, n;
        if (!s_free(r, i) || r->t[i].dash || r->t[i].amp ||
            !(n = s_series_at(r, c, i, cand, &words)))
            continue;
        /* the unit or levels typed after the name choose among the
           series of that name */
        size_t end = i + words, best = 0;
        int level = 0;
        for (size_t k = 0; k < n; k++) {
            int l;
            size_t tail = s_series_tail(r, end, cand[k], &l);
            if (tail > best)
                best = tail;
        }
        for (size_t k = 0; k < n; k++) {
            int l;
            if (s_series_tail(r, end, cand[k], &l) != best)
                continue;
            level = l;
            s_add_series(r, cand[k]->slug, NULL);
        }
        for (size_t k = i; k < end + best; k++)
            r->t[k].used = true;
        if (level)
            r->qn->levels |= 1u << level;
        if (s_free(r, end + best) && s_is(&r->t[end + best], "series"))
            r->t[end + best].used = true;
        i = end + best - 1;
    }
}

/* ---- levels ------------------------------------------------------- */

/*
 * Levels: "level 3", "levels 1 and 2", "levels 1, 2 or 3", "levels
 * 2-4", "levels 2 to 4", "L3", "level3".  A "level" without a number
 * ("which level ...") asks rather than says.
 */
static void
s_read_levels(reader_t *r)
{
    for (size_t i = 0; i < r->n; i++) {
        if (!s_free(r, i))
            continue;
        const char *w = r->t[i].text;
        if ((w[0] == 'l' && w[1] >= '1' && w[1] <= '9' && !w[2]) ||
            (strncmp(w, "level", 5) == 0 && w[5] >= '1' && w[5] <= '9' &&
             !w[6])) {
            r->qn->levels |= 1u << (w[strlen(w) - 1] - '0');
            r->t[i].used = true;
            continue;
        }
        if (strcmp(w, "level") && strcmp(w, "levels") && strcmp(w, "lvl"))
            continue;
        r->t[i].used = true;
        size_t k = i + 1;
        int prev = 0;       /* the last number read */
        bool range = false; /* a "to" or a dash before this number */
        while (s_free(r, k)) {
            const token_t *t = &r->t[k];
            int n = s_number(t);
            /* "2-4" as one token */
            if (!n && strlen(t->text) == 3 && t->text[1] == '-' &&
                t->text[0] >= '1' && t->text[0] <= '9' &&
                t->text[2] >= '1' && t->text[2] <= '9' && prev == 0) {
                for (int l = t->text[0] - '0'; l <= t->text[2] - '0'; l++)
                    r->qn->levels |= 1u << l;
                prev = t->text[2] - '0';
                r->t[k++].used = true;
                continue;
            }
            if (n) {
                if (range && prev && n > prev)
                    for (int l = prev; l <= n; l++)
                        r->qn->levels |= 1u << l;
                r->qn->levels |= 1u << n;
                prev = n;
                range = false;
                r->t[k++].used = true;
                continue;
            }
            bool joins = t->dash || t->amp || s_is(t, "and") ||
                         s_is(t, "or") || s_is(t, "to") ||
                         s_is(t, "through") || s_is(t, "thru");
            /* a joiner counts only between two numbers */
            if (!joins || !prev || !s_free(r, k + 1) ||
                !(s_number(&r->t[k + 1]) ||
                  (r->t[k + 1].text[0] >= '1' &&
                   r->t[k + 1].text[0] <= '9' && r->t[k + 1].text[1] == '-')))
                break;
            range = t->dash || s_is(t, "to") || s_is(t, "through") ||
                    s_is(t, "thru");
            r->t[k++].used = true;
        }
    }
}

/* ---- job codes ---------------------------------------------------- */

/* Job codes: a token of digits (3 or more) that is a code in the index. */
static void
s_read_codes(reader_t *r)
{
    for (size_t i = 0; i < r->n && !r->failed; i++) {
        const token_t *t = &r->t[i];
        size_t len = strlen(t->text);
        if (!s_free(r, i) || len < 3 || !s_digits(t->text, len))
            continue;
        char term[SDX_INDEX_TERM_MAX];
        snprintf(term, sizeof term, "%s%s", SDX_PREFIX_CODE, t->text);
        sdx_clause_t *c = s_record(r, term);
        if (!c)
            continue;
        char slug[SDX_INDEX_TERM_MAX];
        if (c->level >= 1 && c->level <= 9)
            r->qn->levels |= 1u << c->level;
        if (sdx_slug(c->series, slug, sizeof slug) > 0)
            s_add_series(r, slug, c->series);
        sdx_clause_destroy(&c);
        r->t[i].used = true;
        /* "job code 5366", "code 5366" */
        if (i >= 1 && s_free(r, i - 1) && s_is(&r->t[i - 1], "code")) {
            r->t[i - 1].used = true;
            if (i >= 2 && s_free(r, i - 2) && s_is(&r->t[i - 2], "job"))
                r->t[i - 2].used = true;
        }
    }
}

/* ---- rows and sections -------------------------------------------- */

/* Tokens from I that spell NAME's words, or 0. */
static size_t
s_match_name(const reader_t *r, size_t i, const char *name)
{
    size_t k = i;
    for (const char *w = name; *w;) {
        const char *sp = strchr(w, ' ');
        size_t len = sp ? (size_t)(sp - w) : strlen(w);
        if (!s_free(r, k) || strlen(r->t[k].text) != len ||
            memcmp(r->t[k].text, w, len) != 0 || r->t[k].dash ||
            r->t[k].amp)
            return 0;
        k++;
        w += len + (sp ? 1 : 0);
    }
    return k - i;
}

/* True when token I is searched for as a word: not understood, not a
   question or function word, not a number. */
static bool
s_content(const reader_t *r, size_t i)
{
    const token_t *t = &r->t[i];
    return !t->used && !t->dash && !t->amp && !s_function_word(t->text) &&
           !(t->text[0] >= '0' && t->text[0] <= '9');
}

/*
 * The numbered row BASE NUMBER names, when the index has it: "ksa 7"
 * is KSA 07, "special condition 2" Special Condition 2.
 */
static bool
s_numbered_row(reader_t *r, const char *base, const char *number)
{
    char slug[SDX_INDEX_TERM_MAX];
    int n = atoi(number);
    snprintf(slug, sizeof slug, "%s-%02d", base, n);
    if (s_add_row(r, slug))
        return true;
    snprintf(slug, sizeof slug, "%s-%d", base, n);
    return s_add_row(r, slug);
}

/* Row and section names, and row slugs typed as such ("key-resp-06"). */
static void
s_read_rows(reader_t *r)
{
    for (size_t i = 0; i < r->n && !r->failed; i++) {
        if (!s_free(r, i) || r->t[i].dash || r->t[i].amp)
            continue;
        const token_t *t = &r->t[i];
        if (strchr(t->text, '-') && strpbrk(t->text, "0123456789") &&
            s_add_row(r, t->text)) {
            r->t[i].used = true;
            continue;
        }
        const struct row_name *name = NULL;
        size_t words = 0;
        for (size_t k = 0; k < sizeof row_names / sizeof row_names[0];
             k++) {
            size_t m = s_match_name(r, i, row_names[k].words);
            if (m > words) {
                words = m;
                name = &row_names[k];
            }
        }
        if (!name)
            continue;
        /* "troubleshooting skills": the word's object, not the row */
        if (words == 1 && i > 0 && s_content(r, i - 1))
            continue;
        size_t k = i + words;
        const char *num = s_free(r, k) ? r->t[k].text : "";
        bool numbered = name->numbered && num[0] >= '0' && num[0] <= '9' &&
                        strlen(num) <= 2 && s_digits(num, strlen(num));
        if (numbered && s_numbered_row(r, name->row, num))
            r->t[k++].used = true;
        else if (name->numbered || !name->row || !s_add_row(r, name->row))
            s_add_section(r->qn, name->section);
        for (size_t j = i; j < k; j++)
            r->t[j].used = true;
        i = k - 1;
    }
}

/* ---- the words ---------------------------------------------------- */

/* Append LEN bytes at S to the malloc'd string *OUT; -1 out of memory. */
static int
s_cat(char **out, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t c = (*cap ? *cap * 2 : 256) + n;
        char *p = realloc(*out, c);
        if (!p)
            return -1;
        *out = p;
        *cap = c;
    }
    memcpy(*out + *len, s, n);
    *len += n;
    (*out)[*len] = '\0';
    return 0;
}

/*
 * Append token T as the parser must read it: a word, lower case unless
 * an acronym (so that "Vendors" is stemmed as "vendors" is, and "IT"
 * meets its synonyms), its bytes as typed otherwise.
 */
static int
s_cat_word(const reader_t *r, const token_t *t, bool caps, char **out,
           size_t *len, size_t *cap)
{
    size_t start = *len;
    if (s_cat(out, len, cap, r->q + t->begin, t->end - t->begin))
        return -1;
    if (!caps)
        for (size_t i = start; i < *len; i++)
            if ((*out)[i] >= 'A' && (*out)[i] <= 'Z')
                (*out)[i] = (char)((*out)[i] - 'A' + 'a');
    return 0;
}

/* The words left and the phrase hints into R->qn's query and words. */
static int
s_write_words(reader_t *r)
{
    sdx_question_t *qn = r->qn;
    size_t qlen = 0, qcap = 0, wlen = 0, wcap = 0;
    size_t letters = 0, capital = 0;
    for (size_t i = 0; i < r->n; i++) {
        if (r->t[i].dash || r->t[i].amp)
            continue;
        bool alpha = false;
        for (const char *p = r->t[i].text; *p; p++)
            alpha = alpha || (*p >= 'a' && *p <= 'z');
        letters += alpha;
        capital += r->t[i].caps;
    }
    /* SHOUTING IS NOT A RUN OF ACRONYMS */
    bool shouting = letters >= 3 && capital * 5 >= letters * 3;
    if (!(qn->spans = calloc(2 * r->n + 2, sizeof *qn->spans)) ||
        s_cat(&qn->query, &qlen, &qcap, "", 0) ||
        s_cat(&qn->words, &wlen, &wcap, "", 0))
        return -1;
    for (size_t i = 0; i < r->n; i++) {
        const token_t *t = &r->t[i];
        bool caps = t->caps && !shouting && !s_operator(t->text);
        if (t->used || t->dash || t->amp ||
            (!caps && s_function_word(t->text)))
            continue;
        if ((qlen && s_cat(&qn->query, &qlen, &qcap, " ", 1)) ||
            s_cat_word(r, t, caps, &qn->query, &qlen, &qcap) ||
            (wlen && s_cat(&qn->words, &wlen, &wcap, " ", 1)) ||
            s_cat_word(r, t, caps, &qn->words, &wlen, &wcap))
            return -1;
        qn->spans[2 * qn->nwords] = t->begin;
        qn->spans[2 * qn->nwords + 1] = t->end;
        qn->nwords++;
    }
    /* each quoted span of two words or more, as a phrase beside them;
       not one that holds what was understood ("level 3"): that phrase
       is not in any text */
    for (int span = 0;; span++) {
        size_t first = r->n, count = 0;
        bool understood = false;
        for (size_t i = 0; i < r->n; i++)
            if (r->t[i].quote == span && !r->t[i].dash && !r->t[i].amp) {
                if (first == r->n)
                    first = i;
                count++;
                understood = understood || r->t[i].used;
            }
        if (first == r->n)
            break;
        if (count < 2 || understood || qn->nwords == 0)
            continue;
        if (s_cat(&qn->query, &qlen, &qcap, " \"", 2))
            return -1;
        bool sep = false;
        for (size_t i = first; i < r->n; i++) {
            const token_t *t = &r->t[i];
            if (t->quote != span || t->dash || t->amp)
                continue;
            if ((sep && s_cat(&qn->query, &qlen, &qcap, " ", 1)) ||
                s_cat_word(r, t, t->caps && !shouting && !s_operator(t->text),
                           &qn->query, &qlen, &qcap))
                return -1;
            sep = true;
        }
        if (s_cat(&qn->query, &qlen, &qcap, "\"", 1))
            return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- */
/* The interface                                                    */
/* ---------------------------------------------------------------- */

sdx_errcode_t
sdx_question_read(sdx_db_t *db, const char *q, sdx_question_t *qn,
                  sdx_proto_error_t *err)
{
    reader_t r = {.db = db, .q = q, .qn = qn, .err = err};
    memset(qn, 0, sizeof *qn);
    err->code = SDX_E_NONE;
    if (s_tokens(&r)) {
        s_fail(&r, "out of memory");
        goto done;
    }
    s_read_series(&r);
    s_read_levels(&r);
    s_read_codes(&r);
    s_read_rows(&r);
    if (!r.failed && s_write_words(&r))
        s_fail(&r, "out of memory");
done:
    free(r.t);
    return err->code;
}

void
sdx_question_clear(sdx_question_t *qn)
{
    free(qn->query);
    free(qn->words);
    free(qn->spans);
    for (size_t i = 0; i < qn->nseries; i++) {
        free(qn->series[i]);
        free(qn->series_names[i]);
    }
    for (size_t i = 0; i < qn->nrows; i++) {
        free(qn->rows[i]);
        free(qn->row_labels[i]);
    }
    memset(qn, 0, sizeof *qn);
}

bool
sdx_question_names_rows(const sdx_question_t *qn)
{
    return qn->nsections > 0 || qn->nrows > 0;
}

sdx_errcode_t
sdx_question_restrict(const sdx_question_t *qn, sdx_index_filters_t *fs,
                      sdx_proto_error_t *err)
{
    char digits[10][2];
    const char *levels[10];
    size_t n = 0;
    for (int l = 0; l <= 9; l++)
        if ((qn->levels >> l) & 1u) {
            digits[n][0] = (char)('0' + l);
            digits[n][1] = '\0';
            levels[n] = digits[n];
            n++;
        }
    sdx_errcode_t code = sdx_index_filter_add(fs, SDX_PREFIX_LEVEL, levels,
                                              n, false, "q", err);
    if (code)
        return code;
    return sdx_index_filter_add(fs, SDX_PREFIX_SERIES,
                                (const char *const *)qn->series,
                                qn->nseries, false, "q", err);
}

sdx_errcode_t
sdx_question_prefer(const sdx_question_t *qn, sdx_index_filters_t *fs,
                    sdx_proto_error_t *err)
{
    char terms[2 * SDX_QUESTION_NAMED_MAX][SDX_INDEX_TERM_MAX];
    const char *v[2 * SDX_QUESTION_NAMED_MAX];
    size_t n = 0;
    for (size_t i = 0; i < qn->nsections; i++) {
        snprintf(terms[n], sizeof terms[n], "%s%s", SDX_PREFIX_SECTION,
                 qn->sections[i]);
        v[n] = terms[n];
        n++;
    }
    for (size_t j = 0; j < qn->nrows; j++) {
        snprintf(terms[n], sizeof terms[n], "%s%s", SDX_PREFIX_ROW,
                 qn->rows[j]);
        v[n] = terms[n];
        n++;
    }
    return sdx_index_filter_add(fs, "", v, n, false, "q", err);
}

void
sdx_question_pack(const sdx_question_t *qn, bool rows_applied,
                  msgpack_packer *pk)
{
    msgpack_pack_map(pk, 4);
    sdx_msgpack_pack_str(pk, "levels");
    unsigned n = 0;
    for (int l = 0; l <= 9; l++)
        n += (qn->levels >> l) & 1u;
    msgpack_pack_array(pk, n);
    for (int l = 0; l <= 9; l++)
        if ((qn->levels >> l) & 1u)
            msgpack_pack_int(pk, l);
    sdx_msgpack_pack_str(pk, "sections");
    msgpack_pack_array(pk, rows_applied ? qn->nsections : 0);
    for (size_t i = 0; rows_applied && i < qn->nsections; i++)
        sdx_msgpack_pack_str(pk, qn->sections[i]);
    sdx_msgpack_pack_str(pk, "series");
    msgpack_pack_array(pk, qn->nseries);
    for (size_t i = 0; i < qn->nseries; i++)
        sdx_msgpack_pack_str(pk, qn->series_names[i]);
    sdx_msgpack_pack_str(pk, "rows");
    msgpack_pack_array(pk, rows_applied ? qn->nrows : 0);
    for (size_t i = 0; rows_applied && i < qn->nrows; i++)
        sdx_msgpack_pack_str(pk, qn->row_labels[i]);
}

char *
sdx_question_correct(sdx_db_t *db, const char *q, const sdx_question_t *qn,
                     sdx_status_t *st)
{
    sdx_search_spec_t spec;
    char *fixed = NULL, *out = NULL;
    size_t len = 0, cap = 0, copied = 0;
    *st = SDX_OK;
    if (qn->nwords == 0)
        return NULL;
    /* the words alone, as the index would be asked for them; each
       corrected word back into the question where it was typed */
    sdx_index_spec_init(&spec, qn->words, NULL);
    if ((*st = sdx_db_suggest(db, &spec, &fixed)) != SDX_OK || !fixed)
        return NULL;
    bool changed = false;
    const char *w = fixed;
    for (size_t i = 0; i < qn->nwords && *w; i++) {
        const char *sp = strchr(w, ' ');
        size_t wl = sp ? (size_t)(sp - w) : strlen(w);
        size_t b = qn->spans[2 * i], e = qn->spans[2 * i + 1];
        char word[TOKEN_TEXT];
        snprintf(word, sizeof word, "%.*s", (int)wl, w);
        bool same = wl == e - b && strncasecmp(q + b, w, wl) == 0;
        if (!same && !s_function_word(word)) {
            if (s_cat(&out, &len, &cap, q + copied, b - copied) ||
                s_cat(&out, &len, &cap, w, wl))
                goto fail;
            copied = e;
            changed = true;
        }
        w += wl + (sp ? 1 : 0);
    }
    if (!changed)
        goto fail;
    if (s_cat(&out, &len, &cap, q + copied, strlen(q + copied)))
        goto fail;
    free(fixed);
    return out;
fail:
    free(fixed);
    free(out);
    return NULL;
}
