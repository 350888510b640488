/* The private CSV reader: quoting, line ends, line numbers, numbers. */
#include <locale.h>

#include "csv.h"
#include "dgn.h"
#include "testutil.h"

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
    suite_add_tcase(s, tc);
    return run_suite(s);
}
