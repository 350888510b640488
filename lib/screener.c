#include "dgn/screener.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dgn/scoring.h"
#include "ensemble.h"
#include "error.h"
#include "fileio.h"
#include "grid.h"
#include "model_internal.h"
#include "screen_eval.h"
#include "table.h"

typedef struct hit {
    uint64_t index;
    float score;  /* the members' mean */
    float spread; /* their standard deviation; 0 with one member */
} hit;

/* a ranks before b: higher score, then lower index. */
static int better(hit a, hit b)
{
    return a.score > b.score || (a.score == b.score && a.index < b.index);
}

/* Why the workers stop claiming blocks before the last one. */
typedef enum stop_reason {
    STOP_NONE = 0,
    STOP_FAILED,    /* a worker's block failed; its status says why */
    STOP_CANCELLED  /* the progress callback asked */
} stop_reason;

typedef struct worker {
    struct dgn_screener *s;
    dgn_screen_eval_work *eval;    /* [n_members] */
    float *x, *scores, *spreads;   /* [block][c], [block], [block] */
    float *member_scores;          /* [n_members][block] */
    int64_t *units;    /* [n_sel] */
    double *percent;   /* [c] */
    hit *heap;         /* [top_k], the worst kept at heap[0] */
    size_t heap_n;
    dgn_status status;
    char error[512];
    pthread_t thread;
} worker;

struct dgn_screener {
    dgn_screener_config cfg;
    size_t c, block;
    char **names;
    double *mean, *std;
    size_t n_members;
    dgn_screen_eval *eval; /* [n_members], shared, read-only */

    int have_grid;
    dgn_grid grid;
    int64_t *result_units; /* [grid.n_sel], for dgn_screener_result */
    double *rows;      /* CSV candidates [n_rows][c] in percent */
    uint64_t *row_index; /* [n_rows] each one's data row in the file, from 0 */
    uint64_t n_rows, n_rejected;

    uint64_t total, first_block, end_block; /* this shard: blocks [first, end) */
    atomic_uint_least64_t next_block, done;
    atomic_int stop;   /* a stop_reason */

    worker *workers;
    hit *results;
    size_t n_results;
};

/* ---- config ------------------------------------------------------------- */

/* Static, so that padding is zero as well. */
static const dgn_screener_config defaults = {
    .top_k = 100,
    .threads = 1,
    .shard_index = 0,
    .shard_count = 1,
};

dgn_status dgn_screener_config_init(dgn_screener_config *cfg, unsigned int version)
{
    return dgn_config_init(cfg, version, DGN_SCREENER_CONFIG_VERSION,
                           "dgn_screener_config_init", &defaults, sizeof defaults);
}

dgn_status dgn_screener_config_validate(const dgn_screener_config *c)
{
    dgn_status st = dgn_check_config_version(c, DGN_SCREENER_CONFIG_VERSION, "screener", 0);
    if (st != DGN_OK)
        return st;
    if (c->top_k < 1 || c->top_k > ((size_t)1 << 24))
        return dgn_fail(DGN_E_INVALID, "screener config: top_k: %zu is outside "
                        "[1, 2^24]", c->top_k);
    if (c->threads < 1 || c->threads > 1024)
        return dgn_fail(DGN_E_INVALID, "screener config: threads: %zu is outside "
                        "[1, 1024]", c->threads);
    if (c->shard_count < 1 || c->shard_count > ((uint64_t)1 << 32) ||
        c->shard_index >= c->shard_count)
        return dgn_fail(DGN_E_INVALID, "screener config: shard_index %llu is not below "
                        "shard_count %llu (at most 2^32)", (unsigned long long)c->shard_index,
                        (unsigned long long)c->shard_count);
    return DGN_OK;
}

/* ---- lifetime ----------------------------------------------------------- */

static void free_candidates(dgn_screener *s)
{
    dgn_grid_free(&s->grid);
    s->have_grid = 0;
    free(s->result_units);
    s->result_units = NULL;
    free(s->rows);
    s->rows = NULL;
    free(s->row_index);
    s->row_index = NULL;
    s->n_rows = s->n_rejected = 0;
    s->total = 0;
    /* The results point into the candidates: a setter that fails after
     * this must leave nothing to read. */
    s->n_results = 0;
    s->first_block = s->end_block = 0;
}

void dgn_screener_destroy(dgn_screener *s)
{
    if (!s)
        return;
    free_candidates(s);
    for (size_t t = 0; s->workers && t < s->cfg.threads; t++) {
        worker *w = &s->workers[t];
        for (size_t j = 0; w->eval && j < s->n_members; j++)
            dgn_screen_eval_work_free(&w->eval[j]);
        DGN_FREE_ALL(w->eval, w->x, w->scores, w->spreads, w->member_scores, w->units,
                     w->percent, w->heap);
    }
    if (s->names)
        for (size_t i = 0; i < s->c; i++)
            free(s->names[i]);
    for (size_t j = 0; s->eval && j < s->n_members; j++)
        dgn_screen_eval_free(&s->eval[j]);
    DGN_FREE_ALL(s->eval, s->workers, s->names, s->mean, s->std, s->results, s);
}

/* Each member's folded network, by its own centre; the names and z-score
 * statistics are member 0's, which every member shares (dgn_ensemble_add
 * checks it). */
static dgn_status fold_members(dgn_screener *s, const dgn_model *const *m)
{
    const dgn_model *m0 = m[0];
    dgn_status st = DGN_OK;
    for (size_t i = 0; st == DGN_OK && i < s->c; i++) {
        const char *nm = dgn_model_component_name(m0, i);
        if (!nm)
            st = dgn_fail(DGN_E_DATA, "the model carries no component names (train it "
                          "with dgn_trainer_fit or call dgn_model_attach_context)");
        else if (!(s->names[i] = strdup(nm)))
            st = dgn_fail_nomem("screener");
    }
    if (st == DGN_OK)
        st = dgn_model_zscore_stats(m0, s->mean, s->std, s->c);
    for (size_t j = 0; st == DGN_OK && j < s->n_members; j++) {
        size_t k = dgn_model_cfg(m[j])->out_dim;
        float *centre = malloc(k * sizeof *centre);
        st = centre ? dgn_model_class_centre(m[j], centre, k) : dgn_fail_nomem("screener");
        if (st == DGN_OK)
            st = dgn_screen_eval_init(&s->eval[j], m[j], centre, s->block,
                                      DGN_SCREEN_EVAL_AUTO);
        free(centre);
    }
    return st;
}

static dgn_status init_worker(worker *w, dgn_screener *s)
{
    size_t b = s->block, k = s->n_members;
    w->s = s;
    w->eval = calloc(k, sizeof *w->eval);
    w->x = malloc(b * s->c * sizeof *w->x);
    w->scores = malloc(b * sizeof *w->scores);
    w->spreads = malloc(b * sizeof *w->spreads);
    w->member_scores = malloc(k * b * sizeof *w->member_scores);
    w->units = malloc(s->c * sizeof *w->units);
    w->percent = malloc(s->c * sizeof *w->percent);
    w->heap = malloc(s->cfg.top_k * sizeof *w->heap);
    if (!w->eval || !w->x || !w->scores || !w->spreads || !w->member_scores || !w->units ||
        !w->percent || !w->heap)
        return dgn_fail_nomem("screener worker");
    dgn_status st = DGN_OK;
    for (size_t j = 0; st == DGN_OK && j < k; j++)
        st = dgn_screen_eval_work_init(&w->eval[j], &s->eval[j]);
    return st;
}

static dgn_status create(dgn_screener **out, const dgn_model *const *m, size_t n_members,
                         const dgn_screener_config *cfg)
{
    dgn_screener *s = calloc(1, sizeof *s);
    if (!s)
        return dgn_fail_nomem("screener");
    s->cfg = *cfg;
    s->c = dgn_model_cfg(m[0])->n_components;
    /* Blocks every member's network takes whole. */
    s->block = dgn_model_cfg(m[0])->max_batch;
    for (size_t j = 1; j < n_members; j++)
        if (dgn_model_cfg(m[j])->max_batch < s->block)
            s->block = dgn_model_cfg(m[j])->max_batch;
    s->n_members = n_members;
    s->names = calloc(s->c, sizeof *s->names);
    s->mean = malloc(s->c * sizeof *s->mean);
    s->std = malloc(s->c * sizeof *s->std);
    s->eval = calloc(n_members, sizeof *s->eval);
    s->workers = calloc(cfg->threads, sizeof *s->workers);
    s->results = malloc(cfg->top_k * sizeof *s->results);
    dgn_status st = DGN_OK;
    if (!s->names || !s->mean || !s->std || !s->eval || !s->workers || !s->results)
        st = dgn_fail_nomem("screener");
    if (st == DGN_OK)
        st = fold_members(s, m);
    for (size_t t = 0; st == DGN_OK && t < cfg->threads; t++)
        st = init_worker(&s->workers[t], s);
    if (st != DGN_OK) {
        dgn_screener_destroy(s);
        return st;
    }
    *out = s;
    return DGN_OK;
}

dgn_status dgn_screener_create(dgn_screener **out, const dgn_model *model,
                               const dgn_screener_config *cfg)
{
    dgn_status st = DGN_CREATE_CHECKS(out, model, "dgn_screener_create: NULL argument",
                                      dgn_screener_config_validate(cfg));
    return st == DGN_OK ? create(out, &model, 1, cfg) : st;
}

dgn_status dgn_screener_create_ensemble(dgn_screener **out, const dgn_ensemble *e,
                                        const dgn_screener_config *cfg)
{
    dgn_status st = DGN_CREATE_CHECKS(out, e, "dgn_screener_create_ensemble: NULL argument",
                                      dgn_screener_config_validate(cfg));
    if (st != DGN_OK)
        return st;
    size_t k = dgn_ensemble_size(e);
    if (k == 0)
        return dgn_fail(DGN_E_INVALID, "dgn_screener_create_ensemble: the ensemble has no "
                        "members");
    const dgn_model **m = malloc(k * sizeof *m);
    if (!m)
        return dgn_fail_nomem("screener");
    for (size_t j = 0; j < k; j++)
        m[j] = dgn_ensemble_member(e, j);
    st = create(out, m, k, cfg);
    free(m);
    return st;
}

/* ---- candidates --------------------------------------------------------- */

/* floor(blocks·i/N) without overflow (N <= 2^32). */
static uint64_t shard_start(uint64_t blocks, uint64_t i, uint64_t n)
{
    return i * (blocks / n) + i * (blocks % n) / n;
}

/* This shard's blocks: shard i of N takes [i·B/N, (i+1)·B/N) of the B blocks. */
static void plan_shard(dgn_screener *s)
{
    uint64_t blocks = s->total / s->block + (s->total % s->block != 0);
    s->first_block = shard_start(blocks, s->cfg.shard_index, s->cfg.shard_count);
    s->end_block = shard_start(blocks, s->cfg.shard_index + 1, s->cfg.shard_count);
    s->n_results = 0;
}

dgn_status dgn_screener_set_grid(dgn_screener *s, const char *spec)
{
    if (!s || !spec)
        return dgn_fail(DGN_E_INVALID, "dgn_screener_set_grid: NULL argument");
    free_candidates(s);
    dgn_status st = dgn_grid_parse(&s->grid, spec, (const char *const *)s->names, s->c);
    if (st != DGN_OK)
        return st;
    /* The results' own buffer: dgn_screener_result allocates nothing. */
    s->result_units = malloc(s->grid.n_sel * sizeof *s->result_units);
    if (!s->result_units) {
        free_candidates(s);
        return dgn_fail_nomem("grid results");
    }
    s->have_grid = 1;
    s->total = s->grid.count;
    plan_shard(s);
    return DGN_OK;
}

/* Candidates are read by the table rules the training rows follow
 * (lib/table.h), columns matched to the model's names, and kept in
 * percent, as the lattice gives them. */
dgn_status dgn_screener_set_candidates(dgn_screener *s, const char *path)
{
    if (!s || !path)
        return dgn_fail(DGN_E_INVALID, "dgn_screener_set_candidates: NULL argument");
    free_candidates(s);
    /* Unnamed columns are ignored, but two columns of one name are
     * refused: which one was meant cannot be known. */
    dgn_table_spec spec = {
        .no_property = 1,
        .components = (const char *const *)s->names,
        .n_components = s->c,
        .allow_unnamed = 1,
    };
    dgn_table t;
    dgn_status st = dgn_table_read_csv(&t, path, &spec);
    if (st != DGN_OK)
        return st;
    /* The training rows' window (docs/dataset.md), the same tolerance. */
    st = dgn_table_clean(&t, DGN_UNITS_AUTO, DGN_SUM_WINDOW_LO, DGN_SUM_WINDOW_HI);
    if (st == DGN_OK && t.n == 0)
        st = dgn_fail(DGN_E_DATA, "%s: no candidate left: all %zu rows have proportions "
                      "summing outside %g-%g %% (line %zu sums to %g %%)", path,
                      t.n_dropped, 100 * DGN_SUM_WINDOW_LO, 100 * DGN_SUM_WINDOW_HI,
                      t.first_dropped, 100 * t.first_dropped_sum);
    if (st != DGN_OK) {
        dgn_table_free(&t);
        return st;
    }
    dgn_table_convert(&t, DGN_UNITS_PERCENT);
    /* The table's arrays become the screener's: rows and their data-row
     * numbers. */
    s->rows = t.x;
    s->row_index = t.record;
    t.x = NULL;
    t.record = NULL;
    s->n_rows = t.n;
    s->n_rejected = t.n_dropped;
    dgn_table_free(&t);
    s->total = s->n_rows;
    plan_shard(s);
    return DGN_OK;
}

uint64_t dgn_screener_n_rejected(const dgn_screener *s)
{
    return s ? s->n_rejected : 0;
}

dgn_status dgn_screener_count(const dgn_screener *s, uint64_t *total, uint64_t *in_shard)
{
    if (!s || !total || !in_shard)
        return dgn_fail(DGN_E_INVALID, "dgn_screener_count: NULL argument");
    *total = s->total;
    uint64_t a = s->first_block * s->block, b = s->end_block * s->block;
    *in_shard = (b < s->total ? b : s->total) - (a < s->total ? a : s->total);
    return DGN_OK;
}

/* ---- scoring ------------------------------------------------------------- */

static void heap_push(hit *heap, size_t *n, size_t cap, hit h)
{
    size_t i;
    if (*n < cap) {
        /* Sift up: the worst stays at the root. */
        i = (*n)++;
        while (i > 0 && better(heap[(i - 1) / 2], h)) {
            heap[i] = heap[(i - 1) / 2];
            i = (i - 1) / 2;
        }
        heap[i] = h;
        return;
    }
    if (!better(h, heap[0]))
        return;
    i = 0;
    for (;;) {
        /* Move the worse child up while h ranks before it. */
        size_t l = 2 * i + 1, r = l + 1, worst = i;
        hit cur = h;
        if (l < *n && better(cur, heap[l])) {
            worst = l;
            cur = heap[l];
        }
        if (r < *n && better(cur, heap[r]))
            worst = r;
        if (worst == i)
            break;
        heap[i] = heap[worst];
        i = worst;
    }
    heap[i] = h;
}

/* Score the candidates of block b. */
static dgn_status score_block(worker *w, uint64_t b)
{
    dgn_screener *s = w->s;
    uint64_t start = b * s->block, end = start + s->block;
    if (end > s->total)
        end = s->total;
    size_t n = (size_t)(end - start), c = s->c;
    if (s->have_grid)
        dgn_grid_unrank(&s->grid, start, w->units);
    for (size_t i = 0; i < n; i++) {
        const double *pct = s->rows + (start + i) * c;
        if (s->have_grid) {
            if (i > 0)
                dgn_grid_next(&s->grid, w->units);
            dgn_grid_percent(&s->grid, w->units, w->percent);
            pct = w->percent;
        }
        for (size_t j = 0; j < c; j++) {
            float z = (float)((pct[j] / 100 - s->mean[j]) / s->std[j]);
            if (!isfinite(z))
                return dgn_fail(DGN_E_NONFINITE, "candidate %llu: %s's z-score is %g "
                                "(the model's statistics are broken)",
                                (unsigned long long)(start + i), s->names[j], (double)z);
            w->x[i * c + j] = z;
        }
    }
    dgn_status st = DGN_OK;
    for (size_t j = 0; st == DGN_OK && j < s->n_members; j++)
        st = dgn_screen_eval_run(&s->eval[j], &w->eval[j], w->member_scores + j * s->block,
                                 w->x, n);
    if (st == DGN_OK)
        dgn_ensemble_combine(w->scores, w->spreads, w->member_scores, s->n_members, s->block,
                             n);
    for (size_t i = 0; st == DGN_OK && i < n; i++)
        heap_push(w->heap, &w->heap_n, s->cfg.top_k,
                  (hit){start + i, w->scores[i], w->spreads[i]});
    return st;
}

/* Claim blocks until none are left; worker 0 (the caller) reports progress. */
static void *work(void *arg)
{
    worker *w = arg;
    dgn_screener *s = w->s;
    int reporter = w == &s->workers[0];
    uint64_t shard_total;
    dgn_screener_count(s, &(uint64_t){0}, &shard_total);
    while (atomic_load(&s->stop) == STOP_NONE) {
        uint64_t b = atomic_fetch_add(&s->next_block, 1);
        if (b >= s->end_block)
            break;
        w->status = score_block(w, b);
        if (w->status != DGN_OK) {
            snprintf(w->error, sizeof w->error, "%s", dgn_last_error());
            atomic_store(&s->stop, STOP_FAILED);
            break;
        }
        uint64_t end = (b + 1) * s->block < s->total ? (b + 1) * s->block : s->total;
        uint64_t done = atomic_fetch_add(&s->done, end - b * s->block) + end - b * s->block;
        if (reporter && s->cfg.progress &&
            s->cfg.progress(done, shard_total, s->cfg.progress_user))
            atomic_store(&s->stop, STOP_CANCELLED);
    }
    return NULL;
}

static int by_rank(const void *pa, const void *pb)
{
    hit a = *(const hit *)pa, b = *(const hit *)pb;
    return better(a, b) ? -1 : better(b, a) ? 1 : 0;
}

dgn_status dgn_screener_run(dgn_screener *s)
{
    if (!s)
        return dgn_fail(DGN_E_INVALID, "dgn_screener_run: screener is NULL");
    if (s->total == 0)
        return dgn_fail(DGN_E_INVALID, "dgn_screener_run: no candidates (call "
                        "dgn_screener_set_grid or dgn_screener_set_candidates)");
    atomic_store(&s->next_block, s->first_block);
    atomic_store(&s->done, 0);
    atomic_store(&s->stop, STOP_NONE);
    s->n_results = 0;
    size_t started = 1;
    for (size_t t = 0; t < s->cfg.threads; t++) {
        s->workers[t].heap_n = 0;
        s->workers[t].status = DGN_OK;
    }
    for (size_t t = 1; t < s->cfg.threads; t++, started++)
        if (pthread_create(&s->workers[t].thread, NULL, work, &s->workers[t]) != 0)
            break;
    work(&s->workers[0]);
    for (size_t t = 1; t < started; t++)
        pthread_join(s->workers[t].thread, NULL);

    for (size_t t = 0; t < started; t++)
        if (s->workers[t].status != DGN_OK)
            return dgn_fail(s->workers[t].status, "%s", s->workers[t].error);
    if (atomic_load(&s->stop) == STOP_CANCELLED)
        return dgn_fail(DGN_E_GENERIC, "screening stopped by the progress callback");

    /* Merge: every worker's heap holds its best; the union holds the best. */
    for (size_t t = 0; t < started; t++)
        for (size_t i = 0; i < s->workers[t].heap_n; i++)
            heap_push(s->results, &s->n_results, s->cfg.top_k, s->workers[t].heap[i]);
    qsort(s->results, s->n_results, sizeof *s->results, by_rank);
    return DGN_OK;
}

/* ---- results ------------------------------------------------------------- */

size_t dgn_screener_n_results(const dgn_screener *s)
{
    return s ? s->n_results : 0;
}

dgn_status dgn_screener_result(const dgn_screener *s, size_t rank, uint64_t *index,
                               float *score, double *percent, size_t cap)
{
    if (!s || rank >= s->n_results)
        return dgn_fail(DGN_E_INVALID, "dgn_screener_result: no result %zu (there are %zu)",
                        rank, s ? s->n_results : 0);
    if (percent && cap < s->c)
        return dgn_fail(DGN_E_SHAPE, "dgn_screener_result: capacity %zu < %zu components",
                        cap, s->c);
    hit h = s->results[rank];
    if (index)
        *index = s->have_grid ? h.index : s->row_index[h.index];
    if (score)
        *score = h.score;
    if (percent) {
        if (s->have_grid) {
            dgn_grid_unrank(&s->grid, h.index, s->result_units);
            dgn_grid_percent(&s->grid, s->result_units, percent);
        } else {
            memcpy(percent, s->rows + h.index * s->c, s->c * sizeof *percent);
        }
    }
    return DGN_OK;
}

dgn_status dgn_screener_result_spread(const dgn_screener *s, size_t rank, float *spread)
{
    if (!s || !spread || rank >= s->n_results)
        return dgn_fail(DGN_E_INVALID, "dgn_screener_result_spread: %s",
                        s && spread ? "no such result" : "NULL argument");
    *spread = s->results[rank].spread;
    return DGN_OK;
}

size_t dgn_screener_n_members(const dgn_screener *s)
{
    return s ? s->n_members : 0;
}

/* A growing text buffer; the first failure sticks. */
typedef struct text {
    char *buf;
    size_t len, cap;
    dgn_status status;
} text;

static void add(text *t, const char *fmt, ...) DGN_PRINTF(2, 3);
static void add(text *t, const char *fmt, ...)
{
    if (t->status != DGN_OK)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->status = dgn_fail(DGN_E_GENERIC, "result file: cannot format a value");
            return;
        }
        if ((size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = 2 * t->cap + (size_t)n + 1;
        char *grown = cap > t->cap ? realloc(t->buf, cap) : NULL;
        if (!grown) {
            t->status = dgn_fail_nomem("result file");
            return;
        }
        t->buf = grown;
        t->cap = cap;
    }
}

/* A CSV field in quotes, any quote inside doubled. */
static void add_quoted(text *t, const char *name)
{
    add(t, "\"");
    for (const char *p = name; *p; p++)
        if (*p == '"')
            add(t, "\"\"");
        else
            add(t, "%c", *p);
    add(t, "\"");
}

dgn_status dgn_screener_write_csv(const dgn_screener *s, const char *path)
{
    if (!s || !path)
        return dgn_fail(DGN_E_INVALID, "dgn_screener_write_csv: NULL argument");
    text t = {.cap = 64 + s->n_results * (48 + 16 * s->c)};
    t.buf = malloc(t.cap);
    double *pct = malloc(s->c * sizeof *pct);
    if (!t.buf || !pct)
        t.status = dgn_fail_nomem("result file");
    int with_spread = s->n_members > 1;
    add(&t, with_spread ? "rank,index,score,spread" : "rank,index,score");
    for (size_t j = 0; j < s->c; j++) {
        add(&t, ",");
        add_quoted(&t, s->names[j]);
    }
    add(&t, "\n");
    dgn_c_numbers scope = dgn_c_numbers_begin();
    for (size_t r = 0; t.status == DGN_OK && r < s->n_results; r++) {
        uint64_t index;
        float score;
        t.status = dgn_screener_result(s, r, &index, &score, pct, s->c);
        add(&t, "%zu,%llu,%.9g", r + 1, (unsigned long long)index, (double)score);
        if (with_spread)
            add(&t, ",%.9g", (double)s->results[r].spread);
        for (size_t j = 0; j < s->c; j++)
            add(&t, ",%.6g", pct[j]);
        add(&t, "\n");
    }
    dgn_c_numbers_end(scope);
    if (t.status == DGN_OK)
        t.status = dgn_write_file_atomic(path, t.buf, t.len);
    free(t.buf);
    free(pct);
    return t.status;
}
