/* dgn-train: train DeepGlassNet on a composition table for a property range.
 *
 *   dgn-train DATA.csv --lo LO --hi HI -o MODEL.dgn [--property NAME]
 *             [--valid VALID.csv | --valid-fraction F] [--group-split] [--seed N]
 *             [--epochs N] [--batch N] [--lr X] [--tau X] [--sigma X]
 *             [--no-interaction] [--no-augment] [--threads N] [--json]
 *             [--select auc|precision] [--balance auto|on|off]
 *             [--patience N] [--steps N] [--min-steps N]
 *             [--schedule constant|cosine] [--warmup N] [--score centre|contrast]
 */
#include <sys/stat.h>

#include "cli.h"

const char *cli_program = "dgn-train";

typedef struct run {
    int json;
} run;

static int report(const dgn_epoch_report *r, void *user)
{
    const run *u = user;
    fprintf(stderr, "epoch %3zu  loss %.4f  auc %.4f  p@%zu %.3f  %.1fs%s\n", r->epoch,
            r->loss, r->auc, r->k, r->precision_at_k, r->seconds, r->best ? "  *" : "");
    if (u->json) {
        cli_json j;
        json_open(&j, stdout);
        json_count(&j, "epoch", r->epoch);
        json_number(&j, "loss", "%.6f", r->loss);
        json_number(&j, "auc", "%.6f", r->auc);
        json_number(&j, "precision_at_k", "%.6f", r->precision_at_k);
        json_count(&j, "k", r->k);
        json_number(&j, "seconds", "%.3f", r->seconds);
        json_bool(&j, "best", r->best);
        json_close(&j);
    }
    return 0;
}

/* The same file by device and inode, or by name when one cannot be read
 * (the loader then names it). */
static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    if (!strcmp(a, b))
        return 1;
    return !stat(a, &sa) && !stat(b, &sb) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int main(int argc, char **argv)
{
    cli_args p;
    cli_args_init(&p, argc, argv);
    train_options o;
    CLI_EXIT_UNLESS_RUN(train_parse(&o, &p), &p, train_usage);
    dgn_dataset_config dcfg = o.data;
    dgn_model_config mcfg = o.model;
    dgn_trainer_config tcfg = o.train;
    const char *data = o.data_path, *out = o.out;
    run u = {o.json};
    const char *inputs[] = {data, dcfg.valid_path, dcfg.test_path};
    cli_output("-o", out, inputs, 3);
    tcfg.progress = report;
    tcfg.progress_user = &u;
    if (dcfg.valid_path && same_file(dcfg.valid_path, data))
        fprintf(stderr, "%s: warning: --valid %s is the training file, so the validation "
                "scores measure fit, not generalisation\n", cli_program,
                cli_excerpt(&p, 0, dcfg.valid_path));

    dgn_dataset *ds;
    CHECK(dgn_dataset_load_csv(&ds, data, &dcfg));
    size_t n_test = dgn_dataset_n_rows(ds, DGN_SPLIT_TEST);
    fprintf(stderr, "%s: %zu rows (%zu training, %zu validation, %zu test), %zu components, "
            "%zu with %s in [%g, %g]; %zu dropped, %zu skipped; anchors %s\n", data,
            dgn_dataset_n_rows(ds, DGN_SPLIT_ALL), dgn_dataset_n_rows(ds, DGN_SPLIT_TRAIN),
            dgn_dataset_n_rows(ds, DGN_SPLIT_VALID), n_test, dgn_dataset_n_components(ds),
            dgn_dataset_n_positive(ds, DGN_SPLIT_ALL), dgn_dataset_property_name(ds),
            dcfg.lo, dcfg.hi, dgn_dataset_n_dropped(ds), dgn_dataset_n_skipped(ds),
            dgn_dataset_balanced(ds) ? "class-balanced" : "one per training row");
    /* Before any epoch: an empty or one-class validation split would fail
     * (or mean nothing) only after the first epoch. */
    if (dcfg.valid_path || dcfg.valid_fraction > 0) {
        char what[CLI_MSG], why[2 * CLI_MSG];
        if (dcfg.valid_path)
            snprintf(what, sizeof what, "--valid %s", cli_excerpt(&p, 0, dcfg.valid_path));
        else
            snprintf(what, sizeof what, "the validation split (--valid-fraction %g of %zu "
                     "rows)", dcfg.valid_fraction, dgn_dataset_n_rows(ds, DGN_SPLIT_ALL));
        if (cli_check_validation(ds, what, why, sizeof why)) {
            fprintf(stderr, "%s: %s\n", cli_program, why);
            dgn_dataset_destroy(ds);
            return 1;
        }
    }
    int r = train_check_model(&o, &p, dgn_dataset_n_components(ds));
    if (r != CLI_RUN) {
        fprintf(stderr, "%s: %s (see --help)\n", cli_program, p.msg);
        dgn_dataset_destroy(ds);
        return 2;
    }
    mcfg = o.model;
    dgn_model *model;
    CHECK(dgn_model_create(&model, &mcfg));
    CHECK(dgn_model_set_threads(model, o.threads));
    dgn_trainer *trainer;
    CHECK(dgn_trainer_create(&trainer, model, ds, &tcfg));
    dgn_epoch_report best;
    CHECK(dgn_trainer_fit(trainer, &best));
    CHECK(dgn_model_save(model, out));
    fprintf(stderr, "best epoch %zu: auc %.4f, p@%zu %.3f; saved %s\n", best.epoch, best.auc,
            best.k, best.precision_at_k, out);
    /* The test rows, scored once, after every choice is made. */
    double test_auc = NAN, test_p = NAN;
    if (n_test) {
        float *centre = malloc(mcfg.out_dim * sizeof *centre);
        if (!centre) {
            fprintf(stderr, "%s: out of memory\n", cli_program);
            return 1;
        }
        CHECK(dgn_trainer_centre(trainer, centre, mcfg.out_dim));
        CHECK(dgn_evaluate_split(&test_auc, &test_p, best.k, model, centre, ds,
                                 DGN_SPLIT_TEST));
        free(centre);
        fprintf(stderr, "test (%zu rows, used for no choice): auc %.4f, p@%zu %.3f\n", n_test,
                test_auc, best.k, test_p);
    }
    if (u.json) {
        cli_json j;
        json_open(&j, stdout);
        json_count(&j, "best_epoch", best.epoch);
        json_number(&j, "auc", "%.6f", best.auc);
        json_number(&j, "precision_at_k", "%.6f", best.precision_at_k);
        json_count(&j, "k", best.k);
        json_count(&j, "test_rows", n_test);
        json_number(&j, "test_auc", "%.6f", test_auc);
        json_number(&j, "test_precision_at_k", "%.6f", test_p);
        json_text(&j, "model", out);
        json_runtime(&j);
        json_close(&j);
    }
    dgn_trainer_destroy(trainer);
    dgn_model_destroy(model);
    dgn_dataset_destroy(ds);
    return 0;
}
