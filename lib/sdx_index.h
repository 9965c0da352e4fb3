/*
 * sdx_index: the index's shape, in one place.
 *
 * What a clause becomes in Xapian (its terms, values and record), what
 * a request's filters become (terms the shim filters on), the query
 * language's fields, the metadata a build writes, and where the index
 * being served is (DIR/current).  The indexer writes through it, the
 * daemon reads through it; the shim below (sdx_xapian.h) knows none of
 * it, and the clause record (sdx_clause.h) only its own fields.  A new
 * filter is added here (its prefix, its term at index time, its terms
 * from a request) and in the protocol (its request key, sdx_proto).
 *
 * Layout of an index directory DIR (indexer/build.c writes it):
 *   DIR/current        symlink to the index being served ("rev-000042")
 *   DIR/rev-NNNNNN/    one complete Xapian database per build
 *   DIR/.build-XXXXXX  a build in progress, or one of its shards
 *   DIR/.current-tmp-PID  the new symlink, an instant before the swap
 *   DIR/.lock          held (fcntl lock) by the one build running
 * Readers resolve DIR/current (sdx_index_resolve) and open the revision
 * it names; a bare Xapian database directory is served as it is.
 */
#ifndef SDX_INDEX_H
#define SDX_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sdx_clause.h"
#include "sdx_proto.h"
#include "sdx_status.h"
#include "sdx_xapian.h"

/* ---------------------------------------------------------------- */
/* Terms, values and metadata                                       */
/* ---------------------------------------------------------------- */

/*
 * Term prefixes.  Boolean filter terms are prefix + value: "XL3",
 * "XSksa", "XRkey-resp-06" (and its un-numbered base "XRkey-resp"),
 * "XC5366", "XTclinical-applications-professional-1-5-hx", "XG" + the
 * group key.  The unique id term is "Q" + id, so re-indexing a clause
 * replaces it.
 */
#define SDX_PREFIX_ID      "Q"
#define SDX_PREFIX_LEVEL   "XL"
#define SDX_PREFIX_SECTION "XS"
#define SDX_PREFIX_ROW     "XR"
#define SDX_PREFIX_CODE    "XC"
#define SDX_PREFIX_SERIES  "XT"
#define SDX_PREFIX_GROUP   "XG"

/* Value slots. */
#define SDX_SLOT_LEVEL   0 /* level as a one-digit string "0".."9" */
#define SDX_SLOT_SECTION 1 /* section kind, e.g. "ksa" */
#define SDX_SLOT_ROW     2 /* row slug, e.g. "key-resp-06" */
#define SDX_SLOT_TEXT    3 /* retired: the clause text, before the
                              record held it; neither written nor read
                              (sdx_index_open refuses such an index),
                              not to be reused */
#define SDX_SLOT_GROUP   4 /* the group key, "9f3a..." (see below) */
/*
 * The clause record, as a value and nowhere else: glass zlib-compresses
 * document data, and inflating it was a third of the daemon's
 * instructions per search (callgrind, bundled corpus), compressing it an
 * eighth of the build's time; values are stored as they are.  Searches
 * and `get` read a hit's record from here and nowhere else: an index
 * built before this slot existed is refused (sdx_index_open).
 */
#define SDX_SLOT_RECORD  5 /* the packed clause record */
#define SDX_SLOT_SERIES  6 /* series slug, for facets by series */
/*
 * Where the clause stands in the corpus: its series as the record
 * writes it, a NUL, and its place among that series' clauses (8
 * digits).  A build writes the clauses in this order, so document order
 * is this order and Xapian's tie-break (ascending document id) follows
 * it; an update appends the series it replaces, so an updated index
 * breaks ties on this slot instead (SDX_META_TIES), and ranks as a
 * build of the same corpus does.
 */
#define SDX_SLOT_ORDER   7
#define SDX_ORDER_PLACE_DIGITS 8 /* digits of the place in the series */

/*
 * Grouping of identical texts (search's `group`, context's merged
 * passages): clauses of one series and row whose text is the same carry
 * the same key, 16 hex digits of a 64-bit FNV-1a hash of (series slug,
 * row slug, text), as a value (Xapian collapses on it) and as a boolean
 * term (to find the levels sharing it).
 */
#define SDX_GROUP_KEY_LEN 16  /* hex digits of a group key */

/* Metadata a build writes. */
#define SDX_META_REVISION "specdex.revision" /* NNNNNN of rev-NNNNNN */
#define SDX_META_BUILT_AT "specdex.built_at" /* ISO 8601 UTC */
#define SDX_META_CLAUSES  "specdex.clauses"  /* clauses indexed */
#define SDX_META_SHARD    "specdex.shard"    /* specdex-index --shards:
                                                "meta" (no documents; the
                                                spelling and synonyms of
                                                all), or "K/N" */
#define SDX_META_TIES     "specdex.ties"     /* "order" after an update:
                                                equal scores are ordered
                                                by SDX_SLOT_ORDER, not by
                                                document id */

/* A prefixed term, bytes with its NUL, at most. */
#define SDX_INDEX_TERM_MAX (SDX_PROTO_STR_MAX + 8)

/* ---------------------------------------------------------------- */
/* Writing: a clause as a document                                  */
/* ---------------------------------------------------------------- */

/* The group key of CLAUSE (see SDX_SLOT_GROUP) into OUT, NUL-terminated. */
void sdx_index_group_key(const sdx_clause_t *clause,
                         char out[SDX_GROUP_KEY_LEN + 1]);

/*
 * Index CLAUSE as one document of W (begin_doc .. add_doc): its text as
 * free text (positions, stemming, spelling); boolean terms level, section,
 * row slug and its un-numbered base ("XRkey-resp" beside
 * "XRkey-resp-06"), job code (when set), series slug and group key;
 * values level, section, row slug, group key, series slug, the order
 * key (its series and PLACE, its 0-based place among its series'
 * clauses in corpus order) and the msgpack record (SDX_SLOT_*), the
 * record's only copy: no document data, no text slot; "Q" + id as the
 * unique term (docs/ARCHITECTURE.md, "Index layout").
 * Returns SDX_OK; SDX_BAD_INPUT when the level is outside 0..9, the
 * section unknown, or a label too long for a term; or the writer's
 * status (message in sdx_writer_errmsg).
 */
sdx_status_t sdx_index_add_clause(sdx_writer_t *w, const sdx_clause_t *clause,
                                  size_t place);

/*
 * Sort LIST's clauses, in place, into the order an index holds them:
 * by series (the record's text, bytewise), and in each series as they
 * came; PLACES[i] (LIST's count entries, the caller's) is then the
 * place of clause i in its series.  A build and an update write their
 * clauses in this order, so that the order key is document order.
 * Returns SDX_OK or SDX_NOMEM (LIST unchanged).
 */
sdx_status_t sdx_index_order(sdx_clause_t **items, size_t count,
                             size_t *places);


/* ---------------------------------------------------------------- */
/* Reading: fields, filters, the record                             */
/* ---------------------------------------------------------------- */

/* The query language's fields (level:, section:, row:, code:), all
   boolean filters on the terms above. */
extern const sdx_field_t sdx_index_fields[];
extern const size_t sdx_index_nfields;

#define SDX_INDEX_FILTERS_MAX 8 /* filters of one search */

/* Filters as terms for the shim; each filter's terms are owned here. */
typedef struct sdx_index_filters {
    char **terms[SDX_INDEX_FILTERS_MAX];   /* "XL3", "XSksa", ...; malloc'd */
    sdx_filter_t f[SDX_INDEX_FILTERS_MAX]; /* views of TERMS for the shim */
    size_t n;                              /* filters in use */
} sdx_index_filters_t;

/* Free every filter; FS is empty again (a zeroed FS is empty too). */
void sdx_index_filters_free(sdx_index_filters_t *fs);

/*
 * Add one filter of N terms PREFIX + VALUES[i] (slugged when SLUG; KEY
 * names the request key in an error).  N == 0 adds nothing.  Returns
 * SDX_E_NONE; SDX_E_BAD_REQUEST when a slugged value has no letter or
 * digit; SDX_E_INTERNAL (too many filters, out of memory).
 */
sdx_errcode_t sdx_index_filter_add(sdx_index_filters_t *fs,
                                   const char *prefix,
                                   const char *const *values, size_t n,
                                   bool slug, const char *key,
                                   sdx_proto_error_t *err);

/* Remove the last filter added (nothing when there is none). */
void sdx_index_filter_pop(sdx_index_filters_t *fs);

/*
 * The request's filters (levels, sections, rows, codes, series) as
 * filters, in that order; a key not given adds none.  The series is
 * found in DB (sdx_index_series_slug).  Returns as
 * sdx_index_filter_add, and as sdx_index_series_slug.
 */
sdx_errcode_t sdx_index_filters_from_request(sdx_db_t *db,
                                             sdx_index_filters_t *fs,
                                             const sdx_request_t *req,
                                             sdx_proto_error_t *err);

/*
 * The slug of the series NAME names in DB, into OUT (OUT_SIZE bytes):
 * NAME is the series' title in any case and spacing ("Payroll Systems
 * Analyst 1-5", payroll-systems-analyst-1-5) or the job code of any of
 * its levels ("5366").  Returns SDX_E_NONE; SDX_E_BAD_REQUEST naming
 * NAME when DB holds no such series or code ("series: no series
 * \"X\" in the index (specdex series lists them)"); SDX_E_INTERNAL
 * when the index fails or holds a malformed record (logged by the
 * caller through sdx_db_errmsg).
 */
sdx_errcode_t sdx_index_series_slug(sdx_db_t *db, const char *name,
                                    char *out, size_t out_size,
                                    sdx_proto_error_t *err);

/*
 * A search spec on this index's shape, every other member zero: Q
 * (NULL: all documents), the query fields, FS's filters (FS NULL: none)
 * and where a hit's record and snippet text are (SDX_SLOT_RECORD,
 * sdx_clause_text).  The caller adds limits and what it wants.
 */
void sdx_index_spec_init(sdx_search_spec_t *spec, const char *q,
                         const sdx_index_filters_t *fs);

/* Cost bounds of one search (design.md: Enquire's time limit alone only
   stops checking more matches). */
#define SDX_SEARCH_CHECK_AT_LEAST 200 /* documents checked at least, for a
                                         sound `total` on small pages */
#define SDX_SEARCH_MAX_EXPANSION 200  /* terms one trailing wildcard
                                         becomes */
#define SDX_SEARCH_TIME_LIMIT_S 0.5   /* seconds spent checking matches,
                                         per search of an op */
#define SDX_SEARCH_SNIPPET_CHARS 240  /* snippet length, bytes */
#define SDX_SEARCH_MAX_TERMS 100      /* terms of a parsed query, synonyms
                                         included */
#define SDX_SEARCH_LADDER_SCAN 40     /* matches a ladder reads for the
                                         levels' best hits (collapse_scan);
                                         on 300k bench clauses every level
                                         had its best within 22 */

/*
 * The search the daemon's ops run: sdx_index_spec_init's, with the
 * contract's default page (SDX_PROTO_LIMIT_DEFAULT), the bounds above
 * and synonyms expanded.  One home, so that the benchmark's in-process
 * floor (bench/specdex-inproc.c) searches what the daemon searches.
 */
void sdx_index_search_init(sdx_search_spec_t *spec, const char *q,
                           const sdx_index_filters_t *fs);

/*
 * The record of the clause with id ID into *data and *len (malloc'd,
 * caller frees).  Returns SDX_NOT_FOUND (*data NULL) when the index
 * has no such clause, or the shim's status.
 */
sdx_status_t sdx_index_get_record(sdx_db_t *db, const char *id,
                                  void **data, size_t *len);

/*
 * The revision number the indexer wrote into DB (SDX_META_REVISION)
 * into *rev.  Returns SDX_OK; SDX_NOT_FOUND (*rev 0) when it wrote none
 * or it is not a number; or the shim's status.
 */
sdx_status_t sdx_index_revision(sdx_db_t *db, uint64_t *rev);

/* ---------------------------------------------------------------- */
/* The index directory                                              */
/* ---------------------------------------------------------------- */

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
 * Open the database at PATH (as resolved by sdx_index_resolve) to serve
 * it: sdx_db_open, and the layout check.  Every document of an index
 * holds its record in SDX_SLOT_RECORD; one built before that slot
 * existed (the record in the document data, the text in slot 3) is
 * refused here rather than served through fallbacks: SDX_UNAVAILABLE,
 * (An updated index, SDX_META_TIES "order", gets its tie-break slot
 * here: sdx_db_set_tie_slot on SDX_SLOT_ORDER.)
 * *errmsg "index at PATH was built by an older specdex-index (no record
 * slot): rebuild it with specdex-index -o DIR CORPUS" (DIR the index
 * directory when PATH is one of its revisions).  The check compares two
 * counts Xapian keeps (documents, and documents with the slot), so it
 * reads no document and needs no metadata.  On success *out is the
 * handle (the caller's; sdx_db_destroy); on failure *out is NULL and
 * *errmsg (when ERRMSG is not NULL) a malloc'd message naming PATH
 * ("cannot open PATH: " and the shim's message, or the one above) that
 * the caller frees and need not prefix.  Returns as sdx_db_open.
 */
sdx_status_t sdx_index_open(const char *path, sdx_db_t **out, char **errmsg);

/*
 * sdx_index_open for an index of N shards SPECS (paths resolved by
 * sdx_index_resolve, or tcp://HOST:PORT of xapian-tcpsrv; with N > 1 the
 * meta shard among them: sdx_db_open_shards).  Shards must carry
 * SDX_SLOT_ORDER on every document, else SDX_UNAVAILABLE with a message
 * saying to rebuild them with --shards.  Messages name SPECS[0].
 */
sdx_status_t sdx_index_open_shards(const char *const *specs, size_t n,
                                   sdx_db_t **out, char **errmsg);

/*
 * MSG (a message of sdx_index_resolve, sdx_index_open or the shim, which
 * name paths for the operator's log) as a client may see it: every
 * absolute path in it becomes "revision N" when it names DIR/rev-NNNNNN
 * (or "revision N (FILE)" for a file inside one), else "DIR".  Clients
 * learn what is wrong, never where the index lives.  Written to OUT
 * (SIZE bytes, always terminated, cut when short).
 */
void sdx_index_public_msg(const char *msg, char *out, size_t size);

#endif /* SDX_INDEX_H */
