/* Separate handles on separate threads at the same time give the results
 * of running one after another, bit for bit. */
#include <pthread.h>
#include <stdlib.h>

#include "dgn.h"
#include "testutil.h"

enum { N = 400, C = 4, K = 8, TOP = 5, WORKERS = 4 };

typedef struct job {
    uint64_t seed;
    dgn_status status;
    char error[256];
    double auc;
    float scores[N];     /* validation scores of the trained model */
    uint64_t top[TOP];   /* screening result */
    float top_score[TOP];
} job;

#define TRY(call)                                                           \
    do {                                                                    \
        if ((j->status = (call)) != DGN_OK) {                               \
            snprintf(j->error, sizeof j->error, "%s", dgn_last_error());    \
            goto done;                                                      \
        }                                                                   \
    } while (0)

static void *work(void *arg)
{
    job *j = arg;
    static const char *const names[] = {"SiO2", "Na2O", "CaO", "Al2O3"};
    double *x = malloc(N * C * sizeof *x), *y = malloc(N * sizeof *y);
    if (x && y)
        toy_compositions(x, y, N, C, 9, 1, 1000);
    dgn_dataset *ds = NULL;
    dgn_model *m = NULL;
    dgn_trainer *t = NULL;
    dgn_screener *sc = NULL;
    float *xv = malloc(N * C * sizeof *xv), centre[K];
    dgn_dataset_config dc;
    dgn_model_config mc;
    dgn_trainer_config tc;
    dgn_screener_config scfg;
    TRY(dgn_dataset_config_init(&dc, DGN_DATASET_CONFIG_VERSION));
    dc.lo = 300;
    dc.hi = 600;
    dc.seed = j->seed;
    TRY(dgn_dataset_from_arrays(&ds, x, y, N, C, names, "T", &dc));
    TRY(dgn_model_config_init(&mc, DGN_MODEL_CONFIG_VERSION));
    mc.n_components = C;
    mc.embed_dim = 8;
    mc.hidden = 16;
    mc.out_dim = K;
    mc.max_batch = 96;
    mc.seed = j->seed;
    TRY(dgn_model_create(&m, &mc));
    TRY(dgn_trainer_config_init(&tc, DGN_TRAINER_CONFIG_VERSION));
    tc.batch = 32;
    tc.epochs = 3;
    TRY(dgn_trainer_create(&t, m, ds, &tc));
    dgn_epoch_report best;
    TRY(dgn_trainer_fit(t, &best));
    j->auc = best.auc;
    TRY(dgn_trainer_centre(t, centre, K));
    size_t nv = dgn_dataset_n_rows(ds, DGN_SPLIT_VALID);
    TRY(dgn_dataset_features(ds, DGN_SPLIT_VALID, DGN_VIEW_ZSCORE, xv, N * C));
    TRY(dgn_model_scores(j->scores, N, m, centre, xv, nv));
    TRY(dgn_screener_config_init(&scfg, DGN_SCREENER_CONFIG_VERSION));
    scfg.top_k = TOP;
    TRY(dgn_screener_create(&sc, m, &scfg));
    TRY(dgn_screener_set_grid(sc, "step=5, SiO2, Na2O, CaO=0:30, Al2O3=0:20"));
    TRY(dgn_screener_run(sc));
    for (size_t r = 0; r < TOP; r++)
        TRY(dgn_screener_result(sc, r, &j->top[r], &j->top_score[r], NULL, 0));
done:
    dgn_screener_destroy(sc);
    dgn_trainer_destroy(t);
    dgn_model_destroy(m);
    dgn_dataset_destroy(ds);
    free(xv);
    free(x);
    free(y);
    return NULL;
}

START_TEST(threads_match_sequential_runs)
{
    job *seq = calloc(WORKERS, sizeof *seq), *par = calloc(WORKERS, sizeof *par);
    for (int i = 0; i < WORKERS; i++) {
        seq[i].seed = par[i].seed = 100 + (uint64_t)i;
        work(&seq[i]);
        ck_assert_msg(seq[i].status == DGN_OK, "%s", seq[i].error);
    }
    pthread_t th[WORKERS];
    for (int i = 0; i < WORKERS; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, work, &par[i]), 0);
    for (int i = 0; i < WORKERS; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < WORKERS; i++) {
        ck_assert_msg(par[i].status == DGN_OK, "%s", par[i].error);
        ck_assert_double_eq(par[i].auc, seq[i].auc);
        ck_assert_int_eq(memcmp(par[i].scores, seq[i].scores, sizeof seq[i].scores), 0);
        ck_assert_int_eq(memcmp(par[i].top, seq[i].top, sizeof seq[i].top), 0);
        ck_assert_int_eq(memcmp(par[i].top_score, seq[i].top_score, sizeof seq[i].top_score), 0);
    }
    /* Different seeds really are different work. */
    ck_assert_int_ne(memcmp(seq[0].scores, seq[1].scores, sizeof seq[0].scores), 0);
    free(seq);
    free(par);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("concurrency");
    TCase *tc = tcase_create("threads");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, threads_match_sequential_runs);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
