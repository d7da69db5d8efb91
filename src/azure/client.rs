//! `ArmClient`: authenticated, retried JSON calls to Azure Resource Manager.

use super::claims::{TokenClaims, decode_claims};
use super::config::AzureConfig;
use super::credential::{TokenProvider, build_credential};
use super::error::AzureError;
use super::request::{ArmResponse, build_request, build_url, error_from_response};
use crate::http::retry::Verdict;
use crate::http::transport::{TransportFailure, classify_transport, is_idempotent};
use crate::http::{RetryPolicy, retry_after::retry_after_from_headers};
use azure_core::credentials::TokenCredential;
use http::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use url::Url;

/// Default bound on waiting for one long-running operation.
pub const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// A client for Azure Resource Manager in one subscription. Cheap to clone.
#[derive(Clone, Debug)]
pub struct ArmClient {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) tokens: Arc<TokenProvider>,
    pub(crate) base: Url,
    pub(crate) scope: String,
    pub(crate) subscription_id: String,
    pub(crate) retry: RetryPolicy,
    pub(crate) operation_timeout: Duration,
    pub(crate) register_resource_providers: bool,
    pub(crate) registered: Arc<tokio::sync::Mutex<HashSet<String>>>,
}

/// What [`ArmClient::send_with`] does after an answer that may hide an applied request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resend {
    /// Send an idempotent request again at once, within the retry policy.
    Blindly,
    /// An action whose method is not idempotent but whose effect is (registering a resource
    /// provider twice registers it once): sent again like a PUT after a broken connection.
    RepeatableAction,
    /// Return the failure: the caller first waits for the resource to settle (see
    /// `lost_answer`), because sending again into a running operation only earns 409s.
    AfterSettling,
}

/// One attempt's failure, before classification into [`AzureError`].
enum Attempt {
    Final(AzureError),
    Transport(reqwest::Error, TransportFailure),
    Status(ArmResponse),
}

impl std::fmt::Display for Attempt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Final(e) => write!(f, "{e}"),
            Self::Transport(e, kind) => write!(f, "{kind:?}: {}", crate::http::error_chain(e)),
            Self::Status(r) => write!(f, "HTTP {}", r.status),
        }
    }
}

impl ArmClient {
    /// Validates the configuration and prepares the HTTP client and credential.
    /// No network traffic: the first token is requested by the first call.
    pub fn new(config: AzureConfig) -> Result<Self, AzureError> {
        let method = config.validate()?;
        let http = build_http(&config)?;
        let credential = build_credential(&config, &method, http.clone())?;
        let tokens = TokenProvider::for_config(credential, &config, &method);
        Self::assemble(config, http, tokens)
    }

    /// Like [`ArmClient::new`] but with a caller-supplied credential (tests, embedding).
    pub fn with_credential(
        config: AzureConfig,
        credential: Arc<dyn TokenCredential>,
    ) -> Result<Self, AzureError> {
        if config.subscription_id.is_none() {
            return Err(AzureError::config(
                "azure.subscription_id",
                "azure.subscription_id is not set: set it in the provider's azure block or ARM_SUBSCRIPTION_ID",
            ));
        }
        let http = build_http(&config)?;
        let tokens = TokenProvider::new(credential, "custom credential", vec![]);
        Self::assemble(config, http, tokens)
    }

    fn assemble(
        config: AzureConfig,
        http: reqwest::Client,
        tokens: TokenProvider,
    ) -> Result<Self, AzureError> {
        let mut base_text = config.endpoints.resource_manager.clone();
        if !base_text.ends_with('/') {
            base_text.push('/');
        }
        let base = Url::parse(&base_text).map_err(|e| {
            AzureError::config(
                "azure.endpoints.resource_manager",
                format!("azure.endpoints.resource_manager is not a valid URL: {e}"),
            )
        })?;
        let scope = format!("{base_text}.default");
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                tokens: Arc::new(tokens),
                base,
                scope,
                subscription_id: config.subscription_id.unwrap_or_default(),
                retry: RetryPolicy::default(),
                operation_timeout: DEFAULT_OPERATION_TIMEOUT,
                register_resource_providers: config.register_resource_providers,
                registered: Arc::new(tokio::sync::Mutex::new(HashSet::new())),
            }),
        })
    }

    /// Returns a client using `policy` for retries and waits (tests inject a fake clock).
    pub fn with_retry_policy(&self, policy: RetryPolicy) -> Self {
        self.rebuild(|i| i.retry = policy)
    }

    /// Returns a client that waits at most `timeout` for a long-running operation
    /// (a resource's `timeouts {}` value).
    pub fn with_operation_timeout(&self, timeout: Duration) -> Self {
        self.rebuild(|i| i.operation_timeout = timeout)
    }

    fn rebuild(&self, change: impl FnOnce(&mut Inner)) -> Self {
        let i = &self.inner;
        let mut inner = Inner {
            http: i.http.clone(),
            tokens: i.tokens.clone(),
            base: i.base.clone(),
            scope: i.scope.clone(),
            subscription_id: i.subscription_id.clone(),
            retry: i.retry.clone(),
            operation_timeout: i.operation_timeout,
            register_resource_providers: i.register_resource_providers,
            registered: i.registered.clone(),
        };
        change(&mut inner);
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The subscription all calls are made in.
    pub fn subscription_id(&self) -> &str {
        &self.inner.subscription_id
    }

    /// Tenant, object and client id of the signed-in principal, read from the ARM token.
    pub async fn token_claims(&self) -> Result<TokenClaims, AzureError> {
        let token = self.inner.tokens.token(&self.inner.scope).await?;
        decode_claims(token.expose())
    }

    /// Sends one request through the retry policy. Non-success answers become errors.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        api_version: Option<&str>,
        body: Option<&serde_json::Value>,
    ) -> Result<ArmResponse, AzureError> {
        self.send_with(method, path, api_version, body, Resend::Blindly)
            .await
    }

    /// Like [`ArmClient::send`]; with [`Resend::AfterSettling`] the request is not sent again
    /// after an answer that leaves its effect unknown (a broken connection, a timeout) or after
    /// `AnotherOperationInProgress`: those come back as errors for the caller to recover from.
    pub(crate) async fn send_with(
        &self,
        method: Method,
        path: &str,
        api_version: Option<&str>,
        body: Option<&serde_json::Value>,
        resend: Resend,
    ) -> Result<ArmResponse, AzureError> {
        let url = build_url(&self.inner.base, path, api_version)?;
        let idempotent = is_idempotent(&method) || resend == Resend::RepeatableAction;
        let what = format!("{method} {}", url.path());
        let outcome = self
            .inner
            .retry
            .run(
                &what,
                || self.attempt(method.clone(), &url, body),
                |e: &Attempt| match e {
                    Attempt::Final(_) => Verdict::Fail,
                    Attempt::Transport(_, kind) => match resend {
                        Resend::AfterSettling if kind.effect_unknown() => Verdict::Fail,
                        _ => kind.verdict(idempotent),
                    },
                    Attempt::Status(r)
                        if resend == Resend::AfterSettling && is_operation_in_progress(r) =>
                    {
                        Verdict::Fail
                    }
                    Attempt::Status(r) => Verdict::Retry {
                        retry_after: retry_after_from_headers(&r.headers, SystemTime::now()),
                    },
                },
            )
            .await;
        match outcome {
            Ok(resp) if resp.is_success() => Ok(resp),
            Ok(resp) | Err(Attempt::Status(resp)) => Err(error_from_response(&method, &url, &resp)),
            Err(Attempt::Final(e)) => Err(e),
            Err(Attempt::Transport(e, kind)) => Err(AzureError::Transport {
                method: method.to_string(),
                url: url.to_string(),
                kind,
                message: crate::http::error_chain(&e),
            }),
        }
    }

    async fn attempt(
        &self,
        method: Method,
        url: &Url,
        body: Option<&serde_json::Value>,
    ) -> Result<ArmResponse, Attempt> {
        let token = self
            .inner
            .tokens
            .token(&self.inner.scope)
            .await
            .map_err(Attempt::Final)?;
        let mut req = build_request(method, url, body).map_err(Attempt::Final)?;
        let auth =
            http::HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
                Attempt::Final(AzureError::Credential {
                    method: "token".into(),
                    message: "the access token contains characters not allowed in a header".into(),
                })
            })?;
        let mut auth = auth;
        auth.set_sensitive(true);
        req.headers_mut().insert(http::header::AUTHORIZATION, auth);
        let req = reqwest::Request::try_from(req).map_err(|e| {
            Attempt::Final(AzureError::Decode {
                context: url.to_string(),
                message: e.to_string(),
            })
        })?;
        let resp = self.inner.http.execute(req).await.map_err(|e| {
            let kind = classify_transport(&e);
            Attempt::Transport(e, kind)
        })?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.map_err(|e| {
            let kind = classify_transport(&e);
            Attempt::Transport(e, kind)
        })?;
        let resp = ArmResponse {
            status,
            headers,
            body: body.to_vec(),
        };
        if crate::http::is_retryable_status(status) || is_operation_in_progress(&resp) {
            return Err(Attempt::Status(resp));
        }
        Ok(resp)
    }

    /// Reads a resource; `Ok(None)` when ARM answers 404.
    pub async fn get_opt<T: DeserializeOwned>(
        &self,
        path: &str,
        api_version: &str,
    ) -> Result<Option<T>, AzureError> {
        match self.send(Method::GET, path, Some(api_version), None).await {
            Ok(resp) => decode(&resp, path).map(Some),
            Err(AzureError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Reads a resource that must exist.
    pub async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        api_version: &str,
    ) -> Result<T, AzureError> {
        let resp = self
            .send(Method::GET, path, Some(api_version), None)
            .await?;
        decode(&resp, path)
    }

    /// Creates or replaces a resource and waits until it is provisioned; returns the final resource.
    pub async fn put<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        api_version: &str,
        body: &B,
    ) -> Result<T, AzureError> {
        self.write(Method::PUT, path, api_version, body).await
    }

    /// Updates a resource and waits until it is provisioned; returns the final resource.
    pub async fn patch<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        api_version: &str,
        body: &B,
    ) -> Result<T, AzureError> {
        self.write(Method::PATCH, path, api_version, body).await
    }

    async fn write<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        api_version: &str,
        body: &B,
    ) -> Result<T, AzureError> {
        let body = to_value(body, path)?;
        let resp = self.send_write(&method, path, api_version, &body).await?;
        let done = self.complete(&method, path, api_version, resp).await?;
        decode(&done, path)
    }

    /// Invokes an action; an empty final body deserializes as JSON `null` (use `Option<T>`
    /// or `serde_json::Value`).
    pub async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        api_version: &str,
        body: Option<&B>,
    ) -> Result<T, AzureError> {
        let body = body.map(|b| to_value(b, path)).transpose()?;
        let resp = self
            .send(Method::POST, path, Some(api_version), body.as_ref())
            .await?;
        let done = self
            .complete(&Method::POST, path, api_version, resp)
            .await?;
        decode(&done, path)
    }

    /// Deletes a resource and waits until it is gone. Already gone (404, 204) is success.
    pub async fn delete(&self, path: &str, api_version: &str) -> Result<(), AzureError> {
        match self
            .send(Method::DELETE, path, Some(api_version), None)
            .await
        {
            Ok(resp) => self
                .complete(&Method::DELETE, path, api_version, resp)
                .await
                .map(|_| ()),
            Err(AzureError::NotFound(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

fn build_http(config: &AzureConfig) -> Result<reqwest::Client, AzureError> {
    crate::http::build_client(config.ca_cert_file.as_deref())
        .map_err(|e| AzureError::config("azure.ca_cert_file", format!("azure.ca_cert_file: {e}")))
}

fn to_value<B: Serialize>(body: &B, path: &str) -> Result<serde_json::Value, AzureError> {
    serde_json::to_value(body).map_err(|e| AzureError::Decode {
        context: format!("request body for {path}"),
        message: e.to_string(),
    })
}

pub(crate) fn decode<T: DeserializeOwned>(
    resp: &ArmResponse,
    context: &str,
) -> Result<T, AzureError> {
    let value = resp.json().map_err(|e| AzureError::Decode {
        context: context.to_owned(),
        message: e.to_string(),
    })?;
    serde_json::from_value(value).map_err(|e| AzureError::Decode {
        context: context.to_owned(),
        message: e.to_string(),
    })
}

/// ARM's answer while an earlier write to the same resource is still running: the write is
/// refused, not applied, so it is safe to send again once that operation has finished. A write
/// whose answer was lost and is sent again meets exactly this.
fn is_operation_in_progress(resp: &ArmResponse) -> bool {
    resp.status == 409
        && serde_json::from_slice::<serde_json::Value>(&resp.body).is_ok_and(|v| {
            v.pointer("/error/code").and_then(serde_json::Value::as_str)
                == Some(super::error::OPERATION_IN_PROGRESS)
        })
}
