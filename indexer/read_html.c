/*
 * read_html: a saved web page of a job standard -> clause records.
 *
 * The page's own table gives the cells, so no cut is ever guessed: every
 * cell is exact by construction.  html_page.c reads the page with
 * libxml2's HTML parser into plain strings (the series title, the job
 * summary, the table's rows of cells; docs/CORPUS.md, "Saved web
 * pages"); this file reads those as a job standard through the grid
 * (grid.c): the same label table, the same checks of the series range,
 * the titles and the job codes, and the same clause records as the text
 * format gives for the same standard.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grid.h"
#include "html_page.h"
#include "reader.h"

/* The header row: one title per level, as the series title says. */
static sdx_status_t
read_titles(sdx_grid_t *g, const sdx_html_row_t *row)
{
    const char *titles[SDX_LEVELS_MAX];
    size_t n[SDX_LEVELS_MAX];
    sdx_status_t st = sdx_grid_meta_row(g, SDX_ROLE_TITLE, "Job Title",
                                        row->line);
    if (st != SDX_OK)
        return st;
    if (row->ncells != (size_t)g->nlev)
        return sdx_note(g->r, SDX_NOTE_ERROR, row->line, "Job Title",
                        "the table has %zu level column%s, but the series "
                        "title \"%s\" gives %d level%s", row->ncells,
                        row->ncells == 1 ? "" : "s", g->series, g->nlev,
                        g->nlev == 1 ? "" : "s");
    for (size_t k = 0; k < row->ncells; k++) {
        titles[k] = row->cells[k];
        n[k] = strlen(row->cells[k]);
    }
    return sdx_grid_set_titles(g, row->line, NULL, titles, n);
}

/* A metadata row other than the titles. */
static sdx_status_t
read_meta(sdx_grid_t *g, const sdx_label_t *m, const sdx_html_row_t *row)
{
    const char *label = m->kind->label;
    const char *v[SDX_LEVELS_MAX];
    size_t n[SDX_LEVELS_MAX];
    sdx_status_t st = sdx_grid_meta_row(g, m->kind->role, label, row->line);
    if (st != SDX_OK)
        return st;
    for (size_t k = 0; k < row->ncells; k++) {
        v[k] = row->cells[k];
        n[k] = strlen(row->cells[k]);
        if (n[k] == 0)
            return sdx_note(g->r, SDX_NOTE_ERROR, row->line, label,
                            "level %d: the cell is empty", g->lo + (int)k);
    }
    switch (m->kind->role) {
    case SDX_ROLE_CODE:
        return sdx_grid_set_codes(g, row->line, v, n);
    case SDX_ROLE_UNIT:
        for (size_t k = 1; k < row->ncells; k++)
            if (strcmp(v[k], v[0]) != 0)
                return sdx_note(g->r, SDX_NOTE_ERROR, row->line, label,
                                "level %d reads \"%.40s\", level %d \"%.40s\": "
                                "not one bargaining unit", g->lo,
                                v[0], g->lo + (int)k, v[k]);
        return SDX_OK;
    case SDX_ROLE_FLSA:
        for (size_t k = 0; k < row->ncells; k++) {
            free(g->flsa[k]);
            if (!(g->flsa[k] = strdup(v[k])))
                return sdx_note_nomem(g->r);
        }
        return SDX_OK;
    default:
        return SDX_INTERNAL;
    }
}

/* A text row: each cell as it stands, empty ones left out. */
static sdx_status_t
read_text_row(sdx_grid_t *g, const sdx_label_t *m, const char *label,
              const sdx_html_row_t *row)
{
    sdx_grid_row_t *gr;
    sdx_status_t st = sdx_grid_add_row(g, m->kind, label, m->item, row->line,
                                       &gr);
    if (st != SDX_OK)
        return st;
    for (size_t k = 0; k < row->ncells; k++) {
        const char *cell = row->cells[k];
        if (!cell[0])
            continue;
        if (!(gr->cells[k] = sdx_cell_text(cell, strlen(cell))))
            return sdx_note_nomem(g->r);
        gr->cuts[k] = (uint8_t)SDX_CUT_EXACT;
    }
    return SDX_OK;
}

/* Every row of PAGE into the grid G. */
static sdx_status_t
read_page(sdx_grid_t *g, const sdx_html_page_t *page)
{
    sdx_status_t st = sdx_grid_set_series(g, page->series,
                                          strlen(page->series),
                                          page->series_line);
    if (st != SDX_OK)
        return st;
    g->summary_line = page->summary_line;
    if (!(g->summary = sdx_cell_text(page->summary, strlen(page->summary))))
        return sdx_note_nomem(g->r);
    if ((st = read_titles(g, &page->rows[0])) != SDX_OK)
        return st;
    for (size_t i = 1; i < page->nrows; i++) {
        const sdx_html_row_t *row = &page->rows[i];
        const char *label = row->label;
        sdx_label_t m;
        if (!sdx_label_match(label, strlen(label), true, &m))
            return sdx_note(g->r, SDX_NOTE_ERROR, row->line, label,
                            "unknown row label (the labels: %s)",
                            sdx_label_list());
        if (m.bad_number)
            return sdx_note(g->r, SDX_NOTE_ERROR, row->line, label,
                            "row number must be 01..99");
        switch (m.kind->role) {
        case SDX_ROLE_SUMMARY:
            return sdx_note(g->r, SDX_NOTE_ERROR, row->line, label,
                            "a table row, but the job summary is the "
                            "paragraph after the \"Job Summary\" heading");
        case SDX_ROLE_TITLE:
            return sdx_note(g->r, SDX_NOTE_ERROR, row->line, label,
                            "appears twice (first at line %zu)",
                            page->rows[0].line);
        case SDX_ROLE_TEXT:
            st = read_text_row(g, &m, label, row);
            break;
        default:
            st = read_meta(g, &m, row);
            break;
        }
        if (st != SDX_OK)
            return st;
    }
    size_t last = page->rows[page->nrows - 1].line;
    return sdx_grid_finish(g, last);
}

sdx_status_t
sdx_read_html(sdx_file_read_t *r, const char *text, size_t len)
{
    sdx_html_page_t page = SDX_HTML_PAGE_INIT;
    sdx_grid_t g;
    char err[1024];
    memset(&g, 0, sizeof g);
    g.r = r;
    sdx_status_t st = sdx_html_page_read(r->path, text, len, &page, err,
                                         sizeof err);
    if (st == SDX_NOMEM)
        sdx_note_nomem(r);
    else if (st != SDX_OK)
        sdx_note_text(r, SDX_NOTE_ERROR, err);
    else
        read_page(&g, &page);
    sdx_grid_clear(&g);
    sdx_html_page_clear(&page);
    return r->st;
}
