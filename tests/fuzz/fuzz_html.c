/*
 * fuzz_html: libFuzzer harness for the saved-web-page reader
 * (indexer/html_page.c, libxml2's HTML parser underneath).  Each input
 * is one page's bytes, handed to sdx_html_page_read() exactly as read
 * (no terminating NUL, so an overread past LEN is caught by ASan), and
 * the page is cleared, so LeakSanitizer sees any string the reader or
 * libxml2 loses.
 *
 * Besides "no crash, no leak, no undefined behaviour" the harness checks
 * the reader's contract (html_page.h) and aborts when it breaks, which
 * libFuzzer reports like a crash:
 *  - on success the series title and summary are set and not empty, the
 *    header row comes first and reads "Job Title", it has 1..9 level
 *    cells and every row as many, at most 1000 rows, row lines in
 *    source order after the heading's, and every string is valid UTF-8 and normalised (no
 *    U+00A0, tab, newline, double or edge space);
 *  - on failure the page is empty and ERR holds a terminated, non-empty
 *    "NAME:..." message, even when ERR is tiny, with the same status.
 *
 * Built by SDX_FUZZ with -fsanitize=fuzzer; without clang it is linked
 * with replay_main.c, which replays the seed corpus under `make test`.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FUZZ_HARNESS "fuzz_html"
#include "fuzz_contract.h"
#include "html_page.h"
#include "sdx_utf8.h"

#define NAME "fuzz.html" /* the file name errors mention */
#define ERR_SIZE 256     /* error buffer, bytes: as specdex-index uses */
#define TINY_ERR 5       /* a buffer too small for any message, bytes */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Check one string of a page read: set, valid UTF-8, normalised. */
static void
check_text(const char *s, bool may_be_empty)
{
    if (!s)
        broken("a string is NULL");
    size_t n = strlen(s);
    if (n == 0 && !may_be_empty)
        broken("an empty series, summary or label");
    if (!sdx_utf8_valid(s, n, NULL))
        broken("a string is not valid UTF-8");
    if (strstr(s, "\xc2\xa0") || strstr(s, "  ") || strpbrk(s, "\t\r\n") ||
        (n > 0 && (s[0] == ' ' || s[n - 1] == ' ')))
        broken("a string is not normalised");
}

static void
check_page(const sdx_html_page_t *page)
{
    check_text(page->series, false);
    check_text(page->summary, false);
    /* the series title may start inside an element that opened after
     * the one holding the heading ("<div><p>T</p>Job Summary"), so the
     * two lines come in either order; the table's come after both */
    if (page->series_line == 0 || page->summary_line == 0)
        broken("the title's or the summary's line is 0");
    if (page->nrows == 0 || page->nrows > SDX_HTML_MAX_ROWS || !page->rows)
        broken("no rows, or too many");
    if (strcmp(page->rows[0].label, "Job Title") != 0)
        broken("the first row is not the header row");
    size_t levels = page->rows[0].ncells, line = page->summary_line;
    if (levels == 0 || levels > SDX_HTML_MAX_LEVELS)
        broken("the header row's levels are out of 1..9");
    for (size_t r = 0; r < page->nrows; r++) {
        const sdx_html_row_t *row = &page->rows[r];
        check_text(row->label, false);
        if (row->ncells != levels || !row->cells)
            broken("a row of another length than the header row");
        if (row->line < line)
            broken("rows out of source order");
        line = row->line;
        for (size_t k = 0; k < row->ncells; k++)
            check_text(row->cells[k], true);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sdx_html_page_t page = SDX_HTML_PAGE_INIT;
    char err[ERR_SIZE];

    memset(err, 'x', sizeof err);
    sdx_status_t st = sdx_html_page_read(NAME, (const char *)data, size,
                                         &page, err, sizeof err);
    if (st == SDX_OK) {
        check_page(&page);
    } else {
        if (page.rows || page.nrows || page.series || page.summary)
            broken("a page left set on failure");
        check_message(err, sizeof err, NAME);

        /* the same failure into a buffer too small for it */
        char tiny[TINY_ERR + 1];
        tiny[TINY_ERR] = '#';
        if (sdx_html_page_read(NAME, (const char *)data, size, &page, tiny,
                               TINY_ERR) != st)
            broken("a smaller error buffer changed the status");
        check_tiny(tiny, TINY_ERR);
    }
    sdx_html_page_clear(&page);
    return 0;
}
