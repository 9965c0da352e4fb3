/*
 * read_html: a saved web page of a job standard -> clause records.
 * (Being written: the page's table is read by libxml2's HTML parser in
 * html_page.c; until it lands, a page is refused.)
 */
#include "reader.h"

sdx_status_t
sdx_read_html(sdx_file_read_t *r, const char *text, size_t len)
{
    (void)text;
    (void)len;
    return sdx_note(r, SDX_NOTE_ERROR, 0, NULL,
                    "saved web pages are not read yet");
}
