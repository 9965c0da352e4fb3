/*
 * build: clause records -> a Xapian index, swapped in atomically.
 *
 * Layout of an index directory DIR:
 *   DIR/current        symlink to the index being served ("rev-000042")
 *   DIR/rev-NNNNNN/    one complete Xapian database per build
 *   DIR/.build-XXXXXX  a build in progress, or one of its shards
 *                      (removed on failure)
 *   DIR/.current-tmp-PID  the new symlink, an instant before the swap
 *   DIR/.lock          held (fcntl lock) by the one build running
 * A build writes a fresh DIR/.build-*, commits it, renames it to the next
 * DIR/rev-*, then points DIR/current at it by rename(2) of a new symlink:
 * a reader of DIR/current sees the old index or the new one, never half
 * of one, and a crash at any point leaves the old one serving.  The next
 * build removes what a crashed one left (.build-*, .current-tmp-*, a
 * revision never made current).
 */
#ifndef SDX_BUILD_H
#define SDX_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "parse.h"
#include "sdx_status.h"

/*
 * Grouping of identical texts (search's `group`, context's merged
 * passages): clauses of one series and row whose text is the same carry
 * the same key, 16 hex digits of a 64-bit FNV-1a hash of (series slug,
 * row slug, text), as a value (Xapian collapses on it) and as a boolean
 * term (to find the levels sharing it).  Defined here, beside the other
 * slots of lib/sdx_clause.h, because only the indexer makes it.
 */
#define SDX_SLOT_GROUP   4    /* the group key, "9f3a..." */
#define SDX_PREFIX_GROUP "XG" /* + the group key */
#define SDX_GROUP_KEY_LEN 16  /* hex digits of a group key */

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
 * The database's metadata holds "specdex.revision" (NNNNNN),
 * "specdex.built_at" (ISO 8601 UTC) and "specdex.clauses" (a count).
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

/*
 * The group key of CLAUSE (see SDX_SLOT_GROUP) into OUT, NUL-terminated.
 */
void sdx_build_group_key(const sdx_clause_t *clause,
                         char out[SDX_GROUP_KEY_LEN + 1]);

/*
 * Resolve INDEX_DIR to the database being served: the real path of
 * INDEX_DIR/current, or INDEX_DIR itself when it is a Xapian database.
 * Readers open the resolved path, so a later swap of "current" never
 * changes the files under an open handle.  Returns SDX_UNAVAILABLE
 * (with ERR) when there is no index.
 */
sdx_status_t sdx_index_resolve(const char *index_dir, char *out,
                               size_t out_size, char *err, size_t err_size);

/*
 * Index CLAUSE as one document of W (begin_doc .. add_doc): its text as
 * free text (positions, stemming, spelling); boolean terms level, section,
 * row slug and its un-numbered base ("XRkey-resp" beside
 * "XRkey-resp-06"), job code (when set), series slug and group key;
 * values level, section, row slug, group key and the msgpack record
 * (SDX_SLOT_*), the record's only copy: no document data, no text slot;
 * "Q" + id as the unique term (docs/ARCHITECTURE.md, "Index layout").
 * Returns SDX_OK; SDX_BAD_INPUT when the level is outside 0..9, the
 * section unknown, or a label too long for a term; or the writer's
 * status (message in sdx_writer_errmsg).
 */
struct sdx_writer;
sdx_status_t sdx_build_add_clause(struct sdx_writer *w,
                                  const sdx_clause_t *clause);

#endif /* SDX_BUILD_H */
