/* Nothing lost: when writing a model file or screening results fails
 * part-way (disk full, I/O error, failed rename or link), the previous file
 * at the path is intact, no temporary file is left, and the error names the
 * path. Failures are injected by this binary's own write, fsync, rename and
 * linkat, which the statically linked library calls; as root, permissions
 * cannot. Also the output rules of include/dgn/files.h: no input, device,
 * FIFO or directory is ever written over, modes are kept, and while a file
 * is being written no temporary name exists (so kill -9 leaves none). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "dgn.h"
#include "fileio.h"
#include "testutil.h"

static enum { NONE, SHORT_THEN_FULL, FSYNC_EIO, RENAME_FAILS, LINK_FAILS, COUNT } inject;
static int writes;
static const char *count_dir;
static size_t counted;

static size_t entries(const char *dir);

ssize_t write(int fd, const void *buf, size_t n)
{
    if (inject == COUNT && fd > 2)
        counted = entries(count_dir); /* what a kill -9 now would leave */
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

int linkat(int fd1, const char *from, int fd2, const char *to, int flags)
{
    if (inject == LINK_FAILS) {
        errno = EMLINK;
        return -1;
    }
    return (int)syscall(SYS_linkat, fd1, from, fd2, to, flags);
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

static char *put(const char *dir, const char *name, const char *text)
{
    char *path = malloc(strlen(dir) + strlen(name) + 2);
    sprintf(path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
    return path;
}

static void clean(const char *dir)
{
    DIR *d = opendir(dir);
    char path[512];
    for (struct dirent *e; (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            if (unlink(path) != 0)
                rmdir(path);
        }
    closedir(d);
    ck_assert_int_eq(rmdir(dir), 0);
}

static const char new_text[] = "new content\n";

/* Same device and inode, whatever the name: the path itself, a hard link,
 * a symbolic link, a relative spelling. */
START_TEST(output_same_as_an_input_is_refused)
{
    char dir[] = "/tmp/dgn-fileio-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *in = put(dir, "in.csv", "a,b\n1,2\n");
    char *other = put(dir, "other.csv", "x\n");
    char hard[64], soft[64], dotted[80];
    snprintf(hard, sizeof hard, "%s/hard.csv", dir);
    snprintf(soft, sizeof soft, "%s/soft.csv", dir);
    snprintf(dotted, sizeof dotted, "%s/./in.csv", dir);
    ck_assert_int_eq(link(in, hard), 0);
    ck_assert_int_eq(symlink("in.csv", soft), 0);
    const char *inputs[] = {other, NULL, in};
    const char *outs[] = {in, hard, soft, dotted};
    for (size_t i = 0; i < 4; i++) {
        ck_assert_int_eq(dgn_output_check(outs[i], inputs, 3), DGN_E_INVALID);
        ck_assert_error_has(outs[i], "same file as the input", in);
    }
    /* The input named through the link, the output by its name. */
    const char *via_link[] = {soft};
    ck_assert_int_eq(dgn_output_check(in, via_link, 1), DGN_E_INVALID);
    ck_assert_error_has("same file as the input", soft);
    /* A different file, a new path and a missing input pass. */
    char fresh[64], missing[64];
    snprintf(fresh, sizeof fresh, "%s/fresh.dgn", dir);
    snprintf(missing, sizeof missing, "%s/missing.csv", dir);
    const char *some[] = {in, missing};
    ck_assert_int_eq(dgn_output_check(other, some, 2), DGN_OK);
    ck_assert_int_eq(dgn_output_check(fresh, some, 2), DGN_OK);
    ck_assert_int_eq(dgn_output_check(fresh, NULL, 0), DGN_OK);
    ck_assert_uint_eq(entries(dir), 4); /* the check creates nothing */
    free(in);
    free(other);
    clean(dir);
}
END_TEST

/* Never written over, never opened (a FIFO would block: alarm ends a hang
 * as a failure), left as they were, and the message says what is there. */
START_TEST(devices_fifos_and_directories_are_refused)
{
    alarm(10);
    char dir[] = "/tmp/dgn-fileio-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char fifo[64], sub[64];
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    snprintf(sub, sizeof sub, "%s/sub", dir);
    ck_assert_int_eq(mkfifo(fifo, 0644), 0);
    ck_assert_int_eq(mkdir(sub, 0755), 0);
    const char *paths[] = {"/dev/null", fifo, sub};
    const char *kinds[] = {"a character device", "a FIFO", "a directory"};
    for (size_t i = 0; i < 3; i++) {
        ck_assert_int_eq(dgn_output_check(paths[i], NULL, 0), DGN_E_INVALID);
        ck_assert_error_has(paths[i], kinds[i], "not a regular file");
        ck_assert_int_eq(dgn_write_file_atomic(paths[i], new_text, strlen(new_text)),
                         DGN_E_INVALID);
        ck_assert_error_has(paths[i], kinds[i], "not a regular file");
    }
    struct stat st;
    ck_assert_int_eq(lstat(fifo, &st), 0);
    ck_assert(S_ISFIFO(st.st_mode));
    ck_assert_int_eq(lstat(sub, &st), 0);
    ck_assert(S_ISDIR(st.st_mode));
    ck_assert_int_eq(lstat("/dev/null", &st), 0);
    ck_assert(S_ISCHR(st.st_mode));
    ck_assert_uint_eq(entries(dir), 2);
    ck_assert_uint_eq(entries(sub), 0);
    /* A model save follows the same rules. */
    dgn_model *m = small_model();
    ck_assert_int_eq(dgn_model_save(m, "/dev/null"), DGN_E_INVALID);
    dgn_model_destroy(m);
    clean(dir);
    alarm(0);
}
END_TEST

START_TEST(output_check_names_missing_directories)
{
    char dir[] = "/tmp/dgn-fileio-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[96], dangling[64];
    snprintf(path, sizeof path, "%s/no-such-dir/m.dgn", dir);
    ck_assert_int_eq(dgn_output_check(path, NULL, 0), DGN_E_IO);
    ck_assert_error_has(path, "no-such-dir", "No such file or directory");
    ck_assert_int_eq(dgn_write_file_atomic(path, new_text, 3), DGN_E_IO);
    ck_assert_error_has(path, "no-such-dir");
    snprintf(dangling, sizeof dangling, "%s/dangling", dir);
    ck_assert_int_eq(symlink("nowhere", dangling), 0);
    ck_assert_int_eq(dgn_output_check(dangling, NULL, 0), DGN_E_INVALID);
    ck_assert_error_has(dangling, "symbolic link to a missing file");
    ck_assert_int_eq(dgn_output_check("", NULL, 0), DGN_E_INVALID);
    clean(dir);
}
END_TEST

static unsigned mode_of(const char *path)
{
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    return (unsigned)(st.st_mode & 07777);
}

START_TEST(modes_are_kept_or_follow_the_umask)
{
    char dir[] = "/tmp/dgn-fileio-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    mode_t old = umask(077);
    char *kept = put(dir, "kept.dgn", "old\n");
    const unsigned modes[] = {0644, 0664, 0600, 0444};
    for (size_t i = 0; i < 4; i++) {
        ck_assert_int_eq(chmod(kept, modes[i]), 0);
        for (int kind = DGN_TEMP_AUTO; kind <= DGN_TEMP_NAMED; kind++) {
            ck_assert_int_eq(dgn_write_file_with(kept, new_text, strlen(new_text),
                                                 (dgn_temp_kind)kind), DGN_OK);
            ck_assert_uint_eq(mode_of(kept), modes[i]);
        }
    }
    const unsigned masks[] = {022, 027, 002};
    for (size_t i = 0; i < 3; i++) {
        umask(masks[i]);
        for (int kind = DGN_TEMP_AUTO; kind <= DGN_TEMP_NAMED; kind++) {
            char fresh[64];
            snprintf(fresh, sizeof fresh, "%s/fresh-%zu-%d", dir, i, kind);
            ck_assert_int_eq(dgn_write_file_with(fresh, new_text, strlen(new_text),
                                                 (dgn_temp_kind)kind), DGN_OK);
            ck_assert_uint_eq(mode_of(fresh), 0666 & ~masks[i]);
        }
    }
    /* A model save too. */
    umask(022);
    char model[64];
    snprintf(model, sizeof model, "%s/m.dgn", dir);
    dgn_model *m = small_model();
    ck_assert_int_eq(dgn_model_save(m, model), DGN_OK);
    ck_assert_uint_eq(mode_of(model), 0644);
    ck_assert_int_eq(chmod(model, 0640), 0);
    ck_assert_int_eq(dgn_model_save(m, model), DGN_OK);
    ck_assert_uint_eq(mode_of(model), 0640);
    dgn_model_destroy(m);
    umask(old);
    free(kept);
    clean(dir);
}
END_TEST

START_TEST(a_symlink_keeps_pointing_at_the_new_file)
{
    char dir[] = "/tmp/dgn-fileio-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *real = put(dir, "real.csv", "old\n");
    char link_path[64];
    snprintf(link_path, sizeof link_path, "%s/link.csv", dir);
    ck_assert_int_eq(symlink("real.csv", link_path), 0);
    ck_assert_int_eq(dgn_write_file_atomic(link_path, new_text, strlen(new_text)), DGN_OK);
    struct stat st;
    ck_assert_int_eq(lstat(link_path, &st), 0);
    ck_assert(S_ISLNK(st.st_mode));
    size_t len;
    char *text = read_all(real, &len);
    ck_assert_str_eq(text, new_text);
    free(text);
    ck_assert_uint_eq(entries(dir), 2);
    free(real);
    clean(dir);
}
END_TEST

/* Both kinds of temporary file, a new path and an existing one, each
 * injected failure: the old content (or no file) stays, nothing else. */
START_TEST(every_temporary_kind_cleans_up)
{
    char dir[] = "/tmp/dgn-fileio-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *old = put(dir, "old.csv", "old\n");
    char fresh[64];
    snprintf(fresh, sizeof fresh, "%s/fresh.csv", dir);
    for (int kind = DGN_TEMP_AUTO; kind <= DGN_TEMP_NAMED; kind++)
        for (int how = SHORT_THEN_FULL; how <= LINK_FAILS; how++)
            for (int existing = 0; existing < 2; existing++) {
                const char *path = existing ? old : fresh;
                writes = 0;
                inject = how;
                dgn_status st = dgn_write_file_with(path, new_text, strlen(new_text),
                                                    (dgn_temp_kind)kind);
                inject = NONE;
                /* Some steps are not taken on some paths: a new file under
                 * AUTO is linked, not renamed; NAMED never links. */
                int skipped = (how == LINK_FAILS && kind == DGN_TEMP_NAMED)
                              || (how == RENAME_FAILS && kind == DGN_TEMP_AUTO && !existing);
                if (skipped) {
                    ck_assert_int_eq(st, DGN_OK);
                    unlink(fresh);
                    if (existing) {
                        FILE *f = fopen(old, "w");
                        fputs("old\n", f);
                        fclose(f);
                    }
                } else {
                    ck_assert_msg(st == DGN_E_IO, "kind %d, failure %d, existing %d: %s",
                                  kind, how, existing, dgn_last_error());
                    ck_assert_error_has(path, "unchanged");
                }
                ck_assert_uint_eq(entries(dir), 1);
                size_t len;
                char *text = read_all(old, &len);
                ck_assert_str_eq(text, "old\n");
                free(text);
            }
    free(old);
    clean(dir);
}
END_TEST

/* While the bytes are written the temporary file has no name, so a
 * process killed then leaves nothing behind (Linux O_TMPFILE; a file
 * system without it falls back to a named file and this test skips). */
START_TEST(no_temporary_name_while_writing)
{
    char dir[] = "/tmp/dgn-fileio-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    int probe = open(dir, O_TMPFILE | O_WRONLY, 0600);
    if (probe < 0) {
        clean(dir);
        return;
    }
    close(probe);
    char *old = put(dir, "m.dgn", "old\n");
    char fresh[64];
    snprintf(fresh, sizeof fresh, "%s/fresh.dgn", dir);
    dgn_model *m = small_model();
    count_dir = dir;
    counted = 99;
    inject = COUNT;
    ck_assert_int_eq(dgn_model_save(m, old), DGN_OK);
    inject = NONE;
    ck_assert_uint_eq(counted, 1);
    counted = 99;
    inject = COUNT;
    ck_assert_int_eq(dgn_model_save(m, fresh), DGN_OK);
    inject = NONE;
    ck_assert_uint_eq(counted, 1);
    ck_assert_uint_eq(entries(dir), 2);
    dgn_model_destroy(m);
    free(old);
    clean(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fileio");
    TCase *tc = tcase_create("atomic");
    tcase_add_test(tc, failed_model_save_keeps_the_old_file);
    tcase_add_test(tc, failed_results_write_keeps_the_old_file);
    tcase_add_test(tc, every_temporary_kind_cleans_up);
    tcase_add_test(tc, no_temporary_name_while_writing);
    suite_add_tcase(s, tc);
    TCase *rules = tcase_create("rules");
    tcase_add_test(rules, output_same_as_an_input_is_refused);
    tcase_add_test(rules, devices_fifos_and_directories_are_refused);
    tcase_add_test(rules, output_check_names_missing_directories);
    tcase_add_test(rules, modes_are_kept_or_follow_the_umask);
    tcase_add_test(rules, a_symlink_keeps_pointing_at_the_new_file);
    suite_add_tcase(s, rules);
    return run_suite(s);
}
