/* Shared by the example programs: failure handling and argument parsing.
 * Printing and exiting happen here, never in the library. */
#ifndef DGN_EXAMPLES_CLI_H
#define DGN_EXAMPLES_CLI_H

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dgn.h>

extern const char *cli_program;

/* Exit with the library's message when a call fails. */
#define CHECK(call)                                                          \
    do {                                                                     \
        dgn_status check_status_ = (call);                                   \
        if (check_status_ != DGN_OK) {                                       \
            fprintf(stderr, "%s: %s\n", cli_program, dgn_last_error());      \
            exit(1);                                                         \
        }                                                                    \
    } while (0)

/* One-line usage error naming the argument, then exit 2. */
static inline void cli_die(const char *fmt, const char *arg)
{
    fprintf(stderr, "%s: ", cli_program);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see --help)\n");
    exit(2);
}

/* The value after option argv[*i]. */
static inline const char *cli_value(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc)
        cli_die("%s needs a value", argv[*i]);
    return argv[++*i];
}

static inline double cli_double(const char *opt, const char *text)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end || errno || !isfinite(v)) {
        fprintf(stderr, "%s: %s: \"%s\" is not a number (see --help)\n", cli_program, opt, text);
        exit(2);
    }
    return v;
}

static inline unsigned long long cli_count(const char *opt, const char *text)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (end == text || *end || errno || text[0] == '-') {
        fprintf(stderr, "%s: %s: \"%s\" is not a whole number (see --help)\n", cli_program,
                opt, text);
        exit(2);
    }
    return v;
}

/* Refuse, before any work, an output path the library would not write (a
 * device, FIFO, directory, missing directory) or that is the same file as
 * one of the inputs: a bad argument, exit 2. */
static inline void cli_output(const char *flag, const char *path, const char *const *inputs,
                              size_t n_inputs)
{
    /* Past `ulimit -f` a write then fails with EFBIG and a message, and the
     * old file stays, instead of the signal killing the program. */
    signal(SIGXFSZ, SIG_IGN);
    if (dgn_output_check(path, inputs, n_inputs) != DGN_OK) {
        fprintf(stderr, "%s: %s: %s\n", cli_program, flag, dgn_last_error());
        exit(2);
    }
}

#endif
