/*
 * build: clause records -> a Xapian index under DIR, swapped in
 * atomically (layout and guarantees in build.h,
 * lib/sdx_index.h and docs/ARCHITECTURE.md).
 *
 * The order of a build is what makes it crash-safe: everything is
 * written into DIR/.build-XXXXXX and committed; only then is that
 * directory renamed to DIR/rev-NNNNNN, and only then does DIR/current
 * change, by rename(2) of a fresh symlink over it.  Each step is atomic
 * and fsync'd before the next, so a build killed anywhere leaves
 * DIR/current naming a complete revision.
 *
 * One build at a time: a POSIX record lock on DIR/.lock is held for the
 * whole build (the kernel drops it when the process dies, even by
 * SIGKILL).  Whoever holds it knows that every DIR/.build-* and
 * DIR/.current-tmp-* it finds was left by a build that died, and removes
 * them before starting.  A second build while one runs fails at once.
 *
 * The clauses can be written by several threads, each into a shard of
 * its own (a .build-* directory too), merged into the build directory
 * by Xapian's compactor before the rename: indexing is CPU-bound, and
 * one Xapian writer uses one core.
 *
 * What a clause becomes in the index (terms, values, its record) is
 * lib/sdx_index.c's (sdx_index_add_clause); this file only runs the
 * writers and lays out the directory.
 */
#define _XOPEN_SOURCE 700 /* nftw() */

#include "build.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sdx_index.h"
#include "sdx_util.h"
#include "sdx_xapian.h"

/* Bytes of a path under the index directory. */
#define PATH_MAX_SDX 4096
/* Clauses per writer at least when the writers are chosen by core
 * count: a smaller corpus builds in a second or two with one writer,
 * and the thread and merge are not worth their cost there. */
#define SHARD_MIN_CLAUSES 20000
#define SHARD_MAX_CLAUSES 25000 /* a shard's clauses, at most (1M,
                                    flushes of 500-1,000: shards of 25k
                                    45 s, of 100k 53 s; two of 500k
                                    with Xapian's flushes 65 s) */

/* printf into ERR (ERR_SIZE bytes), never overflowing; returns ST. */
static sdx_status_t
fail(sdx_status_t st, char *err, size_t err_size, const char *fmt, ...)
{
    va_list ap;
    if (err && err_size) {
        va_start(ap, fmt);
        vsnprintf(err, err_size, fmt, ap);
        va_end(ap);
    }
    return st;
}

/* ------------------------------------------------------------------ */
/* Files                                                              */
/* ------------------------------------------------------------------ */

/* mkdir -p PATH. */
static int
mkdir_p(const char *path)
{
    char tmp[PATH_MAX_SDX];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0777) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(tmp, 0777) < 0 && errno != EEXIST)
        return -1;
    return 0;
}

/* fsync PATH, opened with FLAGS besides O_RDONLY. */
static int
fsync_path(const char *path, int flags)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | flags);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

/* fsync a directory, so the renames and links in it are on disk. */
static int
fsync_dir(const char *path)
{
    return fsync_path(path, O_DIRECTORY);
}

static int
rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    return (type == FTW_DP ? rmdir(path) : unlink(path)) < 0 &&
                   errno != ENOENT
               ? -1
               : 0;
}

/* rm -rf PATH; a missing PATH is not an error. */
static int
rm_rf(const char *path)
{
    if (nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0 &&
        errno != ENOENT)
        return -1;
    return 0;
}

/*
 * Remove the revision directory PATH unless a reader holds it: specdexd
 * workers keep a shared flock(2) on the revision they read.  The
 * exclusive lock, taken without waiting, is held until the directory is
 * gone, so a reader that locks it afterwards finds it removed (it checks
 * for `iamglass`), never half removed.  Returns 0 (removed, or already
 * gone), 1 when a reader holds it (left for the next build), -1 on a
 * failure (errno set).
 */
static int
rm_revision(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return saved == EWOULDBLOCK ? 1 : -1;
    }
    int rc = rm_rf(path);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

/* The NNNNNN of "rev-NNNNNN", or 0 when NAME is not a revision. */
static uint64_t
rev_number(const char *name)
{
    if (strncmp(name, "rev-", 4) != 0 || name[4] < '0' || name[4] > '9')
        return 0;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(name + 4, &end, 10);
    return *end || errno ? 0 : (uint64_t)n;
}

/* The revision DIR/current points at, or 0 when none. */
static uint64_t
current_rev(const char *dir)
{
    char link[PATH_MAX_SDX], target[256];
    snprintf(link, sizeof link, "%s/current", dir);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n < 0)
        return 0;
    target[n] = '\0';
    return rev_number(target);
}

/*
 * One pass over DIR: *HIGHEST is the highest revision found; with
 * KEEP_A/KEEP_B non-zero, remove every other revision no reader holds
 * (rm_revision); with STALE,
 * remove .build-* and .current-tmp-* (only under the build lock).
 */
static sdx_status_t
scan_dir(const char *dir, uint64_t *highest, uint64_t keep_a,
         uint64_t keep_b, bool stale, char *err, size_t err_size)
{
    char path[PATH_MAX_SDX];
    DIR *d = opendir(dir);
    struct dirent *e;
    if (!d)
        return fail(SDX_IO, err, err_size, "%s: %s", dir, strerror(errno));
    if (highest)
        *highest = 0;
    while ((e = readdir(d))) {
        uint64_t rev = rev_number(e->d_name);
        bool old = rev && keep_a && rev != keep_a && rev != keep_b;
        bool junk = stale && (strncmp(e->d_name, ".build-", 7) == 0 ||
                              strncmp(e->d_name, ".current-tmp-", 13) == 0);
        if (highest && rev > *highest)
            *highest = rev;
        if (!old && !junk)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if ((old ? rm_revision(path) : rm_rf(path)) < 0) {
            int saved = errno;
            closedir(d);
            return fail(SDX_IO, err, err_size, "removing %s: %s", path,
                        strerror(saved));
        }
    }
    closedir(d);
    return SDX_OK;
}

/* Take the build lock DIR/.lock; *FD is its descriptor (keep it open). */
static sdx_status_t
lock_dir(const char *dir, int *fd, char *err, size_t err_size)
{
    char path[PATH_MAX_SDX];
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
    snprintf(path, sizeof path, "%s/.lock", dir);
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (*fd < 0)
        return fail(SDX_IO, err, err_size, "%s: %s", path, strerror(errno));
    if (fcntl(*fd, F_SETLK, &fl) < 0) {
        int saved = errno;
        close(*fd);
        *fd = -1;
        if (saved == EACCES || saved == EAGAIN)
            return fail(SDX_UNAVAILABLE, err, err_size,
                        "%s: another build of this index is running", dir);
        return fail(SDX_IO, err, err_size, "locking %s: %s", path,
                    strerror(saved));
    }
    return SDX_OK;
}

/* The first duplicate id: its message into the build's ERR. */
typedef struct build_ids {
    const sdx_clause_list_t *list; /* the clauses to build */
    char *err;                     /* the caller's message buffer */
    size_t err_size;               /* its bytes */
} build_ids_t;

static int
report_dup(void *arg, size_t first, size_t second)
{
    build_ids_t *ids = arg;
    (void)second;
    fail(SDX_BAD_INPUT, ids->err, ids->err_size,
         "duplicate clause id \"%s\"", ids->list->items[first]->id);
    return 1;
}

/*
 * SDX_BAD_INPUT naming the first duplicate id of LIST, if any: the
 * readers check their input, but a caller of the build may hand it any
 * list, and Xapian's bulk writer relies on the ids being unique.
 */
static sdx_status_t
check_ids(const sdx_clause_list_t *list, char *err, size_t err_size)
{
    build_ids_t ids = { list, err, err_size };
    int rc = sdx_clause_dup_ids(list->items, list->count, report_dup, &ids);
    return rc < 0 ? fail(SDX_NOMEM, err, err_size, "out of memory")
           : rc ? SDX_BAD_INPUT : SDX_OK;
}

/* Seconds of the monotonic clock, for the report. */
static double
now_s(void)
{
    return (double)sdx_now_us() / 1e6;
}

/*
 * Write each group of SYN into W's synonym table: every term a key,
 * the others its synonyms.  *COUNT is the number of pairs written.
 */
static sdx_status_t
write_synonyms(sdx_writer_t *w, const sdx_synonyms_t *syn, size_t *count,
               char *err, size_t err_size)
{
    *count = 0;
    for (size_t g = 0; syn && g < syn->count; g++) {
        const sdx_synonym_group_t *grp = &syn->groups[g];
        for (size_t i = 0; i < grp->n; i++) {
            for (size_t j = 0; j < grp->n; j++) {
                if (i == j)
                    continue;
                sdx_status_t st = sdx_writer_add_synonym(
                    w, grp->terms[i].text, grp->terms[j].text);
                if (st != SDX_OK)
                    return fail(st, err, err_size, "synonym \"%s\": %s",
                                grp->terms[i].text, sdx_writer_errmsg(w));
                (*count)++;
            }
        }
    }
    return SDX_OK;
}

/*
 * What one writer builds: a run of the clause list into a database of
 * its own.  Shard 0 also gets the synonyms and the metadata, so that
 * the merged database holds them once.
 */
typedef struct shard {
    char path[PATH_MAX_SDX];         /* its database directory */
    const sdx_clause_list_t *list;   /* the whole list, in index order
                                        (not owned) */
    const size_t *places;            /* each one's place in its series */
    size_t first, end;               /* its run: LIST items [FIRST, END) */
    const sdx_synonyms_t *syn;       /* synonyms to write, or NULL */
    const sdx_build_opts_t *opts;    /* the build's options */
    bool meta;                       /* write the specdex.* metadata */
    uint64_t rev;                    /* revision number, for META */
    unsigned flags;                  /* SDX_WRITER_* */
    size_t nsyn;                     /* out: synonym pairs written */
    sdx_status_t st;                 /* out: its result */
    char err[1024];                  /* out: why, when ST is not SDX_OK */
} shard_t;

/* The specdex.* metadata of revision REV holding CLAUSES documents. */
static sdx_status_t
write_meta(sdx_writer_t *w, uint64_t rev, size_t clauses)
{
    char value[64];
    time_t t = time(NULL);
    struct tm tm;
    sdx_status_t st;
    snprintf(value, sizeof value, "%" PRIu64, rev);
    if ((st = sdx_writer_set_metadata(w, SDX_META_REVISION, value)))
        return st;
    strftime(value, sizeof value, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
    if ((st = sdx_writer_set_metadata(w, SDX_META_BUILT_AT, value)))
        return st;
    snprintf(value, sizeof value, "%zu", clauses);
    return sdx_writer_set_metadata(w, SDX_META_CLAUSES, value);
}

/*
 * A view of LIST in index order (sdx_index_order): *VIEW borrows LIST's
 * clauses through a malloc'd array (*ITEMS, the caller frees it; VIEW
 * owns nothing), *PLACES (malloc'd) each one's place in its series.
 */
static sdx_status_t
in_index_order(const sdx_clause_list_t *list, sdx_clause_list_t *view,
               sdx_clause_t ***items, size_t **places, char *err,
               size_t err_size)
{
    size_t n = list->count ? list->count : 1;
    *items = malloc(n * sizeof **items);
    *places = malloc(n * sizeof **places);
    if (!*items || !*places)
        return fail(SDX_NOMEM, err, err_size, "out of memory");
    if (list->count)
        memcpy(*items, list->items, list->count * sizeof **items);
    if (sdx_index_order(*items, list->count, *places) != SDX_OK)
        return fail(SDX_NOMEM, err, err_size, "out of memory");
    *view = (sdx_clause_list_t){ *items, list->count, 0 };
    return SDX_OK;
}

/*
 * Add LIST's items [FIRST, END) to W, each at its PLACES entry; ERR
 * names a clause that fails.
 */
static sdx_status_t
add_clauses(sdx_writer_t *w, const sdx_clause_list_t *list,
            const size_t *places, size_t first, size_t end, char *err,
            size_t err_size)
{
    for (size_t i = first; i < end; i++) {
        const sdx_clause_t *c = list->items[i];
        sdx_status_t st = sdx_index_add_clause(w, c, places[i]);
        if (st != SDX_OK) {
            const char *why = st == SDX_BAD_INPUT
                                  ? "bad level, section or label"
                                  : sdx_writer_errmsg(w);
            return fail(st, err, err_size, "clause \"%s\": %s", c->id,
                        *why ? why : sdx_status_str(st));
        }
    }
    return SDX_OK;
}

/* Write S's clauses (and synonyms, metadata) into a new database. */
static sdx_status_t
write_db(shard_t *s)
{
    sdx_writer_t *w = NULL;
    char *msg = NULL;
    char *err = s->err;
    size_t err_size = sizeof s->err;
    sdx_status_t st = sdx_writer_create_flags(s->path, s->flags, &w, &msg);
    s->nsyn = 0;
    if (st != SDX_OK) {
        fail(st, err, err_size, "%s: %s", s->path, msg ? msg : "no message");
        goto cleanup;
    }
    if ((st = write_synonyms(w, s->syn, &s->nsyn, err, err_size)) != SDX_OK)
        goto cleanup;
    if ((st = add_clauses(w, s->list, s->places, s->first, s->end, err,
                          err_size)))
        goto cleanup;
    if (s->meta && (st = write_meta(w, s->rev, s->list->count)))
        goto werr;
    if (s->meta && s->opts->shard_name &&
        (st = sdx_writer_set_metadata(w, SDX_META_SHARD,
                                      s->opts->shard_name)))
        goto werr;
    if (s->meta && s->opts->nspelling_from &&
        (st = sdx_writer_add_spellings(w, s->opts->spelling_from,
                                       s->opts->nspelling_from)))
        goto werr;
    if ((st = sdx_writer_commit(w)))
        goto werr;
    goto cleanup;
werr:
    fail(st, err, err_size, "%s: %s", s->path, sdx_writer_errmsg(w));
cleanup:
    sdx_writer_destroy(&w);
    free(msg);
    return st;
}

/* A writer thread's share: shards FIRST, FIRST + STEP, ... of SHARDS. */
typedef struct writer {
    shard_t *shards;                 /* every shard (not owned) */
    size_t nshards, first, step;
} writer_t;

/* A writer thread: its shards one after another, until one fails. */
static void *
writer_main(void *arg)
{
    writer_t *w = arg;
    for (size_t k = w->first; k < w->nshards; k += w->step)
        if ((w->shards[k].st = write_db(&w->shards[k])) != SDX_OK)
            break;
    return NULL;
}

static int
fsync_entry(const char *path, const struct stat *sb, int type,
            struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    if (type != FTW_F && type != FTW_D && type != FTW_DP)
        return 0;
    return fsync_path(path, 0);
}

/* fsync every file under PATH and PATH itself. */
static int
fsync_tree(const char *path)
{
    return nftw(path, fsync_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * The number of writers for COUNT clauses when JOBS were asked for (0:
 * one per core online, but no more than gives each SHARD_MIN_CLAUSES:
 * below that the merge costs more than the second writer saves).
 */
static unsigned
writers_for(unsigned jobs, size_t count)
{
    if (jobs == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        jobs = cores < 1 ? 1 : cores > SDX_BUILD_JOBS_MAX
                                   ? SDX_BUILD_JOBS_MAX
                                   : (unsigned)cores;
        while (jobs > 1 && count / jobs < SHARD_MIN_CLAUSES)
            jobs--;
    }
    if (jobs > SDX_BUILD_JOBS_MAX)
        jobs = SDX_BUILD_JOBS_MAX;
    if (jobs > count)
        jobs = count ? (unsigned)count : 1;
    return jobs;
}

/*
 * Write LIST into the new database at PATH (an empty directory under
 * DIR) with JOBS writers.  One writer writes PATH itself.  Several
 * write shards, consecutive runs of LIST, each in a thread and a
 * DIR/.build-XXXXXX of its own (removed here, or by the next build
 * after a crash), without fsyncs; Xapian's compactor then merges them
 * into PATH, in order, so the document ids are those one writer would
 * give; PATH is fsync'd file by file.
 */
static sdx_status_t
write_index(const char *dir, const char *path, const sdx_clause_list_t *list,
            const size_t *places, const sdx_build_opts_t *opts, uint64_t rev,
            unsigned jobs, size_t *nsyn, double *merge_s, char *err,
            size_t err_size)
{
    const sdx_synonyms_t *syn = opts->synonyms;
    size_t shard_max = opts->shard_max;
    /* Shards of at most SHARD_MAX_CLAUSES: a writer's cost per clause
     * grows with its database (each flush merges into bigger tables),
     * so a writer writes several small shards in turn rather than one
     * big one, and the compactor merges them all at once. */
    size_t nshards = jobs;
    if (!shard_max)
        shard_max = SHARD_MAX_CLAUSES;
    if (jobs > 1 && list->count / jobs > shard_max)
        nshards = (list->count + shard_max - 1) / shard_max;
    shard_t *shards = calloc(nshards, sizeof *shards);
    pthread_t *threads = calloc(jobs, sizeof *threads);
    writer_t *writers = calloc(jobs, sizeof *writers);
    const char **paths = calloc(nshards, sizeof *paths);
    size_t made = 0;
    unsigned started = 0;
    char *msg = NULL;
    sdx_status_t st = SDX_OK;

    if (!shards || !threads || !writers || !paths) {
        st = fail(SDX_NOMEM, err, err_size, "out of memory");
        goto cleanup;
    }
    for (size_t k = 0; k < nshards; k++) {
        shard_t *s = &shards[k];
        s->list = list;
        s->places = places;
        s->first = list->count * k / nshards;
        s->end = list->count * (k + 1) / nshards;
        s->syn = k == 0 ? syn : NULL;
        s->opts = opts;
        s->meta = k == 0;
        s->rev = rev;
        s->st = SDX_OK;
        /* Bulk: the ids are unique (check_ids), and nothing updates a
         * revision, so no termlist table (its zlib was a sixth of the
         * build's time) and no look-up before each add. */
        s->flags = SDX_WRITER_BULK;
        if (nshards == 1) {
            snprintf(s->path, sizeof s->path, "%s", path);
            continue;
        }
        s->flags |= SDX_WRITER_NO_SYNC;
        snprintf(s->path, sizeof s->path, "%s/.build-XXXXXX", dir);
        if (!mkdtemp(s->path)) {
            st = fail(SDX_IO, err, err_size, "%s: %s", s->path,
                      strerror(errno));
            goto cleanup;
        }
        paths[k] = s->path;
        made++;
    }
    if (nshards == 1) {
        st = write_db(&shards[0]);
        *nsyn = shards[0].nsyn;
        if (st != SDX_OK)
            fail(st, err, err_size, "%s", shards[0].err);
        goto cleanup;
    }
    for (; started < jobs; started++) {
        writers[started] = (writer_t){ shards, nshards, started, jobs };
        int rc = pthread_create(&threads[started], NULL, writer_main,
                                &writers[started]);
        if (rc != 0) {
            st = fail(SDX_NOMEM, err, err_size,
                      "starting writer %u of %u: %s", started + 1, jobs,
                      strerror(rc));
            break;
        }
    }
    for (unsigned k = 0; k < started; k++)
        pthread_join(threads[k], NULL);
    /* The first failure in list order is the one reported. */
    for (size_t k = 0; k < nshards && st == SDX_OK; k++)
        if (shards[k].st != SDX_OK)
            st = fail(shards[k].st, err, err_size, "%s", shards[k].err);
    if (st != SDX_OK)
        goto cleanup;
    *nsyn = shards[0].nsyn;
    double t0 = now_s();
    if ((st = sdx_compact(paths, nshards, path, &msg)) != SDX_OK) {
        fail(st, err, err_size, "merging %zu shards into %s: %s", nshards,
             path, msg ? msg : "no message");
        goto cleanup;
    }
    if (fsync_tree(path) < 0)
        st = fail(SDX_IO, err, err_size, "%s: %s", path, strerror(errno));
    *merge_s = now_s() - t0;
cleanup:
    /* best effort: the next build removes what is left */
    for (size_t k = 0; k < made; k++)
        rm_rf(shards[k].path);
    free(msg);
    free(paths);
    free(writers);
    free(threads);
    free(shards);
    return st;
}

/* Point DIR/current at rev-REV by renaming a new symlink over it. */
static sdx_status_t
swap_current(const char *dir, uint64_t rev, char *err, size_t err_size)
{
    char tmp[PATH_MAX_SDX], cur[PATH_MAX_SDX], target[32];
    snprintf(target, sizeof target, "rev-%06" PRIu64, rev);
    snprintf(tmp, sizeof tmp, "%s/.current-tmp-%ld", dir, (long)getpid());
    snprintf(cur, sizeof cur, "%s/current", dir);
    if (unlink(tmp) < 0 && errno != ENOENT)
        return fail(SDX_IO, err, err_size, "%s: %s", tmp, strerror(errno));
    if (symlink(target, tmp) < 0)
        return fail(SDX_IO, err, err_size, "%s: %s", tmp, strerror(errno));
    if (rename(tmp, cur) < 0) {
        int saved = errno;
        unlink(tmp);
        return fail(SDX_IO, err, err_size, "%s: %s", cur, strerror(saved));
    }
    if (fsync_dir(dir) < 0)
        return fail(SDX_IO, err, err_size, "%s: %s", dir, strerror(errno));
    return SDX_OK;
}

/*
 * The first steps of a build or an update of DIR: create it, take the
 * lock (*LOCK, the caller closes it, also on failure), remove what dead
 * builds left, and make the empty BUILD (a DIR/.build-XXXXXX) for
 * revision *REV, the one after every revision present; *PREVIOUS is
 * the revision current names (0: none).
 */
static sdx_status_t
begin_build(const char *dir, int *lock, uint64_t *previous, uint64_t *rev,
            char *build, size_t build_size, char *err, size_t err_size)
{
    uint64_t highest;
    sdx_status_t st;
    if (mkdir_p(dir) < 0)
        return fail(SDX_IO, err, err_size, "%s: %s", dir, strerror(errno));
    if ((st = lock_dir(dir, lock, err, err_size)) != SDX_OK)
        return st;
    /* Leftovers of dead builds go first; they are never served. */
    if ((st = scan_dir(dir, &highest, 0, 0, true, err, err_size)))
        return st;
    *previous = current_rev(dir);
    *rev = highest + 1;
    snprintf(build, build_size, "%s/.build-XXXXXX", dir);
    if (!mkdtemp(build))
        return fail(SDX_IO, err, err_size, "%s: %s", build, strerror(errno));
    return SDX_OK;
}

/*
 * Make the committed database BUILD (a DIR/.build-*) revision REV and
 * current: fsync it, rename it to DIR/rev-REV (into REV_PATH; *BUILT
 * false from then on: it is no longer the caller's to remove), swap
 * DIR/current to it, and remove every revision but REV and PREVIOUS.
 */
static sdx_status_t
publish(const char *dir, const char *build, uint64_t rev, uint64_t previous,
        bool *built, char *rev_path, size_t rev_size, char *err,
        size_t err_size)
{
    sdx_status_t st;
    if (fsync_dir(build) < 0)
        return fail(SDX_IO, err, err_size, "%s: %s", build, strerror(errno));
    snprintf(rev_path, rev_size, "%s/rev-%06" PRIu64, dir, rev);
    if (rename(build, rev_path) < 0)
        return fail(SDX_IO, err, err_size, "%s: %s", rev_path,
                    strerror(errno));
    *built = false;
    if (fsync_dir(dir) < 0)
        return fail(SDX_IO, err, err_size, "%s: %s", dir, strerror(errno));
    if ((st = swap_current(dir, rev, err, err_size)) != SDX_OK)
        return st;
    /* Keep the new revision and the one a daemon may still be reading.
     * The build has succeeded: a revision that cannot be removed now
     * is removed by the next build, so its error is dropped. */
    char ignored[256];
    scan_dir(dir, NULL, rev, previous, false, ignored, sizeof ignored);
    return SDX_OK;
}

/* ERR emptied; DIR short enough for the paths made under it. */
static sdx_status_t
check_dir_arg(const char *dir, char *err, size_t err_size)
{
    if (err_size)
        err[0] = '\0';
    if (strlen(dir) > PATH_MAX_SDX - 64)
        return fail(SDX_BAD_INPUT, err, err_size, "%s: path too long", dir);
    return SDX_OK;
}

/*
 * What makes the database at PATH fit to serve as a shipped revision:
 * every table reads through (sdx_db_check), specdex can serve it (sdx_index_open), it
 * names its revision (*REV) and holds as many documents as its build
 * wrote.  ERR says what is wrong.
 */
static sdx_status_t
check_shipped(const char *path, uint64_t *rev, char *err, size_t err_size)
{
    char *msg = NULL, *clauses = NULL;
    sdx_db_t *db = NULL;
    uint64_t docs = 0;
    sdx_status_t st = sdx_db_check(path, &msg);
    if (st == SDX_OK)
        st = sdx_index_open(path, &db, &msg);
    if (st != SDX_OK) {
        st = fail(st == SDX_UNAVAILABLE ? SDX_UNAVAILABLE : SDX_BAD_INPUT,
                  err, err_size, "%s: not a whole index: %s", path,
                  msg ? msg : sdx_status_str(st));
        free(msg);
        return st;
    }
    if (sdx_index_revision(db, rev) != SDX_OK || *rev == 0)
        st = fail(SDX_BAD_INPUT, err, err_size, "%s: no %s in its "
                  "metadata: not a revision specdex-index built", path,
                  SDX_META_REVISION);
    else if (sdx_db_doc_count(db, &docs) != SDX_OK ||
             sdx_db_get_metadata(db, SDX_META_CLAUSES, &clauses) != SDX_OK ||
             strtoull(clauses, NULL, 10) != docs)
        st = fail(SDX_BAD_INPUT, err, err_size, "%s: %" PRIu64 " documents "
                  "where its build wrote %s: not a whole copy", path, docs,
                  clauses ? clauses : "no count");
    free(clauses);
    sdx_db_destroy(&db);
    return st;
}

/*
 * Which shard (0..N-1) each clause of LIST goes to, into SHARD_OF: a
 * series stays whole (ladder and row read one series), series in the
 * order they first appear, each to the shard holding fewest clauses so
 * far (the first of equals), so shards come out about even.  Returns
 * SDX_OK or SDX_NOMEM.
 */
static sdx_status_t
assign_series(const sdx_clause_list_t *list, unsigned n, unsigned *shard_of)
{
    size_t *load = calloc(n, sizeof *load);
    size_t *series_first = calloc(list->count ? list->count : 1,
                                  sizeof *series_first);
    if (!load || !series_first) {
        free(load);
        free(series_first);
        return SDX_NOMEM;
    }
    size_t nseries = 0;
    /* one pass per new series: a corpus has tens of series, not
       thousands, so the quadratic look-up stays small */
    for (size_t i = 0; i < list->count; i++) {
        const char *series = list->items[i]->series;
        size_t k = 0;
        while (k < nseries &&
               strcmp(list->items[series_first[k]]->series, series) != 0)
            k++;
        if (k < nseries) {
            shard_of[i] = shard_of[series_first[k]];
        } else {
            series_first[nseries++] = i;
            unsigned best = 0;
            for (unsigned j = 1; j < n; j++)
                if (load[j] < load[best])
                    best = j;
            /* the series' size is not known yet: count it as it comes */
            shard_of[i] = best;
        }
        load[shard_of[i]]++;
    }
    free(load);
    free(series_first);
    return SDX_OK;
}

sdx_status_t
sdx_build_shards(const char *dir, const sdx_clause_list_t *clauses,
                 unsigned nshards, const sdx_build_opts_t *base,
                 sdx_build_report_t *report, char *err, size_t err_size)
{
    char sub[PATH_MAX_SDX], meta_dir[PATH_MAX_SDX];
    char (*paths)[PATH_MAX_SDX] = NULL;
    const char **spelling = NULL;
    unsigned *shard_of = NULL;
    uint64_t rev = 0, next;
    sdx_clause_list_t part = SDX_CLAUSE_LIST_INIT;
    sdx_build_report_t one;
    sdx_status_t st;

    if ((st = check_dir_arg(dir, err, err_size)) != SDX_OK)
        return st;
    if (nshards < 2 || nshards > SDX_BUILD_SHARDS_MAX)
        return fail(SDX_BAD_INPUT, err, err_size, "shards: %u is out of "
                    "range 2..%d", nshards, SDX_BUILD_SHARDS_MAX);
    if ((st = check_ids(clauses, err, err_size)) != SDX_OK)
        return st;
    size_t n = clauses->count ? clauses->count : 1;
    paths = calloc(nshards, sizeof *paths);
    spelling = calloc(nshards, sizeof *spelling);
    shard_of = calloc(n, sizeof *shard_of);
    part.items = calloc(n, sizeof *part.items);
    if (!paths || !spelling || !shard_of || !part.items) {
        st = fail(SDX_NOMEM, err, err_size, "out of memory");
        goto cleanup;
    }
    if ((st = assign_series(clauses, nshards, shard_of)) != SDX_OK) {
        fail(st, err, err_size, "out of memory");
        goto cleanup;
    }
    /* one revision number for all: the daemon serves shards of one
       build together or not at all */
    snprintf(meta_dir, sizeof meta_dir, "%s/meta", dir);
    for (unsigned k = 0; k <= nshards; k++) {
        if (k < nshards)
            snprintf(sub, sizeof sub, "%s/shard-%u", dir, k + 1);
        if ((st = sdx_build_next_revision(k < nshards ? sub : meta_dir,
                                          &next, err, err_size)))
            goto cleanup;
        if (next > rev)
            rev = next;
    }
    for (unsigned k = 0; k < nshards; k++) {
        char name[32];
        part.count = 0;
        for (size_t i = 0; i < clauses->count; i++)
            if (shard_of[i] == k)
                part.items[part.count++] = clauses->items[i];
        snprintf(name, sizeof name, "%u/%u", k + 1, nshards);
        sdx_build_opts_t opts = *base;
        opts.shard_name = name;
        opts.revision = rev;
        snprintf(sub, sizeof sub, "%s/shard-%u", dir, k + 1);
        if ((st = sdx_build_index_opts(sub, &part, &opts, &one, err,
                                       err_size)) != SDX_OK)
            goto cleanup;
        snprintf(paths[k], PATH_MAX_SDX, "%s", one.path);
        spelling[k] = paths[k];
    }
    /* the meta shard: no documents, the whole corpus' spelling (Xapian's
       remote backend serves no spelling) and the synonyms */
    part.count = 0;
    sdx_build_opts_t opts = *base;
    opts.shard_name = "meta";
    opts.spelling_from = spelling;
    opts.nspelling_from = nshards;
    opts.revision = rev;
    if ((st = sdx_build_index_opts(meta_dir, &part, &opts, &one, err,
                                   err_size)) != SDX_OK)
        goto cleanup;
    if (report) {
        *report = one;
        report->clauses = clauses->count;
        snprintf(report->path, sizeof report->path, "%s", dir);
    }
cleanup:
    free(part.items); /* the clauses are the caller's */
    free(shard_of);
    free(spelling);
    free(paths);
    return st;
}

sdx_status_t
sdx_build_next_revision(const char *dir, uint64_t *rev, char *err,
                        size_t err_size)
{
    uint64_t highest = 0;
    struct stat sb;
    sdx_status_t st = SDX_OK;
    if (stat(dir, &sb) == 0)
        st = scan_dir(dir, &highest, 0, 0, false, err, err_size);
    *rev = highest + 1;
    return st;
}

sdx_status_t
sdx_build_adopt(const char *dir, const char *src, sdx_build_report_t *report,
                char *err, size_t err_size)
{
    char real_dir[PATH_MAX_SDX], real_src[PATH_MAX_SDX];
    char rev_path[PATH_MAX_SDX];
    uint64_t rev = 0, previous;
    bool moved = true;
    int lock = -1;
    sdx_status_t st;

    if ((st = check_dir_arg(dir, err, err_size)) != SDX_OK)
        return st;
    if (!realpath(src, real_src))
        return fail(SDX_BAD_INPUT, err, err_size, "%s: %s", src,
                    strerror(errno));
    if (mkdir_p(dir) < 0 || !realpath(dir, real_dir))
        return fail(SDX_IO, err, err_size, "%s: %s", dir, strerror(errno));
    /* rename(2) is what makes the switch atomic: same directory */
    const char *slash = strrchr(real_src, '/');
    if (!slash || (size_t)(slash - real_src) != strlen(real_dir) ||
        strncmp(real_src, real_dir, strlen(real_dir)) != 0 ||
        strncmp(slash + 1, ".ship-", 6) != 0)
        return fail(SDX_BAD_INPUT, err, err_size, "%s: a shipped revision "
                    "is adopted from DIR/.ship-NAME, in the index directory "
                    "itself (%s)", src, dir);
    if ((st = lock_dir(dir, &lock, err, err_size)) != SDX_OK)
        return st;
    if ((st = check_shipped(real_src, &rev, err, err_size)) != SDX_OK)
        goto cleanup;
    previous = current_rev(dir);
    if (rev == previous) {
        /* shipped twice: nothing to do but drop the copy */
        rm_rf(real_src);
        st = SDX_OK;
        goto report;
    }
    if (rev < previous) {
        st = fail(SDX_BAD_INPUT, err, err_size, "%s: revision %" PRIu64
                  " is older than the one served here (%" PRIu64 "): a "
                  "replica does not go back", src, rev, previous);
        goto cleanup;
    }
    /* a revision directory of that number that is not current is what
       a dead adoption or build left: never served, so replaced */
    snprintf(rev_path, sizeof rev_path, "%s/rev-%06" PRIu64, dir, rev);
    if (rm_revision(rev_path) != 0) {
        st = fail(SDX_IO, err, err_size, "%s: cannot be replaced: %s",
                  rev_path, strerror(errno));
        goto cleanup;
    }
    /* the copy is in the page cache only, maybe: on disk before the
       rename makes it a revision */
    if (fsync_tree(real_src) < 0) {
        st = fail(SDX_IO, err, err_size, "%s: %s", real_src,
                  strerror(errno));
        goto cleanup;
    }
    if ((st = publish(dir, real_src, rev, previous, &moved, rev_path,
                      sizeof rev_path, err, err_size)) != SDX_OK)
        goto cleanup;
report:
    if (report) {
        memset(report, 0, sizeof *report);
        report->revision = rev;
        snprintf(report->path, sizeof report->path, "%s/rev-%06" PRIu64,
                 dir, rev);
    }
cleanup:
    if (lock >= 0)
        close(lock);
    return st;
}

sdx_status_t
sdx_build_index(const char *dir, const sdx_clause_list_t *clauses,
                sdx_build_report_t *report, char *err, size_t err_size)
{
    return sdx_build_index_syn(dir, clauses, NULL, report, err, err_size);
}

sdx_status_t
sdx_build_index_syn(const char *dir, const sdx_clause_list_t *clauses,
                    const sdx_synonyms_t *synonyms,
                    sdx_build_report_t *report, char *err, size_t err_size)
{
    sdx_build_opts_t opts = { .synonyms = synonyms, .jobs = 0 };
    return sdx_build_index_opts(dir, clauses, &opts, report, err, err_size);
}

sdx_status_t
sdx_build_index_opts(const char *dir, const sdx_clause_list_t *clauses,
                     const sdx_build_opts_t *opts,
                     sdx_build_report_t *report, char *err, size_t err_size)
{
    unsigned jobs = writers_for(opts->jobs, clauses->count);
    double merge_s = 0;
    size_t nsyn = 0;
    char build[PATH_MAX_SDX], rev_path[PATH_MAX_SDX];
    double start = now_s();
    uint64_t previous = 0, rev = 0;
    sdx_clause_list_t ordered = SDX_CLAUSE_LIST_INIT; /* a view */
    sdx_clause_t **items = NULL;
    size_t *places = NULL;
    bool built = false;
    int lock = -1;
    sdx_status_t st;

    if ((st = check_dir_arg(dir, err, err_size)) != SDX_OK)
        return st;
    if ((st = check_ids(clauses, err, err_size)) != SDX_OK)
        return st;
    if ((st = begin_build(dir, &lock, &previous, &rev, build, sizeof build,
                          err, err_size)) != SDX_OK)
        goto cleanup;
    built = true;
    if (opts->revision && opts->revision < rev) {
        st = fail(SDX_BAD_INPUT, err, err_size, "%s: revision %" PRIu64
                  " is taken (the highest there is %" PRIu64 ")", dir,
                  opts->revision, rev - 1);
        goto cleanup;
    }
    if (opts->revision)
        rev = opts->revision;
    if ((st = in_index_order(clauses, &ordered, &items, &places, err,
                             err_size)) != SDX_OK)
        goto cleanup;
    if ((st = write_index(dir, build, &ordered, places, opts, rev, jobs,
                          &nsyn, &merge_s, err, err_size)) != SDX_OK)
        goto cleanup;
    if ((st = publish(dir, build, rev, previous, &built, rev_path,
                      sizeof rev_path, err, err_size)) != SDX_OK)
        goto cleanup;
    if (report) {
        report->clauses = clauses->count;
        report->synonyms = nsyn;
        report->jobs = jobs;
        report->merge_seconds = merge_s;
        report->revision = rev;
        report->seconds = now_s() - start;
        snprintf(report->path, sizeof report->path, "%s", rev_path);
    }
cleanup:
    free(items);
    free(places);
    if (built)
        rm_rf(build); /* best effort: the next build removes it anyway */
    if (lock >= 0)
        close(lock); /* releases the lock */
    return st;
}

/* ------------------------------------------------------------------ */
/* Updating one series                                                */
/* ------------------------------------------------------------------ */

/* Copy the file FROM to TO (created, mode 0644). */
static int
copy_file(const char *from, const char *to)
{
    char buf[1 << 16];
    int in = open(from, O_RDONLY | O_CLOEXEC), out = -1, rc = -1;
    if (in < 0)
        return -1;
    out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (out < 0)
        goto done;
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto done;
        if (n == 0)
            break;
        for (ssize_t off = 0; off < n;) {
            ssize_t k = write(out, buf + off, (size_t)(n - off));
            if (k < 0 && errno == EINTR)
                continue;
            if (k < 0)
                goto done;
            off += k;
        }
    }
    rc = 0;
done:;
    int saved = errno;
    if (out >= 0 && close(out) < 0 && rc == 0) {
        saved = errno;
        rc = -1;
    }
    close(in);
    errno = saved;
    return rc;
}

/* Copy every file of the database directory FROM into the empty TO. */
static sdx_status_t
copy_db(const char *from, const char *to, char *err, size_t err_size)
{
    char a[PATH_MAX_SDX], b[PATH_MAX_SDX];
    struct stat sb;
    DIR *d = opendir(from);
    struct dirent *e;
    if (!d)
        return fail(SDX_IO, err, err_size, "%s: %s", from, strerror(errno));
    while ((e = readdir(d))) {
        if (snprintf(a, sizeof a, "%s/%s", from, e->d_name) >=
                (int)sizeof a ||
            snprintf(b, sizeof b, "%s/%s", to, e->d_name) >= (int)sizeof b) {
            closedir(d);
            return fail(SDX_IO, err, err_size, "%s/%s: path too long", from,
                        e->d_name);
        }
        if (lstat(a, &sb) < 0 || !S_ISREG(sb.st_mode))
            continue; /* ".", "..": a database is a flat directory */
        if (copy_file(a, b) < 0) {
            int saved = errno;
            closedir(d);
            return fail(SDX_IO, err, err_size, "copying %s: %s", a,
                        strerror(saved));
        }
    }
    closedir(d);
    return SDX_OK;
}

/*
 * The distinct series slugs of LIST, in order, into *OUT (malloc'd, as
 * are its strings; *N of them).  SDX_BAD_INPUT (ERR names the clause)
 * for a clause without a series: an update replaces by series.
 */
static sdx_status_t
series_of(const sdx_clause_list_t *list, char ***out, size_t *n, char *err,
          size_t err_size)
{
    char slug[SDX_INDEX_TERM_MAX];
    *out = NULL;
    *n = 0;
    for (size_t i = 0; i < list->count; i++) {
        const sdx_clause_t *c = list->items[i];
        if (sdx_slug(c->series, slug, sizeof slug) <= 0)
            return fail(SDX_BAD_INPUT, err, err_size, "clause \"%s\" has "
                        "no series: an update replaces a series", c->id);
        bool seen = false;
        for (size_t k = 0; k < *n && !seen; k++)
            seen = strcmp((*out)[k], slug) == 0;
        if (seen)
            continue;
        char **v = realloc(*out, (*n + 1) * sizeof *v);
        if (!v)
            return fail(SDX_NOMEM, err, err_size, "out of memory");
        *out = v;
        if (!(v[*n] = strdup(slug)))
            return fail(SDX_NOMEM, err, err_size, "out of memory");
        (*n)++;
    }
    return SDX_OK;
}

/*
 * In the open update W: delete the series of CLAUSES (their slugs
 * SLUGS[0..N)), or REMOVE, then add CLAUSES; *REPORT says what.  An id
 * of CLAUSES that another series of the index holds is SDX_BAD_INPUT.
 */
static sdx_status_t
update_db(sdx_writer_t *w, const sdx_clause_list_t *clauses,
          const size_t *places, char *const *slugs, size_t n,
          const char *remove, sdx_update_report_t *report, char *err,
          size_t err_size)
{
    char term[SDX_INDEX_TERM_MAX];
    uint64_t count = 0;
    sdx_status_t st;
    for (size_t k = 0; k < n + (remove ? 1 : 0); k++) {
        const char *slug = k < n ? slugs[k] : remove;
        snprintf(term, sizeof term, "%s%s", SDX_PREFIX_SERIES, slug);
        if ((st = sdx_writer_delete_term(w, term, &count)) != SDX_OK)
            return fail(st, err, err_size, "deleting series %s: %s", slug,
                        sdx_writer_errmsg(w));
        if (k < SDX_UPDATE_SERIES_MAX)
            report->replaced[k] = count;
        report->removed += count;
        if (k == n && count == 0)
            return fail(SDX_BAD_INPUT, err, err_size,
                        "no series \"%s\" in the index", slug);
    }
    for (size_t i = 0; i < clauses->count; i++) {
        const sdx_clause_t *c = clauses->items[i];
        snprintf(term, sizeof term, "%s%s", SDX_PREFIX_ID, c->id);
        if ((st = sdx_writer_term_count(w, term, &count)) != SDX_OK)
            return fail(st, err, err_size, "%s", sdx_writer_errmsg(w));
        if (count > 0)
            return fail(SDX_BAD_INPUT, err, err_size, "clause id \"%s\" "
                        "is already in the index, in another series "
                        "(ids are unique across the corpus)", c->id);
    }
    if ((st = add_clauses(w, clauses, places, 0, clauses->count, err,
                          err_size)))
        return st;
    report->added = clauses->count;
    if ((st = sdx_writer_term_count(w, "", &count)) != SDX_OK)
        return fail(st, err, err_size, "%s", sdx_writer_errmsg(w));
    /* A full build refuses a corpus without clauses; an update does
     * not make what a build could not. */
    if (count == 0)
        return fail(SDX_BAD_INPUT, err, err_size, "series \"%s\" is the "
                    "last one in the index: an index cannot be empty "
                    "(build another corpus with -o, or stop the daemon)",
                    remove ? remove : "?");
    report->clauses = (size_t)count;
    return SDX_OK;
}

sdx_status_t
sdx_build_update(const char *dir, const sdx_clause_list_t *clauses,
                 const char *remove, sdx_update_report_t *report,
                 char *err, size_t err_size)
{
    static const sdx_clause_list_t none = SDX_CLAUSE_LIST_INIT;
    char build[PATH_MAX_SDX], rev_path[PATH_MAX_SDX], cur[PATH_MAX_SDX];
    double start = now_s();
    uint64_t previous = 0, rev = 0;
    sdx_writer_t *w = NULL;
    char **slugs = NULL, *msg = NULL;
    sdx_clause_list_t ordered = SDX_CLAUSE_LIST_INIT; /* a view */
    sdx_clause_t **items = NULL;
    size_t *places = NULL;
    size_t nslugs = 0;
    bool built = false;
    int lock = -1;
    sdx_status_t st;

    memset(report, 0, sizeof *report);
    if (err_size)
        err[0] = '\0';
    if (!clauses)
        clauses = &none;
    if (strlen(dir) > PATH_MAX_SDX - 64)
        return fail(SDX_BAD_INPUT, err, err_size, "%s: path too long", dir);
    if ((st = check_ids(clauses, err, err_size)) != SDX_OK ||
        (st = series_of(clauses, &slugs, &nslugs, err, err_size)) != SDX_OK)
        goto cleanup;
    if (!remove && nslugs == 0) {
        st = fail(SDX_BAD_INPUT, err, err_size, "no clauses to update");
        goto cleanup;
    }
    if ((st = begin_build(dir, &lock, &previous, &rev, build, sizeof build,
                          err, err_size)) != SDX_OK)
        goto cleanup;
    built = true;
    if (previous == 0) {
        st = fail(SDX_UNAVAILABLE, err, err_size, "no index at %s to "
                  "update (build one with specdex-index -o %s CORPUS)",
                  dir, dir);
        goto cleanup;
    }
    /* The revision served is never written: its copy is. */
    snprintf(cur, sizeof cur, "%s/rev-%06" PRIu64, dir, previous);
    if ((st = copy_db(cur, build, err, err_size)) != SDX_OK)
        goto cleanup;
    if ((st = sdx_writer_open(build, &w, &msg)) != SDX_OK) {
        fail(st, err, err_size, "%s: %s", build, msg ? msg : "no message");
        goto cleanup;
    }
    if ((st = in_index_order(clauses, &ordered, &items, &places, err,
                             err_size)) != SDX_OK ||
        (st = update_db(w, &ordered, places, slugs, nslugs, remove, report,
                        err, err_size)) != SDX_OK)
        goto cleanup;
    /* the appended series are out of document order: ties go by the
     * order key from now on (SDX_SLOT_ORDER) */
    if ((st = write_meta(w, rev, report->clauses)) != SDX_OK ||
        (st = sdx_writer_set_metadata(w, SDX_META_TIES, "order")) != SDX_OK ||
        (st = sdx_writer_commit(w)) != SDX_OK) {
        fail(st, err, err_size, "%s: %s", build, sdx_writer_errmsg(w));
        goto cleanup;
    }
    sdx_writer_destroy(&w);
    /* Xapian fsyncs what it wrote; the copied files are synced here. */
    if (fsync_tree(build) < 0) {
        st = fail(SDX_IO, err, err_size, "%s: %s", build, strerror(errno));
        goto cleanup;
    }
    if ((st = publish(dir, build, rev, previous, &built, rev_path,
                      sizeof rev_path, err, err_size)) != SDX_OK)
        goto cleanup;
    report->nseries = nslugs;
    for (size_t k = 0; k < nslugs && k < SDX_UPDATE_SERIES_MAX; k++)
        snprintf(report->series[k], sizeof report->series[k], "%s",
                 slugs[k]);
    report->revision = rev;
    report->seconds = now_s() - start;
    snprintf(report->path, sizeof report->path, "%s", rev_path);
cleanup:
    sdx_writer_destroy(&w); /* abandons what was not committed */
    free(items);
    free(places);
    free(msg);
    for (size_t k = 0; k < nslugs; k++)
        free(slugs[k]);
    free(slugs);
    if (built)
        rm_rf(build); /* best effort: the next build removes it anyway */
    if (lock >= 0)
        close(lock);
    return st;
}
