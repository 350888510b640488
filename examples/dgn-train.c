/* dgn-train: train DeepGlassNet on a composition table for a property range.
 *
 *   dgn-train DATA.csv --lo LO --hi HI -o MODEL.dgn [--property NAME]
 *             [--valid VALID.csv | --valid-fraction F] [--group-split] [--seed N]
 *             [--epochs N] [--batch N] [--lr X] [--tau X] [--sigma X]
 *             [--no-interaction] [--no-augment] [--threads N] [--json]
 *             [--select auc|precision] [--balance auto|on|off]
 *             [--patience N] [--steps N] [--min-steps N]
 *             [--schedule constant|cosine] [--warmup N] [--score centre|contrast]
 *             [--ensemble K]
 *
 * --ensemble K trains K networks on the same split, of network seeds
 * seed, seed + 1, ..., one after another on one dataset (so each draws the
 * next triplets of its stream), and saves them as one ensemble file
 * (dgn/ensemble.h); it reports each member and the ensemble's mean score.
 * The default is 3 (docs/training.md says why); --ensemble 1 writes one
 * network as a plain model file.
 */
#include <sys/stat.h>

#include "cli.h"

const char *cli_program = "dgn-train";

typedef struct run {
    int json;
    size_t member, members; /* which network trains, of how many */
} run;

static int report(const dgn_epoch_report *r, void *user)
{
    const run *u = user;
    fprintf(stderr, "epoch %3zu  loss %.4f  auc %.4f  p@%zu %.3f  %.1fs%s\n", r->epoch,
            r->loss, r->auc, r->k, r->precision_at_k, r->seconds, r->best ? "  *" : "");
    if (u->json) {
        cli_json j;
        json_open(&j, stdout);
        if (u->members > 1)
            json_count(&j, "member", u->member);
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

/* AUC and P@k of the ensemble's mean score on a split; NaN without rows. */
static void ensemble_metrics(double *auc, double *patk, size_t k, dgn_ensemble *e,
                             const dgn_dataset *ds, dgn_split split)
{
    size_t n = dgn_dataset_n_rows(ds, split), c = dgn_dataset_n_components(ds);
    *auc = *patk = NAN;
    if (n == 0)
        return;
    float *x = malloc(n * c * sizeof *x), *s = malloc(n * sizeof *s);
    int32_t *y = malloc(n * sizeof *y);
    if (!x || !s || !y) {
        fprintf(stderr, "%s: out of memory\n", cli_program);
        exit(1);
    }
    CHECK(dgn_dataset_features(ds, split, DGN_VIEW_ZSCORE, x, n * c));
    CHECK(dgn_dataset_labels(ds, split, y, n));
    CHECK(dgn_ensemble_scores(s, n, NULL, 0, e, x, n));
    CHECK(dgn_auc(auc, s, y, n));
    CHECK(dgn_precision_at_k(patk, s, y, n, k));
    free(x);
    free(s);
    free(y);
}

/* One member's numbers, for the report. */
typedef struct member_result {
    dgn_epoch_report best;
    double test_auc, test_p;
    uint64_t seed;
} member_result;

static void json_member(const member_result *r, size_t j, size_t n_test)
{
    cli_json js;
    json_open(&js, stdout);
    json_count(&js, "member", j);
    json_count(&js, "seed", r->seed);
    json_count(&js, "best_epoch", r->best.epoch);
    json_number(&js, "auc", "%.6f", r->best.auc);
    json_number(&js, "precision_at_k", "%.6f", r->best.precision_at_k);
    json_count(&js, "k", r->best.k);
    json_count(&js, "test_rows", n_test);
    json_number(&js, "test_auc", "%.6f", r->test_auc);
    json_number(&js, "test_precision_at_k", "%.6f", r->test_p);
    json_close(&js);
}

/* --ensemble K: K networks of seeds seed, seed + 1, ... on one dataset,
 * saved as one file. */
static int train_ensemble(const train_options *o, dgn_dataset *ds, run *u,
                          const dgn_trainer_config *tcfg)
{
    size_t n_test = dgn_dataset_n_rows(ds, DGN_SPLIT_TEST), k = 0;
    dgn_ensemble *e;
    CHECK(dgn_ensemble_create(&e));
    member_result *res = calloc(o->ensemble, sizeof *res);
    float *centre = malloc(o->model.out_dim * sizeof *centre);
    if (!res || !centre) {
        fprintf(stderr, "%s: out of memory\n", cli_program);
        return 1;
    }
    double lo = INFINITY, hi = -INFINITY;
    u->members = o->ensemble;
    for (size_t j = 0; j < o->ensemble; j++) {
        dgn_model_config mcfg = o->model;
        mcfg.seed = o->model.seed + j; /* wraps at 2^64, like any seed */
        member_result *r = &res[j];
        r->seed = mcfg.seed;
        r->test_auc = r->test_p = NAN;
        u->member = j;
        dgn_model *model;
        dgn_trainer *trainer;
        CHECK(dgn_model_create(&model, &mcfg));
        CHECK(dgn_model_set_threads(model, o->threads));
        CHECK(dgn_trainer_create(&trainer, model, ds, tcfg));
        CHECK(dgn_trainer_fit(trainer, &r->best));
        if (n_test) {
            CHECK(dgn_trainer_centre(trainer, centre, mcfg.out_dim));
            CHECK(dgn_evaluate_split(&r->test_auc, &r->test_p, r->best.k, model, centre, ds,
                                     DGN_SPLIT_TEST));
        }
        CHECK(dgn_ensemble_add(e, model));
        fprintf(stderr, "member %zu (seed %llu): best epoch %zu: auc %.4f, p@%zu %.3f", j,
                (unsigned long long)r->seed, r->best.epoch, r->best.auc, r->best.k,
                r->best.precision_at_k);
        if (n_test)
            fprintf(stderr, "; test auc %.4f, p@%zu %.3f", r->test_auc, r->best.k, r->test_p);
        fprintf(stderr, "\n");
        if (u->json)
            json_member(r, j, n_test);
        double a = n_test ? r->test_auc : r->best.auc;
        lo = a < lo ? a : lo;
        hi = a > hi ? a : hi;
        k = r->best.k;
        dgn_trainer_destroy(trainer);
        dgn_model_destroy(model);
    }
    CHECK(dgn_ensemble_save(e, o->out));
    double auc, patk, test_auc, test_p;
    ensemble_metrics(&auc, &patk, k, e, ds, DGN_SPLIT_VALID);
    ensemble_metrics(&test_auc, &test_p, k, e, ds, DGN_SPLIT_TEST);
    fprintf(stderr, "ensemble of %zu: validation auc %.4f, p@%zu %.3f (each member chose its "
            "epoch on these rows); saved %s\n", o->ensemble, auc, k, patk, o->out);
    if (n_test)
        fprintf(stderr, "ensemble test (%zu rows, used for no choice): auc %.4f, p@%zu %.3f; "
                "members %.4f to %.4f\n", n_test, test_auc, k, test_p, lo, hi);
    if (u->json) {
        cli_json j;
        json_open(&j, stdout);
        json_count(&j, "members", o->ensemble);
        json_number(&j, "auc", "%.6f", auc);
        json_number(&j, "precision_at_k", "%.6f", patk);
        json_count(&j, "k", k);
        json_count(&j, "test_rows", n_test);
        json_number(&j, "test_auc", "%.6f", test_auc);
        json_number(&j, "test_precision_at_k", "%.6f", test_p);
        json_number(&j, n_test ? "member_test_auc_min" : "member_auc_min", "%.6f", lo);
        json_number(&j, n_test ? "member_test_auc_max" : "member_auc_max", "%.6f", hi);
        json_text(&j, "model", o->out);
        json_runtime(&j);
        json_close(&j);
    }
    free(centre);
    free(res);
    dgn_ensemble_destroy(e);
    return 0;
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
    run u = {o.json, 0, 1};
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
            "%zu with %s in [%g, %g]; %zu dropped, %zu skipped; anchors %s; %zu thread%s\n",
            data,
            dgn_dataset_n_rows(ds, DGN_SPLIT_ALL), dgn_dataset_n_rows(ds, DGN_SPLIT_TRAIN),
            dgn_dataset_n_rows(ds, DGN_SPLIT_VALID), n_test, dgn_dataset_n_components(ds),
            dgn_dataset_n_positive(ds, DGN_SPLIT_ALL), dgn_dataset_property_name(ds),
            dcfg.lo, dcfg.hi, dgn_dataset_n_dropped(ds), dgn_dataset_n_skipped(ds),
            dgn_dataset_balanced(ds) ? "class-balanced" : "one per training row", o.threads,
            o.threads == 1 ? "" : "s");
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
    if (o.ensemble > 1) {
        int rc = train_ensemble(&o, ds, &u, &tcfg);
        dgn_dataset_destroy(ds);
        return rc;
    }
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
