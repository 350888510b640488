/* AUC against a brute-force pairwise count (ties included), Precision@k,
 * ROC points. */
#include <math.h>
#include <stdlib.h>

#include "dgn.h"
#include "testutil.h"

/* Eq. 13 with ties as 1/2, over every positive-negative pair. */
static double brute_auc(const float *s, const int32_t *y, size_t n)
{
    double wins = 0, pairs = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            if (y[i] && !y[j]) {
                pairs++;
                wins += s[i] > s[j] ? 1.0 : s[i] == s[j] ? 0.5 : 0.0;
            }
    return wins / pairs;
}

START_TEST(auc_matches_pairwise_count)
{
    unsigned st = 1;
    for (int trial = 0; trial < 50; trial++) {
        size_t n = 2 + (size_t)(trial * 37 % 300);
        float *s = malloc(n * sizeof *s);
        int32_t *y = malloc(n * sizeof *y);
        for (size_t i = 0; i < n; i++) {
            st = st * 1103515245u + 12345u;
            /* Few distinct values, so ties are common. */
            s[i] = (float)((st >> 16) % (trial % 2 ? 7 : 1000));
            y[i] = (int32_t)((st >> 8) % 3 == 0);
        }
        y[0] = 1;
        y[1] = 0;
        double auc;
        ck_assert_int_eq(dgn_auc(&auc, s, y, n), DGN_OK);
        ck_assert_double_eq_tol(auc, brute_auc(s, y, n), 1e-12);
        free(s);
        free(y);
    }
}
END_TEST

START_TEST(auc_edge_cases)
{
    const float s[] = {0.9f, 0.8f, 0.8f, 0.1f};
    const int32_t y[] = {1, 1, 0, 0};
    double auc;
    ck_assert_int_eq(dgn_auc(&auc, s, y, 4), DGN_OK);
    ck_assert_double_eq_tol(auc, (1 + 1 + 0.5 + 1) / 4.0, 1e-12);
    const float same[] = {1, 1, 1};
    const int32_t y3[] = {1, 0, 1};
    ck_assert_int_eq(dgn_auc(&auc, same, y3, 3), DGN_OK);
    ck_assert_double_eq(auc, 0.5);
    const int32_t ones[] = {1, 1, 1};
    ck_assert_int_eq(dgn_auc(&auc, same, ones, 3), DGN_E_DATA);
    const float bad[] = {1, NAN, 0};
    ck_assert_int_eq(dgn_auc(&auc, bad, y3, 3), DGN_E_NONFINITE);
    ck_assert_error_has("score 1");
}
END_TEST

START_TEST(precision_at_k)
{
    const float s[] = {0.1f, 0.9f, 0.5f, 0.5f, 0.7f};
    const int32_t y[] = {1, 1, 0, 1, 0};
    double p;
    ck_assert_int_eq(dgn_precision_at_k(&p, s, y, 5, 1), DGN_OK);
    ck_assert_double_eq(p, 1.0);
    ck_assert_int_eq(dgn_precision_at_k(&p, s, y, 5, 2), DGN_OK);
    ck_assert_double_eq(p, 0.5);
    /* Rows 2 and 3 tie at 0.5: the lower index (2, a negative) ranks first. */
    ck_assert_int_eq(dgn_precision_at_k(&p, s, y, 5, 3), DGN_OK);
    ck_assert_double_eq_tol(p, 1.0 / 3, 1e-12);
    ck_assert_int_eq(dgn_precision_at_k(&p, s, y, 5, 100), DGN_OK);
    ck_assert_double_eq_tol(p, 3.0 / 5, 1e-12);
    ck_assert_int_eq(dgn_precision_at_k(&p, s, y, 5, 0), DGN_E_INVALID);
}
END_TEST

START_TEST(roc_points)
{
    const float s[] = {0.9f, 0.8f, 0.8f, 0.1f};
    const int32_t y[] = {1, 1, 0, 0};
    float fpr[5], tpr[5];
    size_t m;
    ck_assert_int_eq(dgn_roc_curve(fpr, tpr, 5, &m, s, y, 4), DGN_OK);
    ck_assert_uint_eq(m, 4);
    const float ef[] = {0, 0, 0.5f, 1}, et[] = {0, 0.5f, 1, 1};
    double area = 0;
    for (size_t i = 0; i < m; i++) {
        ck_assert_float_eq(fpr[i], ef[i]);
        ck_assert_float_eq(tpr[i], et[i]);
        if (i)
            area += (fpr[i] - fpr[i - 1]) * (tpr[i] + tpr[i - 1]) / 2;
    }
    double auc;
    dgn_auc(&auc, s, y, 4);
    ck_assert_double_eq_tol(area, auc, 1e-7); /* trapezoids are the AUC */
    ck_assert_int_eq(dgn_roc_curve(fpr, tpr, 4, &m, s, y, 4), DGN_E_SHAPE);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("ranking");
    tcase_add_test(tc, auc_matches_pairwise_count);
    tcase_add_test(tc, auc_edge_cases);
    tcase_add_test(tc, precision_at_k);
    tcase_add_test(tc, roc_points);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
