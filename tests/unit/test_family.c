/*
 * test_family: job standards of the seed's family that the parser has
 * never been tuned on, each pinned cell by cell.
 *
 * tests/data/family/ holds standards written for these tests (their
 * README says what each exercises): NAME.txt, the flattened text in the
 * seed's style; NAME.html, the same standard as a saved web page; and
 * NAME.expected.jsonl, the clause records it must give, made from the
 * hand-written source (src/NAME.json) and not from the parser's output.
 * Every text and page must give exactly its expected records (every
 * field of every clause, in order), so the two formats agree with each
 * other and with the source.  ambiguous/ holds standards whose flattened
 * text no reader could cut with certainty: each must be refused naming
 * the row (NAME.expected-error) and showing two cuts, and the same text
 * settled with a '|' (NAME-settled.txt) must give its records.  And the
 * seed as a saved page gives the clauses of the seed's text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>

#include <cmocka.h>

#include "parse.h"

#define FAMILY_DIR SDX_TEST_DATA "/family"
#define AMBIGUOUS_DIR FAMILY_DIR "/ambiguous"
#define SEED_NAME "clinical-applications-professional-hx"

/* The whole of PATH as a new NUL-terminated string; *LEN its length. */
static char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0, r;
    do {
        if (n + 4096 + 1 > cap) {
            cap = (n + 4096 + 1) * 2;
            char *b = realloc(buf, cap);
            assert_non_null(b);
            buf = b;
        }
        r = fread(buf + n, 1, 4096, f);
        n += r;
    } while (r > 0);
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* PATH read by the reader its name asks for; must succeed. */
static sdx_clause_list_t
read_ok(const char *path)
{
    sdx_clause_list_t list = SDX_CLAUSE_LIST_INIT;
    char err[4096] = "";
    const char *paths[] = { path };
    sdx_status_t st = sdx_parse_paths(paths, 1, &list, NULL, err, sizeof err);
    if (st != SDX_OK)
        print_error("%s: %s\n", path, err);
    assert_int_equal(st, SDX_OK);
    return list;
}

/* The expected records of EXPECTED (JSON Lines); must parse. */
static sdx_clause_list_t
expected(const char *path)
{
    sdx_clause_list_t list = SDX_CLAUSE_LIST_INIT;
    char err[1024] = "";
    size_t len;
    char *text = slurp(path, &len);
    assert_non_null(text);
    sdx_status_t st = sdx_parse_jsonl(path, text, len, &list, err,
                                      sizeof err);
    if (st != SDX_OK)
        print_error("%s\n", err);
    assert_int_equal(st, SDX_OK);
    free(text);
    return list;
}

/* GOT must equal WANT clause by clause, field by field. */
static void
assert_same(const char *what, const sdx_clause_list_t *got,
            const sdx_clause_list_t *want)
{
    if (got->count != want->count)
        print_error("%s: %zu clauses, want %zu\n", what, got->count,
                    want->count);
    assert_int_equal(got->count, want->count);
    for (size_t i = 0; i < want->count; i++) {
        const sdx_clause_t *g = got->items[i], *w = want->items[i];
        const char *gs[] = { g->id, g->series, g->job_code, g->title,
                             g->flsa, g->row, g->section, g->text };
        const char *ws[] = { w->id, w->series, w->job_code, w->title,
                             w->flsa, w->row, w->section, w->text };
        for (size_t k = 0; k < sizeof gs / sizeof gs[0]; k++)
            if (strcmp(gs[k], ws[k]) != 0) {
                print_error("%s: clause %zu (%s): got \"%s\", want \"%s\"\n",
                            what, i, w->id, gs[k], ws[k]);
                fail();
            }
        if (g->level != w->level || g->item != w->item) {
            print_error("%s: clause %zu (%s): level/item %d/%d, want %d/%d\n",
                        what, i, w->id, g->level, g->item, w->level,
                        w->item);
            fail();
        }
    }
}

static bool
ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n > k && strcmp(s + n - k, suffix) == 0;
}

/* Every NAME.expected.jsonl of DIR against NAME.txt and NAME.html (each
 * must exist); returns the number of standards. */
static size_t
check_dir(const char *dir, const char *const *formats, size_t nformats)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    size_t standards = 0;
    assert_non_null(d);
    while ((de = readdir(d))) {
        char base[512], path[1024], exp[1024];
        if (!ends_with(de->d_name, ".expected.jsonl"))
            continue;
        size_t n = strlen(de->d_name) - strlen(".expected.jsonl");
        snprintf(base, sizeof base, "%.*s", (int)n, de->d_name);
        snprintf(exp, sizeof exp, "%s/%s", dir, de->d_name);
        sdx_clause_list_t want = expected(exp);
        assert_true(want.count > 1);
        for (size_t f = 0; f < nformats; f++) {
            snprintf(path, sizeof path, "%s/%s%s", dir, base, formats[f]);
            sdx_clause_list_t got = read_ok(path);
            assert_same(path, &got, &want);
            sdx_clause_list_clear(&got);
        }
        sdx_clause_list_clear(&want);
        standards++;
    }
    closedir(d);
    return standards;
}

/* Every family standard: its text and its page give its records. */
static void
test_family_exact(void **state)
{
    (void)state;
    static const char *const formats[] = { ".txt", ".html" };
    size_t n = check_dir(FAMILY_DIR, formats, 2);
    assert_true(n >= 9); /* the README's list */
}

/* Every ambiguous standard is refused naming its row, with both cuts;
 * settled by a '|', it gives its records. */
static void
test_family_ambiguous(void **state)
{
    (void)state;
    DIR *d = opendir(AMBIGUOUS_DIR);
    struct dirent *de;
    size_t n = 0;
    assert_non_null(d);
    while ((de = readdir(d))) {
        char base[512], path[1024], exp_path[1024];
        if (!ends_with(de->d_name, ".expected-error"))
            continue;
        size_t k = strlen(de->d_name) - strlen(".expected-error");
        snprintf(base, sizeof base, "%.*s", (int)k, de->d_name);
        snprintf(exp_path, sizeof exp_path, "%s/%s", AMBIGUOUS_DIR,
                 de->d_name);
        size_t len;
        char *want = slurp(exp_path, &len);
        assert_non_null(want);
        while (len > 0 && (want[len - 1] == '\n' || want[len - 1] == '\r'))
            want[--len] = '\0';
        snprintf(path, sizeof path, "%s/%s.txt", AMBIGUOUS_DIR, base);
        sdx_clause_list_t list = SDX_CLAUSE_LIST_INIT;
        char err[4096] = "";
        const char *paths[] = { path };
        assert_int_equal(sdx_parse_paths(paths, 1, &list, NULL, err,
                                         sizeof err), SDX_BAD_INPUT);
        if (!strstr(err, want) || !strstr(err, "ambiguous between"))
            print_error("%s: got \"%s\", want \"%s\"\n", path, err, want);
        assert_non_null(strstr(err, want));
        assert_non_null(strstr(err, "ambiguous between"));
        assert_int_equal(list.count, 0);
        free(want);
        n++;
    }
    closedir(d);
    assert_true(n >= 2);
    static const char *const formats[] = { ".txt" };
    assert_int_equal(check_dir(AMBIGUOUS_DIR, formats, 1), n);
}

/* The seed as a saved page (tests/data/html/make-seed-page.py: one <td>
 * per cell, in <p>s, with entities) gives the clauses of the
 * seed's flattened text, every field. */
static void
test_seed_page(void **state)
{
    (void)state;
    sdx_clause_list_t text = read_ok(SDX_SEED_CORPUS "/" SEED_NAME ".txt");
    sdx_clause_list_t page = read_ok(SDX_TEST_DATA "/html/good/" SEED_NAME ".html");
    assert_int_equal(text.count, 105);
    assert_same("seed page", &page, &text);
    sdx_clause_list_clear(&text);
    sdx_clause_list_clear(&page);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_family_exact),
        cmocka_unit_test(test_family_ambiguous),
        cmocka_unit_test(test_seed_page),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
