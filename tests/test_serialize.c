/* Model files: round trips, metadata, and every kind of damaged file. */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dgn.h"
#include "model_internal.h"
#include "testutil.h"

static dgn_model *small_model(void)
{
    dgn_model_config cfg;
    dgn_model_config_init(&cfg, DGN_MODEL_CONFIG_VERSION);
    cfg.n_components = 4;
    cfg.embed_dim = 3;
    cfg.rank = 2;
    cfg.hidden = 5;
    cfg.out_dim = 3;
    cfg.max_batch = 8;
    dgn_model *m = NULL;
    ck_assert_int_eq(dgn_model_create(&m, &cfg), DGN_OK);
    /* A few training passes give the running statistics real values. */
    float x[8 * 4], f[8 * 3];
    for (int i = 0; i < 32; i++)
        x[i] = (float)sin(i * 1.7);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(dgn_model_forward(m, f, 24, x, 8), DGN_OK);
    return m;
}

static char *temp_dir(void)
{
    char *dir = strdup("/tmp/dgn-model-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    return dir;
}

static char *join(const char *dir, const char *name)
{
    char *p = malloc(strlen(dir) + strlen(name) + 2);
    ck_assert_ptr_nonnull(p);
    sprintf(p, "%s/%s", dir, name);
    return p;
}

static size_t count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    rewind(f);
    unsigned char *buf = malloc(*len);
    ck_assert_uint_eq(fread(buf, 1, *len, f), *len);
    fclose(f);
    return buf;
}

static void patch_crc(unsigned char *buf, size_t len)
{
    uint32_t crc = dgn_crc32(buf, len - 4);
    for (int i = 0; i < 4; i++)
        buf[len - 4 + i] = (unsigned char)(crc >> (8 * i));
}

START_TEST(round_trip_is_bit_identical)
{
    char *dir = temp_dir(), *path = join(dir, "m.dgn");
    dgn_model *m = small_model();
    ck_assert_int_eq(dgn_model_set_meta(m, "components", "SiO2\0Na2O", 10), DGN_OK);
    ck_assert_int_eq(dgn_model_set_meta(m, "empty", NULL, 0), DGN_OK);
    ck_assert_int_eq(dgn_model_save(m, path), DGN_OK);
    ck_assert_uint_eq(count_entries(dir), 1); /* no temporary left behind */

    dgn_model *l = NULL;
    ck_assert_msg(dgn_model_load(&l, path) == DGN_OK, "%s", dgn_last_error());
    ck_assert_int_eq(dgn_model_training(l), 0);
    dgn_model_config a, b;
    dgn_model_get_config(m, &a);
    dgn_model_get_config(l, &b);
    ck_assert_int_eq(memcmp(&a, &b, sizeof a), 0);
    size_t nst = dgn_model_state_floats(m);
    ck_assert_uint_eq(dgn_model_state_floats(l), nst);
    float *sm = malloc(nst * sizeof *sm), *sl = malloc(nst * sizeof *sl);
    dgn_model_snapshot(m, sm);
    dgn_model_snapshot(l, sl);
    ck_assert_int_eq(memcmp(sm, sl, nst * sizeof *sm), 0);
    free(sm);
    free(sl);

    dgn_model_set_training(m, 0);
    float x[8 * 4], fm[8 * 3], fl[8 * 3];
    for (int i = 0; i < 32; i++)
        x[i] = (float)cos(i * 0.9);
    ck_assert_int_eq(dgn_model_forward(m, fm, 24, x, 8), DGN_OK);
    ck_assert_int_eq(dgn_model_forward(l, fl, 24, x, 8), DGN_OK);
    ck_assert_int_eq(memcmp(fm, fl, sizeof fm), 0);

    const void *data;
    size_t size;
    ck_assert_int_eq(dgn_model_meta(l, "components", &data, &size), DGN_OK);
    ck_assert_uint_eq(size, 10);
    ck_assert_int_eq(memcmp(data, "SiO2\0Na2O", 10), 0);
    ck_assert_int_eq(dgn_model_meta(l, "empty", &data, &size), DGN_OK);
    ck_assert_uint_eq(size, 0);
    ck_assert_int_eq(dgn_model_meta(l, "missing", &data, &size), DGN_E_DATA);
    ck_assert_error_has("\"missing\"");

    /* Saving again replaces the file in place. */
    ck_assert_int_eq(dgn_model_set_meta(m, "components", "B2O3", 4), DGN_OK);
    ck_assert_int_eq(dgn_model_save(m, path), DGN_OK);
    dgn_model_destroy(l);
    ck_assert_int_eq(dgn_model_load(&l, path), DGN_OK);
    ck_assert_int_eq(dgn_model_meta(l, "components", &data, &size), DGN_OK);
    ck_assert_uint_eq(size, 4);
    ck_assert_uint_eq(count_entries(dir), 1);

    dgn_model_destroy(l);
    dgn_model_destroy(m);
    unlink(path);
    rmdir(dir);
    free(path);
    free(dir);
}
END_TEST

/* Save a small model and return its bytes. */
static unsigned char *model_image(size_t *len)
{
    char *dir = temp_dir(), *path = join(dir, "m.dgn");
    dgn_model *m = small_model();
    dgn_model_set_meta(m, "note", "abc", 3);
    ck_assert_int_eq(dgn_model_save(m, path), DGN_OK);
    unsigned char *buf = slurp(path, len);
    dgn_model_destroy(m);
    unlink(path);
    rmdir(dir);
    free(path);
    free(dir);
    return buf;
}

/* Load bytes from a file; must fail with DGN_E_FORMAT. */
static void load_fails(const unsigned char *buf, size_t len, const char *fragment)
{
    char *path = write_temp((const char *)buf, len);
    dgn_model *m = (dgn_model *)1;
    dgn_status st = dgn_model_load(&m, path);
    ck_assert_msg(st == DGN_E_FORMAT, "length %zu: status %s (%s)", len,
                  dgn_status_str(st), dgn_last_error());
    ck_assert_ptr_null(m);
    if (fragment)
        ck_assert_error_has(fragment, path);
    remove_temp(path);
}

START_TEST(truncated_at_every_offset)
{
    size_t len;
    unsigned char *buf = model_image(&len);
    load_fails(buf, 0, "empty file");
    for (size_t cut = 1; cut < len; cut++)
        load_fails(buf, cut, cut < 8 ? NULL : "truncated");
    free(buf);
}
END_TEST

START_TEST(flipped_bytes_anywhere)
{
    size_t len;
    unsigned char *buf = model_image(&len);
    for (size_t i = 0; i < len; i++) {
        buf[i] ^= 0x10;
        load_fails(buf, len, NULL);
        buf[i] ^= 0x10;
    }
    free(buf);
}
END_TEST

START_TEST(named_failures)
{
    size_t len;
    unsigned char *buf = model_image(&len);

    unsigned char *bad = malloc(len + 1);
    memcpy(bad, buf, len);
    memcpy(bad, "PK\x03\x04", 4);
    load_fails(bad, len, "wrong magic");

    memcpy(bad, buf, len);
    bad[8] = 2; /* format version 2 */
    load_fails(bad, len, "format version 2");
    ck_assert_error_has("newer");

    memcpy(bad, buf, len);
    bad[len / 2] ^= 0xFF;
    load_fails(bad, len, "checksum mismatch");

    memcpy(bad, buf, len);
    bad[len] = 0;
    load_fails(bad, len + 1, "after the end");

    /* hidden = 2^40 with a valid checksum: the size computation must not
     * overflow, the config is refused by name. Config starts at byte 20;
     * hidden is its fifth u64. */
    memcpy(bad, buf, len);
    memset(bad + 20 + 4 * 8, 0, 8);
    bad[20 + 4 * 8 + 5] = 1;
    patch_crc(bad, len);
    load_fails(bad, len, "impossible config");
    ck_assert_error_has("hidden");

    /* n_components = 2^63 − 1 likewise. */
    memcpy(bad, buf, len);
    memset(bad + 20, 0xFF, 8);
    bad[27] = 0x7F;
    patch_crc(bad, len);
    load_fails(bad, len, "impossible config");

    free(bad);
    free(buf);
}
END_TEST

START_TEST(load_and_save_name_the_path)
{
    dgn_model *m = (dgn_model *)1;
    ck_assert_int_eq(dgn_model_load(&m, "/nonexistent/m.dgn"), DGN_E_IO);
    ck_assert_ptr_null(m);
    ck_assert_error_has("/nonexistent/m.dgn", "cannot open");
    m = small_model();
    ck_assert_int_eq(dgn_model_save(m, "/nonexistent/dir/m.dgn"), DGN_E_IO);
    ck_assert_error_has("/nonexistent/dir/m.dgn");
    ck_assert_int_eq(dgn_model_set_meta(m, "", "x", 1), DGN_E_INVALID);
    dgn_model_destroy(m);
}
END_TEST

/* ---- values checked at load ----------------------------------------------- */

/* Offsets in the file of small_model(): header 20, config 72, u64 count. */
enum { PARAMS_AT = 20 + 72 + 8 };

static void put_f32(unsigned char *p, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(u >> (8 * i));
}

static void put_f64(unsigned char *p, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(u >> (8 * i));
}

/* Where the n bytes of `what` sit in buf (they must, once). */
static size_t find_bytes(const unsigned char *buf, size_t len, const void *what, size_t n)
{
    size_t at = len;
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(buf + i, what, n) == 0) {
            ck_assert_msg(at == len, "pattern found twice");
            at = i;
        }
    ck_assert_msg(at < len, "pattern not found");
    return at;
}

/* small_model() with the context libdgn stores, in distinctive values. */
static dgn_model *context_model(void)
{
    dgn_model *m = small_model();
    unsigned char b[64];
    ck_assert_int_eq(dgn_model_set_meta(m, "dgn.components", "a\0b\0c\0d", 8), DGN_OK);
    ck_assert_int_eq(dgn_model_set_meta(m, "dgn.property", "T", 2), DGN_OK);
    put_f64(b, 500.25);
    put_f64(b + 8, 600.75);
    ck_assert_int_eq(dgn_model_set_meta(m, "dgn.range", b, 16), DGN_OK);
    for (int i = 0; i < 4; i++) {
        put_f64(b + 8 * i, 0.0625 * (i + 1));      /* means */
        put_f64(b + 32 + 8 * i, 1.125 * (i + 1));  /* stds */
    }
    ck_assert_int_eq(dgn_model_set_meta(m, "dgn.zscore", b, 64), DGN_OK);
    for (int j = 0; j < 3; j++)
        put_f32(b + 4 * j, 0.4375f * (float)(j + 1));
    ck_assert_int_eq(dgn_model_set_meta(m, "dgn.centre", b, 12), DGN_OK);
    b[0] = 2, b[1] = b[2] = b[3] = 0;
    ck_assert_int_eq(dgn_model_set_meta(m, "dgn.units", b, 4), DGN_OK);
    return m;
}

static unsigned char *context_image(size_t *len)
{
    char *dir = temp_dir(), *path = join(dir, "m.dgn");
    dgn_model *m = context_model();
    ck_assert_msg(dgn_model_save(m, path) == DGN_OK, "%s", dgn_last_error());
    unsigned char *buf = slurp(path, len);
    dgn_model_destroy(m);
    unlink(path);
    rmdir(dir);
    free(path);
    free(dir);
    return buf;
}

static void expect_load(const unsigned char *buf, size_t len, dgn_status want,
                        const char *frag1, const char *frag2)
{
    unsigned char *copy = malloc(len);
    memcpy(copy, buf, len);
    patch_crc(copy, len);
    char *path = write_temp((const char *)copy, len);
    dgn_model *m = (dgn_model *)1;
    dgn_status st = dgn_model_load(&m, path);
    ck_assert_msg(st == want, "status %s, expected %s (%s)", dgn_status_str(st),
                  dgn_status_str(want), dgn_last_error());
    if (want != DGN_OK) {
        ck_assert_ptr_null(m);
        ck_assert_error_has(path, frag1, frag2);
        ck_assert_msg(strchr(dgn_last_error(), '\n') == NULL, "multi-line message");
    }
    dgn_model_destroy(want == DGN_OK ? m : NULL);
    remove_temp(path);
    free(copy);
}

START_TEST(non_finite_parameters_are_refused_by_name)
{
    size_t len;
    unsigned char *buf = context_image(&len);
    expect_load(buf, len, DGN_OK, "", "");
    unsigned char *bad = malloc(len);
    /* n = 4, d = 3: the embedding is parameters 0 to 11, the interaction
     * factors (rank 2) 12 to 19. */
    memcpy(bad, buf, len);
    put_f32(bad + PARAMS_AT + 4 * 7, NAN);
    expect_load(bad, len, DGN_E_NONFINITE, "parameter 7 (embedding[7]) is NaN", "");
    memcpy(bad, buf, len);
    put_f32(bad + PARAMS_AT + 4 * 13, -INFINITY);
    expect_load(bad, len, DGN_E_NONFINITE, "parameter 13 (interaction[1]) is -inf", "");
    memcpy(bad, buf, len);
    size_t n_params = 4 * 3 + 4 * 2 + 3 * 9 + 4 * 3 * 5 + 2 * 5 + 5 * 3 + 3;
    put_f32(bad + PARAMS_AT + 4 * (n_params - 1), INFINITY);
    expect_load(bad, len, DGN_E_NONFINITE, "projection.linear2.bias[2]) is inf", "");
    free(bad);
    free(buf);
}
END_TEST

START_TEST(impossible_statistics_are_refused_by_name)
{
    size_t len;
    unsigned char *buf = context_image(&len);
    unsigned char *bad = malloc(len);
    size_t n_params = 4 * 3 + 4 * 2 + 3 * 9 + 4 * 3 * 5 + 2 * 5 + 5 * 3 + 3;
    size_t stats = PARAMS_AT + 4 * n_params + 8; /* mean[5], then var[5] */

    memcpy(bad, buf, len);
    put_f32(bad + stats + 4 * 1, NAN);
    expect_load(bad, len, DGN_E_NONFINITE, "BatchNorm running mean[1] is NaN", "");
    memcpy(bad, buf, len);
    put_f32(bad + stats + 4 * (5 + 2), -0.5f);
    expect_load(bad, len, DGN_E_FORMAT, "BatchNorm running variance[2] is -0.5",
                "cannot be negative");
    memcpy(bad, buf, len);
    put_f32(bad + stats + 4 * (5 + 4), INFINITY);
    expect_load(bad, len, DGN_E_NONFINITE, "BatchNorm running variance[4] is inf", "");
    memcpy(bad, buf, len);
    put_f32(bad + stats + 4 * (5 + 4), 0); /* a constant unit: possible */
    expect_load(bad, len, DGN_OK, "", "");

    /* The context: centre, z-score statistics, range. */
    unsigned char v[8];
    put_f32(v, 0.4375f * 2);
    size_t at = find_bytes(buf, len, v, 4);
    memcpy(bad, buf, len);
    put_f32(bad + at, NAN);
    expect_load(bad, len, DGN_E_NONFINITE, "class centre[1] (metadata dgn.centre) is NaN", "");
    memcpy(bad, buf, len);
    put_f32(bad + at, INFINITY);
    expect_load(bad, len, DGN_E_NONFINITE, "class centre[1]", "is inf");

    put_f64(v, 1.125 * 3);
    at = find_bytes(buf, len, v, 8);
    memcpy(bad, buf, len);
    put_f64(bad + at, -2);
    expect_load(bad, len, DGN_E_FORMAT, "z-score std[2] (\"c\") (metadata dgn.zscore) is -2",
                "must be positive");
    memcpy(bad, buf, len);
    put_f64(bad + at, 0);
    expect_load(bad, len, DGN_E_FORMAT, "z-score std[2] (\"c\")", "is 0");
    memcpy(bad, buf, len);
    put_f64(bad + at, NAN);
    expect_load(bad, len, DGN_E_NONFINITE, "z-score std[2] (\"c\")", "is NaN");
    put_f64(v, 0.0625);
    at = find_bytes(buf, len, v, 8);
    memcpy(bad, buf, len);
    put_f64(bad + at, NAN);
    expect_load(bad, len, DGN_E_NONFINITE, "z-score mean[0] (\"a\")", "is NaN");

    put_f64(v, 500.25);
    at = find_bytes(buf, len, v, 8);
    memcpy(bad, buf, len);
    put_f64(bad + at, 700);
    expect_load(bad, len, DGN_E_FORMAT, "target range (metadata dgn.range): lo 700 is above "
                "hi 600.75", "");
    memcpy(bad, buf, len);
    put_f64(bad + at, -INFINITY);
    expect_load(bad, len, DGN_E_NONFINITE, "target range", "must be finite");

    /* A fifth component name for four components. */
    at = find_bytes(buf, len, "a\0b\0c\0d\0", 8);
    memcpy(bad, buf, len);
    bad[at + 1] = 'x';
    expect_load(bad, len, DGN_E_FORMAT, "component names (metadata dgn.components)",
                "need 4 non-empty");
    free(bad);
    free(buf);
}
END_TEST

START_TEST(context_accessors_and_save_check_too)
{
    /* Set in memory, not loaded: the accessors refuse the same values,
     * and saving refuses to write a file the loader would refuse. */
    dgn_model *m = context_model();
    unsigned char b[64];
    for (int j = 0; j < 3; j++)
        put_f32(b + 4 * j, j == 2 ? NAN : 0.5f);
    ck_assert_int_eq(dgn_model_set_meta(m, "dgn.centre", b, 12), DGN_OK);
    float centre[3];
    ck_assert_int_eq(dgn_model_class_centre(m, centre, 3), DGN_E_NONFINITE);
    ck_assert_error_has("dgn_model_class_centre", "class centre[2]", "NaN");
    ck_assert_int_eq(dgn_model_save(m, "/tmp/never-written.dgn"), DGN_E_NONFINITE);
    ck_assert_error_has("dgn_model_save", "class centre[2]");
    ck_assert_int_eq(access("/tmp/never-written.dgn", F_OK), -1);

    for (int i = 0; i < 8; i++)
        put_f64(b + 8 * i, i == 5 ? -1.0 : 1.0);
    ck_assert_int_eq(dgn_model_set_meta(m, "dgn.zscore", b, 64), DGN_OK);
    double mean[4], sd[4];
    ck_assert_int_eq(dgn_model_zscore_stats(m, mean, sd, 4), DGN_E_FORMAT);
    ck_assert_error_has("std[1] (\"b\")", "is -1");
    put_f64(b, 700);
    put_f64(b + 8, 600);
    ck_assert_int_eq(dgn_model_set_meta(m, "dgn.range", b, 16), DGN_OK);
    double lo, hi;
    ck_assert_int_eq(dgn_model_target_range(m, &lo, &hi), DGN_E_FORMAT);
    ck_assert_error_has("lo 700 is above hi 600");

    /* A NaN centre given to the scores: every score would be NaN. */
    float x[8] = {0}, s[2];
    centre[0] = centre[1] = 0.5f;
    centre[2] = NAN;
    ck_assert_int_eq(dgn_model_scores(s, 2, m, centre, x, 2), DGN_E_NONFINITE);
    ck_assert_error_has("centre[2]");

    dgn_model_destroy(m);
    m = small_model();
    dgn_model_params(m)[20] = NAN;
    ck_assert_int_eq(dgn_model_save(m, "/tmp/never-written.dgn"), DGN_E_NONFINITE);
    ck_assert_error_has("parameter 20 (attention.query[0]) is NaN");
    dgn_model_destroy(m);
}
END_TEST

/* Build a file image of small_model() with raw metadata records. */
static unsigned char *with_meta(const unsigned char *good, size_t good_len,
                                const unsigned char *meta, size_t meta_len, uint32_t count,
                                size_t *len)
{
    /* The good image's metadata is one entry, "note" = "abc", at its end. */
    size_t head = good_len - 4 - (4 + 4 + 4 + 8 + 3);
    *len = head + 4 + meta_len + 4;
    unsigned char *b = malloc(*len);
    memcpy(b, good, head);
    for (int i = 0; i < 8; i++)
        b[12 + i] = (unsigned char)((uint64_t)*len >> (8 * i));
    for (int i = 0; i < 4; i++)
        b[head + i] = (unsigned char)(count >> (8 * i));
    memcpy(b + head + 4, meta, meta_len);
    patch_crc(b, *len);
    return b;
}

START_TEST(metadata_counts_and_duplicates)
{
    size_t good_len, len;
    unsigned char *good = model_image(&good_len);
    /* Sanity: the rebuilt image with the same entry loads. */
    unsigned char rec[] = {4, 0, 0, 0, 'n', 'o', 't', 'e', 3, 0, 0, 0, 0, 0, 0, 0, 'a', 'b', 'c'};
    unsigned char *b = with_meta(good, good_len, rec, sizeof rec, 1, &len);
    expect_load(b, len, DGN_OK, "", "");
    free(b);
    /* 4 billion entries in 19 bytes: refused at once, not after a loop. */
    b = with_meta(good, good_len, rec, sizeof rec, 0xFFFFFFFFu, &len);
    expect_load(b, len, DGN_E_FORMAT, "4294967295 metadata entries", "above the limit");
    free(b);
    b = with_meta(good, good_len, rec, sizeof rec, 2, &len);
    expect_load(b, len, DGN_E_FORMAT, "2 metadata entries cannot fit", "");
    free(b);
    /* The same name twice. */
    unsigned char two[2 * sizeof rec];
    memcpy(two, rec, sizeof rec);
    memcpy(two + sizeof rec, rec, sizeof rec);
    b = with_meta(good, good_len, two, sizeof two, 2, &len);
    expect_load(b, len, DGN_E_FORMAT, "metadata \"note\" appears twice", "");
    free(b);
    /* A name with a newline, twice: the message stays on one line. */
    two[5] = two[sizeof rec + 5] = '\n';
    b = with_meta(good, good_len, two, sizeof two, 2, &len);
    expect_load(b, len, DGN_E_FORMAT, "metadata \"n\\x0ate\" appears twice", "");
    free(b);
    /* A NUL inside a name. */
    rec[5] = 0;
    b = with_meta(good, good_len, rec, sizeof rec, 1, &len);
    expect_load(b, len, DGN_E_FORMAT, "metadata name holds a NUL byte", "");
    free(b);
    free(good);
}
END_TEST

/* 80,000 entries took 12.8 s to load with a linear search per insert. */
START_TEST(many_metadata_entries_are_linear)
{
    enum { N = 80000 };
    char *dir = temp_dir(), *path = join(dir, "m.dgn");
    dgn_model *m = small_model();
    clock_t t0 = clock();
    char name[32];
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "key.%d", i);
        ck_assert_int_eq(dgn_model_set_meta(m, name, &i, sizeof i), DGN_OK);
    }
    int v = -1;
    ck_assert_int_eq(dgn_model_set_meta(m, "key.77", &v, sizeof v), DGN_OK); /* replaces */
    ck_assert_int_eq(dgn_model_save(m, path), DGN_OK);
    dgn_model *l = NULL;
    ck_assert_msg(dgn_model_load(&l, path) == DGN_OK, "%s", dgn_last_error());
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "key.%d", i);
        const void *data;
        size_t size;
        ck_assert_int_eq(dgn_model_meta(l, name, &data, &size), DGN_OK);
        ck_assert_uint_eq(size, sizeof i);
        memcpy(&v, data, sizeof v);
        ck_assert_int_eq(v, i == 77 ? -1 : i);
    }
    /* Entries keep their insertion order in the file. */
    ck_assert_str_eq(dgn_model_meta_name(l, 0), "key.0");
    ck_assert_str_eq(dgn_model_meta_name(l, N - 1), "key.79999");
    ck_assert_ptr_null(dgn_model_meta_name(l, N));
    double cpu = (double)(clock() - t0) / CLOCKS_PER_SEC;
    ck_assert_msg(cpu < 3, "80,000 metadata entries took %.1f s of CPU", cpu);
    dgn_model_destroy(l);
    dgn_model_destroy(m);
    unlink(path);
    rmdir(dir);
    free(path);
    free(dir);
}
END_TEST

START_TEST(non_regular_files_are_refused_without_blocking)
{
    alarm(20); /* a FIFO open that blocks fails the test, not the suite */
    char *dir = temp_dir(), *fifo = join(dir, "pipe.dgn");
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    dgn_model *m = (dgn_model *)1;
    ck_assert_int_eq(dgn_model_load(&m, fifo), DGN_E_IO);
    ck_assert_ptr_null(m);
    ck_assert_error_has(fifo, "is a FIFO", "regular file");
    ck_assert_int_eq(dgn_model_load(&m, dir), DGN_E_IO);
    ck_assert_error_has(dir, "is a directory");
    ck_assert_int_eq(dgn_model_load(&m, "/dev/null"), DGN_E_IO);
    ck_assert_error_has("/dev/null", "is a character device");

    /* Over the size cap: refused from its size, before any allocation
     * (a sparse file takes no disk). */
    char *big = join(dir, "big.dgn");
    FILE *f = fopen(big, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(ftruncate(fileno(f), (off_t)DGN_MODEL_MAX_FILE + 1), 0);
    fclose(f);
    ck_assert_int_eq(dgn_model_load(&m, big), DGN_E_IO);
    ck_assert_error_has(big, "2147483649 bytes", "above the 2147483648-byte limit for a model file");
    unlink(big);
    unlink(fifo);
    rmdir(dir);
    free(big);
    free(fifo);
    free(dir);
    alarm(0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("serialize");
    TCase *tc = tcase_create("files");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, round_trip_is_bit_identical);
    tcase_add_test(tc, truncated_at_every_offset);
    tcase_add_test(tc, flipped_bytes_anywhere);
    tcase_add_test(tc, named_failures);
    tcase_add_test(tc, load_and_save_name_the_path);
    tcase_add_test(tc, non_finite_parameters_are_refused_by_name);
    tcase_add_test(tc, impossible_statistics_are_refused_by_name);
    tcase_add_test(tc, context_accessors_and_save_check_too);
    tcase_add_test(tc, metadata_counts_and_duplicates);
    tcase_add_test(tc, many_metadata_entries_are_linear);
    tcase_add_test(tc, non_regular_files_are_refused_without_blocking);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
