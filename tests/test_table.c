/* The private table reader shared by the dataset and the screener:
 * columns, the index column, units from every row, the sum window. */
#include <math.h>

#include "dgn.h"
#include "table.h"
#include "testutil.h"

static const dgn_table_spec all_columns = {0};

START_TEST(units_are_decided_from_every_row)
{
    /* A percent row first, fraction rows after: refused, both named. */
    char *path = write_temp_str("a,b,T\n60,40,550\n0.5,0.5,450\n0.7,0.3,500\n");
    dgn_table t;
    ck_assert_int_eq(dgn_table_read_csv(&t, path, &all_columns), DGN_OK);
    ck_assert_uint_eq(t.n, 3);
    ck_assert_int_eq(dgn_table_clean(&t, DGN_UNITS_AUTO, 0.95, 1.05), DGN_E_FORMAT);
    ck_assert_error_has("mixes fractions and percents", ":3 sums to 1", ":2 sums to 100");
    dgn_table_free(&t);
    remove_temp(path);

    /* Only the last row tells the units: percents, the others dropped. */
    path = write_temp_str("a,b,T\n5,3,550\n10,10,450\n70,30,500\n");
    ck_assert_int_eq(dgn_table_read_csv(&t, path, &all_columns), DGN_OK);
    ck_assert_int_eq(dgn_table_clean(&t, DGN_UNITS_AUTO, 0.95, 1.05), DGN_OK);
    ck_assert_int_eq(t.units, DGN_UNITS_PERCENT);
    ck_assert_uint_eq(t.n, 1);
    ck_assert_uint_eq(t.n_dropped, 2);
    ck_assert_uint_eq(t.first_dropped, 2);
    ck_assert_double_eq_tol(t.first_dropped_sum, 0.08, 1e-12);
    ck_assert_uint_eq(t.record[0], 2);
    ck_assert_double_eq(t.x[0], 70);
    dgn_table_convert(&t, DGN_UNITS_FRACTION);
    ck_assert_double_eq(t.x[0], 70 * 0.01);
    ck_assert_int_eq(t.units, DGN_UNITS_PERCENT);
    dgn_table_free(&t);
    remove_temp(path);

    /* No row near 1 or 100. */
    path = write_temp_str("a,b,T\n5,3,550\n");
    ck_assert_int_eq(dgn_table_read_csv(&t, path, &all_columns), DGN_OK);
    ck_assert_int_eq(dgn_table_clean(&t, DGN_UNITS_AUTO, 0.95, 1.05), DGN_E_DATA);
    ck_assert_error_has("cannot tell the units", ":2 sums to 8");
    dgn_table_free(&t);
    remove_temp(path);
}
END_TEST

START_TEST(index_column_and_named_components)
{
    /* pandas' unnamed index is skipped; a property-less table by names,
     * in the caller's order, extra and unnamed columns allowed. */
    char *path = write_temp_str(",b,note,a,\n0,0.4,x,0.6,\n1,0.3,y,0.7,z\n");
    const char *names[] = {"a", "b"};
    dgn_table_spec spec = {.no_property = 1, .components = names, .n_components = 2,
                           .allow_unnamed = 1};
    dgn_table t;
    ck_assert_msg(dgn_table_read_csv(&t, path, &spec) == DGN_OK, "%s", dgn_last_error());
    ck_assert_uint_eq(t.n_comp, 2);
    ck_assert_str_eq(t.comp_name[0], "a");
    ck_assert_ptr_null(t.property_name);
    ck_assert_double_eq(t.x[0], 0.6);
    ck_assert_double_eq(t.x[3], 0.3);
    ck_assert_uint_eq(t.where[1], 3);
    dgn_table_free(&t);
    /* Without allow_unnamed the empty name is refused. */
    spec.allow_unnamed = 0;
    ck_assert_int_eq(dgn_table_read_csv(&t, path, &spec), DGN_E_FORMAT);
    remove_temp(path);

    /* Every column but the index and the property (the last). */
    path = write_temp_str(",a,b,T\n0,60,40,550\n");
    ck_assert_int_eq(dgn_table_read_csv(&t, path, &all_columns), DGN_OK);
    ck_assert_uint_eq(t.n_comp, 2);
    ck_assert_str_eq(t.comp_name[1], "b");
    ck_assert_str_eq(t.property_name, "T");
    ck_assert_double_eq(t.y[0], 550);
    dgn_table_free(&t);
    remove_temp(path);
}
END_TEST

START_TEST(bad_cells_and_skipped_rows)
{
    char *path = write_temp_str("a,b,T\n60,40,550\n60,-1,450\n60,40\n70,30,500\n");
    dgn_table t;
    ck_assert_int_eq(dgn_table_read_csv(&t, path, &all_columns), DGN_E_FORMAT);
    ck_assert_error_has(":3:", "column 2 (\"b\")", "\"-1\" is negative");
    dgn_table_spec skip = {.skip_bad_rows = 1};
    ck_assert_int_eq(dgn_table_read_csv(&t, path, &skip), DGN_OK);
    ck_assert_uint_eq(t.n, 2);
    ck_assert_uint_eq(t.n_skipped, 2);
    /* Data rows count the skipped ones. */
    ck_assert_uint_eq(t.record[1], 3);
    ck_assert_uint_eq(t.where[1], 5);
    dgn_table_free(&t);
    remove_temp(path);

    path = write_temp_str("a,b,T\n");
    ck_assert_int_eq(dgn_table_read_csv(&t, path, &all_columns), DGN_E_FORMAT);
    ck_assert_error_has(":1: header row but no data rows");
    remove_temp(path);
}
END_TEST

START_TEST(arrays_follow_the_same_rules)
{
    /* A negative proportion is the caller's error here, a file's there. */
    const double x[] = {0.6, 0.4, 0.5, -0.5, 60, 40};
    const double y[] = {550, 450, 500};
    dgn_table t;
    ck_assert_int_eq(dgn_table_from_arrays(&t, x, y, 3, 2, NULL, NULL, 0), DGN_E_INVALID);
    ck_assert_error_has("row 2, component 2 (\"c2\")", "negative");
    ck_assert_int_eq(dgn_table_from_arrays(&t, x, y, 3, 2, NULL, NULL, 1), DGN_OK);
    ck_assert_uint_eq(t.n, 2);
    ck_assert_uint_eq(t.n_skipped, 1);
    ck_assert_str_eq(t.property_name, "property");
    ck_assert_int_eq(dgn_table_clean(&t, DGN_UNITS_AUTO, 0.95, 1.05), DGN_E_FORMAT);
    ck_assert_error_has("the data mixes fractions and percents", "row 1 sums to 1",
                        "row 3 sums to 100");
    dgn_table_free(&t);
    const double bad[] = {0.5, NAN};
    ck_assert_int_eq(dgn_table_from_arrays(&t, bad, y, 1, 2, NULL, NULL, 0), DGN_E_NONFINITE);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("table");
    TCase *tc = tcase_create("table");
    tcase_add_test(tc, units_are_decided_from_every_row);
    tcase_add_test(tc, index_column_and_named_components);
    tcase_add_test(tc, bad_cells_and_skipped_rows);
    tcase_add_test(tc, arrays_follow_the_same_rules);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
