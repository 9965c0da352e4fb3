/*
 * reader: what every reader shares — the record of one file read (its
 * clauses, the cut before each, its notes) and the check that a file is
 * UTF-8 text.  The readers themselves are read_*.c.
 */
#include "reader.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdx_utf8.h"

const char *
sdx_cut_name(sdx_cut_t cut)
{
    switch (cut) {
    case SDX_CUT_NONE:
        return "first";
    case SDX_CUT_EXACT:
        return "exact";
    case SDX_CUT_MARKER:
        return "marker";
    case SDX_CUT_NBSP:
        return "nbsp";
    case SDX_CUT_SENTENCE:
        return "sentence";
    case SDX_CUT_WORD:
        return "word";
    case SDX_CUT_CHOSEN:
        return "chosen";
    case SDX_CUT_AMBIGUOUS:
        return "AMBIGUOUS";
    case SDX_CUT_UNCUT:
        return "UNCUT";
    }
    return "?";
}

void
sdx_file_read_clear(sdx_file_read_t *r)
{
    if (!r)
        return;
    sdx_clause_list_clear(&r->clauses);
    free(r->cuts);
    for (size_t i = 0; i < r->nnotes; i++)
        free(r->notes[i].text);
    free(r->notes);
    const char *path = r->path;
    *r = (sdx_file_read_t)SDX_FILE_READ_INIT(path);
}

/* Keep NOTE (owned) in R, or count it as lost past the cap. */
static sdx_status_t
keep_note(sdx_file_read_t *r, sdx_note_kind_t kind, char *text)
{
    if (r->nnotes == SDX_NOTES_MAX) {
        free(text);
        r->nlost++;
        return SDX_OK;
    }
    if (r->nnotes == r->notes_cap) {
        size_t cap = r->notes_cap ? r->notes_cap * 2 : 8;
        sdx_note_t *n = realloc(r->notes, cap * sizeof *n);
        if (!n) {
            free(text);
            return SDX_NOMEM;
        }
        r->notes = n;
        r->notes_cap = cap;
    }
    r->notes[r->nnotes++] = (sdx_note_t){ kind, text };
    return SDX_OK;
}

sdx_status_t
sdx_note(sdx_file_read_t *r, sdx_note_kind_t kind, size_t line,
         const char *label, const char *fmt, ...)
{
    char msg[3072];
    va_list ap;
    const char *path = r->path ? r->path : "<input>";
    int n;
    if (line && label)
        n = snprintf(msg, sizeof msg, "%s:%zu: row \"%s\": ", path, line,
                     label);
    else if (line)
        n = snprintf(msg, sizeof msg, "%s:%zu: ", path, line);
    else if (label)
        n = snprintf(msg, sizeof msg, "%s: row \"%s\": ", path, label);
    else
        n = snprintf(msg, sizeof msg, "%s: ", path);
    if (n >= 0 && (size_t)n < sizeof msg) {
        va_start(ap, fmt);
        vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return sdx_note_text(r, kind, msg);
}

sdx_status_t
sdx_note_text(sdx_file_read_t *r, sdx_note_kind_t kind, const char *msg)
{
    char *text = strdup(msg);
    if (kind == SDX_NOTE_ERROR) {
        r->nerrors++;
        if (r->st == SDX_OK)
            r->st = SDX_BAD_INPUT;
    }
    if (!text) {
        r->st = SDX_NOMEM;
        return SDX_NOMEM;
    }
    if (keep_note(r, kind, text) != SDX_OK)
        r->st = SDX_NOMEM;
    return kind == SDX_NOTE_ERROR ? r->st : SDX_OK;
}

sdx_status_t
sdx_note_nomem(sdx_file_read_t *r)
{
    sdx_note(r, SDX_NOTE_ERROR, 0, NULL, "out of memory");
    r->st = SDX_NOMEM;
    return SDX_NOMEM;
}

const char *
sdx_file_read_error(const sdx_file_read_t *r)
{
    for (size_t i = 0; i < r->nnotes; i++)
        if (r->notes[i].kind == SDX_NOTE_ERROR)
            return r->notes[i].text;
    return NULL;
}

sdx_status_t
sdx_file_read_push(sdx_file_read_t *r, sdx_clause_t **c_p, sdx_cut_t cut)
{
    if (r->clauses.count == r->cuts_cap) {
        size_t cap = r->cuts_cap ? r->cuts_cap * 2 : 64;
        uint8_t *cuts = realloc(r->cuts, cap);
        if (!cuts) {
            sdx_clause_destroy(c_p);
            return SDX_NOMEM;
        }
        r->cuts = cuts;
        r->cuts_cap = cap;
    }
    size_t at = r->clauses.count;
    if (sdx_clause_list_push(&r->clauses, c_p) != SDX_OK) {
        sdx_clause_destroy(c_p);
        return SDX_NOMEM;
    }
    r->cuts[at] = (uint8_t)cut;
    return SDX_OK;
}

sdx_status_t
sdx_check_utf8_text(sdx_file_read_t *r, const char *text, size_t len)
{
    char msg[128];
    size_t line;
    if (sdx_utf8_check_text(text, len, &line, msg, sizeof msg))
        return SDX_OK;
    return sdx_note(r, SDX_NOTE_ERROR, line, NULL, "%s", msg);
}
