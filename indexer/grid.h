/*
 * grid: a job standard as its table, rows x levels, shared by the
 * readers of the text format and of saved web pages.
 *
 * The label table (which row labels exist, what each is for, its
 * section) is here and nowhere else; docs/CORPUS.md lists it.  The
 * checks of the series title, the job titles and the job codes, and the
 * one function that turns a grid into clause records (ids, numbering of
 * repeated rows, the summary clause), are here too, so the two formats
 * give the same clauses for the same standard and say the same thing
 * about the same mistake.
 */
#ifndef SDX_GRID_H
#define SDX_GRID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reader.h"

/* What a row is for. */
typedef enum sdx_row_role {
    SDX_ROLE_SUMMARY, /* "Job Summary": the series-wide paragraph */
    SDX_ROLE_TITLE,   /* "Job Title": each level's title */
    SDX_ROLE_CODE,    /* "Job Code": each level's job code */
    SDX_ROLE_UNIT,    /* "Bargaining Unit": checked, not stored */
    SDX_ROLE_FLSA,    /* "FLSA": each level's FLSA status */
    SDX_ROLE_TEXT,    /* a row of clauses */
} sdx_row_role_t;

/* One kind of row label (the label table, grid.c). */
typedef struct sdx_row_kind {
    const char *label;   /* as written, without its number */
    sdx_row_role_t role; /* what the row is for */
    const char *section; /* section of its clauses (SDX_ROLE_TEXT) */
    bool numbered;       /* the label carries a number: "Key Resp 06" */
    bool repeatable;     /* may occur more than once; then numbered 1.. */
} sdx_row_kind_t;

/* A label matched against the label table. */
typedef struct sdx_label {
    const sdx_row_kind_t *kind; /* the kind of row */
    int item;                   /* the label's number; 0 when none */
    size_t len;                 /* bytes of the label as written */
    bool bad_number;            /* numbered, but not 01..99 */
} sdx_label_t;

/*
 * Match the start of P (N bytes) against the label table.  A label must
 * not run on into a lowercase letter ("Educational" is no label) unless
 * its number ends it: a numbered label takes " " and one or two digits
 * ("Key Resp 01iOS..." is "Key Resp 01" and a cell).  WHOLE: the label must
 * be all of P (a table cell), else a prefix (a text line).  False when
 * no label fits.
 */
bool sdx_label_match(const char *p, size_t n, bool whole, sdx_label_t *m);

/*
 * The unnumbered label P (N bytes) starts with when a lowercase letter
 * follows it ("Educational", or "Education" glued to "eCommerce..."),
 * for the message of an unknown label; NULL when none.
 */
const sdx_row_kind_t *sdx_label_glued(const char *p, size_t n);

/* The label table's labels, for messages: "Generic Scope, ...". */
const char *sdx_label_list(void);

/* A text row of the grid. */
typedef struct sdx_grid_row {
    const sdx_row_kind_t *kind;      /* the kind of row */
    size_t line;                     /* 1-based line of the row */
    int item;                        /* label number, or ordinal */
    char label[SDX_LABEL_MAX];       /* "Key Resp 06", "Special
                                        Condition 2" once numbered */
    char *cells[SDX_LEVELS_MAX];     /* per level, owned; NULL: empty */
    uint8_t cuts[SDX_LEVELS_MAX];    /* sdx_cut_t before each cell */
    bool failed;                     /* its cells could not be found */
} sdx_grid_row_t;

/* A job standard being read.  Owns everything but R. */
typedef struct sdx_grid {
    sdx_file_read_t *r;              /* where notes and clauses go */
    char *series;                    /* the series title, owned */
    size_t series_line;              /* its line */
    bool ranged;                     /* it holds a level range */
    size_t range_off, range_len;     /* where the range is in SERIES */
    int lo;                          /* first level (1 for "1-5") */
    int nlev;                        /* levels (5 for "1-5") */
    char *summary;                   /* the job summary, owned */
    size_t summary_line;             /* line of "Job Summary" */
    size_t meta_line[SDX_ROLE_TEXT]; /* line of each metadata row */
    char *titles[SDX_LEVELS_MAX];    /* each level's title, owned */
    char codes[SDX_LEVELS_MAX][SDX_CODE_MAX + 1]; /* job codes */
    char *flsa[SDX_LEVELS_MAX];      /* FLSA status, owned; NULL none */
    sdx_grid_row_t *rows;            /* text rows in order, owned */
    size_t nrows;                    /* rows held */
    size_t rows_cap;                 /* rows allocated */
} sdx_grid_t;

/* Free what G holds (not G->r). */
void sdx_grid_clear(sdx_grid_t *g);

/*
 * The series title TITLE (N bytes) at LINE: its level range ("1-5",
 * "2-4", "3–5" with an en dash, standing as a word) gives the levels;
 * a title without one is a single position, level 1.  Error notes for a
 * range that is not ascending within 1..9.
 */
sdx_status_t sdx_grid_set_series(sdx_grid_t *g, const char *title, size_t n,
                                 size_t line);

/* The series title with its range replaced by WHAT; NULL: no memory. */
char *sdx_grid_series_with(const sdx_grid_t *g, const char *what);

/*
 * Check that a metadata row of ROLE may come at LINE (before the text
 * rows, once) and record it.
 */
sdx_status_t sdx_grid_meta_row(sdx_grid_t *g, sdx_row_role_t role,
                               const char *label, size_t line);

/*
 * Each level's title: TITLES[k] (N[k] bytes) must read as the series
 * title at level lo + k (white space not compared).  TITLES NULL: ALL
 * is the row as the text format writes it, every title glued.
 */
sdx_status_t sdx_grid_set_titles(sdx_grid_t *g, size_t line,
                                 const char *all, const char *const *titles,
                                 const size_t *n);

/* Each level's job code: 4..8 digits, all different. */
sdx_status_t sdx_grid_set_codes(sdx_grid_t *g, size_t line,
                                const char *const *codes, const size_t *n);

/*
 * A new text row of KIND labelled LABEL (ITEM its number) at LINE:
 * refused before the Job Title and Job Code rows, and when a row that
 * may not repeat does.  *ROW_P points into G until the next call.
 */
sdx_status_t sdx_grid_add_row(sdx_grid_t *g, const sdx_row_kind_t *kind,
                              const char *label, int item, size_t line,
                              sdx_grid_row_t **row_p);

/*
 * The checks at the end of the file (metadata present, some text row),
 * the note on rows empty at every level, then the clauses into G->r:
 * the summary (level 0) first, then row by row, level by level.
 * LINE is the file's last line, for the messages.
 */
sdx_status_t sdx_grid_finish(sdx_grid_t *g, size_t line);

/*
 * A cell's text as stored: white space runs (incl. U+00A0) as one
 * space, trimmed, and a space after a sentence end glued to the next
 * sentence ("outcomes.Utilizes" reads "outcomes. Utilizes"), the same
 * for every format.  NULL when out of memory.
 */
char *sdx_cell_text(const char *p, size_t n);

/* ---- characters, shared by the readers -------------------------------- */

#define SDX_NBSP "\xc2\xa0"       /* U+00A0 NO-BREAK SPACE */

/* Length of the white space character at P (ASCII or U+00A0), or 0. */
size_t sdx_ws_len(const char *p, size_t n);

/* True when P (N bytes) starts with the UTF-8 sequence U. */
bool sdx_starts(const char *p, size_t n, const char *u);

/*
 * When a sentence ends at P[I] ('.', '!' or '?' that is not inside a
 * number "2.5" or an abbreviation "e.g." "U.S."): the offset just past
 * its closing marks (") ’ ” ]", and '"' when it closes a quote: QUOTES
 * is the count of '"' in P before I).  0 when no sentence ends at I.
 */
size_t sdx_sentence_end(const char *p, size_t n, size_t i, size_t quotes);

/* True when P (N bytes left) starts with an ASCII upper/lowercase
 * letter, or a Latin-1 one (U+00C0..U+00DE, U+00DF..U+00FF). */
bool sdx_is_upper_at(const char *p, size_t n);
bool sdx_is_lower_at(const char *p, size_t n);

#endif /* SDX_GRID_H */
