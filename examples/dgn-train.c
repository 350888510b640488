/* dgn-train: train DeepGlassNet on a composition table for a property range.
 *
 *   dgn-train DATA.csv --lo LO --hi HI -o MODEL.dgn [--property NAME]
 *             [--valid VALID.csv | --valid-fraction F] [--group-split] [--seed N]
 *             [--epochs N] [--batch N] [--lr X] [--tau X] [--sigma X]
 *             [--no-interaction] [--no-augment] [--threads N] [--json]
 *             [--select auc|precision] [--balance auto|on|off]
 */
#include <cblas.h>

#include "cli.h"

const char *cli_program = "dgn-train";

static const char usage[] =
    "usage: dgn-train DATA.csv --lo LO --hi HI -o MODEL.dgn [--property NAME]\n"
    "                 [--valid VALID.csv | --valid-fraction F] [--group-split] [--seed N]\n"
    "                 [--epochs N] [--batch N] [--lr X] [--tau X] [--sigma X]\n"
    "                 [--no-interaction] [--no-augment] [--threads N] [--json]\n"
    "                 [--select auc|precision] [--balance auto|on|off]\n";

typedef struct run {
    int json;
} run;

static int report(const dgn_epoch_report *r, void *user)
{
    const run *u = user;
    fprintf(stderr, "epoch %3zu  loss %.4f  auc %.4f  p@%zu %.3f  %.1fs%s\n", r->epoch,
            r->loss, r->auc, r->k, r->precision_at_k, r->seconds, r->best ? "  *" : "");
    if (u->json)
        printf("{\"epoch\": %zu, \"loss\": %.6f, \"auc\": %.6f, \"precision_at_k\": %.6f, "
               "\"k\": %zu, \"seconds\": %.3f, \"best\": %s}\n",
               r->epoch, r->loss, r->auc, r->precision_at_k, r->k, r->seconds,
               r->best ? "true" : "false");
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    dgn_dataset_config dcfg;
    dgn_model_config mcfg;
    dgn_trainer_config tcfg;
    CHECK(dgn_dataset_config_init(&dcfg, DGN_DATASET_CONFIG_VERSION));
    CHECK(dgn_model_config_init(&mcfg, DGN_MODEL_CONFIG_VERSION));
    CHECK(dgn_trainer_config_init(&tcfg, DGN_TRAINER_CONFIG_VERSION));
    const char *data = NULL, *out = NULL;
    int have_lo = 0, have_hi = 0, have_fraction = 0;
    run u = {0};

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage, stdout);
            return 0;
        } else if (!strcmp(a, "--lo")) {
            dcfg.lo = cli_double(a, cli_value(argc, argv, &i));
            have_lo = 1;
        } else if (!strcmp(a, "--hi")) {
            dcfg.hi = cli_double(a, cli_value(argc, argv, &i));
            have_hi = 1;
        } else if (!strcmp(a, "-o")) {
            out = cli_value(argc, argv, &i);
        } else if (!strcmp(a, "--property")) {
            dcfg.property = cli_value(argc, argv, &i);
        } else if (!strcmp(a, "--valid")) {
            dcfg.valid_path = cli_value(argc, argv, &i);
        } else if (!strcmp(a, "--valid-fraction")) {
            dcfg.valid_fraction = cli_double(a, cli_value(argc, argv, &i));
            have_fraction = 1;
        } else if (!strcmp(a, "--group-split")) {
            dcfg.group_split = 1;
        } else if (!strcmp(a, "--seed")) {
            dcfg.seed = mcfg.seed = cli_count(a, cli_value(argc, argv, &i));
        } else if (!strcmp(a, "--epochs")) {
            tcfg.epochs = cli_count(a, cli_value(argc, argv, &i));
        } else if (!strcmp(a, "--batch")) {
            tcfg.batch = cli_count(a, cli_value(argc, argv, &i));
        } else if (!strcmp(a, "--lr")) {
            tcfg.lr = cli_double(a, cli_value(argc, argv, &i));
        } else if (!strcmp(a, "--tau")) {
            tcfg.tau = cli_double(a, cli_value(argc, argv, &i));
        } else if (!strcmp(a, "--sigma")) {
            dcfg.sigma = cli_double(a, cli_value(argc, argv, &i));
        } else if (!strcmp(a, "--no-interaction")) {
            mcfg.interaction = 0;
        } else if (!strcmp(a, "--no-augment")) {
            dcfg.sigma = 0;
        } else if (!strcmp(a, "--threads")) {
            unsigned long long n = cli_count(a, cli_value(argc, argv, &i));
            if (n < 1 || n > 1024)
                cli_die("--threads: \"%s\" is outside 1..1024", argv[i]);
            openblas_set_num_threads((int)n);
        } else if (!strcmp(a, "--select")) {
            const char *v = cli_value(argc, argv, &i);
            if (!strcmp(v, "auc"))
                tcfg.select = DGN_METRIC_AUC;
            else if (!strcmp(v, "precision"))
                tcfg.select = DGN_METRIC_PRECISION_AT_K;
            else
                cli_die("--select: \"%s\" is not auc or precision", v);
        } else if (!strcmp(a, "--balance")) {
            const char *v = cli_value(argc, argv, &i);
            if (!strcmp(v, "auto"))
                dcfg.balance_anchors = DGN_BALANCE_AUTO;
            else if (!strcmp(v, "on") || !strcmp(v, "off"))
                dcfg.balance_anchors = !strcmp(v, "on");
            else
                cli_die("--balance: \"%s\" is not auto, on or off", v);
        } else if (!strcmp(a, "--json")) {
            u.json = 1;
        } else if (a[0] == '-') {
            cli_die("unknown option %s", a);
        } else if (!data) {
            data = a;
        } else {
            cli_die("unexpected argument %s", a);
        }
    }
    if (!data)
        cli_die("%s", "missing DATA.csv");
    if (!have_lo || !have_hi)
        cli_die("%s", "--lo and --hi are required");
    if (!out)
        cli_die("%s", "-o MODEL.dgn is required");
    if (dcfg.valid_path && have_fraction)
        cli_die("%s", "--valid and --valid-fraction exclude each other");
    const char *inputs[] = {data, dcfg.valid_path};
    cli_output("-o", out, inputs, 2);
    if (tcfg.batch > 0)
        mcfg.max_batch = 3 * tcfg.batch;
    tcfg.progress = report;
    tcfg.progress_user = &u;

    dgn_dataset *ds;
    CHECK(dgn_dataset_load_csv(&ds, data, &dcfg));
    fprintf(stderr, "%s: %zu rows (%zu training, %zu validation), %zu components, "
            "%zu with %s in [%g, %g]; %zu dropped, %zu skipped; anchors %s\n", data,
            dgn_dataset_n_rows(ds, DGN_SPLIT_ALL), dgn_dataset_n_rows(ds, DGN_SPLIT_TRAIN),
            dgn_dataset_n_rows(ds, DGN_SPLIT_VALID), dgn_dataset_n_components(ds),
            dgn_dataset_n_positive(ds, DGN_SPLIT_ALL), dgn_dataset_property_name(ds),
            dcfg.lo, dcfg.hi, dgn_dataset_n_dropped(ds), dgn_dataset_n_skipped(ds),
            dgn_dataset_balanced(ds) ? "class-balanced" : "one per training row");
    mcfg.n_components = dgn_dataset_n_components(ds);
    dgn_model *model;
    CHECK(dgn_model_create(&model, &mcfg));
    dgn_trainer *trainer;
    CHECK(dgn_trainer_create(&trainer, model, ds, &tcfg));
    dgn_epoch_report best;
    CHECK(dgn_trainer_fit(trainer, &best));
    CHECK(dgn_model_save(model, out));
    fprintf(stderr, "best epoch %zu: auc %.4f, p@%zu %.3f; saved %s\n", best.epoch, best.auc,
            best.k, best.precision_at_k, out);
    if (u.json)
        printf("{\"best_epoch\": %zu, \"auc\": %.6f, \"precision_at_k\": %.6f, \"k\": %zu, "
               "\"model\": \"%s\"}\n", best.epoch, best.auc, best.precision_at_k, best.k, out);
    dgn_trainer_destroy(trainer);
    dgn_model_destroy(model);
    dgn_dataset_destroy(ds);
    return 0;
}
