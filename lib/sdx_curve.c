/*
 * sdx_curve: reading and writing CURVE key files.  Keys are checked to be
 * 40 characters of Z85 and to decode, so a truncated or mangled key is an
 * error naming its file and line, not a handshake that silently fails.
 */
#define _DEFAULT_SOURCE /* explicit_bzero */
#include "sdx_curve.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zmq.h>

/* Copy a "name = "value"" line's quoted value into KEY if NAME matches. */
static bool
parse_line(const char *line, const char *name, sdx_curve_key_t *key,
           bool *bad)
{
    size_t n = strlen(name);
    const char *p = line;
    while (*p == ' ' || *p == '\t')
        p++;
    if (strncmp(p, name, n) != 0)
        return false;
    p += n;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p++ != '=')
        return false;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p++ != '"')
        goto bad;
    const char *end = strchr(p, '"');
    uint8_t raw[32];
    if (!end || end - p != SDX_CURVE_KEY_LEN)
        goto bad;
    memcpy(key->z85, p, SDX_CURVE_KEY_LEN);
    key->z85[SDX_CURVE_KEY_LEN] = '\0';
    if (!zmq_z85_decode(raw, key->z85))
        goto bad;
    return true;
bad:
    *bad = true;
    return true;
}

sdx_status_t
sdx_curve_read(const char *path, sdx_curve_key_t *public_key,
               sdx_curve_key_t *secret_key, char *err, size_t err_size)
{
    char line[512];
    unsigned lineno = 0;
    struct stat st;
    sdx_status_t status = SDX_OK;
    public_key->z85[0] = '\0';
    if (secret_key)
        secret_key->z85[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
        return SDX_IO;
    }
    while (fgets(line, sizeof line, f)) {
        bool bad = false;
        lineno++;
        if (line[0] == '#')
            continue;
        if (parse_line(line, "public-key", public_key, &bad) ||
            (secret_key && parse_line(line, "secret-key", secret_key,
                                      &bad))) {
            if (bad) {
                snprintf(err, err_size, "%s:%u: a key must be 40 Z85 "
                         "characters in double quotes", path, lineno);
                status = SDX_BAD_INPUT;
                break;
            }
        }
    }
    if (status == SDX_OK && secret_key && secret_key->z85[0] &&
        fstat(fileno(f), &st) == 0 && (st.st_mode & 077)) {
        snprintf(err, err_size, "%s: a secret key must not be readable by "
                 "others (chmod 600 it)", path);
        status = SDX_BAD_INPUT;
    }
    fclose(f);
    if (status == SDX_OK && !public_key->z85[0]) {
        snprintf(err, err_size, "%s: no public-key line", path);
        status = SDX_BAD_INPUT;
    } else if (status == SDX_OK && secret_key && !secret_key->z85[0]) {
        snprintf(err, err_size, "%s: no secret-key line (is this the "
                 ".key_secret file?)", path);
        status = SDX_BAD_INPUT;
    }
    return status;
}

/* Write TEXT to a new file PATH with MODE; fails if PATH exists. */
static sdx_status_t
write_new(const char *path, mode_t mode, const char *text, char *err,
          size_t err_size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
    size_t len = strlen(text);
    if (fd < 0) {
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
        return SDX_IO;
    }
    if (write(fd, text, len) != (ssize_t)len || fsync(fd) != 0) {
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
        close(fd);
        unlink(path);
        return SDX_IO;
    }
    close(fd);
    return SDX_OK;
}

sdx_status_t
sdx_curve_keygen(const char *base, char *err, size_t err_size)
{
    char pub[SDX_CURVE_KEY_LEN + 1], sec[SDX_CURVE_KEY_LEN + 1];
    char path[4096], text[512];
    sdx_status_t st;
    if (!zmq_has("curve")) {
        snprintf(err, err_size, "this libzmq was built without CURVE");
        return SDX_UNAVAILABLE;
    }
    if (zmq_curve_keypair(pub, sec) != 0) {
        snprintf(err, err_size, "cannot make a keypair: %s",
                 zmq_strerror(errno));
        return SDX_IO;
    }
    if ((size_t)snprintf(path, sizeof path, "%s.key_secret", base)
            >= sizeof path) {
        snprintf(err, err_size, "key file name too long");
        return SDX_BAD_INPUT;
    }
    snprintf(text, sizeof text,
             "# specdex CURVE secret key: keep it private (mode 600).\n"
             "public-key = \"%s\"\nsecret-key = \"%s\"\n", pub, sec);
    st = write_new(path, 0600, text, err, err_size);
    explicit_bzero(sec, sizeof sec);
    explicit_bzero(text, sizeof text);
    if (st != SDX_OK)
        return st;
    snprintf(path, sizeof path, "%s.key", base);
    snprintf(text, sizeof text,
             "# specdex CURVE public key: give it to the other side.\n"
             "public-key = \"%s\"\n", pub);
    st = write_new(path, 0644, text, err, err_size);
    if (st != SDX_OK) {
        snprintf(path, sizeof path, "%s.key_secret", base);
        unlink(path);
    }
    return st;
}
