#!/usr/bin/env bash
# ResNet18 Explorer against peer engines, in one run, on the same seeded weights and inputs:
# this project (fp32, bf16, int8), PyTorch eager / traced+frozen channels-last / bf16 autocast,
# ONNX Runtime and OpenCV DNN; 1 and 2 threads, batch 1 and 8; JPEG-to-top-5 end to end (a 768×576
# photo and a 4032×3024 phone photo); a folder of 420 photos against a PyTorch DataLoader;
# attributions (gradient, Grad-CAM, integrated gradients, SmoothGrad) against PyTorch autograd;
# start-up (one-image classify as a whole process, per precision); RSS.
# Installs what it needs (Debian packages; onnxruntime-node from npm, without its GPU download).
#   bench/peers.sh [--iterations N] [--quick]      results in bench/results/
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source scripts/deps.sh
R18_BUILD_PACKAGES+=(python3-torch python3-torchvision python3-onnx python3-numpy python3-pil python3-opencv darknet time)
command -v npm >/dev/null || R18_BUILD_PACKAGES+=(nodejs npm)  # keep a Node.js that is already there
r18_install_deps build
r18_build --target resnet18-explorer
if [ ! -d bench/node_modules/onnxruntime-node ]; then
    # Its install script downloads GPU binaries and fails offline; the CPU library ships in the package.
    (cd bench && npm install --ignore-scripts --no-audit --no-fund --loglevel=error)
fi
exec /usr/bin/python3 bench/peers.py --cli build/app/resnet18-explorer --out bench/results "$@"
