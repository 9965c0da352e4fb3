/*
 * sdx_log: formatted one-line log records to stderr.  Each record is
 * built in a local buffer and written with one fputs under stderr's lock,
 * so lines from worker threads never interleave.
 */
#include "sdx_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static const char *log_program = "specdex";        /* name in each line */
static sdx_log_level_t log_max_level = SDX_LOG_INFO; /* most verbose shown */

void
sdx_log_init(const char *program, sdx_log_level_t max_level)
{
    log_program = program;
    log_max_level = max_level;
}

void
sdx_log(sdx_log_level_t level, const char *fmt, ...)
{
    static const char letters[] = "EWID";
    char line[1024];
    if (level > log_max_level)
        return;
    int n = snprintf(line, sizeof line, "%s[%ld]: %c: ", log_program,
                     (long)getpid(), letters[level]);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof line)
        vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s\n", line);
}

bool
sdx_log_allowed(sdx_log_limit_t *lim)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    long long now = (long long)ts.tv_sec;
    if (!lim->window_start || now - lim->window_start >= lim->window_s) {
        if (lim->suppressed)
            sdx_log(SDX_LOG_WARN, "%lu more %s lines in the last %u s "
                    "not logged", lim->suppressed, lim->what,
                    lim->window_s);
        lim->window_start = now ? now : 1;
        lim->logged = 0;
        lim->suppressed = 0;
    }
    if (lim->logged < lim->burst) {
        lim->logged++;
        return true;
    }
    lim->suppressed++;
    return false;
}
