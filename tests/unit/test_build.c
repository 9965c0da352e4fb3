/*
 * test_build: the indexer's build and atomic swap (indexer/build.h)
 * against real databases in a mkdtemp directory.
 *
 * Besides the plain cases (revisions, pruning, duplicate ids, the
 * clause-to-document mapping, resolving), it does what notmuch's
 * T380-atomicity does for its database: builds are killed with SIGKILL
 * at spread-out moments, and after each kill the index directory must
 * serve either the old index or the new one, whole: never an error,
 * never a mix.  Clauses are made by hand, so the parser is not needed.
 */
#define _XOPEN_SOURCE 700 /* nftw(), mkdtemp(), nanosleep() */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "build.h"
#include "sdx_index.h"
#include "sdx_util.h"
#include "sdx_xapian.h"
#include "test_tree.h"

#define KILL_RUNS 20        /* builds killed in test_atomicity */
#define BIG 3000            /* clauses of the builds that get killed */

static int
setup(void **state)
{
    char *dir = malloc(64);
    assert_non_null(dir);
    strcpy(dir, "/tmp/test_build-XXXXXX");
    assert_non_null(mkdtemp(dir));
    *state = dir;
    return 0;
}

static int
teardown(void **state)
{
    char *dir = *state;
    t_rm_tree(dir);
    free(dir);
    return 0;
}

/* "DIR/NAME" in a static buffer (one at a time). */
static const char *
sub(const char *dir, const char *name)
{
    static char path[512];
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_true(n > 0 && (size_t)n < sizeof path);
    return path;
}

/* A list of N clauses "c00000".. with distinct, searchable text. */
static sdx_clause_list_t
make_list(size_t n)
{
    sdx_clause_list_t list = SDX_CLAUSE_LIST_INIT;
    char buf[256];
    list.items = calloc(n ? n : 1, sizeof *list.items);
    assert_non_null(list.items);
    for (size_t i = 0; i < n; i++) {
        sdx_clause_t *c = sdx_clause_new();
        assert_non_null(c);
        snprintf(buf, sizeof buf, "5366/key-resp-%05zu", i);
        assert_int_equal(sdx_clause_set(&c->id, buf), SDX_OK);
        snprintf(buf, sizeof buf, "Troubleshoots clinical system %zu & "
                 "trains users on workflow number %zu.", i, i % 17);
        assert_int_equal(sdx_clause_set(&c->text, buf), SDX_OK);
        snprintf(buf, sizeof buf, "Key Resp %02zu", i % 12 + 1);
        assert_int_equal(sdx_clause_set(&c->row, buf), SDX_OK);
        assert_int_equal(sdx_clause_set(&c->section, "responsibility"),
                         SDX_OK);
        assert_int_equal(sdx_clause_set(&c->series,
                                        "Clinical Applications 1-5 HX"),
                         SDX_OK);
        assert_int_equal(sdx_clause_set(&c->job_code, "5366"), SDX_OK);
        c->level = (int)(i % 5) + 1;
        c->item = (int)(i % 12) + 1;
        list.items[list.count++] = c;
    }
    list.cap = n;
    return list;
}

static void
free_list(sdx_clause_list_t *list)
{
    for (size_t i = 0; i < list->count; i++)
        sdx_clause_destroy(&list->items[i]);
    free(list->items);
    list->items = NULL;
    list->count = list->cap = 0;
}

/* Entries of DIR whose name starts with PREFIX. */
static int
count_entries(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    assert_non_null(d);
    while ((e = readdir(d)))
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
            n++;
    closedir(d);
    return n;
}

/*
 * Build N fresh clauses into DIR with JOBS writers (0: the default),
 * expecting success; returns the rev.
 */
static uint64_t
build_jobs(const char *dir, size_t n, unsigned jobs)
{
    sdx_clause_list_t list = make_list(n);
    sdx_build_report_t report;
    sdx_build_opts_t opts = { .jobs = jobs };
    char err[512] = "";
    sdx_status_t st = sdx_build_index_opts(dir, &list, &opts, &report, err,
                                           sizeof err);
    if (st != SDX_OK)
        fail_msg("build: %s: %s", sdx_status_str(st), err);
    assert_int_equal(report.clauses, n);
    if (jobs)
        assert_int_equal(report.jobs, jobs);
    free_list(&list);
    return report.revision;
}

static uint64_t
build(const char *dir, size_t n)
{
    return build_jobs(dir, n, 0);
}

/*
 * Open what DIR serves and check it is whole: the metadata agree with
 * the document count and with the revision directory's name.  Returns
 * the document count; *REV (when not NULL) the revision.
 */
static uint64_t
check_served(const char *dir, uint64_t *rev)
{
    char path[4096], err[512], want[32];
    sdx_db_t *db = NULL;
    char *msg = NULL, *value = NULL;
    uint64_t count = 0;
    sdx_status_t st;

    st = sdx_index_resolve(dir, path, sizeof path, err, sizeof err);
    if (st != SDX_OK)
        fail_msg("resolve: %s", err);
    st = sdx_db_open(path, &db, &msg);
    if (st != SDX_OK)
        fail_msg("open %s: %s", path, msg ? msg : "");
    assert_int_equal(sdx_db_doc_count(db, &count), SDX_OK);
    assert_int_equal(sdx_db_get_metadata(db, "specdex.clauses", &value),
                     SDX_OK);
    assert_int_equal(strtoull(value, NULL, 10), count);
    free(value);
    assert_int_equal(sdx_db_get_metadata(db, "specdex.revision", &value),
                     SDX_OK);
    snprintf(want, sizeof want, "/rev-%06llu", strtoull(value, NULL, 10));
    assert_non_null(strstr(path, want));
    if (rev)
        *rev = strtoull(value, NULL, 10);
    free(value);
    assert_int_equal(sdx_db_get_metadata(db, "specdex.built_at", &value),
                     SDX_OK);
    assert_int_equal(strlen(value), 20); /* 2024-01-02T03:04:05Z */
    assert_int_equal(value[19], 'Z');
    free(value);
    sdx_db_destroy(&db);
    return count;
}

/*
 * After failed builds: DIR still serves its first build, of COUNT
 * clauses, and nothing the failures wrote is left.
 */
static void
expect_first_build_served(const char *dir, uint64_t count)
{
    uint64_t rev = 0;
    assert_int_equal(check_served(dir, &rev), count);
    assert_int_equal(rev, 1);
    assert_int_equal(count_entries(dir, ".build-"), 0);
    assert_int_equal(count_entries(dir, "rev-"), 1);
}

/* Hits of QUERY (with FILTER_TERM when not NULL) through DB. */
static size_t
hits(sdx_db_t *db, const char *query, const char *filter_term)
{
    const char *terms[] = { filter_term };
    sdx_filter_t filter = { terms, 1, false };
    sdx_search_spec_t spec = { .query = query, .limit = 10000,
                               .filters = &filter,
                               .nfilters = filter_term ? 1 : 0 };
    sdx_results_t *r = NULL;
    assert_int_equal(sdx_db_search(db, &spec, &r), SDX_OK);
    size_t n = sdx_results_count(r);
    sdx_results_destroy(&r);
    return n;
}

static void
test_revisions(void **state)
{
    const char *dir = sub(*state, "idx");
    char idx[512], path[4096], err[256], link[64];
    sdx_db_t *old = NULL;
    uint64_t rev = 0;
    ssize_t n;

    snprintf(idx, sizeof idx, "%s", dir);
    assert_int_equal(build(idx, 10), 1);
    assert_int_equal(check_served(idx, &rev), 10);
    assert_int_equal(rev, 1);
    assert_int_equal(build(idx, 20), 2);
    assert_int_equal(check_served(idx, &rev), 20);
    assert_int_equal(rev, 2);
    n = readlink(sub(idx, "current"), link, sizeof link - 1);
    assert_true(n > 0);
    link[n] = '\0';
    assert_string_equal(link, "rev-000002"); /* relative */

    /* A handle on the served revision outlives the next swap. */
    assert_int_equal(sdx_index_resolve(idx, path, sizeof path, err,
                                       sizeof err), SDX_OK);
    assert_int_equal(sdx_db_open(path, &old, NULL), SDX_OK);
    assert_int_equal(build(idx, 5), 3);
    assert_int_equal(check_served(idx, NULL), 5);
    assert_int_equal(hits(old, "", NULL), 20);
    assert_int_equal(hits(old, "troubleshooting", NULL), 20);
    sdx_db_destroy(&old);

    /* Only the current and the previous revision remain. */
    assert_int_equal(count_entries(idx, "rev-"), 2);
    assert_int_equal(access(sub(idx, "rev-000001"), F_OK), -1);
    assert_int_equal(access(sub(idx, "rev-000002"), F_OK), 0);
    assert_int_equal(count_entries(idx, ".build-"), 0);
    assert_int_equal(count_entries(idx, ".current-tmp-"), 0);
}

static void
test_clause_mapping(void **state)
{
    const char *dir = sub(*state, "map");
    char idx[512], path[4096], err[256];
    sdx_clause_list_t list = make_list(3);
    sdx_clause_t *c = list.items[2], *back = NULL;
    sdx_db_t *db = NULL;
    void *data = NULL;
    size_t len = 0;

    snprintf(idx, sizeof idx, "%s", dir);
    assert_int_equal(sdx_clause_set(&c->row, "Special Condition 2"),
                     SDX_OK);
    assert_int_equal(sdx_clause_set(&c->section, "condition"), SDX_OK);
    assert_int_equal(sdx_clause_set(&list.items[1]->job_code, ""), SDX_OK);
    list.items[1]->level = 0;
    assert_int_equal(sdx_build_index(idx, &list, NULL, err, sizeof err),
                     SDX_OK);
    assert_int_equal(sdx_index_resolve(idx, path, sizeof path, err,
                                       sizeof err), SDX_OK);
    assert_int_equal(sdx_db_open(path, &db, NULL), SDX_OK);

    assert_int_equal(hits(db, "", "XRspecial-condition-2"), 1);
    assert_int_equal(hits(db, "", "XRspecial-condition"), 1);
    assert_int_equal(hits(db, "", "XRkey-resp-01"), 1);
    assert_int_equal(hits(db, "", "XRkey-resp"), 2);
    assert_int_equal(hits(db, "", "XSresponsibility"), 2);
    assert_int_equal(hits(db, "", "XScondition"), 1);
    assert_int_equal(hits(db, "", "XC5366"), 2);
    assert_int_equal(hits(db, "", "XTclinical-applications-1-5-hx"), 3);
    assert_int_equal(hits(db, "", "XL0"), 1);
    assert_int_equal(hits(db, "", "XL3"), 1);
    assert_int_equal(hits(db, "troubleshoot", NULL), 3); /* stemmed */
    assert_int_equal(hits(db, "\"clinical system 2\"", NULL), 1);
    assert_int_equal(hits(db, "key", NULL), 0);  /* label: terms only */

    /* The record slot holds the msgpack record, unchanged. */
    assert_int_equal(sdx_db_get_data_by_term(db, "Q5366/key-resp-00002",
                                             SDX_SLOT_RECORD, &data, &len),
                     SDX_OK);
    assert_int_equal(sdx_clause_from_msgpack(data, len, &back), SDX_OK);
    assert_string_equal(back->row, "Special Condition 2");
    assert_string_equal(back->text, c->text);
    assert_int_equal(back->level, c->level);
    sdx_clause_destroy(&back);
    free(data);
    /* Its only copy: no text slot. */
    assert_int_equal(sdx_db_get_data_by_term(db, "Q5366/key-resp-00002",
                                             SDX_SLOT_TEXT, &data, &len),
                     SDX_OK);
    assert_int_equal(len, 0);
    free(data);

    /* Snippets come from the text in the record: the index holds no
     * other copy of it. */
    sdx_search_spec_t spec = { .query = "trains", .limit = 1,
                               .snippets = true,
                               .snippet_text = sdx_clause_text,
                               .data_slot = SDX_SLOT_RECORD };
    sdx_results_t *r = NULL;
    sdx_hit_t h;
    assert_int_equal(sdx_db_search(db, &spec, &r), SDX_OK);
    sdx_results_hit(r, 0, &h);
    assert_non_null(strstr(h.snippet, "<b>trains</b>"));
    assert_non_null(strstr(h.snippet, "&amp;"));
    sdx_results_destroy(&r);

    sdx_db_destroy(&db);
    free_list(&list);
}

static void
test_bad_input_keeps_current(void **state)
{
    const char *dir = sub(*state, "dup");
    char idx[512], err[256];
    sdx_clause_list_t list;

    snprintf(idx, sizeof idx, "%s", dir);
    build(idx, 7);

    list = make_list(4);
    assert_int_equal(sdx_clause_set(&list.items[3]->id,
                                    list.items[1]->id), SDX_OK);
    assert_int_equal(sdx_build_index(idx, &list, NULL, err, sizeof err),
                     SDX_BAD_INPUT);
    assert_non_null(strstr(err, "5366/key-resp-00001"));
    free_list(&list);

    list = make_list(4);
    assert_int_equal(sdx_clause_set(&list.items[2]->section, "bogus"),
                     SDX_OK);
    assert_int_equal(sdx_build_index(idx, &list, NULL, err, sizeof err),
                     SDX_BAD_INPUT);
    assert_non_null(strstr(err, "5366/key-resp-00002"));
    free_list(&list);

    expect_first_build_served(idx, 7);
}

static void
test_resolve(void **state)
{
    char path[4096], err[256], db_dir[512];
    sdx_writer_t *w = NULL;

    assert_int_equal(sdx_index_resolve(sub(*state, "none"), path,
                                       sizeof path, err, sizeof err),
                     SDX_UNAVAILABLE);
    assert_non_null(strstr(err, "no index at"));
    assert_non_null(strstr(err, "specdex-index -o"));

    /* A bare database directory resolves to itself. */
    snprintf(db_dir, sizeof db_dir, "%s", sub(*state, "bare"));
    assert_int_equal(sdx_writer_create(db_dir, &w, NULL), SDX_OK);
    assert_int_equal(sdx_writer_commit(w), SDX_OK);
    sdx_writer_destroy(&w);
    assert_int_equal(sdx_index_resolve(db_dir, path, sizeof path, err,
                                       sizeof err), SDX_OK);
    assert_string_equal(path, db_dir);
}

static void
test_leftovers_and_lock(void **state)
{
    const char *dir = sub(*state, "left");
    char idx[512], err[256];
    sdx_clause_list_t list = make_list(2);
    pid_t pid;
    int fd, status, pipefd[2];

    snprintf(idx, sizeof idx, "%s", dir);
    build(idx, 3);
    /* What a crashed build leaves behind. */
    assert_int_equal(mkdir(sub(idx, ".build-dead01"), 0777), 0);
    fd = open(sub(idx, ".build-dead01/junk"), O_CREAT | O_WRONLY, 0666);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(symlink("rev-000001", sub(idx, ".current-tmp-1")), 0);
    assert_int_equal(build(idx, 4), 2);
    assert_int_equal(count_entries(idx, ".build-"), 0);
    assert_int_equal(count_entries(idx, ".current-tmp-"), 0);

    /* A build while another holds the lock fails at once. */
    assert_int_equal(pipe(pipefd), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
        int lk = open(sub(idx, ".lock"), O_RDWR);
        if (lk < 0 || fcntl(lk, F_SETLK, &fl) < 0)
            _exit(1);
        if (write(pipefd[1], "x", 1) != 1)
            _exit(1);
        for (;;)
            pause(); /* hold the lock until killed */
    }
    char byte;
    close(pipefd[1]);
    /* One byte once the child holds the lock; 0 (EOF) if it failed. */
    assert_int_equal(read(pipefd[0], &byte, 1), 1);
    assert_int_equal(sdx_build_index(idx, &list, NULL, err, sizeof err),
                     SDX_UNAVAILABLE);
    assert_non_null(strstr(err, "another build"));
    kill(pid, SIGKILL);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    close(pipefd[0]);
    assert_int_equal(check_served(idx, NULL), 4);
    free_list(&list);
}

static double
now_s(void)
{
    return (double)sdx_now_us() / 1e6;
}

static void
sleep_s(double s)
{
    struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) *
                                             1e9) };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/*
 * Kill builds at moments spread over a build's whole length (measured
 * first); after each kill the served index is the old one or the new
 * one, whole.  Each run builds a different number of clauses, so the
 * count tells which one is served.
 */
static void
atomicity(const char *state, unsigned jobs)
{
    const char *dir = sub(state, jobs == 1 ? "atom" : "atom-shards");
    char idx[512];
    uint64_t served, count, rev;
    int old_seen = 0, new_seen = 0;
    sdx_build_opts_t opts = { .jobs = jobs };

    snprintf(idx, sizeof idx, "%s", dir);
    double t0 = now_s();
    build_jobs(idx, BIG, jobs);
    double length = now_s() - t0;
    served = check_served(idx, NULL);
    assert_int_equal(served, BIG);

    for (int run = 1; run <= KILL_RUNS; run++) {
        size_t n = BIG + (size_t)run;
        sdx_clause_list_t list = make_list(n);
        /* From the very start to well past the usual end. */
        double delay = length * 1.5 * (run - 1) / (KILL_RUNS - 1);
        int status;
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            char err[256];
            _exit(sdx_build_index_opts(idx, &list, &opts, NULL, err,
                                       sizeof err));
        }
        sleep_s(delay);
        kill(pid, SIGKILL);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        free_list(&list);

        count = check_served(idx, &rev);
        if (count == served) {
            old_seen++;
        } else {
            assert_int_equal(count, n);
            new_seen++;
        }
        served = count;
    }
    print_message("atomicity, %u writer%s: %d kills left the old index, "
                  "%d the new (build %.3f s)\n", jobs, jobs == 1 ? "" : "s",
                  old_seen, new_seen, length);

    /* Whatever the kills left does not disturb the next build. */
    uint64_t next = build_jobs(idx, 11, jobs);
    assert_int_equal(check_served(idx, &rev), 11);
    assert_int_equal(rev, next);
    assert_int_equal(count_entries(idx, ".build-"), 0);
    assert_int_equal(count_entries(idx, ".current-tmp-"), 0);
    assert_true(count_entries(idx, "rev-") <= 2);
}

static void
test_atomicity(void **state)
{
    atomicity(*state, 1);
}

/* The same with shards: killed while writing them, or merging. */
static void
test_atomicity_shards(void **state)
{
    atomicity(*state, 2);
}

/* Every hit of QUERY through DB: data and score, in rank order. */
static void
expect_same_hits(sdx_db_t *a, sdx_db_t *b, const char *query)
{
    sdx_search_spec_t spec = { .query = query, .limit = 1000,
                               .data_slot = SDX_SLOT_RECORD };
    sdx_results_t *ra = NULL, *rb = NULL;
    sdx_hit_t ha, hb;
    assert_int_equal(sdx_db_search(a, &spec, &ra), SDX_OK);
    assert_int_equal(sdx_db_search(b, &spec, &rb), SDX_OK);
    assert_int_equal(sdx_results_count(ra), sdx_results_count(rb));
    assert_true(sdx_results_count(ra) > 0);
    for (size_t i = 0; i < sdx_results_count(ra); i++) {
        sdx_results_hit(ra, i, &ha);
        sdx_results_hit(rb, i, &hb);
        assert_int_equal(ha.data_len, hb.data_len);
        assert_memory_equal(ha.data, hb.data, ha.data_len);
        assert_true(ha.score == hb.score); /* the same statistics */
    }
    sdx_results_destroy(&ra);
    sdx_results_destroy(&rb);
}

/* The indexes served in ONE and OTHER give the same hits. */
static void
expect_same_served(const char *one, const char *other)
{
    char path[4096], err[256];
    sdx_db_t *a = NULL, *b = NULL;
    assert_int_equal(sdx_index_resolve(one, path, sizeof path, err,
                                       sizeof err), SDX_OK);
    assert_int_equal(sdx_db_open(path, &a, NULL), SDX_OK);
    assert_int_equal(sdx_index_resolve(other, path, sizeof path, err,
                                       sizeof err), SDX_OK);
    assert_int_equal(sdx_db_open(path, &b, NULL), SDX_OK);
    expect_same_hits(a, b, "");
    expect_same_hits(a, b, "troubleshooting");
    expect_same_hits(a, b, "workflow number 5");
    expect_same_hits(a, b, "\"trains users\" system");
    sdx_db_destroy(&a);
    sdx_db_destroy(&b);
}

/*
 * Shards merged give what one writer gives: the same documents in the
 * same order (match-all ranks by document id), the same scores, the
 * metadata once; so do shards taken in turn by fewer writers.  More
 * writers than clauses are cut to one per clause.
 */
static void
test_shards_match_one_writer(void **state)
{
    char one[512], three[512], err[256];
    const size_t n = 61; /* not a multiple of 3: uneven shards */

    snprintf(one, sizeof one, "%s", sub(*state, "one"));
    snprintf(three, sizeof three, "%s", sub(*state, "three"));
    build_jobs(one, n, 1);
    build_jobs(three, n, 3);
    assert_int_equal(check_served(three, NULL), n);
    expect_same_served(one, three);

    /* two writers taking 9 shards of at most 7 clauses in turn */
    sdx_clause_list_t small = make_list(n);
    sdx_build_opts_t many = { .jobs = 2, .shard_max = 7 };
    sdx_build_report_t rep;
    assert_int_equal(sdx_build_index_opts(three, &small, &many, &rep, err,
                                          sizeof err), SDX_OK);
    assert_int_equal(rep.jobs, 2);
    free_list(&small);
    assert_int_equal(check_served(three, NULL), n);
    expect_same_served(one, three);

    sdx_clause_list_t list = make_list(2);
    sdx_build_opts_t opts = { .jobs = 5 };
    sdx_build_report_t report;
    assert_int_equal(sdx_build_index_opts(three, &list, &opts, &report, err,
                                          sizeof err), SDX_OK);
    assert_int_equal(report.jobs, 2);
    assert_int_equal(check_served(three, NULL), 2);
    free_list(&list);
    assert_int_equal(count_entries(three, ".build-"), 0);
}

/*
 * A shard that fails (a bad clause in the last run of the list) fails
 * the build: ERR names the clause, the served index stays, and no
 * shard or build directory is left behind.
 */
static void
test_failing_shard(void **state)
{
    char idx[512], err[256];
    sdx_clause_list_t list = make_list(9);
    sdx_build_opts_t opts = { .jobs = 3 };

    snprintf(idx, sizeof idx, "%s", sub(*state, "failing"));
    build_jobs(idx, 5, 2);
    list.items[8]->level = 12;
    assert_int_equal(sdx_build_index_opts(idx, &list, &opts, NULL, err,
                                          sizeof err), SDX_BAD_INPUT);
    assert_non_null(strstr(err, "5366/key-resp-00008"));
    /* two failing shards: the first in list order is reported */
    list.items[1]->level = -1;
    assert_int_equal(sdx_build_index_opts(idx, &list, &opts, NULL, err,
                                          sizeof err), SDX_BAD_INPUT);
    assert_non_null(strstr(err, "5366/key-resp-00001"));
    /* 5 shards of at most 2, taken in turn by 2 writers: the last
       (the first writer's third) failing fails the build all the same */
    list.items[1]->level = 2;
    opts = (sdx_build_opts_t){ .jobs = 2, .shard_max = 2 };
    assert_int_equal(sdx_build_index_opts(idx, &list, &opts, NULL, err,
                                          sizeof err), SDX_BAD_INPUT);
    assert_non_null(strstr(err, "5366/key-resp-00008"));
    assert_int_equal(count_entries(idx, ".build-"), 0);
    free_list(&list);
    expect_first_build_served(idx, 5);
}

static void
test_groups_and_synonyms(void **state)
{
    const char *dir = sub(*state, "groups");
    char idx[512], path[4096], err[256];
    char k0[SDX_GROUP_KEY_LEN + 1], k1[SDX_GROUP_KEY_LEN + 1],
        k2[SDX_GROUP_KEY_LEN + 1], term[64];
    sdx_clause_list_t list = make_list(3);
    sdx_synonyms_t syn = SDX_SYNONYMS_INIT;
    sdx_synonym_group_t group = { .n = 2 };
    sdx_build_report_t report;
    sdx_db_t *db = NULL;

    /* clauses 0 and 1: one row, same text, two levels; 2: other text */
    assert_int_equal(sdx_clause_set(&list.items[1]->row,
                                    list.items[0]->row), SDX_OK);
    assert_int_equal(sdx_clause_set(&list.items[1]->text,
                                    "Performs RCA on incidents."), SDX_OK);
    assert_int_equal(sdx_clause_set(&list.items[0]->text,
                                    "Performs RCA on incidents."), SDX_OK);
    sdx_index_group_key(list.items[0], k0);
    sdx_index_group_key(list.items[1], k1);
    sdx_index_group_key(list.items[2], k2);
    assert_int_equal(strlen(k0), SDX_GROUP_KEY_LEN);
    assert_string_equal(k0, k1);
    assert_string_not_equal(k0, k2);

    group.terms[0] = (sdx_synonym_t){ strdup("rca"), false };
    group.terms[1] = (sdx_synonym_t){ strdup("root cause analysis"), false };
    syn.groups = malloc(sizeof group);
    assert_non_null(syn.groups);
    syn.groups[0] = group;
    syn.count = 1;

    snprintf(idx, sizeof idx, "%s", dir);
    assert_int_equal(sdx_build_index_syn(idx, &list, &syn, &report, err,
                                         sizeof err), SDX_OK);
    assert_int_equal(report.synonyms, 2); /* rca -> phrase, phrase -> rca */
    assert_int_equal(sdx_index_resolve(idx, path, sizeof path, err,
                                       sizeof err), SDX_OK);
    assert_int_equal(sdx_db_open(path, &db, NULL), SDX_OK);
    snprintf(term, sizeof term, "%s%s", SDX_PREFIX_GROUP, k0);
    assert_int_equal(hits(db, "", term), 2);
    snprintf(term, sizeof term, "%s%s", SDX_PREFIX_GROUP, k2);
    assert_int_equal(hits(db, "", term), 1);

    /* the synonym table reaches the query side */
    sdx_search_spec_t spec = { .query = "\"root cause analysis\"",
                               .limit = 10, .synonyms = true };
    sdx_results_t *r = NULL;
    assert_int_equal(sdx_db_search(db, &spec, &r), SDX_OK);
    assert_int_equal(sdx_results_count(r), 0); /* quoted: as typed */
    sdx_results_destroy(&r);
    spec.query = "root cause analysis";
    assert_int_equal(sdx_db_search(db, &spec, &r), SDX_OK);
    assert_int_equal(sdx_results_count(r), 2);
    sdx_results_destroy(&r);

    sdx_db_destroy(&db);
    sdx_synonyms_clear(&syn);
    free_list(&list);
}

/* cp -r FROM TO (a copy as rsync would leave it). */
static void
copy_tree(const char *from, const char *to)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "cp -r '%s' '%s'", from, to);
    assert_int_equal(system(cmd), 0);
}

/*
 * A database at PATH that no build wrote whole: N_DOCS documents of
 * make_list, and REVISION and CLAUSES as its metadata (NULL: unset).
 */
static void
write_odd_db(const char *path, size_t n_docs, const char *revision,
             const char *clauses)
{
    sdx_writer_t *w = NULL;
    sdx_clause_list_t list = make_list(n_docs);
    assert_int_equal(sdx_writer_create(path, &w, NULL), SDX_OK);
    for (size_t i = 0; i < list.count; i++)
        assert_int_equal(sdx_index_add_clause(w, list.items[i], i), SDX_OK);
    if (revision)
        assert_int_equal(sdx_writer_set_metadata(w, SDX_META_REVISION,
                                                 revision), SDX_OK);
    if (clauses)
        assert_int_equal(sdx_writer_set_metadata(w, SDX_META_CLAUSES,
                                                 clauses), SDX_OK);
    assert_int_equal(sdx_writer_commit(w), SDX_OK);
    sdx_writer_destroy(&w);
    free_list(&list);
}

/* sdx_build_adopt: a shipped revision made current, or refused whole. */
static void
test_adopt(void **state)
{
    char primary[512], replica[512], ship[600], err[512], path[700];
    sdx_build_report_t report;
    uint64_t rev = 0;
    snprintf(primary, sizeof primary, "%s/primary", (char *)*state);
    snprintf(replica, sizeof replica, "%s/replica", (char *)*state);
    snprintf(ship, sizeof ship, "%s/.ship-a", replica);

    /* the first revision, into a replica that does not exist yet */
    assert_int_equal(build(primary, 5), 1);
    assert_int_equal(build(primary, 6), 2);
    assert_int_equal(mkdir(replica, 0777), 0);
    copy_tree(sub(primary, "rev-000002"), ship);
    assert_int_equal(sdx_build_adopt(replica, ship, &report, err,
                                     sizeof err), SDX_OK);
    assert_int_equal(report.revision, 2);
    assert_int_equal(check_served(replica, &rev), 6);
    assert_int_equal(rev, 2);       /* the primary's number, not ours */
    assert_int_equal(count_entries(replica, ".ship-"), 0);

    /* the same again: a repeat, the copy dropped */
    copy_tree(sub(primary, "rev-000002"), ship);
    assert_int_equal(sdx_build_adopt(replica, ship, NULL, err, sizeof err),
                     SDX_OK);
    assert_int_equal(count_entries(replica, ".ship-"), 0);

    /* older: refused, the copy left for the operator to see */
    t_rm_tree(sub(primary, "rev-000001"));
    write_odd_db(ship, 3, "1", "3");
    assert_int_equal(sdx_build_adopt(replica, ship, NULL, err, sizeof err),
                     SDX_BAD_INPUT);
    assert_non_null(strstr(err, "does not go back"));
    t_rm_tree(ship);

    /* fewer documents than its build counted */
    write_odd_db(ship, 3, "7", "4");
    assert_int_equal(sdx_build_adopt(replica, ship, NULL, err, sizeof err),
                     SDX_BAD_INPUT);
    assert_non_null(strstr(err, "3 documents where its build wrote 4"));
    t_rm_tree(ship);

    /* no revision in its metadata */
    write_odd_db(ship, 3, NULL, "3");
    assert_int_equal(sdx_build_adopt(replica, ship, NULL, err, sizeof err),
                     SDX_BAD_INPUT);
    assert_non_null(strstr(err, "no specdex.revision"));
    t_rm_tree(ship);

    /* not a database at all */
    assert_int_equal(mkdir(ship, 0777), 0);
    assert_int_equal(sdx_build_adopt(replica, ship, NULL, err, sizeof err),
                     SDX_UNAVAILABLE);
    assert_non_null(strstr(err, "not a whole index"));
    t_rm_tree(ship);

    /* a copy cut short: reading it through finds it */
    assert_int_equal(build(primary, 500), 3);
    copy_tree(sub(primary, "rev-000003"), ship);
    snprintf(path, sizeof path, "%s/postlist.glass", ship);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_true(sb.st_size >= 2 * 8192); /* two blocks at least */
    assert_int_equal(truncate(path, sb.st_size / 2), 0);
    assert_int_equal(sdx_build_adopt(replica, ship, NULL, err, sizeof err),
                     SDX_BAD_INPUT);
    assert_non_null(strstr(err, "not a whole index"));
    t_rm_tree(ship);

    /* not in the index directory, or not named .ship-* */
    assert_int_equal(sdx_build_adopt(replica, sub(primary, "rev-000002"),
                                     NULL, err, sizeof err), SDX_BAD_INPUT);
    assert_non_null(strstr(err, "DIR/.ship-NAME"));
    assert_int_equal(sdx_build_adopt(replica, sub(replica, "rev-000002"),
                                     NULL, err, sizeof err), SDX_BAD_INPUT);
    assert_int_equal(sdx_build_adopt(replica, sub(replica, ".ship-none"),
                                     NULL, err, sizeof err), SDX_BAD_INPUT);
    assert_non_null(strstr(err, "No such file"));

    /* and through all of it, revision 2 served whole */
    assert_int_equal(check_served(replica, &rev), 6);
    assert_int_equal(rev, 2);
}

/* sdx_build_shards: series whole, one revision, the meta shard's words. */
static void
test_shards(void **state)
{
    char dir[512], err[512], path[700];
    sdx_build_report_t report;
    sdx_build_opts_t opts = { .jobs = 1 };
    sdx_clause_list_t list = make_list(60);
    snprintf(dir, sizeof dir, "%s/sharded", (char *)*state);

    /* out of range, and duplicate ids, before anything is written */
    assert_int_equal(sdx_build_shards(dir, &list, 1, &opts, NULL, err,
                                      sizeof err), SDX_BAD_INPUT);
    assert_non_null(strstr(err, "out of range 2..15"));
    assert_int_equal(sdx_build_shards(dir, &list, SDX_BUILD_SHARDS_MAX + 1,
                                      &opts, NULL, err, sizeof err),
                     SDX_BAD_INPUT);
    free(list.items[1]->id);
    list.items[1]->id = strdup(list.items[0]->id);
    assert_int_equal(sdx_build_shards(dir, &list, 3, &opts, NULL, err,
                                      sizeof err), SDX_BAD_INPUT);
    assert_int_equal(access(dir, F_OK), -1);
    free_list(&list);

    list = make_list(60);
    /* four series, of 20, 20, 10 and 10 clauses, interleaved: the first
       two fill shards 1 and 2, the last two go to shard 3 together */
    static const char *const series[] = {"Series A", "Series B",
                                         "Series C", "Series D"};
    for (size_t i = 0; i < list.count; i++)
        assert_int_equal(sdx_clause_set(&list.items[i]->series,
                                        series[i < 40 ? i % 2
                                                      : 2 + i % 2]),
                         SDX_OK);
    assert_int_equal(sdx_build_shards(dir, &list, 3, &opts, &report, err,
                                      sizeof err), SDX_OK);
    assert_int_equal(report.revision, 1);
    assert_int_equal(report.clauses, 60);
    /* every shard and the meta shard at revision 1, the documents all
       there once; a second build is revision 2 everywhere */
    uint64_t docs = 0, rev = 0;
    for (int k = 1; k <= 3; k++) {
        snprintf(path, sizeof path, "%s/shard-%d", dir, k);
        uint64_t n = check_served(path, &rev);
        assert_int_equal(n, 20);
        docs += n;
        assert_int_equal(rev, 1);
    }
    assert_int_equal(docs, 60);
    snprintf(path, sizeof path, "%s/meta", dir);
    assert_int_equal(check_served(path, &rev), 0);
    assert_int_equal(rev, 1);
    assert_int_equal(sdx_build_shards(dir, &list, 3, &opts, &report, err,
                                      sizeof err), SDX_OK);
    assert_int_equal(report.revision, 2);

    /* the meta shard's spelling is all the shards' */
    sdx_db_t *db = NULL;
    const char *specs[4];
    char paths[4][600], why[256];
    static const char *const names[] = {"meta", "shard-1", "shard-2",
                                        "shard-3"};
    for (int k = 0; k < 4; k++) {
        char d[600];
        snprintf(d, sizeof d, "%s/%s", dir, names[k]);
        assert_int_equal(sdx_index_resolve(d, paths[k], sizeof paths[k],
                                           why, sizeof why), SDX_OK);
        specs[k] = paths[k];
    }
    assert_int_equal(sdx_index_open_shards(specs, 4, &db, NULL), SDX_OK);
    uint64_t count = 0;
    assert_int_equal(sdx_db_doc_count(db, &count), SDX_OK);
    assert_int_equal(count, 60);
    sdx_db_destroy(&db);

    /* a revision taken in one shard's directory fails the next build */
    opts.revision = 1;
    snprintf(path, sizeof path, "%s/shard-1", dir);
    assert_int_equal(sdx_build_index_opts(path, &list, &opts, NULL, err,
                                          sizeof err), SDX_BAD_INPUT);
    assert_non_null(strstr(err, "revision 1 is taken"));
    free_list(&list);
}

/* sdx_writer_add_spellings of what is not a database. */
static void
test_spellings_from_nothing(void **state)
{
    char path[512];
    sdx_writer_t *w = NULL;
    const char *none[] = {"/nonexistent/db"};
    snprintf(path, sizeof path, "%s/meta-db", (char *)*state);
    assert_int_equal(sdx_writer_create(path, &w, NULL), SDX_OK);
    assert_int_equal(sdx_writer_add_spellings(w, none, 1), SDX_UNAVAILABLE);
    assert_true(strlen(sdx_writer_errmsg(w)) > 0);
    sdx_writer_destroy(&w);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_revisions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clause_mapping, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_input_keeps_current, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_resolve, setup, teardown),
        cmocka_unit_test_setup_teardown(test_groups_and_synonyms, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_leftovers_and_lock, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_atomicity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_atomicity_shards, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_shards_match_one_writer, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_failing_shard, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_adopt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shards, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spellings_from_nothing, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
