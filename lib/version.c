#include "dgn/version.h"

const char *dgn_version_string(void)
{
    return DGN_VERSION_STRING;
}

unsigned int dgn_version_number(void)
{
    return DGN_VERSION_NUMBER;
}
