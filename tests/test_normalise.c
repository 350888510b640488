/* The private z-scores: population statistics, a constant column. */
#include <math.h>

#include "dgn.h"
#include "normalise.h"
#include "testutil.h"

START_TEST(population_statistics)
{
    const double x[] = {1, 5, 3, 5, 5, 5}; /* 3 rows, 2 columns */
    double mean[2], std[2];
    dgn_zscore_fit(x, 3, 2, mean, std);
    ck_assert_double_eq_tol(mean[0], 3, 1e-15);
    ck_assert_double_eq_tol(std[0], sqrt(8.0 / 3), 1e-15); /* divided by n, not n − 1 */
    ck_assert_double_eq(mean[1], 5);
    ck_assert_double_eq(std[1], 1); /* constant: z-score 0 */
    float z[6];
    dgn_zscore_rows(z, x, 3, 2, mean, std);
    ck_assert_float_eq_tol(z[0], (float)(-2 / sqrt(8.0 / 3)), 1e-6f);
    ck_assert_float_eq(z[5], 0);
    dgn_zscore_rows(z, x, 3, 2, NULL, NULL);
    ck_assert_float_eq(z[2], 3);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("normalise");
    TCase *tc = tcase_create("zscore");
    tcase_add_test(tc, population_statistics);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
