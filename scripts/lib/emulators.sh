# Emulator lifecycle for the shell scripts (sourced, not run): starts moto and
# the ARM emulator on free loopback ports with per-run throwaway credentials,
# and stops both when the calling script exits. Parallel runs do not collide:
# every run has its own ports and state directory.
#
# After `emulators_start`, these are exported:
#   MOTO_URL, ARM_EMULATOR_URL, ARM_EMULATOR_CA, ARM_TENANT_ID, ARM_SUBSCRIPTION_ID,
#   ARM_CLIENT_ID, ARM_CLIENT_SECRET, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION
# Needs: MOTO_SERVER (from scripts/tools.sh) and ARM_EMULATOR_BIN. moto is started
# through acceptance-tests/moto_ext/serve.py with the Python of moto's venv, so the
# project's extension (fidelity fixes, fault injection at /_mcloud/) is loaded.

_EMU_PIDS=()
_EMU_DIR=""
_EMU_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

_emu_log() { printf '[emulators] %s\n' "$*" >&2; }

# Prints a loopback TCP port that was free a moment ago.
emu_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

_emu_uuid() { python3 -c 'import uuid; print(uuid.uuid4())'; }
_emu_secret() { python3 -c 'import secrets; print("demo-" + secrets.token_urlsafe(24))'; }

# Waits until `curl`-less probe $1 (python expression over urllib) succeeds or
# process $2 dies; $3 = timeout seconds.
_emu_wait_http() {
    local url="$1" pid="$2" timeout="$3"
    python3 - "$url" "$pid" "$timeout" <<'PY'
import os, sys, time, urllib.request
url, pid, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
deadline = time.monotonic() + timeout
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        sys.exit(2)
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            if r.status < 500:
                sys.exit(0)
    except Exception:
        time.sleep(0.2)
sys.exit(1)
PY
}

emulators_stop() {
    local pid
    for pid in "${_EMU_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${_EMU_PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    _EMU_PIDS=()
    if [[ -n "$_EMU_DIR" && -z "${KEEP_EMULATOR_DIR:-}" ]]; then
        rm -rf "$_EMU_DIR"
    fi
}

# The interpreter of the venv moto_server belongs to (MOTO_SERVER is a symlink
# into it).
_emu_moto_python() {
    printf '%s/python' "$(dirname "$(readlink -f "$MOTO_SERVER")")"
}

# Starts moto on a free port (retrying if another process grabs the port
# between picking and binding) and exports MOTO_URL.
emulators_start_moto() {
    local attempt port pid rc
    for attempt in 1 2 3; do
        port="$(emu_free_port)"
        MOTO_IAM_LOAD_MANAGED_POLICIES=true "$(_emu_moto_python)" \
            "$_EMU_ROOT/acceptance-tests/moto_ext/serve.py" -H 127.0.0.1 -p "$port" \
            >"$_EMU_DIR/moto.log" 2>&1 &
        pid=$!
        rc=0
        _emu_wait_http "http://127.0.0.1:$port/moto-api/" "$pid" 60 || rc=$?
        if [[ $rc -eq 0 ]]; then
            _EMU_PIDS+=("$pid")
            export MOTO_URL="http://127.0.0.1:$port"
            _emu_log "moto listening on $MOTO_URL (pid $pid)"
            return 0
        fi
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        _emu_log "moto did not start on port $port (attempt $attempt)"
    done
    _emu_log "moto failed to start; its log:"
    cat "$_EMU_DIR/moto.log" >&2
    return 1
}

# Starts the ARM emulator with throwaway ids and credentials and exports the
# ARM_* variables and ARM_EMULATOR_URL / ARM_EMULATOR_CA. When moto runs
# (MOTO_URL), security connector health asks it about the connector's roles.
emulators_start_arm() {
    local state="$_EMU_DIR/arm" pid
    mkdir -p "$state"
    export ARM_TENANT_ID ARM_SUBSCRIPTION_ID ARM_CLIENT_ID ARM_CLIENT_SECRET
    ARM_TENANT_ID="$(_emu_uuid)"
    ARM_SUBSCRIPTION_ID="$(_emu_uuid)"
    ARM_CLIENT_ID="$(_emu_uuid)"
    ARM_CLIENT_SECRET="$(_emu_secret)"
    "$ARM_EMULATOR_BIN" --listen 127.0.0.1:0 --state-dir "$state" \
        --tenant-id "$ARM_TENANT_ID" --subscription-id "$ARM_SUBSCRIPTION_ID" \
        --client "$ARM_CLIENT_ID=$ARM_CLIENT_SECRET" \
        ${MOTO_URL:+--aws-endpoint "$MOTO_URL"} \
        --resource-group "${DEMO_RESOURCE_GROUP:-rg-defender-aws}=westeurope" \
        >"$_EMU_DIR/arm-emulator.out" 2>"$_EMU_DIR/arm-emulator.log" &
    pid=$!
    _EMU_PIDS+=("$pid")
    local waited=0
    while [[ ! -s "$state/emulator.json" ]]; do
        if ! kill -0 "$pid" 2>/dev/null; then
            _emu_log "arm-emulator exited before it was ready; its log:"
            cat "$_EMU_DIR/arm-emulator.log" >&2
            return 1
        fi
        if (( waited >= 300 )); then
            _emu_log "arm-emulator not ready after 30s"
            return 1
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
    export ARM_EMULATOR_URL ARM_EMULATOR_CA
    ARM_EMULATOR_URL="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["url"])' "$state/emulator.json")"
    ARM_EMULATOR_CA="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ca_cert_file"])' "$state/emulator.json")"
    _emu_log "arm-emulator listening on $ARM_EMULATOR_URL (pid $pid)"
}

# Starts both emulators. Unless EMULATORS_NO_TRAP is set (a caller with its
# own EXIT trap, which must then call emulators_stop), installs an EXIT trap
# that stops them; Ctrl-C goes through the EXIT trap too.
emulators_start() {
    _EMU_DIR="$(mktemp -d "${TMPDIR:-/tmp}/multicloud-emulators.XXXXXX")"
    if [[ -z "${EMULATORS_NO_TRAP:-}" ]]; then
        trap emulators_stop EXIT
    fi
    trap 'exit 130' INT TERM
    # moto takes any credentials; fixed dummies keep the demo readable.
    export AWS_ACCESS_KEY_ID=AKIAEMULATOR000DEMO AWS_SECRET_ACCESS_KEY="$(_emu_secret)" AWS_REGION=us-east-1
    emulators_start_moto
    emulators_start_arm
}
