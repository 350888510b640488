#include "dgn/version.h"

#include <stdio.h>

#include "error.h"
#include "lanes.h"

const char *dgn_version_string(void)
{
    return DGN_VERSION_STRING;
}

unsigned int dgn_version_number(void)
{
    return DGN_VERSION_NUMBER;
}

static const char *build_name(int build)
{
    switch (build) {
    case DGN_LANES_AVX512:
        return "AVX-512";
    case DGN_LANES_AVX2:
        return "AVX2+FMA";
    default:
        return "portable";
    }
}

const char *dgn_kernel_build(void)
{
    return build_name(dgn_lanes_build(DGN_LANES_BEST));
}

const char *dgn_cpu_kernel_build(void)
{
    /* Asked of the CPU directly, so that a build without ISA dispatch can
     * still say what it leaves unused. */
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        return build_name(DGN_LANES_AVX512);
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return build_name(DGN_LANES_AVX2);
#endif
    return build_name(DGN_LANES_PORTABLE);
}

dgn_status dgn_runtime_describe(char *buf, size_t cap)
{
    if (!buf)
        return dgn_fail(DGN_E_INVALID, "dgn_runtime_describe: buf is NULL");
    int n = snprintf(buf, cap, "libdgn %s; kernels %s (CPU best %s); BLAS none (own GEMM kernels)",
                     dgn_version_string(), dgn_kernel_build(), dgn_cpu_kernel_build());
    if (n < 0 || (size_t)n >= cap)
        return dgn_fail(DGN_E_INVALID,
                        "dgn_runtime_describe: the text needs %d bytes, buf holds %zu", n + 1,
                        cap);
    return DGN_OK;
}
