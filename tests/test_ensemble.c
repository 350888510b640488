/* dgn_ensemble: the shared context, combined scores against a direct
 * computation, files and their damage, the screener with K members. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dgn.h"
#include "endian.h"
#include "model_internal.h"
#include "testutil.h"

enum { C = 4, K_OUT = 8, N_ROWS = 6 };

/* An untrained model of seed `seed` carrying the context of a small table
 * for [lo, 600]; `names` NULL gives the default names, `shift` moves the
 * rows (and so the z-score statistics). */
static dgn_model *member(uint64_t seed, double lo, const char *const *names, double shift)
{
    double x[] = {0.5, 0.2, 0.2, 0.1, 0.6, 0.1, 0.2, 0.1, 0.4, 0.3, 0.2, 0.1,
                  0.7, 0.1, 0.1, 0.1, 0.45, 0.25, 0.2, 0.1, 0.55, 0.15, 0.15, 0.15};
    static const double y[] = {550, 450, 520, 650, 580, 470};
    static const char *def[] = {"SiO2", "Al2O3", "Na2O", "CaO"};
    x[0] += shift;
    x[1] -= shift;
    dgn_dataset_config dc;
    dgn_dataset_config_init(&dc, DGN_DATASET_CONFIG_VERSION);
    dc.lo = lo;
    dc.hi = 600;
    dc.valid_fraction = 0;
    dgn_dataset *ds = NULL;
    ck_assert_int_eq(dgn_dataset_from_arrays(&ds, x, y, N_ROWS, C,
                                             names ? (const char **)names : def, "Tg", &dc),
                     DGN_OK);
    dgn_model_config mc;
    dgn_model_config_init(&mc, DGN_MODEL_CONFIG_VERSION);
    mc.n_components = C;
    mc.embed_dim = 8;
    mc.hidden = 16;
    mc.out_dim = K_OUT;
    mc.max_batch = 50;
    mc.seed = seed;
    dgn_model *m = NULL;
    ck_assert_int_eq(dgn_model_create(&m, &mc), DGN_OK);
    float centre[K_OUT];
    ck_assert_int_eq(dgn_class_centre(centre, K_OUT, m, ds), DGN_OK);
    ck_assert_int_eq(dgn_model_attach_context(m, ds, centre, NULL), DGN_OK);
    dgn_dataset_destroy(ds);
    return m;
}

/* An ensemble of k members of seeds 1 .. k. */
static dgn_ensemble *ensemble(size_t k)
{
    dgn_ensemble *e = NULL;
    ck_assert_int_eq(dgn_ensemble_create(&e), DGN_OK);
    for (size_t j = 0; j < k; j++) {
        dgn_model *m = member(1 + j, 500, NULL, 0);
        ck_assert_msg(dgn_ensemble_add(e, m) == DGN_OK, "%s", dgn_last_error());
        dgn_model_destroy(m); /* the ensemble holds a copy */
    }
    ck_assert_uint_eq(dgn_ensemble_size(e), k);
    return e;
}

/* Rows x [n][C], z-scored by some fixed numbers. */
static void rows(float *x, size_t n)
{
    for (size_t i = 0; i < n * C; i++)
        x[i] = (float)sin(0.37 * (double)i + 0.1);
}

static void *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(*len + 1);
    ck_assert_uint_eq(fread(b, 1, *len, f), *len);
    fclose(f);
    return b;
}

static char *temp_path(void)
{
    char *p = write_temp_str("");
    unlink(p);
    return p;
}

START_TEST(add_checks_the_shared_context)
{
    dgn_ensemble *e = NULL;
    ck_assert_int_eq(dgn_ensemble_create(&e), DGN_OK);
    ck_assert_uint_eq(dgn_ensemble_size(e), 0);
    float mean[1], x[C] = {0};
    ck_assert_int_eq(dgn_ensemble_scores(mean, 1, NULL, 0, e, x, 1), DGN_E_INVALID);
    ck_assert_error_has("no members");
    ck_assert_int_eq(dgn_ensemble_add(e, NULL), DGN_E_INVALID);

    /* A model without its context cannot score alone. */
    dgn_model_config mc;
    dgn_model_config_init(&mc, DGN_MODEL_CONFIG_VERSION);
    mc.n_components = C;
    dgn_model *bare = NULL;
    ck_assert_int_eq(dgn_model_create(&bare, &mc), DGN_OK);
    ck_assert_int_eq(dgn_ensemble_add(e, bare), DGN_E_DATA);
    ck_assert_error_has("member 0", "component names");
    dgn_model_destroy(bare);

    dgn_model *m0 = member(1, 500, NULL, 0);
    ck_assert_int_eq(dgn_ensemble_add(e, m0), DGN_OK);
    const char *other[] = {"SiO2", "B2O3", "Na2O", "CaO"};
    dgn_model *names = member(2, 500, other, 0), *range = member(2, 450, NULL, 0),
              *zs = member(2, 500, NULL, 0.05);
    ck_assert_int_eq(dgn_ensemble_add(e, names), DGN_E_DATA);
    ck_assert_error_has("member 1", "component 1 is \"B2O3\", member 0's is \"Al2O3\"");
    ck_assert_int_eq(dgn_ensemble_add(e, range), DGN_E_DATA);
    ck_assert_error_has("member 1", "range [450, 600], member 0's is [500, 600]");
    ck_assert_int_eq(dgn_ensemble_add(e, zs), DGN_E_DATA);
    ck_assert_error_has("member 1", "z-score mean of component 0");
    ck_assert_uint_eq(dgn_ensemble_size(e), 1);
    ck_assert_ptr_null(dgn_ensemble_member(e, 1));
    ck_assert_ptr_nonnull(dgn_ensemble_member(e, 0));
    ck_assert_ptr_ne(dgn_ensemble_member(e, 0), m0);
    dgn_model_destroy(m0);
    dgn_model_destroy(names);
    dgn_model_destroy(range);
    dgn_model_destroy(zs);
    dgn_ensemble_destroy(e);
    dgn_ensemble_destroy(NULL);
    ck_assert_uint_eq(dgn_ensemble_size(NULL), 0);
}
END_TEST

START_TEST(one_member_scores_as_the_model)
{
    dgn_model *m = member(1, 500, NULL, 0);
    dgn_ensemble *e = NULL;
    ck_assert_int_eq(dgn_ensemble_create(&e), DGN_OK);
    ck_assert_int_eq(dgn_ensemble_add(e, m), DGN_OK);
    enum { N = 120 };
    float x[N * C], want[N], mean[N], spread[N], centre[K_OUT];
    rows(x, N);
    ck_assert_int_eq(dgn_model_class_centre(m, centre, K_OUT), DGN_OK);
    ck_assert_int_eq(dgn_model_scores(want, N, m, centre, x, N), DGN_OK);
    ck_assert_int_eq(dgn_ensemble_scores(mean, N, spread, N, e, x, N), DGN_OK);
    ck_assert_mem_eq(mean, want, sizeof want);
    for (size_t i = 0; i < N; i++)
        ck_assert_float_eq(spread[i], 0);
    ck_assert_int_eq(dgn_ensemble_scores(mean, N - 1, NULL, 0, e, x, N), DGN_E_SHAPE);
    ck_assert_int_eq(dgn_ensemble_scores(mean, N, spread, 3, e, x, N), DGN_E_SHAPE);
    ck_assert_error_has("spread capacity 3 < 120");
    dgn_model_destroy(m);
    dgn_ensemble_destroy(e);
}
END_TEST

START_TEST(mean_and_spread_match_a_direct_computation)
{
    enum { K = 3, N = 70 };
    dgn_ensemble *e = ensemble(K);
    float x[N * C], s[K][N], mean[N], spread[N], only_mean[N], centre[K_OUT];
    rows(x, N);
    for (size_t j = 0; j < K; j++) {
        dgn_model *m = dgn_ensemble_member(e, j);
        ck_assert_int_eq(dgn_model_class_centre(m, centre, K_OUT), DGN_OK);
        ck_assert_int_eq(dgn_model_scores(s[j], N, m, centre, x, N), DGN_OK);
    }
    ck_assert_int_eq(dgn_ensemble_scores(mean, N, spread, N, e, x, N), DGN_OK);
    ck_assert_int_eq(dgn_ensemble_scores(only_mean, N, NULL, 0, e, x, N), DGN_OK);
    ck_assert_mem_eq(mean, only_mean, sizeof mean);
    int some_spread = 0;
    for (size_t i = 0; i < N; i++) {
        double mu = ((double)s[0][i] + s[1][i] + s[2][i]) / 3, v = 0;
        for (size_t j = 0; j < K; j++)
            v += (s[j][i] - mu) * (s[j][i] - mu);
        ck_assert_double_eq_tol(mean[i], mu, 1e-6);
        ck_assert_double_eq_tol(spread[i], sqrt(v / 3), 1e-6);
        some_spread |= spread[i] > 1e-3;
    }
    ck_assert(some_spread); /* the seeds give different networks */
    dgn_ensemble_destroy(e);
}
END_TEST

START_TEST(files_round_trip_bit_for_bit)
{
    enum { N = 40 };
    char *path = temp_path(), *one = temp_path(), *plain = temp_path();
    dgn_ensemble *e = ensemble(3), *back = NULL;
    ck_assert_int_eq(dgn_ensemble_save(e, path), DGN_OK);
    ck_assert_int_eq(dgn_ensemble_load(&back, path), DGN_OK);
    ck_assert_uint_eq(dgn_ensemble_size(back), 3);
    for (size_t j = 0; j < 3; j++) {
        dgn_model *a = dgn_ensemble_member(e, j), *b = dgn_ensemble_member(back, j);
        ck_assert_uint_eq(dgn_model_state_floats(a), dgn_model_state_floats(b));
        size_t n = dgn_model_state_floats(a);
        float *sa = malloc(n * sizeof *sa), *sb = malloc(n * sizeof *sb);
        dgn_model_snapshot(a, sa);
        dgn_model_snapshot(b, sb);
        ck_assert_mem_eq(sa, sb, n * sizeof *sa);
        free(sa);
        free(sb);
        ck_assert_str_eq(dgn_model_component_name(b, 2), "Na2O");
        ck_assert_int_eq(dgn_model_training(b), 0);
    }
    float x[N * C], m1[N], s1[N], m2[N], s2[N];
    rows(x, N);
    ck_assert_int_eq(dgn_ensemble_scores(m1, N, s1, N, e, x, N), DGN_OK);
    ck_assert_int_eq(dgn_ensemble_scores(m2, N, s2, N, back, x, N), DGN_OK);
    ck_assert_mem_eq(m1, m2, sizeof m1);
    ck_assert_mem_eq(s1, s2, sizeof s1);

    /* dgn_model_load refuses the ensemble and says what to use. */
    dgn_model *m = NULL;
    ck_assert_int_eq(dgn_model_load(&m, path), DGN_E_FORMAT);
    ck_assert_error_has(path, "ensemble", "dgn_ensemble_load");

    /* K = 1 is a plain model file; a model file loads as K = 1. */
    dgn_ensemble *single = ensemble(1), *again = NULL;
    ck_assert_int_eq(dgn_ensemble_save(single, one), DGN_OK);
    ck_assert_int_eq(dgn_model_save(dgn_ensemble_member(single, 0), plain), DGN_OK);
    size_t la, lb;
    void *a = slurp(one, &la), *b = slurp(plain, &lb);
    ck_assert_uint_eq(la, lb);
    ck_assert_mem_eq(a, b, la);
    free(a);
    free(b);
    ck_assert_int_eq(dgn_ensemble_load(&again, plain), DGN_OK);
    ck_assert_uint_eq(dgn_ensemble_size(again), 1);
    ck_assert_int_eq(dgn_model_load(&m, one), DGN_OK);
    dgn_model_destroy(m);

    dgn_ensemble *empty = NULL;
    ck_assert_int_eq(dgn_ensemble_create(&empty), DGN_OK);
    ck_assert_int_eq(dgn_ensemble_save(empty, path), DGN_E_INVALID);
    ck_assert_error_has("no members");
    dgn_ensemble_destroy(empty);
    dgn_ensemble_destroy(again);
    dgn_ensemble_destroy(single);
    dgn_ensemble_destroy(e);
    dgn_ensemble_destroy(back);
    remove_temp(path);
    remove_temp(one);
    remove_temp(plain);
}
END_TEST

/* The file at path with its bytes replaced by b [len]. */
static void rewrite(const char *path, const unsigned char *b, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(b, 1, len, f), len);
    fclose(f);
}

static void expect_refused(const char *path, const char *frag1, const char *frag2)
{
    dgn_ensemble *e = (dgn_ensemble *)1;
    ck_assert_int_eq(dgn_ensemble_load(&e, path), DGN_E_FORMAT);
    ck_assert_ptr_null(e);
    ck_assert_error_has(path, frag1, frag2);
}

START_TEST(damaged_files_are_refused_with_a_message)
{
    char *path = temp_path();
    dgn_ensemble *e = ensemble(3);
    ck_assert_int_eq(dgn_ensemble_save(e, path), DGN_OK);
    size_t len;
    unsigned char *good = slurp(path, &len), *b = malloc(len);

    memcpy(b, good, len);
    b[len / 2] ^= 0x40;
    rewrite(path, b, len);
    expect_refused(path, "checksum mismatch", "ensemble file is corrupted");

    rewrite(path, good, len - 9);
    expect_refused(path, "truncated ensemble file", "the header says");

    memcpy(b, good, len);
    dgn_put_u32le(b + 8, 7);
    rewrite(path, b, len);
    expect_refused(path, "ensemble file format version 7", "newer libdgn");

    /* A member's own image damaged under a valid outer checksum: the
     * member's checks name it. */
    memcpy(b, good, len);
    size_t first = dgn_get_u64le(b + 24);
    b[24 + 8 + first + 8 + 40] ^= 0x01; /* inside member 1 */
    dgn_put_u32le(b + len - 4, dgn_crc32(b, len - 4));
    rewrite(path, b, len);
    expect_refused(path, "(member 1 of 3)", "checksum mismatch");

    /* K outside [2, max]. */
    memcpy(b, good, len);
    dgn_put_u32le(b + 20, 1);
    dgn_put_u32le(b + len - 4, dgn_crc32(b, len - 4));
    rewrite(path, b, len);
    expect_refused(path, "1 members", "outside [2, 1024]");

    rewrite(path, (const unsigned char *)"DGNENSEM", 8);
    expect_refused(path, "truncated ensemble file", "shorter than its header");
    rewrite(path, (const unsigned char *)"hello, world", 12);
    expect_refused(path, "not a libdgn model file", "magic");
    free(b);
    free(good);
    dgn_ensemble_destroy(e);
    remove_temp(path);
}
END_TEST

static dgn_screener *screen(const dgn_ensemble *e, const dgn_model *m, size_t top)
{
    dgn_screener_config cfg;
    dgn_screener_config_init(&cfg, DGN_SCREENER_CONFIG_VERSION);
    cfg.top_k = top;
    cfg.threads = 2;
    dgn_screener *s = NULL;
    dgn_status st = e ? dgn_screener_create_ensemble(&s, e, &cfg)
                      : dgn_screener_create(&s, m, &cfg);
    ck_assert_msg(st == DGN_OK, "%s", dgn_last_error());
    ck_assert_int_eq(dgn_screener_set_grid(s, "step=5, SiO2=30:90, Al2O3=0:30, Na2O, CaO"),
                     DGN_OK);
    ck_assert_int_eq(dgn_screener_run(s), DGN_OK);
    return s;
}

START_TEST(screener_ranks_by_the_mean_and_keeps_the_spread)
{
    dgn_ensemble *e = ensemble(2);
    dgn_screener *s = screen(e, NULL, 200);
    ck_assert_uint_eq(dgn_screener_n_members(s), 2);
    size_t n = dgn_screener_n_results(s);
    ck_assert_uint_eq(n, 200);
    double mean[C], sd[C], pct[C];
    ck_assert_int_eq(dgn_model_zscore_stats(dgn_ensemble_member(e, 0), mean, sd, C), DGN_OK);
    float *x = malloc(n * C * sizeof *x), *want = malloc(n * sizeof *want),
          *want_sd = malloc(n * sizeof *want_sd), *got = malloc(n * sizeof *got),
          *got_sd = malloc(n * sizeof *got_sd);
    for (size_t r = 0; r < n; r++) {
        uint64_t index;
        ck_assert_int_eq(dgn_screener_result(s, r, &index, &got[r], pct, C), DGN_OK);
        ck_assert_int_eq(dgn_screener_result_spread(s, r, &got_sd[r]), DGN_OK);
        for (size_t j = 0; j < C; j++)
            x[r * C + j] = (float)((pct[j] / 100 - mean[j]) / sd[j]);
        if (r > 0)
            ck_assert(got[r] <= got[r - 1]);
    }
    ck_assert_int_eq(dgn_ensemble_scores(want, n, want_sd, n, e, x, n), DGN_OK);
    int some_spread = 0;
    for (size_t r = 0; r < n; r++) {
        /* The screener's folded networks agree with the layers to rounding. */
        ck_assert_double_eq_tol(got[r], want[r], 1e-5);
        ck_assert_double_eq_tol(got_sd[r], want_sd[r], 1e-5);
        some_spread |= got_sd[r] > 1e-3;
    }
    ck_assert(some_spread);
    float v;
    ck_assert_int_eq(dgn_screener_result_spread(s, n, &v), DGN_E_INVALID);
    ck_assert_int_eq(dgn_screener_result_spread(s, 0, NULL), DGN_E_INVALID);

    /* The CSV gains a spread column after the score. */
    char *path = temp_path();
    ck_assert_int_eq(dgn_screener_write_csv(s, path), DGN_OK);
    size_t len;
    char *csv = slurp(path, &len);
    csv[len] = '\0';
    ck_assert_int_eq(strncmp(csv, "rank,index,score,spread,\"SiO2\"", 30), 0);
    free(csv);
    remove_temp(path);
    free(x);
    free(want);
    free(want_sd);
    free(got);
    free(got_sd);
    dgn_screener_destroy(s);
    dgn_ensemble_destroy(e);
}
END_TEST

START_TEST(one_member_screens_exactly_as_the_model)
{
    dgn_ensemble *e = ensemble(1);
    dgn_model *m = dgn_ensemble_member(e, 0);
    dgn_screener *a = screen(e, NULL, 50), *b = screen(NULL, m, 50);
    ck_assert_uint_eq(dgn_screener_n_members(a), 1);
    ck_assert_uint_eq(dgn_screener_n_results(a), dgn_screener_n_results(b));
    for (size_t r = 0; r < dgn_screener_n_results(a); r++) {
        uint64_t ia, ib;
        float sa, sb, spread = 1;
        ck_assert_int_eq(dgn_screener_result(a, r, &ia, &sa, NULL, 0), DGN_OK);
        ck_assert_int_eq(dgn_screener_result(b, r, &ib, &sb, NULL, 0), DGN_OK);
        ck_assert_uint_eq(ia, ib);
        ck_assert_mem_eq(&sa, &sb, sizeof sa);
        ck_assert_int_eq(dgn_screener_result_spread(a, r, &spread), DGN_OK);
        ck_assert_float_eq(spread, 0);
    }
    char *pa = temp_path(), *pb = temp_path();
    ck_assert_int_eq(dgn_screener_write_csv(a, pa), DGN_OK);
    ck_assert_int_eq(dgn_screener_write_csv(b, pb), DGN_OK);
    size_t la, lb;
    void *ca = slurp(pa, &la), *cb = slurp(pb, &lb);
    ck_assert_uint_eq(la, lb);
    ck_assert_mem_eq(ca, cb, la);
    ck_assert_int_eq(strncmp(ca, "rank,index,score,\"SiO2\"", 23), 0);
    free(ca);
    free(cb);
    remove_temp(pa);
    remove_temp(pb);
    dgn_screener_destroy(a);
    dgn_screener_destroy(b);
    dgn_ensemble_destroy(e);

    dgn_ensemble *empty = NULL;
    dgn_screener *s = NULL;
    dgn_screener_config cfg;
    dgn_screener_config_init(&cfg, DGN_SCREENER_CONFIG_VERSION);
    ck_assert_int_eq(dgn_ensemble_create(&empty), DGN_OK);
    ck_assert_int_eq(dgn_screener_create_ensemble(&s, empty, &cfg), DGN_E_INVALID);
    ck_assert_error_has("no members");
    dgn_ensemble_destroy(empty);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ensemble");
    TCase *tc = tcase_create("ensemble");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, add_checks_the_shared_context);
    tcase_add_test(tc, one_member_scores_as_the_model);
    tcase_add_test(tc, mean_and_spread_match_a_direct_computation);
    tcase_add_test(tc, files_round_trip_bit_for_bit);
    tcase_add_test(tc, damaged_files_are_refused_with_a_message);
    tcase_add_test(tc, screener_ranks_by_the_mean_and_keeps_the_spread);
    tcase_add_test(tc, one_member_screens_exactly_as_the_model);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
