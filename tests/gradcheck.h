/* Central-difference gradient checking for the layer and model suites. */
#ifndef DGN_GRADCHECK_H
#define DGN_GRADCHECK_H

#include <math.h>
#include <stdio.h>
#include <stddef.h>

/* Scalar loss of the current parameter values, accumulated in double. */
typedef double (*gc_loss_fn)(void *ctx);

typedef struct gc_result {
    size_t checked, failed, skipped;
    double worst; /* largest |numeric − analytic| / (atol + rtol·scale) */
} gc_result;

/* Compare grad[i] with the central difference (L(p+h) − L(p−h))/2h for up
 * to max_checks elements of p spread over the tensor. A ReLU kink within
 * h of the point spoils the difference quotient, so an element is skipped,
 * not judged, when the estimates at h and h/2 disagree, or when its
 * one-sided slopes differ by more than its error (a kink right at the
 * point). A wrong gradient at a smooth point passes neither test. */
static inline gc_result gradcheck(gc_loss_fn loss, void *ctx, float *p, const float *grad,
                                  size_t n, size_t max_checks, float h)
{
    const double rtol = 1e-2;
    double gmax = 0;
    for (size_t i = 0; i < n; i++)
        gmax = fmax(gmax, fabs(grad[i]));
    /* The absolute floor covers float rounding in the forward pass, which
     * the difference quotient magnifies by 1/h. */
    double atol = 1e-3 * gmax + 1e-4;
    double l0 = loss(ctx);
    gc_result r = {0, 0, 0, 0};
    size_t stride = n > max_checks ? n / max_checks : 1;
    for (size_t i = 0; i < n; i += stride) {
        float saved = p[i];
        double est[2], gap[2];
        for (int s = 0; s < 2; s++) {
            float hs = s ? h / 2 : h;
            p[i] = saved + hs;
            double up = loss(ctx);
            p[i] = saved - hs;
            double down = loss(ctx);
            /* Divide by the step actually taken in float. */
            double step = (double)(saved + hs) - (double)(saved - hs);
            est[s] = (up - down) / step;
            /* Forward minus backward slope: ~h·L'' where smooth, the jump
             * in slope at a kink whatever the step. */
            gap[s] = fabs((up - l0) - (l0 - down)) / (step / 2);
        }
        p[i] = saved;
        /* A kink between h/2 and h spoils only the wider estimate; a wrong
         * gradient is far from both. */
        double err_abs = fmin(fabs(est[0] - grad[i]), fabs(est[1] - grad[i]));
        double tol_est = atol + rtol * fmax(fabs(est[0]), fabs(est[1]));
        int kink_near = fabs(est[0] - est[1]) > 3 * tol_est;
        int kink_at = gap[1] > 0.75 * gap[0] && gap[1] > fmax(err_abs, tol_est);
        if (kink_near || kink_at) {
            r.skipped++;
            continue;
        }
        r.checked++;
        double err = err_abs / (atol + rtol * fmax(fabs(est[1]), fabs(grad[i])));
        r.worst = fmax(r.worst, err);
        if (err > 1) {
            if (r.failed < 3)
                fprintf(stderr, "  element %zu: numeric %.6g, analytic %.6g\n", i,
                        est[0], (double)grad[i]);
            r.failed++;
        }
    }
    return r;
}

/* The verdict: nothing failed and kinks stayed rare. */
static inline int gradcheck_ok(gc_result r)
{
    return r.failed == 0 && r.checked > 0 && r.skipped * 10 <= r.checked + r.skipped;
}

/* Deterministic fill for test inputs: uniform in [-scale, scale]. */
static inline void fill_uniform(float *v, size_t n, unsigned *state, float scale)
{
    for (size_t i = 0; i < n; i++) {
        *state = *state * 1664525u + 1013904223u;
        v[i] = scale * (2.0f * (float)(*state >> 8) / 16777216.0f - 1.0f);
    }
}

#endif
