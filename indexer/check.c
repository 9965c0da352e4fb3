/*
 * check: `specdex-index --check`, a corpus shown the way a person
 * confirms a new standard before it is indexed.
 *
 * For each file: what it is (format, series, levels), whether it can be
 * indexed, then its cells as a table (row, level, how the cut before
 * the cell was found, the whole text, wrapped), then its notes: every
 * error, every choice the reader made and why it was sure, every fact
 * worth a look (a row empty at every level).  Cuts that were a choice
 * are marked "chosen?" and refused ones "AMBIGUOUS!", so the eye finds
 * them.  --json gives the same as one JSON object per file (jansson).
 */
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <jansson.h>

#include "reader.h"

#define ROW_COL 20   /* characters of the row column */
#define WIDTH_MIN 60 /* narrowest table */
#define WIDTH_MAX 200 /* widest table */

/* The width to wrap at, by git's rule as the CLI: $COLUMNS, the
 * terminal's, else 80. */
static int
table_width(FILE *out)
{
    const char *env = getenv("COLUMNS");
    struct winsize ws;
    int w = 80;
    if (env && atoi(env) > 0)
        w = atoi(env);
    else if (ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        w = ws.ws_col;
    return w < WIDTH_MIN ? WIDTH_MIN : w > WIDTH_MAX ? WIDTH_MAX : w;
}

/* Characters (not bytes) of the UTF-8 text P (N bytes). */
static size_t
chars(const char *p, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += ((unsigned char)p[i] & 0xc0) != 0x80;
    return k;
}

/*
 * Print TEXT wrapped at WIDTH - INDENT characters, the first line after
 * what is printed already, the others after INDENT spaces.
 */
static void
print_wrapped(FILE *out, const char *text, int indent, int width)
{
    size_t room = (size_t)(width - indent), used = 0;
    const char *p = text;
    bool first = true;
    while (*p) {
        const char *sp = strchr(p, ' ');
        size_t n = sp ? (size_t)(sp - p) : strlen(p);
        size_t w = chars(p, n);
        if (!first && used + 1 + w > room) {
            fprintf(out, "\n%*s", indent, "");
            used = 0;
        } else if (!first) {
            fputc(' ', out);
            used++;
        }
        fwrite(p, 1, n, out);
        used += w;
        first = false;
        p += n;
        while (*p == ' ')
            p++;
    }
    fputc('\n', out);
}

/* How --check shows cut CUT. */
static const char *
cut_shown(sdx_cut_t cut)
{
    switch (cut) {
    case SDX_CUT_NONE:
        return "";
    case SDX_CUT_CHOSEN:
        return "chosen?";
    case SDX_CUT_AMBIGUOUS:
        return "AMBIGUOUS!";
    case SDX_CUT_UNCUT:
        return "NOT CUT!";
    default:
        return sdx_cut_name(cut);
    }
}

static const char *
kind_name(sdx_note_kind_t k)
{
    return k == SDX_NOTE_ERROR ? "error" : k == SDX_NOTE_CHOICE ? "choice"
                                                                 : "note";
}

/* One file as text. */
static void
print_file(FILE *out, const sdx_file_read_t *f, int width)
{
    const sdx_clause_list_t *l = &f->clauses;
    int lo = 9, hi = 0;
    for (size_t i = 0; i < l->count; i++)
        if (l->items[i]->level > 0) {
            lo = l->items[i]->level < lo ? l->items[i]->level : lo;
            hi = l->items[i]->level > hi ? l->items[i]->level : hi;
        }
    fprintf(out, "%s: %s", f->path, f->format ? f->format : "?");
    if (l->count > 0)
        fprintf(out, ", \"%s\"", l->items[0]->series);
    if (hi > 0)
        fprintf(out, lo == hi ? ", level %d" : ", levels %d-%d", lo, hi);
    fprintf(out, ", %zu clause%s: %s\n", l->count, l->count == 1 ? "" : "s",
            f->st == SDX_OK ? "ok" : "REFUSED");
    if (l->count > 0)
        fprintf(out, "  %-*s level %-10s text\n", ROW_COL, "row", "cut");
    const char *last_row = NULL, *last_series = NULL;
    for (size_t i = 0; i < l->count; i++) {
        const sdx_clause_t *c = l->items[i];
        bool same = last_row && strcmp(last_row, c->row) == 0 &&
                    strcmp(last_series, c->series) == 0;
        fprintf(out, "  %-*.*s %5d %-10s ", ROW_COL, ROW_COL,
                same ? "" : c->row, c->level,
                cut_shown((sdx_cut_t)f->cuts[i]));
        print_wrapped(out, c->text, 2 + ROW_COL + 1 + 5 + 1 + 10 + 1, width);
        last_row = c->row;
        last_series = c->series;
    }
    for (size_t i = 0; i < f->nnotes; i++)
        fprintf(out, "  %s: %s\n", kind_name(f->notes[i].kind),
                f->notes[i].text);
    if (f->nlost > 0)
        fprintf(out, "  (%zu more notes not shown)\n", f->nlost);
    fputc('\n', out);
}

/* One file as a JSON object; NULL when out of memory. */
static json_t *
file_json(const sdx_file_read_t *f)
{
    json_t *o = json_object(), *clauses = json_array(), *notes = json_array();
    if (!o || !clauses || !notes)
        goto fail;
    for (size_t i = 0; i < f->clauses.count; i++) {
        const sdx_clause_t *c = f->clauses.items[i];
        json_t *j = json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:i, s:s, "
                              "s:s}", "id", c->id, "series", c->series,
                              "level", c->level, "job_code", c->job_code,
                              "title", c->title, "row", c->row, "section",
                              c->section, "item", c->item, "cut",
                              sdx_cut_name((sdx_cut_t)f->cuts[i]), "text",
                              c->text);
        if (!j || json_array_append_new(clauses, j) != 0)
            goto fail;
    }
    for (size_t i = 0; i < f->nnotes; i++) {
        json_t *j = json_pack("{s:s, s:s}", "kind",
                              kind_name(f->notes[i].kind), "text",
                              f->notes[i].text);
        if (!j || json_array_append_new(notes, j) != 0)
            goto fail;
    }
    if (json_object_set_new(o, "file", json_string(f->path)) ||
        json_object_set_new(o, "format",
                            json_string(f->format ? f->format : "")) ||
        json_object_set_new(o, "ok", json_boolean(f->st == SDX_OK)) ||
        json_object_set_new(o, "notes", notes) ||
        json_object_set_new(o, "clauses", clauses)) {
        json_decref(o);
        return NULL;
    }
    return o;
fail:
    json_decref(o);
    json_decref(clauses);
    json_decref(notes);
    return NULL;
}

int
sdx_check_print(FILE *out, const sdx_corpus_t *c, bool json)
{
    int width = table_width(out);
    for (size_t i = 0; i < c->nfiles; i++) {
        const sdx_file_read_t *f = &c->files[i];
        if (!json) {
            print_file(out, f, width);
            continue;
        }
        json_t *o = file_json(f);
        if (!o || json_dumpf(o, out, JSON_COMPACT) != 0) {
            json_decref(o);
            return -1;
        }
        fputc('\n', out);
        json_decref(o);
    }
    for (size_t i = 0; i < c->nerrors; i++) {
        if (json) {
            json_t *o = json_pack("{s:s}", "error", c->errors[i]);
            if (!o || json_dumpf(o, out, JSON_COMPACT) != 0) {
                json_decref(o);
                return -1;
            }
            fputc('\n', out);
            json_decref(o);
        } else {
            fprintf(out, "error: %s\n", c->errors[i]);
        }
    }
    if (!json)
        fprintf(out, "%zu file%s, %zu refused%s\n", c->nfiles,
                c->nfiles == 1 ? "" : "s", c->nbad,
                c->st == SDX_OK ? "" : ": the corpus would not be indexed");
    return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}
