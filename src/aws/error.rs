//! `AwsError`: failures of the AWS layer, with the service's error code and request id kept.

use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sts::operation::RequestId;

/// Where to put AWS credentials, for "no credentials" errors.
pub const CREDENTIALS_HINT: &str = "set aws.access_key and aws.secret_key, aws.profile, an \
     assume_role_with_web_identity block (or TFC_WORKLOAD_IDENTITY_TOKEN), or the environment \
     variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or AWS_ROLE_ARN with \
     AWS_WEB_IDENTITY_TOKEN_FILE";

/// Error codes meaning "these credentials are not valid".
const AUTH_CODES: [&str; 6] = [
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "UnrecognizedClientException",
    "InvalidAccessKeyId",
];

/// Error codes meaning "slow down".
const THROTTLE_CODES: [&str; 4] = [
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
];

/// Errors of the AWS client layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AwsError {
    /// The configuration is invalid; `attribute` names the HCL attribute at fault.
    #[error("{message}")]
    Config {
        /// Attribute path, e.g. `aws.secret_key`.
        attribute: String,
        /// Explanation including the fix.
        message: String,
    },
    /// No credentials could be found anywhere in the chain.
    #[error("no AWS credentials found ({message}): {hint}", hint = CREDENTIALS_HINT)]
    NoCredentials {
        /// What the credential chain reported.
        message: String,
    },
    /// Credentials were found but AWS rejected them (`InvalidClientTokenId`, ...).
    #[error("AWS rejected the credentials for {operation}: {code}: {message}{}", request_suffix(.request_id))]
    InvalidCredentials {
        /// Operation called.
        operation: String,
        /// AWS error code.
        code: String,
        /// AWS error message.
        message: String,
        /// AWS request id.
        request_id: Option<String>,
    },
    /// The endpoint could not be reached (DNS, refused, TLS, timeout).
    #[error("cannot reach the AWS {service} endpoint {endpoint}: {message}")]
    Unreachable {
        /// Service name (`sts`, `iam`, ...).
        service: String,
        /// The endpoint URL tried.
        endpoint: String,
        /// Cause chain.
        message: String,
    },
    /// Throttled after retries were exhausted.
    #[error("AWS throttled {operation}: {code}: {message}{}", request_suffix(.request_id))]
    Throttled {
        /// Operation called.
        operation: String,
        /// AWS error code.
        code: String,
        /// AWS error message.
        message: String,
        /// AWS request id.
        request_id: Option<String>,
    },
    /// Any other error answered by the service.
    #[error("AWS {operation} failed: {code}: {message}{}", request_suffix(.request_id))]
    Api {
        /// Operation called.
        operation: String,
        /// AWS error code.
        code: String,
        /// AWS error message.
        message: String,
        /// AWS request id.
        request_id: Option<String>,
    },
    /// The entity does not exist (`NoSuchEntity`).
    #[error("AWS {operation} found no such entity: {code}: {message}{}", request_suffix(.request_id))]
    NotFound {
        /// Operation called.
        operation: String,
        /// AWS error code.
        code: String,
        /// AWS error message.
        message: String,
        /// AWS request id.
        request_id: Option<String>,
    },
    /// The entity already exists (`EntityAlreadyExists`).
    #[error("AWS {operation} found an existing entity: {code}: {message}{}", request_suffix(.request_id))]
    AlreadyExists {
        /// Operation called.
        operation: String,
        /// AWS error code.
        code: String,
        /// AWS error message.
        message: String,
        /// AWS request id.
        request_id: Option<String>,
    },
    /// The entity is in use or being changed (`DeleteConflict`, `ConcurrentModification`).
    #[error("AWS {operation} hit a conflict: {code}: {message}{}", request_suffix(.request_id))]
    Conflict {
        /// Operation called.
        operation: String,
        /// AWS error code.
        code: String,
        /// AWS error message.
        message: String,
        /// AWS request id.
        request_id: Option<String>,
    },
    /// An account or entity quota was hit (`LimitExceeded`).
    #[error("AWS {operation} hit a quota: {code}: {message}{}", request_suffix(.request_id))]
    LimitExceeded {
        /// Operation called.
        operation: String,
        /// AWS error code.
        code: String,
        /// AWS error message.
        message: String,
        /// AWS request id.
        request_id: Option<String>,
    },
    /// A policy document was rejected (`MalformedPolicyDocument`); IAM also answers this
    /// while a just-created principal is not yet visible ("Invalid principal in policy").
    #[error("AWS {operation} rejected a policy document: {code}: {message}{}", request_suffix(.request_id))]
    MalformedPolicy {
        /// Operation called.
        operation: String,
        /// AWS error code.
        code: String,
        /// AWS error message.
        message: String,
        /// AWS request id.
        request_id: Option<String>,
    },
    /// A parameter was rejected (`InvalidInput`, `ValidationError`).
    #[error("AWS {operation} rejected the input: {code}: {message}{}", request_suffix(.request_id))]
    Invalid {
        /// Operation called.
        operation: String,
        /// AWS error code.
        code: String,
        /// AWS error message.
        message: String,
        /// AWS request id.
        request_id: Option<String>,
    },
    /// The caller may not perform the operation (`AccessDenied`).
    #[error("AWS {operation} was denied: {code}: {message}{}", request_suffix(.request_id))]
    PermissionDenied {
        /// Operation called.
        operation: String,
        /// AWS error code.
        code: String,
        /// AWS error message.
        message: String,
        /// AWS request id.
        request_id: Option<String>,
    },
    /// A CloudFormation stack operation ended failed, rolled back, or deleted; the payload
    /// names the stack, its status and the events of the resources that failed.
    #[error("{0}")]
    StackFailed(Box<crate::aws::cloudformation::StackFailure>),
    /// A CloudFormation stack operation did not settle within the wait budget.
    #[error(
        "CloudFormation stack {stack} {operation} did not finish within {}s (still {status}); \
         CloudFormation carries on with it: apply again once the stack has settled, or allow \
         more time in the resource's timeouts block",
        waited.as_secs()
    )]
    StackWaitTimeout {
        /// Stack name.
        stack: String,
        /// The operation awaited (`create`, `update`, `delete`).
        operation: String,
        /// The last status seen.
        status: String,
        /// How long was waited.
        waited: std::time::Duration,
    },
    /// Trusted access between AWS Organizations and a service is not enabled, so a
    /// service-managed operation cannot start; the message names both ways to enable it.
    #[error(
        "trusted access for {service_principal} is not enabled in AWS Organizations (CloudFormation \
         answers \"You must enable organizations access to operate a service managed stack set\"); \
         from the management account run `aws organizations enable-aws-service-access \
         --service-principal {service_principal}` or, in the CloudFormation console, open \
         StackSets and choose \"Activate trusted access\"; then apply again"
    )]
    TrustedAccessDisabled {
        /// The service principal, e.g. `member.org.stacksets.cloudformation.amazonaws.com`.
        service_principal: String,
    },
    /// The credentials' account is not in an organization, or is not its management account
    /// (nor a delegated administrator) for the operation.
    #[error(
        "AWS {operation}: {message}; organization onboarding runs with credentials of the \
         organization's management account (or of a delegated administrator with call_as)"
    )]
    NotInOrganization {
        /// Operation called.
        operation: String,
        /// AWS error message.
        message: String,
    },
    /// A StackSet operation ended failed or stopped; the payload names the StackSet, the
    /// operation and every instance that failed with its account, region and reason.
    #[error("{0}")]
    StackSetFailed(Box<crate::aws::cloudformation::StackSetFailure>),
    /// A StackSet operation did not settle within the wait budget.
    #[error(
        "StackSet {stack_set} operation {operation_id} did not finish within {}s (still \
         {status}); CloudFormation carries on with it: apply again once it has settled, or \
         allow more time in the resource's timeouts block",
        waited.as_secs()
    )]
    StackSetWaitTimeout {
        /// StackSet name.
        stack_set: String,
        /// The operation awaited.
        operation_id: String,
        /// The last status seen.
        status: String,
        /// How long was waited.
        waited: std::time::Duration,
    },
    /// A response was missing a field the operation always returns.
    #[error("AWS {operation} returned no {field}")]
    MissingField {
        /// Operation called.
        operation: String,
        /// The missing field.
        field: String,
    },
}

fn request_suffix(id: &Option<String>) -> String {
    id.as_ref()
        .map(|i| format!(" (request id {i})"))
        .unwrap_or_default()
}

impl AwsError {
    /// The AWS error code, for errors answered by the service.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::InvalidCredentials { code, .. }
            | Self::Throttled { code, .. }
            | Self::Api { code, .. }
            | Self::NotFound { code, .. }
            | Self::AlreadyExists { code, .. }
            | Self::Conflict { code, .. }
            | Self::LimitExceeded { code, .. }
            | Self::MalformedPolicy { code, .. }
            | Self::Invalid { code, .. }
            | Self::PermissionDenied { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The AWS error message, for errors answered by the service.
    pub fn service_message(&self) -> Option<&str> {
        match self {
            Self::InvalidCredentials { message, .. }
            | Self::Throttled { message, .. }
            | Self::Api { message, .. }
            | Self::NotFound { message, .. }
            | Self::AlreadyExists { message, .. }
            | Self::Conflict { message, .. }
            | Self::LimitExceeded { message, .. }
            | Self::MalformedPolicy { message, .. }
            | Self::Invalid { message, .. }
            | Self::PermissionDenied { message, .. } => Some(message),
            _ => None,
        }
    }

    /// Whether the entity does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound { .. })
    }

    /// The failed stack operation, for [`AwsError::StackFailed`].
    pub fn stack_failure(&self) -> Option<&crate::aws::cloudformation::StackFailure> {
        match self {
            Self::StackFailed(f) => Some(f),
            _ => None,
        }
    }

    /// Classifies an SDK error of `operation` against `service` at `endpoint`.
    pub fn from_sdk<E, R>(
        err: &SdkError<E, R>,
        service: &str,
        operation: &str,
        endpoint: &str,
    ) -> Self
    where
        E: ProvideErrorMetadata + RequestId + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        let chain = crate::http::error_chain(err);
        if is_missing_credentials(&chain) {
            return Self::NoCredentials { message: chain };
        }
        match err {
            SdkError::ServiceError(ctx) => {
                let e = ctx.err();
                let code = e.code().unwrap_or("Unknown").to_owned();
                let message = e.message().unwrap_or_default().to_owned();
                let request_id = e.request_id().map(str::to_owned);
                classify_service_error(operation, code, message, request_id)
            }
            SdkError::DispatchFailure(_)
            | SdkError::TimeoutError(_)
            | SdkError::ResponseError(_) => Self::Unreachable {
                service: service.to_owned(),
                endpoint: endpoint.to_owned(),
                message: chain,
            },
            _ => Self::Api {
                operation: operation.to_owned(),
                code: "ClientError".to_owned(),
                message: chain,
                request_id: None,
            },
        }
    }
}

/// Maps a service-answered error code to its variant. Codes are matched exactly; messages are
/// kept verbatim (the retry predicates match short stable substrings of them).
pub fn classify_service_error(
    operation: &str,
    code: String,
    message: String,
    request_id: Option<String>,
) -> AwsError {
    let operation = operation.to_owned();
    macro_rules! make {
        ($v:ident) => {
            AwsError::$v {
                operation,
                code,
                message,
                request_id,
            }
        };
    }
    match code.as_str() {
        c if AUTH_CODES.contains(&c) => make!(InvalidCredentials),
        c if THROTTLE_CODES.contains(&c) => make!(Throttled),
        "NoSuchEntity"
        | "NoSuchEntityException"
        | "NotFoundException"
        | "StackSetNotFoundException"
        | "StackInstanceNotFoundException"
        | "OperationNotFoundException"
        | "OrganizationalUnitNotFoundException"
        | "AccountNotFoundException"
        | "ChangeSetNotFound" => make!(NotFound),
        "EntityAlreadyExists"
        | "EntityAlreadyExistsException"
        | "AlreadyExistsException"
        | "NameAlreadyExistsException" => make!(AlreadyExists),
        "DeleteConflict"
        | "DeleteConflictException"
        | "ConcurrentModification"
        | "ConcurrentModificationException"
        | "OperationInProgressException"
        | "OperationIdAlreadyExistsException"
        | "TokenAlreadyExistsException" => make!(Conflict),
        "LimitExceeded" | "LimitExceededException" => make!(LimitExceeded),
        "MalformedPolicyDocument" | "MalformedPolicyDocumentException" => make!(MalformedPolicy),
        "InvalidInput"
        | "InvalidInputException"
        | "ValidationError"
        | "InsufficientCapabilitiesException" => make!(Invalid),
        "AccessDenied" | "AccessDeniedException" => make!(PermissionDenied),
        _ => make!(Api),
    }
}

/// aws-config words an empty chain as "no credentials"/"credentials not loaded"; the identity
/// resolver wraps it, so the whole chain is searched.
fn is_missing_credentials(chain: &str) -> bool {
    let c = chain.to_ascii_lowercase();
    c.contains("no credentials")
        || c.contains("credentialsnotloaded")
        || c.contains("credentials not loaded")
        || c.contains("no providers in chain provided credentials")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_code_and_request_id() {
        let e = AwsError::InvalidCredentials {
            operation: "GetCallerIdentity".into(),
            code: "InvalidClientTokenId".into(),
            message: "The security token included in the request is invalid.".into(),
            request_id: Some("r-1".into()),
        };
        assert_eq!(
            e.to_string(),
            "AWS rejected the credentials for GetCallerIdentity: InvalidClientTokenId: The security token included in the request is invalid. (request id r-1)"
        );
        let n = AwsError::NoCredentials {
            message: "x".into(),
        }
        .to_string();
        for part in [
            "aws.access_key",
            "AWS_ACCESS_KEY_ID",
            "AWS_PROFILE",
            "TFC_WORKLOAD_IDENTITY_TOKEN",
        ] {
            assert!(n.contains(part), "{n}");
        }
    }

    #[test]
    fn service_codes_map_to_variants() {
        let c =
            |code: &str| classify_service_error("Op", code.into(), "m".into(), Some("rid".into()));
        assert!(c("NoSuchEntity").is_not_found());
        assert!(matches!(
            c("EntityAlreadyExists"),
            AwsError::AlreadyExists { .. }
        ));
        assert!(matches!(c("DeleteConflict"), AwsError::Conflict { .. }));
        assert!(matches!(c("LimitExceeded"), AwsError::LimitExceeded { .. }));
        assert!(matches!(
            c("MalformedPolicyDocument"),
            AwsError::MalformedPolicy { .. }
        ));
        assert!(matches!(c("InvalidInput"), AwsError::Invalid { .. }));
        assert!(matches!(
            c("AccessDenied"),
            AwsError::PermissionDenied { .. }
        ));
        assert!(matches!(c("Throttling"), AwsError::Throttled { .. }));
        assert!(matches!(
            c("InvalidClientTokenId"),
            AwsError::InvalidCredentials { .. }
        ));
        assert!(matches!(c("SomethingNew"), AwsError::Api { .. }));
        let e = c("EntityAlreadyExists");
        assert_eq!(e.code(), Some("EntityAlreadyExists"));
        assert_eq!(e.service_message(), Some("m"));
        let text = e.to_string();
        assert!(
            text.contains("EntityAlreadyExists") && text.contains("request id rid"),
            "{text}"
        );
    }

    #[test]
    fn missing_credentials_detection() {
        assert!(is_missing_credentials(
            "dispatch failure: the credential provider was not enabled: no providers in chain provided credentials"
        ));
        assert!(!is_missing_credentials("connection refused"));
    }
}
