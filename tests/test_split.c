/* The private split: sizes of the parts, whole compositions together,
 * and no draw at all when nothing is held out. */
#include <string.h>

#include "dgn.h"
#include "split.h"
#include "testutil.h"

/* n rows of one component; with repeat, rows come in identical pairs. */
static dgn_table rows(size_t n, int repeat)
{
    dgn_table t;
    double *x = malloc(n * sizeof *x), *y = calloc(n, sizeof *y);
    for (size_t i = 0; i < n; i++)
        x[i] = (double)(repeat ? i / 2 : i);
    ck_assert_int_eq(dgn_table_from_arrays(&t, x, y, n, 1, NULL, NULL, 0), DGN_OK);
    free(x);
    free(y);
    return t;
}

static size_t count(const unsigned char *part, size_t n, int which)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += part[i] == which;
    return k;
}

START_TEST(parts_have_the_asked_sizes)
{
    dgn_table t = rows(100, 0);
    unsigned char part[100];
    dgn_rng rng;
    dgn_rng_seed(&rng, 1);
    ck_assert_int_eq(dgn_split_rows(&t, 0.2, 0.1, 0, &rng, part), DGN_OK);
    ck_assert_uint_eq(count(part, 100, DGN_PART_VALID), 20);
    ck_assert_uint_eq(count(part, 100, DGN_PART_TEST), 10);
    ck_assert_uint_eq(count(part, 100, DGN_PART_TRAIN), 70);
    /* Nothing held out: every row trains and the generator is untouched. */
    dgn_rng before = rng;
    ck_assert_int_eq(dgn_split_rows(&t, 0, 0, 0, &rng, part), DGN_OK);
    ck_assert_uint_eq(count(part, 100, DGN_PART_TRAIN), 100);
    ck_assert_uint_eq(dgn_rng_next(&rng), dgn_rng_next(&before));
    /* At least one row always trains. */
    ck_assert_int_eq(dgn_split_rows(&t, 0.999, 0, 0, &rng, part), DGN_OK);
    ck_assert_uint_eq(count(part, 100, DGN_PART_TRAIN), 1);
    dgn_table_free(&t);
}
END_TEST

START_TEST(identical_rows_share_a_part)
{
    dgn_table t = rows(200, 1);
    unsigned char part[200];
    dgn_rng rng;
    dgn_rng_seed(&rng, 7);
    ck_assert_int_eq(dgn_split_rows(&t, 0.25, 0.25, 1, &rng, part), DGN_OK);
    for (size_t i = 0; i < 200; i += 2)
        ck_assert_int_eq(part[i], part[i + 1]);
    ck_assert_uint_ge(count(part, 200, DGN_PART_VALID), 50);
    ck_assert_uint_ge(count(part, 200, DGN_PART_TEST), 50);
    dgn_table_free(&t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("split");
    TCase *tc = tcase_create("split");
    tcase_add_test(tc, parts_have_the_asked_sizes);
    tcase_add_test(tc, identical_rows_share_a_part);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
