/*
 * zap: a ZAP handler thread for CURVE (see zap.h).
 *
 * libzmq sends each handshake to inproc://zeromq.zap.01 as a request of
 * seven or more frames (version "1.0", request id, domain, address,
 * identity, mechanism, then the mechanism's credentials: for CURVE the
 * client's 32-byte public key) and waits for a reply of six frames
 * (version, request id, status code, status text, user id, metadata).
 * Anything but a known CURVE key in our domain gets "400".
 *
 * Handshakes that fail before ZAP is asked (a plaintext client, a client
 * that trusts another server key) are seen through the frontend's socket
 * monitor, which the broker reads (broker.c), and logged here too.
 */
#include "zap.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "sdx_curve.h"
#include "sdx_log.h"

#define ZAP_ENDPOINT "inproc://zeromq.zap.01" /* fixed by RFC 27 */
#define ZAP_STOP_ENDPOINT "inproc://specdex-zap-stop" /* our commands */
#define ZAP_CMD_STOP 'S'     /* command: end the thread */
#define ZAP_MAX_FRAMES 8     /* frames of a request we read at most */
#define ZAP_LOG_BURST 10     /* refusal lines of one kind per window */
#define ZAP_LOG_WINDOW_S 10  /* the window, seconds: a refused client
                                reconnects every ~100 ms, and each try
                                must not become a log line */
#define ZAP_FRAME_MAX 256    /* bytes kept of each frame */

struct sdx_zap {
    void *ctx;                  /* the daemon's context (not owned) */
    void *stop;                 /* PAIR: main's end of the stop signal */
    pthread_t thread;           /* the handler */
    atomic_ulong failed;        /* handshakes failed before ZAP */
    sdx_log_limit_t unknown_log; /* "refused unknown client" lines */
    sdx_log_limit_t failed_log; /* "handshake failed" lines */
    char *allow_dir;            /* directory of admitted NAME.key files */
    atomic_ulong admitted;      /* handshakes admitted */
    atomic_ulong refused;       /* handshakes refused */
};

/* True when a NAME.key file in DIR holds the public key KEY_Z85. */
static bool
key_allowed(const char *dir, const char *key_z85)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    bool found = false;
    if (!d) {
        sdx_log(SDX_LOG_ERROR, "CURVE: cannot read %s: %s", dir,
                strerror(errno));
        return false;
    }
    while (!found && (e = readdir(d))) {
        size_t n = strlen(e->d_name);
        char path[4096], err[256];
        sdx_curve_key_t pub;
        if (e->d_name[0] == '.' || n < 5 ||
            strcmp(e->d_name + n - 4, ".key") != 0)
            continue;
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, e->d_name)
                >= sizeof path)
            continue;
        if (sdx_curve_read(path, &pub, NULL, err, sizeof err) != SDX_OK) {
            sdx_log(SDX_LOG_WARN, "CURVE: skipping %s", err);
            continue;
        }
        found = strcmp(pub.z85, key_z85) == 0;
    }
    closedir(d);
    return found;
}

/* Send the six-frame reply. */
static void
send_reply(void *sock, const zmq_msg_t *request_id, const char *code,
           const char *text, const char *user)
{
    zmq_msg_t id;
    zmq_msg_init(&id);
    zmq_msg_copy(&id, (zmq_msg_t *)request_id);
    if (zmq_send(sock, "1.0", 3, ZMQ_SNDMORE) < 0 ||
        zmq_msg_send(&id, sock, ZMQ_SNDMORE) < 0 ||
        zmq_send(sock, code, strlen(code), ZMQ_SNDMORE) < 0 ||
        zmq_send(sock, text, strlen(text), ZMQ_SNDMORE) < 0 ||
        zmq_send(sock, user, strlen(user), ZMQ_SNDMORE) < 0 ||
        zmq_send(sock, "", 0, 0) < 0)
        sdx_log(SDX_LOG_ERROR, "CURVE: cannot answer ZAP: %s",
                zmq_strerror(errno));
    zmq_msg_close(&id);
}

/* Read one ZAP request from SOCK and answer it. */
static void
handle_request(sdx_zap_t *zap, void *sock)
{
    zmq_msg_t frames[ZAP_MAX_FRAMES];
    size_t n = 0;
    int more = 1;
    size_t more_size = sizeof more;
    while (more) {
        zmq_msg_t scratch, *m = n < ZAP_MAX_FRAMES ? &frames[n] : &scratch;
        zmq_msg_init(m);
        if (zmq_msg_recv(m, sock, 0) < 0) {
            zmq_msg_close(m);
            break;
        }
        if (zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &more_size) != 0)
            more = 0;
        if (m == &scratch)
            zmq_msg_close(m);
        else
            n++;
    }
    if (n < 6) {
        sdx_log(SDX_LOG_WARN, "CURVE: malformed ZAP request (%zu frames)",
                n);
        goto done;
    }
    /* 0 version, 1 request id, 2 domain, 3 address, 4 identity,
     * 5 mechanism, 6.. credentials */
    bool curve = zmq_msg_size(&frames[5]) == 5 &&
                 memcmp(zmq_msg_data(&frames[5]), "CURVE", 5) == 0;
    char key_z85[SDX_CURVE_KEY_LEN + 1] = "";
    char address[64] = "";
    snprintf(address, sizeof address, "%.*s",
             (int)(zmq_msg_size(&frames[3]) < 63 ? zmq_msg_size(&frames[3])
                                                 : 63),
             (const char *)zmq_msg_data(&frames[3]));
    if (curve && n >= 7 && zmq_msg_size(&frames[6]) == 32)
        zmq_z85_encode(key_z85, zmq_msg_data(&frames[6]), 32);
    if (key_z85[0] && key_allowed(zap->allow_dir, key_z85)) {
        atomic_fetch_add(&zap->admitted, 1);
        send_reply(sock, &frames[1], "200", "OK", key_z85);
    } else {
        atomic_fetch_add(&zap->refused, 1);
        if (sdx_log_allowed(&zap->unknown_log))
            sdx_log(SDX_LOG_WARN, "CURVE: refused %s client %.8s%s from %s",
                    curve ? "unknown" : "non-CURVE",
                    key_z85[0] ? key_z85 : "(no key)",
                    key_z85[0] ? "..." : "", address[0] ? address : "?");
        send_reply(sock, &frames[1], "400", "key not allowed", "");
    }
done:
    for (size_t i = 0; i < n; i++)
        zmq_msg_close(&frames[i]);
}

void
sdx_zap_handshake_failed(sdx_zap_t *zap, unsigned event,
                         const char *address)
{
    atomic_fetch_add(&zap->failed, 1);
    if (sdx_log_allowed(&zap->failed_log))
        sdx_log(SDX_LOG_WARN, "CURVE: refused a client on %s: %s", address,
                event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
                    ? "authentication failed"
                    : "handshake failed (plaintext client, or one that "
                      "trusts another server key)");
}

static void *
zap_thread(void *arg)
{
    sdx_zap_t *zap = arg;
    void *sock = zmq_socket(zap->ctx, ZMQ_REP);
    void *stop = zmq_socket(zap->ctx, ZMQ_PAIR);
    int linger = 0;
    if (!sock || !stop ||
        zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
        zmq_bind(sock, ZAP_ENDPOINT) != 0 ||
        zmq_connect(stop, ZAP_STOP_ENDPOINT) != 0) {
        sdx_log(SDX_LOG_ERROR, "CURVE: ZAP handler cannot start: %s",
                zmq_strerror(errno));
        goto out;
    }
    /* Tell sdx_zap_start() we are bound. */
    if (zmq_send(stop, "", 0, 0) < 0)
        goto out;
    while (true) {
        zmq_pollitem_t items[] = {
            { sock, 0, ZMQ_POLLIN, 0 }, { stop, 0, ZMQ_POLLIN, 0 },
        };
        if (zmq_poll(items, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (items[1].revents & ZMQ_POLLIN)
            break;           /* ZAP_CMD_STOP, the only command */
        if (items[0].revents & ZMQ_POLLIN)
            handle_request(zap, sock);
    }
out:
    if (sock)
        zmq_close(sock);
    if (stop)
        zmq_close(stop);
    return NULL;
}

sdx_status_t
sdx_zap_start(void *ctx, const char *allow_dir, sdx_zap_t **out, char *err,
              size_t err_size)
{
    *out = NULL;
    DIR *d = opendir(allow_dir);
    if (!d) {
        snprintf(err, err_size, "--allow-keys %s: %s", allow_dir,
                 strerror(errno));
        return SDX_IO;
    }
    closedir(d);
    sdx_zap_t *zap = calloc(1, sizeof *zap);
    if (!zap || !(zap->allow_dir = strdup(allow_dir))) {
        free(zap);
        snprintf(err, err_size, "out of memory");
        return SDX_NOMEM;
    }
    zap->ctx = ctx;
    zap->unknown_log = (sdx_log_limit_t){
        .what = "CURVE: unknown-key refusal",
        .burst = ZAP_LOG_BURST, .window_s = ZAP_LOG_WINDOW_S};
    zap->failed_log = (sdx_log_limit_t){
        .what = "CURVE: failed-handshake",
        .burst = ZAP_LOG_BURST, .window_s = ZAP_LOG_WINDOW_S};
    zap->stop = zmq_socket(ctx, ZMQ_PAIR);
    int linger = 0;
    if (!zap->stop ||
        zmq_setsockopt(zap->stop, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
        zmq_bind(zap->stop, ZAP_STOP_ENDPOINT) != 0)
        goto fail;
    if (pthread_create(&zap->thread, NULL, zap_thread, zap) != 0)
        goto fail;
    /* Wait until the handler is bound (or has given up). */
    zmq_pollitem_t item = { zap->stop, 0, ZMQ_POLLIN, 0 };
    if (zmq_poll(&item, 1, 5000) != 1 || zmq_recv(zap->stop, NULL, 0, 0) < 0) {
        char cmd = ZAP_CMD_STOP;
        snprintf(err, err_size, "the ZAP handler did not start");
        zmq_send(zap->stop, &cmd, 1, ZMQ_DONTWAIT);
        pthread_join(zap->thread, NULL);
        zmq_close(zap->stop);
        free(zap->allow_dir);
        free(zap);
        return SDX_IO;
    }
    *out = zap;
    return SDX_OK;
fail:
    snprintf(err, err_size, "cannot start the ZAP handler: %s",
             zmq_strerror(errno));
    if (zap->stop)
        zmq_close(zap->stop);
    free(zap->allow_dir);
    free(zap);
    return SDX_IO;
}

void
sdx_zap_counts(const sdx_zap_t *zap, unsigned long *admitted,
               unsigned long *refused)
{
    *admitted = atomic_load(&zap->admitted);
    *refused = atomic_load(&zap->refused) + atomic_load(&zap->failed);
}

void
sdx_zap_stop(sdx_zap_t **zap_p)
{
    if (!zap_p || !*zap_p)
        return;
    sdx_zap_t *zap = *zap_p;
    char cmd = ZAP_CMD_STOP;
    zmq_send(zap->stop, &cmd, 1, 0);
    pthread_join(zap->thread, NULL);
    zmq_close(zap->stop);
    free(zap->allow_dir);
    free(zap);
    *zap_p = NULL;
}
