/* dgn-eval: score a labelled composition table with a trained model.
 *
 *   dgn-eval MODEL.dgn DATA.csv [--k 100] [--threads N] [--json]
 *
 * The labels use the model's property and range; rows are normalised with
 * the model's training statistics. MODEL.dgn may be an ensemble file
 * (dgn-train --ensemble K): rows are then scored by the members' mean, and
 * the members' own AUC range and the mean spread of their scores are
 * reported too.
 */
#include "cli.h"

const char *cli_program = "dgn-eval";

/* malloc that exits with a message: an example has nothing to undo. */
static void *alloc(size_t n, size_t size, const char *what)
{
    void *p = malloc((n ? n : 1) * size);
    if (!p) {
        fprintf(stderr, "%s: out of memory (%s)\n", cli_program, what);
        exit(1);
    }
    return p;
}

/* The dataset config that reads a table as the model was trained: its
 * component names in its order, its property and range (the model's
 * context calls). names [n_components] holds the borrowed names. */
static void dataset_config_of(dgn_dataset_config *cfg, const char **names,
                              const dgn_model *model, size_t n_components)
{
    CHECK(dgn_dataset_config_init(cfg, DGN_DATASET_CONFIG_VERSION));
    CHECK(dgn_model_target_range(model, &cfg->lo, &cfg->hi));
    cfg->property = dgn_model_property_name(model);
    for (size_t j = 0; j < n_components; j++)
        names[j] = dgn_model_component_name(model, j);
    cfg->components = names;
    cfg->n_components = n_components;
    cfg->valid_fraction = 0; /* every row is scored */
}

int main(int argc, char **argv)
{
    cli_args p;
    cli_args_init(&p, argc, argv);
    eval_options o;
    CLI_EXIT_UNLESS_RUN(eval_parse(&o, &p), &p, eval_usage);
    const char *model_path = o.model_path, *data = o.data_path;
    size_t k = o.k;
    int json = o.json;

    dgn_ensemble *e;
    CHECK(dgn_ensemble_load(&e, model_path));
    size_t members = dgn_ensemble_size(e);
    /* The same scores at any thread count. */
    for (size_t m = 0; m < members; m++)
        CHECK(dgn_model_set_threads(dgn_ensemble_member(e, m), o.threads));
    dgn_model *model = dgn_ensemble_member(e, 0); /* the context every member shares */
    dgn_model_config mcfg;
    CHECK(dgn_model_get_config(model, &mcfg));
    size_t c = mcfg.n_components;
    const char **names = alloc(c, sizeof *names, "component names");
    dgn_dataset_config dcfg;
    dataset_config_of(&dcfg, names, model, c);
    dgn_dataset *ds;
    CHECK(dgn_dataset_load_csv(&ds, data, &dcfg));

    /* Rows normalised with the model's statistics, scored against its
     * stored class centre. */
    size_t n = dgn_dataset_n_rows(ds, DGN_SPLIT_ALL);
    double *mean = alloc(c, sizeof *mean, "z-score statistics"),
           *sd = alloc(c, sizeof *sd, "z-score statistics");
    float *alone = alloc(n, sizeof *alone, "scores"), *x = alloc(n * c, sizeof *x, "rows"), *scores = alloc(n, sizeof *scores, "scores");
    float *spread = alloc(n, sizeof *spread, "spreads");
    int32_t *labels = alloc(n, sizeof *labels, "labels");
    CHECK(dgn_model_zscore_stats(model, mean, sd, c));
    CHECK(dgn_dataset_features_zscored(ds, DGN_SPLIT_ALL, mean, sd, x, n * c));
    CHECK(dgn_dataset_labels(ds, DGN_SPLIT_ALL, labels, n));
    /* With one network this is dgn_model_scores by its centre, bit for bit. */
    CHECK(dgn_ensemble_scores(scores, n, spread, n, e, x, n));
    double auc, patk;
    CHECK(dgn_auc(&auc, scores, labels, n));
    CHECK(dgn_precision_at_k(&patk, scores, labels, n, k));
    size_t positives = dgn_dataset_n_positive(ds, DGN_SPLIT_ALL);

    /* Each member alone, and how much they disagree on a row. */
    double lo = INFINITY, hi = -INFINITY, mean_spread = 0;
    for (size_t m = 0; members > 1 && m < members; m++) {
        dgn_model *mm = dgn_ensemble_member(e, m);
        dgn_model_config mc;
        CHECK(dgn_model_get_config(mm, &mc));
        float *cm = alloc(mc.out_dim, sizeof *cm, "class centre");
        double a;
        CHECK(dgn_model_class_centre(mm, cm, mc.out_dim));
        CHECK(dgn_model_scores(alone, n, mm, cm, x, n));
        CHECK(dgn_auc(&a, alone, labels, n));
        lo = a < lo ? a : lo;
        hi = a > hi ? a : hi;
        free(cm);
    }
    for (size_t i = 0; members > 1 && i < n; i++)
        mean_spread += spread[i] / (double)n;

    fprintf(stderr, "%s on %s: %zu rows, %zu with %s in [%g, %g]; auc %.4f, p@%zu %.3f\n",
            model_path, data, n, positives, dcfg.property, dcfg.lo, dcfg.hi, auc, k, patk);
    if (members > 1)
        fprintf(stderr, "ensemble of %zu: the mean score above; members alone auc %.4f to "
                "%.4f; mean spread of their scores %.4g\n", members, lo, hi, mean_spread);
    if (json) {
        cli_json j;
        json_open(&j, stdout);
        json_number(&j, "auc", "%.6f", auc);
        json_number(&j, "precision_at_k", "%.6f", patk);
        json_count(&j, "k", k);
        json_count(&j, "n", n);
        json_count(&j, "positives", positives);
        if (members > 1) {
            json_count(&j, "members", members);
            json_number(&j, "member_auc_min", "%.6f", lo);
            json_number(&j, "member_auc_max", "%.6f", hi);
            json_number(&j, "mean_spread", "%.6g", mean_spread);
        }
        json_runtime(&j);
        json_close(&j);
    }
    free(x);
    free(scores);
    free(labels);
    free(names);
    free(mean);
    free(sd);
    free(alone);
    free(spread);
    dgn_dataset_destroy(ds);
    dgn_ensemble_destroy(e);
    return 0;
}
