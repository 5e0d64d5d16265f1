/*
 * classify.c - classify one image with an ONNX classifier: read the image tensor from a numpy .npy
 * file (float32, C order, already resized and normalised to the model's input shape), run the
 * model, and print the five most likely classes and the top one.
 *
 * usage: classify MODEL.onnx IMAGE.npy
 * e.g.   classify models/small_cnn/model.onnx models/small_cnn/input_0.npy
 *
 * The .npy reader below is deliberately tiny and strict (format 1.0-3.0, '<f4', C order): enough
 * for `numpy.save("image.npy", x.astype(numpy.float32))`. Everything else is minirt's public API.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minirt.h"

#define TOPK 5

/* Read a little-endian float32 C-order .npy file: *data (malloc'd), ndim and dims. 0 on success;
 * otherwise -1 with a reason in why. */
static int npy_read_f32(const char *path, float **data, size_t *ndim, int64_t *dims, char *why,
                        size_t why_len) {
    FILE *f = fopen(path, "rb");
    unsigned char pre[12];
    char *header = NULL;
    *data = NULL;
    if (!f) {
        snprintf(why, why_len, "cannot open '%s'", path);
        return -1;
    }
    int rc = -1;
    size_t hlen = 0;
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0 || pre[6] < 1 ||
        pre[6] > 3) {
        snprintf(why, why_len, "'%s' is not a .npy file (format 1.0 to 3.0)", path);
        goto done;
    }
    if (pre[6] == 1) {
        hlen = (size_t)pre[8] | (size_t)pre[9] << 8;
    } else { /* formats 2.0 and 3.0: a 4-byte header length */
        if (fread(pre + 10, 1, 2, f) != 2) goto truncated;
        hlen = (size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
    }
    if (hlen > 65536 || !(header = malloc(hlen + 1))) goto truncated;
    if (fread(header, 1, hlen, f) != hlen) goto truncated;
    header[hlen] = '\0';
    /* the header is a Python dict literal: {'descr': '<f4', 'fortran_order': False, 'shape': (..),}
     */
    const char *descr = strstr(header, "'descr':"), *order = strstr(header, "'fortran_order':");
    const char *shape = strstr(header, "'shape':");
    if (!descr || !strstr(descr, "'<f4'") || strstr(descr, "'<f4'") - descr > 12 || !order ||
        strncmp(order + 16 + strspn(order + 16, " "), "False", 5) != 0 || !shape) {
        snprintf(why, why_len, "'%s': need a float32 ('<f4') C-order array; header: %s", path,
                 header);
        goto done;
    }
    const char *p = strchr(shape, '(');
    size_t count = 1;
    *ndim = 0;
    for (p = p ? p + 1 : shape; p && *p && *p != ')';) {
        char *end;
        long long d = strtoll(p, &end, 10);
        if (end == p || d < 0 || *ndim == MINIRT_MAX_DIMS) break;
        dims[(*ndim)++] = d;
        count *= (size_t)d;
        p = end + strspn(end, ", ");
    }
    if (!p || *p != ')') {
        snprintf(why, why_len, "'%s': cannot read the shape in header %s", path, header);
        goto done;
    }
    if (!(*data = malloc(count ? count * sizeof(float) : 1)) ||
        fread(*data, sizeof(float), count, f) != count)
        goto truncated;
    rc = 0; /* (this example assumes a little-endian host, as x86-64 and arm64 are) */
    goto done;
truncated:
    snprintf(why, why_len, "'%s' is truncated", path);
done:
    if (rc != 0) {
        free(*data);
        *data = NULL;
    }
    free(header);
    fclose(f);
    return rc;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s MODEL.onnx IMAGE.npy\n", argv[0]);
        return 2;
    }
    char why[512];
    float *pixels = NULL;
    size_t ndim = 0;
    int64_t dims[MINIRT_MAX_DIMS];
    if (npy_read_f32(argv[2], &pixels, &ndim, dims, why, sizeof(why)) != 0) {
        fprintf(stderr, "classify: %s\n", why);
        return 1;
    }

    minirt_session *s = NULL;
    minirt_status st = minirt_open(argv[1], NULL, &s);
    if (st != MINIRT_OK) {
        fprintf(stderr, "classify: %s: %s\n", minirt_status_string(st), minirt_errmsg(s));
        minirt_close(s);
        free(pixels);
        return 1;
    }
    printf("minirt %s: %s\n", minirt_version(), minirt_summary(s));

    /* One input, bound by position; minirt checks its type and shape against the model. */
    minirt_tensor in = {NULL, MINIRT_FLOAT32, ndim, dims, pixels};
    st = minirt_run(s, &in, 1);
    free(pixels); /* borrowed only until minirt_run returns */
    minirt_tensor out;
    if (st == MINIRT_OK) st = minirt_get_output(s, 0, &out);
    if (st != MINIRT_OK) {
        fprintf(stderr, "classify: %s: %s\n", minirt_status_string(st), minirt_errmsg(s));
        minirt_close(s);
        return 1;
    }

    /* Scores for K classes: shape K or 1xK. */
    size_t k = out.ndim == 1 ? (size_t)out.dims[0] : out.ndim == 2 ? (size_t)out.dims[1] : 0;
    if (out.dtype != MINIRT_FLOAT32 || k < 2 || (out.ndim == 2 && out.dims[0] != 1)) {
        fprintf(stderr, "classify: output '%s' is not a 1xK float32 score vector\n", out.name);
        minirt_close(s);
        return 1;
    }
    const float *score = out.data; /* owned by the session until the next run or close */

    /* Probabilities: the scores themselves if they already are (a model ending in Softmax),
     * otherwise a softmax of the logits. */
    double max = score[0], sum = 0;
    int is_prob = 1;
    for (size_t i = 0; i < k; i++) {
        max = score[i] > max ? score[i] : max;
        sum += score[i];
        is_prob &= score[i] >= 0 && score[i] <= 1;
    }
    is_prob &= fabs(sum - 1) < 1e-3;
    double z = 0;
    for (size_t i = 0; i < k && !is_prob; i++)
        z += exp(score[i] - max);

    size_t best[TOPK];
    size_t n_best = 0;
    for (size_t i = 0; i < k; i++) { /* insertion into the top-TOPK list, best first */
        size_t j;
        if (n_best < TOPK)
            j = n_best++;
        else if (score[i] > score[best[TOPK - 1]])
            j = TOPK - 1;
        else
            continue;
        for (; j > 0 && score[best[j - 1]] < score[i]; j--)
            best[j] = best[j - 1];
        best[j] = i;
    }
    printf("output '%s': %zu classes (%s); top-%zu:\n", out.name, k,
           is_prob ? "probabilities" : "logits, softmax applied", n_best);
    for (size_t j = 0; j < n_best; j++) {
        double p = is_prob ? score[best[j]] : exp(score[best[j]] - max) / z;
        printf("  class %3zu  p=%.4f  score=%.5f\n", best[j], p, score[best[j]]);
    }
    printf("top class: %zu\n", best[0]);
    minirt_close(s);
    return 0;
}
