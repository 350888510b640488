/* The version has one source (meson.build's project version): the header
 * macros and the linked library agree with it. The kernel build named is
 * the one the kernels run, and one this CPU has. */
#include <stdio.h>
#include <string.h>

#include "dgn.h"
#include "lanes.h"
#include "testutil.h"

START_TEST(version_agrees_with_header)
{
    char expect[64];
    snprintf(expect, sizeof expect, "%d.%d.%d", DGN_VERSION_MAJOR, DGN_VERSION_MINOR,
             DGN_VERSION_PATCH);
    ck_assert_str_eq(dgn_version_string(), expect);
    ck_assert_str_eq(dgn_version_string(), DGN_VERSION_STRING);
    ck_assert_uint_eq(dgn_version_number(), DGN_VERSION_NUMBER);
    ck_assert_uint_eq(dgn_version_number(), ((unsigned)DGN_VERSION_MAJOR << 16) |
                                                ((unsigned)DGN_VERSION_MINOR << 8) |
                                                (unsigned)DGN_VERSION_PATCH);
}
END_TEST

/* The `version : '…'` line of the project() call in meson.build. */
START_TEST(version_is_meson_projects)
{
    FILE *f = fopen(DGN_SOURCE_DIR "/meson.build", "r");
    ck_assert_ptr_nonnull(f);
    char line[256], found[64] = "";
    while (!found[0] && fgets(line, sizeof line, f)) {
        const char *v = strstr(line, "version : '");
        if (v && !strstr(line, "meson_version"))
            sscanf(v + strlen("version : '"), "%63[^']", found);
    }
    fclose(f);
    ck_assert_str_eq(found, dgn_version_string());
}
END_TEST

START_TEST(kernel_build_names_the_running_build)
{
    const char *k = dgn_kernel_build();
    ck_assert_ptr_nonnull(k);
    ck_assert_ptr_eq(k, dgn_kernel_build()); /* static storage */
    switch (dgn_lanes_build(DGN_LANES_BEST)) {
    case DGN_LANES_AVX512:
        ck_assert_str_eq(k, "AVX-512");
        break;
    case DGN_LANES_AVX2:
        ck_assert_str_eq(k, "AVX2+FMA");
        break;
    default:
        ck_assert_str_eq(k, "portable");
    }
    /* Never a build the CPU lacks, asked of the CPU directly. */
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    if (!strcmp(k, "AVX-512"))
        ck_assert(__builtin_cpu_supports("avx512f"));
    if (!strcmp(k, "AVX2+FMA"))
        ck_assert(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                  !__builtin_cpu_supports("avx512f"));
#else
    ck_assert_str_eq(k, "portable");
#endif
}
END_TEST

START_TEST(cpu_build_is_at_least_the_running_build)
{
    const char *order[] = {"portable", "AVX2+FMA", "AVX-512"};
    int run = -1, cpu = -1;
    for (int i = 0; i < 3; i++) {
        if (!strcmp(dgn_kernel_build(), order[i]))
            run = i;
        if (!strcmp(dgn_cpu_kernel_build(), order[i]))
            cpu = i;
    }
    ck_assert_int_ge(run, 0);
    ck_assert_int_ge(cpu, run);
    /* A build the library dispatched to, the CPU runs; and where the
     * library has the CPU's best build, it runs that one. */
    static const int builds[] = {DGN_LANES_PORTABLE, DGN_LANES_AVX2, DGN_LANES_AVX512};
    if (dgn_lanes_build(builds[cpu]) == builds[cpu])
        ck_assert_int_eq(cpu, run);
    ck_assert_ptr_eq(dgn_cpu_kernel_build(), dgn_cpu_kernel_build());
}
END_TEST

START_TEST(runtime_describe_says_what_runs)
{
    char buf[128], want[128];
    ck_assert_int_eq(dgn_runtime_describe(buf, sizeof buf), DGN_OK);
    snprintf(want, sizeof want, "libdgn %s; kernels %s (CPU best %s); BLAS none",
             dgn_version_string(), dgn_kernel_build(), dgn_cpu_kernel_build());
    ck_assert_msg(!strncmp(buf, want, strlen(want)), "got \"%s\"", buf);
    /* Too small a buffer is an error that says how much is needed. */
    char tiny[8];
    ck_assert_int_eq(dgn_runtime_describe(tiny, sizeof tiny), DGN_E_INVALID);
    ck_assert_ptr_nonnull(strstr(dgn_last_error(), "bytes"));
    ck_assert_int_eq(dgn_runtime_describe(NULL, 0), DGN_E_INVALID);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("version");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, version_agrees_with_header);
    tcase_add_test(tc, version_is_meson_projects);
    tcase_add_test(tc, kernel_build_names_the_running_build);
    tcase_add_test(tc, cpu_build_is_at_least_the_running_build);
    tcase_add_test(tc, runtime_describe_says_what_runs);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
