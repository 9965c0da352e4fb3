/*
 * sdx_words: text as words, for the grid ops that compare texts rather
 * than search them (issue 17): `diff` (the words one level's cell adds
 * and removes against the level below, an LCS over words), `verify` (a
 * quoted span against a clause after white space, case and quote
 * normalisation, and how far the closest clause is, in words) and
 * `gaps` (which rows no sentence of a draft covers, by the share of a
 * row's content words a sentence holds).
 *
 * Pure functions over UTF-8 strings (valid, as every request string and
 * clause text is): no Xapian, no allocation but where a function says,
 * so that they are tested on their own (tests/unit/test_words.c).
 * Offsets are bytes into the text given unless a name says characters
 * (Unicode code points, what a chatbot's string indexes count).
 */
#ifndef SDX_WORDS_H
#define SDX_WORDS_H

#include <stdbool.h>
#include <stddef.h>

#include "sdx_status.h"

/* A span of a text: OFF and LEN in bytes. */
typedef struct sdx_span {
    size_t off;                /* first byte */
    size_t len;                /* bytes */
} sdx_span_t;

/*
 * The words of TEXT as a person reads them for a diff: runs of
 * characters other than white space (ASCII blanks and U+00A0, U+2007,
 * U+202F), punctuation kept with its word ("X." is one word).  At most
 * MAX into OUT; returns how many there are (more than MAX when OUT was
 * too small).
 */
size_t sdx_words_split(const char *text, sdx_span_t *out, size_t max);

/*
 * The terms of TEXT: runs of ASCII letters and digits and of non-ASCII
 * characters that are not punctuation or spaces (U+00A0..U+00BF, U+2000..
 * U+206F, U+3000 break a run), an apostrophe between two letters kept
 * ("don't" is one term, as Xapian's tokeniser has it).  At most MAX into
 * OUT; returns how many there are.
 */
size_t sdx_words_terms(const char *text, sdx_span_t *out, size_t max);

/* True when the terms A and B (spans of their texts) are equal, ASCII
   case ignored. */
bool sdx_words_term_eq(const char *a, sdx_span_t sa, const char *b,
                       sdx_span_t sb);

/*
 * TEXT normalised for verify: ASCII letters lower-cased; ’ ‘ ‛ ′ as ',
 * “ ” „ ″ as "; every run of white space (ASCII, U+00A0, U+2007, U+2009,
 * U+202F, U+3000) as one space; none at either end.  *NORM (malloc'd,
 * NUL-terminated, caller frees) holds *LEN bytes; *CHARS (malloc'd,
 * caller frees, *LEN + 1 entries) gives for each byte of *NORM the
 * character offset in TEXT it came from, and for *LEN the offset just
 * past the last character kept.  Returns SDX_OK or SDX_NOMEM (both NULL).
 */
sdx_status_t sdx_words_normalise(const char *text, char **norm,
                                 size_t **chars, size_t *len);

/* One run of a word diff: COUNT words from FIRST of one side. */
typedef enum sdx_diff_kind {
    SDX_DIFF_SAME,             /* in both: words of A */
    SDX_DIFF_DEL,              /* only in A (removed): words of A */
    SDX_DIFF_ADD,              /* only in B (added): words of B */
} sdx_diff_kind_t;

typedef struct sdx_diff_run {
    sdx_diff_kind_t kind;      /* what the run is */
    size_t first;              /* its first word, an index into A's
                                  words (SAME, DEL) or B's (ADD) */
    size_t count;              /* words, at least 1 */
} sdx_diff_run_t;

#define SDX_WORDS_DIFF_MAX 500  /* words of one side a diff compares
                                   word by word; longer sides are one
                                   removal and one addition (the LCS
                                   table is NA x NB cells of 4 bytes:
                                   1 MB and 250,000 steps at most; a
                                   diff reply has up to 80 of them) */

/*
 * The word diff of A (words AW[0..NA), spans of A) into B (BW[0..NB)):
 * a longest common subsequence of words (exact bytes, so "Basic" and
 * "basic" differ, as a reader sees them), as runs in reading order,
 * removals before additions where both fall between the same common
 * words.  *RUNS (malloc'd, caller frees; NULL when *NRUNS is 0).
 * Returns SDX_OK or SDX_NOMEM.
 */
sdx_status_t sdx_words_diff(const char *a, const sdx_span_t *aw, size_t na,
                            const char *b, const sdx_span_t *bw, size_t nb,
                            sdx_diff_run_t **runs, size_t *nruns);

/*
 * The closest a run of TEXT's terms comes to the terms of SPAN, in
 * word edits (a term inserted, dropped or changed; ASCII case ignored):
 * the approximate substring match of Sellers' algorithm.  *FROM and *TO
 * (not NULL) get the run's first term and one past its last, indexes
 * into TW.  Returns the edits, 0 when SPAN's terms occur in TEXT in a
 * row; (size_t)-1 when out of memory.
 */
size_t sdx_words_closest(const char *span, const sdx_span_t *sw, size_t ns,
                         const char *text, const sdx_span_t *tw, size_t nt,
                         size_t *from, size_t *to);

/* True when the term W (LEN bytes, any case) is one of the stop words
   the query side drops (docs/ARCHITECTURE.md, "Stop words"). */
bool sdx_words_stop(const char *w, size_t len);

/*
 * The term W (LEN bytes) as a crude stem into OUT (SIZE bytes, NUL
 * ended): lower-cased, a trailing "'s", "ing", "ed", "es" after s, x,
 * ch or sh, "ies" (as "y") or "s" (not "ss") cut when at least three
 * letters remain.  Not English's stemmer: the same rule on both sides
 * of a comparison is what `gaps` needs.  Returns the stem's length (0
 * when it does not fit).
 */
size_t sdx_words_stem(const char *w, size_t len, char *out, size_t size);

/*
 * The sentences of TEXT: spans ending after '.', '!', '?' or ';' that
 * white space follows, at a line break that ends a list item (a line
 * that a blank line, a bullet (-, *, •) or a number and '.' follows), or
 * at the end; white space trimmed, empty ones dropped.  At most MAX into
 * OUT; returns how many there are.
 */
size_t sdx_words_sentences(const char *text, sdx_span_t *out, size_t max);

/* Characters (code points) in the first LEN bytes of TEXT. */
size_t sdx_words_chars(const char *text, size_t len);

#endif /* SDX_WORDS_H */
