/* dgn-bench: the libdgn side of bench/run. Public API only.
 *
 *   dgn-bench speed DATA.csv --threads T [--steps N] [--grid SPEC]
 *       training triplets/s, screening candidates/s and GFLOP/s, and the
 *       sgemm GFLOP/s of this machine at T threads (2048³, and on the
 *       training's three largest products), as one JSON line
 *   dgn-bench scaling DATA.csv --threads T [--steps N] [--windows W]
 *       training on 1 and on T threads in alternate windows of N steps on
 *       one model, W windows each: the two median rates and the median
 *       ratio of neighbouring windows, as one JSON line
 *   dgn-bench sampler DATA.csv [--steps N]
 *       what drawing one batch of training triplets costs right after a
 *       training step on 1 thread (whose data has pushed the table out of
 *       the caches, as in training): the median and quartiles of N calls
 *       of dgn_dataset_next_triplets, in microseconds, as one JSON line
 *   dgn-bench split DATA.csv --lo LO --hi HI [--group-split] [--seed N]
 *                   [--property NAME] [--test-fraction F] OUT_PREFIX
 *       the training, validation (and, with F > 0, test) rows dgn-train
 *       would use, as fractions in CSV: OUT_PREFIX-{train,valid,test}.csv
 *   dgn-bench encode DATA.csv MODEL.dgn OUT.csv
 *       every row's label, score (by the model's centre) and feature f, in
 *       file order, for ensembles and other scores (bench/quality.py); of
 *       an ensemble file, the members' mean score and every member's f side
 *       by side, so that an inner product of two rows' features is the sum
 *       of the members' (and the rules bench/quality.py builds on them
 *       score as the ensemble)
 *   dgn-bench curves DATA.csv --lo LO --hi HI --epochs N OUT_DIR
 *       per-epoch loss and AUC, ROC points and validation features at the
 *       first, middle and last epoch
 */
#include <cblas.h>
#include <strings.h>
#include <time.h>

#include "../examples/cli.h"

const char *cli_program = "dgn-bench";

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct split_options {
    double lo, hi, test_fraction;
    int group;
    uint64_t seed;
    const char *property;
} split_options;

static dgn_dataset *load(const char *path, const split_options *o)
{
    dgn_dataset_config c;
    CHECK(dgn_dataset_config_init(&c, DGN_DATASET_CONFIG_VERSION));
    c.property = o->property;
    c.lo = o->lo;
    c.hi = o->hi;
    c.group_split = o->group;
    c.seed = o->seed;
    c.test_fraction = o->test_fraction;
    dgn_dataset *ds;
    CHECK(dgn_dataset_load_csv(&ds, path, &c));
    return ds;
}

static dgn_model *model_for(const dgn_dataset *ds)
{
    dgn_model_config c;
    CHECK(dgn_model_config_init(&c, DGN_MODEL_CONFIG_VERSION));
    c.n_components = dgn_dataset_n_components(ds);
    dgn_model *m;
    CHECK(dgn_model_create(&m, &c));
    return m;
}

/* FLOPs of one forward row of the model, counted per layer (multiply-add
 * = 2), with the centre score. */
static double model_flops(const dgn_model_config *c)
{
    double n = (double)c->n_components, d = (double)c->embed_dim, h = (double)c->hidden,
           k = (double)c->out_dim;
    double f = n * d;                            /* embedding */
    if (c->interaction)
        f += 2 * n * n * d                       /* graph convolution */
           + 3 * 2 * n * d * d                   /* Q, K, V */
           + 2 * n * n * d + 3 * n * n           /* scores and softmax */
           + 2 * n * n * d;                      /* P·V */
    f += 2 * n * d * h + 4 * h + 2 * h * k + 2 * k /* projection head */
       + 3 * k + 2 * k;                          /* L2 and the centre score */
    return f;
}

/* FLOPs the screener spends per candidate: the evaluation network with
 * its weights multiplied out (lib/screen_eval.h), which it runs at these sizes. */
static double screen_flops(const dgn_model_config *c)
{
    double n = (double)c->n_components, h = (double)c->hidden, k = (double)c->out_dim;
    double f = c->interaction
        ? 2 * n * n                              /* x_l·G_lm·x_m */
          + 3 * 2 * n * n * n                    /* M·R·M and P·M */
          + 3 * n * n + n * n                    /* softmax, times x_m */
          + 2 * n * n * h                        /* [n²]·[n² x h] */
        : 2 * n * h;
    return f + 2 * h + 2 * h * k + k + 4 * k;    /* bias and ReLU, W2, score */
}

/* FLOPs of one training triplet (3 rows, forward and backward) in the
 * folded training pass that the model runs at these sizes (lib/folded.h),
 * counted per stage; the weight products formed once per batch of
 * batch_rows rows are shared out over its rows. Adam is not counted. */
static double train_flops(const dgn_model_config *c, double batch_rows)
{
    double n = (double)c->n_components, d = (double)c->embed_dim, h = (double)c->hidden,
           k = (double)c->out_dim;
    double fwd = 2 * n * n                       /* x_l·G_lm·x_m */
               + 3 * 2 * n * n * n               /* M·R·Mᵀ and P·M */
               + 4 * n * n                       /* softmax, times x_m */
               + 2 * n * n * h                   /* [n²]·[n² x h] */
               + 8 * h                           /* BatchNorm, ReLU, dropout */
               + 2 * h * k + k + 3 * k;          /* W2, L2 */
    double bwd = 5 * k + 4 * h * k + k           /* L2, W2 */
               + 8 * h                           /* ReLU, dropout, BatchNorm */
               + 2 * 2 * n * n * h               /* dWf and dT */
               + 6 * 2 * n * n * n               /* three n x n products, three for dM */
               + 8 * n * n;                      /* times x_m, softmax, dG */
    double batch = 3 * 2 * n * d * d + 2 * n * n * d + 2 * n * n * d * h /* fold */
                 + 2 * 2 * n * n * d + 2 * 2 * n * n * d * h         /* dG, dWf back */
                 + 6 * 2 * n * d * d;                                /* to E, W* */
    return 3 * (fwd + bwd + batch / batch_rows);
}

/* Best of 5 timed runs of an n x n x n sgemm. */
static double sgemm_gflops(int n)
{
    float *a = malloc((size_t)n * n * sizeof *a), *b = malloc((size_t)n * n * sizeof *b),
          *c = malloc((size_t)n * n * sizeof *c);
    for (size_t i = 0; i < (size_t)n * n; i++)
        a[i] = b[i] = (float)(i % 7) * 0.1f;
    double best = 0;
    for (int r = 0; r < 6; r++) {
        double t = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n,
                    0.0f, c, n);
        t = now() - t;
        if (r > 0 && 2.0 * n * n * n / t / 1e9 > best)
            best = 2.0 * n * n * n / t / 1e9;
    }
    free(a);
    free(b);
    free(c);
    return best;
}

/* OpenBLAS's own rate on the three products that take most of a training
 * step (the folded projection forward, dWf and dT; lib/folded.c) at this
 * model's sizes: what a tuned sgemm makes of these shapes, against its
 * 2048³ rate. Best of 5 timed runs of the three together. */
static double training_shapes_gflops(size_t n2, size_t h, size_t rows)
{
    float *T = calloc(n2 * rows, sizeof *T), *W = calloc(n2 * h, sizeof *W),
          *Y = calloc(rows * h, sizeof *Y), *dW = calloc(n2 * h, sizeof *dW),
          *dT = calloc(n2 * rows, sizeof *dT);
    if (!T || !W || !Y || !dW || !dT) {
        fprintf(stderr, "dgn-bench: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n2 * rows; i++)
        T[i] = (float)(i % 7) * 0.1f;
    for (size_t i = 0; i < n2 * h; i++)
        W[i] = (float)(i % 5) * 0.1f;
    double best = 0, flops = 3 * 2.0 * (double)n2 * (double)h * (double)rows;
    for (int r = 0; r < 6; r++) {
        double t = now();
        for (int k = 0; k < 10; k++) {
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)rows, (int)h, (int)n2,
                        1.0f, T, (int)rows, W, (int)h, 0.0f, Y, (int)h);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n2, (int)h, (int)rows,
                        1.0f, T, (int)rows, Y, (int)h, 0.0f, dW, (int)h);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n2, (int)rows, (int)h,
                        1.0f, W, (int)h, Y, (int)h, 0.0f, dT, (int)rows);
        }
        t = now() - t;
        if (r > 0 && 10 * flops / t / 1e9 > best)
            best = 10 * flops / t / 1e9;
    }
    free(T);
    free(W);
    free(Y);
    free(dW);
    free(dT);
    return best;
}

/* OpenBLAS serves only the sgemm reference here (libdgn calls no BLAS),
 * but a reference run on a generic core would flatter every fraction of
 * it: say so once, with the remedy. */
static void warn_generic_openblas(void)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    static const char *const avx2_cores[] = {"Haswell", "Zen", "SkylakeX", "Cooperlake",
                                             "SapphireRapids"};
    const char *core = openblas_get_corename();
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !core)
        return;
    for (size_t i = 0; i < sizeof avx2_cores / sizeof *avx2_cores; i++)
        if (!strcasecmp(core, avx2_cores[i]))
            return;
    fprintf(stderr,
            "dgn-bench: warning: OpenBLAS runs its %s kernels on a CPU with %s; the sgemm "
            "reference understates this CPU (set OPENBLAS_CORETYPE=%s); libdgn calls no "
            "BLAS and is not affected\n",
            core, __builtin_cpu_supports("avx512f") ? "AVX-512" : "AVX2",
            __builtin_cpu_supports("avx512f") ? "SkylakeX" : "Haswell");
#endif
}

/* A trainer with the default config (into *tc) on m and ds. */
static dgn_trainer *default_trainer(dgn_model *m, dgn_dataset *ds, dgn_trainer_config *tc)
{
    CHECK(dgn_trainer_config_init(tc, DGN_TRAINER_CONFIG_VERSION));
    dgn_trainer *t;
    CHECK(dgn_trainer_create(&t, m, ds, tc));
    return t;
}

/* Untimed steps before each timed run: the model's buffers, the pool's
 * threads and the cores' clocks settle over the first hundred steps or so
 * on a shared machine (bench/torch_dgn.py warms up as many). */
#define WARMUP_STEPS 50

/* `steps` training steps, a new epoch where one runs out; the triplets. */
static size_t train_steps(dgn_trainer *t, dgn_dataset *ds, size_t steps)
{
    double loss;
    size_t n, triplets = 0;
    for (size_t s = 0; s < steps; s++) {
        CHECK(dgn_trainer_step(t, &loss, &n));
        if (n == 0) {
            CHECK(dgn_dataset_shuffle(ds));
            CHECK(dgn_trainer_step(t, &loss, &n));
        }
        triplets += n;
    }
    return triplets;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The q-quantile of v [n] (sorted in place), by the nearest rank. */
static double quantile(double *v, size_t n, double q)
{
    qsort(v, n, sizeof *v, cmp_double);
    return v[(size_t)(q * (double)(n - 1) + 0.5)];
}

/* What a second thread does for training, measured so that the machine's
 * drift cannot decide it: rates here wander by a third between runs
 * minutes apart, so 1 and T threads alternate in windows of one process,
 * on one model, each pair in turn starting with either, and the ratio of
 * each pair's two windows is what counts. */
static int scaling(const char *data, const split_options *o, int threads, size_t steps,
                   size_t windows)
{
    if (steps == 0 || windows == 0)
        cli_die("%s", "scaling: --steps and --windows must be at least 1");
    dgn_dataset *ds = load(data, o);
    dgn_model *m = model_for(ds);
    dgn_trainer_config tc;
    dgn_trainer *t = default_trainer(m, ds, &tc);
    double *rate = malloc(2 * windows * sizeof *rate), *ratio = malloc(windows * sizeof *ratio);
    if (!rate || !ratio) {
        fprintf(stderr, "dgn-bench: out of memory\n");
        exit(1);
    }
    for (size_t w = 0; w < windows; w++)
        for (size_t k = 0; k < 2; k++) {
            size_t side = (k + w) % 2; /* 0: one thread, 1: T */
            CHECK(dgn_model_set_threads(m, side ? (size_t)threads : 1));
            train_steps(t, ds, WARMUP_STEPS);
            double t0 = now();
            size_t triplets = train_steps(t, ds, steps);
            rate[side * windows + w] = (double)triplets / (now() - t0);
        }
    for (size_t w = 0; w < windows; w++)
        ratio[w] = rate[windows + w] / rate[w];
    double q1 = quantile(ratio, windows, 0.25), q3 = quantile(ratio, windows, 0.75);
    printf("{\"threads\": %d, \"windows\": %zu, \"steps_per_window\": %zu, "
           "\"warmup_steps\": %d, \"batch_triplets\": %zu, "
           "\"train_triplets_per_s_1\": %.1f, \"train_triplets_per_s_threads\": %.1f, "
           "\"ratio\": %.4f, \"ratio_q1\": %.4f, \"ratio_q3\": %.4f}\n",
           threads, windows, steps, WARMUP_STEPS, tc.batch, quantile(rate, windows, 0.5),
           quantile(rate + windows, windows, 0.5), quantile(ratio, windows, 0.5), q1, q3);
    free(rate);
    free(ratio);
    dgn_trainer_destroy(t);
    dgn_model_destroy(m);
    dgn_dataset_destroy(ds);
    return 0;
}

/* The triplet sampler is serial (on 2 threads it draws the next batch
 * beside the step, on 1 between steps), so its time is timed by itself:
 * a step of training, then one batch drawn into a buffer of its own. */
static int sampler(const char *data, const split_options *o, size_t calls)
{
    if (calls == 0)
        cli_die("%s", "sampler: --steps must be at least 1");
    dgn_dataset *ds = load(data, o);
    dgn_model *m = model_for(ds);
    dgn_trainer_config tc;
    dgn_trainer *t = default_trainer(m, ds, &tc);
    size_t c = dgn_dataset_n_components(ds), n;
    float *x = malloc(3 * tc.batch * c * sizeof *x);
    double *us = malloc(calls * sizeof *us);
    if (!x || !us) {
        fprintf(stderr, "dgn-bench: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < calls; i++) {
        train_steps(t, ds, 1);
        double t0 = now();
        CHECK(dgn_dataset_next_triplets(ds, x, 3 * tc.batch * c, NULL, 0, tc.batch, &n));
        us[i] = (now() - t0) * 1e6;
        if (n == 0) {
            CHECK(dgn_dataset_shuffle(ds));
            i--; /* an epoch's end draws nothing: not a sample */
        }
    }
    double q1 = quantile(us, calls, 0.25), q3 = quantile(us, calls, 0.75);
    printf("{\"batch_triplets\": %zu, \"calls\": %zu, \"median_us\": %.1f, "
           "\"q1_us\": %.1f, \"q3_us\": %.1f}\n",
           tc.batch, calls, quantile(us, calls, 0.5), q1, q3);
    free(x);
    free(us);
    dgn_trainer_destroy(t);
    dgn_model_destroy(m);
    dgn_dataset_destroy(ds);
    return 0;
}

static int speed(const char *data, const split_options *o, int threads, size_t steps,
                 const char *grid)
{
    warn_generic_openblas();
    dgn_dataset *ds = load(data, o);
    dgn_model *m = model_for(ds);
    CHECK(dgn_model_set_threads(m, (size_t)threads));
    dgn_trainer_config tc;
    dgn_trainer *t = default_trainer(m, ds, &tc);

    train_steps(t, ds, WARMUP_STEPS);
    double t0 = now();
    size_t triplets = train_steps(t, ds, steps);
    double train_s = now() - t0;

    /* Screening: the model as trained so far, with its context attached. */
    dgn_model_config mc;
    CHECK(dgn_model_get_config(m, &mc));
    float *centre = malloc(mc.out_dim * sizeof *centre);
    CHECK(dgn_class_centre(centre, mc.out_dim, m, ds));
    CHECK(dgn_model_attach_context(m, ds, centre, NULL));
    dgn_screener_config sc;
    CHECK(dgn_screener_config_init(&sc, DGN_SCREENER_CONFIG_VERSION));
    sc.threads = (size_t)threads;
    dgn_screener *s;
    CHECK(dgn_screener_create(&s, m, &sc));
    CHECK(dgn_screener_set_grid(s, grid));
    uint64_t total, mine;
    CHECK(dgn_screener_count(s, &total, &mine));
    double t1 = now();
    CHECK(dgn_screener_run(s));
    double screen_s = now() - t1;

    /* The same number of rows through the forward pass (dgn_model_scores),
     * to show what the fold contributes: training rows, tiled. */
    size_t c = mc.n_components, n_train = dgn_dataset_n_rows(ds, DGN_SPLIT_TRAIN);
    size_t n_rows = total > n_train ? (size_t)total : n_train;
    float *rows = malloc(n_rows * c * sizeof *rows), *scores = malloc(n_rows * sizeof *scores);
    if (!rows || !scores) {
        fprintf(stderr, "dgn-bench: out of memory\n");
        exit(1);
    }
    CHECK(dgn_dataset_features(ds, DGN_SPLIT_TRAIN, DGN_VIEW_ZSCORE, rows, n_train * c));
    for (size_t i = n_train; i < total; i++)
        memcpy(rows + i * c, rows + (i % n_train) * c, c * sizeof *rows);
    double t2 = now();
    CHECK(dgn_model_scores(scores, total, m, centre, rows, total));
    double forward_s = now() - t2;

    /* The reference: OpenBLAS's sgemm at this many threads. */
    openblas_set_num_threads(threads);
    double flops = screen_flops(&mc), peak = sgemm_gflops(2048);
    char runtime[256];
    CHECK(dgn_runtime_describe(runtime, sizeof runtime));
    double tflops = train_flops(&mc, 3.0 * (double)tc.batch);
    double shapes = training_shapes_gflops(mc.n_components * mc.n_components, mc.hidden,
                                           3 * tc.batch);
    printf("{\"threads\": %d, \"batch_triplets\": %zu, \"train_triplets\": %zu, "
           "\"train_seconds\": %.4f, "
           "\"train_triplets_per_s\": %.1f, \"candidates\": %llu, \"screen_seconds\": %.4f, "
           "\"screen_candidates_per_s\": %.1f, \"forward_candidates_per_s\": %.1f, "
           "\"flops_per_candidate\": %.0f, \"model_flops_per_candidate\": %.0f, "
           "\"screen_gflops\": %.3f, \"train_flops_per_triplet\": %.0f, "
           "\"train_gflops\": %.3f, \"sgemm_gflops\": %.3f, "
           "\"sgemm_training_shapes_gflops\": %.3f, \"openblas\": \"%s\", "
           "\"openblas_core\": \"%s\", \"kernels\": \"%s\", \"runtime\": \"%s\"}\n",
           threads, tc.batch, triplets, train_s, (double)triplets / train_s,
           (unsigned long long)total, screen_s, (double)total / screen_s,
           (double)total / forward_s, flops, model_flops(&mc),
           flops * (double)total / screen_s / 1e9, tflops,
           tflops * (double)triplets / train_s / 1e9, peak, shapes, openblas_get_config(),
           openblas_get_corename(), dgn_kernel_build(), runtime);
    free(rows);
    free(scores);
    free(centre);
    dgn_screener_destroy(s);
    dgn_trainer_destroy(t);
    dgn_model_destroy(m);
    dgn_dataset_destroy(ds);
    return 0;
}

static void write_split(const dgn_dataset *ds, dgn_split split, const char *path)
{
    size_t n = dgn_dataset_n_rows(ds, split), c = dgn_dataset_n_components(ds);
    float *x = malloc(n * c * sizeof *x);
    double *y = malloc(n * sizeof *y);
    CHECK(dgn_dataset_features(ds, split, DGN_VIEW_FRACTION, x, n * c));
    CHECK(dgn_dataset_property_values(ds, split, y, n));
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "dgn-bench: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    for (size_t j = 0; j < c; j++)
        fprintf(f, "\"%s\",", dgn_dataset_component_name(ds, j));
    fprintf(f, "\"%s\"\n", dgn_dataset_property_name(ds));
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < c; j++)
            fprintf(f, "%.9g,", (double)x[i * c + j]);
        fprintf(f, "%.9g\n", y[i]);
    }
    fclose(f);
    free(x);
    free(y);
}

static int split(const char *data, const split_options *o, const char *prefix)
{
    dgn_dataset *ds = load(data, o);
    char path[4096];
    snprintf(path, sizeof path, "%s-train.csv", prefix);
    write_split(ds, DGN_SPLIT_TRAIN, path);
    snprintf(path, sizeof path, "%s-valid.csv", prefix);
    write_split(ds, DGN_SPLIT_VALID, path);
    if (o->test_fraction > 0) {
        snprintf(path, sizeof path, "%s-test.csv", prefix);
        write_split(ds, DGN_SPLIT_TEST, path);
    }
    dgn_dataset_destroy(ds);
    return 0;
}

static int encode(const char *data, const char *model_path, const char *out)
{
    dgn_ensemble *e;
    CHECK(dgn_ensemble_load(&e, model_path));
    dgn_model *m = dgn_ensemble_member(e, 0);
    dgn_model_config mc;
    CHECK(dgn_model_get_config(m, &mc));
    size_t c = mc.n_components, k = mc.out_dim, members = dgn_ensemble_size(e);
    const char **names = malloc(c * sizeof *names);
    double *mean = malloc(c * sizeof *mean), *sd = malloc(c * sizeof *sd);
    if (!names || !mean || !sd)
        { fprintf(stderr, "dgn-bench: out of memory\n"); exit(1); }
    for (size_t j = 0; j < c; j++)
        names[j] = dgn_model_component_name(m, j);
    dgn_dataset_config dc;
    CHECK(dgn_dataset_config_init(&dc, DGN_DATASET_CONFIG_VERSION));
    CHECK(dgn_model_target_range(m, &dc.lo, &dc.hi));
    dc.property = dgn_model_property_name(m);
    dc.components = names;
    dc.n_components = c;
    dc.valid_fraction = 0;
    dgn_dataset *ds;
    CHECK(dgn_dataset_load_csv(&ds, data, &dc));
    size_t n = dgn_dataset_n_rows(ds, DGN_SPLIT_ALL);
    float *x = malloc(n * c * sizeof *x), *f = malloc(members * n * k * sizeof *f),
          *score = malloc(n * sizeof *score), *centre = malloc(k * sizeof *centre);
    int32_t *y = malloc(n * sizeof *y);
    if (!x || !f || !y || !score || !centre)
        { fprintf(stderr, "dgn-bench: out of memory\n"); exit(1); }
    CHECK(dgn_model_zscore_stats(m, mean, sd, c));
    CHECK(dgn_dataset_features_zscored(ds, DGN_SPLIT_ALL, mean, sd, x, n * c));
    CHECK(dgn_dataset_labels(ds, DGN_SPLIT_ALL, y, n));
    for (size_t j = 0; j < members; j++) {
        dgn_model *mj = dgn_ensemble_member(e, j);
        CHECK(dgn_model_set_training(mj, 0));
        CHECK(dgn_model_encode(mj, f + j * n * k, n * k, x, n));
    }
    /* One network: dgn_model_scores by its centre, bit for bit. */
    CHECK(dgn_ensemble_scores(score, n, NULL, 0, e, x, n));
    FILE *o = fopen(out, "w");
    if (!o)
        { fprintf(stderr, "dgn-bench: %s: %s\n", out, strerror(errno)); exit(1); }
    for (size_t i = 0; i < n; i++) {
        fprintf(o, "%d,%.9g", (int)y[i], (double)score[i]);
        for (size_t j = 0; j < members; j++)
            for (size_t d = 0; d < k; d++)
                fprintf(o, ",%.7g", (double)f[(j * n + i) * k + d]);
        fprintf(o, "\n");
    }
    if (fclose(o))
        { fprintf(stderr, "dgn-bench: %s: %s\n", out, strerror(errno)); exit(1); }
    free(x); free(f); free(y); free(score); free(centre); free(names); free(mean); free(sd);
    dgn_dataset_destroy(ds);
    dgn_ensemble_destroy(e);
    return 0;
}

/* Per-epoch curves, and ROC points and features at three epochs. */
static int curves(const char *data, const split_options *o, size_t epochs, const char *dir)
{
    dgn_dataset *ds = load(data, o);
    dgn_model *m = model_for(ds);
    dgn_trainer_config tc;
    CHECK(dgn_trainer_config_init(&tc, DGN_TRAINER_CONFIG_VERSION));
    tc.max_steps = 0; /* the epochs asked for, not the default step budget */
    dgn_trainer *t;
    CHECK(dgn_trainer_create(&t, m, ds, &tc));
    dgn_model_config mc;
    CHECK(dgn_model_get_config(m, &mc));
    size_t c = mc.n_components, k = mc.out_dim, n = dgn_dataset_n_rows(ds, DGN_SPLIT_VALID);
    float *x = malloc(n * c * sizeof *x), *f = malloc(n * k * sizeof *f),
          *s = malloc(n * sizeof *s), *centre = malloc(k * sizeof *centre),
          *fpr = malloc((n + 1) * sizeof *fpr), *tpr = malloc((n + 1) * sizeof *tpr);
    int32_t *y = malloc(n * sizeof *y);
    CHECK(dgn_dataset_features(ds, DGN_SPLIT_VALID, DGN_VIEW_ZSCORE, x, n * c));
    CHECK(dgn_dataset_labels(ds, DGN_SPLIT_VALID, y, n));

    char path[4096];
    snprintf(path, sizeof path, "%s/epochs.csv", dir);
    FILE *ep = fopen(path, "w");
    snprintf(path, sizeof path, "%s/roc.csv", dir);
    FILE *roc = fopen(path, "w");
    if (!ep || !roc) {
        fprintf(stderr, "dgn-bench: cannot write in %s\n", dir);
        return 1;
    }
    fprintf(ep, "epoch,loss,auc,precision_at_100\n");
    fprintf(roc, "epoch,fpr,tpr\n");
    size_t marks[] = {1, (epochs + 1) / 2, epochs};
    for (size_t e = 1; e <= epochs; e++) {
        dgn_epoch_report r;
        CHECK(dgn_trainer_epoch(t, &r));
        fprintf(ep, "%zu,%.6f,%.6f,%.4f\n", r.epoch, r.loss, r.auc, r.precision_at_k);
        fprintf(stderr, "epoch %zu: loss %.4f auc %.4f\n", r.epoch, r.loss, r.auc);
        if (e != marks[0] && e != marks[1] && e != marks[2] && e % 10 != 0)
            continue;
        CHECK(dgn_trainer_centre(t, centre, k));
        CHECK(dgn_model_scores(s, n, m, centre, x, n));
        size_t points;
        CHECK(dgn_roc_curve(fpr, tpr, n + 1, &points, s, y, n));
        for (size_t i = 0; i < points; i++)
            fprintf(roc, "%zu,%.6f,%.6f\n", e, (double)fpr[i], (double)tpr[i]);
        if (e != marks[0] && e != marks[1] && e != marks[2])
            continue;
        CHECK(dgn_model_encode(m, f, n * k, x, n));
        snprintf(path, sizeof path, "%s/features-epoch%zu.csv", dir, e);
        FILE *ff = fopen(path, "w");
        for (size_t i = 0; i < n; i++) {
            fprintf(ff, "%d", (int)y[i]);
            for (size_t j = 0; j < k; j++)
                fprintf(ff, ",%.6g", (double)f[i * k + j]);
            fprintf(ff, "\n");
        }
        fclose(ff);
    }
    fclose(ep);
    fclose(roc);
    free(x); free(f); free(s); free(centre); free(fpr); free(tpr); free(y);
    dgn_trainer_destroy(t);
    dgn_model_destroy(m);
    dgn_dataset_destroy(ds);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: dgn-bench speed|scaling|sampler|split|encode|curves "
                        "DATA.csv [options]\n");
        return 2;
    }
    const char *mode = argv[1], *data = argv[2], *pos = NULL, *pos2 = NULL;
    const char *grid = "step=5, SiO2=35:75, Al2O3=0:15, B2O3=0:15, Na2O=0:20, K2O=0:10, "
                       "Li2O=0:10, ZnO=0:10, SrO=0:10, CaO=0:20, MgO=0:10, TiO2=0:10, P2O5=0:10";
    int threads = 1;
    size_t steps = 60, epochs = 30, windows = 20;
    split_options so = {.lo = 500, .hi = 600, .seed = 2024, .property = "TG"};
    for (int i = 3; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--threads"))
            threads = (int)cli_count(a, cli_value(argc, argv, &i));
        else if (!strcmp(a, "--steps"))
            steps = cli_count(a, cli_value(argc, argv, &i));
        else if (!strcmp(a, "--windows"))
            windows = cli_count(a, cli_value(argc, argv, &i));
        else if (!strcmp(a, "--epochs"))
            epochs = cli_count(a, cli_value(argc, argv, &i));
        else if (!strcmp(a, "--grid"))
            grid = cli_value(argc, argv, &i);
        else if (!strcmp(a, "--lo"))
            so.lo = cli_double(a, cli_value(argc, argv, &i));
        else if (!strcmp(a, "--hi"))
            so.hi = cli_double(a, cli_value(argc, argv, &i));
        else if (!strcmp(a, "--group-split"))
            so.group = 1;
        else if (!strcmp(a, "--seed"))
            so.seed = cli_count(a, cli_value(argc, argv, &i));
        else if (!strcmp(a, "--property"))
            so.property = cli_value(argc, argv, &i);
        else if (!strcmp(a, "--test-fraction"))
            so.test_fraction = cli_double(a, cli_value(argc, argv, &i));
        else if (a[0] == '-')
            cli_die("unknown option %s", a);
        else if (!pos)
            pos = a;
        else
            pos2 = a;
    }
    if (!strcmp(mode, "speed"))
        return speed(data, &so, threads, steps, grid);
    if (!strcmp(mode, "scaling"))
        return scaling(data, &so, threads, steps, windows);
    if (!strcmp(mode, "sampler"))
        return sampler(data, &so, steps);
    if (!strcmp(mode, "split") && pos)
        return split(data, &so, pos);
    if (!strcmp(mode, "encode") && pos && pos2)
        return encode(data, pos, pos2);
    if (!strcmp(mode, "curves") && pos)
        return curves(data, &so, epochs, pos);
    cli_die("unknown mode or missing output: %s", mode);
    return 2;
}
