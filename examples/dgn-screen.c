/* dgn-screen: rank candidate compositions with a trained model.
 *
 *   dgn-screen MODEL.dgn (--grid SPEC | --candidates FILE.csv) [--top K]
 *              [--shard I/N] [-o OUT.csv] [--threads N] [--json]
 *
 * MODEL.dgn may be an ensemble file (dgn-train --ensemble K): candidates
 * then rank by the members' mean score, and each result shows the spread
 * of their scores (a "spread" column in -o's CSV, a "spread" field in
 * --json).
 */
#include <time.h>
#include <unistd.h>

#include "cli.h"

const char *cli_program = "dgn-screen";

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
    cli_args p;
    cli_args_init(&p, argc, argv);
    screen_options o;
    CLI_EXIT_UNLESS_RUN(screen_parse(&o, &p), &p, screen_usage);
    dgn_screener_config scfg = o.screen;
    const char *model_path = o.model_path, *grid = o.grid, *candidates = o.candidates,
               *out = o.out;
    int json = o.json;
    const char *inputs[] = {model_path, candidates};
    if (out)
        cli_output("-o", out, inputs, 2);
    uint64_t next_report = 0;
    scfg.progress = progress;
    scfg.progress_user = &next_report;

    dgn_ensemble *e;
    CHECK(dgn_ensemble_load(&e, model_path));
    size_t members = dgn_ensemble_size(e);
    dgn_model *model = dgn_ensemble_member(e, 0); /* the names every member shares */
    dgn_screener *s;
    CHECK(dgn_screener_create_ensemble(&s, e, &scfg));
    if (grid) {
        /* The spec is an argument: its errors name --grid and exit 2. */
        dgn_status st = dgn_screener_set_grid(s, grid);
        if (st != DGN_OK) {
            const char *msg = dgn_last_error();
            if (st == DGN_E_NOMEM)
                CHECK(st);
            if (!strncmp(msg, "grid spec: ", 11))
                msg += 11;
            fprintf(stderr, "%s: --grid: %s (see --help)\n", cli_program, msg);
            exit(2);
        }
    } else
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
        float score, spread;
        CHECK(dgn_screener_result(s, r, &index, &score, pct, c));
        CHECK(dgn_screener_result_spread(s, r, &spread));
        if (json) {
            cli_json j;
            json_open(&j, stdout);
            json_count(&j, "rank", r + 1);
            json_count(&j, "index", index);
            json_number(&j, "score", "%.9g", (double)score);
            if (members > 1)
                json_number(&j, "spread", "%.9g", (double)spread);
            json_begin_object(&j, "percent");
            for (size_t k = 0; k < c; k++)
                if (pct[k] != 0)
                    json_number(&j, dgn_model_component_name(model, k), "%g", pct[k]);
            json_end_object(&j);
            json_runtime(&j);
            json_close(&j);
        } else {
            /* Largest component first, as glass compositions are usually read. */
            for (size_t j = 0; j < c; j++) {
                size_t i = j;
                for (; i > 0 && pct[order[i - 1]] < pct[j]; i--)
                    order[i] = order[i - 1];
                order[i] = j;
            }
            printf("%3zu  score %.4f ", r + 1, (double)score);
            if (members > 1)
                printf(" spread %.4f ", (double)spread);
            for (size_t j = 0; j < c && pct[order[j]] != 0; j++)
                printf(" %s %g", dgn_model_component_name(model, order[j]), pct[order[j]]);
            printf("\n");
        }
    }
    free(order);
    free(pct);
    dgn_screener_destroy(s);
    dgn_ensemble_destroy(e);
    return 0;
}
