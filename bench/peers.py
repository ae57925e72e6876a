#!/usr/bin/python3
"""ResNet18 Explorer side by side with peer engines, in one run (called by bench/peers.sh).

Same seeded torchvision ResNet18 weights and the same inputs for everyone. Before timing, each
engine's logits are checked against PyTorch eager fp32. Prints one table (median ms per batch,
images/s, ratio to ONNX Runtime at the same threads and batch), an end-to-end JPEG-to-top-5
row, the CLI's peak RSS, and writes everything to OUT/peers.json and OUT/peers.md.
"""
import argparse
import datetime
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import time

import cv2
import numpy as np
import torch
import torchvision
from PIL import Image
from torchvision import transforms

ROOT = pathlib.Path(__file__).resolve().parent.parent
SEED = 18
PHOTO = pathlib.Path("/usr/share/darknet/data/dog.jpg")
TRANSFORM = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(),
                                transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


def cpu_name():
    for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def timed(fn, iterations, budget_s=4.0):
    for _ in range(3):
        fn()
    times = []
    start = time.perf_counter()
    while len(times) < iterations and (len(times) < 5 or time.perf_counter() - start < budget_s):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return {"median_ms": statistics.median(times), "min_ms": min(times), "runs": len(times)}


def agree(name, ref, got, bound):
    err = float(np.abs(ref - got).max() / np.abs(ref).max())
    ok = err <= bound
    log(f"  {name:34s} max |diff| {err:.2e} × max|ref| (bound {bound:g}) {'ok' if ok else 'DISAGREES'}")
    return {"relative_error": err, "bound": bound, "ok": ok}


def without_identity(src, dst):
    """The same graph with Identity nodes folded into their consumers: OpenCV 4.6's ONNX importer
    cannot read the Identity nodes torch.onnx.export inserts for shared weights."""
    import onnx
    m = onnx.load(str(src))
    alias = {n.output[0]: n.input[0] for n in m.graph.node if n.op_type == "Identity"}
    keep = [n for n in m.graph.node if n.op_type != "Identity"]
    for n in keep:
        for i, name in enumerate(n.input):
            while name in alias:
                name = alias[name]
            n.input[i] = name
    del m.graph.node[:]
    m.graph.node.extend(keep)
    onnx.save(m, str(dst))
    return dst


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--iterations", type=int, default=30)
    ap.add_argument("--quick", action="store_true", help="batch 1 only, fewer iterations")
    args = ap.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cli = str(pathlib.Path(args.cli).resolve())
    iterations = 10 if args.quick else args.iterations
    batches = [1] if args.quick else [1, 8]

    # Same weights and inputs for everyone.
    torch.manual_seed(SEED)
    model = torchvision.models.resnet18().eval()
    weights = out / "resnet18_seed18.pth"
    onnx_path = out / "resnet18_seed18.onnx"
    torch.save(model.state_dict(), weights)
    torch.onnx.export(model, torch.zeros(1, 3, 224, 224), str(onnx_path), input_names=["input"],
                      output_names=["logits"], opset_version=13, do_constant_folding=True,
                      dynamic_axes={"input": {0: "n"}, "logits": {0: "n"}})
    x8 = torch.randn(8, 3, 224, 224, generator=torch.Generator().manual_seed(SEED))
    (out / "input8.bin").write_bytes(x8.numpy().astype(np.float32).tobytes())
    jpeg = out / "photo_768x576.jpg"
    cv2.imwrite(str(jpeg), cv2.resize(cv2.imread(str(PHOTO)), (768, 576), interpolation=cv2.INTER_AREA),
                [cv2.IMWRITE_JPEG_QUALITY, 92])

    torch.set_num_threads(2)
    with torch.no_grad():
        ref = model(x8).numpy()
        ref_jpeg = model(TRANSFORM(Image.open(jpeg).convert("RGB")).unsqueeze(0)).numpy()
    traced = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.trace(
        model.to(memory_format=torch.channels_last), torch.zeros(1, 3, 224, 224).to(memory_format=torch.channels_last))))
    model = model.to(memory_format=torch.contiguous_format)
    net = cv2.dnn.readNetFromONNX(str(without_identity(onnx_path, out / "resnet18_seed18_opencv.onnx")))
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)

    def torch_eager(x):
        with torch.no_grad():
            return model(x)

    def torch_traced(x):
        with torch.no_grad():
            return traced(x.contiguous(memory_format=torch.channels_last))

    def torch_bf16(x):
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
            return model(x)

    def opencv(x):
        net.setInput(x.numpy())
        return net.forward()

    log("Agreement with PyTorch eager fp32 before timing:")
    checks = {}
    logits_file = out / "ours_logits.npy"
    subprocess.run([cli, "classify", "--weights", str(weights), "--save-logits", str(logits_file), str(jpeg)],
                   check=True, capture_output=True)
    checks["this project fp32 (JPEG, end to end)"] = agree("this project fp32 (JPEG end to end)", ref_jpeg,
                                                           np.load(logits_file), 1e-4)
    ort_logits = out / "ort_logits.bin"
    subprocess.run(["node", str(ROOT / "bench/ort_bench.js"), str(onnx_path), str(out / "input8.bin"), "--batch", "8",
                    "--check", str(ort_logits)], check=True, capture_output=True)
    checks["ONNX Runtime fp32"] = agree("ONNX Runtime fp32", ref, np.fromfile(ort_logits, np.float32).reshape(8, -1), 1e-4)
    with torch.no_grad():
        checks["PyTorch traced+frozen CL fp32"] = agree("PyTorch traced+frozen CL fp32", ref, torch_traced(x8).numpy(), 1e-4)
        checks["PyTorch bf16 autocast"] = agree("PyTorch bf16 autocast", ref, torch_bf16(x8).float().numpy(), 5e-2)
    checks["OpenCV DNN fp32"] = agree("OpenCV DNN fp32", ref, opencv(x8), 1e-4)

    rows = []  # (engine, threads, batch, result)
    for threads in (1, 2):
        torch.set_num_threads(threads)
        cv2.setNumThreads(threads)
        for batch in batches:
            x = x8[:batch].contiguous()
            log(f"Timing: {threads} thread(s), batch {batch}")
            ours = json.loads(subprocess.run(
                [cli, "bench", "--weights", str(weights), "--precision", "all", "--threads", str(threads), "--batch",
                 str(batch), "--iterations", str(iterations), "--json"], check=True, capture_output=True, text=True).stdout)
            for r in ours["results"]:
                rows.append((f"this project {r['precision']}", threads, batch,
                             {"median_ms": r["median_ms"], "min_ms": r["min_ms"]} if r["supported"] else None))
            ort = json.loads(subprocess.run(
                ["node", str(ROOT / "bench/ort_bench.js"), str(onnx_path), str(out / "input8.bin"), "--batch", str(batch),
                 "--threads", str(threads), "--iterations", str(iterations)], check=True, capture_output=True, text=True).stdout)
            rows.append(("ONNX Runtime fp32", threads, batch, ort))
            rows.append(("PyTorch eager fp32", threads, batch, timed(lambda: torch_eager(x), iterations)))
            rows.append(("PyTorch traced+frozen CL fp32", threads, batch, timed(lambda: torch_traced(x), iterations)))
            rows.append(("PyTorch bf16 autocast", threads, batch, timed(lambda: torch_bf16(x), max(5, iterations // 3))))
            rows.append(("OpenCV DNN fp32", threads, batch, timed(lambda: opencv(x), iterations)))

    # End to end: a 768×576 JPEG from disk to top-5, 2 threads.
    torch.set_num_threads(2)
    ours_e2e = json.loads(subprocess.run([cli, "bench", "--weights", str(weights), "--image", str(jpeg), "--threads", "2",
                                          "--iterations", str(iterations), "--json"], check=True, capture_output=True,
                                         text=True).stdout)

    def torch_e2e():
        with torch.no_grad():
            logits = model(TRANSFORM(Image.open(jpeg).convert("RGB")).unsqueeze(0))
            return torch.topk(logits.softmax(1), 5)

    torch_e2e_result = timed(torch_e2e, iterations)

    # Peak RSS of the CLI classify path.
    # GNU time reports the peak of the program itself (a child forked from this Python process
    # would also count the pages it shared with torch before exec).
    timing = subprocess.run(["/usr/bin/time", "-f", "%M", cli, "classify", "--weights", str(weights), str(jpeg)],
                            check=True, capture_output=True, text=True)
    rss_mb = int(timing.stderr.strip().splitlines()[-1]) / 1024

    ort_ms = {(t, b): r["median_ms"] for (e, t, b, r) in rows if e == "ONNX Runtime fp32"}
    lines = [f"Measured {datetime.date.today().isoformat()} on {cpu_name()} ({os.cpu_count()} cores, oneDNN ISA "
             f"{ours['isa']}), torch {torch.__version__}, onnxruntime-node {ort.get('version', '?')}, "
             f"OpenCV {cv2.__version__}. Median over up to {iterations} runs; ratio = time / ONNX Runtime's "
             f"at the same threads and batch (lower is better).", "",
             "| engine | threads | batch | ms per batch | images/s | vs ORT |", "|---|---:|---:|---:|---:|---:|"]
    for engine, threads, batch, r in rows:
        if r is None:
            lines.append(f"| {engine} | {threads} | {batch} | n/a on this CPU | | |")
            continue
        ratio = r["median_ms"] / ort_ms[(threads, batch)]
        lines.append(f"| {engine} | {threads} | {batch} | {r['median_ms']:.2f} | {1000 * batch / r['median_ms']:.1f} "
                     f"| {ratio:.2f}× |")
    lines += ["", "| end to end: 768×576 JPEG → top-5, 2 threads | ms | vs PyTorch |", "|---|---:|---:|",
              f"| this project (decode, preprocess, network) | {ours_e2e['median_ms']:.2f} | "
              f"{ours_e2e['median_ms'] / torch_e2e_result['median_ms']:.2f}× |",
              f"| PyTorch + torchvision transforms (PIL) | {torch_e2e_result['median_ms']:.2f} | 1.00× |", "",
              f"Peak RSS of `resnet18-explorer classify` on one image: {rss_mb:.0f} MB."]
    table = "\n".join(lines)
    print(table)
    (out / "peers.md").write_text(table + "\n")
    (out / "peers.json").write_text(json.dumps({
        "date": datetime.date.today().isoformat(), "cpu": cpu_name(), "checks": checks,
        "rows": [{"engine": e, "threads": t, "batch": b, **(r or {"unsupported": True})} for e, t, b, r in rows],
        "end_to_end": {"ours": ours_e2e, "pytorch": torch_e2e_result}, "cli_rss_mb": rss_mb}, indent=1))
    if not all(c["ok"] for c in checks.values()):
        log("error: an engine disagrees with PyTorch; see above")
        sys.exit(1)


if __name__ == "__main__":
    main()
