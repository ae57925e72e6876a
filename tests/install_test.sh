#!/usr/bin/env bash
# `cmake --install` into a temporary DESTDIR with prefix /usr (as the .deb installs), then checks:
# exactly the expected files, where freedesktop and AppStream look for them; the .desktop file,
# the metainfo and the MIME package pass their validators and agree with each other and with the
# binary; and the installed binary, moved to another prefix and run from outside the source and
# build trees without a display, prints its version, finds its samples, classifies one, names its
# own weights script, and (offscreen) shows a sample in the window; and `cpack -G DEB` makes a
# package for /usr whose dependencies come from dpkg-shlibdeps.
#   tests/install_test.sh BUILD_DIR FIXTURES_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
fixtures=$(cd "$2" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
id=io.github.resnet18explorer.ResNet18Explorer
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

DESTDIR=$work/dest cmake --install "$build" --prefix /usr >"$work/install.log"
root=$work/dest/usr

# Exactly these files, nothing else (tests, bench and fixtures are not installed).
expected="bin/resnet18-explorer
share/applications/$id.desktop
share/icons/hicolor/128x128/apps/$id.png
share/icons/hicolor/256x256/apps/$id.png
share/icons/hicolor/48x48/apps/$id.png
share/icons/hicolor/scalable/apps/$id.svg
share/metainfo/$id.metainfo.xml
share/mime/packages/$id.xml
share/resnet18-explorer/fetch-weights.sh
share/resnet18-explorer/samples/README.md
share/resnet18-explorer/samples/cat.jpg
share/resnet18-explorer/samples/coffee.jpg
share/resnet18-explorer/samples/rocket.jpg"
actual=$(cd "$root" && find . -type f | sed 's|^\./||' | LC_ALL=C sort)
[ "$actual" = "$expected" ] || fail "installed files differ from the expected layout:
$(diff <(echo "$expected") <(echo "$actual") || true)"
[ -x "$root/bin/resnet18-explorer" ] || fail "the binary is not executable"
[ -x "$root/share/resnet18-explorer/fetch-weights.sh" ] || fail "fetch-weights.sh is not executable"
if readelf -d "$root/bin/resnet18-explorer" | grep -E 'RPATH|RUNPATH'; then
    fail "the installed binary carries a run path (it links system libraries only)"
fi

# The icons are rendered at their nominal sizes (PNG IHDR: width and height, big-endian).
for size in 48 128 256; do
    dims=$(od -An -tx1 -j16 -N8 "$root/share/icons/hicolor/${size}x${size}/apps/$id.png" | tr -d ' \n')
    [ "$dims" = "$(printf '%08x%08x' "$size" "$size")" ] || fail "${size}x${size} icon has IHDR $dims"
done

# Validators, and the files agree with each other.
desktop=$root/share/applications/$id.desktop
metainfo=$root/share/metainfo/$id.metainfo.xml
desktop-file-validate "$desktop" || fail "desktop-file-validate"
appstreamcli validate --no-net "$metainfo" >"$work/appstream.log" 2>&1 ||
    fail "appstreamcli validate: $(cat "$work/appstream.log")"
grep -qx "Exec=resnet18-explorer %F" "$desktop" || fail ".desktop Exec"
grep -qx "Icon=$id" "$desktop" || fail ".desktop Icon is not the application id"
grep -q "<id>$id</id>" "$metainfo" || fail "metainfo id"
grep -q "<launchable type=\"desktop-id\">$id.desktop</launchable>" "$metainfo" || fail "launchable"
grep -q "<binary>resnet18-explorer</binary>" "$metainfo" || fail "provides/binary"
# Its screenshots are the README's, committed under docs/.
shots=$(grep -o 'ResNet18Explorer/main/docs/[^<]*' "$metainfo" | sed 's|^ResNet18Explorer/main/||')
[ -n "$shots" ] || fail "metainfo lists no screenshots from docs/"
for shot in $shots; do
    [ -f "$src/$shot" ] || fail "metainfo screenshot $shot is not in the source tree"
    grep -qF "($shot)" "$src/README.md" || fail "metainfo screenshot $shot is not in the README"
done
for type in application/x-pytorch application/x-onnx application/x-safetensors image/jpeg image/png; do
    grep -q "^MimeType=.*$type;" "$desktop" || fail ".desktop MimeType lacks $type"
done
mkdir -p "$work/mime/packages"
cp "$root/share/mime/packages/$id.xml" "$work/mime/packages/"
update-mime-database "$work/mime" || fail "update-mime-database rejects the MIME package"
for type in x-pytorch x-onnx x-safetensors; do
    [ -f "$work/mime/application/$type.xml" ] || fail "MIME type application/$type not defined"
done

newest=$(grep -o '<release version="[^"]*"' "$metainfo" | head -1 | cut -d'"' -f2)

# Move the installed tree to another prefix and run it from elsewhere, without a display and
# with system data folders pointing nowhere: whatever it finds, it finds beside itself.
mkdir -p "$work/elsewhere" "$work/home" "$work/cwd"
mv "$root" "$work/elsewhere/prefix"
prefix=$work/elsewhere/prefix
bin=$prefix/bin/resnet18-explorer
run() {
    (cd "$work/cwd" && env -i PATH=/usr/bin:/bin HOME="$work/home" XDG_DATA_DIRS=/nonexistent "$@")
}

version=$(run "$bin" --version) || fail "--version exited non-zero"
[[ "$version" =~ ^resnet18-explorer\ ([0-9]+\.[0-9]+\.[0-9]+)$ ]] || fail "--version printed '$version'"
number=${BASH_REMATCH[1]}
[ "$newest" = "$number" ] || fail "metainfo's newest release is $newest, the program says $number"
run "$bin" --help | grep -q -- "--version" || fail "--help"

info=$(run "$bin" info) || fail "info exited non-zero"
grep -qF "samples: $prefix/share/resnet18-explorer/samples (3 images)" <<<"$info" ||
    fail "info does not find the samples beside the binary: $(head -3 <<<"$info")"

sample=$prefix/share/resnet18-explorer/samples/cat.jpg
out=$(run "$bin" classify --weights "$fixtures/weights/resnet18_seeded.pth" "$sample") ||
    fail "classify exited non-zero"
grep -qF "$sample" <<<"$out" || fail "classify output does not name the sample: $out"
[ "$(grep -cE '^\s*[1-5]\s+[01]\.[0-9]{4}\s+[0-9]+\s' <<<"$out")" = 5 ] || fail "no top-5 in: $out"

if run "$bin" classify "$sample" >/dev/null 2>"$work/noweights.err"; then
    fail "classify without weights succeeded"
fi
grep -qF "$prefix/share/resnet18-explorer/fetch-weights.sh" "$work/noweights.err" ||
    fail "the no-weights message does not name the installed script: $(cat "$work/noweights.err")"
if grep -qF "$src" "$work/noweights.err" || grep -qF "$build" "$work/noweights.err"; then
    fail "the installed binary looks into the source or build tree: $(cat "$work/noweights.err")"
fi

run QT_QPA_PLATFORM=offscreen "$bin" --weights "$fixtures/weights/resnet18_seeded.pth" \
    --screenshot "$work/window.png" "$sample" >"$work/window.log" 2>&1 ||
    fail "the installed window did not show a sample: $(cat "$work/window.log")"
[ -s "$work/window.png" ] || fail "no screenshot"

# The .deb: installs under /usr, depends on what dpkg-shlibdeps found the binary linked to.
cpack --config "$build/CPackConfig.cmake" -G DEB -B "$work/deb" >"$work/cpack.log" 2>&1 ||
    fail "cpack: $(tail -5 "$work/cpack.log")"
deb=$work/deb/resnet18-explorer_${number}_$(dpkg --print-architecture).deb
[ -f "$deb" ] || fail "no $deb: $(ls "$work/deb")"
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libqt6widgets6 libdnnl2 libopencv-imgcodecs libgomp1; do
    grep -q "$lib" <<<"$depends" || fail "the .deb does not depend on $lib: $depends"
done
contents=$(dpkg-deb -c "$deb")
for f in usr/bin/resnet18-explorer usr/share/applications/$id.desktop \
    usr/share/resnet18-explorer/samples/cat.jpg; do
    grep -qF "./$f" <<<"$contents" || fail "the .deb lacks /$f"
done

echo "install: layout, validators, the relocated binary (version $number) and the .deb all fine"
