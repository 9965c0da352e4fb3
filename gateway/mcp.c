/*
 * specdex-mcp: a Model Context Protocol server over stdio, so that an
 * LLM agent's host (a chatbot framework, an IDE) can call specdex as
 * tools.  JSON-RPC 2.0, one message per line on stdin and stdout
 * (the MCP stdio transport), protocol revision 2025-06-18 (earlier
 * revisions a client asks for are accepted too): `initialize`, `ping`,
 * `tools/list`, `tools/call`.  The tools (mcp-tools.json) are the
 * daemon's ops search, ladder, row, get, context and the grid ops fit,
 * diff, first, verify and gaps, each with the JSON
 * Schema of its request from openapi.json, so the HTTP gateway and this
 * server describe the contract once; a call goes to specdexd through the
 * same translation as HTTP (gw_call).
 *
 * A result is text a model reads, citing every clause by its id, plus
 * the daemon's reply as `structuredContent`.  Bad input is a JSON-RPC
 * error saying what is wrong (not JSON, not a request, an unknown method
 * or tool, arguments the daemon refuses: the daemon's own message); a
 * daemon that is down, busy or without an index is a tool error
 * (`isError: true`) the model can read and report, never a crash.
 * Nothing is logged of the questions asked.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <jansson.h>

#include "gw.h"
#include "gw_assets.h"
#include "sdx_log.h"

#define PROTOCOL_LATEST "2025-06-18"
#define LINE_MAX_BYTES (1024 * 1024) /* one message, bytes */

/* JSON-RPC 2.0 error codes. */
enum {
    RPC_PARSE = -32700,
    RPC_INVALID_REQUEST = -32600,
    RPC_NO_METHOD = -32601,
    RPC_INVALID_PARAMS = -32602,
    RPC_INTERNAL = -32603,
};

/* Revisions of the protocol this server speaks, newest first. */
static const char *const protocols[] = {
    PROTOCOL_LATEST, "2025-03-26", "2024-11-05", NULL,
};

static void
s_usage(FILE *out)
{
    fprintf(out,
"Usage: specdex-mcp [OPTIONS]\n"
"A Model Context Protocol server (stdio, JSON-RPC 2.0, revision\n"
PROTOCOL_LATEST ") whose tools search, ladder, row, get, context, fit,\n"
"diff, first, verify and gaps ask specdexd.  A chatbot host starts it\n"
"and talks on its stdin and stdout.\n"
"\n"
"Options:\n"
"  -e, --endpoint EP    the daemon; again for a fallback (default\n"
"                       $SPECDEX_ENDPOINT, else " SDX_CLIENT_DEFAULT_ENDPOINT ")\n"
"  -t, --timeout MS     wait for the daemon per attempt (default %d;\n"
"                       %d attempts)\n"
"  -V, --version        the version\n"
"  -h, --help           this help\n"
"\n"
"Example (a host's configuration):\n"
"  {\"mcpServers\": {\"specdex\": {\"command\": \"specdex-mcp\",\n"
"    \"args\": [\"--endpoint\", \"ipc:///run/specdex/specdex.sock\"]}}}\n"
"\n"
"See specdex-mcp(1).\n",
            SDX_CLIENT_DEFAULT_TIMEOUT_MS, SDX_CLIENT_DEFAULT_ATTEMPTS);
}

/* ---------------------------------------------------------------- */
/* The tools                                                        */
/* ---------------------------------------------------------------- */

/* The tools/list entries: mcp-tools.json with each input schema taken
 * from openapi.json.  NULL (and a message) when either is unreadable,
 * which is a build error. */
static json_t *
s_tools(void)
{
    const gw_asset_t *t = gw_asset_find("/mcp-tools.json");
    const gw_asset_t *o = gw_asset_find("/openapi.json");
    json_error_t err;
    json_t *defs = t ? json_loadb((const char *)t->data, t->len, 0, &err)
                     : NULL;
    json_t *api = o ? json_loadb((const char *)o->data, o->len, 0, &err)
                    : NULL;
    json_t *out = json_array();
    json_t *schemas = json_object_get(json_object_get(api, "components"),
                                      "schemas");
    size_t i;
    json_t *def;
    json_array_foreach(json_object_get(defs, "tools"), i, def) {
        const char *name = json_string_value(json_object_get(def, "name"));
        char key[64];
        snprintf(key, sizeof key, "%sRequest", name ? name : "");
        json_t *schema = json_deep_copy(json_object_get(schemas, key));
        json_t *props = json_object_get(schema, "properties");
        if (!name || !schema || !props) {
            sdx_log(SDX_LOG_ERROR, "tool %s: no %s in openapi.json",
                    name ? name : "?", key);
            json_decref(schema);
            json_decref(out);
            out = NULL;
            break;
        }
        /* The gateway sets the protocol's own keys. */
        json_object_del(props, "v");
        json_object_del(props, "id");
        json_t *tool = json_deep_copy(def);
        json_object_set_new(tool, "inputSchema", schema);
        json_array_append_new(out, tool);
    }
    json_decref(defs);
    json_decref(api);
    if (out && json_array_size(out) == 0) {
        json_decref(out);
        out = NULL;
    }
    return out;
}

/* A growing text, for the content a model reads. */
typedef struct text {
    char *buf;                 /* NUL-terminated, or NULL (no memory) */
    size_t len;                /* bytes of BUF */
    size_t cap;                /* bytes allocated */
} text_t;

static void __attribute__((format(printf, 2, 3)))
s_add(text_t *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || (!t->buf && t->cap))
        return;
    if (t->len + (size_t)n + 1 > t->cap) {
        size_t cap = (t->len + (size_t)n + 1) * 2;
        char *grown = realloc(t->buf, cap);
        if (!grown) {
            free(t->buf);
            t->buf = NULL;
            t->cap = 1; /* marks the failure */
            return;
        }
        t->buf = grown;
        t->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

/* The string KEY of O, or "" (a missing field reads as nothing). */
static const char *
s_str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static long long
s_int(const json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

/* One clause: "[ID] TITLE, ROW (level L): TEXT". */
static void
s_add_clause(text_t *t, const json_t *c)
{
    long long level = s_int(c, "level");
    s_add(t, "[%s] %s, %s (%s", s_str(c, "id"), s_str(c, "title"),
          s_str(c, "row"), level ? "level " : "every level");
    if (level)
        s_add(t, "%lld", level);
    s_add(t, "): %s\n", s_str(c, "text"));
}

/* A row's cells, one a line. */
static void
s_add_cells(text_t *t, const json_t *cells)
{
    size_t i;
    json_t *c;
    json_array_foreach(cells, i, c) {
        const char *text = json_string_value(json_object_get(c, "text"));
        s_add(t, "  Level %lld [%s] %s: %s\n", s_int(c, "level"),
              s_str(c, "id"), s_str(c, "title"),
              text ? text : "(no cell at this level)");
    }
}

/* The text of a tool's successful REPLY, citing the clause ids. */
static void
s_describe(text_t *t, const char *tool, const json_t *args,
           const json_t *reply)
{
    size_t i;
    json_t *v;
    if (strcmp(tool, "search") == 0) {
        json_t *hits = json_object_get(reply, "hits");
        s_add(t, "%lld matching clauses; the best %zu:\n",
              s_int(reply, "total"), json_array_size(hits));
        json_array_foreach(hits, i, v) {
            s_add(t, "%zu. ", i + 1);
            s_add_clause(t, v);
        }
    } else if (strcmp(tool, "ladder") == 0) {
        json_array_foreach(json_object_get(reply, "ladder"), i, v) {
            json_t *hit = json_object_get(v, "hit");
            s_add(t, "Level %lld: ", s_int(v, "level"));
            if (json_is_object(hit))
                s_add_clause(t, hit);
            else
                s_add(t, "nothing relevant\n");
        }
        if (json_is_string(json_object_get(reply, "row"))) {
            s_add(t, "Row %s across the levels:\n", s_str(reply, "row"));
            s_add_cells(t, json_object_get(reply, "row_cells"));
        }
    } else if (strcmp(tool, "row") == 0) {
        if (!json_is_string(json_object_get(reply, "row")))
            s_add(t, "No series has the row \"%s\".\n", s_str(args, "row"));
        else
            s_add(t, "Row %s:\n", s_str(reply, "row"));
        s_add_cells(t, json_object_get(reply, "cells"));
    } else if (strcmp(tool, "get") == 0) {
        json_t *ids = json_object_get(args, "ids");
        json_array_foreach(json_object_get(reply, "clauses"), i, v) {
            if (json_is_object(v))
                s_add_clause(t, v);
            else
                s_add(t, "[%s] is not in the index\n",
                      json_string_value(json_array_get(ids, i))
                          ? json_string_value(json_array_get(ids, i)) : "?");
        }
    } else if (strcmp(tool, "context") == 0) {
        json_t *ps = json_object_get(reply, "passages");
        if (json_array_size(ps) == 0)
            s_add(t, "No passages: %s\n", s_str(reply, "note"));
        json_array_foreach(ps, i, v)
            s_add(t, "[%s] %s: %s\n", s_str(v, "id"), s_str(v, "cite"),
                  s_str(v, "text"));
    }
    else if (strcmp(tool, "fit") == 0) {
        if (!json_is_string(json_object_get(reply, "series")))
            s_add(t, "No fit: %s\n", s_str(reply, "note"));
        else
            s_add(t, "Fits %s; its levels, best first:\n",
                  s_str(reply, "series"));
        json_array_foreach(json_object_get(reply, "levels"), i, v) {
            size_t j;
            json_t *c;
            s_add(t, "Level %lld, %s (%s), share %.2f:\n", s_int(v, "level"),
                  s_str(v, "title"), s_str(v, "job_code"),
                  json_number_value(json_object_get(v, "share")));
            json_array_foreach(json_object_get(v, "support"), j, c)
                s_add(t, "  [%s] %s: %s\n", s_str(c, "id"), s_str(c, "row"),
                      s_str(c, "text"));
        }
        json_array_foreach(json_object_get(reply, "other_series"), i, v)
            s_add(t, "Also fits %s at level %lld (share %.2f)\n",
                  s_str(v, "series"), s_int(v, "level"),
                  json_number_value(json_object_get(v, "share")));
    } else if (strcmp(tool, "diff") == 0) {
        if (!json_is_string(json_object_get(reply, "row")))
            s_add(t, "No series has the row \"%s\".\n", s_str(args, "row"));
        json_array_foreach(json_object_get(reply, "steps"), i, v) {
            size_t j;
            json_t *r;
            s_add(t, "%s, %s: level %lld [%s] -> level %lld [%s], %lld "
                  "words added, %lld removed\n", s_str(v, "series"),
                  s_str(reply, "row"), s_int(v, "from"), s_str(v, "from_id"),
                  s_int(v, "to"), s_str(v, "to_id"), s_int(v, "added"),
                  s_int(v, "removed"));
            json_array_foreach(json_object_get(v, "runs"), j, r) {
                const char *op = s_str(r, "op");
                if (strcmp(op, "same") != 0)
                    s_add(t, "  %s %s\n", strcmp(op, "add") == 0 ? "+" : "-",
                          s_str(r, "text"));
            }
        }
    } else if (strcmp(tool, "first") == 0) {
        json_array_foreach(json_object_get(reply, "rows"), i, v)
            s_add(t, "[%s] %s, %s: first at level %lld; every level above "
                  "has it: %s\n", s_str(v, "first_id"), s_str(v, "series"),
                  s_str(v, "row"), s_int(v, "first"),
                  json_is_true(json_object_get(v, "every_level_above"))
                      ? "yes" : "no");
        if (json_array_size(json_object_get(reply, "rows")) == 0)
            s_add(t, "No row has it.\n");
    } else if (strcmp(tool, "verify") == 0) {
        json_t *closest = json_object_get(reply, "closest");
        if (json_is_true(json_object_get(reply, "verbatim")))
            s_add(t, "Verbatim in:\n");
        else
            s_add(t, "Not verbatim in any clause.\n");
        json_array_foreach(json_object_get(reply, "matches"), i, v)
            s_add(t, "  [%s] %s, %s (characters %lld-%lld)\n", s_str(v, "id"),
                  s_str(v, "title"), s_str(v, "row"), s_int(v, "start"),
                  s_int(v, "end"));
        if (json_is_object(closest))
            s_add(t, "Closest: [%s] %s, %s, %lld of %lld words differ\n",
                  s_str(closest, "id"), s_str(closest, "title"),
                  s_str(closest, "row"), s_int(closest, "distance"),
                  s_int(closest, "words"));
    } else if (strcmp(tool, "gaps") == 0) {
        if (json_is_string(json_object_get(reply, "note")))
            s_add(t, "%s\n", s_str(reply, "note"));
        s_add(t, "Not covered by the draft:\n");
        json_array_foreach(json_object_get(reply, "gaps"), i, v)
            s_add(t, "  [%s] %s: %s\n", s_str(v, "id"), s_str(v, "row"),
                  s_str(v, "text"));
        s_add(t, "Covered:\n");
        json_array_foreach(json_object_get(reply, "covered"), i, v)
            s_add(t, "  [%s] %s, by sentence %lld\n", s_str(v, "id"),
                  s_str(v, "row"), s_int(v, "sentence") + 1);
    }
    if (json_is_string(json_object_get(reply, "corrected")))
        s_add(t, "(Nothing matched; did you mean \"%s\"?)\n",
              s_str(reply, "corrected"));
    if (json_is_true(json_object_get(reply, "partial")))
        s_add(t, "(The search was cut short: there may be more.)\n");
}

/* ---------------------------------------------------------------- */
/* JSON-RPC                                                         */
/* ---------------------------------------------------------------- */

/* What a method answers: a result, or an error (code and message). */
typedef struct answer {
    json_t *result;            /* owned; NULL when ERROR is set */
    int error;                 /* JSON-RPC code, 0 for none */
    char message[600];         /* the error's message */
} answer_t;

static void __attribute__((format(printf, 3, 4)))
s_fail(answer_t *a, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->message, sizeof a->message, fmt, ap);
    va_end(ap);
    a->error = code;
}

/* Write one message: compact JSON on one line. */
static void
s_send(json_t *msg)
{
    if (!msg || json_dumpf(msg, stdout, JSON_COMPACT
                                        | JSON_REAL_PRECISION(17)) != 0)
        fputs("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32603,"
              "\"message\":\"out of memory\"}}", stdout);
    fputc('\n', stdout);
    fflush(stdout);
    json_decref(msg);
}

static void
s_initialize(const json_t *params, answer_t *a)
{
    const char *asked = s_str(params, "protocolVersion");
    const char *version = PROTOCOL_LATEST;
    /* The client's revision when we speak it; else our latest, and the
     * client decides whether it can go on (MCP's version negotiation). */
    for (const char *const *p = protocols; *p; p++)
        if (strcmp(asked, *p) == 0)
            version = *p;
    a->result = json_pack(
        "{s:s, s:{s:{s:b}}, s:{s:s, s:s, s:s}, s:s}",
        "protocolVersion", version,
        "capabilities", "tools", "listChanged", 0,
        "serverInfo", "name", "specdex-mcp", "title", "specdex job standards",
        "version", SDX_VERSION,
        "instructions",
        "Search health-system job standards (rows x levels grids). Use "
        "context for a question in plain words, search for clauses, ladder "
        "to compare a duty across levels 1-5, row for one row at every "
        "level, get for clauses by id; fit (which level fits a text), diff "
        "(what changes between levels), first (where a duty first "
        "appears), verify (is a quotation verbatim) and gaps (what a draft "
        "leaves out). Cite the clause ids you use.");
}

static void
s_call(gw_pool_t *pool, const json_t *tools, const json_t *params,
       answer_t *a)
{
    const char *name = json_string_value(json_object_get(params, "name"));
    if (!name) {
        s_fail(a, RPC_INVALID_PARAMS, "tools/call: params.name must be a "
               "tool's name (a string)");
        return;
    }
    bool known = false;
    size_t i;
    json_t *t;
    json_array_foreach(tools, i, t)
        known = known || strcmp(s_str(t, "name"), name) == 0;
    if (!known) {
        s_fail(a, RPC_INVALID_PARAMS, "unknown tool \"%.64s\" (tools/list "
               "names them)", name);
        return;
    }
    json_t *args = json_object_get(params, "arguments");
    if (args && !json_is_object(args)) {
        s_fail(a, RPC_INVALID_PARAMS, "%s: arguments must be an object",
               name);
        return;
    }
    json_t *empty = args ? NULL : json_object();
    json_t *reply = gw_call(pool, name, args ? args : empty);
    const char *code = reply ? gw_error_code(reply) : "internal";
    const char *msg = json_string_value(json_object_get(
        json_object_get(reply, "error"), "message"));
    if (code && (strcmp(code, "bad_request") == 0 ||
                 strcmp(code, "bad_query") == 0)) {
        /* The arguments are wrong: the caller's mistake, in the
         * daemon's words (which name the key and never the query). */
        s_fail(a, RPC_INVALID_PARAMS, "%s: %s", name, msg ? msg : code);
    } else {
        text_t text = {0};
        if (code) {
            s_add(&text, "specdex could not answer (%s): %s\n", code,
                  msg ? msg : "");
        } else {
            s_describe(&text, name, args ? args : empty, reply);
        }
        if (!text.buf) {
            s_fail(a, RPC_INTERNAL, "out of memory");
        } else {
            json_object_del(reply, "v");
            a->result = json_pack("{s:[{s:s, s:s}], s:O, s:b}",
                                  "content", "type", "text", "text",
                                  text.buf, "structuredContent", reply,
                                  "isError", code != NULL);
            if (!a->result)
                s_fail(a, RPC_INTERNAL, "out of memory");
        }
        free(text.buf);
    }
    json_decref(reply);
    json_decref(empty);
}

/* Answer one line of input (or nothing, for a notification). */
static void
s_handle(gw_pool_t *pool, const json_t *tools, const char *line,
         size_t len)
{
    json_error_t jerr;
    json_t *msg = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    answer_t a = {0};
    json_t *id = NULL;
    if (!msg) {
        s_fail(&a, RPC_PARSE, "not JSON: column %d: %s", jerr.column,
               jerr.text);
    } else if (json_is_array(msg)) {
        s_fail(&a, RPC_INVALID_REQUEST, "batches are not part of MCP "
               PROTOCOL_LATEST ": send one message a line");
    } else if (!json_is_object(msg)) {
        s_fail(&a, RPC_INVALID_REQUEST, "a message must be a JSON object");
    } else {
        id = json_object_get(msg, "id");
        const char *method = json_string_value(json_object_get(msg,
                                                               "method"));
        json_t *params = json_object_get(msg, "params");
        if (!json_is_string(json_object_get(msg, "jsonrpc")) ||
            strcmp(s_str(msg, "jsonrpc"), "2.0") != 0) {
            s_fail(&a, RPC_INVALID_REQUEST, "jsonrpc must be \"2.0\"");
        } else if (!method) {
            if (json_object_get(msg, "result") ||
                json_object_get(msg, "error")) {
                json_decref(msg); /* a response: we asked nothing */
                return;
            }
            s_fail(&a, RPC_INVALID_REQUEST, "method must be a string");
        } else if (id && !json_is_string(id) && !json_is_integer(id)) {
            s_fail(&a, RPC_INVALID_REQUEST, "id must be a string or an "
                   "integer");
            id = NULL;
        } else if (!id) {
            /* A notification (initialized, cancelled, ...): no answer. */
            json_decref(msg);
            return;
        } else if (params && !json_is_object(params)) {
            s_fail(&a, RPC_INVALID_PARAMS, "%s: params must be an object",
                   method);
        } else if (strcmp(method, "initialize") == 0) {
            s_initialize(params, &a);
        } else if (strcmp(method, "ping") == 0) {
            a.result = json_object();
        } else if (strcmp(method, "tools/list") == 0) {
            a.result = json_pack("{s:O}", "tools", tools);
        } else if (strcmp(method, "tools/call") == 0) {
            s_call(pool, tools, params, &a);
        } else {
            s_fail(&a, RPC_NO_METHOD, "no method \"%.64s\" (this server "
                   "has initialize, ping, tools/list, tools/call)", method);
        }
    }
    json_t *out;
    if (a.error || !a.result) {
        if (!a.error)
            s_fail(&a, RPC_INTERNAL, "out of memory");
        out = json_pack("{s:s, s:O?, s:{s:i, s:s}}", "jsonrpc", "2.0",
                        "id", id, "error", "code", a.error, "message",
                        a.message);
        if (out && !id)
            json_object_set_new(out, "id", json_null());
        json_decref(a.result);
    } else {
        out = json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id,
                        "result", a.result);
    }
    s_send(out);
    json_decref(msg);
}

/*
 * One line of stdin into BUF (at most CAP bytes, no newline).  Returns
 * its length; -1 at the end of input; -2 for a line longer than CAP,
 * whose rest is read and dropped, so a runaway line costs no memory.
 */
static ssize_t
s_read_line(char *buf, size_t cap)
{
    size_t n = 0;
    bool over = false;
    int c;
    while ((c = getc(stdin)) != EOF && c != '\n') {
        if (n < cap)
            buf[n++] = (char)c;
        else
            over = true;
    }
    if (c == EOF && n == 0 && !over)
        return -1;
    return over ? -2 : (ssize_t)n;
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"endpoint", required_argument, NULL, 'e'},
        {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    gw_daemon_t daemon = {.timeout_ms = SDX_CLIENT_DEFAULT_TIMEOUT_MS,
                          .attempts = SDX_CLIENT_DEFAULT_ATTEMPTS};
    int ch;
    while ((ch = getopt_long(argc, argv, "e:t:hV", opts, NULL)) != -1) {
        switch (ch) {
        case 'e':
            if (daemon.nendpoints >= 8) {
                fprintf(stderr, "specdex-mcp: --endpoint: at most 8\n");
                return 2;
            }
            daemon.endpoints[daemon.nendpoints++] = optarg;
            break;
        case 't': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (end == optarg || *end || v < 1 || v > 600000) {
                fprintf(stderr, "specdex-mcp: --timeout: '%s' is not a "
                        "number in 1..600000\n", optarg);
                return 2;
            }
            daemon.timeout_ms = (int)v;
            break;
        }
        case 'h': s_usage(stdout); return 0;
        case 'V': printf("specdex-mcp %s\n", SDX_VERSION); return 0;
        default:
            fprintf(stderr, "Try 'specdex-mcp --help'.\n");
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "specdex-mcp: unexpected argument '%s'\n",
                argv[optind]);
        return 2;
    }
    if (daemon.nendpoints == 0) {
        const char *env = getenv("SPECDEX_ENDPOINT");
        daemon.endpoints[daemon.nendpoints++] =
            env && *env ? env : SDX_CLIENT_DEFAULT_ENDPOINT;
    }
    sdx_log_init("specdex-mcp", SDX_LOG_INFO);
    json_t *tools = s_tools();
    gw_pool_t pool;
    if (!tools || gw_pool_init(&pool, &daemon, 1) != 0) {
        fprintf(stderr, "specdex-mcp: cannot set up the tools\n");
        json_decref(tools);
        return 1;
    }

    char *line = malloc(LINE_MAX_BYTES);
    ssize_t n;
    while (line && (n = s_read_line(line, LINE_MAX_BYTES)) != -1) {
        if (n == -2) {
            s_send(json_pack("{s:s, s:n, s:{s:i, s:s}}", "jsonrpc", "2.0",
                             "id", "error", "code", RPC_INVALID_REQUEST,
                             "message", "a message is at most 1 MiB"));
            continue;
        }
        size_t len = (size_t)n;
        if (len > 0 && line[len - 1] == '\r')
            len--;
        if (len > 0)
            s_handle(&pool, tools, line, len);
    }
    free(line);
    gw_pool_destroy(&pool);
    json_decref(tools);
    return 0;
}
