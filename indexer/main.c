/*
 * specdex-index: job-standard files -> clause records -> a Xapian index.
 *
 *   specdex-index -o DIR PATH...   parse every PATH (files, or directories
 *                                  of *.txt), then build DIR/rev-NNNNNN
 *                                  and make it current (indexer/build.h)
 *   specdex-index --dump PATH...   print each clause as one JSON line
 *
 * Everything is parsed before anything is written: a corpus with one bad
 * file is refused whole and the index being served stays as it was.
 * --dump goes through the same msgpack form the index stores and the one
 * JSON printer of the project (lib/sdx_json.h), so what it shows is what
 * the daemon will return.  Exit status: 0 done, 1 error, 2 usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <msgpack.h>

#include "build.h"
#include "parse.h"
#include "sdx_json.h"

#ifndef SDX_VERSION
#define SDX_VERSION "0.1.0" /* the project() version in CMakeLists.txt */
#endif

#define PROGRAM "specdex-index"

static void
usage(FILE *out)
{
    fputs("usage: " PROGRAM " -o DIR PATH...\n"
          "       " PROGRAM " --dump PATH...\n"
          "\n"
          "Parse job standards (files, or directories of *.txt files) and\n"
          "build a new revision of the index in DIR, swapped in atomically,\n"
          "or print every clause as one JSON line (--dump).\n"
          "\n"
          "  -o, --output DIR  build the index in DIR (created if missing)\n"
          "      --dump        print the clauses as JSON Lines; no index\n"
          "  -h, --help        show this help\n"
          "      --version     show the version\n",
          out);
}

/* Seconds since an arbitrary start, for the report. */
static double
now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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

int
main(int argc, char **argv)
{
    enum { OPT_DUMP = 256, OPT_VERSION };
    static const struct option longopts[] = {
        { "output", required_argument, NULL, 'o' },
        { "dump", no_argument, NULL, OPT_DUMP },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, OPT_VERSION },
        { NULL, 0, NULL, 0 },
    };
    sdx_clause_list_t clauses = SDX_CLAUSE_LIST_INIT;
    sdx_build_report_t report;
    const char *out_dir = NULL;
    bool want_dump = false;
    char err[1024];
    size_t nfiles = 0;
    int opt, rc = 1;
    double t0 = now();

    opterr = 0;
    while ((opt = getopt_long(argc, argv, "+ho:", longopts, NULL)) != -1) {
        switch (opt) {
        case 'o':
            out_dir = optarg;
            break;
        case OPT_DUMP:
            want_dump = true;
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
            else
                fprintf(stderr, PROGRAM ": unknown option %s\n",
                        argv[optind - 1]);
            fprintf(stderr, "Try '" PROGRAM " --help'.\n");
            return 2;
        }
    }
    if (want_dump == (out_dir != NULL) || optind >= argc) {
        fprintf(stderr, PROGRAM ": %s\n",
                optind >= argc ? "no PATH given"
                : want_dump    ? "give -o DIR or --dump, not both"
                               : "give -o DIR or --dump");
        fprintf(stderr, "Try '" PROGRAM " --help'.\n");
        return 2;
    }

    if (sdx_parse_paths((const char *const *)argv + optind,
                        (size_t)(argc - optind), &clauses, &nfiles, err,
                        sizeof err) != SDX_OK) {
        fprintf(stderr, PROGRAM ": %s\n", err);
        goto cleanup;
    }
    if (clauses.count == 0) {
        fprintf(stderr, PROGRAM ": no job standards (*.txt) found in the "
                "paths given\n");
        goto cleanup;
    }
    if (want_dump) {
        rc = dump(&clauses);
        goto cleanup;
    }
    memset(&report, 0, sizeof report);
    if (sdx_build_index(out_dir, &clauses, &report, err, sizeof err) !=
        SDX_OK) {
        fprintf(stderr, PROGRAM ": %s\n", err);
        goto cleanup;
    }
    printf("indexed %zu clauses from %zu file%s into %s (revision %llu) "
           "in %.3f s\n", report.clauses, nfiles, nfiles == 1 ? "" : "s",
           report.path, (unsigned long long)report.revision, now() - t0);
    rc = 0;
cleanup:
    sdx_clause_list_clear(&clauses);
    return rc;
}
