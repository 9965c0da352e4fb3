/*
 * check: `specdex-index --check FILE...`, every row of every file as a
 * table of its cells per level, the uncertain cuts marked, the notes
 * under it (check.c).  Nothing is indexed.
 */
#ifndef SDX_CHECK_H
#define SDX_CHECK_H

#include <stdbool.h>
#include <stdio.h>

#include "parse.h"

/*
 * Print the corpus C read by sdx_corpus_read: as a terminal table
 * (wrapped at $COLUMNS or the terminal's width, else 80), or with JSON
 * one object per file and line: {"file", "format", "ok", "notes":
 * [{"kind", "text"}], "clauses": [{..., "cut", "text"}]}, then one
 * {"error"} per corpus-wide error.  Returns 0, or -1 when writing fails
 * or memory runs out.
 */
int sdx_check_print(FILE *out, const sdx_corpus_t *c, bool json);

#endif /* SDX_CHECK_H */
