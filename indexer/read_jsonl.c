/*
 * read_jsonl: JSON Lines of clause records -> clause records.
 *
 * For standards that do not come as a job standard's text or web page:
 * any organisation can export its job standards as one JSON object per
 * line, one line per clause (docs/CORPUS.md, "JSON Lines").  The JSON is
 * read by jansson, strictly: duplicate keys refused (its
 * JSON_REJECT_DUPLICATES), no "\u0000" (JSON_ALLOW_NUL not given),
 * UTF-8 checked, nothing after the object; integers are told from
 * fractions by their JSON type.  What a clause record is (its keys,
 * their types and ranges) is checked here, so a mistake is caught
 * rather than indexed.  Every error says "NAME:LINE: what" (with
 * jansson's column for a syntax error); one bad line and nothing from
 * the file is kept.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "reader.h"

#define ID_MAX 200           /* bytes of a clause id */
#define LEVEL_MAX 9          /* highest level */
#define ITEM_MAX 999         /* highest item number */
#define VALUE_MAX (64 * 1024) /* bytes of one string value */

/* The keys of a clause record, in the order of docs/CORPUS.md. */
enum { K_ID, K_SERIES, K_LEVEL, K_JOB_CODE, K_TITLE, K_FLSA, K_ROW,
       K_SECTION, K_ITEM, K_TEXT, K_COUNT };

static const struct key {
    const char *name;    /* the JSON key */
    bool integer;        /* an integer value (else a string) */
    bool required;       /* must be present */
} keys[K_COUNT] = {
    [K_ID] = { "id", false, true },
    [K_SERIES] = { "series", false, true },
    [K_LEVEL] = { "level", true, true },
    [K_JOB_CODE] = { "job_code", false, false },
    [K_TITLE] = { "title", false, false },
    [K_FLSA] = { "flsa", false, false },
    [K_ROW] = { "row", false, true },
    [K_SECTION] = { "section", false, true },
    [K_ITEM] = { "item", true, false },
    [K_TEXT] = { "text", false, true },
};

/* A copy of S with ASCII white space runs as one space, trimmed. */
static char *
squeezed(const char *s)
{
    char *out = malloc(strlen(s) + 1);
    size_t k = 0;
    bool space = true; /* drops leading blanks */
    if (!out)
        return NULL;
    for (size_t i = 0; s[i]; i++) {
        bool ws = strchr(" \t\r\n\f\b", s[i]) != NULL;
        if (ws && space)
            continue;
        out[k++] = ws ? ' ' : s[i];
        space = ws;
    }
    while (k > 0 && out[k - 1] == ' ')
        k--;
    out[k] = '\0';
    return out;
}

/*
 * The record OBJ of line LINE as a new clause in *OUT, or an error note
 * (NULL *OUT).  Returns R->st.
 */
static sdx_status_t
make_record(sdx_file_read_t *r, size_t line, json_t *obj, sdx_clause_t **out)
{
    const char *str[K_COUNT] = { NULL };
    long long num[K_COUNT] = { 0 };
    char *text = NULL, *row = NULL, *series = NULL;
    sdx_clause_t *c = NULL;
    const char *name;
    json_t *value;
    *out = NULL;
    if (!json_is_object(obj))
        return sdx_note(r, SDX_NOTE_ERROR, line, NULL,
                        "expected an object (one JSON object per line)");
    if (json_object_size(obj) == 0)
        return sdx_note(r, SDX_NOTE_ERROR, line, NULL, "an empty object");
    json_object_foreach(obj, name, value) {
        int k;
        for (k = 0; k < K_COUNT && strcmp(keys[k].name, name) != 0; k++)
            ;
        if (k == K_COUNT)
            return sdx_note(r, SDX_NOTE_ERROR, line, NULL,
                            "unknown key \"%.40s\" (a clause record has id, "
                            "series, level, job_code, title, flsa, row, "
                            "section, item, text)", name);
        if (keys[k].integer) {
            if (json_is_real(value))
                return sdx_note(r, SDX_NOTE_ERROR, line, NULL,
                                "\"%s\": expected an integer, not a "
                                "fraction", name);
            if (!json_is_integer(value))
                return sdx_note(r, SDX_NOTE_ERROR, line, NULL,
                                "\"%s\": expected an integer", name);
            long long v = json_integer_value(value);
            long long max = k == K_LEVEL ? LEVEL_MAX : ITEM_MAX;
            if (v < 0 || v > max)
                return sdx_note(r, SDX_NOTE_ERROR, line, NULL,
                                "\"%s\": %lld is out of range 0..%lld", name,
                                v, max);
            num[k] = v;
        } else {
            if (!json_is_string(value))
                return sdx_note(r, SDX_NOTE_ERROR, line, NULL,
                                "\"%s\": expected a string", name);
            if (json_string_length(value) > VALUE_MAX)
                return sdx_note(r, SDX_NOTE_ERROR, line, NULL,
                                "\"%s\": over %d bytes", name, VALUE_MAX);
            str[k] = json_string_value(value);
        }
    }
    for (int k = 0; k < K_COUNT; k++)
        if (keys[k].required && !json_object_get(obj, keys[k].name))
            return sdx_note(r, SDX_NOTE_ERROR, line, NULL,
                            "missing key \"%s\"", keys[k].name);
    for (int k = 0; k < K_COUNT; k++)
        if (!keys[k].integer && !str[k])
            str[k] = "";
    const char *id = str[K_ID];
    if (!id[0] || strlen(id) > ID_MAX || strpbrk(id, " \t\n\r"))
        return sdx_note(r, SDX_NOTE_ERROR, line, NULL,
                        "\"id\": 1 to 200 bytes without blanks");
    if (!sdx_section_valid(str[K_SECTION]))
        return sdx_note(r, SDX_NOTE_ERROR, line, NULL,
                        "\"section\": \"%.40s\" is not a section (one of "
                        "summary, scope, responsibility, ksa, education, "
                        "condition, environment)", str[K_SECTION]);
    text = squeezed(str[K_TEXT]);
    row = squeezed(str[K_ROW]);
    series = squeezed(str[K_SERIES]);
    if (!text || !row || !series)
        goto nomem;
    char slug[8];
    if (sdx_slug(row, slug, sizeof slug) == 0)
        sdx_note(r, SDX_NOTE_ERROR, line, NULL,
                 "\"row\": needs a letter or digit");
    else if (!text[0])
        sdx_note(r, SDX_NOTE_ERROR, line, NULL, "\"text\": empty");
    else if (!series[0])
        sdx_note(r, SDX_NOTE_ERROR, line, NULL, "\"series\": empty");
    if (r->st != SDX_OK)
        goto cleanup;
    if (!(c = sdx_clause_new()))
        goto nomem;
    const char *title = str[K_TITLE][0] ? str[K_TITLE] : series;
    if (sdx_clause_set(&c->id, id) || sdx_clause_set(&c->series, series) ||
        sdx_clause_set(&c->job_code, str[K_JOB_CODE]) ||
        sdx_clause_set(&c->title, title) ||
        sdx_clause_set(&c->flsa, str[K_FLSA]) ||
        sdx_clause_set(&c->row, row) ||
        sdx_clause_set(&c->section, str[K_SECTION]) ||
        sdx_clause_set(&c->text, text))
        goto nomem;
    c->level = (int)num[K_LEVEL];
    c->item = (int)num[K_ITEM];
    *out = c;
    c = NULL;
    goto cleanup;
nomem:
    sdx_note_nomem(r);
cleanup:
    sdx_clause_destroy(&c);
    free(text);
    free(row);
    free(series);
    return r->st;
}

/*
 * jansson's message for a syntax error, in this project's words where
 * jansson's would puzzle a person (a flag's name, "end of file").
 */
static const char *
syntax_error(const char *text)
{
    static const struct { const char *jansson, *ours; } words[] = {
        { "\\u0000 is not allowed", "\\u0000 (NUL) is not allowed in a "
                                    "string" },
        { "duplicate object key", "a key twice in one object" },
        { "end of file expected", "text after the object (one object per "
                                  "line)" },
        { "premature end of input", "the line ends inside the object (one "
                                    "object per line)" },
    };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strncmp(text, words[i].jansson, strlen(words[i].jansson)) == 0)
            return words[i].ours;
    return text;
}

/* What the duplicate check reports to: the file and each clause's line. */
typedef struct jsonl_ids {
    sdx_file_read_t *r;   /* the file being read */
    const size_t *lines;  /* LINES[i]: the line of clause i */
} jsonl_ids_t;

/* The first id held twice: the line of the second and of the first. */
static int
report_dup(void *arg, size_t first, size_t second)
{
    jsonl_ids_t *ids = arg;
    sdx_note(ids->r, SDX_NOTE_ERROR, ids->lines[second], NULL,
             "duplicate clause id \"%s\" (first at line %zu)",
             ids->r->clauses.items[first]->id, ids->lines[first]);
    return 1; /* the file is refused: one is enough */
}

sdx_status_t
sdx_read_jsonl(sdx_file_read_t *r, const char *text, size_t len)
{
    size_t *lines = NULL;
    size_t nlines = 0, lines_cap = 0, lineno = 0;
    for (size_t b = 0; b < len && r->st == SDX_OK;) {
        const char *nl = memchr(text + b, '\n', len - b);
        size_t e = nl ? (size_t)(nl - text) : len;
        const char *p = text + b;
        size_t n = e - b, i = 0;
        lineno++;
        b = e + 1;
        while (i < n && strchr(" \t\r", p[i]) && p[i])
            i++;
        if (i == n)
            continue; /* a blank line */
        if (memchr(p, '\0', n)) {
            sdx_note(r, SDX_NOTE_ERROR, lineno, NULL,
                     "NUL byte: not a text file");
            break;
        }
        json_error_t jerr;
        json_t *obj = json_loadb(p, n, JSON_REJECT_DUPLICATES, &jerr);
        if (!obj) {
            const char *why = syntax_error(jerr.text);
            sdx_note(r, SDX_NOTE_ERROR, lineno, NULL, "column %d: %s%s%s",
                     jerr.column, why, why == jerr.text ? "" : ": ",
                     why == jerr.text ? "" : jerr.text);
            break;
        }
        sdx_clause_t *c = NULL;
        make_record(r, lineno, obj, &c);
        json_decref(obj);
        if (!c)
            break;
        if (sdx_file_read_push(r, &c, SDX_CUT_EXACT) != SDX_OK) {
            sdx_note_nomem(r);
            break;
        }
        if (nlines == lines_cap) {
            size_t cap = lines_cap ? lines_cap * 2 : 64;
            size_t *l = realloc(lines, cap * sizeof *l);
            if (!l) {
                sdx_note_nomem(r);
                break;
            }
            lines = l;
            lines_cap = cap;
        }
        lines[nlines++] = lineno;
    }
    if (r->st == SDX_OK && r->clauses.count == 0)
        sdx_note(r, SDX_NOTE_ERROR, lineno ? lineno : 1, NULL,
                 "no clause records (an empty file)");
    jsonl_ids_t ids = { r, lines };
    if (r->st == SDX_OK &&
        sdx_clause_dup_ids(r->clauses.items, nlines, report_dup, &ids) < 0)
        sdx_note_nomem(r);
    free(lines);
    return r->st;
}
