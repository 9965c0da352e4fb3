/*
 * specdex: the staff command-line client.
 *
 *   specdex [--endpoint EP] [--timeout MS] [--json] COMMAND [ARGS]
 *
 * Each command packs one request (docs/PROTOCOL.md), sends it through the
 * client library's request loop, and prints the reply either for a person
 * (wrapped to the terminal, matches in bold colour on a terminal) or, with
 * --json, as the reply's data for scripts.
 *
 * Exit status: 0 results, 1 no results, 2 usage error, 3 daemon
 * unavailable, 4 error reply (its message on stderr).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <msgpack.h>

#include "sdx_client.h"
#include "sdx_json.h"

enum {
    EXIT_RESULTS = 0,     /* the request succeeded with results */
    EXIT_NO_RESULTS = 1,  /* it succeeded and found nothing */
    EXIT_USAGE = 2,       /* the command line is wrong */
    EXIT_UNAVAILABLE = 3, /* no daemon answered */
    EXIT_ERROR_REPLY = 4, /* the daemon answered with an error */
};

/* Snippet markers requested from the daemon: control characters that
 * cannot occur in the corpus' text, turned into colour or nothing here. */
#define MARK_OPEN "\x02"
#define MARK_CLOSE "\x03"

#define MAX_FILTER 32 /* values per filter option */

/* Options shared by every command. */
typedef struct cli {
    const char *endpoint;  /* daemon endpoint */
    int timeout_ms;        /* per attempt */
    bool json;             /* print the reply's data as JSON */
    bool color;            /* colour on a terminal, unless NO_COLOR */
    int width;             /* columns to wrap text to */
} cli_t;

static const char *program = "specdex";

static void
usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "%s: ", program);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry '%s --help'.\n", program);
}

static void
print_main_help(FILE *out)
{
    fprintf(out,
"Usage: specdex [OPTIONS] COMMAND [ARGS]\n"
"Search the job standards served by specdexd.\n"
"\n"
"Commands:\n"
"  search QUERY   ranked clauses matching QUERY\n"
"  get ID...      clauses by id (e.g. 5366/key-resp-06)\n"
"  stats          what the daemon serves, and how it is doing\n"
"  ping           check that the daemon answers\n"
"\n"
"Options (before the command):\n"
"  -e, --endpoint EP   daemon endpoint (default $SPECDEX_ENDPOINT, else\n"
"                      " SDX_CLIENT_DEFAULT_ENDPOINT ")\n"
"  -t, --timeout MS    wait per attempt, milliseconds (default %d)\n"
"  -j, --json          print the reply as JSON, for scripts\n"
"  -h, --help          this help; 'specdex COMMAND --help' for a command\n"
"\n"
"Example:\n"
"  specdex search \"root cause analysis\" --level 1-3\n"
"\n"
"Exit status: 0 results, 1 no results, 2 usage error, 3 daemon\n"
"unavailable, 4 error reply.\n", SDX_CLIENT_DEFAULT_TIMEOUT_MS);
}

static void
print_search_help(FILE *out)
{
    fprintf(out,
"Usage: specdex search QUERY [OPTIONS]\n"
"Ranked clauses of the job standards that match QUERY.\n"
"\n"
"QUERY uses Xapian's syntax: words (stemmed: 'troubleshoot' finds\n"
"'Troubleshoots'), \"exact phrases\", AND OR NOT, NEAR, trailing\n"
"wildcards (vend*), and fields level:3 section:ksa row:key-resp-06\n"
"code:5366.\n"
"\n"
"Options:\n"
"  -l, --level L      only these levels: 3, 1-3 or 1,4,5\n"
"  -s, --section S    only these sections (repeatable or comma list):\n"
"                     summary scope responsibility ksa education\n"
"                     condition environment\n"
"  -r, --row ROW      only this row, e.g. \"key resp 06\" (repeatable)\n"
"  -c, --code CODE    only this job code, e.g. 5366 (repeatable)\n"
"  -n, --limit N      hits to show, 1..100 (default 10)\n"
"  -o, --offset N     skip the first N hits (paging)\n"
"  -j, --json         print the reply as JSON\n"
"\n"
"Examples:\n"
"  specdex search \"root cause analysis\"\n"
"  specdex search vendors --section ksa --level 3\n"
"  specdex search 'level:5 troubleshooting' --json\n");
}

static void
print_get_help(FILE *out)
{
    fprintf(out,
"Usage: specdex get ID... [--json]\n"
"Print clauses by id: job code, '/', row slug.\n"
"\n"
"Example:\n"
"  specdex get 5366/key-resp-06 5367/ksa-07\n");
}

static void
print_simple_help(FILE *out, const char *cmd)
{
    if (strcmp(cmd, "stats") == 0)
        fprintf(out, "Usage: specdex stats [--json]\n"
                "Documents, index revision, uptime, requests, errors,\n"
                "workers and latency of the daemon.\n\n"
                "Example:\n  specdex stats\n");
    else
        fprintf(out, "Usage: specdex ping [--json]\n"
                "Check that the daemon answers; exit 0 if it does, 3 if "
                "not.\n\nExample:\n  specdex ping\n");
}

/* ---------------------------------------------------------------- */
/* msgpack helpers                                                  */
/* ---------------------------------------------------------------- */

static void
pack_cstr(msgpack_packer *pk, const char *s)
{
    size_t len = strlen(s);
    msgpack_pack_str(pk, len);
    msgpack_pack_str_body(pk, s, len);
}

/* Start a request map of NKEYS keys beyond v and op. */
static void
pack_request_head(msgpack_packer *pk, const char *op, size_t nkeys)
{
    msgpack_pack_map(pk, 2 + nkeys);
    pack_cstr(pk, "v");
    msgpack_pack_int(pk, 1);
    pack_cstr(pk, "op");
    pack_cstr(pk, op);
}

static void
pack_str_array(msgpack_packer *pk, const char *key, char **vals, size_t n)
{
    pack_cstr(pk, key);
    msgpack_pack_array(pk, n);
    for (size_t i = 0; i < n; i++)
        pack_cstr(pk, vals[i]);
}

/* Copy a msgpack str into BUF as a C string ("" when not a str). */
static const char *
obj_str(const msgpack_object *o, char *buf, size_t size)
{
    buf[0] = '\0';
    if (o && o->type == MSGPACK_OBJECT_STR)
        snprintf(buf, size, "%.*s", (int)o->via.str.size, o->via.str.ptr);
    return buf;
}

static long long
obj_int(const msgpack_object *o)
{
    if (!o)
        return 0;
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        return (long long)o->via.u64;
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        return (long long)o->via.i64;
    return 0;
}

static double
obj_double(const msgpack_object *o)
{
    if (o && (o->type == MSGPACK_OBJECT_FLOAT64 ||
              o->type == MSGPACK_OBJECT_FLOAT32))
        return o->via.f64;
    return (double)obj_int(o);
}

/* ---------------------------------------------------------------- */
/* Text output                                                      */
/* ---------------------------------------------------------------- */

/* Bytes of the UTF-8 sequence starting with byte C (1 for stray bytes). */
static size_t
utf8_len(unsigned char c)
{
    if (c >= 0xf0) return 4;
    if (c >= 0xe0) return 3;
    if (c >= 0xc0) return 2;
    return 1;
}

/*
 * Print TEXT (LEN bytes) wrapped to the width, every line indented by
 * INDENT spaces.  Markers MARK_OPEN/MARK_CLOSE become bold colour (or
 * nothing); HTML entities of a snippet are decoded when HTML is true.
 */
static void
print_wrapped(const cli_t *cli, const char *text, size_t len, int indent,
              bool html)
{
    int col = indent;
    int limit = cli->width > indent + 20 ? cli->width : indent + 60;
    printf("%*s", indent, "");
    size_t i = 0;
    while (i < len) {
        /* One word: up to the next space, markers and entities inside. */
        while (i < len && text[i] == ' ')
            i++;
        if (i >= len)
            break;
        size_t start = i;
        int width = 0;
        while (i < len && text[i] != ' ') {
            unsigned char c = (unsigned char)text[i];
            if (c == MARK_OPEN[0] || c == MARK_CLOSE[0]) {
                i++;
                continue;
            }
            if (html && c == '&') {
                const char *semi = memchr(text + i, ';', len - i);
                if (semi && semi - (text + i) <= 6) {
                    i = (size_t)(semi - text) + 1;
                    width++;
                    continue;
                }
            }
            i += utf8_len(c);
            width++;
        }
        if (i > len)
            i = len;
        if (col > indent && col + 1 + width > limit) {
            printf("\n%*s", indent, "");
            col = indent;
        } else if (col > indent) {
            putchar(' ');
            col++;
        }
        for (size_t j = start; j < i; j++) {
            char c = text[j];
            if (c == MARK_OPEN[0]) {
                if (cli->color)
                    fputs("\033[1;31m", stdout);
            } else if (c == MARK_CLOSE[0]) {
                if (cli->color)
                    fputs("\033[0m", stdout);
            } else if (html && c == '&') {
                static const struct { const char *ent; char ch; } ents[] = {
                    { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' },
                    { "&quot;", '"' }, { "&#39;", '\'' }, { "&apos;", '\'' },
                };
                size_t k;
                for (k = 0; k < sizeof ents / sizeof ents[0]; k++) {
                    size_t el = strlen(ents[k].ent);
                    if (j + el <= i && memcmp(text + j, ents[k].ent, el) == 0) {
                        putchar(ents[k].ch);
                        j += el - 1;
                        break;
                    }
                }
                if (k == sizeof ents / sizeof ents[0])
                    putchar(c);
            } else {
                putchar(c);
            }
        }
        col += width;
    }
    if (cli->color)
        fputs("\033[0m", stdout);
    putchar('\n');
}

static void
print_heading(const cli_t *cli, const char *fmt_label, const char *label)
{
    if (cli->color)
        printf("\033[1m");
    printf(fmt_label, label);
    if (cli->color)
        printf("\033[0m");
}

/* One clause as a person reads it: where it stands, then its text. */
static void
print_clause(const cli_t *cli, const msgpack_object *c, int rank)
{
    char row[256], title[256], code[64];
    const msgpack_object *snippet = sdx_msgpack_get(c, "snippet");
    const msgpack_object *text = sdx_msgpack_get(c, "text");
    long long level = obj_int(sdx_msgpack_get(c, "level"));
    char head[768];

    obj_str(sdx_msgpack_get(c, "row"), row, sizeof row);
    obj_str(sdx_msgpack_get(c, "title"), title, sizeof title);
    obj_str(sdx_msgpack_get(c, "job_code"), code, sizeof code);
    if (level > 0)
        snprintf(head, sizeof head, "%s · level %lld · %s %s", row, level,
                 code, title);
    else
        snprintf(head, sizeof head, "%s · all levels · %s", row, title);
    if (rank > 0)
        printf("%2d. ", rank);
    print_heading(cli, "%s", head);
    if (rank > 0) {
        const msgpack_object *pct = sdx_msgpack_get(c, "percent");
        if (pct)
            printf("  (%lld%%)", obj_int(pct));
    }
    putchar('\n');
    if (snippet && snippet->type == MSGPACK_OBJECT_STR &&
        snippet->via.str.size > 0)
        print_wrapped(cli, snippet->via.str.ptr, snippet->via.str.size,
                      rank > 0 ? 4 : 2, true);
    else if (text && text->type == MSGPACK_OBJECT_STR)
        print_wrapped(cli, text->via.str.ptr, text->via.str.size,
                      rank > 0 ? 4 : 2, false);
}

/* ---------------------------------------------------------------- */
/* Commands                                                         */
/* ---------------------------------------------------------------- */

/* Parse "3", "1-3" or "1,4,5" into LEVELS; returns the count or -1. */
static int
parse_levels(const char *spec, int *levels, int max)
{
    int n = 0;
    const char *p = spec;
    while (*p) {
        char *end;
        errno = 0;
        long lo = strtol(p, &end, 10), hi = lo;
        if (end == p || errno)
            return -1;
        p = end;
        if (*p == '-') {
            p++;
            hi = strtol(p, &end, 10);
            if (end == p)
                return -1;
            p = end;
        }
        if (lo < 0 || hi > 99 || lo > hi)
            return -1;
        for (long l = lo; l <= hi; l++) {
            if (n >= max)
                return -1;
            levels[n++] = (int)l;
        }
        if (*p == ',')
            p++;
        else if (*p)
            return -1;
    }
    return n > 0 ? n : -1;
}

/* Add the comma-separated values of ARG to VALS. */
static bool
add_values(char *arg, char **vals, size_t *n)
{
    for (char *save = NULL, *tok = strtok_r(arg, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        if (*n >= MAX_FILTER)
            return false;
        vals[(*n)++] = tok;
    }
    return true;
}

/* Send the packed request and hand back the reply, or an exit status. */
static int
call(const cli_t *cli, msgpack_sbuffer *buf, sdx_reply_t **reply)
{
    const char *eps[] = { cli->endpoint };
    sdx_client_t *client = NULL;
    sdx_status_t st = sdx_client_new(eps, 1, cli->timeout_ms,
                                     SDX_CLIENT_DEFAULT_ATTEMPTS, &client);
    if (st != SDX_OK) {
        fprintf(stderr, "%s: cannot start a client: %s\n", program,
                sdx_status_str(st));
        return EXIT_UNAVAILABLE;
    }
    st = sdx_client_call(client, buf->data, buf->size, reply);
    if (st != SDX_OK) {
        fprintf(stderr, "%s: %s\n", program, sdx_client_errmsg(client));
        sdx_client_destroy(&client);
        return st == SDX_UNAVAILABLE || st == SDX_IO ? EXIT_UNAVAILABLE
                                                     : EXIT_ERROR_REPLY;
    }
    sdx_client_destroy(&client);
    if (!sdx_reply_ok(*reply)) {
        char code[64], message[1024];
        sdx_reply_error(*reply, code, sizeof code, message, sizeof message);
        fprintf(stderr, "%s: %s: %s\n", program, code[0] ? code : "error",
                message);
        if (cli->json) {
            sdx_json_print(stdout, sdx_reply_root(*reply));
            putchar('\n');
        }
        sdx_reply_destroy(reply);
        return EXIT_ERROR_REPLY;
    }
    return -1;
}

static void
print_json(const sdx_reply_t *reply)
{
    sdx_json_print(stdout, sdx_reply_root(reply));
    putchar('\n');
}

/* Parse a command's own options; returns optind or -(exit status). */
typedef struct search_args {
    const char *query;          /* the query string */
    int levels[MAX_FILTER];     /* --level values */
    int nlevels;                /* number of LEVELS */
    char *sections[MAX_FILTER]; /* --section values */
    size_t nsections;           /* number of SECTIONS */
    char *rows[MAX_FILTER];     /* --row values */
    size_t nrows;               /* number of ROWS */
    char *codes[MAX_FILTER];    /* --code values */
    size_t ncodes;              /* number of CODES */
    long limit;                 /* --limit, 0 for the daemon's default */
    long offset;                /* --offset */
} search_args_t;

static int
cmd_search(cli_t *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        { "level", required_argument, NULL, 'l' },
        { "section", required_argument, NULL, 's' },
        { "row", required_argument, NULL, 'r' },
        { "code", required_argument, NULL, 'c' },
        { "limit", required_argument, NULL, 'n' },
        { "offset", required_argument, NULL, 'o' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    search_args_t a = { 0 };
    int ch;
    char *end;
    optind = 0; /* GNU: re-initialise, and let options follow QUERY */
    while ((ch = getopt_long(argc, argv, "l:s:r:c:n:o:jh", opts, NULL))
           != -1) {
        switch (ch) {
        case 'l':
            a.nlevels = parse_levels(optarg, a.levels, MAX_FILTER);
            if (a.nlevels < 0) {
                usage_error("--level: '%s' is not a level, a range like "
                            "1-3, or a list like 1,4,5", optarg);
                return EXIT_USAGE;
            }
            break;
        case 's':
        case 'r':
        case 'c': {
            char **vals = ch == 's' ? a.sections
                        : ch == 'r' ? a.rows : a.codes;
            size_t *n = ch == 's' ? &a.nsections
                      : ch == 'r' ? &a.nrows : &a.ncodes;
            if (!add_values(optarg, vals, n)) {
                usage_error("too many filter values at '%s'", optarg);
                return EXIT_USAGE;
            }
            break;
        }
        case 'n':
        case 'o': {
            long v = strtol(optarg, &end, 10);
            if (end == optarg || *end || v < 0) {
                usage_error("'%s' is not a number", optarg);
                return EXIT_USAGE;
            }
            if (ch == 'n')
                a.limit = v;
            else
                a.offset = v;
            break;
        }
        case 'j':
            cli->json = true;
            break;
        case 'h':
            print_search_help(stdout);
            return EXIT_RESULTS;
        default:
            fprintf(stderr, "Try 'specdex search --help'.\n");
            return EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        usage_error("%s", optind >= argc ? "search needs a QUERY"
                    : "search takes one QUERY (quote it if it has spaces)");
        return EXIT_USAGE;
    }
    a.query = argv[optind];

    msgpack_sbuffer buf;
    msgpack_packer pk;
    msgpack_sbuffer_init(&buf);
    msgpack_packer_init(&pk, &buf, msgpack_sbuffer_write);
    size_t nkeys = 2 + (a.nlevels > 0) + (a.nsections > 0) + (a.nrows > 0) +
                   (a.ncodes > 0) + (a.limit > 0) + (a.offset > 0);
    pack_request_head(&pk, "search", nkeys);
    pack_cstr(&pk, "q");
    pack_cstr(&pk, a.query);
    pack_cstr(&pk, "highlight");
    msgpack_pack_array(&pk, 2);
    pack_cstr(&pk, cli->json ? "<mark>" : MARK_OPEN);
    pack_cstr(&pk, cli->json ? "</mark>" : MARK_CLOSE);
    if (a.nlevels > 0) {
        pack_cstr(&pk, "levels");
        msgpack_pack_array(&pk, (size_t)a.nlevels);
        for (int i = 0; i < a.nlevels; i++)
            msgpack_pack_int(&pk, a.levels[i]);
    }
    if (a.nsections > 0)
        pack_str_array(&pk, "sections", a.sections, a.nsections);
    if (a.nrows > 0)
        pack_str_array(&pk, "rows", a.rows, a.nrows);
    if (a.ncodes > 0)
        pack_str_array(&pk, "codes", a.codes, a.ncodes);
    if (a.limit > 0) {
        pack_cstr(&pk, "limit");
        msgpack_pack_long(&pk, a.limit);
    }
    if (a.offset > 0) {
        pack_cstr(&pk, "offset");
        msgpack_pack_long(&pk, a.offset);
    }

    sdx_reply_t *reply = NULL;
    int rc = call(cli, &buf, &reply);
    msgpack_sbuffer_destroy(&buf);
    if (rc >= 0)
        return rc;

    const msgpack_object *root = sdx_reply_root(reply);
    const msgpack_object *hits = sdx_msgpack_get(root, "hits");
    size_t nhits = hits && hits->type == MSGPACK_OBJECT_ARRAY
                       ? hits->via.array.size : 0;
    if (cli->json) {
        print_json(reply);
    } else {
        long long total = obj_int(sdx_msgpack_get(root, "total"));
        for (size_t i = 0; i < nhits; i++) {
            const msgpack_object *h = &hits->via.array.ptr[i];
            long long rank = obj_int(sdx_msgpack_get(h, "rank"));
            print_clause(cli, h, rank > 0 ? (int)rank : (int)i + 1);
        }
        if (nhits == 0)
            printf("No clauses match.\n");
        else
            printf("\n%zu shown of about %lld matching clause%s.\n",
                   nhits, total, total == 1 ? "" : "s");
        const msgpack_object *partial = sdx_msgpack_get(root, "partial");
        if (partial && partial->type == MSGPACK_OBJECT_BOOLEAN &&
            partial->via.boolean)
            printf("(The search was cut short; results may be "
                   "incomplete.)\n");
    }
    sdx_reply_destroy(&reply);
    return nhits > 0 ? EXIT_RESULTS : EXIT_NO_RESULTS;
}

/* Parse the --json/--help flags of a command without options of its own. */
static int
simple_opts(cli_t *cli, int argc, char **argv, const char *cmd)
{
    static const struct option opts[] = {
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int ch;
    optind = 0; /* GNU: re-initialise, and let options follow arguments */
    while ((ch = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
        if (ch == 'j') {
            cli->json = true;
        } else if (ch == 'h') {
            if (strcmp(cmd, "get") == 0)
                print_get_help(stdout);
            else
                print_simple_help(stdout, cmd);
            return -EXIT_RESULTS - 1;
        } else {
            fprintf(stderr, "Try 'specdex %s --help'.\n", cmd);
            return -EXIT_USAGE - 1;
        }
    }
    return optind;
}

static int
cmd_get(cli_t *cli, int argc, char **argv)
{
    int first = simple_opts(cli, argc, argv, "get");
    if (first < 0)
        return -first - 1;
    if (first >= argc) {
        usage_error("%s", "get needs at least one ID");
        return EXIT_USAGE;
    }
    msgpack_sbuffer buf;
    msgpack_packer pk;
    msgpack_sbuffer_init(&buf);
    msgpack_packer_init(&pk, &buf, msgpack_sbuffer_write);
    pack_request_head(&pk, "get", 1);
    pack_str_array(&pk, "ids", argv + first, (size_t)(argc - first));
    sdx_reply_t *reply = NULL;
    int rc = call(cli, &buf, &reply);
    msgpack_sbuffer_destroy(&buf);
    if (rc >= 0)
        return rc;
    const msgpack_object *cl = sdx_msgpack_get(sdx_reply_root(reply),
                                               "clauses");
    size_t found = 0;
    if (cli->json)
        print_json(reply);
    for (uint32_t i = 0; cl && cl->type == MSGPACK_OBJECT_ARRAY &&
                         i < cl->via.array.size; i++) {
        const msgpack_object *c = &cl->via.array.ptr[i];
        if (c->type == MSGPACK_OBJECT_MAP) {
            found++;
            if (!cli->json) {
                char id[256];
                obj_str(sdx_msgpack_get(c, "id"), id, sizeof id);
                print_heading(cli, "%s\n", id);
                print_clause(cli, c, 0);
            }
        } else if (!cli->json) {
            fprintf(stderr, "%s: no clause with id '%s'\n", program,
                    argv[first + (int)i]);
        }
    }
    sdx_reply_destroy(&reply);
    return found > 0 ? EXIT_RESULTS : EXIT_NO_RESULTS;
}

static int
cmd_simple(cli_t *cli, int argc, char **argv, const char *op)
{
    int first = simple_opts(cli, argc, argv, op);
    if (first < 0)
        return -first - 1;
    if (first < argc) {
        usage_error("unexpected argument '%s'", argv[first]);
        return EXIT_USAGE;
    }
    msgpack_sbuffer buf;
    msgpack_packer pk;
    msgpack_sbuffer_init(&buf);
    msgpack_packer_init(&pk, &buf, msgpack_sbuffer_write);
    pack_request_head(&pk, op, 0);
    sdx_reply_t *reply = NULL;
    int rc = call(cli, &buf, &reply);
    msgpack_sbuffer_destroy(&buf);
    if (rc >= 0)
        return rc;
    const msgpack_object *root = sdx_reply_root(reply);
    if (cli->json) {
        print_json(reply);
    } else if (strcmp(op, "ping") == 0) {
        printf("specdexd at %s answers (%lld µs)\n", cli->endpoint,
               obj_int(sdx_msgpack_get(root, "took_us")));
    } else {
        /* stats: one "key: value" line per scalar, nested maps indented */
        for (uint32_t i = 0; i < root->via.map.size; i++) {
            const msgpack_object *k = &root->via.map.ptr[i].key;
            const msgpack_object *v = &root->via.map.ptr[i].val;
            char key[64];
            obj_str(k, key, sizeof key);
            if (strcmp(key, "v") == 0 || strcmp(key, "ok") == 0 ||
                strcmp(key, "id") == 0)
                continue;
            printf("%-12s ", key);
            if (v->type == MSGPACK_OBJECT_MAP) {
                for (uint32_t j = 0; j < v->via.map.size; j++) {
                    char sub[64];
                    obj_str(&v->via.map.ptr[j].key, sub, sizeof sub);
                    printf("%s%s=", j ? " " : "", sub);
                    sdx_json_print(stdout, &v->via.map.ptr[j].val);
                }
            } else if (v->type == MSGPACK_OBJECT_FLOAT64 ||
                       v->type == MSGPACK_OBJECT_FLOAT32) {
                printf("%g", obj_double(v));
            } else {
                sdx_json_print(stdout, v);
            }
            putchar('\n');
        }
    }
    sdx_reply_destroy(&reply);
    return EXIT_RESULTS;
}

static int
terminal_width(void)
{
    struct winsize ws;
    const char *cols = getenv("COLUMNS");
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    if (cols && atoi(cols) > 0)
        return atoi(cols);
    return 80;
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "endpoint", required_argument, NULL, 'e' },
        { "timeout", required_argument, NULL, 't' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    const char *env_ep = getenv("SPECDEX_ENDPOINT");
    const char *no_color = getenv("NO_COLOR");
    cli_t cli = {
        .endpoint = env_ep && *env_ep ? env_ep : SDX_CLIENT_DEFAULT_ENDPOINT,
        .timeout_ms = SDX_CLIENT_DEFAULT_TIMEOUT_MS,
        .color = isatty(STDOUT_FILENO) && !(no_color && *no_color),
        .width = terminal_width(),
    };
    int ch;
    char *end;
    while ((ch = getopt_long(argc, argv, "+e:t:jhV", opts, NULL)) != -1) {
        switch (ch) {
        case 'e':
            cli.endpoint = optarg;
            break;
        case 't': {
            long v = strtol(optarg, &end, 10);
            if (end == optarg || *end || v <= 0 || v > 600000) {
                usage_error("--timeout: '%s' is not 1..600000 ms", optarg);
                return EXIT_USAGE;
            }
            cli.timeout_ms = (int)v;
            break;
        }
        case 'j':
            cli.json = true;
            break;
        case 'h':
            print_main_help(stdout);
            return EXIT_RESULTS;
        case 'V':
            printf("specdex 0.1.0 (protocol 1)\n");
            return EXIT_RESULTS;
        default:
            fprintf(stderr, "Try '%s --help'.\n", program);
            return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        print_main_help(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[optind];
    int sub_argc = argc - optind;
    char **sub_argv = argv + optind;
    if (cli.json)
        cli.color = false;
    if (strcmp(cmd, "search") == 0)
        return cmd_search(&cli, sub_argc, sub_argv);
    if (strcmp(cmd, "get") == 0)
        return cmd_get(&cli, sub_argc, sub_argv);
    if (strcmp(cmd, "stats") == 0 || strcmp(cmd, "ping") == 0)
        return cmd_simple(&cli, sub_argc, sub_argv, cmd);
    usage_error("unknown command '%s'", cmd);
    return EXIT_USAGE;
}
