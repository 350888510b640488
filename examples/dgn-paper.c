/* dgn-paper: the paper's study on a composition table, under an honest
 * protocol. Every run cuts the table into training (60 %), validation
 * (20 %, picks the epoch) and test rows (20 %, used for no choice), by
 * whole compositions (the group split: a screen's candidates are new
 * compositions), and reports the test AUC and Precision@100 as the mean
 * and sd over split seeds x network seeds. Runs:
 *   - libdgn's defaults on every range of the interval suite (widths 100,
 *     50, 20 and 10 °C);
 *   - the paper's form (tau = 1, centre score, constant rate) on the 100 °C
 *     ranges, beside them;
 *   - the random split, and the ablations without interaction and without
 *     augmentation, on the 100 °C ranges.
 * --wide-only leaves out the 50, 20 and 10 °C ranges. Writes a CSV (one
 * line per run) and a Markdown report.
 *
 *   dgn-paper DATA.csv [--property TG] [--epochs N] [--seed N] [--quick]
 *             [--split-seeds N] [--net-seeds N] [--threads N] [--wide-only]
 *             [--csv OUT.csv] [--markdown OUT.md]
 */

#include <math.h>

#include "cli.h"

const char *cli_program = "dgn-paper";

typedef struct study {
    const char *data, *property;
    size_t epochs, threads;
} study;

/* One training run. */
typedef struct outcome {
    const char *variant;
    double lo, hi;
    uint64_t split_seed, net_seed;
    size_t test_positives, best_epoch, epochs_run;
    double valid_auc, auc, patk, seconds;
} outcome;

static int track(const dgn_epoch_report *r, void *user)
{
    outcome *o = user;
    o->epochs_run = r->epoch;
    o->seconds += r->seconds;
    return 0;
}

/* variant: "defaults", "paper-form", "random-split", "no-interaction" or
 * "no-augmentation". */
static outcome run(const study *st, const char *variant, double lo, double hi,
                   uint64_t split_seed, uint64_t net_seed)
{
    outcome o = {.variant = variant, .lo = lo, .hi = hi, .split_seed = split_seed,
                 .net_seed = net_seed};
    dgn_dataset_config dc;
    dgn_model_config mc;
    dgn_trainer_config tc;
    CHECK(dgn_dataset_config_init(&dc, DGN_DATASET_CONFIG_VERSION));
    CHECK(dgn_model_config_init(&mc, DGN_MODEL_CONFIG_VERSION));
    CHECK(dgn_trainer_config_init(&tc, DGN_TRAINER_CONFIG_VERSION));
    dc.property = st->property;
    dc.lo = lo;
    dc.hi = hi;
    dc.seed = split_seed; /* the split and the triplet draws */
    mc.seed = net_seed;   /* initial weights and dropout */
    dc.test_fraction = 0.2;
    dc.group_split = strcmp(variant, "random-split") != 0;
    if (!strcmp(variant, "no-augmentation"))
        dc.sigma = 0;
    mc.interaction = strcmp(variant, "no-interaction") != 0;
    if (!strcmp(variant, "paper-form")) {
        tc.tau = 1;
        tc.score = DGN_SCORE_CENTRE;
        tc.schedule = DGN_LR_CONSTANT;
    }
    if (!strcmp(variant, "paper-form")) /* as version 1 trained: 60 epochs */
        tc.epochs = 60, tc.max_steps = tc.min_steps = 0;
    if (st->epochs)
        tc.epochs = st->epochs;
    tc.progress = track;
    tc.progress_user = &o;

    dgn_dataset *ds;
    CHECK(dgn_dataset_load_csv(&ds, st->data, &dc));
    mc.n_components = dgn_dataset_n_components(ds);
    char why[2048];
    if (cli_check_validation(ds, "the validation split", why, sizeof why)) {
        fprintf(stderr, "%s: %s %g-%g: %s\n", cli_program, variant, lo, hi, why);
        exit(1);
    }
    mc.max_batch = 3 * tc.batch;
    dgn_model *m;
    CHECK(dgn_model_create(&m, &mc));
    CHECK(dgn_model_set_threads(m, st->threads));
    dgn_trainer *t;
    CHECK(dgn_trainer_create(&t, m, ds, &tc));
    dgn_epoch_report best;
    CHECK(dgn_trainer_fit(t, &best));
    o.test_positives = dgn_dataset_n_positive(ds, DGN_SPLIT_TEST);
    o.best_epoch = best.epoch;
    o.valid_auc = best.auc;
    float *centre = malloc(mc.out_dim * sizeof *centre);
    if (!centre) {
        fprintf(stderr, "%s: out of memory\n", cli_program);
        exit(1);
    }
    CHECK(dgn_model_class_centre(m, centre, mc.out_dim));
    CHECK(dgn_evaluate_split(&o.auc, &o.patk, 100, m, centre, ds, DGN_SPLIT_TEST));
    free(centre);
    fprintf(stderr, "%-16s %6g-%-6g split %llu net %llu: epoch %2zu of %2zu, valid auc "
            "%.4f; test auc %.4f p@100 %.2f %.0fs\n", variant, lo, hi,
            (unsigned long long)split_seed, (unsigned long long)net_seed, o.best_epoch,
            o.epochs_run, o.valid_auc, o.auc, o.patk, o.seconds);
    dgn_trainer_destroy(t);
    dgn_model_destroy(m);
    dgn_dataset_destroy(ds);
    return o;
}

/* Mean and sd (n - 1) of a field over the runs of one variant and range. */
typedef struct summary {
    size_t n, test_positives;
    double auc, auc_sd, patk, patk_sd, valid_auc, best_epoch;
} summary;

static summary summarise(const outcome *o, size_t n, const char *variant, double lo, double hi)
{
    summary s = {0};
    double a2 = 0, p2 = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(o[i].variant, variant) || o[i].lo != lo || o[i].hi != hi)
            continue;
        s.n++;
        s.test_positives += o[i].test_positives;
        s.auc += o[i].auc;
        a2 += o[i].auc * o[i].auc;
        s.patk += o[i].patk;
        p2 += o[i].patk * o[i].patk;
        s.valid_auc += o[i].valid_auc;
        s.best_epoch += (double)o[i].best_epoch;
    }
    if (!s.n)
        return s;
    double k = (double)s.n;
    s.auc /= k;
    s.patk /= k;
    s.valid_auc /= k;
    s.best_epoch /= k;
    s.test_positives /= s.n;
    if (s.n > 1) {
        s.auc_sd = sqrt(fmax(0, (a2 - k * s.auc * s.auc) / (k - 1)));
        s.patk_sd = sqrt(fmax(0, (p2 - k * s.patk * s.patk) / (k - 1)));
    }
    return s;
}

/* Rows of the ranges given, for the variants given (NULL-terminated). */
static void table(FILE *md, const outcome *o, size_t n, const char *const *variants,
                  const double (*ranges)[2], size_t n_ranges)
{
    fprintf(md, "| range (°C) | variant | test positives | test AUC | test P@100 | "
            "validation AUC (picked the epoch) | best epoch (mean) |\n"
            "|---|---|---|---|---|---|---|\n");
    for (size_t r = 0; r < n_ranges; r++)
        for (const char *const *v = variants; *v; v++) {
            summary s = summarise(o, n, *v, ranges[r][0], ranges[r][1]);
            if (!s.n)
                continue;
            char auc[32], patk[32];
            snprintf(auc, sizeof auc, s.n > 1 ? "%.4f ± %.4f" : "%.4f", s.auc, s.auc_sd);
            snprintf(patk, sizeof patk, s.n > 1 ? "%.2f ± %.2f" : "%.2f", s.patk, s.patk_sd);
            fprintf(md, "| %g–%g | %s | %zu | %s | %s | %.4f | %.1f |\n", ranges[r][0],
                    ranges[r][1], *v, s.test_positives, auc, patk, s.valid_auc, s.best_epoch);
        }
    fprintf(md, "\n");
}

static FILE *text_begin(char **text, size_t *len)
{
    FILE *f = open_memstream(text, len);
    if (!f) {
        fprintf(stderr, "%s: out of memory\n", cli_program);
        exit(1);
    }
    return f;
}

static void text_write(FILE *f, char **text, size_t *len, const char *path)
{
    if (ferror(f) | fclose(f)) {
        fprintf(stderr, "%s: %s: out of memory\n", cli_program, path);
        exit(1);
    }
    CHECK(dgn_write_file(path, *text, *len));
    free(*text);
}

int main(int argc, char **argv)
{
    cli_args p;
    cli_args_init(&p, argc, argv);
    paper_options po;
    CLI_EXIT_UNLESS_RUN(paper_parse(&po, &p), &p, paper_usage);
    study st = {po.data_path, po.property, po.epochs, po.threads};
    const char *csv = po.csv, *markdown = po.markdown;
    int quick = po.quick;
    if (!strcmp(csv, markdown)) {
        fprintf(stderr, "%s: --markdown: %s is also the --csv file (see --help)\n",
                cli_program, csv);
        exit(2);
    }
    const char *inputs[] = {st.data, csv};
    cli_output("--csv", csv, inputs, 1);
    cli_output("--markdown", markdown, inputs, 2);
    char command[1024];
    size_t used = (size_t)snprintf(command, sizeof command, "dgn-paper");
    for (int i = 1; i < argc && used < sizeof command; i++)
        used += (size_t)snprintf(command + used, sizeof command - used, " %s", argv[i]);
    static const double suite[][2] = {
        {300, 400}, {400, 500}, {500, 600}, {600, 700},
        {400, 450}, {450, 500}, {500, 550}, {550, 600},
        {500, 520}, {520, 540}, {540, 560}, {560, 580},
        {500, 510}, {510, 520}, {520, 530}, {530, 540}};
    /* Before any run: the checks dgn-train makes, in this study's terms (a
     * table of one component is also one composition, which a group split
     * could not divide). */
    dgn_dataset_config dc;
    CHECK(dgn_dataset_config_init(&dc, DGN_DATASET_CONFIG_VERSION));
    dc.property = st.property;
    dc.lo = suite[0][0];
    dc.hi = suite[0][1];
    dgn_dataset *ds;
    CHECK(dgn_dataset_load_csv(&ds, st.data, &dc));
    if (dgn_dataset_n_components(ds) < 2) {
        fprintf(stderr, "%s: %s has %zu component column(s); the study's full model "
                "needs at least 2\n", cli_program, st.data, dgn_dataset_n_components(ds));
        exit(1);
    }
    dgn_dataset_destroy(ds);
    if (quick)
        st.epochs = 2;
    size_t split_seeds = quick ? 1 : po.split_seeds, net_seeds = quick ? 1 : po.net_seeds;

    static const char *const side[] = {"paper-form", "random-split", "no-interaction",
                                       "no-augmentation"};
    size_t n_suite = quick ? 1 : po.wide_only ? 4 : sizeof suite / sizeof *suite;
    size_t n_wide = quick ? 1 : 4;
    size_t runs = (n_suite + 4 * n_wide) * split_seeds * net_seeds;
    outcome *o = calloc(runs, sizeof *o);
    if (!o) {
        fprintf(stderr, "%s: out of memory\n", cli_program);
        exit(1);
    }
    size_t n = 0;
    for (uint64_t a = 0; a < split_seeds; a++)
        for (uint64_t b = 0; b < net_seeds; b++) {
            uint64_t ss = po.seed + a, ns = po.seed + 500 + b;
            for (size_t i = 0; i < n_suite; i++)
                o[n++] = run(&st, "defaults", suite[i][0], suite[i][1], ss, ns);
            for (size_t v = 0; v < 4; v++)
                for (size_t i = 0; i < n_wide; i++)
                    o[n++] = run(&st, side[v], suite[i][0], suite[i][1], ss, ns);
        }

    /* Each file is made in memory and written by the library: whole and
     * checked, the previous one kept if writing fails. */
    char *text;
    size_t len;
    FILE *f = text_begin(&text, &len);
    fprintf(f, "variant,lo,hi,split_seed,net_seed,test_positives,best_epoch,epochs_run,"
            "valid_auc,test_auc,test_precision_at_100,seconds\n");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s,%g,%g,%llu,%llu,%zu,%zu,%zu,%.6f,%.6f,%.4f,%.1f\n", o[i].variant,
                o[i].lo, o[i].hi, (unsigned long long)o[i].split_seed,
                (unsigned long long)o[i].net_seed, o[i].test_positives, o[i].best_epoch,
                o[i].epochs_run, o[i].valid_auc, o[i].auc, o[i].patk, o[i].seconds);
    text_write(f, &text, &len, csv);

    dgn_trainer_config tc;
    CHECK(dgn_trainer_config_init(&tc, DGN_TRAINER_CONFIG_VERSION));
    char epochs_note[96];
    snprintf(epochs_note, sizeof epochs_note, "%zu to %zu steps, at most %zu epochs",
             tc.min_steps, tc.max_steps, tc.epochs);
    if (st.epochs)
        snprintf(epochs_note, sizeof epochs_note, "at most %zu epochs", st.epochs);
    FILE *md = text_begin(&text, &len);
    fprintf(md, "<!-- Written by: %s -->\n\n", command);
    fprintf(md, "Made by `%s` (libdgn %s, %s). Each table row is the mean ± sd over "
            "%zu split seed(s) x %zu network seed(s) (from %llu) of the **test** rows' "
            "AUC and Precision@100: a 60/20/20 split into training, validation (which "
            "picks the epoch) and test rows (used for no choice), by whole "
            "compositions unless the variant says random-split. Training runs the "
            "library's defaults (%s), the paper's form 60 epochs at tau 1 with the "
            "centre score. The validation AUC is that of the epoch it picked, so it "
            "flatters; it is shown only beside the test numbers.\n\n", command,
            dgn_version_string(), dgn_kernel_build(), split_seeds, net_seeds,
            (unsigned long long)po.seed, epochs_note);
    static const char *const defaults[] = {"defaults", NULL};
    static const char *const wide[] = {"defaults", "paper-form", "random-split",
                                       "no-interaction", "no-augmentation", NULL};
    fprintf(md, "### Width 100 °C: libdgn's defaults, the paper's form, the random split "
            "and the ablations\n\n");
    table(md, o, n, wide, suite, n_wide);
    static const char *const names[] = {"50", "20", "10"};
    for (size_t w = 0; w < 3 && n_suite > 4; w++) {
        fprintf(md, "### Width %s °C\n\n", names[w]);
        table(md, o, n, defaults, suite + 4 * (w + 1), 4);
    }
    text_write(md, &text, &len, markdown);
    fprintf(stderr, "wrote %s and %s\n", csv, markdown);
    free(o);
    return 0;
}
