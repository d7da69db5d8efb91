"""CloudFormation: stack operations that fail the way they fail in AWS.

moto 5.2.5 gaps closed here:
- A resource that cannot be created makes moto's CreateStack call itself fail
  (the error of the resource's API comes back from CreateStack). AWS accepts
  the stack, marks the resource CREATE_FAILED, rolls back what was created and
  leaves the stack in ROLLBACK_COMPLETE. A failed update likewise ends in
  UPDATE_ROLLBACK_COMPLETE with the previous template re-applied, and a failed
  delete leaves the stack in DELETE_FAILED instead of losing it.
- moto records stack-level events only. Resource events (IN_PROGRESS, COMPLETE,
  FAILED with the reason) are recorded here, which is what clients show when an
  operation fails.
- UpdateStack with the same template and no parameters performs an update;
  AWS answers ValidationError "No updates are to be performed." (moto checks
  this only when parameters are passed).
"""

from moto.cloudformation import models as cfn_models
from moto.cloudformation import parsing
from moto.cloudformation import responses as cfn_responses
from moto.cloudformation.exceptions import ValidationError

_original_create_resource = parsing.parse_and_create_resource
_original_update_resource = parsing.parse_and_update_resource
_original_delete_resource = parsing.ResourceMap._delete_resource
_original_resource_map = cfn_models.Stack._create_resource_map
_original_create_resources = cfn_models.Stack.create_resources
_original_update = cfn_models.Stack.update
_original_delete = cfn_models.Stack.delete
_original_backend_delete = cfn_models.CloudFormationBackend.delete_stack
_original_different_update = cfn_responses.CloudFormationResponse._validate_different_update

# Per-operation state kept on the stack: failures recorded so far, so moto's own
# retry passes over a failing resource do not repeat its events.
_OP = "_mcloud_operation_failures"


def _stack(resource_map):
    return getattr(resource_map, "_mcloud_stack", None)


def _begin(stack):
    setattr(stack, _OP, [])
    stack.stack_status_reason = None


def _failures(stack):
    return getattr(stack, _OP, [])


def _resource_event(stack, logical_id, resource_type, status, reason=None, physical_id=""):
    stack.events.append(cfn_models.Event(
        stack_id=stack.stack_id,
        stack_name=stack.name,
        logical_resource_id=logical_id,
        physical_resource_id=physical_id or "",
        resource_type=resource_type,
        resource_status=status,
        resource_status_reason=reason,
        resource_properties=None,
    ))


def _reason(resource_type, error):
    """The handler message as AWS words it: the service's message, service and code."""
    parts = resource_type.split("::")
    service = parts[1].title() if len(parts) > 2 else resource_type
    message = getattr(error, "message", None) or str(error)
    code = getattr(error, "code", None) or type(error).__name__
    return f'Resource handler returned message: "{message} (Service: {service}, Error Code: {code})"'


def _fail(stack, logical_id, resource_type, action, error):
    """Records IN_PROGRESS then FAILED, once per resource and operation."""
    failures = _failures(stack)
    status = f"{action}_FAILED"
    if (logical_id, status) in failures:
        return
    failures.append((logical_id, status))
    _resource_event(stack, logical_id, resource_type, f"{action}_IN_PROGRESS")
    _resource_event(stack, logical_id, resource_type, status, _reason(resource_type, error))


def _physical_id(resource):
    try:
        return str(resource.physical_resource_id)
    except Exception:  # some models have none; events then show an empty id
        return ""


def create_resource(logical_id, resource_json, resources_map, account_id, region_name):
    stack = _stack(resources_map)
    resource_type = resource_json.get("Type", "")
    try:
        resource = _original_create_resource(logical_id, resource_json, resources_map, account_id, region_name)
    except Exception as e:
        if stack is not None:
            _fail(stack, logical_id, resource_type, "CREATE", e)
        raise
    if stack is not None and resource is not None:
        _resource_event(stack, logical_id, resource_type, "CREATE_IN_PROGRESS")
        _resource_event(stack, logical_id, resource_type, "CREATE_COMPLETE", physical_id=_physical_id(resource))
    return resource


def update_resource(logical_id, resource_json, resources_map, account_id, region_name):
    stack = _stack(resources_map)
    resource_type = resource_json.get("Type", "")
    try:
        resource = _original_update_resource(logical_id, resource_json, resources_map, account_id, region_name)
    except Exception as e:
        if stack is not None:
            _fail(stack, logical_id, resource_type, "UPDATE", e)
        raise
    if stack is not None:
        physical_id = _physical_id(resource) if resource is not None else ""
        _resource_event(stack, logical_id, resource_type, "UPDATE_IN_PROGRESS")
        _resource_event(stack, logical_id, resource_type, "UPDATE_COMPLETE", physical_id=physical_id)
    return resource


def delete_resource(self, parsed_resource, resource_json):
    stack = _stack(self)
    logical_id = getattr(parsed_resource, "logical_resource_id", "")
    resource_type = resource_json.get("Type", "")
    physical_id = _physical_id(parsed_resource)
    try:
        _original_delete_resource(self, parsed_resource, resource_json)
    except Exception as e:
        if stack is not None:
            _fail(stack, logical_id, resource_type, "DELETE", e)
        raise
    if stack is not None:
        _resource_event(stack, logical_id, resource_type, "DELETE_IN_PROGRESS", physical_id=physical_id)
        _resource_event(stack, logical_id, resource_type, "DELETE_COMPLETE", physical_id=physical_id)


def _failed_summary(stack, verb_by_status):
    """'The following resource(s) failed to create: [A, B]. ' as AWS words the stack reason."""
    by_verb = {}
    for logical_id, status in _failures(stack):
        verb = verb_by_status.get(status)
        if verb:
            by_verb.setdefault(verb, []).append(logical_id)
    return "".join(f"The following resource(s) failed to {verb}: [{', '.join(ids)}]. " for verb, ids in by_verb.items())


def _set_status(stack, status, reason=None):
    stack.status = status
    # DescribeStacks keeps showing why the operation failed after it settled.
    if reason:
        stack.stack_status_reason = reason
    stack._add_stack_event(status, resource_status_reason=reason)


def _keep_only_existing(stack):
    """After a rollback or a failed delete, the stack describes only what still exists.

    moto's resource and output maps are lazy: reading a resource that is not there
    (ListStackResources, an output's GetAtt) would create it again.
    """
    rm = stack.resource_map
    rm._resource_json_map = {k: v for k, v in rm._resource_json_map.items() if k in rm._parsed_resources}
    stack.output_map = parsing.OutputMap(rm, {}, stack.stack_id)


def resource_map(self):
    rm = _original_resource_map(self)
    rm._mcloud_stack = self
    return rm


def create_resources(self):
    _begin(self)
    try:
        _original_create_resources(self)
    except Exception:
        reason = _failed_summary(self, {"CREATE_FAILED": "create"}) or "Resource creation failed. "
        _set_status(self, "ROLLBACK_IN_PROGRESS", reason + "Rollback requested by user.")
        try:
            self.resource_map.delete()
        except Exception:
            _set_status(self, "ROLLBACK_FAILED", _failed_summary(self, {"DELETE_FAILED": "delete"}).strip())
            return
        finally:
            _keep_only_existing(self)
        _set_status(self, "ROLLBACK_COMPLETE")


def update(self, template, role_arn=None, parameters=None, tags=None):
    previous_template = self.template
    previous_parameters = dict(self.resource_map.input_parameters or {})
    _begin(self)
    try:
        _original_update(self, template, role_arn=role_arn, parameters=parameters, tags=tags)
    except Exception:
        reason = _failed_summary(self, {"CREATE_FAILED": "create", "UPDATE_FAILED": "update"})
        _set_status(self, "UPDATE_ROLLBACK_IN_PROGRESS", reason.strip() or "Update failed.")
        self.template = previous_template
        self._parse_template()
        try:
            self.resource_map.update(self.template_dict, previous_parameters)
            self.output_map = self._create_output_map()
        except Exception:
            _set_status(self, "UPDATE_ROLLBACK_FAILED", _failed_summary(self, {"UPDATE_FAILED": "update"}).strip())
            return
        _set_status(self, "UPDATE_ROLLBACK_COMPLETE")


def delete(self):
    _begin(self)
    try:
        _original_delete(self)
    except Exception:
        _keep_only_existing(self)
        _set_status(self, "DELETE_FAILED", _failed_summary(self, {"DELETE_FAILED": "delete"}).strip())


def backend_delete_stack(self, name_or_stack_id):
    _original_backend_delete(self, name_or_stack_id)
    # moto moves the stack to deleted_stacks whatever happened; a failed delete keeps it.
    for stack_id, stack in list(self.deleted_stacks.items()):
        if stack.status == "DELETE_FAILED":
            del self.deleted_stacks[stack_id]
            self.stacks[stack_id] = stack


def _same_template(old, new):
    if old == new:
        return True
    try:
        return cfn_models.Stack.parse_template(old) == cfn_models.Stack.parse_template(new)
    except Exception:  # unparsable text differs from anything stored
        return False


def validate_different_update(self, incoming_params, stack_body, old_stack):
    _original_different_update(self, incoming_params, stack_body, old_stack)
    if incoming_params or not stack_body or old_stack.parameters:
        return
    tags = {t["Key"]: t["Value"] for t in self._get_param("Tags", []) or []}
    if tags and tags != old_stack.tags:
        return
    if _same_template(old_stack.template, stack_body):
        raise ValidationError(old_stack.name, message="No updates are to be performed.")


def check_hooks(require):
    for name in ("parse_and_create_resource", "parse_and_update_resource"):
        require(callable(getattr(parsing, name, None)), f"cloudformation.parsing.{name} is gone")
    require(callable(getattr(parsing.ResourceMap, "_delete_resource", None)), "ResourceMap._delete_resource is gone")
    for name in ("_create_resource_map", "create_resources", "update", "delete", "_add_stack_event"):
        require(callable(getattr(cfn_models.Stack, name, None)), f"cloudformation Stack.{name} is gone")
    require(callable(getattr(cfn_models.CloudFormationBackend, "delete_stack", None)), "CloudFormationBackend.delete_stack is gone")
    require(callable(getattr(cfn_responses.CloudFormationResponse, "_validate_different_update", None)),
            "CloudFormationResponse._validate_different_update is gone")


def install():
    parsing.parse_and_create_resource = create_resource
    parsing.parse_and_update_resource = update_resource
    parsing.ResourceMap._delete_resource = delete_resource
    cfn_models.Stack._create_resource_map = resource_map
    cfn_models.Stack.create_resources = create_resources
    cfn_models.Stack.update = update
    cfn_models.Stack.delete = delete
    cfn_models.CloudFormationBackend.delete_stack = backend_delete_stack
    cfn_responses.CloudFormationResponse._validate_different_update = validate_different_update


def verify(require):
    require(parsing.parse_and_create_resource is create_resource, "resource create events not installed")
    require(parsing.parse_and_update_resource is update_resource, "resource update events not installed")
    require(parsing.ResourceMap._delete_resource is delete_resource, "resource delete events not installed")
    require(cfn_models.Stack.create_resources is create_resources, "create rollback not installed")
    require(cfn_models.Stack.update is update, "update rollback not installed")
    require(cfn_models.Stack.delete is delete, "DELETE_FAILED not installed")
    require(cfn_responses.CloudFormationResponse._validate_different_update is validate_different_update,
            "no-op update detection not installed")
