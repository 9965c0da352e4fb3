/*
 * specdex: the staff command-line client.
 *
 *   specdex [--endpoint EP]... [--timeout MS] [--json|--jsonl] COMMAND ...
 *
 * Every command goes through the typed calls of libspecdex-client (this
 * file never packs a request by hand) and prints the reply either for a
 * person — wrapped to COLUMNS or the terminal, matches in bold colour on
 * a terminal (--color, NO_COLOR), ladders and rows as level-by-level
 * tables — or for a script: --json prints the reply's data as one JSON
 * document, --jsonl one JSON line per hit, clause, cell or passage.
 *
 * The command line is checked whole before anything is sent: a number
 * out of the protocol's range, a section that is not one, a blank query
 * or a malformed endpoint is a usage error naming the option and what it
 * takes (the ranges are sdx_proto.h's, the daemon's own), never a silent
 * default and never an error reply to decode.
 *
 * Exit status: 0 results, 1 no results, 2 usage error, 3 daemon
 * unavailable, 4 error reply (its message on stderr).
 */
#define _DEFAULT_SOURCE /* explicit_bzero */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <msgpack.h>

#include "sdx_client.h"
#include "sdx_curve.h"
#include "sdx_json.h"
#include "sdx_proto.h" /* the protocol's limits, checked before sending */

enum {
    EXIT_RESULTS = 0,     /* the request succeeded with results */
    EXIT_NO_RESULTS = 1,  /* it succeeded and found nothing */
    EXIT_USAGE = 2,       /* the command line is wrong */
    EXIT_UNAVAILABLE = 3, /* no daemon answered */
    EXIT_ERROR_REPLY = 4, /* the daemon answered with an error */
};

/* Snippet markers asked of the daemon for terminal output: control
 * characters that never occur in the corpus' text, turned into colour
 * (or nothing) when printed. */
#define MARK_OPEN "\x02"
#define MARK_CLOSE "\x03"

#define MAX_VALUES 32    /* values per repeatable option */
#define MAX_ENDPOINTS 8  /* --endpoint given several times: failover */

/* SGR sequences used on a colour terminal. */
#define SGR_BOLD "\033[1m"
#define SGR_MATCH "\033[1;31m"
#define SGR_DIM "\033[2m"
#define SGR_RESET "\033[0m"

/* Options shared by every command. */
typedef struct cli {
    const char *endpoints[MAX_ENDPOINTS]; /* tried in turn */
    size_t nendpoints;     /* number of ENDPOINTS */
    int timeout_ms;        /* wait per attempt, milliseconds */
    bool curve;            /* --server-key and --client-key were given */
    sdx_curve_key_t server_key;  /* the daemon's public key */
    sdx_curve_key_t public_key;  /* this client's public key */
    sdx_curve_key_t secret_key;  /* this client's secret key */
    bool json;             /* print the reply's data as JSON */
    bool jsonl;            /* print one JSON line per item */
    const char *endpoint_source; /* where ENDPOINTS came from, for a
                                    usage error: "--endpoint", ... */
    int color_mode;        /* --color: COLOR_AUTO, _ALWAYS, _NEVER */
    bool color;            /* colour, as COLOR_MODE decides for stdout */
    int width;             /* columns to wrap text to */
} cli_t;

/* --color=WHEN.  AUTO: on a terminal unless NO_COLOR is set and not
 * empty; an explicit --color=always wins over NO_COLOR (no-color.org:
 * a per-run option overrides it). */
enum { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER };

/* getopt values of the options that have no short letter.  Every
 * command takes --color; the others only the commands whose LONG_ONLY
 * names them. */
#define OPT_COLOR 256
#define OPT_SYNTAX 257     /* search, context */
#define OPT_MIN_SCORE 258  /* context */
#define LONG_ONLY(opt) (1u << ((opt) - OPT_COLOR))

static const char *program = "specdex";

typedef struct query_args query_args_t; /* a command's options */
typedef struct sdx_result sdx_result_t;

/* How many operands a command takes after its options. */
typedef enum operands {
    OPERAND_NONE, /* stats, ping */
    OPERAND_ONE,  /* a QUERY, a ROW label, a key NAME */
    OPERAND_MANY, /* IDs */
} operands_t;

/* A command: its name, what it takes, the call it makes, its help. */
typedef struct command {
    const char *name;      /* as typed */
    const char *letters;   /* its options, as getopt letters */
    operands_t operands;   /* what follows the options */
    const char *missing;   /* the usage error when operands are missing */
    const char *operand;   /* the operand's name in messages ("QUERY") */
    size_t operand_max;    /* its length at most, bytes; 0: unbounded */
    /* the library call; NULL for keygen, which needs no daemon.  It may
       note in A what it learnt for SHOW (ping's round trip, row's retry) */
    sdx_status_t (*call)(sdx_client_t *c, query_args_t *a,
                         sdx_result_t **r);
    /* print for a person (not under --json); true when there are results */
    bool (*show)(const cli_t *cli, const query_args_t *a,
                 const sdx_result_t *r);
    const char *json_key;  /* --jsonl: the reply's array to print by line */
    const char *summary;   /* one line for the main help */
    const char *help;      /* the command's --help text */
    unsigned long_only;    /* LONG_ONLY() of the letterless options it
                              takes besides --color */
} command_t;

/*
 * A usage error on stderr: "specdex search: MESSAGE" and where to read
 * more ("Try 'specdex search --help'."); CMD NULL for the options before
 * the command.
 */
__attribute__((format(printf, 2, 3))) static void
usage_error(const command_t *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s%s%s: ", program, cmd ? " " : "",
            cmd ? cmd->name : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry '%s%s%s --help'.\n", program, cmd ? " " : "",
            cmd ? cmd->name : "");
}

/* ---------------------------------------------------------------- */
/* Text output                                                      */
/* ---------------------------------------------------------------- */

static void
style(const cli_t *cli, const char *sgr)
{
    if (cli->color)
        fputs(sgr, stdout);
}

/* Bytes of the UTF-8 sequence starting with byte C (1 for stray bytes). */
static size_t
utf8_len(unsigned char c)
{
    if (c >= 0xf0) return 4;
    if (c >= 0xe0) return 3;
    if (c >= 0xc0) return 2;
    return 1;
}

/* The HTML entities MSet::snippet writes, and what they stand for. */
static const struct entity {
    const char *name;      /* "&amp;" */
    char ch;               /* '&' */
} entities[] = {
    { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' },
    { "&quot;", '"' }, { "&#39;", '\'' }, { "&apos;", '\'' },
};

/* The entity at TEXT (LEFT bytes), or NULL. */
static const struct entity *
entity_at(const char *text, size_t left)
{
    for (size_t k = 0; k < sizeof entities / sizeof entities[0]; k++) {
        size_t n = strlen(entities[k].name);
        if (n <= left && memcmp(text, entities[k].name, n) == 0)
            return &entities[k];
    }
    return NULL;
}

/*
 * Print TEXT (LEN bytes) wrapped to the width, continuation lines
 * indented by INDENT spaces; the cursor is taken to stand at column
 * INDENT already.  MARK_OPEN/MARK_CLOSE become match colour (or nothing);
 * when HTML is true, the entities of a snippet are decoded.
 */
static void
print_wrapped(const cli_t *cli, const char *text, size_t len, int indent,
              bool html)
{
    int col = indent;
    int limit = cli->width > indent + 20 ? cli->width : indent + 60;
    bool in_match = false;
    size_t i = 0;
    while (i < len) {
        while (i < len && text[i] == ' ')
            i++;
        if (i >= len)
            break;
        /* One word: up to the next space; measure it first. */
        size_t start = i;
        int width = 0;
        while (i < len && text[i] != ' ') {
            const struct entity *e;
            if (text[i] == MARK_OPEN[0] || text[i] == MARK_CLOSE[0]) {
                i++;
                continue;
            }
            if (html && text[i] == '&' && (e = entity_at(text + i, len - i)))
                i += strlen(e->name);
            else
                i += utf8_len((unsigned char)text[i]);
            width++;
        }
        if (i > len)
            i = len;
        if (col > indent && col + 1 + width > limit) {
            if (in_match)
                style(cli, SGR_RESET);
            printf("\n%*s", indent, "");
            if (in_match)
                style(cli, SGR_MATCH);
            col = indent;
        } else if (col > indent) {
            putchar(' ');
            col++;
        }
        for (size_t j = start; j < i;) {
            const struct entity *e;
            if (text[j] == MARK_OPEN[0]) {
                style(cli, SGR_MATCH);
                in_match = true;
                j++;
            } else if (text[j] == MARK_CLOSE[0]) {
                style(cli, SGR_RESET);
                in_match = false;
                j++;
            } else if (html && text[j] == '&' &&
                       (e = entity_at(text + j, i - j))) {
                putchar(e->ch);
                j += strlen(e->name);
            } else {
                putchar(text[j++]);
            }
        }
        col += width;
    }
    if (in_match)
        style(cli, SGR_RESET);
    putchar('\n');
}

static void
print_text(const cli_t *cli, const char *text, int indent, bool html)
{
    print_wrapped(cli, text, strlen(text), indent, html);
}

/* Columns TEXT takes on a terminal (one per UTF-8 character). */
static int
display_width(const char *text)
{
    int w = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        w += (*p & 0xc0) != 0x80;
    return w;
}

/*
 * A clause's heading from column COL: "Key Resp 06 · level 2 · 5366",
 * the title when the line has room for it and EXTRA, then EXTRA (the id
 * and percent, dimmed).  EXTRA is never dropped: the id is what `specdex
 * get` takes, so the title gives way to it, and where even the heading
 * and EXTRA are too wide EXTRA goes on a line of its own, indented to
 * COL.  Ends the line.
 */
static void
print_clause_head(const cli_t *cli, const sdx_clause_t *c,
                  const int *levels, size_t nlevels, int col,
                  const char *extra)
{
    char head[512], where[64] = "all levels";
    const char *title = c->title;
    size_t n = 0;
    if (nlevels > 1) {
        n = (size_t)snprintf(where, sizeof where, "levels ");
        for (size_t i = 0; i < nlevels && n < sizeof where; i++)
            n += (size_t)snprintf(where + n, sizeof where - n, "%s%d",
                                  i ? "," : "", levels[i]);
        title = c->series;
    } else if (c->level > 0) {
        snprintf(where, sizeof where, "level %d · %s", c->level,
                 c->job_code);
    } else {
        title = c->series;
    }
    snprintf(head, sizeof head, "%s · %s", c->row, where);
    int head_end = col + display_width(head);
    int title_w = 3 + display_width(title);
    int extra_w = extra ? 2 + display_width(extra) : 0;
    bool extra_fits = head_end + extra_w <= cli->width;
    bool with_title = extra_fits
        ? head_end + title_w + extra_w <= cli->width
        : head_end + title_w <= cli->width;
    style(cli, SGR_BOLD);
    fputs(head, stdout);
    if (with_title)
        printf(" · %s", title);
    style(cli, SGR_RESET);
    if (extra) {
        if (extra_fits)
            fputs("  ", stdout);
        else
            printf("\n%*s", col, "");
        style(cli, SGR_DIM);
        fputs(extra, stdout);
        style(cli, SGR_RESET);
    }
    putchar('\n');
}

/* ---------------------------------------------------------------- */
/* JSON output                                                      */
/* ---------------------------------------------------------------- */

/*
 * --json: the reply as one document.  --jsonl: each element of the
 * reply's array KEY (hits, clauses, cells, ...) on a line of its own, or
 * the reply on one line when KEY is NULL.
 */
static void
print_json(const cli_t *cli, const sdx_result_t *r, const char *key)
{
    const msgpack_object *root = sdx_client_reply_root(r->reply);
    const msgpack_object *arr = key ? sdx_msgpack_get(root, key) : NULL;
    if (cli->jsonl && arr && arr->type == MSGPACK_OBJECT_ARRAY) {
        for (uint32_t i = 0; i < arr->via.array.size; i++) {
            sdx_json_print(stdout, &arr->via.array.ptr[i]);
            putchar('\n');
        }
        return;
    }
    sdx_json_print(stdout, root);
    putchar('\n');
}

/* ---------------------------------------------------------------- */
/* Talking to the daemon                                            */
/* ---------------------------------------------------------------- */

static sdx_client_t *
open_client(const cli_t *cli)
{
    sdx_client_t *client = NULL;
    sdx_status_t st = sdx_client_new(cli->endpoints, cli->nendpoints,
                                     cli->timeout_ms,
                                     SDX_CLIENT_DEFAULT_ATTEMPTS, &client);
    if (st != SDX_OK)
        fprintf(stderr, "%s: cannot start a client: %s\n", program,
                sdx_status_str(st));
    else if (cli->curve &&
             sdx_client_set_curve(client, cli->server_key.z85,
                                  cli->public_key.z85,
                                  cli->secret_key.z85) != SDX_OK)
        sdx_client_destroy(&client); /* keys were checked when read */
    return client;
}

/*
 * The exit status for a failed call (ST != SDX_OK), after saying why on
 * stderr.  An error reply is also printed as JSON under --json/--jsonl.
 */
static int
call_failed(const cli_t *cli, sdx_client_t *client, sdx_status_t st,
            const sdx_result_t *r)
{
    if (st == SDX_REMOTE) {
        fprintf(stderr, "%s: %s: %s\n", program,
                sdx_client_error_code(client), sdx_client_errmsg(client));
        if ((cli->json || cli->jsonl) && r)
            print_json(cli, r, NULL);
        return EXIT_ERROR_REPLY;
    }
    fprintf(stderr, "%s: %s\n", program,
            sdx_client_errmsg(client)[0] ? sdx_client_errmsg(client)
                                         : sdx_status_str(st));
    return st == SDX_UNAVAILABLE || st == SDX_IO ? EXIT_UNAVAILABLE
                                                 : EXIT_ERROR_REPLY;
}

/* ---------------------------------------------------------------- */
/* Option parsing                                                   */
/* ---------------------------------------------------------------- */

/*
 * Parse --level's "3", "1-3" or "1,4,5" into LEVELS (room for MAX).
 * Returns the count, or 0 after a usage error for CMD: not a level, a
 * range or a list, or a level outside the protocol's levels.
 */
static int
parse_levels(const command_t *cmd, const char *spec, int *levels, int max)
{
    int n = 0;
    const char *p = spec;
    while (*p) {
        char *end;
        long lo, hi;
        errno = 0;
        if (*p < '0' || *p > '9' || (lo = strtol(p, &end, 10), errno))
            goto malformed;
        p = end;
        hi = lo;
        if (*p == '-') {
            p++;
            if (*p < '0' || *p > '9' || (hi = strtol(p, &end, 10), errno))
                goto malformed;
            p = end;
        }
        if (lo > hi) {
            usage_error(cmd, "--level: '%s': a range goes up, as in "
                        "%ld-%ld", spec, hi, lo);
            return 0;
        }
        if (lo < SDX_PROTO_LEVEL_MIN || hi > SDX_PROTO_LEVEL_MAX) {
            usage_error(cmd, "--level: %ld is out of range %d..%d",
                        lo < SDX_PROTO_LEVEL_MIN ? lo : hi,
                        SDX_PROTO_LEVEL_MIN, SDX_PROTO_LEVEL_MAX);
            return 0;
        }
        for (long l = lo; l <= hi; l++) {
            if (n >= max) {
                usage_error(cmd, "--level: '%s': more than %d levels",
                            spec, max);
                return 0;
            }
            levels[n++] = (int)l;
        }
        if (*p == ',')
            p++;
        else if (*p)
            goto malformed;
    }
    if (n > 0)
        return n;
malformed:
    usage_error(cmd, "--level: '%s' is not a level (%d..%d), a range like "
                "1-3, or a list like 1,4,5", spec, SDX_PROTO_LEVEL_MIN,
                SDX_PROTO_LEVEL_MAX);
    return 0;
}

/* The section kinds as "summary, scope, ...", for a usage error. */
static const char *
section_list(void)
{
    static char list[256];
    size_t n = 0;
    for (const char *const *k = sdx_sections; *k && n < sizeof list; k++)
        n += (size_t)snprintf(list + n, sizeof list - n, "%s%s",
                              n ? ", " : "", *k);
    return list;
}

/*
 * Check one value of OPT (a text option or operand, named so): not
 * blank, at most MAX bytes (0: no bound).  False after a usage error.
 */
static bool
check_text(const command_t *cmd, const char *opt, const char *value,
           size_t max)
{
    size_t len = strlen(value);
    if (strspn(value, " \t\n\r\f\v") == len) {
        usage_error(cmd, "%s is %s", opt, len ? "blank" : "empty");
        return false;
    }
    if (max && len > max) {
        usage_error(cmd, "%s: %zu bytes is over the %zu bytes allowed",
                    opt, len, max);
        return false;
    }
    return true;
}

/*
 * Add the comma-separated values of ARG (option OPT, each at most MAX
 * bytes) to VALS (*N of MAX_VALUES used).  A --section value is folded
 * to lower case and must be a section kind.  False after a usage error.
 */
static bool
add_values(const command_t *cmd, const char *opt, char *arg,
           const char **vals, size_t *n, size_t max)
{
    char *save = NULL, *tok = strtok_r(arg, ",", &save);
    if (!tok)
        return check_text(cmd, opt, "", 0);
    for (; tok; tok = strtok_r(NULL, ",", &save)) {
        if (!check_text(cmd, opt, tok, max))
            return false;
        if (strcmp(opt, "--section") == 0) {
            for (char *c = tok; *c; c++)
                if (*c >= 'A' && *c <= 'Z')
                    *c = (char)(*c - 'A' + 'a');
            if (!sdx_section_valid(tok)) {
                usage_error(cmd, "--section: '%s' is not a section (one "
                            "of %s)", tok, section_list());
                return false;
            }
        }
        if (*n >= MAX_VALUES) {
            usage_error(cmd, "%s: at most %d values", opt, MAX_VALUES);
            return false;
        }
        vals[(*n)++] = tok;
    }
    return true;
}

/*
 * Parse ARG, the value of option OPT, as a whole number LO..HI into
 * *OUT.  False after a usage error naming OPT and its range.
 */
static bool
parse_number(const command_t *cmd, const char *opt, const char *arg,
             long lo, long hi, unsigned *out)
{
    char *end;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (end == arg || *end || errno || arg[0] == ' ' || arg[0] == '+') {
        usage_error(cmd, "%s: '%s' is not a number (%ld..%ld)", opt, arg,
                    lo, hi);
        return false;
    }
    if (v < lo || v > hi) {
        usage_error(cmd, "%s: %ld is out of range %ld..%ld", opt, v, lo,
                    hi);
        return false;
    }
    *out = (unsigned)v;
    return true;
}

/*
 * Parse ARG, the value of option OPT, as a fraction 0..1 ("0.4", "0")
 * into *OUT.  False after a usage error naming OPT and its range.
 */
static bool
parse_fraction(const command_t *cmd, const char *opt, const char *arg,
               double *out)
{
    char *end;
    errno = 0;
    double v = strtod(arg, &end);
    if (end == arg || *end || errno || !isdigit((unsigned char)arg[0]) ||
        !(v >= 0.0 && v <= 1.0)) { /* NaN fails both */
        usage_error(cmd, "%s: '%s' is not a number 0..1", opt, arg);
        return false;
    }
    *out = v;
    return true;
}

/*
 * True when EP is an endpoint this client can reach: tcp://HOST:PORT
 * (PORT 1..65535; HOST a name, an address or [an IPv6 address]) or
 * ipc://PATH (a path a Unix socket can have).  Else a usage error naming
 * WHERE (--endpoint, SPECDEX_ENDPOINT).  inproc:// only reaches sockets
 * of the same process, never a daemon.
 */
static bool
check_endpoint(const char *where, const char *ep)
{
    const char *why = NULL;
    if (strncmp(ep, "ipc://", 6) == 0) {
        size_t len = strlen(ep + 6);
        if (len == 0)
            why = "ipc:// needs a path";
        else if (len >= sizeof ((struct sockaddr_un *)0)->sun_path)
            why = "the path is too long for a Unix socket";
    } else if (strncmp(ep, "tcp://", 6) == 0) {
        const char *host = ep + 6, *colon = strrchr(host, ':');
        char *end;
        long port = 0;
        if (colon) {
            errno = 0;
            port = strtol(colon + 1, &end, 10);
            if (colon[1] < '0' || colon[1] > '9' || *end || errno)
                port = 0;
        }
        if (!colon || colon == host)
            why = "tcp:// needs HOST:PORT";
        else if (port < 1 || port > 65535)
            why = "the port is not 1..65535";
        else if (strcspn(host, "*; /") < (size_t)(colon - host) ||
                 (host[0] == '[') != (colon[-1] == ']'))
            why = "the host is not a name or an address";
    } else if (strncmp(ep, "inproc://", 9) == 0) {
        why = "inproc:// reaches only this process, never a daemon";
    } else {
        why = "not tcp://HOST:PORT or ipc://PATH";
    }
    if (why)
        usage_error(NULL, "%s: '%s' is not an endpoint: %s", where, ep,
                    why);
    return why == NULL;
}

/* Everything a query command can be given. */
struct query_args {
    sdx_query_t q;                  /* what goes to the library; q.q is
                                       the one operand (query, row, name) */
    const char *const *operands;    /* every operand (get: the ids) */
    size_t noperands;               /* number of OPERANDS */
    int levels[MAX_VALUES];         /* --level */
    const char *sections[MAX_VALUES]; /* --section */
    const char *rows[MAX_VALUES];   /* --row */
    const char *codes[MAX_VALUES];  /* --code */
    const char *series;             /* --series (row, diff, fit, gaps) */
    bool diff;                      /* --diff (row, ladder) */
    const char *clause;             /* --clause (verify) */
    char *text;                     /* fit, gaps: the TEXT read from
                                       stdin for "-", owned */
    uint64_t round_trip_us;         /* ping: as measured here, µs */
    sdx_result_t *without_series;   /* row: the row in any series, asked
                                       when --series found no cell */
};

/* The grid ops' printers, below the commands that share them. */
static bool print_diff(const cli_t *cli, const sdx_result_t *r);
static msgpack_object_array mp_list(const msgpack_object *map,
                                    const char *key);

/* Which options a command takes, as getopt letters. */
#define OPTS_SEARCH "l:s:r:c:n:o:gfjJh"
#define OPTS_LADDER "s:r:DjJh"
#define OPTS_CONTEXT "l:s:k:m:jJh"
#define OPTS_ROW "S:DjJh"
#define OPTS_FIT "S:jJh"
#define OPTS_FIRST "s:r:jJh"
#define OPTS_VERIFY "C:jJh"
#define OPTS_GAPS "l:S:jJh"
#define OPTS_PLAIN "jJh"
#define OPTS_KEYGEN "h"

/* --color's WHEN (NULL: always, as ls and grep take it) into *MODE. */
static bool
parse_color(const command_t *cmd, const char *when, int *mode)
{
    if (!when || strcmp(when, "always") == 0)
        *mode = COLOR_ALWAYS;
    else if (strcmp(when, "never") == 0)
        *mode = COLOR_NEVER;
    else if (strcmp(when, "auto") == 0)
        *mode = COLOR_AUTO;
    else {
        usage_error(cmd, "--color: '%s' is not auto, always or never",
                    when);
        return false;
    }
    return true;
}

/*
 * Parse a command's options (those in LETTERS) into A; return the index
 * of the first operand, or -(exit status + 1) when the command must end
 * (after --help, or on a usage error).  Options may follow operands.
 */
static int
parse_command_opts(cli_t *cli, const command_t *cmd, const char *letters,
                   int argc, char **argv, query_args_t *a)
{
    static const struct option opts[] = {
        { "level", required_argument, NULL, 'l' },
        { "section", required_argument, NULL, 's' },
        { "row", required_argument, NULL, 'r' },
        { "code", required_argument, NULL, 'c' },
        { "limit", required_argument, NULL, 'n' },
        { "offset", required_argument, NULL, 'o' },
        { "group", no_argument, NULL, 'g' },
        { "facets", no_argument, NULL, 'f' },
        { "k", required_argument, NULL, 'k' },
        { "max-chars", required_argument, NULL, 'm' },
        { "series", required_argument, NULL, 'S' },
        { "diff", no_argument, NULL, 'D' },
        { "clause", required_argument, NULL, 'C' },
        { "json", no_argument, NULL, 'j' },
        { "jsonl", no_argument, NULL, 'J' },
        { "color", optional_argument, NULL, OPT_COLOR },
        { "syntax", required_argument, NULL, OPT_SYNTAX },
        { "min-score", required_argument, NULL, OPT_MIN_SCORE },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int ch, n;
    optind = 0; /* GNU: re-initialise, and let options follow operands */
    opterr = 0;
    int at = -1; /* the long option getopt_long found, if one */
    while ((ch = getopt_long(argc, argv, letters, opts, &at)) != -1) {
        /* getopt_long accepts any long option; refuse those whose
         * letter this command does not take (every one takes --color). */
        if (ch > OPT_COLOR ? !(cmd->long_only & LONG_ONLY(ch))
                           : ch != '?' && ch != ':' && ch != OPT_COLOR &&
                                 !strchr(letters, ch)) {
            usage_error(cmd, "--%s is not an option of %s", opts[at].name,
                        cmd->name);
            return -EXIT_USAGE - 1;
        }
        at = -1;
        switch (ch) {
        case 'l':
            if (!(n = parse_levels(cmd, optarg, a->levels, MAX_VALUES)))
                return -EXIT_USAGE - 1;
            a->q.levels = a->levels;
            a->q.nlevels = (size_t)n;
            break;
        case 's':
            if (!add_values(cmd, "--section", optarg, a->sections,
                            &a->q.nsections, 0))
                return -EXIT_USAGE - 1;
            a->q.sections = a->sections;
            break;
        case 'r':
            if (a->q.nrows >= MAX_VALUES) {
                usage_error(cmd, "--row: at most %d values", MAX_VALUES);
                return -EXIT_USAGE - 1;
            }
            /* labels may hold commas: one value per --row */
            if (!check_text(cmd, "--row", optarg, SDX_PROTO_STR_MAX))
                return -EXIT_USAGE - 1;
            a->rows[a->q.nrows++] = optarg;
            a->q.rows = a->rows;
            break;
        case 'c':
            if (!add_values(cmd, "--code", optarg, a->codes, &a->q.ncodes,
                            SDX_PROTO_STR_MAX))
                return -EXIT_USAGE - 1;
            a->q.codes = a->codes;
            break;
        case 'n':
            if (!parse_number(cmd, "--limit", optarg, 1,
                              SDX_PROTO_LIMIT_MAX, &a->q.limit))
                return -EXIT_USAGE - 1;
            break;
        case 'o':
            if (!parse_number(cmd, "--offset", optarg, 0,
                              SDX_PROTO_OFFSET_MAX, &a->q.offset))
                return -EXIT_USAGE - 1;
            break;
        case 'k':
            if (!parse_number(cmd, "--k", optarg, SDX_PROTO_K_MIN,
                              SDX_PROTO_K_MAX, &a->q.k))
                return -EXIT_USAGE - 1;
            break;
        case 'm':
            if (!parse_number(cmd, "--max-chars", optarg,
                              SDX_PROTO_CHARS_MIN, SDX_PROTO_CHARS_MAX,
                              &a->q.max_chars))
                return -EXIT_USAGE - 1;
            break;
        case 'g':
            a->q.group = true;
            break;
        case 'f':
            a->q.facets = true;
            break;
        case 'S':
            if (!check_text(cmd, "--series", optarg, SDX_PROTO_STR_MAX))
                return -EXIT_USAGE - 1;
            a->series = optarg;
            break;
        case 'D':
            a->diff = true;
            break;
        case 'C':
            if (!check_text(cmd, "--clause", optarg, SDX_PROTO_STR_MAX))
                return -EXIT_USAGE - 1;
            a->clause = optarg;
            break;
        case 'j':
            cli->json = true;
            break;
        case 'J':
            cli->jsonl = true;
            break;
        case OPT_COLOR:
            if (!parse_color(cmd, optarg, &cli->color_mode))
                return -EXIT_USAGE - 1;
            break;
        case OPT_SYNTAX:
            if (strcmp(optarg, "plain") != 0 &&
                strcmp(optarg, "query") != 0) {
                usage_error(cmd, "--syntax: '%s' is not plain or query",
                            optarg);
                return -EXIT_USAGE - 1;
            }
            a->q.syntax = optarg;
            break;
        case OPT_MIN_SCORE:
            if (!parse_fraction(cmd, "--min-score", optarg,
                                &a->q.min_score))
                return -EXIT_USAGE - 1;
            a->q.has_min_score = true;
            break;
        case 'h':
            fputs(cmd->help, stdout);
            return -EXIT_RESULTS - 1;
        default:
            usage_error(cmd, "unknown option or missing value: '%s'",
                        argv[optind - 1]);
            return -EXIT_USAGE - 1;
        }
    }
    return optind;
}

/* The one operand of a command, or NULL after a usage error. */
static const char *
one_operand(const command_t *cmd, int first, int argc, char **argv)
{
    if (first >= argc)
        usage_error(cmd, "%s", cmd->missing);
    else if (first < argc - 1)
        usage_error(cmd, "too many arguments (quote a %s that has spaces)",
                    cmd->operand);
    else if (check_text(cmd, cmd->operand, argv[first], cmd->operand_max))
        return argv[first];
    return NULL;
}

/* ---------------------------------------------------------------- */
/* Commands                                                         */
/* ---------------------------------------------------------------- */

/*
 * Each command is a call of the client library and a way to show its
 * result to a person; run_command() does the rest the same way for all:
 * options, operands, the call, errors, JSON, the exit status.  A show
 * function prints only when the output is for a person, and says
 * whether the result holds anything (exit 0) or not (exit 1).
 */

/* --facets: "Matches by level: 1: 3  2: 4 ..." and by section. */
static void
print_facets(const cli_t *cli, const sdx_result_t *r)
{
    const msgpack_object *facets =
        sdx_msgpack_get(sdx_client_reply_root(r->reply), "facets");
    static const char *const kinds[] = { "level", "section" };
    if (!facets)
        return;
    for (size_t k = 0; k < 2; k++) {
        const msgpack_object *m = sdx_msgpack_get(facets, kinds[k]);
        if (!m || m->type != MSGPACK_OBJECT_MAP)
            continue;
        style(cli, SGR_BOLD);
        printf("Matches by %s:", kinds[k]);
        style(cli, SGR_RESET);
        for (uint32_t i = 0; i < m->via.map.size; i++) {
            const msgpack_object *key = &m->via.map.ptr[i].key;
            const msgpack_object *val = &m->via.map.ptr[i].val;
            if (key->type == MSGPACK_OBJECT_STR &&
                val->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
                printf("  %.*s: %llu", (int)key->via.str.size,
                       key->via.str.ptr, (unsigned long long)val->via.u64);
        }
        putchar('\n');
    }
}

/* One "NAME a, b" part of the understood line, after SEP. */
static void
print_named(const char *name, char *const *vals, size_t n,
            const char **sep)
{
    if (!n)
        return;
    printf("%s%s ", *sep, name);
    for (size_t i = 0; i < n; i++)
        printf("%s%s", i ? ", " : "", vals[i]);
    *sep = "; ";
}

/*
 * What a question in plain words was read as naming (the levels,
 * sections, rows and series it was restricted to or weighed towards),
 * so a person sees what was searched; nothing when it named none.
 */
static void
print_understood(const sdx_result_t *r)
{
    const sdx_result_understood_t *u = &r->understood;
    const char *sep = "";
    if (!r->has_understood ||
        !(u->nlevels || u->nsections || u->nrows || u->nseries))
        return;
    printf("Understood: ");
    if (u->nlevels) {
        printf("level%s ", u->nlevels == 1 ? "" : "s");
        for (size_t i = 0; i < u->nlevels; i++)
            printf("%s%d", i ? ", " : "", u->levels[i]);
        sep = "; ";
    }
    print_named("sections", u->sections, u->nsections, &sep);
    print_named("rows", u->rows, u->nrows, &sep);
    print_named("series", u->series, u->nseries, &sep);
    printf("\n\n");
}

static sdx_status_t
call_search(sdx_client_t *c, query_args_t *a, sdx_result_t **r)
{
    return sdx_client_search(c, &a->q, r);
}

static bool
show_search(const cli_t *cli, const query_args_t *a, const sdx_result_t *r)
{
    if (cli->json || cli->jsonl)
        return r->nhits > 0;
    print_understood(r);
    for (size_t i = 0; i < r->nhits; i++) {
        const sdx_result_hit_t *h = &r->hits[i];
        char extra[300];
        snprintf(extra, sizeof extra, "%s (%d%%)", h->clause->id,
                 h->percent);
        printf("%2u. ", h->rank ? h->rank : (unsigned)i + 1);
        print_clause_head(cli, h->clause, h->levels, h->nlevels, 4, extra);
        printf("    ");
        if (h->snippet[0])
            print_text(cli, h->snippet, 4, true);
        else
            print_text(cli, h->clause->text, 4, false);
    }
    if (r->nhits == 0 && r->total > 0 && a->q.offset > 0) {
        /* matches there are, just not this far: say so, not "none" */
        printf("--offset %u is past the last of the %llu matching %s.\n",
               a->q.offset, (unsigned long long)r->total,
               a->q.group ? (r->total == 1 ? "group" : "groups")
                          : (r->total == 1 ? "clause" : "clauses"));
    } else if (r->nhits == 0) {
        printf("No clauses match.\n");
        if (r->note)
            printf("%s\n", r->note);
        if (r->corrected)
            printf("Did you mean: %s\n", r->corrected);
    } else {
        printf("\n%zu shown of about %llu matching clause%s.\n", r->nhits,
               (unsigned long long)r->total, r->total == 1 ? "" : "s");
    }
    if (r->partial)
        printf("(The search was cut short by its time or cost limit; "
               "results may be incomplete.)\n");
    print_facets(cli, r);
    return r->nhits > 0;
}

/* The title of LEVEL among CELLS, or "". */
static const char *
cell_title(const sdx_result_t *r, int level)
{
    for (size_t i = 0; i < r->ncells; i++)
        if (r->cells[i].level == level)
            return r->cells[i].title;
    return "";
}

/*
 * A row across levels as a table a person can scan (and paste into an
 * email): level, job code, the cell's text wrapped in its column.
 */
static void
print_cells_table(const cli_t *cli, const sdx_result_t *r)
{
    static const int text_col = 13; /* "Level  Code  " */
    style(cli, SGR_BOLD);
    printf("Level  Code  Text\n");
    style(cli, SGR_RESET);
    printf("-----  ----  ");
    for (int i = text_col; i < (cli->width < 80 ? cli->width : 80); i++)
        putchar('-');
    putchar('\n');
    for (size_t i = 0; i < r->ncells; i++) {
        const sdx_result_cell_t *c = &r->cells[i];
        const char *slash = strchr(c->id, '/');
        int code_len = slash ? (int)(slash - c->id) : 0;
        printf("%-5d  %-4.*s  ", c->level, code_len, c->id);
        if (c->text)
            print_text(cli, c->text, text_col, false);
        else
            printf("(no cell at this level)\n");
    }
}

/* With --diff, the ladder's row is diffed too; --json then prints the
   diff's reply (the ladder's table is its `row --json`). */
static sdx_status_t
call_ladder(sdx_client_t *c, query_args_t *a, sdx_result_t **r)
{
    sdx_status_t st = sdx_client_ladder(c, &a->q, r);
    if (st != SDX_OK || !a->diff || !(*r)->row || !(*r)->ncells)
        return st;
    sdx_result_t *d = NULL;
    st = sdx_client_diff(c, (*r)->row, (*r)->cells[0].series, &d);
    if (st != SDX_OK) {
        sdx_result_destroy(&d);
        return st;
    }
    a->without_series = *r; /* kept for show_ladder */
    *r = d;
    return SDX_OK;
}

static bool
show_ladder(const cli_t *cli, const query_args_t *a, const sdx_result_t *r)
{
    size_t found = 0;
    if (a->diff && a->without_series) {
        /* R is the diff, the ladder is kept aside */
        if (!cli->json && !cli->jsonl) {
            show_ladder(cli, &(query_args_t){ .q = a->q },
                        a->without_series);
            printf("\nWhat each level adds and removes:\n");
            print_diff(cli, r);
        }
        return true;
    }
    for (int l = 1; l <= SDX_MAX_LEVEL; l++)
        found += r->ladder[l] != NULL;
    if (cli->json || cli->jsonl)
        return found > 0;
    if (!found) {
        printf("No clauses match.\n");
        return false;
    }
    style(cli, SGR_BOLD);
    printf("%s", r->row ? r->row : "");
    style(cli, SGR_RESET);
    printf(" from level to level: the row that best matches \"%s\"\n\n",
           a->q.q);
    print_cells_table(cli, r);
    printf("\nBest match at each level:\n");
    for (int l = 1; l <= SDX_MAX_LEVEL; l++) {
        const sdx_clause_t *c = r->ladder[l];
        if (c)
            printf("  %d  %-20s %s\n", l, c->row, c->id);
        else if (cell_title(r, l)[0])
            printf("  %d  (nothing relevant at this level)\n", l);
    }
    return true;
}

/*
 * When --series found no cell, ask once more without it: if the row is
 * there in another series, the series is what is wrong, and the person
 * is told which series have the row rather than that it does not exist.
 */
static sdx_status_t
call_row(sdx_client_t *c, query_args_t *a, sdx_result_t **r)
{
    if (a->diff)
        return sdx_client_diff(c, a->q.q, a->series, r);
    sdx_status_t st = sdx_client_row(c, a->q.q, a->series, r);
    if (st == SDX_OK && (*r)->ncells == 0 && a->series &&
        sdx_client_row(c, a->q.q, NULL, &a->without_series) != SDX_OK)
        sdx_result_destroy(&a->without_series); /* only a better message */
    return st;
}

static bool
show_row(const cli_t *cli, const query_args_t *a, const sdx_result_t *r)
{
    const sdx_result_t *any = a->without_series;
    if (a->diff)
        return cli->json || cli->jsonl
                   ? mp_list(sdx_client_reply_root(r->reply), "steps").size
                   : print_diff(cli, r);
    if (cli->json || cli->jsonl)
        return r->ncells > 0;
    if (!r->ncells && any && any->ncells) {
        printf("No series \"%s\" has %s; it is in", a->series,
               any->row ? any->row : a->q.q);
        for (size_t i = 0; i < any->ncells; i++)
            if (i == 0 || strcmp(any->cells[i].series,
                                 any->cells[i - 1].series) != 0)
                printf("%s \"%s\"", i ? "," : "", any->cells[i].series);
        printf(".\n");
        return false;
    }
    if (!r->ncells && a->series && !any) {
        printf("No row \"%s\" in series \"%s\".\n", a->q.q, a->series);
        return false;
    }
    if (!r->ncells) {
        printf("No row \"%s\"%s.\n", a->q.q,
               a->series ? " in any series" : "");
        return false;
    }
    style(cli, SGR_BOLD);
    printf("%s", r->row ? r->row : a->q.q); /* as the corpus writes it */
    style(cli, SGR_RESET);
    printf(" across levels\n\n");
    print_cells_table(cli, r);
    return true;
}

static sdx_status_t
call_get(sdx_client_t *c, query_args_t *a, sdx_result_t **r)
{
    return sdx_client_get(c, a->operands, a->noperands, r);
}

static bool
show_get(const cli_t *cli, const query_args_t *a, const sdx_result_t *r)
{
    size_t found = 0;
    for (size_t i = 0; i < r->nclauses; i++) {
        const sdx_clause_t *c = r->clauses[i];
        if (!c) {
            fprintf(stderr, "%s: no clause with id '%s'\n", program,
                    i < a->noperands ? a->operands[i] : "?");
            continue;
        }
        found++;
        if (cli->json || cli->jsonl)
            continue;
        print_clause_head(cli, c, NULL, 0, 0, c->id);
        printf("    ");
        print_text(cli, c->text, 4, false);
    }
    return found > 0;
}

static sdx_status_t
call_context(sdx_client_t *c, query_args_t *a, sdx_result_t **r)
{
    return sdx_client_context(c, &a->q, r);
}

static bool
show_context(const cli_t *cli, const query_args_t *a,
             const sdx_result_t *r)
{
    (void)a;
    if (cli->json || cli->jsonl)
        return r->npassages > 0;
    print_understood(r);
    for (size_t i = 0; i < r->npassages; i++) {
        printf("[%zu] ", i + 1);
        style(cli, SGR_BOLD);
        printf("%s\n", r->passages[i].cite);
        style(cli, SGR_RESET);
        printf("    ");
        print_text(cli, r->passages[i].text, 4, false);
    }
    if (!r->npassages) {
        printf("No passages match.\n");
        if (r->note)
            printf("%s\n", r->note);
        if (r->corrected)
            printf("Did you mean: %s\n", r->corrected);
    } else
        printf("\n%llu characters in %zu passage%s.\n",
               (unsigned long long)r->chars, r->npassages,
               r->npassages == 1 ? "" : "s");
    return r->npassages > 0;
}

static sdx_status_t
call_suggest(sdx_client_t *c, query_args_t *a, sdx_result_t **r)
{
    return sdx_client_suggest(c, a->q.q, r);
}

static bool
show_suggest(const cli_t *cli, const query_args_t *a,
             const sdx_result_t *r)
{
    (void)a;
    if (cli->json || cli->jsonl)
        return r->suggestion != NULL;
    if (r->suggestion)
        printf("Did you mean: %s\n", r->suggestion);
    else
        printf("No suggestion: every word of the query is known.\n");
    return r->suggestion != NULL;
}

static sdx_status_t
call_stats(sdx_client_t *c, query_args_t *a, sdx_result_t **r)
{
    (void)a;
    return sdx_client_stats(c, r);
}

static bool
show_stats(const cli_t *cli, const query_args_t *a, const sdx_result_t *r)
{
    const sdx_result_stats_t *s = &r->stats;
    (void)a;
    if (cli->json || cli->jsonl)
        return true;
    printf("index      %s\n", s->index_path[0] ? s->index_path
                                               : "(none loaded)");
    printf("revision   %llu, built %s\n", (unsigned long long)s->revision,
           s->built_at);
    printf("documents  %llu\n", (unsigned long long)s->docs);
    printf("workers    %llu\n", (unsigned long long)s->workers);
    printf("uptime     %llu s\n", (unsigned long long)s->uptime_s);
    printf("requests   %llu (%llu errors)\n",
           (unsigned long long)s->requests, (unsigned long long)s->errors);
    printf("latency    p50 %llu µs, p90 %llu µs, p99 %llu µs, max %llu µs\n",
           (unsigned long long)s->p50_us, (unsigned long long)s->p90_us,
           (unsigned long long)s->p99_us, (unsigned long long)s->max_us);
    return true;
}

/* Microseconds on the monotonic clock. */
static uint64_t
now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The round trip is timed here, around the whole call: connecting,
 * sending, the daemon's work and the reply, as a client lives it; the
 * reply's took_us is only the daemon's part. */
static sdx_status_t
call_ping(sdx_client_t *c, query_args_t *a, sdx_result_t **r)
{
    uint64_t t0 = now_us();
    sdx_status_t st = sdx_client_ping(c, r);
    a->round_trip_us = now_us() - t0;
    return st;
}

static bool
show_ping(const cli_t *cli, const query_args_t *a, const sdx_result_t *r)
{
    if (!cli->json && !cli->jsonl)
        printf("specdexd answers: round trip %llu µs (the daemon's own "
               "time %llu µs)\n", (unsigned long long)a->round_trip_us,
               (unsigned long long)r->took_us);
    return true;
}

/* ---------------------------------------------------------------- */
/* The grid ops: fit, diff (row --diff, ladder --diff), first,      */
/* verify, gaps.  Their replies are read from the raw reply.         */
/* ---------------------------------------------------------------- */

#define SGR_DEL "\033[9;31m" /* removed words: struck through, red */
#define SGR_ADD "\033[1;32m" /* added words: bold green */

/* The str under KEY of MAP as "%.*s" arguments: length, then bytes. */
#define MP_STR(map, key) (int)mp_len(map, key), mp_ptr(map, key)

static size_t
mp_len(const msgpack_object *map, const char *key)
{
    const msgpack_object *o = sdx_msgpack_get(map, key);
    return o && o->type == MSGPACK_OBJECT_STR ? o->via.str.size : 0;
}

static const char *
mp_ptr(const msgpack_object *map, const char *key)
{
    const msgpack_object *o = sdx_msgpack_get(map, key);
    return o && o->type == MSGPACK_OBJECT_STR ? o->via.str.ptr : "";
}

/* The int under KEY, or -1. */
static long
mp_int(const msgpack_object *map, const char *key)
{
    const msgpack_object *o = sdx_msgpack_get(map, key);
    if (o && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        return (long)o->via.u64;
    if (o && o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        return (long)o->via.i64;
    return -1;
}

static double
mp_double(const msgpack_object *map, const char *key)
{
    const msgpack_object *o = sdx_msgpack_get(map, key);
    if (o && (o->type == MSGPACK_OBJECT_FLOAT64 ||
              o->type == MSGPACK_OBJECT_FLOAT32))
        return o->via.f64;
    return (double)mp_int(map, key);
}

static bool
mp_bool(const msgpack_object *map, const char *key)
{
    const msgpack_object *o = sdx_msgpack_get(map, key);
    return o && o->type == MSGPACK_OBJECT_BOOLEAN && o->via.boolean;
}

/* The array under KEY of the reply R (empty when absent). */
static msgpack_object_array
mp_list(const msgpack_object *map, const char *key)
{
    const msgpack_object *o = sdx_msgpack_get(map, key);
    msgpack_object_array none = { 0, NULL };
    return o && o->type == MSGPACK_OBJECT_ARRAY ? o->via.array : none;
}

/* Print the ints of the array under KEY as "1, 2, 3" ("none"). */
static void
print_level_list(const msgpack_object *map, const char *key)
{
    msgpack_object_array l = mp_list(map, key);
    if (!l.size)
        printf("none");
    for (uint32_t i = 0; i < l.size; i++)
        if (l.ptr[i].type == MSGPACK_OBJECT_POSITIVE_INTEGER)
            printf("%s%llu", i ? ", " : "",
                   (unsigned long long)l.ptr[i].via.u64);
}

/*
 * A TEXT operand of "-" is read from standard input (at most 8 KiB, the
 * protocol's bound); else the operand itself.  NULL after a message.
 */
static const char *
text_operand(query_args_t *a, const char *what)
{
    if (strcmp(a->q.q, "-") != 0)
        return a->q.q;
    size_t cap = SDX_PROTO_TEXT_MAX + 2, n = 0;
    if (!(a->text = malloc(cap)))
        return NULL;
    n = fread(a->text, 1, cap - 1, stdin);
    a->text[n] = '\0';
    if (n > SDX_PROTO_TEXT_MAX) {
        fprintf(stderr, "%s %s: standard input is over the %d bytes "
                "allowed\n", program, what, SDX_PROTO_TEXT_MAX);
        return NULL;
    }
    if (strlen(a->text) != n || strspn(a->text, " \t\r\n\f\v") == n) {
        fprintf(stderr, "%s %s: standard input is %s\n", program, what,
                n && strlen(a->text) != n ? "not text (a NUL byte)"
                                          : "blank");
        return NULL;
    }
    return a->text;
}

static sdx_status_t
call_fit(sdx_client_t *c, query_args_t *a, sdx_result_t **r)
{
    if (!(a->q.text = text_operand(a, "fit")))
        return SDX_BAD_INPUT;
    a->q.series = a->series;
    return sdx_client_fit(c, &a->q, r);
}

static bool
show_fit(const cli_t *cli, const query_args_t *a, const sdx_result_t *r)
{
    (void)a;
    const msgpack_object *root = sdx_client_reply_root(r->reply);
    msgpack_object_array levels = mp_list(root, "levels");
    if (cli->json || cli->jsonl)
        return levels.size > 0;
    if (!levels.size) {
        printf("No level fits: %.*s.\n", MP_STR(root, "note"));
        return false;
    }
    style(cli, SGR_BOLD);
    printf("%.*s", MP_STR(root, "series"));
    style(cli, SGR_RESET);
    printf(": the levels that fit the text, best first\n\n");
    for (uint32_t i = 0; i < levels.size; i++) {
        const msgpack_object *l = &levels.ptr[i];
        printf("%u. Level %ld  %.*s (%.*s)  score %.1f (%.0f%%)\n", i + 1,
               mp_int(l, "level"), MP_STR(l, "title"), MP_STR(l, "job_code"),
               mp_double(l, "score"), 100 * mp_double(l, "share"));
        msgpack_object_array sup = mp_list(l, "support");
        for (uint32_t j = 0; j < sup.size && i < 2; j++)
            printf("     %-14.*s %.*s\n", MP_STR(&sup.ptr[j], "row"),
                   MP_STR(&sup.ptr[j], "id"));
    }
    if (levels.size > 1 && mp_double(&levels.ptr[1], "share") >= 0.9)
        printf("\nClose: levels %ld and %ld score within 10%% of each "
               "other.\n", mp_int(&levels.ptr[0], "level"),
               mp_int(&levels.ptr[1], "level"));
    msgpack_object_array other = mp_list(root, "other_series");
    if (other.size)
        printf("\nOther series that match:\n");
    for (uint32_t i = 0; i < other.size; i++)
        printf("  %.*s, level %ld (%.0f%% of the best)\n",
               MP_STR(&other.ptr[i], "series"),
               mp_int(&other.ptr[i], "level"),
               100 * mp_double(&other.ptr[i], "share"));
    return true;
}

/* Print the steps of a diff reply R: each level's words against the
   level below, marked (colour on a terminal, [-…-] and {+…+} else). */
static bool
print_diff(const cli_t *cli, const sdx_result_t *r)
{
    const msgpack_object *root = sdx_client_reply_root(r->reply);
    msgpack_object_array steps = mp_list(root, "steps");
    if (!steps.size) {
        printf("No two levels of this row to compare.\n");
        return false;
    }
    for (uint32_t i = 0; i < steps.size; i++) {
        const msgpack_object *s = &steps.ptr[i];
        if (i == 0 || mp_len(s, "series") != mp_len(&steps.ptr[i - 1],
                                                    "series") ||
            memcmp(mp_ptr(s, "series"), mp_ptr(&steps.ptr[i - 1], "series"),
                   mp_len(s, "series")) != 0) {
            style(cli, SGR_BOLD);
            printf("%s%.*s\n", i ? "\n" : "", MP_STR(s, "series"));
            style(cli, SGR_RESET);
        }
        printf("Level %ld -> %ld (%.*s -> %.*s): %ld words added, %ld "
               "removed\n  ", mp_int(s, "from"), mp_int(s, "to"),
               MP_STR(s, "from_id"), MP_STR(s, "to_id"), mp_int(s, "added"),
               mp_int(s, "removed"));
        msgpack_object_array runs = mp_list(s, "runs");
        for (uint32_t j = 0; j < runs.size; j++) {
            const msgpack_object *run = &runs.ptr[j];
            char op = mp_ptr(run, "op")[0];
            if (j)
                putchar(' ');
            if (op == 'd') {
                style(cli, SGR_DEL);
                printf(cli->color ? "%.*s" : "[-%.*s-]", MP_STR(run, "text"));
                style(cli, SGR_RESET);
            } else if (op == 'a') {
                style(cli, SGR_ADD);
                printf(cli->color ? "%.*s" : "{+%.*s+}", MP_STR(run, "text"));
                style(cli, SGR_RESET);
            } else {
                printf("%.*s", MP_STR(run, "text"));
            }
        }
        putchar('\n');
    }
    return true;
}

static sdx_status_t
call_first(sdx_client_t *c, query_args_t *a, sdx_result_t **r)
{
    return sdx_client_first(c, &a->q, r);
}

static bool
show_first(const cli_t *cli, const query_args_t *a, const sdx_result_t *r)
{
    const msgpack_object *root = sdx_client_reply_root(r->reply);
    msgpack_object_array rows = mp_list(root, "rows");
    if (cli->json || cli->jsonl)
        return rows.size > 0;
    if (!rows.size) {
        printf("No clauses match.\n");
        if (mp_len(root, "corrected"))
            printf("Did you mean: %.*s\n", MP_STR(root, "corrected"));
        return false;
    }
    printf("Where \"%s\" first appears, row by row:\n", a->q.q);
    for (uint32_t i = 0; i < rows.size; i++) {
        const msgpack_object *row = &rows.ptr[i];
        printf("\n");
        style(cli, SGR_BOLD);
        printf("%.*s, %.*s", MP_STR(row, "series"), MP_STR(row, "row"));
        style(cli, SGR_RESET);
        printf(": first at level %ld (%.*s)\n  with a match: ",
               mp_int(row, "first"), MP_STR(row, "first_id"));
        print_level_list(row, "with");
        printf("; without: ");
        print_level_list(row, "without");
        printf("; no cell: ");
        print_level_list(row, "no_cell");
        printf("\n  at every level above the first: %s\n",
               mp_bool(row, "every_level_above") ? "yes" : "no");
    }
    if (mp_bool(root, "more"))
        printf("\n(More rows match than are shown.)\n");
    return true;
}

static sdx_status_t
call_verify(sdx_client_t *c, query_args_t *a, sdx_result_t **r)
{
    return sdx_client_verify(c, a->q.q, a->clause, r);
}

static bool
show_verify(const cli_t *cli, const query_args_t *a, const sdx_result_t *r)
{
    const msgpack_object *root = sdx_client_reply_root(r->reply);
    msgpack_object_array m = mp_list(root, "matches");
    bool ok = mp_bool(root, "verbatim");
    const msgpack_object *cited = sdx_msgpack_get(root, "cited");
    if (cli->json || cli->jsonl)
        return ok;
    if (a->clause && cited)
        printf("Clause %s: %s\n", a->clause,
               !mp_bool(cited, "found")    ? "no such clause in the index"
               : mp_bool(cited, "verbatim") ? "the span is there verbatim"
                                            : "the span is NOT there");
    if (ok) {
        printf("Verbatim (after white space, case and quote "
               "normalisation) in:\n");
        for (uint32_t i = 0; i < m.size; i++)
            printf("  %.*s (%.*s, %.*s), characters %ld..%ld\n",
                   MP_STR(&m.ptr[i], "id"), MP_STR(&m.ptr[i], "title"),
                   MP_STR(&m.ptr[i], "row"), mp_int(&m.ptr[i], "start"),
                   mp_int(&m.ptr[i], "end"));
        return true;
    }
    style(cli, SGR_BOLD);
    printf("Not verbatim in any clause.\n");
    style(cli, SGR_RESET);
    const msgpack_object *c = sdx_msgpack_get(root, "closest");
    if (c && c->type == MSGPACK_OBJECT_MAP)
        printf("Closest: %.*s (%.*s, %.*s), characters %ld..%ld: %ld word "
               "edits of %ld (%.0f%% alike)\n", MP_STR(c, "id"),
               MP_STR(c, "title"), MP_STR(c, "row"), mp_int(c, "start"),
               mp_int(c, "end"), mp_int(c, "distance"), mp_int(c, "words"),
               100 * mp_double(c, "similarity"));
    else
        printf("No clause shares its words.\n");
    return false;
}

static sdx_status_t
call_gaps(sdx_client_t *c, query_args_t *a, sdx_result_t **r)
{
    if (!(a->q.text = text_operand(a, "gaps")))
        return SDX_BAD_INPUT;
    a->q.series = a->series;
    a->q.level = a->q.nlevels ? (unsigned)a->levels[0] : 0;
    a->q.nlevels = 0; /* the level goes as gaps' level, not a filter */
    return sdx_client_gaps(c, &a->q, r);
}

static bool
show_gaps(const cli_t *cli, const query_args_t *a, const sdx_result_t *r)
{
    const msgpack_object *root = sdx_client_reply_root(r->reply);
    msgpack_object_array gaps = mp_list(root, "gaps");
    msgpack_object_array covered = mp_list(root, "covered");
    if (cli->json || cli->jsonl)
        return gaps.size > 0;
    if (!gaps.size && !covered.size) {
        printf("%.*s.\n", MP_STR(root, "note"));
        return false;
    }
    printf("%u of the %u responsibility and KSA rows of level %u that no "
           "sentence of the draft (%ld sentences) covers, the least "
           "touched first:\n", gaps.size, gaps.size + covered.size,
           a->q.level, mp_int(root, "sentences"));
    for (uint32_t i = 0; i < gaps.size; i++) {
        const msgpack_object *g = &gaps.ptr[i];
        printf("\n");
        style(cli, SGR_BOLD);
        printf("%.*s", MP_STR(g, "row"));
        style(cli, SGR_RESET);
        printf(" (%.*s)\n    ", MP_STR(g, "id"));
        print_wrapped(cli, mp_ptr(g, "text"), mp_len(g, "text"), 4, false);
    }
    if (mp_bool(root, "partial"))
        printf("\n(Only %ld of the %ld sentences were searched in time: a "
               "row listed may be covered by one not read.)\n",
               mp_int(root, "sentences_read"), mp_int(root, "sentences"));
    if (covered.size) {
        printf("\nCovered:");
        for (uint32_t i = 0; i < covered.size; i++)
            printf("%s %.*s", i ? "," : "", MP_STR(&covered.ptr[i], "row"));
        printf("\n");
    }
    return gaps.size > 0;
}

/* keygen needs no daemon: its operand is the base name of the files. */
static int
run_keygen(const char *base)
{
    char err[512];
    if (sdx_curve_keygen(base, err, sizeof err) != SDX_OK) {
        fprintf(stderr, "%s keygen: %s\n", program, err);
        return EXIT_ERROR_REPLY;
    }
    printf("wrote %s.key (public: give it to the other side) and "
           "%s.key_secret (private, mode 600)\n", base, base);
    return EXIT_RESULTS;
}

/*
 * Colour for stdout, as --color and NO_COLOR say; never under --json or
 * --jsonl, whose output is for programs.
 */
static bool
use_color(const cli_t *cli)
{
    const char *no_color = getenv("NO_COLOR");
    if (cli->json || cli->jsonl || cli->color_mode == COLOR_NEVER)
        return false;
    return cli->color_mode == COLOR_ALWAYS ||
           (isatty(STDOUT_FILENO) && !(no_color && *no_color));
}

/* Check the operands from FIRST; false after a usage error. */
static bool
check_operands(const command_t *cmd, int first, int argc, char **argv,
               query_args_t *a)
{
    if (cmd->operands == OPERAND_ONE)
        return (a->q.q = one_operand(cmd, first, argc, argv)) != NULL;
    if (cmd->operands == OPERAND_NONE) {
        if (first < argc)
            usage_error(cmd, "unexpected argument '%s'", argv[first]);
        return first >= argc;
    }
    if (first >= argc) {
        usage_error(cmd, "%s", cmd->missing);
        return false;
    }
    if (argc - first > SDX_PROTO_IDS_MAX) {
        usage_error(cmd, "%d %ss; at most %d", argc - first, cmd->operand,
                    SDX_PROTO_IDS_MAX);
        return false;
    }
    for (int i = first; i < argc; i++)
        if (!check_text(cmd, cmd->operand, argv[i], cmd->operand_max))
            return false;
    return true;
}

/* Parse a command's options and operands, run it, print, exit status. */
static int
run_command(cli_t *cli, const command_t *cmd, int argc, char **argv)
{
    query_args_t a = { 0 };
    int first = parse_command_opts(cli, cmd, cmd->letters, argc, argv, &a);
    if (first < 0)
        return -first - 1;
    if (!check_operands(cmd, first, argc, argv, &a))
        return EXIT_USAGE;
    a.operands = (const char *const *)argv + first;
    a.noperands = (size_t)(argc - first);
    if (cmd->call == call_gaps && (a.q.nlevels != 1 || !a.series)) {
        usage_error(cmd, "%s", a.q.nlevels > 1
                                   ? "--level takes one level here"
                                   : "--level L and --series NAME are "
                                     "needed");
        return EXIT_USAGE;
    }
    if (!cmd->call)
        return run_keygen(a.q.q);
    for (size_t i = 0; i < cli->nendpoints; i++)
        if (!check_endpoint(cli->endpoint_source, cli->endpoints[i]))
            return EXIT_USAGE;
    cli->color = use_color(cli);
    if (!cli->json && !cli->jsonl) {
        a.q.hl_open = MARK_OPEN;
        a.q.hl_close = MARK_CLOSE;
    }

    sdx_client_t *client = open_client(cli);
    sdx_result_t *r = NULL;
    if (!client)
        return EXIT_UNAVAILABLE;
    sdx_status_t st = cmd->call(client, &a, &r);
    int rc;
    if (st != SDX_OK) {
        rc = call_failed(cli, client, st, r);
    } else {
        rc = cmd->show(cli, &a, r) ? EXIT_RESULTS : EXIT_NO_RESULTS;
        if (cli->json || cli->jsonl)
            print_json(cli, r, cmd->json_key);
    }
    sdx_result_destroy(&a.without_series);
    free(a.text);
    sdx_result_destroy(&r);
    sdx_client_destroy(&client);
    return rc;
}

/* ---------------------------------------------------------------- */
/* Help and dispatch                                                */
/* ---------------------------------------------------------------- */

/* A protocol limit as text, for the help: STR(SDX_PROTO_LIMIT_MAX). */
#define STR_(x) #x
#define STR(x) STR_(x)
#define LEVELS STR(SDX_PROTO_LEVEL_MIN) ".." STR(SDX_PROTO_LEVEL_MAX)

#define OUTPUT_OPTS                                                        \
"  -j, --json         print the reply as one JSON document\n"              \
"  -J, --jsonl        print one JSON line per item\n"                      \
"      --color[=WHEN] colour: auto (on a terminal, unless NO_COLOR is\n"   \
"                     set), always (the default WHEN) or never\n"          \
"  -h, --help         this help\n"

static const command_t commands[] = {
    { "search", OPTS_SEARCH, OPERAND_ONE,
      "a QUERY is needed", "QUERY", SDX_PROTO_Q_MAX,
      call_search, show_search, "hits",
      "ranked clauses matching a query",
"Usage: specdex search QUERY [OPTIONS]\n"
"Ranked clauses of the job standards that match QUERY.\n"
"\n"
"QUERY uses Xapian's syntax: words (stemmed: 'troubleshoot' finds\n"
"'Troubleshoots'), \"exact phrases\", AND OR NOT, NEAR, trailing\n"
"wildcards (vend*), and the fields level:3 section:ksa row:key-resp-06\n"
"code:5366.\n"
"\n"
"Options:\n"
"  -l, --level L      only these levels (" LEVELS "): 3, 1-3 or 1,4,5\n"
"  -s, --section S    only these sections (repeatable or a comma list):\n"
"                     summary scope responsibility ksa education\n"
"                     condition environment\n"
"  -r, --row ROW      only this row, e.g. \"key resp 06\" (repeatable)\n"
"  -c, --code CODE    only this job code, e.g. 5366 (repeatable)\n"
"  -n, --limit N      hits to show, 1.." STR(SDX_PROTO_LIMIT_MAX)
" (default " STR(SDX_PROTO_LIMIT_DEFAULT) ")\n"
"  -o, --offset N     skip the first N hits (the next page), 0.."
STR(SDX_PROTO_OFFSET_MAX) "\n"
"  -g, --group        one hit for a row whose text is the same at\n"
"                     several levels\n"
"  -f, --facets       also count the matches per level and section\n"
"      --syntax S     how QUERY reads: query (the default, as above) or\n"
"                     plain (plain words, no operators, as context\n"
"                     reads a question; what it named is shown)\n"
OUTPUT_OPTS
"\n"
"Examples:\n"
"  specdex search \"root cause analysis\"\n"
"  specdex search communication --section ksa --level 3\n"
"  specdex search 'level:5 troubleshooting' --json\n"
"  specdex search 'NOT sure who checks vendors?' --syntax plain\n",
      LONG_ONLY(OPT_SYNTAX) },
    { "ladder", OPTS_LADDER, OPERAND_ONE,
      "a QUERY is needed", "QUERY", SDX_PROTO_Q_MAX,
      call_ladder, show_ladder, "ladder",
      "how a duty changes from level to level",
"Usage: specdex ladder QUERY [OPTIONS]\n"
"The row that best matches QUERY, shown at every level as a table, and\n"
"the best matching clause at each level.\n"
"\n"
"Options:\n"
"  -s, --section S    only these sections (repeatable or a comma list)\n"
"  -r, --row ROW      only this row (repeatable)\n"
"  -D, --diff         also the words the row adds and removes from each\n"
"                     level to the next (with --json: the diff's reply)\n"
OUTPUT_OPTS
"\n"
"Examples:\n"
"  specdex ladder \"root cause analysis\"\n"
"  specdex ladder \"written communication\" --section ksa\n", 0 },
    { "row", OPTS_ROW, OPERAND_ONE,
      "a ROW label is needed, e.g. \"key resp 06\"", "ROW",
      SDX_PROTO_STR_MAX,
      call_row, show_row, "cells",
      "one row across the levels",
"Usage: specdex row ROW [OPTIONS]\n"
"One row of the job standard (its label, any case) at every level;\n"
"a level without that row shows as such.\n"
"\n"
"Options:\n"
"  -S, --series NAME  only this series, e.g. \"Clinical Applications\n"
"                     Professional 1-5 HX\"\n"
"  -D, --diff         the words each level adds and removes against the\n"
"                     level below: colour on a terminal, else [-removed-]\n"
"                     and {+added+}\n"
OUTPUT_OPTS
"\n"
"Examples:\n"
"  specdex row \"key resp 06\"\n"
"  specdex row \"ksa 02\" --diff\n"
"  specdex row \"special condition 2\" --json\n", 0 },
    { "get", OPTS_PLAIN, OPERAND_MANY,
      "at least one ID is needed", "ID", SDX_PROTO_STR_MAX,
      call_get, show_get, "clauses",
      "clauses by id",
"Usage: specdex get ID... [OPTIONS]\n"
"Print clauses by id: job code, '/', row slug.  An unknown id is\n"
"reported on stderr.\n"
"\n"
"Options:\n"
OUTPUT_OPTS
"\n"
"Example:\n"
"  specdex get 5366/key-resp-06 5367/ksa-07\n", 0 },
    { "context", OPTS_CONTEXT, OPERAND_ONE,
      "a QUERY is needed", "QUERY", SDX_PROTO_Q_MAX,
      call_context, show_context, "passages",
      "cited passages for a question (chatbots)",
"Usage: specdex context QUERY [OPTIONS]\n"
"The best passages for QUERY within a character budget, each with a\n"
"citation a person can check: what a chatbot is given to answer from.\n"
"\n"
"Options:\n"
"  -k, --k N          passages, " STR(SDX_PROTO_K_MIN) ".."
STR(SDX_PROTO_K_MAX) " (default " STR(SDX_PROTO_K_DEFAULT) ")\n"
"  -m, --max-chars N  budget for all passages, " STR(SDX_PROTO_CHARS_MIN)
".." STR(SDX_PROTO_CHARS_MAX) " (default " STR(SDX_PROTO_CHARS_DEFAULT)
")\n"
"  -l, --level L      only these levels (" LEVELS "): 3, 1-3 or 1,4,5\n"
"  -s, --section S    only these sections\n"
"      --syntax S     how QUERY reads: plain (the default: plain words,\n"
"                     no operators; the levels, rows and series it\n"
"                     names are shown) or query (search's syntax)\n"
"      --min-score F  leave out passages under F times the best one's\n"
"                     score, 0..1 (default " STR(SDX_PROTO_MIN_SCORE_DEFAULT)
"; 0 keeps them all)\n"
OUTPUT_OPTS
"\n"
"Examples:\n"
"  specdex context \"who talks to vendors\" -k 3\n"
"  specdex context \"what KSAs does level 3 need?\" --min-score 0.2\n",
      LONG_ONLY(OPT_SYNTAX) | LONG_ONLY(OPT_MIN_SCORE) },
    { "suggest", OPTS_PLAIN, OPERAND_ONE,
      "a QUERY is needed", "QUERY", SDX_PROTO_Q_MAX,
      call_suggest, show_suggest, NULL,
      "a spelling correction for a query",
"Usage: specdex suggest QUERY [OPTIONS]\n"
"A spelling-corrected query, from the words of the indexed corpus.\n"
"Exit status 1 when there is nothing to correct.\n"
"\n"
"Options:\n"
OUTPUT_OPTS
"\n"
"Example:\n"
"  specdex suggest troubleshootng\n", 0 },
    { "stats", OPTS_PLAIN, OPERAND_NONE,
      "", "", 0,
      call_stats, show_stats, NULL,
      "what the daemon serves, and how it is doing",
"Usage: specdex stats [OPTIONS]\n"
"The index served (path, revision, build time), documents, workers,\n"
"uptime, requests, errors and recent latency.\n"
"\n"
"Options:\n"
OUTPUT_OPTS
"\n"
"Example:\n"
"  specdex stats --json\n", 0 },
    { "fit", OPTS_FIT, OPERAND_ONE,
      "a TEXT is needed (or - to read it from standard input)", "TEXT",
      SDX_PROTO_TEXT_MAX,
      call_fit, show_fit, "levels",
      "which level of a series fits a description",
"Usage: specdex fit TEXT [OPTIONS]\n"
"The levels of the series that best fits TEXT (a duty or position\n"
"description, at most 8192 bytes; - reads it from standard input),\n"
"best first, each with a score and the clauses that support it.\n"
"Other series that match are listed too.\n"
"\n"
"Options:\n"
"  -S, --series NAME  only this series\n"
OUTPUT_OPTS
"\n"
"Examples:\n"
"  specdex fit \"Leads the design of the enterprise architecture\"\n"
"  echo \"Troubleshoots clinical software issues\" | specdex fit - --json\n", 0 },
    { "first", OPTS_FIRST, OPERAND_ONE,
      "a QUERY is needed", "QUERY", SDX_PROTO_Q_MAX,
      call_first, show_first, "rows",
      "the level where something first appears, row by row",
"Usage: specdex first QUERY [OPTIONS]\n"
"For each row and series that QUERY matches: the lowest level with a\n"
"match, the levels with and without one, the levels where the row has\n"
"no cell, and whether every level above the first has a match.  A\n"
"clause scoring under a quarter of the best match is not a match.\n"
"\n"
"Options:\n"
"  -s, --section S    only these sections (repeatable or a comma list)\n"
"  -r, --row ROW      only this row (repeatable)\n"
OUTPUT_OPTS
"\n"
"Example:\n"
"  specdex first '\"root cause analysis\"'\n", 0 },
    { "verify", OPTS_VERIFY, OPERAND_ONE,
      "a quoted SPAN is needed", "SPAN", SDX_PROTO_TEXT_MAX,
      call_verify, show_verify, "matches",
      "whether a quoted span is verbatim in a clause",
"Usage: specdex verify SPAN [OPTIONS]\n"
"Whether SPAN appears verbatim in a clause, after white space, case and\n"
"quote normalisation (' and \u2019, \" and \u201c\u201d, non-breaking\n"
"spaces), and where (clause ids, character offsets); else the closest\n"
"clause and how many words apart.  Exit status 1 when not verbatim.\n"
"\n"
"Options:\n"
"  -C, --clause ID    the clause the span is cited from: say whether it\n"
"                     is there\n"
OUTPUT_OPTS
"\n"
"Example:\n"
"  specdex verify \"timely issue resolution\" --clause 5366/ksa-02\n", 0 },
    { "gaps", OPTS_GAPS, OPERAND_ONE,
      "a TEXT is needed (or - to read it from standard input)", "TEXT",
      SDX_PROTO_TEXT_MAX,
      call_gaps, show_gaps, "gaps",
      "the rows of a level a draft description leaves out",
"Usage: specdex gaps TEXT --level L --series NAME [OPTIONS]\n"
"The responsibility and KSA rows of level L of the series that no\n"
"sentence of the draft TEXT (at most 8192 bytes; - reads standard\n"
"input) covers, the rows it comes nowhere near first, each with the\n"
"standard's clause.\n"
"\n"
"Options:\n"
"  -l, --level L      the level the draft is written for (" LEVELS ")\n"
"  -S, --series NAME  the series\n"
OUTPUT_OPTS
"\n"
"Example:\n"
"  specdex gaps \"Trains users.\" -l 2 -S \"Clinical Applications "
"Professional 1-5 HX\"\n", 0 },
    { "keygen", OPTS_KEYGEN, OPERAND_ONE,
      "a NAME for the key files is needed", "NAME", 0,
      NULL, NULL, NULL,
      "write a CURVE keypair (NAME.key, NAME.key_secret)",
"Usage: specdex keygen NAME\n"
"Write a new CURVE keypair: NAME.key (the public key, to give to the\n"
"other side) and NAME.key_secret (private, mode 600).  The daemon takes\n"
"its own with --curve-secret and admits the clients whose NAME.key files\n"
"are in its --allow-keys directory; a client passes the daemon's\n"
"NAME.key as --server-key and its own NAME.key_secret as --client-key.\n"
"\n"
"Example:\n"
"  specdex keygen server && specdex keygen alice\n", 0 },
    { "ping", OPTS_PLAIN, OPERAND_NONE,
      "", "", 0,
      call_ping, show_ping, NULL,
      "check that the daemon answers",
"Usage: specdex ping [OPTIONS]\n"
"Whether the daemon answers, and how fast: the round trip measured here\n"
"(connecting, sending, the daemon's work, the reply) and, beside it, the\n"
"daemon's own time.  Exit 0 when it answers, 3 when it does not.\n"
"\n"
"Options:\n"
OUTPUT_OPTS
"\n"
"Example:\n"
"  specdex --endpoint ipc:///run/specdex/specdex.sock ping\n", 0 },
};

static const command_t *
find_command(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static void
print_main_help(FILE *out)
{
    fprintf(out,
"Usage: specdex [OPTIONS] COMMAND [ARGS]\n"
"Search the job standards served by specdexd.\n"
"\n"
"Commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(out,
"\n"
"Options (before the command):\n"
"  -e, --endpoint EP   daemon endpoint; give it again for a fallback\n"
"                      (default $SPECDEX_ENDPOINT, else\n"
"                      " SDX_CLIENT_DEFAULT_ENDPOINT ")\n"
"  -t, --timeout MS    wait per attempt, milliseconds (default %d;\n"
"                      %d attempts)\n"
"      --server-key FILE\n"
"                      CURVE: the daemon's public key file (NAME.key)\n"
"      --client-key FILE\n"
"                      CURVE: this client's secret key file\n"
"                      (NAME.key_secret); see 'specdex keygen --help'\n"
"  -j, --json          print replies as JSON, for scripts\n"
"  -J, --jsonl         print one JSON line per item\n"
"      --color[=WHEN]  colour: auto (on a terminal, unless NO_COLOR is\n"
"                      set), always (the default WHEN) or never\n"
"  -V, --version       the version\n"
"  -h, --help          this help; 'specdex COMMAND --help' for a command\n"
"\n"
"Examples:\n"
"  specdex search \"root cause analysis\" --level 1-3\n"
"  specdex ladder \"root cause analysis\"\n"
"  specdex row \"key resp 06\"\n"
"\n"
"Text is wrapped to $COLUMNS when it is set, else to the terminal, else\n"
"to 80 columns.\n"
"Exit status: 0 results, 1 no results, 2 usage error, 3 daemon\n"
"unavailable, 4 error reply.  See specdex(1).\n",
            SDX_CLIENT_DEFAULT_TIMEOUT_MS, SDX_CLIENT_DEFAULT_ATTEMPTS);
}

/*
 * Columns to wrap to, by git's rule (term_columns() in its pager.c):
 * COLUMNS when it is a positive number, on a terminal or not (so a
 * script or a test can ask for a width); else the width of the terminal
 * on stdout; else 80.  Shells set COLUMNS without exporting it, so on a
 * terminal it is normally the terminal that counts.
 */
static int
terminal_width(void)
{
    struct winsize ws;
    const char *cols = getenv("COLUMNS");
    char *end;
    long n;
    if (cols && *cols && (errno = 0, n = strtol(cols, &end, 10), !*end) &&
        !errno && n > 0 && n <= 10000)
        return (int)n;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return 80;
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "endpoint", required_argument, NULL, 'e' },
        { "timeout", required_argument, NULL, 't' },
        { "server-key", required_argument, NULL, 'K' },
        { "client-key", required_argument, NULL, 'k' },
        { "json", no_argument, NULL, 'j' },
        { "jsonl", no_argument, NULL, 'J' },
        { "color", optional_argument, NULL, OPT_COLOR },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    const char *env_ep = getenv("SPECDEX_ENDPOINT");
    cli_t cli = {
        .timeout_ms = SDX_CLIENT_DEFAULT_TIMEOUT_MS,
        .endpoint_source = "--endpoint",
        .color_mode = COLOR_AUTO,
        .width = terminal_width(),
    };
    const char *server_key_file = NULL, *client_key_file = NULL;
    unsigned timeout;
    int ch;
    while ((ch = getopt_long(argc, argv, "+e:t:jJhV", opts, NULL)) != -1) {
        switch (ch) {
        case 'e':
            if (cli.nendpoints >= MAX_ENDPOINTS) {
                usage_error(NULL, "--endpoint: at most %d endpoints ('%s')",
                            MAX_ENDPOINTS, optarg);
                return EXIT_USAGE;
            }
            cli.endpoints[cli.nendpoints++] = optarg;
            break;
        case 't':
            if (!parse_number(NULL, "--timeout", optarg, 1, 600000,
                              &timeout))
                return EXIT_USAGE;
            cli.timeout_ms = (int)timeout;
            break;
        case 'K':
            server_key_file = optarg;
            break;
        case 'k':
            client_key_file = optarg;
            break;
        case 'j':
            cli.json = true;
            break;
        case 'J':
            cli.jsonl = true;
            break;
        case OPT_COLOR:
            if (!parse_color(NULL, optarg, &cli.color_mode))
                return EXIT_USAGE;
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
    if (server_key_file || client_key_file) {
        char err[512];
        if (!server_key_file || !client_key_file) {
            usage_error(NULL, "CURVE needs both --server-key and "
                        "--client-key");
            return EXIT_USAGE;
        }
        if (sdx_curve_read(server_key_file, &cli.server_key, NULL, err,
                           sizeof err) != SDX_OK ||
            sdx_curve_read(client_key_file, &cli.public_key,
                           &cli.secret_key, err, sizeof err) != SDX_OK) {
            usage_error(NULL, "%s", err);
            return EXIT_USAGE;
        }
        cli.curve = true;
    }
    if (cli.nendpoints == 0 && env_ep && *env_ep) {
        cli.endpoints[cli.nendpoints++] = env_ep;
        cli.endpoint_source = "SPECDEX_ENDPOINT";
    } else if (cli.nendpoints == 0) {
        cli.endpoints[cli.nendpoints++] = SDX_CLIENT_DEFAULT_ENDPOINT;
    }
    if (optind >= argc) {
        print_main_help(stderr);
        return EXIT_USAGE;
    }
    const command_t *cmd = find_command(argv[optind]);
    if (!cmd) {
        usage_error(NULL, "unknown command '%s'", argv[optind]);
        return EXIT_USAGE;
    }
    int rc = run_command(&cli, cmd, argc - optind, argv + optind);
    explicit_bzero(&cli.secret_key, sizeof cli.secret_key);
    return rc;
}
