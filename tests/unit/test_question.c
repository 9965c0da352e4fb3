/*
 * test_question: daemon/question.c, a question in plain words read into
 * the words to search and what it names, against a real index of the
 * seed corpus (its series, codes and rows are what a question can
 * name).  What the ops do with it is test_daemon's and test_questions'.
 */
#define _GNU_SOURCE /* mkdtemp */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <msgpack.h>

#include "daemon.h"
#include "question.h"
#include "sdx_proto.h"
#include "test_ops.h"
#include "test_tree.h"

static char tmpdir[] = "/tmp/sdx-test-question-XXXXXX";
static t_ops_index_t ix;

#define CAP "Clinical Applications Professional 1-5 HX"
#define L(n) (1u << (n))

static int
s_setup(void **state)
{
    (void)state;
    assert_non_null(mkdtemp(tmpdir));
    t_ops_index_open(&ix, tmpdir, SDX_SEED_CORPUS, NULL);
    return 0;
}

static int
s_teardown(void **state)
{
    (void)state;
    t_ops_index_close(&ix);
    t_rm_tree(tmpdir);
    return 0;
}

/* Read Q into *QN (caller clears), asserted to succeed. */
static void
s_read(const char *q, sdx_question_t *qn)
{
    sdx_proto_error_t err;
    if (sdx_question_read(ix.db, q, qn, &err) != SDX_E_NONE)
        fail_msg("%s: %s", q, err.message);
}

/* Q reads as the words WORDS (the query, phrase hints included) and
   names the levels LEVELS. */
static void
s_expect(const char *q, const char *query, unsigned levels)
{
    sdx_question_t qn;
    s_read(q, &qn);
    if (strcmp(qn.query, query) != 0 || qn.levels != levels)
        print_error("%s\n want \"%s\" levels %#x\n got  \"%s\" levels "
                    "%#x\n", q, query, levels, qn.query, qn.levels);
    assert_string_equal(qn.query, query);
    assert_int_equal(qn.levels, levels);
    sdx_question_clear(&qn);
    sdx_question_clear(&qn); /* idempotent */
}

static void
test_words(void **state)
{
    (void)state;
    /* question and function words carry no evidence */
    s_expect("Who does root cause analysis?", "root cause analysis", 0);
    s_expect("what is it?", "", 0);
    /* the query language's characters and operators are not that */
    s_expect("NOT sure AND?", "sure", 0);
    s_expect("vendors OR clients AND", "vendors clients", 0);
    s_expect("(RCA) +EHR -SOP troubleshoot* a:b",
             "RCA EHR SOP troubleshoot b", 0);
    s_expect("section:ksa row:x NEAR/3 y", "x near 3 y", 0); /* + KSAs */
    /* capitals only for acronyms; "Vendors" is stemmed as vendors is */
    s_expect("Vendors and IT tools", "vendors IT tools", 0);
    s_expect("WHO HANDLES VENDOR COORDINATION", "vendor coordination", 0);
    /* a quoted span: its words, and the phrase beside them */
    s_expect("what is \"root cause\" analysis", "root cause analysis "
             "\"root cause\"", 0);
    s_expect("\xe2\x80\x9croot cause\xe2\x80\x9d",
             "root cause \"root cause\"", 0);
    s_expect("the \"root cause analysis", "root cause analysis", 0);
    s_expect("\"end user\" and \"root\"", "end user root \"end user\"", 0);
    /* words with an apostrophe, hyphen or dot inside stay whole */
    s_expect("bachelor\xe2\x80\x99s degree, end-user e.g. v6.2",
             "bachelor\xe2\x80\x99s degree end-user e.g v6.2", 0);
    /* numbers without "level" are words */
    s_expect("3 years of experience", "3 years experience", 0);
}

static void
test_levels(void **state)
{
    (void)state;
    s_expect("level 3 troubleshooting", "troubleshooting", L(3));
    s_expect("levels 1 and 2", "", L(1) | L(2));
    s_expect("levels 1, 2 or 4", "", L(1) | L(2) | L(4));
    s_expect("levels 2-4", "", L(2) | L(3) | L(4));
    s_expect("levels 2 to 4", "", L(2) | L(3) | L(4));
    s_expect("levels 2 \xe2\x80\x93 4", "", L(2) | L(3) | L(4));
    s_expect("levels 1 & 5", "", L(1) | L(5));
    s_expect("level two", "", L(2));
    s_expect("L4 and level5", "", L(4) | L(5));
    s_expect("level:3", "", L(3));
    s_expect("which level trains end users", "trains end users", 0);
    s_expect("level 3 and vendors", "vendors", L(3));
}

static void
test_series_and_codes(void **state)
{
    (void)state;
    sdx_question_t qn;
    s_read("What does a Clinical Applications Professional 4 HX do?", &qn);
    assert_string_equal(qn.query, "");
    assert_int_equal(qn.levels, L(4));
    assert_int_equal(qn.nseries, 1);
    assert_string_equal(qn.series[0],
                        "clinical-applications-professional-1-5-hx");
    assert_string_equal(qn.series_names[0], CAP);
    sdx_question_clear(&qn);
    /* the series by name, plural, with its range; no level from it */
    s_read("clinical applications professionals 1-5 HX series vendors", &qn);
    assert_string_equal(qn.query, "vendors");
    assert_int_equal(qn.levels, 0);
    assert_int_equal(qn.nseries, 1);
    sdx_question_clear(&qn);
    /* the short name: the first and last words */
    s_read("clinical professional vendors", &qn);
    assert_int_equal(qn.nseries, 1);
    assert_string_equal(qn.query, "vendors");
    sdx_question_clear(&qn);
    /* not the series: some of its words */
    s_read("clinical applications", &qn);
    assert_int_equal(qn.nseries, 0);
    assert_string_equal(qn.query, "clinical applications");
    sdx_question_clear(&qn);
    /* a job code: its level and series */
    s_read("job code 5366 end users", &qn);
    assert_string_equal(qn.query, "end users");
    assert_int_equal(qn.levels, L(2));
    assert_int_equal(qn.nseries, 1);
    assert_string_equal(qn.series_names[0], CAP);
    sdx_question_clear(&qn);
    s_read("9999 end users", &qn); /* no such code: a word */
    assert_string_equal(qn.query, "9999 end users");
    assert_int_equal(qn.nseries, 0);
    sdx_question_clear(&qn);
}

static void
test_rows(void **state)
{
    (void)state;
    sdx_question_t qn;
    s_read("What KSAs does a level 3 need?", &qn);
    assert_string_equal(qn.query, "");
    assert_int_equal(qn.nsections, 1);
    assert_string_equal(qn.sections[0], "ksa");
    assert_int_equal(qn.nrows, 0);
    assert_true(sdx_question_names_rows(&qn));
    sdx_question_clear(&qn);
    /* a row by its label and number, in any spelling of it */
    static const char *const rows[][2] = {
        {"ksa 7", "ksa-07"}, {"KSA 07", "ksa-07"},
        {"key resp 6", "key-resp-06"},
        {"key responsibility 06", "key-resp-06"},
        {"5365/key-resp-06", "key-resp-06"},
        {"special condition 2", "special-condition-2"},
        {"generic scope", "generic-scope"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        s_read(rows[i][0], &qn);
        if (qn.nrows != 1 || strcmp(qn.rows[0], rows[i][1]) != 0)
            fail_msg("%s: want row %s", rows[i][0], rows[i][1]);
        assert_string_equal(qn.query, "");
        sdx_question_clear(&qn);
    }
    s_read("special conditions and the work environment", &qn);
    assert_int_equal(qn.nsections, 2);
    assert_string_equal(qn.sections[0], "condition");
    assert_string_equal(qn.sections[1], "environment");
    assert_string_equal(qn.query, "");
    sdx_question_clear(&qn);
    /* a row word that is the object of a word searched for is a word */
    s_read("troubleshooting skills, broad scope", &qn);
    assert_false(sdx_question_names_rows(&qn));
    assert_string_equal(qn.query, "troubleshooting skills broad scope");
    sdx_question_clear(&qn);
    s_read("skills for troubleshooting", &qn);
    assert_int_equal(qn.nsections, 1);
    assert_string_equal(qn.query, "troubleshooting");
    sdx_question_clear(&qn);
    /* shouting is not a run of acronyms */
    s_read("WHAT IS THE EDUCATION REQUIRED FOR LEVEL 2", &qn);
    assert_int_equal(qn.nsections, 1);
    assert_string_equal(qn.sections[0], "education");
    assert_int_equal(qn.levels, L(2));
    assert_string_equal(qn.query, "");
    sdx_question_clear(&qn);
}

static void
test_understood(void **state)
{
    (void)state;
    sdx_question_t qn;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_unpacked u;
    size_t off = 0;
    s_read("KSA 02 for levels 1 and 2 of Clinical Applications "
           "Professional", &qn);
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    sdx_question_pack(&qn, true, &pk);
    msgpack_unpacked_init(&u);
    assert_int_equal(msgpack_unpack_next(&u, sb.data, sb.size, &off),
                     MSGPACK_UNPACK_SUCCESS);
    const msgpack_object *m = &u.data;
    assert_int_equal(m->via.map.size, 4);
    const msgpack_object *levels = sdx_msgpack_get(m, "levels");
    assert_int_equal(levels->via.array.size, 2);
    assert_int_equal(levels->via.array.ptr[1].via.u64, 2);
    const msgpack_object *series = sdx_msgpack_get(m, "series");
    assert_int_equal(series->via.array.size, 1);
    assert_int_equal(series->via.array.ptr[0].via.str.size, strlen(CAP));
    const msgpack_object *rows = sdx_msgpack_get(m, "rows");
    assert_int_equal(rows->via.array.size, 1);
    assert_memory_equal(rows->via.array.ptr[0].via.str.ptr, "KSA 02", 6);
    assert_int_equal(sdx_msgpack_get(m, "sections")->via.array.size, 0);
    msgpack_unpacked_destroy(&u);
    msgpack_sbuffer_destroy(&sb);
    sdx_question_clear(&qn);
}

static void
test_correct(void **state)
{
    (void)state;
    sdx_question_t qn;
    sdx_status_t st;
    s_read("Who does troubleshootng for the vendrs?", &qn);
    char *fixed = sdx_question_correct(ix.db, "Who does troubleshootng for "
                                       "the vendrs?", &qn, &st);
    assert_int_equal(st, SDX_OK);
    assert_non_null(fixed);
    assert_string_equal(fixed, "Who does troubleshooting for the vendors?");
    free(fixed);
    sdx_question_clear(&qn);
    /* every word known, or only stop words to offer: no correction */
    s_read("who does troubleshooting", &qn);
    assert_null(sdx_question_correct(ix.db, "who does troubleshooting", &qn,
                                     &st));
    sdx_question_clear(&qn);
    s_read("teh fro", &qn);
    assert_null(sdx_question_correct(ix.db, "teh fro", &qn, &st));
    sdx_question_clear(&qn);
}

/*
 * Arbitrary text, as a fuzzer would send it: never bad_query, never a
 * failure, and what it names stays within its bounds.  A fixed seed, so
 * a failure repeats.
 */
static void
test_arbitrary_text(void **state)
{
    (void)state;
    static const char *const bits[] = {
        "level", "levels", "3", "1-3", "and", "AND", "OR", "NOT", "NEAR",
        "ADJ", "\"", "\xe2\x80\x9c", "\xe2\x80\x9d", "'", "\xe2\x80\x99",
        "-", "\xe2\x80\x93", "&", ":", "*", "+", "(", ")", "/", ".", "?",
        " ", " ", " ", "ksa", "KSA", "key", "resp", "06", "special",
        "condition", "2", "clinical", "applications", "professional",
        "professionals", "HX", "1-5", "5366", "job", "code", "root",
        "cause", "analysis", "IT", "who", "what", "scope", "skills",
        "troubleshooting", "\xc3\xa9", "\xe2\x98\x83", "\xc2\xa0", "l3",
        "level5", "two", "to", "through", "series", "generic", "9999",
    };
    const size_t nbits = sizeof bits / sizeof bits[0];
    unsigned seed = 14;
    for (int n = 0; n < 3000; n++) {
        char q[SDX_PROTO_Q_MAX + 1];
        size_t len = 0;
        int words = 1 + (int)(rand_r(&seed) % 24);
        for (int w = 0; w < words; w++) {
            const char *b = bits[(size_t)rand_r(&seed) % nbits];
            size_t bl = strlen(b);
            if (len + bl >= sizeof q)
                break;
            memcpy(q + len, b, bl);
            len += bl;
            if (rand_r(&seed) % 3)
                q[len++] = ' ';
        }
        q[len] = '\0';
        sdx_question_t qn;
        s_read(q, &qn);
        assert_true(qn.nseries <= SDX_QUESTION_NAMED_MAX);
        assert_true(qn.nrows <= SDX_QUESTION_NAMED_MAX);
        assert_true(qn.nsections <= SDX_QUESTION_NAMED_MAX);
        assert_null(strpbrk(qn.query, ":*+()"));
        sdx_search_spec_t spec;
        sdx_results_t *r = NULL;
        sdx_index_spec_init(&spec, qn.query, NULL);
        spec.synonyms = true;
        spec.max_terms = 1000;
        sdx_status_t st = sdx_db_search(ix.db, &spec, &r);
        if (st != SDX_OK)
            fail_msg("%s\n -> %s: %s", q, qn.query, sdx_db_errmsg(ix.db));
        sdx_results_destroy(&r);
        char *fixed = sdx_question_correct(ix.db, q, &qn, &st);
        assert_int_equal(st, SDX_OK);
        free(fixed);
        sdx_question_clear(&qn);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_words),
        cmocka_unit_test(test_levels),
        cmocka_unit_test(test_series_and_codes),
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_understood),
        cmocka_unit_test(test_correct),
        cmocka_unit_test(test_arbitrary_text),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
