/* The centre score run through the model as it is: features, the class
 * centre of a dataset, scores and a split's AUC (include/dgn/scoring.h).
 * The screener's folded network is lib/screen_eval.c; the context a model
 * stores is lib/model_context.c. */
#include "dgn/scoring.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "centre.h"
#include "dgn/metrics.h"
#include "error.h"
#include "model_internal.h"

void dgn_centre_scores(float *scores, const float *centre, const float *f, size_t B,
                       size_t k)
{
    for (size_t b = 0; b < B; b++) {
        double dot = 0;
        for (size_t j = 0; j < k; j++)
            dot += (double)centre[j] * f[b * k + j];
        scores[b] = (float)dot;
    }
}

dgn_status dgn_model_encode(dgn_model *m, float *f, size_t f_cap, const float *x, size_t n)
{
    if (!m || !f || !x)
        return dgn_fail(DGN_E_INVALID, "dgn_model_encode: NULL argument");
    size_t k = dgn_model_cfg(m)->out_dim;
    if (f_cap / k < n)
        return dgn_fail(DGN_E_SHAPE, "dgn_model_encode: f capacity %zu < %zu rows x %zu",
                        f_cap, n, k);
    return dgn_model_forward_rows(m, f, x, n, 0, "dgn_model_encode");
}

dgn_status dgn_model_scores(float *scores, size_t cap, dgn_model *m, const float *centre,
                            const float *x, size_t n)
{
    if (!scores || !m || !centre || !x)
        return dgn_fail(DGN_E_INVALID, "dgn_model_scores: NULL argument");
    if (cap < n)
        return dgn_fail(DGN_E_SHAPE, "dgn_model_scores: capacity %zu < %zu rows", cap, n);
    size_t c = dgn_model_cfg(m)->n_components, k = dgn_model_cfg(m)->out_dim,
           chunk = dgn_model_rows_chunk(m);
    /* A NaN centre would give every row the score NaN, silently. */
    for (size_t j = 0; j < k; j++)
        if (!isfinite(centre[j]))
            return dgn_fail(DGN_E_NONFINITE, "dgn_model_scores: centre[%zu] is %g", j,
                            (double)centre[j]);
    float *f = malloc(chunk * k * sizeof *f);
    if (!f)
        return dgn_fail_nomem("feature batch");
    dgn_model_set_training(m, 0);
    dgn_status st = DGN_OK;
    for (size_t i = 0; i < n && st == DGN_OK; i += chunk) {
        size_t b = n - i < chunk ? n - i : chunk;
        st = dgn_model_forward_rows(m, f, x + i * c, b, i, "dgn_model_scores");
        if (st == DGN_OK)
            dgn_centre_scores(scores + i, centre, f, b, k);
    }
    free(f);
    return st;
}

/* Training rows (z-scored) and their labels; caller frees. */
static dgn_status split_rows(const dgn_dataset *ds, dgn_split split, float **x,
                             int32_t **y, size_t *n)
{
    size_t c = dgn_dataset_n_components(ds);
    *n = dgn_dataset_n_rows(ds, split);
    *x = malloc((*n ? *n : 1) * c * sizeof **x);
    *y = malloc((*n ? *n : 1) * sizeof **y);
    if (!*x || !*y) {
        free(*x);
        free(*y);
        return dgn_fail_nomem("split rows");
    }
    dgn_status st = dgn_dataset_features(ds, split, DGN_VIEW_ZSCORE, *x, *n * c);
    if (st == DGN_OK)
        st = dgn_dataset_labels(ds, split, *y, *n);
    if (st != DGN_OK) {
        free(*x);
        free(*y);
    }
    return st;
}

dgn_status dgn_check_model_data(const dgn_model *m, const dgn_dataset *ds, const char *fn)
{
    if (!m || !ds)
        return dgn_fail(DGN_E_INVALID, "%s: NULL argument", fn);
    if (dgn_dataset_n_components(ds) != dgn_model_cfg(m)->n_components)
        return dgn_fail(DGN_E_SHAPE, "%s: the dataset has %zu components, the model %zu",
                        fn, dgn_dataset_n_components(ds), dgn_model_cfg(m)->n_components);
    return DGN_OK;
}

/* Mean features [k] of the training targets and, with neg, of the other
 * training rows, in evaluation mode. Only the rows needed go through the
 * network, packed to the front so they pass in full batches; the targets
 * are summed in file order either way, so pos has the same bits with or
 * without neg. */
static dgn_status class_means(dgn_model *m, const dgn_dataset *ds, float *pos, float *neg,
                              const char *fn)
{
    size_t k = dgn_model_cfg(m)->out_dim, c = dgn_model_cfg(m)->n_components,
           chunk = dgn_model_rows_chunk(m), n;
    float *x, *f = malloc(chunk * k * sizeof *f);
    int32_t *y;
    if (!f)
        return dgn_fail_nomem("feature batch");
    dgn_status st = split_rows(ds, DGN_SPLIT_TRAIN, &x, &y, &n);
    if (st != DGN_OK) {
        free(f);
        return st;
    }
    size_t used = 0, count[2] = {0, 0};
    for (size_t i = 0; i < n; i++)
        if (y[i] || neg) {
            memmove(x + used * c, x + i * c, c * sizeof *x);
            y[used++] = y[i];
        }
    double *sum = calloc(2 * k, sizeof *sum); /* [2][k]: others, targets */
    if (!sum)
        st = dgn_fail_nomem("centre");
    dgn_model_set_training(m, 0);
    for (size_t i = 0; st == DGN_OK && i < used; i += chunk) {
        size_t b = used - i < chunk ? used - i : chunk;
        st = dgn_model_forward_rows(m, f, x + i * c, b, i, fn);
        for (size_t r = 0; st == DGN_OK && r < b; r++) {
            int cls = y[i + r] != 0;
            count[cls]++;
            for (size_t j = 0; j < k; j++)
                sum[cls * k + j] += f[r * k + j];
        }
    }
    for (size_t j = 0; st == DGN_OK && j < k; j++) {
        pos[j] = (float)(sum[k + j] / (double)count[1]);
        if (neg)
            neg[j] = (float)(sum[j] / (double)count[0]);
    }
    free(sum);
    free(f);
    free(x);
    free(y);
    return st;
}

/* The checks both centre calls make; *k receives out_dim. */
static dgn_status centre_args(dgn_model *m, const dgn_dataset *ds, const float *out, size_t cap,
                              const char *fn, size_t *k)
{
    dgn_status st = dgn_check_model_data(m, ds, fn);
    if (st != DGN_OK)
        return st;
    *k = dgn_model_cfg(m)->out_dim;
    if (!out || cap < *k)
        return dgn_fail(DGN_E_SHAPE, "%s: capacity %zu < %zu features", fn, cap, *k);
    return DGN_OK;
}

dgn_status dgn_class_centre(float *centre, size_t cap, dgn_model *m, const dgn_dataset *ds)
{
    size_t k;
    dgn_status st = centre_args(m, ds, centre, cap, "dgn_class_centre", &k);
    return st != DGN_OK ? st : class_means(m, ds, centre, NULL, "dgn_class_centre");
}

dgn_status dgn_contrast_centre(float *w, size_t cap, dgn_model *m, const dgn_dataset *ds)
{
    size_t k;
    dgn_status st = centre_args(m, ds, w, cap, "dgn_contrast_centre", &k);
    if (st != DGN_OK)
        return st;
    float *neg = malloc(k * sizeof *neg);
    if (!neg)
        return dgn_fail_nomem("centre");
    st = class_means(m, ds, w, neg, "dgn_contrast_centre");
    for (size_t j = 0; st == DGN_OK && j < k; j++)
        w[j] -= neg[j];
    free(neg);
    return st;
}

dgn_status dgn_evaluate_split(double *auc, double *patk, size_t k_top, dgn_model *m,
                              const float *centre, const dgn_dataset *ds, dgn_split split)
{
    dgn_status st = dgn_check_model_data(m, ds, "dgn_evaluate_split");
    if (st != DGN_OK)
        return st;
    if (!auc || !patk || !centre)
        return dgn_fail(DGN_E_INVALID, "dgn_evaluate_split: NULL argument");
    float *x, *s;
    int32_t *y;
    size_t n;
    if ((st = split_rows(ds, split, &x, &y, &n)) != DGN_OK)
        return st;
    if (n == 0) {
        free(x);
        free(y);
        return dgn_fail(DGN_E_DATA, "dgn_evaluate_split: the split has no rows");
    }
    s = malloc(n * sizeof *s);
    st = s ? dgn_model_scores(s, n, m, centre, x, n) : dgn_fail_nomem("scores");
    if (st == DGN_OK)
        st = dgn_auc(auc, s, y, n);
    if (st == DGN_OK)
        st = dgn_precision_at_k(patk, s, y, n, k_top);
    free(s);
    free(x);
    free(y);
    return st;
}

