"""minirt - run ONNX models from Python on minirt's C library, with numpy arrays in and out.

    import numpy as np
    import minirt

    with minirt.Session("model.onnx") as sess:
        print(sess.inputs)  # [TensorInfo(name='input', dtype=float32, shape=(None, 3, 224, 224))]
        out = sess.run({"input": np.zeros((1, 3, 224, 224), np.float32)})
        print(out["output"].shape)

A thin ctypes layer over the shared library (libminirt.so); numpy is its only dependency. The
library is found, in order: at the path in the environment variable MINIRT_LIBRARY; next to this
package; in build/ of the source tree this package sits in; by the system's loader.

Outputs are copied out of the session's buffers, so they stay valid after the next run or close.
Every failure raises minirt.Error carrying the library's status and message.
"""

import ctypes
import ctypes.util
import enum
import os
import threading
from collections import namedtuple

import numpy as np

__all__ = ["Session", "Error", "Status", "TensorInfo", "version", "library_path"]


class Status(enum.IntEnum):
    """minirt_status: the result code of every fallible C call."""

    OK = 0
    ERR_ARGUMENT = 1
    ERR_IO = 2
    ERR_MODEL = 3
    ERR_UNSUPPORTED = 4
    ERR_SHAPE = 5
    ERR_NOMEM = 6
    ERR_LIMIT = 7
    ERR_INTERNAL = 8


class Error(Exception):
    """A failed minirt call.

    status:      a Status (ERR_IO, ERR_MODEL, ...)
    status_name: the library's short name for it ("I/O error", "invalid model", ...)
    message:     minirt_errmsg's text, naming the node, operator and value at fault
    problems:    for a failed open, every problem found (minirt_problem), else ()
    """

    def __init__(self, status, message, problems=()):
        self.status = Status(status) if status in Status._value2member_map_ else status
        self.status_name = _status_string(status)
        self.message = message
        self.problems = tuple(problems)
        text = "%s: %s" % (self.status_name, message)
        if len(self.problems) > 1:
            text += "\n  " + "\n  ".join(self.problems)
        super().__init__(text)


# A graph input or output as declared in the model: shape dims are None where symbolic; dtype is a
# numpy dtype, or None when the model declares no type (or one numpy cannot hold).
TensorInfo = namedtuple("TensorInfo", ["name", "dtype", "shape"])

# minirt_dtype (ONNX TensorProto.DataType codes) <-> numpy
_DTYPES = {
    1: np.dtype(np.float32),
    2: np.dtype(np.uint8),
    3: np.dtype(np.int8),
    6: np.dtype(np.int32),
    7: np.dtype(np.int64),
    9: np.dtype(np.bool_),
    11: np.dtype(np.float64),
}
_CODES = {dt: code for code, dt in _DTYPES.items()}

_MAX_DIMS = 8  # MINIRT_MAX_DIMS


# ---- C declarations (include/minirt.h) ----

class _Tensor(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("dtype", ctypes.c_int),  # an enum: int-sized on every ABI minirt builds for
        ("ndim", ctypes.c_size_t),
        ("dims", ctypes.POINTER(ctypes.c_int64)),
        ("data", ctypes.c_void_p),
    ]


class _Options(ctypes.Structure):
    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("threads", ctypes.c_int),
        ("alloc", ctypes.c_void_p),
        ("alloc_user", ctypes.c_void_p),
        ("max_tensor_bytes", ctypes.c_int64),
        ("max_total_bytes", ctypes.c_int64),
        ("max_nodes", ctypes.c_int64),
        ("max_nesting_depth", ctypes.c_int),
        ("profile", ctypes.c_int),
        ("optimize", ctypes.c_int),
    ]


# Room for minirt_options_init to fill a newer library's (larger) options struct.
_OPTIONS_BUFFER = 1024

_PKG_DIR = os.path.dirname(os.path.abspath(__file__))
_LIB_NAMES = ("libminirt.so", "libminirt.so.0", "libminirt.dylib")


def _candidates():
    env = os.environ.get("MINIRT_LIBRARY")
    if env:
        return [env]  # an explicit choice: do not silently fall back to another library
    found = []
    repo_build = os.path.join(os.path.dirname(os.path.dirname(_PKG_DIR)), "build")
    for d in (_PKG_DIR, repo_build):
        found += [os.path.join(d, n) for n in _LIB_NAMES if os.path.exists(os.path.join(d, n))]
    system = ctypes.util.find_library("minirt")
    found += [system] if system else ["libminirt.so.0"]
    return found


def _load():
    # OpenBLAS starts worker threads of its own when it loads, which poll for work for about 0.1 s
    # and compete with minirt's threads (minirt calls OpenBLAS single-threaded). OpenBLAS reads
    # this only at load, so set it before loading, unless the user chose a value (or numpy loaded
    # OpenBLAS already, in which case this changes nothing).
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    errors = []
    for path in _candidates():
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            errors.append("%s: %s" % (path, e))
    raise ImportError("minirt: cannot load the shared library libminirt.so (set MINIRT_LIBRARY "
                      "to its path):\n  " + "\n  ".join(errors))


_lib, _lib_path = _load()


def _declare(name, restype, *argtypes, optional=False):
    try:
        fn = getattr(_lib, name)
    except AttributeError:
        if optional:
            return None
        raise
    fn.restype = restype
    fn.argtypes = list(argtypes)
    return fn


_P = ctypes.c_void_p  # minirt_session *
_S = ctypes.c_int     # minirt_status
_minirt_options_init = _declare("minirt_options_init", None, ctypes.c_void_p)
_minirt_open = _declare("minirt_open", _S, ctypes.c_char_p, ctypes.c_void_p, ctypes.POINTER(_P))
_minirt_close = _declare("minirt_close", None, _P)
_minirt_errmsg = _declare("minirt_errmsg", ctypes.c_char_p, _P)
_minirt_problem_count = _declare("minirt_problem_count", ctypes.c_size_t, _P)
_minirt_problem = _declare("minirt_problem", ctypes.c_char_p, _P, ctypes.c_size_t)
_minirt_summary = _declare("minirt_summary", ctypes.c_char_p, _P)
_minirt_status_string = _declare("minirt_status_string", ctypes.c_char_p, _S)
_minirt_input_count = _declare("minirt_input_count", ctypes.c_size_t, _P)
_minirt_get_input_info = _declare("minirt_get_input_info", _S, _P, ctypes.c_size_t,
                                  ctypes.POINTER(_Tensor))
_minirt_output_count = _declare("minirt_output_count", ctypes.c_size_t, _P)
_minirt_get_output_info = _declare("minirt_get_output_info", _S, _P, ctypes.c_size_t,
                                   ctypes.POINTER(_Tensor), optional=True)
_minirt_run = _declare("minirt_run", _S, _P, ctypes.POINTER(_Tensor), ctypes.c_size_t)
_minirt_get_output = _declare("minirt_get_output", _S, _P, ctypes.c_size_t,
                              ctypes.POINTER(_Tensor))
_minirt_version = _declare("minirt_version", ctypes.c_char_p)


def _text(b):
    return b.decode("utf-8", "replace") if b is not None else ""


def _status_string(status):
    return _text(_minirt_status_string(int(status)))


def version():
    """The loaded library's version, "MAJOR.MINOR.PATCH"."""
    return _text(_minirt_version())


def library_path():
    """The path (or loader name) of the shared library this package loaded."""
    return _lib_path


def _info(t):
    """TensorInfo from a filled minirt_tensor (declared dims: -1 = symbolic)."""
    shape = None
    # a value declared without a shape comes back with dims NULL (or, from older libraries, an
    # impossible rank)
    if t.ndim <= _MAX_DIMS and (t.ndim or t.dims):
        shape = tuple(None if t.dims[i] < 0 else int(t.dims[i]) for i in range(t.ndim))
    return TensorInfo(_text(t.name), _DTYPES.get(t.dtype), shape)


class Session:
    """One loaded model, ready to run.

    Session(path, threads=None, optimize=None)
      threads:  BLAS threads for this session's runs (None: leave OpenBLAS's setting; note that
                OpenBLAS keeps the setting process-wide)
      optimize: graph optimization level 0, 1 or 2 (None: the library's default, 2)
    Raises Error when the model cannot be loaded; e.problems lists everything open found wrong.

    A session may be used from any thread, one call at a time (calls are serialised by a lock);
    different sessions run in parallel. Close it with close(), a with-block, or let it be collected.
    """

    def __init__(self, path, threads=None, optimize=None):
        self._handle = None
        self._lock = threading.Lock()
        buf = ctypes.create_string_buffer(_OPTIONS_BUFFER)
        _minirt_options_init(buf)
        opts = _Options.from_buffer(buf)
        if opts.struct_size < ctypes.sizeof(_Options):
            raise Error(Status.ERR_ARGUMENT, "libminirt at %s is older than this binding "
                        "(options struct of %d bytes)" % (_lib_path, opts.struct_size))
        if threads is not None:
            if int(threads) < 1:
                raise Error(Status.ERR_ARGUMENT, "threads must be at least 1, got %r" % threads)
            opts.threads = int(threads)
        if optimize is not None:
            if int(optimize) not in (0, 1, 2):
                raise Error(Status.ERR_ARGUMENT,
                            "optimize must be 0, 1 or 2, got %r" % optimize)
            opts.optimize = int(optimize)
        handle = _P()
        st = _minirt_open(os.fsencode(path), buf, ctypes.byref(handle))
        if st != Status.OK:
            # the handle exists even on failure (unless the session itself could not be
            # allocated) and holds the message
            msg = _text(_minirt_errmsg(handle))
            problems = [_text(_minirt_problem(handle, i))
                        for i in range(_minirt_problem_count(handle))]
            _minirt_close(handle)
            raise Error(st, msg, problems)
        self._handle = handle
        self.path = os.fspath(path)
        self.inputs = self._read_inputs()
        self.outputs = self._read_outputs()

    # ---- introspection ----

    def _read_inputs(self):
        infos = []
        for i in range(_minirt_input_count(self._handle)):
            t = _Tensor()
            self._check(_minirt_get_input_info(self._handle, i, ctypes.byref(t)))
            infos.append(_info(t))
        return infos

    def _read_outputs(self):
        n = _minirt_output_count(self._handle)
        if _minirt_get_output_info is not None:
            infos = []
            for i in range(n):
                t = _Tensor()
                self._check(_minirt_get_output_info(self._handle, i, ctypes.byref(t)))
                infos.append(_info(t))
            return infos
        # Older libraries declare no output-info call: take the names from the summary
        # ("...; outputs: a, b"); the declared types and shapes are then unknown.
        summary = _text(_minirt_summary(self._handle))
        names = summary.rpartition("; outputs:")[2].strip()
        names = [s.strip() for s in names.split(", ")] if names else []
        if len(names) != n:
            names = ["output_%d" % i for i in range(n)]
        return [TensorInfo(name, None, None) for name in names]

    @property
    def summary(self):
        """One line: node count, op types, parameters, inputs with shapes, outputs."""
        self._require_open()
        return _text(_minirt_summary(self._handle))

    # ---- running ----

    def run(self, feeds):
        """Run the model and return {output name: numpy array} in graph-output order.

        feeds: a dict {input name: array}, a list/tuple of arrays in input order, or one array for
        a single-input model. Arrays are used as they are (made C-contiguous and native-endian if
        needed, never converted to another type): the element type and shape must match the
        model's declaration, except where a dim is symbolic (None in .inputs). A new shape
        re-plans; a repeated one runs without allocating in the library.
        """
        self._require_open()
        if isinstance(feeds, dict):
            items = list(feeds.items())
        elif isinstance(feeds, (list, tuple)):
            items = [(None, x) for x in feeds]
        else:
            items = [(None, feeds)]
        n = len(items)
        tensors = (_Tensor * max(n, 1))()
        keep = []  # everything the C structs point at, alive until the call returns
        for k, (name, x) in enumerate(items):
            label = "input '%s'" % name if name is not None else "input %d" % k
            if name is not None and not isinstance(name, str):
                raise Error(Status.ERR_ARGUMENT, "input names must be strings, got %r" % (name,))
            a = np.asarray(x)
            if a.dtype.byteorder not in ("=", "|"):
                a = a.astype(a.dtype.newbyteorder("="))
            code = _CODES.get(a.dtype)
            if code is None:
                raise Error(Status.ERR_ARGUMENT,
                            "%s: numpy dtype %s has no minirt type (supported: %s)"
                            % (label, a.dtype, ", ".join(str(d) for d in _DTYPES.values())))
            if a.ndim > _MAX_DIMS:
                raise Error(Status.ERR_SHAPE, "%s: rank %d exceeds minirt's maximum of %d"
                            % (label, a.ndim, _MAX_DIMS))
            a = np.ascontiguousarray(a)
            dims = (ctypes.c_int64 * max(a.ndim, 1))(*a.shape)
            bname = name.encode() if name is not None else None
            keep += [a, dims, bname]
            tensors[k].name = bname
            tensors[k].dtype = code
            tensors[k].ndim = a.ndim
            tensors[k].dims = ctypes.cast(dims, ctypes.POINTER(ctypes.c_int64))
            # a zero-size array may have no buffer of its own; minirt needs none then
            tensors[k].data = a.ctypes.data if a.size else None
        with self._lock:
            self._require_open()
            self._check(_minirt_run(self._handle, tensors, n))
            return self._collect()

    def __call__(self, feeds):
        return self.run(feeds)

    def _collect(self):
        """Copy every output of the last run out of the session's buffers."""
        result = {}
        for i in range(_minirt_output_count(self._handle)):
            t = _Tensor()
            self._check(_minirt_get_output(self._handle, i, ctypes.byref(t)))
            dtype = _DTYPES.get(t.dtype)
            if dtype is None:
                raise Error(Status.ERR_UNSUPPORTED, "output '%s' has element type code %d, which "
                            "this binding cannot return" % (_text(t.name), t.dtype))
            shape = tuple(int(t.dims[d]) for d in range(t.ndim))
            count = int(np.prod(shape, dtype=np.int64))
            if count == 0 or not t.data:
                arr = np.zeros(shape, dtype)
            else:
                raw = (ctypes.c_char * (count * dtype.itemsize)).from_address(t.data)
                arr = np.frombuffer(raw, dtype, count).reshape(shape).copy()
            result[_text(t.name)] = arr
        return result

    # ---- lifetime ----

    def _check(self, status):
        if status != Status.OK:
            raise Error(status, _text(_minirt_errmsg(self._handle)))

    def _require_open(self):
        if self._handle is None:
            raise Error(Status.ERR_ARGUMENT, "the session is closed")

    @property
    def closed(self):
        return self._handle is None

    def close(self):
        """Free the session; later calls raise Error. Closing twice is harmless."""
        lock = getattr(self, "_lock", None)
        if lock is None:
            return
        with lock:
            handle, self._handle = self._handle, None
            if handle is not None:
                _minirt_close(handle)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        # at interpreter exit the module's globals may already be gone
        if getattr(self, "_handle", None) is not None and _minirt_close is not None:
            self.close()

    def __repr__(self):
        state = "closed" if self.closed else "inputs=%s outputs=%s" % (
            [i.name for i in self.inputs], [o.name for o in self.outputs])
        return "<minirt.Session %r %s>" % (getattr(self, "path", "?"), state)
