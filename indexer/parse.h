/*
 * parse: job-standard files -> clause records.
 *
 * Two inputs are read: the flattened-table text of a job standard (a web
 * page's table copied to lines: each row a label glued to one cell per
 * level), and, later, JSON Lines of clause records.  The text format and
 * the rule that decides which sentence boundary is a cell boundary are
 * documented in docs/CORPUS.md and at the top of parse.c.
 *
 * Errors name the file, the line and the row ("corpus/x.txt:17: row
 * \"Key Resp 03\": found 4 cells, expected 5"), and nothing is produced
 * from a file that has one: a corpus is indexed whole or not at all.
 */
#ifndef SDX_PARSE_H
#define SDX_PARSE_H

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
 * Parse each PATH: a file, or a directory whose job-standard files
 * (*.txt, sorted by name; hidden files skipped) are parsed in turn.  On
 * the first error OUT is left as it was before the call, ERR says what
 * and where, and the status is SDX_BAD_INPUT, SDX_IO or SDX_NOMEM.
 * *NFILES (when not NULL) is set to the number of files parsed.
 */
sdx_status_t sdx_parse_paths(const char *const *paths, size_t npaths,
                             sdx_clause_list_t *out, size_t *nfiles,
                             char *err, size_t err_size);

#endif /* SDX_PARSE_H */
