/* Helpers shared by the Check suites. */
#ifndef DGN_TESTUTIL_H
#define DGN_TESTUTIL_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Write len bytes to a fresh temporary file; returns its malloc'd path. */
static inline char *write_temp(const char *data, size_t len)
{
    char *path = strdup("/tmp/dgn-test-XXXXXX.csv");
    ck_assert_ptr_nonnull(path);
    int fd = mkstemps(path, 4);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
    return path;
}

static inline char *write_temp_str(const char *text)
{
    return write_temp(text, strlen(text));
}

static inline void remove_temp(char *path)
{
    unlink(path);
    free(path);
}

/* Assert that the last error message contains each of the fragments. */
#define ck_assert_error_has(...)                                              \
    do {                                                                      \
        const char *frags_[] = {__VA_ARGS__};                                 \
        for (size_t i_ = 0; i_ < sizeof frags_ / sizeof *frags_; i_++)        \
            ck_assert_msg(strstr(dgn_last_error(), frags_[i_]) != NULL,       \
                          "error \"%s\" lacks \"%s\"", dgn_last_error(),      \
                          frags_[i_]);                                        \
    } while (0)

/* The toy problem of the trainer, centre, context and concurrency suites:
 * n compositions of c components x [n][c], each share 0.05 plus a uniform
 * draw from the generator state `state`, scaled so that a row sums to
 * `total` (1: fractions, 100: percent), and y[i] = y_per_share times the
 * first component's fraction. Deterministic. */
static inline void toy_compositions(double *x, double *y, int n, int c, unsigned state,
                                    double total, double y_per_share)
{
    for (int i = 0; i < n; i++) {
        double s = 0;
        for (int j = 0; j < c; j++) {
            state = state * 1664525u + 1013904223u;
            s += x[i * c + j] = 0.05 + (double)(state >> 8) / 16777216.0;
        }
        for (int j = 0; j < c; j++)
            x[i * c + j] /= s;
        y[i] = y_per_share * x[i * c];
        for (int j = 0; j < c && total != 1; j++)
            x[i * c + j] *= total;
    }
}

/* Run one suite and return the process exit code. */
static inline int run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
