/* libFuzzer target: a candidate CSV through the screener (header check,
 * column matching, units, the sum window, scoring and results), fed
 * through a memory file; then a failing setter, whose results must be gone. */
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "dgn.h"
#include "memfile.h"

enum { C = 4 };

/* An untrained model with a context, built once. */
static dgn_model *make_model(void)
{
    static const double x[] = {0.5, 0.2, 0.2, 0.1, 0.6, 0.1, 0.2, 0.1,
                               0.4, 0.3, 0.2, 0.1, 0.7, 0.1, 0.1, 0.1};
    static const double y[] = {550, 450, 520, 650};
    const char *names[] = {"W% SiO2", "W% Al2O3", "W% Na2O", "W% CaO"};
    dgn_dataset_config dc;
    dgn_dataset_config_init(&dc, DGN_DATASET_CONFIG_VERSION);
    dc.lo = 500;
    dc.hi = 600;
    dc.valid_fraction = 0;
    dgn_dataset *ds = NULL;
    if (dgn_dataset_from_arrays(&ds, x, y, 4, C, names, "Tg", &dc) != DGN_OK)
        return NULL;
    dgn_model_config mc;
    dgn_model_config_init(&mc, DGN_MODEL_CONFIG_VERSION);
    mc.n_components = C;
    mc.embed_dim = 4;
    mc.hidden = 8;
    mc.out_dim = 4;
    mc.max_batch = 16;
    dgn_model *m = NULL;
    float centre[4];
    if (dgn_model_create(&m, &mc) != DGN_OK || dgn_class_centre(centre, 4, m, ds) != DGN_OK ||
        dgn_model_attach_context(m, ds, centre, NULL) != DGN_OK) {
        dgn_model_destroy(m);
        m = NULL;
    }
    dgn_dataset_destroy(ds);
    return m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static dgn_model *model;
    if (!model && !(model = make_model()))
        return 0;
    char path[64];
    int fd = memfile(data, size, path, sizeof path);
    if (fd < 0)
        return 0;
    dgn_screener_config cfg;
    dgn_screener_config_init(&cfg, DGN_SCREENER_CONFIG_VERSION);
    cfg.top_k = 3;
    cfg.shard_count = 1 + size % 2; /* one shard, or the first of two */
    dgn_screener *s = NULL;
    if (dgn_screener_create(&s, model, &cfg) == DGN_OK) {
        if (dgn_screener_set_candidates(s, path) == DGN_OK) {
            uint64_t total, mine, index;
            dgn_screener_count(s, &total, &mine);
            if (total == 0 || mine > total)
                __builtin_trap();
            (void)dgn_screener_n_rejected(s);
            if (dgn_screener_run(s) == DGN_OK)
                for (size_t r = 0; r < dgn_screener_n_results(s); r++) {
                    double pct[C];
                    float score;
                    if (dgn_screener_result(s, r, &index, &score, pct, C) != DGN_OK ||
                        index >= total + dgn_screener_n_rejected(s))
                        __builtin_trap();
                }
        }
        /* A failing setter leaves nothing behind to read. */
        if (dgn_screener_set_grid(s, "step=5, Fe2O3") == DGN_OK ||
            dgn_screener_n_results(s) != 0)
            __builtin_trap();
        dgn_screener_destroy(s);
    }
    close(fd);
    return 0;
}
