/* The private CSV reader: quoting, line ends, line numbers, numbers. */
#include <fcntl.h>
#include <locale.h>
#include <sys/stat.h>
#include <time.h>

#include "csv.h"
#include "dgn.h"
#include "testutil.h"

/* CPU seconds the linear-time checks may take (quadratic ones took 22 s
 * for 100,000 names); sanitizers run several times slower. */
#if defined(__SANITIZE_ADDRESS__)
#define TIME_LIMIT 10.0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TIME_LIMIT 10.0
#endif
#endif
#ifndef TIME_LIMIT
#define TIME_LIMIT 2.0
#endif

static dgn_csv open_text(const char *text)
{
    dgn_csv r;
    ck_assert_int_eq(dgn_csv_open_buffer(&r, "t.csv", text, strlen(text)), DGN_OK);
    return r;
}

static void next_ok(dgn_csv *r, size_t n_fields, size_t line)
{
    int got;
    ck_assert_int_eq(dgn_csv_next(r, &got), DGN_OK);
    ck_assert_int_eq(got, 1);
    ck_assert_uint_eq(r->n_field, n_fields);
    ck_assert_uint_eq(r->record_line, line);
}

static void at_end(dgn_csv *r)
{
    int got;
    ck_assert_int_eq(dgn_csv_next(r, &got), DGN_OK);
    ck_assert_int_eq(got, 0);
}

START_TEST(plain_lf_and_missing_final_newline)
{
    dgn_csv r = open_text("a,b\n1,2\n3,4");
    next_ok(&r, 2, 1);
    ck_assert_str_eq(r.field[0], "a");
    next_ok(&r, 2, 2);
    next_ok(&r, 2, 3);
    ck_assert_str_eq(r.field[1], "4");
    at_end(&r);
    dgn_csv_close(&r);
}
END_TEST

START_TEST(bom_crlf_and_blank_lines)
{
    dgn_csv r = open_text("\xEF\xBB\xBF" "a,b\r\n\r\n1,2\r\n\n3,4\r\n");
    next_ok(&r, 2, 1);
    ck_assert_str_eq(r.field[0], "a");
    ck_assert_str_eq(r.field[1], "b");
    next_ok(&r, 2, 3);
    ck_assert_str_eq(r.field[1], "2");
    next_ok(&r, 2, 5);
    ck_assert_str_eq(r.field[1], "4");
    at_end(&r);
    dgn_csv_close(&r);
}
END_TEST

START_TEST(quoted_fields)
{
    dgn_csv r = open_text("\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\",\"\"\n5,6,7,8\n");
    next_ok(&r, 4, 1);
    ck_assert_str_eq(r.field[0], "x, y");
    ck_assert_str_eq(r.field[1], "say \"hi\"");
    ck_assert_str_eq(r.field[2], "two\nlines");
    ck_assert_str_eq(r.field[3], "");
    /* The quoted newline moved the next record to line 3. */
    next_ok(&r, 4, 3);
    dgn_csv_close(&r);
}
END_TEST

START_TEST(empty_fields)
{
    dgn_csv r = open_text(",a,\n");
    next_ok(&r, 3, 1);
    ck_assert_str_eq(r.field[0], "");
    ck_assert_str_eq(r.field[1], "a");
    ck_assert_str_eq(r.field[2], "");
    dgn_csv_close(&r);
}
END_TEST

START_TEST(unterminated_quote)
{
    dgn_csv r = open_text("a,b\n1,\"2\n3,4\n");
    next_ok(&r, 2, 1);
    int got;
    ck_assert_int_eq(dgn_csv_next(&r, &got), DGN_E_FORMAT);
    ck_assert_error_has("t.csv:2:", "column 2", "never closed");
    dgn_csv_close(&r);
}
END_TEST

START_TEST(text_after_closing_quote)
{
    dgn_csv r = open_text("\"a\"b,c\n");
    int got;
    ck_assert_int_eq(dgn_csv_next(&r, &got), DGN_E_FORMAT);
    ck_assert_error_has("t.csv:1:", "column 1", "after a closing quote");
    dgn_csv_close(&r);
}
END_TEST

START_TEST(nul_byte_rejected)
{
    dgn_csv r;
    ck_assert_int_eq(dgn_csv_open_buffer(&r, "t.csv", "a,b\n1,\0002\n", 9), DGN_E_FORMAT);
    ck_assert_error_has("t.csv:2:", "NUL");
    dgn_csv_close(&r);
}
END_TEST

START_TEST(numbers)
{
    dgn_csv r = open_text("");
    double v = 0;
    ck_assert_int_eq(dgn_csv_parse_number(&r, " 12.5 ", &v), DGN_CSV_NUMBER);
    ck_assert_double_eq(v, 12.5);
    ck_assert_int_eq(dgn_csv_parse_number(&r, "1e-3", &v), DGN_CSV_NUMBER);
    ck_assert_double_eq(v, 1e-3);
    ck_assert_int_eq(dgn_csv_parse_number(&r, "1e-400", &v), DGN_CSV_NUMBER);
    ck_assert_int_eq(dgn_csv_parse_number(&r, "   ", &v), DGN_CSV_EMPTY);
    ck_assert_int_eq(dgn_csv_parse_number(&r, "1,2", &v), DGN_CSV_NOT_NUMBER);
    ck_assert_int_eq(dgn_csv_parse_number(&r, "12abc", &v), DGN_CSV_NOT_NUMBER);
    ck_assert_int_eq(dgn_csv_parse_number(&r, "nan", &v), DGN_CSV_NONFINITE);
    ck_assert_int_eq(dgn_csv_parse_number(&r, "-inf", &v), DGN_CSV_NONFINITE);
    ck_assert_int_eq(dgn_csv_parse_number(&r, "1e999", &v), DGN_CSV_NONFINITE);
    dgn_csv_close(&r);
}
END_TEST

START_TEST(numbers_ignore_process_locale)
{
    /* In de_DE, strtod stops at the '.'; CI generates the locale. */
    ck_assert_ptr_nonnull(setlocale(LC_NUMERIC, "de_DE.UTF-8"));
    dgn_csv r = open_text("");
    double v = 0;
    ck_assert_int_eq(dgn_csv_parse_number(&r, "0.25", &v), DGN_CSV_NUMBER);
    ck_assert_double_eq(v, 0.25);
    ck_assert_int_eq(dgn_csv_parse_number(&r, "0,25", &v), DGN_CSV_NOT_NUMBER);
    dgn_csv_close(&r);
    setlocale(LC_NUMERIC, "C");
}
END_TEST

START_TEST(missing_file)
{
    dgn_csv r;
    ck_assert_int_eq(dgn_csv_open_file(&r, "/nonexistent/dir/x.csv"), DGN_E_IO);
    ck_assert_error_has("/nonexistent/dir/x.csv", "cannot open");
    dgn_csv_close(&r);
}
END_TEST

START_TEST(cr_only_line_ends)
{
    /* Old Mac files: a CR alone ends a line, here and in quoted fields. */
    dgn_csv r = open_text("a,b\r1,2\r\r\"x\ry\",4\r5,6");
    next_ok(&r, 2, 1);
    ck_assert_str_eq(r.field[1], "b");
    next_ok(&r, 2, 2);
    ck_assert_str_eq(r.field[1], "2");
    next_ok(&r, 2, 4);
    ck_assert_str_eq(r.field[0], "x\ry");
    next_ok(&r, 2, 6);
    ck_assert_str_eq(r.field[1], "6");
    at_end(&r);
    dgn_csv_close(&r);
    /* Mixed line ends, each counted once. */
    r = open_text("a\r\nb\nc\rd");
    next_ok(&r, 1, 1);
    next_ok(&r, 1, 2);
    next_ok(&r, 1, 3);
    next_ok(&r, 1, 4);
    ck_assert_str_eq(r.field[0], "d");
    at_end(&r);
    dgn_csv_close(&r);
}
END_TEST

START_TEST(bom_inside_the_file_is_named)
{
    dgn_csv r = open_text("\xEF\xBB\xBF" "a,b\n1,2\n\xEF\xBB\xBF" "a,b\n");
    next_ok(&r, 2, 1);
    next_ok(&r, 2, 2);
    int got;
    ck_assert_int_eq(dgn_csv_next(&r, &got), DGN_E_FORMAT);
    ck_assert_error_has("t.csv:3:", "column 1", "U+FEFF byte-order mark inside the file");
    dgn_csv_close(&r);
    r = open_text("a,b\n1,\"2\xEF\xBB\xBF\"\n");
    next_ok(&r, 2, 1);
    ck_assert_int_eq(dgn_csv_next(&r, &got), DGN_E_FORMAT);
    ck_assert_error_has("t.csv:2:", "column 2", "U+FEFF");
    dgn_csv_close(&r);
}
END_TEST

static void header_check_fails(const char *text, const char *fragment)
{
    dgn_csv r = open_text(text);
    int got;
    ck_assert_int_eq(dgn_csv_next(&r, &got), DGN_OK);
    ck_assert_int_eq(dgn_csv_check_header(&r, 0, 0), DGN_E_FORMAT);
    ck_assert_error_has(fragment);
    dgn_csv_close(&r);
}

START_TEST(header_names_compare_trimmed)
{
    header_check_fails("a,b,a\n", "t.csv:1: columns 1 and 3 are both named \"a\"");
    header_check_fails("SiO2,b, SiO2 \n",
                       "columns 1 (\"SiO2\") and 3 (\" SiO2 \") are both named \"SiO2\"");
    header_check_fails("\"W% SiO2\",\"W% SiO2\t\"\n", "both named \"W% SiO2\"");
    header_check_fails("a,  ,b\n", "t.csv:1: column 2 has an empty name");
    dgn_csv r = open_text(",a,,b\n");
    int got;
    ck_assert_int_eq(dgn_csv_next(&r, &got), DGN_OK);
    ck_assert_int_eq(dgn_csv_check_header(&r, 1, 1), DGN_OK);
    ck_assert_int_eq(dgn_csv_check_header(&r, 1, 0), DGN_E_FORMAT);
    dgn_csv_close(&r);
    /* Lookups ignore the same white space. */
    const char *names[] = {" W% SiO2 ", "Al2O3\t"};
    size_t idx = 9;
    ck_assert_int_eq(dgn_find_name(names, 0, 2, "W% SiO2", "t", "component", "column", &idx),
                     DGN_OK);
    ck_assert_uint_eq(idx, 0);
    ck_assert_int_eq(dgn_find_name(names, 0, 2, "SiO2 ", "t", "component", "column", &idx),
                     DGN_OK);
    ck_assert_uint_eq(idx, 0);
    ck_assert_int_eq(dgn_find_name(names, 0, 2, "Al2O3", "t", "component", "column", &idx),
                     DGN_OK);
    ck_assert_uint_eq(idx, 1);
}
END_TEST

START_TEST(huge_header_checks_in_linear_time)
{
    /* 200,000 columns with the repeat at the end: the pairwise check took
     * 22 s for 100,000. */
    enum { N = 200000 };
    size_t cap = (size_t)N * 12, len = 0;
    char *text = malloc(cap);
    for (int i = 0; i < N; i++)
        len += (size_t)snprintf(text + len, cap - len, "c%d,", i + 1);
    len += (size_t)snprintf(text + len, cap - len, " c%d\n", N / 2);
    dgn_csv r;
    ck_assert_int_eq(dgn_csv_open_buffer(&r, "t.csv", text, len), DGN_OK);
    free(text);
    int got;
    ck_assert_int_eq(dgn_csv_next(&r, &got), DGN_OK);
    ck_assert_uint_eq(r.n_field, N + 1);
    struct timespec t0, t1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
    ck_assert_int_eq(dgn_csv_check_header(&r, 0, 0), DGN_E_FORMAT);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
    ck_assert_error_has("columns 100000 (\"c100000\") and 200001 (\" c100000\")");
    double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    ck_assert_msg(secs < TIME_LIMIT, "200,000 names checked in %.2f s", secs);
    dgn_csv_close(&r);
}
END_TEST

static void refused(const char *path, const char *kind)
{
    dgn_csv r;
    ck_assert_int_eq(dgn_csv_open_file(&r, path), DGN_E_IO);
    ck_assert_error_has(path, kind, "not a regular file");
    dgn_csv_close(&r);
}

START_TEST(only_regular_files_are_read)
{
    /* /dev/zero used to be read until malloc failed (2.1 GB). */
    refused("/dev/zero", "is a character device");
    refused("/tmp", "is a directory");
    /* A FIFO without a writer: refused at once, not waited on (the test
     * times out if open blocks). */
    char dir[] = "/tmp/dgn-fifo-XXXXXX", path[64];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/f.csv", dir);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    refused(path, "is a FIFO");
    unlink(path);
    rmdir(dir);
}
END_TEST

START_TEST(size_cap)
{
    /* By the size it reports: a sparse file one byte over, never read. */
    char *path = write_temp_str("");
    ck_assert_int_eq(truncate(path, (off_t)DGN_CSV_MAX_BYTES + 1), 0);
    dgn_csv r;
    ck_assert_int_eq(dgn_csv_open_file(&r, path), DGN_E_IO);
    ck_assert_error_has(path, "1073741825 bytes, above the 1073741824-byte limit for a table");
    dgn_csv_close(&r);
    remove_temp(path);
    /* While reading: /proc files report size 0. */
    ck_assert_int_eq(dgn_csv_open_file_capped(&r, "/proc/self/status", 100), DGN_E_IO);
    ck_assert_error_has("/proc/self/status", "grew past the 100-byte limit");
    dgn_csv_close(&r);
    ck_assert_int_eq(dgn_csv_open_file_capped(&r, "/proc/self/status", 1 << 20), DGN_OK);
    ck_assert_uint_gt(r.len, 100);
    dgn_csv_close(&r);
    /* Exactly at the cap is allowed. */
    path = write_temp_str("a,b\n1,2\n");
    ck_assert_int_eq(dgn_csv_open_file_capped(&r, path, 8), DGN_OK);
    dgn_csv_close(&r);
    ck_assert_int_eq(dgn_csv_open_file_capped(&r, path, 7), DGN_E_IO);
    dgn_csv_close(&r);
    remove_temp(path);
}
END_TEST

START_TEST(name_index_matches_linear_lookup)
{
    const char *names[] = {"", "W% SiO2", " W% Al2O3", "X SiO2", "B2O3 ", "W% Na2O", "Na2O"};
    dgn_names ix;
    ck_assert_int_eq(dgn_names_build(&ix, names, 1, 7), DGN_OK);
    const char *queries[] = {"W% SiO2", "SiO2", "Al2O3", " W% Al2O3 ", "B2O3", "W% B2O3",
                             "Na2O", "W% Na2O", "Fe2O3", "Q Na2O"};
    for (size_t q = 0; q < sizeof queries / sizeof *queries; q++) {
        size_t a = 99, b = 99;
        dgn_status sa = dgn_find_name(names, 1, 7, queries[q], "t", "component", "column", &a);
        char ea[512];
        snprintf(ea, sizeof ea, "%s", dgn_last_error());
        dgn_status sb = dgn_names_find(&ix, queries[q], "t", "component", "column", &b);
        ck_assert_msg(sa == sb && a == b, "%s: %d/%zu vs %d/%zu", queries[q], sa, a, sb, b);
        if (sa != DGN_OK)
            ck_assert_str_eq(ea, dgn_last_error());
    }
    dgn_names_free(&ix);

    /* 200,000 names, each looked up: linear in all. */
    enum { N = 200000 };
    char **many = malloc(N * sizeof *many);
    for (int i = 0; i < N; i++) {
        many[i] = malloc(16);
        snprintf(many[i], 16, "W%% c%d", i);
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
    ck_assert_int_eq(dgn_names_build(&ix, (const char *const *)many, 0, N), DGN_OK);
    for (int i = 0; i < N; i += 1) {
        char q[16];
        snprintf(q, sizeof q, "c%d", i);
        size_t idx;
        ck_assert_int_eq(dgn_names_find(&ix, q, "t", "component", "column", &idx), DGN_OK);
        ck_assert_uint_eq(idx, (size_t)i);
    }
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    ck_assert_msg(secs < TIME_LIMIT, "200,000 lookups in %.2f s", secs);
    dgn_names_free(&ix);
    for (int i = 0; i < N; i++)
        free(many[i]);
    free(many);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("csv");
    TCase *tc = tcase_create("reader");
    tcase_add_test(tc, plain_lf_and_missing_final_newline);
    tcase_add_test(tc, bom_crlf_and_blank_lines);
    tcase_add_test(tc, quoted_fields);
    tcase_add_test(tc, empty_fields);
    tcase_add_test(tc, unterminated_quote);
    tcase_add_test(tc, text_after_closing_quote);
    tcase_add_test(tc, nul_byte_rejected);
    tcase_add_test(tc, numbers);
    tcase_add_test(tc, numbers_ignore_process_locale);
    tcase_add_test(tc, missing_file);
    tcase_add_test(tc, cr_only_line_ends);
    tcase_add_test(tc, bom_inside_the_file_is_named);
    tcase_add_test(tc, header_names_compare_trimmed);
    tcase_add_test(tc, huge_header_checks_in_linear_time);
    tcase_add_test(tc, only_regular_files_are_read);
    tcase_add_test(tc, size_cap);
    tcase_add_test(tc, name_index_matches_linear_lookup);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
