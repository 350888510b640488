/* Little-endian encoding: known byte patterns, every bit of awkward
 * values back unchanged (NaN payloads, −0, subnormals), unaligned
 * places. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "endian.h"
#include "testutil.h"

START_TEST(known_bytes)
{
    unsigned char b[9];
    dgn_put_u32le(b, 0x01020304u);
    ck_assert(!memcmp(b, "\x04\x03\x02\x01", 4));
    dgn_put_u64le(b, 0x0102030405060708ull);
    ck_assert(!memcmp(b, "\x08\x07\x06\x05\x04\x03\x02\x01", 8));
    dgn_put_f32le(b, 1.0f); /* 0x3f800000 */
    ck_assert(!memcmp(b, "\x00\x00\x80\x3f", 4));
    dgn_put_f64le(b, -2.0); /* 0xc000000000000000 */
    ck_assert(!memcmp(b, "\x00\x00\x00\x00\x00\x00\x00\xc0", 8));
    ck_assert_uint_eq(dgn_get_u32le((const unsigned char *)"\xef\xbe\xad\xde"), 0xdeadbeefu);
    ck_assert_uint_eq(dgn_get_u64le((const unsigned char *)"\x01\x00\x00\x00\x00\x00\x00\x80"),
                      0x8000000000000001ull);
    ck_assert(dgn_get_f32le((const unsigned char *)"\x00\x00\xc0\x3f") == 1.5f);
    ck_assert(dgn_get_f64le((const unsigned char *)"\x00\x00\x00\x00\x00\x00\xf0\x3f") == 1.0);
}
END_TEST

START_TEST(round_trips_keep_every_bit)
{
    unsigned char buf[16];
    static const uint32_t f32_bits[] = {0x7fc00001u, 0xff800000u, 0x80000000u, 0x00000001u,
                                        0x7f7fffffu, 0x3eaaaaabu};
    static const uint64_t f64_bits[] = {0x7ff8000000000123ull, 0x8000000000000000ull,
                                        0x0000000000000001ull, 0x7fefffffffffffffull};
    for (size_t off = 0; off < 8; off++) { /* every alignment */
        unsigned char *p = buf + off;
        for (size_t k = 0; k < sizeof f32_bits / sizeof *f32_bits; k++) {
            float f, g;
            memcpy(&f, &f32_bits[k], 4);
            dgn_put_f32le(p, f);
            ck_assert_uint_eq(dgn_get_u32le(p), f32_bits[k]);
            g = dgn_get_f32le(p);
            ck_assert(!memcmp(&f, &g, 4));
        }
        for (size_t k = 0; k < sizeof f64_bits / sizeof *f64_bits; k++) {
            double d, e;
            memcpy(&d, &f64_bits[k], 8);
            dgn_put_f64le(p, d);
            ck_assert_uint_eq(dgn_get_u64le(p), f64_bits[k]);
            e = dgn_get_f64le(p);
            ck_assert(!memcmp(&d, &e, 8));
        }
        dgn_put_u32le(p, UINT32_MAX);
        ck_assert_uint_eq(dgn_get_u32le(p), UINT32_MAX);
        dgn_put_u64le(p, UINT64_MAX - 1);
        ck_assert_uint_eq(dgn_get_u64le(p), UINT64_MAX - 1);
    }
}
END_TEST

/* A put writes its width and nothing past it. */
START_TEST(writes_only_its_width)
{
    unsigned char buf[12];
    memset(buf, 0xaa, sizeof buf);
    dgn_put_u32le(buf + 1, 0);
    ck_assert(buf[0] == 0xaa && buf[5] == 0xaa);
    memset(buf, 0xaa, sizeof buf);
    dgn_put_f64le(buf + 1, 0.0);
    ck_assert(buf[0] == 0xaa && buf[9] == 0xaa);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("endian");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, known_bytes);
    tcase_add_test(tc, round_trips_keep_every_bit);
    tcase_add_test(tc, writes_only_its_width);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
