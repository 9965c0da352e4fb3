/*
 * parse: job-standard files -> clause records (the indexer's input side).
 *
 * Three formats are read, each by a reader of its own (reader.h): the
 * flattened-table text of a job standard (read_text.c), a saved web
 * page of one (read_html.c) and JSON Lines of clause records
 * (read_jsonl.c).  The formats, and the rule that decides where the
 * cells of a flattened row end, are documented in docs/CORPUS.md.  The
 * synonym list (synonyms.txt) is read here too (synonyms.c).
 *
 * Errors name the file, the line and the row ("corpus/x.txt:17: row
 * \"Key Resp 03\": found 4 cells, expected 5"); every bad file of a
 * corpus is reported, and nothing is produced from a corpus that has
 * one: it is indexed whole or not at all.
 */
#ifndef SDX_PARSE_H
#define SDX_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "sdx_clause.h"
#include "sdx_status.h"

/*
 * The largest job-standard file read, in bytes (16 MiB): checked before
 * anything is allocated; a larger file is SDX_BAD_INPUT.
 */
#define SDX_PARSE_MAX_BYTES (16 * 1024 * 1024)

/* A growable list of clauses; owns them. */
typedef struct sdx_clause_list {
    sdx_clause_t **items; /* ITEMS[0..count) */
    size_t count;         /* clauses held */
    size_t cap;           /* slots allocated */
} sdx_clause_list_t;

/* An initialiser for an empty list. */
#define SDX_CLAUSE_LIST_INIT { NULL, 0, 0 }

/*
 * Append CLAUSE, taking ownership (*clause_p is set to NULL).  Returns
 * SDX_NOMEM (and leaves *clause_p with the caller) when growing fails.
 */
sdx_status_t sdx_clause_list_push(sdx_clause_list_t *list,
                                  sdx_clause_t **clause_p);

/* Free every clause and the array; the list is empty and reusable. */
void sdx_clause_list_clear(sdx_clause_list_t *list);

/*
 * What sdx_clause_dup_ids calls for each id held twice: FIRST < SECOND
 * are the places (indexes into the array given) of its first two
 * clauses.  Nonzero stops the scan.
 */
typedef int (*sdx_dup_fn)(void *arg, size_t first, size_t second);

/*
 * The one duplicate-id check (a file's JSON Lines, a corpus's files, a
 * build's list all call it, each saying it its own way): every id that
 * two or more of ITEMS[0..N) share, in byte order of the ids, once each,
 * to FN with ARG.  One sort of N (id, place) pairs: O(N log N), N
 * pointers and places of memory.  Returns 0 when the scan ran through,
 * FN's nonzero value when FN stopped it, -1 when out of memory (nothing
 * reported).
 */
int sdx_clause_dup_ids(sdx_clause_t *const *items, size_t n, sdx_dup_fn fn,
                       void *arg);

/* ---- a corpus: every file, each with what came of it ----------------- */

#define SDX_CORPUS_ERRORS_MAX 50 /* corpus-wide errors kept */

struct sdx_file_read;            /* one file's record (reader.h) */

/* What reading a corpus gave.  Owns everything. */
typedef struct sdx_corpus {
    struct sdx_file_read *files; /* every file found, in order */
    size_t nfiles;               /* files found */
    size_t files_cap;            /* slots in FILES */
    size_t nbad;                 /* files refused */
    char *errors[SDX_CORPUS_ERRORS_MAX]; /* not of one file: a path
                                            that cannot be read, a clause
                                            id in two files; owned */
    size_t nerrors;              /* ERRORS used */
    sdx_status_t st;             /* SDX_OK when the corpus can be indexed */
} sdx_corpus_t;

/*
 * Read each PATH: a file (by the reader its name ends for: *.txt text,
 * *.html and *.htm saved web pages, *.jsonl JSON Lines; any other name
 * as text), or a directory whose files of those kinds (sorted by name;
 * hidden files, subdirectories and synonyms.txt skipped) are read in
 * turn.  Every file is read, bad or not, each into its own record
 * (C->files[i], reader.h: clauses, cuts and notes).  When every file is
 * good, clause ids are checked to be unique over all of them.  Returns
 * C->st: SDX_OK, or the first file's or error's status (SDX_BAD_INPUT,
 * SDX_IO, SDX_NOMEM).  Free with sdx_corpus_clear, whatever it returns.
 */
sdx_status_t sdx_corpus_read(const char *const *paths, size_t npaths,
                             sdx_corpus_t *c);

/* Move every file's clauses, in order, to the end of OUT; SDX_NOMEM
 * (and nothing moved) when growing OUT fails. */
sdx_status_t sdx_corpus_take(sdx_corpus_t *c, sdx_clause_list_t *out);

/* Every error of C, one per line, into ERR (cut at ERR_SIZE). */
void sdx_corpus_errors(const sdx_corpus_t *c, char *err, size_t err_size);

/* Free everything C holds.  NULL-safe. */
void sdx_corpus_clear(sdx_corpus_t *c);

/* ---- the simple forms, all or nothing -------------------------------- */

/*
 * Read TEXT (LEN bytes) in one format as the file NAME (for messages)
 * and append its clauses to OUT: text (the job summary, level 0, first,
 * then one clause per non-empty cell, row by row, level by level), JSON
 * Lines (one clause per line, in line order), or a saved web page (as
 * text).  On error nothing is appended, ERR (ERR_SIZE bytes) holds the
 * first error, "NAME:LINE: row \"LABEL\": what is wrong", and the status
 * is SDX_BAD_INPUT (or SDX_NOMEM).
 */
sdx_status_t sdx_parse_text(const char *name, const char *text, size_t len,
                            sdx_clause_list_t *out, char *err,
                            size_t err_size);
sdx_status_t sdx_parse_jsonl(const char *name, const char *text, size_t len,
                             sdx_clause_list_t *out, char *err,
                             size_t err_size);
sdx_status_t sdx_parse_html(const char *name, const char *text, size_t len,
                            sdx_clause_list_t *out, char *err,
                            size_t err_size);

/*
 * sdx_corpus_read, then every clause into OUT when all is well.  On
 * error OUT is as it was, ERR holds every error, one per line, and the
 * status is the first one's.  *NFILES (when not NULL) is set to the
 * number of files read.
 */
sdx_status_t sdx_parse_paths(const char *const *paths, size_t npaths,
                             sdx_clause_list_t *out, size_t *nfiles,
                             char *err, size_t err_size);

/* ---- synonyms ------------------------------------------------------ */

#define SDX_SYNONYMS_FILE "synonyms.txt" /* its name in a corpus dir */
#define SDX_SYNONYM_MAX 100   /* bytes of one term */
#define SDX_SYNONYM_WORDS 8   /* words in one term */
#define SDX_SYNONYM_GROUP 32  /* terms in one group (line) */

/* One term of a synonym group. */
typedef struct sdx_synonym {
    char *text;     /* lower case, single spaces ("root cause analysis");
                       as written when EXACT ("IT") */
    bool exact;     /* written "=IT": a query word must match the case */
} sdx_synonym_t;

/* One line of synonyms.txt: terms that mean the same. */
typedef struct sdx_synonym_group {
    sdx_synonym_t terms[SDX_SYNONYM_GROUP]; /* owned */
    size_t n;                               /* terms used, >= 2 */
} sdx_synonym_group_t;

/* The synonym groups of a corpus; owns them. */
typedef struct sdx_synonyms {
    sdx_synonym_group_t *groups; /* GROUPS[0..count) */
    size_t count;                /* groups held */
} sdx_synonyms_t;

#define SDX_SYNONYMS_INIT { NULL, 0 }

/*
 * Read the synonym file PATH (docs/CORPUS.md, "Synonyms": one group per
 * line, terms separated by commas, '#' comments) and append its groups
 * to OUT.  On error OUT is unchanged and ERR holds "PATH:LINE: what";
 * the status is SDX_BAD_INPUT, SDX_IO or SDX_NOMEM.
 */
sdx_status_t sdx_parse_synonyms(const char *path, sdx_synonyms_t *out,
                                char *err, size_t err_size);

/* Free every group; OUT is empty and reusable.  NULL-safe. */
void sdx_synonyms_clear(sdx_synonyms_t *syn);

#endif /* SDX_PARSE_H */
