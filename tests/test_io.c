/*
 * test_io.c - tests for io.c: .npy round trips for every dtype and rank 0..4; files exactly as
 * numpy 1.24 writes them (format 1.0, 2.0 and 3.0, big-endian, Fortran order), also compared byte
 * for byte with what mr_npy_write produces; each malformed or unsupported file with its exact
 * status and a substring of its message; whole-file reads and their bounds; .pb dispatch;
 * allocation failures.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mrt.h"
#include "io.h"

/* ---- fixtures: bytes written by numpy 1.24 (np.save; np.lib.format.write_array for 2.0 and 3.0)
 * ---- */

/* Pointer and length of a fixture (string literals carry a terminating NUL that is not file data).
 */
#define FX(a) (a), (sizeof(a) - 1)

/* np.arange(6, dtype='<f4').reshape(2, 3) * 0.5 */
static const char npy_v1_f4_2x3[] =
    "\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
    "                                                          \x0a\x00\x00\x00\x00\x00"
    "\x00\x00\x3f\x00\x00\x80\x3f\x00\x00\xc0\x3f\x00\x00\x00@\x00\x00 @";

/* np.array([-1, 0, 1 << 40], dtype='<i8'), version (2, 0) */
static const char npy_v2_i8_3[] =
    "\x93NUMPY\x02\x00t\x00\x00\x00{'descr': '<i8', 'fortran_order': False, 'shape': ("
    "3,), }                                                          \x0a\xff\xff\xff\xff"
    "\xff\xff\xff\xff\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00";

/* np.array([1.25, -2.5], dtype='<f8'), version (3, 0) */
static const char npy_v3_f8_2[] =
    "\x93NUMPY\x03\x00t\x00\x00\x00{'descr': '<f8', 'fortran_order': False, 'shape': ("
    "2,), }                                                          \x0a\x00\x00\x00\x00"
    "\x00\x00\xf4\x3f\x00\x00\x00\x00\x00\x00\x04\xc0";

/* np.array([[1.5, -2.0], [3.25, 1e-3]], dtype='>f4') */
static const char npy_be_f4_2x2[] =
    "\x93NUMPY\x01\x00v\x00{'descr': '>f4', 'fortran_order': False, 'shape': (2, 2), }"
    "                                                          \x0a\x3f\xc0\x00\x00\xc0"
    "\x00\x00\x00@P\x00\x00:\x83\x12o";

/* np.array([1, -2, 70000], dtype='>i4') */
static const char npy_be_i4_3[] =
    "\x93NUMPY\x01\x00v\x00{'descr': '>i4', 'fortran_order': False, 'shape': (3,), }  "
    "                                                          \x0a\x00\x00\x00\x01\xff"
    "\xff\xff\xfe\x00\x01\x11p";

/* np.asfortranarray(np.arange(24, dtype='<i4').reshape(2, 3, 4)) */
static const char npy_fortran_i4_2x3x4[] =
    "\x93NUMPY\x01\x00v\x00{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3, 4),"
    " }                                                        \x0a\x00\x00\x00\x00\x0c"
    "\x00\x00\x00\x04\x00\x00\x00\x10\x00\x00\x00\x08\x00\x00\x00\x14\x00\x00\x00\x01\x00"
    "\x00\x00\x0d\x00\x00\x00\x05\x00\x00\x00\x11\x00\x00\x00\x09\x00\x00\x00\x15\x00\x00"
    "\x00\x02\x00\x00\x00\x0e\x00\x00\x00\x06\x00\x00\x00\x12\x00\x00\x00\x0a\x00\x00\x00"
    "\x16\x00\x00\x00\x03\x00\x00\x00\x0f\x00\x00\x00\x07\x00\x00\x00\x13\x00\x00\x00\x0b"
    "\x00\x00\x00\x17\x00\x00\x00";

/* np.float32(3.5) */
static const char npy_scalar_f4[] =
    "\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (), }    "
    "                                                          \x0a\x00\x00`@";

/* np.array([True, False, False, True]) */
static const char npy_b1_4[] =
    "\x93NUMPY\x01\x00v\x00{'descr': '|b1', 'fortran_order': False, 'shape': (4,), }  "
    "                                                          \x0a\x01\x00\x00\x01";

/* np.array([0, 255, 7], dtype='u1') */
static const char npy_u1_3[] =
    "\x93NUMPY\x01\x00v\x00{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }  "
    "                                                          \x0a\x00\xff\x07";

/* np.arange(5, dtype='<i8') - 2 */
static const char npy_i8_5[] =
    "\x93NUMPY\x01\x00v\x00{'descr': '<i8', 'fortran_order': False, 'shape': (5,), }  "
    "                                                          \x0a\xfe\xff\xff\xff\xff"
    "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00"
    "\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00";

/* np.zeros((0, 3), dtype='<f4') */
static const char npy_f4_0x3[] =
    "\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }"
    "                                                          \x0a";

/* onnx.numpy_helper.from_array(np.array([[1, 2, 3], [4, 5, 6]], np.float32), name='x') */
static const char pb_x_2x3[] = "\x08\x02\x08\x03\x10\x01\x42\x01\x78\x4a\x18\x00\x00\x80\x3f\x00"
                               "\x00\x00\x40\x00\x00\x40\x40\x00\x00\x80\x40\x00\x00\xa0\x40\x00"
                               "\x00\xc0\x40";

/* ---- helpers ---- */

/* Scratch directory for files, made by the group setup and removed (with its files) at teardown. */
static char tmpdir[256];

static const char *tmp_path(char *buf, size_t len, const char *name) {
    snprintf(buf, len, "%s/%s", tmpdir, name);
    return buf;
}

static void write_bytes(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/*
 * A .npy file in malloc'd memory: magic, version major.0, the header text padded with spaces and a
 * newline as numpy pads it (to a multiple of 64), then data_len bytes of data (zeros if data is
 * NULL).
 */
static unsigned char *make_npy(int major, const char *header, const void *data, size_t data_len,
                               size_t *len) {
    size_t lsize = major == 1 ? 2 : 4, pre = 6 + 2 + lsize, hl = strlen(header);
    size_t hlen = hl + 1 + (64 - (pre + hl + 1) % 64) % 64;
    unsigned char *b = calloc(1, pre + hlen + data_len + 1);
    assert_non_null(b);
    memcpy(b, "\x93NUMPY", 6);
    b[6] = (unsigned char)major;
    b[7] = 0;
    for (size_t i = 0; i < lsize; i++)
        b[8 + i] = (unsigned char)(hlen >> (8 * i));
    memcpy(b + pre, header, hl);
    memset(b + pre + hl, ' ', hlen - hl - 1);
    b[pre + hlen - 1] = '\n';
    if (data) memcpy(b + pre + hlen, data, data_len);
    *len = pre + hlen + data_len;
    return b;
}

/* Fail unless st == want and ctx's message starts with "<what>: " and contains sub. */
static void expect_error(const mr_ctx *ctx, mr_status st, mr_status want, const char *what,
                         const char *sub, const char *label) {
    size_t wl = strlen(what);
    if (st != want || strncmp(ctx->err, what, wl) != 0 || strncmp(ctx->err + wl, ": ", 2) != 0 ||
        !strstr(ctx->err, sub))
        fail_msg("%s: got status %d \"%s\", want status %d with \"%s: ...%s...\"", label, (int)st,
                 ctx->err, (int)want, what, sub);
}

/* Read a .npy from memory, expecting success. */
static void read_ok(mr_ctx *ctx, const void *buf, size_t len, mr_io_tensor *t) {
    mr_status st = mr_npy_read_mem(ctx, buf, len, "x.npy", t);
    if (st != MINIRT_OK) fail_msg("read failed (%d): %s", (int)st, ctx->err);
}

static void assert_shape(const mr_io_tensor *t, int dtype, int ndim, const int64_t *dims) {
    assert_int_equal(t->t.dtype, dtype);
    assert_int_equal(t->t.ndim, ndim);
    for (int i = 0; i < ndim; i++)
        assert_int_equal(t->t.dims[i], dims[i]);
    assert_non_null(t->t.data);
    assert_null(t->name);
}

/* ---- files numpy wrote ---- */

static void test_numpy_v1(void **state) {
    (void)state;
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    mr_io_tensor t;
    read_ok(&ctx, FX(npy_v1_f4_2x3), &t);
    assert_shape(&t, MINIRT_FLOAT32, 2, (const int64_t[]){2, 3});
    const float want[6] = {0, 0.5f, 1, 1.5f, 2, 2.5f};
    mrt_assert_close(t.t.data, want, 6, 0, 0, "v1 <f4");
    mr_io_free(&ctx, &t);
    assert_null(t.t.data);

    read_ok(&ctx, FX(npy_i8_5), &t);
    assert_shape(&t, MINIRT_INT64, 1, (const int64_t[]){5});
    for (int i = 0; i < 5; i++)
        assert_int_equal(((int64_t *)t.t.data)[i], i - 2);
    mr_io_free(&ctx, &t);

    read_ok(&ctx, FX(npy_scalar_f4), &t);
    assert_shape(&t, MINIRT_FLOAT32, 0, NULL);
    assert_true(*(float *)t.t.data == 3.5f);
    mr_io_free(&ctx, &t);

    read_ok(&ctx, FX(npy_b1_4), &t);
    assert_shape(&t, MINIRT_BOOL, 1, (const int64_t[]){4});
    assert_memory_equal(t.t.data, "\x01\x00\x00\x01", 4);
    mr_io_free(&ctx, &t);

    read_ok(&ctx, FX(npy_u1_3), &t);
    assert_shape(&t, MINIRT_UINT8, 1, (const int64_t[]){3});
    assert_memory_equal(t.t.data, "\x00\xff\x07", 3);
    mr_io_free(&ctx, &t);

    read_ok(&ctx, FX(npy_f4_0x3), &t);
    assert_shape(&t, MINIRT_FLOAT32, 2, (const int64_t[]){0, 3});
    mr_io_free(&ctx, &t);
}

static void test_numpy_v2_v3(void **state) {
    (void)state;
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    mr_io_tensor t;
    read_ok(&ctx, FX(npy_v2_i8_3), &t);
    assert_shape(&t, MINIRT_INT64, 1, (const int64_t[]){3});
    const int64_t *v = t.t.data;
    assert_int_equal(v[0], -1);
    assert_int_equal(v[1], 0);
    assert_int_equal(v[2], (int64_t)1 << 40);
    mr_io_free(&ctx, &t);

    read_ok(&ctx, FX(npy_v3_f8_2), &t);
    assert_shape(&t, MINIRT_FLOAT64, 1, (const int64_t[]){2});
    assert_true(((double *)t.t.data)[0] == 1.25 && ((double *)t.t.data)[1] == -2.5);
    mr_io_free(&ctx, &t);
}

static void test_numpy_big_endian(void **state) {
    (void)state;
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    mr_io_tensor t;
    read_ok(&ctx, FX(npy_be_f4_2x2), &t);
    assert_shape(&t, MINIRT_FLOAT32, 2, (const int64_t[]){2, 2});
    const float want[4] = {1.5f, -2.0f, 3.25f, 1e-3f};
    assert_memory_equal(t.t.data, want, sizeof(want));
    mr_io_free(&ctx, &t);

    read_ok(&ctx, FX(npy_be_i4_3), &t);
    assert_shape(&t, MINIRT_INT32, 1, (const int64_t[]){3});
    const int32_t wi[3] = {1, -2, 70000};
    assert_memory_equal(t.t.data, wi, sizeof(wi));
    mr_io_free(&ctx, &t);
}

static void test_numpy_fortran(void **state) {
    (void)state;
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    mr_io_tensor t;
    read_ok(&ctx, FX(npy_fortran_i4_2x3x4), &t);
    assert_shape(&t, MINIRT_INT32, 3, (const int64_t[]){2, 3, 4});
    for (int i = 0; i < 24; i++)
        assert_int_equal(((int32_t *)t.t.data)[i], i);
    mr_io_free(&ctx, &t);

    /* Big-endian and Fortran order together: [[1, 2], [3, 4]] stored column by column. */
    const unsigned char be[32] = {0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0x40, 0x08, 0, 0, 0, 0, 0, 0,
                                  0x40, 0x00, 0, 0, 0, 0, 0, 0, 0x40, 0x10, 0, 0, 0, 0, 0, 0};
    size_t len;
    unsigned char *b =
        make_npy(1, "{'descr': '>f8', 'fortran_order': True, 'shape': (2, 2), }", be, 32, &len);
    read_ok(&ctx, b, len, &t);
    const double want[4] = {1, 2, 3, 4};
    assert_memory_equal(t.t.data, want, sizeof(want));
    mr_io_free(&ctx, &t);
    free(b);

    /* Rank 1 and a zero-size dim: Fortran order is the same layout / nothing to move. */
    const int32_t v[3] = {7, 8, 9};
    b = make_npy(1, "{'descr': '<i4', 'fortran_order': True, 'shape': (3,), }", v, 12, &len);
    read_ok(&ctx, b, len, &t);
    assert_memory_equal(t.t.data, v, sizeof(v));
    mr_io_free(&ctx, &t);
    free(b);
    b = make_npy(1, "{'descr': '<i4', 'fortran_order': True, 'shape': (3, 0, 2), }", NULL, 0, &len);
    read_ok(&ctx, b, len, &t);
    assert_shape(&t, MINIRT_INT32, 3, (const int64_t[]){3, 0, 2});
    mr_io_free(&ctx, &t);
    free(b);
}

/* Headers other writers produce: any key order, either quote, spacing, no trailing comma. */
static void test_header_variants(void **state) {
    (void)state;
    static const struct {
        const char *header;
        int dtype, ndim;
        int64_t dims[3];
    } cases[] = {
        {"{'shape': (2, 3), 'fortran_order': False, 'descr': '<f4'}", MINIRT_FLOAT32, 2, {2, 3}},
        {"{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (6,)}", MINIRT_FLOAT32, 1, {6}},
        {"{'descr':'<i4','fortran_order':False,'shape':(1,2,3,),}", MINIRT_INT32, 3, {1, 2, 3}},
        {" {\n\t'descr' : '=f4' ,\n 'fortran_order' : False ,\n 'shape' : ( 2 , 3 ) }\n",
         MINIRT_FLOAT32,
         2,
         {2, 3}},
        {"{'descr': '<u1', 'fortran_order': False, 'shape': (24,)}", MINIRT_UINT8, 1, {24}},
        {"{'descr': '>i1', 'fortran_order': False, 'shape': (24,)}", MINIRT_INT8, 1, {24}},
        {"{'descr': '|i1', 'fortran_order': False, 'shape': (4, 6)}", MINIRT_INT8, 2, {4, 6}},
        {"{'descr': 'f8', 'fortran_order': False, 'shape': (3,)}", MINIRT_FLOAT64, 1, {3}},
        {"{'descr': '<i8', 'fortran_order': False, 'shape': (000003,)}", MINIRT_INT64, 1, {3}},
    };
    unsigned char data[24];
    for (int i = 0; i < 24; i++)
        data[i] = (unsigned char)(i + 1);
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        size_t len;
        unsigned char *b = make_npy(1, cases[c].header, data, 24, &len);
        mr_io_tensor t;
        mr_status st = mr_npy_read_mem(&ctx, b, len, "x.npy", &t);
        if (st != MINIRT_OK) fail_msg("case %zu: %s", c, ctx.err);
        assert_shape(&t, cases[c].dtype, cases[c].ndim, cases[c].dims);
        assert_memory_equal(t.t.data, data, 24);
        mr_io_free(&ctx, &t);
        free(b);
    }

    /* A header with no padding and no newline (numpy reads it too). */
    static const char old[] = "\x93NUMPY\x01\x00\x37\x00{'descr': '|u1', 'fortran_order': False, "
                              "'shape': (2,)}\x05\x06";
    mr_io_tensor t;
    read_ok(&ctx, FX(old), &t);
    assert_memory_equal(t.t.data, "\x05\x06", 2);
    mr_io_free(&ctx, &t);

    /* Bool bytes other than 0/1 read as true. */
    size_t len;
    unsigned char *b = make_npy(1, "{'descr': '|b1', 'fortran_order': False, 'shape': (3,)}",
                                "\x00\x02\xff", 3, &len);
    read_ok(&ctx, b, len, &t);
    assert_memory_equal(t.t.data, "\x00\x01\x01", 3);
    mr_io_free(&ctx, &t);
    free(b);
}

/* ---- malformed and unsupported files ---- */

static void test_bad_prefix(void **state) {
    (void)state;
    static const struct {
        const char *label;
        const char *bytes;
        size_t len;
        mr_status st;
        const char *sub;
    } cases[] = {
        {"empty file", "", 0, MINIRT_ERR_IO, "empty"},
        {"bad magic", "\x93NUMPX\x01\x00\x10\x00{}", 12, MINIRT_ERR_IO, "bad magic"},
        {"not npy at all", "PK\x03\x04", 4, MINIRT_ERR_IO, "bad magic"},
        {"magic only", "\x93NUM", 4, MINIRT_ERR_IO, "truncated"},
        {"no header length", "\x93NUMPY\x01\x00\x76", 9, MINIRT_ERR_IO, "truncated"},
        {"no v2 header length", "\x93NUMPY\x02\x00\x76\x00\x00", 11, MINIRT_ERR_IO, "truncated"},
        {"truncated header", npy_v1_f4_2x3, 50, MINIRT_ERR_IO, "truncated .npy header"},
        {"huge header length", "\x93NUMPY\x02\x00\xff\xff\xff\xff{'descr'", 19, MINIRT_ERR_LIMIT,
         "header length 4294967295 is over the limit"},
        {"v3 header over 64 KiB", "\x93NUMPY\x03\x00\x01\x00\x01\x00{", 13, MINIRT_ERR_LIMIT,
         "header length 65537"},
        {"version 9.0", "\x93NUMPY\x09\x00\x76\x00{}", 12, MINIRT_ERR_UNSUPPORTED,
         "version 9.0 is not supported"},
        {"version 1.1", "\x93NUMPY\x01\x01\x76\x00{}", 12, MINIRT_ERR_UNSUPPORTED, "version 1.1"},
        {"version 0.0", "\x93NUMPY\x00\x00\x76\x00{}", 12, MINIRT_ERR_UNSUPPORTED, "version 0.0"},
    };
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        mr_io_tensor t;
        mr_status st = mr_npy_read_mem(&ctx, cases[c].bytes, cases[c].len, "x.npy", &t);
        expect_error(&ctx, st, cases[c].st, "x.npy", cases[c].sub, cases[c].label);
        assert_null(t.t.data);
        assert_null(t.name);
    }
}

static void test_bad_header(void **state) {
    (void)state;
    static const struct {
        const char *label;
        const char *header;
        mr_status st;
        const char *sub;
    } cases[] = {
        {"not a dict", "[1, 2]", MINIRT_ERR_IO, "not a dict"},
        {"empty header", "", MINIRT_ERR_IO, "not a dict"},
        {"missing shape", "{'descr': '<f4', 'fortran_order': False, }", MINIRT_ERR_IO,
         "no 'shape' key"},
        {"missing descr", "{'fortran_order': False, 'shape': (1,)}", MINIRT_ERR_IO,
         "no 'descr' key"},
        {"missing fortran_order", "{'descr': '<f4', 'shape': (1,)}", MINIRT_ERR_IO,
         "no 'fortran_order' key"},
        {"extra key", "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}",
         MINIRT_ERR_IO, "unexpected key 'x'"},
        {"repeated key", "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': ()}",
         MINIRT_ERR_IO, "key 'descr' repeated"},
        {"unclosed dict", "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)", MINIRT_ERR_IO,
         "expected ',' or '}'"},
        {"no colon", "{'descr' '<f4', 'fortran_order': False, 'shape': (1,)}", MINIRT_ERR_IO,
         "expected ':'"},
        {"unquoted key", "{descr: '<f4', 'fortran_order': False, 'shape': (1,)}", MINIRT_ERR_IO,
         "expected a quoted string"},
        {"unterminated key", "{'descr: '<f4'}", MINIRT_ERR_IO, "expected ':'"},
        {"unterminated string", "{'descr", MINIRT_ERR_IO, "expected a closing quote"},
        {"escape in string", "{'des\\cr': '<f4', 'fortran_order': False, 'shape': (1,)}",
         MINIRT_ERR_IO, "no escapes"},
        {"fortran_order 1", "{'descr': '<f4', 'fortran_order': 1, 'shape': (1,)}", MINIRT_ERR_IO,
         "expected True or False"},
        {"fortran_order Truey", "{'descr': '<f4', 'fortran_order': Truey, 'shape': (1,)}",
         MINIRT_ERR_IO, "expected True or False"},
        {"shape list", "{'descr': '<f4', 'fortran_order': False, 'shape': [1]}", MINIRT_ERR_IO,
         "expected a shape tuple"},
        {"shape (5)", "{'descr': '<f4', 'fortran_order': False, 'shape': (5)}", MINIRT_ERR_IO,
         "shape (5) is not a tuple"},
        {"shape float", "{'descr': '<f4', 'fortran_order': False, 'shape': (1.0,)}", MINIRT_ERR_IO,
         "expected an integer dimension"},
        {"shape 3L", "{'descr': '<f4', 'fortran_order': False, 'shape': (3L,)}", MINIRT_ERR_IO,
         "expected an integer dimension"},
        {"shape (,)", "{'descr': '<f4', 'fortran_order': False, 'shape': (,)}", MINIRT_ERR_IO,
         "expected an integer dimension"},
        {"shape (1,,)", "{'descr': '<f4', 'fortran_order': False, 'shape': (1,,)}", MINIRT_ERR_IO,
         "expected an integer dimension"},
        {"negative dim", "{'descr': '<f4', 'fortran_order': False, 'shape': (-3, 2)}",
         MINIRT_ERR_IO, "negative dimension -3"},
        {"trailing garbage", "{'descr': '<f4', 'fortran_order': False, 'shape': ()} x",
         MINIRT_ERR_IO, "expected only padding"},
        {"two dicts", "{'descr': '<f4', 'fortran_order': False, 'shape': ()}{}", MINIRT_ERR_IO,
         "expected only padding"},
        {"long string",
         "{'descr': '<f4aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'}",
         MINIRT_ERR_IO, "longer than 64"},
        {"object dtype", "{'descr': '|O', 'fortran_order': False, 'shape': (2,)}",
         MINIRT_ERR_UNSUPPORTED, "Python objects (descr '|O')"},
        {"structured dtype",
         "{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (2,)}",
         MINIRT_ERR_UNSUPPORTED, "structured dtype"},
        {"complex64", "{'descr': '<c8', 'fortran_order': False, 'shape': (2,)}",
         MINIRT_ERR_UNSUPPORTED, "data type '<c8' is not supported"},
        {"float16", "{'descr': '<f2', 'fortran_order': False, 'shape': (2,)}",
         MINIRT_ERR_UNSUPPORTED, "data type '<f2'"},
        {"uint16", "{'descr': '<u2', 'fortran_order': False, 'shape': (2,)}",
         MINIRT_ERR_UNSUPPORTED, "data type '<u2'"},
        {"unicode", "{'descr': '<U8', 'fortran_order': False, 'shape': (2,)}",
         MINIRT_ERR_UNSUPPORTED, "data type '<U8'"},
        {"datetime", "{'descr': '<M8[ns]', 'fortran_order': False, 'shape': (2,)}",
         MINIRT_ERR_UNSUPPORTED, "data type '<M8[ns]'"},
        {"f4 with no byte order", "{'descr': '|f4', 'fortran_order': False, 'shape': (2,)}",
         MINIRT_ERR_IO, "no byte order ('|')"},
        {"rank 9", "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 1, 1, 1, 1)}",
         MINIRT_ERR_LIMIT, "more than 8 dimensions"},
        {"dims overflow",
         "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296)}",
         MINIRT_ERR_LIMIT, "overflows"},
        {"dim over int64",
         "{'descr': '<f4', 'fortran_order': False, 'shape': (9223372036854775808,)}",
         MINIRT_ERR_LIMIT, "does not fit in 64 bits"},
        {"bytes overflow",
         "{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904,)}",
         MINIRT_ERR_LIMIT, "exceeds the limit"},
        {"over max_tensor_bytes",
         "{'descr': '<f4', 'fortran_order': False, 'shape': (1024, 1024, 1024, 2)}",
         MINIRT_ERR_LIMIT, "exceeds the limit of 4294967296 bytes"},
    };
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        size_t len;
        unsigned char *b = make_npy(1, cases[c].header, "\0\0\0\0\0\0\0\0", 8, &len);
        mr_io_tensor t;
        mr_status st = mr_npy_read_mem(&ctx, b, len, "dir/x.npy", &t);
        expect_error(&ctx, st, cases[c].st, "dir/x.npy", cases[c].sub, cases[c].label);
        assert_null(t.t.data);
        free(b);
    }
}

static void test_bad_data_size(void **state) {
    (void)state;
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    const char *h = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 4, 4), }";
    size_t len;
    mr_io_tensor t;
    unsigned char *b = make_npy(1, h, NULL, 100, &len);
    expect_error(&ctx, mr_npy_read_mem(&ctx, b, len, "x.npy", &t), MINIRT_ERR_IO, "x.npy",
                 "data is 100 bytes, shape 1x3x4x4 float32 needs 192", "short data");
    free(b);
    b = make_npy(1, h, NULL, 193, &len);
    expect_error(&ctx, mr_npy_read_mem(&ctx, b, len, "x.npy", &t), MINIRT_ERR_IO, "x.npy",
                 "data is 193 bytes, shape 1x3x4x4 float32 needs 192 (extra bytes at the end)",
                 "extra data");
    free(b);
    b = make_npy(1, h, NULL, 192, &len);
    read_ok(&ctx, b, len, &t);
    mr_io_free(&ctx, &t);
    free(b);
    /* The numpy fixture with its last byte cut, and with one byte too many. */
    expect_error(&ctx, mr_npy_read_mem(&ctx, npy_v1_f4_2x3, sizeof(npy_v1_f4_2x3) - 2, "x.npy", &t),
                 MINIRT_ERR_IO, "x.npy", "data is 23 bytes, shape 2x3 float32 needs 24", "cut");
    expect_error(&ctx, mr_npy_read_mem(&ctx, npy_scalar_f4, sizeof(npy_scalar_f4), "x.npy", &t),
                 MINIRT_ERR_IO, "x.npy", "data is 5 bytes, shape scalar float32 needs 4", "extra");
    /* A lower per-tensor limit applies to files too. */
    ctx.max_tensor_bytes = 20;
    expect_error(&ctx, mr_npy_read_mem(&ctx, FX(npy_v1_f4_2x3), "x.npy", &t), MINIRT_ERR_LIMIT,
                 "x.npy", "exceeds the limit of 20 bytes", "max_tensor_bytes");
}

/* ---- writing ---- */

/* Every dtype at ranks 0..4 (and a zero-size shape) survives write + read unchanged. */
static void test_roundtrip(void **state) {
    (void)state;
    static const int dtypes[] = {MINIRT_FLOAT32, MINIRT_FLOAT64, MINIRT_INT32, MINIRT_INT64,
                                 MINIRT_UINT8,   MINIRT_INT8,    MINIRT_BOOL};
    static const int64_t all_dims[5] = {2, 3, 1, 5, 7};
    char path[512];
    tmp_path(path, sizeof(path), "rt.npy");
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    for (size_t d = 0; d < sizeof(dtypes) / sizeof(dtypes[0]); d++) {
        for (int rank = 0; rank <= 5; rank++) {
            /* rank 5 stands for the zero-size case 3x0x2 */
            int64_t zero_dims[3] = {3, 0, 2};
            const int64_t *dims = rank == 5 ? zero_dims : all_dims;
            int ndim = rank == 5 ? 3 : rank;
            size_t es = mr_dtype_size(dtypes[d]), n = 1;
            for (int i = 0; i < ndim; i++)
                n *= (size_t)dims[i];
            unsigned char *data = malloc(n * es + 1);
            assert_non_null(data);
            for (size_t i = 0; i < n * es; i++)
                data[i] = dtypes[d] == MINIRT_BOOL ? (unsigned char)(i % 3 == 0)
                                                   : (unsigned char)(i * 37 + 11);
            minirt_tensor w = {"ignored", (minirt_dtype)dtypes[d], (size_t)ndim, dims, data};
            mr_status st = mr_npy_write(&ctx, path, &w);
            if (st != MINIRT_OK) fail_msg("write: %s", ctx.err);

            /* The data starts at a multiple of 64 and the header ends with '\n'. */
            void *file;
            size_t flen;
            assert_int_equal(mr_read_file(&ctx, path, 0, &file, &flen), MINIRT_OK);
            assert_true(flen >= n * es + 64);
            assert_int_equal((flen - n * es) % 64, 0);
            assert_int_equal(((char *)file)[flen - n * es - 1], '\n');
            mr_free(&ctx, file);

            mr_io_tensor r;
            st = mr_npy_read(&ctx, path, &r);
            if (st != MINIRT_OK) fail_msg("read: %s", ctx.err);
            assert_shape(&r, dtypes[d], ndim, dims);
            assert_memory_equal(r.t.data, data, n * es);
            mr_io_free(&ctx, &r);
            free(data);
        }
    }
    remove(path);
}

/* mr_npy_write produces exactly the bytes numpy 1.24's np.save does. */
static void test_write_matches_numpy(void **state) {
    (void)state;
    const float f[6] = {0, 0.5f, 1, 1.5f, 2, 2.5f};
    const float s = 3.5f;
    const int64_t i8[5] = {-2, -1, 0, 1, 2};
    const unsigned char b1[4] = {1, 0, 0, 1};
    const unsigned char u1[3] = {0, 255, 7};
    const int64_t d23[2] = {2, 3}, d5[1] = {5}, d4[1] = {4}, d3[1] = {3}, d03[2] = {0, 3};
    const struct {
        minirt_tensor t;
        const char *want;
        size_t want_len;
    } cases[] = {
        {{NULL, MINIRT_FLOAT32, 2, d23, f}, FX(npy_v1_f4_2x3)},
        {{NULL, MINIRT_FLOAT32, 0, NULL, &s}, FX(npy_scalar_f4)},
        {{NULL, MINIRT_INT64, 1, d5, i8}, FX(npy_i8_5)},
        {{NULL, MINIRT_BOOL, 1, d4, b1}, FX(npy_b1_4)},
        {{NULL, MINIRT_UINT8, 1, d3, u1}, FX(npy_u1_3)},
        {{NULL, MINIRT_FLOAT32, 2, d03, NULL}, FX(npy_f4_0x3)},
    };
    char path[512];
    tmp_path(path, sizeof(path), "np.npy");
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        mr_status st = mr_npy_write(&ctx, path, &cases[c].t);
        if (st != MINIRT_OK) fail_msg("case %zu: %s", c, ctx.err);
        void *file;
        size_t flen;
        assert_int_equal(mr_read_file(&ctx, path, 0, &file, &flen), MINIRT_OK);
        assert_int_equal(flen, cases[c].want_len);
        assert_memory_equal(file, cases[c].want, flen);
        mr_free(&ctx, file);
    }
    remove(path);
}

static void test_write_errors(void **state) {
    (void)state;
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    char path[512], bad[512];
    tmp_path(path, sizeof(path), "w.npy");
    tmp_path(bad, sizeof(bad), "no/such/dir/w.npy");
    const float f[2] = {1, 2};
    const int64_t d2[1] = {2}, d9[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1}, dneg[1] = {-1};

    minirt_tensor t = {NULL, MINIRT_FLOAT32, 1, d2, f};
    expect_error(&ctx, mr_npy_write(&ctx, bad, &t), MINIRT_ERR_IO, bad, "cannot create",
                 "no such dir");
    minirt_tensor nodata = {NULL, MINIRT_FLOAT32, 1, d2, NULL};
    expect_error(&ctx, mr_npy_write(&ctx, path, &nodata), MINIRT_ERR_ARGUMENT, path, "no data",
                 "no data");
    minirt_tensor rank9 = {NULL, MINIRT_FLOAT32, 9, d9, f};
    expect_error(&ctx, mr_npy_write(&ctx, path, &rank9), MINIRT_ERR_LIMIT, path, "rank 9",
                 "rank 9");
    minirt_tensor neg = {NULL, MINIRT_FLOAT32, 1, dneg, f};
    expect_error(&ctx, mr_npy_write(&ctx, path, &neg), MINIRT_ERR_ARGUMENT, path, "negative",
                 "negative dim");
    minirt_tensor f16 = {NULL, (minirt_dtype)10, 1, d2, f};
    expect_error(&ctx, mr_npy_write(&ctx, path, &f16), MINIRT_ERR_UNSUPPORTED, path, "float16",
                 "float16");
    struct stat sb;
    assert_int_not_equal(stat(path, &sb), 0); /* nothing was created */

    /* A full disk: the write fails, and the device is left alone (only regular files are removed).
     */
    if (stat("/dev/full", &sb) == 0) {
        expect_error(&ctx, mr_npy_write(&ctx, "/dev/full", &t), MINIRT_ERR_IO, "/dev/full",
                     "write failed", "/dev/full");
        assert_int_equal(stat("/dev/full", &sb), 0);
    }
}

/* ---- whole files, dispatch and .pb ---- */

static void test_read_file(void **state) {
    (void)state;
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    char path[512], empty[512], missing[512];
    tmp_path(path, sizeof(path), "f.bin");
    tmp_path(empty, sizeof(empty), "empty.npy");
    tmp_path(missing, sizeof(missing), "missing.npy");
    unsigned char bytes[100];
    for (int i = 0; i < 100; i++)
        bytes[i] = (unsigned char)i;
    write_bytes(path, bytes, 100);
    write_bytes(empty, "", 0);

    void *data;
    size_t size;
    assert_int_equal(mr_read_file(&ctx, path, 100, &data, &size), MINIRT_OK);
    assert_int_equal(size, 100);
    assert_memory_equal(data, bytes, 100);
    mr_free(&ctx, data);
    expect_error(&ctx, mr_read_file(&ctx, path, 99, &data, &size), MINIRT_ERR_LIMIT, path,
                 "file is 100 bytes, over the limit of 99", "limit");
    assert_null(data);

    assert_int_equal(mr_read_file(&ctx, empty, 0, &data, &size), MINIRT_OK);
    assert_int_equal(size, 0);
    assert_non_null(data);
    mr_free(&ctx, data);

    expect_error(&ctx, mr_read_file(&ctx, missing, 0, &data, &size), MINIRT_ERR_IO, missing,
                 "cannot open: No such file", "missing");
    expect_error(&ctx, mr_read_file(&ctx, tmpdir, 0, &data, &size), MINIRT_ERR_IO, tmpdir,
                 "is a directory", "directory");

    /* Files of unknown size (devices, pipes) are read in chunks, still bounded. */
    if (access("/dev/zero", R_OK) == 0)
        expect_error(&ctx, mr_read_file(&ctx, "/dev/zero", 200000, &data, &size), MINIRT_ERR_LIMIT,
                     "/dev/zero", "over the limit of 200000", "/dev/zero");
    if (access("/dev/null", R_OK) == 0) {
        assert_int_equal(mr_read_file(&ctx, "/dev/null", 0, &data, &size), MINIRT_OK);
        assert_int_equal(size, 0);
        mr_free(&ctx, data);
    }

    /* The .npy readers on files: empty and missing. */
    mr_io_tensor t;
    expect_error(&ctx, mr_npy_read(&ctx, empty, &t), MINIRT_ERR_IO, empty, "empty", "empty npy");
    expect_error(&ctx, mr_npy_read(&ctx, missing, &t), MINIRT_ERR_IO, missing, "cannot open",
                 "missing npy");
    assert_null(t.t.data);
    remove(path);
    remove(empty);
}

static void test_file_dispatch(void **state) {
    (void)state;
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    char npy[512], upper[512], pb[512], badpb[512], txt[512];
    tmp_path(npy, sizeof(npy), "a.npy");
    tmp_path(upper, sizeof(upper), "A.NPY");
    tmp_path(pb, sizeof(pb), "x.pb");
    tmp_path(badpb, sizeof(badpb), "bad.pb");
    tmp_path(txt, sizeof(txt), "a.txt");
    write_bytes(npy, FX(npy_v1_f4_2x3));
    write_bytes(upper, FX(npy_v1_f4_2x3));
    write_bytes(pb, FX(pb_x_2x3));
    write_bytes(badpb, "\xff\xff\xff\xff", 4);
    write_bytes(txt, "1 2 3\n", 6);

    mr_io_tensor t;
    assert_int_equal(mr_tensor_file_read(&ctx, npy, &t), MINIRT_OK);
    assert_shape(&t, MINIRT_FLOAT32, 2, (const int64_t[]){2, 3});
    mr_io_free(&ctx, &t);
    assert_int_equal(mr_tensor_file_read(&ctx, upper, &t), MINIRT_OK);
    mr_io_free(&ctx, &t);

    mr_status st = mr_tensor_file_read(&ctx, pb, &t);
    if (st != MINIRT_OK) fail_msg("pb: %s", ctx.err);
    assert_int_equal(t.t.dtype, MINIRT_FLOAT32);
    assert_int_equal(t.t.ndim, 2);
    assert_int_equal(t.t.dims[0], 2);
    assert_int_equal(t.t.dims[1], 3);
    assert_non_null(t.name);
    assert_string_equal(t.name, "x");
    const float want[6] = {1, 2, 3, 4, 5, 6};
    mrt_assert_close(t.t.data, want, 6, 0, 0, "pb");
    mr_io_free(&ctx, &t);
    assert_null(t.name);

    expect_error(&ctx, mr_tensor_file_read(&ctx, badpb, &t), MINIRT_ERR_IO, badpb, "TensorProto",
                 "bad pb");
    assert_null(t.t.data);
    assert_null(t.name);

    expect_error(&ctx, mr_tensor_file_read(&ctx, txt, &t), MINIRT_ERR_ARGUMENT, txt,
                 "unknown tensor file type", "txt");
    expect_error(&ctx, mr_tensor_file_read(&ctx, "npy", &t), MINIRT_ERR_ARGUMENT, "npy",
                 "unknown tensor file type", "bare npy");
    expect_error(&ctx, mr_tensor_file_read(&ctx, "dir/.npy", &t), MINIRT_ERR_ARGUMENT, "dir/.npy",
                 "unknown tensor file type", "dotfile");
    remove(npy);
    remove(upper);
    remove(pb);
    remove(badpb);
    remove(txt);
}

/* ---- allocation failures ---- */

/* Fail each allocation of a read in turn: NOMEM, a message naming the file, nothing leaked. */
static void test_alloc_failure(void **state) {
    (void)state;
    char path[512];
    tmp_path(path, sizeof(path), "af.npy");
    write_bytes(path, FX(npy_fortran_i4_2x3x4));
    for (int kind = 0; kind < 2; kind++) {
        for (int n = 0;; n++) {
            mrt_fail_alloc a = {n, 0, 0};
            mr_ctx ctx;
            mr_ctx_init(&ctx, NULL);
            ctx.alloc = mrt_failing_alloc;
            ctx.alloc_user = &a;
            mr_io_tensor t;
            mr_status st = kind == 0 ? mr_npy_read(&ctx, path, &t)
                                     : mr_npy_read_mem(&ctx, FX(npy_fortran_i4_2x3x4), "m.npy", &t);
            if (st == MINIRT_OK) {
                assert_true(n > 0);
                assert_int_equal(a.live, 1);
                mr_io_free(&ctx, &t);
                assert_int_equal(a.live, 0);
                break;
            }
            expect_error(&ctx, st, MINIRT_ERR_NOMEM, kind == 0 ? path : "m.npy", "out of memory",
                         "alloc failure");
            assert_null(t.t.data);
            assert_int_equal(a.live, 0);
            assert_true(n < 10);
        }
    }
    remove(path);
}

static void test_free_zeroed(void **state) {
    (void)state;
    mr_ctx ctx;
    mr_ctx_init(&ctx, NULL);
    mr_io_tensor t;
    memset(&t, 0, sizeof(t));
    mr_io_free(&ctx, &t);
    mr_io_free(&ctx, NULL);
}

/* ---- runner ---- */

static int group_setup(void **state) {
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof(tmpdir), "%s/minirt_test_io_XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state) {
    (void)state;
    DIR *d = opendir(tmpdir);
    if (d) {
        struct dirent *e;
        char path[512];
        while ((e = readdir(d)) != NULL)
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                remove(tmp_path(path, sizeof(path), e->d_name));
        closedir(d);
    }
    return rmdir(tmpdir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numpy_v1),         cmocka_unit_test(test_numpy_v2_v3),
        cmocka_unit_test(test_numpy_big_endian), cmocka_unit_test(test_numpy_fortran),
        cmocka_unit_test(test_header_variants),  cmocka_unit_test(test_bad_prefix),
        cmocka_unit_test(test_bad_header),       cmocka_unit_test(test_bad_data_size),
        cmocka_unit_test(test_roundtrip),        cmocka_unit_test(test_write_matches_numpy),
        cmocka_unit_test(test_write_errors),     cmocka_unit_test(test_read_file),
        cmocka_unit_test(test_file_dispatch),    cmocka_unit_test(test_alloc_failure),
        cmocka_unit_test(test_free_zeroed),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
