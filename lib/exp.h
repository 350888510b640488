/* Private: the library's exp, inlined into each ISA build of its
 * callers (lib/isa.h). */
#ifndef DGN_LIB_EXP_H
#define DGN_LIB_EXP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "isa.h"

/* e^x for x <= 0, in place: Cephes' expf (range reduction by ln 2 in two
 * parts, degree-6 polynomial, about 1 ulp) written without branches or
 * calls so that the compiler vectorises it; the softmax spends most of
 * its time here. Arguments below -87.3 give 2^-126 instead of 0, which a
 * softmax cannot tell apart; positive arguments give 1. */
static DGN_ALWAYS_INLINE void dgn_exp_nonpositive_inline(float *x, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        /* Clamped into [-87.3, 0] so the exponent bits stay in range;
         * NaN is carried through below, not converted. */
        float v = x[i] > -87.3f ? x[i] : -87.3f;
        v = v < 0.0f ? v : 0.0f;
        /* round(v·log2 e), by the 1.5·2^23 trick: no rounding call */
        float k = (v * 1.44269504f + 12582912.0f) - 12582912.0f;
        float r = v - k * 0.693359375f + k * 2.12194440e-4f;
        float p = 1.9875691500e-4f;
        p = p * r + 1.3981999507e-3f;
        p = p * r + 8.3334519073e-3f;
        p = p * r + 4.1665795894e-2f;
        p = p * r + 1.6666665459e-1f;
        p = p * r + 5.0000001201e-1f;
        p = p * r * r + r + 1.0f;
        int32_t bits = ((int32_t)k + 127) << 23;
        float scale;
        memcpy(&scale, &bits, sizeof scale);
        x[i] = x[i] == x[i] ? p * scale : x[i];
    }
}

#endif
