#include "triplets.h"

#include <stdlib.h>

#include "dgn/dataset.h"
#include "error.h"

struct dgn_triplets {
    const double *x;        /* [n][c], borrowed */
    const int32_t *label;   /* [n], borrowed */
    const double *mean, *std; /* [c], borrowed */
    size_t n, c;
    double sigma;
    int balance;
    dgn_rng rng;
    size_t *order;          /* [n] anchor order of this epoch */
    size_t cursor;
    size_t *by_class[2];    /* rows with label 0 / 1 */
    size_t n_class[2];
};

void dgn_triplets_destroy(dgn_triplets *tr)
{
    if (!tr)
        return;
    free(tr->order);
    free(tr->by_class[0]);
    free(tr->by_class[1]);
    free(tr);
}

dgn_status dgn_triplets_create(dgn_triplets **out, const double *x, const int32_t *label,
                               size_t n, size_t c, const double *mean, const double *std,
                               double sigma, int balance_anchors, const dgn_rng *rng)
{
    dgn_triplets *tr = calloc(1, sizeof *tr);
    if (!tr)
        return dgn_fail_nomem("triplet index");
    *tr = (dgn_triplets){.x = x, .label = label, .mean = mean, .std = std, .n = n, .c = c,
                         .sigma = sigma, .rng = *rng};
    for (size_t i = 0; i < n; i++)
        tr->n_class[label[i] != 0]++;
    tr->order = malloc(n * sizeof *tr->order);
    tr->by_class[0] = malloc(tr->n_class[0] * sizeof(size_t));
    tr->by_class[1] = malloc(tr->n_class[1] * sizeof(size_t));
    if (!tr->order || !tr->by_class[0] || !tr->by_class[1]) {
        dgn_triplets_destroy(tr);
        return dgn_fail_nomem("triplet index");
    }
    /* A rare class between two others is where the plain epoch fails:
     * its features stay diffuse and the class centre points at the
     * majority (docs/training.md). */
    size_t minority = tr->n_class[0] < tr->n_class[1] ? tr->n_class[0] : tr->n_class[1];
    tr->balance = balance_anchors == DGN_BALANCE_AUTO ? minority * 5 < n : balance_anchors;
    size_t fill[2] = {0, 0};
    for (size_t i = 0; i < n; i++) {
        tr->order[i] = i;
        tr->by_class[label[i]][fill[label[i]]++] = i;
    }
    dgn_triplets_shuffle(tr);
    *out = tr;
    return DGN_OK;
}

int dgn_triplets_balanced(const dgn_triplets *tr)
{
    return tr->balance;
}

dgn_triplets_mark dgn_triplets_here(const dgn_triplets *tr)
{
    return (dgn_triplets_mark){tr->rng, tr->cursor};
}

void dgn_triplets_rewind(dgn_triplets *tr, const dgn_triplets_mark *mark)
{
    tr->rng = mark->rng;
    tr->cursor = mark->cursor;
}

void dgn_triplets_shuffle(dgn_triplets *tr)
{
    if (tr->balance) {
        /* Alternate classes from a random start; rows drawn with replacement. */
        size_t first = (size_t)dgn_rng_below(&tr->rng, 2);
        for (size_t k = 0; k < tr->n; k++) {
            int cls = (int)((k + first) % 2);
            tr->order[k] = tr->by_class[cls][dgn_rng_below(&tr->rng, tr->n_class[cls])];
        }
    } else {
        dgn_rng_shuffle(&tr->rng, tr->order, tr->n);
    }
    tr->cursor = 0;
}

/* Row i augmented (fresh noise per component) and z-scored into out.
 * Noise cannot move an absent component, so none is drawn for it: most
 * of a glass's components are absent, and the draws are the cost. */
static void augment_row(dgn_triplets *tr, size_t i, float *out)
{
    size_t c = tr->c;
    for (size_t j = 0; j < c; j++) {
        double v = tr->x[i * c + j];
        if (tr->sigma > 0 && v != 0)
            v *= 1.0 + tr->sigma * dgn_rng_normal(&tr->rng);
        out[j] = (float)((v - tr->mean[j]) / tr->std[j]);
    }
}

/* A random row of class `cls`, other than `avoid` when the class has
 * another row to offer, in two halves: draw() takes the generator's
 * numbers and pick() reads the class's row list, so that a triplet's two
 * draws come first and the misses of its two reads overlap (the same
 * numbers in the same order as one call after the other). */
typedef struct slot_draw {
    size_t k;
    int avoiding; /* k < n − 1 indexes the list without `avoid`'s slot */
} slot_draw;

static slot_draw draw(dgn_triplets *tr, int cls, size_t avoid)
{
    size_t n = tr->n_class[cls];
    if (n < 2 || tr->label[avoid] != cls)
        return (slot_draw){(size_t)dgn_rng_below(&tr->rng, n), 0};
    return (slot_draw){(size_t)dgn_rng_below(&tr->rng, n - 1), 1};
}

static size_t pick(const dgn_triplets *tr, int cls, size_t avoid, slot_draw d)
{
    const size_t *rows = tr->by_class[cls];
    return d.avoiding && rows[d.k] == avoid ? rows[tr->n_class[cls] - 1] : rows[d.k];
}

/* Ask for row i's lines ahead of its use: the rows are drawn at random
 * from megabytes of them, and the misses were most of the sampler's time
 * (this changes no draw). */
static void prefetch_row(const dgn_triplets *tr, size_t i)
{
    const char *r = (const char *)(tr->x + i * tr->c), *end = (const char *)(r + tr->c * 8);
    for (; r < end; r += 64)
        __builtin_prefetch(r);
    __builtin_prefetch(end - 1);
}

/* An anchor's row and its label, which decides its positive's class. */
static void prefetch_anchor(const dgn_triplets *tr, size_t i)
{
    prefetch_row(tr, i);
    __builtin_prefetch(tr->label + i);
}

#define PREFETCH_AHEAD 4

size_t dgn_triplets_next(dgn_triplets *tr, float *x, size_t *rows, size_t max_anchors)
{
    size_t m = tr->n - tr->cursor, c = tr->c;
    if (m > max_anchors)
        m = max_anchors;
    for (size_t k = 0; k < m && k < PREFETCH_AHEAD; k++)
        prefetch_anchor(tr, tr->order[tr->cursor + k]);
    for (size_t k = 0; k < m; k++) {
        size_t a = tr->order[tr->cursor + k];
        if (k + PREFETCH_AHEAD < m)
            prefetch_anchor(tr, tr->order[tr->cursor + k + PREFETCH_AHEAD]);
        int cls = tr->label[a];
        slot_draw dp = draw(tr, cls, a), dq = draw(tr, !cls, a);
        size_t p = pick(tr, cls, a, dp), q = pick(tr, !cls, a, dq);
        prefetch_row(tr, p);
        prefetch_row(tr, q);
        augment_row(tr, a, x + k * c);
        augment_row(tr, p, x + (m + k) * c);
        augment_row(tr, q, x + (2 * m + k) * c);
        if (rows) {
            rows[k] = a;
            rows[m + k] = p;
            rows[2 * m + k] = q;
        }
    }
    tr->cursor += m;
    return m;
}
