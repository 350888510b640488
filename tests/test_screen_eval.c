/* The screen evaluator (lib/screen_eval.h) against the model's own evaluation forward pass. */
#include <math.h>
#include <stdlib.h>
#include <string.h>


#include "alloc_count.h"
#include "dgn.h"
#include "gradcheck.h"
#include "model_internal.h"
#include "screen_eval.h"
#include "testutil.h"

/* The values of the tensor named `name`. */
static float *tensor(dgn_model *m, const char *name)
{
    for (size_t t = 0; t < dgn_model_n_tensors(m); t++) {
        const char *nm;
        float *v;
        ck_assert_int_eq(dgn_model_tensor(m, t, &nm, &v, NULL, NULL), DGN_OK);
        if (strcmp(nm, name) == 0)
            return v;
    }
    ck_abort_msg("no tensor %s", name);
    return NULL;
}

/* A model with random weights and non-trivial BatchNorm statistics, so
 * that every folded term matters. */
static dgn_model *random_model(size_t n, size_t d, int interaction, size_t max_batch)
{
    dgn_model_config cfg;
    ck_assert_int_eq(dgn_model_config_init(&cfg, DGN_MODEL_CONFIG_VERSION), DGN_OK);
    cfg.n_components = n;
    cfg.embed_dim = d;
    cfg.interaction = interaction;
    cfg.max_batch = max_batch;
    cfg.seed = 7;
    dgn_model *m;
    ck_assert_msg(dgn_model_create(&m, &cfg) == DGN_OK, "%s", dgn_last_error());
    unsigned st = 11;
    size_t h = cfg.hidden;
    float *gamma = tensor(m, "projection.batchnorm.weight");
    /* The running statistics follow the parameters in the model's state. */
    float *state = malloc(dgn_model_state_floats(m) * sizeof *state);
    dgn_model_snapshot(m, state);
    float *run_mean = state + dgn_model_n_params(m), *run_var = run_mean + h;
    fill_uniform(gamma, h, &st, 0.5f);
    fill_uniform(tensor(m, "projection.batchnorm.bias"), h, &st, 0.5f);
    fill_uniform(tensor(m, "projection.linear2.bias"), cfg.out_dim, &st, 0.3f);
    fill_uniform(run_mean, h, &st, 0.5f);
    for (size_t j = 0; j < h; j++) {
        gamma[j] += 1.0f;
        run_var[j] = 0.2f + (float)j / (float)h;
    }
    /* Restoring writes the parameters too: take them from the model. */
    memcpy(state, dgn_model_params(m), dgn_model_n_params(m) * sizeof *state);
    dgn_model_restore(m, state);
    free(state);
    dgn_model_set_training(m, 0);
    return m;
}

/* Largest |folded − forward| over B random rows, through a path. */
static double max_difference(dgn_model *m, size_t B, dgn_screen_eval_path path, int *folded)
{
    size_t n = dgn_model_cfg(m)->n_components, k = dgn_model_cfg(m)->out_dim,
           mb = dgn_model_cfg(m)->max_batch;
    float *x = malloc(B * n * sizeof *x), *centre = malloc(k * sizeof *centre),
          *want = malloc(B * sizeof *want), *got = malloc(B * sizeof *got);
    unsigned st = 5;
    fill_uniform(x, B * n, &st, 2.0f);
    fill_uniform(centre, k, &st, 0.3f);
    ck_assert_int_eq(dgn_model_scores(want, B, m, centre, x, B), DGN_OK);

    dgn_screen_eval s;
    dgn_screen_eval_work w;
    ck_assert_msg(dgn_screen_eval_init(&s, m, centre, mb, path) == DGN_OK, "%s",
                  dgn_last_error());
    ck_assert_int_eq(dgn_screen_eval_work_init(&w, &s), DGN_OK);
    /* In uneven batches, as the screener's last block. */
    for (size_t i = 0; i < B; i += mb - 3) {
        size_t b = B - i < mb - 3 ? B - i : mb - 3;
        ck_assert_int_eq(dgn_screen_eval_run(&s, &w, got + i, x + i * n, b), DGN_OK);
    }
    double worst = 0;
    for (size_t i = 0; i < B; i++)
        worst = fmax(worst, fabs((double)got[i] - want[i]));
    *folded = s.folded;
    dgn_screen_eval_work_free(&w);
    dgn_screen_eval_free(&s);
    free(x);
    free(centre);
    free(want);
    free(got);
    return worst;
}

START_TEST(folded_agrees_with_forward)
{
    /* The bundled data's 19 components at the default sizes, then a small
     * model, each with and without interaction. */
    size_t sizes[][2] = {{19, 32}, {5, 6}};
    for (size_t t = 0; t < 2; t++)
        for (int inter = 1; inter >= 0; inter--) {
            dgn_model *m = random_model(sizes[t][0], sizes[t][1], inter, 64);
            int folded;
            double diff = max_difference(m, 300, DGN_SCREEN_EVAL_FOLDED, &folded);
            ck_assert_int_eq(folded, 1);
            ck_assert_msg(diff < 1e-6, "n %zu interaction %d: max difference %g",
                          sizes[t][0], inter, diff);
            dgn_model_destroy(m);
        }
}
END_TEST

START_TEST(plain_path_is_the_forward_pass)
{
    dgn_model *m = random_model(19, 32, 1, 64);
    int folded;
    ck_assert_double_eq(max_difference(m, 200, DGN_SCREEN_EVAL_PLAIN, &folded), 0);
    ck_assert_int_eq(folded, 0);
    dgn_model_destroy(m);
}
END_TEST

START_TEST(auto_folds_only_when_it_saves_work)
{
    float centre[64] = {0};
    dgn_screen_eval s;
    /* At the defaults (d = 32, hidden 256) up to 40 components fold, as
     * docs/model.md says; at 64 components and d = 16, n²·h outgrows n·d·h. */
    size_t cases[][3] = {{19, 32, 1}, {40, 32, 1}, {41, 32, 0}, {64, 16, 0}};
    for (size_t t = 0; t < 4; t++) {
        dgn_model *m = random_model(cases[t][0], cases[t][1], 1, 8);
        ck_assert_int_eq(dgn_screen_eval_init(&s, m, centre, 8, DGN_SCREEN_EVAL_AUTO), DGN_OK);
        ck_assert_int_eq(s.folded, (int)cases[t][2]);
        dgn_screen_eval_free(&s);
        dgn_model_destroy(m);
    }
    /* Without interaction the fold always shrinks the first layer. */
    dgn_model *m = random_model(64, 16, 0, 8);
    ck_assert_int_eq(dgn_screen_eval_init(&s, m, centre, 8, DGN_SCREEN_EVAL_AUTO), DGN_OK);
    ck_assert_int_eq(s.folded, 1);
    dgn_screen_eval_free(&s);
    dgn_model_destroy(m);
}
END_TEST

START_TEST(batch_limits)
{
    dgn_model *m = random_model(5, 6, 1, 8);
    float centre[64] = {0}, x[9 * 5] = {0}, scores[9];
    dgn_screen_eval s;
    dgn_screen_eval_work w;
    ck_assert_int_eq(dgn_screen_eval_init(&s, m, centre, 8, DGN_SCREEN_EVAL_FOLDED), DGN_OK);
    ck_assert_int_eq(dgn_screen_eval_work_init(&w, &s), DGN_OK);
    ck_assert_int_eq(dgn_screen_eval_run(&s, &w, scores, x, 9), DGN_E_SHAPE);
    ck_assert_error_has("9 rows", "[1, 8]");
    ck_assert_int_eq(dgn_screen_eval_run(&s, &w, scores, x, 0), DGN_E_SHAPE);
    dgn_screen_eval_work_free(&w);
    dgn_screen_eval_free(&s);
    dgn_model_destroy(m);
}
END_TEST

#if COUNT_ALLOCATIONS
START_TEST(no_allocation_in_run)
{
    dgn_model *m = random_model(19, 32, 1, 96);
    float centre[64] = {0}, x[96 * 19], scores[96];
    unsigned st = 1;
    fill_uniform(x, 96 * 19, &st, 1.0f);
    dgn_screen_eval s;
    dgn_screen_eval_work w;
    ck_assert_int_eq(dgn_screen_eval_init(&s, m, centre, 96, DGN_SCREEN_EVAL_FOLDED), DGN_OK);
    ck_assert_int_eq(dgn_screen_eval_work_init(&w, &s), DGN_OK);
    ck_assert_int_eq(dgn_screen_eval_run(&s, &w, scores, x, 96), DGN_OK); /* warm-up */
    n_allocs = 0;
    counting = 1;
    for (size_t b = 96; b > 80; b -= 5)
        dgn_screen_eval_run(&s, &w, scores, x, b);
    counting = 0;
    ck_assert_uint_eq(n_allocs, 0);
    dgn_screen_eval_work_free(&w);
    dgn_screen_eval_free(&s);
    dgn_model_destroy(m);
}
END_TEST
#endif

int main(void)
{
    Suite *s = suite_create("screen_eval");
    TCase *tc = tcase_create("screen_eval");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, folded_agrees_with_forward);
    tcase_add_test(tc, plain_path_is_the_forward_pass);
    tcase_add_test(tc, auto_folds_only_when_it_saves_work);
    tcase_add_test(tc, batch_limits);
#if COUNT_ALLOCATIONS
    tcase_add_test(tc, no_allocation_in_run);
#endif
    suite_add_tcase(s, tc);
    return run_suite(s);
}
