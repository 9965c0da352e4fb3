/*
 * build: clause records -> a Xapian index, swapped in atomically.
 *
 * The layout of an index directory DIR (DIR/current, DIR/rev-NNNNNN,
 * DIR/.build-XXXXXX, DIR/.current-tmp-PID, DIR/.lock) and what a clause
 * becomes in it are lib/sdx_index.h's.  A build writes a fresh
 * DIR/.build-*, commits it, renames it to the next DIR/rev-*, then
 * points DIR/current at it by rename(2) of a new symlink: a reader of
 * DIR/current sees the old index or the new one, never half of one, and
 * a crash at any point leaves the old one serving.  The next build
 * removes what a crashed one left (.build-*, .current-tmp-*, a revision
 * never made current).
 */
#ifndef SDX_BUILD_H
#define SDX_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "parse.h"
#include "sdx_status.h"

/* Writers a build runs at most (specdex-index --jobs). */
#define SDX_BUILD_JOBS_MAX 64

/* How to build. */
typedef struct sdx_build_opts {
    const sdx_synonyms_t *synonyms; /* synonym groups to write, or NULL */
    unsigned jobs;      /* writer threads (shards merged at the end);
                           0: one per core, fewer when a corpus is too
                           small to gain; capped at SDX_BUILD_JOBS_MAX
                           and at one per clause */
    size_t shard_max;   /* with several writers, clauses per shard at
                           most (a writer writes its shards in turn);
                           0: 25,000 */
    /* For the shards of specdex-index --shards (all zero otherwise): */
    const char *shard_name; /* SDX_META_SHARD: "meta", "2/3"; NULL:
                           none */
    const char *const *spelling_from; /* databases whose spelling
                           tables the new one gets (the meta shard) */
    size_t nspelling_from; /* number of SPELLING_FROM */
    uint64_t revision;  /* the revision number to build (every shard
                           of one build has the same); 0: the next */
} sdx_build_opts_t;

/* What a build did, for the indexer's report. */
typedef struct sdx_build_report {
    size_t clauses;     /* documents written */
    size_t synonyms;    /* synonym entries written (key -> term pairs) */
    unsigned jobs;      /* writers that ran (1: no merge) */
    uint64_t revision;  /* the new revision number (NNNNNN above) */
    double seconds;     /* wall time of the build */
    double merge_seconds; /* of which merging the shards (0: one writer) */
    char path[4096];    /* the new DIR/rev-NNNNNN */
} sdx_build_report_t;

/*
 * Build CLAUSES into a new revision under INDEX_DIR (created if missing)
 * and make it current.  Revisions other than the new one and the one
 * it replaced are removed (a daemon may still be reading the previous).
 * The database's metadata holds SDX_META_REVISION (NNNNNN),
 * SDX_META_BUILT_AT (ISO 8601 UTC) and SDX_META_CLAUSES (a count).
 * REPORT may be NULL.  On failure the current index is untouched and ERR
 * (ERR_SIZE bytes) says why.
 * Returns SDX_OK; SDX_BAD_INPUT for a duplicate clause id (ERR names it)
 * or a clause that cannot be indexed (bad level or section, label or
 * term too long: ERR names the clause); SDX_UNAVAILABLE when another
 * build of INDEX_DIR is running; SDX_IO for a failed system call;
 * SDX_NOMEM; SDX_XAPIAN.
 */
sdx_status_t sdx_build_index(const char *index_dir,
                             const sdx_clause_list_t *clauses,
                             sdx_build_report_t *report,
                             char *err, size_t err_size);

/*
 * sdx_build_index, also writing SYNONYMS (NULL for none) into Xapian's
 * synonym table: for each group, every term is a key whose synonyms are
 * the group's other terms (docs/CORPUS.md, "Synonyms").  The daemon
 * expands them at query time (sdx_search_spec_t.synonyms).
 */
sdx_status_t sdx_build_index_syn(const char *index_dir,
                                 const sdx_clause_list_t *clauses,
                                 const sdx_synonyms_t *synonyms,
                                 sdx_build_report_t *report,
                                 char *err, size_t err_size);

/*
 * sdx_build_index_syn with OPTS (synonyms, and how many writers: with
 * more than one, each writes a consecutive run of CLAUSES into a shard
 * of its own, in a thread, and the shards are merged into the new
 * revision by Xapian's compactor: the same documents, ids and
 * statistics as one writer gives, packed smaller).  A failing shard
 * fails the build as one writer's failure would (ERR names the clause).
 * sdx_build_index and sdx_build_index_syn use one writer per core.
 */
sdx_status_t sdx_build_index_opts(const char *index_dir,
                                  const sdx_clause_list_t *clauses,
                                  const sdx_build_opts_t *opts,
                                  sdx_build_report_t *report,
                                  char *err, size_t err_size);

/* Shards of specdex-index --shards, at most (the daemon's limit less
 * the meta shard). */
#define SDX_BUILD_SHARDS_MAX 15

/*
 * Build CLAUSES as NSHARDS shards (2..SDX_BUILD_SHARDS_MAX), each an
 * index directory of its own: INDEX_DIR/shard-1 .. shard-N, and
 * INDEX_DIR/meta, with no documents but the spelling table of all the
 * shards and the synonyms.  A series is never cut (ladder and row read
 * one series whole); series go to the shard holding fewest clauses so
 * far.  A series' clauses are its place in one index (SDX_SLOT_ORDER),
 * so an index of the shards breaks ties as one index does; all get one
 * revision number, the next free in all of them.  OPTS as for
 * sdx_build_index_opts (its shard fields are set here).  Shards are
 * built and swapped in one after another, the meta shard last: a daemon
 * refuses shards of two builds together, so a failure midway leaves it
 * serving the previous whole set.  REPORT: the clauses in all, the
 * revision, INDEX_DIR.  Errors as sdx_build_index_opts, SDX_BAD_INPUT
 * also for NSHARDS out of range.
 */
sdx_status_t sdx_build_shards(const char *index_dir,
                              const sdx_clause_list_t *clauses,
                              unsigned nshards, const sdx_build_opts_t *opts,
                              sdx_build_report_t *report, char *err,
                              size_t err_size);

/*
 * The revision number the next build of DIR would get (its highest
 * revision + 1; 1 when DIR does not exist), unlocked: a build given it
 * (sdx_build_opts_t.revision) fails if another took it meanwhile.
 */
sdx_status_t sdx_build_next_revision(const char *dir, uint64_t *rev,
                                     char *err, size_t err_size);

/*
 * Make the database at SRC, a revision another machine built and copied
 * here (rsync of its DIR/rev-NNNNNN to INDEX_DIR/.ship-NAME), the current
 * revision of INDEX_DIR, keeping its revision number NNNNNN: the same
 * steps a build ends with (the rename to rev-NNNNNN, the symlink swap,
 * the removal of older revisions), under the same lock, so a reader sees
 * the old revision or the new one.  Before anything changes, SRC must
 * read through whole (sdx_db_check), open for serving (sdx_index_open),
 * name its revision and hold the documents its build counted: a copy cut
 * short is refused and the current revision stays.  A revision equal to
 * the current one is a repeat (SRC is removed, SDX_OK); an older one is
 * refused.  REPORT (may be NULL) gets the revision and its path.
 * Returns SDX_OK; SDX_BAD_INPUT (SRC not in INDEX_DIR, not whole, or
 * older; ERR says which); SDX_UNAVAILABLE (another build or adoption
 * holds the lock, or SRC is not a database); SDX_IO.
 */
sdx_status_t sdx_build_adopt(const char *index_dir, const char *src,
                             sdx_build_report_t *report, char *err,
                             size_t err_size);

/* Series one update report names, at most (a text or page file holds
   one; a JSON Lines file may hold more, all replaced). */
#define SDX_UPDATE_SERIES_MAX 16

/* What an update did, for the indexer's report. */
typedef struct sdx_update_report {
    size_t nseries;     /* series of the file (its clauses' slugs) */
    char series[SDX_UPDATE_SERIES_MAX][256]; /* their slugs */
    uint64_t replaced[SDX_UPDATE_SERIES_MAX + 1]; /* clauses of each that
                           the index held before (0: a new series); the
                           last used entry is --remove's */
    size_t removed;     /* clauses deleted in all */
    size_t added;       /* clauses added */
    size_t clauses;     /* documents of the new revision */
    uint64_t revision;  /* the new revision number */
    double seconds;     /* wall time of the update */
    char path[4096];    /* the new DIR/rev-NNNNNN */
} sdx_update_report_t;

/*
 * A new revision of the index in INDEX_DIR that differs from the
 * current one in one series: a copy of the current revision (which is
 * never written) in which every clause of each series of CLAUSES is
 * deleted and CLAUSES added (--update FILE), or, with REMOVE (a series
 * slug) and CLAUSES NULL, REMOVE's clauses deleted (--remove); the
 * spelling table loses the deleted clauses' words, the synonym table
 * is kept as it is.  Then the same atomic swap as a build (the lock,
 * the fsyncs, the rename of DIR/current).  The revision holds the
 * documents, terms, values, records and spelling words a full build of
 * the same corpus gives; only document ids (so the order of equal-score
 * hits) may differ.
 * On failure the current index is untouched and ERR says why.
 * Returns SDX_OK; SDX_BAD_INPUT for a clause without a series, a
 * duplicate id (within CLAUSES, or an id another series of the index
 * holds), REMOVE not in the index, or an update that would leave the
 * index empty (an index is never empty: a full build refuses that
 * too); SDX_UNAVAILABLE when INDEX_DIR has no index, when another
 * build runs, or when the index has no termlist (built by an older
 * specdex-index); SDX_IO, SDX_NOMEM, SDX_XAPIAN.
 */
sdx_status_t sdx_build_update(const char *index_dir,
                              const sdx_clause_list_t *clauses,
                              const char *remove,
                              sdx_update_report_t *report,
                              char *err, size_t err_size);

#endif /* SDX_BUILD_H */
