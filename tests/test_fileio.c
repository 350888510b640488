/* Nothing lost: when writing a model file or screening results fails
 * part-way (disk full, I/O error, failed rename), the previous file at the
 * path is intact, no temporary file is left, and the error names the path.
 * Failures are injected by this binary's own write, fsync and rename, which
 * the statically linked library calls; as root, permissions cannot. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "dgn.h"
#include "testutil.h"

static enum { NONE, SHORT_THEN_FULL, FSYNC_EIO, RENAME_FAILS } inject;
static int writes;

ssize_t write(int fd, const void *buf, size_t n)
{
    if (inject == SHORT_THEN_FULL && fd > 2) {
        if (writes++ == 0 && n > 1)
            return syscall(SYS_write, fd, buf, n / 2); /* half, then a full disk */
        errno = ENOSPC;
        return -1;
    }
    return syscall(SYS_write, fd, buf, n);
}

int fsync(int fd)
{
    if (inject == FSYNC_EIO) {
        errno = EIO;
        return -1;
    }
    return (int)syscall(SYS_fsync, fd);
}

int rename(const char *from, const char *to)
{
    if (inject == RENAME_FAILS) {
        errno = EXDEV;
        return -1;
    }
    return (int)syscall(SYS_rename, from, to);
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    rewind(f);
    char *buf = malloc(*len + 1);
    ck_assert_uint_eq(fread(buf, 1, *len, f), *len);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static size_t entries(const char *dir)
{
    DIR *d = opendir(dir);
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static dgn_model *small_model(void)
{
    dgn_model_config cfg;
    dgn_model_config_init(&cfg, DGN_MODEL_CONFIG_VERSION);
    cfg.n_components = 3;
    cfg.embed_dim = 4;
    cfg.hidden = 8;
    cfg.out_dim = 4;
    dgn_model *m = NULL;
    ck_assert_int_eq(dgn_model_create(&m, &cfg), DGN_OK);
    return m;
}

START_TEST(failed_model_save_keeps_the_old_file)
{
    char dir[] = "/tmp/dgn-fileio-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/model.dgn", dir);
    dgn_model *m = small_model();
    ck_assert_int_eq(dgn_model_set_meta(m, "v", "old", 3), DGN_OK);
    ck_assert_int_eq(dgn_model_save(m, path), DGN_OK);
    size_t len0;
    char *before = read_all(path, &len0);

    const char *why[] = {"No space left on device", "Input/output error",
                         "Invalid cross-device link"};
    for (int how = SHORT_THEN_FULL; how <= RENAME_FAILS; how++) {
        ck_assert_int_eq(dgn_model_set_meta(m, "v", "a newer, longer value", 21), DGN_OK);
        writes = 0;
        inject = how;
        dgn_status st = dgn_model_save(m, path);
        inject = NONE;
        ck_assert_int_eq(st, DGN_E_IO);
        ck_assert_error_has(path, why[how - SHORT_THEN_FULL], "unchanged");
        size_t len;
        char *after = read_all(path, &len);
        ck_assert_uint_eq(len, len0);
        ck_assert_int_eq(memcmp(before, after, len), 0);
        free(after);
        ck_assert_uint_eq(entries(dir), 1); /* no temporary left behind */
        dgn_model *l = NULL;
        ck_assert_int_eq(dgn_model_load(&l, path), DGN_OK);
        dgn_model_destroy(l);
    }
    free(before);
    dgn_model_destroy(m);
    unlink(path);
    rmdir(dir);
}
END_TEST

START_TEST(failed_results_write_keeps_the_old_file)
{
    /* A model with a context, for a screener. */
    const double x[] = {0.6, 0.3, 0.1, 0.5, 0.4, 0.1, 0.7, 0.2, 0.1};
    const double y[] = {550, 450, 560};
    const char *names[] = {"SiO2", "Na2O", "CaO"};
    dgn_dataset_config dc;
    dgn_dataset_config_init(&dc, DGN_DATASET_CONFIG_VERSION);
    dc.lo = 500;
    dc.hi = 600;
    dc.valid_fraction = 0;
    dgn_dataset *ds = NULL;
    ck_assert_int_eq(dgn_dataset_from_arrays(&ds, x, y, 3, 3, names, "Tg", &dc), DGN_OK);
    dgn_model *m = small_model();
    float centre[4];
    ck_assert_int_eq(dgn_class_centre(centre, 4, m, ds), DGN_OK);
    ck_assert_int_eq(dgn_model_attach_context(m, ds, centre, NULL), DGN_OK);
    dgn_screener_config sc;
    dgn_screener_config_init(&sc, DGN_SCREENER_CONFIG_VERSION);
    dgn_screener *s = NULL;
    ck_assert_int_eq(dgn_screener_create(&s, m, &sc), DGN_OK);
    ck_assert_int_eq(dgn_screener_set_grid(s, "step=10, SiO2, Na2O, CaO"), DGN_OK);
    ck_assert_int_eq(dgn_screener_run(s), DGN_OK);

    char dir[] = "/tmp/dgn-fileio-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/top.csv", dir);
    FILE *f = fopen(path, "w");
    fputs("results of an earlier run\n", f);
    fclose(f);
    writes = 0;
    inject = SHORT_THEN_FULL;
    dgn_status st = dgn_screener_write_csv(s, path);
    inject = NONE;
    ck_assert_int_eq(st, DGN_E_IO);
    ck_assert_error_has(path, "No space left on device");
    size_t len;
    char *after = read_all(path, &len);
    ck_assert_str_eq(after, "results of an earlier run\n");
    free(after);
    ck_assert_uint_eq(entries(dir), 1);
    ck_assert_int_eq(dgn_screener_write_csv(s, path), DGN_OK);
    after = read_all(path, &len);
    ck_assert_ptr_nonnull(strstr(after, "rank,index,score"));
    free(after);
    unlink(path);
    rmdir(dir);
    dgn_screener_destroy(s);
    dgn_model_destroy(m);
    dgn_dataset_destroy(ds);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fileio");
    TCase *tc = tcase_create("atomic");
    tcase_add_test(tc, failed_model_save_keeps_the_old_file);
    tcase_add_test(tc, failed_results_write_keeps_the_old_file);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
