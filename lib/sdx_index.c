/*
 * sdx_index: a clause as a Xapian document, a request's filters as
 * terms, and the index directory (sdx_index.h says what each is).
 *
 * Writing and reading meet here so that they cannot disagree: the
 * prefix a filter looks for is the one the indexer wrote, from the
 * same slug of the same label.
 */
#define _XOPEN_SOURCE 700 /* realpath() */

#include "sdx_index.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <msgpack.h>

#include "sdx_utf8.h"
#include "sdx_util.h"

/* Bytes of a slug term value (row labels, series names). */
#define SLUG_MAX 200
/* Bytes of a path under the index directory. */
#define PATH_MAX_SDX 4096

/* ------------------------------------------------------------------ */
/* A clause as a document                                             */
/* ------------------------------------------------------------------ */

/* Add the boolean term PREFIX + VALUE. */
static sdx_status_t
s_add_term(sdx_writer_t *w, const char *prefix, const char *value)
{
    char term[SLUG_MAX + 16];
    if (snprintf(term, sizeof term, "%s%s", prefix, value) >=
        (int)sizeof term)
        return SDX_BAD_INPUT;
    return sdx_writer_add_term(w, term);
}

/*
 * The base of a numbered slug: "key-resp" for "key-resp-06".  Returns
 * false when SLUG does not end in "-<digits>".
 */
static bool
s_slug_base(const char *slug, char *base, size_t base_size)
{
    const char *dash = strrchr(slug, '-');
    if (!dash || dash == slug || dash[1] == '\0')
        return false;
    for (const char *p = dash + 1; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    size_t n = (size_t)(dash - slug);
    if (n >= base_size)
        return false;
    memcpy(base, slug, n);
    base[n] = '\0';
    return true;
}

void
sdx_index_group_key(const sdx_clause_t *c, char out[SDX_GROUP_KEY_LEN + 1])
{
    char row[SLUG_MAX], series[SLUG_MAX];
    uint64_t h = SDX_FNV1A_INIT;
    sdx_slug(c->series, series, sizeof series);
    sdx_slug(c->row, row, sizeof row);
    /* each part with its NUL, so ("ab","c") and ("a","bc") differ */
    h = sdx_fnv1a(h, series, strlen(series) + 1);
    h = sdx_fnv1a(h, row, strlen(row) + 1);
    h = sdx_fnv1a(h, c->text, strlen(c->text));
    snprintf(out, SDX_GROUP_KEY_LEN + 1, "%016" PRIx64, h);
}

/* The boolean terms of C (everything but the unique id term). */
static sdx_status_t
s_add_filter_terms(sdx_writer_t *w, const sdx_clause_t *c)
{
    char level[2] = { (char)('0' + c->level), '\0' };
    char row[SLUG_MAX], base[SLUG_MAX], series[SLUG_MAX];
    sdx_status_t st;

    if (c->level < 0 || c->level > 9 || !sdx_section_valid(c->section))
        return SDX_BAD_INPUT;
    if (sdx_slug(c->row, row, sizeof row) < 0 ||
        sdx_slug(c->series, series, sizeof series) < 0)
        return SDX_BAD_INPUT;
    if ((st = s_add_term(w, SDX_PREFIX_LEVEL, level)) != SDX_OK ||
        (st = s_add_term(w, SDX_PREFIX_SECTION, c->section)) != SDX_OK)
        return st;
    if (row[0] && (st = s_add_term(w, SDX_PREFIX_ROW, row)) != SDX_OK)
        return st;
    if (s_slug_base(row, base, sizeof base) &&
        (st = s_add_term(w, SDX_PREFIX_ROW, base)) != SDX_OK)
        return st;
    if (c->job_code[0] &&
        (st = s_add_term(w, SDX_PREFIX_CODE, c->job_code)) != SDX_OK)
        return st;
    if (series[0] &&
        (st = s_add_term(w, SDX_PREFIX_SERIES, series)) != SDX_OK)
        return st;
    char group[SDX_GROUP_KEY_LEN + 1];
    sdx_index_group_key(c, group);
    if ((st = s_add_term(w, SDX_PREFIX_GROUP, group)) != SDX_OK ||
        (st = sdx_writer_set_value(w, SDX_SLOT_GROUP, group,
                                   SDX_GROUP_KEY_LEN)) != SDX_OK)
        return st;
    if (series[0] &&
        (st = sdx_writer_set_value(w, SDX_SLOT_SERIES, series,
                                   strlen(series))) != SDX_OK)
        return st;
    if ((st = sdx_writer_set_value(w, SDX_SLOT_LEVEL, level, 1)) != SDX_OK ||
        (st = sdx_writer_set_value(w, SDX_SLOT_SECTION, c->section,
                                   strlen(c->section))) != SDX_OK ||
        (st = sdx_writer_set_value(w, SDX_SLOT_ROW, row, strlen(row))) !=
            SDX_OK)
        return st;
    return SDX_OK;
}

/* The order key of C at PLACE (SDX_SLOT_ORDER) into *KEY (malloc'd). */
static sdx_status_t
s_order_key(const sdx_clause_t *c, size_t place, char **key, size_t *len)
{
    size_t n = strlen(c->series);
    *len = n + 1 + SDX_ORDER_PLACE_DIGITS;
    if (!(*key = malloc(*len + 1)))
        return SDX_NOMEM;
    memcpy(*key, c->series, n);
    (*key)[n] = '\0'; /* below every byte of a series: "A" before "AB" */
    snprintf(*key + n + 1, SDX_ORDER_PLACE_DIGITS + 1, "%0*zu",
             SDX_ORDER_PLACE_DIGITS, place);
    return SDX_OK;
}

/* What the order of the index compares (sdx_index_order). */
typedef struct placed {
    sdx_clause_t *c;           /* the clause */
    size_t at;                 /* where it came */
} placed_t;

static int
s_cmp_placed(const void *a, const void *b)
{
    const placed_t *x = a, *y = b;
    int d = strcmp(x->c->series, y->c->series);
    return d ? d : (x->at > y->at) - (x->at < y->at);
}

sdx_status_t
sdx_index_order(sdx_clause_t **items, size_t count, size_t *places)
{
    placed_t *v = count ? malloc(count * sizeof *v) : NULL;
    if (count && !v)
        return SDX_NOMEM;
    for (size_t i = 0; i < count; i++)
        v[i] = (placed_t){ items[i], i };
    if (count > 1)
        qsort(v, count, sizeof *v, s_cmp_placed);
    for (size_t i = 0; i < count; i++) {
        items[i] = v[i].c;
        places[i] = i > 0 && strcmp(v[i - 1].c->series,
                                    v[i].c->series) == 0
                        ? places[i - 1] + 1
                        : 0;
    }
    free(v);
    return SDX_OK;
}

sdx_status_t
sdx_index_add_clause(sdx_writer_t *w, const sdx_clause_t *c, size_t place)
{
    msgpack_sbuffer buf;
    msgpack_packer pk;
    char *id_term = NULL, *order = NULL;
    size_t order_len = 0;
    sdx_status_t st;

    msgpack_sbuffer_init(&buf);
    if ((st = sdx_writer_begin_doc(w)) != SDX_OK)
        goto cleanup;
    /* Only the cell's text is free text: the title and series are the
     * same for hundreds of clauses and would only blur the ranking;
     * they are reachable as filters (XC, XT). */
    if ((st = sdx_writer_index_text(w, c->text, "", 1, true)) != SDX_OK ||
        (st = s_add_filter_terms(w, c)) != SDX_OK ||
        (st = s_order_key(c, place, &order, &order_len)) != SDX_OK ||
        (st = sdx_writer_set_value(w, SDX_SLOT_ORDER, order, order_len)) !=
            SDX_OK)
        goto cleanup;

    msgpack_packer_init(&pk, &buf, msgpack_sbuffer_write);
    sdx_clause_pack(c, &pk, 0);
    if (!buf.data) {
        st = SDX_NOMEM;
        goto cleanup;
    }
    /* The record is stored once, as a value: searches and `get` read
     * it there.  Not as document data too (glass zlib-compresses data:
     * an eighth of the build's time), nor the text in a slot of its own
     * (snippets find it in the record). */
    if ((st = sdx_writer_set_value(w, SDX_SLOT_RECORD, buf.data,
                                   buf.size)) != SDX_OK)
        goto cleanup;

    size_t len = strlen(SDX_PREFIX_ID) + strlen(c->id) + 1;
    if (!(id_term = malloc(len))) {
        st = SDX_NOMEM;
        goto cleanup;
    }
    snprintf(id_term, len, "%s%s", SDX_PREFIX_ID, c->id);
    st = sdx_writer_add_doc(w, id_term);
cleanup:
    free(order);
    free(id_term);
    msgpack_sbuffer_destroy(&buf);
    return st;
}

/* ------------------------------------------------------------------ */
/* Fields and filters                                                 */
/* ------------------------------------------------------------------ */

/* `row:` takes a label as typed ("Key Resp 06", key-resp-06) and slugs
   it, as the `rows` filter does; the others lower-case their value the
   same way, so `section:KSA` works. */
const sdx_field_t sdx_index_fields[] = {
    {"level", SDX_PREFIX_LEVEL, true, sdx_slug},
    {"section", SDX_PREFIX_SECTION, true, sdx_slug},
    {"row", SDX_PREFIX_ROW, true, sdx_slug},
    {"code", SDX_PREFIX_CODE, true, sdx_slug},
};
const size_t sdx_index_nfields = sizeof sdx_index_fields /
                                 sizeof sdx_index_fields[0];

/* Set ERR to CODE with MESSAGE; returns CODE. */
static sdx_errcode_t
s_fail(sdx_proto_error_t *err, sdx_errcode_t code, const char *message)
{
    err->code = code;
    snprintf(err->message, sizeof err->message, "%s", message);
    return code;
}

void
sdx_index_filters_free(sdx_index_filters_t *fs)
{
    while (fs->n > 0)
        sdx_index_filter_pop(fs);
    memset(fs, 0, sizeof *fs);
}

void
sdx_index_filter_pop(sdx_index_filters_t *fs)
{
    if (fs->n == 0)
        return;
    size_t k = --fs->n;
    for (size_t i = 0; i < fs->f[k].nterms; i++)
        free(fs->terms[k][i]);
    free(fs->terms[k]);
    fs->terms[k] = NULL;
    fs->f[k].terms = NULL;
    fs->f[k].nterms = 0;
}

sdx_errcode_t
sdx_index_filter_add(sdx_index_filters_t *fs, const char *prefix,
                     const char *const *values, size_t n, bool slug,
                     const char *key, sdx_proto_error_t *err)
{
    if (n == 0)
        return SDX_E_NONE;
    if (fs->n == SDX_INDEX_FILTERS_MAX)
        return s_fail(err, SDX_E_INTERNAL, "too many filters");
    size_t k = fs->n;
    size_t plen = strlen(prefix);
    char **terms = calloc(n, sizeof *terms);
    if (!terms)
        return s_fail(err, SDX_E_INTERNAL, "out of memory");
    fs->terms[k] = terms;
    fs->f[k].terms = (const char *const *)terms;
    fs->f[k].nterms = 0;
    fs->f[k].exclude = false;
    fs->n++; /* from here sdx_index_filter_pop frees what was made */
    for (size_t i = 0; i < n; i++) {
        char term[SDX_INDEX_TERM_MAX];
        memcpy(term, prefix, plen + 1);
        if (slug) {
            if (sdx_slug(values[i], term + plen, sizeof term - plen) <= 0) {
                err->code = SDX_E_BAD_REQUEST;
                snprintf(err->message, sizeof err->message,
                         "%s[%zu]: a row label needs a letter or digit",
                         key, i);
                sdx_index_filter_pop(fs);
                return err->code;
            }
        } else {
            snprintf(term + plen, sizeof term - plen, "%s", values[i]);
        }
        if (!(terms[i] = strdup(term))) {
            sdx_index_filter_pop(fs);
            return s_fail(err, SDX_E_INTERNAL, "out of memory");
        }
        fs->f[k].nterms = i + 1;
    }
    return SDX_E_NONE;
}

sdx_errcode_t
sdx_index_filters_from_request(sdx_db_t *db, sdx_index_filters_t *fs,
                               const sdx_request_t *req,
                               sdx_proto_error_t *err)
{
    const char *levels[SDX_PROTO_LIST_MAX];
    char level_text[SDX_PROTO_LIST_MAX][4];
    char series[SLUG_MAX];
    const char *series_v[1] = { series };
    sdx_errcode_t code;
    for (size_t i = 0; i < req->nlevels; i++) {
        snprintf(level_text[i], sizeof level_text[i], "%d", req->levels[i]);
        levels[i] = level_text[i];
    }
    if (req->series &&
        (code = sdx_index_series_slug(db, req->series, series,
                                      sizeof series, err)))
        return code;
    if ((code = sdx_index_filter_add(fs, SDX_PREFIX_LEVEL, levels,
                                     req->nlevels, false, "levels", err)) ||
        (code = sdx_index_filter_add(fs, SDX_PREFIX_SECTION,
                                     (const char *const *)req->sections.v,
                                     req->sections.n, false, "sections",
                                     err)) ||
        (code = sdx_index_filter_add(fs, SDX_PREFIX_ROW,
                                     (const char *const *)req->rows.v,
                                     req->rows.n, true, "rows", err)) ||
        (code = sdx_index_filter_add(fs, SDX_PREFIX_CODE,
                                     (const char *const *)req->codes.v,
                                     req->codes.n, false, "codes", err)) ||
        (code = sdx_index_filter_add(fs, SDX_PREFIX_SERIES, series_v,
                                     req->series ? 1 : 0, false, "series",
                                     err)))
        return code;
    return SDX_E_NONE;
}

/*
 * The clause of the first document indexed by TERM into *OUT (caller
 * destroys; NULL with SDX_E_NONE when no document has TERM).
 */
static sdx_errcode_t
s_clause_by_term(sdx_db_t *db, const char *term, sdx_clause_t **out,
                 sdx_proto_error_t *err)
{
    void *data = NULL;
    size_t len = 0;
    *out = NULL;
    sdx_status_t st = sdx_db_get_data_by_term(db, term, SDX_SLOT_RECORD,
                                              &data, &len);
    if (st == SDX_NOT_FOUND)
        return SDX_E_NONE;
    if (st == SDX_OK)
        st = sdx_clause_from_msgpack(data, len, out);
    free(data);
    if (st != SDX_OK)
        return s_fail(err, SDX_E_INTERNAL,
                      st == SDX_BAD_INPUT
                          ? "series: the index holds a malformed record"
                          : "series: the index failed (logged)");
    return SDX_E_NONE;
}

sdx_errcode_t
sdx_index_series_slug(sdx_db_t *db, const char *name, char *out,
                      size_t out_size, sdx_proto_error_t *err)
{
    char term[SDX_INDEX_TERM_MAX];
    sdx_clause_t *c = NULL;
    sdx_errcode_t code;
    int n = sdx_slug(name, out, out_size);
    if (n < 0)
        return s_fail(err, SDX_E_BAD_REQUEST,
                      "series: too long for a series title");
    if (n == 0)
        return s_fail(err, SDX_E_BAD_REQUEST,
                      "series: a series needs a letter or digit");
    /* its title, as the records' series slug gives it */
    snprintf(term, sizeof term, "%s%s", SDX_PREFIX_SERIES, out);
    if ((code = s_clause_by_term(db, term, &c, err)))
        return code;
    if (!c) {
        /* or the job code of one of its levels: that clause's series */
        snprintf(term, sizeof term, "%s%s", SDX_PREFIX_CODE, name);
        if ((code = s_clause_by_term(db, term, &c, err)))
            return code;
        if (c && sdx_slug(c->series, out, out_size) <= 0) {
            sdx_clause_destroy(&c);
            return s_fail(err, SDX_E_INTERNAL,
                          "series: the index holds a malformed record");
        }
    }
    if (!c) {
        /* NAME (up to SDX_PROTO_STR_MAX bytes) cut at a character
           boundary, so the message stays valid UTF-8 */
        size_t cut = 0, len = strlen(name);
        while (cut < len && cut < 160) {
            size_t k = sdx_utf8_seq_len((const unsigned char *)name + cut,
                                        len - cut);
            if (k == 0 || cut + k > 160)
                break;
            cut += k;
        }
        err->code = SDX_E_BAD_REQUEST;
        snprintf(err->message, sizeof err->message,
                 "series: no series \"%.*s%s\" in the index (specdex "
                 "series lists them)", (int)cut, name,
                 cut < len ? "..." : "");
        return err->code;
    }
    sdx_clause_destroy(&c);
    return SDX_E_NONE;
}

void
sdx_index_spec_init(sdx_search_spec_t *spec, const char *q,
                    const sdx_index_filters_t *fs)
{
    memset(spec, 0, sizeof *spec);
    spec->query = q;
    spec->fields = sdx_index_fields;
    spec->nfields = sdx_index_nfields;
    spec->filters = fs ? fs->f : NULL;
    spec->nfilters = fs ? fs->n : 0;
    spec->data_slot = SDX_SLOT_RECORD;
    spec->snippet_text = sdx_clause_text;  /* the record has the text */
}

void
sdx_index_search_init(sdx_search_spec_t *spec, const char *q,
                      const sdx_index_filters_t *fs)
{
    sdx_index_spec_init(spec, q, fs);
    spec->limit = SDX_PROTO_LIMIT_DEFAULT;
    spec->check_at_least = SDX_SEARCH_CHECK_AT_LEAST;
    spec->max_expansion = SDX_SEARCH_MAX_EXPANSION;
    spec->time_limit_s = SDX_SEARCH_TIME_LIMIT_S;
    spec->snippet_chars = SDX_SEARCH_SNIPPET_CHARS;
    spec->max_terms = SDX_SEARCH_MAX_TERMS;
    spec->synonyms = true;
}

/* ------------------------------------------------------------------ */
/* Reading a record, the revision                                     */
/* ------------------------------------------------------------------ */

sdx_status_t
sdx_index_get_record(sdx_db_t *db, const char *id, void **data, size_t *len)
{
    char term[SDX_INDEX_TERM_MAX];
    snprintf(term, sizeof term, "%s%s", SDX_PREFIX_ID, id);
    return sdx_db_get_data_by_term(db, term, SDX_SLOT_RECORD, data, len);
}

sdx_status_t
sdx_index_revision(sdx_db_t *db, uint64_t *rev)
{
    char *value = NULL, *end = NULL;
    *rev = 0;
    sdx_status_t st = sdx_db_get_metadata(db, SDX_META_REVISION, &value);
    if (st != SDX_OK)
        return st;
    unsigned long long v = strtoull(value, &end, 10);
    if (value[0] && *end == '\0')
        *rev = v;
    else
        st = SDX_NOT_FOUND;
    free(value);
    return st;
}

/* ------------------------------------------------------------------ */
/* The index directory                                                */
/* ------------------------------------------------------------------ */

sdx_status_t
sdx_index_resolve(const char *dir, char *out, size_t out_size, char *err,
                  size_t err_size)
{
    char path[PATH_MAX_SDX], real[PATH_MAX];
    struct stat sb;

    snprintf(path, sizeof path, "%s/current", dir);
    if (lstat(path, &sb) < 0) {
        snprintf(path, sizeof path, "%s/iamglass", dir);
        if (stat(path, &sb) < 0) {
            snprintf(err, err_size, "no index at %s (run specdex-index "
                     "-o %s corpus)", dir, dir);
            return SDX_UNAVAILABLE;
        }
        snprintf(path, sizeof path, "%s", dir);
    }
    if (!realpath(path, real)) {
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
        return SDX_UNAVAILABLE;
    }
    if (strlen(real) >= out_size) {
        snprintf(err, err_size, "%s: path too long", real);
        return SDX_UNAVAILABLE;
    }
    memcpy(out, real, strlen(real) + 1);
    return SDX_OK;
}

/* malloc'd printf, for the shim's malloc'd *errmsg; NULL when out of
   memory (the caller then has only the status). */
static char *
s_strdupf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n < 0 ? NULL : malloc((size_t)n + 1);
    if (s) {
        va_start(ap, fmt);
        vsnprintf(s, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    return s;
}

sdx_status_t
sdx_index_open(const char *path, sdx_db_t **out, char **errmsg)
{
    return sdx_index_open_shards(&path, 1, out, errmsg);
}

sdx_status_t
sdx_index_open_shards(const char *const *specs, size_t n, sdx_db_t **out,
                      char **errmsg)
{
    uint64_t docs = 0, records = 0, ordered = 0;
    char *why = NULL;
    const char *path = specs[0];
    sdx_status_t st = sdx_db_open_shards(specs, n, SDX_SLOT_ORDER, out,
                                         errmsg ? &why : NULL);
    if (st != SDX_OK) {
        if (errmsg)
            *errmsg = s_strdupf("cannot open %s%s: %s", path,
                                n > 1 ? " and its other shards" : "",
                                why ? why : sdx_status_str(st));
        free(why);
        return st;
    }
    if ((st = sdx_db_doc_count(*out, &docs)) != SDX_OK ||
        (st = sdx_db_value_count(*out, SDX_SLOT_RECORD, &records)) !=
            SDX_OK ||
        (n > 1 && (st = sdx_db_value_count(*out, SDX_SLOT_ORDER,
                                           &ordered)) != SDX_OK)) {
        if (errmsg)
            *errmsg = s_strdupf("cannot open %s: %s", path,
                                sdx_db_errmsg(*out));
        sdx_db_destroy(out);
        return st;
    }
    if (n > 1 && ordered != docs) {
        /* without the order, equal scores would rank differently than
           in one index: refused, not served in another order */
        if (errmsg)
            *errmsg = s_strdupf("the shards of %s were not built by "
                                "specdex-index --shards (%" PRIu64 " of "
                                "%" PRIu64 " documents carry their order "
                                "in one index): rebuild them with "
                                "specdex-index --shards N", path, ordered,
                                docs);
        sdx_db_destroy(out);
        return SDX_UNAVAILABLE;
    }
    if (records == docs) {
        /* an updated index breaks ties on the order key */
        char *ties = NULL;
        if ((st = sdx_db_get_metadata(*out, SDX_META_TIES, &ties)) !=
            SDX_OK) {
            if (errmsg)
                *errmsg = s_strdupf("cannot open %s: %s", path,
                                    sdx_db_errmsg(*out));
            sdx_db_destroy(out);
            return st;
        }
        if (strcmp(ties, "order") == 0)
            sdx_db_set_tie_slot(*out, SDX_SLOT_ORDER);
        free(ties);
        return SDX_OK;
    }
    /* DIR/rev-NNNNNN names its index directory; a bare database does
       not, and the message says DIR. */
    const char *slash = strrchr(path, '/');
    bool rev = slash && slash > path && strncmp(slash + 1, "rev-", 4) == 0;
    if (errmsg)
        *errmsg = s_strdupf("index at %s was built by an older "
                            "specdex-index (no record slot): rebuild it "
                            "with specdex-index -o %.*s CORPUS", path,
                            rev ? (int)(slash - path) : 3,
                            rev ? path : "DIR");
    sdx_db_destroy(out);
    return SDX_UNAVAILABLE;
}

/* True when C may end a path in a message ("at /x/rev-3: ..."). */
static bool
s_path_end(const char *c)
{
    return *c == '\0' || *c == ' ' || *c == '\t' || *c == '"' ||
           *c == '\'' || *c == ')' || *c == ',' ||
           (*c == ':' && (c[1] == ' ' || c[1] == '\0'));
}

void
sdx_index_public_msg(const char *msg, char *out, size_t size)
{
    size_t n = 0;
    if (size == 0)
        return;
    for (const char *p = msg; *p && n + 1 < size;) {
        bool starts = *p == '/' &&
                      (p == msg || strchr(" \t\"'(=", p[-1]) != NULL);
        if (!starts) {
            out[n++] = *p++;
            continue;
        }
        const char *end = p;
        while (!s_path_end(end))
            end++;
        /* the last rev-NNNNNN component, and what follows it */
        const char *rev = NULL;
        for (const char *q = p; q + 5 <= end; q++)
            if (strncmp(q, "/rev-", 5) == 0 && q[5] >= '0' && q[5] <= '9')
                rev = q;
        char piece[300];
        if (rev) {
            char *digits_end = NULL;
            unsigned long long number = strtoull(rev + 5, &digits_end, 10);
            if (digits_end < end && *digits_end == '/')
                snprintf(piece, sizeof piece, "revision %llu (%.*s)",
                         number, (int)(end - digits_end - 1),
                         digits_end + 1);
            else
                snprintf(piece, sizeof piece, "revision %llu", number);
        } else {
            snprintf(piece, sizeof piece, "DIR");
        }
        for (const char *c = piece; *c && n + 1 < size; c++)
            out[n++] = *c;
        p = end;
    }
    out[n] = '\0';
}
