/*
 * test_external.c - initializers stored as external data beside the model: the good path, and every
 * way a location may try to leave the model's directory (absolute path, "..", a symbolic link or a
 * hard link to a file outside), a missing file, bad offset/length strings and ranges past the
 * file's end.
 */
#define _XOPEN_SOURCE 700
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mb.h"
#include "mrt.h"

static char root[256]; /* temp dir: root/outside.bin and root/m/ (the model's directory) */
static char mdir[300];

static void write_file(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static const float weights[4] = {1.5f, -2.0f, 3.25f, 4.0f};

static int setup(void **state) {
    (void)state;
    snprintf(root, sizeof(root), "/tmp/minirt_ext_XXXXXX");
    if (!mkdtemp(root)) return -1;
    snprintf(mdir, sizeof(mdir), "%s/m", root);
    char p[400];
    if (mkdir(mdir, 0700) != 0) return -1;
    snprintf(p, sizeof(p), "%s/sub", mdir);
    if (mkdir(p, 0700) != 0) return -1;
    /* weights.bin: 8 bytes of padding then the four floats */
    unsigned char buf[8 + sizeof(weights)] = {0};
    memcpy(buf + 8, weights, sizeof(weights));
    snprintf(p, sizeof(p), "%s/weights.bin", mdir);
    write_file(p, buf, sizeof(buf));
    snprintf(p, sizeof(p), "%s/sub/w.bin", mdir);
    write_file(p, weights, sizeof(weights));
    snprintf(p, sizeof(p), "%s/outside.bin", root);
    write_file(p, weights, sizeof(weights));
    /* links: one leading outside, one staying inside, one hard link to the outside file */
    char target[400];
    snprintf(p, sizeof(p), "%s/escape.bin", mdir);
    snprintf(target, sizeof(target), "%s/outside.bin", root);
    if (symlink(target, p) != 0) return -1;
    snprintf(p, sizeof(p), "%s/inner_link.bin", mdir);
    if (symlink("sub/w.bin", p) != 0) return -1;
    snprintf(p, sizeof(p), "%s/hard.bin", mdir);
    if (link(target, p) != 0) return -1;
    return 0;
}

static int teardown(void **state) {
    (void)state;
    const char *names[] = {"m/weights.bin",    "m/sub/w.bin", "m/escape.bin",
                           "m/inner_link.bin", "m/hard.bin",  "m/model.onnx",
                           "outside.bin",      "m/sub",       "m"};
    char p[400];
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", root, names[i]);
        if (unlink(p) != 0) rmdir(p);
    }
    rmdir(root);
    return 0;
}

/* y = x + c, where c[4] lives at location/offset/length (NULL = key absent). */
static void build(mb *b, const char *location, const char *offset, const char *length) {
    static const int64_t d[1] = {4};
    mb_init(b, 13);
    mb_input(b, "x", 1, d);
    Onnx__TensorProto *t = mb_alloc(b, sizeof(*t));
    onnx__tensor_proto__init(t);
    t->name = mb_str(b, "c");
    t->has_data_type = 1;
    t->data_type = MINIRT_FLOAT32;
    t->n_dims = 1;
    t->dims = mb_alloc(b, sizeof(int64_t));
    t->dims[0] = 4;
    t->has_data_location = 1;
    t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    t->external_data = mb_alloc(b, 3 * sizeof(void *));
    const char *keys[3] = {"location", "offset", "length"};
    const char *vals[3] = {location, offset, length};
    for (int i = 0; i < 3; i++) {
        if (!vals[i]) continue;
        Onnx__StringStringEntryProto *e = mb_alloc(b, sizeof(*e));
        onnx__string_string_entry_proto__init(e);
        e->key = mb_str(b, keys[i]);
        e->value = mb_str(b, vals[i]);
        t->external_data[t->n_external_data++] = e;
    }
    mb_init_tensor(b, t);
    mb_node(b, "Add", "add", "x,c", "y");
    mb_output(b, "y");
}

/* Write the model into the model directory and open it from there. */
static minirt_status open_file(mb *b, minirt_session **s) {
    size_t len;
    uint8_t *buf = mb_pack(b, &len);
    char p[400];
    snprintf(p, sizeof(p), "%s/model.onnx", mdir);
    write_file(p, buf, len);
    return minirt_open(p, NULL, s);
}

static void expect_ok(const char *location, const char *offset, const char *length) {
    mb b;
    build(&b, location, offset, length);
    minirt_session *s = NULL;
    if (open_file(&b, &s) != MINIRT_OK) fail_msg("%s: %s", location, minirt_errmsg(s));
    static const int64_t d[1] = {4};
    float x[4] = {1, 1, 1, 1}, want[4];
    for (int i = 0; i < 4; i++)
        want[i] = weights[i] + 1;
    minirt_tensor in = {NULL, MINIRT_FLOAT32, 1, d, x}, out;
    assert_int_equal(minirt_run(s, &in, 1), MINIRT_OK);
    assert_int_equal(minirt_get_output(s, 0, &out), MINIRT_OK);
    mrt_assert_close(out.data, want, 4, 0, 0, location);
    minirt_close(s);
    mb_free(&b);
}

static void expect_refused(const char *location, const char *offset, const char *length,
                           minirt_status status, const char *msg) {
    mb b;
    build(&b, location, offset, length);
    minirt_session *s = NULL;
    minirt_status st = open_file(&b, &s);
    if (st != status || !strstr(minirt_errmsg(s), msg))
        fail_msg("%s: got %d '%s', want %d with '%s'", location, st, minirt_errmsg(s), status, msg);
    minirt_close(s);
    mb_free(&b);
}

static void test_external_ok(void **state) {
    (void)state;
    expect_ok("weights.bin", "8", "16");
    expect_ok("weights.bin", "8", NULL);
    expect_ok("sub/w.bin", NULL, NULL);
    expect_ok("./sub//w.bin", "0", "16");
    expect_ok("inner_link.bin", NULL, "16"); /* a link that stays inside is fine */
}

static void test_external_escapes(void **state) {
    (void)state;
    const minirt_status M = MINIRT_ERR_MODEL;
    expect_refused("/etc/passwd", NULL, NULL, M, "must be a relative path inside");
    expect_refused("../outside.bin", NULL, NULL, M, "no '..'");
    expect_refused("sub/../../outside.bin", NULL, NULL, M, "no '..'");
    expect_refused("sub/..", NULL, NULL, M, "no '..'");
    expect_refused("escape.bin", NULL, NULL, M, "outside the model's directory; refused");
    expect_refused("hard.bin", NULL, NULL, M, "has 2 hard links; refused");
    expect_refused("", NULL, NULL, M, "must be a relative path");
}

static void test_external_bad_ranges(void **state) {
    (void)state;
    const minirt_status M = MINIRT_ERR_MODEL;
    expect_refused("missing.bin", NULL, NULL, MINIRT_ERR_IO,
                   "cannot open external data 'missing.bin'");
    expect_refused("sub", NULL, NULL, MINIRT_ERR_IO, "is not a regular file");
    expect_refused("weights.bin", "12", NULL, M, "offset 12 + 16 bytes runs past its end");
    expect_refused("weights.bin", "99999999999999999999", NULL, M,
                   "offset '99999999999999999999' is not valid");
    expect_refused("weights.bin", "-8", NULL, M, "offset '-8' is not valid");
    expect_refused("weights.bin", "8", "12", M, "length is 12 bytes but its shape needs 16");
    expect_refused("weights.bin", "8", "1x", M, "length '1x' is not valid");
    /* no location key at all */
    expect_refused(NULL, "0", NULL, M, "external data has no location");
}

static void test_external_from_memory(void **state) {
    (void)state;
    mb b;
    build(&b, "weights.bin", "8", "16");
    expect_open_error(&b, MINIRT_ERR_ARGUMENT, "needs the model to be opened from a file");
    mb_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_external_ok),
        cmocka_unit_test(test_external_escapes),
        cmocka_unit_test(test_external_bad_ranges),
        cmocka_unit_test(test_external_from_memory),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
