"""Fault injection and call counting, as a WSGI middleware around moto's dispatcher.

Retry behaviour (the SDK's throttling retries, the provider's bounded waits) can
only be tested if the emulator can be told to refuse calls. Faults answer in the
calling service's own error format, so the SDK classifies them as it would in AWS:
Query APIs (IAM, STS, CloudFormation) get an XML `Throttling` ErrorResponse, JSON
APIs (X-Amz-Target, e.g. Organizations) a `ThrottlingException` body, S3 `SlowDown`.

Admin API (JSON; never reaches moto):
  POST   /_mcloud/faults  {"service": "iam", "action": "CreateRole" (optional),
                           "count": 2 (null = unlimited), "every": 1 (fail every n-th
                           matching call), "status": 400, "code": (optional override),
                           "message": (optional), "delay_ms": (optional) wait first; alone
                           it passes the call on late (a response slower than the client's
                           timeout), "drop": true closes the connection unprocessed,
                           "drop_after": true processes the call, then closes the connection
                           without its answer}  -> the rule with its "id"
  GET    /_mcloud/faults  -> rules with "remaining" and "hits"
  DELETE /_mcloud/faults  -> removes all rules
  GET    /_mcloud/calls   -> {"iam:CreateRole": 3, ...} (every call, faulted ones included)
  DELETE /_mcloud/calls   -> resets the counters
  GET    /_mcloud/self-check -> the extension's self-check report
Other modules add JSON endpoints under /_mcloud/ through ADMIN_ROUTES, and checks that may
refuse a call (rate limits) through GATES.
"""

import io
import itertools
import json
import socket
import threading
import time
import uuid
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

import moto.server

ADMIN_PREFIX = "/_mcloud/"
_QUERY_VERSIONS = {"iam": "2010-05-08", "sts": "2011-06-15", "cloudformation": "2010-05-15"}
_original_dispatcher = moto.server.DomainDispatcherApplication
# (method, path after /_mcloud/) -> handler(parsed JSON body) -> JSON-able result;
# a ValueError or TypeError from the handler answers 400 with its message.
ADMIN_ROUTES = {}
# Checks run on a call no fault rule took: gate(service, action, environ) -> a rule (dict with
# the fields add_rule produces) to answer it with, or None to pass it on.
GATES = []


def request_identity(environ):
    """(service, action) of an AWS request; reads and restores a form body if needed."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    service = ""
    if "Credential=" in auth:
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/")
        service = scope[3] if len(scope) > 3 else ""
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return service, target.rsplit(".", 1)[-1]
    action = parse_qs(environ.get("QUERY_STRING", "")).get("Action", [""])[0]
    if not action and environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)  # moto reads it again
        action = parse_qs(body.decode("utf-8", "replace")).get("Action", [""])[0]
    return service, action


def error_response(service, json_protocol, rule, content_type):
    """Status, headers and body of an injected error in the service's own format."""
    request_id = str(uuid.uuid4())
    message = rule.get("message") or "Rate exceeded"
    if json_protocol:
        code = rule.get("code") or "ThrottlingException"
        body = json.dumps({"__type": code, "message": message})
        headers = [("Content-Type", content_type or "application/x-amz-json-1.1"), ("x-amzn-ErrorType", code)]
    elif service == "s3":
        code = rule.get("code") or "SlowDown"
        body = f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message><RequestId>{request_id}</RequestId></Error>"
        headers = [("Content-Type", "application/xml")]
    else:
        code = rule.get("code") or "Throttling"
        ns = f"https://{service}.amazonaws.com/doc/{_QUERY_VERSIONS.get(service, '')}/"
        body = (
            f'<ErrorResponse xmlns="{ns}"><Error><Type>Sender</Type><Code>{escape(code)}</Code>'
            f"<Message>{escape(message)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        headers = [("Content-Type", "text/xml")]
    headers.append(("x-amzn-RequestId", request_id))
    return rule.get("status") or (503 if service == "s3" else 400), headers, body


class FaultInjector:
    """Wraps moto's dispatcher; thread-safe (moto's server is threaded)."""

    def __init__(self, app):
        self.app = app
        self._lock = threading.Lock()
        self._rules = []
        self._calls = {}
        self._ids = itertools.count(1)

    def __getattr__(self, name):  # moto.server sets attributes such as `debug` on its app
        return getattr(self.app, name)

    def add_rule(self, spec):
        if not isinstance(spec, dict) or not isinstance(spec.get("service"), str):
            raise ValueError('a fault needs at least {"service": "<signing name>"}')
        if spec.get("drop") and spec.get("drop_after"):
            raise ValueError("drop and drop_after exclude each other")
        rule = {
            "id": next(self._ids),
            "service": spec["service"],
            "action": spec.get("action"),
            "remaining": spec.get("count", 1),
            "every": max(int(spec.get("every", 1)), 1),
            "status": spec.get("status"),
            "code": spec.get("code"),
            "message": spec.get("message"),
            "delay_ms": int(spec.get("delay_ms") or 0),
            "drop": bool(spec.get("drop")),
            "drop_after": bool(spec.get("drop_after")),
            "seen": 0,
            "hits": 0,
        }
        with self._lock:
            self._rules.append(rule)
        return rule

    def take(self, service, action):
        """Counts the call; returns the rule that faults it, if any."""
        with self._lock:
            key = f"{service}:{action}"
            self._calls[key] = self._calls.get(key, 0) + 1
            for rule in self._rules:
                if rule["service"] != service or rule["action"] not in (None, action):
                    continue
                if rule["remaining"] is not None and rule["remaining"] <= 0:
                    continue
                rule["seen"] += 1
                if rule["seen"] % rule["every"]:
                    continue
                rule["hits"] += 1
                if rule["remaining"] is not None:
                    rule["remaining"] -= 1
                return dict(rule)
        return None

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith(ADMIN_PREFIX):
            return self._admin(environ, start_response, path[len(ADMIN_PREFIX):].strip("/"))
        service, action = request_identity(environ)
        rule = self.take(service, action) if service else None
        if rule is None and service:
            rule = next((r for r in (g(service, action, environ) for g in GATES) if r), None)
        if rule is None:
            return self.app(environ, start_response)
        if rule["delay_ms"]:
            time.sleep(rule["delay_ms"] / 1000)
        if rule["drop"]:
            _hang_up(environ)
        if rule["drop_after"]:
            # Consume the whole answer so moto's change is made, then withhold it.
            for _ in self.app(environ, lambda *a, **k: (lambda _data: None)):
                pass
            _hang_up(environ)
        if rule["delay_ms"] and rule["status"] is None and rule["code"] is None:
            return self.app(environ, start_response)
        if rule.get("body") is not None:  # a gate's own answer
            data = rule["body"].encode()
            start_response("200 OK", [("Content-Type", "text/xml"), ("Content-Length", str(len(data)))])
            return [data]
        status, headers, body = error_response(
            service, bool(environ.get("HTTP_X_AMZ_TARGET")), rule, environ.get("CONTENT_TYPE")
        )
        data = body.encode()
        start_response(f"{status} Injected", headers + [("Content-Length", str(len(data)))])
        return [data]

    def _admin(self, environ, start_response, what):
        method = environ.get("REQUEST_METHOD", "GET")
        try:
            if what == "faults" and method == "POST":
                length = int(environ.get("CONTENT_LENGTH") or 0)
                result = self.add_rule(json.loads(environ["wsgi.input"].read(length) or b"null"))
            elif what == "faults" and method == "GET":
                with self._lock:
                    result = [dict(r) for r in self._rules]
            elif what == "faults" and method == "DELETE":
                with self._lock:
                    self._rules.clear()
                result = {"cleared": True}
            elif what == "calls" and method == "GET":
                with self._lock:
                    result = dict(self._calls)
            elif what == "calls" and method == "DELETE":
                with self._lock:
                    self._calls.clear()
                result = {"cleared": True}
            elif what == "self-check" and method == "GET":
                import mcloud_moto_ext

                result = mcloud_moto_ext.self_check()
            elif (method, what) in ADMIN_ROUTES:
                length = int(environ.get("CONTENT_LENGTH") or 0)
                body = environ["wsgi.input"].read(length) if length else b""
                result = ADMIN_ROUTES[(method, what)](json.loads(body or b"null"))
            else:
                return self._reply(start_response, 404, {"error": f"no admin endpoint {method} /_mcloud/{what}"})
        except (ValueError, TypeError) as e:
            return self._reply(start_response, 400, {"error": str(e)})
        return self._reply(start_response, 200, result)

    @staticmethod
    def _reply(start_response, status, payload):
        data = json.dumps(payload).encode()
        start_response(f"{status} Admin", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]


def _hang_up(environ):
    """Closes the client's connection without an answer. The development server treats the
    ConnectionResetError as a client that went away and writes nothing more."""
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    raise ConnectionResetError("connection dropped by an injected fault")


def wrapped_dispatcher(create_app):
    """Stands in for DomainDispatcherApplication in moto.server.main."""
    return FaultInjector(_original_dispatcher(create_app))


def check_hooks(require):
    require(callable(getattr(moto.server, "main", None)), "moto.server.main is gone")
    require(isinstance(_original_dispatcher, type), "moto.server.DomainDispatcherApplication is not a class")
    require("DomainDispatcherApplication" in moto.server.main.__code__.co_names,
            "moto.server.main no longer builds DomainDispatcherApplication")


def install():
    moto.server.DomainDispatcherApplication = wrapped_dispatcher


def verify(require):
    require(moto.server.DomainDispatcherApplication is wrapped_dispatcher, "fault middleware not installed")
    probe = FaultInjector(None)
    probe.add_rule({"service": "iam", "action": "GetRole", "count": 1})
    require(probe.take("iam", "GetRole") is not None and probe.take("iam", "GetRole") is None,
            "fault rule does not stop after its count")
    dropped = probe.add_rule({"service": "iam", "drop": True, "delay_ms": 5})
    require(dropped["drop"] and dropped["delay_ms"] == 5, "drop/delay fields not kept")
    try:
        probe.add_rule({"service": "iam", "drop": True, "drop_after": True})
        require(False, "drop with drop_after accepted")
    except ValueError:
        pass
