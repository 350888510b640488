/* The thread's last error: per thread, shortened not overrun; status names;
 * the config-version check. */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>

#include "dgn.h"
#include "error.h"
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

/* A thread that has not failed sees "", not another thread's message. */
static void *read_in_fresh_thread(void *arg)
{
    (void)arg;
    return (void *)(strcmp(dgn_last_error(), "") == 0 ? "empty" : dgn_last_error());
}

START_TEST(fresh_thread_has_empty_message)
{
    dgn_fail(DGN_E_INVALID, "from the main thread");
    pthread_t t;
    void *got;
    ck_assert_int_eq(pthread_create(&t, NULL, read_in_fresh_thread, NULL), 0);
    ck_assert_int_eq(pthread_join(t, &got), 0);
    ck_assert_str_eq((const char *)got, "empty");
}
END_TEST

START_TEST(fail_returns_its_status)
{
    static const dgn_status all[] = {DGN_E_GENERIC, DGN_E_INVALID, DGN_E_NOMEM, DGN_E_IO,
                                     DGN_E_FORMAT, DGN_E_SHAPE, DGN_E_NONFINITE, DGN_E_DATA};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
        ck_assert_int_eq(dgn_fail(all[i], "case %zu", i), all[i]);
        char expect[32];
        snprintf(expect, sizeof expect, "case %zu", i);
        ck_assert_str_eq(dgn_last_error(), expect);
    }
    ck_assert_int_eq(dgn_fail_nomem("optimizer state"), DGN_E_NOMEM);
    ck_assert_str_eq(dgn_last_error(), "out of memory allocating optimizer state");
}
END_TEST

/* n bytes of 'x' then "END", NUL-terminated. */
static char *plain(size_t n)
{
    char *v = malloc(n + 4);
    ck_assert_ptr_nonnull(v);
    memset(v, 'x', n);
    memcpy(v + n, "END", 4);
    return v;
}

/* The cap is exact: DGN_ERROR_CAP - 1 bytes are kept whole, one more is
 * shortened (to at most the cap, ending as it ended). */
START_TEST(cut_starts_at_the_cap)
{
    char *v = plain(DGN_ERROR_CAP - 1 - 3);
    dgn_fail(DGN_E_GENERIC, "%s", v);
    ck_assert_uint_eq(strlen(dgn_last_error()), DGN_ERROR_CAP - 1);
    ck_assert_str_eq(dgn_last_error(), v);
    free(v);
    v = plain(DGN_ERROR_CAP - 3);
    dgn_fail(DGN_E_GENERIC, "%s", v);
    const char *e = dgn_last_error();
    ck_assert_uint_le(strlen(e), DGN_ERROR_CAP - 1);
    ck_assert_ptr_nonnull(strstr(e, "\xe2\x80\xa6"));
    ck_assert_str_eq(e + strlen(e) - 4, "xEND");
    free(v);
}
END_TEST

/* A quoted value of 512 bytes stays whole in a long message; one of 513
 * keeps 160 bytes either side of "…". */
START_TEST(quoted_value_limit_is_512)
{
    char *pad = plain(DGN_ERROR_CAP); /* forces the shortening pass */
    char *v = plain(512 - 3);
    dgn_fail(DGN_E_FORMAT, "\"%s\" %s", v, pad);
    char expect[600];
    snprintf(expect, sizeof expect, "\"%s\"", v);
    ck_assert(!strncmp(dgn_last_error(), expect, strlen(expect)));
    free(v);
    v = plain(513 - 3);
    dgn_fail(DGN_E_FORMAT, "\"%s\" %s", v, pad);
    const char *e = dgn_last_error();
    ck_assert_uint_eq(strspn(e + 1, "x"), 160);
    ck_assert(!strncmp(e + 161, "\xe2\x80\xa6", 3));
    /* 157 'x's and "END" are the value's last 160 bytes. */
    ck_assert_uint_eq(strspn(e + 164, "x"), 157);
    ck_assert(!strncmp(e + 164 + 157, "END\" ", 5));
    free(v);
    free(pad);
}
END_TEST

/* Shortening never splits a UTF-8 character (€ is 3 bytes: two cut
 * points in three fall inside one). */
START_TEST(cuts_keep_utf8_whole)
{
    size_t n = 3 * DGN_ERROR_CAP;
    char *v = malloc(3 * n + 1);
    ck_assert_ptr_nonnull(v);
    for (size_t i = 0; i < n; i++)
        memcpy(v + 3 * i, "\xe2\x82\xac", 3);
    v[3 * n] = '\0';
    for (int quoted = 0; quoted < 2; quoted++) {
        dgn_fail(DGN_E_FORMAT, quoted ? "a \"%s\" b" : "a %s b", v);
        const unsigned char *e = (const unsigned char *)dgn_last_error();
        size_t len = strlen((const char *)e);
        ck_assert_uint_lt(len, DGN_ERROR_CAP);
        for (size_t i = 0; i < len;) {
            size_t w = e[i] < 0x80 ? 1 : (e[i] & 0xE0) == 0xC0 ? 2 : (e[i] & 0xF0) == 0xE0 ? 3 : 0;
            ck_assert_msg(w > 0 && i + w <= len, "bad lead byte at %zu", i);
            for (size_t j = 1; j < w; j++)
                ck_assert_msg((e[i + j] & 0xC0) == 0x80, "split character at %zu", i);
            i += w;
        }
    }
    free(v);
}
END_TEST

/* A config of this shape: the version first, then the fields. */
typedef struct thing_config {
    unsigned int version;
    int a, b;
} thing_config;

START_TEST(config_init_checks_then_fills)
{
    static const thing_config defaults = {0, 7, 9};
    thing_config cfg = {0, -1, -1};
    ck_assert_int_eq(dgn_config_init(NULL, 1, 1, "dgn_thing_config_init", &defaults,
                                     sizeof defaults), DGN_E_INVALID);
    ck_assert_error_has("dgn_thing_config_init", "NULL");
    ck_assert_int_eq(dgn_config_init(&cfg, 3, 3, "dgn_thing_config_init", &defaults,
                                     sizeof defaults), DGN_OK);
    ck_assert_uint_eq(cfg.version, 3);
    ck_assert_int_eq(cfg.a, 7);
    ck_assert_int_eq(cfg.b, 9);
    /* An older, smaller struct: only its bytes are written. */
    cfg = (thing_config){0, -1, -1};
    ck_assert_int_eq(dgn_config_init(&cfg, 1, 3, "dgn_thing_config_init", &defaults,
                                     offsetof(thing_config, b)), DGN_OK);
    ck_assert_uint_eq(cfg.version, 1);
    ck_assert_int_eq(cfg.a, 7);
    ck_assert_int_eq(cfg.b, -1);
    /* A version newer than the library's is refused, naming both, and
     * nothing is written. */
    cfg = (thing_config){0, -1, -1};
    ck_assert_int_eq(dgn_config_init(&cfg, 4, 3, "dgn_thing_config_init", &defaults,
                                     sizeof defaults), DGN_E_INVALID);
    ck_assert_error_has("dgn_thing_config_init", "4", "3");
    ck_assert_int_eq(cfg.a, -1);
    ck_assert_int_eq(dgn_config_init(&cfg, 0, 3, "dgn_thing_config_init", &defaults,
                                     sizeof defaults), DGN_E_INVALID);
}
END_TEST

START_TEST(config_validate_prologue)
{
    thing_config cfg = {2, 0, 0};
    ck_assert_int_eq(dgn_check_config_version(NULL, 2, "thing", 0), DGN_E_INVALID);
    ck_assert_str_eq(dgn_last_error(), "thing config is NULL");
    ck_assert_int_eq(dgn_check_config_version(&cfg, 2, "thing", 1), DGN_OK);
    cfg.version = 3;
    ck_assert_int_eq(dgn_check_config_version(&cfg, 2, "thing", 1), DGN_E_INVALID);
    ck_assert_str_eq(dgn_last_error(), "thing config: version: 3 is not a known version (use "
                     "dgn_thing_config_init with DGN_THING_CONFIG_VERSION)");
    cfg.version = 0;
    ck_assert_int_eq(dgn_check_config_version(&cfg, 2, "thing", 0), DGN_E_INVALID);
    ck_assert_str_eq(dgn_last_error(), "thing config: version: 0 is not a known version");
}
END_TEST

/* Stands for a handle's create: out cleared, then the config checked. */
static int validated;
static dgn_status validate_thing(int ok)
{
    validated++;
    return ok ? DGN_OK : dgn_fail(DGN_E_INVALID, "thing config: bad");
}

START_TEST(create_checks_and_free_all)
{
    int x = 0, *out = &x, **no_out = NULL, **pout = &out;
    validated = 0;
    ck_assert_int_eq(DGN_CREATE_CHECKS(no_out, 1, "f: out is NULL", validate_thing(1)),
                     DGN_E_INVALID);
    ck_assert_str_eq(dgn_last_error(), "f: out is NULL");
    ck_assert_int_eq(DGN_CREATE_CHECKS(pout, 0, "f: NULL argument", validate_thing(1)),
                     DGN_E_INVALID);
    ck_assert_str_eq(dgn_last_error(), "f: NULL argument");
    ck_assert_int_eq(validated, 0); /* not reached */
    ck_assert_ptr_eq(out, &x);
    ck_assert_int_eq(DGN_CREATE_CHECKS(pout, 1, "f", validate_thing(0)), DGN_E_INVALID);
    ck_assert_ptr_null(out);
    ck_assert_int_eq(validated, 1);
    out = &x;
    ck_assert_int_eq(DGN_CREATE_CHECKS(pout, 1, "f", validate_thing(1)), DGN_OK);
    ck_assert_ptr_null(out);

    /* Under AddressSanitizer (the sanitizer run) a missed or double free
     * shows; here, that NULL entries are fine. */
    char *a = malloc(3), *b = NULL;
    float *c = malloc(5 * sizeof *c);
    DGN_FREE_ALL(a, b, c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("error");
    TCase *tc = tcase_create("errors");
    tcase_add_test(tc, last_error_never_null);
    tcase_add_test(tc, last_error_is_per_thread);
    tcase_add_test(tc, long_messages_are_cut_not_overrun);
    tcase_add_test(tc, long_quoted_value_keeps_location_start_and_end);
    tcase_add_test(tc, long_unquoted_message_keeps_both_ends);
    tcase_add_test(tc, several_long_quoted_values_all_survive);
    tcase_add_test(tc, long_column_name_keeps_the_bad_cell);
    tcase_add_test(tc, status_names);
    tcase_add_test(tc, fresh_thread_has_empty_message);
    tcase_add_test(tc, fail_returns_its_status);
    tcase_add_test(tc, cut_starts_at_the_cap);
    tcase_add_test(tc, quoted_value_limit_is_512);
    tcase_add_test(tc, cuts_keep_utf8_whole);
    tcase_add_test(tc, config_init_checks_then_fills);
    tcase_add_test(tc, config_validate_prologue);
    tcase_add_test(tc, create_checks_and_free_all);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
