#include "dgn/metrics.h"

#include <math.h>
#include <stdlib.h>

#include "error.h"

typedef struct ranked {
    float score;
    int32_t label;
    size_t index;
} ranked;

/* Best first; ties by index. */
static int by_rank(const void *pa, const void *pb)
{
    const ranked *a = pa, *b = pb;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return (a->index > b->index) - (a->index < b->index);
}

/* The rows in rank order, and the class counts; NULL on failure. */
static ranked *rank_rows(const char *fn, const float *scores, const int32_t *labels,
                         size_t n, size_t *n_pos, dgn_status *st)
{
    *st = DGN_OK;
    if (!scores || !labels || n == 0) {
        *st = dgn_fail(DGN_E_INVALID, "%s: need scores and labels for n >= 1 rows", fn);
        return NULL;
    }
    ranked *r = malloc(n * sizeof *r);
    if (!r) {
        *st = dgn_fail_nomem("ranking");
        return NULL;
    }
    *n_pos = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(scores[i])) {
            free(r);
            *st = dgn_fail(DGN_E_NONFINITE, "%s: score %zu is %g", fn, i, (double)scores[i]);
            return NULL;
        }
        r[i] = (ranked){scores[i], labels[i] != 0, i};
        *n_pos += labels[i] != 0;
    }
    qsort(r, n, sizeof *r, by_rank);
    return r;
}

dgn_status dgn_auc(double *auc, const float *scores, const int32_t *labels, size_t n)
{
    if (!auc)
        return dgn_fail(DGN_E_INVALID, "dgn_auc: auc is NULL");
    size_t n_pos;
    dgn_status st;
    ranked *r = rank_rows("dgn_auc", scores, labels, n, &n_pos, &st);
    if (!r)
        return st;
    size_t n_neg = n - n_pos;
    if (n_pos == 0 || n_neg == 0) {
        free(r);
        return dgn_fail(DGN_E_DATA, "dgn_auc: needs both classes (%zu positive, "
                        "%zu negative)", n_pos, n_neg);
    }
    /* Walk from the best score: each positive beats the negatives below
     * it; within a tie group, half of each positive-negative pair. */
    double wins = 0;
    size_t neg_above = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i, pos = 0, neg = 0;
        while (j < n && r[j].score == r[i].score) {
            pos += r[j].label;
            neg += !r[j].label;
            j++;
        }
        wins += (double)pos * (double)(n_neg - neg_above - neg) + 0.5 * (double)pos * (double)neg;
        neg_above += neg;
        i = j;
    }
    *auc = wins / ((double)n_pos * (double)n_neg);
    free(r);
    return DGN_OK;
}

dgn_status dgn_precision_at_k(double *precision, const float *scores,
                              const int32_t *labels, size_t n, size_t k)
{
    if (!precision || k == 0)
        return dgn_fail(DGN_E_INVALID, "dgn_precision_at_k: need precision and k >= 1");
    size_t n_pos;
    dgn_status st;
    ranked *r = rank_rows("dgn_precision_at_k", scores, labels, n, &n_pos, &st);
    if (!r)
        return st;
    if (k > n)
        k = n;
    size_t hits = 0;
    for (size_t i = 0; i < k; i++)
        hits += r[i].label;
    *precision = (double)hits / (double)k;
    free(r);
    return DGN_OK;
}

dgn_status dgn_roc_curve(float *fpr, float *tpr, size_t cap, size_t *n_points,
                         const float *scores, const int32_t *labels, size_t n)
{
    if (!fpr || !tpr || !n_points)
        return dgn_fail(DGN_E_INVALID, "dgn_roc_curve: NULL argument");
    *n_points = 0;
    if (cap < n + 1)
        return dgn_fail(DGN_E_SHAPE, "dgn_roc_curve: capacity %zu < %zu points", cap, n + 1);
    size_t n_pos;
    dgn_status st;
    ranked *r = rank_rows("dgn_roc_curve", scores, labels, n, &n_pos, &st);
    if (!r)
        return st;
    size_t n_neg = n - n_pos;
    if (n_pos == 0 || n_neg == 0) {
        free(r);
        return dgn_fail(DGN_E_DATA, "dgn_roc_curve: needs both classes");
    }
    size_t m = 0, tp = 0, fp = 0;
    fpr[m] = tpr[m] = 0;
    m++;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && r[j].score == r[i].score) {
            tp += r[j].label;
            fp += !r[j].label;
            j++;
        }
        fpr[m] = (float)((double)fp / (double)n_neg);
        tpr[m] = (float)((double)tp / (double)n_pos);
        m++;
        i = j;
    }
    *n_points = m;
    free(r);
    return DGN_OK;
}
