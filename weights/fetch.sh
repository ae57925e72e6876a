#!/usr/bin/env bash
# Downloads torchvision's official ResNet18 ImageNet weights (IMAGENET1K_V1) to where
# resnet18-explorer looks by default, and checks them the way torchvision does: the file's
# SHA-256 must start with the 8 hex digits in its name.
#
#   weights/fetch.sh [DIR]     DIR defaults to ${XDG_DATA_HOME:-~/.local/share}/resnet18-explorer
#
# Resumable (an interrupted download continues from DIR/resnet18-f37072fd.pth.part); the final
# file appears only after the checksum matched (atomic rename). Overrides for tests only:
# R18_WEIGHTS_URL, R18_WEIGHTS_SHA256_PREFIX.
set -euo pipefail

name=resnet18-f37072fd.pth
url=${R18_WEIGHTS_URL:-https://download.pytorch.org/models/$name}
prefix=${R18_WEIGHTS_SHA256_PREFIX:-f37072fd}
dir=${1:-${XDG_DATA_HOME:-$HOME/.local/share}/resnet18-explorer}
target=$dir/$name
part=$target.part

mkdir -p "$dir"
if [ -f "$target" ]; then
    echo "Already present: $target"
    exit 0
fi
echo "Downloading $url"
echo "        to $target"
if command -v curl >/dev/null; then
    curl --fail --location --continue-at - --retry 3 --output "$part" "$url"
elif command -v wget >/dev/null; then
    wget --continue --tries=3 --output-document="$part" "$url"
else
    echo "error: neither curl nor wget is installed (apt-get install curl)" >&2
    exit 1
fi
sum=$(sha256sum "$part" | cut -c1-64)
if [ "${sum:0:${#prefix}}" != "$prefix" ]; then
    rm -f "$part"
    echo "error: checksum mismatch: SHA-256 $sum does not start with $prefix; the download was removed" >&2
    exit 1
fi
mv -f "$part" "$target"
echo "OK: $target (SHA-256 $sum)"
