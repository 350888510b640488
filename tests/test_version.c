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

int main(void)
{
    Suite *s = suite_create("version");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, version_agrees_with_header);
    tcase_add_test(tc, version_is_meson_projects);
    tcase_add_test(tc, kernel_build_names_the_running_build);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
