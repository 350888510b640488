/* The programs' option parsing: each function fills an options struct and
 * returns CLI_RUN, CLI_HELP or CLI_BAD with a message naming the flag and
 * the value given. Nothing here prints or exits (tests/fuzz/fuzz_args.c
 * calls these directly). Every value is checked here, in the program's
 * terms, before the library sees it; the library's own config checks run
 * last as a backstop, their field names mapped back to the flags. */
#include "cli.h"

#include <sched.h>
#include <unistd.h>

#define VALUE(var)                                                            \
    do {                                                                      \
        if (!((var) = cli_next(p)))                                          \
            return CLI_BAD;                                                   \
    } while (0)
#define TRY(call)                                                             \
    do {                                                                      \
        if ((call) != 0)                                                      \
            return CLI_BAD;                                                   \
    } while (0)

/* The library's config message, mapped to a flag when it is one of map's
 * fields; else as it is. */
static int backstop(cli_args *p, const cli_flag *map)
{
    const char *msg = dgn_last_error();
    return cli_map_config(p, msg, map) ? CLI_BAD : cli_bad(p, "%s", msg);
}

/* --threads unless given: the CPUs this process may run on (its affinity
 * mask, which taskset and MPI launchers narrow). A seed gives the same bits
 * at any count, so the default changes only the time. */
static size_t default_threads(void)
{
    long n = 0;
#ifdef __linux__
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        n = CPU_COUNT(&set);
#endif
    if (n < 1)
        n = sysconf(_SC_NPROCESSORS_ONLN); /* more CPUs than a cpu_set_t holds */
    return n < 1 ? 1 : n > CLI_MAX_THREADS ? CLI_MAX_THREADS : (size_t)n;
}

static int need_name(cli_args *p, const char *opt, const char *v, const char *what)
{
    return v[0] ? 0 : cli_bad(p, "%s needs %s, not an empty string", opt, what);
}

/* ---- dgn-train ------------------------------------------------------------ */

const char train_usage[] =
    "usage: dgn-train DATA.csv --lo LO --hi HI -o MODEL.dgn [--property NAME]\n"
    "                 [--valid VALID.csv | --valid-fraction F]\n"
    "                 [--test TEST.csv | --test-fraction F] [--group-split] [--seed N]\n"
    "                 [--epochs N] [--batch N] [--lr X] [--tau X] [--sigma X]\n"
    "                 [--no-interaction] [--no-augment] [--threads N] [--json]\n"
    "                 [--select auc|precision] [--balance auto|on|off]\n"
    "                 [--patience N] [--steps N] [--min-steps N]\n"
    "                 [--schedule constant|cosine] [--warmup N] [--score centre|contrast]\n"
    "                 [--ensemble K]\n";

/* Longer fields first: "lo and hi" before "lo". */
static const cli_flag train_flags[] = {
    {"dataset config: lo and hi", "--lo and --hi"},
    {"dataset config: lo", "--lo"},
    {"dataset config: valid_fraction and test_fraction", "--valid-fraction and --test-fraction"},
    {"dataset config: valid_fraction", "--valid-fraction"},
    {"dataset config: test_fraction", "--test-fraction"},
    {"dataset config: sigma", "--sigma"},
    {"dataset config: property", "--property"},
    {"dataset config: balance_anchors", "--balance"},
    {"dataset config: group_split", "--group-split"},
    {"trainer config: batch", "--batch"},
    {"trainer config: epochs", "--epochs"},
    {"trainer config: lr", "--lr"},
    {"trainer config: tau", "--tau"},
    {"trainer config: select", "--select"},
    {"trainer config: min_steps", "--min-steps"},
    {"trainer config: max_steps", "--steps"},
    {"model config: max_batch", "--batch"},
    {"model config: interaction", "--no-interaction"},
    {NULL, NULL}};

int train_parse(train_options *o, cli_args *p)
{
    memset(o, 0, sizeof *o);
    if (dgn_dataset_config_init(&o->data, DGN_DATASET_CONFIG_VERSION) != DGN_OK ||
        dgn_model_config_init(&o->model, DGN_MODEL_CONFIG_VERSION) != DGN_OK ||
        dgn_trainer_config_init(&o->train, DGN_TRAINER_CONFIG_VERSION) != DGN_OK)
        return cli_bad(p, "%s", dgn_last_error());
    o->threads = default_threads();
    o->ensemble = 3;
    const char *lo = NULL, *hi = NULL, *fraction = NULL, *test_fraction = NULL, *sigma = NULL,
               *v;
    int no_augment = 0;
    for (; p->i < p->argc; p->i++) {
        const char *a = p->argv[p->i];
        uint64_t n = 0;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            return CLI_HELP;
        } else if (!strcmp(a, "--lo")) {
            VALUE(lo);
            TRY(cli_real(p, a, lo, &o->data.lo));
        } else if (!strcmp(a, "--hi")) {
            VALUE(hi);
            TRY(cli_real(p, a, hi, &o->data.hi));
        } else if (!strcmp(a, "-o")) {
            VALUE(o->out);
        } else if (!strcmp(a, "--property")) {
            VALUE(v);
            TRY(need_name(p, a, v, "a column name"));
            o->data.property = v;
        } else if (!strcmp(a, "--valid")) {
            VALUE(v);
            TRY(need_name(p, a, v, "a file name"));
            o->data.valid_path = v;
        } else if (!strcmp(a, "--valid-fraction")) {
            VALUE(fraction);
            TRY(cli_real(p, a, fraction, &o->data.valid_fraction));
            if (!(o->data.valid_fraction >= 0 && o->data.valid_fraction < 1))
                return cli_bad(p, "%s %s is outside [0, 1)", a, cli_excerpt(p, 0, fraction));
        } else if (!strcmp(a, "--test")) {
            VALUE(v);
            TRY(need_name(p, a, v, "a file name"));
            o->data.test_path = v;
        } else if (!strcmp(a, "--test-fraction")) {
            VALUE(test_fraction);
            TRY(cli_real(p, a, test_fraction, &o->data.test_fraction));
            if (!(o->data.test_fraction >= 0 && o->data.test_fraction < 1))
                return cli_bad(p, "%s %s is outside [0, 1)", a,
                               cli_excerpt(p, 0, test_fraction));
        } else if (!strcmp(a, "--group-split")) {
            o->data.group_split = 1;
        } else if (!strcmp(a, "--seed")) {
            VALUE(v);
            TRY(cli_whole(p, a, v, 0, UINT64_MAX, &n));
            o->data.seed = o->model.seed = n;
        } else if (!strcmp(a, "--epochs")) {
            VALUE(v);
            TRY(cli_whole(p, a, v, 1, CLI_MAX_EPOCHS, &n));
            o->train.epochs = (size_t)n;
        } else if (!strcmp(a, "--batch")) {
            VALUE(o->batch_text);
            TRY(cli_whole(p, a, o->batch_text, 1, CLI_MAX_BATCH, &n));
            o->train.batch = (size_t)n;
        } else if (!strcmp(a, "--lr") || !strcmp(a, "--tau")) {
            double *x = a[2] == 'l' ? &o->train.lr : &o->train.tau;
            VALUE(v);
            TRY(cli_real(p, a, v, x));
            if (!(*x > 0))
                return cli_bad(p, "%s %s must be above 0", a, cli_excerpt(p, 0, v));
        } else if (!strcmp(a, "--sigma")) {
            VALUE(sigma);
            TRY(cli_real(p, a, sigma, &o->data.sigma));
            if (!(o->data.sigma >= 0))
                return cli_bad(p, "%s %s is negative (0 turns augmentation off)", a,
                               cli_excerpt(p, 0, sigma));
        } else if (!strcmp(a, "--no-interaction")) {
            o->model.interaction = 0;
        } else if (!strcmp(a, "--no-augment")) {
            no_augment = 1;
        } else if (!strcmp(a, "--threads")) {
            VALUE(v);
            TRY(cli_whole(p, a, v, 1, CLI_MAX_THREADS, &n));
            o->threads = (size_t)n;
        } else if (!strcmp(a, "--ensemble")) {
            VALUE(v);
            TRY(cli_whole(p, a, v, 1, DGN_ENSEMBLE_MAX_MEMBERS, &n));
            o->ensemble = (size_t)n;
        } else if (!strcmp(a, "--select")) {
            VALUE(v);
            if (!strcmp(v, "auc"))
                o->train.select = DGN_METRIC_AUC;
            else if (!strcmp(v, "precision"))
                o->train.select = DGN_METRIC_PRECISION_AT_K;
            else
                return cli_bad(p, "--select: \"%s\" is not auc or precision",
                               cli_excerpt(p, 0, v));
        } else if (!strcmp(a, "--patience") || !strcmp(a, "--steps") ||
                   !strcmp(a, "--min-steps") || !strcmp(a, "--warmup")) {
            size_t *x = a[2] == 'p'   ? &o->train.patience
                        : a[2] == 's' ? &o->train.max_steps
                        : a[2] == 'm' ? &o->train.min_steps
                                      : &o->train.warmup_steps;
            VALUE(v);
            TRY(cli_whole(p, a, v, 0, CLI_MAX_STEPS, &n));
            *x = (size_t)n;
        } else if (!strcmp(a, "--schedule")) {
            VALUE(v);
            if (!strcmp(v, "constant") || !strcmp(v, "cosine"))
                o->train.schedule = !strcmp(v, "cosine") ? DGN_LR_COSINE : DGN_LR_CONSTANT;
            else
                return cli_bad(p, "--schedule: \"%s\" is not constant or cosine",
                               cli_excerpt(p, 0, v));
        } else if (!strcmp(a, "--score")) {
            VALUE(v);
            if (!strcmp(v, "centre") || !strcmp(v, "contrast"))
                o->train.score = !strcmp(v, "contrast") ? DGN_SCORE_CONTRAST : DGN_SCORE_CENTRE;
            else
                return cli_bad(p, "--score: \"%s\" is not centre or contrast",
                               cli_excerpt(p, 0, v));
        } else if (!strcmp(a, "--balance")) {
            VALUE(v);
            if (!strcmp(v, "auto"))
                o->data.balance_anchors = DGN_BALANCE_AUTO;
            else if (!strcmp(v, "on") || !strcmp(v, "off"))
                o->data.balance_anchors = !strcmp(v, "on");
            else
                return cli_bad(p, "--balance: \"%s\" is not auto, on or off",
                               cli_excerpt(p, 0, v));
        } else if (!strcmp(a, "--json")) {
            o->json = 1;
        } else if (a[0] == '-') {
            return cli_bad(p, "unknown option %s", cli_excerpt(p, 0, a));
        } else if (!o->data_path) {
            o->data_path = a;
        } else {
            return cli_bad(p, "unexpected argument %s", cli_excerpt(p, 0, a));
        }
    }
    if (!o->data_path)
        return cli_bad(p, "missing DATA.csv");
    if (!lo || !hi)
        return cli_bad(p, "--lo and --hi are required");
    if (o->data.lo > o->data.hi)
        return cli_bad(p, "--lo %s is above --hi %s", cli_excerpt(p, 0, lo),
                       cli_excerpt(p, 1, hi));
    if (!o->out)
        return cli_bad(p, "-o MODEL.dgn is required");
    if (o->data.valid_path && fraction)
        return cli_bad(p, "--valid and --valid-fraction exclude each other");
    if (o->data.test_path && test_fraction)
        return cli_bad(p, "--test and --test-fraction exclude each other");
    /* --group-split applies to the rows split off the table by fractions. */
    int split_off = !o->data.valid_path || o->data.test_fraction > 0;
    if (o->data.group_split && !split_off)
        return cli_bad(p, "--group-split applies to the --valid-fraction and "
                          "--test-fraction splits, not to --valid and --test files");
    if (!o->data.valid_path && o->data.valid_fraction + o->data.test_fraction >= 1)
        return cli_bad(p, "--valid-fraction %g and --test-fraction %g leave no training rows",
                       o->data.valid_fraction, o->data.test_fraction);
    if (no_augment && sigma)
        return cli_bad(p, "--no-augment and --sigma exclude each other");
    dgn_trainer_config defaults;
    if (o->train.max_steps && o->train.min_steps > o->train.max_steps &&
        dgn_trainer_config_init(&defaults, DGN_TRAINER_CONFIG_VERSION) == DGN_OK)
        return cli_bad(p, "--min-steps %zu is above --steps %zu (the default --min-steps is "
                       "%zu)", o->train.min_steps, o->train.max_steps, defaults.min_steps);
    if (no_augment)
        o->data.sigma = 0;
    o->model.max_batch = 3 * o->train.batch; /* batch <= CLI_MAX_BATCH */
    if (dgn_dataset_config_validate(&o->data) != DGN_OK ||
        dgn_trainer_config_validate(&o->train) != DGN_OK)
        return backstop(p, train_flags);
    return CLI_RUN;
}

int train_check_model(train_options *o, cli_args *p, size_t n_components)
{
    o->model.n_components = n_components;
    if (o->model.interaction && n_components < 2)
        return cli_bad(p, "%s has %zu component column%s; the interaction layers need at "
                       "least 2: add --no-interaction", cli_excerpt(p, 0, o->data_path),
                       n_components, n_components == 1 ? "" : "s");
    if (dgn_model_config_validate(&o->model) == DGN_OK)
        return CLI_RUN;
    if (!strncmp(dgn_last_error(), "model config: sizes:", 20))
        return cli_bad(p, "--batch %s needs too much memory for %zu components",
                       o->batch_text ? cli_excerpt(p, 0, o->batch_text) : "(default)",
                       n_components);
    return backstop(p, train_flags);
}

/* ---- dgn-eval ------------------------------------------------------------- */

const char eval_usage[] =
    "usage: dgn-eval MODEL.dgn DATA.csv [--k 100] [--threads N] [--json]\n";

int eval_parse(eval_options *o, cli_args *p)
{
    memset(o, 0, sizeof *o);
    o->k = 100;
    o->threads = default_threads();
    for (; p->i < p->argc; p->i++) {
        const char *a = p->argv[p->i], *v;
        uint64_t n = 0;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            return CLI_HELP;
        } else if (!strcmp(a, "--k")) {
            VALUE(v);
            TRY(cli_whole(p, a, v, 1, SIZE_MAX, &n));
            o->k = (size_t)n;
        } else if (!strcmp(a, "--threads")) {
            VALUE(v);
            TRY(cli_whole(p, a, v, 1, CLI_MAX_THREADS, &n));
            o->threads = (size_t)n;
        } else if (!strcmp(a, "--json")) {
            o->json = 1;
        } else if (a[0] == '-') {
            return cli_bad(p, "unknown option %s", cli_excerpt(p, 0, a));
        } else if (!o->model_path) {
            o->model_path = a;
        } else if (!o->data_path) {
            o->data_path = a;
        } else {
            return cli_bad(p, "unexpected argument %s", cli_excerpt(p, 0, a));
        }
    }
    if (!o->model_path || !o->data_path)
        return cli_bad(p, "need MODEL.dgn and DATA.csv");
    return CLI_RUN;
}

/* ---- dgn-screen ----------------------------------------------------------- */

const char screen_usage[] =
    "usage: dgn-screen MODEL.dgn (--grid SPEC | --candidates FILE.csv) [--top K]\n"
    "                  [--shard I/N] [-o OUT.csv] [--threads N] [--json]\n"
    "SPEC, in percent: \"step=5, SiO2=40:80, Al2O3=0:20, Na2O\" (a bare name is 0:100)\n";

static const cli_flag screen_flags[] = {
    {"screener config: top_k", "--top"},
    {"screener config: threads", "--threads"},
    {"screener config: shard_index", "--shard"},
    {NULL, NULL}};

/* "I/N", 0 <= I < N <= 2^32. */
static int parse_shard(cli_args *p, const char *v, dgn_screener_config *c)
{
    const char *slash = strchr(v, '/');
    char first[32];
    size_t len = slash ? (size_t)(slash - v) : 0;
    if (!slash || len == 0 || len >= sizeof first || !slash[1])
        return cli_bad(p, "--shard: \"%s\" is not I/N (shard I of N, from 0)",
                       cli_excerpt(p, 0, v));
    memcpy(first, v, len);
    first[len] = '\0';
    uint64_t i, n;
    TRY(cli_whole(p, "--shard: I", first, 0, CLI_MAX_SHARDS - 1, &i));
    TRY(cli_whole(p, "--shard: N", slash + 1, 1, CLI_MAX_SHARDS, &n));
    if (i >= n)
        return cli_bad(p, "--shard %s: I must be below N (shards count from 0)",
                       cli_excerpt(p, 0, v));
    c->shard_index = i;
    c->shard_count = n;
    return 0;
}

int screen_parse(screen_options *o, cli_args *p)
{
    memset(o, 0, sizeof *o);
    if (dgn_screener_config_init(&o->screen, DGN_SCREENER_CONFIG_VERSION) != DGN_OK)
        return cli_bad(p, "%s", dgn_last_error());
    o->screen.top_k = 10;
    o->screen.threads = default_threads();
    for (; p->i < p->argc; p->i++) {
        const char *a = p->argv[p->i], *v;
        uint64_t n = 0;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            return CLI_HELP;
        } else if (!strcmp(a, "--grid")) {
            VALUE(o->grid);
        } else if (!strcmp(a, "--candidates")) {
            VALUE(v);
            TRY(need_name(p, a, v, "a file name"));
            o->candidates = v;
        } else if (!strcmp(a, "--top")) {
            VALUE(v);
            TRY(cli_whole(p, a, v, 1, CLI_MAX_TOP, &n));
            o->screen.top_k = (size_t)n;
        } else if (!strcmp(a, "--shard")) {
            VALUE(v);
            TRY(parse_shard(p, v, &o->screen));
        } else if (!strcmp(a, "-o")) {
            VALUE(o->out);
        } else if (!strcmp(a, "--threads")) {
            VALUE(v);
            TRY(cli_whole(p, a, v, 1, CLI_MAX_THREADS, &n));
            o->screen.threads = (size_t)n;
        } else if (!strcmp(a, "--json")) {
            o->json = 1;
        } else if (a[0] == '-') {
            return cli_bad(p, "unknown option %s", cli_excerpt(p, 0, a));
        } else if (!o->model_path) {
            o->model_path = a;
        } else {
            return cli_bad(p, "unexpected argument %s", cli_excerpt(p, 0, a));
        }
    }
    if (!o->model_path)
        return cli_bad(p, "missing MODEL.dgn");
    if (!o->grid == !o->candidates)
        return cli_bad(p, "give exactly one of --grid and --candidates");
    if (dgn_screener_config_validate(&o->screen) != DGN_OK)
        return backstop(p, screen_flags);
    return CLI_RUN;
}

/* ---- dgn-paper ------------------------------------------------------------ */

const char paper_usage[] =
    "usage: dgn-paper DATA.csv [--property TG] [--epochs N] [--seed N] [--quick]\n"
    "                 [--split-seeds N] [--net-seeds N] [--threads N] [--wide-only]\n"
    "                 [--csv OUT.csv] [--markdown OUT.md]\n";

int paper_parse(paper_options *o, cli_args *p)
{
    memset(o, 0, sizeof *o);
    o->property = "TG";
    o->epochs = 0; /* the library's default */
    o->seed = 2024;
    o->split_seeds = o->net_seeds = 3;
    o->threads = default_threads();
    o->csv = "paper-results.csv";
    o->markdown = "paper-results.md";
    for (; p->i < p->argc; p->i++) {
        const char *a = p->argv[p->i], *v;
        uint64_t n = 0;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            return CLI_HELP;
        } else if (!strcmp(a, "--property")) {
            VALUE(v);
            TRY(need_name(p, a, v, "a column name"));
            o->property = v;
        } else if (!strcmp(a, "--epochs")) {
            VALUE(v);
            TRY(cli_whole(p, a, v, 1, CLI_MAX_EPOCHS, &n));
            o->epochs = (size_t)n;
        } else if (!strcmp(a, "--seed")) {
            VALUE(v);
            TRY(cli_whole(p, a, v, 0, UINT64_MAX - 1000, &o->seed));
        } else if (!strcmp(a, "--split-seeds") || !strcmp(a, "--net-seeds")) {
            VALUE(v);
            TRY(cli_whole(p, a, v, 1, 100, &n));
            *(a[2] == 's' ? &o->split_seeds : &o->net_seeds) = (size_t)n;
        } else if (!strcmp(a, "--threads")) {
            VALUE(v);
            TRY(cli_whole(p, a, v, 1, CLI_MAX_THREADS, &n));
            o->threads = (size_t)n;
        } else if (!strcmp(a, "--quick")) {
            o->quick = 1;
        } else if (!strcmp(a, "--wide-only")) {
            o->wide_only = 1;
        } else if (!strcmp(a, "--csv")) {
            VALUE(o->csv);
        } else if (!strcmp(a, "--markdown")) {
            VALUE(o->markdown);
        } else if (a[0] == '-') {
            return cli_bad(p, "unknown option %s", cli_excerpt(p, 0, a));
        } else if (!o->data_path) {
            o->data_path = a;
        } else {
            return cli_bad(p, "unexpected argument %s", cli_excerpt(p, 0, a));
        }
    }
    if (!o->data_path)
        return cli_bad(p, "missing DATA.csv");
    return CLI_RUN;
}
