#!/usr/bin/env bash
# Builds the release binary and packages it the way the Terraform registry
# protocol and a filesystem mirror expect:
#   dist/terraform-provider-multicloud_<version>_linux_amd64.zip
#       (one file: terraform-provider-multicloud_v<version>)
#   dist/terraform-provider-multicloud_<version>_SHA256SUMS
#   dist/terraform-provider-multicloud_<version>_manifest.json
# The SHA256SUMS file lists the zip and the manifest; sign it with
# `gpg --detach-sign` before publishing to a registry.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

NAME=terraform-provider-multicloud
VERSION="$(cargo metadata --no-deps --format-version 1 |
    python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"]=="terraform-provider-multicloud"))')"
OS_ARCH=linux_amd64

echo "==> cargo build --release ($NAME $VERSION)"
cargo build --release -p "$NAME" --bin "$NAME"
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/$NAME"

mkdir -p dist
# Python rather than zip/sha256sum: only python3 is assumed on the machine.
python3 - "$BIN" "$NAME" "$VERSION" "$OS_ARCH" "$ROOT/terraform-registry-manifest.json" "$ROOT/dist" <<'PY'
import hashlib, os, shutil, sys, time, zipfile
binary, name, version, os_arch, manifest, dist = sys.argv[1:]
zip_name = f"{name}_{version}_{os_arch}.zip"
manifest_name = f"{name}_{version}_manifest.json"
sums_name = f"{name}_{version}_SHA256SUMS"

zip_path = os.path.join(dist, zip_name)
info = zipfile.ZipInfo(f"{name}_v{version}", date_time=time.localtime(os.path.getmtime(binary))[:6])
info.external_attr = 0o755 << 16  # keep the executable bit on unzip
info.compress_type = zipfile.ZIP_DEFLATED
with open(binary, "rb") as f, zipfile.ZipFile(zip_path + ".part", "w") as z:
    z.writestr(info, f.read())
os.replace(zip_path + ".part", zip_path)
shutil.copyfile(manifest, os.path.join(dist, manifest_name))

def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()

with open(os.path.join(dist, sums_name), "w") as out:
    for n in sorted([zip_name, manifest_name]):
        out.write(f"{sha256(os.path.join(dist, n))}  {n}\n")
for n in (zip_name, sums_name, manifest_name):
    print(f"dist/{n}  ({os.path.getsize(os.path.join(dist, n))} bytes)")
PY
