/*
 * test_index: opening an index to serve it (sdx_index_open, lib/sdx_index)
 * against real Xapian databases in a mkdtemp directory.  An index of the
 * layout before the record slot (the record in the document data, the
 * clause text in slot 3) is refused with a message that says to
 * rebuild, and so is one where only some documents have the slot; an
 * index built by today's indexer opens, and so does an empty one.  A
 * worker on an old index answers `unavailable` with that message: the
 * daemon never serves it.
 *
 * The old layout is written here through the shim's writer as the
 * older specdex-index wrote it (the text's terms, the boolean terms, the
 * text in slot 3, no slot 5), but for its document data, which the shim
 * can no longer write or read; nothing is mocked.
 */
#define _GNU_SOURCE /* mkdtemp */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <msgpack.h>

#include "../integration/mp_notation.h"
#include "daemon.h"
#include "sdx_index.h"
#include "sdx_proto.h"
#include "test_ops.h"
#include "test_tree.h"

static char tmpdir[] = "/tmp/sdx-test-index-XXXXXX";

static int
s_setup(void **state)
{
    (void)state;
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int
s_teardown(void **state)
{
    (void)state;
    return t_rm_tree(tmpdir);
}

/*
 * Write a database at PATH of N clauses; the first WITH_RECORD of them
 * get today's record slot, the others the layout before it.
 */
static void
s_write_db(const char *path, int n, int with_record)
{
    sdx_writer_t *w = NULL;
    assert_int_equal(sdx_writer_create(path, &w, NULL), SDX_OK);
    for (int i = 0; i < n; i++) {
        char id[32], term[40], text[64];
        snprintf(id, sizeof id, "5366/ksa-%02d", i + 1);
        snprintf(term, sizeof term, "%s%s", SDX_PREFIX_ID, id);
        snprintf(text, sizeof text, "Knowledge of clinical workflow %d",
                 i + 1);
        sdx_clause_t c = {.id = id, .series = "Analyst", .level = 1,
                          .job_code = "5366", .title = "Analyst 1",
                          .flsa = "", .row = "KSA 01", .section = "ksa",
                          .item = 1, .text = text};
        msgpack_sbuffer sb;
        msgpack_packer pk;
        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        sdx_clause_pack(&c, &pk, 0);
        assert_int_equal(sdx_writer_begin_doc(w), SDX_OK);
        assert_int_equal(sdx_writer_index_text(w, text, "", 1, true),
                         SDX_OK);
        assert_int_equal(sdx_writer_add_term(w, "XL1"), SDX_OK);
        if (i < with_record)
            assert_int_equal(sdx_writer_set_value(w, SDX_SLOT_RECORD,
                                                  sb.data, sb.size),
                             SDX_OK);
        else
            assert_int_equal(sdx_writer_set_value(w, SDX_SLOT_TEXT, text,
                                                  strlen(text)), SDX_OK);
        assert_int_equal(sdx_writer_add_doc(w, term), SDX_OK);
        msgpack_sbuffer_destroy(&sb);
    }
    assert_int_equal(sdx_writer_commit(w), SDX_OK);
    sdx_writer_destroy(&w);
}

/*
 * s_write_db into TMPDIR/NAME/rev-000001, TMPDIR/NAME/current naming
 * it, as a build leaves an index directory.  Its path into PATH.
 */
static void
s_write_index(const char *name, int n, int with_record, char *path,
              size_t size)
{
    char index[256], link[300];
    snprintf(index, sizeof index, "%s/%s", tmpdir, name);
    assert_int_equal(mkdir(index, 0700), 0);
    snprintf(path, size, "%s/rev-000001", index);
    s_write_db(path, n, with_record);
    snprintf(link, sizeof link, "%s/current", index);
    assert_int_equal(symlink("rev-000001", link), 0);
}

/* sdx_index_open on PATH fails with SDX_UNAVAILABLE and the rebuild
   message naming PATH and its index directory NAME. */
static void
s_expect_refused(const char *path, const char *name)
{
    sdx_db_t *db = (sdx_db_t *)1;
    char *msg = NULL, want[512];
    assert_int_equal(sdx_index_open(path, &db, &msg), SDX_UNAVAILABLE);
    assert_null(db);
    assert_non_null(msg);
    snprintf(want, sizeof want, "index at %s was built by an older "
             "specdex-index (no record slot): rebuild it with "
             "specdex-index -o %s/%s CORPUS", path, tmpdir, name);
    assert_string_equal(msg, want);
    free(msg);
}

static void
test_old_layout_refused(void **state)
{
    (void)state;
    char path[300];
    s_write_index("old", 3, 0, path, sizeof path);
    s_expect_refused(path, "old");
    /* The shim alone still opens it: the layout is the index's rule. */
    sdx_db_t *db = NULL;
    assert_int_equal(sdx_db_open(path, &db, NULL), SDX_OK);
    sdx_db_destroy(&db);
}

static void
test_mixed_layout_refused(void **state)
{
    (void)state;
    char path[300];
    s_write_index("mixed", 3, 2, path, sizeof path);
    s_expect_refused(path, "mixed");
}

static void
test_bare_database_names_dir(void **state)
{
    (void)state;
    char path[300], *msg = NULL;
    sdx_db_t *db = NULL;
    /* a database outside an index directory: the message says DIR */
    snprintf(path, sizeof path, "%s/bare", tmpdir);
    s_write_db(path, 1, 0);
    assert_int_equal(sdx_index_open(path, &db, &msg), SDX_UNAVAILABLE);
    assert_non_null(msg);
    assert_non_null(strstr(msg, "rebuild it with specdex-index -o DIR "
                                "CORPUS"));
    free(msg);
}

/* A database that cannot be opened: the message names the path. */
static void
test_missing_names_path(void **state)
{
    (void)state;
    char path[300], *msg = NULL, want[320];
    sdx_db_t *db = NULL;
    snprintf(path, sizeof path, "%s/nothing", tmpdir);
    assert_int_equal(sdx_index_open(path, &db, &msg), SDX_UNAVAILABLE);
    assert_null(db);
    assert_non_null(msg);
    snprintf(want, sizeof want, "cannot open %s: ", path);
    assert_memory_equal(msg, want, strlen(want));
    free(msg);
}

static void
test_current_and_empty_open(void **state)
{
    (void)state;
    char path[300], *msg = NULL;
    sdx_db_t *db = NULL;
    uint64_t n = 0;
    s_write_index("current", 3, 3, path, sizeof path);
    assert_int_equal(sdx_index_open(path, &db, &msg), SDX_OK);
    assert_null(msg);
    assert_int_equal(sdx_db_doc_count(db, &n), SDX_OK);
    assert_int_equal(n, 3);
    assert_int_equal(sdx_db_value_count(db, SDX_SLOT_RECORD, &n), SDX_OK);
    assert_int_equal(n, 3);
    sdx_db_destroy(&db);
    s_write_index("empty", 0, 0, path, sizeof path);
    assert_int_equal(sdx_index_open(path, &db, &msg), SDX_OK);
    sdx_db_destroy(&db);
    /* what specdex-index builds opens (t_ops_index_open opens it so) */
    t_ops_index_t ix;
    char dir[300];
    snprintf(dir, sizeof dir, "%s/built", tmpdir);
    assert_int_equal(mkdir(dir, 0700), 0);
    t_ops_index_open(&ix, dir, SDX_SEED_CORPUS, NULL);
    t_ops_index_close(&ix);
}

/*
 * Ask the worker W for a search and copy its reply's error message into
 * TEXT (SIZE bytes); the reply must be `unavailable`.
 */
static void
s_unavailable_message(sdx_worker_t *w, char *text, size_t size)
{
    msgpack_sbuffer sb;
    s_mp(&sb, "{v:1, op:'search', q:'clinical'}");
    void *reply = NULL;
    size_t len = 0, off = 0;
    sdx_worker_answer(w, sb.data, sb.size, &reply, &len);
    msgpack_sbuffer_destroy(&sb);
    assert_non_null(reply);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    assert_int_equal(msgpack_unpack_next(&u, reply, len, &off),
                     MSGPACK_UNPACK_SUCCESS);
    const msgpack_object *e = sdx_msgpack_get(&u.data, "error");
    assert_non_null(e);
    const msgpack_object *code = sdx_msgpack_get(e, "code");
    const msgpack_object *m = sdx_msgpack_get(e, "message");
    assert_non_null(code);
    assert_non_null(m);
    assert_int_equal(code->via.str.size, strlen("unavailable"));
    assert_memory_equal(code->via.str.ptr, "unavailable",
                        code->via.str.size);
    snprintf(text, size, "%.*s", (int)m->via.str.size, m->via.str.ptr);
    msgpack_unpacked_destroy(&u);
    free(reply);
}

/* A worker on the old index: every request is `unavailable`, saying
   why. */
static void
test_worker_refuses_old_index(void **state)
{
    (void)state;
    char path[300], index[256];
    s_write_index("served", 2, 0, path, sizeof path);
    snprintf(index, sizeof index, "%s/served", tmpdir);
    sdx_config_t cfg = {.index_dir = index};
    sdx_stats_t *stats = sdx_stats_new(1, 1);
    assert_non_null(stats);
    sdx_worker_t *w = sdx_worker_new_threadless(&cfg, stats, NULL, 0);
    assert_non_null(w);
    char text[SDX_PROTO_MSG_MAX], want[1024];
    s_unavailable_message(w, text, sizeof text);
    /* said without the paths (the log has them): the revision, and DIR
       where the advice names the index directory */
    (void)path;
    snprintf(want, sizeof want, "no index loaded: index at revision 1 was "
             "built by an older specdex-index (no record slot): rebuild it "
             "with specdex-index -o DIR CORPUS");
    assert_string_equal(text, want);
    assert_null(strchr(text, '/'));
    sdx_worker_free(&w);
    sdx_stats_destroy(&stats);
}

/* Messages for clients: paths become the revision, or DIR. */
static void
test_public_msg(void **state)
{
    (void)state;
    char out[SDX_PROTO_MSG_MAX];
    sdx_index_public_msg("cannot open /srv/ix/rev-000042: "
                         "DatabaseCorruptError: bad (x)", out, sizeof out);
    assert_string_equal(out, "cannot open revision 42: "
                        "DatabaseCorruptError: bad (x)");
    sdx_index_public_msg("Couldn't open /srv/ix/rev-000007/postlist.glass "
                         "(No such file or directory)", out, sizeof out);
    assert_string_equal(out, "Couldn't open revision 7 (postlist.glass) "
                        "(No such file or directory)");
    sdx_index_public_msg("no index at /srv/ix (run specdex-index -o "
                         "/srv/ix corpus)", out, sizeof out);
    assert_string_equal(out, "no index at DIR (run specdex-index -o DIR "
                        "corpus)");
    sdx_index_public_msg("\"/a b\" and a/b and 1/2", out, sizeof out);
    assert_string_equal(out, "\"DIR b\" and a/b and 1/2");
    /* cut, never overrun */
    sdx_index_public_msg("cannot open /srv/ix/rev-000042: x", out, 12);
    assert_string_equal(out, "cannot open");
    sdx_index_public_msg("", out, sizeof out);
    assert_string_equal(out, "");
}

/*
 * An index that exists and cannot be opened (its version file is
 * garbage): `unavailable`, saying which revision and what is wrong,
 * and no path.
 */
static void
test_worker_says_what_is_wrong(void **state)
{
    (void)state;
    char path[300], index[256], file[320];
    s_write_index("corrupt", 2, 2, path, sizeof path);
    snprintf(index, sizeof index, "%s/corrupt", tmpdir);
    snprintf(file, sizeof file, "%s/iamglass", path);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs("not a glass version file", f);
    fclose(f);
    sdx_config_t cfg = {.index_dir = index};
    sdx_stats_t *stats = sdx_stats_new(1, 1);
    assert_non_null(stats);
    sdx_worker_t *w = sdx_worker_new_threadless(&cfg, stats, NULL, 0);
    assert_non_null(w);
    for (int i = 0; i < 3; i++) {
        char text[SDX_PROTO_MSG_MAX];
        sdx_worker_refresh(w);
        s_unavailable_message(w, text, sizeof text);
        const char *want = "no index loaded: cannot open revision 1: "
                           "DatabaseCorruptError: ";
        if (strncmp(text, want, strlen(want)) != 0)
            fprintf(stderr, "got: %s\n", text);
        assert_int_equal(strncmp(text, want, strlen(want)), 0);
        assert_null(strchr(text, '/'));
    }
    sdx_worker_free(&w);
    sdx_stats_destroy(&stats);
}

/* sdx_index_open_shards / sdx_db_open_shards: what is refused, why. */
static void
test_shards_refused(void **state)
{
    (void)state;
    char a[512], b[512];
    sdx_db_t *db = NULL;
    char *msg = NULL;
    s_write_index("shard-a", 3, 3, a, sizeof a);
    s_write_index("shard-b", 2, 2, b, sizeof b);

    /* none, or more than the shim takes */
    const char *many[SDX_DB_SHARDS_MAX + 1];
    for (size_t i = 0; i <= SDX_DB_SHARDS_MAX; i++)
        many[i] = a;
    assert_int_equal(sdx_db_open_shards(many, 0, -1, &db, &msg),
                     SDX_BAD_INPUT);
    assert_null(db);
    assert_non_null(strstr(msg, "1..16 shards"));
    free(msg);
    assert_int_equal(sdx_db_open_shards(many, SDX_DB_SHARDS_MAX + 1, -1,
                                        &db, &msg), SDX_BAD_INPUT);
    free(msg);

    /* a remote spec that is not tcp://HOST:PORT */
    static const char *const bad[] = {"tcp://127.0.0.1", "tcp://:7001",
                                      "tcp://127.0.0.1:0",
                                      "tcp://127.0.0.1:99999",
                                      "tcp://127.0.0.1:7x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *specs[] = {bad[i], a};
        assert_int_not_equal(sdx_db_open_shards(specs, 2, -1, &db, &msg),
                             SDX_OK);
        assert_null(db);
        assert_non_null(strstr(msg, "a remote shard is tcp://HOST:PORT"));
        free(msg);
    }

    /* a remote shard nobody serves: unavailable, not a hang */
    const char *gone[] = {"tcp://127.0.0.1:9", a};
    assert_int_equal(sdx_db_open_shards(gone, 2, -1, &db, &msg),
                     SDX_UNAVAILABLE);
    assert_null(db);
    free(msg);

    /* databases no --shards build wrote: not shards, refused */
    const char *two[] = {a, b};
    assert_int_equal(sdx_index_open_shards(two, 2, &db, &msg), SDX_XAPIAN);
    assert_null(db);
    assert_non_null(strstr(msg, "is not a shard of specdex-index "
                                "--shards"));
    free(msg);

    /* one shard is one index: opens as ever, and its words are its own */
    assert_int_equal(sdx_index_open_shards(two, 1, &db, &msg), SDX_OK);
    assert_false(sdx_db_broken(db));
    sdx_db_destroy(&db);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_public_msg),
        cmocka_unit_test(test_worker_says_what_is_wrong),
        cmocka_unit_test(test_old_layout_refused),
        cmocka_unit_test(test_shards_refused),
        cmocka_unit_test(test_mixed_layout_refused),
        cmocka_unit_test(test_bare_database_names_dir),
        cmocka_unit_test(test_missing_names_path),
        cmocka_unit_test(test_current_and_empty_open),
        cmocka_unit_test(test_worker_refuses_old_index),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
