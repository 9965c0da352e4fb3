/*
 * test_client: libspecdex-client against a real specdexd.
 *
 * Indexes the shipped corpus into a temp dir, starts the daemon on an ipc
 * socket there, and checks the typed operations (decoded hits, clauses,
 * stats), error replies (SDX_REMOTE with the wire code), a daemon that is
 * not there (SDX_UNAVAILABLE after the attempts), and failover from a
 * dead endpoint to a live one; and sdx_async (many calls in flight from
 * one thread: each ends once, with its own reply; absent daemon, dead
 * replica, bounds).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <zmq.h>

#include "sdx_client.h"
#include "sdx_msgpack.h"
#include "sdx_proto.h" /* SDX_PROTO_TEXT_MAX */

static char tmpdir[] = "/tmp/test_client-XXXXXX"; /* index and socket */
static char endpoint[256];                          /* the live daemon */
static char dead_endpoint[256];                     /* nobody listens */
static pid_t daemon_pid = -1;                       /* specdexd */

/* Run ARGV to completion; its exit status, or -1. */
static int
run(char *const argv[])
{
    pid_t pid = fork();
    if (pid == 0) {
        /* Quiet if /dev/null opens; the child runs either way. */
        if (freopen("/dev/null", "w", stdout) == NULL)
            perror("freopen /dev/null");
        execv(argv[0], argv);
        _exit(127);
    }
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) < 0)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static sdx_client_t *
client_for(const char *ep, int timeout_ms, int attempts)
{
    const char *eps[] = { ep };
    sdx_client_t *c = NULL;
    assert_int_equal(sdx_client_new(eps, 1, timeout_ms, attempts, &c),
                     SDX_OK);
    return c;
}

static int
setup(void **state)
{
    char index[300], indexer[512], daemon_bin[512];
    (void)state;
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(index, sizeof index, "%s/index", tmpdir);
    snprintf(indexer, sizeof indexer, "%s/specdex-index", SDX_BIN_DIR);
    snprintf(daemon_bin, sizeof daemon_bin, "%s/specdexd", SDX_BIN_DIR);
    snprintf(endpoint, sizeof endpoint, "ipc://%s/sdx.sock", tmpdir);
    snprintf(dead_endpoint, sizeof dead_endpoint, "ipc://%s/dead.sock",
             tmpdir);
    char *index_argv[] = { indexer, "-o", index, SDX_SEED_CORPUS, NULL };
    if (run(index_argv) != 0)
        return -1;
    daemon_pid = fork();
    if (daemon_pid == 0) {
        if (freopen("/dev/null", "w", stderr) == NULL)
            perror("freopen /dev/null");
        /* a queue for the 16 in flight of the sdx_async tests: a
         * slow (ASan) daemon answers none of them inline */
        execl(daemon_bin, daemon_bin, "--index", index, "--endpoint",
              endpoint, "--threads", "2", "--queue", "64", (char *)NULL);
        _exit(127);
    }
    /* Wait for the first answer: up to 5 s in 100 ms attempts. */
    sdx_client_t *c = client_for(endpoint, 100, 1);
    for (int i = 0; i < 50; i++) {
        sdx_result_t *r = NULL;
        sdx_status_t st = sdx_client_ping(c, &r);
        sdx_result_destroy(&r);
        if (st == SDX_OK) {
            sdx_client_destroy(&c);
            return 0;
        }
    }
    sdx_client_destroy(&c);
    return -1;
}

static int
teardown(void **state)
{
    char cmd[400];
    (void)state;
    if (daemon_pid > 0) {
        kill(daemon_pid, SIGTERM);
        waitpid(daemon_pid, NULL, 0);
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void
test_search_is_decoded(void **state)
{
    (void)state;
    sdx_client_t *c = client_for(endpoint, 2000, 2);
    sdx_result_t *r = NULL;
    const int levels[] = { 1, 2 };
    sdx_query_t q = {
        .q = "root cause analysis", .limit = 3,
        .levels = levels, .nlevels = 2,
        .hl_open = "[", .hl_close = "]",
    };
    assert_int_equal(sdx_client_search(c, &q, &r), SDX_OK);
    assert_non_null(r);
    assert_true(r->nhits >= 2 && r->nhits <= 3);
    assert_true(r->total >= r->nhits);
    assert_string_equal(r->hits[0].clause->id, "5365/key-resp-06");
    assert_string_equal(r->hits[1].clause->id, "5366/key-resp-06");
    for (size_t i = 0; i < r->nhits; i++) {
        const sdx_result_hit_t *h = &r->hits[i];
        assert_int_equal(h->rank, i + 1);
        assert_true(h->clause->level == 1 || h->clause->level == 2);
        assert_true(h->score > 0.0);
        assert_true(h->percent > 0 && h->percent <= 100);
    }
    assert_string_equal(r->hits[0].clause->row, "Key Resp 06");
    assert_string_equal(r->hits[0].clause->section, "responsibility");
    assert_int_equal(r->hits[0].clause->item, 6);
    assert_non_null(strstr(r->hits[0].snippet, "[root cause analysis]"));
    /* The raw reply stays available for JSON output. */
    assert_non_null(sdx_client_reply_root(r->reply));
    sdx_result_destroy(&r);
    assert_null(r);
    sdx_result_destroy(&r);
    sdx_client_destroy(&c);
}

static void
test_get_keeps_order_and_unknown_ids(void **state)
{
    (void)state;
    sdx_client_t *c = client_for(endpoint, 2000, 2);
    sdx_result_t *r = NULL;
    const char *ids[] = { "5367/ksa-07", "no/such-id", "5365/education" };
    assert_int_equal(sdx_client_get(c, ids, 3, &r), SDX_OK);
    assert_int_equal(r->nclauses, 3);
    assert_string_equal(r->clauses[0]->row, "KSA 07");
    assert_int_equal(r->clauses[0]->level, 3);
    assert_null(r->clauses[1]);
    assert_string_equal(r->clauses[2]->title,
                        "Clinical Applications Professional 1 HX");
    sdx_result_destroy(&r);
    sdx_client_destroy(&c);
}

static void
test_stats_are_decoded(void **state)
{
    (void)state;
    sdx_client_t *c = client_for(endpoint, 2000, 2);
    sdx_result_t *r = NULL;
    assert_int_equal(sdx_client_stats(c, &r), SDX_OK);
    assert_int_equal(r->stats.docs, 105);
    assert_int_equal(r->stats.workers, 2);
    assert_true(r->stats.revision >= 1);
    assert_non_null(strstr(r->stats.index_path, "rev-"));
    assert_true(r->stats.requests >= 1);
    sdx_result_destroy(&r);
    sdx_client_destroy(&c);
}

static void
test_ladder_and_row_are_decoded(void **state)
{
    (void)state;
    sdx_client_t *c = client_for(endpoint, 2000, 2);
    sdx_result_t *r = NULL;
    sdx_query_t q = { .q = "root cause analysis" };
    assert_int_equal(sdx_client_ladder(c, &q, &r), SDX_OK);
    assert_non_null(r->ladder[1]);
    assert_non_null(r->ladder[2]);
    assert_string_equal(r->ladder[1]->id, "5365/key-resp-06");
    assert_string_equal(r->ladder[2]->id, "5366/key-resp-06");
    assert_string_equal(r->row, "Key Resp 06");
    assert_int_equal(r->ncells, 5);
    for (size_t i = 0; i < r->ncells; i++) {
        assert_int_equal(r->cells[i].level, (int)i + 1);
        assert_non_null(r->cells[i].text);
        assert_non_null(strstr(r->cells[i].id, "/key-resp-06"));
    }
    sdx_result_destroy(&r);

    /* Key Resp 08 has no cell at levels 1 and 2. */
    assert_int_equal(sdx_client_row(c, "KEY RESP 08", NULL, &r), SDX_OK);
    assert_int_equal(r->ncells, 5);
    assert_string_equal(r->row, "Key Resp 08");
    assert_string_equal(r->cells[0].series,
                        "Clinical Applications Professional 1-5 HX");
    assert_null(r->cells[0].text);
    assert_null(r->cells[1].text);
    assert_non_null(strstr(r->cells[2].text, "Adjusts strategies"));
    assert_string_equal(r->cells[2].title,
                        "Clinical Applications Professional 3 HX");
    sdx_result_destroy(&r);
    sdx_client_destroy(&c);
}

/* The str under KEY of the raw reply map M equals S. */
static bool
s_reply_str(const msgpack_object *m, const char *key, const char *s)
{
    const msgpack_object *o = sdx_msgpack_get(m, key);
    return o && o->type == MSGPACK_OBJECT_STR &&
           o->via.str.size == strlen(s) &&
           memcmp(o->via.str.ptr, s, o->via.str.size) == 0;
}

/* Issue 17: the grid ops' requests go out with their keys; their
   replies come back whole in the result's raw reply. */
static void
test_grid_ops(void **state)
{
    (void)state;
    sdx_client_t *c = client_for(endpoint, 2000, 2);
    sdx_result_t *r = NULL;
    const char *ex[] = { "5366/key-resp-06" };
    sdx_query_t q = { .text = "Performs root cause analysis of issues",
                      .exclude = ex, .nexclude = 1 };
    assert_int_equal(sdx_client_fit(c, &q, &r), SDX_OK);
    const msgpack_object *root = sdx_client_reply_root(r->reply);
    assert_true(s_reply_str(root, "series",
                            "Clinical Applications Professional 1-5 HX"));
    /* decoded: the series and its levels, best first */
    assert_string_equal(r->fit_series,
                        "Clinical Applications Professional 1-5 HX");
    assert_int_equal(r->nfit_levels, 5);
    assert_true(r->fit_levels[0].share == 1.0);
    for (size_t i = 1; i < r->nfit_levels; i++)
        assert_true(r->fit_levels[i].score <= r->fit_levels[i - 1].score);
    assert_non_null(strstr(r->fit_levels[0].title, "Clinical Applications"));
    const msgpack_object *lv = sdx_msgpack_get(root, "levels");
    assert_true(lv && lv->type == MSGPACK_OBJECT_ARRAY && lv->via.array.size);
    for (uint32_t i = 0; i < lv->via.array.size; i++) {
        const msgpack_object *sup =
            sdx_msgpack_get(&lv->via.array.ptr[i], "support");
        for (uint32_t j = 0; j < sup->via.array.size; j++)
            assert_false(s_reply_str(&sup->via.array.ptr[j], "id", ex[0]));
    }
    sdx_result_destroy(&r);

    assert_int_equal(sdx_client_diff(c, "ksa 02", NULL, &r), SDX_OK);
    root = sdx_client_reply_root(r->reply);
    assert_true(s_reply_str(root, "row", "KSA 02"));
    assert_int_equal(sdx_msgpack_get(root, "steps")->via.array.size, 4);
    sdx_result_destroy(&r);

    sdx_query_t fq = { .q = "\"root cause analysis\"" };
    assert_int_equal(sdx_client_first(c, &fq, &r), SDX_OK);
    root = sdx_client_reply_root(r->reply);
    const msgpack_object *rows = sdx_msgpack_get(root, "rows");
    assert_true(rows->via.array.size >= 1);
    assert_true(s_reply_str(&rows->via.array.ptr[0], "row", "Key Resp 06"));
    sdx_result_destroy(&r);

    assert_int_equal(sdx_client_verify(c, "TIMELY issue\u00a0resolution",
                                       "5366/ksa-02", &r), SDX_OK);
    root = sdx_client_reply_root(r->reply);
    const msgpack_object *v = sdx_msgpack_get(root, "verbatim");
    assert_true(v->type == MSGPACK_OBJECT_BOOLEAN && v->via.boolean);
    assert_true(r->verbatim && r->cited_verbatim && !r->has_closest);
    assert_true(r->nplaces >= 1);
    assert_string_equal(r->places[0].id, "5366/ksa-02");
    assert_int_equal(r->places[0].end - r->places[0].start,
                     strlen("timely issue resolution"));
    sdx_result_destroy(&r);
    /* one word changed: the closest clause, one edit away */
    assert_int_equal(sdx_client_verify(c, "timely zebra resolution",
                                       "5366/ksa-02", &r), SDX_OK);
    assert_false(r->verbatim || r->cited_verbatim);
    assert_int_equal(r->nplaces, 0);
    assert_true(r->has_closest);
    assert_int_equal(r->closest.distance, 1);
    sdx_result_destroy(&r);

    sdx_query_t gq = { .text = "Trains end users.", .level = 2,
                       .series = "Clinical Applications Professional 1-5 "
                                 "HX" };
    assert_int_equal(sdx_client_gaps(c, &gq, &r), SDX_OK);
    root = sdx_client_reply_root(r->reply);
    assert_true(sdx_msgpack_get(root, "gaps")->via.array.size > 0);
    sdx_result_destroy(&r);

    /* bad input: refused here, or by the daemon with its code */
    sdx_query_t none = { 0 };
    assert_int_equal(sdx_client_fit(c, &none, &r), SDX_BAD_INPUT);
    assert_int_equal(sdx_client_first(c, &none, &r), SDX_BAD_INPUT);
    assert_int_equal(sdx_client_gaps(c, &q, &r), SDX_BAD_INPUT);
    assert_int_equal(sdx_client_diff(c, NULL, NULL, &r), SDX_BAD_INPUT);
    assert_int_equal(sdx_client_verify(c, NULL, NULL, &r), SDX_BAD_INPUT);
    assert_null(r);
    char big[SDX_PROTO_TEXT_MAX + 2];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    sdx_query_t bq = { .text = big };
    assert_int_equal(sdx_client_fit(c, &bq, &r), SDX_REMOTE);
    assert_string_equal(sdx_client_error_code(c), "bad_request");
    assert_string_equal(sdx_client_errmsg(c),
                        "text: length 8193 is out of range 1..8192 bytes");
    sdx_result_destroy(&r);
    gq.level = 0;
    assert_int_equal(sdx_client_gaps(c, &gq, &r), SDX_BAD_INPUT);
    gq.level = 6;
    assert_int_equal(sdx_client_gaps(c, &gq, &r), SDX_REMOTE);
    assert_string_equal(sdx_client_errmsg(c), "level: 6 is out of range 1..5");
    sdx_result_destroy(&r);
    sdx_client_destroy(&c);
}

/* Issue 14: the keys of plain words go out, `understood` comes back. */
static void
test_plain_words_are_decoded(void **state)
{
    (void)state;
    sdx_client_t *c = client_for(endpoint, 2000, 2);
    sdx_result_t *r = NULL;
    sdx_query_t q = {
        .q = "What KSAs does a Clinical Applications Professional 3 need?",
    };
    assert_int_equal(sdx_client_context(c, &q, &r), SDX_OK);
    assert_true(r->has_understood);
    assert_int_equal(r->understood.nlevels, 1);
    assert_int_equal(r->understood.levels[0], 3);
    assert_int_equal(r->understood.nsections, 1);
    assert_string_equal(r->understood.sections[0], "ksa");
    assert_int_equal(r->understood.nseries, 1);
    assert_string_equal(r->understood.series[0],
                        "Clinical Applications Professional 1-5 HX");
    assert_int_equal(r->understood.nrows, 0);
    assert_true(r->npassages >= 1);
    assert_non_null(strstr(r->passages[0].cite, "KSA"));
    assert_null(r->note);
    sdx_result_destroy(&r);

    /* min_score 0: every one of k; the default cuts the stray ones */
    q = (sdx_query_t){.q = "root cause analysis", .k = 5,
                      .has_min_score = true, .min_score = 0};
    assert_int_equal(sdx_client_context(c, &q, &r), SDX_OK);
    assert_int_equal(r->npassages, 5);
    sdx_result_destroy(&r);
    q.has_min_score = false;
    assert_int_equal(sdx_client_context(c, &q, &r), SDX_OK);
    assert_true(r->npassages < 5);
    sdx_result_destroy(&r);

    /* nothing to search for: no passages, and why */
    q = (sdx_query_t){.q = "what is it?"};
    assert_int_equal(sdx_client_context(c, &q, &r), SDX_OK);
    assert_int_equal(r->npassages, 0);
    assert_non_null(r->note);
    sdx_result_destroy(&r);

    /* search: plain words on request, the query language otherwise */
    q = (sdx_query_t){.q = "who does root cause analysis AND?",
                      .syntax = "plain"};
    assert_int_equal(sdx_client_search(c, &q, &r), SDX_OK);
    assert_true(r->has_understood);
    assert_string_equal(r->hits[0].clause->id, "5365/key-resp-06");
    sdx_result_destroy(&r);
    q.syntax = NULL;
    assert_int_equal(sdx_client_search(c, &q, &r), SDX_REMOTE);
    assert_string_equal(sdx_client_error_code(c), "bad_query");
    sdx_result_destroy(&r);
    q = (sdx_query_t){.q = "who does troubleshootng?", .syntax = "plain"};
    assert_int_equal(sdx_client_search(c, &q, &r), SDX_OK);
    assert_string_equal(r->corrected, "who does troubleshooting?");
    assert_non_null(r->note);
    sdx_result_destroy(&r);
    sdx_client_destroy(&c);
}

static void
test_context_and_suggest_are_decoded(void **state)
{
    (void)state;
    sdx_client_t *c = client_for(endpoint, 2000, 2);
    sdx_result_t *r = NULL;
    sdx_query_t q = { .q = "background check", .k = 3, .max_chars = 500 };
    assert_int_equal(sdx_client_context(c, &q, &r), SDX_OK);
    assert_true(r->npassages >= 1 && r->npassages <= 3);
    assert_true(r->chars <= 500);
    /* Identical at every level: one passage citing the level range. */
    assert_string_equal(r->passages[0].text,
                        "Must pass a background check.");
    assert_int_equal(r->passages[0].nlevels, 5);
    assert_non_null(strstr(r->passages[0].cite, "1-5"));
    assert_non_null(strstr(r->passages[0].cite, "Special Condition 2"));
    sdx_result_destroy(&r);

    assert_int_equal(sdx_client_suggest(c, "troubleshootng", &r), SDX_OK);
    assert_non_null(r->suggestion);
    assert_string_equal(r->suggestion, "troubleshooting");
    sdx_result_destroy(&r);
    assert_int_equal(sdx_client_suggest(c, "troubleshooting", &r), SDX_OK);
    assert_null(r->suggestion);
    sdx_result_destroy(&r);
    sdx_client_destroy(&c);
}

static void
test_error_reply_is_remote(void **state)
{
    (void)state;
    sdx_client_t *c = client_for(endpoint, 2000, 2);
    sdx_result_t *r = NULL;
    sdx_query_t q = { .q = "x", .limit = 1000 };
    assert_int_equal(sdx_client_search(c, &q, &r), SDX_REMOTE);
    assert_string_equal(sdx_client_error_code(c), "bad_request");
    assert_non_null(strstr(sdx_client_errmsg(c), "limit"));
    assert_non_null(r); /* the error reply itself, for JSON output */
    sdx_result_destroy(&r);

    sdx_query_t bad = { .q = "x AND AND y" };
    assert_int_equal(sdx_client_search(c, &bad, &r), SDX_REMOTE);
    assert_string_equal(sdx_client_error_code(c), "bad_query");
    sdx_result_destroy(&r);

    /* A good request afterwards clears the error and works. */
    sdx_query_t good = { .q = "vendors" };
    assert_int_equal(sdx_client_search(c, &good, &r), SDX_OK);
    assert_string_equal(sdx_client_error_code(c), "");
    sdx_result_destroy(&r);
    sdx_client_destroy(&c);
}

static void
test_absent_daemon_is_unavailable(void **state)
{
    (void)state;
    sdx_client_t *c = client_for(dead_endpoint, 100, 3);
    sdx_result_t *r = NULL;
    assert_int_equal(sdx_client_ping(c, &r), SDX_UNAVAILABLE);
    assert_null(r);
    assert_non_null(strstr(sdx_client_errmsg(c), "3 attempts"));
    sdx_client_destroy(&c);
}

static void
test_failover_to_the_next_endpoint(void **state)
{
    (void)state;
    const char *eps[] = { dead_endpoint, endpoint };
    sdx_client_t *c = NULL;
    sdx_result_t *r = NULL;
    assert_int_equal(sdx_client_new(eps, 2, 200, 2, &c), SDX_OK);
    assert_int_equal(sdx_client_ping(c, &r), SDX_OK);
    sdx_result_destroy(&r);
    /* The client stays on the live endpoint afterwards. */
    assert_int_equal(sdx_client_stats(c, &r), SDX_OK);
    assert_int_equal(r->stats.docs, 105);
    sdx_result_destroy(&r);
    sdx_client_destroy(&c);
}

static void
test_bad_arguments(void **state)
{
    (void)state;
    const char *eps[] = { endpoint };
    sdx_client_t *c = (sdx_client_t *)1;
    sdx_result_t *r = NULL;
    assert_int_equal(sdx_client_new(eps, 0, 100, 1, &c), SDX_BAD_INPUT);
    assert_null(c);
    assert_int_equal(sdx_client_new(eps, 1, 0, 1, &c), SDX_BAD_INPUT);
    assert_int_equal(sdx_client_new(eps, 1, 100, 0, &c), SDX_BAD_INPUT);
    c = client_for(endpoint, 1000, 1);
    sdx_query_t empty = { 0 };
    assert_int_equal(sdx_client_search(c, &empty, &r), SDX_BAD_INPUT);
    assert_int_equal(sdx_client_get(c, NULL, 0, &r), SDX_BAD_INPUT);
    assert_null(r);
    sdx_client_destroy(&c);
    sdx_client_destroy(&c);
    sdx_client_destroy(NULL);
}

/* ---------------------------------------------------------------- */
/* sdx_async                                                        */
/* ---------------------------------------------------------------- */

#define ASYNC_CALLS 64 /* calls in one test: 4 x the 16 in flight */

/* What the callbacks saw, per tag. */
typedef struct seen {
    int ended[ASYNC_CALLS];        /* callbacks per tag */
    sdx_status_t st[ASYNC_CALLS];  /* the last one's status */
    int64_t echoed[ASYNC_CALLS];   /* the reply's `id`, or -1 */
    bool ok[ASYNC_CALLS];          /* the reply says ok */
    size_t total;                  /* callbacks in all */
} seen_t;

static void
async_done(void *cls, uint64_t tag, sdx_status_t st,
           sdx_client_reply_t *reply)
{
    seen_t *s = cls;
    s->total++;
    assert_true(tag < ASYNC_CALLS);
    s->ended[tag]++;
    s->st[tag] = st;
    s->echoed[tag] = -1;
    s->ok[tag] = reply && sdx_client_reply_ok(reply);
    if (reply) {
        const msgpack_object *root = sdx_client_reply_root(reply);
        for (uint32_t i = 0; i < root->via.map.size; i++) {
            const msgpack_object_kv *kv = &root->via.map.ptr[i];
            if (kv->key.type == MSGPACK_OBJECT_STR &&
                kv->key.via.str.size == 2 &&
                memcmp(kv->key.via.str.ptr, "id", 2) == 0 &&
                kv->val.type == MSGPACK_OBJECT_POSITIVE_INTEGER)
                s->echoed[tag] = (int64_t)kv->val.via.u64;
        }
    }
    sdx_client_reply_destroy(&reply);
}

/* A `ping` (or, when SEARCH, a search) request carrying ID. */
static size_t
pack_with_id(msgpack_sbuffer *sb, uint64_t id, bool search)
{
    msgpack_packer pk;
    msgpack_sbuffer_clear(sb);
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, search ? 4 : 3);
    sdx_msgpack_pack_str(&pk, "v");
    msgpack_pack_int(&pk, 1);
    sdx_msgpack_pack_str(&pk, "op");
    sdx_msgpack_pack_str(&pk, search ? "search" : "ping");
    sdx_msgpack_pack_str(&pk, "id");
    msgpack_pack_uint64(&pk, id);
    if (search) {
        sdx_msgpack_pack_str(&pk, "q");
        sdx_msgpack_pack_str(&pk, id % 2 ? "vendor" : "root cause analysis");
    }
    return sb->size;
}

/* Send N pings to A, tags 0..N-1, ids FIRST_ID + tag. */
static void
send_pings(sdx_async_t *a, size_t n, uint64_t first_id)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    for (uint64_t t = 0; t < n; t++) {
        size_t len = pack_with_id(&sb, first_id + t, false);
        assert_int_equal(sdx_async_send(a, t, sb.data, len), SDX_OK);
    }
    msgpack_sbuffer_destroy(&sb);
}

/* Wait until every call of A has ended, at most 10 s. */
static void
async_drain(sdx_async_t *a, seen_t *s)
{
    for (int i = 0; i < 1000 && sdx_async_pending(a) > 0; i++)
        assert_int_equal(sdx_async_wait(a, NULL, NULL, 0, 10, async_done, s),
                         SDX_OK);
    assert_int_equal(sdx_async_pending(a), 0);
}

/* 64 calls at once, 16 in flight on 4 connections: each ends once,
 * with its own reply (the daemon echoes the id the tag was sent with),
 * and none is refused for a connection's 4 in flight. */
static void
test_async_many_in_flight(void **state)
{
    (void)state;
    const char *eps[] = {endpoint};
    sdx_async_t *a = NULL;
    assert_int_equal(sdx_async_new(NULL, eps, 1, 16, ASYNC_CALLS, 2000, 2,
                                   &a), SDX_OK);
    seen_t s;
    memset(&s, 0, sizeof s);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    for (uint64_t t = 0; t < ASYNC_CALLS; t++) {
        size_t len = pack_with_id(&sb, 1000 + t, t % 3 == 0);
        assert_int_equal(sdx_async_send(a, t, sb.data, len), SDX_OK);
    }
    /* every slot taken: one more is refused, not queued past the bound */
    assert_int_equal(sdx_async_send(a, 0, sb.data, sb.size),
                     SDX_UNAVAILABLE);
    assert_int_equal(sdx_async_pending(a), ASYNC_CALLS);
    async_drain(a, &s);
    assert_int_equal(s.total, ASYNC_CALLS);
    for (int t = 0; t < ASYNC_CALLS; t++) {
        assert_int_equal(s.ended[t], 1);
        assert_int_equal(s.st[t], SDX_OK);
        assert_true(s.ok[t]); /* not `overloaded`: 4 a connection */
        assert_int_equal(s.echoed[t], 1000 + t);
    }
    /* the slots are free again */
    size_t len = pack_with_id(&sb, 7, false);
    assert_int_equal(sdx_async_send(a, 5, sb.data, len), SDX_OK);
    memset(&s, 0, sizeof s);
    async_drain(a, &s);
    assert_int_equal(s.ended[5], 1);
    assert_int_equal(s.echoed[5], 7);
    msgpack_sbuffer_destroy(&sb);
    sdx_async_destroy(&a);
    sdx_async_destroy(&a); /* NULL-safe */
}

/* No daemon: each call ends SDX_UNAVAILABLE once its attempts are out,
 * not sooner, and the caller's descriptor is still reported. */
static void
test_async_absent_daemon(void **state)
{
    (void)state;
    const char *eps[] = {dead_endpoint};
    sdx_async_t *a = NULL;
    assert_int_equal(sdx_async_new(NULL, eps, 1, 4, 8, 100, 2, &a), SDX_OK);
    seen_t s;
    memset(&s, 0, sizeof s);
    send_pings(a, 3, 0);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(write(fds[1], "x", 1), 1);
    bool ready = false;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(sdx_async_wait(a, &fds[0], &ready, 1, 0, async_done,
                                    &s), SDX_OK);
    assert_true(ready);
    async_drain(a, &s);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (t1.tv_sec - t0.tv_sec) * 1e3 +
                (t1.tv_nsec - t0.tv_nsec) / 1e6;
    assert_true(ms >= 190.0); /* 2 attempts of 100 ms */
    for (int t = 0; t < 3; t++) {
        assert_int_equal(s.ended[t], 1);
        assert_int_equal(s.st[t], SDX_UNAVAILABLE);
    }
    close(fds[0]);
    close(fds[1]);
    sdx_async_destroy(&a);
}

/* A dead replica listed first: calls go to the live one. */
static void
test_async_skips_a_dead_replica(void **state)
{
    (void)state;
    const char *eps[] = {dead_endpoint, endpoint};
    sdx_async_t *a = NULL;
    assert_int_equal(sdx_async_new(NULL, eps, 2, 8, 16, 2000, 1, &a),
                     SDX_OK);
    seen_t s;
    memset(&s, 0, sizeof s);
    send_pings(a, 16, 0);
    async_drain(a, &s);
    for (int t = 0; t < 16; t++) {
        assert_int_equal(s.st[t], SDX_OK);
        assert_int_equal(s.echoed[t], t);
    }
    sdx_async_destroy(&a);
}

/* One request on ROUTER R, its frames kept in PARTS (identity, tag,
 * "", body): the count, or 0 when none came within MS. */
static int
router_take(void *r, zmq_msg_t parts[4], int ms)
{
    zmq_pollitem_t it = {r, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, ms) <= 0)
        return 0;
    int n = 0, more = 1;
    while (more && n < 4) {
        zmq_msg_init(&parts[n]);
        assert_true(zmq_msg_recv(&parts[n], r, 0) >= 0);
        more = zmq_msg_more(&parts[n]);
        n++;
    }
    assert_false(more);
    return n;
}

/* Answer the request in PARTS with a ping reply carrying ID. */
static void
router_answer(void *r, zmq_msg_t parts[4], uint64_t id)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    size_t len = pack_with_id(&sb, id, false); /* any map with an id */
    for (int k = 0; k < 3; k++)
        assert_true(zmq_msg_send(&parts[k], r, ZMQ_SNDMORE) >= 0);
    assert_int_equal(zmq_send(r, sb.data, len, 0), (int)len);
    zmq_msg_close(&parts[3]);
    msgpack_sbuffer_destroy(&sb);
}

/* A reply that comes after its call has ended is never taken for the
 * next call in the same slot: call A times out (no reply), call B takes
 * A's slot, then the server answers A late and B after it; B gets B's
 * reply, and A's is dropped.  The server is a ROUTER of this test, so
 * the late reply is certain. */
static void
test_async_late_reply_is_not_the_next_calls(void **state)
{
    (void)state;
    char ep[300];
    snprintf(ep, sizeof ep, "ipc://%s/late.sock", tmpdir);
    void *ctx = zmq_ctx_new();
    void *r = zmq_socket(ctx, ZMQ_ROUTER);
    int linger = 0;
    zmq_setsockopt(r, ZMQ_LINGER, &linger, sizeof linger);
    assert_int_equal(zmq_bind(r, ep), 0);
    const char *eps[] = {ep};
    sdx_async_t *a = NULL;
    assert_int_equal(sdx_async_new(NULL, eps, 1, 1, 1, 100, 1, &a), SDX_OK);
    seen_t s;
    memset(&s, 0, sizeof s);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    size_t len = pack_with_id(&sb, 1, false);
    assert_int_equal(sdx_async_send(a, 1, sb.data, len), SDX_OK); /* A */
    zmq_msg_t held[4], next[4];
    int n = 0;
    for (int i = 0; i < 100 && n == 0; i++) {
        assert_int_equal(sdx_async_wait(a, NULL, NULL, 0, 10, async_done,
                                        &s), SDX_OK);
        n = router_take(r, held, 0);
    }
    assert_int_equal(n, 4);
    async_drain(a, &s); /* A ends unanswered */
    assert_int_equal(s.st[1], SDX_UNAVAILABLE);
    len = pack_with_id(&sb, 2, false);
    assert_int_equal(sdx_async_send(a, 2, sb.data, len), SDX_OK); /* B */
    n = 0;
    for (int i = 0; i < 100 && n == 0; i++) {
        assert_int_equal(sdx_async_wait(a, NULL, NULL, 0, 10, async_done,
                                        &s), SDX_OK);
        n = router_take(r, next, 0);
    }
    assert_int_equal(n, 4);
    router_answer(r, held, 1); /* A's reply, late */
    router_answer(r, next, 2); /* B's */
    async_drain(a, &s);
    assert_int_equal(s.ended[1], 1);
    assert_int_equal(s.ended[2], 1);
    assert_int_equal(s.st[2], SDX_OK);
    assert_int_equal(s.echoed[2], 2);
    msgpack_sbuffer_destroy(&sb);
    sdx_async_destroy(&a);
    zmq_close(r);
    zmq_ctx_term(ctx);
}

static void
test_async_bad_arguments(void **state)
{
    (void)state;
    const char *eps[] = {endpoint};
    const char *bad[] = {"nonsense://x"};
    sdx_async_t *a = NULL;
    assert_int_equal(sdx_async_new(NULL, eps, 0, 4, 4, 100, 1, &a),
                     SDX_BAD_INPUT);
    assert_int_equal(sdx_async_new(NULL, eps, 1, 0, 4, 100, 1, &a),
                     SDX_BAD_INPUT);
    assert_int_equal(sdx_async_new(NULL, eps, 1, 4, 0, 100, 1, &a),
                     SDX_BAD_INPUT);
    assert_int_equal(sdx_async_new(NULL, eps, 1, 4, 4, 0, 1, &a),
                     SDX_BAD_INPUT);
    assert_int_equal(sdx_async_new(NULL, eps, 1, 4, 4, 100, 0, &a),
                     SDX_BAD_INPUT);
    assert_int_equal(sdx_async_new(NULL, bad, 1, 4, 4, 100, 1, &a),
                     SDX_BAD_INPUT);
    assert_null(a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_search_is_decoded),
        cmocka_unit_test(test_get_keeps_order_and_unknown_ids),
        cmocka_unit_test(test_stats_are_decoded),
        cmocka_unit_test(test_ladder_and_row_are_decoded),
        cmocka_unit_test(test_context_and_suggest_are_decoded),
        cmocka_unit_test(test_plain_words_are_decoded),
        cmocka_unit_test(test_grid_ops),
        cmocka_unit_test(test_error_reply_is_remote),
        cmocka_unit_test(test_absent_daemon_is_unavailable),
        cmocka_unit_test(test_failover_to_the_next_endpoint),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_async_many_in_flight),
        cmocka_unit_test(test_async_absent_daemon),
        cmocka_unit_test(test_async_skips_a_dead_replica),
        cmocka_unit_test(test_async_late_reply_is_not_the_next_calls),
        cmocka_unit_test(test_async_bad_arguments),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
