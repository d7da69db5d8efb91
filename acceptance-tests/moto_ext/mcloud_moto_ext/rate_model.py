"""A model of AWS's rate limits and StackSet deployment times, for benchmarks.

moto answers every call at once and runs a StackSet operation to completion inside the
call that starts it. A benchmark against that measures moto, not the provider: there is
no floor to compare with. With a model set (admin API below), the emulator behaves as
AWS does at the edges a provider has to cope with:

- token buckets per service (optionally per action): a call that finds its bucket empty
  is answered with the service's own throttling error (faults.error_response), as AWS
  does once a caller exceeds its request rate;
- optionally a random share of all calls throttled as well (`random_throttle`, seeded),
  to show that retries cost time but never an operation;
- a StackSet operation reports RUNNING until its modelled duration has passed since the
  call that started it: waves of ceil(instances / concurrent accounts) per region, each
  `stack_seconds` long, regions one after another when RegionConcurrencyType is
  SEQUENTIAL. Concurrent accounts are MaxConcurrentCount, or MaxConcurrentPercentage of
  the accounts (at least one), as CloudFormation computes them.

StackSet writes are idempotent by their OperationId, as in AWS: the SDK sends one token per
call and repeats it on a retry. moto ignores it, so an attempt the SDK timed out while moto
was still deploying (a thousand stacks take moto longer than the SDK waits) ran twice and
raced itself; a repeat now waits for the first to finish and gets its operation id.

Throttled calls are counted by the fault middleware like any other call, and here per
`service:Action`, so a benchmark can tell accepted calls from refused ones.

Admin API (JSON):
  PUT /_mcloud/rate-model {"buckets": [{"service": "cloudformation", "action": null,
        "rate": 10, "burst": 20}, ...], "random_throttle": 0.1, "seed": 1,
        "stack_seconds": 30}  -> the model (replaces the previous one; {} turns it off)
  GET /_mcloud/rate-model -> {"model", "throttled": {"service:Action": n},
        "operations": [{"stack_set", "operation_id", "action", "instances",
        "modelled_seconds", "emulator_seconds", "status", "failed_results"}]}
"""

import io
import math
import random
import threading
import time
from urllib.parse import parse_qs

from moto.cloudformation import models as cfn_models

from . import faults

_lock = threading.Lock()
_request = threading.local()
_original_create_operation = cfn_models.StackSet._create_operation
_original_describe_operation = cfn_models.CloudFormationBackend.describe_stack_set_operation
_READY_AT = "_mcloud_ready_at"
_IDEMPOTENT = ("CreateStackInstances", "DeleteStackInstances", "UpdateStackInstances", "UpdateStackSet")
# client OperationId -> [threading.Event set when the first call recorded it, operation id]
_tokens = {}
_MODELLED = "_mcloud_modelled_seconds"


class _Bucket:
    def __init__(self, rate, burst):
        self.rate = float(rate)
        self.burst = float(burst)
        self.tokens = self.burst
        self.at = time.monotonic()

    def take(self):
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


_state = {"model": {}, "buckets": [], "random": random.Random(0), "throttled": {}, "operations": []}


def _number(spec, key, default, low):
    value = spec.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < low:
        raise ValueError(f'"{key}" must be a number of at least {low}')
    return value


def set_model(spec):
    """Replaces the model; see the module doc."""
    if not isinstance(spec, dict):
        raise ValueError('expected a JSON object such as {"buckets": [...], "stack_seconds": 30}')
    buckets = []
    for b in spec.get("buckets") or []:
        if not isinstance(b, dict) or not isinstance(b.get("service"), str):
            raise ValueError('a bucket needs {"service": "<signing name>", "rate": n, "burst": n}')
        rate = _number(b, "rate", None, 0.001)
        burst = _number(b, "burst", max(rate, 1), 1)
        buckets.append((b["service"], b.get("action"), _Bucket(rate, burst)))
    share = _number(spec, "random_throttle", 0, 0)
    if share > 1:
        raise ValueError('"random_throttle" is a share from 0 to 1')
    _number(spec, "stack_seconds", 0, 0)
    with _lock:
        _state["model"] = dict(spec)
        _state["buckets"] = buckets
        _state["random"] = random.Random(spec.get("seed", 0))
        _state["throttled"] = {}
        _state["operations"] = []
    return _state["model"]


def report(_body):
    """The model, refused calls per action and the StackSet operations modelled."""
    with _lock:
        operations = [dict(o) for o in _state["operations"]]
        result = {"model": _state["model"], "throttled": dict(_state["throttled"])}
    for o in operations:
        op = o.pop("_op")
        o["status"] = op.get("Status")
        o["failed_results"] = sum(1 for r in op.get("_mcloud_results", []) if r.get("Status") == "FAILED")
    result["operations"] = operations
    return result


def gate(service, action, environ):
    """Faults gate: a throttling rule when the model refuses the call, else None."""
    _request.started = time.monotonic()
    _request.form = None
    if service == "cloudformation":
        _request.form = _form(environ)
    with _lock:
        if not _state["model"]:
            return _idempotent(action)
        refused = False
        for b_service, b_action, bucket in _state["buckets"]:
            if b_service == service and b_action in (None, action) and not bucket.take():
                refused = True
                break
        share = _state["model"].get("random_throttle", 0)
        if not refused and share and _state["random"].random() < share:
            refused = True
        if not refused:
            return _idempotent(action)
        key = f"{service}:{action}"
        _state["throttled"][key] = _state["throttled"].get(key, 0) + 1
    code = "TooManyRequestsException" if service == "organizations" else None
    return {"status": 400, "code": code, "message": "Rate exceeded", "delay_ms": 0, "drop": False, "drop_after": False}


def _idempotent(action):
    """For a StackSet write the model let through: None for a first call (which registers its
    OperationId), the first call's answer for a repeat (after waiting for the first to finish)."""
    token = (getattr(_request, "form", None) or {}).get("OperationId")
    if action not in _IDEMPOTENT or not token:
        return None
    seen = _tokens.get(token)
    if seen is None:
        _tokens[token] = [threading.Event(), None]
        return None
    _lock.release()  # the caller holds it; the first call needs it to finish
    try:
        seen[0].wait(600)
    finally:
        _lock.acquire()
    return _repeat_answer(action, seen[1])


def _repeat_answer(action, operation_id):
    """The answer to a repeated StackSet write: the first call's operation."""
    ns = "http://cloudformation.amazonaws.com/doc/2010-05-15/"
    body = (f'<{action}Response xmlns="{ns}"><{action}Result><OperationId>{operation_id}</OperationId>'
            f"</{action}Result><ResponseMetadata><RequestId>repeat</RequestId></ResponseMetadata></{action}Response>")
    return {"status": 200, "code": None, "message": None, "delay_ms": 0, "drop": False, "drop_after": False, "body": body}


def _form(environ):
    """The form parameters of a Query API call (the body is put back for moto)."""
    if not environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        return {}
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}


def modelled_seconds(instances, regions, form, stack_seconds):
    """How long AWS takes for an operation over `instances` stack instances in `regions`."""
    if instances == 0 or stack_seconds == 0:
        return 0.0
    regions = max(regions, 1)
    accounts = math.ceil(instances / regions)
    count = form.get("OperationPreferences.MaxConcurrentCount")
    percent = form.get("OperationPreferences.MaxConcurrentPercentage")
    if count:
        concurrent = int(count)
    elif percent:
        concurrent = accounts * int(percent) // 100
    else:
        concurrent = 1  # CloudFormation's default: one account at a time
    waves = math.ceil(accounts / max(concurrent, 1))
    sequential = form.get("OperationPreferences.RegionConcurrencyType") == "SEQUENTIAL"
    return waves * stack_seconds * (regions if sequential else 1)


def create_operation(self, operation_id, action, status, accounts=None, regions=None):
    """Stands in for StackSet._create_operation: the operation is RUNNING for its modelled time."""
    operation = _original_create_operation(self, operation_id, action, status, accounts, regions)
    with _lock:
        stack_seconds = _state["model"].get("stack_seconds", 0) if _state["model"] else 0
    regions = regions or sorted({i.region_name for i in self.stack_instances})
    instances = len(accounts or []) * len(regions) if accounts else len(self.stack_instances)
    form = getattr(_request, "form", None) or {}
    token = form.get("OperationId")
    with _lock:
        seen = _tokens.get(token) if token else None
        if seen is not None and seen[1] is None:
            seen[1] = operation_id
            seen[0].set()
    seconds = modelled_seconds(instances, len(regions), form, stack_seconds)
    started = getattr(_request, "started", None) or time.monotonic()
    operation[_READY_AT] = started + seconds
    operation[_MODELLED] = seconds
    with _lock:
        _state["operations"].append({
            "stack_set": self.name, "operation_id": operation_id, "action": action,
            "instances": instances, "modelled_seconds": seconds,
            # moto's own time in the call (it deploys every instance before answering).
            "emulator_seconds": round(time.monotonic() - started, 3), "_op": operation,
        })
    return operation


def describe_stack_set_operation(self, stackset_name, operation_id):
    """Stands in for the backend's describe: RUNNING until the modelled end."""
    stackset, operation = _original_describe_operation(self, stackset_name, operation_id)
    if time.monotonic() < operation.get(_READY_AT, 0):
        operation = dict(operation)
        operation["Status"] = "RUNNING"
    return stackset, operation


def check_hooks(require):
    require(callable(_original_create_operation), "cloudformation StackSet._create_operation is gone")
    require(callable(_original_describe_operation), "CloudFormationBackend.describe_stack_set_operation is gone")
    require(isinstance(getattr(faults, "GATES", None), list), "faults.GATES is missing")


def install():
    cfn_models.StackSet._create_operation = create_operation
    cfn_models.CloudFormationBackend.describe_stack_set_operation = describe_stack_set_operation
    faults.GATES.append(gate)
    faults.ADMIN_ROUTES[("PUT", "rate-model")] = set_model
    faults.ADMIN_ROUTES[("GET", "rate-model")] = report


def verify(require):
    require(cfn_models.StackSet._create_operation is create_operation, "StackSet operation durations not installed")
    require(gate in faults.GATES, "rate model gate not installed")
    require(modelled_seconds(1000, 1, {"OperationPreferences.MaxConcurrentPercentage": "100"}, 30) == 30,
            "all accounts at once is one wave")
    require(modelled_seconds(2000, 2, {"OperationPreferences.MaxConcurrentCount": "100",
                                       "OperationPreferences.RegionConcurrencyType": "SEQUENTIAL"}, 1) == 20,
            "ten waves per region, regions in sequence")
    bucket = _Bucket(0.001, 2)
    require(bucket.take() and bucket.take() and not bucket.take(), "a bucket refuses once its burst is spent")
    for bad in (None, {"buckets": [{"rate": 1}]}, {"random_throttle": 2}, {"stack_seconds": -1}):
        try:
            set_model(bad)
        except ValueError:
            continue
        require(False, f"the rate model accepted the invalid request {bad!r}")
