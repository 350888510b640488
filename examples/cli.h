/* Shared by the example programs: failure handling, argument parsing and
 * JSON output. Printing and exiting happen in the programs, never in the
 * library; parsing (args.c) only fills a struct and a message, so that
 * tests/fuzz/fuzz_args.c can call it. */
#ifndef DGN_EXAMPLES_CLI_H
#define DGN_EXAMPLES_CLI_H

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
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

/* ---- parsing ------------------------------------------------------------ */

/* What a parse function returns; CLI_BAD is also the exit status. */
enum { CLI_RUN = 0, CLI_HELP = 1, CLI_BAD = 2 };

#define CLI_MSG 1024
#define CLI_EXCERPT 200

/* One parse: the arguments, the position, and the message on failure
 * (without the program name; main prints "PROGRAM: MSG (see --help)"). */
typedef struct cli_args {
    int argc, i;
    char **argv;
    char msg[CLI_MSG];
    char ex[2][CLI_EXCERPT + 8]; /* shortened values for messages */
} cli_args;

static inline void cli_args_init(cli_args *p, int argc, char **argv)
{
    p->argc = argc;
    p->argv = argv;
    p->i = 1;
    p->msg[0] = '\0';
}

/* A value fit for a message: over CLI_EXCERPT bytes, its first and last
 * parts around "…", so a long argument cannot push the rest out. */
static inline const char *cli_excerpt(cli_args *p, int slot, const char *text)
{
    size_t n = strlen(text), half = CLI_EXCERPT / 2;
    if (n <= CLI_EXCERPT)
        return text;
    char *b = p->ex[slot];
    size_t a = half, z = n - half;
    while (a > 0 && ((unsigned char)text[a] & 0xC0) == 0x80)
        a--;
    while (z < n && ((unsigned char)text[z] & 0xC0) == 0x80)
        z++;
    memcpy(b, text, a);
    memcpy(b + a, "\xe2\x80\xa6", 3);
    memcpy(b + a + 3, text + z, n - z + 1);
    return b;
}

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 2, 3)))
#endif
static inline int cli_bad(cli_args *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->msg, sizeof p->msg, fmt, ap);
    va_end(ap);
    return CLI_BAD;
}

/* The value after the current option, or NULL with the message set. */
static inline const char *cli_next(cli_args *p)
{
    if (p->i + 1 >= p->argc) {
        cli_bad(p, "%s needs a value", p->argv[p->i]);
        return NULL;
    }
    return p->argv[++p->i];
}

/* A finite number. 0 on success, CLI_BAD with the message set. */
static inline int cli_real(cli_args *p, const char *opt, const char *text, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end)
        return cli_bad(p, "%s: \"%s\" is not a number", opt, cli_excerpt(p, 0, text));
    if (!isfinite(v) || (errno == ERANGE && fabs(v) > 1))
        return cli_bad(p, "%s: \"%s\" is not a finite number", opt, cli_excerpt(p, 0, text));
    *out = v;
    return 0;
}

/* A whole number in [min, max], checked before any cast: digits, or a
 * decimal or exponent form with a whole value ("1e8"). The message quotes
 * the value as given. */
static inline int cli_whole(cli_args *p, const char *opt, const char *text, uint64_t min,
                            uint64_t max, uint64_t *out)
{
    const char *s = text + (text[0] == '+' || text[0] == '-');
    int neg = text[0] == '-';
    if (*s < '0' || *s > '9')
        return cli_bad(p, "%s: \"%s\" is not a whole number", opt, cli_excerpt(p, 0, text));
    uint64_t v = 0;
    int over = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            over = 1;
        else
            v = 10 * v + d;
    }
    if (*s) { /* "1e8", "2.5e3"; not hexadecimal */
        if (strspn(s, "0123456789.eE+-") != strlen(s))
            return cli_bad(p, "%s: \"%s\" is not a whole number", opt,
                           cli_excerpt(p, 0, text));
        char *end;
        errno = 0;
        double x = strtod(text, &end);
        if (end == text || *end || x != floor(x) || (errno == ERANGE && fabs(x) < 1) ||
            isnan(x))
            return cli_bad(p, "%s: \"%s\" is not a whole number", opt,
                           cli_excerpt(p, 0, text));
        over = neg ? x != 0 : !(x < 0x1p64);
        v = over ? 0 : (uint64_t)fabs(x);
    } else if (neg && v != 0) {
        over = 1;
    }
    if (over || v < min || v > max)
        return cli_bad(p, "%s %s is outside [%llu, %llu]", opt, cli_excerpt(p, 0, text),
                       (unsigned long long)min, (unsigned long long)max);
    *out = v;
    return 0;
}

/* Exiting forms of the above, for bench/dgn-bench.c; the programs parse
 * with args.c. */
static inline void cli_die(const char *fmt, const char *arg)
{
    fprintf(stderr, "%s: ", cli_program);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see --help)\n");
    exit(2);
}

static inline const char *cli_value(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc)
        cli_die("%s needs a value", argv[*i]);
    return argv[++*i];
}

static inline double cli_double(const char *opt, const char *text)
{
    cli_args p;
    double v = 0;
    if (cli_real(&p, opt, text, &v))
        cli_die("%s", p.msg);
    return v;
}

static inline unsigned long long cli_count(const char *opt, const char *text)
{
    cli_args p;
    uint64_t v = 0;
    if (cli_whole(&p, opt, text, 0, UINT64_MAX, &v))
        cli_die("%s", p.msg);
    return v;
}

/* Library config fields and the flags that set them. */
typedef struct cli_flag {
    const char *field; /* "dataset config: valid_fraction" */
    const char *flag;  /* "--valid-fraction" */
} cli_flag;

/* When msg is a config message for a field in map, write it into p->msg
 * naming the flag instead ("--valid-fraction: 1 is outside [0, 1)") and
 * return CLI_BAD; else 0. */
static inline int cli_map_config(cli_args *p, const char *msg, const cli_flag *map)
{
    for (; map->field; map++) {
        size_t n = strlen(map->field);
        if (!strncmp(msg, map->field, n) && (msg[n] == ':' || msg[n] == ' '))
            return cli_bad(p, "%s:%s", map->flag, msg + n + 1);
    }
    return 0;
}

/* ---- the programs' options ---------------------------------------------- */

#define CLI_MAX_THREADS 1024
/* 3 x batch rows must fit the model's max_batch limit (2^20, lib/model.c). */
#define CLI_MAX_BATCH (((uint64_t)1 << 20) / 3)
#define CLI_MAX_EPOCHS 1000000
#define CLI_MAX_STEPS 1000000000
#define CLI_MAX_TOP ((uint64_t)1 << 24)
#define CLI_MAX_SHARDS ((uint64_t)1 << 32)

typedef struct train_options {
    dgn_dataset_config data;
    dgn_model_config model; /* n_components is set after loading */
    dgn_trainer_config train;
    const char *data_path, *out;
    const char *batch_text; /* as given, for messages after loading */
    size_t threads;         /* the model's threads: the CPUs we may use */
    size_t ensemble;        /* networks trained and saved together: 3 */
    int json;
} train_options;

typedef struct eval_options {
    const char *model_path, *data_path;
    size_t k, threads;
    int json;
} eval_options;

typedef struct screen_options {
    dgn_screener_config screen;
    const char *model_path, *grid, *candidates, *out;
    int json;
} screen_options;

typedef struct paper_options {
    const char *data_path, *property, *csv, *markdown;
    size_t epochs, split_seeds, net_seeds, threads;
    uint64_t seed;
    int quick, wide_only;
} paper_options;

/* Each fills *o from argv (argv[0] is the program) and returns CLI_RUN,
 * CLI_HELP (print the usage, exit 0) or CLI_BAD with p->msg set. They
 * neither print nor exit. */
int train_parse(train_options *o, cli_args *p);
int eval_parse(eval_options *o, cli_args *p);
int screen_parse(screen_options *o, cli_args *p);
int paper_parse(paper_options *o, cli_args *p);

/* After dgn-train's data is loaded: the model config checked for
 * n_components, with --batch or --no-interaction named on failure. */
int train_check_model(train_options *o, cli_args *p, size_t n_components);

extern const char train_usage[], eval_usage[], screen_usage[], paper_usage[];

/* In main, after a parse: print the usage and exit 0, or the message and
 * exit 2, unless r is CLI_RUN. */
#define CLI_EXIT_UNLESS_RUN(r, p, usage)                                     \
    do {                                                                     \
        int cli_r_ = (r);                                                    \
        if (cli_r_ == CLI_HELP) {                                            \
            fputs((usage), stdout);                                          \
            exit(0);                                                         \
        }                                                                    \
        if (cli_r_ != CLI_RUN) {                                             \
            fprintf(stderr, "%s: %s (see --help)\n", cli_program, (p)->msg);  \
            exit(2);                                                         \
        }                                                                    \
        cli_warn_kernels();                                                  \
    } while (0)

/* The validation split must have rows before any epoch (the loader
 * already refuses one with a single class). what names the split in the
 * message; returns 0, or 1 with msg set. */
static inline int cli_check_validation(const dgn_dataset *ds, const char *what, char *msg,
                                       size_t cap)
{
    if (dgn_dataset_n_rows(ds, DGN_SPLIT_VALID) == 0) {
        snprintf(msg, cap, "%s has no rows to validate on (%zu rows dropped for their "
                 "sums, %zu skipped)", what, dgn_dataset_n_dropped(ds),
                 dgn_dataset_n_skipped(ds));
        return 1;
    }
    return 0;
}

/* ---- JSON lines on stdout ------------------------------------------------ */

/* One object per line: json_open, then fields, then json_close. Strings are
 * escaped per RFC 8259 (invalid UTF-8 becomes U+FFFD); non-finite numbers
 * and NULL strings are written as null. */
typedef struct cli_json {
    FILE *f;
    int n; /* fields written in the innermost open object */
    int outer_n;
} cli_json;

static inline void json_string(FILE *f, const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    fputc('"', f);
    while (*u) {
        unsigned c = *u;
        if (c == '"' || c == '\\') {
            fputc('\\', f);
            fputc((int)c, f);
            u++;
        } else if (c < 0x20) {
            fprintf(f, "\\u%04x", c);
            u++;
        } else if (c < 0x80) {
            fputc((int)c, f);
            u++;
        } else {
            /* Well-formed UTF-8 only: no overlong forms, surrogates or
             * values above U+10FFFF. */
            size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
            unsigned lo = 0x80, hi = 0xBF;
            if (c == 0xE0) lo = 0xA0;
            if (c == 0xED) hi = 0x9F;
            if (c == 0xF0) lo = 0x90;
            if (c == 0xF4) hi = 0x8F;
            if (c > 0xF4) len = 0;
            size_t k = 1;
            for (; len && k < len; k++) {
                unsigned b = u[k];
                if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF))
                    break;
            }
            if (len && k == len) {
                fwrite(u, 1, len, f);
                u += len;
            } else {
                fputs("\\ufffd", f);
                u += k ? k : 1;
            }
        }
    }
    fputc('"', f);
}

static inline void json_open(cli_json *j, FILE *f)
{
    j->f = f;
    j->n = 0;
    fputc('{', f);
}

static inline void json_key(cli_json *j, const char *key)
{
    fputs(j->n++ ? ", " : "", j->f);
    json_string(j->f, key);
    fputs(": ", j->f);
}

/* fmt is a printf format for one double ("%.6f", "%.9g"). */
static inline void json_number(cli_json *j, const char *key, const char *fmt, double v)
{
    json_key(j, key);
    if (isfinite(v))
        fprintf(j->f, fmt, v);
    else
        fputs("null", j->f);
}

static inline void json_count(cli_json *j, const char *key, uint64_t v)
{
    json_key(j, key);
    fprintf(j->f, "%llu", (unsigned long long)v);
}

static inline void json_text(cli_json *j, const char *key, const char *s)
{
    json_key(j, key);
    if (s)
        json_string(j->f, s);
    else
        fputs("null", j->f);
}

static inline void json_bool(cli_json *j, const char *key, int v)
{
    json_key(j, key);
    fputs(v ? "true" : "false", j->f);
}

/* A nested object as the value of key; end it with json_end_object. */
static inline void json_begin_object(cli_json *j, const char *key)
{
    json_key(j, key);
    fputc('{', j->f);
    j->outer_n = j->n;
    j->n = 0;
}

static inline void json_end_object(cli_json *j)
{
    fputc('}', j->f);
    j->n = j->outer_n;
}

/* Ends the line and flushes, so a reader sees each line whole. */
static inline void json_close(cli_json *j)
{
    fputs("}\n", j->f);
    fflush(j->f);
}

/* "runtime": what runs libdgn's arithmetic, as dgn_runtime_describe says
 * it, in the summary object of every program's --json output. */
static inline void json_runtime(cli_json *j)
{
    json_begin_object(j, "runtime");
    json_text(j, "libdgn", dgn_version_string());
    json_text(j, "kernels", dgn_kernel_build());
    json_text(j, "cpu_best", dgn_cpu_kernel_build());
    json_text(j, "blas", "none");
    json_end_object(j);
}

/* One warning line when the library runs a slower build than the CPU has,
 * which happens only when it was compiled without its ISA builds. */
static inline void cli_warn_kernels(void)
{
    if (strcmp(dgn_kernel_build(), dgn_cpu_kernel_build()) != 0)
        fprintf(stderr,
                "%s: warning: libdgn runs its %s kernels on a CPU with %s; it was compiled "
                "without ISA dispatch (rebuild it with GCC or clang on x86-64)\n",
                cli_program, dgn_kernel_build(), dgn_cpu_kernel_build());
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
