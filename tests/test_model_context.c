/* The context a model carries (lib/model_context.c): what
 * dgn_model_attach_context stores is what the readers return, before and
 * after a save and load; a model without it refuses the readers by
 * saying so. (Damaged context entries in a file: test_serialize.) */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dgn.h"
#include "testutil.h"

enum { N = 120, C = 3, K = 5 };

static const char *NAMES[C] = {"SiO2", "B2O3", "W% Na2O"};

/* Percent rows, so that the stored units are not the default. */
static dgn_dataset *toy_data(void)
{
    static double x[N * C], y[N];
    toy_compositions(x, y, N, C, 9, 100, 1000);
    dgn_dataset_config cfg;
    dgn_dataset_config_init(&cfg, DGN_DATASET_CONFIG_VERSION);
    cfg.lo = 250;
    cfg.hi = 450;
    dgn_dataset *ds = NULL;
    ck_assert_msg(dgn_dataset_from_arrays(&ds, x, y, N, C, NAMES, "Tg, K", &cfg) == DGN_OK,
                  "%s", dgn_last_error());
    ck_assert_int_eq(dgn_dataset_units(ds), DGN_UNITS_PERCENT);
    return ds;
}

static dgn_model *toy_model(void)
{
    dgn_model_config cfg;
    dgn_model_config_init(&cfg, DGN_MODEL_CONFIG_VERSION);
    cfg.n_components = C;
    cfg.embed_dim = 4;
    cfg.hidden = 8;
    cfg.out_dim = K;
    cfg.max_batch = 16;
    dgn_model *m = NULL;
    ck_assert_int_eq(dgn_model_create(&m, &cfg), DGN_OK);
    return m;
}

static const float CENTRE[K] = {0.5f, -1.25f, 3.0f, 0.0f, 1e-3f};

/* Every piece of the context of m is the dataset's, with CENTRE and
 * `settings`. */
static void expect_context(const dgn_model *m, const dgn_dataset *ds, const char *settings)
{
    for (size_t i = 0; i < C; i++)
        ck_assert_str_eq(dgn_model_component_name(m, i), NAMES[i]);
    ck_assert_ptr_null(dgn_model_component_name(m, C));
    ck_assert_str_eq(dgn_model_property_name(m), "Tg, K");
    if (settings)
        ck_assert_str_eq(dgn_model_settings(m), settings);
    else
        ck_assert_ptr_null(dgn_model_settings(m));
    ck_assert_int_eq(dgn_model_units(m), DGN_UNITS_PERCENT);

    double lo, hi;
    ck_assert_int_eq(dgn_model_target_range(m, &lo, &hi), DGN_OK);
    ck_assert_double_eq(lo, 250);
    ck_assert_double_eq(hi, 450);

    double mean[C], sd[C], want_mean[C], want_sd[C];
    ck_assert_int_eq(dgn_dataset_zscore_stats(ds, want_mean, want_sd, C), DGN_OK);
    ck_assert_int_eq(dgn_model_zscore_stats(m, mean, sd, C), DGN_OK);
    for (size_t i = 0; i < C; i++) {
        ck_assert_double_eq(mean[i], want_mean[i]);
        ck_assert_double_eq(sd[i], want_sd[i]);
    }

    float centre[K];
    ck_assert_int_eq(dgn_model_class_centre(m, centre, K), DGN_OK);
    ck_assert_mem_eq(centre, CENTRE, sizeof centre);
}

START_TEST(attached_context_reads_back_and_survives_save_and_load)
{
    dgn_dataset *ds = toy_data();
    dgn_model *m = toy_model();
    ck_assert_msg(dgn_model_attach_context(m, ds, CENTRE, "--lo 250 --hi 450") == DGN_OK,
                  "%s", dgn_last_error());
    expect_context(m, ds, "--lo 250 --hi 450");

    char *path = write_temp_str("");
    ck_assert_msg(dgn_model_save(m, path) == DGN_OK, "%s", dgn_last_error());
    dgn_model *back = NULL;
    ck_assert_msg(dgn_model_load(&back, path) == DGN_OK, "%s", dgn_last_error());
    expect_context(back, ds, "--lo 250 --hi 450");
    dgn_model_destroy(back);
    remove_temp(path);

    /* Attached again, without settings: the old settings stay (they are
     * one entry among the model's metadata), everything else is new. */
    float other[K] = {1, 2, 3, 4, 5};
    ck_assert_int_eq(dgn_model_attach_context(m, ds, other, NULL), DGN_OK);
    float centre[K];
    ck_assert_int_eq(dgn_model_class_centre(m, centre, K), DGN_OK);
    ck_assert_mem_eq(centre, other, sizeof centre);
    ck_assert_str_eq(dgn_model_settings(m), "--lo 250 --hi 450");

    dgn_model *fresh = toy_model();
    ck_assert_int_eq(dgn_model_attach_context(fresh, ds, CENTRE, NULL), DGN_OK);
    expect_context(fresh, ds, NULL);
    dgn_model_destroy(fresh);
    dgn_model_destroy(m);
    dgn_dataset_destroy(ds);
}
END_TEST

START_TEST(a_model_without_context_says_so)
{
    dgn_model *m = toy_model();
    double lo = -1, hi = -1, mean[C], sd[C];
    float centre[K];
    ck_assert_int_eq(dgn_model_target_range(m, &lo, &hi), DGN_E_DATA);
    ck_assert_error_has("carries no target range", "dgn_model_attach_context");
    ck_assert_double_eq(lo, -1);
    ck_assert_int_eq(dgn_model_zscore_stats(m, mean, sd, C), DGN_E_DATA);
    ck_assert_error_has("carries no z-score statistics", "dgn_trainer_fit");
    ck_assert_int_eq(dgn_model_class_centre(m, centre, K), DGN_E_DATA);
    ck_assert_error_has("carries no class centre");
    ck_assert_ptr_null(dgn_model_component_name(m, 0));
    ck_assert_ptr_null(dgn_model_property_name(m));
    ck_assert_ptr_null(dgn_model_settings(m));
    ck_assert_int_eq(dgn_model_units(m), DGN_UNITS_AUTO);
    dgn_model_destroy(m);
}
END_TEST

START_TEST(bad_arguments_are_refused)
{
    dgn_dataset *ds = toy_data();
    dgn_model *m = toy_model();
    ck_assert_int_eq(dgn_model_attach_context(NULL, ds, CENTRE, NULL), DGN_E_INVALID);
    ck_assert_error_has("dgn_model_attach_context", "NULL");
    ck_assert_int_eq(dgn_model_attach_context(m, NULL, CENTRE, NULL), DGN_E_INVALID);
    ck_assert_int_eq(dgn_model_attach_context(m, ds, NULL, NULL), DGN_E_INVALID);
    ck_assert_error_has("dgn_model_attach_context: centre is NULL");
    ck_assert_ptr_null(dgn_model_property_name(m)); /* nothing was stored */

    dgn_model_config cfg;
    dgn_model_config_init(&cfg, DGN_MODEL_CONFIG_VERSION);
    cfg.n_components = C + 1;
    dgn_model *other = NULL;
    ck_assert_int_eq(dgn_model_create(&other, &cfg), DGN_OK);
    ck_assert_int_eq(dgn_model_attach_context(other, ds, CENTRE, NULL), DGN_E_SHAPE);
    ck_assert_error_has("dgn_model_attach_context", "3 components, the model 4");
    dgn_model_destroy(other);

    ck_assert_int_eq(dgn_model_attach_context(m, ds, CENTRE, NULL), DGN_OK);
    double lo, mean[C], sd[C];
    float centre[K];
    ck_assert_int_eq(dgn_model_target_range(m, &lo, NULL), DGN_E_INVALID);
    ck_assert_error_has("dgn_model_target_range", "NULL");
    ck_assert_int_eq(dgn_model_zscore_stats(m, mean, NULL, C), DGN_E_INVALID);
    ck_assert_int_eq(dgn_model_zscore_stats(m, mean, sd, C - 1), DGN_E_SHAPE);
    ck_assert_error_has("dgn_model_zscore_stats", "capacity 2 < 3");
    ck_assert_int_eq(dgn_model_class_centre(NULL, centre, K), DGN_E_INVALID);
    ck_assert_int_eq(dgn_model_class_centre(m, centre, K - 1), DGN_E_SHAPE);
    ck_assert_error_has("dgn_model_class_centre", "capacity 4 < 5");
    dgn_model_destroy(m);
    dgn_dataset_destroy(ds);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("model_context");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, attached_context_reads_back_and_survives_save_and_load);
    tcase_add_test(tc, a_model_without_context_says_so);
    tcase_add_test(tc, bad_arguments_are_refused);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
