/*
 * test_reindex: the index rebuilt again and again under a steady load,
 * and not one request may fail.
 *
 * A real specdexd serves the seed corpus on an ipc socket while client
 * threads send search, get, ping and stats requests back to back, each
 * waiting for its reply (REQ sockets, a generous timeout that counts as
 * a failure).  Meanwhile the real specdex-index rebuilds the index
 * REBUILDS times; after each build every worker must move to the new
 * revision (stats' `revisions`; how long it took is printed, a speed
 * for the bench, not asserted: a worker that never moves fails after
 * 10 s), and at the end
 * every one of the thousands of requests must have had an ok reply with
 * the answer expected of it.
 *
 * Then the old-revision rule: while the daemon is stopped (SIGSTOP) its
 * workers hold their revision, so builds must leave it in place even
 * when it is neither current nor previous; once the workers have moved
 * on, the next build removes it.  And SIGHUP makes the workers open the
 * index afresh.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "harness.h"

#define CLIENTS 4              /* client threads */
#define REBUILDS 20            /* index builds during the load */
#define MIN_REQUESTS 10000     /* requests at least, over all clients */
#define REPLY_TIMEOUT_MS 10000 /* one reply; past it the request failed */
#define MAX_IDS 8              /* clause ids the get requests ask for */

static harness_t h;
static char ids[MAX_IDS][128]; /* ids of real clauses, for get */
static size_t nids;
static atomic_bool stop_clients;
static atomic_ulong sent, failed;

/* ---------------------------------------------------------------- */
/* Clients                                                          */
/* ---------------------------------------------------------------- */

/* The requests a client sends in turn. */
enum { R_SEARCH, R_SEARCH_FILTERED, R_GET, R_PING, R_STATS, R_KINDS };

static void
s_pack(msgpack_sbuffer *sb, int kind)
{
    msgpack_packer pk;
    if (kind == R_PING || kind == R_STATS) {
        h_pack_op(sb, kind == R_PING ? "ping" : "stats", NULL);
        return;
    }
    if (kind == R_SEARCH) {
        h_pack_op(sb, "search", "clinical practice");
        return;
    }
    msgpack_sbuffer_init(sb);
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3);
    msgpack_pack_str_with_body(&pk, "v", 1);
    msgpack_pack_int(&pk, 1);
    if (kind == R_SEARCH_FILTERED) {
        msgpack_pack_str_with_body(&pk, "op", 2);
        msgpack_pack_str_with_body(&pk, "search", 6);
        msgpack_pack_str_with_body(&pk, "q", 1);
        msgpack_pack_str_with_body(&pk, "level:3 knowledge", 17);
        return;
    }
    msgpack_pack_str_with_body(&pk, "op", 2);
    msgpack_pack_str_with_body(&pk, "get", 3);
    msgpack_pack_str_with_body(&pk, "ids", 3);
    msgpack_pack_array(&pk, nids);
    for (size_t i = 0; i < nids; i++)
        msgpack_pack_str_with_body(&pk, ids[i], strlen(ids[i]));
}

/* Is REPLY what request KIND must get from the seed corpus? */
static bool
s_expected(int kind, const msgpack_object *reply)
{
    if (!h_ok(reply))
        return false;
    switch (kind) {
    case R_SEARCH:
    case R_SEARCH_FILTERED: {
        const msgpack_object *hits = sdx_msgpack_get(reply, "hits");
        return hits && hits->type == MSGPACK_OBJECT_ARRAY &&
               hits->via.array.size > 0;
    }
    case R_GET: {
        const msgpack_object *c = sdx_msgpack_get(reply, "clauses");
        if (!c || c->type != MSGPACK_OBJECT_ARRAY ||
            c->via.array.size != nids)
            return false;
        for (uint32_t i = 0; i < c->via.array.size; i++)
            if (c->via.array.ptr[i].type != MSGPACK_OBJECT_MAP)
                return false;
        return true;
    }
    case R_STATS:
        return h_uint(sdx_msgpack_get(sdx_msgpack_get(reply, "index"), "revision")) > 0;
    default:
        return sdx_msgpack_get(reply, "pong") != NULL;
    }
}

static void *
s_client(void *arg)
{
    unsigned number = (unsigned)(uintptr_t)arg;
    msgpack_sbuffer reqs[R_KINDS];
    void *sock = NULL;
    for (int k = 0; k < R_KINDS; k++)
        s_pack(&reqs[k], k);
    for (unsigned long i = number; !atomic_load(&stop_clients); i++) {
        int kind = (int)(i % R_KINDS);
        msgpack_unpacked u;
        msgpack_unpacked_init(&u);
        if (!sock)
            sock = h_socket(&h, ZMQ_REQ, REPLY_TIMEOUT_MS);
        int rc = sock ? h_call(sock, reqs[kind].data, reqs[kind].size, &u)
                      : -1;
        atomic_fetch_add(&sent, 1);
        if (rc != 0 || !s_expected(kind, &u.data)) {
            unsigned long n = atomic_fetch_add(&failed, 1);
            if (n < 5) {
                if (rc != 0)
                    fprintf(stderr, "client %u: request %d: no reply\n",
                            number, kind);
                else
                    h_print_error("unexpected reply", &u.data);
            }
            if (rc != 0 && sock) {
                zmq_close(sock);   /* a REQ socket past a timeout */
                sock = NULL;
            }
        }
        msgpack_unpacked_destroy(&u);
    }
    if (sock)
        zmq_close(sock);
    for (int k = 0; k < R_KINDS; k++)
        msgpack_sbuffer_destroy(&reqs[k]);
    return NULL;
}

/* ---------------------------------------------------------------- */
/* The index directory                                              */
/* ---------------------------------------------------------------- */

/* The revision DIR/current names (0 when none). */
static uint64_t
s_current(void)
{
    char link[256], target[64];
    snprintf(link, sizeof link, "%s/current", h.index_dir);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n < 0)
        return 0;
    target[n] = '\0';
    return strtoull(target + 4, NULL, 10);
}

static bool
s_rev_exists(uint64_t rev)
{
    char path[256];
    struct stat sb;
    snprintf(path, sizeof path, "%s/rev-%06llu", h.index_dir,
             (unsigned long long)rev);
    return stat(path, &sb) == 0;
}

static unsigned
s_rev_count(void)
{
    unsigned n = 0;
    struct dirent *e;
    DIR *d = opendir(h.index_dir);
    if (!d)
        return 0;
    while ((e = readdir(d)))
        n += strncmp(e->d_name, "rev-", 4) == 0;
    closedir(d);
    return n;
}

/* Build once more; the new revision must be served by every worker. */
static long
s_rebuild(void)
{
    assert_int_equal(h_index(&h), 0);
    uint64_t rev = s_current();
    assert_true(rev > 0);
    long took = h_wait_revision(&h, rev, 10000);
    if (took < 0) {
        fprintf(stderr, "workers never moved to revision %llu:\n",
                (unsigned long long)rev);
        h_cat(h.log_path);
    }
    assert_true(took >= 0);
    return took;
}

/* ---------------------------------------------------------------- */
/* Setup                                                            */
/* ---------------------------------------------------------------- */

/* Remember the ids of a few real clauses, for the get requests. */
static int
s_find_ids(void)
{
    msgpack_sbuffer sb;
    msgpack_unpacked u;
    h_pack_op(&sb, "search", "clinical");
    int rc = h_once(&h, sb.data, sb.size, &u, REPLY_TIMEOUT_MS);
    msgpack_sbuffer_destroy(&sb);
    const msgpack_object *hits = rc == 0 ? sdx_msgpack_get(&u.data, "hits") : NULL;
    for (uint32_t i = 0; hits && hits->type == MSGPACK_OBJECT_ARRAY &&
                         i < hits->via.array.size && nids < MAX_IDS;
         i++) {
        const msgpack_object *id = sdx_msgpack_get(&hits->via.array.ptr[i], "id");
        if (id && id->type == MSGPACK_OBJECT_STR &&
            id->via.str.size < sizeof ids[0]) {
            memcpy(ids[nids], id->via.str.ptr, id->via.str.size);
            ids[nids++][id->via.str.size] = '\0';
        }
    }
    msgpack_unpacked_destroy(&u);
    return nids > 0 ? 0 : -1;
}

static int
s_setup(void **state)
{
    (void)state;
    if (h_init(&h, "reindex") != 0 || h_index(&h) != 0)
        return -1;
    if (h_spawn(&h, "--threads", "2", "--queue", "64", (char *)NULL) < 0 ||
        h_wait_ready(&h) != 0)
        return -1;
    return s_find_ids();
}

static int
s_teardown(void **state)
{
    (void)state;
    h_fini(&h);
    return 0;
}

/* ---------------------------------------------------------------- */
/* Tests                                                            */
/* ---------------------------------------------------------------- */

static void
test_reindex_under_load(void **state)
{
    (void)state;
    pthread_t threads[CLIENTS];
    long slowest = 0;
    uint64_t first = s_current();

    atomic_store(&stop_clients, false);
    for (unsigned i = 0; i < CLIENTS; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, s_client,
                                        (void *)(uintptr_t)i), 0);
    for (int b = 0; b < REBUILDS; b++) {
        unsigned long before = atomic_load(&sent);
        /* some load on each revision before the next swap */
        while (atomic_load(&sent) - before < MIN_REQUESTS / REBUILDS / 2)
            h_sleep_ms(5);
        long took = s_rebuild();
        if (took > slowest)
            slowest = took;
    }
    while (atomic_load(&sent) < MIN_REQUESTS)
        h_sleep_ms(10);
    atomic_store(&stop_clients, true);
    for (unsigned i = 0; i < CLIENTS; i++)
        pthread_join(threads[i], NULL);

    fprintf(stderr, "reindex: %lu requests, %d rebuilds (revisions "
            "%llu..%llu), %lu failed; every worker on the new revision "
            "within %ld ms of each build\n", atomic_load(&sent), REBUILDS,
            (unsigned long long)first + 1,
            (unsigned long long)s_current(), atomic_load(&failed),
            slowest);
    if (atomic_load(&failed))
        h_cat(h.log_path);
    assert_int_equal(atomic_load(&failed), 0);
    assert_true(atomic_load(&sent) >= MIN_REQUESTS);
    /* the workers left every older revision: only current and the one
       before are kept */
    assert_int_equal(s_rev_count(), 2);
}

/*
 * A revision a worker reads survives builds that would remove it, and
 * goes with the first build after the workers have left it.
 */
static void
test_read_revision_kept(void **state)
{
    (void)state;
    uint64_t held = s_current();
    assert_true(h_wait_revision(&h, held, 10000) >= 0);

    assert_int_equal(kill(h.pid, SIGSTOP), 0);  /* workers can't move */
    for (int b = 0; b < 3; b++)
        assert_int_equal(h_index(&h), 0);
    uint64_t now = s_current();
    assert_int_equal(now, held + 3);
    assert_true(s_rev_exists(held));          /* read: kept */
    assert_false(s_rev_exists(held + 1));     /* unread, old: removed */
    assert_true(s_rev_exists(held + 2));      /* the previous: kept */
    assert_int_equal(kill(h.pid, SIGCONT), 0);

    assert_true(h_wait_revision(&h, now, 10000) >= 0);
    assert_int_equal(h_index(&h), 0);
    assert_false(s_rev_exists(held));         /* left: removed */
    assert_true(h_wait_revision(&h, now + 1, 10000) >= 0);
}

/* SIGHUP: each worker opens the index again (worker 0 says so). */
static void
test_sighup_reopens(void **state)
{
    (void)state;
    assert_false(h_file_has(h.log_path, "reopened"));
    assert_int_equal(kill(h.pid, SIGHUP), 0);
    uint64_t t0 = h_now_ms();
    while (!h_file_has(h.log_path, "reopened") && h_now_ms() - t0 < 10000)
        h_sleep_ms(20);
    assert_true(h_file_has(h.log_path, "reopened"));
    assert_true(h_wait_revision(&h, s_current(), 10000) >= 0);

    uint64_t ms;
    assert_int_equal(h_stop(&h, &ms), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reindex_under_load),
        cmocka_unit_test(test_read_revision_kept),
        cmocka_unit_test(test_sighup_reopens),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
