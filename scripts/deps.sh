# Sourced by run.sh and test.sh: installs the Debian 12 packages the project needs, once.
#   r18_install_deps build   # compile and run the app
#   r18_install_deps test    # plus the reference framework, test photos and a virtual display
R18_BUILD_PACKAGES=(
    build-essential cmake ninja-build pkg-config git
    qt6-base-dev qt6-base-dev-tools libgl-dev
    libopencv-dev libdnnl-dev ocl-icd-opencl-dev
    libonnx-dev libprotobuf-dev protobuf-compiler zlib1g-dev nlohmann-json3-dev
    libgtest-dev libgmock-dev libjpeg-dev libheif-dev libavif-dev
    fontconfig fonts-dejavu-core
    librsvg2-bin
)
R18_TEST_PACKAGES=(
    python3-torch python3-torchvision python3-onnx python3-numpy python3-pil python3-opencv
    darknet xvfb xauth curl libheif-examples libavif-bin
    desktop-file-utils appstream shared-mime-info
)

r18_install_deps() {
    local wanted=("${R18_BUILD_PACKAGES[@]}")
    [ "${1:-build}" = test ] && wanted+=("${R18_TEST_PACKAGES[@]}")
    local missing=()
    for pkg in "${wanted[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "Installing missing packages: ${missing[*]}"
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { echo "error: need root or sudo to install: ${missing[*]}" >&2; return 1; }
        sudo=(sudo)
    fi
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
}

# Configures (once) and builds the project in build/ with warnings as errors.
r18_build() {
    local jobs
    jobs=$(nproc 2>/dev/null || echo 2)
    cmake --preset default >/dev/null
    cmake --build build --parallel "$jobs" "$@"
}
