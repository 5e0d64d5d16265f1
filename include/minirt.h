/*
 * minirt.h - the public C API of minirt, a small ONNX inference engine for convolutional networks.
 *
 * This header is the manual. A typical program:
 *
 *     minirt_session *s = NULL;
 *     if (minirt_open("model.onnx", NULL, &s) != MINIRT_OK) {
 *         fprintf(stderr, "%s\n", minirt_errmsg(s));
 *         minirt_close(s);
 *         return 1;
 *     }
 *     int64_t dims[4] = {1, 3, 224, 224};
 *     minirt_tensor in = {NULL, MINIRT_FLOAT32, 4, dims, pixels};
 *     if (minirt_run(s, &in, 1) == MINIRT_OK) {
 *         minirt_tensor out;
 *         minirt_get_output(s, 0, &out);   // out.data is owned by the session
 *     }
 *     minirt_close(s);
 *
 * Conventions
 * - Every fallible call returns a minirt_status; MINIRT_OK is 0. After a failure,
 *   minirt_errmsg(session) describes it, naming the node, operator and value at fault.
 * - Nothing in the library calls exit(), abort() or assert() on anything a model or an input
 * controls.
 * - The library has no global mutable state: different sessions may be used from different threads
 * at the same time. One session must not be used by two threads at once.
 * - Ownership: inputs passed to minirt_run are borrowed until it returns; outputs are owned by the
 *   session and stay valid until the next minirt_run or minirt_close on it; the model's weights are
 *   copied at open, so the file or buffer may be released as soon as minirt_open returns.
 */
#ifndef MINIRT_H
#define MINIRT_H

#include <stddef.h>
#include <stdint.h>

#include "minirt_version.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(MINIRT_STATIC_DEFINE)
#define MINIRT_API
#elif defined(_WIN32)
#define MINIRT_API __declspec(dllimport)
#else
#define MINIRT_API __attribute__((visibility("default")))
#endif

/* Result of every fallible call. */
typedef enum minirt_status {
    MINIRT_OK = 0,
    MINIRT_ERR_ARGUMENT = 1,    /* a caller passed a bad argument (NULL, wrong count, index) */
    MINIRT_ERR_IO = 2,          /* a file could not be opened or read */
    MINIRT_ERR_MODEL = 3,       /* the model is malformed or inconsistent */
    MINIRT_ERR_UNSUPPORTED = 4, /* valid ONNX that minirt does not implement (op, opset, type) */
    MINIRT_ERR_SHAPE = 5,   /* shapes do not agree (an input, or shapes inferred in the graph) */
    MINIRT_ERR_NOMEM = 6,   /* an allocation failed */
    MINIRT_ERR_LIMIT = 7,   /* a size exceeds a limit or overflows */
    MINIRT_ERR_INTERNAL = 8 /* a bug in minirt; please report it */
} minirt_status;

/* Element types; the values are ONNX's TensorProto.DataType codes. */
typedef enum minirt_dtype {
    MINIRT_FLOAT32 = 1,
    MINIRT_UINT8 = 2,
    MINIRT_INT8 = 3,
    MINIRT_INT32 = 6,
    MINIRT_INT64 = 7,
    MINIRT_BOOL = 9,
    MINIRT_FLOAT64 = 11
} minirt_dtype;

/* Largest tensor rank minirt handles. */
#define MINIRT_MAX_DIMS 8

/*
 * A dense, C-order (row-major) tensor, used both to pass inputs and to read outputs.
 * name:  for inputs, the graph input to bind, or NULL to bind by position; for outputs, the graph
 *        output's name (owned by the session).
 * dims:  ndim extents; for inputs borrowed from the caller until minirt_run returns; for outputs
 * owned by the session. data:  the elements; same ownership as dims.
 */
typedef struct minirt_tensor {
    const char *name;
    minirt_dtype dtype;
    size_t ndim;
    const int64_t *dims;
    const void *data;
} minirt_tensor;

/*
 * Allocation hook. Every allocation minirt makes for a session goes through it. realloc-like:
 * ptr == NULL allocates size bytes; size == 0 frees ptr (old_size bytes) and returns NULL. minirt
 * only ever allocates and frees (never resizes a live block). No particular alignment is required:
 * minirt aligns its tensors itself. Returning NULL makes the call in progress fail with
 * MINIRT_ERR_NOMEM. user is passed through untouched. The hook must be usable from the thread using
 * the session.
 */
typedef void *(*minirt_alloc_fn)(void *user, void *ptr, size_t old_size, size_t size);

/*
 * Session options. Always initialise with minirt_options_init() and then set fields; new fields are
 * only ever added at the end, and struct_size tells the library which ones a caller knows about.
 */
typedef struct minirt_options {
    size_t struct_size;    /* set by minirt_options_init to sizeof(minirt_options) */
    int threads;           /* threads this session runs each layer on: the calling thread plus
                              threads - 1 workers the session starts at open and stops at close
                              (they sleep between runs). Outputs are bit-identical for any count.
                              When > 0, minirt calls OpenBLAS single-threaded and sets its thread
                              count to 1, which OpenBLAS keeps process-wide; 0 = one thread, and
                              OpenBLAS's own setting is left as it is (it may thread the GEMMs).
                              OpenBLAS starts threads of its own when it loads, which poll for work
                              for about 0.1 s: programs using threads > 1 should run with
                              OPENBLAS_NUM_THREADS=1 in their environment (the CLI stops
                              OpenBLAS's threads itself). */
    minirt_alloc_fn alloc; /* NULL = the C library's allocator */
    void *alloc_user;      /* passed to alloc */
    int64_t
        max_tensor_bytes;    /* largest single tensor the model may declare or produce; 0 = 4 GiB */
    int64_t max_total_bytes; /* cap on weights + activations + workspace; 0 = 16 GiB */
    int64_t max_nodes;       /* most nodes a graph may have (after inlining functions); 0 = 2^20 */
    int max_nesting_depth;   /* deepest message nesting in the file (sub-graphs); 0 = 64 */
    int profile;             /* nonzero: time every node of every run (minirt_profile_*) */
    int optimize;            /* graph optimization: 0 = run as written, 1 = remove Identity and
                                inference Dropout, 2 = also fuse BatchNormalization, residual Add
                                and activations into Conv. minirt_options_init sets 2. */
} minirt_options;

/* Fill o with the defaults. */
MINIRT_API void minirt_options_init(minirt_options *o);

/* Opaque session: one loaded model, planned and ready to run. */
typedef struct minirt_session minirt_session;

/*
 * Load, validate and plan the ONNX model in the file at path.
 * options may be NULL for the defaults; it is read during the call only.
 * On return *out is a session handle even on failure (so minirt_errmsg can explain it), except when
 * the handle itself cannot be allocated: then *out is NULL and MINIRT_ERR_NOMEM is returned. The
 * caller must call minirt_close(*out) in every case. Returns MINIRT_OK, or MINIRT_ERR_ARGUMENT,
 * _IO, _MODEL, _UNSUPPORTED, _SHAPE, _NOMEM, _LIMIT.
 */
MINIRT_API minirt_status minirt_open(const char *path, const minirt_options *options,
                                     minirt_session **out);

/* As minirt_open, from a serialized ModelProto in memory (borrowed during the call only). */
MINIRT_API minirt_status minirt_open_memory(const void *data, size_t size,
                                            const minirt_options *options, minirt_session **out);

/* Free the session and everything it owns. NULL is a no-op. */
MINIRT_API void minirt_close(minirt_session *s);

/*
 * Text of the last error on s (or "" after success). Owned by the session; valid until the next
 * call on s. For s == NULL returns a message about a failed allocation of the session itself.
 */
MINIRT_API const char *minirt_errmsg(const minirt_session *s);

/*
 * Everything minirt_open found wrong. Open does not stop at the first unsupported operator or bad
 * attribute: it records each problem (one line per unsupported operator type, listing its nodes,
 * and one per node whose attributes cannot be used) and minirt_errmsg gives the first with a count
 * of the rest. minirt_problem returns problem i (0 <= i < count) or NULL; the text is owned by the
 * session and lives until minirt_close. Count is 0 after a successful open.
 */
MINIRT_API size_t minirt_problem_count(const minirt_session *s);
MINIRT_API const char *minirt_problem(const minirt_session *s, size_t i);

/*
 * A one-line description of an opened model: node count, op types with counts, parameter count,
 * inputs with declared shapes ('?' for symbolic dims) and outputs. Owned by the session, valid
 * until minirt_close; NULL if the session did not open or on allocation failure.
 */
MINIRT_API const char *minirt_summary(minirt_session *s);

/* Short name of a status code ("ok", "model error", ...); a static string. */
MINIRT_API const char *minirt_status_string(minirt_status status);

/*
 * The model's runtime inputs (graph inputs that are not initializers) and its outputs, in graph
 * order. minirt_get_input_info fills *info with the declared name, type and dims; a symbolic or
 * unknown dim is -1. The pointers in *info are owned by the session and live until minirt_close.
 * Returns MINIRT_OK or MINIRT_ERR_ARGUMENT for a bad index.
 */
MINIRT_API size_t minirt_input_count(const minirt_session *s);
MINIRT_API minirt_status minirt_get_input_info(minirt_session *s, size_t i, minirt_tensor *info);
MINIRT_API size_t minirt_output_count(const minirt_session *s);
/*
 * As minirt_get_input_info, for graph output i as the model declares it: name, element type (0 if
 * the model declares none) and dims (-1 where symbolic or unknown; ndim 0 and dims NULL when the
 * model declares no shape). The shapes a run produced are in minirt_get_output. Owned by the
 * session until minirt_close. Returns MINIRT_OK or MINIRT_ERR_ARGUMENT for a bad index.
 */
MINIRT_API minirt_status minirt_get_output_info(minirt_session *s, size_t i, minirt_tensor *info);

/*
 * Run the model. inputs[0..n) are bound by name when .name is non-NULL, otherwise by position among
 * the runtime inputs; every runtime input must be bound exactly once. Input data is borrowed until
 * the call returns and is never written. When an input's dims differ from the previous run, shapes
 * are inferred and memory re-planned; a repeated shape runs without allocating. Returns MINIRT_OK,
 * or MINIRT_ERR_ARGUMENT (count, names, types), _SHAPE, _NOMEM, _LIMIT.
 */
MINIRT_API minirt_status minirt_run(minirt_session *s, const minirt_tensor *inputs, size_t n);

/*
 * Read output i of the last successful run into *out. The name, dims and data are owned by the
 * session and valid until the next minirt_run or minirt_close. Returns MINIRT_OK, or
 * MINIRT_ERR_ARGUMENT for a bad index or when no run has succeeded yet.
 */
MINIRT_API minirt_status minirt_get_output(minirt_session *s, size_t i, minirt_tensor *out);

/*
 * Profiling, for a session opened with options.profile set (otherwise MINIRT_ERR_ARGUMENT / NULL).
 * minirt_profile_write_trace writes the last run's per-node timings to path as Chrome trace-event
 * JSON (open it in Perfetto): node name, op type, algorithm, input/output shapes, GFLOP.
 * minirt_profile_summary returns a table per op type and algorithm over the profiled runs since the
 * last re-plan (time per run, share, GFLOP/s); owned by the session, valid until the next call on
 * it or minirt_close.
 */
MINIRT_API minirt_status minirt_profile_write_trace(minirt_session *s, const char *path);
MINIRT_API const char *minirt_profile_summary(minirt_session *s);

/* The library's version, "MAJOR.MINOR.PATCH" (a static string); compare with MINIRT_VERSION_STRING.
 */
MINIRT_API const char *minirt_version(void);

#ifdef __cplusplus
}
#endif

#endif /* MINIRT_H */
