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
