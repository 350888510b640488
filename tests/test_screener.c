/* dgn_screener: top-k against brute force, shards, threads, candidate files. */
#include <locale.h>
#include <math.h>
#include <stdlib.h>

#include "alloc_count.h"
#include "dgn.h"
#include "testutil.h"

enum { C = 4 };

/* An untrained model with a context: enough to rank candidates. */
static dgn_model *model_with_context(void)
{
    static const double x[] = {0.5, 0.2, 0.2, 0.1, 0.6, 0.1, 0.2, 0.1,
                               0.4, 0.3, 0.2, 0.1, 0.7, 0.1, 0.1, 0.1};
    static const double y[] = {550, 450, 520, 650};
    const char *names[] = {"W% SiO2", "W% Al2O3", "W% Na2O", "W% CaO"};
    dgn_dataset_config dc;
    dgn_dataset_config_init(&dc, DGN_DATASET_CONFIG_VERSION);
    dc.lo = 500;
    dc.hi = 600;
    dc.valid_fraction = 0;
    dgn_dataset *ds = NULL;
    ck_assert_int_eq(dgn_dataset_from_arrays(&ds, x, y, 4, C, names, "Tg", &dc), DGN_OK);
    dgn_model_config mc;
    dgn_model_config_init(&mc, DGN_MODEL_CONFIG_VERSION);
    mc.n_components = C;
    mc.embed_dim = 8;
    mc.hidden = 16;
    mc.out_dim = 8;
    mc.max_batch = 50; /* small blocks: many of them */
    dgn_model *m = NULL;
    ck_assert_int_eq(dgn_model_create(&m, &mc), DGN_OK);
    float centre[8];
    ck_assert_int_eq(dgn_class_centre(centre, 8, m, ds), DGN_OK);
    ck_assert_int_eq(dgn_model_attach_context(m, ds, centre, NULL), DGN_OK);
    dgn_dataset_destroy(ds);
    return m;
}

static dgn_screener *screener(const dgn_model *m, size_t top, size_t threads,
                              uint64_t shard, uint64_t shards)
{
    dgn_screener_config cfg;
    dgn_screener_config_init(&cfg, DGN_SCREENER_CONFIG_VERSION);
    cfg.top_k = top;
    cfg.threads = threads;
    cfg.shard_index = shard;
    cfg.shard_count = shards;
    dgn_screener *s = NULL;
    ck_assert_msg(dgn_screener_create(&s, m, &cfg) == DGN_OK, "%s", dgn_last_error());
    return s;
}

static const char *GRID = "step=2.5, SiO2=30:90, Al2O3=0:30, Na2O=0:40, CaO";

START_TEST(top_k_equals_brute_force)
{
    dgn_model *m = model_with_context();
    dgn_screener *all = screener(m, 100000, 1, 0, 1);
    ck_assert_int_eq(dgn_screener_set_grid(all, GRID), DGN_OK);
    uint64_t total, mine;
    ck_assert_int_eq(dgn_screener_count(all, &total, &mine), DGN_OK);
    ck_assert_uint_eq(total, mine);
    ck_assert_uint_lt(total, 100000);
    ck_assert_int_eq(dgn_screener_run(all), DGN_OK);
    ck_assert_uint_eq(dgn_screener_n_results(all), total);

    /* Everything, sorted: the brute-force ranking. Check its order, then
     * that a small top-k is exactly its head. */
    float prev = INFINITY;
    uint64_t prev_index = 0;
    for (size_t r = 0; r < total; r++) {
        uint64_t index;
        float score;
        double pct[C];
        ck_assert_int_eq(dgn_screener_result(all, r, &index, &score, pct, C), DGN_OK);
        ck_assert(score < prev || (score == prev && index > prev_index));
        prev = score;
        prev_index = index;
        double sum = pct[0] + pct[1] + pct[2] + pct[3];
        ck_assert_double_eq_tol(sum, 100, 1e-9);
        ck_assert(pct[0] >= 30 && pct[0] <= 90 && pct[1] <= 30 && pct[2] <= 40);
    }
    dgn_screener *top = screener(m, 7, 1, 0, 1);
    ck_assert_int_eq(dgn_screener_set_grid(top, GRID), DGN_OK);
    ck_assert_int_eq(dgn_screener_run(top), DGN_OK);
    ck_assert_uint_eq(dgn_screener_n_results(top), 7);
    for (size_t r = 0; r < 7; r++) {
        uint64_t a, b;
        float sa, sb;
        dgn_screener_result(all, r, &a, &sa, NULL, 0);
        dgn_screener_result(top, r, &b, &sb, NULL, 0);
        ck_assert_uint_eq(a, b);
        ck_assert_float_eq(sa, sb);
    }
    dgn_screener_destroy(top);
    dgn_screener_destroy(all);
    dgn_model_destroy(m);
}
END_TEST

START_TEST(shards_are_disjoint_and_cover_everything)
{
    dgn_model *m = model_with_context();
    uint64_t total = 0;
    const uint64_t counts[] = {2, 3, 7, 64};
    for (int t = 0; t < 4; t++) {
        uint64_t n = counts[t], covered = 0;
        unsigned char *seen = NULL;
        for (uint64_t i = 0; i < n; i++) {
            dgn_screener *s = screener(m, 100000, 1, i, n);
            ck_assert_int_eq(dgn_screener_set_grid(s, GRID), DGN_OK);
            uint64_t mine;
            dgn_screener_count(s, &total, &mine);
            if (!seen)
                seen = calloc(total, 1);
            ck_assert_int_eq(dgn_screener_run(s), DGN_OK);
            ck_assert_uint_eq(dgn_screener_n_results(s), mine);
            for (size_t r = 0; r < mine; r++) {
                uint64_t index;
                dgn_screener_result(s, r, &index, NULL, NULL, 0);
                ck_assert_uint_lt(index, total);
                ck_assert_int_eq(seen[index]++, 0); /* disjoint */
            }
            covered += mine;
            dgn_screener_destroy(s);
        }
        ck_assert_uint_eq(covered, total); /* complete */
        free(seen);
    }
    dgn_model_destroy(m);
}
END_TEST

START_TEST(merged_shards_and_threads_match_one_process)
{
    dgn_model *m = model_with_context();
    enum { K = 25 };
    dgn_screener *one = screener(m, K, 1, 0, 1);
    ck_assert_int_eq(dgn_screener_set_grid(one, GRID), DGN_OK);
    ck_assert_int_eq(dgn_screener_run(one), DGN_OK);

    dgn_screener *threaded = screener(m, K, 3, 0, 1);
    ck_assert_int_eq(dgn_screener_set_grid(threaded, GRID), DGN_OK);
    ck_assert_int_eq(dgn_screener_run(threaded), DGN_OK);

    /* Merge three shards' top-K by (score desc, index asc). */
    uint64_t idx[3 * K];
    float sc[3 * K];
    size_t n = 0;
    for (uint64_t i = 0; i < 3; i++) {
        dgn_screener *s = screener(m, K, 2, i, 3);
        ck_assert_int_eq(dgn_screener_set_grid(s, GRID), DGN_OK);
        ck_assert_int_eq(dgn_screener_run(s), DGN_OK);
        for (size_t r = 0; r < dgn_screener_n_results(s); r++, n++)
            dgn_screener_result(s, r, &idx[n], &sc[n], NULL, 0);
        dgn_screener_destroy(s);
    }
    for (size_t r = 0; r < K; r++) {
        size_t best = r;
        for (size_t j = r + 1; j < n; j++)
            if (sc[j] > sc[best] || (sc[j] == sc[best] && idx[j] < idx[best]))
                best = j;
        uint64_t ti = idx[r];
        float ts = sc[r];
        idx[r] = idx[best], sc[r] = sc[best];
        idx[best] = ti, sc[best] = ts;

        uint64_t a, b;
        float sa, sb;
        dgn_screener_result(one, r, &a, &sa, NULL, 0);
        dgn_screener_result(threaded, r, &b, &sb, NULL, 0);
        ck_assert_uint_eq(a, idx[r]);
        ck_assert_float_eq(sa, sc[r]);
        ck_assert_uint_eq(a, b);
        ck_assert_float_eq(sa, sb);
    }
    dgn_screener_destroy(one);
    dgn_screener_destroy(threaded);
    dgn_model_destroy(m);
}
END_TEST

START_TEST(candidate_files)
{
    dgn_model *m = model_with_context();
    /* Other column order, an extra column, fractions. */
    char *path = write_temp_str("name,CaO,Na2O,Al2O3,SiO2\n"
                                "a,0.1,0.2,0.1,0.6\n"
                                "b,0.0,0.3,0.2,0.5\n"
                                "c,0.25,0.25,0.25,0.25\n");
    dgn_screener *s = screener(m, 2, 1, 0, 1);
    ck_assert_msg(dgn_screener_set_candidates(s, path) == DGN_OK, "%s", dgn_last_error());
    uint64_t total, mine;
    dgn_screener_count(s, &total, &mine);
    ck_assert_uint_eq(total, 3);
    ck_assert_int_eq(dgn_screener_run(s), DGN_OK);
    ck_assert_uint_eq(dgn_screener_n_results(s), 2);
    for (size_t r = 0; r < 2; r++) {
        uint64_t index;
        double pct[C];
        dgn_screener_result(s, r, &index, NULL, pct, C);
        const double expect[3][C] = {{60, 10, 20, 10}, {50, 20, 30, 0}, {25, 25, 25, 25}};
        for (int j = 0; j < C; j++)
            ck_assert_double_eq_tol(pct[j], expect[index][j], 1e-9);
    }
    /* Written whole, with the model's names as the header. */
    char *out = write_temp_str("old content");
    ck_assert_int_eq(dgn_screener_write_csv(s, out), DGN_OK);
    FILE *f = fopen(out, "r");
    char line[256];
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_str_eq(line, "rank,index,score,\"W% SiO2\",\"W% Al2O3\",\"W% Na2O\",\"W% CaO\"\n");
    int lines = 1;
    while (fgets(line, sizeof line, f))
        lines++;
    fclose(f);
    ck_assert_int_eq(lines, 3);
    ck_assert_int_eq(dgn_screener_write_csv(s, "/nonexistent/out.csv"), DGN_E_IO);
    ck_assert_error_has("/nonexistent/out.csv");
    remove_temp(out);
    remove_temp(path);

    path = write_temp_str("SiO2,Al2O3,CaO\n60,20,20\n");
    ck_assert_int_eq(dgn_screener_set_candidates(s, path), DGN_E_INVALID);
    ck_assert_error_has("no column named \"W% Na2O\"");
    remove_temp(path);
    path = write_temp_str("SiO2,Al2O3,Na2O,CaO\n60,20,10,10\n0.5,0.2,0.2,0.1\n");
    ck_assert_int_eq(dgn_screener_set_candidates(s, path), DGN_E_FORMAT);
    /* The dataset's rule and message (lib/table.c). */
    ck_assert_error_has("mixes fractions and percents", ":3 sums to 1", ":2 sums to 100");
    remove_temp(path);
    dgn_screener_destroy(s);
    dgn_model_destroy(m);
}
END_TEST

/* A result is read without allocating (the screener owns the buffer),
 * and the results file holds every result in full, however many. */
START_TEST(results_allocate_nothing_and_are_written_whole)
{
    dgn_model *m = model_with_context();
    dgn_screener *s = screener(m, 5000, 1, 0, 1);
    ck_assert_int_eq(dgn_screener_set_grid(s, GRID), DGN_OK);
    ck_assert_int_eq(dgn_screener_run(s), DGN_OK);
    size_t n = dgn_screener_n_results(s);
    ck_assert_uint_gt(n, 1000);
    double pct[C];
    uint64_t index;
    float score;
    size_t failed = 0;
#if COUNT_ALLOCATIONS
    n_allocs = 0;
    counting = 1; /* no Check assertion inside: they allocate */
#endif
    for (size_t r = 0; r < n; r++)
        failed += dgn_screener_result(s, r, &index, &score, pct, C) != DGN_OK;
#if COUNT_ALLOCATIONS
    counting = 0;
    ck_assert_uint_eq(n_allocs, 0);
#endif
    ck_assert_uint_eq(failed, 0);
    char *out = write_temp_str("");
    ck_assert_int_eq(dgn_screener_write_csv(s, out), DGN_OK);
    FILE *f = fopen(out, "r");
    char line[512];
    size_t lines = 0;
    while (fgets(line, sizeof line, f)) {
        size_t commas = 0;
        for (const char *p = line; *p; p++)
            commas += *p == ',';
        ck_assert_uint_eq(commas, 2 + C);
        ck_assert_int_eq(line[strlen(line) - 1], '\n');
        lines++;
    }
    fclose(f);
    ck_assert_uint_eq(lines, n + 1);
    remove_temp(out);
    dgn_screener_destroy(s);
    dgn_model_destroy(m);
}
END_TEST

START_TEST(results_file_ignores_a_decimal_comma_locale)
{
    dgn_model *m = model_with_context();
    dgn_screener *s = screener(m, 3, 1, 0, 1);
    ck_assert_int_eq(dgn_screener_set_grid(s, "step=2.5, SiO2, Na2O, CaO, Al2O3=0:10"), DGN_OK);
    ck_assert_int_eq(dgn_screener_run(s), DGN_OK);
    /* CI generates de_DE.UTF-8; without it this test cannot fail. */
    ck_assert_ptr_nonnull(setlocale(LC_NUMERIC, "de_DE.UTF-8"));
    char *out = write_temp_str("");
    ck_assert_int_eq(dgn_screener_write_csv(s, out), DGN_OK);
    setlocale(LC_NUMERIC, "C");
    FILE *f = fopen(out, "r");
    char line[512];
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    int fields = 0, rows = 0;
    while (fgets(line, sizeof line, f)) {
        rows++;
        fields = 1;
        for (char *p = line; *p; p++)
            fields += *p == ',';
        ck_assert_msg(fields == 3 + C, "row %d has %d fields: %s", rows, fields, line);
        ck_assert_ptr_nonnull(strchr(line, '.')); /* the score, with a point */
    }
    fclose(f);
    ck_assert_int_eq(rows, 3);
    remove_temp(out);
    dgn_screener_destroy(s);
    dgn_model_destroy(m);
}
END_TEST

START_TEST(errors)
{
    dgn_model_config mc;
    dgn_model_config_init(&mc, DGN_MODEL_CONFIG_VERSION);
    mc.n_components = 3;
    dgn_model *bare = NULL;
    ck_assert_int_eq(dgn_model_create(&bare, &mc), DGN_OK);
    dgn_screener_config cfg;
    dgn_screener_config_init(&cfg, DGN_SCREENER_CONFIG_VERSION);
    dgn_screener *s = (dgn_screener *)1;
    ck_assert_int_eq(dgn_screener_create(&s, bare, &cfg), DGN_E_DATA);
    ck_assert_ptr_null(s);
    ck_assert_error_has("no component names");
    dgn_model_destroy(bare);

    cfg.shard_index = 2;
    cfg.shard_count = 2;
    ck_assert_int_eq(dgn_screener_config_validate(&cfg), DGN_E_INVALID);
    ck_assert_error_has("shard_index");
    dgn_model *m = model_with_context();
    s = screener(m, 5, 1, 0, 1);
    ck_assert_int_eq(dgn_screener_run(s), DGN_E_INVALID);
    ck_assert_int_eq(dgn_screener_set_grid(s, "step=5,SiO2,Fe2O3"), DGN_E_INVALID);
    ck_assert_error_has("Fe2O3");
    dgn_screener_destroy(s);
    dgn_model_destroy(m);
}
END_TEST

START_TEST(failed_setter_leaves_no_results)
{
    /* A grid run, then a setter that fails: the old results pointed into
     * the freed lattice (ASan: heap-use-after-free in dgn_screener_result). */
    dgn_model *m = model_with_context();
    dgn_screener *s = screener(m, 5, 1, 0, 1);
    for (int setter = 0; setter < 2; setter++) {
        ck_assert_int_eq(dgn_screener_set_grid(s, GRID), DGN_OK);
        ck_assert_int_eq(dgn_screener_run(s), DGN_OK);
        ck_assert_uint_eq(dgn_screener_n_results(s), 5);
        char *path = write_temp_str("SiO2,Al2O3\n60,40\n");
        dgn_status st = setter ? dgn_screener_set_candidates(s, path)
                               : dgn_screener_set_grid(s, "step=5,SiO2,Fe2O3");
        ck_assert_int_ne(st, DGN_OK);
        remove_temp(path);
        ck_assert_uint_eq(dgn_screener_n_results(s), 0);
        uint64_t index, total = 1, mine = 1;
        double pct[C];
        ck_assert_int_eq(dgn_screener_result(s, 0, &index, NULL, pct, C), DGN_E_INVALID);
        ck_assert_int_eq(dgn_screener_count(s, &total, &mine), DGN_OK);
        ck_assert_uint_eq(total, 0);
        ck_assert_uint_eq(mine, 0);
        ck_assert_int_eq(dgn_screener_run(s), DGN_E_INVALID);
    }
    dgn_screener_destroy(s);
    dgn_model_destroy(m);
}
END_TEST

START_TEST(off_sum_candidates_are_rejected_and_counted)
{
    dgn_model *m = model_with_context();
    dgn_screener *s = screener(m, 10, 1, 0, 1);
    /* Percent: 50 % and 150 % rows are left out (rank 1 used to be the
     * 50 % row), the edges 95 % and 105 % kept despite decimal rounding
     * (these sum to 94.99999999999999 and 105.00000000000001 in doubles),
     * 94.9 % and 105.1 % left out. */
    char *path = write_temp_str("SiO2,Al2O3,Na2O,CaO\n"
                                "60,20,10,10\n"  /* 0: 100 % */
                                "20,10,10,10\n"  /* 1: 50 % */
                                "90,30,20,10\n"  /* 2: 150 % */
                                "13.8,33.8,28.1,19.3\n" /* 3: 95 % */
                                "15.9,15.3,38.1,35.7\n" /* 4: 105 % */
                                "60,14.9,10,10\n" /* 5: 94.9 % */
                                "60,25.1,10,10\n" /* 6: 105.1 % */);
    ck_assert_msg(dgn_screener_set_candidates(s, path) == DGN_OK, "%s", dgn_last_error());
    ck_assert_uint_eq(dgn_screener_n_rejected(s), 4);
    uint64_t total, mine;
    dgn_screener_count(s, &total, &mine);
    ck_assert_uint_eq(total, 3);
    ck_assert_int_eq(dgn_screener_run(s), DGN_OK);
    ck_assert_uint_eq(dgn_screener_n_results(s), 3);
    /* Indices are the file's data rows, the rejected ones counted. */
    int seen[7] = {0};
    for (size_t r = 0; r < 3; r++) {
        uint64_t index;
        double pct[C];
        ck_assert_int_eq(dgn_screener_result(s, r, &index, NULL, pct, C), DGN_OK);
        ck_assert_uint_lt(index, 7);
        seen[index] = 1;
        if (index == 3)
            ck_assert_double_eq_tol(pct[1], 33.8, 1e-12);
    }
    ck_assert(seen[0] && seen[3] && seen[4]);
    remove_temp(path);

    /* Fractions, the same window; a grid rejects nothing. */
    path = write_temp_str("SiO2,Al2O3,Na2O,CaO\n0.2,0.1,0.1,0.1\n0.6,0.2,0.1,0.1\n");
    ck_assert_int_eq(dgn_screener_set_candidates(s, path), DGN_OK);
    ck_assert_uint_eq(dgn_screener_n_rejected(s), 1);
    remove_temp(path);
    ck_assert_int_eq(dgn_screener_set_grid(s, GRID), DGN_OK);
    ck_assert_uint_eq(dgn_screener_n_rejected(s), 0);

    /* Nothing left: an error naming a line and its sum. */
    path = write_temp_str("SiO2,Al2O3,Na2O,CaO\n20,10,10,10\n90,30,20,10\n");
    ck_assert_int_eq(dgn_screener_set_candidates(s, path), DGN_E_DATA);
    ck_assert_error_has("no candidate left", "all 2 rows", "95-105 %", "line 2 sums to 50 %");
    ck_assert_uint_eq(dgn_screener_n_rejected(s), 0);
    remove_temp(path);
    path = write_temp_str("SiO2,Al2O3,Na2O,CaO\n2,1,1,1\n");
    ck_assert_int_eq(dgn_screener_set_candidates(s, path), DGN_E_DATA);
    ck_assert_error_has("cannot tell the units", ":2 sums to 5");
    remove_temp(path);
    dgn_screener_destroy(s);
    dgn_model_destroy(m);
}
END_TEST

START_TEST(duplicate_candidate_columns_are_refused)
{
    dgn_model *m = model_with_context();
    dgn_screener *s = screener(m, 10, 1, 0, 1);
    char *path = write_temp_str("SiO2,Al2O3,Na2O,CaO,SiO2\n60,20,10,10,0\n");
    ck_assert_int_eq(dgn_screener_set_candidates(s, path), DGN_E_FORMAT);
    ck_assert_error_has(":1: columns 1 and 5 are both named \"SiO2\"");
    remove_temp(path);
    path = write_temp_str("SiO2,Al2O3,Na2O,CaO, SiO2 \n60,20,10,10,0\n");
    ck_assert_int_eq(dgn_screener_set_candidates(s, path), DGN_E_FORMAT);
    ck_assert_error_has("columns 1 (\"SiO2\") and 5 (\" SiO2 \")");
    remove_temp(path);
    /* Unnamed extra columns stay allowed; names match trimmed. */
    path = write_temp_str(",SiO2 ,Al2O3,,Na2O,\tCaO\n0,60,20,x,10,10\n");
    ck_assert_msg(dgn_screener_set_candidates(s, path) == DGN_OK, "%s", dgn_last_error());
    remove_temp(path);
    dgn_screener_destroy(s);
    dgn_model_destroy(m);
}
END_TEST

START_TEST(non_regular_candidate_files_are_refused)
{
    dgn_model *m = model_with_context();
    dgn_screener *s = screener(m, 10, 1, 0, 1);
    ck_assert_int_eq(dgn_screener_set_candidates(s, "/dev/zero"), DGN_E_IO);
    ck_assert_error_has("/dev/zero", "character device");
    dgn_screener_destroy(s);
    dgn_model_destroy(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("screener");
    TCase *tc = tcase_create("screening");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, top_k_equals_brute_force);
    tcase_add_test(tc, shards_are_disjoint_and_cover_everything);
    tcase_add_test(tc, merged_shards_and_threads_match_one_process);
    tcase_add_test(tc, candidate_files);
    tcase_add_test(tc, results_file_ignores_a_decimal_comma_locale);
    tcase_add_test(tc, errors);
    tcase_add_test(tc, failed_setter_leaves_no_results);
    tcase_add_test(tc, off_sum_candidates_are_rejected_and_counted);
    tcase_add_test(tc, results_allocate_nothing_and_are_written_whole);
    tcase_add_test(tc, duplicate_candidate_columns_are_refused);
    tcase_add_test(tc, non_regular_candidate_files_are_refused);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
