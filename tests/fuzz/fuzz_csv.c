/* libFuzzer target: the CSV dataset loader, fed through a memory file. */
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "dgn.h"
#include "memfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    int fd = memfile(data, size, path, sizeof path);
    if (fd < 0)
        return 0;
    dgn_dataset_config cfg;
    dgn_dataset_config_init(&cfg, DGN_DATASET_CONFIG_VERSION);
    cfg.lo = 500;
    cfg.hi = 600;
    cfg.skip_bad_rows = size % 2; /* both policies */
    dgn_dataset *ds = NULL;
    if (dgn_dataset_load_csv(&ds, path, &cfg) == DGN_OK) {
        float x[3 * 4 * 64];
        size_t n, c = dgn_dataset_n_components(ds);
        if (c <= 64)
            dgn_dataset_next_triplets(ds, x, sizeof x / sizeof *x, NULL, 0, 4, &n);
        dgn_dataset_destroy(ds);
    }
    close(fd);
    return 0;
}
