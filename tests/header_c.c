/* Compiles <dgn.h> as strict C11 (-Wall -Wextra -pedantic -Werror, set in
 * tests/meson.build) and checks the linked library matches the header. */
#include <dgn.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    dgn_dataset_config cfg;
    if (dgn_dataset_config_init(&cfg, DGN_DATASET_CONFIG_VERSION) != DGN_OK)
        return 1;
    if (strcmp(dgn_version_string(), DGN_VERSION_STRING) != 0) {
        fprintf(stderr, "header %s, library %s\n", DGN_VERSION_STRING, dgn_version_string());
        return 1;
    }
    return 0;
}
