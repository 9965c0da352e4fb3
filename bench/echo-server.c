/*
 * echo-server: the transport floor.  A ROUTER socket that answers every
 * request with a msgpack reply of a fixed size and does no other work,
 * so specdex-load measures what ZeroMQ and msgpack alone cost: the
 * daemon's latency can only approach this, never beat it.
 *
 * Like specdexd it reads the envelope (identity, delimiter), unpacks the
 * request frame (msgpack-c) and packs a reply map {v, ok, took_us, pad}
 * whose size is --reply-bytes (the daemon's mean reply size, measured by
 * the same load generator), and sends the envelope back in front of it.
 * Unlike specdexd it has one thread and no broker: the floor of the
 * transport, not of a design.
 *
 * Usage: echo-server --endpoint EP [--reply-bytes N]
 * Stops on SIGTERM or SIGINT (zmq_msg_recv fails with EINTR).
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>
#include <zmq.h>

#include "sdx_msgpack.h"

#define FRAMES_MAX 8            /* frames in one request, at most */
#define REPLY_MAX (1 << 20)     /* --reply-bytes upper bound */

static volatile sig_atomic_t stopping;

static void
s_on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

/*
 * Pack the reply into SB: a map of v, ok, took_us and a pad string that
 * brings the whole to about BYTES.  PAD holds at least BYTES bytes.
 */
static void
s_pack_reply(msgpack_sbuffer *sb, size_t bytes, const char *pad)
{
    msgpack_packer pk;
    msgpack_sbuffer_clear(sb);
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 4);
    sdx_msgpack_pack_str(&pk, "v");
    msgpack_pack_int(&pk, 1);
    sdx_msgpack_pack_str(&pk, "ok");
    msgpack_pack_true(&pk);
    sdx_msgpack_pack_str(&pk, "took_us");
    msgpack_pack_int(&pk, 0);
    sdx_msgpack_pack_str(&pk, "pad");
    size_t head = sb->size + 5;  /* the pad's own str header, at most */
    size_t n = bytes > head ? bytes - head : 0; /* PAD is not a string */
    msgpack_pack_str(&pk, n);
    msgpack_pack_str_body(&pk, pad, n);
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"endpoint", required_argument, NULL, 'e'},
        {"reply-bytes", required_argument, NULL, 'b'},
        {NULL, 0, NULL, 0},
    };
    const char *endpoint = NULL;
    long bytes = 2048;
    int c, rc = 1;
    void *ctx = NULL, *sock = NULL;
    char *pad = NULL;
    zmq_msg_t frames[FRAMES_MAX];
    size_t nframes = 0;
    msgpack_sbuffer sb;
    msgpack_unpacked up;

    bool bad = false;
    /* stop at the first unknown option: moving optind past argc from
       inside the loop made getopt spin at 100 % CPU (`--help`) */
    while (!bad && (c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == 'e')
            endpoint = optarg;
        else if (c == 'b')
            bytes = strtol(optarg, NULL, 10);
        else
            bad = true;
    }
    if (bad || !endpoint || optind < argc || bytes < 0 || bytes > REPLY_MAX) {
        fprintf(stderr, "usage: echo-server --endpoint EP "
                "[--reply-bytes N (0..%d)]\n", REPLY_MAX);
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    msgpack_sbuffer_init(&sb);
    msgpack_unpacked_init(&up);
    if (!(pad = malloc((size_t)bytes + 1)))
        goto cleanup;
    memset(pad, 'x', (size_t)bytes);
    if (!(ctx = zmq_ctx_new()) || !(sock = zmq_socket(ctx, ZMQ_ROUTER))) {
        fprintf(stderr, "echo-server: zmq: %s\n", zmq_strerror(zmq_errno()));
        goto cleanup;
    }
    int linger = 0;
    if (zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger) ||
        zmq_bind(sock, endpoint)) {
        fprintf(stderr, "echo-server: bind %s: %s\n", endpoint,
                zmq_strerror(zmq_errno()));
        goto cleanup;
    }
    while (!stopping) {
        /* one message: envelope frames, then the request */
        int more = 1;
        nframes = 0;
        while (more) {
            zmq_msg_t *m = &frames[nframes < FRAMES_MAX ? nframes
                                                         : FRAMES_MAX - 1];
            if (nframes >= FRAMES_MAX)
                zmq_msg_close(m);  /* too many: keep overwriting the last */
            if (zmq_msg_init(m) != 0 || zmq_msg_recv(m, sock, 0) < 0) {
                int e = zmq_errno();
                zmq_msg_close(m);
                if (e == EINTR || e == ETERM) {
                    rc = 0;
                    goto cleanup;
                }
                fprintf(stderr, "echo-server: zmq_msg_recv: %s\n",
                        zmq_strerror(e));
                goto cleanup;
            }
            more = zmq_msg_more(m);
            if (nframes < FRAMES_MAX)
                nframes++;
        }
        /* the work a server must do at least: read the request */
        zmq_msg_t *req = &frames[nframes - 1];
        msgpack_unpack_return ur =
            msgpack_unpack_next(&up, zmq_msg_data(req), zmq_msg_size(req),
                                NULL);
        bool bad = ur != MSGPACK_UNPACK_SUCCESS ||
                   up.data.type != MSGPACK_OBJECT_MAP;
        s_pack_reply(&sb, bad ? 0 : (size_t)bytes, pad);
        for (size_t i = 0; i + 1 < nframes; i++) {
            if (zmq_msg_send(&frames[i], sock, ZMQ_SNDMORE) < 0) {
                fprintf(stderr, "echo-server: zmq_msg_send: %s\n",
                        zmq_strerror(zmq_errno()));
                goto cleanup;
            }
        }
        if (zmq_send(sock, sb.data, sb.size, 0) < 0) {
            fprintf(stderr, "echo-server: zmq_send: %s\n",
                    zmq_strerror(zmq_errno()));
            goto cleanup;
        }
        zmq_msg_close(req);
        nframes = 0;
    }
    rc = 0;
cleanup:
    for (size_t i = 0; i < nframes; i++)
        zmq_msg_close(&frames[i]);
    if (sock && zmq_close(sock))
        fprintf(stderr, "echo-server: zmq_close: %s\n",
                zmq_strerror(zmq_errno()));
    if (ctx && zmq_ctx_term(ctx))
        fprintf(stderr, "echo-server: zmq_ctx_term: %s\n",
                zmq_strerror(zmq_errno()));
    msgpack_unpacked_destroy(&up);
    msgpack_sbuffer_destroy(&sb);
    free(pad);
    return rc;
}
