"""CloudFormation: CreateStack honours ClientRequestToken, as AWS does.

moto 5.2.5 ignores the token. AWS uses it to tell a retried request from a second
request for the same stack name: when the answer to CreateStack is lost (a broken
connection) and the SDK sends the same request again with the same token, AWS
answers with the stack the first request made instead of AlreadyExistsException.
Without this, a lost answer leaves the created stack outside the caller's state.
"""

from moto.cloudformation import responses as cfn_responses
from moto.core.responses import ActionResult

_original_create_stack = cfn_responses.CloudFormationResponse.create_stack
# Where the token of the request that created a stack is kept on moto's stack object.
_TOKEN = "_mcloud_create_token"


def _stack_made_by(backend, name, token):
    """The live stack named `name` that a CreateStack carrying `token` made, if any."""
    for stack in backend.stacks.values():
        if stack.name == name and getattr(stack, _TOKEN, None) == token:
            if not str(getattr(stack, "status", "")).startswith("DELETE"):
                return stack
    return None


def _create_stack(self):
    name = self._get_param("StackName")
    token = self._get_param("ClientRequestToken")
    backend = self.cloudformation_backend
    if token:
        earlier = _stack_made_by(backend, name, token)
        if earlier is not None:
            return ActionResult({"StackId": earlier.stack_id})
    result = _original_create_stack(self)
    if token:
        for stack in backend.stacks.values():
            if stack.name == name and not hasattr(stack, _TOKEN):
                setattr(stack, _TOKEN, token)
    return result


def check_hooks(require):
    require(callable(_original_create_stack), "CloudFormationResponse.create_stack is gone")
    require(
        "create_stack" in cfn_responses.CloudFormationResponse.__dict__,
        "CloudFormationResponse no longer defines create_stack",
    )


def install():
    cfn_responses.CloudFormationResponse.create_stack = _create_stack


def verify(require):
    require(
        cfn_responses.CloudFormationResponse.create_stack is _create_stack,
        "CreateStack request-token patch not installed",
    )

    class _Stack:
        def __init__(self, name, status, token):
            self.name, self.status, self.stack_id = name, status, f"id-{name}"
            setattr(self, _TOKEN, token)

    class _Backend:
        stacks = {
            "a": _Stack("trust", "CREATE_COMPLETE", "t-1"),
            "b": _Stack("old", "DELETE_COMPLETE", "t-2"),
        }

    require(_stack_made_by(_Backend, "trust", "t-1") is not None, "a retried CreateStack is not recognised")
    require(_stack_made_by(_Backend, "trust", "t-9") is None, "another request's token is taken as the same")
    require(_stack_made_by(_Backend, "old", "t-2") is None, "a deleted stack is answered for")
