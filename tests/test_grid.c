/* The screening lattice: counts, order, bounds, bad specs, and specs parsed
 * on several threads at once. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "dgn.h"
#include "grid.h"
#include "testutil.h"

static const char *const names[] = {"W% SiO2", "W% Al2O3", "W% B2O3", "W% Na2O",
                                    "W% K2O", "W% CaO", "W% MgO"};
enum { NC = 7 };

static uint64_t binomial(uint64_t n, uint64_t k)
{
    uint64_t r = 1;
    for (uint64_t i = 1; i <= k; i++)
        r = r * (n - k + i) / i;
    return r;
}

START_TEST(unbounded_count_is_closed_form)
{
    /* Compositions of T steps into m parts: C(T + m − 1, m − 1). */
    const char *specs[] = {"step=10,SiO2,Al2O3,B2O3", "step=5,SiO2,Al2O3,B2O3,Na2O,K2O",
                           "step=1, SiO2, Al2O3, B2O3, Na2O, K2O, CaO, MgO",
                           "step=25,SiO2", "step=2.5,SiO2,CaO"};
    const uint64_t T[] = {10, 20, 100, 4, 40}, m[] = {3, 5, 7, 1, 2};
    for (int i = 0; i < 5; i++) {
        dgn_grid g;
        ck_assert_msg(dgn_grid_parse(&g, specs[i], names, NC) == DGN_OK, "%s", dgn_last_error());
        ck_assert_uint_eq(g.count, binomial(T[i] + m[i] - 1, m[i] - 1));
        dgn_grid_free(&g);
    }
}
END_TEST

START_TEST(stream_equals_unrank_and_respects_bounds)
{
    dgn_grid g;
    ck_assert_int_eq(dgn_grid_parse(&g, "step=5, SiO2=40:80, Al2O3=0:20, B2O3=5:25, Na2O=0:25, CaO",
                                    names, NC), DGN_OK);
    int64_t a[5], b[5];
    double pct[NC];
    uint64_t n = 0, brute = 0;
    dgn_grid_unrank(&g, 0, a);
    do {
        dgn_grid_unrank(&g, n, b);
        ck_assert_int_eq(memcmp(a, b, sizeof a), 0);
        dgn_grid_percent(&g, a, pct);
        double sum = 0;
        for (int j = 0; j < NC; j++)
            sum += pct[j];
        ck_assert_double_eq_tol(sum, 100, 1e-9);
        ck_assert(pct[0] >= 40 && pct[0] <= 80);
        ck_assert(pct[1] <= 20 && pct[2] >= 5 && pct[2] <= 25 && pct[3] <= 25);
        ck_assert_double_eq(pct[4], 0); /* K2O not named: 0 */
        n++;
    } while (dgn_grid_next(&g, a));
    ck_assert_uint_eq(n, g.count);
    /* Brute force over the bounds. */
    for (int s = 8; s <= 16; s++)
        for (int al = 0; al <= 4; al++)
            for (int bo = 1; bo <= 5; bo++)
                for (int na = 0; na <= 5; na++) {
                    int ca = 20 - s - al - bo - na;
                    brute += ca >= 0;
                }
    ck_assert_uint_eq(g.count, brute);
    dgn_grid_free(&g);
}
END_TEST

START_TEST(paper_scale_count)
{
    /* Twelve oxides at 10 % steps: C(21, 11) candidates. */
    static const char *const twelve[] = {"SiO2", "Al2O3", "B2O3", "Na2O", "K2O", "Li2O",
                                         "ZnO", "SrO", "CaO", "MgO", "TiO2", "P2O5"};
    dgn_grid g;
    ck_assert_int_eq(dgn_grid_parse(&g, "step=10,SiO2,Al2O3,B2O3,Na2O,K2O,Li2O,ZnO,SrO,CaO,"
                                    "MgO,TiO2,P2O5", twelve, 12), DGN_OK);
    ck_assert_uint_eq(g.count, binomial(21, 11));
    int64_t u[12];
    dgn_grid_unrank(&g, g.count - 1, u);
    ck_assert_int_eq(u[0], 10); /* the last candidate is 100 % SiO2 */
    ck_assert(!dgn_grid_next(&g, u));
    dgn_grid_free(&g);
}
END_TEST

static void bad(const char *spec, dgn_status st, const char *fragment)
{
    dgn_grid g;
    ck_assert_int_eq(dgn_grid_parse(&g, spec, names, NC), st);
    ck_assert_error_has(fragment);
}

START_TEST(bad_specs_are_named)
{
    bad("step=5,SiO2,Fe2O3", DGN_E_INVALID, "no component named \"Fe2O3\"");
    bad("step=5,SiO2=60:40,CaO", DGN_E_FORMAT, "minimum 60 is above maximum 40");
    bad("step=5,SiO2=0:30,CaO=0:30", DGN_E_INVALID, "cannot sum to 100");
    bad("step=5,SiO2=60:80,CaO=50:60", DGN_E_INVALID, "cannot sum to 100");
    bad("step=0,SiO2,CaO", DGN_E_FORMAT, "not a positive number");
    bad("step=-5,SiO2,CaO", DGN_E_FORMAT, "not a positive number");
    bad("step=3,SiO2,CaO", DGN_E_FORMAT, "does not divide 100");
    bad("step=5,SiO2=33:70,CaO", DGN_E_FORMAT, "not a multiple of the step");
    bad("SiO2,CaO", DGN_E_FORMAT, "no step");
    bad("step=5,SiO2,SiO2", DGN_E_FORMAT, "named twice");
    bad("step=5,SiO2=abc:4,CaO", DGN_E_FORMAT, "\"abc\" is not a number");
    bad("step=5,SiO2=10", DGN_E_FORMAT, "expected MIN:MAX");
    bad("step=0.0001,SiO2,CaO", DGN_E_INVALID, "finer than");
    /* 7 components at 0.001 %: far beyond 2^64 candidates. */
    bad("step=0.001,SiO2,Al2O3,B2O3,Na2O,K2O,CaO,MgO", DGN_E_INVALID, "64-bit");
}
END_TEST

static long max_rss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

START_TEST(table_size_is_checked_before_allocating)
{
    /* 2,000 components at the finest step: the counting table would be
     * 2,001 x 100,001 entries (1.6 GB), and was built before the check. */
    enum { N = 2000 };
    char **many = malloc(N * sizeof *many);
    size_t cap = 16 + N * 8, len = 0;
    char *spec = malloc(cap);
    len += (size_t)snprintf(spec, cap, "step=0.001");
    for (int i = 0; i < N; i++) {
        many[i] = malloc(8);
        snprintf(many[i], 8, "c%d", i + 1);
        len += (size_t)snprintf(spec + len, cap - len, ",%s", many[i]);
    }
    long before = max_rss_kib();
    dgn_grid g;
    ck_assert_int_eq(dgn_grid_parse(&g, spec, (const char *const *)many, N), DGN_E_INVALID);
    ck_assert_error_has("2000 components at step 0.001", "counting table",
                        "coarser step");
    ck_assert_msg(max_rss_kib() - before < 100 * 1024, "peak memory grew by %ld KiB",
                  max_rss_kib() - before);
    /* The same components at step 1 fit the table; the count does not. */
    len = (size_t)snprintf(spec, cap, "step=1");
    for (int i = 0; i < N; i++)
        len += (size_t)snprintf(spec + len, cap - len, ",%s", many[i]);
    ck_assert_int_eq(dgn_grid_parse(&g, spec, (const char *const *)many, N), DGN_E_INVALID);
    ck_assert_error_has("64-bit");
    for (int i = 0; i < N; i++)
        free(many[i]);
    free(many);
    free(spec);
}
END_TEST

/* Specs parsed on several threads at once each give their own lattice:
 * the parse keeps no state between calls (it once split the spec with
 * strtok, whose position is shared by the whole process). */
typedef struct parse_job {
    const char *spec;
    uint64_t count; /* the spec's count, parsed alone */
    int wrong;
} parse_job;

static void *parse_many(void *arg)
{
    parse_job *j = arg;
    for (int r = 0; r < 3000; r++) {
        dgn_grid g;
        if (dgn_grid_parse(&g, j->spec, names, NC) != DGN_OK) {
            j->wrong++;
            continue;
        }
        j->wrong += g.count != j->count;
        dgn_grid_free(&g);
    }
    return NULL;
}

START_TEST(specs_parse_alike_on_many_threads)
{
    parse_job jobs[] = {{"step=5, SiO2, Al2O3=0:20, B2O3, Na2O=0:10", 0, 0},
                        {"step=10,SiO2,CaO,MgO,K2O,Na2O", 0, 0},
                        {"step=2.5, SiO2=40:80, B2O3, Na2O", 0, 0},
                        {"step=20,SiO2,Al2O3,B2O3,Na2O,K2O,CaO,MgO", 0, 0}};
    enum { J = sizeof jobs / sizeof jobs[0] };
    for (int i = 0; i < J; i++) {
        dgn_grid g;
        ck_assert_msg(dgn_grid_parse(&g, jobs[i].spec, names, NC) == DGN_OK, "%s",
                      dgn_last_error());
        jobs[i].count = g.count;
        dgn_grid_free(&g);
    }
    pthread_t th[J];
    for (int i = 0; i < J; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, parse_many, &jobs[i]), 0);
    for (int i = 0; i < J; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < J; i++)
        ck_assert_msg(jobs[i].wrong == 0, "%s: %d of 3000 parses wrong", jobs[i].spec,
                      jobs[i].wrong);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("grid");
    TCase *tc = tcase_create("lattice");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, unbounded_count_is_closed_form);
    tcase_add_test(tc, stream_equals_unrank_and_respects_bounds);
    tcase_add_test(tc, paper_scale_count);
    tcase_add_test(tc, bad_specs_are_named);
    tcase_add_test(tc, table_size_is_checked_before_allocating);
    tcase_add_test(tc, specs_parse_alike_on_many_threads);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
