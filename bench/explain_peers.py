"""Attributions: this project's `bench --explain` against PyTorch autograd doing the same work.

PyTorch computes each method the way a PyTorch user (or Captum) does: integrated gradients and
SmoothGrad batched like ours (the same batch of path points / noisy samples per pass), Grad-CAM at
layer3 with a forward hook, the plain gradient on one image. Same seeded weights, same
preprocessed image, same class (the top-1), same threads; medians over the same number of runs,
the two engines alternating so that a change in the machine's load hits both.

Used by bench/peers.py; also runnable alone:
    /usr/bin/python3 bench/explain_peers.py --cli build/app/resnet18-explorer --weights W.pth \\
        --image photo.jpg [--threads 2] [--iterations 3]
"""
import argparse
import json
import statistics
import subprocess
import time

import torch
import torchvision
from PIL import Image

TRANSFORM = torchvision.transforms.Compose([
    torchvision.transforms.Resize(256), torchvision.transforms.CenterCrop(224),
    torchvision.transforms.ToTensor(),
    torchvision.transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])


def _batched_gradient_sum(model, images, cls, batch):
    total = torch.zeros_like(images[0:1])
    for first in range(0, images.shape[0], batch):
        x = images[first:first + batch].clone().requires_grad_(True)
        model(x)[:, cls].sum().backward()
        total += x.grad.sum(0, keepdim=True)
    return total


def torch_methods(model, x, cls, steps, samples, batch):
    """name -> a function computing that attribution map for image x [1,3,224,224]."""
    def gradient():
        xi = x.clone().requires_grad_(True)
        model(xi)[0, cls].backward()
        return xi.grad

    def gradcam():
        kept = {}
        handle = model.layer3.register_forward_hook(lambda m, i, o: kept.setdefault("a", o))
        try:
            out = model(x)
            a = kept["a"]
            (g,) = torch.autograd.grad(out[0, cls], a)
        finally:
            handle.remove()
        alpha = g.mean((2, 3), keepdim=True)
        return torch.relu((alpha * a).sum(1))

    def integrated_gradients():
        alphas = (torch.arange(steps, dtype=torch.float32) + 0.5) / steps
        path = alphas.view(-1, 1, 1, 1) * x
        return _batched_gradient_sum(model, path, cls, batch) * x / steps

    def smoothgrad():
        sigma = 0.15 * float(x.max() - x.min())
        noisy = x + sigma * torch.randn((samples,) + tuple(x.shape[1:]),
                                        generator=torch.Generator().manual_seed(0))
        return _batched_gradient_sum(model, noisy, cls, batch) / samples

    return {"gradcam": gradcam, "gradient": gradient,
            "integrated-gradients": integrated_gradients, "smoothgrad": smoothgrad}


def compare(cli, weights, image, threads, iterations, steps=32, samples=25, batch=8):
    """Rows (method, ours ms, PyTorch ms), ours from `bench --explain`, both medians."""
    torch.set_num_threads(threads)
    model = torchvision.models.resnet18()
    model.load_state_dict(torch.load(weights))
    model.eval()
    x = TRANSFORM(Image.open(image).convert("RGB")).unsqueeze(0)
    with torch.no_grad():
        cls = int(model(x).argmax())
    methods = torch_methods(model, x, cls, steps, samples, batch)
    for fn in methods.values():  # warm-up
        fn()
    ours = {m: [] for m in methods}
    theirs = {m: [] for m in methods}
    for _ in range(iterations):  # alternate, so load changes hit both
        run = json.loads(subprocess.run(
            [cli, "bench", "--explain", "--weights", str(weights), "--image", str(image), "--threads",
             str(threads), "--batch", str(batch), "--iterations", "1", "--steps", str(steps),
             "--samples", str(samples), "--json"], check=True, capture_output=True, text=True).stdout)
        isa = run["isa"]
        for r in run["results"]:
            if r["method"] in ours:
                ours[r["method"]].append(r["median_ms"])
        for name, fn in methods.items():
            start = time.perf_counter()
            fn()
            theirs[name].append((time.perf_counter() - start) * 1000)
    rows = [(m, statistics.median(ours[m]), statistics.median(theirs[m])) for m in methods]
    return isa, rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--image", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iterations", type=int, default=3)
    args = ap.parse_args()
    isa, rows = compare(args.cli, args.weights, args.image, args.threads, args.iterations)
    print(f"oneDNN ISA {isa}, {args.threads} threads, batch 8, median of {args.iterations}")
    print(f"{'method':24} {'ours ms':>10} {'PyTorch ms':>11} {'ratio':>7}")
    for method, ours, theirs in rows:
        print(f"{method:24} {ours:10.1f} {theirs:11.1f} {ours / theirs:6.2f}×")


if __name__ == "__main__":
    main()
