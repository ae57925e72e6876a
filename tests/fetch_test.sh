#!/usr/bin/env bash
# weights/fetch.sh against a local HTTP server: a verified download lands atomically under its
# name; a file whose SHA-256 does not match is refused and removed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/srv" "$work/ok" "$work/bad"
head -c 300000 /dev/urandom > "$work/srv/resnet18-f37072fd.pth"
prefix=$(sha256sum "$work/srv/resnet18-f37072fd.pth" | cut -c1-8)
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
/usr/bin/python3 -m http.server "$port" --bind 127.0.0.1 --directory "$work/srv" >/dev/null 2>&1 &
server=$!
for _ in $(seq 50); do (echo >/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.1; done
url=http://127.0.0.1:$port/resnet18-f37072fd.pth

R18_WEIGHTS_URL=$url R18_WEIGHTS_SHA256_PREFIX=$prefix "$root/weights/fetch.sh" "$work/ok" >"$work/ok.log" 2>&1
cmp "$work/srv/resnet18-f37072fd.pth" "$work/ok/resnet18-f37072fd.pth"
[ "$(ls -A "$work/ok")" = "resnet18-f37072fd.pth" ] || { echo "leftovers: $(ls -A "$work/ok")"; exit 1; }
grep -q "^OK: " "$work/ok.log"

if R18_WEIGHTS_URL=$url R18_WEIGHTS_SHA256_PREFIX=00000000 "$root/weights/fetch.sh" "$work/bad" >"$work/bad.log" 2>&1; then
    echo "a file with the wrong checksum was accepted"; exit 1
fi
grep -q "checksum mismatch" "$work/bad.log" || { cat "$work/bad.log"; exit 1; }
[ -z "$(ls -A "$work/bad")" ] || { echo "left behind: $(ls -A "$work/bad")"; exit 1; }
echo "fetch.sh: verified download kept, mismatched download refused and removed"
