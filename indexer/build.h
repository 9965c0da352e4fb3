/*
 * build: clause records -> a Xapian index, swapped in atomically.
 *
 * Layout of an index directory DIR:
 *   DIR/current        symlink to the index being served ("rev-000042")
 *   DIR/rev-NNNNNN/    one complete Xapian database per build
 *   DIR/.build-XXXXXX  a build in progress (removed on failure)
 * A build writes a fresh DIR/.build-*, commits it, renames it to the next
 * DIR/rev-*, then points DIR/current at it by rename(2) of a new symlink:
 * a reader of DIR/current sees the old index or the new one, never half
 * of one, and a crash at any point leaves the old one serving.
 */
#ifndef SDX_BUILD_H
#define SDX_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "parse.h"
#include "sdx_status.h"

/* What a build did, for the indexer's report. */
typedef struct sdx_build_report {
    size_t clauses;     /* documents written */
    uint64_t revision;  /* the new revision number (NNNNNN above) */
    double seconds;     /* wall time of the build */
    char path[4096];    /* the new DIR/rev-NNNNNN */
} sdx_build_report_t;

/*
 * Build CLAUSES into a new revision under INDEX_DIR (created if missing)
 * and make it current.  Older revisions but the previous one are removed.
 * Duplicate clause ids are an error (SDX_BAD_INPUT naming the id).
 * On failure the current index is untouched and ERR says why.
 */
sdx_status_t sdx_build_index(const char *index_dir,
                             const sdx_clause_list_t *clauses,
                             sdx_build_report_t *report,
                             char *err, size_t err_size);

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
 * Add CLAUSE's terms, values and data to the writer's current document
 * (the domain's mapping of a clause to Xapian; docs/ARCHITECTURE.md).
 */
struct sdx_writer;
sdx_status_t sdx_build_add_clause(struct sdx_writer *w,
                                  const sdx_clause_t *clause);

#endif /* SDX_BUILD_H */
