#include "dgn/version.h"

#include "lanes.h"

const char *dgn_version_string(void)
{
    return DGN_VERSION_STRING;
}

unsigned int dgn_version_number(void)
{
    return DGN_VERSION_NUMBER;
}

const char *dgn_kernel_build(void)
{
    switch (dgn_lanes_build(DGN_LANES_BEST)) {
    case DGN_LANES_AVX512:
        return "AVX-512";
    case DGN_LANES_AVX2:
        return "AVX2+FMA";
    default:
        return "portable";
    }
}
