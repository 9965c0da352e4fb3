/*
 * specdexd: the query daemon.  Reads the arguments, refuses an endpoint
 * reachable from other machines (no CURVE yet), binds through the
 * broker, starts one worker thread per core (each with its own index
 * handle), tells systemd when it is ready, and stops cleanly on SIGTERM
 * or SIGINT.  SIGHUP makes every worker open the index afresh.  main is
 * those steps in turn: s_options (the command line), s_security (CURVE
 * and the endpoint policy), s_start, s_serve and s_stop.
 *
 * systemd (sd_notify): READY=1 once the sockets are bound and every
 * worker has opened the index (or found none: the daemon then answers
 * `unavailable` until a build appears); STATUS= names the revision the
 * workers serve and changes with it; WATCHDOG=1 every half of the
 * unit's WatchdogSec, from the broker's loop, so a wedged broker is
 * restarted; STOPPING=1 when a stop begins.
 *
 * Signals follow the ZeroMQ guide's interrupt.c: the handler writes one
 * byte (the signal's number) to a self-pipe whose read end sits in the
 * broker's zmq_poll set, so the broker sees it at once, whatever it was
 * waiting for.  On SIGTERM the broker drains (no new requests; those
 * taken are finished, for at most SDX_DAEMON_DRAIN_MS), then shutdown
 * releases and joins the workers (each closes its own handle), closes
 * the broker's socket and terminates the context.
 */
#define _DEFAULT_SOURCE /* explicit_bzero */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <sodium.h>
#include <systemd/sd-daemon.h>
#include <zmq.h>

#include "daemon.h"
#include "sdx_curve.h"
#include "sdx_log.h"
#include "zap.h"

#define DEFAULT_ENDPOINT "tcp://127.0.0.1:5599" /* protocol-v1.md */
#define ENDPOINT_ENV "SPECDEX_ENDPOINT"          /* overrides the default */
#define TICK_MS 1000            /* STATUS= check period (and the longest
                                   watchdog period), milliseconds */
#define SLOW_MS_MAX 3600000     /* --slow-ms upper bound, milliseconds */

/* What the broker's callbacks need. */
typedef struct state {
    const sdx_config_t *cfg;   /* the configuration */
    sdx_stats_t *stats;        /* for the revision served */
    bool ready;                /* READY=1 sent */
    uint64_t watchdog_us;      /* WatchdogSec in us; 0: no watchdog */
    uint64_t last_ping_us;     /* when WATCHDOG=1 was last sent */
    uint64_t shown_lo, shown_hi; /* revisions in the last STATUS= */
    sdx_zap_t *zap;            /* the CURVE handler, or NULL */
} state_t;

static int stop_pipe[2] = {-1, -1}; /* self-pipe: [0] polled, [1] written */

static void
s_on_signal(int sig)
{
    int saved = errno;
    char c = (char)sig;
    /* one byte is enough; a full pipe already says "stop" */
    if (write(stop_pipe[1], &c, 1) < 0) {
        /* nothing a signal handler can do */
    }
    errno = saved;
}

static int
s_signals(void)
{
    struct sigaction sa;
    if (pipe(stop_pipe) != 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        int fl = fcntl(stop_pipe[i], F_GETFL);
        if (fl < 0 || fcntl(stop_pipe[i], F_SETFL, fl | O_NONBLOCK) < 0 ||
            fcntl(stop_pipe[i], F_SETFD, FD_CLOEXEC) < 0)
            return -1;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, NULL) != 0 ||
        sigaction(SIGINT, &sa, NULL) != 0 ||
        sigaction(SIGHUP, &sa, NULL) != 0)
        return -1;
    sa.sa_handler = SIG_IGN;
    return sigaction(SIGPIPE, &sa, NULL);
}

static void
s_usage(FILE *out)
{
    fprintf(out,
            "usage: specdexd --index DIR [--endpoint EP] [--threads N]\n"
            "                [--queue N] [--max-frame BYTES] [--max-query "
            "BYTES]\n"
            "                [--max-limit N] [--max-ids N] [--slow-ms MS]\n"
            "                [--cache-mb N]\n"
            "                [--log-queries] [-v]\n"
            "                [--curve-secret FILE --allow-keys DIR] "
            "[--insecure-bind]\n"
            "  --index DIR       index directory (specdex-index -o DIR);\n"
            "                    again for each shard of one (DIR/meta,\n"
            "                    DIR/shard-K, or tcp://HOST:PORT of\n"
            "                    xapian-tcpsrv)\n"
            "  --endpoint EP     ZeroMQ endpoint to bind (default $%s or\n"
            "                    %s); loopback, ipc:// or inproc:// "
            "only\n"
            "  --threads N       worker threads (default: number of "
            "cores)\n"
            "  --queue N         requests waiting for a worker before\n"
            "                    `overloaded` (default: %d x threads);\n"
            "                    in flight at most: threads + N\n"
            "  --max-frame BYTES request frame, 1..%d (default %d);\n"
            "                    past it: too_large\n"
            "  --max-query BYTES q, 1..%d (default %d); past it: "
            "bad_request\n"
            "  --max-limit N     search limit, 1..%d (default %d)\n"
            "  --max-ids N       ids of one get, 1..%d (default %d)\n"
            "  --slow-ms MS      log a W: line (timing and query hash) "
            "for\n"
            "                    requests taking MS or more; 0: never\n"
            "                    (default %d)\n"
            "  --cache-mb N      result cache shared by the workers: at "
            "most\n"
            "                    N MiB of replies, least recently used "
            "out,\n"
            "                    keyed by request and index revision; 0: "
            "off\n"
            "                    (default %d, at most %d)\n"
            "  --log-queries     put query text in debug and slow lines\n"
            "  --curve-secret FILE  require CURVE: this daemon's keypair\n"
            "                    (NAME.key_secret of `specdex keygen`)\n"
            "  --allow-keys DIR  with CURVE: admit only clients whose\n"
            "                    NAME.key is in DIR (read at each "
            "handshake)\n"
            "  --insecure-bind   bind a non-loopback address without "
            "CURVE\n"
            "                    (plaintext to the network: avoid)\n"
            "  -v, --verbose     debug lines (one per request)\n"
            "Signals: TERM/INT finish what is in flight and exit; HUP "
            "reopens\nthe index.\n",
            ENDPOINT_ENV, DEFAULT_ENDPOINT, SDX_DAEMON_QUEUE_FACTOR,
            SDX_PROTO_MAX_FRAME, SDX_PROTO_MAX_FRAME, SDX_PROTO_Q_MAX,
            SDX_PROTO_Q_MAX, SDX_PROTO_LIMIT_MAX, SDX_PROTO_LIMIT_MAX,
            SDX_PROTO_IDS_MAX, SDX_PROTO_IDS_MAX, SDX_DAEMON_SLOW_MS,
            SDX_DAEMON_CACHE_MB, SDX_DAEMON_CACHE_MB_MAX);
}

/* Parse a count in MIN..MAX from an option; -1 when it is not one. */
static long
s_count(const char *s, long min, long max)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return -1;
    return v;
}

/* Tell systemd when run under it (a no-op otherwise). */
static void
s_notify(const char *state)
{
    int rc = sd_notify(0, state);
    if (rc < 0)
        sdx_log(SDX_LOG_WARN, "sd_notify: %s", strerror(-rc));
}

/* STATUS= with the revisions the workers serve, when they changed. */
static void
s_status(state_t *st, bool always)
{
    char status[600];
    uint64_t lo, hi;
    sdx_stats_revisions(st->stats, &lo, &hi);
    if (!always && lo == st->shown_lo && hi == st->shown_hi)
        return;
    st->shown_lo = lo;
    st->shown_hi = hi;
    if (hi == 0)
        snprintf(status, sizeof status, "STATUS=no index served from %s "
                 "(none built yet, or it cannot be opened: the W: lines "
                 "say which); serving on %s, %u workers", st->cfg->index_dir,
                 st->cfg->endpoint, st->cfg->threads);
    else if (lo == hi)
        snprintf(status, sizeof status, "STATUS=serving revision %llu "
                 "on %s, %u workers", (unsigned long long)hi,
                 st->cfg->endpoint, st->cfg->threads);
    else
        snprintf(status, sizeof status, "STATUS=moving to revision %llu "
                 "(some workers on %llu) on %s", (unsigned long long)hi,
                 (unsigned long long)lo, st->cfg->endpoint);
    if (lo == hi)
        sdx_log(SDX_LOG_INFO, "%s", status + strlen("STATUS="));
    s_notify(status);
}

/* The broker's callback: every worker has opened its index. */
static void
s_on_ready(void *arg)
{
    state_t *st = arg;
    st->ready = true;
    s_notify("READY=1");
    s_status(st, true);
}

/* The broker's tick: watchdog and STATUS=. */
static void
s_on_tick(void *arg)
{
    state_t *st = arg;
    uint64_t now = sdx_now_us();
    if (st->watchdog_us && now - st->last_ping_us >= st->watchdog_us / 2) {
        s_notify("WATCHDOG=1");
        st->last_ping_us = now;
    }
    if (st->ready)
        s_status(st, false);
}

/* The frontend's monitor: a CURVE handshake failed before ZAP. */
static void
s_on_handshake_failed(void *arg, unsigned event, const char *address)
{
    state_t *st = arg;
    if (st->zap)
        sdx_zap_handshake_failed(st->zap, event, address);
}

/* SIGHUP: every worker opens the index again. */
static void
s_on_reload(void *arg)
{
    state_t *st = arg;
    sdx_log(SDX_LOG_INFO, "SIGHUP: reopening the index");
    sdx_stats_request_reopen(st->stats);
}

/* What the command line asks for besides sdx_config_t. */
typedef struct options {
    long queue;                /* --queue, or -1: threads x factor */
    bool verbose;              /* -v: debug lines */
    const char *curve_secret;  /* --curve-secret FILE, or NULL */
    bool insecure_bind;        /* --insecure-bind */
} options_t;

/* Everything the daemon starts, for s_stop to stop. */
typedef struct daemon {
    sdx_config_t cfg;          /* the configuration */
    state_t state;             /* the broker's callbacks' state */
    void *zctx;                /* the one ZeroMQ context */
    sdx_stats_t *stats;        /* shared counters */
    sdx_cache_t *cache;        /* shared result cache */
    sdx_broker_t *broker;      /* the sockets and the queue */
    sdx_worker_t **workers;    /* cfg.threads of them */
    sdx_zap_t *zap;            /* the CURVE handler, or NULL */
} daemon_t;

/*
 * Read the command line into CFG and O.  Returns -1 to go on, or the
 * exit status (0 after --help, 2 for a usage error, said on stderr).
 */
static int
s_options(int argc, char **argv, sdx_config_t *cfg, options_t *o)
{
    static const struct option options[] = {
        {"index", required_argument, NULL, 'i'},
        {"endpoint", required_argument, NULL, 'e'},
        {"threads", required_argument, NULL, 't'},
        {"queue", required_argument, NULL, 'q'},
        {"max-frame", required_argument, NULL, 'F'},
        {"max-query", required_argument, NULL, 'Q'},
        {"max-limit", required_argument, NULL, 'l'},
        {"max-ids", required_argument, NULL, 'I'},
        {"slow-ms", required_argument, NULL, 's'},
        {"cache-mb", required_argument, NULL, 'M'},
        {"log-queries", no_argument, NULL, 'L'},
        {"curve-secret", required_argument, NULL, 'C'},
        {"allow-keys", required_argument, NULL, 'A'},
        {"insecure-bind", no_argument, NULL, 'X'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    *cfg = (sdx_config_t){.slow_ms = SDX_DAEMON_SLOW_MS,
                          .cache_bytes = (size_t)SDX_DAEMON_CACHE_MB << 20};
    *o = (options_t){.queue = -1};
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    cfg->threads = cores > 0 ? (unsigned)cores : 1;
    if (cfg->threads > SDX_DAEMON_MAX_THREADS)
        cfg->threads = SDX_DAEMON_MAX_THREADS;
    cfg->endpoint = getenv(ENDPOINT_ENV);
    if (!cfg->endpoint || !cfg->endpoint[0])
        cfg->endpoint = DEFAULT_ENDPOINT;

    while ((c = getopt_long(argc, argv, "vh", options, NULL)) != -1) {
        long v;
        switch (c) {
        case 'i':
            /* again: the next shard of the index */
            if (cfg->nindex == SDX_DB_SHARDS_MAX) {
                fprintf(stderr, "specdexd: --index: at most %d shards "
                        "('%s')\n", SDX_DB_SHARDS_MAX, optarg);
                return 2;
            }
            cfg->index_dirs[cfg->nindex++] = optarg;
            cfg->index_dir = cfg->index_dirs[0];
            break;
        case 'e': cfg->endpoint = optarg; break;
        case 'L': cfg->log_queries = true; break;
        case 'C': o->curve_secret = optarg; break;
        case 'A': cfg->allow_keys = optarg; break;
        case 'X': o->insecure_bind = true; break;
        case 'v': o->verbose = true; break;
        case 'h': s_usage(stdout); return EXIT_SUCCESS;
        case 't':
            if ((v = s_count(optarg, 1, SDX_DAEMON_MAX_THREADS)) < 0) {
                fprintf(stderr, "specdexd: --threads: \"%s\" is not a "
                        "number in 1..%d\n", optarg,
                        SDX_DAEMON_MAX_THREADS);
                return 2;
            }
            cfg->threads = (unsigned)v;
            break;
        case 'M':
            if ((v = s_count(optarg, 0, SDX_DAEMON_CACHE_MB_MAX)) < 0) {
                fprintf(stderr, "specdexd: --cache-mb: \"%s\" is not a "
                        "number in 0..%d\n", optarg,
                        SDX_DAEMON_CACHE_MB_MAX);
                return 2;
            }
            cfg->cache_bytes = (size_t)v << 20;
            break;
        case 'q':
            if ((o->queue = s_count(optarg, 0, 1000000)) < 0) {
                fprintf(stderr, "specdexd: --queue: \"%s\" is not a "
                        "number in 0..1000000\n", optarg);
                return 2;
            }
            break;
        case 'F': case 'Q': case 'l': case 'I': case 's': {
            /* one table row per limit: its name, bounds and field */
            const char *name = c == 'F' ? "--max-frame"
                             : c == 'Q' ? "--max-query"
                             : c == 'l' ? "--max-limit"
                             : c == 'I' ? "--max-ids"
                             : "--slow-ms";
            long lo = c == 's' ? 0 : 1;
            long hi = c == 'F' ? SDX_PROTO_MAX_FRAME
                    : c == 'Q' ? SDX_PROTO_Q_MAX
                    : c == 'l' ? SDX_PROTO_LIMIT_MAX
                    : c == 'I' ? SDX_PROTO_IDS_MAX
                    : SLOW_MS_MAX;
            if ((v = s_count(optarg, lo, hi)) < 0) {
                fprintf(stderr, "specdexd: %s: \"%s\" is not a number in "
                        "%ld..%ld\n", name, optarg, lo, hi);
                return 2;
            }
            if (c == 'F')
                cfg->max_frame = (size_t)v;
            else if (c == 'Q')
                cfg->max_query = (size_t)v;
            else if (c == 'l')
                cfg->max_limit = (unsigned)v;
            else if (c == 'I')
                cfg->max_ids = (unsigned)v;
            else
                cfg->slow_ms = (unsigned)v;
            break;
        }
        default:
            s_usage(stderr);
            return 2;
        }
    }
    if (optind != argc || !cfg->index_dir) {
        fprintf(stderr, "specdexd: %s\n", optind != argc
                ? "unexpected argument" : "--index DIR is required");
        s_usage(stderr);
        return 2;
    }
    cfg->queue_max = o->queue >= 0 ? (unsigned)o->queue
                                   : cfg->threads * SDX_DAEMON_QUEUE_FACTOR;
    return -1;
}

/*
 * CURVE (--curve-secret with --allow-keys) into CFG, and the endpoint
 * policy: nothing reachable from other machines without CURVE unless
 * --insecure-bind.  Returns -1 to go on, or the exit status 2.
 */
static int
s_security(sdx_config_t *cfg, const options_t *o)
{
    char err[512];
    if (!o->curve_secret != !cfg->allow_keys) {
        fprintf(stderr, "specdexd: --curve-secret and --allow-keys go "
                "together\n");
        return 2;
    }
    if (o->curve_secret) {
        sdx_curve_key_t pub, sec;
        if (sdx_curve_read(o->curve_secret, &pub, &sec, err, sizeof err)
                != SDX_OK) {
            fprintf(stderr, "specdexd: --curve-secret %s\n", err);
            return 2;
        }
        memcpy(cfg->curve_secret, sec.z85, sizeof cfg->curve_secret);
        explicit_bzero(&sec, sizeof sec);
        cfg->curve = true;
    }
    if (!sdx_proto_endpoint_is_local(cfg->endpoint) && !cfg->curve &&
        !o->insecure_bind) {
        sdx_log(SDX_LOG_ERROR, "refusing to bind %s: other machines could "
                "reach it, and without CURVE its traffic (queries and "
                "clauses) is plaintext; use --curve-secret and "
                "--allow-keys, or --insecure-bind on a private link",
                cfg->endpoint);
        return 2;
    }
    if (!sdx_proto_endpoint_is_local(cfg->endpoint) && !cfg->curve)
        sdx_log(SDX_LOG_WARN, "--insecure-bind: serving %s without "
                "encryption", cfg->endpoint);
    return -1;
}

/*
 * Raise the soft descriptor limit to the hard one: each client
 * connection is a descriptor, and the soft limit's usual 1024 refused the
 * 1,008th of 2,000 clients.  The hard limit is the operator's
 * (LimitNOFILE= in the unit); what is in use is in `stats`.
 */
static void
s_raise_nofile(void)
{
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur >= lim.rlim_max)
        return;
    rlim_t was = lim.rlim_cur;
    lim.rlim_cur = lim.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &lim) != 0)
        sdx_log(SDX_LOG_WARN, "cannot raise the descriptor limit from %llu "
                "to %llu: %s", (unsigned long long)was,
                (unsigned long long)lim.rlim_max, strerror(errno));
    else
        sdx_log(SDX_LOG_INFO, "descriptor limit raised from %llu to %llu",
                (unsigned long long)was, (unsigned long long)lim.rlim_max);
}

/*
 * Say so when INDEX_DIR holds what a killed build left (.build-*).  Not
 * removed here: the daemon reads the index and never writes it (the unit
 * mounts it read-only), and only the indexer's build lock tells a dead
 * build from one running now; the next build removes them under that
 * lock (indexer/build.c), and specdex-index.service runs before
 * specdexd.service at boot.
 */
static void
s_note_dead_builds(const char *index_dir)
{
    DIR *d = opendir(index_dir);
    if (!d)
        return;
    unsigned n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += strncmp(e->d_name, ".build-", 7) == 0;
    closedir(d);
    if (n)
        sdx_log(SDX_LOG_INFO, "%s holds %u .build-* director%s of a build "
                "that is running or was killed; the next specdex-index run "
                "removes what is dead (the daemon never writes the index)",
                index_dir, n, n == 1 ? "y" : "ies");
}

/*
 * Start D: counters, cache, the ZeroMQ context, the ZAP handler (before
 * the first client can connect), the broker's sockets, the workers.
 * Returns 0, or -1 (logged); s_stop undoes whatever was started.
 */
static int
s_start(daemon_t *d)
{
    const sdx_config_t *cfg = &d->cfg;
    char err[512];
    /* the slow log's hash key: fresh for each process (worker.c) */
    if (sodium_init() < 0) {
        sdx_log(SDX_LOG_ERROR, "libsodium cannot start");
        return -1;
    }
    randombytes_buf(d->cfg.query_key, sizeof d->cfg.query_key);
    if (!(d->stats = sdx_stats_new(cfg->threads, cfg->threads)) ||
        !(d->cache = sdx_cache_new(cfg->cache_bytes))) {
        sdx_log(SDX_LOG_ERROR, "out of memory");
        return -1;
    }
    if (!(d->zctx = zmq_ctx_new())) {
        sdx_log(SDX_LOG_ERROR, "zmq_ctx_new: %s", zmq_strerror(errno));
        return -1;
    }
    /* The ZAP handler must answer before the first client connects. */
    if (cfg->curve &&
        sdx_zap_start(d->zctx, cfg->allow_keys, &d->zap, err, sizeof err)
            != SDX_OK) {
        sdx_log(SDX_LOG_ERROR, "%s", err);
        return -1;
    }
    if (!(d->broker = sdx_broker_new(d->zctx, cfg, d->stats, err,
                                     sizeof err))) {
        sdx_log(SDX_LOG_ERROR, "%s", err);
        return -1;
    }
    d->state.zap = d->zap;
    if (cfg->curve)
        sdx_log(SDX_LOG_INFO, "CURVE on: admitting the keys in %s",
                cfg->allow_keys);
    if (!(d->workers = calloc(cfg->threads, sizeof *d->workers))) {
        sdx_log(SDX_LOG_ERROR, "out of memory");
        return -1;
    }
    for (unsigned i = 0; i < cfg->threads; i++) {
        if (!(d->workers[i] = sdx_worker_start(d->broker, cfg, d->stats,
                                               d->cache, i)))
            return -1;
    }
    s_notify("STATUS=starting workers");
    return 0;
}

/*
 * Serve until a stop is asked for: the watchdog and STATUS= on the
 * broker's tick, READY=1 once every worker has opened its index.
 * Returns the exit status.
 */
static int
s_serve(daemon_t *d)
{
    state_t *state = &d->state;
    uint64_t watchdog = 0;
    if (sd_watchdog_enabled(0, &watchdog) > 0) {
        state->watchdog_us = watchdog;
        sdx_log(SDX_LOG_INFO, "watchdog: every %llu ms",
                (unsigned long long)(watchdog / 2000));
    }
    state->stats = d->stats;
    unsigned tick = TICK_MS;
    if (state->watchdog_us && state->watchdog_us / 4000 < tick)
        tick = (unsigned)(state->watchdog_us / 4000) + 1;
    sdx_broker_hooks_t hooks = {
        .on_ready = s_on_ready,
        .on_tick = s_on_tick,
        .on_reload = s_on_reload,
        .on_handshake_failed = s_on_handshake_failed,
        .arg = state,
        .tick_ms = tick,
    };
    sdx_log(SDX_LOG_INFO, "listening on %s with %u workers, queue %u",
            d->cfg.endpoint, d->cfg.threads, d->cfg.queue_max);
    int served = sdx_broker_serve(d->broker, stop_pipe[0], &hooks);
    s_notify("STOPPING=1\nSTATUS=stopping");
    if (served != 0)
        return EXIT_FAILURE;
    sdx_log(SDX_LOG_INFO, "stopped");
    return EXIT_SUCCESS;
}

/*
 * Stop what s_start started: the workers released (each ends its
 * request and closes its handle) and joined, then the broker's socket
 * closed, the ZAP handler stopped, the context terminated.
 */
static void
s_stop(daemon_t *d)
{
    sdx_broker_release(d->broker);
    for (unsigned i = 0; d->workers && i < d->cfg.threads; i++)
        sdx_worker_join(&d->workers[i]);
    free(d->workers);
    d->workers = NULL;
    sdx_broker_destroy(&d->broker);
    sdx_zap_stop(&d->zap);
    explicit_bzero(d->cfg.curve_secret, sizeof d->cfg.curve_secret);
    if (d->zctx)
        zmq_ctx_shutdown(d->zctx);
    explicit_bzero(d->cfg.query_key, sizeof d->cfg.query_key);
    if (d->zctx && zmq_ctx_term(d->zctx) != 0)
        sdx_log(SDX_LOG_WARN, "zmq_ctx_term: %s", zmq_strerror(errno));
    d->zctx = NULL;
    sdx_stats_destroy(&d->stats);
    sdx_cache_destroy(&d->cache);
    for (int i = 0; i < 2; i++)
        if (stop_pipe[i] >= 0)
            close(stop_pipe[i]);
}

int
main(int argc, char **argv)
{
    daemon_t d;
    options_t o;
    int rc;

    memset(&d, 0, sizeof d);
    if ((rc = s_options(argc, argv, &d.cfg, &o)) >= 0)
        return rc;
    d.state.cfg = &d.cfg;
    sdx_log_init("specdexd", o.verbose ? SDX_LOG_DEBUG : SDX_LOG_INFO);
    if ((rc = s_security(&d.cfg, &o)) >= 0)
        return rc;
    if (s_signals() != 0) {
        sdx_log(SDX_LOG_ERROR, "signal setup: %s", strerror(errno));
        return EXIT_FAILURE;
    }
    s_raise_nofile();
    s_note_dead_builds(d.cfg.index_dir);
    rc = s_start(&d) == 0 ? s_serve(&d) : EXIT_FAILURE;
    s_stop(&d);
    return rc;
}
