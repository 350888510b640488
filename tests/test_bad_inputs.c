/* The bad-input corpus (tests/data/bad): every file fails with its expected
 * status and a message holding its fragment; nothing crashes. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dgn.h"
#include "grid.h"
#include "testutil.h"

#define BAD DGN_SOURCE_DIR "/tests/data/bad/"

static const char *const sciglass[] = {
    "W% BaO", "W% CaO", "W% MgO", "W% PbO", "W% SrO", "W% ZnO", "W% GeO2", "W% SiO2",
    "W% TeO2", "W% TiO2", "W% ZrO2", "W% WO3", "W% K2O", "W% Li2O", "W% Na2O", "W% Al2O3",
    "W% B2O3", "W% Bi2O3", "W% P2O5"};

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static dgn_status try_csv(const char *path)
{
    dgn_dataset_config cfg;
    dgn_dataset_config_init(&cfg, DGN_DATASET_CONFIG_VERSION);
    cfg.lo = 500;
    cfg.hi = 600;
    dgn_dataset *ds = (dgn_dataset *)1;
    dgn_status st = dgn_dataset_load_csv(&ds, path, &cfg);
    ck_assert(st != DGN_OK || ds != NULL);
    if (st != DGN_OK)
        ck_assert_ptr_null(ds);
    dgn_dataset_destroy(st == DGN_OK ? ds : NULL);
    return st;
}

static dgn_status try_model(const char *path)
{
    dgn_model *m = (dgn_model *)1;
    dgn_status st = dgn_model_load(&m, path);
    if (st != DGN_OK)
        ck_assert_ptr_null(m);
    dgn_model_destroy(st == DGN_OK ? m : NULL);
    /* The ensemble loader reads a model file as one member: it refuses
     * the same files with the same status (the caller checks the message,
     * which is the ensemble loader's, as it was the model loader's). */
    char before[1024];
    snprintf(before, sizeof before, "%s", dgn_last_error());
    dgn_ensemble *e = (dgn_ensemble *)1;
    dgn_status es = dgn_ensemble_load(&e, path);
    if (st != DGN_OK) {
        ck_assert_int_eq(es, st);
        ck_assert_ptr_null(e);
        ck_assert_str_eq(dgn_last_error(), before);
    }
    dgn_ensemble_destroy(es == DGN_OK ? e : NULL);
    return st;
}

static dgn_status try_grid(const char *path)
{
    char *spec = slurp(path);
    dgn_grid g;
    dgn_status st = dgn_grid_parse(&g, spec, sciglass, 19);
    if (st == DGN_OK)
        dgn_grid_free(&g);
    free(spec);
    return st;
}

/* An output path of the kind the scenario names, beside an input in.csv;
 * refused by dgn_output_check (whose refusals dgn_write_file shares). */
static dgn_status try_output(const char *scenario)
{
    char dir[] = "/tmp/dgn-bad-output-XXXXXX", in[64], out[96];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(in, sizeof in, "%s/in.csv", dir);
    FILE *f = fopen(in, "w");
    fputs("a,b,T\n70,30,550\n", f);
    fclose(f);
    snprintf(out, sizeof out, "%s/out", dir);
    if (!strcmp(scenario, "same_as_input"))
        snprintf(out, sizeof out, "%s", in);
    else if (!strcmp(scenario, "hard_link_to_input"))
        ck_assert_int_eq(link(in, out), 0);
    else if (!strcmp(scenario, "symlink_to_input"))
        ck_assert_int_eq(symlink("in.csv", out), 0);
    else if (!strcmp(scenario, "input_through_dot"))
        snprintf(out, sizeof out, "%s/./in.csv", dir);
    else if (!strcmp(scenario, "dev_null") || !strcmp(scenario, "dev_full"))
        snprintf(out, sizeof out, "/dev/%s", scenario + 4);
    else if (!strcmp(scenario, "fifo"))
        ck_assert_int_eq(mkfifo(out, 0600), 0);
    else if (!strcmp(scenario, "directory"))
        ck_assert_int_eq(mkdir(out, 0700), 0);
    else if (!strcmp(scenario, "missing_directory"))
        snprintf(out, sizeof out, "%s/none/out", dir);
    else if (!strcmp(scenario, "dangling_symlink"))
        ck_assert_int_eq(symlink("nowhere", out), 0);
    else
        ck_abort_msg("unknown output scenario %s", scenario);
    const char *inputs[] = {in};
    dgn_status st = dgn_output_check(out, inputs, 1);
    char path[96];
    snprintf(path, sizeof path, "%s/out", dir);
    if (rmdir(path) != 0)
        unlink(path);
    unlink(in);
    ck_assert_int_eq(rmdir(dir), 0);
    return st;
}

/* An untrained model over the SciGlass columns with a context: enough to
 * read and rank candidate files. */
static dgn_model *sciglass_model(void)
{
    enum { N = 4, C = 19 };
    double x[N * C] = {0}, y[N] = {550, 450, 520, 650};
    for (int i = 0; i < N; i++) {
        x[i * C + 7] = 60 + 5 * i; /* SiO2 */
        x[i * C + 14] = 40 - 5 * i; /* Na2O */
    }
    dgn_dataset_config dc;
    dgn_dataset_config_init(&dc, DGN_DATASET_CONFIG_VERSION);
    dc.lo = 500;
    dc.hi = 600;
    dc.valid_fraction = 0;
    dgn_dataset *ds = NULL;
    ck_assert_int_eq(dgn_dataset_from_arrays(&ds, x, y, N, C, sciglass, "TG", &dc), DGN_OK);
    dgn_model_config mc;
    dgn_model_config_init(&mc, DGN_MODEL_CONFIG_VERSION);
    mc.n_components = C;
    mc.embed_dim = 4;
    mc.hidden = 8;
    mc.out_dim = 4;
    mc.max_batch = 8;
    dgn_model *m = NULL;
    ck_assert_int_eq(dgn_model_create(&m, &mc), DGN_OK);
    float centre[4];
    ck_assert_int_eq(dgn_class_centre(centre, 4, m, ds), DGN_OK);
    ck_assert_int_eq(dgn_model_attach_context(m, ds, centre, NULL), DGN_OK);
    dgn_dataset_destroy(ds);
    return m;
}

/* For a file that loads: what the run reports instead of an error. */
static char note[256];

static dgn_status try_candidates(const dgn_model *m, const char *path)
{
    dgn_screener_config cfg;
    dgn_screener_config_init(&cfg, DGN_SCREENER_CONFIG_VERSION);
    dgn_screener *s = NULL;
    ck_assert_int_eq(dgn_screener_create(&s, m, &cfg), DGN_OK);
    dgn_status st = dgn_screener_set_candidates(s, path);
    if (st == DGN_OK) {
        snprintf(note, sizeof note, "rejected %llu rows",
                 (unsigned long long)dgn_screener_n_rejected(s));
        ck_assert_int_eq(dgn_screener_run(s), DGN_OK);
        ck_assert_uint_gt(dgn_screener_n_results(s), 0);
    }
    dgn_screener_destroy(s);
    return st;
}

START_TEST(corpus)
{
    FILE *f = fopen(BAD "MANIFEST", "r");
    ck_assert_ptr_nonnull(f);
    char line[1024];
    size_t n = 0;
    dgn_model *m = sciglass_model();
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#')
            continue;
        line[strcspn(line, "\n")] = '\0';
        char *kind = strtok(line, "\t"), *file = strtok(NULL, "\t"),
             *status = strtok(NULL, "\t"), *fragment = strtok(NULL, "\t");
        ck_assert_msg(kind && file && status && fragment, "bad MANIFEST line %zu", n + 1);
        char path[1024];
        snprintf(path, sizeof path, BAD "%s", file);
        note[0] = '\0';
        dgn_status st = !strcmp(kind, "csv") ? try_csv(path)
                      : !strcmp(kind, "model") ? try_model(path)
                      : !strcmp(kind, "output") ? try_output(file)
                      : !strcmp(kind, "candidates") ? try_candidates(m, path) : try_grid(path);
        const char *msg = st == DGN_OK ? note : dgn_last_error();
        ck_assert_msg(!strcmp(dgn_status_str(st), status), "%s: %s, expected %s (%s)", file,
                      dgn_status_str(st), status, msg);
        ck_assert_msg(strstr(msg, fragment) != NULL,
                      "%s: message \"%s\" lacks \"%s\"", file, msg, fragment);
        /* One line: a message never contains a newline. */
        ck_assert_msg(strchr(msg, '\n') == NULL, "%s: multi-line message", file);
        n++;
    }
    fclose(f);
    dgn_model_destroy(m);
    ck_assert_uint_ge(n, 30);
}
END_TEST

START_TEST(positive_control)
{
    /* Written by the same generator from docs/model.md: the damaged files
     * differ from a file the loader accepts only by their damage. */
    dgn_model *m = NULL;
    ck_assert_msg(dgn_model_load(&m, DGN_SOURCE_DIR "/tests/data/good/tiny.dgn") == DGN_OK,
                  "%s", dgn_last_error());
    const void *data;
    size_t size;
    ck_assert_int_eq(dgn_model_meta(m, "note", &data, &size), DGN_OK);
    ck_assert_uint_eq(size, 2);
    ck_assert_int_eq(memcmp(data, "ok", 2), 0);
    dgn_model_config cfg;
    dgn_model_get_config(m, &cfg);
    ck_assert_uint_eq(cfg.n_components, 3);
    float x[6] = {0.1f, 0.2f, 0.3f, -0.1f, 0.5f, 0.0f}, f[4];
    ck_assert_int_eq(dgn_model_forward(m, f, 4, x, 2), DGN_OK);
    dgn_model_destroy(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("bad_inputs");
    TCase *tc = tcase_create("corpus");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, corpus);
    tcase_add_test(tc, positive_control);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
