/* Model files: round trips, metadata, and every kind of damaged file. */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dgn.h"
#include "model_impl.h"
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
    ck_assert_int_eq(memcmp(m->params, l->params, m->n_params * sizeof(float)), 0);

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
    suite_add_tcase(s, tc);
    return run_suite(s);
}
