"""Organizations at scale: many member accounts seeded in one request, and requests
that stay cheap when moto holds a thousand accounts.

Every request moto serves looks up the account of its access key by asking each
account's IAM backend, in every partition, whether it holds the key; asking
creates the missing per-partition backends, each loading the AWS-managed policy
catalog. With 1,000 member accounts one request built thousands of IAM backends
(minutes, gigabytes). The lookup here asks only the backends that exist: a
backend that was never created holds no access key, so the answer is the same.

Creating an account cost moto about half a second, almost all of it spent
building the new account's IAM backend: with AWS-managed policies loaded (which
templates attaching SecurityAudit and the like need), every backend parses and
instantiates the whole catalog of ~1,600 AWS-managed policies. 1,000 accounts
took over eight minutes.

AWS-managed policies are one global set in AWS too (their ARNs carry `aws`, not
an account), so member accounts (created by CreateAccount or seeded here) share
one catalog, built once: their IAM backends get the same policy objects instead
of private copies. The one visible difference is that the AttachmentCount of an
AWS-managed policy (and the `OnlyAttached` filter of ListPolicies) counts
attachments in every member account together; the management account and any
account outside an organization keep private copies. The catalog outlives a
moto reset, counts included.

Seeding (below) then replaces 2,000 CreateAccount + MoveAccount round trips by
one request, and does what those calls would have done:
the default SCP and RCP attached, the OrganizationAccountAccessRole created, the account registered as a member
of the management account's organization.

Admin API (JSON; never reaches moto's request routing):
  POST /_mcloud/organizations/accounts
       {"count": 1000, "parent_ids": ["r-...", "ou-..."] (default: the root;
        accounts are spread over them round-robin), "name_prefix": "member"
        (accounts are named <prefix>-<n>, email <prefix>-<n>@example.test),
        "first_index": 0, "management_account_id": (default: the only account
        that has an organization)}
       -> {"organization_id", "root_id", "management_account_id",
           "accounts": [{"id", "name", "email", "parent_id"}, ...] in creation order}
"""

import threading

from moto.iam import models as iam_models
from moto.organizations import models as org_models
from moto.organizations import utils as org_utils
from moto.settings import load_iam_aws_managed_policies

from . import faults

MAX_ACCOUNTS = 5000

# Called as hook(organizations_backend, [account ids]) after each seeding, as Organizations
# events would be after CreateAccount and MoveAccount (StackSet auto-deployment listens).
SEED_HOOKS = []

_original_init_aws_policies = iam_models.IAMBackend._init_aws_policies
_original_init_managed_policies = iam_models.IAMBackend._init_managed_policies
_original_account_lookup = iam_models.get_account_id_from
_original_account_init = org_models.FakeAccount.__init__
_sharing = threading.local()
_catalog_lock = threading.Lock()
_catalog = None
_catalog_by_arn = None


def _shared_catalog(backend):
    """The AWS-managed policies, built once by the first backend that asks."""
    global _catalog, _catalog_by_arn
    with _catalog_lock:
        if _catalog is None:
            _catalog = _original_init_aws_policies(backend)
            _catalog_by_arn = {p.arn: p for p in _catalog}
        return _catalog


def init_aws_policies(self):
    """Stands in for IAMBackend._init_aws_policies: the shared catalog for member accounts."""
    if getattr(_sharing, "on", False) and load_iam_aws_managed_policies():
        return _shared_catalog(self)
    return _original_init_aws_policies(self)


def init_managed_policies(self):
    """Stands in for IAMBackend._init_managed_policies: a copy of the shared index (the
    account adds its own policies to it) instead of recomputing 1,600 ARNs."""
    if _catalog is not None and self.aws_managed_policies is _catalog:
        return dict(_catalog_by_arn)
    return _original_init_managed_policies(self)


def account_init(self, organization, **kwargs):
    """Stands in for FakeAccount.__init__: the new member's IAM backend shares the catalog."""
    _sharing.on = True
    try:
        _original_account_init(self, organization, **kwargs)
    finally:
        _sharing.on = False


def get_account_id_from(access_key):
    """Stands in for moto.iam.models.get_account_id_from without creating backends."""
    for account_id, account in list(iam_models.iam_backends.items()):
        # dict.values: the account's existing partition backends, none created.
        for backend in list(dict.values(account)):
            if access_key in backend.access_keys:
                return account_id
    return iam_models.DEFAULT_ACCOUNT_ID


def _management_backend(account_id):
    backends = org_models.organizations_backends
    if account_id is not None:
        if not isinstance(account_id, str):
            raise ValueError("management_account_id must be a string")
        for partition_backend in backends.get(account_id, {}).values():
            if partition_backend.org is not None:
                return partition_backend
        raise ValueError(f"account {account_id} has no organization: call CreateOrganization first")
    found = [b for acct in backends.values() for b in acct.values() if b.org is not None]
    found = [b for b in found if b.org.master_account_id == b.account_id]
    if not found:
        raise ValueError("no organization exists: call CreateOrganization first")
    if len(found) > 1:
        raise ValueError(f'{len(found)} organizations exist: name one with "management_account_id"')
    return found[0]


def _int(spec, key, default, low, high):
    value = spec.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f'"{key}" must be an integer from {low} to {high}')
    return value


def seed_accounts(spec):
    """Creates `count` member accounts spread over `parent_ids`; see the module doc."""
    if not isinstance(spec, dict):
        raise ValueError('expected a JSON object such as {"count": 1000}')
    count = _int(spec, "count", None, 1, MAX_ACCOUNTS)
    first = _int(spec, "first_index", 0, 0, 10**9)
    prefix = spec.get("name_prefix", "member")
    if not isinstance(prefix, str) or not prefix:
        raise ValueError('"name_prefix" must be a non-empty string')
    backend = _management_backend(spec.get("management_account_id"))
    org = backend.org
    parents = spec.get("parent_ids") or [org.root_id]
    if not isinstance(parents, list) or not all(isinstance(p, str) for p in parents):
        raise ValueError('"parent_ids" must be a list of root or OU ids')
    known = {ou.id for ou in backend.ou}
    unknown = [p for p in parents if p not in known]
    if unknown:
        raise ValueError(f"no such parent in organization {org.id}: {', '.join(unknown)}")

    default_policies = [
        backend.get_policy_by_id(policy_id)
        for policy_id in (org_utils.DEFAULT_SCP_POLICY_ID, org_utils.DEFAULT_RCP_POLICY_ID)
    ]
    created = []
    for i in range(count):
        n = first + i
        name = f"{prefix}-{n}"
        account = org_models.FakeAccount(org, AccountName=name, Email=f"{name}@example.test")
        account.parent_id = parents[i % len(parents)]
        backend.accounts.append(account)
        # What attach_policy does for an account, without its scan of every account.
        for policy in default_policies:
            account.attached_policies.append(policy)
            policy.attachments.append(account)
        org_models.organizations_backends.master_accounts[account.id] = (
            backend.account_id,
            backend.partition,
        )
        created.append(
            {"id": account.id, "name": name, "email": account.email, "parent_id": account.parent_id}
        )
    for hook in SEED_HOOKS:
        hook(backend, [a["id"] for a in created])
    return {
        "organization_id": org.id,
        "root_id": org.root_id,
        "management_account_id": backend.account_id,
        "accounts": created,
    }


def check_hooks(require):
    require(callable(_original_init_aws_policies), "IAMBackend._init_aws_policies is gone")
    require(
        "_init_managed_policies" in iam_models.IAMBackend.__init__.__code__.co_names,
        "IAMBackend.__init__ no longer indexes managed policies through _init_managed_policies",
    )
    require(
        {"attached_policies", "attachments"} <= set(org_models.OrganizationsBackend.attach_policy.__code__.co_names),
        "OrganizationsBackend.attach_policy no longer links policies and accounts both ways",
    )
    require(callable(_original_account_lookup), "moto.iam.models.get_account_id_from is gone")
    require(hasattr(iam_models, "DEFAULT_ACCOUNT_ID"), "moto.iam.models.DEFAULT_ACCOUNT_ID is gone")
    from moto.core import responses as core_responses

    require(
        "get_account_id_from" in core_responses.BaseResponse.get_current_account.__code__.co_names,
        "BaseResponse.get_current_account no longer resolves accounts through get_account_id_from",
    )
    require(
        "_init_aws_policies" in iam_models.IAMBackend.__init__.__code__.co_names,
        "IAMBackend.__init__ no longer loads AWS-managed policies through _init_aws_policies",
    )
    require(
        "iam_backends" in org_models.FakeAccount.__init__.__code__.co_names,
        "FakeAccount.__init__ no longer creates the account's IAM backend",
    )
    require(
        hasattr(org_utils, "DEFAULT_SCP_POLICY_ID") and hasattr(org_utils, "DEFAULT_RCP_POLICY_ID"),
        "moto.organizations.utils lost the default SCP/RCP policy ids",
    )
    require(hasattr(org_models.organizations_backends, "master_accounts"),
            "organizations_backends no longer maps member accounts to their management account")
    require(isinstance(getattr(faults, "ADMIN_ROUTES", None), dict), "faults.ADMIN_ROUTES is missing")


def install():
    org_models.FakeAccount.__init__ = account_init
    iam_models.get_account_id_from = get_account_id_from
    iam_models.IAMBackend._init_aws_policies = init_aws_policies
    iam_models.IAMBackend._init_managed_policies = init_managed_policies
    faults.ADMIN_ROUTES[("POST", "organizations/accounts")] = seed_accounts


def verify(require):
    require(iam_models.get_account_id_from is get_account_id_from, "account lookup not installed")
    require(org_models.FakeAccount.__init__ is account_init, "member accounts do not share the policy catalog")
    require(get_account_id_from("AKIA-NO-SUCH-KEY") == iam_models.DEFAULT_ACCOUNT_ID,
            "an unknown access key does not map to the default account")
    require(iam_models.IAMBackend._init_aws_policies is init_aws_policies, "shared AWS-managed policy catalog not installed")
    require(faults.ADMIN_ROUTES.get(("POST", "organizations/accounts")) is seed_accounts,
            "POST /_mcloud/organizations/accounts not routed")
    require(not getattr(_sharing, "on", False), "AWS-managed policy sharing left on outside seeding")
    for bad in (None, {"count": 0}, {"count": MAX_ACCOUNTS + 1}, {"count": True}):
        try:
            seed_accounts(bad)
        except ValueError:
            continue
        require(False, f"seeding accepted the invalid request {bad!r}")
