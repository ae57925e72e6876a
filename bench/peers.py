#!/usr/bin/python3
"""ResNet18 Explorer side by side with peer engines, in one run (called by bench/peers.sh).

Same seeded torchvision ResNet18 weights and the same inputs for everyone. Before timing, each
engine's logits are checked against PyTorch eager fp32. Prints one table (median ms per batch,
images/s, ratio to ONNX Runtime at the same threads and batch), an end-to-end JPEG-to-top-5
row, a folder against a DataLoader, attributions against PyTorch autograd (bench/explain_peers.py),
start-up as a whole process, the CLI's peak RSS, and writes everything to OUT/peers.json and
OUT/peers.md.
"""
import argparse
import datetime
import json
import os
import pathlib
import platform
import shutil
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
sys.path.insert(0, str(ROOT / "bench"))
import explain_peers  # noqa: E402  (bench/explain_peers.py, beside this file)
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


def startup(cli, weights, jpeg, runs=7):
    """Whole-process wall time of one-image `classify` per precision, alternating, in seconds."""
    commands = {
        "fp32": [cli, "classify", "--weights", str(weights), str(jpeg)],
        "bf16": [cli, "classify", "--weights", str(weights), "--precision", "bf16", str(jpeg)],
        "int8": [cli, "classify", "--weights", str(weights), "--precision", "int8", "--calibration",
                 str(jpeg), str(jpeg)],
    }
    times = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            start = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode != 0:  # bf16 where the CPU has none
                times[name] = None
                continue
            if times[name] is not None:
                times[name].append(time.perf_counter() - start)
    return {name: (statistics.median(t) if t else None) for name, t in times.items()}


def make_folder(out, count=420):
    """`count` JPEGs of 200-1000 px (longer side), cut and scaled from darknet's photos with a
    fixed seed, written at bench time. Returns the folder and a one-line description."""
    folder = out / f"folder{count}"
    if not folder.is_dir() or len(list(folder.glob("*.jpg"))) != count:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        rng = np.random.default_rng(SEED)
        photos = [cv2.imread(str(p)) for p in sorted(PHOTO.parent.glob("*.jpg"))]
        for i in range(count):
            img = photos[i % len(photos)]
            h, w = img.shape[:2]
            ch, cw = int(h * rng.uniform(0.6, 1.0)), int(w * rng.uniform(0.6, 1.0))
            y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
            crop = img[y:y + ch, x:x + cw]
            side = int(rng.integers(200, 1001))
            scale = side / max(ch, cw)
            size = (max(1, round(cw * scale)), max(1, round(ch * scale)))
            crop = cv2.resize(crop, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
            if rng.uniform() < 0.5:
                crop = crop[:, ::-1]
            cv2.imwrite(str(folder / f"{i:04d}.jpg"), crop, [cv2.IMWRITE_JPEG_QUALITY, 90])
    files = sorted(folder.glob("*.jpg"))
    sides = [max(Image.open(f).size) for f in files]
    megabytes = sum(f.stat().st_size for f in files) / 1e6
    pixels = statistics.median(Image.open(f).size[0] * Image.open(f).size[1] for f in files) / 1e6
    return folder, (f"{len(files)} JPEGs, longer side {min(sides)}-{max(sides)} px (median {statistics.median(sides):.0f}), "
                    f"median {pixels:.2f} megapixels, {megabytes:.0f} MB")


class FolderImages(torch.utils.data.Dataset):
    """The folder as a PyTorch user writes it: PIL + torchvision transforms per file."""

    def __init__(self, folder):
        self.files = sorted(folder.glob("*.jpg"))

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        return TRANSFORM(Image.open(self.files[i]).convert("RGB"))


def torch_folder(model, folder, bf16):
    """DataLoader(num_workers=2, batch_size=8) + top-5: images/s and every top-1."""
    loader = torch.utils.data.DataLoader(FolderImages(folder), batch_size=8, num_workers=2)
    top1 = []
    start = time.perf_counter()
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        for x in loader:
            logits = model(x).float()
            top = torch.topk(logits.softmax(1), 5)
            top1 += top.indices[:, 0].tolist()
    seconds = time.perf_counter() - start
    return {"images_per_s": len(top1) / seconds, "seconds": seconds, "top1": top1}


def ours_folder(cli, weights, folder, out, precision, batch, wait_policy=None):
    """`classify --csv` on the folder: the job's own images/s (it prints them) and the wall
    time of the whole command (start-up, weights, compiling included). `wait_policy` sets
    OMP_WAIT_POLICY for the run (the decode thread competes with the spinning OpenMP threads)."""
    csv = out / f"folder_{precision}_b{batch}_{wait_policy or 'default'}.csv"
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    if wait_policy:
        env["OMP_WAIT_POLICY"] = wait_policy
    start = time.perf_counter()
    run = subprocess.run([cli, "classify", "--weights", str(weights), "--precision", precision, "--threads", "2",
                          "--batch", str(batch), "--csv", str(csv), str(folder)], capture_output=True, text=True,
                         env=env)
    wall = time.perf_counter() - start
    if run.returncode != 0:
        return None
    line = [l for l in run.stderr.splitlines() if l.startswith("wrote ")][-1]
    rate = float(line.split(" images/s")[0].split(", ")[-1])
    import csv as csvmod
    with open(csv) as f:
        top1 = [int(r["top1_index"]) for r in csvmod.DictReader(f)]
    return {"images_per_s": rate, "wall_s": wall, "summary": line, "top1": top1}


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

    # End to end: a 768×576 JPEG and a phone-sized 4032×3024 one from disk to top-5, 2 threads.
    torch.set_num_threads(2)
    phone = out / "photo_4032x3024.jpg"
    grain = np.random.default_rng(SEED).integers(-6, 7, (3024, 4032, 3))
    big = cv2.resize(cv2.imread(str(PHOTO)), (4032, 3024), interpolation=cv2.INTER_CUBIC)
    cv2.imwrite(str(phone), np.clip(big.astype(np.int16) + grain, 0, 255).astype(np.uint8),
                [cv2.IMWRITE_JPEG_QUALITY, 92])
    e2e = {}  # file -> (ours, PyTorch's)
    for photo in (jpeg, phone):
        ours_photo = json.loads(subprocess.run(
            [cli, "bench", "--weights", str(weights), "--image", str(photo), "--threads", "2", "--iterations",
             str(iterations), "--json"], check=True, capture_output=True, text=True).stdout)

        def torch_e2e():
            with torch.no_grad():
                start = time.perf_counter()
                x = TRANSFORM(Image.open(photo).convert("RGB")).unsqueeze(0)
                torch_e2e.prep.append((time.perf_counter() - start) * 1000)
                return torch.topk(model(x).softmax(1), 5)

        torch_e2e.prep = []
        result = timed(torch_e2e, iterations)
        result["decode_preprocess_ms"] = statistics.median(torch_e2e.prep)
        e2e[photo.name] = (ours_photo, result)

    # A folder of photos, classified the way a PyTorch user would and with `classify --csv`.
    folder, folder_note = make_folder(out)
    log(f"Folder: {folder_note}")
    folder_rows = []  # (engine, precision, result)
    for precision in ("fp32", "bf16"):
        if precision == "bf16" and not any(r["precision"] == "bf16" and r["supported"] for r in ours["results"]):
            folder_rows.append((f"this project {precision}", precision, None))
            continue
        for batch, policy in ((1, None), (8, None), (1, "PASSIVE")):
            label = f"this project {precision}, batch {batch}" + (f", OMP_WAIT_POLICY={policy}" if policy else "")
            folder_rows.append((label, precision, ours_folder(cli, weights, folder, out, precision, batch, policy)))
        folder_rows.append((f"PyTorch DataLoader(num_workers=2, batch_size=8) {precision}", precision,
                            torch_folder(model, folder, precision == "bf16")))
    for engine, precision, r in folder_rows:
        if r is not None and "PyTorch" not in engine:
            ref = next(x for e, p, x in folder_rows if p == precision and "PyTorch" in e)
            same = sum(a == b for a, b in zip(r["top1"], ref["top1"]))
            log(f"  {engine}: top-1 equals PyTorch's on {same} of {len(ref['top1'])} images")

    # Attributions against PyTorch autograd doing the same batched work, alternating, 2 threads.
    log("Attributions: bench --explain against PyTorch autograd")
    explain_isa, explain_rows = explain_peers.compare(cli, weights, jpeg, 2, 3 if args.quick else 5)

    # Start-up: one image classified as a whole process, per precision.
    log("Start-up: one-image classify as a whole process")
    starts = startup(cli, weights, jpeg, 3 if args.quick else 7)

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
    lines += ["", "| end to end: JPEG file → top-5, 2 threads | ms | of which decode + preprocess | vs PyTorch |",
              "|---|---:|---:|---:|"]
    for name, (ours_photo, theirs) in e2e.items():
        lines += [f"| {name}: this project | {ours_photo['median_ms']:.2f} | {ours_photo['decode_preprocess_ms']:.2f} | "
                  f"{ours_photo['median_ms'] / theirs['median_ms']:.2f}× |",
                  f"| {name}: PyTorch + torchvision transforms (PIL) | {theirs['median_ms']:.2f} | "
                  f"{theirs['decode_preprocess_ms']:.2f} | 1.00× |"]
    lines += ["", f"| folder: {folder_note}; 2 threads | images/s | vs PyTorch |", "|---|---:|---:|"]
    for engine, precision, r in folder_rows:
        if r is None:
            lines.append(f"| {engine} | n/a on this CPU | |")
            continue
        ref = next(x for e, p, x in folder_rows if p == precision and "PyTorch" in e)
        wall = f" (whole command {r['wall_s']:.1f} s)" if "wall_s" in r else f" ({r['seconds']:.1f} s)"
        lines.append(f"| {engine} | {r['images_per_s']:.1f}{wall} | {r['images_per_s'] / ref['images_per_s']:.2f}× |")
    lines += ["", f"| attributions, 2 threads, batch 8 (oneDNN ISA {explain_isa}) | this project ms | "
                  "PyTorch autograd ms | ratio |", "|---|---:|---:|---:|"]
    for method, ours_ms, theirs_ms in explain_rows:
        lines.append(f"| {method} | {ours_ms:.1f} | {theirs_ms:.1f} | {ours_ms / theirs_ms:.2f}× |")
    lines += ["", "| start-up: `classify` of one photo, whole process | seconds | vs int8 |", "|---|---:|---:|"]
    for name, seconds in starts.items():
        if seconds is None:
            lines.append(f"| {name} | n/a on this CPU | |")
        else:
            lines.append(f"| {name} | {seconds:.2f} | {seconds / starts['int8']:.2f}× |")
    lines += ["",
              f"Peak RSS of `resnet18-explorer classify` on one image: {rss_mb:.0f} MB."]
    table = "\n".join(lines)
    print(table)
    (out / "peers.md").write_text(table + "\n")
    (out / "peers.json").write_text(json.dumps({
        "date": datetime.date.today().isoformat(), "cpu": cpu_name(), "checks": checks,
        "rows": [{"engine": e, "threads": t, "batch": b, **(r or {"unsupported": True})} for e, t, b, r in rows],
        "end_to_end": {name: {"ours": o, "pytorch": t} for name, (o, t) in e2e.items()},
        "folder": {"description": folder_note,
                   "rows": [{"engine": e, "precision": p, **({k: v for k, v in r.items() if k != "top1"} if r else
                                                             {"unsupported": True})} for e, p, r in folder_rows]},
        "attributions": {"isa": explain_isa, "threads": 2, "batch": 8,
                         "rows": [{"method": m, "ours_ms": o, "pytorch_ms": t} for m, o, t in explain_rows]},
        "startup_s": starts,
        "cli_rss_mb": rss_mb}, indent=1))
    if not all(c["ok"] for c in checks.values()):
        log("error: an engine disagrees with PyTorch; see above")
        sys.exit(1)


if __name__ == "__main__":
    main()
