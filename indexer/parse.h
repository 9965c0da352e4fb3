/*
 * parse: job-standard files -> clause records.
 *
 * Two inputs are read: the flattened-table text of a job standard (a web
 * page's table copied to lines: each row a label glued to one cell per
 * level, parse.c), and JSON Lines of clause records (*.jsonl, one JSON
 * object per line, jsonl.c), for organisations whose standards come
 * from elsewhere.  Both formats, and the rule that decides which
 * sentence boundary is a cell boundary, are documented in
 * docs/CORPUS.md.  The synonym list (synonyms.txt) is read here too.
 *
 * Errors name the file, the line and the row ("corpus/x.txt:17: row
 * \"Key Resp 03\": found 4 cells, expected 5"), and nothing is produced
 * from a file that has one: a corpus is indexed whole or not at all.
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
 * Parse TEXT (LEN bytes, UTF-8) of a job standard in the flattened-table
 * format and append its clauses to OUT: the job summary (level 0) first,
 * then one clause per non-empty cell, row by row, level by level.
 * NAME is used in error messages (normally the file's path).
 * On error nothing is appended, ERR (ERR_SIZE bytes) holds
 * "NAME:LINE: row \"LABEL\": what is wrong", and the status is
 * SDX_BAD_INPUT (or SDX_NOMEM).
 */
sdx_status_t sdx_parse_text(const char *name, const char *text, size_t len,
                            sdx_clause_list_t *out, char *err,
                            size_t err_size);

/*
 * Parse TEXT (LEN bytes) as JSON Lines of clause records (docs/CORPUS.md,
 * "JSON Lines"): one flat JSON object per line with keys id, series,
 * level, row, section and text (required) and job_code, title, flsa,
 * item (optional); blank lines are skipped.  Appends the clauses in line
 * order.  On error nothing is appended and ERR holds "NAME:LINE: what"
 * (a bad key, a bad value, a duplicate id naming the first line); the
 * status is SDX_BAD_INPUT or SDX_NOMEM.
 */
sdx_status_t sdx_parse_jsonl(const char *name, const char *text, size_t len,
                             sdx_clause_list_t *out, char *err,
                             size_t err_size);

/*
 * Parse each PATH: a file (*.jsonl as JSON Lines, anything else as a
 * flattened-table text), or a directory whose *.txt and *.jsonl files
 * (sorted by name; hidden files and synonyms.txt skipped) are parsed in
 * turn.  Clause ids must be unique over all the files: a duplicate is an
 * error naming both files.  On the first error OUT is left as it was
 * before the call, ERR says what and where, and the status is
 * SDX_BAD_INPUT, SDX_IO or SDX_NOMEM.  *NFILES (when not NULL) is set to
 * the number of files parsed.
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
