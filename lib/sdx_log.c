/*
 * sdx_log: formatted one-line log records to stderr.  Each record is
 * built in a local buffer and written with one fputs under stderr's lock,
 * so lines from worker threads never interleave.
 */
#include "sdx_log.h"

#include <stdarg.h>
#include <stdio.h>
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
