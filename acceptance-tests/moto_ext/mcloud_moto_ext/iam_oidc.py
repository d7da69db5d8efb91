"""IAM: the OIDC provider client-id actions moto 5.2.5 lacks.

Real IAM lets a caller add and remove audiences (client ids) on an existing
provider; the provider's trust resource relies on this to reuse a provider that
another connector (or Sentinel) created for the same URL. moto dispatches a
Query action to the IamResponse method named after it in snake_case, so the
actions are added as methods there. UpdateOpenIDConnectProviderThumbprint is
implemented by moto itself; the self-check only pins that it still is.
moto's DeleteOpenIDConnectProvider succeeds for an unknown ARN, where IAM answers
NoSuchEntity; it is wrapped so "already gone" is observable as in AWS.
"""

from moto.core.responses import EmptyResult
from moto.core.utils import camelcase_to_underscores, method_names_from_class
from moto.iam import models as iam_models
from moto.iam.exceptions import LimitExceededException, ValidationError
from moto.iam.responses import IamResponse

# Same quota moto enforces at creation, which is AWS's.
MAX_CLIENT_IDS = 100
MAX_CLIENT_ID_LENGTH = 255

ADDED_ACTIONS = (
    "AddClientIDToOpenIDConnectProvider",
    "RemoveClientIDFromOpenIDConnectProvider",
)
NATIVE_ACTIONS = ("UpdateOpenIDConnectProviderThumbprint",)


def add_client_id_to_open_id_connect_provider(self):
    arn = self._get_param("OpenIDConnectProviderArn")
    client_id = self._get_param("ClientID")
    if not client_id or len(client_id) > MAX_CLIENT_ID_LENGTH:
        raise ValidationError(
            f"1 validation error detected: Value '{client_id}' at 'clientID' failed to "
            "satisfy constraint: Member must have length less than or equal to 255, "
            "Member must have length greater than or equal to 1"
        )
    provider = self.backend.get_open_id_connect_provider(arn)  # NoSuchEntity if absent
    if client_id not in provider.client_id_list:  # AWS: adding a present id is a no-op
        if len(provider.client_id_list) >= MAX_CLIENT_IDS:
            raise LimitExceededException(
                f"Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {MAX_CLIENT_IDS}"
            )
        provider.client_id_list.append(client_id)
    return EmptyResult()


def remove_client_id_from_open_id_connect_provider(self):
    arn = self._get_param("OpenIDConnectProviderArn")
    client_id = self._get_param("ClientID")
    provider = self.backend.get_open_id_connect_provider(arn)
    # AWS: removing an id that is not registered succeeds without change.
    provider.client_id_list[:] = [c for c in provider.client_id_list if c != client_id]
    return EmptyResult()


_original_delete = IamResponse.delete_open_id_connect_provider


def delete_open_id_connect_provider(self):
    self.backend.get_open_id_connect_provider(self._get_param("OpenIDConnectProviderArn"))
    return _original_delete(self)


def _method(action):
    return camelcase_to_underscores(action)


def check_hooks(require):
    require(
        hasattr(iam_models.IAMBackend, "get_open_id_connect_provider"),
        "IAMBackend.get_open_id_connect_provider is gone",
    )
    require(
        "client_id_list" in iam_models.OpenIDConnectProvider.__init__.__code__.co_names
        or "client_id_list" in iam_models.OpenIDConnectProvider.__init__.__code__.co_varnames,
        "OpenIDConnectProvider no longer keeps client_id_list",
    )
    native = method_names_from_class(IamResponse)
    for action in NATIVE_ACTIONS:
        require(_method(action) in native, f"IamResponse lost {action}")
    for action in ADDED_ACTIONS:
        # If moto implements it natively now, ours would shadow a maintained version.
        require(
            _method(action) not in native,
            f"IamResponse implements {action} itself now; drop the extension's version",
        )


def install():
    IamResponse.delete_open_id_connect_provider = delete_open_id_connect_provider
    IamResponse.add_client_id_to_open_id_connect_provider = (
        add_client_id_to_open_id_connect_provider
    )
    IamResponse.remove_client_id_from_open_id_connect_provider = (
        remove_client_id_from_open_id_connect_provider
    )


def verify(require):
    require(
        IamResponse.delete_open_id_connect_provider is delete_open_id_connect_provider,
        "DeleteOpenIDConnectProvider NoSuchEntity wrapper not installed",
    )
    methods = method_names_from_class(IamResponse)
    for action in ADDED_ACTIONS + NATIVE_ACTIONS:
        require(_method(action) in methods, f"IAM action {action} is not dispatchable")
