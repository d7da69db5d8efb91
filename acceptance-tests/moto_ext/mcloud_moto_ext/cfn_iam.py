"""CloudFormation: IAM resources as real CloudFormation handles them.

moto 5.2.5 gaps closed here:
- `AWS::IAM::OIDCProvider` is not a CloudFormation model at all (the stack
  "succeeds" and creates nothing). It is added as a `CloudFormationModel`
  subclass; moto collects those through `__subclasses__()` behind lru_caches,
  which must be cleared after the class is defined.
- `AWS::IAM::Role` ignores `ManagedPolicyArns`, and a stack update changes
  neither the trust policy nor the inline policies. Role's three CloudFormation
  class methods are replaced. Deletion detaches the policies the stack attached
  first, as CloudFormation does; anything attached outside the stack still
  blocks deletion with DeleteConflict, as in AWS. A role whose managed policy
  cannot be attached is deleted again before the failure is reported.
"""

import json

from moto.cloudformation import parsing
from moto.core.common_models import CloudFormationModel
from moto.iam import models as iam_models
from moto.iam.models import OpenIDConnectProvider, Role, iam_backends
from moto.utilities.utils import get_partition

# What the stack declared, remembered on the moto objects so updates and deletes
# touch only what the stack owns (raw template JSON may hold unresolved Fn::Sub).
_MANAGED = "_mcloud_stack_managed_policy_arns"
_INLINE = "_mcloud_stack_inline_policy_names"

_original_role_create = Role.create_from_cloudformation_json.__func__
_original_role_delete = Role.delete_from_cloudformation_json.__func__


def _backend(account_id, region_name):
    return iam_backends[account_id][get_partition(region_name)]


def _as_json(document):
    return document if isinstance(document, str) else json.dumps(document)


def _inline_policies(properties):
    return {p["PolicyName"]: _as_json(p["PolicyDocument"]) for p in properties.get("Policies", [])}


class CfnOIDCProvider(CloudFormationModel):
    """`AWS::IAM::OIDCProvider`; Ref and Fn::GetAtt Arn give the provider ARN."""

    @staticmethod
    def cloudformation_name_type():
        return ""  # no name property: the URL identifies it

    @staticmethod
    def cloudformation_type():
        return "AWS::IAM::OIDCProvider"

    @classmethod
    def has_cfn_attr(cls, attr):
        return attr == "Arn"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = cloudformation_json["Properties"]
        # AWS allows one provider per URL: a second one fails with EntityAlreadyExists.
        return _backend(account_id, region_name).create_open_id_connect_provider(
            props["Url"],
            list(props.get("ThumbprintList", [])),
            list(props.get("ClientIdList", [])),
            props.get("Tags", []),
        )

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        props = cloudformation_json["Properties"]
        probe = OpenIDConnectProvider(account_id, region_name, props["Url"], [], [], {})
        if probe.arn != original_resource.arn:
            # Url is a replacement property: create the new one, then delete the old.
            new = cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)
            _backend(account_id, region_name).delete_open_id_connect_provider(original_resource.arn)
            return new
        original_resource.client_id_list = list(props.get("ClientIdList", []))
        original_resource.thumbprint_list = list(props.get("ThumbprintList", []))
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        # moto passes the physical id, which for this type is the ARN.
        _backend(account_id, region_name).delete_open_id_connect_provider(resource_name)


def _provider_cfn_attribute(self, attribute_name):
    from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

    if attribute_name == "Arn":
        return self.arn
    raise UnformattedGetAttTemplateException()


def _attach_managed(backend, role, arns):
    for arn in arns:
        backend.attach_role_policy(arn, role.name)  # NoSuchEntity for unknown ARNs, as AWS


def role_create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
    props = cloudformation_json["Properties"]
    # moto stores inline documents as given; a dict would break GetRolePolicy.
    props["Policies"] = [
        {"PolicyName": name, "PolicyDocument": doc} for name, doc in _inline_policies(props).items()
    ]
    role = _original_role_create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
    managed = list(props.get("ManagedPolicyArns", []))
    setattr(role, _MANAGED, managed)
    try:
        _attach_managed(_backend(account_id, region_name), role, managed)
    except Exception:
        # The resource handler undoes its own half-done create before reporting the failure.
        role_delete(cls, role.name, cloudformation_json, account_id, region_name)
        raise
    setattr(role, _INLINE, sorted(_inline_policies(props)))
    return role


def role_update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
    props = cloudformation_json["Properties"]
    backend = _backend(account_id, region_name)
    if "RoleName" in props and props["RoleName"] != original_resource.name:
        # RoleName is a replacement property.
        new = role_create(cls, new_resource_name, cloudformation_json, account_id, region_name)
        role_delete(cls, original_resource.name, {}, account_id, region_name)
        return new
    role = original_resource
    backend.update_assume_role_policy(role.name, _as_json(props["AssumeRolePolicyDocument"]))
    role.description = props.get("Description", "")
    role.max_session_duration = props.get("MaxSessionDuration", 3600)
    inline = _inline_policies(props)
    for name in getattr(role, _INLINE, []):
        if name not in inline and name in role.policies:
            role.delete_policy(name)
    for name, doc in inline.items():
        backend.put_role_policy(role.name, name, doc)
    old_managed = getattr(role, _MANAGED, [])
    new_managed = list(props.get("ManagedPolicyArns", []))
    # Attach first and compare with what is attached now, so a failed attach leaves the
    # old set in place and the rollback (this function with the old properties) restores it.
    _attach_managed(backend, role, [a for a in new_managed if a not in role.managed_policies])
    for arn in old_managed:
        if arn not in new_managed and arn in role.managed_policies:
            backend.detach_role_policy(arn, role.name)
    setattr(role, _MANAGED, new_managed)
    setattr(role, _INLINE, sorted(inline))
    return role


def role_delete(cls, resource_name, cloudformation_json, account_id, region_name):
    backend = _backend(account_id, region_name)
    for role in list(backend.roles.values()):
        if role.name == resource_name:
            for arn in getattr(role, _MANAGED, []):
                if arn in role.managed_policies:
                    backend.detach_role_policy(arn, role.name)
    _original_role_delete(cls, resource_name, cloudformation_json, account_id, region_name)


def check_hooks(require):
    for name in ("get_model_list", "get_model_map", "get_name_type_map"):
        fn = getattr(parsing, name, None)
        require(callable(getattr(fn, "cache_clear", None)), f"cloudformation.parsing.{name} is not an lru_cache")
    for name in ("create_from_cloudformation_json", "update_from_cloudformation_json", "delete_from_cloudformation_json"):
        require(hasattr(getattr(Role, name, None), "__func__"), f"Role.{name} is not a classmethod")
    for name in ("create_open_id_connect_provider", "delete_open_id_connect_provider", "attach_role_policy",
                 "detach_role_policy", "update_assume_role_policy", "put_role_policy"):
        require(hasattr(iam_models.IAMBackend, name), f"IAMBackend.{name} is gone")
    require(not any(m.cloudformation_type() == "AWS::IAM::OIDCProvider" for m in parsing.get_model_list()
                    if m is not CfnOIDCProvider),
            "moto models AWS::IAM::OIDCProvider itself now; drop the extension's model")


def install():
    OpenIDConnectProvider.physical_resource_id = property(lambda self: self.arn)
    OpenIDConnectProvider.get_cfn_attribute = _provider_cfn_attribute
    # The stack treats what a model's create returns as a CloudFormation resource.
    OpenIDConnectProvider.is_created = lambda self: True
    Role.create_from_cloudformation_json = classmethod(role_create)
    Role.update_from_cloudformation_json = classmethod(role_update)
    Role.delete_from_cloudformation_json = classmethod(role_delete)
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()


def verify(require):
    require(parsing.get_model_map().get("AWS::IAM::OIDCProvider") is CfnOIDCProvider,
            "AWS::IAM::OIDCProvider is not registered with CloudFormation")
    require(Role.update_from_cloudformation_json.__func__ is role_update, "Role update hook not installed")
    require(Role.delete_from_cloudformation_json.__func__ is role_delete, "Role delete hook not installed")
