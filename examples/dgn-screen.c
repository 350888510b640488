/* dgn-screen: rank candidate compositions with a trained model.
 *
 *   dgn-screen MODEL.dgn (--grid SPEC | --candidates FILE.csv) [--top K]
 *              [--shard I/N] [-o OUT.csv] [--threads N] [--json]
 */
#include <cblas.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

const char *cli_program = "dgn-screen";

static const char usage[] =
    "usage: dgn-screen MODEL.dgn (--grid SPEC | --candidates FILE.csv) [--top K]\n"
    "                  [--shard I/N] [-o OUT.csv] [--threads N] [--json]\n"
    "SPEC, in percent: \"step=5, SiO2=40:80, Al2O3=0:20, Na2O\" (a bare name is 0:100)\n";

/* Every 5 % on a terminal (rewriting one line), every 25 % in a log. */
static int progress(uint64_t done, uint64_t total, void *user)
{
    uint64_t *next = user;
    int tty = isatty(STDERR_FILENO);
    if (done >= *next || done == total) {
        fprintf(stderr, "%sscreened %llu of %llu (%.0f%%)%s", tty ? "\r" : "",
                (unsigned long long)done, (unsigned long long)total,
                100.0 * (double)done / (double)total, tty ? "" : "\n");
        *next = done + total / (tty ? 20 : 4) + 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    dgn_screener_config scfg;
    CHECK(dgn_screener_config_init(&scfg, DGN_SCREENER_CONFIG_VERSION));
    scfg.top_k = 10;
    const char *model_path = NULL, *grid = NULL, *candidates = NULL, *out = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage, stdout);
            return 0;
        } else if (!strcmp(a, "--grid")) {
            grid = cli_value(argc, argv, &i);
        } else if (!strcmp(a, "--candidates")) {
            candidates = cli_value(argc, argv, &i);
        } else if (!strcmp(a, "--top")) {
            scfg.top_k = cli_count(a, cli_value(argc, argv, &i));
        } else if (!strcmp(a, "--shard")) {
            const char *v = cli_value(argc, argv, &i);
            unsigned long long si, sn;
            char tail;
            if (sscanf(v, "%llu/%llu%c", &si, &sn, &tail) != 2 || sn == 0 || si >= sn)
                cli_die("--shard: \"%s\" is not I/N with 0 <= I < N", v);
            scfg.shard_index = si;
            scfg.shard_count = sn;
        } else if (!strcmp(a, "-o")) {
            out = cli_value(argc, argv, &i);
        } else if (!strcmp(a, "--threads")) {
            scfg.threads = cli_count(a, cli_value(argc, argv, &i));
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (a[0] == '-') {
            cli_die("unknown option %s", a);
        } else if (!model_path) {
            model_path = a;
        } else {
            cli_die("unexpected argument %s", a);
        }
    }
    if (!model_path)
        cli_die("%s", "missing MODEL.dgn");
    if (!grid == !candidates)
        cli_die("%s", "give exactly one of --grid and --candidates");
    /* Threads at the screening level; keep OpenBLAS from adding its own. */
    if (scfg.threads > 1)
        openblas_set_num_threads(1);
    uint64_t next_report = 0;
    scfg.progress = progress;
    scfg.progress_user = &next_report;

    dgn_model *model;
    CHECK(dgn_model_load(&model, model_path));
    dgn_screener *s;
    CHECK(dgn_screener_create(&s, model, &scfg));
    if (grid)
        CHECK(dgn_screener_set_grid(s, grid));
    else
        CHECK(dgn_screener_set_candidates(s, candidates));
    uint64_t total, mine;
    CHECK(dgn_screener_count(s, &total, &mine));
    if (dgn_screener_n_rejected(s))
        fprintf(stderr, "%s: rejected %llu rows whose proportions do not sum to 95-105 %%\n",
                candidates, (unsigned long long)dgn_screener_n_rejected(s));
    fprintf(stderr, "%llu candidates; shard %llu/%llu covers %llu\n",
            (unsigned long long)total, (unsigned long long)scfg.shard_index,
            (unsigned long long)scfg.shard_count, (unsigned long long)mine);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK(dgn_screener_run(s));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    if (isatty(STDERR_FILENO))
        fputc('\n', stderr);
    fprintf(stderr, "scored %llu candidates in %.2f s (%.0f per second)\n",
            (unsigned long long)mine, secs, secs > 0 ? (double)mine / secs : 0.0);
    if (out) {
        CHECK(dgn_screener_write_csv(s, out));
        fprintf(stderr, "wrote %s\n", out);
    }

    dgn_model_config mcfg;
    CHECK(dgn_model_get_config(model, &mcfg));
    size_t c = mcfg.n_components;
    double *pct = malloc(c * sizeof *pct);
    size_t *order = malloc(c * sizeof *order);
    if (!pct || !order) {
        fprintf(stderr, "dgn-screen: out of memory\n");
        return 1;
    }
    for (size_t r = 0; r < dgn_screener_n_results(s); r++) {
        uint64_t index;
        float score;
        CHECK(dgn_screener_result(s, r, &index, &score, pct, c));
        if (json) {
            printf("{\"rank\": %zu, \"index\": %llu, \"score\": %.9g, \"percent\": {", r + 1,
                   (unsigned long long)index, (double)score);
            for (size_t j = 0, first = 1; j < c; j++)
                if (pct[j] != 0) {
                    printf("%s\"%s\": %g", first ? "" : ", ", dgn_model_component_name(model, j),
                           pct[j]);
                    first = 0;
                }
            printf("}}\n");
        } else {
            /* Largest component first, as glass compositions are usually read. */
            for (size_t j = 0; j < c; j++) {
                size_t i = j;
                for (; i > 0 && pct[order[i - 1]] < pct[j]; i--)
                    order[i] = order[i - 1];
                order[i] = j;
            }
            printf("%3zu  score %.4f ", r + 1, (double)score);
            for (size_t j = 0; j < c && pct[order[j]] != 0; j++)
                printf(" %s %g", dgn_model_component_name(model, order[j]), pct[order[j]]);
            printf("\n");
        }
    }
    free(order);
    free(pct);
    dgn_screener_destroy(s);
    dgn_model_destroy(model);
    return 0;
}
