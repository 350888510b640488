/* Errors, status names, version and the private generator. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>

#include "dgn.h"
#include "error.h"
#include "rng.h"
#include "testutil.h"

START_TEST(last_error_never_null)
{
    ck_assert_ptr_nonnull(dgn_last_error());
    dgn_fail(DGN_E_IO, "x.csv: cannot open: %s", "No such file");
    ck_assert_str_eq(dgn_last_error(), "x.csv: cannot open: No such file");
}
END_TEST

static void *fail_in_thread(void *arg)
{
    (void)arg;
    dgn_fail(DGN_E_FORMAT, "from the other thread");
    return (void *)dgn_last_error();
}

START_TEST(last_error_is_per_thread)
{
    dgn_fail(DGN_E_INVALID, "from the main thread");
    pthread_t t;
    void *other;
    ck_assert_int_eq(pthread_create(&t, NULL, fail_in_thread, NULL), 0);
    ck_assert_int_eq(pthread_join(t, &other), 0);
    ck_assert_str_eq(dgn_last_error(), "from the main thread");
    ck_assert_ptr_ne(other, dgn_last_error());
}
END_TEST

START_TEST(long_messages_are_cut_not_overrun)
{
    char big[4096];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    dgn_fail(DGN_E_GENERIC, "%s", big);
    ck_assert_uint_lt(strlen(dgn_last_error()), sizeof big);
    ck_assert_uint_gt(strlen(dgn_last_error()), 100);
}
END_TEST

/* A value of n bytes: "START", then 'v's, then "END". */
static char *long_value(size_t n)
{
    char *v = malloc(n + 1);
    ck_assert_ptr_nonnull(v);
    memset(v, 'v', n);
    memcpy(v, "START", 5);
    memcpy(v + n - 3, "END", 3);
    v[n] = '\0';
    return v;
}

/* Before: a 1,023-byte buffer kept the start and lost the bad value. */
START_TEST(long_quoted_value_keeps_location_start_and_end)
{
    char *v = long_value(5000);
    dgn_fail(DGN_E_FORMAT, "data.csv:412: column 7 (\"%s\"): \"1,2\" is not a number", v);
    const char *e = dgn_last_error();
    ck_assert_uint_lt(strlen(e), DGN_ERROR_CAP);
    ck_assert_msg(!strncmp(e, "data.csv:412: column 7 (\"START", 30), "start lost: %.80s", e);
    ck_assert_ptr_nonnull(strstr(e, "vvv\xe2\x80\xa6vvv"));
    const char *tail = "END\"): \"1,2\" is not a number";
    ck_assert_uint_gt(strlen(e), strlen(tail));
    ck_assert_str_eq(e + strlen(e) - strlen(tail), tail);
    free(v);
}
END_TEST

START_TEST(long_unquoted_message_keeps_both_ends)
{
    char *v = long_value(9000);
    dgn_fail(DGN_E_IO, "%s: cannot open: No such file", v);
    const char *e = dgn_last_error();
    ck_assert_uint_lt(strlen(e), DGN_ERROR_CAP);
    ck_assert_uint_gt(strlen(e), DGN_ERROR_CAP - 8);
    ck_assert(!strncmp(e, "STARTvvv", 8));
    ck_assert_ptr_nonnull(strstr(e, "\xe2\x80\xa6"));
    const char *tail = "END: cannot open: No such file";
    ck_assert_str_eq(e + strlen(e) - strlen(tail), tail);
    free(v);
}
END_TEST

/* Many long quoted values: each is shortened, all of them stay. */
START_TEST(several_long_quoted_values_all_survive)
{
    char *v = long_value(3000);
    dgn_fail(DGN_E_INVALID, "a \"%s\" b \"%s\" c \"%s\" d", v, v, v);
    const char *e = dgn_last_error();
    ck_assert(!strncmp(e, "a \"START", 8));
    ck_assert_ptr_nonnull(strstr(e, "END\" b \"START"));
    ck_assert_ptr_nonnull(strstr(e, "END\" c \"START"));
    const char *tail = "END\" d";
    ck_assert_str_eq(e + strlen(e) - strlen(tail), tail);
    free(v);
}
END_TEST

/* The same through the CSV loader: a 5,000-byte column name before the
 * bad cell; the line, column and cell survive. */
START_TEST(long_column_name_keeps_the_bad_cell)
{
    char *v = long_value(5000);
    size_t n = strlen(v) + 64;
    char *csv = malloc(n);
    ck_assert_ptr_nonnull(csv);
    snprintf(csv, n, "%s,b,TG\nabc,50,500\n", v);
    char *path = write_temp_str(csv);
    dgn_dataset_config cfg;
    ck_assert_int_eq(dgn_dataset_config_init(&cfg, DGN_DATASET_CONFIG_VERSION), DGN_OK);
    cfg.lo = 400;
    cfg.hi = 600;
    dgn_dataset *ds = NULL;
    ck_assert_int_eq(dgn_dataset_load_csv(&ds, path, &cfg), DGN_E_FORMAT);
    const char *e = dgn_last_error();
    ck_assert_msg(!strncmp(e, path, strlen(path)), "no path: %.80s", e);
    ck_assert_error_has(":2: column 1 (\"START", "END\"): \"abc\" is not a number");
    remove_temp(path);
    free(csv);
    free(v);
}
END_TEST

START_TEST(status_names)
{
    ck_assert_str_eq(dgn_status_str(DGN_OK), "DGN_OK");
    ck_assert_str_eq(dgn_status_str(DGN_E_GENERIC), "DGN_E_GENERIC");
    ck_assert_str_eq(dgn_status_str(DGN_E_INVALID), "DGN_E_INVALID");
    ck_assert_str_eq(dgn_status_str(DGN_E_NOMEM), "DGN_E_NOMEM");
    ck_assert_str_eq(dgn_status_str(DGN_E_IO), "DGN_E_IO");
    ck_assert_str_eq(dgn_status_str(DGN_E_FORMAT), "DGN_E_FORMAT");
    ck_assert_str_eq(dgn_status_str(DGN_E_SHAPE), "DGN_E_SHAPE");
    ck_assert_str_eq(dgn_status_str(DGN_E_NONFINITE), "DGN_E_NONFINITE");
    ck_assert_str_eq(dgn_status_str(DGN_E_DATA), "DGN_E_DATA");
    ck_assert_str_eq(dgn_status_str((dgn_status)999), "DGN_E_UNKNOWN");
}
END_TEST

START_TEST(version_agrees_with_header)
{
    char expect[64];
    snprintf(expect, sizeof expect, "%d.%d.%d", DGN_VERSION_MAJOR,
             DGN_VERSION_MINOR, DGN_VERSION_PATCH);
    ck_assert_str_eq(dgn_version_string(), expect);
    ck_assert_str_eq(dgn_version_string(), DGN_VERSION_STRING);
    ck_assert_uint_eq(dgn_version_number(), DGN_VERSION_NUMBER);
}
END_TEST

START_TEST(rng_same_seed_same_stream)
{
    dgn_rng a, b, c;
    dgn_rng_seed(&a, 7);
    dgn_rng_seed(&b, 7);
    dgn_rng_seed(&c, 8);
    int differs = 0;
    for (int i = 0; i < 100; i++) {
        uint64_t va = dgn_rng_next(&a);
        ck_assert_uint_eq(va, dgn_rng_next(&b));
        differs |= va != dgn_rng_next(&c);
    }
    ck_assert(differs);
}
END_TEST

START_TEST(rng_distributions)
{
    dgn_rng r;
    dgn_rng_seed(&r, 1);
    const int n = 200000;
    double s = 0, s2 = 0, lag = 0, prev = 0;
    size_t hist[5] = {0};
    for (int i = 0; i < n; i++) {
        double u = dgn_rng_uniform(&r);
        ck_assert(u >= 0 && u < 1);
        double z = dgn_rng_normal(&r);
        s += z;
        s2 += z * z;
        lag += z * prev; /* calls pair up: a draw's two deviates */
        prev = z;
        hist[dgn_rng_below(&r, 5)]++;
    }
    double mean = s / n, var = s2 / n - mean * mean;
    /* Standard errors: 1/sqrt(n) = 0.0022 for the mean, ~0.003 for var. */
    ck_assert_double_lt(fabs(mean), 0.011);
    ck_assert_double_lt(fabs(var - 1), 0.016);
    ck_assert_double_lt(fabs(lag / n), 0.011);
    for (int k = 0; k < 5; k++)
        ck_assert_double_lt(fabs((double)hist[k] / n - 0.2), 0.005);
}
END_TEST

START_TEST(rng_shuffle_is_permutation)
{
    dgn_rng r;
    dgn_rng_seed(&r, 3);
    size_t idx[50], seen[50] = {0};
    for (size_t i = 0; i < 50; i++)
        idx[i] = i;
    dgn_rng_shuffle(&r, idx, 50);
    int moved = 0;
    for (size_t i = 0; i < 50; i++) {
        seen[idx[i]]++;
        moved |= idx[i] != i;
    }
    for (size_t i = 0; i < 50; i++)
        ck_assert_uint_eq(seen[i], 1);
    ck_assert(moved);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("common");
    TCase *tc = tcase_create("errors");
    tcase_add_test(tc, last_error_never_null);
    tcase_add_test(tc, last_error_is_per_thread);
    tcase_add_test(tc, long_messages_are_cut_not_overrun);
    tcase_add_test(tc, long_quoted_value_keeps_location_start_and_end);
    tcase_add_test(tc, long_unquoted_message_keeps_both_ends);
    tcase_add_test(tc, several_long_quoted_values_all_survive);
    tcase_add_test(tc, long_column_name_keeps_the_bad_cell);
    tcase_add_test(tc, status_names);
    tcase_add_test(tc, version_agrees_with_header);
    suite_add_tcase(s, tc);
    tc = tcase_create("rng");
    tcase_add_test(tc, rng_same_seed_same_stream);
    tcase_add_test(tc, rng_distributions);
    tcase_add_test(tc, rng_shuffle_is_permutation);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
