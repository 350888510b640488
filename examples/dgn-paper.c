/* dgn-paper: the paper's study on a composition table. For each target
 * range of the interval suite (widths 100, 50, 20 and 10 °C) it trains
 * DeepGlassNet and records the validation AUC and Precision@100; then the
 * two ablations (without interaction, without augmentation) on the 100 °C
 * ranges, and the group split on 500-600 °C. Writes a CSV and a Markdown
 * report.
 *
 *   dgn-paper DATA.csv [--property TG] [--epochs N] [--seed N] [--quick]
 *             [--csv OUT.csv] [--markdown OUT.md]
 */

#include "cli.h"

const char *cli_program = "dgn-paper";

typedef struct study {
    const char *data, *property;
    size_t epochs;
    uint64_t seed;
} study;

typedef struct outcome {
    const char *variant;
    double lo, hi;
    size_t rows, positives_valid, best_epoch, epochs_run;
    double auc, patk, max_auc, max_patk, seconds;
} outcome;

static int track(const dgn_epoch_report *r, void *user)
{
    outcome *o = user;
    if (r->auc > o->max_auc)
        o->max_auc = r->auc;
    if (r->precision_at_k > o->max_patk)
        o->max_patk = r->precision_at_k;
    o->epochs_run = r->epoch;
    o->seconds += r->seconds;
    return 0;
}

/* variant: "full", "no-interaction", "no-augmentation" or "group-split". */
static outcome run(const study *st, const char *variant, double lo, double hi)
{
    outcome o = {variant, lo, hi, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    dgn_dataset_config dc;
    dgn_model_config mc;
    dgn_trainer_config tc;
    CHECK(dgn_dataset_config_init(&dc, DGN_DATASET_CONFIG_VERSION));
    CHECK(dgn_model_config_init(&mc, DGN_MODEL_CONFIG_VERSION));
    CHECK(dgn_trainer_config_init(&tc, DGN_TRAINER_CONFIG_VERSION));
    dc.property = st->property;
    dc.lo = lo;
    dc.hi = hi;
    dc.seed = mc.seed = st->seed;
    dc.group_split = !strcmp(variant, "group-split");
    if (!strcmp(variant, "no-augmentation"))
        dc.sigma = 0;
    mc.interaction = strcmp(variant, "no-interaction") != 0;
    tc.epochs = st->epochs;
    tc.progress = track;
    tc.progress_user = &o;

    dgn_dataset *ds;
    CHECK(dgn_dataset_load_csv(&ds, st->data, &dc));
    mc.n_components = dgn_dataset_n_components(ds);
    /* Before training: the checks dgn-train makes, in this study's terms. */
    char why[2048];
    if (mc.interaction && mc.n_components < 2) {
        fprintf(stderr, "%s: %s has %zu component column(s); the study's full model "
                "needs at least 2\n", cli_program, st->data, mc.n_components);
        exit(1);
    }
    if (cli_check_validation(ds, "the validation split", why, sizeof why)) {
        fprintf(stderr, "%s: %s %g-%g: %s\n", cli_program, variant, lo, hi, why);
        exit(1);
    }
    mc.max_batch = 3 * tc.batch;
    dgn_model *m;
    CHECK(dgn_model_create(&m, &mc));
    dgn_trainer *t;
    CHECK(dgn_trainer_create(&t, m, ds, &tc));
    dgn_epoch_report best;
    CHECK(dgn_trainer_fit(t, &best));
    o.rows = dgn_dataset_n_rows(ds, DGN_SPLIT_ALL);
    o.positives_valid = dgn_dataset_n_positive(ds, DGN_SPLIT_VALID);
    o.best_epoch = best.epoch;
    o.auc = best.auc;
    o.patk = best.precision_at_k;
    fprintf(stderr, "%-16s %6g-%-6g best epoch %2zu of %2zu: auc %.4f p@100 %.2f "
            "(max over epochs %.4f, %.2f) %.0fs\n", variant, lo, hi, o.best_epoch,
            o.epochs_run, o.auc, o.patk, o.max_auc, o.max_patk, o.seconds);
    dgn_trainer_destroy(t);
    dgn_model_destroy(m);
    dgn_dataset_destroy(ds);
    return o;
}

static void table(FILE *md, const outcome *o, size_t n, const char *variant, double width)
{
    fprintf(md, "| range (°C) | validation positives | AUC | P@100 | best epoch | "
            "max AUC | max P@100 |\n|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < n; i++)
        if (!strcmp(o[i].variant, variant) && (width == 0 || o[i].hi - o[i].lo == width))
            fprintf(md, "| %g–%g | %zu | %.4f | %.2f | %zu of %zu | %.4f | %.2f |\n",
                    o[i].lo, o[i].hi, o[i].positives_valid, o[i].auc, o[i].patk,
                    o[i].best_epoch, o[i].epochs_run, o[i].max_auc, o[i].max_patk);
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
    study st = {po.data_path, po.property, po.epochs, po.seed};
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
    if (quick && st.epochs > 2)
        st.epochs = 2;

    static const double suite[][2] = {
        {300, 400}, {400, 500}, {500, 600}, {600, 700},
        {400, 450}, {450, 500}, {500, 550}, {550, 600},
        {500, 520}, {520, 540}, {540, 560}, {560, 580},
        {500, 510}, {510, 520}, {520, 530}, {530, 540}};
    size_t n_suite = quick ? 1 : sizeof suite / sizeof *suite, n_ablate = quick ? 1 : 4;
    outcome *o = calloc(n_suite + 2 * n_ablate + 1, sizeof *o);
    size_t n = 0;
    for (size_t i = 0; i < n_suite; i++)
        o[n++] = run(&st, "full", suite[i][0], suite[i][1]);
    for (size_t i = 0; i < n_ablate; i++) {
        o[n++] = run(&st, "no-interaction", suite[i][0], suite[i][1]);
        o[n++] = run(&st, "no-augmentation", suite[i][0], suite[i][1]);
    }
    o[n++] = run(&st, "group-split", 500, 600);

    /* Each file is made in memory and written by the library: whole and
     * checked, the previous one kept if writing fails. */
    char *text;
    size_t len;
    FILE *f = text_begin(&text, &len);
    fprintf(f, "variant,lo,hi,rows,valid_positives,best_epoch,epochs_run,auc,"
            "precision_at_100,max_auc,max_precision_at_100,seconds\n");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s,%g,%g,%zu,%zu,%zu,%zu,%.6f,%.4f,%.6f,%.4f,%.1f\n", o[i].variant,
                o[i].lo, o[i].hi, o[i].rows, o[i].positives_valid, o[i].best_epoch,
                o[i].epochs_run, o[i].auc, o[i].patk, o[i].max_auc, o[i].max_patk,
                o[i].seconds);
    text_write(f, &text, &len, csv);

    FILE *md = text_begin(&text, &len);
    fprintf(md, "<!-- Written by: %s -->\n\n", command);
    fprintf(md, "Made by `%s` (libdgn %s, %s; seed %llu, random 80/20 split unless "
            "noted, at most %zu epochs, best epoch by validation AUC). AUC and P@100 "
            "are those of the kept epoch; the max columns are the best of any "
            "epoch.\n\n", command, dgn_version_string(), dgn_kernel_build(),
            (unsigned long long)st.seed, st.epochs);
    const double widths[] = {100, 50, 20, 10};
    for (size_t w = 0; w < 4; w++) {
        fprintf(md, "### Width %g °C\n\n", widths[w]);
        table(md, o, n, "full", widths[w]);
    }
    fprintf(md, "### Ablation: without interaction (graph convolution and attention)\n\n");
    table(md, o, n, "no-interaction", 0);
    fprintf(md, "### Ablation: without augmentation (sigma = 0)\n\n");
    table(md, o, n, "no-augmentation", 0);
    fprintf(md, "### Group split (identical compositions on one side)\n\n");
    table(md, o, n, "group-split", 0);
    text_write(md, &text, &len, markdown);
    fprintf(stderr, "wrote %s and %s\n", csv, markdown);
    free(o);
    return 0;
}
