/*
 * replay_main: a main() for the fuzz harnesses that needs no libFuzzer,
 * so the seed corpora (and every crash ever found, added to them) are
 * replayed by `make test` with any compiler, and under ASan/UBSan in the
 * sanitizer build.  Linked with one harness; each argument is a file, or
 * a directory whose files (sorted by name, hidden ones skipped, not
 * recursive) are each handed to LLVMFuzzerTestOneInput() once.
 *
 * Each input is read into a buffer of exactly its size, as libFuzzer
 * does, so a harness reading past the end is caught by ASan.  A harness
 * that finds a broken contract aborts; the replay then fails with the
 * input's name printed just before.  An argument that cannot be read, or
 * a directory with no inputs, fails the run too: a test that replays
 * nothing must not pass.
 */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_INPUT (64 * 1024 * 1024) /* largest input replayed, bytes */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Replay one file.  Returns 0, or -1 (with a message) when unreadable. */
static int
replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || st.st_size > MAX_INPUT) {
        fprintf(stderr, "replay: %s: unreadable or over %d bytes\n", path,
                MAX_INPUT);
        fclose(f);
        return -1;
    }
    size_t size = (size_t)st.st_size;
    /* malloc(0) may return NULL; a harness still gets a valid pointer */
    uint8_t *data = malloc(size ? size : 1);
    if (!data || fread(data, 1, size, f) != size) {
        fprintf(stderr, "replay: %s: read failed\n", path);
        free(data);
        fclose(f);
        return -1;
    }
    fclose(f);
    fprintf(stderr, "replay: %s (%zu bytes)\n", path, size);
    LLVMFuzzerTestOneInput(data, size);
    free(data);
    return 0;
}

static int
skip_hidden(const struct dirent *e)
{
    return e->d_name[0] != '.';
}

/* Replay each file of DIR; *COUNT grows by their number. */
static int
replay_dir(const char *dir, size_t *count)
{
    struct dirent **names;
    int n = scandir(dir, &names, skip_hidden, alphasort);
    int rc = 0;
    if (n < 0) {
        fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    for (int i = 0; i < n; i++) {
        size_t len = strlen(dir) + strlen(names[i]->d_name) + 2;
        char *path = malloc(len);
        struct stat st;
        if (!path) {
            rc = -1;
        } else {
            snprintf(path, len, "%s/%s", dir, names[i]->d_name);
            if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
                if (replay_file(path) == 0)
                    ++*count;
                else
                    rc = -1;
            }
        }
        free(path);
        free(names[i]);
    }
    free(names);
    return rc;
}

int
main(int argc, char **argv)
{
    int rc = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE-OR-DIR...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        struct stat st;
        size_t count = 0;
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            if (replay_dir(argv[i], &count) != 0)
                rc = 1;
        } else if (replay_file(argv[i]) == 0) {
            count = 1;
        } else {
            rc = 1;
        }
        if (count == 0) {
            fprintf(stderr, "replay: %s: no inputs\n", argv[i]);
            rc = 1;
        }
        printf("replay: %s: %zu inputs\n", argv[i], count);
    }
    return rc;
}
