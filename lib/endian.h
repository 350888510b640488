/* Private: explicit little-endian encoding, whatever the host order.
 *
 * dgn_put_<t>le(p, x) writes x at p, lowest byte first, and
 * dgn_get_<t>le(p) reads it back, for t = u32, u64, f32 and f64. p needs
 * no alignment. A float travels as the unsigned integer of its width that
 * holds its bits, so all four are one pattern, written once. */
#ifndef DGN_LIB_ENDIAN_H
#define DGN_LIB_ENDIAN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

_Static_assert(sizeof(float) == 4 && sizeof(double) == 8, "IEEE binary32 and binary64");

#define DGN_LE(t, T, U)                                                        \
    static inline void dgn_put_##t##le(unsigned char *p, T x)                  \
    {                                                                          \
        U u;                                                                   \
        memcpy(&u, &x, sizeof u);                                              \
        for (size_t i = 0; i < sizeof u; i++)                                  \
            p[i] = (unsigned char)(u >> (8 * i));                              \
    }                                                                          \
    static inline T dgn_get_##t##le(const unsigned char *p)                    \
    {                                                                          \
        U u = 0;                                                               \
        for (size_t i = 0; i < sizeof u; i++)                                  \
            u |= (U)p[i] << (8 * i);                                           \
        T x;                                                                   \
        memcpy(&x, &u, sizeof x);                                              \
        return x;                                                              \
    }

DGN_LE(u32, uint32_t, uint32_t)
DGN_LE(u64, uint64_t, uint64_t)
DGN_LE(f32, float, uint32_t)
DGN_LE(f64, double, uint64_t)

#undef DGN_LE

#endif
