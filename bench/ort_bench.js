#!/usr/bin/env node
// Time one ONNX model on onnxruntime's CPU provider (the npm package onnxruntime-node).
//
//   node bench/ort_bench.js MODEL.onnx INPUT.npy [--threads T] [--bench N] [--ref OUTPUT.npy]
//
// Session: intraOpNumThreads T, interOpNumThreads 1, graphOptimizationLevel 'all', sequential
// execution. INPUT.npy (float32 '<f4', C order) binds to the model's first input. Protocol, as
// minirt's --bench: one warm-up run, then N timed runs (inference only). Prints
//
//   open: session_create_ms=X first_run_ms=Y
//   bench: runs=N threads=T median_ms=X min_ms=Y
//   check: max_abs_diff=D              (with --ref: first output against OUTPUT.npy)
//
// The first run is the warm-up run, timed on its own. Exit status 1 on any error, with one line
// "ort_bench: error: ..." on stderr.
'use strict';

const fs = require('fs');
const path = require('path');

let ort;
try {
  ort = require(path.join(__dirname, 'node_modules', 'onnxruntime-node'));
} catch (e) {
  fail(`cannot load onnxruntime-node from bench/node_modules (run: cd bench && npm ci ` +
       `--ignore-scripts): ${e.message}`);
}

function fail(msg) {
  process.stderr.write(`ort_bench: error: ${msg}\n`);
  process.exit(1);
}

// A .npy file (format 1.0, 2.0 or 3.0) holding little-endian float32 in C order.
function readNpyF32(file) {
  const buf = fs.readFileSync(file);
  const magic = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);  // \x93NUMPY
  if (buf.length < 10 || !buf.subarray(0, 6).equals(magic)) fail(`${file}: not a .npy file`);
  const major = buf[6];
  let hlen, hstart;
  if (major === 1) {
    hlen = buf.readUInt16LE(8);
    hstart = 10;
  } else if (major === 2 || major === 3) {
    hlen = buf.readUInt32LE(8);
    hstart = 12;
  } else {
    fail(`${file}: unsupported .npy version ${major}`);
  }
  const header = buf.toString('latin1', hstart, hstart + hlen);
  const descr = /'descr':\s*'([^']*)'/.exec(header);
  const fortran = /'fortran_order':\s*(True|False)/.exec(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shape) fail(`${file}: cannot parse header ${header.trim()}`);
  if (descr[1] !== '<f4') fail(`${file}: dtype '${descr[1]}' is not '<f4' (float32 little-endian)`);
  if (fortran[1] !== 'False') fail(`${file}: Fortran order is not supported`);
  const dims = shape[1].split(',').map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  const count = dims.reduce((a, b) => a * b, 1);
  const start = hstart + hlen;
  if (buf.length - start !== count * 4) {
    fail(`${file}: ${buf.length - start} data bytes, shape [${dims}] needs ${count * 4}`);
  }
  // Copy into a fresh, aligned buffer (the file's data offset need not be 4-aligned).
  const data = new Float32Array(count);
  new Uint8Array(data.buffer).set(buf.subarray(start, start + count * 4));
  return {dims, data};
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function parseArgs(argv) {
  const opts = {threads: 1, runs: 20, ref: null, files: []};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) fail(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--threads') opts.threads = Number(val());
    else if (a === '--bench') opts.runs = Number(val());
    else if (a === '--ref') opts.ref = val();
    else if (a.startsWith('--')) fail(`unknown option ${a}`);
    else opts.files.push(a);
  }
  if (opts.files.length !== 2) {
    fail('usage: ort_bench.js MODEL.onnx INPUT.npy [--threads T] [--bench N] [--ref OUTPUT.npy]');
  }
  if (!Number.isInteger(opts.threads) || opts.threads < 1) fail('--threads must be an integer >= 1');
  if (!Number.isInteger(opts.runs) || opts.runs < 1) fail('--bench must be an integer >= 1');
  return opts;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const [modelPath, inputPath] = opts.files;
  const x = readNpyF32(inputPath);

  let t0 = process.hrtime.bigint();
  const session = await ort.InferenceSession.create(modelPath, {
    executionProviders: ['cpu'],
    intraOpNumThreads: opts.threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
  });
  const createMs = Number(process.hrtime.bigint() - t0) / 1e6;

  const feeds = {[session.inputNames[0]]: new ort.Tensor('float32', x.data, x.dims)};
  const run = async () => {
    const t = process.hrtime.bigint();
    const out = await session.run(feeds);
    return [Number(process.hrtime.bigint() - t) / 1e6, out];
  };

  const [firstMs, firstOut] = await run();
  const times = [];
  for (let i = 0; i < opts.runs; i++) times.push((await run())[0]);

  console.log(`open: session_create_ms=${createMs.toFixed(2)} first_run_ms=${firstMs.toFixed(2)}`);
  console.log(`bench: runs=${opts.runs} threads=${opts.threads} ` +
              `median_ms=${median(times).toFixed(3)} min_ms=${Math.min(...times).toFixed(3)}`);
  if (opts.ref) {
    const ref = readNpyF32(opts.ref);
    const y = firstOut[session.outputNames[0]].data;
    if (y.length !== ref.data.length) fail(`output has ${y.length} values, --ref has ${ref.data.length}`);
    let d = 0;
    for (let i = 0; i < y.length; i++) d = Math.max(d, Math.abs(y[i] - ref.data[i]));
    console.log(`check: max_abs_diff=${d.toExponential(3)}`);
  }
  if (typeof session.release === 'function') await session.release();
}

main().catch((e) => fail(e && e.message ? e.message : String(e)));
