/* Private: explicit little-endian encoding, whatever the host order. */
#ifndef DGN_LIB_ENDIAN_H
#define DGN_LIB_ENDIAN_H

#include <stdint.h>
#include <string.h>

static inline void dgn_put_u32le(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline void dgn_put_u64le(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint32_t dgn_get_u32le(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static inline uint64_t dgn_get_u64le(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static inline void dgn_put_f32le(unsigned char *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    dgn_put_u32le(p, u);
}

static inline float dgn_get_f32le(const unsigned char *p)
{
    uint32_t u = dgn_get_u32le(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline void dgn_put_f64le(unsigned char *p, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    dgn_put_u64le(p, u);
}

static inline double dgn_get_f64le(const unsigned char *p)
{
    uint64_t u = dgn_get_u64le(p);
    double d;
    memcpy(&d, &u, 8);
    return d;
}

#endif
