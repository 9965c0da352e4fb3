/*
 * test_clause: the clause record's lifecycle, its msgpack round trip,
 * row slugs, and the JSON printer that --dump and --json share.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sdx_clause.h"
#include "sdx_json.h"

#include <jansson.h>

static sdx_clause_t *
sample_clause(void)
{
    sdx_clause_t *c = sdx_clause_new();
    assert_non_null(c);
    assert_int_equal(sdx_clause_set(&c->id, "5366/key-resp-06"), SDX_OK);
    assert_int_equal(sdx_clause_set(&c->series,
        "Clinical Applications Professional 1-5 HX"), SDX_OK);
    c->level = 2;
    assert_int_equal(sdx_clause_set(&c->job_code, "5366"), SDX_OK);
    assert_int_equal(sdx_clause_set(&c->title,
        "Clinical Applications Professional 2 HX"), SDX_OK);
    assert_int_equal(sdx_clause_set(&c->flsa, "Non-Exempt"), SDX_OK);
    assert_int_equal(sdx_clause_set(&c->row, "Key Resp 06"), SDX_OK);
    assert_int_equal(sdx_clause_set(&c->section, "responsibility"), SDX_OK);
    c->item = 6;
    assert_int_equal(sdx_clause_set(&c->text,
        "Performs root cause analysis \xe2\x80\x9cquoted\xe2\x80\x9d."),
        SDX_OK);
    return c;
}

static void
test_new_is_empty_and_destroy_is_idempotent(void **state)
{
    (void)state;
    sdx_clause_t *c = sdx_clause_new();
    assert_non_null(c);
    assert_string_equal(c->id, "");
    assert_string_equal(c->text, "");
    assert_int_equal(c->level, 0);
    sdx_clause_destroy(&c);
    assert_null(c);
    sdx_clause_destroy(&c);
    sdx_clause_destroy(NULL);
}

static void
test_msgpack_round_trip(void **state)
{
    (void)state;
    sdx_clause_t *c = sample_clause(), *back = NULL;
    msgpack_sbuffer buf;
    msgpack_packer pk;
    msgpack_sbuffer_init(&buf);
    msgpack_packer_init(&pk, &buf, msgpack_sbuffer_write);
    sdx_clause_pack(c, &pk, 0);
    assert_int_equal(sdx_clause_from_msgpack(buf.data, buf.size, &back),
                     SDX_OK);
    assert_non_null(back);
    assert_string_equal(back->id, c->id);
    assert_string_equal(back->series, c->series);
    assert_int_equal(back->level, 2);
    assert_string_equal(back->job_code, "5366");
    assert_string_equal(back->title, c->title);
    assert_string_equal(back->flsa, "Non-Exempt");
    assert_string_equal(back->row, "Key Resp 06");
    assert_string_equal(back->section, "responsibility");
    assert_int_equal(back->item, 6);
    assert_string_equal(back->text, c->text);
    msgpack_sbuffer_destroy(&buf);
    sdx_clause_destroy(&c);
    sdx_clause_destroy(&back);
}

/* The text found in place, without unpacking; every cut short fails. */
static void
test_text_in_place(void **state)
{
    (void)state;
    sdx_clause_t *c = sample_clause();
    msgpack_sbuffer buf;
    msgpack_packer pk;
    const char *text = NULL;
    size_t len = 0;
    msgpack_sbuffer_init(&buf);
    msgpack_packer_init(&pk, &buf, msgpack_sbuffer_write);
    sdx_clause_pack(c, &pk, 0);
    assert_true(sdx_clause_text(buf.data, buf.size, &text, &len));
    assert_int_equal(len, strlen(c->text));
    assert_memory_equal(text, c->text, len);
    for (size_t cut = 0; cut < buf.size; cut++)
        assert_false(sdx_clause_text(buf.data, cut, &text, &len));
    assert_false(sdx_clause_text("\x91\xa4text", 6, &text, &len));
    assert_false(sdx_clause_text("\x81\xa4text\x05", 7, &text, &len));
    msgpack_sbuffer_destroy(&buf);
    sdx_clause_destroy(&c);
}

static void
test_unpack_rejects_bad_input(void **state)
{
    (void)state;
    sdx_clause_t *out = (sdx_clause_t *)1;
    /* Not msgpack at all (a lone 0xc1 is never valid). */
    assert_int_equal(sdx_clause_from_msgpack("\xc1", 1, &out),
                     SDX_BAD_INPUT);
    assert_null(out);
    /* An array, not a map. */
    assert_int_equal(sdx_clause_from_msgpack("\x91\x01", 2, &out),
                     SDX_BAD_INPUT);
    /* {"level": "two"}: wrong type. */
    assert_int_equal(sdx_clause_from_msgpack(
        "\x81\xa5level\xa3two", 11, &out), SDX_BAD_INPUT);
    assert_null(out);
    /* Truncated: a map that promises one pair and has none. */
    assert_int_equal(sdx_clause_from_msgpack("\x81", 1, &out),
                     SDX_BAD_INPUT);
}

static void
test_slug(void **state)
{
    (void)state;
    char out[32];
    assert_int_equal(sdx_slug("Key Resp 06", out, sizeof out), 11);
    assert_string_equal(out, "key-resp-06");
    sdx_slug("  Special  Condition 2 ", out, sizeof out);
    assert_string_equal(out, "special-condition-2");
    sdx_slug("Clinical Applications Professional HX", out, sizeof out);
    assert_string_equal(out, "clinical-applications-professio");
    assert_int_equal(sdx_slug("Clinical Applications Professional HX", out,
                              sizeof out), -1);
    sdx_slug("KSA\xc2\xa0" "07", out, sizeof out);
    assert_string_equal(out, "ksa-07");
}

static void
test_sections(void **state)
{
    (void)state;
    assert_true(sdx_section_valid("ksa"));
    assert_true(sdx_section_valid("summary"));
    assert_false(sdx_section_valid("KSA"));
    assert_false(sdx_section_valid("skills"));
}

/* Print OBJ through sdx_json_print into a string the caller frees. */
static char *
json_of(const void *mp, size_t len)
{
    msgpack_unpacked msg;
    size_t off = 0;
    char *out = NULL;
    size_t outlen = 0;
    msgpack_unpacked_init(&msg);
    assert_int_equal(msgpack_unpack_next(&msg, mp, len, &off),
                     MSGPACK_UNPACK_SUCCESS);
    FILE *f = open_memstream(&out, &outlen);
    assert_non_null(f);
    sdx_json_print(f, &msg.data);
    fclose(f);
    msgpack_unpacked_destroy(&msg);
    return out;
}

static void
test_json_printer(void **state)
{
    (void)state;
    char *s;
    /* {"a":[1,-2,true,null],"t":"x\"\n\x01’"} */
    static const char mp[] =
        "\x82\xa1" "a\x94\x01\xfe\xc3\xc0\xa1t\xa8x\"\n\x01\xe2\x80\x99\xff";
    s = json_of(mp, sizeof mp - 1);
    assert_string_equal(s,
        "{\"a\":[1,-2,true,null],\"t\":\"x\\\"\\n\\u0001\xe2\x80\x99"
        "\xef\xbf\xbd\"}");
    free(s);
    /* A non-string key and a float. */
    static const char mp2[] = "\x81\x07\xcb\x3f\xf8\x00\x00\x00\x00\x00\x00";
    s = json_of(mp2, sizeof mp2 - 1);
    assert_string_equal(s, "{\"7\":1.5}");
    free(s);
}

/* V packed (sdx_json_to_msgpack) into SB and unpacked again into MSG
 * (the caller destroys both). */
static void
pack_and_unpack(const json_t *v, msgpack_sbuffer *sb, msgpack_unpacked *msg)
{
    msgpack_sbuffer_init(sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    assert_int_equal(sdx_json_to_msgpack(v, &pk), SDX_OK);
    size_t off = 0;
    msgpack_unpacked_init(msg);
    assert_int_equal(msgpack_unpack_next(msg, sb->data, sb->size, &off),
                     MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(off, sb->size);
}

/* JSON -> msgpack -> JSON gives the same document back: the gateways'
 * translation loses nothing a request can hold. */
static void
test_json_round_trip(void **state)
{
    (void)state;
    static const char *const docs[] = {
        "{\"v\":1,\"op\":\"search\",\"q\":\"root \\\"cause\\\"\",\"levels\":[1,5],"
        "\"min_score\":0.25,\"group\":true,\"id\":null,\"x\":{\"\\u00e9\":-7}}",
        "[]",
        "{}",
        "[false,1e+300,-9223372036854775808]",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        json_error_t err;
        json_t *in = json_loads(docs[i], JSON_REJECT_DUPLICATES, &err);
        assert_non_null(in);
        msgpack_sbuffer sb;
        msgpack_unpacked msg;
        pack_and_unpack(in, &sb, &msg);
        json_t *out = sdx_json_from_msgpack(&msg.data);
        assert_non_null(out);
        assert_true(json_equal(in, out));
        json_decref(out);
        json_decref(in);
        msgpack_unpacked_destroy(&msg);
        msgpack_sbuffer_destroy(&sb);
    }
}

/* Pack V (one jansson value) and write it back with sdx_json_dumps;
 * jansson's own json_dumps of V is the oracle: every control
 * character, quote, backslash, number form and nesting comes out the
 * same, byte for byte. */
static void
assert_dumps_as_jansson(json_t *v)
{
    msgpack_sbuffer sb;
    msgpack_unpacked msg;
    size_t len = 0;
    pack_and_unpack(v, &sb, &msg);
    char *ours = sdx_json_dumps(&msg.data, &len);
    char *theirs = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY
                                 | JSON_REAL_PRECISION(17));
    assert_non_null(ours);
    assert_non_null(theirs);
    assert_string_equal(ours, theirs);
    assert_int_equal(len, strlen(theirs));
    free(ours);
    free(theirs);
    msgpack_unpacked_destroy(&msg);
    msgpack_sbuffer_destroy(&sb);
}

static void
test_json_dumps_as_jansson(void **state)
{
    (void)state;
    /* every byte 1..127 in a string, and as a key */
    char all[128];
    for (int c = 1; c < 128; c++)
        all[c - 1] = (char)c;
    all[127] = '\0';
    json_t *v = json_pack("{s:s, s:s}", "all", all, all, "key");
    assert_dumps_as_jansson(v);
    json_decref(v);
    /* NUL inside a string, and UTF-8 of 2, 3 and 4 bytes */
    v = json_stringn("a\0b\xc3\xa9\xe2\x80\x99\xf0\x9f\x98\x80", 12);
    assert_non_null(v);
    assert_dumps_as_jansson(v);
    json_decref(v);
    /* number forms: exponents, halves, tiny and huge, negative zero */
    static const double reals[] = {0.0, -0.0, 1.0, 1.5, -2.25, 0.1, 1e20,
                                   1e21, 1e-5, 1.7976931348623157e308,
                                   5e-324, 123456789012345678.0, 3.0e-7};
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++) {
        v = json_real(reals[i]);
        assert_dumps_as_jansson(v);
        json_decref(v);
    }
    static const long long ints[] = {0, 1, -1, 127, -33, 65536,
                                     9223372036854775807LL,
                                     -9223372036854775807LL - 1};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        v = json_integer(ints[i]);
        assert_dumps_as_jansson(v);
        json_decref(v);
    }
    /* nesting, empties, order kept */
    v = json_loads("{\"z\":[[],{},[{\"a\":null,\"b\":[true,false]}]],"
                   "\"a\":{\"y\":-0.5,\"x\":\"\\t\"}}", 0, NULL);
    assert_non_null(v);
    assert_dumps_as_jansson(v);
    json_decref(v);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_is_empty_and_destroy_is_idempotent),
        cmocka_unit_test(test_msgpack_round_trip),
        cmocka_unit_test(test_text_in_place),
        cmocka_unit_test(test_unpack_rejects_bad_input),
        cmocka_unit_test(test_slug),
        cmocka_unit_test(test_sections),
        cmocka_unit_test(test_json_printer),
        cmocka_unit_test(test_json_round_trip),
        cmocka_unit_test(test_json_dumps_as_jansson),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
