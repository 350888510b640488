/* libFuzzer target: the model and ensemble file loaders, fed through a
 * memory file. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "dgn.h"
#include "memfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    int fd = memfile(data, size, path, sizeof path);
    if (fd < 0)
        return 0;
    dgn_model *m = NULL;
    if (dgn_model_load(&m, path) == DGN_OK) {
        /* A loaded model must also run. */
        dgn_model_config cfg;
        dgn_model_get_config(m, &cfg);
        float *x = calloc(cfg.n_components, sizeof *x), *f = calloc(cfg.out_dim, sizeof *f);
        if (x && f)
            dgn_model_forward(m, f, cfg.out_dim, x, 1);
        free(x);
        free(f);
        dgn_model_destroy(m);
    }
    dgn_ensemble *e = NULL;
    if (dgn_ensemble_load(&e, path) == DGN_OK) {
        /* And a loaded ensemble must score. */
        dgn_model_config cfg;
        dgn_model_get_config(dgn_ensemble_member(e, 0), &cfg);
        float *x = calloc(cfg.n_components, sizeof *x), mean, spread;
        if (x)
            dgn_ensemble_scores(&mean, 1, &spread, 1, e, x, 1);
        free(x);
        dgn_ensemble_destroy(e);
    }
    close(fd);
    return 0;
}
