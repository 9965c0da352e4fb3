/*
 * specdex-index: job-standard files -> clause records -> a Xapian index.
 *
 *   specdex-index -o DIR PATH...   parse every PATH (files, or directories
 *                                  of *.txt and *.jsonl), then build
 *                                  DIR/rev-NNNNNN and make it current
 *                                  (indexer/build.h)
 *   specdex-index -o DIR --adopt DIR/.ship-NAME
 *                                  make a revision built elsewhere and
 *                                  copied there current (sdx_build_adopt)
 *   specdex-index -o DIR --update FILE
 *                                  a new revision with FILE's series
 *                                  replaced (or added), the rest as it
 *                                  was: no rebuild (build.h)
 *   specdex-index -o DIR --remove SERIES
 *                                  a new revision without SERIES (its
 *                                  title or a job code)
 *   specdex-index --dump PATH...   print each clause as one JSON line
 *   specdex-index --dump-index DIR print each clause the index served
 *                                  at DIR holds, in id order
 *   specdex-index --check PATH...  every row of every file as a table of
 *                                  its cells per level, uncertain cuts
 *                                  marked (--json: JSON Lines); nothing
 *                                  is indexed
 *
 * Synonyms: --synonyms FILE, else the synonyms.txt of each directory
 * PATH that has one (docs/CORPUS.md, "Synonyms"), go into the index's
 * synonym table.
 *
 * Everything is parsed before anything is written: a corpus with one bad
 * file is refused whole, every bad file is reported in the same run, and
 * the index being served stays as it was.  What a reader chose and was
 * sure of, and what a person should hear (a row empty at every level),
 * is printed as a note on standard error.
 * --dump goes through the same msgpack form the index stores and the one
 * JSON printer of the project (lib/sdx_json.h), so what it shows is what
 * the daemon will return.  Exit status: 0 done, 1 error, 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <msgpack.h>

#include "build.h"
#include "check.h"
#include "sdx_index.h"
#include "parse.h"
#include "reader.h"
#include "sdx_json.h"
#include "sdx_util.h"

#ifndef SDX_VERSION
#define SDX_VERSION "0.1.0" /* the project() version in CMakeLists.txt */
#endif

#define PROGRAM "specdex-index"

static void
usage(FILE *out)
{
    fputs("usage: " PROGRAM " -o DIR PATH...\n"
          "       " PROGRAM " -o DIR --adopt DIR/.ship-NAME\n"
          "       " PROGRAM " -o DIR --update FILE\n"
          "       " PROGRAM " -o DIR --remove SERIES\n"
          "       " PROGRAM " --dump PATH...\n"
          "       " PROGRAM " --dump-index DIR\n"
          "       " PROGRAM " --check [--json] PATH...\n"
          "\n"
          "Parse job standards (files, or directories of *.txt, *.html,\n"
          "*.htm and *.jsonl files) and build a new revision of the index\n"
          "in DIR, swapped in atomically, or print every clause as one JSON\n"
          "line (--dump), or show every file's cells for a person to\n"
          "confirm (--check).\n"
          "\n"
          "  -o, --output DIR    build the index in DIR (created if missing)\n"
          "  -s, --synonyms FILE synonym groups to index (default: each\n"
          "                      directory's synonyms.txt, when present)\n"
          "  -j, --jobs N        writer threads, merged at the end (default:\n"
          "                      one per core; 1 to 64)\n"
          "      --shards N      build N shards (2 to 15) instead of one\n"
          "                      index: DIR/shard-1..N, a series never cut,\n"
          "                      and DIR/meta (spelling, synonyms), for\n"
          "                      specdexd --index given each\n"
          "      --adopt SRC     make SRC, a revision built elsewhere and\n"
          "                      copied into DIR/.ship-NAME (specdex-ship),\n"
          "                      DIR's current revision, once it is checked\n"
          "                      whole; no PATH\n"
          "      --update FILE   with -o: a new revision in which FILE's\n"
          "                      series replaces the one of that name (or\n"
          "                      is added), the rest kept as it is; a FILE\n"
          "                      that fails to parse changes nothing\n"
          "      --remove SERIES with -o: a new revision without SERIES\n"
          "                      (its title or a job code); the last series\n"
          "                      is refused (an index is never empty)\n"
          "      --dump          print the clauses as JSON Lines; no index\n"
          "      --dump-index DIR\n"
          "                      print every clause the index at DIR holds,\n"
          "                      as JSON Lines in id order\n"
          "      --check         every row of every file as a table of its\n"
          "                      cells per level, the uncertain cuts marked\n"
          "                      and every note; no index; exit 1 when a\n"
          "                      file would be refused\n"
          "      --json          with --check: one JSON object per file\n"
          "  -h, --help        show this help\n"
          "      --version     show the version\n",
          out);
}

/* --jobs N: 1..SDX_BUILD_JOBS_MAX into *JOBS; -1 for anything else. */
static int
parse_jobs(const char *arg, unsigned *jobs)
{
    char *end;
    errno = 0;
    long n = strtol(arg, &end, 10);
    if (errno || end == arg || *end || n < 1 || n > SDX_BUILD_JOBS_MAX)
        return -1;
    *jobs = (unsigned)n;
    return 0;
}

/* Seconds since an arbitrary start, for the report. */
static double
now(void)
{
    return (double)sdx_now_us() / 1e6;
}

/*
 * Load the synonyms: FILE when given, else DIR/synonyms.txt of each
 * directory among PATHS that has one.  Returns 0, or 1 after a message.
 */
static int
load_synonyms(const char *file, char *const *paths, size_t npaths,
              sdx_synonyms_t *syn)
{
    char err[1024], path[4096];
    struct stat sb;
    if (file) {
        if (sdx_parse_synonyms(file, syn, err, sizeof err) != SDX_OK) {
            fprintf(stderr, PROGRAM ": %s\n", err);
            return 1;
        }
        return 0;
    }
    for (size_t i = 0; i < npaths; i++) {
        if (stat(paths[i], &sb) != 0 || !S_ISDIR(sb.st_mode))
            continue;
        if (snprintf(path, sizeof path, "%s/%s", paths[i],
                     SDX_SYNONYMS_FILE) >= (int)sizeof path ||
            stat(path, &sb) != 0)
            continue;
        if (sdx_parse_synonyms(path, syn, err, sizeof err) != SDX_OK) {
            fprintf(stderr, PROGRAM ": %s\n", err);
            return 1;
        }
    }
    return 0;
}

/* Print each clause as one JSON line: pack, unpack, print.  Returns 0 or
 * 1 (after a message) when packing or writing fails. */
static int
dump(const sdx_clause_list_t *list)
{
    msgpack_sbuffer sbuf;
    msgpack_packer pk;
    msgpack_unpacked msg;
    int rc = 0;
    msgpack_sbuffer_init(&sbuf);
    msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_unpacked_init(&msg);
    for (size_t i = 0; i < list->count && rc == 0; i++) {
        size_t off = 0;
        msgpack_sbuffer_clear(&sbuf);
        sdx_clause_pack(list->items[i], &pk, 0);
        if (!sbuf.data ||
            msgpack_unpack_next(&msg, sbuf.data, sbuf.size, &off) !=
                MSGPACK_UNPACK_SUCCESS) {
            fprintf(stderr, PROGRAM ": %s: cannot pack the clause "
                    "(out of memory?)\n", list->items[i]->id);
            rc = 1;
            break;
        }
        sdx_json_print(stdout, &msg.data);
        putchar('\n');
    }
    msgpack_unpacked_destroy(&msg);
    msgpack_sbuffer_destroy(&sbuf);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, PROGRAM ": error writing to standard output\n");
        rc = 1;
    }
    return rc;
}

/*
 * Print what reading the corpus C said: every error, and the notes
 * (choices, facts) of every file when NOTES.  Returns 0 when C can be
 * indexed, else 1.
 */
static int
report_corpus(const sdx_corpus_t *c, bool notes)
{
    for (size_t i = 0; i < c->nerrors; i++)
        fprintf(stderr, PROGRAM ": %s\n", c->errors[i]);
    for (size_t f = 0; f < c->nfiles; f++) {
        const sdx_file_read_t *r = &c->files[f];
        for (size_t i = 0; i < r->nnotes; i++) {
            bool error = r->notes[i].kind == SDX_NOTE_ERROR;
            if (error || notes)
                fprintf(stderr, PROGRAM ": %s%s\n", error ? "" : "note: ",
                        r->notes[i].text);
        }
        if (r->nlost > 0)
            fprintf(stderr, PROGRAM ": %s: %zu more notes not shown\n",
                    r->path, r->nlost);
    }
    if (c->st == SDX_OK)
        return 0;
    if (c->nbad > 0)
        fprintf(stderr, PROGRAM ": %zu of %zu file%s refused; nothing "
                "indexed (specdex-index --check shows every cell)\n",
                c->nbad, c->nfiles, c->nfiles == 1 ? "" : "s");
    return 1;
}

/* Print one packed record (LEN bytes) as a JSON line; 0, or 1 when it
   is not msgpack. */
static int
print_record(const void *data, size_t len)
{
    msgpack_unpacked msg;
    size_t off = 0;
    int rc = 0;
    msgpack_unpacked_init(&msg);
    if (msgpack_unpack_next(&msg, data, len, &off) == MSGPACK_UNPACK_SUCCESS) {
        sdx_json_print(stdout, &msg.data);
        putchar('\n');
    } else {
        rc = 1;
    }
    msgpack_unpacked_destroy(&msg);
    return rc;
}

/* Open the index served at DIR into *DB; 0, or 1 after a message. */
static int
open_index(const char *dir, sdx_db_t **db)
{
    char path[4096], err[1024], *msg = NULL;
    if (sdx_index_resolve(dir, path, sizeof path, err, sizeof err) != SDX_OK) {
        fprintf(stderr, PROGRAM ": %s\n", err);
        return 1;
    }
    if (sdx_index_open(path, db, &msg) != SDX_OK) {
        fprintf(stderr, PROGRAM ": %s\n", msg ? msg : path);
        free(msg);
        return 1;
    }
    return 0;
}

/*
 * --dump-index DIR: every clause record of the index served at DIR, in
 * id order (the order of its unique terms), so that two indexes of the
 * same corpus, however built, print the same bytes.  Returns 0 or 1.
 */
static int
dump_index(const char *dir)
{
    sdx_db_t *db = NULL;
    char *ids = NULL;
    size_t len = 0, count = 0;
    bool more = false;
    int rc = 1;
    if (open_index(dir, &db) != 0)
        return 1;
    if (sdx_db_terms(db, SDX_PREFIX_ID, SIZE_MAX, &ids, &len, &count,
                     &more) != SDX_OK) {
        fprintf(stderr, PROGRAM ": %s: %s\n", dir, sdx_db_errmsg(db));
        goto cleanup;
    }
    const char *id = ids;
    for (size_t i = 0; i < count; i++, id += strlen(id) + 1) {
        void *data = NULL;
        size_t n = 0;
        sdx_status_t st = sdx_index_get_record(db, id, &data, &n);
        int bad = st == SDX_OK ? print_record(data, n) : 1;
        free(data);
        if (bad) {
            fprintf(stderr, PROGRAM ": %s: clause \"%s\": %s\n", dir, id,
                    st == SDX_OK ? "not a clause record"
                                 : sdx_db_errmsg(db));
            goto cleanup;
        }
    }
    rc = 0;
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, PROGRAM ": error writing to standard output\n");
        rc = 1;
    }
cleanup:
    free(ids);
    sdx_db_destroy(&db);
    return rc;
}

/*
 * --remove NAME: the slug of the series NAME names (title or job code)
 * in the index served at DIR, into SLUG.  Returns 0, or 1 after a
 * message naming NAME.
 */
static int
series_slug(const char *dir, const char *name, char *slug, size_t size)
{
    sdx_db_t *db = NULL;
    sdx_proto_error_t err;
    if (open_index(dir, &db) != 0)
        return 1;
    sdx_errcode_t code = sdx_index_series_slug(db, name, slug, size, &err);
    sdx_db_destroy(&db);
    if (code == SDX_E_NONE)
        return 0;
    if (code == SDX_E_BAD_REQUEST && strstr(err.message, "no series"))
        fprintf(stderr, PROGRAM ": --remove: no series \"%s\" in the index "
                "at %s (specdex series lists them)\n", name, dir);
    else
        fprintf(stderr, PROGRAM ": --remove: %s\n", err.message);
    return 1;
}

/* Print what an update did (REMOVE: the series removed, or NULL). */
static void
report_update(const sdx_update_report_t *u, const char *remove,
              const char *dir, double seconds)
{
    if (remove)
        printf("removed series %s (%llu clauses) from %s", remove,
               (unsigned long long)u->replaced[0], dir);
    for (size_t k = 0; k < u->nseries && k < SDX_UPDATE_SERIES_MAX; k++) {
        if (u->replaced[k])
            printf("%supdated series %s in %s: %llu clauses replaced",
                   k ? "; " : "", u->series[k], dir,
                   (unsigned long long)u->replaced[k]);
        else
            printf("%sadded series %s to %s (new to the index)",
                   k ? "; " : "", u->series[k], dir);
    }
    printf(" (revision %llu): %zu clauses added, %zu removed, %zu in the "
           "index, in %.3f s\n", (unsigned long long)u->revision, u->added,
           u->removed, u->clauses, seconds);
}

#define FLUSH_THRESHOLD "500" /* documents between Xapian's flushes */

/*
 * --update FILE or --remove SERIES on the index at DIR.  FILE is read
 * whole before anything is written, as a build reads its corpus: a file
 * refused changes nothing.  Returns the exit status.
 */
static int
run_update(const char *dir, const char *file, const char *remove)
{
    sdx_clause_list_t clauses = SDX_CLAUSE_LIST_INIT;
    sdx_update_report_t report;
    sdx_corpus_t corpus;
    char err[1024], slug[SDX_INDEX_TERM_MAX];
    double t0 = now();
    int rc = 1;
    memset(&corpus, 0, sizeof corpus);
    if (remove && series_slug(dir, remove, slug, sizeof slug) != 0)
        return 1;
    if (file) {
        sdx_corpus_read(&file, 1, &corpus);
        if (report_corpus(&corpus, true) != 0)
            goto cleanup;
        if (sdx_corpus_take(&corpus, &clauses) != SDX_OK) {
            fprintf(stderr, PROGRAM ": out of memory\n");
            goto cleanup;
        }
        if (clauses.count == 0) {
            fprintf(stderr, PROGRAM ": --update: no job standard in %s\n",
                    file);
            goto cleanup;
        }
    }
    setenv("XAPIAN_FLUSH_THRESHOLD", FLUSH_THRESHOLD, 0);
    if (sdx_build_update(dir, file ? &clauses : NULL, remove ? slug : NULL,
                         &report, err, sizeof err) != SDX_OK) {
        fprintf(stderr, PROGRAM ": %s: %s; nothing changed\n",
                file ? "--update" : "--remove", err);
        goto cleanup;
    }
    report_update(&report, remove ? slug : NULL, dir, now() - t0);
    rc = 0;
cleanup:
    sdx_corpus_clear(&corpus);
    sdx_clause_list_clear(&clauses);
    return rc;
}

int
main(int argc, char **argv)
{
    enum { OPT_DUMP = 256, OPT_VERSION, OPT_CHECK, OPT_JSON, OPT_ADOPT,
           OPT_SHARDS, OPT_UPDATE, OPT_REMOVE, OPT_DUMP_INDEX };
    static const struct option longopts[] = {
        { "output", required_argument, NULL, 'o' },
        { "synonyms", required_argument, NULL, 's' },
        { "jobs", required_argument, NULL, 'j' },
        { "dump", no_argument, NULL, OPT_DUMP },
        { "check", no_argument, NULL, OPT_CHECK },
        { "json", no_argument, NULL, OPT_JSON },
        { "adopt", required_argument, NULL, OPT_ADOPT },
        { "shards", required_argument, NULL, OPT_SHARDS },
        { "update", required_argument, NULL, OPT_UPDATE },
        { "remove", required_argument, NULL, OPT_REMOVE },
        { "dump-index", required_argument, NULL, OPT_DUMP_INDEX },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, OPT_VERSION },
        { NULL, 0, NULL, 0 },
    };
    sdx_clause_list_t clauses = SDX_CLAUSE_LIST_INIT;
    sdx_synonyms_t synonyms = SDX_SYNONYMS_INIT;
    const char *syn_file = NULL;
    sdx_build_report_t report;
    const char *out_dir = NULL, *adopt = NULL;
    const char *update = NULL, *remove = NULL, *dump_dir = NULL;
    bool want_dump = false, want_check = false, want_json = false;
    sdx_corpus_t corpus;
    char err[1024];
    size_t nfiles = 0;
    unsigned jobs = 0; /* one per core */
    unsigned shards = 0; /* 0: one index */
    int opt, rc = 1;
    double t0 = now();

    opterr = 0;
    while ((opt = getopt_long(argc, argv, "+ho:s:j:", longopts, NULL)) !=
           -1) {
        switch (opt) {
        case 'j':
            if (parse_jobs(optarg, &jobs) != 0) {
                fprintf(stderr, PROGRAM ": --jobs: \"%s\" is not a number "
                        "from 1 to %d\n", optarg, SDX_BUILD_JOBS_MAX);
                return 2;
            }
            break;
        case 'o':
            out_dir = optarg;
            break;
        case 's':
            syn_file = optarg;
            break;
        case OPT_DUMP:
            want_dump = true;
            break;
        case OPT_CHECK:
            want_check = true;
            break;
        case OPT_JSON:
            want_json = true;
            break;
        case OPT_ADOPT:
            adopt = optarg;
            break;
        case OPT_SHARDS:
            if (parse_jobs(optarg, &shards) != 0 || shards < 2 ||
                shards > SDX_BUILD_SHARDS_MAX) {
                fprintf(stderr, PROGRAM ": --shards: \"%s\" is not a "
                        "number from 2 to %d\n", optarg,
                        SDX_BUILD_SHARDS_MAX);
                return 2;
            }
            break;
        case OPT_UPDATE:
            update = optarg;
            break;
        case OPT_REMOVE:
            remove = optarg;
            break;
        case OPT_DUMP_INDEX:
            dump_dir = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case OPT_VERSION:
            printf(PROGRAM " " SDX_VERSION "\n");
            return 0;
        default:
            if (optopt == 'o')
                fprintf(stderr, PROGRAM ": -o needs a directory\n");
            else if (optopt == 's')
                fprintf(stderr, PROGRAM ": -s needs a file\n");
            else if (optopt == 'j')
                fprintf(stderr, PROGRAM ": -j needs a number\n");
            else if (optopt == OPT_SHARDS)
                fprintf(stderr, PROGRAM ": --shards needs a number\n");
            else if (optopt == OPT_ADOPT)
                fprintf(stderr, PROGRAM ": --adopt needs a directory\n");
            else if (optopt == OPT_UPDATE)
                fprintf(stderr, PROGRAM ": --update needs a file\n");
            else if (optopt == OPT_REMOVE)
                fprintf(stderr, PROGRAM ": --remove needs a series\n");
            else if (optopt == OPT_DUMP_INDEX)
                fprintf(stderr, PROGRAM ": --dump-index needs a "
                        "directory\n");
            else
                fprintf(stderr, PROGRAM ": unknown option %s\n",
                        argv[optind - 1]);
            fprintf(stderr, "Try '" PROGRAM " --help'.\n");
            return 2;
        }
    }
    if (adopt) {
        if (!out_dir || want_dump || want_check || optind < argc) {
            fprintf(stderr, PROGRAM ": --adopt goes with -o DIR alone "
                    "(no PATH, --dump or --check)\n"
                    "Try '" PROGRAM " --help'.\n");
            return 2;
        }
        if (sdx_build_adopt(out_dir, adopt, &report, err, sizeof err)
                != SDX_OK) {
            fprintf(stderr, PROGRAM ": %s\n", err);
            return 1;
        }
        printf("%s is current in %s (revision %llu)\n", report.path,
               out_dir, (unsigned long long)report.revision);
        return 0;
    }
    if (dump_dir || update || remove) {
        const char *why =
            dump_dir && (out_dir || want_dump || want_check || update ||
                         remove)
                ? "--dump-index goes alone"
            : dump_dir ? NULL
            : update && remove ? "give one of --update FILE or --remove "
                                 "SERIES"
            : !out_dir ? "--update and --remove go with -o DIR"
            : want_dump || want_check ? "--update and --remove build: "
                                        "not with --dump or --check"
            : syn_file ? "--synonyms goes with a full build (an update "
                         "keeps the index's synonyms)"
            : optind < argc ? "--update and --remove take no PATH (the "
                              "rest of the index is kept)"
                            : NULL;
        if (why) {
            fprintf(stderr, PROGRAM ": %s\nTry '" PROGRAM " --help'.\n",
                    why);
            return 2;
        }
        if (dump_dir)
            return dump_index(dump_dir);
        return run_update(out_dir, update, remove);
    }
    int modes = want_dump + want_check + (out_dir != NULL);
    if (modes != 1 || optind >= argc || (want_json && !want_check)) {
        fprintf(stderr, PROGRAM ": %s\n",
                optind >= argc ? "no PATH given"
                : want_json && !want_check ? "--json goes with --check"
                : modes > 1 ? "give one of -o DIR, --dump or --check"
                            : "give -o DIR, --dump or --check");
        fprintf(stderr, "Try '" PROGRAM " --help'.\n");
        return 2;
    }

    memset(&corpus, 0, sizeof corpus);
    sdx_corpus_read((const char *const *)argv + optind,
                    (size_t)(argc - optind), &corpus);
    if (want_check) {
        if (sdx_check_print(stdout, &corpus, want_json) != 0) {
            fprintf(stderr, PROGRAM ": error writing to standard output\n");
            goto cleanup;
        }
        rc = corpus.st == SDX_OK ? 0 : 1;
        goto cleanup;
    }
    if (report_corpus(&corpus, true) != 0)
        goto cleanup;
    nfiles = corpus.nfiles;
    if (sdx_corpus_take(&corpus, &clauses) != SDX_OK) {
        fprintf(stderr, PROGRAM ": out of memory\n");
        goto cleanup;
    }
    if (clauses.count == 0) {
        fprintf(stderr, PROGRAM ": no job standards (*.txt, *.html, *.htm, "
                "*.jsonl) found in the paths given\n");
        goto cleanup;
    }
    if (want_dump) {
        rc = dump(&clauses);
        goto cleanup;
    }
    if (load_synonyms(syn_file, argv + optind, (size_t)(argc - optind),
                      &synonyms) != 0)
        goto cleanup;
    /* Xapian's writers hold 10,000 documents' postings before a flush
     * unless told otherwise; small flushes keep that map in the cache
     * and cost less in all (300k clauses, 2 writers: 14.1 s at 500 or
     * 1,000, 17.2 s at 10,000, 22.5 s at 100,000; the merged index is
     * the same).  The operator's own setting wins. */
    setenv("XAPIAN_FLUSH_THRESHOLD", FLUSH_THRESHOLD, 0);
    memset(&report, 0, sizeof report);
    sdx_build_opts_t opts = { .synonyms = &synonyms, .jobs = jobs };
    if ((shards ? sdx_build_shards(out_dir, &clauses, shards, &opts,
                                   &report, err, sizeof err)
                : sdx_build_index_opts(out_dir, &clauses, &opts, &report,
                                       err, sizeof err)) != SDX_OK) {
        fprintf(stderr, PROGRAM ": %s\n", err);
        goto cleanup;
    }
    if (shards) {
        printf("indexed %zu clauses from %zu file%s into %u shards of %s "
               "(revision %llu) in %.3f s\n", report.clauses, nfiles,
               nfiles == 1 ? "" : "s", shards, report.path,
               (unsigned long long)report.revision, now() - t0);
        rc = 0;
        goto cleanup;
    }
    printf("indexed %zu clauses from %zu file%s into %s (revision %llu) "
           "in %.3f s (%u writer%s, merged in %.3f s)\n", report.clauses,
           nfiles, nfiles == 1 ? "" : "s", report.path,
           (unsigned long long)report.revision, now() - t0, report.jobs,
           report.jobs == 1 ? "" : "s", report.merge_seconds);
    rc = 0;
cleanup:
    sdx_corpus_clear(&corpus);
    sdx_clause_list_clear(&clauses);
    sdx_synonyms_clear(&synonyms);
    return rc;
}
