"""CloudFormation: service-managed StackSets as AWS runs them for an organization.

moto 5.2.5 gaps closed here:
- Service-managed StackSets are created without an organization and without
  trusted access. AWS refuses CreateStackSet and CreateStackInstances with
  ValidationError "You must enable organizations access to operate a service
  managed stack set"; trusted access is read from moto's Organizations backend
  (EnableAWSServiceAccess for the StackSets principal), and the CloudFormation
  actions ActivateOrganizationsAccess / DescribeOrganizationsAccess are added.
- OU targets reach only the OU's direct child OUs; AWS reaches every nested OU.
  `DeploymentTargets.AccountFilterType` (DIFFERENCE, INTERSECTION, UNION) is
  ignored; it is applied here. The management account is never a target of a
  service-managed StackSet in AWS; moto deploys to it when the root is targeted.
- DeleteStackInstances ignores DeploymentTargets and RetainStacks.
- ListStackSetOperationResults lists only explicitly named accounts (none for
  OU targets); every instance's result is recorded here, and a member stack
  that fails makes its result FAILED with the stack's reason and the operation
  FAILED, instead of an error from the API call.
- UpdateStackSet without accounts leaves every instance on the old template;
  AWS rolls the new template out to all of them, or, with DeploymentTargets
  (OUs and an account filter) and Regions, to the instances those reach only.
- AutoDeployment is not kept; it is stored and described (acting on it: cfn_autodeploy).
"""

from moto.cloudformation import models as cfn_models
from moto.cloudformation import responses as cfn_responses
from moto.cloudformation.exceptions import ValidationError
from moto.core.responses import ActionResult
from moto.moto_api._internal import mock_random
from moto.organizations.models import organizations_backends
from moto.utilities.utils import get_partition

PRINCIPAL = "member.org.stacksets.cloudformation.amazonaws.com"
TRUSTED_ACCESS_MESSAGE = "You must enable organizations access to operate a service managed stack set"
SERVICE_MANAGED = "SERVICE_MANAGED"

_original_create_stack_set = cfn_models.CloudFormationBackend.create_stack_set
_original_create_stack_set_response = cfn_responses.CloudFormationResponse.create_stack_set
_original_update = cfn_models.StackSet.update
_original_update_response = cfn_responses.CloudFormationResponse.update_stack_set
_original_instance_dict = cfn_models.StackInstance.to_dict
_original_results = cfn_responses.CloudFormationResponse.list_stack_set_operation_results

_RESULTS = "_mcloud_results"


def _org(account_id, region):
    return organizations_backends[account_id][get_partition(region)]


def _trusted(account_id, region):
    org = _org(account_id, region)
    return org.org is not None and any(s.get("ServicePrincipal") == PRINCIPAL for s in org.services)


def _require_trusted(account_id, region):
    if not _trusted(account_id, region):
        raise ValidationError(message=TRUSTED_ACCESS_MESSAGE)


def _bool(v):
    return v is True or str(v).lower() == "true"


def _result(account, region, status, reason=None):
    r = {"Account": account, "Region": region, "Status": status}
    if reason:
        r["StatusReason"] = reason
    return r


def resolve_targets(stackset, targets):
    """Accounts reached by OU targets (every depth) with the account filter applied,
    never the management account."""
    org = stackset.instances.org_backend
    children = {}
    for ou in org.ou:
        children.setdefault(getattr(ou, "parent_id", None), []).append(ou.id)
    wanted, pending = set(), list(targets.get("OrganizationalUnitIds", []) or [])
    while pending:
        ou_id = pending.pop()
        if ou_id not in wanted:
            wanted.add(ou_id)
            pending.extend(children.get(ou_id, []))
    management = org.org.master_account_id if org.org else None
    reached = [a.id for a in org.accounts if a.parent_id in wanted and a.id != management]
    listed = list(targets.get("Accounts", []) or [])
    kind = targets.get("AccountFilterType") or "NONE"
    if kind == "DIFFERENCE":
        return [a for a in reached if a not in listed]
    if kind == "INTERSECTION":
        return [a for a in reached if a in listed]
    if kind == "UNION":
        return reached + [a for a in listed if a not in reached and a != management]
    return reached


def create_stack_set(self, name, template, parameters, tags, permission_model, admin_role, exec_role, description):
    if permission_model == SERVICE_MANAGED:
        _require_trusted(self.account_id, self.region_name)
    return _original_create_stack_set(
        self, name=name, template=template, parameters=parameters, tags=tags,
        permission_model=permission_model, admin_role=admin_role, exec_role=exec_role,
        description=description,
    )


def create_stack_set_response(self):
    result = _original_create_stack_set_response(self)
    auto = self._get_params().get("AutoDeployment")
    if auto:
        stackset = self.cloudformation_backend.describe_stack_set(self._get_param("StackSetName"))
        stackset.auto_deployment = {
            "Enabled": _bool(auto.get("Enabled")),
            "RetainStacksOnAccountRemoval": _bool(auto.get("RetainStacksOnAccountRemoval")),
        }
    return result


def create_stack_instances(self, accounts, regions, deployment_targets, parameters):
    """Replaces StackSet.create_stack_instances: one result per account and region."""
    if self.permission_model == SERVICE_MANAGED:
        if not deployment_targets or "OrganizationalUnitIds" not in deployment_targets:
            raise ValidationError(message="StackSets with SERVICE_MANAGED permission model can only have OrganizationalUnit as target")
        _require_trusted(self.instances.account_id, self.arn.split(":")[3])
        accounts = resolve_targets(self, deployment_targets)
    elif deployment_targets and "OrganizationalUnitIds" in deployment_targets:
        raise ValidationError(message="StackSets with SELF_MANAGED permission model can only have accounts as target")
    parameters = parameters or self.parameters
    existing = {(i.account_id, i.region_name) for i in self.stack_instances}
    results = []
    for region in regions:
        for account in accounts:
            if (account, region) in existing:
                results.append(_result(account, region, "SUCCEEDED"))
                continue
            try:
                self.instances.create_instances([account], [region], parameters, {}, permission_model=self.permission_model)
            except Exception as e:  # the member stack's API error, as its result
                results.append(_result(account, region, "FAILED", getattr(e, "message", None) or str(e)))
                continue
            existing.add((account, region))
            instance = self.instances.get_instance(account, region)
            results.append(_instance_result(instance, "CREATE_COMPLETE"))
    return _record(self, "CREATE", accounts, regions, results)


def _instance_result(instance, ok_status):
    stack = instance.stack
    if stack.status == ok_status:
        instance._mcloud_status = ("CURRENT", None)
        return _result(instance.account_id, instance.region_name, "SUCCEEDED")
    # AWS reports the first failed resource's event, as the member stack recorded it.
    failed = next((e for e in stack.events if str(e.resource_status).endswith("_FAILED")
                   and e.logical_resource_id != stack.name and e.resource_status_reason), None)
    if failed is not None:
        reason = (f"ResourceLogicalId:{failed.logical_resource_id}, ResourceType:{failed.resource_type}, "
                  f"ResourceStatusReason:{failed.resource_status_reason}")
    else:
        reason = stack.stack_status_reason or f"Stack ended {stack.status}"
    instance._mcloud_status = ("OUTDATED", reason)
    return _result(instance.account_id, instance.region_name, "FAILED", reason)


def _record(stackset, action, accounts, regions, results):
    operation_id = str(mock_random.uuid4())
    status = "FAILED" if any(r["Status"] == "FAILED" for r in results) else "SUCCEEDED"
    operation = stackset._create_operation(operation_id=operation_id, action=action, status=status, accounts=accounts, regions=regions)
    operation[_RESULTS] = results
    return operation_id


def update(self, template, description, parameters, tags, admin_role, execution_role, accounts, regions, operation_id):
    operation = _original_update(self, template, description, parameters, tags, admin_role, execution_role, accounts, regions, operation_id)
    if self.permission_model != SERVICE_MANAGED or accounts:
        return operation
    params = self.parameters if isinstance(self.parameters, dict) else {}
    only = getattr(self, "_mcloud_only", None)
    results = []
    for instance in self.stack_instances:
        if only is not None and (instance.account_id not in only[0] or instance.region_name not in only[1]):
            continue
        instance.template = self.template
        try:
            instance.stack.update(self.template, parameters=dict(params))
        except Exception as e:
            instance._mcloud_status = ("OUTDATED", str(e))
            results.append(_result(instance.account_id, instance.region_name, "FAILED", str(e)))
            continue
        results.append(_instance_result(instance, "UPDATE_COMPLETE"))
    operation[_RESULTS] = results
    if any(r["Status"] == "FAILED" for r in results):
        operation["Status"] = "FAILED"
    return operation


def update_stack_set_response(self):
    """UpdateStackSet with DeploymentTargets: the roll-out reaches those accounts' instances
    in the given Regions only (moto reads neither)."""
    targets = self._get_params().get("DeploymentTargets")
    stackset = None
    if targets and targets.get("OrganizationalUnitIds"):
        stackset = self.cloudformation_backend.describe_stack_set(self._get_param("StackSetName"))
        regions = set(self._get_param("Regions", []) or [])
        if not regions:
            raise ValidationError(message="Regions are required with DeploymentTargets")
        stackset._mcloud_only = (set(resolve_targets(stackset, targets)), regions)
    try:
        return _original_update_response(self)
    finally:
        if stackset is not None:
            stackset._mcloud_only = None


def delete_stack_instances_response(self):
    name = self._get_param("StackSetName")
    accounts = self._get_param("Accounts", [])
    regions = self._get_param("Regions", [])
    targets = self._get_params().get("DeploymentTargets")
    retain = _bool(self._get_param("RetainStacks", False))
    stackset = self.cloudformation_backend.describe_stack_set(name)
    if targets and "OrganizationalUnitIds" in targets:
        accounts = resolve_targets(stackset, targets)
    results = []
    for instance in [i for i in stackset.stack_instances if i.region_name in regions and i.account_id in accounts]:
        if not retain:
            instance.delete()
        stackset.stack_instances.remove(instance)
        results.append(_result(instance.account_id, instance.region_name, "SUCCEEDED"))
    return ActionResult({"OperationId": _record(stackset, "DELETE", accounts, regions, results)})


def list_stack_set_operation_results(self):
    operation = self.cloudformation_backend.list_stack_set_operation_results(
        self._get_param("StackSetName"), self._get_param("OperationId"))
    if _RESULTS not in operation:
        return _original_results(self)
    return ActionResult({"Summaries": operation[_RESULTS]})


def instance_to_dict(self):
    d = _original_instance_dict(self)
    status = getattr(self, "_mcloud_status", None)
    if status:
        d["Status"] = status[0]
        d["StackInstanceStatus"] = {"DetailedStatus": "SUCCEEDED" if status[0] == "CURRENT" else "FAILED"}
        if status[1]:
            d["StatusReason"] = status[1]
    return d


def activate_organizations_access(self):
    org = _org(self.current_account, self.region)
    if org.org is None:
        raise ValidationError(message="The account is not the management account of an organization")
    org.enable_aws_service_access(ServicePrincipal=PRINCIPAL)
    return ActionResult({})


def describe_organizations_access(self):
    status = "ENABLED" if _trusted(self.current_account, self.region) else "DISABLED"
    return ActionResult({"Status": status})


def check_hooks(require):
    for name in ("create_stack_set", "list_stack_set_operation_results"):
        require(callable(getattr(cfn_models.CloudFormationBackend, name, None)), f"CloudFormationBackend.{name} is gone")
    for name in ("update", "create_stack_instances", "_create_operation"):
        require(callable(getattr(cfn_models.StackSet, name, None)), f"cloudformation StackSet.{name} is gone")
    require(callable(getattr(cfn_models.StackInstances, "create_instances", None)), "StackInstances.create_instances is gone")
    require(callable(getattr(cfn_models.StackInstance, "to_dict", None)), "StackInstance.to_dict is gone")
    for name in ("create_stack_set", "update_stack_set", "delete_stack_instances", "list_stack_set_operation_results"):
        require(callable(getattr(cfn_responses.CloudFormationResponse, name, None)), f"CloudFormationResponse.{name} is gone")
    require(hasattr(organizations_backends, "__getitem__"), "organizations_backends is gone")


def install():
    cfn_models.CloudFormationBackend.create_stack_set = create_stack_set
    cfn_models.StackSet.create_stack_instances = create_stack_instances
    cfn_models.StackSet.update = update
    cfn_models.StackInstance.to_dict = instance_to_dict
    r = cfn_responses.CloudFormationResponse
    r.create_stack_set = create_stack_set_response
    r.update_stack_set = update_stack_set_response
    r.delete_stack_instances = delete_stack_instances_response
    r.list_stack_set_operation_results = list_stack_set_operation_results
    r.activate_organizations_access = activate_organizations_access
    r.describe_organizations_access = describe_organizations_access


def _in_chain(current, mine):
    """True when `current` is `mine` or a wrapper of it (wrappers set `__wrapped__`)."""
    while current is not None:
        if current is mine:
            return True
        current = getattr(current, "__wrapped__", None)
    return False


def verify(require):
    require(cfn_models.CloudFormationBackend.create_stack_set is create_stack_set, "StackSet trusted-access check not installed")
    require(_in_chain(cfn_models.StackSet.create_stack_instances, create_stack_instances),
            "OU targets with account filters not installed")
    require(cfn_models.StackSet.update is update, "StackSet update roll-out not installed")
    require(_in_chain(cfn_responses.CloudFormationResponse.update_stack_set, update_stack_set_response),
            "UpdateStackSet by DeploymentTargets not installed")
    r = cfn_responses.CloudFormationResponse
    require(_in_chain(r.delete_stack_instances, delete_stack_instances_response),
            "DeleteStackInstances by DeploymentTargets not installed")
    require(r.list_stack_set_operation_results is list_stack_set_operation_results, "StackSet operation results not installed")
    require(callable(getattr(r, "describe_organizations_access", None)), "DescribeOrganizationsAccess not installed")
