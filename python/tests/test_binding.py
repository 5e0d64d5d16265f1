"""Tests of the minirt Python binding.

Run with Debian's Python (numpy, torch, onnx) against a build's shared library:

    MINIRT_LIBRARY=build/libminirt.so /usr/bin/python3 -m unittest discover -s python/tests

- every case under models/ (and a subset of models/large/zoo when generated; MINIRT_TEST_ZOO=all
  runs all of it) reproduces its PyTorch reference output;
- models built with torch inside the test are compared with torch's own output;
- every error path raises minirt.Error with the right status and a useful message;
- a symbolic batch re-runs at several batch sizes.
"""

import glob
import os
import sys
import tempfile
import unittest
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))  # python/, for the minirt package

import minirt  # noqa: E402

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:  # the first python3 on PATH may lack torch: use /usr/bin/python3
    torch = None

MODELS = os.path.join(REPO, "models")
ZOO = os.path.join(MODELS, "large", "zoo")
DYNBATCH = os.path.join(REPO, "examples", "data", "dynbatch.onnx")
CHECK_PROBLEMS = os.path.join(REPO, "tests", "data", "check_problems.onnx")
RTOL, ATOL = 1e-3, 1e-4
# The zoo cases run by default (each a few seconds); MINIRT_TEST_ZOO=all runs every one.
ZOO_SUBSET = ["resnet18_op13", "mobilenet_v2_op13", "unet_small_op13", "resnet18_dynbatch"]


def assert_close(test, got, want, what, rtol=RTOL, atol=ATOL):
    test.assertEqual(got.dtype, want.dtype, "%s: dtype" % what)
    test.assertEqual(got.shape, want.shape, "%s: shape" % what)
    err = np.abs(got.astype(np.float64) - want.astype(np.float64))
    bad = err > atol + rtol * np.abs(want.astype(np.float64))
    if bad.any():
        first = np.unravel_index(np.argmax(bad), bad.shape)
        test.fail("%s: %d of %d elements differ; first at %s: got %r, want %r; max abs error %.3g"
                  % (what, bad.sum(), bad.size, first, got[first], want[first], err.max()))


def case_io(case_dir):
    """The case's inputs and reference outputs (input_<i>.npy, output_<i>.npy)."""
    def load(prefix):
        arrays, i = [], 0
        while os.path.exists(os.path.join(case_dir, "%s_%d.npy" % (prefix, i))):
            arrays.append(np.load(os.path.join(case_dir, "%s_%d.npy" % (prefix, i))))
            i += 1
        return arrays
    return load("input"), load("output")


def small_cases():
    return sorted(d for d in glob.glob(os.path.join(MODELS, "*"))
                  if os.path.isfile(os.path.join(d, "model.onnx")))


def zoo_cases():
    if os.environ.get("MINIRT_TEST_ZOO") == "all":
        return sorted(glob.glob(os.path.join(ZOO, "*")))
    return [os.path.join(ZOO, c) for c in ZOO_SUBSET]


class ReferenceModels(unittest.TestCase):
    """(a) The project's PyTorch exports reproduce their reference outputs."""

    def check_case(self, case_dir, **session_args):
        inputs, outputs = case_io(case_dir)
        with minirt.Session(os.path.join(case_dir, "model.onnx"), **session_args) as sess:
            self.assertEqual(len(sess.inputs), len(inputs))
            got = sess.run(inputs)
            self.assertEqual(len(got), len(outputs))
            for (name, y), want in zip(got.items(), outputs):
                assert_close(self, y, want, "%s output '%s'" % (os.path.basename(case_dir), name))
        return inputs, outputs

    def test_small_cases(self):
        cases = small_cases()
        self.assertGreaterEqual(len(cases), 6)
        for case in cases:
            with self.subTest(case=os.path.basename(case)):
                self.check_case(case)

    def test_small_cases_by_name_and_optimize_levels(self):
        case = os.path.join(MODELS, "small_cnn")
        inputs, outputs = case_io(case)
        for level in (0, 1, 2):
            with minirt.Session(os.path.join(case, "model.onnx"), optimize=level,
                                threads=1) as sess:
                got = sess.run({sess.inputs[0].name: inputs[0]})
                assert_close(self, got["output"], outputs[0], "small_cnn at optimize=%d" % level)

    def test_zoo(self):
        cases = [c for c in zoo_cases() if os.path.isfile(os.path.join(c, "model.onnx"))]
        if not cases:
            self.skipTest("models/large/zoo not generated (models/make_zoo.py)")
        for case in cases:
            with self.subTest(case=os.path.basename(case)):
                self.check_case(case)

    def test_zoo_dynbatch_batch_1_and_2(self):
        case = os.path.join(ZOO, "resnet18_dynbatch")
        if not os.path.isfile(os.path.join(case, "model.onnx")):
            self.skipTest("models/large/zoo/resnet18_dynbatch not generated")
        (x,), (y,) = case_io(case)
        self.assertEqual(x.shape[0], 2)
        with minirt.Session(os.path.join(case, "model.onnx")) as sess:
            self.assertIsNone(sess.inputs[0].shape[0])
            for batch in (1, 2, 1):
                got = sess.run({"input": x[:batch]})["output"]
                assert_close(self, got, y[:batch], "resnet18_dynbatch at batch %d" % batch)


class SmallConvNet(nn.Module if torch else object):
    """Conv + BN + ReLU, a strided depthwise block, a residual Add, pooling and a linear head."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU())
        self.dw = nn.Sequential(nn.Conv2d(16, 16, 3, stride=2, padding=1, groups=16),
                                nn.BatchNorm2d(16), nn.ReLU6(),
                                nn.Conv2d(16, 24, 1), nn.BatchNorm2d(24))
        self.res = nn.Sequential(nn.Conv2d(24, 24, 3, padding=1), nn.BatchNorm2d(24), nn.ReLU(),
                                 nn.Conv2d(24, 24, 3, padding=1))
        self.head = nn.Linear(24, 7)
        with torch.no_grad():  # non-trivial BN statistics, so folding them matters
            for m in self.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.running_mean.uniform_(-0.2, 0.2)
                    m.running_var.uniform_(0.5, 1.5)
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.uniform_(-0.2, 0.2)

    def forward(self, x):
        x = self.dw(F.max_pool2d(self.stem(x), 2))
        x = F.relu(x + self.res(x))
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.head(x)


class EncoderDecoder(nn.Module if torch else object):
    """Two outputs: a segmentation map (ConvTranspose, Concat skip, bilinear upsample, sigmoid)
    and a log-softmax classifier."""

    def __init__(self):
        super().__init__()
        self.enc1 = nn.Sequential(nn.Conv2d(2, 8, 3, padding=1), nn.LeakyReLU(0.1))
        self.enc2 = nn.Sequential(nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.Hardswish())
        self.up = nn.ConvTranspose2d(16, 8, 2, stride=2)
        self.dec = nn.Conv2d(16, 1, 3, padding=1)
        self.cls = nn.Linear(16, 4)

    def forward(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(e1)
        seg = torch.sigmoid(self.dec(torch.cat([self.up(e2), e1], dim=1)))
        seg = F.interpolate(seg, scale_factor=2.0, mode="bilinear", align_corners=False)
        logits = F.log_softmax(self.cls(e2.mean(dim=(2, 3))), dim=1)
        return seg, logits


@unittest.skipIf(torch is None, "needs torch (run with /usr/bin/python3)")
class AgainstTorch(unittest.TestCase):
    """(b) Build a model with torch here, export it, and compare minirt with torch directly - the
    reason the binding exists."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        torch.manual_seed(0)

    def tearDown(self):
        self.tmp.cleanup()

    def export(self, model, example, name, **kwargs):
        path = os.path.join(self.tmp.name, name + ".onnx")
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(model.eval(), example, path, do_constant_folding=True, **kwargs)
        return path

    def test_conv_net(self):
        model = SmallConvNet().eval()
        x = torch.randn(2, 3, 40, 36)
        path = self.export(model, (x,), "small_conv", opset_version=13, input_names=["image"],
                           output_names=["logits"])
        with torch.no_grad():
            want = model(x).numpy()
        for level in (0, 2):
            with minirt.Session(path, optimize=level) as sess:
                self.assertEqual(sess.inputs, [minirt.TensorInfo("image", np.dtype(np.float32),
                                                                 (2, 3, 40, 36))])
                self.assertEqual([o.name for o in sess.outputs], ["logits"])
                got = sess.run({"image": x.numpy()})
                self.assertEqual(list(got), ["logits"])
                assert_close(self, got["logits"], want, "conv net at optimize=%d" % level)

    def test_two_outputs_opset17(self):
        model = EncoderDecoder().eval()
        x = torch.randn(1, 2, 24, 20)
        path = self.export(model, (x,), "encdec", opset_version=17, input_names=["x"],
                           output_names=["seg", "cls"])
        with torch.no_grad():
            seg, cls = (t.numpy() for t in model(x))
        with minirt.Session(path) as sess:
            got = sess.run([x.numpy()])
        self.assertEqual(list(got), ["seg", "cls"])
        assert_close(self, got["seg"], seg, "segmentation output")
        assert_close(self, got["cls"], cls, "classifier output")

    def test_symbolic_batch(self):
        """(d) A model exported with a symbolic batch runs at every batch size, re-planning on a
        new size and reusing the plan on a repeated one."""
        model = SmallConvNet().eval()
        path = self.export(model, (torch.randn(2, 3, 32, 32),), "dyn", opset_version=13,
                           input_names=["image"], output_names=["logits"],
                           dynamic_axes={"image": {0: "n"}, "logits": {0: "n"}})
        with minirt.Session(path) as sess:
            self.assertEqual(sess.inputs[0].shape, (None, 3, 32, 32))
            for batch in (1, 3, 2, 3, 5, 1):
                x = torch.randn(batch, 3, 32, 32)
                with torch.no_grad():
                    want = model(x).numpy()
                got = sess.run({"image": x.numpy()})["logits"]
                assert_close(self, got, want, "batch %d" % batch)
            # the fixed dims are still checked
            with self.assertRaises(minirt.Error) as cm:
                sess.run({"image": np.zeros((2, 3, 32, 31), np.float32)})
            self.assertEqual(cm.exception.status, minirt.Status.ERR_SHAPE)


class DynamicBatchFixture(unittest.TestCase):
    """(d) The committed examples/data/dynbatch.onnx: each row of a batch equals that sample run
    alone, at every batch size."""

    def test_rows_match_single_runs(self):
        rng = np.random.default_rng(1)
        with minirt.Session(DYNBATCH) as sess:
            self.assertEqual(sess.inputs[0].shape, (None, 3, 16, 16))
            x = rng.standard_normal((6, 3, 16, 16)).astype(np.float32)
            singles = [sess.run(x[i:i + 1])["probs"] for i in range(6)]
            for batch in (6, 2, 4, 6):
                probs = sess.run(x[:batch])["probs"]
                self.assertEqual(probs.shape, (batch, 5))
                assert_close(self, probs, np.concatenate(singles[:batch]), "batch %d" % batch)
                np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-5)


class Errors(unittest.TestCase):
    """(c) Every error path raises minirt.Error with the status and a message that says what is
    wrong."""

    @classmethod
    def setUpClass(cls):
        cls.model = os.path.join(MODELS, "small_cnn", "model.onnx")
        cls.x = np.load(os.path.join(MODELS, "small_cnn", "input_0.npy"))
        cls.sess = minirt.Session(cls.model)

    @classmethod
    def tearDownClass(cls):
        cls.sess.close()

    def expect(self, status, substrings, fn, *args, **kwargs):
        with self.assertRaises(minirt.Error) as cm:
            fn(*args, **kwargs)
        e = cm.exception
        self.assertEqual(e.status, status, str(e))
        self.assertEqual(e.status_name, minirt.Error(status, "").status_name)
        for s in substrings:
            self.assertIn(s, str(e))
        return e

    def test_missing_file(self):
        e = self.expect(minirt.Status.ERR_IO, ["I/O error", "/no/such/model.onnx",
                                               "No such file"],
                        minirt.Session, "/no/such/model.onnx")
        self.assertEqual(e.problems, ())

    def test_malformed_file(self):
        with tempfile.NamedTemporaryFile(suffix=".onnx") as f:
            f.write(b"\x0a\xff\xff\xff\xff\x0f this is not protobuf")
            f.flush()
            self.expect(minirt.Status.ERR_MODEL, ["invalid model", f.name], minirt.Session, f.name)

    def test_every_problem_listed(self):
        e = self.expect(minirt.Status.ERR_MODEL, ["strides", "2 more problems"], minirt.Session,
                        CHECK_PROBLEMS)
        self.assertEqual(len(e.problems), 3)
        self.assertIn("unknown operator Frobnicate in domain 'com.example'", e.problems[1])
        self.assertIn("Unobtainium", e.problems[2])

    def test_wrong_input_name(self):
        self.expect(minirt.Status.ERR_ARGUMENT, ["no input 'images'"], self.sess.run,
                    {"images": self.x})

    def test_wrong_input_count(self):
        self.expect(minirt.Status.ERR_ARGUMENT, ["takes 1 input, 2 given"], self.sess.run,
                    [self.x, self.x])
        self.expect(minirt.Status.ERR_ARGUMENT, ["takes 1 input, 0 given"], self.sess.run, {})

    def test_wrong_dtype(self):
        self.expect(minirt.Status.ERR_ARGUMENT, ["input 'input'", "expected float32, got float64"],
                    self.sess.run, {"input": self.x.astype(np.float64)})
        self.expect(minirt.Status.ERR_ARGUMENT, ["numpy dtype float16 has no minirt type"],
                    self.sess.run, {"input": self.x.astype(np.float16)})

    def test_wrong_shape(self):
        self.expect(minirt.Status.ERR_SHAPE, ["expected shape 1x3x32x32, got 1x3x32x31"],
                    self.sess.run, {"input": self.x[..., :31]})
        self.expect(minirt.Status.ERR_SHAPE, ["expected rank 4", "got rank 3"], self.sess.run,
                    {"input": self.x[0]})

    def test_bad_options(self):
        self.expect(minirt.Status.ERR_ARGUMENT, ["optimize must be 0, 1 or 2"], minirt.Session,
                    self.model, optimize=3)
        self.expect(minirt.Status.ERR_ARGUMENT, ["threads must be at least 1"], minirt.Session,
                    self.model, threads=0)

    def test_closed_session(self):
        sess = minirt.Session(self.model)
        sess.close()
        sess.close()
        self.assertTrue(sess.closed)
        self.expect(minirt.Status.ERR_ARGUMENT, ["closed"], sess.run, self.x)

    def test_session_still_usable_after_errors(self):
        with minirt.Session(self.model) as sess:
            with self.assertRaises(minirt.Error):
                sess.run({"input": self.x[..., :31]})
            want = np.load(os.path.join(MODELS, "small_cnn", "output_0.npy"))
            assert_close(self, sess.run(self.x)["output"], want, "run after a failed run")


class Behaviour(unittest.TestCase):
    """Outputs are copies; inputs in other layouts are accepted; version and introspection."""

    def test_outputs_are_copies(self):
        path = os.path.join(MODELS, "small_cnn", "model.onnx")
        x = np.load(os.path.join(MODELS, "small_cnn", "input_0.npy"))
        sess = minirt.Session(path)
        first = sess.run(x)["output"]
        keep = first.copy()
        first[...] = 0  # writable, and writing it does not touch the session
        second = sess.run(x * 2)["output"]
        sess.close()
        # both arrays outlive the run that made them and the session itself
        self.assertFalse(np.array_equal(second, keep))
        np.testing.assert_array_equal(first, 0)
        self.assertTrue(np.isfinite(second).all())
        self.assertTrue(second.flags.owndata and second.flags.writeable)

    def test_non_contiguous_and_big_endian_inputs(self):
        path = os.path.join(MODELS, "small_cnn", "model.onnx")
        x = np.load(os.path.join(MODELS, "small_cnn", "input_0.npy"))
        want = np.load(os.path.join(MODELS, "small_cnn", "output_0.npy"))
        with minirt.Session(path) as sess:
            fortran = np.asfortranarray(x)
            strided = np.ascontiguousarray(np.repeat(x, 2, axis=3))[..., ::2]
            swapped = x.astype(">f4")
            for name, a in (("fortran", fortran), ("strided", strided), ("big-endian", swapped)):
                assert_close(self, sess.run(a)["output"], want, name)

    def test_version_and_info(self):
        self.assertRegex(minirt.version(), r"^\d+\.\d+\.\d+$")
        with minirt.Session(DYNBATCH) as sess:
            self.assertEqual(sess.inputs, [minirt.TensorInfo("image", np.dtype(np.float32),
                                                             (None, 3, 16, 16))])
            self.assertEqual([o.name for o in sess.outputs], ["probs"])
            if sess.outputs[0].shape is not None:  # libraries with minirt_get_output_info
                self.assertEqual(sess.outputs[0], minirt.TensorInfo(
                    "probs", np.dtype(np.float32), (None, 5)))
            self.assertIn("Softmax", sess.summary)
            self.assertIn("image", repr(sess))

    def test_threads_from_python_threads(self):
        """One session shared by Python threads (serialised by its lock), and one per thread."""
        import threading
        path = os.path.join(MODELS, "small_cnn", "model.onnx")
        x = np.load(os.path.join(MODELS, "small_cnn", "input_0.npy"))
        want = np.load(os.path.join(MODELS, "small_cnn", "output_0.npy"))
        shared = minirt.Session(path)
        errors = []

        def work(own):
            try:
                sess = minirt.Session(path) if own else shared
                for _ in range(20):
                    got = sess.run(x)["output"]
                    if not np.allclose(got, want, rtol=RTOL, atol=ATOL):
                        errors.append("wrong output")
                if own:
                    sess.close()
            except Exception as e:  # reported below
                errors.append(repr(e))

        threads = [threading.Thread(target=work, args=(i % 2 == 0,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        shared.close()
        self.assertEqual(errors, [])


if __name__ == "__main__":
    unittest.main()
