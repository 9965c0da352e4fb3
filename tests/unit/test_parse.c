/*
 * test_parse: the job-standard parser against the seed corpus, a small
 * good file and every broken file in tests/data/broken.
 *
 * The seed's segmentation is pinned cell by cell (which levels of each
 * row are empty, the first and last word of every cell), so a change to
 * the boundary rule that moves one sentence from one level to another
 * fails here.  Each broken file FOO.txt has FOO.txt.expected holding a
 * part of the error message (file, line, row, what is wrong).  The
 * one duplicate-id scan the readers, the corpus and the build share
 * (sdx_clause_dup_ids) is tested here too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "parse.h"

#define SEED_FILE SDX_SEED_CORPUS "/clinical-applications-professional-hx.txt"
#define GOOD_FILE SDX_TEST_DATA "/good/records-analyst.txt"
#define BROKEN_DIR SDX_TEST_DATA "/broken"
#define SERIES "Clinical Applications Professional 1-5 HX"
#define NBSP "\xc2\xa0"

/* ---- helpers --------------------------------------------------------- */

/* Parse PATH, which must succeed, into a new list. */
static sdx_clause_list_t
parse_ok(const char *path)
{
    sdx_clause_list_t list = SDX_CLAUSE_LIST_INIT;
    char err[512] = "";
    size_t nfiles = 99;
    const char *paths[] = { path };
    sdx_status_t st = sdx_parse_paths(paths, 1, &list, &nfiles, err,
                                      sizeof err);
    if (st != SDX_OK)
        print_error("%s\n", err);
    assert_int_equal(st, SDX_OK);
    assert_int_equal(nfiles, 1);
    return list;
}

/* Parse TEXT, which must succeed, into a new list. */
static sdx_clause_list_t
parse_text_ok(const char *text)
{
    sdx_clause_list_t list = SDX_CLAUSE_LIST_INIT;
    char err[512] = "";
    sdx_status_t st = sdx_parse_text("inline.txt", text, strlen(text),
                                     &list, err, sizeof err);
    if (st != SDX_OK)
        print_error("%s\n", err);
    assert_int_equal(st, SDX_OK);
    return list;
}

/* Parse TEXT, which must fail with SDX_BAD_INPUT and a message holding
 * WANT; nothing may be appended. */
static void
parse_text_bad(const char *text, const char *want)
{
    sdx_clause_list_t list = SDX_CLAUSE_LIST_INIT;
    char err[512] = "";
    sdx_status_t st = sdx_parse_text("inline.txt", text, strlen(text),
                                     &list, err, sizeof err);
    if (!strstr(err, want))
        print_error("got \"%s\", want \"%s\"\n", err, want);
    assert_int_equal(st, SDX_BAD_INPUT);
    assert_non_null(strstr(err, want));
    assert_int_equal(list.count, 0);
    sdx_clause_list_clear(&list);
}

/* The clause with ID, or fail. */
static const sdx_clause_t *
find(const sdx_clause_list_t *list, const char *id)
{
    for (size_t i = 0; i < list->count; i++)
        if (strcmp(list->items[i]->id, id) == 0)
            return list->items[i];
    print_error("no clause %s\n", id);
    fail();
    return NULL;
}

static bool
starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool
ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* ---- the seed: every row pinned -------------------------------------- */

/* The first and last word of a cell; NULL first: the level is empty. */
typedef struct cell_pin {
    const char *first; /* text up to the first space */
    const char *last;  /* text after the last space */
} cell_pin_t;

/* One row of the seed as it must come out. */
typedef struct row_pin {
    const char *row;      /* clause row label */
    const char *slug;     /* row part of the id */
    const char *section;  /* section kind */
    int item;             /* clause item */
    cell_pin_t cells[5];  /* levels 1..5 */
} row_pin_t;

static const row_pin_t seed_rows[] = {
    { "Generic Scope", "generic-scope", "scope", 0,
      { { "Entry-level", "planning." },
        { "Professional", "action." },
        { "Experienced", "solutions." },
        { "Technical", "autonomy." },
        { "Recognized", "level." } } },
    { "Custom Scope", "custom-scope", "scope", 0,
      { { "Under", "position." },
        { "Applies", "ending." },
        { "Applies", "ending." },
        { "As", "ending." },
        { "As", "ending." } } },
    { "Key Resp 01", "key-resp-01", "responsibility", 1,
      { { "Applies", "complexity." },
        { "Designs,", "systems." },
        { "Plans,", "modifications." },
        { "Leads", "functionality." },
        { "Initiates,", "application." } } },
    { "Key Resp 02", "key-resp-02", "responsibility", 2,
      { { "Applies", "workflows." },
        { "Contributes", "efficiency." },
        { "Analyzes", "efficiency." },
        { "Analyzes", "situations." },
        { "Leads", "outcomes." } } },
    { "Key Resp 03", "key-resp-03", "responsibility", 3,
      { { "Acquires", "processes." },
        { "Collaborates", "initiatives." },
        { "Collaborates", "leadership." },
        { "Serves", "functionality." },
        { "Applies", "functionality." } } },
    { "Key Resp 04", "key-resp-04", "responsibility", 4,
      { { "Acquires", "implementation." },
        { "Participates", "coordination." },
        { "Contributes", "coordination." },
        { "Leads", "issues." },
        { "Initiates,", "issues." } } },
    { "Key Resp 05", "key-resp-05", "responsibility", 5,
      { { "Acquires", "aids." },
        { "Conducts", "aids." },
        { "Designs", "training." },
        { "Designs", "scope." },
        { "Assesses", "systems." } } },
    { "Key Resp 06", "key-resp-06", "responsibility", 6,
      { { "Troubleshoots", "solutions." },
        { "Troubleshoots", "vendors." },
        { "Manages", "needed." },
        { "Manages", "designs." },
        { "Performs", "designs." } } },
    { "Key Resp 07", "key-resp-07", "responsibility", 7,
      { { "Assist", "requests." },
        { "Compiles", "initiatives." },
        { "Contributes", "management." },
        { "Coordinates", "technology." },
        { "Coordinates", "product." } } },
    { "Key Resp 08", "key-resp-08", "responsibility", 8,
      { { NULL, NULL },
        { NULL, NULL },
        { "Adjusts", "stakeholders." },
        { "Consults", "innovation." },
        { "Consults", "solutions." } } },
    { "Key Resp 09", "key-resp-09", "responsibility", 9,
      { { NULL, NULL },
        { NULL, NULL },
        { "Estimates", "assessments." },
        { "Plans", "business." },
        { "Uses", "organization." } } },
    { "Education", "education", "education", 0,
      { { "Bachelor’s", "training" },
        { "Bachelor’s", "training" },
        { "Bachelor’s", "training" },
        { "Bachelor’s", "training" },
        { "Bachelor’s", "training" } } },
    { "Special Condition 1", "special-condition-1", "condition", 1,
      { { "Exercise", "expectations." },
        { "Exercise", "expectations." },
        { "Exercise", "expectations." },
        { "Exercise", "expectations." },
        { "Exercise", "expectations." } } },
    { "Special Condition 2", "special-condition-2", "condition", 2,
      { { "Must", "check." },
        { "Must", "check." },
        { "Must", "check." },
        { "Must", "check." },
        { "Must", "check." } } },
    { "KSA 01", "ksa-01", "ksa", 1,
      { { "Basic", "evaluation." },
        { "Working", "evaluation." },
        { "Broad", "assurance." },
        { "Broad", "assurance." },
        { "Expert", "assurance." } } },
    { "KSA 02", "ksa-02", "ksa", 2,
      { { "Basic", "resolution." },
        { "Demonstrated", "resolution." },
        { "Strong", "solutions." },
        { "Advanced", "solutions." },
        { "Expert-level", "manner." } } },
    { "KSA 03", "ksa-03", "ksa", 3,
      { { "Basic", "applications." },
        { "Demonstrated", "staff." },
        { "Strong", "levels." },
        { "Advanced", "levels." },
        { "Expert", "levels." } } },
    { "KSA 04", "ksa-04", "ksa", 4,
      { { "Detail", "schedule." },
        { "Detail", "manner." },
        { "Detail", "completion." },
        { "Advanced", "completion." },
        { "Highly-developed", "completion." } } },
    { "KSA 05", "ksa-05", "ksa", 5,
      { { "Basic", "personnel." },
        { "Demonstrated", "manner." },
        { "Strong", "users." },
        { "Advanced", "users." },
        { "Highly", "users." } } },
    { "KSA 06", "ksa-06", "ksa", 6,
      { { "Basic", "reporting." },
        { "Working", "data." },
        { "Strong", "analyses." },
        { "Advanced", "analysis." },
        { "Highly", "analysis." } } },
    { "KSA 07", "ksa-07", "ksa", 7,
      { { NULL, NULL },
        { NULL, NULL },
        { "Ability", "performance." },
        { "Advanced", "trends." },
        { "Ability", "systems." } } },
    { "Environment", "environment", "environment", 0,
      { { "Health", "requires.)." },
        { "Health", "requires)." },
        { "Health", "requires)." },
        { "Health", "requires)." },
        { "Health", "requires)." } } },
};

#define NROWS (sizeof seed_rows / sizeof seed_rows[0])

static const char *const seed_codes[] = {
    "5365", "5366", "5367", "6372", "6373",
};
static const char *const seed_flsa[] = {
    "Non-Exempt", "Non-Exempt", "Exempt", "Exempt", "Exempt",
};

static void
test_seed_count_and_order(void **state)
{
    (void)state;
    sdx_clause_list_t list = parse_ok(SDX_SEED_CORPUS);
    size_t cells = 0;
    for (size_t r = 0; r < NROWS; r++)
        for (int k = 0; k < 5; k++)
            cells += seed_rows[r].cells[k].first != NULL;
    assert_int_equal(cells, 104);
    assert_int_equal(list.count, 104 + 1);
    assert_int_equal(NROWS, 22);
    assert_string_equal(list.items[0]->id,
                        "clinical-applications-professional-hx/job-summary");
    /* Row by row, level by level. */
    size_t i = 1;
    for (size_t r = 0; r < NROWS; r++) {
        for (int k = 0; k < 5; k++) {
            const row_pin_t *p = &seed_rows[r];
            if (!p->cells[k].first)
                continue;
            assert_true(i < list.count);
            assert_string_equal(list.items[i]->row, p->row);
            assert_int_equal(list.items[i]->level, k + 1);
            i++;
        }
    }
    assert_int_equal(i, list.count);
    sdx_clause_list_clear(&list);
}

static void
test_seed_every_cell(void **state)
{
    (void)state;
    sdx_clause_list_t list = parse_ok(SEED_FILE);
    size_t i = 1;
    for (size_t r = 0; r < NROWS; r++) {
        const row_pin_t *p = &seed_rows[r];
        for (int k = 0; k < 5; k++) {
            char id[64], first[64];
            if (!p->cells[k].first)
                continue;
            const sdx_clause_t *c = list.items[i++];
            snprintf(id, sizeof id, "%s/%s", seed_codes[k], p->slug);
            snprintf(first, sizeof first, "%s ", p->cells[k].first);
            if (!starts_with(c->text, first) ||
                !ends_with(c->text, p->cells[k].last))
                print_error("%s: \"%s\"\n", id, c->text);
            assert_string_equal(c->id, id);
            assert_string_equal(c->row, p->row);
            assert_string_equal(c->section, p->section);
            assert_int_equal(c->item, p->item);
            assert_int_equal(c->level, k + 1);
            assert_true(starts_with(c->text, first));
            assert_true(ends_with(c->text, p->cells[k].last));
            /* The cell's last word, read as a word, is its last one. */
            assert_true(ends_with(c->text, p->cells[k].last) &&
                        (strlen(c->text) == strlen(p->cells[k].last) ||
                         c->text[strlen(c->text) -
                                 strlen(p->cells[k].last) - 1] == ' '));
        }
    }
    sdx_clause_list_clear(&list);
}

static void
test_seed_metadata(void **state)
{
    (void)state;
    sdx_clause_list_t list = parse_ok(SEED_FILE);
    for (size_t i = 1; i < list.count; i++) {
        const sdx_clause_t *c = list.items[i];
        char title[64];
        assert_true(c->level >= 1 && c->level <= 5);
        snprintf(title, sizeof title,
                 "Clinical Applications Professional %d HX", c->level);
        assert_string_equal(c->series, SERIES);
        assert_string_equal(c->title, title);
        assert_string_equal(c->job_code, seed_codes[c->level - 1]);
        assert_string_equal(c->flsa, seed_flsa[c->level - 1]);
        assert_true(starts_with(c->id, c->job_code));
        assert_true(sdx_section_valid(c->section));
        /* Normalised: no U+00A0, no double or edge spaces. */
        assert_null(strstr(c->text, NBSP));
        assert_null(strstr(c->text, "  "));
        assert_true(c->text[0] != ' ' &&
                    c->text[strlen(c->text) - 1] != ' ');
    }
    const sdx_clause_t *c = find(&list, "5366/key-resp-06");
    assert_string_equal(c->title, "Clinical Applications Professional 2 HX");
    assert_string_equal(c->flsa, "Non-Exempt");
    assert_int_equal(c->item, 6);
    c = find(&list, "6373/ksa-07");
    assert_string_equal(c->flsa, "Exempt");
    assert_int_equal(c->level, 5);
    find(&list, "5365/generic-scope");
    sdx_clause_list_clear(&list);
}

static void
test_seed_summary(void **state)
{
    (void)state;
    sdx_clause_list_t list = parse_ok(SEED_FILE);
    const sdx_clause_t *c = list.items[0];
    assert_string_equal(c->id,
                        "clinical-applications-professional-hx/job-summary");
    assert_string_equal(c->series, SERIES);
    assert_int_equal(c->level, 0);
    assert_string_equal(c->job_code, "");
    assert_string_equal(c->title, SERIES);
    assert_string_equal(c->flsa, "");
    assert_string_equal(c->row, "Job Summary");
    assert_string_equal(c->section, "summary");
    assert_int_equal(c->item, 0);
    assert_true(starts_with(c->text, "Involves the design, building, "));
    assert_true(ends_with(c->text, "troubleshooting, and maintenance."));
    sdx_clause_list_clear(&list);
}

static void
test_seed_special_conditions(void **state)
{
    (void)state;
    sdx_clause_list_t list = parse_ok(SEED_FILE);
    for (int k = 0; k < 5; k++) {
        char id[64];
        snprintf(id, sizeof id, "%s/special-condition-1", seed_codes[k]);
        const sdx_clause_t *c = find(&list, id);
        assert_string_equal(c->row, "Special Condition 1");
        assert_string_equal(c->section, "condition");
        assert_int_equal(c->item, 1);
        assert_true(starts_with(c->text, "Exercise the utmost discretion"));
        assert_true(ends_with(c->text, "a violation of these "
                                       "expectations."));
        snprintf(id, sizeof id, "%s/special-condition-2", seed_codes[k]);
        c = find(&list, id);
        assert_string_equal(c->row, "Special Condition 2");
        assert_int_equal(c->item, 2);
        assert_string_equal(c->text, "Must pass a background check.");
    }
    sdx_clause_list_clear(&list);
}

/* U+00A0 inside a cell is a space, not a boundary. */
static void
test_seed_nbsp_inside_cells(void **state)
{
    (void)state;
    sdx_clause_list_t list = parse_ok(SEED_FILE);
    assert_true(ends_with(find(&list, "5367/key-resp-02")->text,
                          "Develops improvements to enhance efficiency."));
    assert_non_null(strstr(find(&list, "6373/key-resp-02")->text,
                           "develop innovative solutions that improve"));
    assert_non_null(strstr(find(&list, "6373/ksa-06")->text,
                           "system testing, analyze performance data"));
    assert_non_null(strstr(find(&list, "6373/ksa-07")->text,
                           "information resource collaborating with"));
    assert_true(ends_with(find(&list, "6373/key-resp-06")->text,
                          "processes and system designs."));
    assert_true(ends_with(find(&list, "6373/ksa-04")->text,
                          "from project inception to completion."));
    /* And U+00A0 after a sentence end is a boundary (strong). */
    assert_true(ends_with(find(&list, "5367/generic-scope")->text,
                          "determines solutions."));
    assert_true(starts_with(find(&list, "6372/generic-scope")->text,
                            "Technical leader with a high degree"));
    assert_true(starts_with(find(&list, "5367/key-resp-05")->text,
                            "Designs and delivers end-user training on "
                            "clinical"));
    assert_true(starts_with(find(&list, "6372/key-resp-05")->text,
                            "Designs and delivers end-user training on "
                            "complex"));
    sdx_clause_list_clear(&list);
}

/* Leading U+00A0 = empty levels 1 and 2. */
static void
test_seed_empty_levels(void **state)
{
    (void)state;
    sdx_clause_list_t list = parse_ok(SEED_FILE);
    const char *rows[] = { "key-resp-08", "key-resp-09", "ksa-07" };
    for (size_t r = 0; r < 3; r++) {
        for (int k = 0; k < 5; k++) {
            char id[64];
            bool found = false;
            snprintf(id, sizeof id, "%s/%s", seed_codes[k], rows[r]);
            for (size_t i = 0; i < list.count; i++)
                found = found || strcmp(list.items[i]->id, id) == 0;
            assert_int_equal(found, k >= 2);
        }
    }
    assert_true(starts_with(find(&list, "5367/key-resp-08")->text,
                            "Adjusts strategies and resources"));
    assert_true(starts_with(find(&list, "5367/ksa-07")->text,
                            "Ability to work with senior staff"));
    sdx_clause_list_clear(&list);
}

/* Five glued candidates for four boundaries: the most even split keeps
 * "Utilizes innovative approaches..." in level 4, with a space. */
static void
test_seed_key_resp_02(void **state)
{
    (void)state;
    sdx_clause_list_t list = parse_ok(SEED_FILE);
    assert_string_equal(find(&list, "6372/key-resp-02")->text,
        "Analyzes highly-complex patient care workflows and develops "
        "solutions to improve system integration, functionality, and "
        "outcomes. Utilizes innovative approaches to navigate complex "
        "situations.");
    assert_string_equal(find(&list, "6373/key-resp-02")->text,
        "Leads highly complex initiatives analyzing patient care "
        "workflows across clinical areas to develop innovative solutions "
        "that improve system integration, functionality, and outcomes.");
    sdx_clause_list_clear(&list);
}

static void
test_seed_glued_and_utf8(void **state)
{
    (void)state;
    sdx_clause_list_t list = parse_ok(SEED_FILE);
    /* complexity.Designs */
    assert_true(ends_with(find(&list, "5365/key-resp-01")->text,
                          "of limited scope and complexity."));
    assert_true(starts_with(find(&list, "5366/key-resp-01")->text,
                            "Designs, implements, debugs"));
    /* trainingBachelor’s, UTF-8 kept */
    for (int k = 0; k < 5; k++) {
        char id[64];
        snprintf(id, sizeof id, "%s/education", seed_codes[k]);
        assert_string_equal(find(&list, id)->text,
                            "Bachelor\xe2\x80\x99s degree in related area "
                            "and / or equivalent experience / training");
    }
    /* requires.).Health */
    assert_string_equal(find(&list, "5365/environment")->text,
                        "Health care (hospital, clinical, classroom "
                        "setting or similar environment as the role "
                        "requires.).");
    assert_string_equal(find(&list, "5366/environment")->text,
                        "Health care (hospital, clinical, classroom "
                        "setting or similar environment as the role "
                        "requires).");
    /* “HX” ending.As, em dash and ’ kept */
    const char *t = find(&list, "6372/custom-scope")->text;
    assert_true(starts_with(t, "As a technical leader"));
    assert_true(ends_with(t, "without the \xe2\x80\x9cHX\xe2\x80\x9d "
                             "ending."));
    assert_non_null(strstr(t, "reasons\xe2\x80\x94(1) Confidential"));
    assert_non_null(strstr(t, "management\xe2\x80\x99s bargaining"));
    sdx_clause_list_clear(&list);
}

/* ---- the small good file --------------------------------------------- */

static void
test_good_file(void **state)
{
    (void)state;
    static const char *const want[][2] = {
        { "records-analyst/job-summary",
          "Maintains the records of a department. Answers questions "
          "about them." },
        { "1001/generic-scope", "Learns the basic filing rules." },
        { "1002/generic-scope", "Applies the rules to varied records." },
        { "1003/generic-scope", "Sets the rules for the whole department." },
        { "1001/key-resp-01", "Files incoming records. Checks labels." },
        { "1002/key-resp-01", "Files and audits records of moderate "
                              "volume." },
        { "1003/key-resp-01", "Audits the records of several units." },
        { "1002/key-resp-02", "Trains new staff in the filing rules." },
        { "1003/key-resp-02", "Designs the training for all staff." },
        { "1001/key-resp-03", "Sorts mail. Opens it." },
        { "1002/key-resp-03", "Sorts and routes mail for the unit." },
        { "1003/key-resp-03", "Routes mail for the whole department." },
        { "1001/education", "High school diploma or equivalent "
                            "experience" },
        { "1002/education", "Associate degree or equivalent experience" },
        { "1003/education", "Bachelor\xe2\x80\x99s degree or equivalent "
                            "experience" },
        { "1001/special-condition-1", "Must pass a background check." },
        { "1002/special-condition-1", "Must pass a background check." },
        { "1003/special-condition-1", "Must pass a background check." },
        { "1001/special-condition-2", "May work evenings." },
        { "1002/special-condition-2", "May work evenings." },
        { "1003/special-condition-2", "May work evenings." },
        { "1001/ksa-01", "Knows the filing rules." },
        { "1002/ksa-01", "Knows the rules and their \xe2\x80\x9c"
                         "exceptions\xe2\x80\x9d." },
        { "1003/ksa-01", "Knows the law behind the rules." },
    };
    sdx_clause_list_t list = parse_ok(GOOD_FILE);
    assert_int_equal(list.count, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < list.count; i++) {
        assert_string_equal(list.items[i]->id, want[i][0]);
        assert_string_equal(list.items[i]->text, want[i][1]);
    }
    const sdx_clause_t *c = find(&list, "1002/key-resp-02");
    assert_string_equal(c->title, "Records Analyst 2");
    assert_string_equal(c->flsa, "Exempt");
    assert_string_equal(c->series, "Records Analyst 1-3");
    assert_int_equal(c->level, 2);
    assert_string_equal(find(&list, "1001/ksa-01")->flsa, "Non-Exempt");
    sdx_clause_list_clear(&list);
}

/* ---- broken files ---------------------------------------------------- */

/* Read a small file whole into BUF, trailing newline dropped. */
static void
read_expected(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, size - 1, f);
    fclose(f);
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    assert_true(n > 0);
}

static void
test_broken_files(void **state)
{
    (void)state;
    DIR *d = opendir(BROKEN_DIR);
    struct dirent *de;
    size_t tested = 0;
    assert_non_null(d);
    while ((de = readdir(d))) {
        char path[1024], exp_path[1100], want[512], err[512] = "";
        size_t n = strlen(de->d_name), nfiles = 99;
        if (n < 5 || strcmp(de->d_name + n - 4, ".txt") != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", BROKEN_DIR, de->d_name);
        snprintf(exp_path, sizeof exp_path, "%s.expected", path);
        read_expected(exp_path, want, sizeof want);
        /* OUT holds a clause already: it must come back untouched. */
        sdx_clause_list_t list = SDX_CLAUSE_LIST_INIT;
        sdx_clause_t *keep = sdx_clause_new();
        assert_non_null(keep);
        assert_int_equal(sdx_clause_list_push(&list, &keep), SDX_OK);
        sdx_clause_t *first = list.items[0];
        const char *paths[] = { path };
        sdx_status_t st = sdx_parse_paths(paths, 1, &list, &nfiles, err,
                                          sizeof err);
        if (!strstr(err, want))
            print_error("%s: got \"%s\"\n  want \"%s\"\n", de->d_name, err,
                        want);
        assert_int_equal(st, SDX_BAD_INPUT);
        assert_non_null(strstr(err, want));
        assert_non_null(strstr(err, path)); /* the file, by its path */
        assert_int_equal(list.count, 1);
        assert_ptr_equal(list.items[0], first);
        assert_int_equal(nfiles, 0);
        sdx_clause_list_clear(&list);
        tested++;
    }
    closedir(d);
    assert_true(tested >= 19);
}

/* ---- paths ----------------------------------------------------------- */

static void
copy_file(const char *from, const char *to)
{
    char buf[65536];
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    size_t n;
    assert_non_null(in);
    assert_non_null(out);
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    assert_int_equal(fclose(out), 0);
}

static void
test_paths_directory(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_parse.XXXXXX", path[256], err[512] = "";
    size_t nfiles = 0;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/b-seed.txt", dir);
    copy_file(SEED_FILE, path);
    snprintf(path, sizeof path, "%s/a-records.txt", dir);
    copy_file(GOOD_FILE, path);
    /* Hidden and non-.txt files are skipped, even broken ones. */
    snprintf(path, sizeof path, "%s/.hidden.txt", dir);
    copy_file(BROKEN_DIR "/empty.txt", path);
    snprintf(path, sizeof path, "%s/notes.md", dir);
    copy_file(BROKEN_DIR "/nul-byte.txt", path);
    snprintf(path, sizeof path, "%s/sub.txt", dir);
    assert_int_equal(mkdir(path, 0700), 0);

    sdx_clause_list_t list = SDX_CLAUSE_LIST_INIT;
    const char *paths[] = { dir };
    assert_int_equal(sdx_parse_paths(paths, 1, &list, &nfiles, err,
                                     sizeof err), SDX_OK);
    assert_int_equal(nfiles, 2);
    assert_int_equal(list.count, 24 + 105);
    assert_string_equal(list.items[0]->id, "records-analyst/job-summary");
    assert_string_equal(list.items[24]->id,
                        "clinical-applications-professional-hx/job-summary");

    /* A good file then a broken one: OUT is left as it was. */
    char broken[256];
    snprintf(broken, sizeof broken, "%s/c-broken.txt", dir);
    copy_file(BROKEN_DIR "/duplicate-row.txt", broken);
    assert_int_equal(sdx_parse_paths(paths, 1, &list, &nfiles, err,
                                     sizeof err), SDX_BAD_INPUT);
    assert_non_null(strstr(err, "c-broken.txt:"));
    assert_int_equal(list.count, 24 + 105);
    /* Files parse side by side; every broken one is reported, one per
       line, in name order, as when they parse one after another. */
    snprintf(path, sizeof path, "%s/d-broken.txt", dir);
    copy_file(BROKEN_DIR "/empty.txt", path);
    for (int round = 0; round < 20; round++) {
        assert_int_equal(sdx_parse_paths(paths, 1, &list, &nfiles, err,
                                         sizeof err), SDX_BAD_INPUT);
        const char *c = strstr(err, "c-broken.txt:");
        const char *d = strstr(err, "d-broken.txt:");
        assert_non_null(c);
        assert_non_null(d);
        assert_true(c < d);
        assert_non_null(strchr(c, '\n'));
    }
    assert_int_equal(list.count, 24 + 105);

    /* A path that does not exist: SDX_IO naming it. */
    const char *missing[] = { GOOD_FILE, "/nonexistent/specdex.txt" };
    assert_int_equal(sdx_parse_paths(missing, 2, &list, &nfiles, err,
                                     sizeof err), SDX_IO);
    assert_non_null(strstr(err, "/nonexistent/specdex.txt"));
    assert_int_equal(list.count, 24 + 105);

    /* A file over the size limit is refused before it is read. */
    char big[256];
    snprintf(big, sizeof big, "%s/big.txt", dir);
    int fd = open(big, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, SDX_PARSE_MAX_BYTES + 1), 0);
    close(fd);
    const char *bigs[] = { big };
    assert_int_equal(sdx_parse_paths(bigs, 1, &list, &nfiles, err,
                                     sizeof err), SDX_BAD_INPUT);
    assert_non_null(strstr(err, "over the limit"));
    assert_int_equal(list.count, 24 + 105);
    sdx_clause_list_clear(&list);

    /* Clean up the temporary tree. */
    const char *files[] = { "b-seed.txt", "a-records.txt", ".hidden.txt",
                            "notes.md", "c-broken.txt", "d-broken.txt",
                            "big.txt" };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        assert_int_equal(unlink(path), 0);
    }
    snprintf(path, sizeof path, "%s/sub.txt", dir);
    assert_int_equal(rmdir(path), 0);
    assert_int_equal(rmdir(dir), 0);
}

/* ---- the format, inline ---------------------------------------------- */

/* A series whose range does not start at 1, CRLF lines, U+00A0 runs. */
static void
test_text_other_range(void **state)
{
    (void)state;
    sdx_clause_list_t list = parse_text_ok(
        "Payroll Specialist 2-4\r\n"
        "Job Summary\r\n"
        "Pays people.\r\n"
        "Job TitlePayroll Specialist 2Payroll Specialist 3"
        "Payroll Specialist 4\r\n"
        "Job Code123456123457123458\r\n"
        "Bargaining UnitXYXYXY\r\n"
        "FLSANon-ExemptExempt Exempt\r\n"
        "KSA 12Knows pay.  " NBSP "  " NBSP " Knows pay" NBSP
        " rules!Knows \"all\" pay rules.\r\n");
    assert_int_equal(list.count, 4);
    const sdx_clause_t *c = find(&list, "123457/ksa-12");
    assert_int_equal(c->level, 3);
    assert_string_equal(c->title, "Payroll Specialist 3");
    assert_string_equal(c->flsa, "Exempt");
    assert_string_equal(c->text, "Knows pay rules!");
    assert_int_equal(c->item, 12);
    assert_string_equal(find(&list, "123456/ksa-12")->text, "Knows pay.");
    assert_string_equal(find(&list, "123456/ksa-12")->flsa, "Non-Exempt");
    assert_string_equal(find(&list, "123458/ksa-12")->text,
                        "Knows \"all\" pay rules.");
    assert_string_equal(list.items[0]->id, "payroll-specialist/job-summary");
    sdx_clause_list_clear(&list);
}

#define META3 \
    "S 1-3\nJob Summary\nSummary.\n" \
    "Job TitleS 1S 2S 3\nJob Code111122223333\n"

/* More glued candidates than needed: the most even split wins when it
 * is clearly the most even, and a sentence end kept inside a cell gets
 * its space back; when it is not, the row is refused, showing both. */
static void
test_text_even_split(void **state)
{
    (void)state;
    /* 20 + 20 | 40 | 40 bytes against 20 | 20 + 40 | 40: sure */
    sdx_clause_list_t list = parse_text_ok(
        META3 "Key Resp 01Aaaa aaaa aaaa aaaa.Bbbb bbbb bbbb bbbb."
              "Cccc cccc cccc cccc cccc cccc cccc ccc.Dddd dddd dddd dddd "
              "dddd dddd dddd ddd.\n");
    assert_int_equal(list.count, 4);
    assert_string_equal(list.items[1]->text,
                        "Aaaa aaaa aaaa aaaa. Bbbb bbbb bbbb bbbb.");
    assert_string_equal(list.items[2]->text,
                        "Cccc cccc cccc cccc cccc cccc cccc ccc.");
    sdx_clause_list_clear(&list);
    /* 15 | 15 | 15 against 10 | 20 | 15: too close to tell */
    parse_text_bad(META3 "Key Resp 01Aaaa aaaa.Bbbb.Cccc cccc cccc."
                         "Dddd dddd dddd.\n",
                   "inline.txt:6: row \"Key Resp 01\": ambiguous between "
                   "\"Aaaa aaaa.Bbbb.|Cccc cccc cccc.Dddd dddd...\" "
                   "(column 27) and \"Aaaa aaaa.|Bbbb.Cccc cccc cccc.Dddd"
                   "...\" (column 22)");
    /* ... and settled by a '|' at the true cut */
    list = parse_text_ok(META3 "Key Resp 01Aaaa aaaa.|Bbbb.Cccc cccc cccc.|"
                               "Dddd dddd dddd.\n");
    assert_string_equal(list.items[1]->text, "Aaaa aaaa.");
    assert_string_equal(list.items[2]->text, "Bbbb. Cccc cccc cccc.");
    assert_string_equal(list.items[3]->text, "Dddd dddd dddd.");
    sdx_clause_list_clear(&list);
    /* A strong boundary is always taken, even against evenness. */
    list = parse_text_ok(
        META3 "Key Resp 01Aa." NBSP "Bbbb bbbb bbbb bbbb bbbb bbbb."
              "Cccc cccc cccc.Dddd dddd dddd.\n");
    assert_string_equal(list.items[1]->text, "Aa.");
    assert_string_equal(list.items[2]->text,
                        "Bbbb bbbb bbbb bbbb bbbb bbbb.");
    assert_string_equal(list.items[3]->text,
                        "Cccc cccc cccc. Dddd dddd dddd.");
    sdx_clause_list_clear(&list);
}

/* A cell may begin with a lowercase word, even right after the label:
 * a numbered label ends at its number; an unnumbered one is parted from
 * such a cell by a space, which is no part of the cell. */
static void
test_text_lowercase_starts(void **state)
{
    (void)state;
    sdx_clause_list_t list = parse_text_ok(
        META3 "Key Resp 01iOS devices.eMAR charting.iPad kiosks.\n"
              "Education eCommerce basics.eCommerce work.eCommerce lead.\n");
    assert_int_equal(list.count, 7);
    assert_string_equal(list.items[1]->row, "Key Resp 01");
    assert_string_equal(list.items[1]->text, "iOS devices.");
    assert_string_equal(list.items[2]->text, "eMAR charting.");
    assert_string_equal(list.items[4]->row, "Education");
    assert_string_equal(list.items[4]->text, "eCommerce basics.");
    assert_string_equal(list.items[6]->text, "eCommerce lead.");
    sdx_clause_list_clear(&list);
}

/* One-word cells glued to each other are cuts like any sentence ends. */
static void
test_text_one_word_cells(void **state)
{
    (void)state;
    sdx_clause_list_t list = parse_text_ok(
        META3 "Special ConditionNone.None.Must pass a background check.\n");
    assert_int_equal(list.count, 4);
    assert_string_equal(list.items[1]->text, "None.");
    assert_string_equal(list.items[2]->text, "None.");
    assert_string_equal(list.items[3]->text,
                        "Must pass a background check.");
    sdx_clause_list_clear(&list);
}

static void
test_text_errors(void **state)
{
    (void)state;
    parse_text_bad("", "inline.txt:1: empty file");
    parse_text_bad("\n \n", "empty file");
    parse_text_bad(META3 "Generic ScopeAa.Bb.Cc.\nGeneric ScopeAa.Bb.Cc.\n",
                   "inline.txt:7: row \"Generic Scope\": appears twice "
                   "(first at line 6)");
    parse_text_bad(META3 "Key Resp 01Aa." NBSP "Bb." NBSP "Cc." NBSP "Dd.\n",
                   "inline.txt:6: row \"Key Resp 01\": found 3 certain "
                   "cuts (0 marked by '|', 3 sentence ends followed by "
                   "U+00A0)");
    parse_text_bad(META3 "EducationeCommerce basics.eCommerce work.eCommerce "
                         "lead.\n",
                   "inline.txt:6: row \"Educatione\": unknown row label; "
                   "if it is the row "
                   "\"Education\" glued to a cell that begins with a "
                   "lowercase letter, write a space after the label");
    parse_text_bad(META3 "Key Resp 01Aa.Bb.\n",
                   "inline.txt:6: row \"Key Resp 01\": found 2 cells, "
                   "expected 3");
    parse_text_bad(META3 "Key Resp 01Aa.|Bb.|Cc.|Dd.\n",
                   "found 3 certain cuts (3 marked by '|'");
    parse_text_bad(META3 "Key Resp 01Aa.Bb.Cc.\nJob Title\n",
                   "inline.txt:7: row \"Job Title\": metadata row after");
    parse_text_bad("S 1-3\nJob Summary\nSummary.\nJob TitleS 1S 2S 3\n"
                   "Job Code1111222233\n",
                   "row \"Job Code\": 10 digits are not 3 job codes");
    parse_text_bad("S 1-3\nJob Summary\nSummary.\nJob TitleS 1S 2S 3\n"
                   "Job Code111111113333\n",
                   "row \"Job Code\": job code 1111 is given to levels 1 "
                   "and 2");
    parse_text_bad("S 1-3\nJob Summary\nSummary.\nJob TitleS 1S 2S 3\n"
                   "Job Code111122223333\nBargaining UnitHXHXH\n",
                   "inline.txt:6: row \"Bargaining Unit\": \"HXHXH\" is "
                   "not one bargaining unit");
    parse_text_bad("S 1-3\nJob Summary\nSummary.\nJob TitleS 1S 2S 3\n",
                   "row \"Job Code\": missing");
    parse_text_bad("Job Summary\nSummary.\n",
                   "inline.txt:1: row \"Job Summary\": no series title");
    parse_text_bad("S 0-3\nJob Summary\nSummary.\n",
                   "level range 0-3 is not ascending within 1..9");
    parse_text_bad(META3 "Key Resp 01Aa.Bb.Cc.\x01\n",
                   "inline.txt:6: control character 0x01");
    parse_text_bad("S 1-3\n\xc0\xaf\n", "inline.txt:2: invalid UTF-8");
    parse_text_bad("S 1-3\n\xed\xa0\x80\n", "invalid UTF-8");
    parse_text_bad(META3 "Job Summary\n",
                   "inline.txt:6: row \"Job Summary\": appears twice "
                   "(first at line 2)");
    /* A length over the limit is refused before the text is looked at. */
    sdx_clause_list_t list = SDX_CLAUSE_LIST_INIT;
    char err[256];
    assert_int_equal(sdx_parse_text("x", "", SDX_PARSE_MAX_BYTES + 1,
                                    &list, err, sizeof err),
                     SDX_BAD_INPUT);
    assert_non_null(strstr(err, "over the limit"));
    /* A zero-sized error buffer is allowed. */
    assert_int_equal(sdx_parse_text("x", "", 0, &list, NULL, 0),
                     SDX_BAD_INPUT);
}

static void
test_list(void **state)
{
    (void)state;
    sdx_clause_list_t list = SDX_CLAUSE_LIST_INIT;
    for (int i = 0; i < 200; i++) {
        sdx_clause_t *c = sdx_clause_new();
        assert_non_null(c);
        assert_int_equal(sdx_clause_list_push(&list, &c), SDX_OK);
        assert_null(c);
    }
    assert_int_equal(list.count, 200);
    sdx_clause_list_clear(&list);
    assert_int_equal(list.count, 0);
    assert_null(list.items);
    sdx_clause_list_clear(&list);
}

/* ---- JSON Lines ------------------------------------------------------ */

#define JREC(id, extra)                                                  \
    "{\"id\": \"" id "\", \"series\": \"Records Analyst 1-2\", "        \
    "\"level\": 1, \"row\": \"Key Resp 01\", \"section\": "             \
    "\"responsibility\", \"text\": \"Keeps  records.\"" extra "}\n"

/* Parse TEXT as JSON Lines, which must fail with a message holding
 * WANT; nothing may be appended. */
static void
jsonl_bad(const char *text, const char *want)
{
    sdx_clause_list_t list = SDX_CLAUSE_LIST_INIT;
    char err[512] = "";
    sdx_status_t st = sdx_parse_jsonl("x.jsonl", text, strlen(text), &list,
                                      err, sizeof err);
    if (!strstr(err, want))
        print_error("got \"%s\", want \"%s\"\n", err, want);
    assert_int_equal(st, SDX_BAD_INPUT);
    assert_non_null(strstr(err, want));
    assert_int_equal(list.count, 0);
}

static void
test_jsonl(void **state)
{
    (void)state;
    const char *text =
        "\n"
        "{\"id\": \"r-1/key-resp-01\", \"series\": \"Records Analyst 1-2\","
        " \"level\": 2, \"job_code\": \"9001\", \"title\": \"Records "
        "Analyst 2\", \"flsa\": \"Exempt\", \"row\": \"Key Resp 01\", "
        "\"section\": \"responsibility\", \"item\": 1, \"text\": "
        "\"Keeps\\trecords \\u201csafe\\u201d \\ud83d\\ude00 \\\\ / \\/.\"}"
        "\r\n"
        "  " JREC("r-1/summary", ", \"item\": 0");
    sdx_clause_list_t list = SDX_CLAUSE_LIST_INIT;
    char err[512] = "";
    assert_int_equal(sdx_parse_jsonl("x.jsonl", text, strlen(text), &list,
                                     err, sizeof err), SDX_OK);
    assert_int_equal(list.count, 2);
    const sdx_clause_t *c = list.items[0];
    assert_string_equal(c->id, "r-1/key-resp-01");
    assert_int_equal(c->level, 2);
    assert_string_equal(c->job_code, "9001");
    assert_string_equal(c->title, "Records Analyst 2");
    assert_string_equal(c->flsa, "Exempt");
    assert_int_equal(c->item, 1);
    assert_string_equal(c->text, "Keeps records \xe2\x80\x9csafe\xe2\x80\x9d "
                                 "\xf0\x9f\x98\x80 \\ / /.");
    /* defaults: title is the series, whitespace squeezed */
    c = list.items[1];
    assert_string_equal(c->title, "Records Analyst 1-2");
    assert_string_equal(c->job_code, "");
    assert_string_equal(c->text, "Keeps records.");
    sdx_clause_list_clear(&list);
}

static void
test_jsonl_errors(void **state)
{
    (void)state;
    jsonl_bad("", "x.jsonl:1: no clause records");
    jsonl_bad("[1]\n", "x.jsonl:1: expected an object");
    jsonl_bad(JREC("a", "") "{}\n", "x.jsonl:2: an empty object");
    jsonl_bad(JREC("a", ", \"colour\": \"red\""),
              "unknown key \"colour\"");
    jsonl_bad(JREC("a", ", \"id\": \"b\""), "a key twice in one object");
    jsonl_bad(JREC("a", ", \"item\": 1.5"),
              "\"item\": expected an integer, not a fraction");
    jsonl_bad(JREC("a", ", \"item\": \"1\""), "\"item\": expected an integer");
    jsonl_bad("{\"id\": \"a\", \"series\": \"S\", \"level\": 10, \"row\": "
              "\"R\", \"section\": \"ksa\", \"text\": \"t\"}",
              "x.jsonl:1: \"level\": 10 is out of range 0..9");
    jsonl_bad("{\"id\": \"a\", \"series\": \"S\", \"level\": 1, \"row\": "
              "\"R\", \"section\": \"ksa\"}", "missing key \"text\"");
    jsonl_bad(JREC("a", ", \"job_code\": 5365"),
              "\"job_code\": expected a string");
    jsonl_bad("{\"id\": \"a\", \"series\": \"S\", \"level\": 1, \"row\": "
              "\"R\", \"section\": \"skills\", \"text\": \"t\"}",
              "\"section\": \"skills\" is not a section");
    jsonl_bad(JREC("a b", ""), "\"id\": 1 to 200 bytes without blanks");
    jsonl_bad(JREC("a", ", \"flsa\": \"\\u0000\""), "\\u0000 (NUL) is not allowed");
    jsonl_bad(JREC("a", ", \"flsa\": \"\\ud800\""),
              "invalid Unicode '\\uD800'");
    jsonl_bad(JREC("a", ", \"flsa\": \"\\q\""), "invalid escape");
    jsonl_bad(JREC("a", ", \"flsa\": \"\xff\""),
              "unable to decode byte 0xff");
    jsonl_bad(JREC("a", ", \"flsa\": \"a\tb\""), "control character 0x9");
    jsonl_bad(JREC("a", "") "{\"id\": \"a", "x.jsonl:2: column 9: "
              "the line ends inside the object");
    jsonl_bad("{\"id\": \"a\"} x", "x.jsonl:1: column 13: text after the "
              "object");
    jsonl_bad(JREC("a", "") "\n" JREC("b", "") JREC("a", ""),
              "x.jsonl:4: duplicate clause id \"a\" (first at line 1)");
}

/* Write TEXT to PATH. */
static void
write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static void
test_jsonl_in_corpus_and_duplicates(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_parse_jsonl-XXXXXX", a[256], b[256], syn[256];
    char err[512];
    size_t nfiles = 0;
    assert_non_null(mkdtemp(dir));
    snprintf(a, sizeof a, "%s/a.jsonl", dir);
    snprintf(b, sizeof b, "%s/b-seed.txt", dir);
    snprintf(syn, sizeof syn, "%s/synonyms.txt", dir);
    write_text(a, JREC("a/key-resp-01", ""));
    copy_file(SEED_FILE, b);
    write_text(syn, "rca, root cause analysis\n"); /* not a standard */

    sdx_clause_list_t list = SDX_CLAUSE_LIST_INIT;
    const char *paths[] = { dir };
    assert_int_equal(sdx_parse_paths(paths, 1, &list, &nfiles, err,
                                     sizeof err), SDX_OK);
    assert_int_equal(nfiles, 2);
    assert_int_equal(list.count, 1 + 105);
    assert_string_equal(list.items[0]->id, "a/key-resp-01");

    /* the same id in two files: an error naming both */
    write_text(a, JREC("5366/key-resp-06", ""));
    assert_int_equal(sdx_parse_paths(paths, 1, &list, &nfiles, err,
                                     sizeof err), SDX_BAD_INPUT);
    assert_non_null(strstr(err, "duplicate clause id \"5366/key-resp-06\""));
    assert_non_null(strstr(err, "a.jsonl"));
    assert_non_null(strstr(err, "b-seed.txt"));
    assert_int_equal(list.count, 1 + 105); /* unchanged */
    /* given as files, too */
    const char *files[] = { a, b };
    assert_int_equal(sdx_parse_paths(files, 2, &list, &nfiles, err,
                                     sizeof err), SDX_BAD_INPUT);
    assert_non_null(strstr(err, "in "));
    sdx_clause_list_clear(&list);
    unlink(a);
    unlink(b);
    unlink(syn);
    rmdir(dir);
}

static void
test_synonyms_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_parse_syn-XXXXXX", path[256], err[512];
    sdx_synonyms_t syn = SDX_SYNONYMS_INIT;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/synonyms.txt", dir);
    write_text(path, "# comment\n\nRCA,  Root   Cause Analysis # why\n"
                     "=IT, information technology\n");
    assert_int_equal(sdx_parse_synonyms(path, &syn, err, sizeof err),
                     SDX_OK);
    assert_int_equal(syn.count, 2);
    assert_int_equal(syn.groups[0].n, 2);
    assert_string_equal(syn.groups[0].terms[0].text, "rca");
    assert_string_equal(syn.groups[0].terms[1].text, "root cause analysis");
    assert_false(syn.groups[0].terms[0].exact);
    assert_string_equal(syn.groups[1].terms[0].text, "IT");
    assert_true(syn.groups[1].terms[0].exact);

    static const struct {
        const char *text, *want;
    } bad[] = {
        { "rca\n", ":1: a group needs at least two terms" },
        { "a, , b\n", ":1: an empty term" },
        { "ok, fine\na, \"b\"\n", ":2: a '\"' or control character" },
        { "a, b, a\n", ":1: the same term twice" },
        { "a, one two three four five six seven eight nine\n",
          "more than 8 words" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_text(path, bad[i].text);
        assert_int_equal(sdx_parse_synonyms(path, &syn, err, sizeof err),
                         SDX_BAD_INPUT);
        if (!strstr(err, bad[i].want))
            print_error("got \"%s\", want \"%s\"\n", err, bad[i].want);
        assert_non_null(strstr(err, bad[i].want));
        assert_int_equal(syn.count, 2); /* unchanged */
    }
    sdx_synonyms_clear(&syn);
    assert_int_equal(syn.count, 0);
    unlink(path);
    assert_int_equal(sdx_parse_synonyms(path, &syn, err, sizeof err),
                     SDX_IO);
    rmdir(dir);
}

/* ---- saved web pages: the table read as a standard ------------------- */

/* A page of series "S 1-2" whose table rows (after the header) are ROWS. */
#define PAGE(rows) \
    "<html><body><h1>S 1-2</h1><h2>Job Summary</h2><p>Sum.</p><table>" \
    "<tr><th>Job Title</th><th>S 1</th><th>S 2</th></tr>" rows \
    "</table></body></html>"
#define CODES "<tr><td>Job Code</td><td>1111</td><td>2222</td></tr>"

static void
html_bad(const char *page, const char *want)
{
    sdx_clause_list_t list = SDX_CLAUSE_LIST_INIT;
    char err[512] = "";
    sdx_status_t st = sdx_parse_html("p.html", page, strlen(page), &list,
                                     err, sizeof err);
    if (!strstr(err, want))
        print_error("got \"%s\", want \"%s\"\n", err, want);
    assert_int_equal(st, SDX_BAD_INPUT);
    assert_non_null(strstr(err, want));
    assert_int_equal(list.count, 0);
}

static void
test_html_table(void **state)
{
    (void)state;
    sdx_clause_list_t list = SDX_CLAUSE_LIST_INIT;
    char err[512] = "";
    const char *ok = PAGE(CODES "<tr><td>FLSA</td><td>Non-Exempt</td>"
                          "<td>Exempt</td></tr><tr><td>Key Resp 01</td>"
                          "<td></td><td>Leads it.Then <b>more</b>.</td></tr>"
                          "<tr><td>KSA 01</td><td>&nbsp;</td><td> </td></tr>");
    assert_int_equal(sdx_parse_html("p.html", ok, strlen(ok), &list, err,
                                    sizeof err), SDX_OK);
    assert_int_equal(list.count, 2); /* the summary and one cell */
    assert_string_equal(list.items[1]->id, "2222/key-resp-01");
    assert_string_equal(list.items[1]->flsa, "Exempt");
    assert_string_equal(list.items[1]->text, "Leads it. Then more.");
    sdx_clause_list_clear(&list);
    html_bad(PAGE(CODES "<tr><td>Key Rsp 01</td><td>a</td><td>b</td></tr>"),
             "p.html:1: row \"Key Rsp 01\": unknown row label");
    html_bad(PAGE("<tr><td>Key Resp 01</td><td>a</td><td>b</td></tr>"),
             "row \"Key Resp 01\": appears before the metadata rows");
    html_bad(PAGE("<tr><td>Job Code</td><td>1111</td><td></td></tr>"),
             "row \"Job Code\": level 2: the cell is empty");
    html_bad(PAGE("<tr><td>Job Code</td><td>1111</td><td>1111</td></tr>"),
             "job code 1111 is given to levels 1 and 2");
    html_bad(PAGE("<tr><td>Job Code</td><td>11a1</td><td>2222</td></tr>"),
             "\"11a1\" holds a non-digit");
    html_bad(PAGE(CODES "<tr><td>Bargaining Unit</td><td>HX</td><td>TX</td>"
                  "</tr>"), "not one bargaining unit");
    html_bad(PAGE(CODES "<tr><td>Job Summary</td><td>a</td><td>b</td></tr>"),
             "row \"Job Summary\": a table row");
    html_bad(PAGE(CODES "<tr><td>Key Resp 01</td><td>a</td><td>b</td></tr>"
                  "<tr><td>Key Resp 01</td><td>a</td><td>b</td></tr>"),
             "row \"Key Resp 01\": appears twice");
    html_bad("<html><body><h1>S 1-3</h1><h2>Job Summary</h2><p>Sum.</p>"
             "<table><tr><th>Job Title</th><th>S 1</th><th>S 2</th></tr>"
             "</table></body></html>",
             "row \"Job Title\": the table has 2 level columns, but the "
             "series title \"S 1-3\" gives 3 levels");
    html_bad("<html><body><h1>S 1-2</h1><h2>Job Summary</h2><p>Sum.</p>"
             "<table><tr><th>Job Title</th><th>S 1</th><th>T 2</th></tr>"
             "</table></body></html>",
             "row \"Job Title\": level 2: \"T 2\" is not the series title "
             "at that level (\"S 2\")");
    html_bad(PAGE(CODES), "no text rows");
}

/* What sdx_clause_dup_ids reported, as "ID:FIRST-SECOND;". */
typedef struct dups {
    sdx_clause_t **items; /* the clauses scanned */
    char seen[128];       /* the reports, in order */
    int stop_after;       /* reports before FN returns 7; 0: never */
    int n;                /* reports so far */
} dups_t;

static int
note_dup(void *arg, size_t first, size_t second)
{
    dups_t *d = arg;
    size_t k = strlen(d->seen);
    snprintf(d->seen + k, sizeof d->seen - k, "%s:%zu-%zu;",
             d->items[first]->id, first, second);
    return ++d->n == d->stop_after ? 7 : 0;
}

/* The one duplicate-id scan: each id once, in id order, its first two
   places; FN stops it. */
static void
test_clause_dup_ids(void **state)
{
    (void)state;
    static const char *const ids[] = { "b", "a", "c", "a", "b", "a" };
    sdx_clause_t *items[6];
    for (size_t i = 0; i < 6; i++) {
        assert_non_null(items[i] = sdx_clause_new());
        assert_int_equal(sdx_clause_set(&items[i]->id, ids[i]), SDX_OK);
    }
    dups_t d = { items, "", 0, 0 };
    assert_int_equal(sdx_clause_dup_ids(items, 6, note_dup, &d), 0);
    assert_string_equal(d.seen, "a:1-3;b:0-4;");
    d = (dups_t){ items, "", 1, 0 };
    assert_int_equal(sdx_clause_dup_ids(items, 6, note_dup, &d), 7);
    assert_string_equal(d.seen, "a:1-3;");
    d = (dups_t){ items, "", 0, 0 };
    assert_int_equal(sdx_clause_dup_ids(items, 3, note_dup, &d), 0);
    assert_string_equal(d.seen, "");           /* b, a, c: none twice */
    assert_int_equal(sdx_clause_dup_ids(items, 1, note_dup, &d), 0);
    assert_int_equal(sdx_clause_dup_ids(NULL, 0, note_dup, &d), 0);
    for (size_t i = 0; i < 6; i++)
        sdx_clause_destroy(&items[i]);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_count_and_order),
        cmocka_unit_test(test_seed_every_cell),
        cmocka_unit_test(test_seed_metadata),
        cmocka_unit_test(test_seed_summary),
        cmocka_unit_test(test_seed_special_conditions),
        cmocka_unit_test(test_seed_nbsp_inside_cells),
        cmocka_unit_test(test_seed_empty_levels),
        cmocka_unit_test(test_seed_key_resp_02),
        cmocka_unit_test(test_seed_glued_and_utf8),
        cmocka_unit_test(test_good_file),
        cmocka_unit_test(test_broken_files),
        cmocka_unit_test(test_paths_directory),
        cmocka_unit_test(test_text_other_range),
        cmocka_unit_test(test_text_even_split),
        cmocka_unit_test(test_text_lowercase_starts),
        cmocka_unit_test(test_text_one_word_cells),
        cmocka_unit_test(test_text_errors),
        cmocka_unit_test(test_html_table),
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_jsonl),
        cmocka_unit_test(test_jsonl_errors),
        cmocka_unit_test(test_jsonl_in_corpus_and_duplicates),
        cmocka_unit_test(test_clause_dup_ids),
        cmocka_unit_test(test_synonyms_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
