/* The trainer: a learnable toy problem, best-state keeping, the context
 * it attaches. (The loss, Adam, the centres and the context readers have
 * their own suites.) */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dgn.h"
#include "testutil.h"

/* ---- training on a learnable toy problem ------------------------------------ */

/* Target: the first component's share in [0.3, 0.6]. */
static dgn_dataset *toy_data(uint64_t seed)
{
    enum { N = 600, C = 4 };
    static double x[N * C], y[N];
    toy_compositions(x, y, N, C, 5, 1, 1000);
    dgn_dataset_config cfg;
    dgn_dataset_config_init(&cfg, DGN_DATASET_CONFIG_VERSION);
    cfg.lo = 300;
    cfg.hi = 600;
    cfg.seed = seed;
    cfg.sigma = 0.02;
    dgn_dataset *ds = NULL;
    ck_assert_msg(dgn_dataset_from_arrays(&ds, x, y, N, C, NULL, "T", &cfg) == DGN_OK, "%s",
                  dgn_last_error());
    return ds;
}

static dgn_model *toy_model(void)
{
    dgn_model_config cfg;
    dgn_model_config_init(&cfg, DGN_MODEL_CONFIG_VERSION);
    cfg.n_components = 4;
    cfg.embed_dim = 8;
    cfg.hidden = 32;
    cfg.out_dim = 8;
    cfg.max_batch = 96;
    dgn_model *m = NULL;
    ck_assert_int_eq(dgn_model_create(&m, &cfg), DGN_OK);
    return m;
}

typedef struct seen {
    size_t calls;
    double first_auc, last_auc, best_auc;
} seen;

static int record(const dgn_epoch_report *r, void *user)
{
    seen *s = user;
    if (s->calls++ == 0)
        s->first_auc = r->auc;
    s->last_auc = r->auc;
    if (r->best)
        s->best_auc = r->auc;
    return 0;
}

START_TEST(training_learns_and_keeps_the_best)
{
    dgn_dataset *ds = toy_data(1);
    dgn_model *m = toy_model();
    dgn_trainer_config cfg;
    dgn_trainer_config_init(&cfg, DGN_TRAINER_CONFIG_VERSION);
    cfg.batch = 32;
    cfg.epochs = 15;
    cfg.patience = 0;
    seen s = {0};
    cfg.progress = record;
    cfg.progress_user = &s;
    dgn_trainer *t = NULL;
    ck_assert_int_eq(dgn_trainer_create(&t, m, ds, &cfg), DGN_OK);
    dgn_epoch_report best;
    ck_assert_msg(dgn_trainer_fit(t, &best) == DGN_OK, "%s", dgn_last_error());
    ck_assert_uint_eq(s.calls, 15);
    ck_assert_double_gt(best.auc, 0.9);
    ck_assert_double_ge(best.auc, s.last_auc);
    ck_assert_double_eq(best.auc, s.best_auc);

    /* The restored model scores the validation split as reported. */
    ck_assert_int_eq(dgn_model_training(m), 0);
    float centre[8];
    double auc, p;
    ck_assert_int_eq(dgn_trainer_centre(t, centre, 8), DGN_OK);
    ck_assert_int_eq(dgn_evaluate_split(&auc, &p, cfg.k, m, centre, ds, DGN_SPLIT_VALID), DGN_OK);
    ck_assert_double_eq(auc, best.auc);

    /* The context travels with the model. */
    ck_assert_str_eq(dgn_model_component_name(m, 3), "c4");
    ck_assert_ptr_null(dgn_model_component_name(m, 4));
    ck_assert_str_eq(dgn_model_property_name(m), "T");
    double lo, hi, mean[4], sd[4], dmean[4], dsd[4];
    float stored[8];
    ck_assert_int_eq(dgn_model_target_range(m, &lo, &hi), DGN_OK);
    ck_assert_double_eq(lo, 300);
    ck_assert_double_eq(hi, 600);
    ck_assert_int_eq(dgn_model_zscore_stats(m, mean, sd, 4), DGN_OK);
    ck_assert_int_eq(dgn_dataset_zscore_stats(ds, dmean, dsd, 4), DGN_OK);
    ck_assert_int_eq(memcmp(mean, dmean, sizeof mean), 0);
    ck_assert_int_eq(memcmp(sd, dsd, sizeof sd), 0);
    ck_assert_int_eq(dgn_model_class_centre(m, stored, 8), DGN_OK);
    ck_assert_int_eq(memcmp(stored, centre, sizeof stored), 0);
    ck_assert_int_eq(dgn_model_units(m), DGN_UNITS_FRACTION);
    ck_assert_ptr_nonnull(strstr(dgn_model_settings(m), "best_epoch="));

    dgn_trainer_destroy(t);
    dgn_model_destroy(m);
    dgn_dataset_destroy(ds);
}
END_TEST

static int stop_now(const dgn_epoch_report *r, void *user)
{
    (void)r;
    (void)user;
    return 1;
}

START_TEST(callback_and_patience_stop_early)
{
    dgn_dataset *ds = toy_data(2);
    dgn_model *m = toy_model();
    dgn_trainer_config cfg;
    dgn_trainer_config_init(&cfg, DGN_TRAINER_CONFIG_VERSION);
    cfg.batch = 32;
    cfg.progress = stop_now;
    dgn_trainer *t = NULL;
    ck_assert_int_eq(dgn_trainer_create(&t, m, ds, &cfg), DGN_OK);
    dgn_epoch_report best;
    ck_assert_int_eq(dgn_trainer_fit(t, &best), DGN_OK);
    ck_assert_uint_eq(best.epoch, 1);
    dgn_trainer_destroy(t);

    /* lr so small nothing improves after the first epochs: patience ends it. */
    cfg.progress = record;
    seen s = {0};
    cfg.progress_user = &s;
    cfg.lr = 1e-9;
    cfg.patience = 2;
    cfg.epochs = 50;
    cfg.min_steps = 0;
    ck_assert_int_eq(dgn_trainer_create(&t, m, ds, &cfg), DGN_OK);
    ck_assert_int_eq(dgn_trainer_fit(t, &best), DGN_OK);
    ck_assert_uint_lt(s.calls, 50);
    ck_assert_uint_ge(s.calls, best.epoch + 2);
    dgn_trainer_destroy(t);
    dgn_model_destroy(m);
    dgn_dataset_destroy(ds);
}
END_TEST

START_TEST(step_by_step_and_validation)
{
    dgn_dataset *ds = toy_data(3);
    dgn_model *m = toy_model();
    dgn_trainer_config cfg;
    dgn_trainer_config_init(&cfg, DGN_TRAINER_CONFIG_VERSION);
    cfg.batch = 40;
    dgn_trainer *t = NULL;
    ck_assert_int_eq(dgn_trainer_create(&t, m, ds, &cfg), DGN_E_SHAPE);
    ck_assert_error_has("max_batch");
    cfg.batch = 32;
    ck_assert_int_eq(dgn_trainer_create(&t, m, ds, &cfg), DGN_OK);
    size_t total = 0, n;
    double loss;
    do {
        ck_assert_int_eq(dgn_trainer_step(t, &loss, &n), DGN_OK);
        total += n;
        if (n)
            ck_assert(isfinite(loss) && loss > 0);
    } while (n);
    ck_assert_uint_eq(total, dgn_dataset_n_rows(ds, DGN_SPLIT_TRAIN));
    dgn_trainer_destroy(t);

    cfg.tau = 0;
    ck_assert_int_eq(dgn_trainer_config_validate(&cfg), DGN_E_INVALID);
    ck_assert_error_has("tau");
    cfg.tau = 0.1;
    cfg.lr = -1;
    ck_assert_int_eq(dgn_trainer_config_validate(&cfg), DGN_E_INVALID);
    ck_assert_error_has("lr");
    cfg.lr = 1e-3;
    cfg.select = (dgn_metric)7;
    ck_assert_int_eq(dgn_trainer_config_validate(&cfg), DGN_E_INVALID);
    ck_assert_error_has("select");
    dgn_model_destroy(m);
    dgn_dataset_destroy(ds);
}
END_TEST

/* docs/api.md: a newer library accepts every older config version. */
START_TEST(config_init_accepts_every_known_version)
{
    dgn_trainer_config cfg;
    for (unsigned v = 1; v <= DGN_TRAINER_CONFIG_VERSION; v++) {
        ck_assert_int_eq(dgn_trainer_config_init(&cfg, v), DGN_OK);
        ck_assert_uint_eq(cfg.version, v);
        ck_assert_uint_eq(cfg.batch, 128);
    }
    ck_assert_int_eq(dgn_trainer_config_init(&cfg, 0), DGN_E_INVALID);
    ck_assert_int_eq(dgn_trainer_config_init(&cfg, DGN_TRAINER_CONFIG_VERSION + 1),
                     DGN_E_INVALID);
    ck_assert_error_has("versions 1 to");
}
END_TEST

/* A trainer of m on ds after `steps` steps (a new epoch when one runs out). */
static dgn_trainer *stepped(dgn_model *m, dgn_dataset *ds, const dgn_trainer_config *c,
                            int steps)
{
    dgn_trainer *t = NULL;
    ck_assert_int_eq(dgn_trainer_create(&t, m, ds, c), DGN_OK);
    double loss;
    size_t n;
    for (int s = 0; s < steps; s++) {
        ck_assert_int_eq(dgn_trainer_step(t, &loss, &n), DGN_OK);
        if (n == 0)
            ck_assert_int_eq(dgn_dataset_shuffle(ds), DGN_OK);
    }
    return t;
}

/* Train m on ds for `steps` steps of `batch` triplets and return a copy of
 * every weight (*np of them); destroys m and ds. */
static float *trained_weights_with(dgn_model *m, dgn_dataset *ds, const dgn_trainer_config *c,
                                   int steps, size_t *np)
{
    dgn_trainer *t = stepped(m, ds, c, steps);
    *np = dgn_model_n_params(m);
    float *w = malloc(*np * sizeof *w);
    ck_assert_ptr_nonnull(w);
    size_t off = 0;
    for (size_t i = 0; i < dgn_model_n_tensors(m); i++) {
        float *v;
        size_t size;
        dgn_model_tensor(m, i, NULL, &v, NULL, &size);
        memcpy(w + off, v, size * sizeof *v);
        off += size;
    }
    dgn_trainer_destroy(t);
    dgn_model_destroy(m);
    dgn_dataset_destroy(ds);
    return w;
}

static float *trained_weights(dgn_model *m, dgn_dataset *ds, size_t batch, int steps,
                              size_t *np)
{
    dgn_trainer_config cfg;
    dgn_trainer_config_init(&cfg, DGN_TRAINER_CONFIG_VERSION);
    cfg.batch = batch;
    return trained_weights_with(m, ds, &cfg, steps, np);
}

/* The bytes of m's model file after `steps` steps of `batch` triplets on
 * ds (*size of them); destroys m and ds. */
static unsigned char *trained_file(dgn_model *m, dgn_dataset *ds, size_t batch, int steps,
                                   size_t *size)
{
    dgn_trainer_config cfg;
    dgn_trainer_config_init(&cfg, DGN_TRAINER_CONFIG_VERSION);
    cfg.batch = batch;
    dgn_trainer *t = stepped(m, ds, &cfg, steps);
    char *path = write_temp_str("");
    ck_assert_int_eq(dgn_model_save(m, path), DGN_OK);
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    *size = (size_t)ftell(f);
    rewind(f);
    unsigned char *bytes = malloc(*size);
    ck_assert(bytes && fread(bytes, 1, *size, f) == *size);
    fclose(f);
    remove_temp(path);
    dgn_trainer_destroy(t);
    dgn_model_destroy(m);
    dgn_dataset_destroy(ds);
    return bytes;
}

/* Training on 2 or 3 threads gives the model file of 1 thread (weights
 * and BatchNorm statistics), byte for byte: on a model whose products are
 * large enough to be shared, and one that also spans several chunks of
 * every threaded stage (two lane chunks of the attention's backward,
 * three blocks of BatchNorm and ReLU features, two of Adam's weights),
 * the last of each partial. */
START_TEST(threads_give_the_same_weights)
{
    static const size_t embed[2] = {8, 16}, hidden[2] = {128, 300}, max_batch[2] = {192, 300},
                        batch[2] = {64, 100};
    unsigned char *file[3];
    size_t size[3];
    for (int run = 0; run < 3; run++) {
        dgn_model_config mc;
        dgn_model_config_init(&mc, DGN_MODEL_CONFIG_VERSION);
        mc.n_components = 4;
        mc.embed_dim = embed[_i];
        mc.hidden = hidden[_i];
        mc.out_dim = 64;
        mc.max_batch = max_batch[_i];
        dgn_model *m = NULL;
        ck_assert_int_eq(dgn_model_create(&m, &mc), DGN_OK);
        ck_assert(dgn_model_n_params(m) > (_i ? 16384u : 0u));
        ck_assert_int_eq(dgn_model_set_threads(m, (size_t)run + 1), DGN_OK);
        ck_assert_uint_eq(dgn_model_threads(m), (size_t)run + 1);
        file[run] = trained_file(m, toy_data(5), batch[_i], 8, &size[run]);
    }
    for (int run = 1; run < 3; run++)
        ck_assert_msg(size[run] == size[0] && memcmp(file[0], file[run], size[0]) == 0,
                      "%d threads changed the model", run + 1);
    for (int run = 0; run < 3; run++)
        free(file[run]);
    ck_assert_int_eq(dgn_model_set_threads(NULL, 2), DGN_E_INVALID);
}
END_TEST

/* On threads a step draws the next batch on a worker while it trains
 * (dataset_internal.h); a caller's own draw between two steps still gets
 * what it gets on one thread, and the weights stay one thread's. */
START_TEST(a_draw_between_steps_sees_no_batch_drawn_ahead)
{
    enum { C = 4, B = 8 };
    float seen[2][3 * B * C], *w[2];
    size_t np[2];
    for (int run = 0; run < 2; run++) {
        dgn_model_config mc;
        dgn_model_config_init(&mc, DGN_MODEL_CONFIG_VERSION);
        mc.n_components = C;
        mc.embed_dim = 8;
        mc.hidden = 128;
        mc.max_batch = 192;
        dgn_model *m = NULL;
        ck_assert_int_eq(dgn_model_create(&m, &mc), DGN_OK);
        ck_assert_int_eq(dgn_model_set_threads(m, (size_t)run + 1), DGN_OK);
        dgn_dataset *ds = toy_data(5);
        dgn_trainer_config cfg;
        dgn_trainer_config_init(&cfg, DGN_TRAINER_CONFIG_VERSION);
        cfg.batch = 64;
        dgn_trainer *t = stepped(m, ds, &cfg, 2);
        size_t n;
        ck_assert_int_eq(dgn_dataset_next_triplets(ds, seen[run], sizeof seen[run] /
                                                   sizeof *seen[run], NULL, 0, B, &n), DGN_OK);
        ck_assert_uint_eq(n, B);
        dgn_trainer_destroy(t);
        w[run] = trained_weights_with(m, ds, &cfg, 3, &np[run]); /* a new trainer goes on */
    }
    ck_assert_int_eq(memcmp(seen[0], seen[1], sizeof seen[0]), 0);
    ck_assert(np[0] == np[1] && memcmp(w[0], w[1], np[0] * sizeof *w[0]) == 0);
    free(w[0]);
    free(w[1]);
}
END_TEST

/* The same seeds give the same weights, bit for bit: sampling, noise,
 * dropout and every kernel are deterministic. */
START_TEST(same_seeds_same_weights)
{
    float *w[2];
    size_t np = 0;
    for (int run = 0; run < 2; run++)
        w[run] = trained_weights(toy_model(), toy_data(5), 32, 12, &np);
    ck_assert_int_eq(memcmp(w[0], w[1], np * sizeof **w), 0);
    /* ... and they did train: the embedding moved from its initial value. */
    dgn_model *fresh = toy_model();
    float *e0;
    size_t ne;
    dgn_model_tensor(fresh, 0, NULL, &e0, NULL, &ne);
    ck_assert_int_ne(memcmp(w[0], e0, ne * sizeof *e0), 0);
    dgn_model_destroy(fresh);
    free(w[0]);
    free(w[1]);
}
END_TEST

/* ---- the step budget, the schedule and the score ------------------------- */

static size_t settings_count(const dgn_model *m, const char *key)
{
    const char *s = strstr(dgn_model_settings(m), key);
    ck_assert_ptr_nonnull(s);
    return (size_t)strtoull(s + strlen(key), NULL, 10);
}

/* 480 training rows in batches of 32: 15 steps an epoch. */
START_TEST(step_budget_and_min_steps)
{
    dgn_dataset *ds = toy_data(2);
    ck_assert_uint_eq(dgn_dataset_n_rows(ds, DGN_SPLIT_TRAIN), 480);
    dgn_model *m = toy_model();
    dgn_trainer_config cfg;
    dgn_trainer_config_init(&cfg, DGN_TRAINER_CONFIG_VERSION);
    cfg.batch = 32;
    cfg.epochs = 10;
    cfg.min_steps = 0;
    cfg.max_steps = 40; /* 15 + 15 + 10 */
    seen s = {0};
    cfg.progress = record;
    cfg.progress_user = &s;
    dgn_trainer *t = NULL;
    ck_assert_int_eq(dgn_trainer_create(&t, m, ds, &cfg), DGN_OK);
    dgn_epoch_report best;
    ck_assert_msg(dgn_trainer_fit(t, &best) == DGN_OK, "%s", dgn_last_error());
    ck_assert_uint_eq(s.calls, 3);
    ck_assert_uint_eq(settings_count(m, "steps_run="), 40);
    /* Spent: a further step does nothing, a further epoch is refused. */
    double loss;
    size_t n = 1;
    ck_assert_int_eq(dgn_trainer_step(t, &loss, &n), DGN_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(dgn_trainer_epoch(t, &best), DGN_E_INVALID);
    ck_assert_ptr_nonnull(strstr(dgn_last_error(), "max_steps 40"));
    dgn_trainer_destroy(t);

    /* Nothing improves at this lr: patience 2 would stop after 3 epochs,
     * min_steps holds it to 150 steps (10 epochs). */
    cfg.max_steps = 0;
    cfg.epochs = 50;
    cfg.lr = 1e-9;
    cfg.patience = 2;
    cfg.min_steps = 150;
    s = (seen){0};
    ck_assert_int_eq(dgn_trainer_create(&t, m, ds, &cfg), DGN_OK);
    ck_assert_int_eq(dgn_trainer_fit(t, &best), DGN_OK);
    ck_assert_uint_ge(s.calls, 10);
    ck_assert_uint_lt(s.calls, 50);
    dgn_trainer_destroy(t);

    cfg.max_steps = 100;
    ck_assert_int_eq(dgn_trainer_config_validate(&cfg), DGN_E_INVALID);
    ck_assert_ptr_nonnull(strstr(dgn_last_error(), "min_steps"));
    dgn_model_destroy(m);
    dgn_dataset_destroy(ds);
}
END_TEST

/* A version-1 struct trains as version 1 did: as version 2 with a
 * constant rate and the centre score. The cosine schedule differs. */
START_TEST(version_1_config_trains_as_before)
{
    dgn_trainer_config v1, v2;
    memset(&v1, 0xab, sizeof v1); /* a v1 caller's struct ends early: no v2 field is read */
    ck_assert_int_eq(dgn_trainer_config_init(&v1, 1), DGN_OK);
    ck_assert_uint_eq(v1.version, 1);
    ck_assert_int_eq(dgn_trainer_config_validate(&v1), DGN_OK);
    ck_assert_uint_eq(v1.epochs, 60);
    ck_assert_int_eq(dgn_trainer_config_init(&v2, DGN_TRAINER_CONFIG_VERSION), DGN_OK);
    /* The documented defaults (trainer.h, docs/training.md). */
    ck_assert_uint_eq(v2.epochs, 1000);
    ck_assert_uint_eq(v2.min_steps, 3000);
    ck_assert_uint_eq(v2.max_steps, 10000);
    ck_assert_int_eq(v2.score, DGN_SCORE_CONTRAST);
    ck_assert_int_eq(v2.schedule, DGN_LR_CONSTANT);
    v1.batch = v2.batch = 32;
    v2.schedule = DGN_LR_CONSTANT;
    v2.score = DGN_SCORE_CENTRE;
    v2.warmup_steps = 3; /* ignored by a constant rate */
    size_t np;
    float *a = trained_weights_with(toy_model(), toy_data(5), &v1, 20, &np);
    float *b = trained_weights_with(toy_model(), toy_data(5), &v2, 20, &np);
    ck_assert_int_eq(memcmp(a, b, np * sizeof *a), 0);
    v2.schedule = DGN_LR_COSINE;
    float *c = trained_weights_with(toy_model(), toy_data(5), &v2, 20, &np);
    ck_assert_int_ne(memcmp(a, c, np * sizeof *a), 0);
    free(a);
    free(b);
    free(c);
    ck_assert_int_eq(dgn_trainer_config_init(&v1, DGN_TRAINER_CONFIG_VERSION + 1),
                     DGN_E_INVALID);
}
END_TEST

/* ---- the test split never reaches training or the epoch selection ------- */

/* Toy rows as CSV text (the toy problem's target), from a generator state. */
static char *toy_csv(unsigned st, int n)
{
    size_t cap = 64 + (size_t)n * 128, len = 0;
    char *s = malloc(cap);
    ck_assert_ptr_nonnull(s);
    len += (size_t)snprintf(s, cap, "a,b,c,d,T\n");
    for (int i = 0; i < n; i++) {
        double x[4], sum = 0;
        for (int j = 0; j < 4; j++) {
            st = st * 1664525u + 1013904223u;
            x[j] = 0.05 + (double)(st >> 8) / 16777216.0;
            sum += x[j];
        }
        for (int j = 0; j < 4; j++)
            x[j] /= sum;
        len += (size_t)snprintf(s + len, cap - len, "%.17g,%.17g,%.17g,%.17g,%.17g\n",
                                x[0], x[1], x[2], x[3], 1000 * x[0]);
    }
    return s;
}

typedef struct auc_trace {
    size_t n;
    double auc[8];
} auc_trace;

static int trace(const dgn_epoch_report *r, void *user)
{
    auc_trace *t = user;
    if (t->n < 8)
        t->auc[t->n++] = r->auc;
    return 0;
}

START_TEST(test_rows_never_reach_the_trainer)
{
    char *text = toy_csv(5, 400), *t1 = toy_csv(77, 150), *t2 = toy_csv(991, 90);
    char *main_csv = write_temp_str(text), *test[2] = {write_temp_str(t1), write_temp_str(t2)};
    free(text);
    free(t1);
    free(t2);
    float *w[2], centre[2][8];
    size_t np = 0, best_epoch[2];
    auc_trace tr[2] = {{0}, {0}};
    double test_auc[2];
    for (int run = 0; run < 2; run++) {
        dgn_dataset_config dc;
        dgn_dataset_config_init(&dc, DGN_DATASET_CONFIG_VERSION);
        dc.lo = 300;
        dc.hi = 600;
        dc.sigma = 0.02;
        dc.seed = 8;
        dc.test_path = test[run];
        dgn_dataset *ds = NULL;
        ck_assert_msg(dgn_dataset_load_csv(&ds, main_csv, &dc) == DGN_OK, "%s",
                      dgn_last_error());
        ck_assert_uint_eq(dgn_dataset_n_rows(ds, DGN_SPLIT_TEST), run ? 90 : 150);
        dgn_model *m = toy_model();
        dgn_trainer_config cfg;
        dgn_trainer_config_init(&cfg, DGN_TRAINER_CONFIG_VERSION);
        cfg.batch = 32;
        cfg.epochs = 4;
        cfg.patience = 0;
        cfg.progress = trace;
        cfg.progress_user = &tr[run];
        dgn_trainer *t = NULL;
        ck_assert_int_eq(dgn_trainer_create(&t, m, ds, &cfg), DGN_OK);
        dgn_epoch_report best;
        ck_assert_msg(dgn_trainer_fit(t, &best) == DGN_OK, "%s", dgn_last_error());
        best_epoch[run] = best.epoch;
        ck_assert_int_eq(dgn_trainer_centre(t, centre[run], 8), DGN_OK);
        np = dgn_model_n_params(m);
        w[run] = malloc(np * sizeof **w);
        size_t off = 0;
        for (size_t i = 0; i < dgn_model_n_tensors(m); i++) {
            float *v;
            size_t size;
            dgn_model_tensor(m, i, NULL, &v, NULL, &size);
            memcpy(w[run] + off, v, size * sizeof *v);
            off += size;
        }
        double patk;
        ck_assert_int_eq(dgn_evaluate_split(&test_auc[run], &patk, cfg.k, m, centre[run], ds,
                                            DGN_SPLIT_TEST), DGN_OK);
        ck_assert(isfinite(test_auc[run]) && test_auc[run] > 0.5);
        dgn_trainer_destroy(t);
        dgn_model_destroy(m);
        dgn_dataset_destroy(ds);
    }
    ck_assert_int_eq(memcmp(w[0], w[1], np * sizeof **w), 0);
    ck_assert_int_eq(memcmp(centre[0], centre[1], sizeof centre[0]), 0);
    ck_assert_uint_eq(best_epoch[0], best_epoch[1]);
    ck_assert_uint_eq(tr[0].n, 4);
    ck_assert_uint_eq(tr[1].n, 4);
    ck_assert_int_eq(memcmp(tr[0].auc, tr[1].auc, 4 * sizeof *tr[0].auc), 0);
    /* The two test files are scored, and differ. */
    ck_assert_double_ne(test_auc[0], test_auc[1]);
    free(w[0]);
    free(w[1]);
    remove_temp(main_csv);
    remove_temp(test[0]);
    remove_temp(test[1]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("trainer");
    TCase *tc = tcase_create("training");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, training_learns_and_keeps_the_best);
    tcase_add_test(tc, callback_and_patience_stop_early);
    tcase_add_test(tc, step_by_step_and_validation);
    tcase_add_test(tc, config_init_accepts_every_known_version);
    tcase_add_test(tc, same_seeds_same_weights);
    tcase_add_loop_test(tc, threads_give_the_same_weights, 0, 2);
    tcase_add_test(tc, a_draw_between_steps_sees_no_batch_drawn_ahead);
    tcase_add_test(tc, test_rows_never_reach_the_trainer);
    tcase_add_test(tc, step_budget_and_min_steps);
    tcase_add_test(tc, version_1_config_trains_as_before);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
