/* dgn-eval: score a labelled composition table with a trained model.
 *
 *   dgn-eval MODEL.dgn DATA.csv [--k 100] [--json]
 *
 * The labels use the model's property and range; rows are normalised with
 * the model's training statistics.
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

    dgn_model *model;
    CHECK(dgn_model_load(&model, model_path));
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
    float *centre = alloc(mcfg.out_dim, sizeof *centre, "class centre"),
          *x = alloc(n * c, sizeof *x, "rows"), *scores = alloc(n, sizeof *scores, "scores");
    int32_t *labels = alloc(n, sizeof *labels, "labels");
    CHECK(dgn_model_zscore_stats(model, mean, sd, c));
    CHECK(dgn_model_class_centre(model, centre, mcfg.out_dim));
    CHECK(dgn_dataset_features_zscored(ds, DGN_SPLIT_ALL, mean, sd, x, n * c));
    CHECK(dgn_dataset_labels(ds, DGN_SPLIT_ALL, labels, n));
    CHECK(dgn_model_scores(scores, n, model, centre, x, n));
    double auc, patk;
    CHECK(dgn_auc(&auc, scores, labels, n));
    CHECK(dgn_precision_at_k(&patk, scores, labels, n, k));
    size_t positives = dgn_dataset_n_positive(ds, DGN_SPLIT_ALL);

    fprintf(stderr, "%s on %s: %zu rows, %zu with %s in [%g, %g]; auc %.4f, p@%zu %.3f\n",
            model_path, data, n, positives, dcfg.property, dcfg.lo, dcfg.hi, auc, k, patk);
    if (json) {
        cli_json j;
        json_open(&j, stdout);
        json_number(&j, "auc", "%.6f", auc);
        json_number(&j, "precision_at_k", "%.6f", patk);
        json_count(&j, "k", k);
        json_count(&j, "n", n);
        json_count(&j, "positives", positives);
        json_runtime(&j);
        json_close(&j);
    }
    free(x);
    free(scores);
    free(labels);
    free(names);
    free(mean);
    free(sd);
    free(centre);
    dgn_dataset_destroy(ds);
    dgn_model_destroy(model);
    return 0;
}
