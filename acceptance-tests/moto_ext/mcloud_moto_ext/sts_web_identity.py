"""STS: AssumeRoleWithWebIdentity checks the token and the role's trust policy.

moto 5.2.5 hands out credentials for any token and any role, so a trust that
Defender could never assume passes every test. The checks live in STS's response
layer because the backend never receives the token. Checked, in AWS's order:
the token parses; an OIDC provider exists for its issuer in the role's account;
its audience is one of the provider's client ids; it has not expired; the role
exists; and an Allow statement of the trust policy names that provider as the
federated principal for sts:AssumeRoleWithWebIdentity with all its conditions
met (`<provider>:aud`, `<provider>:sub`, `sts:RoleSessionName`; StringEquals /
StringLike and their IgnoreCase / ForAnyValue forms). Failures use AWS's codes
and wording. The token's signature is not checked: the emulated issuer has no
reachable keys.
"""

import base64
import fnmatch
import json
import time
from datetime import datetime, timezone
from xml.sax.saxutils import escape

from moto.iam.models import iam_backends
from moto.sts.responses import TokenResponse

ACTION = "sts:AssumeRoleWithWebIdentity"
_original = TokenResponse.assume_role_with_web_identity


class Rejected(Exception):
    def __init__(self, code, message, status=400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def _claims(token):
    try:
        payload = token.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (IndexError, ValueError, AttributeError) as e:
        raise Rejected("InvalidIdentityToken", "Couldn't parse the web identity token.") from e
    if not isinstance(claims, dict) or not isinstance(claims.get("iss"), str):
        raise Rejected("InvalidIdentityToken", "The web identity token has no issuer.")
    return claims


def _audiences(claims):
    aud = claims.get("aud", [])
    return [aud] if isinstance(aud, str) else [a for a in aud if isinstance(a, str)]


def _strip_scheme(url):
    return url.split("://", 1)[1] if "://" in url else url


def _matches(operator, expected, actual):
    base = operator.split(":", 1)[-1]  # ForAnyValue:/ForAllValues: prefixes: one value here
    if actual is None:
        return base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    values = expected if isinstance(expected, list) else [expected]
    if base == "StringEquals":
        return actual in values
    if base == "StringEqualsIgnoreCase":
        return actual.lower() in [str(v).lower() for v in values]
    if base == "StringLike":
        return any(fnmatch.fnmatchcase(actual, str(v)) for v in values)
    return False  # operators this emulation does not model never grant access


def _statement_allows(statement, provider_arn, context):
    if statement.get("Effect") != "Allow":
        return False
    actions = statement.get("Action", [])
    actions = [actions] if isinstance(actions, str) else actions
    if not any(a in (ACTION, "sts:*", "*") for a in actions):
        return False
    federated = statement.get("Principal", {})
    federated = federated.get("Federated", []) if isinstance(federated, dict) else []
    federated = [federated] if isinstance(federated, str) else federated
    if provider_arn not in federated:
        return False
    for operator, conditions in statement.get("Condition", {}).items():
        for key, expected in conditions.items():
            if not _matches(operator, expected, context.get(key.lower())):
                return False
    return True


def validate(role_arn, session_name, token, now=None):
    """Raises Rejected when AWS would refuse the exchange."""
    claims = _claims(token)
    parts = (role_arn or "").split(":")
    if len(parts) < 6:
        raise Rejected("ValidationError", f"{role_arn} is invalid")
    account, partition = parts[4], parts[1]
    backend = iam_backends[account][partition]
    issuer = _strip_scheme(claims["iss"])
    provider = next((p for p in backend.open_id_providers.values() if p.url == issuer), None)
    if provider is None:
        raise Rejected("InvalidIdentityToken", f"No OpenIDConnect provider found in your account for {claims['iss']}")
    audiences = _audiences(claims)
    aud = next((a for a in audiences if a in provider.client_id_list), None)
    if aud is None:
        raise Rejected("InvalidIdentityToken", "Incorrect token audience")
    now = time.time() if now is None else now
    exp = claims.get("exp")
    if isinstance(exp, (int, float)) and exp <= now:
        fmt = lambda t: datetime.fromtimestamp(t, timezone.utc).strftime("%a %b %d %H:%M:%S UTC %Y")
        raise Rejected("ExpiredTokenException", f"Token expired: current date/time {fmt(now)} must be before the expiration date/time {fmt(exp)}")
    denied = Rejected("AccessDenied", f"Not authorized to perform {ACTION}", status=403)
    role = next((r for r in backend.roles.values() if r.arn == role_arn), None)
    if role is None:
        raise denied
    try:
        policy = json.loads(role.assume_role_policy_document)
    except (TypeError, ValueError):
        raise denied
    statements = policy.get("Statement", [])
    statements = [statements] if isinstance(statements, dict) else statements
    context = {
        f"{issuer}:aud".lower(): aud,
        f"{issuer}:sub".lower(): claims.get("sub"),
        "sts:rolesessionname": session_name,
    }
    if not any(_statement_allows(s, provider.arn, context) for s in statements if isinstance(s, dict)):
        raise denied


def _error(self, rejected):
    body = (
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>'
        f"<Type>Sender</Type><Code>{escape(rejected.code)}</Code><Message>{escape(rejected.message)}</Message>"
        f"</Error><RequestId>{self.request_id if hasattr(self, 'request_id') else 'mcloud'}</RequestId></ErrorResponse>"
    )
    return body, {"status": rejected.status, "Content-Type": "text/xml"}


def assume_role_with_web_identity(self):
    try:
        validate(self._get_param("RoleArn"), self._get_param("RoleSessionName"), self._get_param("WebIdentityToken"))
    except Rejected as rejected:
        return _error(self, rejected)
    return _original(self)


def check_hooks(require):
    require(callable(getattr(TokenResponse, "assume_role_with_web_identity", None)),
            "TokenResponse.assume_role_with_web_identity is gone")
    require(hasattr(TokenResponse, "_get_param"), "TokenResponse._get_param is gone")


def install():
    TokenResponse.assume_role_with_web_identity = assume_role_with_web_identity


def verify(require):
    require(TokenResponse.assume_role_with_web_identity is assume_role_with_web_identity,
            "AssumeRoleWithWebIdentity validation not installed")
    # The validator must reject a token for an issuer nobody registered.
    try:
        validate("arn:aws:iam::123456789012:role/x", "s", "e30.eyJpc3MiOiJodHRwczovL25vYm9keS5pbnZhbGlkIn0.x")
    except Rejected as r:
        require(r.code == "InvalidIdentityToken", f"unexpected rejection {r.code}")
    else:
        require(False, "AssumeRoleWithWebIdentity accepted a token of an unknown issuer")
