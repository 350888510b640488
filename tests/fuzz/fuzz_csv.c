/* libFuzzer target: the CSV dataset loader, fed through a memory file. */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dgn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz.csv", 0);
    if (fd < 0)
        return 0;
    if (size && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
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
