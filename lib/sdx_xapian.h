/*
 * sdx_xapian: a small C API over libxapian, the only door to it.
 *
 * In the style of notmuch's lib/notmuch.h: opaque handles, a status code
 * from every fallible call, objects handed back through trailing
 * out-params (set to NULL on failure), error messages copied out and
 * owned by the handle.  Every C++ exception is caught at this boundary
 * (std::bad_alloc and `...` included) and becomes a status.
 *
 * This header compiles as C17 and as C++, includes only standard C
 * headers, and names no C++ type.  It knows nothing of job standards:
 * prefixes, fields and what a clause is live above it, in C.
 *
 * Threads: a handle belongs to one thread at a time (Xapian objects are
 * not thread-safe); open one sdx_db_t per worker thread.
 */
#ifndef SDX_XAPIAN_H
#define SDX_XAPIAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sdx_status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sdx_writer sdx_writer_t;   /* a writable database (indexer) */
typedef struct sdx_db sdx_db_t;           /* a read-only database handle */
typedef struct sdx_results sdx_results_t; /* one page of search results */

/* ---------------------------------------------------------------- */
/* Writing (the indexer only)                                       */
/* ---------------------------------------------------------------- */

/*
 * Create a new, empty database at PATH (a directory that must not exist
 * yet or be empty) and open it for writing with English stemming.
 * On success *out is the writer, owned by the caller (sdx_writer_destroy).
 * On failure *out is NULL and, when ERRMSG is not NULL, *errmsg is a
 * malloc'd message for the caller to free.
 * Returns SDX_OK, SDX_UNAVAILABLE (cannot create or lock), SDX_XAPIAN,
 * SDX_NOMEM, SDX_INTERNAL.
 */
sdx_status_t sdx_writer_create(const char *path, sdx_writer_t **out,
                               char **errmsg);

/* Flags of sdx_writer_create_flags (bitwise or). */
#define SDX_WRITER_BULK    0x1u /* a one-shot build:
                                   sdx_writer_add_doc appends without
                                   looking for a document to replace
                                   (the caller guarantees unique terms),
                                   and spelling words are counted per
                                   document and written at commit (see
                                   sdx_writer_index_text) */
#define SDX_WRITER_NO_SYNC 0x2u /* commits do not fsync (Xapian's
                                   DB_NO_SYNC): for a scratch database
                                   that is compacted into the real one */

/*
 * sdx_writer_create with FLAGS (SDX_WRITER_*; 0 is sdx_writer_create).
 * Every database keeps its termlist table (each document's terms), so
 * that a later sdx_writer_open can delete and replace documents in it.
 */
sdx_status_t sdx_writer_create_flags(const char *path, unsigned flags,
                                     sdx_writer_t **out, char **errmsg);

/*
 * Open the existing database at PATH for an update: documents are
 * added with sdx_writer_add_doc (replacing one with the same unique
 * term) and removed with sdx_writer_delete_term; spelling words are
 * counted as a bulk writer counts them (sdx_writer_index_text), so the
 * spelling table ends as a build of the same documents writes it.
 * Everything is one transaction, written by sdx_writer_commit.
 * Returns as sdx_writer_create (SDX_UNAVAILABLE: no database at PATH,
 * it is locked, or it has no termlist table, which Xapian needs to
 * write it: *errmsg then says to build it once in full).
 */
sdx_status_t sdx_writer_open(const char *path, sdx_writer_t **out,
                             char **errmsg);

/*
 * Delete every document indexed by TERM, and take each one's words
 * out of the spelling table as many times as they were put in (its
 * unprefixed terms and their wdf, from the termlist), so the table
 * holds what a build without those documents holds.  *count is the
 * number deleted (0: none had TERM, not an error).  Returns SDX_OK;
 * SDX_UNAVAILABLE when the database has no termlist table (built
 * before it kept one: message in sdx_writer_errmsg); SDX_XAPIAN,
 * SDX_NOMEM, SDX_INTERNAL.
 */
sdx_status_t sdx_writer_delete_term(sdx_writer_t *w, const char *term,
                                    uint64_t *count);

/*
 * Documents of W indexed by TERM into *count ("" for every document),
 * with what was added or deleted since the last commit.  Returns
 * SDX_OK, SDX_XAPIAN, SDX_NOMEM, SDX_INTERNAL.
 */
sdx_status_t sdx_writer_term_count(sdx_writer_t *w, const char *term,
                                   uint64_t *count);

/*
 * Start a new document, discarding one begun and not added.  Calls below
 * up to sdx_writer_add_doc() describe it.
 */
sdx_status_t sdx_writer_begin_doc(sdx_writer_t *w);

/*
 * Index TEXT (UTF-8) into the current document with positions and
 * English stemming (Xapian::TermGenerator, STEM_SOME).  PREFIX ("" for
 * none) is put before every term; WDF_INC weights each occurrence (1 is
 * normal).  Successive calls continue the position count, with a gap
 * between them, so a phrase never spans two calls.  When SPELLING is
 * true the words also go into the spelling table.  A bulk writer
 * (SDX_WRITER_BULK) takes the spelling words from the document's
 * unprefixed terms when it is added, so there SPELLING needs PREFIX ""
 * and WDF_INC 1, and a document's unprefixed text is all with SPELLING
 * or all without; anything else is SDX_BAD_INPUT.
 */
sdx_status_t sdx_writer_index_text(sdx_writer_t *w, const char *text,
                                   const char *prefix, unsigned wdf_inc,
                                   bool spelling);

/* Add a boolean term (no positions, wdf 0), e.g. "XL3". */
sdx_status_t sdx_writer_add_term(sdx_writer_t *w, const char *term);

/* Set value slot SLOT of the current document to LEN bytes at VALUE. */
sdx_status_t sdx_writer_set_value(sdx_writer_t *w, unsigned slot,
                                  const void *value, size_t len);

/*
 * Add the current document, replacing any document indexed by
 * UNIQUE_TERM (which is also added to it as a boolean term).
 */
sdx_status_t sdx_writer_add_doc(sdx_writer_t *w, const char *unique_term);

/* Set database metadata KEY (non-empty) to VALUE. */
sdx_status_t sdx_writer_set_metadata(sdx_writer_t *w, const char *key,
                                     const char *value);

/*
 * Add a synonym: the query word or word sequence TERM also matches the
 * phrase SYNONYM.  TERM is written as the query matcher looks it up
 * (sdx_search_spec_t.synonyms): words separated by single spaces, in
 * lower case to match a query word in any case, or in capitals to match
 * only a word typed exactly so ("IT" but not "it").  SYNONYM is one or
 * more words (no '"').  Returns SDX_BAD_INPUT for an empty TERM or
 * SYNONYM or one holding '"'; else as other writer calls.
 */
sdx_status_t sdx_writer_add_synonym(sdx_writer_t *w, const char *term,
                                    const char *synonym);

/* Commit everything added so far to disk. */
sdx_status_t sdx_writer_commit(sdx_writer_t *w);

/*
 * Add the spelling tables of the N databases PATHS (their words, each
 * with its frequency summed over them) to W's, written at the next
 * commit: the spelling of a whole corpus for a database that holds none
 * of its documents (the meta shard of specdex-index --shards).
 * Returns SDX_OK, SDX_UNAVAILABLE (a path is not a database),
 * SDX_XAPIAN, SDX_NOMEM.
 */
sdx_status_t sdx_writer_add_spellings(sdx_writer_t *w,
                                      const char *const *paths, size_t n);

/*
 * The last error message of W, or "" when none.  Owned by W, valid until
 * the next call on W.
 */
const char *sdx_writer_errmsg(const sdx_writer_t *w);

/*
 * Close W without committing what was not committed (a crash-equivalent
 * abandon), and free it.  NULL-safe; sets *w_p to NULL; no failure mode.
 */
void sdx_writer_destroy(sdx_writer_t **w_p);

/*
 * Merge the N committed databases at PATHS, in that order, into a new
 * database at OUT (a directory that must not exist yet or be empty),
 * packed full (Xapian's Database::compact, Compactor::FULL).  Document
 * ids are renumbered by offset: the documents of PATHS[1] follow those
 * of PATHS[0], and so on, so shards holding consecutive runs of a list
 * merge into the ids one writer would have given.  Postings, positions,
 * values, spelling and synonym tables are merged; a metadata key set in
 * several databases keeps the first one's value.  The output is written
 * but not fsync'd file by file: the caller syncs it before relying on
 * it.  On failure OUT may hold a partial database (the caller removes
 * it) and *errmsg, when ERRMSG is not NULL, is a malloc'd message for
 * the caller to free.
 * Returns SDX_OK, SDX_BAD_INPUT (N is 0), SDX_UNAVAILABLE (a source
 * cannot be opened, OUT cannot be created), SDX_XAPIAN, SDX_NOMEM,
 * SDX_INTERNAL.
 */
sdx_status_t sdx_compact(const char *const *paths, size_t n,
                         const char *out, char **errmsg);

/*
 * Check the database at PATH end to end, as a copy received from another
 * machine must be before it is served: every table read through (each
 * document, term, posting and its positions, value stream, spelling,
 * synonym and metadata entry), so a file cut short fails with the block
 * it lost.  On failure *errmsg, when ERRMSG is not NULL, is a malloc'd
 * message the caller frees.  Returns SDX_OK, SDX_UNAVAILABLE (not a
 * database, or a table missing), SDX_XAPIAN (a table cut short or
 * damaged), SDX_NOMEM, SDX_INTERNAL.
 */
sdx_status_t sdx_db_check(const char *path, char **errmsg);

/* ---------------------------------------------------------------- */
/* Reading                                                          */
/* ---------------------------------------------------------------- */

/*
 * Open the database at PATH (a database directory, a stub file, or a
 * symlink to either) read-only.  On success *out is the handle (caller
 * owns; sdx_db_destroy).  On failure *out is NULL and *errmsg (when
 * ERRMSG is not NULL) is a malloc'd message the caller frees.
 * Returns SDX_OK, SDX_UNAVAILABLE (missing, not a database, locked
 * out), SDX_XAPIAN, SDX_NOMEM, SDX_INTERNAL.
 */
sdx_status_t sdx_db_open(const char *path, sdx_db_t **out, char **errmsg);

/* Shards of one index at most (sdx_db_open_shards). */
#define SDX_DB_SHARDS_MAX 16
/* A remote shard: each exchange, and connecting, at most (ms). */
#define SDX_DB_REMOTE_TIMEOUT_MS 10000
#define SDX_DB_REMOTE_CONNECT_MS 2000

/*
 * Open the N shards SPECS as one database (Xapian's add_database: the
 * statistics of all combined, so ranking is that of one index of all
 * their documents).  A spec is a database path, or tcp://HOST:PORT for a
 * shard served by xapian-tcpsrv (Xapian's remote backend).  With N > 1:
 * every shard must carry the same specdex.revision (one build); ties in
 * score go in the order of the value ORDER_SLOT (the documents' order in
 * one index; -1: document ids); spelling, synonyms and metadata come
 * from the shard whose specdex.shard metadata is "meta" (which must be
 * local), else, when every shard is local, from all of them; remote
 * shards without a local meta shard are refused, since Xapian's remote
 * backend serves no spelling and no synonyms and they would be silently
 * missing.  Errors as sdx_db_open (SDX_BAD_INPUT for N out of 1..
 * SDX_DB_SHARDS_MAX; SDX_XAPIAN for a mix of builds, a remote meta
 * shard, a malformed spec; SDX_UNAVAILABLE for a shard that cannot be
 * opened or reached).
 */
sdx_status_t sdx_db_open_shards(const char *const *specs, size_t n,
                                int order_slot, sdx_db_t **out,
                                char **errmsg);

/*
 * True once a call on DB failed because a remote shard did not answer
 * (the call returned SDX_UNAVAILABLE, its message naming the shards not
 * answering): Xapian's remote handle does not reconnect, so the caller
 * opens a new handle, which reconnects when the shard is back.
 */
bool sdx_db_broken(const sdx_db_t *db);

/* Number of documents. */
sdx_status_t sdx_db_doc_count(sdx_db_t *db, uint64_t *count);

/*
 * Number of documents with a value in SLOT (Xapian's get_value_freq:
 * the slot's statistics, no document is read).
 */
sdx_status_t sdx_db_value_count(sdx_db_t *db, unsigned slot,
                                uint64_t *count);

/* Xapian's revision number of the open database (of shards: the meta
 * shard's, else 0). */
sdx_status_t sdx_db_revision(sdx_db_t *db, uint64_t *revision);

/*
 * Value of metadata KEY into *value (malloc'd, caller frees; "" when
 * unset).
 */
sdx_status_t sdx_db_get_metadata(sdx_db_t *db, const char *key,
                                 char **value);

/*
 * Data of the document indexed by TERM (e.g. "Q5366/ksa-01") into
 * *data and *len (malloc'd, caller frees): the value in slot DATA_SLOT
 * (stored as it is; sdx_search_spec_t.data_slot), *len 0 when the
 * document has none.  Returns SDX_NOT_FOUND (with *data NULL) when no
 * document has that term.
 */
sdx_status_t sdx_db_get_data_by_term(sdx_db_t *db, const char *term,
                                     unsigned data_slot, void **data,
                                     size_t *len);

/*
 * Rewrite a boolean field's value as typed (IN, UTF-8) into the term
 * value (OUT, OUT_SIZE bytes, NUL-terminated): e.g. "Key Resp 06" ->
 * "key-resp-06".  Returns the length written, or a value <= 0 when IN
 * has no usable value (the query is then SDX_BAD_QUERY) or does not fit.
 * sdx_slug() has this shape.
 */
typedef int (*sdx_normalise_fn)(const char *in, char *out, size_t out_size);

/* A query-language field: `level:3` becomes the term PREFIX + "3". */
typedef struct sdx_field {
    const char *name;    /* field name in queries, e.g. "level" */
    const char *prefix;  /* term prefix, e.g. "XL" */
    bool boolean;        /* true: a filter (add_boolean_prefix);
                            false: free text (add_prefix) */
    sdx_normalise_fn normalise; /* boolean fields: applied to the value
                                   (quoted or not) before PREFIX is put
                                   in front; NULL: the value as typed */
} sdx_field_t;

/*
 * A filter: a document matches when it has ANY of TERMS, or with
 * EXCLUDE when it has NONE of them.  Excluding the few values of a
 * field a caller does not want (levels 0 and 6..9) is the same filter
 * as including the many it does (levels 1..5) when every document has
 * one value, and far cheaper: the matcher merges the short posting
 * lists of the excluded terms instead of the long ones of the others.
 */
typedef struct sdx_filter {
    const char *const *terms; /* full terms, prefix included */
    size_t nterms;            /* number of TERMS; 0 means no filter */
    bool exclude;             /* match documents with none of TERMS */
} sdx_filter_t;

/*
 * Find the plain text of a hit inside its data DATA (LEN bytes): *text
 * points into DATA, *text_len its bytes; false when it is not there.
 * sdx_clause_text has this shape.
 */
typedef bool (*sdx_text_fn)(const void *data, size_t len, const char **text,
                            size_t *text_len);

/* Everything one search needs.  Zero values mean "the default". */
typedef struct sdx_search_spec {
    const char *query;          /* query string, Xapian syntax, UTF-8 */
    const sdx_field_t *fields;  /* query-language fields */
    size_t nfields;             /* number of FIELDS */
    const sdx_filter_t *filters; /* ANDed together and with the query */
    size_t nfilters;            /* number of FILTERS */
    unsigned offset;            /* first hit to return, 0-based */
    unsigned limit;             /* hits to return at most; 0: 10 */
    unsigned check_at_least;    /* Enquire check_at_least; 0: limit only */
    unsigned max_expansion;     /* wildcard expansion cap (terms); 0: 100 */
    double time_limit_s;        /* Enquire time limit in s; 0: none (nor
                                   on a database of under 10,000
                                   documents, matched in far less) */
    unsigned data_slot;         /* value slot of each hit's data
                                   (sdx_hit_t.data; values are stored
                                   uncompressed, document data is not
                                   read); 0 is a slot, no default */
    bool snippets;              /* build a snippet for each hit */
    sdx_text_fn snippet_text;   /* finds the text to cut a snippet from
                                   in the hit's data, already read (no
                                   copy, no other lookup); no snippet
                                   text when it fails; NULL: the data
                                   is the text */
    const char *hl_open;        /* marker before a match; NULL/"": <b> */
    const char *hl_close;       /* marker after a match; NULL/"": </b> */
    unsigned snippet_chars;     /* snippet length in bytes; 0: 200 */
    unsigned max_terms;         /* terms in the parsed query, synonyms
                                   included; more is SDX_BAD_QUERY;
                                   0: 100 */
    bool synonyms;              /* expand query words found in the
                                   synonym table (see sdx_db_search) */
    bool correct;               /* when nothing matches, put a spelling
                                   correction in sdx_results_corrected */
    bool keys;                  /* return each hit's KEY_SLOT value */
    unsigned key_slot;          /* value slot of sdx_hit_t.key (read
                                   only when KEYS or COLLAPSE) */
    bool collapse;              /* at most one hit per distinct value in
                                   KEY_SLOT (the best; Xapian's collapse
                                   key); implies KEYS */
    unsigned collapse_scan;     /* with COLLAPSE, 0: Xapian's collapse;
                                   N > 0: the first N matches in rank
                                   order, uncollapsed, each key's first
                                   kept (the same hits for the keys met
                                   there); see sdx_results_scan_cut */
    const unsigned *facet_slots; /* value slots to count over the matches
                                   (ValueCountMatchSpy) */
    size_t nfacets;             /* number of FACET_SLOTS */
} sdx_search_spec_t;

/*
 * Run a search.  The query is parsed with English stemming (STEM_SOME),
 * default operator OR, flags for boolean operators (AND OR NOT XOR NEAR
 * ADJ in capitals only: a lower-case "and" is a word, so a question in
 * plain English parses), phrases, trailing wildcards (each expanded to
 * its MAX_EXPANSION most frequent terms), love/hate and pure NOT; a
 * small English stop list ("the", "of", "and", ...) drops those words
 * outside phrases.  A NULL or blank query matches all documents.
 * Filters restrict without changing scores.  Hits of equal score come in
 * ascending document order, so pages are stable.
 * With SYNONYMS, a query word or run of words (outside quotes, not a
 * field value, wildcard, +/- term or NEAR/ADJ operand) that is a key of
 * the synonym table becomes a group: `rca` -> `(rca OR "root cause
 * analysis")`, `root cause analysis` -> `(root cause analysis OR "root
 * cause analysis" OR rca)` (variants that tokenise alike, "end-user"
 * and "end user", once);
 * a synonym of several words is a phrase (Xapian's own expansion would
 * look a multi-word synonym up as one term and match nothing), a single
 * word stays bare (stemmed) unless it is a stop word ("IT").  The longest
 * key wins; a key in capitals matches only as typed, others in any case.
 * Cost bounds: MAX_TERMS, MAX_EXPANSION, CHECK_AT_LEAST and the time
 * limit; when the time limit was reached sdx_results_partial is true.
 * Facets count the values of FACET_SLOTS over the documents the match
 * looked at; they are exact (sdx_results_facets_exact) only when it
 * looked at every match, so ask with CHECK_AT_LEAST >= the collection.
 * Snippets are cut by the shim's highlighter from the text SNIPPET_TEXT
 * finds in each hit's data, with the same stemmer, HTML-escaped,
 * matches between HL_OPEN and HL_CLOSE, and an ellipsis (U+2026) where
 * text was left out.
 * A DatabaseModifiedError during the search reopens the handle and tries
 * the whole search once more.
 * On success *out holds the page (caller owns; sdx_results_destroy).
 * Returns SDX_OK, SDX_BAD_QUERY (message in sdx_db_errmsg: Xapian's
 * parser text or "too many terms", never the query), SDX_MODIFIED
 * (still changing after the retry), SDX_XAPIAN, SDX_NOMEM, SDX_INTERNAL.
 */
sdx_status_t sdx_db_search(sdx_db_t *db, const sdx_search_spec_t *spec,
                           sdx_results_t **out);

/*
 * Spelling correction of SPEC->query from the database's spelling table:
 * each word the index does not hold (field names and values, wildcards,
 * operators, numbers, stop words and synonym keys left alone) replaced
 * by the most frequent indexed word within two edits, everything else
 * kept as typed.  *out is the corrected query (malloc'd, caller frees),
 * or NULL when there is no correction (every word known, or none close
 * enough).  Returns as sdx_db_search.
 */
sdx_status_t sdx_db_suggest(sdx_db_t *db, const sdx_search_spec_t *spec,
                            char **out);

/*
 * The terms of DB beginning with PREFIX, PREFIX cut off, in ascending
 * byte order, at most MAX of them: *out is a malloc'd block (caller
 * frees) of *count NUL-terminated strings one after another, *len bytes
 * in all; *out NULL and *count 0 when there are none.  For the few
 * boolean terms of a kind a caller lists once per handle (the daemon's
 * series slugs), not for free-text terms.  *more is true when MAX cut
 * the list short.
 * Returns SDX_OK, SDX_XAPIAN, SDX_NOMEM, SDX_INTERNAL.
 */
sdx_status_t sdx_db_terms(sdx_db_t *db, const char *prefix, size_t max,
                          char **out, size_t *len, size_t *count,
                          bool *more);

/*
 * The number of documents of DB indexed by TERM into *count (0 when
 * none): Xapian's term frequency, kept by the index, so no posting is
 * read.  Returns SDX_OK, SDX_XAPIAN, SDX_NOMEM, SDX_INTERNAL.
 */
sdx_status_t sdx_db_term_count(sdx_db_t *db, const char *term,
                               uint64_t *count);

/*
 * Break ties between equal scores on value slot SLOT (ascending bytes;
 * Xapian's sort by relevance, then value) instead of by document id, in
 * every search on DB from now on; -1: by document id again (as opened).
 * It costs a value read per candidate hit (docs/ARCHITECTURE.md, "Index
 * layout").  No failure mode.
 */
void sdx_db_set_tie_slot(sdx_db_t *db, int slot);

/* Frees what a caller keeps with a handle (sdx_db_set_user). */
typedef void (*sdx_user_free_fn)(void *data);

/*
 * Keep DATA with DB on behalf of the layer above: what it derives from
 * the index once per handle (the daemon's table of series names), freed
 * with the handle.  FREE_FN (may be NULL) frees DATA when DB is
 * destroyed or another sdx_db_set_user replaces it.  The shim never
 * looks inside DATA and never frees it on a reopen (a caller may be
 * holding it): a caller whose DATA depends on the revision checks
 * sdx_db_revision itself.  No failure mode.
 */
void sdx_db_set_user(sdx_db_t *db, void *data, sdx_user_free_fn free_fn);

/* What sdx_db_set_user kept with DB, or NULL. */
void *sdx_db_user(const sdx_db_t *db);

/*
 * For bench/specdex-inproc only: with ON, snippets on DB are cut by
 * Xapian's MSet::snippet with its default flags instead of the shim's
 * highlighter (from the same text): the naive figure `make bench`
 * measures the highlighter against.  Off when opened; no failure mode.
 */
void sdx_db_set_xapian_snippets(sdx_db_t *db, bool on);

/*
 * Reopen DB at the latest revision of the same path.  (A swapped stub or
 * symlink is NOT followed by this: open a new handle for that.)
 */
sdx_status_t sdx_db_reopen(sdx_db_t *db);

/*
 * Last error message of DB, or "".  Owned by DB, valid until the next
 * call on it.  Never contains query text.
 */
const char *sdx_db_errmsg(const sdx_db_t *db);

/* Close and free DB.  NULL-safe; sets *db_p to NULL; no failure mode. */
void sdx_db_destroy(sdx_db_t **db_p);

/* Number of hits in this page (0..limit). */
size_t sdx_results_count(const sdx_results_t *r);

/* Xapian's estimate of all matches (get_matches_estimated); with
   COLLAPSE_SCAN, of all matches before collapsing. */
uint64_t sdx_results_estimate(const sdx_results_t *r);

/* One hit of a page; every pointer is owned by the results object. */
typedef struct sdx_hit {
    const void *data;     /* the value in SPEC.data_slot */
    size_t data_len;      /* bytes of DATA */
    double score;         /* BM25 weight */
    int percent;          /* Xapian's percentage, 0..100 */
    const char *snippet;  /* HTML-escaped snippet, "" when not asked */
    const char *key;      /* value in KEY_SLOT; "" when not asked */
    size_t key_len;       /* bytes of KEY */
    uint64_t collapsed;   /* with COLLAPSE: other matches with this KEY
                             that were left out (a lower bound) */
} sdx_hit_t;

/*
 * Fill *hit with hit I (0-based, < sdx_results_count).  The pointers stay
 * valid until sdx_results_destroy(R).
 */
void sdx_results_hit(const sdx_results_t *r, size_t i, sdx_hit_t *hit);

/*
 * True when the time limit cut the match short: the estimate, the
 * facets and the hits beyond the first may be incomplete.
 */
bool sdx_results_partial(const sdx_results_t *r);

/*
 * With SPEC.collapse_scan: true when fewer than SPEC.limit hits were
 * kept and the scan stopped at COLLAPSE_SCAN matches with more left, so
 * a key without a hit may still have matches; none weighs more than
 * *floor, the weight of the last match scanned.  False otherwise (the
 * hits are Xapian's collapse's), *floor 0.
 */
bool sdx_results_scan_cut(const sdx_results_t *r, double *floor);

/*
 * With SPEC.correct and no match: the spelling-corrected query, else "".
 * Owned by R.
 */
const char *sdx_results_corrected(const sdx_results_t *r);

/* True when the facet counts cover every match (see sdx_db_search). */
bool sdx_results_facets_exact(const sdx_results_t *r);

/* Distinct values counted for facet I (index into SPEC.facet_slots). */
size_t sdx_results_facet_size(const sdx_results_t *r, size_t i);

/*
 * Value J (0-based, ascending byte order) of facet I and the number of
 * documents holding it.  *value (LEN bytes, not NUL-safe) is owned by R.
 */
void sdx_results_facet(const sdx_results_t *r, size_t i, size_t j,
                       const char **value, size_t *len, uint64_t *count);

/* Free R.  NULL-safe; sets *r_p to NULL. */
void sdx_results_destroy(sdx_results_t **r_p);

#ifdef __cplusplus
}
#endif

#endif /* SDX_XAPIAN_H */
