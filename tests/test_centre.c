/* The centre score through the model as it is (lib/centre.c): features in
 * chunks, the class and contrast centres as means of those features,
 * scores as inner products with the centre, a split's AUC and
 * Precision@k of those scores, and the errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_count.h"
#include "dgn.h"
#include "model_internal.h"
#include "testutil.h"

enum { C = 4, K = 8 };

/* Target: the first component's share in [0.3, 0.6]. */
static dgn_dataset *toy_data(uint64_t seed)
{
    enum { N = 300 };
    static double x[N * C], y[N];
    toy_compositions(x, y, N, C, 5, 1, 1000);
    dgn_dataset_config cfg;
    dgn_dataset_config_init(&cfg, DGN_DATASET_CONFIG_VERSION);
    cfg.lo = 300;
    cfg.hi = 600;
    cfg.seed = seed;
    cfg.test_fraction = 0.2;
    dgn_dataset *ds = NULL;
    ck_assert_msg(dgn_dataset_from_arrays(&ds, x, y, N, C, NULL, "T", &cfg) == DGN_OK, "%s",
                  dgn_last_error());
    return ds;
}

static dgn_model *toy_model(size_t max_batch)
{
    dgn_model_config cfg;
    dgn_model_config_init(&cfg, DGN_MODEL_CONFIG_VERSION);
    cfg.n_components = C;
    cfg.embed_dim = 8;
    cfg.hidden = 32;
    cfg.out_dim = K;
    cfg.max_batch = max_batch;
    dgn_model *m = NULL;
    ck_assert_int_eq(dgn_model_create(&m, &cfg), DGN_OK);
    return m;
}

/* A split's z-scored rows and labels, malloc'd. */
typedef struct rows {
    size_t n;
    float *x;
    int32_t *y;
} rows;

static rows split_rows(const dgn_dataset *ds, dgn_split split)
{
    rows r = {dgn_dataset_n_rows(ds, split), NULL, NULL};
    ck_assert_uint_gt(r.n, 0);
    r.x = malloc(r.n * C * sizeof *r.x);
    r.y = malloc(r.n * sizeof *r.y);
    ck_assert(r.x && r.y);
    ck_assert_int_eq(dgn_dataset_features(ds, split, DGN_VIEW_ZSCORE, r.x, r.n * C), DGN_OK);
    ck_assert_int_eq(dgn_dataset_labels(ds, split, r.y, r.n), DGN_OK);
    return r;
}

static void free_rows(rows r)
{
    free(r.x);
    free(r.y);
}

/* Features of all rows, through dgn_model_encode in evaluation mode. */
static float *encode(dgn_model *m, rows r)
{
    float *f = malloc(r.n * K * sizeof *f);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(dgn_model_set_training(m, 0), DGN_OK);
    ck_assert_msg(dgn_model_encode(m, f, r.n * K, r.x, r.n) == DGN_OK, "%s", dgn_last_error());
    return f;
}

START_TEST(encode_in_chunks_is_one_batch)
{
    dgn_dataset *ds = toy_data(3);
    rows r = split_rows(ds, DGN_SPLIT_TRAIN);
    /* The same weights with a batch of 7 (many chunks and a short last
     * one) and a batch that holds every row. */
    dgn_model *small = toy_model(7), *big = toy_model(r.n);
    float *state = malloc(dgn_model_state_floats(small) * sizeof *state);
    ck_assert_ptr_nonnull(state);
    ck_assert_uint_eq(dgn_model_state_floats(small), dgn_model_state_floats(big));
    dgn_model_snapshot(small, state);
    dgn_model_restore(big, state);
    float *fs = encode(small, r), *fb = malloc(r.n * K * sizeof *fb);
    ck_assert_ptr_nonnull(fb);
    ck_assert_int_eq(dgn_model_set_training(big, 0), DGN_OK);
    ck_assert_int_eq(dgn_model_forward(big, fb, r.n * K, r.x, r.n), DGN_OK);
    for (size_t i = 0; i < r.n * K; i++)
        ck_assert_msg(fabsf(fs[i] - fb[i]) <= 1e-5f * (1 + fabsf(fb[i])),
                      "f[%zu][%zu]: %.9g in chunks, %.9g in one batch", i / K, i % K,
                      (double)fs[i], (double)fb[i]);

    /* Capacity and NULL. */
    ck_assert_int_eq(dgn_model_encode(small, fs, r.n * K - 1, r.x, r.n), DGN_E_SHAPE);
    ck_assert_error_has("dgn_model_encode", "capacity");
    ck_assert_int_eq(dgn_model_encode(NULL, fs, r.n * K, r.x, r.n), DGN_E_INVALID);
    ck_assert_int_eq(dgn_model_encode(small, NULL, r.n * K, r.x, r.n), DGN_E_INVALID);
    ck_assert_int_eq(dgn_model_encode(small, fs, r.n * K, NULL, r.n), DGN_E_INVALID);
    ck_assert_error_has("dgn_model_encode", "NULL");
    free(state), free(fs), free(fb);
    free_rows(r);
    dgn_model_destroy(small);
    dgn_model_destroy(big);
    dgn_dataset_destroy(ds);
}
END_TEST

/* dgn_class_centre is the targets' mean feature; dgn_contrast_centre that
 * minus the other rows' mean, its target part with the same bits. */
START_TEST(centres_are_means_of_the_training_features)
{
    dgn_dataset *ds = toy_data(4);
    dgn_model *m = toy_model(96);
    rows r = split_rows(ds, DGN_SPLIT_TRAIN);
    float *f = encode(m, r);
    double sum[2][K] = {{0}};
    size_t count[2] = {0, 0};
    for (size_t i = 0; i < r.n; i++) {
        count[r.y[i] != 0]++;
        for (size_t j = 0; j < K; j++)
            sum[r.y[i] != 0][j] += f[i * K + j];
    }
    ck_assert(count[0] > 0 && count[1] > 0);
    float centre[K], contrast[K];
    /* Both leave the model in evaluation mode, whatever it was in. */
    ck_assert_int_eq(dgn_model_set_training(m, 1), DGN_OK);
    ck_assert_int_eq(dgn_class_centre(centre, K, m, ds), DGN_OK);
    ck_assert_int_eq(dgn_model_training(m), 0);
    ck_assert_int_eq(dgn_model_set_training(m, 1), DGN_OK);
    ck_assert_int_eq(dgn_contrast_centre(contrast, K, m, ds), DGN_OK);
    ck_assert_int_eq(dgn_model_training(m), 0);
    for (size_t j = 0; j < K; j++) {
        float pos = (float)(sum[1][j] / (double)count[1]);
        float neg = (float)(sum[0][j] / (double)count[0]);
        ck_assert_float_eq(centre[j], pos);
        ck_assert_float_eq(contrast[j], pos - neg);
    }
    free(f);
    free_rows(r);
    dgn_model_destroy(m);
    dgn_dataset_destroy(ds);
}
END_TEST

START_TEST(scores_and_split_metrics_follow_the_features)
{
    dgn_dataset *ds = toy_data(5);
    dgn_model *m = toy_model(32);
    float centre[K];
    ck_assert_int_eq(dgn_contrast_centre(centre, K, m, ds), DGN_OK);
    dgn_split splits[] = {DGN_SPLIT_TRAIN, DGN_SPLIT_VALID, DGN_SPLIT_TEST};
    for (int t = 0; t < 3; t++) {
        rows r = split_rows(ds, splits[t]);
        float *f = encode(m, r), *s = malloc(r.n * sizeof *s);
        ck_assert_ptr_nonnull(s);
        ck_assert_int_eq(dgn_model_set_training(m, 1), DGN_OK);
        ck_assert_int_eq(dgn_model_scores(s, r.n, m, centre, r.x, r.n), DGN_OK);
        ck_assert_int_eq(dgn_model_training(m), 0);
        for (size_t i = 0; i < r.n; i++) {
            double dot = 0;
            for (size_t j = 0; j < K; j++)
                dot += (double)centre[j] * f[i * K + j];
            ck_assert_float_eq(s[i], (float)dot);
        }
        /* The split's metrics are those of exactly these scores. */
        double auc, patk, want_auc, want_patk;
        ck_assert_int_eq(dgn_auc(&want_auc, s, r.y, r.n), DGN_OK);
        ck_assert_int_eq(dgn_precision_at_k(&want_patk, s, r.y, r.n, 10), DGN_OK);
        ck_assert_int_eq(dgn_evaluate_split(&auc, &patk, 10, m, centre, ds, splits[t]), DGN_OK);
        ck_assert_double_eq(auc, want_auc);
        ck_assert_double_eq(patk, want_patk);
        free(f), free(s);
        free_rows(r);
    }
    dgn_model_destroy(m);
    dgn_dataset_destroy(ds);
}
END_TEST

/* Features, scores and centres of everything one thread computes, at
 * thread counts whose ways split the batches differently, before and after
 * the weights and running statistics change (the evaluation copies must
 * take them at every call). */
START_TEST(threads_give_the_bits_of_one)
{
    dgn_dataset *ds = toy_data(7);
    rows r = split_rows(ds, DGN_SPLIT_TRAIN);
    dgn_model *one = toy_model(7);
    size_t ns = dgn_model_state_floats(one), threads[] = {2, 3, 5, 11};
    float w[K] = {0};
    float *state = malloc(ns * sizeof *state), *s1 = malloc(r.n * sizeof *s1),
          *sn = malloc(r.n * sizeof *sn);
    ck_assert(state && s1 && sn);
    for (size_t t = 0; t < sizeof threads / sizeof *threads; t++) {
        dgn_model *many = toy_model(7);
        ck_assert_int_eq(dgn_model_set_threads(many, threads[t]), DGN_OK);
        for (int round = 0; round < 2; round++) {
            dgn_model_snapshot(one, state);
            for (size_t i = 0; i < ns; i++) /* new weights and statistics */
                state[i] = state[i] * (1 + 0.25f * (float)round) + 0.01f * (float)(i % 7);
            dgn_model_restore(one, state);
            dgn_model_restore(many, state);
            float *f1 = encode(one, r), *fn = malloc(r.n * K * sizeof *fn);
            ck_assert_ptr_nonnull(fn);
            ck_assert_int_eq(dgn_model_set_training(many, 0), DGN_OK);
#if COUNT_ALLOCATIONS
            n_allocs = 0;
            counting = 1; /* the copies were made by dgn_model_set_threads */
#endif
            dgn_status est = dgn_model_encode(many, fn, r.n * K, r.x, r.n);
#if COUNT_ALLOCATIONS
            counting = 0;
            ck_assert_uint_eq(n_allocs, 0);
#endif
            ck_assert_int_eq(est, DGN_OK);
            ck_assert_msg(memcmp(f1, fn, r.n * K * sizeof *f1) == 0,
                          "%zu threads, round %d: features differ", threads[t], round);
            float c1[K], cn[K], w1[K], wn[K];
            ck_assert_int_eq(dgn_class_centre(c1, K, one, ds), DGN_OK);
            ck_assert_int_eq(dgn_class_centre(cn, K, many, ds), DGN_OK);
            ck_assert_int_eq(dgn_contrast_centre(w1, K, one, ds), DGN_OK);
            ck_assert_int_eq(dgn_contrast_centre(wn, K, many, ds), DGN_OK);
            ck_assert(memcmp(c1, cn, sizeof c1) == 0 && memcmp(w1, wn, sizeof w1) == 0);
            ck_assert_int_eq(dgn_model_scores(s1, r.n, one, w1, r.x, r.n), DGN_OK);
            ck_assert_int_eq(dgn_model_scores(sn, r.n, many, w1, r.x, r.n), DGN_OK);
            ck_assert(memcmp(s1, sn, r.n * sizeof *s1) == 0);
            free(f1), free(fn);
        }
        /* The batches ran on several models: no forward pass is left for
         * backward, and it says why. */
        float df[7 * K] = {0};
        free(encode(many, r));
        ck_assert_int_eq(dgn_model_backward(many, NULL, 0, df, 7), DGN_E_INVALID);
        ck_assert_error_has("dgn_model_encode", "threads");
        /* A bad row is found on the caller's thread, by its row in the
         * whole call, not in its batch; on one thread too. */
        float keep = r.x[(r.n - 2) * C + 1];
        r.x[(r.n - 2) * C + 1] = NAN;
        float *f = malloc(r.n * K * sizeof *f);
        ck_assert_ptr_nonnull(f);
        char want[64];
        snprintf(want, sizeof want, "x[%zu][1]", r.n - 2);
        ck_assert_int_eq(dgn_model_encode(many, f, r.n * K, r.x, r.n), DGN_E_NONFINITE);
        ck_assert_error_has("dgn_model_encode", want);
        ck_assert_int_eq(dgn_model_scores(s1, r.n, one, w, r.x, r.n), DGN_E_NONFINITE);
        ck_assert_error_has("dgn_model_scores", want);
        r.x[(r.n - 2) * C + 1] = keep;
        free(f);
        dgn_model_destroy(many);
    }
    free(state), free(s1), free(sn);
    free_rows(r);
    dgn_model_destroy(one);
    dgn_dataset_destroy(ds);
}
END_TEST

START_TEST(errors_name_the_call_and_the_problem)
{
    dgn_dataset *ds = toy_data(6);
    dgn_model *m = toy_model(16);
    float centre[K], s[4], x[4 * C] = {0};
    double auc, patk;
    ck_assert_int_eq(dgn_class_centre(centre, K, m, ds), DGN_OK);

    /* NULL arguments. */
    ck_assert_int_eq(dgn_class_centre(centre, K, NULL, ds), DGN_E_INVALID);
    ck_assert_error_has("dgn_class_centre", "NULL");
    ck_assert_int_eq(dgn_contrast_centre(centre, K, m, NULL), DGN_E_INVALID);
    ck_assert_error_has("dgn_contrast_centre", "NULL");
    ck_assert_int_eq(dgn_model_scores(s, 4, m, NULL, x, 4), DGN_E_INVALID);
    ck_assert_error_has("dgn_model_scores", "NULL");
    ck_assert_int_eq(dgn_evaluate_split(&auc, NULL, 10, m, centre, ds, DGN_SPLIT_VALID),
                     DGN_E_INVALID);
    ck_assert_error_has("dgn_evaluate_split", "NULL");
    ck_assert_int_eq(dgn_evaluate_split(&auc, &patk, 10, NULL, centre, ds, DGN_SPLIT_VALID),
                     DGN_E_INVALID);

    /* Capacities. */
    ck_assert_int_eq(dgn_class_centre(centre, K - 1, m, ds), DGN_E_SHAPE);
    ck_assert_error_has("dgn_class_centre", "capacity 7 < 8");
    ck_assert_int_eq(dgn_contrast_centre(NULL, K, m, ds), DGN_E_SHAPE);
    ck_assert_int_eq(dgn_contrast_centre(centre, K - 1, m, ds), DGN_E_SHAPE);
    ck_assert_error_has("dgn_contrast_centre", "capacity 7 < 8");
    ck_assert_int_eq(dgn_model_scores(s, 3, m, centre, x, 4), DGN_E_SHAPE);
    ck_assert_error_has("dgn_model_scores", "capacity 3 < 4");

    /* A NaN or infinite centre would make every score NaN. */
    float bad[K];
    memcpy(bad, centre, sizeof bad);
    bad[5] = NAN;
    ck_assert_int_eq(dgn_model_scores(s, 4, m, bad, x, 4), DGN_E_NONFINITE);
    ck_assert_error_has("dgn_model_scores", "centre[5]");
    bad[5] = -INFINITY;
    ck_assert_int_eq(dgn_evaluate_split(&auc, &patk, 10, m, bad, ds, DGN_SPLIT_TEST),
                     DGN_E_NONFINITE);
    ck_assert_error_has("centre[5]");

    /* A model for another number of components. */
    dgn_model_config cfg;
    dgn_model_config_init(&cfg, DGN_MODEL_CONFIG_VERSION);
    cfg.n_components = C + 1;
    cfg.out_dim = K;
    dgn_model *other = NULL;
    ck_assert_int_eq(dgn_model_create(&other, &cfg), DGN_OK);
    ck_assert_int_eq(dgn_class_centre(centre, K, other, ds), DGN_E_SHAPE);
    ck_assert_error_has("dgn_class_centre", "the dataset has 4 components, the model 5");
    ck_assert_int_eq(dgn_evaluate_split(&auc, &patk, 10, other, centre, ds, DGN_SPLIT_VALID),
                     DGN_E_SHAPE);
    dgn_model_destroy(other);
    dgn_model_destroy(m);
    dgn_dataset_destroy(ds);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("centre");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, encode_in_chunks_is_one_batch);
    tcase_add_test(tc, centres_are_means_of_the_training_features);
    tcase_add_test(tc, scores_and_split_metrics_follow_the_features);
    tcase_add_test(tc, threads_give_the_bits_of_one);
    tcase_add_test(tc, errors_name_the_call_and_the_problem);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
