#include "dgn/screener.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "dgn/scoring.h"
#include "error.h"
#include "fileio.h"
#include "grid.h"
#include "model_internal.h"
#include "screen_eval.h"

typedef struct hit {
    uint64_t index;
    float score;
} hit;

/* a ranks before b: higher score, then lower index. */
static int better(hit a, hit b)
{
    return a.score > b.score || (a.score == b.score && a.index < b.index);
}

typedef struct worker {
    struct dgn_screener *s;
    dgn_screen_eval_work scorer;
    float *x, *scores; /* [block][c], [block] */
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
    dgn_screen_eval scorer; /* shared, read-only */

    int have_grid;
    dgn_grid grid;
    double *rows;      /* CSV candidates [n_rows][c] in percent */
    uint64_t *row_index; /* [n_rows] each one's data row in the file, from 0 */
    uint64_t n_rows, n_rejected;

    uint64_t total, first_block, end_block; /* this shard: blocks [first, end) */
    atomic_uint_least64_t next_block, done;
    atomic_int cancel;

    worker *workers;
    hit *results;
    size_t n_results;
};

/* ---- config ------------------------------------------------------------- */

dgn_status dgn_screener_config_init(dgn_screener_config *cfg, unsigned int version)
{
    dgn_status st = dgn_check_config_init(cfg, version, DGN_SCREENER_CONFIG_VERSION,
                                          "dgn_screener_config_init");
    if (st != DGN_OK)
        return st;
    memset(cfg, 0, sizeof *cfg);
    cfg->version = version;
    cfg->top_k = 100;
    cfg->threads = 1;
    cfg->shard_index = 0;
    cfg->shard_count = 1;
    return DGN_OK;
}

dgn_status dgn_screener_config_validate(const dgn_screener_config *c)
{
    if (!c)
        return dgn_fail(DGN_E_INVALID, "screener config is NULL");
    if (c->version == 0 || c->version > DGN_SCREENER_CONFIG_VERSION)
        return dgn_fail(DGN_E_INVALID, "screener config: version: %u is not a known "
                        "version", c->version);
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
        dgn_screen_eval_work_free(&w->scorer);
        free(w->x);
        free(w->scores);
        free(w->units);
        free(w->percent);
        free(w->heap);
    }
    free(s->workers);
    if (s->names)
        for (size_t i = 0; i < s->c; i++)
            free(s->names[i]);
    free(s->names);
    free(s->mean);
    free(s->std);
    dgn_screen_eval_free(&s->scorer);
    free(s->results);
    free(s);
}

dgn_status dgn_screener_create(dgn_screener **out, const dgn_model *model,
                               const dgn_screener_config *cfg)
{
    if (!out || !model)
        return dgn_fail(DGN_E_INVALID, "dgn_screener_create: NULL argument");
    *out = NULL;
    dgn_status st = dgn_screener_config_validate(cfg);
    if (st != DGN_OK)
        return st;
    dgn_screener *s = calloc(1, sizeof *s);
    if (!s)
        return dgn_fail_nomem("screener");
    s->cfg = *cfg;
    s->c = dgn_model_cfg(model)->n_components;
    s->block = dgn_model_cfg(model)->max_batch;
    s->names = calloc(s->c, sizeof *s->names);
    s->mean = malloc(s->c * sizeof *s->mean);
    s->std = malloc(s->c * sizeof *s->std);
    float *centre = malloc(dgn_model_cfg(model)->out_dim * sizeof *centre);
    s->workers = calloc(cfg->threads, sizeof *s->workers);
    s->results = malloc(cfg->top_k * sizeof *s->results);
    if (!s->names || !s->mean || !s->std || !centre || !s->workers || !s->results)
        st = dgn_fail_nomem("screener");
    for (size_t i = 0; st == DGN_OK && i < s->c; i++) {
        const char *nm = dgn_model_component_name(model, i);
        if (!nm)
            st = dgn_fail(DGN_E_DATA, "the model carries no component names (train it "
                          "with dgn_trainer_fit or call dgn_model_attach_context)");
        else if (!(s->names[i] = strdup(nm)))
            st = dgn_fail_nomem("screener");
    }
    if (st == DGN_OK)
        st = dgn_model_zscore_stats(model, s->mean, s->std, s->c);
    if (st == DGN_OK)
        st = dgn_model_class_centre(model, centre, dgn_model_cfg(model)->out_dim);
    if (st == DGN_OK)
        st = dgn_screen_eval_init(&s->scorer, model, centre, s->block,
                                  DGN_SCREEN_EVAL_AUTO);
    free(centre);
    for (size_t t = 0; st == DGN_OK && t < cfg->threads; t++) {
        worker *w = &s->workers[t];
        w->s = s;
        st = dgn_screen_eval_work_init(&w->scorer, &s->scorer);
        w->x = malloc(s->block * s->c * sizeof *w->x);
        w->scores = malloc(s->block * sizeof *w->scores);
        w->units = malloc(s->c * sizeof *w->units);
        w->percent = malloc(s->c * sizeof *w->percent);
        w->heap = malloc(cfg->top_k * sizeof *w->heap);
        if (st == DGN_OK && (!w->x || !w->scores || !w->units || !w->percent || !w->heap))
            st = dgn_fail_nomem("screener worker");
    }
    if (st != DGN_OK) {
        dgn_screener_destroy(s);
        return st;
    }
    *out = s;
    return DGN_OK;
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
    s->have_grid = 1;
    s->total = s->grid.count;
    plan_shard(s);
    return DGN_OK;
}

/* Which unit a row's sum suggests, as the dataset decides it: near 1,
 * fractions; near 100, percents; 0 for neither. */
static int unit_of(double sum)
{
    return sum >= 0.5 && sum <= 2 ? 1 : sum >= 50 && sum <= 200 ? 100 : 0;
}

dgn_status dgn_screener_set_candidates(dgn_screener *s, const char *path)
{
    if (!s || !path)
        return dgn_fail(DGN_E_INVALID, "dgn_screener_set_candidates: NULL argument");
    free_candidates(s);
    dgn_csv r;
    int got = 0;
    size_t *col = malloc(s->c * sizeof *col), cap = 0, n_fields = 0, *lines = NULL;
    dgn_status st = col ? dgn_csv_open_file(&r, path) : dgn_fail_nomem("columns");
    if (st == DGN_OK && (st = dgn_csv_next(&r, &got)) == DGN_OK && !got)
        st = dgn_fail(DGN_E_FORMAT, "%s: file is empty (expected a header row)", path);
    if (st == DGN_OK) {
        n_fields = r.n_field;
        size_t first = n_fields > 1 && r.field[0][0] == '\0';
        /* Unnamed columns are ignored, but two columns of one name are
         * refused: which one was meant cannot be known. */
        st = dgn_csv_check_header(&r, first, 1);
        /* Indexed: a model of 65,536 components against as many columns. */
        dgn_names ix = {0};
        if (st == DGN_OK)
            st = dgn_names_build(&ix, (const char *const *)r.field, first, n_fields);
        for (size_t j = 0; st == DGN_OK && j < s->c; j++)
            st = dgn_names_find(&ix, s->names[j], path, "component", "column", &col[j]);
        dgn_names_free(&ix);
    }
    /* Fractions or percents, decided by the rows whose sum is near 1 or
     * 100; a file with both is refused. */
    int unit = 0;
    double unit_sum = 0;
    size_t unit_line = 0;
    while (st == DGN_OK && (st = dgn_csv_next(&r, &got)) == DGN_OK && got) {
        if (r.n_field != n_fields) {
            st = dgn_fail(DGN_E_FORMAT, "%s:%zu: expected %zu fields, found %zu", path,
                          r.record_line, n_fields, r.n_field);
            break;
        }
        if (s->n_rows == cap) {
            cap = cap ? 2 * cap : 1024;
            double *grown = cap <= SIZE_MAX / sizeof *grown / s->c
                                ? realloc(s->rows, cap * s->c * sizeof *grown) : NULL;
            if (grown)
                s->rows = grown;
            size_t *more = grown ? realloc(lines, cap * sizeof *more) : NULL;
            if (more)
                lines = more;
            if (!grown || !more) {
                st = dgn_fail_nomem("candidates");
                break;
            }
        }
        double *row = s->rows + s->n_rows * s->c, sum = 0;
        for (size_t j = 0; st == DGN_OK && j < s->c; j++) {
            dgn_csv_number kind = dgn_csv_parse_number(&r, r.field[col[j]], &row[j]);
            if (kind != DGN_CSV_NUMBER || row[j] < 0)
                st = dgn_fail(kind == DGN_CSV_NONFINITE ? DGN_E_NONFINITE : DGN_E_FORMAT,
                              "%s:%zu: column %zu (\"%s\"): \"%s\" is not a proportion",
                              path, r.record_line, col[j] + 1, s->names[j], r.field[col[j]]);
            else
                sum += row[j];
        }
        if (st != DGN_OK)
            break;
        int u = unit_of(sum);
        if (u && unit && u != unit) {
            st = dgn_fail(DGN_E_FORMAT, "%s:%zu: proportions sum to %g, but line %zu sums "
                          "to %g (fractions and percents mixed, or a broken row)", path,
                          r.record_line, sum, unit_line, unit_sum);
            break;
        }
        if (u && !unit) {
            unit = u;
            unit_sum = sum;
            unit_line = r.record_line;
        }
        lines[s->n_rows++] = r.record_line;
    }
    if (st == DGN_OK && s->n_rows == 0)
        st = dgn_fail(DGN_E_FORMAT, "%s: header row but no candidates", path);
    if (st == DGN_OK && !unit) {
        double sum = 0;
        for (size_t j = 0; j < s->c; j++)
            sum += s->rows[j];
        st = dgn_fail(DGN_E_DATA, "%s: no candidate left: no row's proportions sum to "
                      "near 1 or near 100, as fractions or percents (line %zu sums to %g)",
                      path, lines[0], sum);
    }
    if (st == DGN_OK && !(s->row_index = malloc(s->n_rows * sizeof *s->row_index)))
        st = dgn_fail_nomem("candidates");

    /* The training rows' window (docs/dataset.md), the same tolerance. */
    uint64_t kept = 0;
    size_t first_rejected = 0;
    double rejected_sum = 0;
    for (uint64_t i = 0; st == DGN_OK && i < s->n_rows; i++) {
        double *row = s->rows + i * s->c, sum = 0;
        for (size_t j = 0; j < s->c; j++)
            sum += row[j];
        if (!dgn_sum_in_window(sum / unit, DGN_SUM_WINDOW_LO, DGN_SUM_WINDOW_HI)) {
            if (s->n_rejected++ == 0) {
                first_rejected = lines[i];
                rejected_sum = sum / unit * 100;
            }
            continue;
        }
        double *to = s->rows + kept * s->c;
        for (size_t j = 0; j < s->c; j++)
            to[j] = unit == 1 ? row[j] * 100 : row[j];
        s->row_index[kept++] = i;
    }
    if (st == DGN_OK && kept == 0)
        st = dgn_fail(DGN_E_DATA, "%s: no candidate left: all %llu rows have proportions "
                      "summing outside %g-%g %% (line %zu sums to %g %%)", path,
                      (unsigned long long)s->n_rejected, 100 * DGN_SUM_WINDOW_LO,
                      100 * DGN_SUM_WINDOW_HI, first_rejected, rejected_sum);
    if (col)
        dgn_csv_close(&r);
    free(col);
    free(lines);
    if (st != DGN_OK) {
        free_candidates(s);
        return st;
    }
    s->n_rows = kept;
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
    dgn_status st = dgn_screen_eval_run(&s->scorer, &w->scorer, w->scores, w->x, n);
    for (size_t i = 0; st == DGN_OK && i < n; i++)
        heap_push(w->heap, &w->heap_n, s->cfg.top_k, (hit){start + i, w->scores[i]});
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
    while (!atomic_load(&s->cancel)) {
        uint64_t b = atomic_fetch_add(&s->next_block, 1);
        if (b >= s->end_block)
            break;
        w->status = score_block(w, b);
        if (w->status != DGN_OK) {
            snprintf(w->error, sizeof w->error, "%s", dgn_last_error());
            atomic_store(&s->cancel, 1);
            break;
        }
        uint64_t end = (b + 1) * s->block < s->total ? (b + 1) * s->block : s->total;
        uint64_t done = atomic_fetch_add(&s->done, end - b * s->block) + end - b * s->block;
        if (reporter && s->cfg.progress &&
            s->cfg.progress(done, shard_total, s->cfg.progress_user))
            atomic_store(&s->cancel, 2);
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
    atomic_store(&s->cancel, 0);
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
    if (atomic_load(&s->cancel) == 2)
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
            int64_t *units = malloc(s->grid.n_sel * sizeof *units);
            if (!units)
                return dgn_fail_nomem("result");
            dgn_grid_unrank(&s->grid, h.index, units);
            dgn_grid_percent(&s->grid, units, percent);
            free(units);
        } else {
            memcpy(percent, s->rows + h.index * s->c, s->c * sizeof *percent);
        }
    }
    return DGN_OK;
}

dgn_status dgn_screener_write_csv(const dgn_screener *s, const char *path)
{
    if (!s || !path)
        return dgn_fail(DGN_E_INVALID, "dgn_screener_write_csv: NULL argument");
    size_t cap = 64 + s->n_results * (48 + 16 * s->c);
    for (size_t j = 0; j < s->c; j++)
        cap += 2 * strlen(s->names[j]) + 4;
    char *buf = malloc(cap);
    double *pct = malloc(s->c * sizeof *pct);
    if (!buf || !pct) {
        free(buf);
        free(pct);
        return dgn_fail_nomem("result file");
    }
    size_t len = (size_t)snprintf(buf, cap, "rank,index,score");
    for (size_t j = 0; j < s->c; j++) {
        /* Quote names, doubling any quote inside. */
        len += (size_t)snprintf(buf + len, cap - len, ",\"");
        for (const char *p = s->names[j]; *p; p++) {
            if (*p == '"')
                buf[len++] = '"';
            buf[len++] = *p;
        }
        buf[len++] = '"';
    }
    buf[len++] = '\n';
    dgn_status st = DGN_OK;
    dgn_c_numbers scope = dgn_c_numbers_begin();
    for (size_t r = 0; st == DGN_OK && r < s->n_results; r++) {
        uint64_t index;
        float score;
        st = dgn_screener_result(s, r, &index, &score, pct, s->c);
        len += (size_t)snprintf(buf + len, cap - len, "%zu,%llu,%.9g", r + 1,
                                (unsigned long long)index, (double)score);
        for (size_t j = 0; j < s->c; j++)
            len += (size_t)snprintf(buf + len, cap - len, ",%.6g", pct[j]);
        buf[len++] = '\n';
    }
    dgn_c_numbers_end(scope);
    if (st == DGN_OK)
        st = dgn_write_file_atomic(path, buf, len);
    free(buf);
    free(pct);
    return st;
}
