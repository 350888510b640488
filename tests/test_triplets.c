/* The private triplet sampler: positives share the anchor's class,
 * negatives do not, an epoch covers every row, balancing alternates. */
#include "dgn.h"
#include "testutil.h"
#include "triplets.h"

enum { N = 10, C = 2 };

START_TEST(classes_and_epochs)
{
    double x[N * C];
    int32_t label[N];
    for (size_t i = 0; i < N; i++) {
        x[i * C] = (double)i;
        x[i * C + 1] = 1;
        label[i] = i < 4;
    }
    const double mean[C] = {0, 0}, std[C] = {1, 1};
    dgn_rng rng;
    dgn_rng_seed(&rng, 3);
    dgn_triplets *tr = NULL;
    ck_assert_int_eq(dgn_triplets_create(&tr, x, label, N, C, mean, std, 0, 0, &rng), DGN_OK);
    ck_assert_int_eq(dgn_triplets_balanced(tr), 0);
    float out[3 * N * C];
    size_t rows[3 * N], seen[N] = {0};
    ck_assert_uint_eq(dgn_triplets_next(tr, out, rows, 4), 4);
    for (size_t k = 0; k < 4; k++)
        seen[rows[k]]++;
    ck_assert_uint_eq(dgn_triplets_next(tr, out, rows, N), N - 4);
    size_t m = N - 4;
    for (size_t k = 0; k < m; k++) {
        seen[rows[k]]++;
        ck_assert_int_eq(label[rows[m + k]], label[rows[k]]);
        ck_assert_int_ne(label[rows[2 * m + k]], label[rows[k]]);
        ck_assert_uint_ne(rows[m + k], rows[k]);
        /* No noise (sigma 0): the features are the row's z-scores. */
        ck_assert_float_eq(out[k * C], (float)rows[k]);
    }
    for (size_t i = 0; i < N; i++)
        ck_assert_uint_eq(seen[i], 1);
    ck_assert_uint_eq(dgn_triplets_next(tr, out, rows, N), 0);
    dgn_triplets_shuffle(tr);
    ck_assert_uint_eq(dgn_triplets_next(tr, out, rows, N), N);
    dgn_triplets_destroy(tr);

    /* Balanced: the anchors' classes alternate. */
    ck_assert_int_eq(dgn_triplets_create(&tr, x, label, N, C, mean, std, 0.05, 1, &rng),
                     DGN_OK);
    ck_assert_int_eq(dgn_triplets_balanced(tr), 1);
    ck_assert_uint_eq(dgn_triplets_next(tr, out, rows, N), N);
    for (size_t k = 1; k < N; k++)
        ck_assert_int_ne(label[rows[k]], label[rows[k - 1]]);
    dgn_triplets_destroy(tr);
    /* AUTO balances when the smaller class is under 20 %. */
    label[1] = label[2] = label[3] = 0;
    ck_assert_int_eq(dgn_triplets_create(&tr, x, label, N, C, mean, std, 0, DGN_BALANCE_AUTO,
                                         &rng), DGN_OK);
    ck_assert_int_eq(dgn_triplets_balanced(tr), 1);
    dgn_triplets_destroy(tr);
    dgn_triplets_destroy(NULL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("triplets");
    TCase *tc = tcase_create("triplets");
    tcase_add_test(tc, classes_and_epochs);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
