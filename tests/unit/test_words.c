/*
 * test_words: lib/sdx_words on its own: words and terms, the verify
 * normalisation (quotes, non-breaking spaces, case, white space) and its
 * character offsets, the word diff (an LCS, removals before additions,
 * runs merged), Sellers' approximate match, stems and sentences.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sdx_words.h"

static void
test_split_and_terms(void **state)
{
    (void)state;
    sdx_span_t w[16];
    const char *t = "Basic  knowledge\xc2\xa0of X. ";
    assert_int_equal(sdx_words_split(t, w, 16), 4);
    assert_int_equal(w[1].off, 7);
    assert_int_equal(w[1].len, 9);
    assert_int_equal(w[3].len, 2); /* "X." keeps its full stop */
    assert_int_equal(sdx_words_split(t, w, 2), 4); /* counts past MAX */
    const char *u = "don't re-use caf\xc3\xa9\xe2\x80\x94ok";
    assert_int_equal(sdx_words_terms(u, w, 16), 5);
    assert_int_equal(w[0].len, 5);            /* don't */
    assert_int_equal(w[3].len, 5);            /* café, two bytes é */
    assert_true(sdx_words_term_eq("ABC", (sdx_span_t){0, 3}, "xabc",
                                  (sdx_span_t){1, 3}));
    assert_int_equal(sdx_words_chars(u, strlen(u)), 20);
}

static void
test_normalise(void **state)
{
    (void)state;
    char *n = NULL;
    size_t *ch = NULL, len;
    /* ’ “ ” and a non-breaking space, capitals, runs of blanks */
    const char *t = "  It\xe2\x80\x99s \xe2\x80\x9cGood\xe2\x80\x9d\xc2\xa0"
                    "\t NOW ";
    assert_int_equal(sdx_words_normalise(t, &n, &ch, &len), SDX_OK);
    assert_string_equal(n, "it's \"good\" now");
    assert_int_equal(len, strlen(n));
    /* each byte's character in T: "i" is character 2, "n" 16 */
    assert_int_equal(ch[0], 2);
    assert_int_equal(ch[2], 4);   /* the apostrophe, one character */
    assert_int_equal(ch[3], 5);
    assert_int_equal(ch[12], 16);
    assert_int_equal(ch[len], 19); /* past "NOW" */
    free(n);
    free(ch);
    assert_int_equal(sdx_words_normalise("", &n, &ch, &len), SDX_OK);
    assert_int_equal(len, 0);
    assert_int_equal(ch[0], 0);
    free(n);
    free(ch);
}

/* Diff A into B; the runs as "-x +y =z" into OUT. */
static void
s_diff(const char *a, const char *b, char *out, size_t size)
{
    sdx_span_t aw[64], bw[64];
    size_t na = sdx_words_split(a, aw, 64), nb = sdx_words_split(b, bw, 64);
    sdx_diff_run_t *r = NULL;
    size_t n = 0, k = 0;
    assert_int_equal(sdx_words_diff(a, aw, na, b, bw, nb, &r, &n), SDX_OK);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *t = r[i].kind == SDX_DIFF_ADD ? b : a;
        const sdx_span_t *w = r[i].kind == SDX_DIFF_ADD ? bw : aw;
        size_t from = w[r[i].first].off;
        size_t to = w[r[i].first + r[i].count - 1].off +
                    w[r[i].first + r[i].count - 1].len;
        k += (size_t)snprintf(out + k, size - k, "%s%c%.*s", i ? " " : "",
                              "=-+"[r[i].kind], (int)(to - from), t + from);
    }
    free(r);
}

static void
test_diff(void **state)
{
    (void)state;
    char out[512];
    s_diff("Basic knowledge of X.", "Demonstrated knowledge of X.", out,
           sizeof out);
    assert_string_equal(out, "-Basic +Demonstrated =knowledge of X.");
    s_diff("a b c", "a b c", out, sizeof out);
    assert_string_equal(out, "=a b c");
    s_diff("", "new words", out, sizeof out);
    assert_string_equal(out, "+new words");
    s_diff("old words", "", out, sizeof out);
    assert_string_equal(out, "-old words");
    /* between two common words, removals come first */
    s_diff("x a y", "x b c y", out, sizeof out);
    assert_string_equal(out, "=x -a +b c =y");
    /* case counts: a reader sees "Basic" and "basic" differ */
    s_diff("Basic skills", "basic skills", out, sizeof out);
    assert_string_equal(out, "-Basic +basic =skills");
    /* nothing to diff: no runs */
    sdx_diff_run_t *r = (sdx_diff_run_t *)1;
    size_t n = 9;
    assert_int_equal(sdx_words_diff("", NULL, 0, "", NULL, 0, &r, &n),
                     SDX_OK);
    assert_null(r);
    assert_int_equal(n, 0);
}

static void
test_closest(void **state)
{
    (void)state;
    sdx_span_t sw[16], tw[32];
    const char *span = "develop options for quick resolution";
    const char *text = "Diagnoses problems and develops options for "
                       "effective resolution of issues.";
    size_t ns = sdx_words_terms(span, sw, 16);
    size_t nt = sdx_words_terms(text, tw, 32);
    size_t from, to;
    /* develop/develops, quick/effective: two edits, over "develops ..
       resolution" */
    assert_int_equal(sdx_words_closest(span, sw, ns, text, tw, nt, &from,
                                       &to), 2);
    assert_int_equal(from, 3);
    assert_int_equal(to, 8);
    /* exact: no edit */
    const char *exact = "options for effective";
    ns = sdx_words_terms(exact, sw, 16);
    assert_int_equal(sdx_words_closest(exact, sw, ns, text, tw, nt, &from,
                                       &to), 0);
    assert_int_equal(from, 4);
    assert_int_equal(to, 7);
}

static void
test_stem_stop_sentences(void **state)
{
    (void)state;
    char s[32];
    assert_int_equal(sdx_words_stem("Troubleshoots", 13, s, sizeof s), 12);
    assert_string_equal(s, "troubleshoot");
    sdx_words_stem("documenting", 11, s, sizeof s);
    assert_string_equal(s, "document");
    sdx_words_stem("policies", 8, s, sizeof s);
    assert_string_equal(s, "policy");
    sdx_words_stem("process", 7, s, sizeof s);
    assert_string_equal(s, "process"); /* "ss" kept */
    sdx_words_stem("its", 3, s, sizeof s);
    assert_string_equal(s, "its"); /* too short to cut */
    assert_int_equal(sdx_words_stem("abcdef", 6, s, 4), 0); /* no room */
    assert_true(sdx_words_stop("The", 3));
    assert_false(sdx_words_stop("then", 4));

    sdx_span_t v[8];
    const char *t = "Leads the team. Owns budgets; sets goals\n"
                    "- writes plans\n\nReviews e.g.the work";
    size_t n = sdx_words_sentences(t, v, 8);
    assert_int_equal(n, 5);
    assert_int_equal(v[0].len, strlen("Leads the team."));
    assert_memory_equal(t + v[2].off, "sets goals", v[2].len);
    assert_memory_equal(t + v[3].off, "- writes plans", v[3].len);
    assert_memory_equal(t + v[4].off, "Reviews e.g.the work", v[4].len);
    assert_int_equal(sdx_words_sentences("  \n ", v, 8), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_and_terms),
        cmocka_unit_test(test_normalise),
        cmocka_unit_test(test_diff),
        cmocka_unit_test(test_closest),
        cmocka_unit_test(test_stem_stop_sentences),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
