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

/* *out: the rows in rank order (caller frees), and the class counts; with
 * both set, a missing class is DGN_E_DATA. */
static dgn_status rank_rows(ranked **out, size_t *n_pos, const char *fn, const float *scores,
                            const int32_t *labels, size_t n, int both)
{
    *out = NULL;
    if (!scores || !labels || n == 0)
        return dgn_fail(DGN_E_INVALID, "%s: need scores and labels for n >= 1 rows", fn);
    ranked *r = malloc(n * sizeof *r);
    if (!r)
        return dgn_fail_nomem("ranking");
    *n_pos = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(scores[i])) {
            free(r);
            return dgn_fail(DGN_E_NONFINITE, "%s: score %zu is %g", fn, i, (double)scores[i]);
        }
        r[i] = (ranked){scores[i], labels[i] != 0, i};
        *n_pos += labels[i] != 0;
    }
    if (both && (*n_pos == 0 || *n_pos == n)) {
        free(r);
        return dgn_fail(DGN_E_DATA, "%s: needs both classes (%zu positive, %zu negative)",
                        fn, *n_pos, n - *n_pos);
    }
    qsort(r, n, sizeof *r, by_rank);
    *out = r;
    return DGN_OK;
}

/* The end of the tie group that starts at row i, and its class counts. */
static size_t tie_group(const ranked *r, size_t i, size_t n, size_t *pos, size_t *neg)
{
    size_t j = i;
    for (; j < n && r[j].score == r[i].score; j++) {
        *pos += r[j].label;
        *neg += !r[j].label;
    }
    return j;
}

/* A metric of the rows in rank order, into out. */
typedef void (*ranked_metric)(void *out, const ranked *r, size_t n, size_t n_pos);

/* Ranks the rows (rank_rows), then runs metric on them. */
static dgn_status on_ranks(ranked_metric metric, void *out, const char *fn,
                           const float *scores, const int32_t *labels, size_t n, int both)
{
    ranked *r;
    size_t n_pos = 0;
    dgn_status st = rank_rows(&r, &n_pos, fn, scores, labels, n, both);
    if (st == DGN_OK)
        metric(out, r, n, n_pos);
    free(r);
    return st;
}

static void auc_of(void *out, const ranked *r, size_t n, size_t n_pos)
{
    size_t n_neg = n - n_pos;
    /* Walk from the best score: each positive beats the negatives below
     * it; within a tie group, half of each positive-negative pair. */
    double wins = 0;
    size_t neg_above = 0;
    for (size_t i = 0; i < n;) {
        size_t pos = 0, neg = 0, j = tie_group(r, i, n, &pos, &neg);
        wins += (double)pos * (double)(n_neg - neg_above - neg) + 0.5 * (double)pos * (double)neg;
        neg_above += neg;
        i = j;
    }
    *(double *)out = wins / ((double)n_pos * (double)n_neg);
}

dgn_status dgn_auc(double *auc, const float *scores, const int32_t *labels, size_t n)
{
    if (!auc)
        return dgn_fail(DGN_E_INVALID, "dgn_auc: auc is NULL");
    return on_ranks(auc_of, auc, "dgn_auc", scores, labels, n, 1);
}

typedef struct precision_out {
    double *precision;
    size_t k;
} precision_out;

static void precision_of(void *out, const ranked *r, size_t n, size_t n_pos)
{
    (void)n_pos;
    precision_out *p = out;
    size_t k = p->k > n ? n : p->k, hits = 0;
    for (size_t i = 0; i < k; i++)
        hits += r[i].label;
    *p->precision = (double)hits / (double)k;
}

dgn_status dgn_precision_at_k(double *precision, const float *scores,
                              const int32_t *labels, size_t n, size_t k)
{
    if (!precision || k == 0)
        return dgn_fail(DGN_E_INVALID, "dgn_precision_at_k: need precision and k >= 1");
    precision_out p = {precision, k};
    return on_ranks(precision_of, &p, "dgn_precision_at_k", scores, labels, n, 0);
}

typedef struct roc_out {
    float *fpr, *tpr;
    size_t *n_points;
} roc_out;

static void roc_of(void *out, const ranked *r, size_t n, size_t n_pos)
{
    roc_out *o = out;
    size_t n_neg = n - n_pos;
    size_t m = 0, tp = 0, fp = 0;
    o->fpr[m] = o->tpr[m] = 0;
    m++;
    for (size_t i = 0; i < n;) {
        size_t j = tie_group(r, i, n, &tp, &fp);
        o->fpr[m] = (float)((double)fp / (double)n_neg);
        o->tpr[m] = (float)((double)tp / (double)n_pos);
        m++;
        i = j;
    }
    *o->n_points = m;
}

dgn_status dgn_roc_curve(float *fpr, float *tpr, size_t cap, size_t *n_points,
                         const float *scores, const int32_t *labels, size_t n)
{
    if (!fpr || !tpr || !n_points)
        return dgn_fail(DGN_E_INVALID, "dgn_roc_curve: NULL argument");
    *n_points = 0;
    if (cap < n + 1)
        return dgn_fail(DGN_E_SHAPE, "dgn_roc_curve: capacity %zu < %zu points", cap, n + 1);
    roc_out o = {fpr, tpr, n_points};
    return on_ranks(roc_of, &o, "dgn_roc_curve", scores, labels, n, 1);
}
