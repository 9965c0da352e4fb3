/*
 * html_page: a job standard saved from the web as an HTML page -> the
 * page's series title, job summary and table cells, as plain strings.
 *
 * This is the low half of the HTML reader: it knows HTML (through
 * libxml2's HTML parser) and nothing of clauses.  Its caller turns the
 * struct below into clause records, as the text reader does with the
 * cells it cuts out of a flattened line.  The rules (which table, which
 * cells, how text is normalised, where the title and summary come from,
 * every error) are in docs/HTML.md, "Saved web pages"; the opening
 * comment of html_page.c says how they are carried out.
 *
 * Safe to call from several threads at once, one page per call.
 */
#ifndef SDX_HTML_PAGE_H
#define SDX_HTML_PAGE_H

#include <stddef.h>

#include "sdx_status.h"

/* The largest page read, in bytes (16 MiB, as for the text format):
 * checked before anything is allocated. */
#define SDX_HTML_MAX_BYTES (16 * 1024 * 1024)
/* Level columns after the label, at most (levels 1..9). */
#define SDX_HTML_MAX_LEVELS 9
/* Rows of the job-standard table, header row included, at most. */
#define SDX_HTML_MAX_ROWS 1000

/* One row of the job-standard table. */
typedef struct sdx_html_row {
    char *label;     /* the row's first cell, normalised ("Key Resp 08"); owned */
    size_t line;     /* line of the <tr> in the file, 1-based */
    char **cells;    /* NCELLS texts after the label, normalised; "" for an empty cell; owned */
    size_t ncells;   /* cells after the label */
} sdx_html_row_t;

/* What a saved job-standard page holds. */
typedef struct sdx_html_page {
    char *series;        /* the series title ("Clinical Applications Professional 1-5 HX"); owned */
    size_t series_line;  /* its line */
    char *summary;       /* the job summary paragraph(s), normalised, joined by one space; owned */
    size_t summary_line; /* line of the "Job Summary" heading */
    sdx_html_row_t *rows;/* the table's rows in order; rows[0] is the header row "Job Title" + each level's title; owned */
    size_t nrows;
} sdx_html_page_t;

/* An initialiser for an empty page. */
#define SDX_HTML_PAGE_INIT { NULL, 0, NULL, 0, NULL, 0 }

/*
 * Read TEXT (LEN bytes, UTF-8 whatever the page declares; no NUL needed
 * at TEXT[LEN]) as a saved job-standard page into PAGE, which must be
 * initialised (SDX_HTML_PAGE_INIT): whatever it held is cleared first.
 * On success every string of PAGE is set (none NULL), there is at least
 * the header row, and every row has as many cells as the header row,
 * one per level (1..SDX_HTML_MAX_LEVELS).  NAME is used in messages
 * (normally the file's path).  Nothing is fetched over the network and
 * nothing is printed.
 *
 * On error PAGE is left empty, ERR (ERR_SIZE bytes; none written when
 * ERR is NULL or ERR_SIZE is 0; cut to fit) holds "NAME:LINE: what" and
 * the status is SDX_BAD_INPUT, or SDX_NOMEM when memory ran out.
 */
sdx_status_t sdx_html_page_read(const char *name, const char *text,
                                size_t len, sdx_html_page_t *page,
                                char *err, size_t err_size);

/*
 * Free everything PAGE owns and leave it empty (as SDX_HTML_PAGE_INIT).
 * NULL-safe, idempotent.
 */
void sdx_html_page_clear(sdx_html_page_t *page);

#endif /* SDX_HTML_PAGE_H */
