/* dgn_dataset: loading, cleaning, labels, split, statistics, triplets. */
#include <math.h>

#include "dataset_internal.h"
#include "dgn.h"
#include "testutil.h"

static dgn_dataset_config base_config(double lo, double hi)
{
    dgn_dataset_config cfg;
    ck_assert_int_eq(dgn_dataset_config_init(&cfg, DGN_DATASET_CONFIG_VERSION), DGN_OK);
    cfg.lo = lo;
    cfg.hi = hi;
    cfg.valid_fraction = 0;
    return cfg;
}

static dgn_status load_text(const char *text, const dgn_dataset_config *cfg,
                            dgn_dataset **out)
{
    char *path = write_temp_str(text);
    dgn_status st = dgn_dataset_load_csv(out, path, cfg);
    remove_temp(path);
    return st;
}

static dgn_dataset *load_ok(const char *text, const dgn_dataset_config *cfg)
{
    dgn_dataset *ds = NULL;
    dgn_status st = load_text(text, cfg, &ds);
    ck_assert_msg(st == DGN_OK, "load failed: %s", dgn_last_error());
    ck_assert_ptr_nonnull(ds);
    return ds;
}

/* Load expecting failure with status st; out must stay NULL. */
static void load_fails(const char *text, const dgn_dataset_config *cfg, dgn_status st)
{
    dgn_dataset *ds = (dgn_dataset *)1;
    ck_assert_int_eq(load_text(text, cfg, &ds), st);
    ck_assert_ptr_null(ds);
}

/* ---------------------------------------------------------------- */

START_TEST(bom_crlf_index_and_quoted_header)
{
    dgn_dataset_config cfg = base_config(500, 600);
    dgn_dataset *ds = load_ok("\xEF\xBB\xBF" ",\"W% SiO2\",\"W% Na2O\",\"TG\"\r\n"
                              "0,70,30,550\r\n"
                              "1,60,40,450\r\n", &cfg);
    ck_assert_uint_eq(dgn_dataset_n_components(ds), 2);
    ck_assert_uint_eq(dgn_dataset_n_rows(ds, DGN_SPLIT_ALL), 2);
    /* In the canonical order, by oxide: Na2O before SiO2. */
    ck_assert_str_eq(dgn_dataset_component_name(ds, 0), "W% Na2O");
    ck_assert_str_eq(dgn_dataset_component_name(ds, 1), "W% SiO2");
    ck_assert_ptr_null(dgn_dataset_component_name(ds, 2));
    ck_assert_str_eq(dgn_dataset_property_name(ds), "TG");
    ck_assert_int_eq(dgn_dataset_units(ds), DGN_UNITS_PERCENT);
    float x[4];
    ck_assert_int_eq(dgn_dataset_features(ds, DGN_SPLIT_ALL, DGN_VIEW_FRACTION, x, 4), DGN_OK);
    ck_assert_float_eq_tol(x[0], 0.3f, 1e-7f);
    ck_assert_float_eq_tol(x[1], 0.7f, 1e-7f);
    ck_assert_float_eq_tol(x[2], 0.4f, 1e-7f);
    dgn_dataset_destroy(ds);
}
END_TEST

START_TEST(fractions_and_percents_give_the_same_rows)
{
    dgn_dataset_config cfg = base_config(500, 600);
    dgn_dataset *pct = load_ok("a,b,T\n70,30,550\n25,75,450\n", &cfg);
    dgn_dataset *frac = load_ok("a,b,T\n0.7,0.3,550\n0.25,0.75,450\n", &cfg);
    ck_assert_int_eq(dgn_dataset_units(pct), DGN_UNITS_PERCENT);
    ck_assert_int_eq(dgn_dataset_units(frac), DGN_UNITS_FRACTION);
    float a[4], b[4];
    ck_assert_int_eq(dgn_dataset_features(pct, DGN_SPLIT_ALL, DGN_VIEW_FRACTION, a, 4), DGN_OK);
    ck_assert_int_eq(dgn_dataset_features(frac, DGN_SPLIT_ALL, DGN_VIEW_FRACTION, b, 4), DGN_OK);
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq_tol(a[i], b[i], 1e-7f);
    dgn_dataset_destroy(pct);
    dgn_dataset_destroy(frac);
}
END_TEST

/* A table's column order changes nothing: the same rows with the columns
 * reordered, as fractions and under other names' prefixes, give the same
 * components in the same order, the same split and the same z-scores. */
START_TEST(column_order_changes_nothing)
{
    dgn_dataset_config cfg = base_config(500, 600);
    cfg.valid_fraction = 0.5;
    cfg.group_split = 1;
    /* 40 rows, every fourth a repeat (one group), as percents and as
     * fractions with the columns in another order. */
    static char pct[4096], frac[4096];
    size_t np = (size_t)snprintf(pct, sizeof pct, "W%% SiO2,W%% B2O3,W%% Na2O,T\n");
    size_t nf = (size_t)snprintf(frac, sizeof frac, "w Na2O,w SiO2,w B2O3,T\n");
    for (int r = 0; r < 40; r++) {
        int b = r % 4 == 3 ? 10 : 5 + r % 17, na = 10 + r % 7, si = 100 - b - na;
        int t = r % 2 ? 550 : 450;
        np += (size_t)snprintf(pct + np, sizeof pct - np, "%d,%d,%d,%d\n", si, b, na, t);
        nf += (size_t)snprintf(frac + nf, sizeof frac - nf, "%g,%g,%g,%d\n", na / 100.0,
                               si / 100.0, b / 100.0, t);
    }
    dgn_dataset *a = load_ok(pct, &cfg), *b = load_ok(frac, &cfg);
    const char *want[] = {"B2O3", "Na2O", "SiO2"};
    for (size_t j = 0; j < 3; j++) {
        ck_assert_ptr_nonnull(strstr(dgn_dataset_component_name(a, j), want[j]));
        ck_assert_ptr_nonnull(strstr(dgn_dataset_component_name(b, j), want[j]));
    }
    for (int split = DGN_SPLIT_TRAIN; split <= DGN_SPLIT_VALID; split++) {
        size_t n = dgn_dataset_n_rows(a, (dgn_split)split);
        ck_assert_uint_gt(n, 0);
        ck_assert_uint_eq(n, dgn_dataset_n_rows(b, (dgn_split)split));
        float xa[120], xb[120];
        ck_assert_int_eq(dgn_dataset_features(a, (dgn_split)split, DGN_VIEW_ZSCORE, xa, 120),
                         DGN_OK);
        ck_assert_int_eq(dgn_dataset_features(b, (dgn_split)split, DGN_VIEW_ZSCORE, xb, 120),
                         DGN_OK);
        for (size_t i = 0; i < 3 * n; i++)
            ck_assert_msg(xa[i] == xb[i], "row value %zu: %.9g and %.9g", i, xa[i], xb[i]);
    }
    dgn_dataset_destroy(a);
    dgn_dataset_destroy(b);
}
END_TEST

START_TEST(mixed_units_are_an_error)
{
    dgn_dataset_config cfg = base_config(500, 600);
    load_fails("a,b,T\n0.7,0.3,550\n25,75,450\n", &cfg, DGN_E_FORMAT);
    ck_assert_error_has("mixes fractions and percents", ":2 sums to 1", ":3 sums to 100");
}
END_TEST

START_TEST(forced_units_skip_detection)
{
    dgn_dataset_config cfg = base_config(500, 600);
    cfg.units = DGN_UNITS_PERCENT;
    /* As percents, the first row sums to 1 % and is dropped. */
    dgn_dataset *ds = load_ok("a,b,T\n0.7,0.3,550\n25,75,450\n40,60,560\n", &cfg);
    ck_assert_uint_eq(dgn_dataset_n_rows(ds, DGN_SPLIT_ALL), 2);
    ck_assert_uint_eq(dgn_dataset_n_dropped(ds), 1);
    dgn_dataset_destroy(ds);
}
END_TEST

START_TEST(rows_outside_the_sum_window_are_dropped)
{
    dgn_dataset_config cfg = base_config(500, 600);
    dgn_dataset *ds = load_ok("a,b,T\n"
                              "70,30,550\n"  /* 100: kept */
                              "60,30,550\n"  /* 90: dropped */
                              "60,44,450\n"  /* 104: kept */
                              "60,46,450\n"  /* 106: dropped */
                              "47.5,47.5,450\n" /* 95: kept, on the edge */
                              , &cfg);
    ck_assert_uint_eq(dgn_dataset_n_rows(ds, DGN_SPLIT_ALL), 3);
    ck_assert_uint_eq(dgn_dataset_n_dropped(ds), 2);
    ck_assert_uint_eq(dgn_dataset_n_skipped(ds), 0);
    double y[3];
    ck_assert_int_eq(dgn_dataset_property_values(ds, DGN_SPLIT_ALL, y, 3), DGN_OK);
    ck_assert_double_eq(y[0], 550);
    ck_assert_double_eq(y[1], 450);
    dgn_dataset_destroy(ds);
}
END_TEST

/* Rows written as exactly 95 % or 105 % sum to a double a few ulps outside
 * [0.95, 1.05]; the documented tolerance keeps them, and 94.99 % and
 * 105.01 % are still dropped. */
START_TEST(sum_window_edges_are_kept_whatever_the_rounding)
{
    dgn_dataset_config cfg = base_config(500, 600);
    static const char *const tables[] = {
        "a,b,c,d,e,T\n"
        "70,30,0,0,0,550\n"
        "3.0,27.4,64.6,0,0,550\n"     /* 95.0: sums to 0.9499999999999998 */
        "0.1,28.0,76.9,0,0,450\n"     /* 105.0: sums to 1.0500000000000003 */
        "3.0,27.4,64.59,0,0,550\n"    /* 94.99: dropped */
        "0.1,28.0,76.91,0,0,450\n",   /* 105.01: dropped */
        "a,b,c,d,e,T\n"
        "0.7,0.3,0,0,0,550\n"
        "0.059,0.813,0.078,0,0,550\n"       /* 0.95 */
        "0.069,0.258,0.269,0.406,0.048,450\n" /* 1.05 */
        "0.059,0.813,0.0779,0,0,550\n"      /* 0.9499: dropped */
        "0.069,0.258,0.269,0.406,0.0481,450\n"}; /* 1.0501: dropped */
    for (int t = 0; t < 2; t++) {
        dgn_dataset *ds = load_ok(tables[t], &cfg);
        ck_assert_int_eq(dgn_dataset_units(ds), t ? DGN_UNITS_FRACTION : DGN_UNITS_PERCENT);
        ck_assert_uint_eq(dgn_dataset_n_rows(ds, DGN_SPLIT_ALL), 3);
        ck_assert_uint_eq(dgn_dataset_n_dropped(ds), 2);
        double y[3];
        ck_assert_int_eq(dgn_dataset_property_values(ds, DGN_SPLIT_ALL, y, 3), DGN_OK);
        ck_assert_double_eq(y[1], 550);
        ck_assert_double_eq(y[2], 450);
        dgn_dataset_destroy(ds);
    }
}
END_TEST

START_TEST(labels_are_inclusive)
{
    dgn_dataset_config cfg = base_config(500, 600);
    dgn_dataset *ds = load_ok("a,b,T\n50,50,500\n50,50,600\n50,50,499.99\n50,50,600.01\n", &cfg);
    int32_t lab[4];
    ck_assert_int_eq(dgn_dataset_labels(ds, DGN_SPLIT_ALL, lab, 4), DGN_OK);
    ck_assert_int_eq(lab[0], 1);
    ck_assert_int_eq(lab[1], 1);
    ck_assert_int_eq(lab[2], 0);
    ck_assert_int_eq(lab[3], 0);
    ck_assert_uint_eq(dgn_dataset_n_positive(ds, DGN_SPLIT_ALL), 2);
    /* Buffers that are too small are refused, not overrun. */
    ck_assert_int_eq(dgn_dataset_labels(ds, DGN_SPLIT_ALL, lab, 3), DGN_E_SHAPE);
    dgn_dataset_destroy(ds);
}
END_TEST

START_TEST(columns_by_name_and_short_name)
{
    dgn_dataset_config cfg = base_config(500, 600);
    const char *comps[] = {"Na2O", "W% SiO2"};
    cfg.components = comps;
    cfg.n_components = 2;
    cfg.property = "Tg";
    /* The unselected columns are never parsed, so text there is fine. */
    dgn_dataset *ds = load_ok("W% SiO2,note,W% Na2O,Tg,source\n"
                              "70,ok,30,550,paper A\n"
                              "60,?,40,450,paper B\n", &cfg);
    ck_assert_uint_eq(dgn_dataset_n_components(ds), 2);
    ck_assert_str_eq(dgn_dataset_component_name(ds, 0), "W% Na2O");
    ck_assert_str_eq(dgn_dataset_component_name(ds, 1), "W% SiO2");
    float x[4];
    ck_assert_int_eq(dgn_dataset_features(ds, DGN_SPLIT_ALL, DGN_VIEW_FRACTION, x, 4), DGN_OK);
    ck_assert_float_eq_tol(x[0], 0.3f, 1e-7f);
    ck_assert_float_eq_tol(x[1], 0.7f, 1e-7f);
    dgn_dataset_destroy(ds);
}
END_TEST

START_TEST(ambiguous_short_name)
{
    dgn_dataset_config cfg = base_config(500, 600);
    const char *comps[] = {"SiO2"};
    cfg.components = comps;
    cfg.n_components = 1;
    load_fails("W% SiO2,M% SiO2,T\n50,50,550\n", &cfg, DGN_E_INVALID);
    ck_assert_error_has("ambiguous", "columns 1", "and 2");
}
END_TEST

START_TEST(validation_file)
{
    dgn_dataset_config cfg = base_config(500, 600);
    /* Columns in another order and in fractions: matched by name. */
    char *valid = write_temp_str("T,b,a\n555,0.5,0.5\n100,0.2,0.8\n700,0.9,0.1\n");
    cfg.valid_path = valid;
    dgn_dataset *ds = load_ok("a,b,T\n70,30,550\n25,75,450\n", &cfg);
    remove_temp(valid);
    ck_assert_uint_eq(dgn_dataset_n_rows(ds, DGN_SPLIT_TRAIN), 2);
    ck_assert_uint_eq(dgn_dataset_n_rows(ds, DGN_SPLIT_VALID), 3);
    ck_assert_uint_eq(dgn_dataset_n_positive(ds, DGN_SPLIT_VALID), 1);
    float x[6];
    ck_assert_int_eq(dgn_dataset_features(ds, DGN_SPLIT_VALID, DGN_VIEW_FRACTION, x, 6), DGN_OK);
    ck_assert_float_eq_tol(x[2], 0.8f, 1e-7f); /* a of the second row */
    ck_assert_float_eq_tol(x[3], 0.2f, 1e-7f);
    dgn_dataset_destroy(ds);
}
END_TEST

START_TEST(validation_file_missing_a_component)
{
    dgn_dataset_config cfg = base_config(500, 600);
    char *valid = write_temp_str("T,a\n555,1\n");
    cfg.valid_path = valid;
    load_fails("a,b,T\n70,30,550\n25,75,450\n", &cfg, DGN_E_INVALID);
    ck_assert_error_has(valid, "no column named \"b\"");
    remove_temp(valid);
}
END_TEST

START_TEST(skip_bad_rows_counts_them)
{
    dgn_dataset_config cfg = base_config(500, 600);
    cfg.skip_bad_rows = 1;
    dgn_dataset *ds = load_ok("a,b,T\n70,30,550\nx,30,550\n70,30\n70,nan,550\n"
                              "-1,101,550\n25,75,450\n60,40,\n", &cfg);
    ck_assert_uint_eq(dgn_dataset_n_rows(ds, DGN_SPLIT_ALL), 2);
    ck_assert_uint_eq(dgn_dataset_n_skipped(ds), 5);
    dgn_dataset_destroy(ds);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Split and statistics on generated arrays                          */

enum { N_ROWS = 200, N_COMP = 4 };

/* Rows k and k+1 of each pair share a composition when dup is set. */
static void make_rows(double *x, double *y, int dup)
{
    for (int i = 0; i < N_ROWS; i++) {
        int g = dup ? i / 2 : i;
        double a = 0.1 + 0.5 * ((g * 37) % 101) / 101.0;
        double b = 0.1 + 0.2 * ((g * 53) % 97) / 97.0;
        double c = (g % 5 == 0) ? 0.0 : 0.05;
        x[i * N_COMP + 0] = a;
        x[i * N_COMP + 1] = b;
        x[i * N_COMP + 2] = c;
        x[i * N_COMP + 3] = 1.0 - a - b - c;
        y[i] = 400 + (i * 7919) % 300;
    }
}

static dgn_dataset *from_arrays_balanced(int dup, uint64_t seed, int group, int balance)
{
    static double x[N_ROWS * N_COMP], y[N_ROWS];
    make_rows(x, y, dup);
    dgn_dataset_config cfg = base_config(500, 600);
    cfg.valid_fraction = 0.2;
    cfg.balance_anchors = balance;
    cfg.seed = seed;
    cfg.group_split = group;
    dgn_dataset *ds = NULL;
    ck_assert_msg(dgn_dataset_from_arrays(&ds, x, y, N_ROWS, N_COMP, NULL, "Tg", &cfg)
                  == DGN_OK, "%s", dgn_last_error());
    return ds;
}

static dgn_dataset *from_arrays(int dup, uint64_t seed, int group)
{
    return from_arrays_balanced(dup, seed, group, 0);
}

START_TEST(split_is_deterministic_per_seed)
{
    dgn_dataset *a = from_arrays(0, 11, 0), *b = from_arrays(0, 11, 0),
                *c = from_arrays(0, 12, 0);
    ck_assert_uint_eq(dgn_dataset_n_rows(a, DGN_SPLIT_VALID), 40);
    ck_assert_uint_eq(dgn_dataset_n_rows(a, DGN_SPLIT_TRAIN), 160);
    static float fa[N_ROWS * N_COMP], fb[N_ROWS * N_COMP], fc[N_ROWS * N_COMP];
    size_t cap = N_ROWS * N_COMP;
    ck_assert_int_eq(dgn_dataset_features(a, DGN_SPLIT_VALID, DGN_VIEW_FRACTION, fa, cap), DGN_OK);
    ck_assert_int_eq(dgn_dataset_features(b, DGN_SPLIT_VALID, DGN_VIEW_FRACTION, fb, cap), DGN_OK);
    ck_assert_int_eq(dgn_dataset_features(c, DGN_SPLIT_VALID, DGN_VIEW_FRACTION, fc, cap), DGN_OK);
    ck_assert_int_eq(memcmp(fa, fb, 40 * N_COMP * sizeof(float)), 0);
    ck_assert_int_ne(memcmp(fa, fc, 40 * N_COMP * sizeof(float)), 0);
    ck_assert_str_eq(dgn_dataset_component_name(a, 2), "c3");
    ck_assert_str_eq(dgn_dataset_property_name(a), "Tg");
    dgn_dataset_destroy(a);
    dgn_dataset_destroy(b);
    dgn_dataset_destroy(c);
}
END_TEST

/* Compositions found on both sides of the split. */
static size_t leaked(const dgn_dataset *ds)
{
    static float tr[N_ROWS * N_COMP], va[N_ROWS * N_COMP];
    size_t nt = dgn_dataset_n_rows(ds, DGN_SPLIT_TRAIN), nv = dgn_dataset_n_rows(ds, DGN_SPLIT_VALID);
    ck_assert_int_eq(dgn_dataset_features(ds, DGN_SPLIT_TRAIN, DGN_VIEW_FRACTION, tr, sizeof tr / sizeof *tr), DGN_OK);
    ck_assert_int_eq(dgn_dataset_features(ds, DGN_SPLIT_VALID, DGN_VIEW_FRACTION, va, sizeof va / sizeof *va), DGN_OK);
    size_t n = 0;
    for (size_t i = 0; i < nv; i++)
        for (size_t j = 0; j < nt; j++)
            if (memcmp(va + i * N_COMP, tr + j * N_COMP, N_COMP * sizeof(float)) == 0) {
                n++;
                break;
            }
    return n;
}

START_TEST(group_split_keeps_duplicates_together)
{
    dgn_dataset *plain = from_arrays(1, 5, 0), *grouped = from_arrays(1, 5, 1);
    /* A plain split of 100 pairs leaks many; the group split none. */
    ck_assert_uint_gt(leaked(plain), 5);
    ck_assert_uint_eq(leaked(grouped), 0);
    ck_assert_uint_eq(dgn_dataset_n_rows(grouped, DGN_SPLIT_VALID), 40);
    dgn_dataset_destroy(plain);
    dgn_dataset_destroy(grouped);
}
END_TEST

START_TEST(zscores_use_training_rows_only)
{
    dgn_dataset_config cfg = base_config(500, 600);
    char *valid = write_temp_str("a,b,c,T\n99,1,0,550\n1,99,0,450\n");
    cfg.valid_path = valid;
    dgn_dataset *ds = load_ok("a,b,c,T\n20,80,0,550\n40,60,0,450\n90,10,0,500\n", &cfg);
    remove_temp(valid);
    double mean[3], sd[3];
    ck_assert_int_eq(dgn_dataset_zscore_stats(ds, mean, sd, 3), DGN_OK);
    /* The fractions are stored as floats, so to a float's precision. */
    ck_assert_double_eq_tol(mean[0], 0.5, 1e-7);
    ck_assert_double_eq_tol(mean[1], 0.5, 1e-7);
    /* Population std of 0.2, 0.4, 0.9. */
    ck_assert_double_eq_tol(sd[0], sqrt((0.09 + 0.01 + 0.16) / 3), 1e-7);
    /* Zero variance: std 1, so the z-score is 0 rather than NaN. */
    ck_assert_double_eq(mean[2], 0);
    ck_assert_double_eq(sd[2], 1);
    float z[6];
    ck_assert_int_eq(dgn_dataset_features(ds, DGN_SPLIT_VALID, DGN_VIEW_ZSCORE, z, 6), DGN_OK);
    ck_assert_float_eq_tol(z[0], (float)((0.99 - 0.5) / sd[0]), 1e-6f);
    ck_assert_float_eq(z[2], 0.0f);
    ck_assert_int_eq(dgn_dataset_zscore_stats(ds, mean, sd, 2), DGN_E_SHAPE);
    dgn_dataset_destroy(ds);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Three-way split: training, validation, test                       */

#include <stddef.h>

enum { N3 = 300, C3 = 3 };

/* 300 rows over 60 compositions repeated unevenly; the property values
 * are distinct, so they name the rows. */
static void make_repeated(double *x, double *y)
{
    for (int i = 0; i < N3; i++) {
        int g = (i * i + 3 * i) % 60;
        double a = 0.1 + 0.01 * g, b = 0.2 + 0.005 * (g % 13);
        x[i * C3 + 0] = a;
        x[i * C3 + 1] = b;
        x[i * C3 + 2] = 1.0 - a - b;
        y[i] = 400 + i;
    }
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

/* A digest of the two-way partition (validation 0.2, seed 7) and of the
 * rows of the first triplet batches: the values the library gave before
 * the test split existed. (Not of the rows' values, which moved by an ulp
 * when the dataset began to store its fractions as floats.) */
static uint64_t digest(const dgn_dataset *cds)
{
    dgn_dataset *ds = (dgn_dataset *)cds;
    static double v[N3];
    static float x[3 * 16 * C3];
    size_t rows[3 * 16], n;
    uint64_t h = 0xcbf29ce484222325ULL;
    dgn_split parts[2] = {DGN_SPLIT_TRAIN, DGN_SPLIT_VALID};
    for (int p = 0; p < 2; p++) {
        size_t m = dgn_dataset_n_rows(ds, parts[p]);
        h = fnv(h, &m, sizeof m);
        dgn_dataset_property_values(ds, parts[p], v, N3);
        h = fnv(h, v, m * sizeof *v);
    }
    for (int b = 0; b < 3; b++) {
        dgn_dataset_next_triplets(ds, x, sizeof x / sizeof *x, rows, 48, 16, &n);
        h = fnv(h, rows, 3 * n * sizeof *rows);
    }
    return h;
}

static uint64_t split_hash(int group)
{
    static double x[N3 * C3], y[N3];
    make_repeated(x, y);
    dgn_dataset_config cfg;
    dgn_dataset_config_init(&cfg, DGN_DATASET_CONFIG_VERSION);
    cfg.lo = 500;
    cfg.hi = 600;
    cfg.seed = 7;
    cfg.group_split = group;
    dgn_dataset *ds = NULL;
    if (dgn_dataset_from_arrays(&ds, x, y, N3, C3, NULL, NULL, &cfg) != DGN_OK)
        return 0;
    uint64_t h = digest(ds);
    dgn_dataset_destroy(ds);
    return h;
}

/* The version-1 layout, as a program built against libdgn 0.1 sees it. */
typedef struct config_v1 {
    unsigned int version;
    const char *property;
    const char *const *components;
    size_t n_components;
    double lo, hi;
    dgn_units units;
    double sum_min, sum_max;
    int skip_bad_rows;
    double valid_fraction;
    int group_split;
    const char *valid_path;
    double sigma;
    uint64_t seed;
    int balance_anchors;
} config_v1;

_Static_assert(sizeof(config_v1) == offsetof(dgn_dataset_config, test_fraction),
               "version 2 starts right after the version-1 struct");

static dgn_dataset *repeated(int group, double valid, double test, uint64_t seed)
{
    static double x[N3 * C3], y[N3];
    make_repeated(x, y);
    dgn_dataset_config cfg = base_config(500, 600);
    cfg.valid_fraction = valid;
    cfg.test_fraction = test;
    cfg.group_split = group;
    cfg.seed = seed;
    dgn_dataset *ds = NULL;
    ck_assert_msg(dgn_dataset_from_arrays(&ds, x, y, N3, C3, NULL, NULL, &cfg) == DGN_OK,
                  "%s", dgn_last_error());
    return ds;
}

static const dgn_split three[3] = {DGN_SPLIT_TRAIN, DGN_SPLIT_VALID, DGN_SPLIT_TEST};

/* Every row (named by its distinct property value) in exactly one part. */
START_TEST(three_splits_are_disjoint_and_cover_the_table)
{
    for (int group = 0; group < 2; group++) {
        dgn_dataset *ds = repeated(group, 0.2, 0.2, 7);
        size_t total = 0;
        int seen[N3] = {0};
        for (int p = 0; p < 3; p++) {
            size_t m = dgn_dataset_n_rows(ds, three[p]);
            static double v[N3];
            ck_assert_int_eq(dgn_dataset_property_values(ds, three[p], v, N3), DGN_OK);
            size_t pos = 0;
            for (size_t i = 0; i < m; i++) {
                int r = (int)(v[i] - 400);
                ck_assert_msg(r >= 0 && r < N3 && v[i] == 400 + r, "value %g", v[i]);
                ck_assert_msg(!seen[r], "group %d: row %d in two parts", group, r);
                seen[r] = p + 1;
                pos += v[i] >= 500 && v[i] <= 600;
            }
            ck_assert_uint_eq(pos, dgn_dataset_n_positive(ds, three[p]));
            total += m;
            /* Whole compositions overshoot a target by at most one group. */
            if (p > 0) {
                ck_assert_uint_ge(m, 60);
                ck_assert_uint_le(m, group ? 60 + 20 : 60);
            }
        }
        ck_assert_uint_eq(total, N3);
        ck_assert_uint_eq(dgn_dataset_n_rows(ds, DGN_SPLIT_ALL), N3);
        ck_assert_uint_eq(dgn_dataset_n_positive(ds, DGN_SPLIT_ALL), 101);
        for (int r = 0; r < N3; r++)
            ck_assert_msg(seen[r], "group %d: row %d in no part", group, r);
        /* DGN_SPLIT_ALL is training, validation, test, in that order. */
        static double all[N3], part[N3];
        ck_assert_int_eq(dgn_dataset_property_values(ds, DGN_SPLIT_ALL, all, N3), DGN_OK);
        size_t off = 0;
        for (int p = 0; p < 3; p++) {
            size_t m = dgn_dataset_n_rows(ds, three[p]);
            dgn_dataset_property_values(ds, three[p], part, N3);
            ck_assert_int_eq(memcmp(all + off, part, m * sizeof *part), 0);
            off += m;
        }
        dgn_dataset_destroy(ds);
    }
}
END_TEST

/* Parts sharing a composition, bit for bit. */
static size_t shared_compositions(const dgn_dataset *ds)
{
    static float f[3][N3 * C3];
    size_t m[3], n = 0;
    for (int p = 0; p < 3; p++) {
        m[p] = dgn_dataset_n_rows(ds, three[p]);
        ck_assert_int_eq(dgn_dataset_features(ds, three[p], DGN_VIEW_FRACTION, f[p],
                                              N3 * C3), DGN_OK);
    }
    for (int p = 0; p < 3; p++)
        for (int q = p + 1; q < 3; q++)
            for (size_t i = 0; i < m[p]; i++)
                for (size_t j = 0; j < m[q]; j++)
                    n += memcmp(f[p] + i * C3, f[q] + j * C3, C3 * sizeof(float)) == 0;
    return n;
}

START_TEST(group_split_keeps_compositions_in_one_of_three_parts)
{
    dgn_dataset *plain = repeated(0, 0.2, 0.2, 7), *grouped = repeated(1, 0.2, 0.2, 7);
    ck_assert_uint_gt(shared_compositions(plain), 50);
    ck_assert_uint_eq(shared_compositions(grouped), 0);
    ck_assert_uint_gt(dgn_dataset_n_rows(grouped, DGN_SPLIT_TEST), 0);
    dgn_dataset_destroy(plain);
    dgn_dataset_destroy(grouped);
    /* Other seeds too: a split that only happened to work would not. */
    for (uint64_t seed = 1; seed < 6; seed++) {
        grouped = repeated(1, 0.2, 0.2, seed);
        ck_assert_uint_eq(shared_compositions(grouped), 0);
        dgn_dataset_destroy(grouped);
    }
}
END_TEST

/* test_fraction 0 gives the two-way split of version 1 and of the library
 * before the test split existed (digests taken from that library), for
 * the rows and for the triplets. */
START_TEST(no_test_fraction_is_the_old_split_bit_for_bit)
{
    static double x[N3 * C3], y[N3];
    make_repeated(x, y);
    const uint64_t before[2] = {0xbfca1d34c385c5e5ULL, 0x68e24e483027b116ULL};
    for (int group = 0; group < 2; group++) {
        ck_assert_uint_eq(split_hash(group), before[group]);
        /* The same from an exactly version-1-sized allocation. */
        config_v1 *v1 = malloc(offsetof(dgn_dataset_config, test_fraction));
        ck_assert_ptr_nonnull(v1);
        ck_assert_int_eq(dgn_dataset_config_init((dgn_dataset_config *)v1, 1), DGN_OK);
        v1->lo = 500;
        v1->hi = 600;
        v1->seed = 7;
        v1->group_split = group;
        dgn_dataset *a = NULL;
        ck_assert_int_eq(dgn_dataset_from_arrays(&a, x, y, N3, C3, NULL, NULL,
                                                 (dgn_dataset_config *)v1), DGN_OK);
        free(v1);
        ck_assert_uint_eq(digest(a), before[group]);
        ck_assert_uint_eq(dgn_dataset_n_rows(a, DGN_SPLIT_TEST), 0);
        dgn_dataset_destroy(a);
    }
}
END_TEST

START_TEST(a_version_1_struct_loads)
{
    config_v1 old;
    ck_assert_int_eq(dgn_dataset_config_init((dgn_dataset_config *)&old, 1), DGN_OK);
    ck_assert_uint_eq(old.version, 1);
    ck_assert_double_eq(old.valid_fraction, 0.2);
    ck_assert_int_eq(old.balance_anchors, DGN_BALANCE_AUTO);
    /* On the heap at exactly its size, so that ASan sees any read past it. */
    config_v1 *v1 = malloc(sizeof old);
    ck_assert_ptr_nonnull(v1);
    memcpy(v1, &old, sizeof old);
    v1->lo = 500;
    v1->hi = 600;
    v1->valid_fraction = 0.25;
    v1->seed = 1; /* holds out one row of each class */
    ck_assert_int_eq(dgn_dataset_config_validate((dgn_dataset_config *)v1), DGN_OK);
    dgn_dataset *ds = NULL;
    /* Four rows of each class: two held out leave both in training. */
    char *path = write_temp_str("a,b,T\n70,30,550\n60,40,450\n50,50,520\n40,60,300\n"
                                "45,55,580\n35,65,350\n55,45,590\n65,35,310\n");
    ck_assert_msg(dgn_dataset_load_csv(&ds, path, (dgn_dataset_config *)v1) == DGN_OK, "%s",
                  dgn_last_error());
    remove_temp(path);
    ck_assert_uint_eq(dgn_dataset_n_rows(ds, DGN_SPLIT_VALID), 2);
    ck_assert_uint_eq(dgn_dataset_n_rows(ds, DGN_SPLIT_TEST), 0);
    dgn_dataset_destroy(ds);
    free(v1);
    /* A version this library does not know is refused. */
    dgn_dataset_config cfg;
    ck_assert_int_eq(dgn_dataset_config_init(&cfg, DGN_DATASET_CONFIG_VERSION + 1),
                     DGN_E_INVALID);
    ck_assert_error_has("version");
}
END_TEST

static void expect_same_training(dgn_dataset *a, dgn_dataset *b)
{
    size_t c = dgn_dataset_n_components(a);
    ck_assert_uint_eq(c, dgn_dataset_n_components(b));
    double ma[8], sa[8], mb[8], sb[8];
    ck_assert_int_eq(dgn_dataset_zscore_stats(a, ma, sa, 8), DGN_OK);
    ck_assert_int_eq(dgn_dataset_zscore_stats(b, mb, sb, 8), DGN_OK);
    ck_assert_int_eq(memcmp(ma, mb, c * sizeof *ma), 0);
    ck_assert_int_eq(memcmp(sa, sb, c * sizeof *sa), 0);
    ck_assert_int_eq(dgn_dataset_balanced(a), dgn_dataset_balanced(b));
    for (int p = 0; p < 2; p++) {
        size_t n = dgn_dataset_n_rows(a, three[p]);
        ck_assert_uint_eq(n, dgn_dataset_n_rows(b, three[p]));
        float *fa = malloc((n + 1) * c * sizeof *fa), *fb = malloc((n + 1) * c * sizeof *fb);
        ck_assert_int_eq(dgn_dataset_features(a, three[p], DGN_VIEW_ZSCORE, fa, n * c), DGN_OK);
        ck_assert_int_eq(dgn_dataset_features(b, three[p], DGN_VIEW_ZSCORE, fb, n * c), DGN_OK);
        ck_assert_int_eq(memcmp(fa, fb, n * c * sizeof *fa), 0);
        free(fa);
        free(fb);
    }
    for (int epoch = 0; epoch < 2; epoch++) {
        float xa[3 * 8 * 8], xb[3 * 8 * 8];
        size_t ra[24], rb[24], na, nb;
        do {
            ck_assert_int_eq(dgn_dataset_next_triplets(a, xa, 3 * 8 * c, ra, 24, 8, &na), DGN_OK);
            ck_assert_int_eq(dgn_dataset_next_triplets(b, xb, 3 * 8 * c, rb, 24, 8, &nb), DGN_OK);
            ck_assert_uint_eq(na, nb);
            ck_assert_int_eq(memcmp(ra, rb, 3 * na * sizeof *ra), 0);
            ck_assert_int_eq(memcmp(xa, xb, 3 * na * c * sizeof *xa), 0);
        } while (na);
        dgn_dataset_shuffle(a);
        dgn_dataset_shuffle(b);
    }
}

/* Training statistics and triplets do not depend on what the test rows
 * hold: two test files with nothing in common, and a main table whose
 * test-fraction rows are rewritten. */
START_TEST(test_rows_do_not_reach_statistics_or_triplets)
{
    const char *main_csv = "a,b,c,T\n70,30,0,550\n60,40,0,450\n50,45,5,520\n40,50,10,300\n"
                           "65,25,10,580\n55,35,10,610\n45,45,10,505\n35,60,5,700\n";
    char *t1 = write_temp_str("T,c,b,a\n550,0,10,90\n560,0,20,80\n100,50,25,25\n");
    char *t2 = write_temp_str("a,b,c,T\n5,5,90,590\n1,98,1,800\n2,2,96,501\n3,3,94,502\n"
                              "33,33,34,10\n");
    char *vf = write_temp_str("a,b,c,T\n70,20,10,555\n20,70,10,333\n");
    for (int with_valid_file = 0; with_valid_file < 2; with_valid_file++) {
        dgn_dataset_config cfg = base_config(500, 600);
        cfg.valid_fraction = 0.25;
        cfg.seed = 1; /* validation rows of both classes */
        cfg.valid_path = with_valid_file ? vf : NULL;
        cfg.sigma = 0.05;
        cfg.test_path = t1;
        dgn_dataset *a = load_ok(main_csv, &cfg);
        cfg.test_path = t2;
        dgn_dataset *b = load_ok(main_csv, &cfg);
        cfg.test_path = NULL;
        dgn_dataset *none = load_ok(main_csv, &cfg);
        ck_assert_uint_eq(dgn_dataset_n_rows(a, DGN_SPLIT_TEST), 3);
        ck_assert_uint_eq(dgn_dataset_n_rows(b, DGN_SPLIT_TEST), 5);
        ck_assert_uint_eq(dgn_dataset_n_positive(b, DGN_SPLIT_TEST), 3);
        /* Two validation rows either way: the file's, or 0.25 of 8. */
        ck_assert_uint_eq(dgn_dataset_n_rows(a, DGN_SPLIT_VALID), 2);
        /* The test rows are z-scored with the training statistics. */
        double mean[3], sd[3];
        float z[3];
        dgn_dataset_zscore_stats(a, mean, sd, 3);
        ck_assert_int_eq(dgn_dataset_features(a, DGN_SPLIT_TEST, DGN_VIEW_ZSCORE, z, 3),
                         DGN_E_SHAPE);
        float zt[9];
        ck_assert_int_eq(dgn_dataset_features(a, DGN_SPLIT_TEST, DGN_VIEW_ZSCORE, zt, 9), DGN_OK);
        ck_assert_float_eq_tol(zt[0], (float)((0.9 - mean[0]) / sd[0]), 1e-6f);
        expect_same_training(a, b);
        dgn_dataset_destroy(a);
        a = load_ok(main_csv, &cfg);
        expect_same_training(a, none);
        dgn_dataset_destroy(a);
        dgn_dataset_destroy(b);
        dgn_dataset_destroy(none);
    }
    remove_temp(t1);
    remove_temp(t2);
    remove_temp(vf);

    /* test_fraction: rewrite the rows that land in the test part (their
     * compositions and properties, keeping the classes present) and load
     * again; the partition and everything trained on are unchanged. */
    static double x[N3 * C3], y[N3];
    make_repeated(x, y);
    dgn_dataset *a = repeated(0, 0.2, 0.2, 9);
    static double tv[N3];
    size_t nt = dgn_dataset_n_rows(a, DGN_SPLIT_TEST);
    dgn_dataset_property_values(a, DGN_SPLIT_TEST, tv, N3);
    for (size_t i = 0; i < nt; i++) {
        int r = (int)(tv[i] - 400);
        x[r * C3 + 0] = 0.9;
        x[r * C3 + 1] = 0.05;
        x[r * C3 + 2] = 0.05;
        y[r] = 1000 + r;
    }
    y[(int)(tv[0] - 400)] = 550; /* one target row, so the class check passes */
    dgn_dataset_config cfg = base_config(500, 600);
    cfg.valid_fraction = 0.2;
    cfg.test_fraction = 0.2;
    cfg.seed = 9;
    dgn_dataset *b = NULL;
    ck_assert_msg(dgn_dataset_from_arrays(&b, x, y, N3, C3, NULL, NULL, &cfg) == DGN_OK,
                  "%s", dgn_last_error());
    expect_same_training(a, b);
    dgn_dataset_destroy(a);
    dgn_dataset_destroy(b);
}
END_TEST

START_TEST(test_split_errors_name_the_fields)
{
    dgn_dataset_config cfg = base_config(500, 600);
    cfg.test_fraction = 1;
    ck_assert_int_eq(dgn_dataset_config_validate(&cfg), DGN_E_INVALID);
    ck_assert_error_has("test_fraction", "outside [0, 1)");
    cfg.test_fraction = NAN;
    ck_assert_int_eq(dgn_dataset_config_validate(&cfg), DGN_E_INVALID);
    ck_assert_error_has("test_fraction");
    cfg.test_fraction = -0.1;
    ck_assert_int_eq(dgn_dataset_config_validate(&cfg), DGN_E_INVALID);
    ck_assert_error_has("test_fraction");

    cfg = base_config(500, 600);
    cfg.valid_fraction = 0.5;
    cfg.test_fraction = 0.5;
    ck_assert_int_eq(dgn_dataset_config_validate(&cfg), DGN_E_INVALID);
    ck_assert_error_has("valid_fraction + test_fraction", "0.5 + 0.5");
    cfg.valid_path = "v.csv"; /* valid_fraction is not used then */
    ck_assert_int_eq(dgn_dataset_config_validate(&cfg), DGN_OK);

    cfg = base_config(500, 600);
    cfg.test_fraction = 0.2;
    cfg.test_path = "t.csv";
    ck_assert_int_eq(dgn_dataset_config_validate(&cfg), DGN_E_INVALID);
    ck_assert_error_has("test_path and test_fraction", "t.csv", "0.2");
    cfg.test_fraction = 0;
    cfg.test_path = "";
    ck_assert_int_eq(dgn_dataset_config_validate(&cfg), DGN_E_INVALID);
    ck_assert_error_has("test_path");
    /* Allowed: a validation file with either kind of test split. */
    cfg.test_path = "t.csv";
    cfg.valid_path = "v.csv";
    ck_assert_int_eq(dgn_dataset_config_validate(&cfg), DGN_OK);
    cfg.test_path = NULL;
    cfg.test_fraction = 0.3;
    ck_assert_int_eq(dgn_dataset_config_validate(&cfg), DGN_OK);

    /* Arrays: no test file; a test fraction works. */
    static double x[N3 * C3], y[N3];
    make_repeated(x, y);
    cfg = base_config(500, 600);
    cfg.test_path = "t.csv";
    dgn_dataset *ds = NULL;
    ck_assert_int_eq(dgn_dataset_from_arrays(&ds, x, y, N3, C3, NULL, NULL, &cfg),
                     DGN_E_INVALID);
    ck_assert_error_has("test_path");
    ck_assert_ptr_null(ds);

    /* A requested test split with one class, or none, is refused. */
    cfg = base_config(500, 600);
    char *t = write_temp_str("a,b,T\n70,30,550\n50,50,590\n");
    cfg.test_path = t;
    load_fails("a,b,T\n70,30,550\n60,40,450\n", &cfg, DGN_E_DATA);
    ck_assert_error_has("test split: every row has T in [500, 600]", "other class is empty");
    remove_temp(t);
    t = write_temp_str("a,b,T\n70,40,550\n50,60,590\n");
    cfg.test_path = t;
    load_fails("a,b,T\n70,30,550\n60,40,450\n", &cfg, DGN_E_DATA);
    ck_assert_error_has("test split", t, "no rows left", "2 dropped");
    remove_temp(t);
    t = write_temp_str("a,T\n70,550\n");
    cfg.test_path = t;
    load_fails("a,b,T\n70,30,550\n60,40,450\n", &cfg, DGN_E_INVALID);
    ck_assert_error_has(t, "no column named \"b\"");
    remove_temp(t);

    /* The validation split too, when it has rows. */
    cfg = base_config(500, 600);
    t = write_temp_str("a,b,T\n70,30,450\n50,50,490\n");
    cfg.valid_path = t;
    load_fails("a,b,T\n70,30,550\n60,40,450\n", &cfg, DGN_E_DATA);
    ck_assert_error_has("validation split: no row has T in [500, 600]", "target class is empty");
    remove_temp(t);

    cfg = base_config(500, 600);
    cfg.test_fraction = 0.1;
    load_fails("a,b,T\n70,30,550\n60,40,450\n50,50,500\n", &cfg, DGN_E_DATA);
    ck_assert_error_has("test split: no rows", "test_fraction 0.1 of 3 rows");
    /* Whichever rows a seed holds out, the load either keeps both classes
     * in the test part or names the split that lost one. */
    cfg.test_fraction = 0.5;
    cfg.seed = 1;
    for (uint64_t seed = 1; seed < 40; seed++) {
        cfg.seed = seed;
        dgn_dataset *d = NULL;
        char *p = write_temp_str("a,b,T\n70,30,550\n60,40,450\n50,50,500\n40,60,400\n");
        dgn_status st = dgn_dataset_load_csv(&d, p, &cfg);
        remove_temp(p);
        if (st == DGN_OK) {
            ck_assert_uint_eq(dgn_dataset_n_rows(d, DGN_SPLIT_TEST), 2);
            ck_assert_uint_eq(dgn_dataset_n_positive(d, DGN_SPLIT_TEST), 1);
            dgn_dataset_destroy(d);
        } else {
            ck_assert_int_eq(st, DGN_E_DATA);
            ck_assert_msg(strstr(dgn_last_error(), "training split: ") ||
                          strstr(dgn_last_error(), "test split: "), "%s", dgn_last_error());
        }
    }
}
END_TEST

/* ---------------------------------------------------------------- */
/* Triplets                                                          */

START_TEST(triplets_have_the_right_classes)
{
    dgn_dataset *ds = from_arrays(0, 3, 0);
    size_t nt = dgn_dataset_n_rows(ds, DGN_SPLIT_TRAIN);
    int32_t lab[N_ROWS];
    ck_assert_int_eq(dgn_dataset_labels(ds, DGN_SPLIT_TRAIN, lab, N_ROWS), DGN_OK);
    enum { B = 32 };
    float x[3 * B * N_COMP];
    size_t rows[3 * B], n, seen[N_ROWS] = {0}, total = 0;
    for (int epoch = 0; epoch < 3; epoch++) {
        memset(seen, 0, sizeof seen);
        total = 0;
        do {
            ck_assert_int_eq(dgn_dataset_next_triplets(ds, x, sizeof x / sizeof *x, rows, 3 * B, B, &n), DGN_OK);
            for (size_t k = 0; k < n; k++) {
                ck_assert_uint_lt(rows[k], nt);
                ck_assert_int_eq(lab[rows[n + k]], lab[rows[k]]);
                ck_assert_int_ne(lab[rows[2 * n + k]], lab[rows[k]]);
                ck_assert_uint_ne(rows[n + k], rows[k]);
                seen[rows[k]]++;
            }
            total += n;
        } while (n > 0);
        /* Each training row anchors exactly once per epoch. */
        ck_assert_uint_eq(total, nt);
        for (size_t i = 0; i < nt; i++)
            ck_assert_uint_eq(seen[i], 1);
        ck_assert_int_eq(dgn_dataset_shuffle(ds), DGN_OK);
    }
    dgn_dataset_destroy(ds);
}
END_TEST

START_TEST(balanced_anchors_alternate_classes)
{
    dgn_dataset *ds = from_arrays_balanced(0, 4, 0, 1);
    ck_assert_int_eq(dgn_dataset_balanced(ds), 1);
    size_t nt = dgn_dataset_n_rows(ds, DGN_SPLIT_TRAIN), n, total = 0, pos = 0;
    int32_t lab[N_ROWS];
    ck_assert_int_eq(dgn_dataset_labels(ds, DGN_SPLIT_TRAIN, lab, N_ROWS), DGN_OK);
    float x[3 * 16 * N_COMP];
    size_t rows[48];
    do {
        ck_assert_int_eq(dgn_dataset_next_triplets(ds, x, sizeof x / sizeof *x, rows, 48, 16, &n), DGN_OK);
        for (size_t k = 0; k < n; k++) {
            pos += lab[rows[k]];
            if (k > 0)
                ck_assert_int_ne(lab[rows[k]], lab[rows[k - 1]]);
            ck_assert_int_eq(lab[rows[n + k]], lab[rows[k]]);
            ck_assert_int_ne(lab[rows[2 * n + k]], lab[rows[k]]);
        }
        total += n;
    } while (n > 0);
    ck_assert_uint_eq(total, nt);
    ck_assert_uint_le(pos > total - pos ? pos - (total - pos) : total - pos - pos, 1);
    dgn_dataset_destroy(ds);

    /* AUTO: balanced for a rare class, not for a common one. */
    static double xs[N_ROWS * N_COMP], ys[N_ROWS];
    make_rows(xs, ys, 0);
    dgn_dataset_config cfg = base_config(400, 700); /* every row: error */
    cfg.balance_anchors = DGN_BALANCE_AUTO;
    cfg.lo = 400;
    cfg.hi = 430; /* about 10 % */
    ck_assert_int_eq(dgn_dataset_from_arrays(&ds, xs, ys, N_ROWS, N_COMP, NULL, NULL, &cfg), DGN_OK);
    ck_assert_int_eq(dgn_dataset_balanced(ds), 1);
    dgn_dataset_destroy(ds);
    cfg.hi = 550; /* about half */
    ck_assert_int_eq(dgn_dataset_from_arrays(&ds, xs, ys, N_ROWS, N_COMP, NULL, NULL, &cfg), DGN_OK);
    ck_assert_int_eq(dgn_dataset_balanced(ds), 0);
    dgn_dataset_destroy(ds);
}
END_TEST

START_TEST(triplets_without_noise_are_zscored_rows)
{
    static double xs[N_ROWS * N_COMP], ys[N_ROWS];
    make_rows(xs, ys, 0);
    dgn_dataset_config cfg = base_config(500, 600);
    cfg.sigma = 0;
    cfg.balance_anchors = 0;
    dgn_dataset *ds = NULL;
    ck_assert_int_eq(dgn_dataset_from_arrays(&ds, xs, ys, N_ROWS, N_COMP, NULL, NULL, &cfg), DGN_OK);
    static float z[N_ROWS * N_COMP];
    ck_assert_int_eq(dgn_dataset_features(ds, DGN_SPLIT_TRAIN, DGN_VIEW_ZSCORE, z, N_ROWS * N_COMP), DGN_OK);
    float x[3 * 8 * N_COMP];
    size_t rows[24], n;
    ck_assert_int_eq(dgn_dataset_next_triplets(ds, x, sizeof x / sizeof *x, rows, 24, 8, &n), DGN_OK);
    ck_assert_uint_eq(n, 8);
    for (size_t r = 0; r < 24; r++)
        ck_assert_int_eq(memcmp(x + r * N_COMP, z + rows[r] * N_COMP, N_COMP * sizeof(float)), 0);
    dgn_dataset_destroy(ds);
}
END_TEST

START_TEST(triplets_are_reproducible)
{
    dgn_dataset *a = from_arrays(0, 9, 0), *b = from_arrays(0, 9, 0);
    float xa[3 * 16 * N_COMP], xb[3 * 16 * N_COMP];
    size_t na, nb;
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(dgn_dataset_next_triplets(a, xa, sizeof xa / sizeof *xa, NULL, 0, 16, &na), DGN_OK);
        ck_assert_int_eq(dgn_dataset_next_triplets(b, xb, sizeof xb / sizeof *xb, NULL, 0, 16, &nb), DGN_OK);
        ck_assert_uint_eq(na, nb);
        ck_assert_int_eq(memcmp(xa, xb, sizeof xa), 0);
    }
    dgn_dataset_destroy(a);
    dgn_dataset_destroy(b);
}
END_TEST

/* A batch drawn ahead (dataset_internal.h) is the next batch; taken, the
 * stream goes on after it; not taken, whatever draws next (a batch, a
 * shuffle, another draw ahead) draws as if it had never been drawn. */
enum { AHEAD_B = 16, AHEAD_X = 3 * AHEAD_B * N_COMP };

static void next_batch(dgn_dataset *ds, float *x)
{
    size_t n;
    ck_assert_int_eq(dgn_dataset_next_triplets(ds, x, AHEAD_X, NULL, 0, AHEAD_B, &n), DGN_OK);
    ck_assert_uint_eq(n, AHEAD_B);
}

static uint64_t ahead(dgn_dataset *ds, float *x)
{
    size_t n;
    uint64_t ticket = 0;
    ck_assert_int_eq(dgn_dataset_draw_ahead(ds, x, AHEAD_X, AHEAD_B, &n, &ticket), DGN_OK);
    ck_assert_uint_eq(n, AHEAD_B);
    ck_assert_uint_ne(ticket, 0);
    return ticket;
}

START_TEST(batches_drawn_ahead_are_invisible)
{
    /* The plain streams: batches 1 and 2; batch 1, a shuffle, batch 1'. */
    dgn_dataset *ref = from_arrays(0, 9, 0), *ref2 = from_arrays(0, 9, 0);
    float want[3][AHEAD_X], got[AHEAD_X], early[AHEAD_X];
    next_batch(ref, want[0]);
    next_batch(ref, want[1]);
    next_batch(ref2, got);
    ck_assert_int_eq(dgn_dataset_shuffle(ref2), DGN_OK);
    next_batch(ref2, want[2]);
    ck_assert_int_ne(memcmp(want[1], want[2], sizeof got), 0);

    for (int how = 0; how < 4; how++) {
        dgn_dataset *ds = from_arrays(0, 9, 0);
        uint64_t t = ahead(ds, early);
        ck_assert_int_eq(memcmp(early, want[0], sizeof early), 0);
        if (how == 0) { /* taken: the stream goes on after it */
            ck_assert_int_eq(dgn_dataset_take_ahead(ds, t), 1);
            ck_assert_int_eq(dgn_dataset_take_ahead(ds, t), 0);
            next_batch(ds, got);
        } else if (how == 1) { /* drawn again by the next batch */
            next_batch(ds, got);
            ck_assert_int_eq(memcmp(got, want[0], sizeof got), 0);
            ck_assert_int_eq(dgn_dataset_take_ahead(ds, t), 0);
            next_batch(ds, got);
        } else if (how == 2) { /* and by another draw ahead */
            uint64_t u = ahead(ds, got);
            ck_assert_int_eq(memcmp(got, want[0], sizeof got), 0);
            ck_assert_int_eq(dgn_dataset_take_ahead(ds, t), 0);
            ck_assert_int_eq(dgn_dataset_take_ahead(ds, u), 1);
            next_batch(ds, got);
        } else { /* a shuffle forgets it first: batch 2 was never drawn */
            next_batch(ds, got);
            ahead(ds, got);
            ck_assert_int_eq(dgn_dataset_shuffle(ds), DGN_OK);
            next_batch(ds, got);
            ck_assert_int_eq(memcmp(got, want[2], sizeof got), 0);
            dgn_dataset_destroy(ds);
            continue;
        }
        ck_assert_msg(memcmp(got, want[1], sizeof got) == 0, "case %d", how);
        dgn_dataset_destroy(ds);
    }
    dgn_dataset_destroy(ref);
    dgn_dataset_destroy(ref2);
}
END_TEST

START_TEST(augmentation_statistics)
{
    /* Two compositions, one per class; every component non-zero. */
    const double xs[] = {0.5, 0.3, 0.2, 0.25, 0.25, 0.5};
    const double ys[] = {550, 450};
    dgn_dataset_config cfg = base_config(500, 600);
    cfg.sigma = 0.05;
    dgn_dataset *ds = NULL;
    ck_assert_int_eq(dgn_dataset_from_arrays(&ds, xs, ys, 2, 3, NULL, NULL, &cfg), DGN_OK);
    double mean[3], sd[3];
    ck_assert_int_eq(dgn_dataset_zscore_stats(ds, mean, sd, 3), DGN_OK);
    float x[3 * 2 * 3];
    size_t rows[6], n;
    double s = 0, s2 = 0, cross = 0, prev = 0;
    size_t count = 0;
    for (int epoch = 0; epoch < 20000; epoch++) {
        ck_assert_int_eq(dgn_dataset_next_triplets(ds, x, 18, rows, 6, 2, &n), DGN_OK);
        ck_assert_uint_eq(n, 2);
        for (size_t r = 0; r < 3 * n; r++)
            for (size_t j = 0; j < 3; j++) {
                double raw = x[r * 3 + j] * sd[j] + mean[j];
                double eps = raw / xs[rows[r] * 3 + j] - 1;
                s += eps;
                s2 += eps * eps;
                cross += eps * prev;
                prev = eps;
                count++;
            }
        dgn_dataset_shuffle(ds);
    }
    double m = s / count, v = s2 / count - m * m;
    ck_assert_double_lt(fabs(m), 5e-4);              /* ~ 8 standard errors */
    ck_assert_double_lt(fabs(sqrt(v) - 0.05), 1e-3); /* float rounding included */
    /* Fresh noise for every component and use: neighbours uncorrelated. */
    ck_assert_double_lt(fabs(cross / count) / v, 0.02);
    dgn_dataset_destroy(ds);
}
END_TEST

START_TEST(triplet_buffer_too_small)
{
    dgn_dataset *ds = from_arrays(0, 1, 0);
    float x[3 * 4 * N_COMP];
    size_t rows[12], n = 99;
    ck_assert_int_eq(dgn_dataset_next_triplets(ds, x, 3 * 4 * N_COMP - 1, NULL, 0, 4, &n), DGN_E_SHAPE);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(dgn_dataset_next_triplets(ds, x, 3 * 4 * N_COMP, rows, 11, 4, &n), DGN_E_SHAPE);
    ck_assert_int_eq(dgn_dataset_next_triplets(ds, x, 3 * 4 * N_COMP, NULL, 0, 0, &n), DGN_E_INVALID);
    dgn_dataset_destroy(ds);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Error paths                                                       */

START_TEST(error_missing_file)
{
    dgn_dataset_config cfg = base_config(500, 600);
    dgn_dataset *ds = (dgn_dataset *)1;
    ck_assert_int_eq(dgn_dataset_load_csv(&ds, "/nonexistent/glass.csv", &cfg), DGN_E_IO);
    ck_assert_ptr_null(ds);
    ck_assert_error_has("/nonexistent/glass.csv", "cannot open");
}
END_TEST

START_TEST(error_empty_file)
{
    dgn_dataset_config cfg = base_config(500, 600);
    load_fails("", &cfg, DGN_E_FORMAT);
    ck_assert_error_has("file is empty");
    load_fails("\xEF\xBB\xBF\r\n\n", &cfg, DGN_E_FORMAT);
    ck_assert_error_has("file is empty");
}
END_TEST

START_TEST(error_header_without_rows)
{
    dgn_dataset_config cfg = base_config(500, 600);
    load_fails("a,b,T\n", &cfg, DGN_E_FORMAT);
    ck_assert_error_has(":1:", "no data rows");
}
END_TEST

START_TEST(error_ragged_row)
{
    dgn_dataset_config cfg = base_config(500, 600);
    load_fails("a,b,T\n70,30,550\n70,30\n", &cfg, DGN_E_FORMAT);
    ck_assert_error_has(":3:", "expected 3 fields, found 2");
}
END_TEST

START_TEST(error_non_numeric_cell)
{
    dgn_dataset_config cfg = base_config(500, 600);
    load_fails("a,W% SiO2,T\n70,30,550\n70,\"1,2\",550\n", &cfg, DGN_E_FORMAT);
    ck_assert_error_has(":3:", "column 2", "\"W% SiO2\"", "\"1,2\" is not a number");
    load_fails("a,b,T\n70,30,550\n70,30,\n", &cfg, DGN_E_FORMAT);
    ck_assert_error_has(":3:", "column 3", "empty cell");
}
END_TEST

START_TEST(error_non_finite)
{
    dgn_dataset_config cfg = base_config(500, 600);
    load_fails("a,b,T\n70,NaN,550\n", &cfg, DGN_E_NONFINITE);
    ck_assert_error_has(":2:", "column 2", "\"NaN\" is not finite");
    load_fails("a,b,T\n70,30,550\n70,30,inf\n", &cfg, DGN_E_NONFINITE);
    ck_assert_error_has(":3:", "column 3", "\"inf\"");
}
END_TEST

START_TEST(error_negative_value)
{
    dgn_dataset_config cfg = base_config(500, 600);
    load_fails("a,b,T\n70,30,550\n-5,105,550\n", &cfg, DGN_E_FORMAT);
    ck_assert_error_has(":3:", "column 1", "\"-5\" is negative");
}
END_TEST

START_TEST(error_unknown_property)
{
    dgn_dataset_config cfg = base_config(500, 600);
    cfg.property = "Tliq";
    load_fails("a,b,T\n70,30,550\n", &cfg, DGN_E_INVALID);
    ck_assert_error_has("no column named \"Tliq\"", "\"a\", \"b\", \"T\"");
}
END_TEST

START_TEST(error_duplicate_columns)
{
    dgn_dataset_config cfg = base_config(500, 600);
    load_fails("a,b,a,T\n40,30,30,550\n", &cfg, DGN_E_FORMAT);
    ck_assert_error_has(":1:", "columns 1 and 3", "\"a\"");
}
END_TEST

START_TEST(error_empty_class)
{
    dgn_dataset_config cfg = base_config(1000, 1100);
    load_fails("a,b,T\n70,30,550\n60,40,450\n", &cfg, DGN_E_DATA);
    ck_assert_error_has("T in [1000, 1100]", "target class is empty");
    cfg = base_config(0, 1000);
    load_fails("a,b,T\n70,30,550\n60,40,450\n", &cfg, DGN_E_DATA);
    ck_assert_error_has("other class is empty");
}
END_TEST

START_TEST(config_validation_names_the_field)
{
    dgn_dataset_config cfg;
    ck_assert_int_eq(dgn_dataset_config_init(&cfg, 99), DGN_E_INVALID);
    ck_assert_int_eq(dgn_dataset_config_init(&cfg, DGN_DATASET_CONFIG_VERSION), DGN_OK);
    ck_assert_int_eq(dgn_dataset_config_validate(&cfg), DGN_E_INVALID);
    ck_assert_error_has("lo and hi");
    cfg = base_config(600, 500);
    ck_assert_int_eq(dgn_dataset_config_validate(&cfg), DGN_E_INVALID);
    ck_assert_error_has("lo:");
    cfg = base_config(500, 600);
    cfg.valid_fraction = 1;
    ck_assert_int_eq(dgn_dataset_config_validate(&cfg), DGN_E_INVALID);
    ck_assert_error_has("valid_fraction");
    cfg = base_config(500, 600);
    cfg.sigma = -0.1;
    ck_assert_int_eq(dgn_dataset_config_validate(&cfg), DGN_E_INVALID);
    ck_assert_error_has("sigma");
    cfg = base_config(500, 600);
    cfg.sum_min = 1.1;
    ck_assert_int_eq(dgn_dataset_config_validate(&cfg), DGN_E_INVALID);
    ck_assert_error_has("sum_min");
    cfg = base_config(500, 600);
    cfg.version = 0;
    ck_assert_int_eq(dgn_dataset_config_validate(&cfg), DGN_E_INVALID);
    ck_assert_error_has("version");
    cfg = base_config(500, 600);
    cfg.n_components = 2;
    ck_assert_int_eq(dgn_dataset_config_validate(&cfg), DGN_E_INVALID);
    ck_assert_error_has("components");
    ck_assert_int_eq(dgn_dataset_config_validate(NULL), DGN_E_INVALID);
}
END_TEST

START_TEST(arrays_reject_bad_values)
{
    dgn_dataset_config cfg = base_config(500, 600);
    const double x[] = {0.5, 0.5, 1.2, -0.2};
    const double y[] = {550, 450};
    const char *names[] = {"SiO2", "Na2O"};
    dgn_dataset *ds = NULL;
    ck_assert_int_eq(dgn_dataset_from_arrays(&ds, x, y, 2, 2, names, NULL, &cfg), DGN_E_INVALID);
    ck_assert_error_has("row 2", "component 2", "\"Na2O\"", "negative");
    cfg.property = "T";
    ck_assert_int_eq(dgn_dataset_from_arrays(&ds, x, y, 2, 2, names, NULL, &cfg), DGN_E_INVALID);
    ck_assert_error_has("CSV");
}
END_TEST

/* ---------------------------------------------------------------- */

START_TEST(bundled_sciglass)
{
    dgn_dataset_config cfg = base_config(500, 600);
    cfg.property = "TG";
    cfg.valid_fraction = 0.2;
    dgn_dataset *ds = NULL;
    ck_assert_msg(dgn_dataset_load_csv(&ds, DGN_SOURCE_DIR "/data/sciglass_tg_wt.csv", &cfg)
                  == DGN_OK, "%s", dgn_last_error());
    ck_assert_uint_eq(dgn_dataset_n_rows(ds, DGN_SPLIT_ALL), 29074);
    ck_assert_uint_eq(dgn_dataset_n_components(ds), 19);
    ck_assert_uint_eq(dgn_dataset_n_dropped(ds), 0);
    ck_assert_uint_eq(dgn_dataset_n_positive(ds, DGN_SPLIT_ALL), 7037);
    ck_assert_uint_eq(dgn_dataset_n_rows(ds, DGN_SPLIT_VALID), 5815);
    ck_assert_int_eq(dgn_dataset_units(ds), DGN_UNITS_PERCENT);
    ck_assert_str_eq(dgn_dataset_component_name(ds, 0), "W% Al2O3");
    ck_assert_str_eq(dgn_dataset_component_name(ds, 18), "W% ZrO2");
    dgn_dataset_destroy(ds);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dataset");
    TCase *tc = tcase_create("load");
    tcase_add_test(tc, bom_crlf_index_and_quoted_header);
    tcase_add_test(tc, fractions_and_percents_give_the_same_rows);
    tcase_add_test(tc, column_order_changes_nothing);
    tcase_add_test(tc, mixed_units_are_an_error);
    tcase_add_test(tc, forced_units_skip_detection);
    tcase_add_test(tc, rows_outside_the_sum_window_are_dropped);
    tcase_add_test(tc, sum_window_edges_are_kept_whatever_the_rounding);
    tcase_add_test(tc, labels_are_inclusive);
    tcase_add_test(tc, columns_by_name_and_short_name);
    tcase_add_test(tc, ambiguous_short_name);
    tcase_add_test(tc, validation_file);
    tcase_add_test(tc, validation_file_missing_a_component);
    tcase_add_test(tc, skip_bad_rows_counts_them);
    tcase_add_test(tc, bundled_sciglass);
    suite_add_tcase(s, tc);

    tc = tcase_create("split");
    tcase_add_test(tc, split_is_deterministic_per_seed);
    tcase_add_test(tc, group_split_keeps_duplicates_together);
    tcase_add_test(tc, zscores_use_training_rows_only);
    tcase_add_test(tc, three_splits_are_disjoint_and_cover_the_table);
    tcase_add_test(tc, group_split_keeps_compositions_in_one_of_three_parts);
    tcase_add_test(tc, no_test_fraction_is_the_old_split_bit_for_bit);
    tcase_add_test(tc, a_version_1_struct_loads);
    tcase_add_test(tc, test_rows_do_not_reach_statistics_or_triplets);
    tcase_add_test(tc, test_split_errors_name_the_fields);
    suite_add_tcase(s, tc);

    tc = tcase_create("triplets");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, triplets_have_the_right_classes);
    tcase_add_test(tc, balanced_anchors_alternate_classes);
    tcase_add_test(tc, triplets_without_noise_are_zscored_rows);
    tcase_add_test(tc, triplets_are_reproducible);
    tcase_add_test(tc, batches_drawn_ahead_are_invisible);
    tcase_add_test(tc, augmentation_statistics);
    tcase_add_test(tc, triplet_buffer_too_small);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_test(tc, error_missing_file);
    tcase_add_test(tc, error_empty_file);
    tcase_add_test(tc, error_header_without_rows);
    tcase_add_test(tc, error_ragged_row);
    tcase_add_test(tc, error_non_numeric_cell);
    tcase_add_test(tc, error_non_finite);
    tcase_add_test(tc, error_negative_value);
    tcase_add_test(tc, error_unknown_property);
    tcase_add_test(tc, error_duplicate_columns);
    tcase_add_test(tc, error_empty_class);
    tcase_add_test(tc, config_validation_names_the_field);
    tcase_add_test(tc, arrays_reject_bad_values);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
