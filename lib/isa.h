/* Private: builds of vectorised loops for AVX2 and AVX-512, chosen per
 * call. */
#ifndef DGN_LIB_ISA_H
#define DGN_LIB_ISA_H

/* Loops that the compiler vectorises are also built for AVX2 (with FMA)
 * and AVX-512, and each call runs the best build the CPU has. Built as ISO
 * C, without FMA contraction, every build performs the same IEEE
 * operations in the same order and gives bit-identical results. A kernel
 * that wants fused multiply-adds says so with fmaf: one rounding, which
 * the AVX builds do in an instruction and the baseline build in libm
 * (exact, but slow), so the builds still agree. (Not GCC's target_clones:
 * its resolvers ignore -fvisibility=hidden and would export internals.)
 *
 * Usage: a `static DGN_ALWAYS_INLINE void NAME_body(PARAMS)`, then
 * DGN_ISA_BUILDS(NAME, (PARAMS), (ARGS)), then DGN_ISA_CALL(NAME, (ARGS)).
 * Helpers the body calls must be DGN_ALWAYS_INLINE too, or they run the
 * baseline build. */
#define DGN_ALWAYS_INLINE inline __attribute__((always_inline))

#ifdef DGN_HAVE_ISA_DISPATCH
#define DGN_ISA_BUILDS(name, params, args)                                   \
    __attribute__((target("avx512f"))) static void name##_avx512 params     \
    {                                                                        \
        name##_body args;                                                    \
    }                                                                        \
    __attribute__((target("avx2,fma"))) static void name##_avx2 params      \
    {                                                                        \
        name##_body args;                                                    \
    }
#define DGN_ISA_CALL(name, args)                                             \
    do {                                                                     \
        __builtin_cpu_init();                                                \
        if (__builtin_cpu_supports("avx512f"))                               \
            name##_avx512 args;                                              \
        else if (__builtin_cpu_supports("avx2") &&                           \
                 __builtin_cpu_supports("fma"))                              \
            name##_avx2 args;                                                \
        else                                                                 \
            name##_body args;                                                \
    } while (0)
#else
#define DGN_ISA_BUILDS(name, params, args)
#define DGN_ISA_CALL(name, args) name##_body args
#endif

#endif
