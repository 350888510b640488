/* Model files.
 *
 * Layout, every value little-endian:
 *   "DGNMODEL"            8-byte magic
 *   u32 format version    DGN_MODEL_FORMAT
 *   u64 file length       including the trailing CRC
 *   config                u64 n_components, embed_dim, rank, heads, hidden,
 *                         out_dim, max_batch, seed; f32 dropout;
 *                         u32 interaction
 *   u64 n, f32[n]         parameters, in dgn_model_tensor order
 *   u64 n, f32[n]         BatchNorm running mean then running variance
 *   u32 count, then each  u32 name length, name, u64 size, bytes
 *   u32 CRC-32            (IEEE) of everything before it
 *
 * dgn_model_image and dgn_model_parse_image are the same encoding in
 * memory, for the ensemble file (lib/ensemble.c), which holds one such
 * image per member.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "endian.h"
#include "error.h"
#include "fileio.h"
#include "ensemble.h"
#include "model_impl.h"

#define DGN_MODEL_FORMAT 1u
static const char MAGIC[8] = {'D', 'G', 'N', 'M', 'O', 'D', 'E', 'L'};
enum { HEADER = 8 + 4 + 8, CONFIG = 8 * 8 + 4 + 4, CRC = 4 };

uint32_t dgn_crc32(const unsigned char *p, size_t n)
{
    uint32_t table[256];
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++)
        crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return crc ^ 0xFFFFFFFFu;
}

/* ---- writing ---------------------------------------------------------- */

typedef struct writer {
    unsigned char *p;
} writer;

static void put_u32(writer *w, uint32_t v)
{
    dgn_put_u32le(w->p, v);
    w->p += 4;
}

static void put_u64(writer *w, uint64_t v)
{
    dgn_put_u64le(w->p, v);
    w->p += 8;
}

static void put_f32s(writer *w, const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++, w->p += 4)
        dgn_put_f32le(w->p, v[i]);
}

static void put_bytes(writer *w, const void *data, size_t n)
{
    if (n)
        memcpy(w->p, data, n);
    w->p += n;
}

dgn_status dgn_model_image(const dgn_model *m, const char *where, const char *path,
                           unsigned char **out, size_t *out_len)
{
    /* Write no file that dgn_model_load would refuse. */
    dgn_status st = dgn_model_check_values(m, where);
    if (st == DGN_OK)
        st = dgn_model_check_context(m, where);
    if (st != DGN_OK)
        return st;
    size_t nb = dgn_model_n_buffers(m);
    uint64_t want = HEADER + CONFIG + 8 + 4 * (uint64_t)m->n_params + 8 + 4 * (uint64_t)nb +
                    4 + CRC;
    for (size_t i = 0; i < m->n_meta; i++)
        want += 4 + strlen(m->meta[i].name) + 8 + (uint64_t)m->meta[i].size;
    if (want > DGN_MODEL_MAX_FILE)
        return dgn_fail(DGN_E_INVALID, "%s: %s: the model would take %llu bytes, above "
                        "the model file limit of %llu", where, path, (unsigned long long)want,
                        (unsigned long long)DGN_MODEL_MAX_FILE);
    size_t len = (size_t)want;
    unsigned char *buf = malloc(len);
    if (!buf)
        return dgn_fail_nomem("model file image");

    const dgn_model_config *c = &m->cfg;
    writer w = {buf};
    put_bytes(&w, MAGIC, 8);
    put_u32(&w, DGN_MODEL_FORMAT);
    put_u64(&w, len);
    put_u64(&w, c->n_components);
    put_u64(&w, c->embed_dim);
    put_u64(&w, c->rank);
    put_u64(&w, c->heads);
    put_u64(&w, c->hidden);
    put_u64(&w, c->out_dim);
    put_u64(&w, c->max_batch);
    put_u64(&w, c->seed);
    put_f32s(&w, &c->dropout, 1);
    put_u32(&w, (uint32_t)c->interaction);
    put_u64(&w, m->n_params);
    put_f32s(&w, m->params, m->n_params);
    put_u64(&w, nb);
    put_f32s(&w, m->run_mean, nb);
    put_u32(&w, (uint32_t)m->n_meta);
    for (size_t i = 0; i < m->n_meta; i++) {
        size_t nl = strlen(m->meta[i].name);
        put_u32(&w, (uint32_t)nl);
        put_bytes(&w, m->meta[i].name, nl);
        put_u64(&w, m->meta[i].size);
        put_bytes(&w, m->meta[i].data, m->meta[i].size);
    }
    put_u32(&w, dgn_crc32(buf, len - CRC));
    *out = buf;
    *out_len = len;
    return DGN_OK;
}

dgn_status dgn_model_save(const dgn_model *m, const char *path)
{
    if (!m || !path)
        return dgn_fail(DGN_E_INVALID, "dgn_model_save: NULL argument");
    unsigned char *buf;
    size_t len;
    dgn_status st = dgn_model_image(m, "dgn_model_save", path, &buf, &len);
    if (st != DGN_OK)
        return st;
    st = dgn_write_file_atomic(path, buf, len);
    free(buf);
    return st;
}

/* ---- reading ---------------------------------------------------------- */

typedef struct reader {
    const unsigned char *p, *end;
} reader;

static int get_u32(reader *r, uint32_t *v)
{
    if (r->end - r->p < 4)
        return 0;
    *v = dgn_get_u32le(r->p);
    r->p += 4;
    return 1;
}

static int get_u64(reader *r, uint64_t *v)
{
    if (r->end - r->p < 8)
        return 0;
    *v = dgn_get_u64le(r->p);
    r->p += 8;
    return 1;
}

static int get_size(reader *r, size_t *v)
{
    uint64_t u;
    if (!get_u64(r, &u) || u > SIZE_MAX)
        return 0;
    *v = (size_t)u;
    return 1;
}

static int get_f32s(reader *r, float *v, size_t n)
{
    if ((size_t)(r->end - r->p) / 4 < n)
        return 0;
    for (size_t i = 0; i < n; i++, r->p += 4)
        v[i] = dgn_get_f32le(r->p);
    return 1;
}

static dgn_status corrupt(const char *path, const char *what)
{
    return dgn_fail(DGN_E_FORMAT, "%s: corrupted model file: %s", path, what);
}

/* Magic, format version, length and checksum; on success r spans the
 * body, between the header and the CRC. */
static dgn_status check_frame(reader *r, const char *path, const unsigned char *buf,
                              size_t len)
{
    size_t magic_len = len < 8 ? len : 8;
    if (len >= 8 && memcmp(buf, DGN_ENSEMBLE_MAGIC, 8) == 0)
        return dgn_fail(DGN_E_FORMAT, "%s: an ensemble of networks, not one model: load "
                        "it with dgn_ensemble_load (dgn/ensemble.h)", path);
    if (memcmp(buf, MAGIC, magic_len) != 0)
        return dgn_fail(DGN_E_FORMAT, "%s: not a libdgn model file (wrong magic "
                        "number)", path);
    if (len < HEADER)
        return dgn_fail(DGN_E_FORMAT, "%s: truncated model file: %zu bytes, shorter "
                        "than its header", path, len);
    *r = (reader){buf + 8, buf + len};
    uint32_t format = 0;
    uint64_t total = 0;
    get_u32(r, &format);
    get_u64(r, &total);
    if (format != DGN_MODEL_FORMAT)
        return dgn_fail(DGN_E_FORMAT, "%s: model file format version %u; this "
                        "library reads version %u%s", path, format, DGN_MODEL_FORMAT,
                        format > DGN_MODEL_FORMAT ? " (written by a newer libdgn)" : "");
    if (total > len)
        return dgn_fail(DGN_E_FORMAT, "%s: truncated model file: %zu of %llu bytes",
                        path, len, (unsigned long long)total);
    if (total < len)
        return dgn_fail(DGN_E_FORMAT, "%s: %zu bytes after the end of the model "
                        "(the header says %llu)", path, len - (size_t)total,
                        (unsigned long long)total);
    if (len < HEADER + CRC)
        return corrupt(path, "too short for its checksum");
    r->end = buf + len - CRC;
    reader tail = {buf + len - CRC, buf + len};
    uint32_t crc = 0;
    get_u32(&tail, &crc);
    if (crc != dgn_crc32(buf, len - CRC))
        return dgn_fail(DGN_E_FORMAT, "%s: checksum mismatch: the model file is "
                        "corrupted", path);
    return DGN_OK;
}

static dgn_status read_config(reader *r, const char *path, dgn_model_config *c)
{
    dgn_model_config_init(c, DGN_MODEL_CONFIG_VERSION);
    uint32_t interaction;
    if (!get_size(r, &c->n_components) || !get_size(r, &c->embed_dim) ||
        !get_size(r, &c->rank) || !get_size(r, &c->heads) || !get_size(r, &c->hidden) ||
        !get_size(r, &c->out_dim) || !get_size(r, &c->max_batch) ||
        !get_u64(r, &c->seed) || !get_f32s(r, &c->dropout, 1) ||
        !get_u32(r, &interaction))
        return corrupt(path, "config cut short");
    c->interaction = interaction > 1 ? 2 : (int)interaction;
    if (dgn_model_config_validate(c) != DGN_OK) {
        /* The reason is in the error buffer this call overwrites. */
        char why[512];
        snprintf(why, sizeof why, "%s", dgn_last_error());
        return dgn_fail(DGN_E_FORMAT, "%s: model file holds an impossible config "
                        "(%s)", path, why);
    }
    return DGN_OK;
}

/* The parameters and running statistics into m; NULL, or what is wrong. */
static const char *read_state(reader *r, dgn_model *m)
{
    size_t n;
    if (!get_f32s(r, m->params, m->n_params))
        return "parameters cut short";
    if (!get_size(r, &n) || n != dgn_model_n_buffers(m) || !get_f32s(r, m->run_mean, n))
        return "BatchNorm statistics do not match the config";
    return NULL;
}

/* One metadata entry into m (entry i of the file). */
static dgn_status read_meta_entry(reader *r, dgn_model *m, const char *path, uint32_t i)
{
    uint32_t nl;
    size_t size;
    char name[256];
    if (!get_u32(r, &nl) || nl == 0 || nl > 255 || (size_t)(r->end - r->p) < nl)
        return corrupt(path, "bad metadata name");
    memcpy(name, r->p, nl);
    name[nl] = '\0';
    r->p += nl;
    if (strlen(name) != nl)
        return corrupt(path, "metadata name holds a NUL byte");
    if (!get_size(r, &size) || (size_t)(r->end - r->p) < size)
        return corrupt(path, "metadata cut short");
    /* libdgn never writes a name twice; a second one would silently
     * replace the first. */
    if (dgn_model_find_meta(m, name)) {
        char shown[4 * 255 + 1];
        return dgn_fail(DGN_E_FORMAT, "%s: corrupted model file: metadata \"%s\" "
                        "appears twice (entry %lu repeats it)", path,
                        dgn_printable(shown, sizeof shown, name), (unsigned long)i + 1);
    }
    dgn_status st = dgn_model_set_meta(m, name, r->p, size);
    r->p += size;
    return st;
}

static dgn_status read_meta(reader *r, dgn_model *m, const char *path)
{
    uint32_t n_meta = 0;
    if (!get_u32(r, &n_meta))
        return corrupt(path, "metadata count missing");
    /* An entry takes at least 13 bytes (u32 length, a 1-byte name, u64
     * size): a count the rest of the file cannot hold is refused before
     * the loop, as is one above the limit. */
    if (n_meta > DGN_MODEL_MAX_META)
        return dgn_fail(DGN_E_FORMAT, "%s: %lu metadata entries, above the limit of %zu",
                        path, (unsigned long)n_meta, (size_t)DGN_MODEL_MAX_META);
    if (n_meta > (size_t)(r->end - r->p) / 13)
        return dgn_fail(DGN_E_FORMAT, "%s: corrupted model file: %lu metadata entries "
                        "cannot fit in the %zu bytes left", path, (unsigned long)n_meta,
                        (size_t)(r->end - r->p));
    dgn_status st = DGN_OK;
    for (uint32_t i = 0; st == DGN_OK && i < n_meta; i++)
        st = read_meta_entry(r, m, path, i);
    if (st == DGN_OK && r->p != r->end)
        st = corrupt(path, "unexpected bytes before the checksum");
    return st;
}

dgn_status dgn_model_parse_image(dgn_model **out, const char *path,
                                 const unsigned char *buf, size_t len)
{
    reader r;
    dgn_model_config c;
    dgn_status st = check_frame(&r, path, buf, len);
    if (st == DGN_OK)
        st = read_config(&r, path, &c);
    if (st != DGN_OK)
        return st;
    /* Check the file holds the parameters before allocating for them. */
    size_t n;
    if (!get_size(&r, &n) || n != dgn_model_param_floats(&c))
        return corrupt(path, "parameter count does not match the config");
    if ((size_t)(r.end - r.p) / 4 < n)
        return corrupt(path, "parameters cut short");
    dgn_model *m;
    if ((st = dgn_model_create(&m, &c)) != DGN_OK)
        return st;
    const char *bad = read_state(&r, m);
    if (bad)
        st = corrupt(path, bad);
    if (st == DGN_OK)
        st = dgn_model_check_values(m, path);
    if (st == DGN_OK)
        st = read_meta(&r, m, path);
    if (st == DGN_OK)
        st = dgn_model_check_context(m, path);
    if (st != DGN_OK) {
        dgn_model_destroy(m);
        return st;
    }
    m->training = 0;
    *out = m;
    return DGN_OK;
}

dgn_status dgn_model_load(dgn_model **out, const char *path)
{
    if (!out || !path)
        return dgn_fail(DGN_E_INVALID, "dgn_model_load: NULL argument");
    *out = NULL;
    char *buf = NULL;
    size_t len = 0;
    dgn_status st = dgn_read_file(path, DGN_MODEL_MAX_FILE, "model file", &buf, &len);
    if (st != DGN_OK)
        return st;
    if (len == 0)
        st = dgn_fail(DGN_E_FORMAT, "%s: empty file, not a model", path);
    else
        st = dgn_model_parse_image(out, path, (const unsigned char *)buf, len);
    free(buf);
    return st;
}
