/* Out-of-tree consumer: built by .ci/run against the installed library
 * through `pkg-config --cflags --libs dgn`. */
#include <dgn.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    printf("libdgn %s (C consumer)\n", dgn_version_string());
    return strcmp(dgn_version_string(), DGN_VERSION_STRING) != 0;
}
