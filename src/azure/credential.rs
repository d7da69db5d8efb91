//! Azure credentials: `azure_identity` credentials on our own HTTP client, a per-scope token
//! cache, and error messages that keep the real cause but never a secret.
//!
//! azure_core's own retry policy is switched off for token requests: it retries connection
//! failures for about a minute and then reports a generic message, which hides a certificate
//! or configuration mistake. A wrong secret or an untrusted CA must fail at once, with the cause.

use super::config::{AuthMethod, AzureConfig};
use super::error::AzureError;
use crate::secret::Secret;
use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::TokenCredential;
use azure_core::http::{ClientMethodOptions, ClientOptions, RetryOptions, Transport};
use azure_identity::{
    AzureCliCredential, AzureCliCredentialOptions, ClientAssertion, ClientAssertionCredential,
    ClientAssertionCredentialOptions, ClientSecretCredential, ClientSecretCredentialOptions,
    ManagedIdentityCredential, ManagedIdentityCredentialOptions,
};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// A cached token is reused only while it has at least this much lifetime left.
pub const MIN_TOKEN_LIFETIME: Duration = Duration::from_secs(300);

/// Where the OIDC assertion comes from. A file is re-read for every exchange, because
/// federated tokens are short-lived and rotated by the platform that writes them.
#[derive(Debug, Clone)]
enum OidcSource {
    Inline(Secret),
    File(PathBuf),
}

#[derive(Debug)]
struct OidcAssertion(OidcSource);

#[async_trait::async_trait]
impl ClientAssertion for OidcAssertion {
    async fn secret(
        &self,
        _options: Option<ClientMethodOptions<'_>>,
    ) -> azure_core::Result<String> {
        match &self.0 {
            OidcSource::Inline(token) => Ok(token.expose().to_owned()),
            OidcSource::File(path) => {
                let text = tokio::fs::read_to_string(path).await.map_err(|e| {
                    azure_core::Error::with_message(
                        azure_core::error::ErrorKind::Credential,
                        format!("cannot read OIDC token file {}: {e}", path.display()),
                    )
                })?;
                let token = text.trim();
                if token.is_empty() {
                    return Err(azure_core::Error::with_message(
                        azure_core::error::ErrorKind::Credential,
                        format!("OIDC token file {} is empty", path.display()),
                    ));
                }
                Ok(token.to_owned())
            }
        }
    }
}

fn method_name(method: &AuthMethod) -> &'static str {
    match method {
        AuthMethod::ClientSecret => "client secret",
        AuthMethod::Oidc => "OIDC token",
        AuthMethod::ManagedIdentity => "managed identity",
        AuthMethod::AzureCli => "Azure CLI",
    }
}

/// Client options for every credential: our transport, no azure_core retries, our authority.
fn client_options(config: &AzureConfig, http: reqwest::Client) -> ClientOptions {
    let mut cloud = CustomConfiguration::default();
    cloud.authority_host = config
        .endpoints
        .active_directory
        .trim_end_matches('/')
        .to_owned();
    ClientOptions {
        transport: Some(Transport::new(Arc::new(http))),
        retry: RetryOptions::none(),
        cloud: Some(Arc::new(CloudConfiguration::Custom(cloud))),
        ..Default::default()
    }
}

/// Builds the credential the configuration selects. No network traffic happens here.
pub(crate) fn build_credential(
    config: &AzureConfig,
    method: &AuthMethod,
    http: reqwest::Client,
) -> Result<Arc<dyn TokenCredential>, AzureError> {
    let fail = |e: azure_core::Error| AzureError::Credential {
        method: method_name(method).to_owned(),
        message: crate::http::error_chain(&e),
    };
    let tenant = config.tenant_id.clone().unwrap_or_default();
    let client_id = config.client_id.clone().unwrap_or_default();
    let options = client_options(config, http);
    Ok(match method {
        AuthMethod::ClientSecret => {
            let secret = config
                .client_secret
                .as_ref()
                .map(|s| azure_core::credentials::Secret::new(s.expose().to_owned()))
                .unwrap_or_else(|| azure_core::credentials::Secret::new(String::new()));
            ClientSecretCredential::new(
                &tenant,
                client_id,
                secret,
                Some(ClientSecretCredentialOptions {
                    client_options: options,
                }),
            )
            .map_err(fail)?
        }
        AuthMethod::Oidc => {
            // An inline token wins over a file, as in azurerm.
            let source = match (&config.oidc_token, &config.oidc_token_file_path) {
                (Some(token), _) => OidcSource::Inline(token.clone()),
                (None, Some(path)) => OidcSource::File(path.clone()),
                (None, None) => {
                    return Err(AzureError::config(
                        "azure.oidc_token",
                        "no OIDC token: set azure.oidc_token or azure.oidc_token_file_path",
                    ));
                }
            };
            ClientAssertionCredential::new(
                tenant,
                client_id,
                OidcAssertion(source),
                Some(ClientAssertionCredentialOptions {
                    client_options: options,
                }),
            )
            .map_err(fail)?
        }
        AuthMethod::ManagedIdentity => {
            ManagedIdentityCredential::new(Some(ManagedIdentityCredentialOptions {
                client_options: options,
                ..Default::default()
            }))
            .map_err(fail)?
        }
        AuthMethod::AzureCli => AzureCliCredential::new(Some(AzureCliCredentialOptions {
            tenant_id: config.tenant_id.clone(),
            ..Default::default()
        }))
        .map_err(fail)?,
    })
}

struct CachedToken {
    token: Secret,
    expires_at: SystemTime,
}

/// Hands out bearer tokens per scope, caching each while it has at least
/// [`MIN_TOKEN_LIFETIME`] left. One lock is held across a refresh, so concurrent callers
/// wait for a single token request instead of each sending one.
pub(crate) struct TokenProvider {
    credential: Arc<dyn TokenCredential>,
    method: String,
    cache: tokio::sync::Mutex<HashMap<String, CachedToken>>,
    scrub: Vec<Secret>,
}

impl std::fmt::Debug for TokenProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenProvider")
            .field("method", &self.method)
            .finish_non_exhaustive()
    }
}

impl TokenProvider {
    /// `scrub` lists secrets that must never appear in an error message.
    pub(crate) fn new(
        credential: Arc<dyn TokenCredential>,
        method: &str,
        scrub: Vec<Secret>,
    ) -> Self {
        Self {
            credential,
            method: method.to_owned(),
            cache: tokio::sync::Mutex::new(HashMap::new()),
            scrub: scrub.into_iter().filter(|s| !s.is_empty()).collect(),
        }
    }

    /// For a configuration: the secrets it holds are scrubbed from error messages.
    pub(crate) fn for_config(
        credential: Arc<dyn TokenCredential>,
        config: &AzureConfig,
        method: &AuthMethod,
    ) -> Self {
        let scrub = [&config.client_secret, &config.oidc_token]
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        Self::new(credential, method_name(method), scrub)
    }

    /// A bearer token for `scope` (`https://management.azure.com/.default`).
    pub(crate) async fn token(&self, scope: &str) -> Result<Secret, AzureError> {
        let mut cache = self.cache.lock().await;
        if let Some(cached) = cache.get(scope)
            && cached.expires_at > SystemTime::now() + MIN_TOKEN_LIFETIME
        {
            return Ok(cached.token.clone());
        }
        let token = self
            .credential
            .get_token(&[scope], None)
            .await
            .map_err(|e| AzureError::Credential {
                method: self.method.clone(),
                message: self.scrubbed(crate::http::error_chain(&e)),
            })?;
        let expires_at = SystemTime::from(token.expires_on);
        let secret = Secret::new(token.token.secret().to_owned());
        cache.insert(
            scope.to_owned(),
            CachedToken {
                token: secret.clone(),
                expires_at,
            },
        );
        Ok(secret)
    }

    fn scrubbed(&self, mut message: String) -> String {
        for s in &self.scrub {
            message = message.replace(s.expose(), "***");
        }
        message
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;
    use azure_core::credentials::{AccessToken, TokenRequestOptions};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A credential returning a fixed token with a given lifetime, counting calls.
    #[derive(Debug)]
    pub(crate) struct StaticCredential {
        pub(crate) token: String,
        pub(crate) lifetime: Duration,
        pub(crate) calls: AtomicUsize,
    }

    impl StaticCredential {
        pub(crate) fn new(token: &str, lifetime: Duration) -> Arc<Self> {
            Arc::new(Self {
                token: token.to_owned(),
                lifetime,
                calls: AtomicUsize::new(0),
            })
        }
    }

    #[async_trait::async_trait]
    impl TokenCredential for StaticCredential {
        async fn get_token(
            &self,
            _scopes: &[&str],
            _options: Option<TokenRequestOptions<'_>>,
        ) -> azure_core::Result<AccessToken> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            Ok(AccessToken::new(
                self.token.clone(),
                azure_core::time::OffsetDateTime::now_utc() + self.lifetime,
            ))
        }
    }

    #[tokio::test]
    async fn cache_reuses_long_lived_token_per_scope() {
        let cred = StaticCredential::new("tok", Duration::from_secs(3600));
        let p = TokenProvider::new(cred.clone(), "test", vec![]);
        assert_eq!(p.token("a/.default").await.unwrap().expose(), "tok");
        p.token("a/.default").await.unwrap();
        assert_eq!(cred.calls.load(Ordering::SeqCst), 1);
        p.token("b/.default").await.unwrap();
        assert_eq!(cred.calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn cache_refreshes_token_close_to_expiry() {
        let cred = StaticCredential::new("tok", Duration::from_secs(240));
        let p = TokenProvider::new(cred.clone(), "test", vec![]);
        p.token("a").await.unwrap();
        p.token("a").await.unwrap();
        assert_eq!(cred.calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn oidc_file_is_reread_each_time() {
        let dir = std::env::temp_dir().join(format!("mc-oidc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("token");
        let a = OidcAssertion(OidcSource::File(path.clone()));
        std::fs::write(&path, "first\n").unwrap();
        assert_eq!(a.secret(None).await.unwrap(), "first");
        std::fs::write(&path, "second").unwrap();
        assert_eq!(a.secret(None).await.unwrap(), "second");
        std::fs::remove_file(&path).unwrap();
        let err = a.secret(None).await.unwrap_err().to_string();
        assert!(err.contains("cannot read OIDC token file"), "{err}");
    }

    #[test]
    fn debug_of_assertion_hides_token() {
        let a = OidcAssertion(OidcSource::Inline(Secret::new("jwt-secret")));
        assert!(!format!("{a:?}").contains("jwt-secret"));
    }

    #[test]
    fn debug_of_config_and_token_provider_hides_every_secret() {
        let config = crate::azure::AzureConfig {
            client_id: Some("client-id-visible".into()),
            client_secret: Some(Secret::new("client-secret-canary")),
            oidc_token: Some(Secret::new("oidc-token-canary")),
            ..Default::default()
        };
        let text = format!("{config:?} {config:#?}");
        assert!(
            text.contains("client-id-visible"),
            "ids stay readable: {text}"
        );
        for secret in ["client-secret-canary", "oidc-token-canary"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        let cred = StaticCredential::new("access-token-canary", Duration::from_secs(3600));
        let provider = TokenProvider::new(cred, "client secret", vec![Secret::new("scrub-canary")]);
        let text = format!("{provider:?}");
        assert!(!text.contains("scrub-canary") && !text.contains("access-token-canary"));
    }

    #[tokio::test]
    async fn debug_of_an_issued_token_hides_it() {
        let cred = StaticCredential::new("access-token-canary", Duration::from_secs(3600));
        let provider = TokenProvider::new(cred, "test", vec![]);
        let token = provider.token("a/.default").await.unwrap();
        assert!(!format!("{token:?}").contains("access-token-canary"));
    }
}
