"""CloudFormation: auto-deployment of service-managed StackSets, as AWS runs it.

moto 5.2.5 keeps a StackSet's AutoDeployment setting (the extension stores it) but never acts
on it. In AWS, a service-managed StackSet with auto-deployment enabled follows the organization:
- an account created in, or moved into, a target OU (the root, an OU, or any OU below one)
  gets a stack instance in each of the StackSet's regions;
- an account that leaves the targets (moved elsewhere, or removed from the organization) loses
  its instances, and their stacks with them unless RetainStacksOnAccountRemoval is set, in which
  case the stacks stay and only the instances go.

What moto lacks to do that, kept here on each StackSet:
- the targets: the OUs every CreateStackInstances named (DescribeStackSet lists them as
  OrganizationalUnitIds, as AWS does); DeleteStackInstances without an account filter takes
  its OUs out of them;
- the regions every CreateStackInstances named;
- the accounts left out with a DIFFERENCE account filter: an account inside the targets that
  such a call left without an instance, or whose instance such a call deleted, stays left out
  until a later call deploys to it. Only the accounts a filter actually applied to count, so
  the provider's narrowing of OU targets to a few accounts does not mark the whole
  organization as excluded.

Organizations' CreateAccount, MoveAccount and RemoveAccountFromOrganization, and the
extension's account seeding, then reconcile the accounts they touched with every such StackSet
of the organization. Each reconciliation that changes something is recorded as a StackSet
operation with one result per account and region, as AWS lists automatic deployments.
Not modelled: closed (suspended) accounts, whose instances AWS keeps until the account is
removed, and delegated-administrator StackSets (found only in the management account).
"""

import threading

from moto.cloudformation import models as cfn_models
from moto.cloudformation import responses as cfn_responses
from moto.organizations import models as org_models

from . import cfn_stacksets, org_scale

_TARGETS = "_mcloud_auto_targets"
_lock = threading.RLock()

_original_create_account = org_models.OrganizationsBackend.create_account
_original_move_account = org_models.OrganizationsBackend.move_account
_original_remove_account = org_models.OrganizationsBackend.remove_account_from_organization


class _Targets:
    """What a StackSet was deployed to: the base for deploying to accounts that join later."""

    def __init__(self):
        self.ous = set()
        self.regions = []
        self.excluded = set()


def _targets(stackset):
    t = getattr(stackset, _TARGETS, None)
    if t is None:
        t = _Targets()
        setattr(stackset, _TARGETS, t)
    return t


def _publish(stackset, t):
    # DescribeStackSet serialises the model's attributes.
    stackset.organizational_unit_ids = sorted(t.ous)


def _service_managed(stackset):
    return stackset.permission_model == cfn_stacksets.SERVICE_MANAGED


def _filter(targets):
    listed = list((targets or {}).get("Accounts", []) or [])
    return (targets or {}).get("AccountFilterType") or ("UNION" if listed else "NONE"), listed


def create_stack_instances(self, accounts, regions, deployment_targets, parameters):
    """Wraps the extension's CreateStackInstances: remembers targets, regions and exclusions."""
    operation_id = _prior_create_instances(self, accounts, regions, deployment_targets, parameters)
    if not _service_managed(self) or not deployment_targets:
        return operation_id
    with _lock:
        t = _targets(self)
        ous = list(deployment_targets.get("OrganizationalUnitIds", []) or [])
        t.ous.update(ous)
        t.regions.extend(r for r in regions if r not in t.regions)
        have = {i.account_id for i in self.stack_instances}
        kind, listed = _filter(deployment_targets)
        if kind == "DIFFERENCE":
            inside = set(cfn_stacksets.resolve_targets(self, {"OrganizationalUnitIds": ous}))
            t.excluded.update(a for a in listed if a in inside and a not in have)
        t.excluded.difference_update(have)
        _publish(self, t)
    return operation_id


def delete_stack_instances_response(self):
    """Wraps the extension's DeleteStackInstances: an OU deleted whole stops being a target; an
    account deleted through an account filter is left out of later automatic deployments."""
    stackset = self.cloudformation_backend.describe_stack_set(self._get_param("StackSetName"))
    before = {i.account_id for i in stackset.stack_instances}
    result = _prior_delete_response(self)
    targets = self._get_params().get("DeploymentTargets")
    if _service_managed(stackset) and targets and targets.get("OrganizationalUnitIds"):
        with _lock:
            t = _targets(stackset)
            kind, _ = _filter(targets)
            if kind == "NONE":
                t.ous.difference_update(targets["OrganizationalUnitIds"])
            else:
                after = {i.account_id for i in stackset.stack_instances}
                t.excluded.update(before - after)
            _publish(stackset, t)
    return result


def update_stack_set_response(self):
    """Wraps UpdateStackSet: AWS changes the AutoDeployment setting; moto drops it."""
    result = _prior_update_response(self)
    auto = self._get_params().get("AutoDeployment")
    if auto:
        stackset = self.cloudformation_backend.describe_stack_set(self._get_param("StackSetName"))
        stackset.auto_deployment = {
            "Enabled": cfn_stacksets._bool(auto.get("Enabled")),
            "RetainStacksOnAccountRemoval": cfn_stacksets._bool(auto.get("RetainStacksOnAccountRemoval")),
        }
    return result


def _auto_stacksets(org_backend):
    """Active service-managed StackSets with auto-deployment on, of `org_backend`'s organization."""
    if org_backend.org is None:
        return []
    found = []
    per_account = cfn_models.cloudformation_backends
    for account_backends in list(dict.values(per_account)):
        # dict.values: only the regions that exist, none created by looking.
        for backend in list(dict.values(account_backends)):
            for stackset in list(backend.stacksets.values()):
                auto = getattr(stackset, "auto_deployment", None) or {}
                if (stackset.status == "ACTIVE" and _service_managed(stackset) and auto.get("Enabled")
                        and stackset.instances.org_backend is org_backend):
                    found.append(stackset)
    return found


def _reached(stackset, t):
    return set(cfn_stacksets.resolve_targets(stackset, {"OrganizationalUnitIds": sorted(t.ous)})) - t.excluded


def reconcile(org_backend, account_ids):
    """Deploys to the accounts of `account_ids` that the auto-deploying StackSets now reach and
    removes their instances from the ones that no longer do."""
    with _lock:
        for stackset in _auto_stacksets(org_backend):
            _reconcile_one(stackset, account_ids)


def _reconcile_one(stackset, account_ids):
    t = _targets(stackset)
    if not t.ous or not t.regions:
        return  # never deployed: nothing targeted yet
    reached = _reached(stackset, t)
    retain = bool(stackset.auto_deployment.get("RetainStacksOnAccountRemoval"))
    created, deleted, accounts = [], [], []
    params = stackset.parameters if isinstance(stackset.parameters, (dict, list)) else {}
    for account in account_ids:
        instances = [i for i in stackset.stack_instances if i.account_id == account]
        if account in reached:
            have = {i.region_name for i in instances}
            for region in (r for r in t.regions if r not in have):
                accounts.append(account)
                try:
                    stackset.instances.create_instances([account], [region], params, {},
                                                        permission_model=stackset.permission_model)
                except Exception as e:  # the member stack's API error, as its result
                    created.append(cfn_stacksets._result(account, region, "FAILED",
                                                         getattr(e, "message", None) or str(e)))
                    continue
                instance = stackset.instances.get_instance(account, region)
                created.append(cfn_stacksets._instance_result(instance, "CREATE_COMPLETE"))
        else:
            for instance in instances:
                if not retain:
                    instance.delete()
                stackset.stack_instances.remove(instance)
                deleted.append(cfn_stacksets._result(account, instance.region_name, "SUCCEEDED"))
    if created:
        cfn_stacksets._record(stackset, "CREATE", sorted(set(accounts)), t.regions, created)
    if deleted:
        gone = sorted({r["Account"] for r in deleted})
        cfn_stacksets._record(stackset, "DELETE", gone, sorted({r["Region"] for r in deleted}), deleted)


def create_account(self, **kwargs):
    status = _original_create_account(self, **kwargs)
    reconcile(self, [status["CreateAccountStatus"]["AccountId"]])
    return status


def move_account(self, **kwargs):
    _original_move_account(self, **kwargs)
    reconcile(self, [kwargs["AccountId"]])


def remove_account_from_organization(self, **kwargs):
    _original_remove_account(self, **kwargs)
    reconcile(self, [kwargs["AccountId"]])


def after_seeding(org_backend, account_ids):
    reconcile(org_backend, account_ids)


_prior_create_instances = None
_prior_delete_response = None
_prior_update_response = None


def check_hooks(require):
    for name in ("create_account", "move_account", "remove_account_from_organization"):
        require(callable(getattr(org_models.OrganizationsBackend, name, None)), f"OrganizationsBackend.{name} is gone")
    require("create_account_status" in _original_create_account.__code__.co_names,
            "OrganizationsBackend.create_account no longer answers with the account's CreateAccountStatus")
    require(hasattr(cfn_models, "cloudformation_backends"), "moto.cloudformation.models.cloudformation_backends is gone")
    require(callable(getattr(cfn_responses.CloudFormationResponse, "update_stack_set", None)),
            "CloudFormationResponse.update_stack_set is gone")
    require(isinstance(getattr(org_scale, "SEED_HOOKS", None), list), "org_scale.SEED_HOOKS is missing")


def install():
    # Runs after cfn_stacksets: wraps what it installed.
    global _prior_create_instances, _prior_delete_response, _prior_update_response
    _prior_create_instances = cfn_models.StackSet.create_stack_instances
    r = cfn_responses.CloudFormationResponse
    _prior_delete_response = r.delete_stack_instances
    _prior_update_response = r.update_stack_set
    create_stack_instances.__wrapped__ = _prior_create_instances
    delete_stack_instances_response.__wrapped__ = _prior_delete_response
    update_stack_set_response.__wrapped__ = _prior_update_response
    cfn_models.StackSet.create_stack_instances = create_stack_instances
    r.delete_stack_instances = delete_stack_instances_response
    r.update_stack_set = update_stack_set_response
    b = org_models.OrganizationsBackend
    b.create_account = create_account
    b.move_account = move_account
    b.remove_account_from_organization = remove_account_from_organization
    if after_seeding not in org_scale.SEED_HOOKS:
        org_scale.SEED_HOOKS.append(after_seeding)


def verify(require):
    require(_prior_create_instances is cfn_stacksets.create_stack_instances,
            "auto-deployment does not wrap the extension's CreateStackInstances (install order?)")
    require(_prior_delete_response is cfn_stacksets.delete_stack_instances_response,
            "auto-deployment does not wrap the extension's DeleteStackInstances (install order?)")
    require(cfn_models.StackSet.create_stack_instances is create_stack_instances, "StackSet target recording not installed")
    b = org_models.OrganizationsBackend
    for name, fn in (("create_account", create_account), ("move_account", move_account),
                     ("remove_account_from_organization", remove_account_from_organization)):
        require(getattr(b, name) is fn, f"auto-deployment on {name} not installed")
    require(after_seeding in org_scale.SEED_HOOKS, "auto-deployment after account seeding not installed")
