// ONNX Runtime (CPU, MLAS) on the benchmark's ONNX model: either the logits for an input
// (--check) or timings (--threads, --batch, --iterations). Input: raw float32 NCHW file.
//   node ort_bench.js MODEL.onnx INPUT.bin --batch B [--threads T] [--iterations N] [--check OUT.bin]
const fs = require('fs');
const ort = require('onnxruntime-node');

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

(async () => {
  const [model, inputPath] = process.argv.slice(2, 4);
  const batch = Number(arg('--batch', '1'));
  const threads = Number(arg('--threads', '1'));
  const iterations = Number(arg('--iterations', '30'));
  const budgetMs = Number(arg('--budget-ms', '4000'));
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential',
  });
  const raw = fs.readFileSync(inputPath);
  const data = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
  const input = new ort.Tensor('float32', data.slice(0, batch * 3 * 224 * 224), [batch, 3, 224, 224]);
  const feeds = {[session.inputNames[0]]: input};
  const check = arg('--check', null);
  if (check) {
    const out = await session.run(feeds);
    const logits = out[session.outputNames[0]].data;
    fs.writeFileSync(check, Buffer.from(new Float32Array(logits).buffer));
    console.log(JSON.stringify({ok: true, classes: logits.length / batch}));
    return;
  }
  for (let i = 0; i < 5; i++) await session.run(feeds);
  const times = [];
  const start = Date.now();
  while (times.length < iterations && (times.length < 5 || Date.now() - start < budgetMs)) {
    const t = process.hrtime.bigint();
    await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  times.sort((a, b) => a - b);
  console.log(JSON.stringify({median_ms: times[Math.floor(times.length / 2)], min_ms: times[0], runs: times.length,
                              version: require('onnxruntime-node/package.json').version}));
})().catch((e) => { console.error(String(e)); process.exit(1); });
