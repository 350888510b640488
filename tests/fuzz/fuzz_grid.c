/* libFuzzer target: the screening grid spec parser and the lattice walk. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "grid.h"

static const char *const names[] = {"W% SiO2", "W% Al2O3", "W% B2O3", "W% Na2O",
                                    "W% K2O", "W% CaO", "W% MgO", "W% ZnO"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *spec = malloc(size + 1);
    if (!spec)
        return 0;
    memcpy(spec, data, size);
    spec[size] = '\0';
    dgn_grid g;
    if (dgn_grid_parse(&g, spec, names, 8) == DGN_OK) {
        int64_t units[8];
        double pct[8];
        dgn_grid_unrank(&g, g.count - 1, units);
        dgn_grid_unrank(&g, g.count / 2, units);
        for (int i = 0; i < 64 && dgn_grid_next(&g, units); i++)
            dgn_grid_percent(&g, units, pct);
        dgn_grid_free(&g);
    }
    free(spec);
    return 0;
}
