/*
 * corpus: paths -> files -> readers -> clause records.
 *
 * The walker of the input side: a path is a file (read by the reader
 * its name asks for, the text format when none does) or a directory
 * whose job-standard files are read sorted by name.  Files are read
 * side by side, one thread per core taking the next file, each into a
 * record of its own (reader.h), so one run reports every bad file of a
 * corpus, in name order, and a good corpus gives the same clauses as
 * one read file after file.  Clause ids must then be unique over all
 * the files.  The table of readers is here: a new format is a new
 * read_FORMAT.c and one line below.
 */
#include "parse.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reader.h"

/* ---- the readers ------------------------------------------------------ */

static const char *const text_suffixes[] = { ".txt", NULL };
static const char *const html_suffixes[] = { ".html", ".htm", NULL };
static const char *const jsonl_suffixes[] = { ".jsonl", NULL };

static const sdx_reader_t readers[] = {
    { "text", text_suffixes, sdx_read_text },
    { "html", html_suffixes, sdx_read_html },
    { "jsonl", jsonl_suffixes, sdx_read_jsonl },
};

#define NREADERS (sizeof readers / sizeof readers[0])

/* True when NAME ends in SUFFIX and has something before it. */
static bool
ends_with(const char *name, const char *suffix)
{
    size_t n = strlen(name), k = strlen(suffix);
    return n > k && strcmp(name + n - k, suffix) == 0;
}

const sdx_reader_t *
sdx_reader_for(const char *path, bool any_name)
{
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    for (size_t i = 0; i < NREADERS; i++)
        for (const char *const *s = readers[i].suffixes; *s; s++)
            if (ends_with(name, *s))
                return &readers[i];
    return any_name ? &readers[0] : NULL;
}

/* ---- clause lists ----------------------------------------------------- */

/* Make room for NEED clauses in LIST. */
static sdx_status_t
list_reserve(sdx_clause_list_t *list, size_t need)
{
    if (need <= list->cap)
        return SDX_OK;
    size_t cap = list->cap ? list->cap : 64;
    while (cap < need) {
        if (cap > SIZE_MAX / 2 / sizeof *list->items)
            return SDX_NOMEM;
        cap *= 2;
    }
    sdx_clause_t **items = realloc(list->items, cap * sizeof *items);
    if (!items)
        return SDX_NOMEM;
    list->items = items;
    list->cap = cap;
    return SDX_OK;
}

/* Move every clause of FROM to the end of TO; all or nothing. */
static sdx_status_t
list_move(sdx_clause_list_t *to, sdx_clause_list_t *from)
{
    if (from->count == 0)
        return SDX_OK;
    if (list_reserve(to, to->count + from->count) != SDX_OK)
        return SDX_NOMEM;
    memcpy(to->items + to->count, from->items,
           from->count * sizeof *from->items);
    to->count += from->count;
    from->count = 0;
    return SDX_OK;
}

sdx_status_t
sdx_clause_list_push(sdx_clause_list_t *list, sdx_clause_t **clause_p)
{
    if (list_reserve(list, list->count + 1) != SDX_OK)
        return SDX_NOMEM;
    list->items[list->count++] = *clause_p;
    *clause_p = NULL;
    return SDX_OK;
}

void
sdx_clause_list_clear(sdx_clause_list_t *list)
{
    for (size_t i = 0; i < list->count; i++)
        sdx_clause_destroy(&list->items[i]);
    free(list->items);
    list->items = NULL;
    list->count = 0;
    list->cap = 0;
}

/* A clause's id and its place, sorted by both: the first of an id first. */
typedef struct idplace {
    const char *id;   /* the clause's id, not owned */
    size_t at;        /* its index in the array scanned */
} idplace_t;

static int
compare_idplace(const void *a, const void *b)
{
    const idplace_t *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    return c ? c : (x->at > y->at) - (x->at < y->at);
}

int
sdx_clause_dup_ids(sdx_clause_t *const *items, size_t n, sdx_dup_fn fn,
                   void *arg)
{
    if (n < 2)
        return 0;
    idplace_t *v = malloc(n * sizeof *v);
    if (!v)
        return -1;
    for (size_t i = 0; i < n; i++)
        v[i] = (idplace_t){ items[i]->id, i };
    qsort(v, n, sizeof *v, compare_idplace);
    int rc = 0;
    for (size_t i = 1; i < n && rc == 0; i++)
        if (strcmp(v[i - 1].id, v[i].id) == 0 &&
            (i < 2 || strcmp(v[i - 2].id, v[i].id) != 0)) /* once an id */
            rc = fn(arg, v[i - 1].at, v[i].at);
    free(v);
    return rc;
}

/* ---- one file ---------------------------------------------------------- */

/* An I/O error note "PATH: what: strerror" in R; SDX_IO. */
static sdx_status_t
io_fail(sdx_file_read_t *r, const char *what, int errnum)
{
    sdx_note(r, SDX_NOTE_ERROR, 0, NULL, "%s: %s", what, strerror(errnum));
    if (r->st != SDX_NOMEM)
        r->st = SDX_IO;
    return r->st;
}

/* Read the file R->path and hand it to its reader. */
static sdx_status_t
read_file(sdx_file_read_t *r, const sdx_reader_t *reader)
{
    struct stat sb;
    char *buf = NULL;
    size_t len = 0;
    r->format = reader->name;
    int fd = open(r->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return io_fail(r, "cannot open", errno);
    if (fstat(fd, &sb) != 0) {
        io_fail(r, "cannot stat", errno);
        goto cleanup;
    }
    if (!S_ISREG(sb.st_mode)) {
        io_fail(r, "cannot read", EINVAL);
        goto cleanup;
    }
    /* Check the limit before allocating; read one byte past it so a
     * file that grew meanwhile is still caught. */
    if (sb.st_size > SDX_PARSE_MAX_BYTES) {
        sdx_note(r, SDX_NOTE_ERROR, 0, NULL,
                 "%lld bytes, over the limit of %d bytes",
                 (long long)sb.st_size, SDX_PARSE_MAX_BYTES);
        goto cleanup;
    }
    size_t cap = (size_t)sb.st_size + 1;
    if (!(buf = malloc(cap))) {
        sdx_note_nomem(r);
        goto cleanup;
    }
    for (;;) {
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            io_fail(r, "cannot read", errno);
            goto cleanup;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len == cap) {
            sdx_note(r, SDX_NOTE_ERROR, 0, NULL,
                     "the file grew while being read");
            r->st = SDX_IO;
            goto cleanup;
        }
    }
    reader->read(r, buf, len);
cleanup:
    free(buf);
    close(fd);
    return r->st;
}

/* ---- files side by side ----------------------------------------------- */

typedef struct file_jobs {
    sdx_file_read_t *files;      /* every file, in order */
    size_t n;                    /* how many */
    atomic_size_t next;          /* the next one to take */
} file_jobs_t;

#define READ_THREADS_MAX 16      /* reader threads, at most */

static void *
read_thread(void *arg)
{
    file_jobs_t *fj = arg;
    size_t i;
    while ((i = atomic_fetch_add(&fj->next, 1)) < fj->n) {
        sdx_file_read_t *f = &fj->files[i];
        read_file(f, sdx_reader_for(f->path, true));
    }
    return NULL;
}

/* Read the files FILES[0..N) each into its own record, side by side. */
static void
read_files(sdx_file_read_t *files, size_t n)
{
    file_jobs_t fj = { files, n, 0 };
    pthread_t threads[READ_THREADS_MAX];
    size_t started = 0;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    size_t want = cores < 1 ? 1 : (size_t)cores;
    if (want > READ_THREADS_MAX)
        want = READ_THREADS_MAX;
    if (want > n)
        want = n;
    /* this thread reads too: helpers only when there is a second file */
    for (; started + 1 < want; started++)
        if (pthread_create(&threads[started], NULL, read_thread, &fj))
            break;         /* fewer threads: the files still all read */
    read_thread(&fj);
    for (size_t t = 0; t < started; t++)
        pthread_join(threads[t], NULL);
}

/* ---- the corpus -------------------------------------------------------- */

static int
compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Append an error message (formatted) to C's corpus-wide errors. */
static sdx_status_t
corpus_error(sdx_corpus_t *c, sdx_status_t st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static sdx_status_t
corpus_error(sdx_corpus_t *c, sdx_status_t st, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    if (c->st == SDX_OK || st == SDX_NOMEM)
        c->st = st;
    if (c->nerrors == SDX_CORPUS_ERRORS_MAX)
        return c->st;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char *s = strdup(buf);
    if (!s) {
        c->st = SDX_NOMEM;
        return c->st;
    }
    c->errors[c->nerrors++] = s;
    return c->st;
}

/* Add the file PATH (copied) to C's list. */
static sdx_status_t
add_file(sdx_corpus_t *c, const char *path)
{
    if (c->nfiles == c->files_cap) {
        size_t cap = c->files_cap ? c->files_cap * 2 : 16;
        sdx_file_read_t *f = realloc(c->files, cap * sizeof *f);
        if (!f)
            return SDX_NOMEM;
        c->files = f;
        c->files_cap = cap;
    }
    char *p = strdup(path);
    if (!p)
        return SDX_NOMEM;
    c->files[c->nfiles++] = (sdx_file_read_t)SDX_FILE_READ_INIT(p);
    return SDX_OK;
}

/* True when NAME in a directory is a job-standard file: one a reader
 * takes, not hidden, not the synonym list. */
static bool
is_standard_name(const char *name)
{
    return name[0] != '.' && strcmp(name, SDX_SYNONYMS_FILE) != 0 &&
           sdx_reader_for(name, false) != NULL;
}

/* Add DIR's job-standard files, sorted by name, to C. */
static sdx_status_t
add_dir(sdx_corpus_t *c, const char *dir)
{
    char **names = NULL;
    size_t n = 0, cap = 0;
    sdx_status_t st = SDX_OK;
    struct dirent *de;
    DIR *d = opendir(dir);
    if (!d)
        return corpus_error(c, SDX_IO, "%s: cannot open directory: %s", dir,
                            strerror(errno));
    for (;;) {
        errno = 0;
        if (!(de = readdir(d))) {
            if (errno != 0)
                st = corpus_error(c, SDX_IO, "%s: cannot read directory: "
                                  "%s", dir, strerror(errno));
            break;
        }
        if (!is_standard_name(de->d_name))
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **nn = realloc(names, ncap * sizeof *nn);
            if (!nn)
                goto nomem;
            names = nn;
            cap = ncap;
        }
        if (!(names[n] = strdup(de->d_name)))
            goto nomem;
        n++;
    }
    if (st != SDX_OK)
        goto cleanup;
    if (n > 0)
        qsort(names, n, sizeof *names, compare_names);
    for (size_t i = 0; i < n; i++) {
        struct stat sb;
        size_t dl = strlen(dir);
        bool slash = dl > 0 && dir[dl - 1] == '/';
        char *path = malloc(dl + strlen(names[i]) + 2);
        if (!path)
            goto nomem;
        sprintf(path, "%s%s%s", dir, slash ? "" : "/", names[i]);
        if (stat(path, &sb) != 0) {
            st = corpus_error(c, SDX_IO, "%s: cannot stat: %s", path,
                              strerror(errno));
            free(path);
            goto cleanup;
        }
        if (S_ISREG(sb.st_mode) && add_file(c, path) != SDX_OK) {
            free(path);
            goto nomem;
        }
        free(path);
    }
    goto cleanup;
nomem:
    st = corpus_error(c, SDX_NOMEM, "%s: out of memory", dir);
cleanup:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    closedir(d);
    return st;
}

/* The corpus's clauses, all files' in a row, for the duplicate check. */
typedef struct corpus_ids {
    sdx_corpus_t *c;               /* the corpus */
    sdx_clause_t **all;            /* its files' clauses, in order */
} corpus_ids_t;

/* The file holding clause AT of the row (a walk: duplicates are rare). */
static size_t
file_of(const sdx_corpus_t *c, size_t at)
{
    size_t f = 0;
    while (at >= c->files[f].clauses.count)
        at -= c->files[f++].clauses.count;
    return f;
}

/* One id two clauses share, named with both files (sdx_dup_fn). */
static int
report_dup(void *arg, size_t first, size_t second)
{
    corpus_ids_t *ids = arg;
    size_t a = file_of(ids->c, first), b = file_of(ids->c, second);
    const char *fa = ids->c->files[a].path, *fb = ids->c->files[b].path;
    const char *id = ids->all[first]->id;
    if (a == b)
        corpus_error(ids->c, SDX_BAD_INPUT, "%s: duplicate clause id "
                     "\"%s\" (twice in this file)", fa, id);
    else
        corpus_error(ids->c, SDX_BAD_INPUT, "duplicate clause id \"%s\": "
                     "in %s and in %s", id, fa, fb);
    return 0;
}

/* Every clause id that two clauses share, named with both files. */
static void
check_unique_ids(sdx_corpus_t *c)
{
    size_t total = 0, k = 0;
    for (size_t f = 0; f < c->nfiles; f++)
        total += c->files[f].clauses.count;
    if (total < 2)
        return;
    corpus_ids_t ids = { c, malloc(total * sizeof *ids.all) };
    if (!ids.all) {
        corpus_error(c, SDX_NOMEM, "out of memory");
        return;
    }
    for (size_t f = 0; f < c->nfiles; f++)
        for (size_t i = 0; i < c->files[f].clauses.count; i++)
            ids.all[k++] = c->files[f].clauses.items[i];
    if (sdx_clause_dup_ids(ids.all, total, report_dup, &ids) < 0)
        corpus_error(c, SDX_NOMEM, "out of memory");
    free(ids.all);
}

sdx_status_t
sdx_corpus_read(const char *const *paths, size_t npaths, sdx_corpus_t *c)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < npaths && c->st != SDX_NOMEM; i++) {
        struct stat sb;
        if (stat(paths[i], &sb) != 0)
            corpus_error(c, SDX_IO, "%s: cannot read: %s", paths[i],
                         strerror(errno));
        else if (S_ISDIR(sb.st_mode))
            add_dir(c, paths[i]);
        else if (add_file(c, paths[i]) != SDX_OK)
            corpus_error(c, SDX_NOMEM, "out of memory");
    }
    if (c->st == SDX_NOMEM)
        return c->st;
    read_files(c->files, c->nfiles);
    for (size_t f = 0; f < c->nfiles; f++) {
        if (c->files[f].st == SDX_OK)
            continue;
        c->nbad++;
        if (c->st == SDX_OK || c->files[f].st == SDX_NOMEM)
            c->st = c->files[f].st;
    }
    if (c->nbad == 0)
        check_unique_ids(c);
    return c->st;
}

sdx_status_t
sdx_corpus_take(sdx_corpus_t *c, sdx_clause_list_t *out)
{
    size_t total = out->count;
    for (size_t f = 0; f < c->nfiles; f++)
        total += c->files[f].clauses.count;
    if (list_reserve(out, total) != SDX_OK)
        return SDX_NOMEM;
    for (size_t f = 0; f < c->nfiles; f++)
        list_move(out, &c->files[f].clauses); /* room made above */
    return SDX_OK;
}

void
sdx_corpus_clear(sdx_corpus_t *c)
{
    if (!c)
        return;
    for (size_t f = 0; f < c->nfiles; f++) {
        free((char *)c->files[f].path);
        sdx_file_read_clear(&c->files[f]);
    }
    free(c->files);
    for (size_t i = 0; i < c->nerrors; i++)
        free(c->errors[i]);
    memset(c, 0, sizeof *c);
}

/* Append LINE and a newline to ERR (ERR_SIZE bytes), as far as it goes. */
static void
append_line(char *err, size_t err_size, size_t *used, const char *line)
{
    if (!err || *used + 1 >= err_size)
        return;
    int n = snprintf(err + *used, err_size - *used, "%s%s",
                     *used ? "\n" : "", line);
    if (n > 0)
        *used += (size_t)n < err_size - *used ? (size_t)n
                                               : err_size - *used - 1;
}

void
sdx_corpus_errors(const sdx_corpus_t *c, char *err, size_t err_size)
{
    size_t used = 0;
    if (err && err_size > 0)
        err[0] = '\0';
    for (size_t i = 0; i < c->nerrors; i++)
        append_line(err, err_size, &used, c->errors[i]);
    for (size_t f = 0; f < c->nfiles; f++)
        for (size_t i = 0; i < c->files[f].nnotes; i++)
            if (c->files[f].notes[i].kind == SDX_NOTE_ERROR)
                append_line(err, err_size, &used, c->files[f].notes[i].text);
}

/* ---- the simple forms ------------------------------------------------- */

sdx_status_t
sdx_parse_paths(const char *const *paths, size_t npaths,
                sdx_clause_list_t *out, size_t *nfiles, char *err,
                size_t err_size)
{
    sdx_corpus_t c;
    sdx_status_t st = sdx_corpus_read(paths, npaths, &c);
    if (st == SDX_OK)
        st = sdx_corpus_take(&c, out);
    if (st != SDX_OK)
        sdx_corpus_errors(&c, err, err_size);
    else if (err && err_size > 0)
        err[0] = '\0';
    if (st == SDX_NOMEM && err && err_size > 0 && !err[0])
        snprintf(err, err_size, "out of memory");
    if (nfiles)
        *nfiles = st == SDX_OK ? c.nfiles : 0;
    sdx_corpus_clear(&c);
    return st;
}

/* Read TEXT with READ as file NAME into OUT: all or nothing. */
static sdx_status_t
parse_one(sdx_read_fn read, const char *name, const char *text, size_t len,
          sdx_clause_list_t *out, char *err, size_t err_size)
{
    sdx_file_read_t r = SDX_FILE_READ_INIT(name);
    if (err && err_size > 0)
        err[0] = '\0';
    if (len > SDX_PARSE_MAX_BYTES)
        sdx_note(&r, SDX_NOTE_ERROR, 0, NULL,
                 "%zu bytes, over the limit of %d bytes", len,
                 SDX_PARSE_MAX_BYTES);
    else
        read(&r, text, len);
    if (r.st == SDX_OK && list_move(out, &r.clauses) != SDX_OK)
        sdx_note_nomem(&r);
    sdx_status_t st = r.st;
    if (st != SDX_OK && err && err_size > 0) {
        const char *why = sdx_file_read_error(&r);
        snprintf(err, err_size, "%s", why ? why : "out of memory");
    }
    sdx_file_read_clear(&r);
    return st;
}

sdx_status_t
sdx_parse_text(const char *name, const char *text, size_t len,
               sdx_clause_list_t *out, char *err, size_t err_size)
{
    return parse_one(sdx_read_text, name ? name : "<text>", text, len, out,
                     err, err_size);
}

sdx_status_t
sdx_parse_jsonl(const char *name, const char *text, size_t len,
                sdx_clause_list_t *out, char *err, size_t err_size)
{
    return parse_one(sdx_read_jsonl, name ? name : "<jsonl>", text, len,
                     out, err, err_size);
}

sdx_status_t
sdx_parse_html(const char *name, const char *text, size_t len,
               sdx_clause_list_t *out, char *err, size_t err_size)
{
    return parse_one(sdx_read_html, name ? name : "<html>", text, len, out,
                     err, err_size);
}
