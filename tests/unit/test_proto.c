/*
 * test_proto: the wire protocol's decoder, reply assembly and transport
 * rules (lib/sdx_proto), error class by error class, with the exact code
 * and message a client gets.
 *
 * Requests are written in the notation of mp_notation.h, compiled to
 * msgpack by s_mp(), so each case reads like the request it is:
 * {v:1, op:'ping'}.
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
#include "sdx_proto.h"
#include "sdx_utf8.h"

/* The notation is shared with the daemon's integration test. */
#include "../integration/mp_notation.h"

/* Decode raw bytes and check the code and message exactly. */
static void
s_expect_raw(const void *buf, size_t len, sdx_errcode_t code,
             const char *message)
{
    sdx_request_t req;
    sdx_proto_error_t err;
    sdx_errcode_t got = sdx_request_decode(buf, len, &req, &err);
    if (got != code || strcmp(err.message, message) != 0)
        print_error("want %s \"%s\"\n got %s \"%s\"\n",
                    sdx_errcode_str(code), message, sdx_errcode_str(got),
                    err.message);
    assert_int_equal(got, code);
    assert_string_equal(err.message, message);
    sdx_request_clear(&req);
}

#define EXPECT(code, message, ...)                                          \
    do {                                                                    \
        msgpack_sbuffer sb_;                                                \
        s_mp(&sb_, __VA_ARGS__);                                            \
        s_expect_raw(sb_.data, sb_.size, code, message);                    \
        msgpack_sbuffer_destroy(&sb_);                                      \
    } while (0)

#define OK(...) EXPECT(SDX_E_NONE, "", __VA_ARGS__)
#define BAD(message, ...) EXPECT(SDX_E_BAD_REQUEST, message, __VA_ARGS__)

/* Decode a frame that must be valid into *req (caller clears it). */
static void
s_decode_ok(sdx_request_t *req, const char *text)
{
    msgpack_sbuffer sb;
    sdx_proto_error_t err;
    s_mp(&sb, "%s", text);
    sdx_errcode_t code = sdx_request_decode(sb.data, sb.size, req, &err);
    if (code)
        print_error("%s\n", err.message);
    assert_int_equal(code, SDX_E_NONE);
    msgpack_sbuffer_destroy(&sb);
}

/* ---------------------------------------------------------------- */
/* Frames that are not requests                                     */
/* ---------------------------------------------------------------- */

static void
test_not_msgpack(void **state)
{
    (void)state;
    s_expect_raw("", 0, SDX_E_BAD_REQUEST,
                 "empty frame: expected one msgpack map");
    s_expect_raw("\xc1", 1, SDX_E_BAD_REQUEST,
                 "not msgpack: invalid byte 0xc1 at offset 0");
    s_expect_raw("hello", 5, SDX_E_BAD_REQUEST,
                 "trailing garbage: the msgpack object ends at offset 1 of "
                 "5 bytes");
    s_expect_raw("\x81\xa1v\xc1", 4, SDX_E_BAD_REQUEST,
                 "not msgpack: invalid byte 0xc1 at offset 3");
}

static void
test_truncated(void **state)
{
    (void)state;
    /* a str that runs past the end */
    s_expect_raw("\x81\xa1v\xa5op", 6, SDX_E_BAD_REQUEST,
                 "not msgpack: truncated (object at offset 3 runs past the "
                 "end of the 6-byte frame)");
    /* a map that promises more pairs than bytes remain */
    s_expect_raw("\x82\xa1v", 3, SDX_E_BAD_REQUEST,
                 "not msgpack: the map at offset 0 declares 2 elements but "
                 "only 2 bytes follow");
    /* a length field cut short */
    s_expect_raw("\xda\x00", 2, SDX_E_BAD_REQUEST,
                 "not msgpack: truncated (object at offset 0 runs past the "
                 "end of the 2-byte frame)");
}

static void
test_trailing(void **state)
{
    (void)state;
    msgpack_sbuffer sb;
    s_mp(&sb, "{v:1, op:'ping'}");
    msgpack_sbuffer_write(&sb, "\x00\x00", 2);
    char message[128];
    snprintf(message, sizeof message,
             "trailing garbage: the msgpack object ends at offset %zu of "
             "%zu bytes", sb.size - 2, sb.size);
    s_expect_raw(sb.data, sb.size, SDX_E_BAD_REQUEST, message);
    msgpack_sbuffer_destroy(&sb);
}

static void
test_not_a_map(void **state)
{
    (void)state;
    BAD("the request must be a msgpack map, got array", "[1, 2]");
    BAD("the request must be a msgpack map, got str", "'ping'");
    BAD("the request must be a msgpack map, got int", "7");
    BAD("the request must be a msgpack map, got nil", "nil");
    BAD("key 0 of the request map is an int; keys must be str",
        "{1:2, v:1, op:'ping'}");
    BAD("key 2 of the request map is an array; keys must be str",
        "{v:1, op:'ping', [1]:2}");
    BAD("duplicate key \"op\"", "{v:1, op:'ping', op:'stats'}");
}

static void
test_huge_and_deep(void **state)
{
    (void)state;
    /* array32 of 4G entries: refused before msgpack-c allocates */
    s_expect_raw("\xdd\xff\xff\xff\xff", 5, SDX_E_BAD_REQUEST,
                 "not msgpack: the array at offset 0 declares 4294967295 "
                 "elements but only 0 bytes follow");
    /* the same, nested as a value inside a request */
    s_expect_raw("\x83\xa1v\x01\xa2op\xa4ping\xa2id\xdd\x7f\xff\xff\xff\x00",
                 21, SDX_E_BAD_REQUEST,
                 "not msgpack: the array at offset 15 declares 2147483647 "
                 "elements but only 1 bytes follow");
    /* map32 */
    s_expect_raw("\xdf\x10\x00\x00\x00\x01\x02", 7, SDX_E_BAD_REQUEST,
                 "not msgpack: the map at offset 0 declares 268435456 "
                 "elements but only 2 bytes follow");
    /* bin32 longer than the frame */
    s_expect_raw("\xc6\xff\xff\xff\xff", 5, SDX_E_BAD_REQUEST,
                 "not msgpack: truncated (object at offset 0 runs past the "
                 "end of the 5-byte frame)");
    /* nesting: 17 levels are refused, 16 are fine */
    BAD("msgpack nested deeper than 16 levels",
        "{v:1, op:'ping', id:[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]}");
    OK("{v:1, op:'ping', id:[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]}");
    /* over the frame limit */
    char big[SDX_PROTO_MAX_FRAME + 1];
    memset(big, 0, sizeof big);
    s_expect_raw(big, sizeof big, SDX_E_TOO_LARGE,
                 "request frame is 65537 bytes; at most 65536");
    /* too many keys */
    BAD("the request map has 33 keys; at most 32",
        "{v:1,op:'ping',a:1,b:1,c:1,d:1,e:1,f:1,g:1,h:1,i:1,j:1,k:1,l:1,"
        "m:1,n:1,o:1,p:1,q:1,r:1,s:1,t:1,u:1,w:1,x:1,y:1,z:1,aa:1,ab:1,"
        "ac:1,ad:1,ae:1,af:1}");
}

/* ---------------------------------------------------------------- */
/* Version and op                                                   */
/* ---------------------------------------------------------------- */

static void
test_version_and_op(void **state)
{
    (void)state;
    BAD("missing key \"v\"", "{op:'ping'}");
    BAD("missing key \"op\"", "{v:1}");
    BAD("v: expected int, got str", "{v:'1', op:'ping'}");
    BAD("v: expected int, got float", "{v:1.0, op:'ping'}");
    EXPECT(SDX_E_UNSUPPORTED_VERSION,
           "v: version 2 is not supported; this server speaks version 1",
           "{v:2, op:'ping'}");
    EXPECT(SDX_E_UNSUPPORTED_VERSION,
           "v: version -1 is not supported; this server speaks version 1",
           "{v:-1, op:'ping'}");
    /* the largest unsigned is printed as unsigned, the smallest signed
       as itself */
    EXPECT(SDX_E_UNSUPPORTED_VERSION,
           "v: version 18446744073709551615 is not supported; this server "
           "speaks version 1",
           "{v:18446744073709551615, op:'ping'}");
    EXPECT(SDX_E_UNSUPPORTED_VERSION,
           "v: version -9223372036854775808 is not supported; this server "
           "speaks version 1",
           "{v:-9223372036854775808, op:'ping'}");
    EXPECT(SDX_E_UNSUPPORTED_VERSION,
           "v: version 0 is not supported; this server speaks version 1",
           "{op:'nosuch', v:0}");
    BAD("op: expected str, got int", "{v:1, op:3}");
    EXPECT(SDX_E_UNKNOWN_OP,
           "unknown op \"serch\" (did you mean \"search\"?); ops are ping, "
           "search, ladder, row, get, context, suggest, stats, fit, diff, first, "
           "verify, gaps",
           "{v:1, op:'serch', q:'x'}");
    EXPECT(SDX_E_UNKNOWN_OP,
           "unknown op \"drop_tables\"; ops are ping, search, ladder, row, "
           "get, context, suggest, stats, fit, diff, first, verify, gaps",
           "{v:1, op:'drop_tables'}");
    EXPECT(SDX_E_UNKNOWN_OP,
           "unknown op \"\\x01\\xffx\\x5c\"; ops are ping, search, ladder, "
           "row, get, context, suggest, stats, fit, diff, first, verify, "
           "gaps",
           "{v:1, op:'\x01\xffx\\'}");
    OK("{v:1, op:'ping'}");
    OK("{op:'stats', v:1, id:'abc'}");
}

static void
test_keys(void **state)
{
    (void)state;
    /* "level" is gaps' key: for search, a typo of "levels" */
    BAD("key \"level\" is not accepted by op \"search\" (did you mean "
        "\"levels\"?)",
        "{v:1, op:'search', q:'x', level:[1]}");
    BAD("unknown key \"levls\" (did you mean \"levels\"?)",
        "{v:1, op:'search', q:'x', levls:[1]}");
    BAD("unknown key \"limt\" (did you mean \"limit\"?)",
        "{v:1, op:'search', q:'x', limt:5}");
    BAD("unknown key \"colour\"", "{v:1, op:'search', q:'x', colour:1}");
    BAD("unknown key \"ID\" (did you mean \"id\"?)",
        "{v:1, op:'ping', 'ID':1}");
    BAD("key \"q\" is not accepted by op \"ping\"",
        "{v:1, op:'ping', q:'x'}");
    BAD("key \"offset\" is not accepted by op \"ladder\"",
        "{v:1, op:'ladder', q:'x', offset:1}");
    BAD("key \"ids\" is not accepted by op \"search\"",
        "{v:1, op:'search', q:'x', ids:['a']}");
    BAD("missing key \"q\" (required by op \"search\")",
        "{v:1, op:'search'}");
    BAD("missing key \"ids\" (required by op \"get\")", "{v:1, op:'get'}");
    BAD("missing key \"row\" (required by op \"row\")", "{v:1, op:'row'}");
    BAD("missing key \"q\" (required by op \"suggest\")",
        "{v:1, op:'suggest'}");
}

/* ---------------------------------------------------------------- */
/* Types and ranges                                                 */
/* ---------------------------------------------------------------- */

#define SEARCH "{v:1, op:'search', q:'x', "

static void
test_types(void **state)
{
    (void)state;
    BAD("q: expected str, got int", "{v:1, op:'search', q:5}");
    BAD("q: expected str, got nil", "{v:1, op:'search', q:nil}");
    BAD("offset: expected int, got str", SEARCH "offset:'1'}");
    BAD("limit: expected int, got float", SEARCH "limit:1.5}");
    BAD("levels: expected array, got int", SEARCH "levels:3}");
    BAD("levels[1]: expected int, got str", SEARCH "levels:[1,'2']}");
    BAD("sections: expected array, got str", SEARCH "sections:'ksa'}");
    BAD("sections[0]: expected str, got int", SEARCH "sections:[1]}");
    BAD("rows[0]: expected str, got map", SEARCH "rows:[{}]}");
    BAD("codes[1]: expected str, got int", SEARCH "codes:['5365',5366]}");
    BAD("snippet: expected bool, got int", SEARCH "snippet:1}");
    BAD("facets: expected bool, got str", SEARCH "facets:'yes'}");
    BAD("group: expected bool, got nil", SEARCH "group:nil}");
    BAD("highlight: expected an array of 2 str, got str",
        SEARCH "highlight:'<b>'}");
    BAD("highlight: expected 2 entries (open, close), got 3",
        SEARCH "highlight:['<b>','</b>','x']}");
    BAD("highlight[1]: expected str, got int", SEARCH "highlight:['<b>',2]}");
    BAD("highlight[0]: length 0 is out of range 1..64 bytes",
        SEARCH "highlight:['','</b>']}");
    BAD("ids: expected array, got str", "{v:1, op:'get', ids:'5365/ksa'}");
    BAD("ids[0]: expected str, got bool", "{v:1, op:'get', ids:[true]}");
    BAD("k: expected int, got str", "{v:1, op:'context', q:'x', k:'5'}");
    BAD("row: expected str, got array", "{v:1, op:'row', row:[]}");
    BAD("series: expected str, got int",
        "{v:1, op:'row', row:'KSA 01', series:1}");
}

static void
test_ranges(void **state)
{
    (void)state;
    BAD("limit: 0 is out of range 1..100", SEARCH "limit:0}");
    OK(SEARCH "limit:1}");
    OK(SEARCH "limit:100}");
    BAD("limit: 101 is out of range 1..100", SEARCH "limit:101}");
    BAD("limit: -5 is out of range 1..100", SEARCH "limit:-5}");
    BAD("limit: 18446744073709551615 is out of range 1..100",
        SEARCH "limit:18446744073709551615}");
    OK(SEARCH "offset:0}");
    OK(SEARCH "offset:10000}");
    BAD("offset: 10001 is out of range 0..10000", SEARCH "offset:10001}");
    BAD("offset: -1 is out of range 0..10000", SEARCH "offset:-1}");
    OK(SEARCH "levels:[1,5]}");
    BAD("levels[0]: 0 is out of range 1..5", SEARCH "levels:[0]}");
    BAD("levels[2]: 7 is out of range 1..5", SEARCH "levels:[1,2,7]}");
    BAD("levels[0]: 6 is out of range 1..5", SEARCH "levels:[6]}");
    BAD("levels: 0 entries, expected 1..64 (leave the key out for all)",
        SEARCH "levels:[]}");
    OK(SEARCH "sections:['ksa','responsibility']}");
    BAD("sections[1]: \"bogus\" is not a section (one of summary, scope, "
        "responsibility, ksa, education, condition, environment)",
        SEARCH "sections:['ksa','bogus']}");
    BAD("sections[0]: \"KSA\" is not a section (one of summary, scope, "
        "responsibility, ksa, education, condition, environment)",
        SEARCH "sections:['KSA']}");
    BAD("rows[0]: length 0 is out of range 1..256 bytes",
        SEARCH "rows:['']}");
    BAD("k: 0 is out of range 1..20", "{v:1, op:'context', q:'x', k:0}");
    BAD("k: 21 is out of range 1..20", "{v:1, op:'context', q:'x', k:21}");
    BAD("max_chars: 199 is out of range 200..20000",
        "{v:1, op:'context', q:'x', max_chars:199}");
    OK("{v:1, op:'context', q:'x', k:20, max_chars:20000}");
}

static void
test_q_length(void **state)
{
    (void)state;
    char q[SDX_PROTO_Q_MAX + 2];
    BAD("q: length 0 is out of range 1..1024 bytes",
        "{v:1, op:'search', q:''}");
    memset(q, 'a', sizeof q - 1);
    q[sizeof q - 1] = '\0';
    BAD("q: length 1025 is out of range 1..1024 bytes",
        "{v:1, op:'search', q:'%s'}", q);
    q[SDX_PROTO_Q_MAX] = '\0';
    OK("{v:1, op:'search', q:'%s'}", q);
    OK("{v:1, op:'search', q:'a'}");
}

/* How q reads (syntax), context's cut-off (min_score), blank questions. */
static void
test_plain_words(void **state)
{
    (void)state;
    sdx_request_t req;
    BAD("syntax: \"Plain\" is not a syntax (one of plain, query)",
        SEARCH "syntax:'Plain'}");
    BAD("syntax: expected str, got bool", SEARCH "syntax:true}");
    BAD("syntax: length 0 is out of range 1..16 bytes", SEARCH "syntax:''}");
    BAD("key \"syntax\" is not accepted by op \"ladder\"",
        "{v:1, op:'ladder', q:'x', syntax:'plain'}");
    BAD("key \"min_score\" is not accepted by op \"search\"",
        SEARCH "min_score:0.5}");
    BAD("min_score: 1.5 is out of range 0..1",
        "{v:1, op:'context', q:'x', min_score:1.5}");
    BAD("min_score: -0.25 is out of range 0..1",
        "{v:1, op:'context', q:'x', min_score:-0.25}");
    BAD("min_score: 2 is out of range 0..1",
        "{v:1, op:'context', q:'x', min_score:2}");
    BAD("min_score: expected float, got str",
        "{v:1, op:'context', q:'x', min_score:'0.5'}");
    OK("{v:1, op:'context', q:'x', min_score:0}");
    OK("{v:1, op:'context', q:'x', min_score:1}");
    OK("{v:1, op:'context', q:'x', min_score:0.0}");

    /* a blank question is as empty as "" */
    BAD("q: only blanks; a question needs a word",
        "{v:1, op:'context', q:'   '}");
    BAD("q: only blanks; a question needs a word",
        "{v:1, op:'context', q:' \t\n', syntax:'query'}");
    BAD("q: only blanks; a question needs a word",
        "{v:1, op:'search', q:' ', syntax:'plain'}");
    OK("{v:1, op:'search', q:' '}"); /* the query language: every clause */

    /* each op's own syntax, and the default forgotten once decoded, so
       that requests meaning the same key the cache alike */
    s_decode_ok(&req, "{v:1, op:'context', q:'x'}");
    assert_true(sdx_request_plain(&req));
    assert_null(req.syntax);
    assert_true(req.min_score == SDX_PROTO_MIN_SCORE_DEFAULT);
    sdx_request_clear(&req);
    s_decode_ok(&req, "{v:1, op:'context', q:'x', syntax:'plain'}");
    assert_true(sdx_request_plain(&req));
    assert_null(req.syntax);
    sdx_request_clear(&req);
    s_decode_ok(&req, "{v:1, op:'context', q:'x', syntax:'query', "
                      "min_score:0.5}");
    assert_false(sdx_request_plain(&req));
    assert_string_equal(req.syntax, "query");
    assert_true(req.min_score == 0.5);
    sdx_request_clear(&req);
    s_decode_ok(&req, "{v:1, op:'search', q:'x'}");
    assert_false(sdx_request_plain(&req));
    sdx_request_clear(&req);
    s_decode_ok(&req, "{v:1, op:'search', q:'x', syntax:'query'}");
    assert_null(req.syntax);
    sdx_request_clear(&req);
    s_decode_ok(&req, "{v:1, op:'search', q:'x', syntax:'plain'}");
    assert_true(sdx_request_plain(&req));
    sdx_request_clear(&req);
}

/* Packing gives back what decoding read: the new keys round-trip. */
static void
test_pack_plain_words(void **state)
{
    (void)state;
    sdx_request_t req, back;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    sdx_proto_error_t err;
    sdx_request_init(&req, SDX_OP_CONTEXT);
    req.q = (char *)"who does root cause analysis";
    req.syntax = (char *)"query";
    req.min_score = 0.125;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    sdx_request_pack(&req, false, &pk);
    assert_int_equal(sdx_request_decode(sb.data, sb.size, &back, &err),
                     SDX_E_NONE);
    assert_string_equal(back.syntax, "query");
    assert_true(back.min_score == 0.125);
    sdx_request_clear(&back);
    msgpack_sbuffer_destroy(&sb);
}

static void
test_list_lengths(void **state)
{
    (void)state;
    char ids[101 * 6 + 1] = "";
    for (int i = 0; i < 101; i++)
        strcat(ids, i ? ",'x'" : "'x'");
    BAD("ids: 101 entries, expected 1..100", "{v:1, op:'get', ids:[%s]}",
        ids);
    ids[strlen(ids) - 4] = '\0';  /* 100 entries */
    OK("{v:1, op:'get', ids:[%s]}", ids);
    BAD("ids: 0 entries, expected 1..100 (leave the key out for all)",
        "{v:1, op:'get', ids:[]}");
    char levels[65 * 2 + 1] = "";
    for (int i = 0; i < 65; i++)
        strcat(levels, i ? ",1" : "1");
    BAD("levels: 65 entries, expected 1..64", SEARCH "levels:[%s]}",
        levels);
}

static void
test_utf8(void **state)
{
    (void)state;
    BAD("q: not valid UTF-8 (byte 3)", "{v:1, op:'search', q:'abc\xff'}");
    BAD("q: not valid UTF-8 (byte 0)",
        "{v:1, op:'search', q:'\xc0\xaf'}");          /* overlong '/' */
    BAD("q: not valid UTF-8 (byte 1)",
        "{v:1, op:'search', q:'a\xed\xa0\x80'}");    /* a surrogate */
    BAD("q: not valid UTF-8 (byte 0)",
        "{v:1, op:'search', q:'\xf4\x90\x80\x80'}"); /* > U+10FFFF */
    BAD("q: not valid UTF-8 (byte 1)", "{v:1, op:'search', q:'a\xe2\x82'}");
    BAD("rows[0]: not valid UTF-8 (byte 0)", SEARCH "rows:['\x80']}");
    s_expect_raw("\x83\xa1v\x01\xa2op\xa6search\xa1q\xa3" "a\0b", 20,
                 SDX_E_BAD_REQUEST, "q: contains a NUL byte");
    OK("{v:1, op:'search', q:'caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x98\x80'}");
    size_t bad = 99;
    assert_true(sdx_utf8_valid("", 0, &bad));
    assert_false(sdx_utf8_valid("ok\xe0\x80\x80", 5, &bad));
    assert_int_equal(bad, 2);
}

/* ---------------------------------------------------------------- */
/* Decoded values                                                   */
/* ---------------------------------------------------------------- */

static void
test_defaults(void **state)
{
    (void)state;
    sdx_request_t req;
    s_decode_ok(&req, "{v:1, op:'search', q:'root cause'}");
    assert_int_equal(req.op, SDX_OP_SEARCH);
    assert_string_equal(req.q, "root cause");
    assert_int_equal(req.offset, 0);
    assert_int_equal(req.limit, SDX_PROTO_LIMIT_DEFAULT);
    assert_int_equal(req.nlevels, 0);
    assert_int_equal(req.sections.n, 0);
    assert_true(req.snippet);
    assert_false(req.facets);
    assert_false(req.group);
    assert_string_equal(req.highlight[0], "<mark>");
    assert_string_equal(req.highlight[1], "</mark>");
    assert_null(req.id);
    sdx_request_clear(&req);
    sdx_request_clear(&req); /* idempotent */

    s_decode_ok(&req, "{v:1, op:'context', q:'x'}");
    assert_int_equal(req.k, SDX_PROTO_K_DEFAULT);
    assert_int_equal(req.max_chars, SDX_PROTO_CHARS_DEFAULT);
    sdx_request_clear(&req);
}

static void
test_full_search(void **state)
{
    (void)state;
    sdx_request_t req;
    s_decode_ok(&req, "{id:[7,'x'], v:1, op:'search', q:'root cause', "
                      "offset:20, limit:5, levels:[1,3], "
                      "sections:['ksa','responsibility'], "
                      "rows:['Key Resp 06'], codes:['5365','5366'], "
                      "snippet:false, highlight:['[',']'], facets:false, "
                      "group:false}");
    assert_int_equal(req.offset, 20);
    assert_int_equal(req.limit, 5);
    assert_int_equal(req.nlevels, 2);
    assert_int_equal(req.levels[1], 3);
    assert_int_equal(req.sections.n, 2);
    assert_string_equal(req.sections.v[1], "responsibility");
    assert_string_equal(req.rows.v[0], "Key Resp 06");
    assert_string_equal(req.codes.v[1], "5366");
    assert_false(req.snippet);
    assert_string_equal(req.highlight[0], "[");
    assert_string_equal(req.highlight[1], "]");
    /* the id comes back as msgpack of the same value */
    msgpack_sbuffer sb;
    s_mp(&sb, "[7,'x']");
    assert_int_equal(req.id_len, sb.size);
    assert_memory_equal(req.id, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    sdx_request_clear(&req);

    s_decode_ok(&req, "{v:1, op:'get', ids:['5365/key-resp-06','b']}");
    assert_int_equal(req.op, SDX_OP_GET);
    assert_int_equal(req.ids.n, 2);
    assert_string_equal(req.ids.v[0], "5365/key-resp-06");
    sdx_request_clear(&req);

    s_decode_ok(&req, "{v:1, op:'row', row:'key resp 06', series:'S'}");
    assert_string_equal(req.row, "key resp 06");
    assert_string_equal(req.series, "S");
    sdx_request_clear(&req);
}

static void
test_id_on_error(void **state)
{
    (void)state;
    sdx_request_t req;
    sdx_proto_error_t err;
    msgpack_sbuffer sb;
    s_mp(&sb, "{v:1, op:'search', id:42, q:'x', limit:0}");
    assert_int_equal(sdx_request_decode(sb.data, sb.size, &req, &err),
                     SDX_E_BAD_REQUEST);
    assert_non_null(req.id);
    assert_int_equal(req.id_len, 1);
    assert_int_equal(((unsigned char *)req.id)[0], 42);
    sdx_request_clear(&req);

    void *id;
    size_t id_len;
    assert_int_equal(sdx_proto_peek_id(sb.data, sb.size, &id, &id_len), 0);
    assert_int_equal(id_len, 1);
    free(id);
    assert_int_equal(sdx_proto_peek_id("\xc1", 1, &id, &id_len), 0);
    assert_null(id);
    msgpack_sbuffer_destroy(&sb);
}

/* ---------------------------------------------------------------- */
/* Envelopes                                                        */
/* ---------------------------------------------------------------- */

static void
test_split(void **state)
{
    (void)state;
    sdx_split_t s;
    /* REQ client: [identity][""][body] */
    sdx_proto_split((size_t[]){5, 0, 20}, 3, &s);
    assert_int_equal(s.code, SDX_E_NONE);
    assert_int_equal(s.nenv, 2);
    /* DEALER without the delimiter: [identity][body] */
    sdx_proto_split((size_t[]){5, 20}, 2, &s);
    assert_int_equal(s.code, SDX_E_NONE);
    assert_int_equal(s.nenv, 1);
    /* DEALER with extra routing frames: all echoed */
    sdx_proto_split((size_t[]){5, 3, 0, 20}, 4, &s);
    assert_int_equal(s.code, SDX_E_NONE);
    assert_int_equal(s.nenv, 3);
    /* an empty body is still the body (decoding refuses it) */
    sdx_proto_split((size_t[]){5, 0, 0}, 3, &s);
    assert_int_equal(s.code, SDX_E_NONE);
    assert_int_equal(s.nenv, 2);
    /* body limit */
    sdx_proto_split((size_t[]){5, 0, 65536}, 3, &s);
    assert_int_equal(s.code, SDX_E_NONE);
    sdx_proto_split((size_t[]){5, 0, 70 * 1024}, 3, &s);
    assert_int_equal(s.code, SDX_E_TOO_LARGE);
    assert_int_equal(s.nenv, 2);
    assert_string_equal(s.message,
                        "request frame is 71680 bytes; at most 65536");
    /* identity only */
    sdx_proto_split((size_t[]){5}, 1, &s);
    assert_int_equal(s.code, SDX_E_BAD_REQUEST);
    assert_int_equal(s.nenv, 1);
    assert_string_equal(s.message, "message has no request frame");
    /* too many frames: answered to identity + delimiter */
    size_t many[SDX_PROTO_MAX_FRAMES + 2] = {5, 0, 1, 1, 1, 1, 1, 1, 1, 1};
    sdx_proto_split(many, SDX_PROTO_MAX_FRAMES + 2, &s);
    assert_int_equal(s.code, SDX_E_BAD_REQUEST);
    assert_int_equal(s.nenv, 2);
    assert_non_null(strstr(s.message, "more than 8 frames"));
    many[1] = 7;
    sdx_proto_split(many, SDX_PROTO_MAX_FRAMES + 2, &s);
    assert_int_equal(s.nenv, 1);
    /* the identity is the ROUTER's: a client's 8 frames are allowed */
    sdx_proto_split(many, SDX_PROTO_MAX_FRAMES + 1, &s);
    assert_int_equal(s.code, SDX_E_NONE);
    assert_int_equal(s.nenv, SDX_PROTO_MAX_FRAMES);
    /* an envelope too big to echo */
    sdx_proto_split((size_t[]){5, 0, 2000, 10}, 4, &s);
    assert_int_equal(s.code, SDX_E_BAD_REQUEST);
    assert_int_equal(s.nenv, 2);
    assert_string_equal(s.message,
                        "message envelope is 2000 bytes; at most 1024");
    /* the identity's bytes do not count against the envelope */
    sdx_proto_split((size_t[]){255, 0, 1024, 10}, 4, &s);
    assert_int_equal(s.code, SDX_E_NONE);
    sdx_proto_split((size_t[]){5, 0, 1025, 10}, 4, &s);
    assert_int_equal(s.code, SDX_E_BAD_REQUEST);
}

static void
test_endpoints(void **state)
{
    (void)state;
    assert_true(sdx_proto_endpoint_is_local("tcp://127.0.0.1:5599"));
    assert_true(sdx_proto_endpoint_is_local("tcp://127.1.2.3:1"));
    assert_true(sdx_proto_endpoint_is_local("tcp://localhost:5599"));
    assert_true(sdx_proto_endpoint_is_local("tcp://[::1]:5599"));
    assert_true(sdx_proto_endpoint_is_local("ipc:///run/specdex/s.sock"));
    assert_true(sdx_proto_endpoint_is_local("inproc://x"));
    assert_false(sdx_proto_endpoint_is_local("tcp://*:5599"));
    assert_false(sdx_proto_endpoint_is_local("tcp://0.0.0.0:5599"));
    assert_false(sdx_proto_endpoint_is_local("tcp://10.0.0.1:5599"));
    assert_false(sdx_proto_endpoint_is_local("tcp://[::]:5599"));
    assert_false(sdx_proto_endpoint_is_local("tcp://eth0:5599"));
    assert_false(sdx_proto_endpoint_is_local("tcp://127.0.0.1"));
    assert_false(sdx_proto_endpoint_is_local("tcp://lo;10.0.0.1:5599"));
    assert_false(sdx_proto_endpoint_is_local("pgm://127.0.0.1:5599"));
    assert_false(sdx_proto_endpoint_is_local("ipc://"));
    assert_false(sdx_proto_endpoint_is_local(""));
}

/* ---------------------------------------------------------------- */
/* Replies                                                          */
/* ---------------------------------------------------------------- */

/* Unpack REPLY into *msg and return its root map. */
static const msgpack_object *
s_unpack(msgpack_unpacked *msg, const void *reply, size_t len)
{
    size_t off = 0;
    msgpack_unpacked_init(msg);
    assert_int_equal(msgpack_unpack_next(msg, reply, len, &off),
                     MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(off, len);
    assert_int_equal(msg->data.type, MSGPACK_OBJECT_MAP);
    return &msg->data;
}

static void
s_assert_str(const msgpack_object *o, const char *want)
{
    assert_non_null(o);
    assert_int_equal(o->type, MSGPACK_OBJECT_STR);
    assert_int_equal(o->via.str.size, strlen(want));
    assert_memory_equal(o->via.str.ptr, want, strlen(want));
}

static void
test_reply_ok(void **state)
{
    (void)state;
    sdx_body_t body;
    msgpack_sbuffer id;
    void *reply;
    size_t len;
    msgpack_unpacked msg;

    s_mp(&id, "{req:'abc', n:[1,2]}");
    sdx_body_init(&body);
    sdx_body_key(&body, "pong");
    msgpack_pack_true(&body.pk);
    sdx_body_key(&body, "name");
    sdx_msgpack_pack_str(&body.pk, "specdex");
    assert_int_equal(sdx_reply_ok(id.data, id.size, 1234, &body, &reply,
                                  &len), SDX_OK);
    sdx_body_clear(&body);

    const msgpack_object *root = s_unpack(&msg, reply, len);
    assert_int_equal(root->via.map.size, 6);
    assert_int_equal(sdx_msgpack_get(root, "v")->via.u64, 1);
    assert_true(sdx_msgpack_get(root, "ok")->via.boolean);
    assert_int_equal(sdx_msgpack_get(root, "took_us")->via.u64, 1234);
    assert_true(sdx_msgpack_get(root, "pong")->via.boolean);
    s_assert_str(sdx_msgpack_get(root, "name"), "specdex");
    const msgpack_object *echo = sdx_msgpack_get(root, "id");
    assert_non_null(echo);
    s_assert_str(sdx_msgpack_get(echo, "req"), "abc");
    assert_int_equal(sdx_msgpack_get(echo, "n")->via.array.size, 2);
    assert_null(sdx_msgpack_get(root, "error"));
    msgpack_unpacked_destroy(&msg);
    free(reply);
    msgpack_sbuffer_destroy(&id);

    /* no id in, no id out; an empty body */
    sdx_body_init(&body);
    assert_int_equal(sdx_reply_ok(NULL, 0, 0, &body, &reply, &len), SDX_OK);
    root = s_unpack(&msg, reply, len);
    assert_int_equal(root->via.map.size, 3);
    assert_null(sdx_msgpack_get(root, "id"));
    msgpack_unpacked_destroy(&msg);
    free(reply);
    sdx_body_clear(&body);
}

static void
test_reply_error(void **state)
{
    (void)state;
    void *reply;
    size_t len;
    msgpack_unpacked msg;
    assert_int_equal(sdx_reply_error("\x07", 1, 9, SDX_E_OVERLOADED,
                                     "busy", &reply, &len), SDX_OK);
    const msgpack_object *root = s_unpack(&msg, reply, len);
    assert_int_equal(root->via.map.size, 5);
    assert_int_equal(sdx_msgpack_get(root, "id")->via.u64, 7);
    assert_false(sdx_msgpack_get(root, "ok")->via.boolean);
    const msgpack_object *e = sdx_msgpack_get(root, "error");
    assert_non_null(e);
    s_assert_str(sdx_msgpack_get(e, "code"), "overloaded");
    s_assert_str(sdx_msgpack_get(e, "message"), "busy");
    msgpack_unpacked_destroy(&msg);
    free(reply);

    /* every code has its wire name */
    static const char *const names[] = {
        "", "bad_request", "unsupported_version", "unknown_op",
        "bad_query", "too_large", "overloaded", "unavailable", "internal",
    };
    for (int c = 0; c < SDX_E_LAST; c++)
        assert_string_equal(sdx_errcode_str((sdx_errcode_t)c), names[c]);
    assert_string_equal(sdx_errcode_str((sdx_errcode_t)99), "internal");
    assert_string_equal(sdx_op_name(SDX_OP_SUGGEST), "suggest");
}

static void
test_map_extend(void **state)
{
    (void)state;
    sdx_clause_t *c = sdx_clause_new();
    assert_non_null(c);
    sdx_clause_set(&c->id, "5366/key-resp-06");
    sdx_clause_set(&c->row, "Key Resp 06");
    c->level = 2;
    msgpack_sbuffer data;
    msgpack_packer dpk;
    msgpack_sbuffer_init(&data);
    msgpack_packer_init(&dpk, &data, msgpack_sbuffer_write);
    sdx_clause_pack(c, &dpk, 0);
    sdx_clause_destroy(&c);

    sdx_body_t body;
    sdx_body_init(&body);
    sdx_body_key(&body, "hits");
    msgpack_pack_array(&body.pk, 1);
    assert_int_equal(sdx_proto_pack_map_extend(&body.pk, data.data,
                                               data.size, 2), 0);
    sdx_msgpack_pack_str(&body.pk, "rank");
    msgpack_pack_int(&body.pk, 1);
    sdx_msgpack_pack_str(&body.pk, "score");
    msgpack_pack_double(&body.pk, 2.5);
    /* what is not exactly one map is refused, and nothing packed */
    assert_int_equal(sdx_proto_pack_map_extend(&body.pk, "\x91\x01", 2, 1),
                     -1);
    assert_int_equal(sdx_proto_pack_map_extend(&body.pk, data.data,
                                               data.size - 1, 1), -1);
    assert_int_equal(sdx_proto_pack_map_extend(&body.pk, "", 0, 1), -1);

    void *reply;
    size_t len;
    msgpack_unpacked msg;
    assert_int_equal(sdx_reply_ok(NULL, 0, 5, &body, &reply, &len), SDX_OK);
    const msgpack_object *root = s_unpack(&msg, reply, len);
    const msgpack_object *hits = sdx_msgpack_get(root, "hits");
    assert_int_equal(hits->via.array.size, 1);
    const msgpack_object *hit = &hits->via.array.ptr[0];
    assert_int_equal(hit->via.map.size, SDX_CLAUSE_FIELDS + 2);
    s_assert_str(sdx_msgpack_get(hit, "id"), "5366/key-resp-06");
    assert_int_equal(sdx_msgpack_get(hit, "level")->via.u64, 2);
    assert_int_equal(sdx_msgpack_get(hit, "rank")->via.u64, 1);
    assert_true(sdx_msgpack_get(hit, "score")->via.f64 == 2.5);
    msgpack_unpacked_destroy(&msg);
    free(reply);
    sdx_body_clear(&body);
    msgpack_sbuffer_destroy(&data);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_not_msgpack),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_trailing),
        cmocka_unit_test(test_not_a_map),
        cmocka_unit_test(test_huge_and_deep),
        cmocka_unit_test(test_version_and_op),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_q_length),
        cmocka_unit_test(test_plain_words),
        cmocka_unit_test(test_pack_plain_words),
        cmocka_unit_test(test_list_lengths),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_full_search),
        cmocka_unit_test(test_id_on_error),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_endpoints),
        cmocka_unit_test(test_reply_ok),
        cmocka_unit_test(test_reply_error),
        cmocka_unit_test(test_map_extend),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
