#!/usr/bin/env bash
# Builds ResNet18 Explorer (installing missing Debian packages first) and starts it.
# Arguments are passed to the app: ./run.sh photo.jpg, ./run.sh classify dog.jpg, ...
set -euo pipefail
cd "$(dirname "$0")"
source scripts/deps.sh
r18_install_deps build
r18_build --target resnet18-explorer
exec build/app/resnet18-explorer "$@"
