/*
 * specdexd: the query daemon.  Reads the arguments, refuses an endpoint
 * reachable from other machines (no CURVE yet), binds through the
 * broker, starts one worker thread per core (each with its own index
 * handle), tells systemd when it is ready, and stops cleanly on SIGTERM
 * or SIGINT.
 *
 * Signals follow the ZeroMQ guide's interrupt.c: the handler writes one
 * byte to a self-pipe whose read end sits in the broker's zmq_poll set,
 * so the broker leaves its loop at once, whatever it was waiting for.
 * Shutdown then closes the broker's sockets (LINGER 0), shuts the
 * context down (each worker's blocked call fails with ETERM and the
 * worker closes its own socket and handle), joins the workers and
 * terminates the context.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>
#include <zmq.h>

#include "daemon.h"
#include "sdx_log.h"

#define DEFAULT_ENDPOINT "tcp://127.0.0.1:5599" /* protocol-v1.md */
#define ENDPOINT_ENV "SPECDEX_ENDPOINT"          /* overrides the default */

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
        sigaction(SIGINT, &sa, NULL) != 0)
        return -1;
    sa.sa_handler = SIG_IGN;
    return sigaction(SIGPIPE, &sa, NULL);
}

static void
s_usage(FILE *out)
{
    fprintf(out,
            "usage: specdexd --index DIR [--endpoint EP] [--threads N]\n"
            "                [--queue N] [--log-queries] [-v]\n"
            "  --index DIR     index directory (specdex-index -o DIR)\n"
            "  --endpoint EP   ZeroMQ endpoint to bind (default $%s or\n"
            "                  %s); loopback, ipc:// or inproc:// only\n"
            "  --threads N     worker threads (default: number of cores)\n"
            "  --queue N       requests waiting for a worker before\n"
            "                  `overloaded` (default: %d x threads)\n"
            "  --log-queries   put query text in debug lines\n"
            "  -v, --verbose   debug lines (one per request)\n",
            ENDPOINT_ENV, DEFAULT_ENDPOINT, SDX_DAEMON_QUEUE_FACTOR);
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

/* The broker's callback: every worker has reported READY. */
static void
s_on_ready(void *arg)
{
    const sdx_config_t *cfg = arg;
    char status[512];
    sdx_log(SDX_LOG_INFO, "serving on %s with %u workers", cfg->endpoint,
            cfg->threads);
    snprintf(status, sizeof status, "STATUS=serving on %s, %u workers",
             cfg->endpoint, cfg->threads);
    s_notify("READY=1");
    s_notify(status);
}

int
main(int argc, char **argv)
{
    static const struct option options[] = {
        {"index", required_argument, NULL, 'i'},
        {"endpoint", required_argument, NULL, 'e'},
        {"threads", required_argument, NULL, 't'},
        {"queue", required_argument, NULL, 'q'},
        {"log-queries", no_argument, NULL, 'L'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    sdx_config_t cfg = {0};
    long queue = -1;
    bool verbose = false;
    int status = EXIT_FAILURE;
    void *zctx = NULL;
    sdx_stats_t *stats = NULL;
    sdx_broker_t *broker = NULL;
    sdx_worker_t **workers = NULL;
    char err[512];
    int c;

    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    cfg.threads = cores > 0 ? (unsigned)cores : 1;
    if (cfg.threads > SDX_DAEMON_MAX_THREADS)
        cfg.threads = SDX_DAEMON_MAX_THREADS;
    cfg.endpoint = getenv(ENDPOINT_ENV);
    if (!cfg.endpoint || !cfg.endpoint[0])
        cfg.endpoint = DEFAULT_ENDPOINT;

    while ((c = getopt_long(argc, argv, "vh", options, NULL)) != -1) {
        long v;
        switch (c) {
        case 'i': cfg.index_dir = optarg; break;
        case 'e': cfg.endpoint = optarg; break;
        case 'L': cfg.log_queries = true; break;
        case 'v': verbose = true; break;
        case 'h': s_usage(stdout); return EXIT_SUCCESS;
        case 't':
            if ((v = s_count(optarg, 1, SDX_DAEMON_MAX_THREADS)) < 0) {
                fprintf(stderr, "specdexd: --threads: \"%s\" is not a "
                        "number in 1..%d\n", optarg,
                        SDX_DAEMON_MAX_THREADS);
                return 2;
            }
            cfg.threads = (unsigned)v;
            break;
        case 'q':
            if ((queue = s_count(optarg, 0, 1000000)) < 0) {
                fprintf(stderr, "specdexd: --queue: \"%s\" is not a "
                        "number in 0..1000000\n", optarg);
                return 2;
            }
            break;
        default:
            s_usage(stderr);
            return 2;
        }
    }
    if (optind != argc || !cfg.index_dir) {
        fprintf(stderr, "specdexd: %s\n", optind != argc
                ? "unexpected argument" : "--index DIR is required");
        s_usage(stderr);
        return 2;
    }
    cfg.queue_max = queue >= 0 ? (unsigned)queue
                               : cfg.threads * SDX_DAEMON_QUEUE_FACTOR;
    sdx_log_init("specdexd", verbose ? SDX_LOG_DEBUG : SDX_LOG_INFO);

    if (!sdx_proto_endpoint_is_local(cfg.endpoint)) {
        sdx_log(SDX_LOG_ERROR, "refusing to bind %s: only loopback tcp "
                "(127.0.0.0/8, [::1], localhost), ipc:// and inproc:// "
                "are allowed until CURVE encryption is implemented",
                cfg.endpoint);
        return 2;
    }
    if (s_signals() != 0) {
        sdx_log(SDX_LOG_ERROR, "signal setup: %s", strerror(errno));
        return EXIT_FAILURE;
    }
    if (!(stats = sdx_stats_new(cfg.threads))) {
        sdx_log(SDX_LOG_ERROR, "out of memory");
        goto cleanup;
    }
    if (!(zctx = zmq_ctx_new())) {
        sdx_log(SDX_LOG_ERROR, "zmq_ctx_new: %s", zmq_strerror(errno));
        goto cleanup;
    }
    if (!(broker = sdx_broker_new(zctx, &cfg, stats, err, sizeof err))) {
        sdx_log(SDX_LOG_ERROR, "%s", err);
        goto cleanup;
    }
    if (!(workers = calloc(cfg.threads, sizeof *workers))) {
        sdx_log(SDX_LOG_ERROR, "out of memory");
        goto cleanup;
    }
    for (unsigned i = 0; i < cfg.threads; i++) {
        if (!(workers[i] = sdx_worker_start(zctx, &cfg, stats, i)))
            goto cleanup;
    }
    s_notify("STATUS=starting workers");

    if (sdx_broker_run(broker, stop_pipe[0], s_on_ready, &cfg) == 0) {
        sdx_log(SDX_LOG_INFO, "stopping");
        status = EXIT_SUCCESS;
    }
    s_notify("STOPPING=1");
    s_notify("STATUS=stopping");

cleanup:
    sdx_broker_destroy(&broker);
    if (zctx)
        zmq_ctx_shutdown(zctx);  /* blocked workers get ETERM */
    for (unsigned i = 0; workers && i < cfg.threads; i++)
        sdx_worker_join(&workers[i]);
    free(workers);
    if (zctx && zmq_ctx_term(zctx) != 0)
        sdx_log(SDX_LOG_WARN, "zmq_ctx_term: %s", zmq_strerror(errno));
    sdx_stats_destroy(&stats);
    for (int i = 0; i < 2; i++)
        if (stop_pipe[i] >= 0)
            close(stop_pipe[i]);
    return status;
}
