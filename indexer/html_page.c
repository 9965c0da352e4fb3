/*
 * html_page: a job standard saved from the web as an HTML page -> its
 * series title, job summary and table cells (html_page.h; the rules a
 * page must follow are in docs/HTML.md, "Saved web pages").
 *
 * The way through a page:
 *
 *  1. The bytes are checked as a text file first (sdx_utf8_check_text:
 *     UTF-8, no NUL, no control bytes), so libxml2 never has to guess an
 *     encoding and never silently drops a byte it cannot read.
 *  2. libxml2's HTML parser builds the tree, in recovery mode so that
 *     tags left open close where a browser closes them ("<td>a<td>b" is
 *     two cells), and told the page is UTF-8 with HTML_PARSE_IGNORE_ENC
 *     so a <meta charset> cannot switch it to another decoder halfway.
 *     A <meta> that names another charset is refused afterwards: such a
 *     page was saved in that encoding, and reading it as UTF-8 could turn
 *     its letters into others.
 *  3. Two SAX callbacks of this context are wrapped to note on each
 *     element (node->_private, which libxml2 leaves to the application)
 *     its exact line, since libxml2 keeps lines in 16 bits and reports
 *     65535 past that, and whether the end of the input closed it.  The
 *     input is handed over with one '\n' added, so an end tag is never
 *     the last thing read: what closes at the end of the input was left
 *     open, and a job-standard table left open is a page cut short.
 *  4. The job-standard table is the first <table> in document order
 *     whose first own row (table > tr, table > thead|tbody|tfoot > tr)
 *     begins with a cell reading "Job Title".  Its rows are its own rows
 *     only; a table nested in a cell is part of that cell's text.
 *  5. The page outside that table is cut into text blocks at the
 *     boundaries of block elements (p, div, li, h1..h6, td, ...), the
 *     way a browser lays it out; the first block reading "Job Summary"
 *     is the heading, the last block before it the series title, and the
 *     blocks from it to the table the summary.
 *
 * Text is taken in document order from text and CDATA nodes; <br> and
 * block boundaries count as whitespace; script, style, template,
 * noscript, iframe, svg, head and title are skipped, and so are
 * comments; every whitespace run (Unicode's, U+00A0 included) becomes
 * one space and the ends are trimmed.  Every walk over the tree is a
 * loop over parent and sibling links, never recursion: with
 * XML_PARSE_HUGE libxml2 puts no limit on nesting, so a page of 100,000
 * nested <b> must not exhaust the stack.
 *
 * Threads: any number of pages may be read at once, one per call.
 *  - xmlInitParser() runs once, through pthread_once(), before the first
 *    parse: in libxml2 2.9 its first call sets up global tables without
 *    a lock, so two threads making it at once would race.
 *  - Every call has its own parser context, with its own copy of the
 *    SAX handler (htmlNewParserCtxt copies the defaults), dictionary,
 *    input and error record; the wrapped callbacks live in that copy and
 *    their state hangs from ctxt->_private.  The tree is the call's own.
 *  - No error handler is installed anywhere: HTML_PARSE_NOERROR and
 *    HTML_PARSE_NOWARNING clear this context's error callbacks, so
 *    libxml2 records errors in the context (and in its last error, kept
 *    per thread) and prints nothing.  The global setters
 *    (xmlSetGenericErrorFunc, xmlSetStructuredErrorFunc: per thread in
 *    a threaded libxml2, and another part of a program may own them)
 *    are never called, and neither is xmlCleanupParser(), which would
 *    pull the library from under the other threads.
 *
 * Cost: one pass over the bytes to check them, one copy of them for
 * libxml2 (which copies them again), the tree (several times the page),
 * and a few walks over it, each linear in its size.
 */
#include "html_page.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "sdx_utf8.h"

#define EXCERPT 40       /* bytes of page text quoted in a message, at most */
#define MAX_SPAN 9       /* colspan, at most: one cell across every level */
#define MSG_MAX 256      /* bytes of a message part built before it is sent */
#define HEADING "Job Summary" /* the block that starts the summary */
#define HEADER "Job Title"    /* the first cell of the job-standard table */

/* libxml2's options: never the network, recover like a browser, print
 * nothing, keep to UTF-8 (see the opening comment), no DTD node made up;
 * and XML_PARSE_HUGE (htmlCtxtUseOptions takes it), which lifts
 * libxml2's own limits (elements nested 256 deep, a text of 10 MB) made
 * for input of any size: the limit here is SDX_HTML_MAX_BYTES, checked
 * first, and every walk over the tree is a loop. */
#define PARSE_OPTIONS                                                    \
    (HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |     \
     HTML_PARSE_RECOVER | HTML_PARSE_IGNORE_ENC | HTML_PARSE_NODEFDTD | \
     XML_PARSE_HUGE)

/* ---- errors ---------------------------------------------------------- */

/* Where a message goes, and the name it starts with. */
typedef struct reader {
    const char *name; /* the file's name, first in every message */
    char *err;        /* the caller's buffer; NULL: no message */
    size_t err_size;  /* its size in bytes */
} reader_t;

/* Copy at most EXCERPT bytes of S into BUF (EXCERPT + 4 bytes), cut on a
 * UTF-8 boundary, "..." added when cut. */
static const char *
excerpt(const char *s, char *buf)
{
    size_t n = strlen(s);
    if (n <= EXCERPT) {
        memcpy(buf, s, n + 1);
        return buf;
    }
    n = EXCERPT;
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--;
    memcpy(buf, s, n);
    memcpy(buf + n, "...", 4);
    return buf;
}

/* Write "NAME:LINE: row \"LABEL\": ..." (no LINE when 0, no row when
 * LABEL is NULL) into the caller's buffer; SDX_BAD_INPUT. */
static sdx_status_t
fail(const reader_t *rd, size_t line, const char *label, const char *fmt,
     ...) __attribute__((format(printf, 4, 5)));

static sdx_status_t
fail(const reader_t *rd, size_t line, const char *label, const char *fmt,
     ...)
{
    char where[64] = "", row[EXCERPT + 16] = "", ex[EXCERPT + 4];
    if (!rd->err || rd->err_size == 0)
        return SDX_BAD_INPUT;
    if (line > 0)
        snprintf(where, sizeof where, ":%zu", line);
    if (label)
        snprintf(row, sizeof row, "row \"%s\": ", excerpt(label, ex));
    int n = snprintf(rd->err, rd->err_size, "%s%s: %s", rd->name, where,
                     row);
    if (n >= 0 && (size_t)n < rd->err_size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(rd->err + n, rd->err_size - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return SDX_BAD_INPUT;
}

static sdx_status_t
fail_nomem(const reader_t *rd)
{
    if (rd->err && rd->err_size > 0)
        snprintf(rd->err, rd->err_size, "%s: out of memory", rd->name);
    return SDX_NOMEM;
}

/* ---- normalised text ------------------------------------------------- */

/* Text being gathered: whitespace runs become one space, the ends are
 * trimmed as it is written. */
typedef struct text_buf {
    char *p;    /* the text, NUL-terminated once anything is written */
    size_t n;   /* its length in bytes, without the NUL */
    size_t cap; /* bytes allocated */
    bool gap;   /* whitespace since the last character: a space before the
                   next one (never at the start) */
} text_buf_t;

/* Bytes of the whitespace character at P (LEFT bytes readable): ASCII
 * blanks, U+0085, U+00A0, U+1680, U+2000..U+200A, U+2028, U+2029,
 * U+202F, U+205F, U+3000 (Unicode's White_Space); 0 for anything else. */
static size_t
space_len(const unsigned char *p, size_t left)
{
    if (*p == ' ' || (*p >= '\t' && *p <= '\r'))
        return 1;
    if (left >= 2 && p[0] == 0xc2 && (p[1] == 0x85 || p[1] == 0xa0))
        return 2;
    if (left < 3)
        return 0;
    if ((p[0] == 0xe1 && p[1] == 0x9a && p[2] == 0x80) ||
        (p[0] == 0xe2 && p[1] == 0x80 &&
         (p[2] <= 0x8a || p[2] == 0xa8 || p[2] == 0xa9 || p[2] == 0xaf)) ||
        (p[0] == 0xe2 && p[1] == 0x81 && p[2] == 0x9f) ||
        (p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80))
        return 3;
    return 0;
}

/* Make room for N more bytes and the NUL. */
static sdx_status_t
tb_reserve(text_buf_t *tb, size_t n)
{
    if (tb->n + n + 1 <= tb->cap)
        return SDX_OK;
    if (n > SIZE_MAX / 4 - tb->n)
        return SDX_NOMEM;
    size_t cap = tb->cap ? tb->cap : 64;
    while (cap < tb->n + n + 1)
        cap *= 2;
    char *p = realloc(tb->p, cap);
    if (!p)
        return SDX_NOMEM;
    tb->p = p;
    tb->cap = cap;
    return SDX_OK;
}

/* Append S (LEN bytes of UTF-8), whitespace normalised. */
static sdx_status_t
tb_text(text_buf_t *tb, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        size_t w = space_len(p + i, len - i);
        if (w > 0) {
            tb->gap = true;
            i += w;
            continue;
        }
        size_t start = i;
        while (i < len && space_len(p + i, len - i) == 0) {
            size_t k = sdx_utf8_seq_len(p + i, len - i);
            i += k ? k : 1;
        }
        bool space = tb->gap && tb->n > 0;
        if (tb_reserve(tb, i - start + space) != SDX_OK)
            return SDX_NOMEM;
        if (space)
            tb->p[tb->n++] = ' ';
        memcpy(tb->p + tb->n, s + start, i - start);
        tb->n += i - start;
        tb->p[tb->n] = '\0';
        tb->gap = false;
    }
    return SDX_OK;
}

/* Empty TB, keeping its memory. */
static void
tb_reset(text_buf_t *tb)
{
    tb->n = 0;
    tb->gap = false;
    if (tb->p)
        tb->p[0] = '\0';
}

/* The text so far ("" when none), a new string of the caller's. */
static char *
tb_copy(const text_buf_t *tb)
{
    char *s = malloc(tb->n + 1);
    if (s) {
        if (tb->n)
            memcpy(s, tb->p, tb->n);
        s[tb->n] = '\0';
    }
    return s;
}

static void
tb_free(text_buf_t *tb)
{
    free(tb->p);
    *tb = (text_buf_t){ 0 };
}

/* ---- elements -------------------------------------------------------- */

/* True when N is the element NAME (libxml2 lowercases HTML names). */
static bool
is(const xmlNode *n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE &&
           strcmp((const char *)n->name, name) == 0;
}

static int
cmp_name(const void *key, const void *item)
{
    return strcmp(key, *(const char *const *)item);
}

/* True when element N's name is in NAMES (N names, sorted). */
static bool
in_set(const xmlNode *n, const char *const *names, size_t count)
{
    return n->type == XML_ELEMENT_NODE &&
           bsearch(n->name, names, count, sizeof *names, cmp_name);
}

/* Elements whose start and end break text, as a browser lays them out
 * on lines of their own (sorted, for bsearch). */
static const char *const block_names[] = {
    "address", "article", "aside", "blockquote", "body", "caption",
    "center", "dd", "details", "dialog", "dir", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2",
    "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "html", "legend",
    "li", "main", "menu", "nav", "ol", "p", "pre", "section", "summary",
    "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
};

/* Elements whose content is never text of the page: code, styles,
 * inert or fallback content, the head (sorted, for bsearch). */
static const char *const skip_names[] = {
    "head", "iframe", "noscript", "script", "style", "svg", "template",
    "title",
};

#define COUNT(a) (sizeof (a) / sizeof (a)[0])

static bool
is_block(const xmlNode *n)
{
    return in_set(n, block_names, COUNT(block_names));
}

static bool
is_skipped(const xmlNode *n)
{
    return in_set(n, skip_names, COUNT(skip_names));
}

static bool
is_cell(const xmlNode *n)
{
    return is(n, "td") || is(n, "th");
}

/* What the SAX hooks note in an element's _private: its line, shifted
 * left one bit, and in bit 0 whether the end of the input closed it. */
#define CLOSED_AT_END ((uintptr_t)1)

/* The line of element N (or of the element holding node N), 1-based. */
static size_t
node_line(const xmlNode *n)
{
    while (n && n->type != XML_ELEMENT_NODE)
        n = n->parent;
    if (!n)
        return 1;
    if (n->_private)
        return (size_t)((uintptr_t)n->_private >> 1);
    long line = xmlGetLineNo(n);
    return line > 0 ? (size_t)line : 1;
}

/* The node after N in document order below TOP, entering N's children
 * when INTO; NULL after the last. */
static xmlNode *
next_node(const xmlNode *top, xmlNode *n, bool into)
{
    if (into && n->children)
        return n->children;
    while (n != top && !n->next)
        n = n->parent;
    return n == top ? NULL : n->next;
}

/* The value of attribute NAME of element N as written (entities
 * decoded), "" when it has none; NULL when N has no such attribute.
 * Not a copy: valid as long as the tree. */
static const char *
attr(const xmlNode *n, const char *name)
{
    xmlAttr *a = xmlHasProp(n, (const xmlChar *)name);
    if (!a)
        return NULL;
    if (a->children && a->children->type == XML_TEXT_NODE &&
        a->children->content)
        return (const char *)a->children->content;
    return "";
}

/* ---- walking text ---------------------------------------------------- */

typedef struct walk walk_t;

/* A walk over the text of a subtree, document order. */
struct walk {
    text_buf_t text;      /* the text since the last block boundary */
    size_t line;          /* the line of its first character; 0: none yet */
    const xmlNode *table; /* the job-standard table: one boundary, never
                             entered; NULL when not looked for */
    /* Called at each block boundary (the job-standard table's when
     * TABLE); NULL: a boundary is a space, as inside one cell. */
    sdx_status_t (*boundary)(walk_t *w, const xmlNode *at, bool table);
    void *ctx;            /* the boundary callback's state */
    bool stop;            /* set by the callback: the walk is over */
};

static sdx_status_t
walk_boundary(walk_t *w, const xmlNode *at, bool table)
{
    if (!w->boundary) {
        w->text.gap = true;
        return SDX_OK;
    }
    return w->boundary(w, at, table);
}

/* Append text node N's text. */
static sdx_status_t
walk_text(walk_t *w, const xmlNode *n)
{
    if (!n->content)
        return SDX_OK;
    size_t before = w->text.n;
    if (tb_text(&w->text, (const char *)n->content,
                strlen((const char *)n->content)) != SDX_OK)
        return SDX_NOMEM;
    if (before == 0 && w->text.n > 0 && w->line == 0)
        w->line = node_line(n->parent);
    return SDX_OK;
}

/*
 * Walk the text of TOP's children in document order, calling the
 * boundary callback at the start and end of every block element and at
 * the job-standard table.  A loop over links, not recursion.
 */
static sdx_status_t
walk_tree(walk_t *w, const xmlNode *top)
{
    const xmlNode *n = top->children;
    sdx_status_t st = SDX_OK;
    while (n && st == SDX_OK && !w->stop) {
        bool into = false;
        if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
            st = walk_text(w, n);
        } else if (n->type == XML_ELEMENT_NODE && !is_skipped(n)) {
            if (n == w->table)
                st = walk_boundary(w, n, true);
            else if (is(n, "br"))
                w->text.gap = true;
            else {
                if (is_block(n))
                    st = walk_boundary(w, n, false);
                into = n->children != NULL;
            }
        }
        if (st != SDX_OK || w->stop)
            break;
        if (into) {
            n = n->children;
            continue;
        }
        /* the next sibling, leaving each parent that has no more */
        while (n != top && !n->next && st == SDX_OK) {
            n = n->parent;
            if (n != top && is_block(n))
                st = walk_boundary(w, n, false);
        }
        if (n == top)
            break;
        n = n->next;
    }
    return st;
}

/* The normalised text of N's content ("" when none) into TB, emptied
 * first; block boundaries are spaces. */
static sdx_status_t
node_text(const xmlNode *n, text_buf_t *tb)
{
    walk_t w = { .text = *tb };
    tb_reset(&w.text);
    sdx_status_t st = walk_tree(&w, n);
    *tb = w.text;
    return st;
}

/* ---- parsing --------------------------------------------------------- */

/* The parser's own element callbacks, which the hooks call through. */
typedef struct hooks {
    startElementSAXFunc start; /* libxml2's: makes the element */
    endElementSAXFunc end;     /* libxml2's: closes it */
} hooks_t;

/* Make the element, then note its line (see the opening comment). */
static void
hook_start(void *ctx, const xmlChar *name, const xmlChar **atts)
{
    xmlParserCtxtPtr ctxt = ctx;
    const hooks_t *h = ctxt->_private;
    xmlNodePtr parent = ctxt->node;
    h->start(ctx, name, atts);
    xmlNodePtr n = ctxt->node;
    if (n && n != parent && n->type == XML_ELEMENT_NODE && !n->_private &&
        ctxt->input && ctxt->input->line > 0)
        n->_private = (void *)((uintptr_t)ctxt->input->line << 1);
}

/* Note whether the end of the input closes the element, then close it.
 * Every end tag is followed by the '\n' added to the input, so only the
 * parser's closing of what is still open at the end gets here with the
 * whole input read. */
static void
hook_end(void *ctx, const xmlChar *name)
{
    xmlParserCtxtPtr ctxt = ctx;
    const hooks_t *h = ctxt->_private;
    xmlNodePtr n = ctxt->node;
    if (n && n->type == XML_ELEMENT_NODE && n->_private && ctxt->input &&
        ctxt->input->cur >= ctxt->input->end)
        n->_private = (void *)((uintptr_t)n->_private | CLOSED_AT_END);
    h->end(ctx, name);
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void
init_libxml(void)
{
    xmlInitParser();
}

/* Parse TEXT (LEN bytes, checked) into *DOC, which has a root element. */
static sdx_status_t
parse_html(const reader_t *rd, const char *text, size_t len, htmlDocPtr *doc)
{
    sdx_status_t st = SDX_OK;
    htmlParserCtxtPtr ctxt = NULL;
    hooks_t hooks;
    char *copy = malloc(len + 1);
    *doc = NULL;
    if (!copy)
        return fail_nomem(rd);
    memcpy(copy, text, len);
    copy[len] = '\n';

    pthread_once(&init_once, init_libxml);
    ctxt = htmlNewParserCtxt();
    if (!ctxt || !ctxt->sax || !ctxt->sax->startElement ||
        !ctxt->sax->endElement) {
        st = fail_nomem(rd);
        goto done;
    }
    hooks = (hooks_t){ ctxt->sax->startElement, ctxt->sax->endElement };
    ctxt->_private = &hooks;
    ctxt->sax->startElement = hook_start;
    ctxt->sax->endElement = hook_end;

    *doc = htmlCtxtReadMemory(ctxt, copy, (int)(len + 1), NULL, "UTF-8",
                              PARSE_OPTIONS);
    /* disableSAX: libxml2 stopped halfway (out of memory, or a limit),
     * and the tree holds only the start of the page */
    if (!*doc || !xmlDocGetRootElement(*doc) || ctxt->disableSAX) {
        const xmlError *e = xmlCtxtGetLastError(ctxt);
        if (ctxt->errNo == XML_ERR_NO_MEMORY ||
            (e && e->code == XML_ERR_NO_MEMORY)) {
            st = fail_nomem(rd);
        } else {
            char why[MSG_MAX] = "no element in it";
            if (e && e->message) {
                snprintf(why, sizeof why, "%s", e->message);
                why[strcspn(why, "\r\n")] = '\0';
            }
            st = fail(rd, e && e->line > 0 ? (size_t)e->line : 1, NULL,
                      "libxml2 could not make an HTML document of it (%s)",
                      why);
        }
        xmlFreeDoc(*doc);
        *doc = NULL;
    }
done:
    htmlFreeParserCtxt(ctxt);
    free(copy);
    return st;
}

/* ---- checks before the content ---------------------------------------- */

/* Whether S (LEN bytes) names UTF-8: "utf-8" or "utf8", any case. */
static bool
names_utf8(const char *s, size_t len)
{
    return (len == 5 && strncasecmp(s, "utf-8", 5) == 0) ||
           (len == 4 && strncasecmp(s, "utf8", 4) == 0);
}

/* The charset named after "charset" in S, its length in *LEN: after
 * optional blanks, '=', blanks and a quote, up to a quote, blank or ';'.
 * NULL when S names none. */
static const char *
charset_in(const char *s, size_t *len)
{
    for (const char *p = s; *p; p++) {
        if (strncasecmp(p, "charset", 7) != 0)
            continue;
        const char *q = p + 7;
        q += strspn(q, " \t\r\n");
        if (*q != '=')
            continue;
        q++;
        q += strspn(q, " \t\r\n\"'");
        *len = strcspn(q, " \t\r\n\"';>/");
        if (*len > 0)
            return q;
    }
    return NULL;
}

/* Refuse a page whose <meta> names a charset other than UTF-8: <meta
 * charset="X">, or <meta http-equiv="Content-Type" content="...;
 * charset=X">. */
static sdx_status_t
check_charset(const reader_t *rd, xmlDoc *doc)
{
    xmlNode *root = (xmlNode *)doc;
    for (xmlNode *n = root->children; n; n = next_node(root, n, true)) {
        if (!is(n, "meta"))
            continue;
        const char *cs = attr(n, "charset"), *equiv = attr(n, "http-equiv");
        size_t len = 0;
        if (cs) {
            cs += strspn(cs, " \t\r\n");
            len = strcspn(cs, " \t\r\n");
        } else if (equiv && strcasecmp(equiv, "content-type") == 0 &&
                   attr(n, "content")) {
            cs = charset_in(attr(n, "content"), &len);
        }
        if (!cs || len == 0 || names_utf8(cs, len))
            continue;
        char name[EXCERPT + 1];
        snprintf(name, sizeof name, "%.*s",
                 (int)(len < EXCERPT ? len : EXCERPT), cs);
        return fail(rd, node_line(n), NULL,
                    "the page declares charset %s; save it as UTF-8", name);
    }
    return SDX_OK;
}

/* A hint for invalid UTF-8: " (the page declares charset X; ...)" when
 * the raw bytes name a charset other than UTF-8, else "". */
static void
charset_hint(const char *text, size_t len, char *buf, size_t size)
{
    buf[0] = '\0';
    /* the declaration is near the top; look there only, as a string */
    size_t n = len < 4096 ? len : 4096;
    char *head = malloc(n + 1);
    if (!head)
        return;
    for (size_t i = 0; i < n; i++)
        head[i] = text[i] ? text[i] : ' ';
    head[n] = '\0';
    size_t cs_len = 0;
    const char *cs = charset_in(head, &cs_len);
    if (cs && !names_utf8(cs, cs_len)) {
        int shown = (int)(cs_len < EXCERPT ? cs_len : EXCERPT);
        char name[EXCERPT + 1];
        snprintf(name, sizeof name, "%.*s", shown, cs);
        /* charset names are of letters, digits and "-_.:" only; what
         * follows is no part of it (and may be the bad byte itself) */
        name[strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                          "abcdefghijklmnopqrstuvwxyz0123456789-_.:")] = '\0';
        if (name[0])
            snprintf(buf, size,
                     " (the page declares charset %s; save it as UTF-8)",
                     name);
    }
    free(head);
}

/* ---- the job-standard table ------------------------------------------ */

/* TABLE's own row after AFTER (NULL: its first row), in document order:
 * table > tr, or table > thead|tbody|tfoot > tr.  NULL after the last. */
static xmlNode *
next_row(const xmlNode *table, const xmlNode *after)
{
    xmlNode *n = after ? after->next : table->children;
    const xmlNode *parent = after ? after->parent : table;
    for (;;) {
        if (!n) {
            if (parent == table)
                return NULL;
            n = parent->next;
            parent = table;
            continue;
        }
        if (is(n, "tr"))
            return n;
        if (parent == table &&
            (is(n, "thead") || is(n, "tbody") || is(n, "tfoot"))) {
            parent = n;
            n = n->children;
            continue;
        }
        n = n->next;
    }
}

/* The first th/td child of ROW, or NULL. */
static xmlNode *
first_cell(const xmlNode *row)
{
    for (xmlNode *c = row->children; c; c = c->next)
        if (is_cell(c))
            return c;
    return NULL;
}

/* TABLE's first own row with a cell, or NULL. */
static xmlNode *
first_row(const xmlNode *table)
{
    for (xmlNode *r = next_row(table, NULL); r; r = next_row(table, r))
        if (first_cell(r))
            return r;
    return NULL;
}

/* The text of TABLE's first cell into TB; *HAS_CELL false (and TB
 * empty) when the table has no cell at all. */
static sdx_status_t
table_head(const xmlNode *table, text_buf_t *tb, bool *has_cell)
{
    xmlNode *row = first_row(table);
    *has_cell = row != NULL;
    if (!row) {
        tb_reset(tb);
        return SDX_OK;
    }
    return node_text(first_cell(row), tb);
}

/* Find the job-standard table: the first <table> (not inside a skipped
 * element) whose first own row begins with a "Job Title" cell. */
static sdx_status_t
find_table(const reader_t *rd, xmlDoc *doc, xmlNode **table)
{
    xmlNode *root = (xmlNode *)doc;
    text_buf_t tb = { 0 };
    size_t ntables = 0, first_line = 0;
    char first[EXCERPT + 4] = "";
    bool first_has_cell = false;
    sdx_status_t st = SDX_OK;
    *table = NULL;
    for (xmlNode *n = root->children; n && !*table;) {
        bool into = n->type == XML_ELEMENT_NODE && !is_skipped(n);
        if (is(n, "table")) {
            bool has_cell;
            if (table_head(n, &tb, &has_cell) != SDX_OK) {
                st = fail_nomem(rd);
                goto done;
            }
            if (has_cell && strcmp(tb.n ? tb.p : "", HEADER) == 0)
                *table = n;
            if (ntables++ == 0) {
                first_line = node_line(n);
                first_has_cell = has_cell;
                excerpt(tb.n ? tb.p : "", first);
            }
        }
        n = next_node(root, n, into);
    }
    if (!*table) {
        char what[MSG_MAX] = "";
        if (ntables > 0 && first_has_cell)
            snprintf(what, sizeof what,
                     "; the page has %zu table%s, the first (line %zu) "
                     "beginning with \"%s\"",
                     ntables, ntables == 1 ? "" : "s", first_line, first);
        else if (ntables > 0)
            snprintf(what, sizeof what,
                     "; the page has %zu table%s, the first (line %zu) "
                     "without a cell",
                     ntables, ntables == 1 ? "" : "s", first_line);
        st = fail(rd, 0, NULL,
                  "no job-standard table: no <table> whose first row "
                  "begins with a \"" HEADER "\" cell (docs/CORPUS.md, "
                  "\"Saved web pages\")%s",
                  what);
    }
done:
    tb_free(&tb);
    return st;
}

/* Refuse a page that ends inside the job-standard table. */
static sdx_status_t
check_complete(const reader_t *rd, const xmlNode *table, const char *text,
               size_t len)
{
    if (!((uintptr_t)table->_private & CLOSED_AT_END))
        return SDX_OK;
    size_t last = 1;
    for (size_t i = 0; i + 1 < len; i++)
        last += text[i] == '\n';
    return fail(rd, last, NULL,
                "the page ends inside the job-standard table (opened at "
                "line %zu, no </table>): it looks cut short; save the "
                "whole page again",
                node_line(table));
}

/* ---- series title and summary ---------------------------------------- */

/* The blocks of the page, as they come, sorted into title and summary. */
typedef struct page_walk {
    const reader_t *rd;   /* for messages */
    text_buf_t prev;      /* the last non-empty block before the heading */
    size_t prev_line;     /* its line */
    size_t heading_line;  /* the "Job Summary" heading's; 0: not met */
    text_buf_t summary;   /* the blocks after it, joined by one space */
    size_t table_line;    /* the job-standard table's; 0: not reached */
    size_t late_heading;  /* a "Job Summary" block after the table */
} page_walk_t;

/* Sort W's text, one non-empty block at W's line, into PW. */
static sdx_status_t
page_block(walk_t *w, page_walk_t *pw)
{
    bool heading = strcmp(w->text.p, HEADING) == 0;
    if (pw->table_line) {
        /* past the table only a late heading is looked for, to say so */
        if (heading) {
            pw->late_heading = w->line;
            w->stop = true;
        }
        return SDX_OK;
    }
    if (!pw->heading_line) {
        if (!heading) {
            text_buf_t t = pw->prev;
            pw->prev = w->text;
            pw->prev_line = w->line;
            w->text = t;
            return SDX_OK;
        }
        if (pw->prev.n == 0)
            return fail(pw->rd, w->line, NULL,
                        "\"" HEADING "\": no series title before it (no "
                        "text on the page comes before the heading)");
        pw->heading_line = w->line;
        return SDX_OK;
    }
    if (heading)
        return fail(pw->rd, w->line, NULL,
                    "\"" HEADING "\": appears twice before the "
                    "job-standard table (first at line %zu)",
                    pw->heading_line);
    pw->summary.gap = true;
    return tb_text(&pw->summary, w->text.p, w->text.n);
}

/* The walk's boundary callback: end the block; note the table. */
static sdx_status_t
page_boundary(walk_t *w, const xmlNode *at, bool table)
{
    page_walk_t *pw = w->ctx;
    sdx_status_t st = SDX_OK;
    if (w->text.n > 0)
        st = page_block(w, pw);
    tb_reset(&w->text);
    w->line = 0;
    if (st == SDX_OK && table) {
        pw->table_line = node_line(at);
        w->stop = pw->heading_line != 0;
    }
    return st;
}

/* Set OUT's series title and summary from the page around TABLE. */
static sdx_status_t
read_title_summary(const reader_t *rd, xmlDoc *doc, const xmlNode *table,
                   sdx_html_page_t *out)
{
    page_walk_t pw = { .rd = rd };
    walk_t w = { .table = table, .boundary = page_boundary, .ctx = &pw };
    sdx_status_t st = walk_tree(&w, (xmlNode *)doc);
    if (st == SDX_OK && !w.stop)
        st = page_boundary(&w, NULL, false); /* the end is a boundary */
    if (st == SDX_NOMEM)
        st = fail_nomem(rd);
    if (st != SDX_OK)
        goto done;
    if (!pw.table_line) {
        /* the table is always met: it was found by the same rules */
        st = fail(rd, node_line(table), NULL,
                  "internal error: the job-standard table was not met");
    } else if (!pw.heading_line && pw.late_heading) {
        st = fail(rd, pw.late_heading, NULL,
                  "\"" HEADING "\" comes after the job-standard table "
                  "(line %zu); the heading and summary come before it",
                  pw.table_line);
    } else if (!pw.heading_line) {
        st = fail(rd, pw.table_line, NULL,
                  "no \"" HEADING "\" heading before the job-standard "
                  "table: not a job-standard page (docs/CORPUS.md, "
                  "\"Saved web pages\")");
    } else if (pw.summary.n == 0) {
        st = fail(rd, pw.heading_line, NULL,
                  "\"" HEADING "\": no summary paragraph after it (nothing "
                  "between the heading and the job-standard table at line "
                  "%zu)",
                  pw.table_line);
    } else if (!(out->series = tb_copy(&pw.prev)) ||
               !(out->summary = tb_copy(&pw.summary))) {
        st = fail_nomem(rd);
    } else {
        out->series_line = pw.prev_line;
        out->summary_line = pw.heading_line;
    }
done:
    tb_free(&w.text);
    tb_free(&pw.prev);
    tb_free(&pw.summary);
    return st;
}

/* ---- rows ------------------------------------------------------------ */

/* The text of C, a child of the table, a section or a row that is no
 * row or cell, into TB: "" for blanks, comments and skipped elements. */
static sdx_status_t
stray_text(const xmlNode *c, text_buf_t *tb)
{
    tb_reset(tb);
    if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) &&
        c->content)
        return tb_text(tb, (const char *)c->content,
                       strlen((const char *)c->content));
    if (c->type == XML_ELEMENT_NODE && !is_skipped(c))
        return node_text(c, tb);
    return SDX_OK;
}

/* Refuse text in PARENT (the table or one of its sections) outside its
 * rows: nothing would read it, and it may be a cell gone astray. */
static sdx_status_t
check_outside_rows(const reader_t *rd, const xmlNode *parent,
                   text_buf_t *tb)
{
    char ex[EXCERPT + 4];
    for (const xmlNode *c = parent->children; c; c = c->next) {
        if (is(c, "tr") || is(c, "caption") || is(c, "colgroup") ||
            is(c, "col"))
            continue;
        if (is(parent, "table") &&
            (is(c, "thead") || is(c, "tbody") || is(c, "tfoot"))) {
            sdx_status_t st = check_outside_rows(rd, c, tb);
            if (st != SDX_OK)
                return st;
            continue;
        }
        if (stray_text(c, tb) != SDX_OK)
            return fail_nomem(rd);
        if (tb->n > 0)
            return fail(rd, node_line(c), NULL,
                        "text in the job-standard table outside its rows: "
                        "\"%s\"",
                        excerpt(tb->p, ex));
    }
    return SDX_OK;
}

/* Refuse text in ROW outside its cells. */
static sdx_status_t
check_outside_cells(const reader_t *rd, const xmlNode *row,
                    const char *label, text_buf_t *tb)
{
    char ex[EXCERPT + 4];
    for (const xmlNode *c = row->children; c; c = c->next) {
        if (is_cell(c))
            continue;
        if (stray_text(c, tb) != SDX_OK)
            return fail_nomem(rd);
        if (tb->n > 0)
            return fail(rd, node_line(c), label,
                        "text outside its cells: \"%s\"",
                        excerpt(tb->p, ex));
    }
    return SDX_OK;
}

/* The span attribute NAME of CELL as a number: 1 when absent; 0 when it
 * is not a whole number from 1 to MAX_SPAN (RAW then holds it). */
static size_t
cell_span(const xmlNode *cell, const char *name, char *raw)
{
    const char *v = attr(cell, name);
    if (!v)
        return 1;
    excerpt(v, raw);
    v += strspn(v, " \t\r\n");
    size_t digits = strspn(v, "0123456789");
    if (digits == 0 || v[digits + strspn(v + digits, " \t\r\n")] != '\0')
        return 0;
    size_t span = 0;
    for (size_t i = 0; i < digits; i++) {
        span = span * 10 + (size_t)(v[i] - '0');
        if (span > MAX_SPAN)
            return 0;
    }
    return span;
}

/* Which cell of a row a message is about. */
static const char *
cell_name(size_t column, char *buf, size_t size)
{
    if (column == 0)
        snprintf(buf, size, "the label cell");
    else
        snprintf(buf, size, "the cell in level column %zu", column);
    return buf;
}

/* Check ROW's cells after the label and count the level columns they
 * cover into *COLUMNS. */
static sdx_status_t
count_columns(const reader_t *rd, const xmlNode *row, const char *label,
              size_t *columns)
{
    char raw[EXCERPT + 4], which[64];
    size_t line = node_line(row), col = 0;
    for (const xmlNode *c = row->children; c; c = c->next) {
        if (!is_cell(c))
            continue;
        if (cell_span(c, "rowspan", raw) != 1)
            return fail(rd, line, label,
                        "rowspan is not supported (rowspan=\"%s\" on %s; "
                        "repeat the cell in each row instead)",
                        raw, cell_name(col, which, sizeof which));
        size_t span = cell_span(c, "colspan", raw);
        if (col == 0 && span != 1)
            return fail(rd, line, label,
                        "the label cell has colspan=\"%s\"; a label takes "
                        "one column",
                        raw);
        if (span == 0)
            return fail(rd, line, label,
                        "colspan=\"%s\" on %s is not a whole number from "
                        "1 to %d",
                        raw, cell_name(col, which, sizeof which), MAX_SPAN);
        col += col == 0 ? 1 : span; /* the label is column 0 */
    }
    *columns = col - 1;
    return SDX_OK;
}

/* Read ROW into OUT (empty), which must have COLUMNS level columns; 0:
 * this is the header row, which sets them (1..SDX_HTML_MAX_LEVELS). */
static sdx_status_t
read_row(const reader_t *rd, const xmlNode *row, size_t columns,
         text_buf_t *tb, sdx_html_row_t *out)
{
    size_t line = node_line(row), ncols = 0;
    xmlNode *first = first_cell(row);
    out->line = line;
    if (node_text(first, tb) != SDX_OK)
        return fail_nomem(rd);
    if (tb->n == 0)
        return fail(rd, line, NULL,
                    "a row whose first cell (its label) is empty");
    if (!(out->label = tb_copy(tb)))
        return fail_nomem(rd);
    sdx_status_t st = count_columns(rd, row, out->label, &ncols);
    if (st != SDX_OK)
        return st;
    if (columns == 0 && ncols == 0)
        return fail(rd, line, out->label,
                    "no level titles after the label");
    if (columns == 0 && ncols > SDX_HTML_MAX_LEVELS)
        return fail(rd, line, out->label,
                    "%zu level columns, but at most %d levels", ncols,
                    SDX_HTML_MAX_LEVELS);
    if (columns != 0 && ncols != columns)
        return fail(rd, line, out->label,
                    "%zu cell%s after the label, but the header row has "
                    "%zu (one per level)",
                    ncols, ncols == 1 ? "" : "s", columns);
    if ((st = check_outside_cells(rd, row, out->label, tb)) != SDX_OK)
        return st;

    out->cells = calloc(ncols, sizeof *out->cells);
    if (!out->cells)
        return fail_nomem(rd);
    out->ncells = ncols;
    size_t k = 0;
    for (const xmlNode *c = first->next; c && k < ncols; c = c->next) {
        if (!is_cell(c))
            continue;
        char raw[EXCERPT + 4];
        size_t span = cell_span(c, "colspan", raw);
        if (node_text(c, tb) != SDX_OK)
            return fail_nomem(rd);
        /* a spanned cell holds its text at every level it covers */
        for (size_t s = 0; s < span && k < ncols; s++)
            if (!(out->cells[k++] = tb_copy(tb)))
                return fail_nomem(rd);
    }
    return SDX_OK;
}

/* Read TABLE's rows into OUT: checked and counted first, so nothing is
 * allocated for a table over the limits. */
static sdx_status_t
read_rows(const reader_t *rd, const xmlNode *table, sdx_html_page_t *out)
{
    text_buf_t tb = { 0 };
    sdx_status_t st = check_outside_rows(rd, table, &tb);
    size_t nrows = 0;
    if (st != SDX_OK)
        goto done;
    for (xmlNode *r = next_row(table, NULL); r; r = next_row(table, r)) {
        if (!first_cell(r)) {
            /* a row of no cells shows nothing; text in it would be lost */
            if ((st = check_outside_cells(rd, r, NULL, &tb)) != SDX_OK)
                goto done;
            continue;
        }
        if (++nrows > SDX_HTML_MAX_ROWS) {
            st = fail(rd, node_line(r), NULL,
                      "the job-standard table has more than %d rows",
                      SDX_HTML_MAX_ROWS);
            goto done;
        }
    }
    out->rows = calloc(nrows, sizeof *out->rows);
    if (!out->rows) {
        st = fail_nomem(rd);
        goto done;
    }
    for (xmlNode *r = first_row(table); r; r = next_row(table, r)) {
        if (!first_cell(r))
            continue;
        size_t columns = out->nrows ? out->rows[0].ncells : 0;
        st = read_row(rd, r, columns, &tb, &out->rows[out->nrows++]);
        if (st != SDX_OK)
            goto done;
    }
done:
    tb_free(&tb);
    return st;
}

/* ---- the page -------------------------------------------------------- */

sdx_status_t
sdx_html_page_read(const char *name, const char *text, size_t len,
                   sdx_html_page_t *page, char *err, size_t err_size)
{
    reader_t rd = { name ? name : "(page)", err, err_size };
    sdx_html_page_t out = SDX_HTML_PAGE_INIT;
    htmlDocPtr doc = NULL;
    xmlNode *table = NULL;
    sdx_status_t st;
    char msg[MSG_MAX], hint[MSG_MAX];
    size_t line = 0;

    sdx_html_page_clear(page);
    if (err && err_size > 0)
        err[0] = '\0';
    if (len > SDX_HTML_MAX_BYTES)
        return fail(&rd, 1, NULL, "%zu bytes, over the limit of %d bytes",
                    len, SDX_HTML_MAX_BYTES);
    if (!sdx_utf8_check_text(text, len, &line, msg, sizeof msg)) {
        charset_hint(text, len, hint, sizeof hint);
        return fail(&rd, line, NULL, "%s%s", msg, hint);
    }
    size_t blank = 0;
    while (blank < len && strchr(" \t\r\n", text[blank]))
        blank++;
    if (blank == len)
        return fail(&rd, 1, NULL, "empty file");

    if ((st = parse_html(&rd, text, len, &doc)) != SDX_OK)
        return st;
    if ((st = check_charset(&rd, doc)) != SDX_OK ||
        (st = find_table(&rd, doc, &table)) != SDX_OK ||
        (st = check_complete(&rd, table, text, len)) != SDX_OK ||
        (st = read_title_summary(&rd, doc, table, &out)) != SDX_OK ||
        (st = read_rows(&rd, table, &out)) != SDX_OK)
        sdx_html_page_clear(&out);
    else
        *page = out;
    xmlFreeDoc(doc);
    return st;
}

void
sdx_html_page_clear(sdx_html_page_t *page)
{
    if (!page)
        return;
    for (size_t r = 0; r < page->nrows; r++) {
        sdx_html_row_t *row = &page->rows[r];
        free(row->label);
        for (size_t c = 0; c < row->ncells; c++)
            free(row->cells[c]);
        free(row->cells);
    }
    free(page->rows);
    free(page->series);
    free(page->summary);
    *page = (sdx_html_page_t)SDX_HTML_PAGE_INIT;
}
