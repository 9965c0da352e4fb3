/*
 * reader: the one interface every input format implements.
 *
 * A reader turns one file's bytes into clause records (lib/sdx_clause.h)
 * and says what it was not sure of.  Three readers exist, one file each:
 * read_text.c (the flattened-table text), read_html.c (a saved web page)
 * and read_jsonl.c (JSON Lines of clause records).  A new format is one
 * new file and one line in the table of corpus.c, nothing else.
 *
 * What a reader hands back is an sdx_file_read_t: the clauses, and for
 * each clause how the cut before its cell was found (so `specdex-index
 * --check` can show which cuts were certain), and notes: errors (the
 * file is refused), choices the reader made and is sure of, and facts a
 * person should hear ("row \"Key Resp 10\" is empty at every level").
 * A reader that meets an error it can go on from (an ambiguous row) goes
 * on, so that --check shows the whole file; the file is refused all the
 * same.
 *
 * The text and HTML readers share the job-standard grid (grid.c): the
 * label table, the metadata checks and the one function that turns a
 * grid into clause records, so the two formats give the same clauses
 * for the same standard.
 */
#ifndef SDX_READER_H
#define SDX_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parse.h"

#define SDX_LEVELS_MAX 9      /* levels in a series: within 1..9 */
#define SDX_CODE_MIN 4        /* digits in one job code, at least */
#define SDX_CODE_MAX 8        /* digits in one job code, at most */
#define SDX_ROWS_MAX 1000     /* text rows in one standard */
#define SDX_LABEL_MAX 64      /* bytes of a row label, with NUL */
#define SDX_NOTES_MAX 200     /* notes kept per file; more are counted */

/* How the cut before a cell was found (shown by --check). */
typedef enum sdx_cut {
    SDX_CUT_NONE = 0,   /* the first cell of its row, or not a cell */
    SDX_CUT_EXACT,      /* a format without guessing (HTML cell, JSONL) */
    SDX_CUT_MARKER,     /* a '|' a person wrote between the cells */
    SDX_CUT_NBSP,       /* sentence end + white space with U+00A0 */
    SDX_CUT_SENTENCE,   /* a glued sentence end, the only cut possible */
    SDX_CUT_WORD,       /* a glued lower-upper letter pair, the only one */
    SDX_CUT_CHOSEN,     /* one of several possible, the most even by far */
    SDX_CUT_AMBIGUOUS,  /* one of several, not clearly better: refused */
    SDX_CUT_UNCUT,      /* the row's cells not found: all its text here */
} sdx_cut_t;

/* A short name for CUT ("nbsp", "chosen"...), static. */
const char *sdx_cut_name(sdx_cut_t cut);

/* What a note says. */
typedef enum sdx_note_kind {
    SDX_NOTE_ERROR,   /* the file is refused */
    SDX_NOTE_CHOICE,  /* a choice the reader made, and why it is sure */
    SDX_NOTE_INFO,    /* worth a person's eye, changes nothing */
} sdx_note_kind_t;

/* One note: a whole message, "FILE:LINE: row \"LABEL\": ...". */
typedef struct sdx_note {
    sdx_note_kind_t kind; /* what it says */
    char *text;           /* the message, owned */
} sdx_note_t;

/* One file read by a reader: what came of it.  Owns everything. */
typedef struct sdx_file_read {
    const char *path;           /* the file (not owned) */
    const char *format;         /* the reader's name ("text"), static */
    sdx_clause_list_t clauses;  /* in file order */
    uint8_t *cuts;              /* CUTS[i]: sdx_cut_t before clause i */
    size_t cuts_cap;            /* slots in CUTS */
    sdx_note_t *notes;          /* in the order found */
    size_t nnotes;              /* notes held, at most SDX_NOTES_MAX */
    size_t notes_cap;           /* slots in NOTES */
    size_t nerrors;             /* error notes, counted past the cap */
    size_t nlost;               /* notes not kept (over the cap) */
    sdx_status_t st;            /* SDX_OK, or why the file is refused */
} sdx_file_read_t;

#define SDX_FILE_READ_INIT(path_) { (path_), NULL, SDX_CLAUSE_LIST_INIT, \
                                   NULL, 0, NULL, 0, 0, 0, 0, SDX_OK }

/* Free everything R holds; R is empty again (path kept).  NULL-safe. */
void sdx_file_read_clear(sdx_file_read_t *r);

/*
 * Add a note "PATH:LINE: [row \"LABEL\": ]..." to R (LINE 0: no line,
 * LABEL NULL: no row).  An error note sets R->st to SDX_BAD_INPUT
 * unless it holds an error already.  Out of memory sets R->st to
 * SDX_NOMEM.  Returns R->st after the note (SDX_OK for other kinds).
 */
sdx_status_t sdx_note(sdx_file_read_t *r, sdx_note_kind_t kind,
                      size_t line, const char *label, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Add a note whose TEXT is the whole message already ("FILE:LINE: ..."). */
sdx_status_t sdx_note_text(sdx_file_read_t *r, sdx_note_kind_t kind,
                           const char *text);

/* The first error note of R, or NULL. */
const char *sdx_file_read_error(const sdx_file_read_t *r);

/* Out of memory: an error note when one can be made; SDX_NOMEM. */
sdx_status_t sdx_note_nomem(sdx_file_read_t *r);

/*
 * Append clause *C_P to R with the cut CUT before it, taking ownership
 * (*c_p NULL after).  SDX_NOMEM (and C freed) when growing fails.
 */
sdx_status_t sdx_file_read_push(sdx_file_read_t *r, sdx_clause_t **c_p,
                                sdx_cut_t cut);

/*
 * A reader: reads TEXT (LEN bytes, the whole file, already checked to
 * be within SDX_PARSE_MAX_BYTES) into R.  Returns R->st.
 */
typedef sdx_status_t (*sdx_read_fn)(sdx_file_read_t *r, const char *text,
                                    size_t len);

/* An input format. */
typedef struct sdx_reader {
    const char *name;            /* "text", "html", "jsonl" */
    const char *const *suffixes; /* file names it takes, NULL-ended */
    sdx_read_fn read;            /* the reader */
} sdx_reader_t;

/* The readers, one per format (read_*.c). */
sdx_status_t sdx_read_text(sdx_file_read_t *r, const char *text,
                           size_t len);
sdx_status_t sdx_read_html(sdx_file_read_t *r, const char *text,
                           size_t len);
sdx_status_t sdx_read_jsonl(sdx_file_read_t *r, const char *text,
                            size_t len);

/*
 * The reader for PATH by its name's ending (".html", ".htm", ".jsonl",
 * else the text format), never NULL.  ANY_NAME false: NULL for a name
 * no reader claims (a directory's other files are skipped).
 */
const sdx_reader_t *sdx_reader_for(const char *path, bool any_name);

/*
 * Refuse what is not UTF-8 text: a NUL byte, a control byte other than
 * tab, CR and LF, an invalid UTF-8 sequence.  An error note at the
 * line and column; SDX_OK when clean.
 */
sdx_status_t sdx_check_utf8_text(sdx_file_read_t *r, const char *text,
                                 size_t len);

#endif /* SDX_READER_H */
