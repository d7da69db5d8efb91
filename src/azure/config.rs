//! Azure provider configuration: the `azure {}` block, its environment fallbacks and validation.
//!
//! Precedence is HCL value > environment variable > default. Environment variables follow the
//! azurerm/azapi conventions (`ARM_*`), plus `TFC_WORKLOAD_IDENTITY_TOKEN` (HCP Terraform
//! dynamic credentials) and `AZURE_FEDERATED_TOKEN_FILE` (Kubernetes workload identity) as
//! OIDC fallbacks, and the project-specific `ARM_CA_CERT_FILE` for `ca_cert_file`.

use super::error::AzureError;
use crate::secret::Secret;
use std::path::PathBuf;

/// Public-cloud Azure Resource Manager endpoint.
pub const PUBLIC_RESOURCE_MANAGER: &str = "https://management.azure.com/";
/// Public-cloud Microsoft Entra ID authority host.
pub const PUBLIC_ACTIVE_DIRECTORY: &str = "https://login.microsoftonline.com/";

/// Host names of sovereign clouds: Defender for Cloud multicloud connectors exist only in
/// the public cloud, so pointing the provider at one of these is a configuration mistake.
const SOVEREIGN_HOSTS: [&str; 6] = [
    "management.usgovcloudapi.net",
    "management.chinacloudapi.cn",
    "management.microsoftazure.de",
    "login.microsoftonline.us",
    "login.chinacloudapi.cn",
    "login.microsoftonline.de",
];

/// Endpoint overrides (tests point these at the local ARM emulator).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AzureEndpoints {
    /// Azure Resource Manager base URL; also the token audience (`<url>/.default`).
    pub resource_manager: String,
    /// Microsoft Entra ID authority host (token endpoint `<host>/<tenant>/oauth2/v2.0/token`).
    pub active_directory: String,
}

impl Default for AzureEndpoints {
    fn default() -> Self {
        Self {
            resource_manager: PUBLIC_RESOURCE_MANAGER.to_owned(),
            active_directory: PUBLIC_ACTIVE_DIRECTORY.to_owned(),
        }
    }
}

/// The `azure {}` provider block.
///
/// The `use_*` switches are `Option<bool>` so "not written in HCL" (`None`) can fall back to the
/// environment while an explicit `false` in HCL still wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AzureConfig {
    /// Microsoft Entra tenant (directory) id. `ARM_TENANT_ID`.
    pub tenant_id: Option<String>,
    /// Subscription that ARM calls are made in. `ARM_SUBSCRIPTION_ID`.
    pub subscription_id: Option<String>,
    /// Application (client) id of the service principal. `ARM_CLIENT_ID`.
    pub client_id: Option<String>,
    /// Client secret of the service principal. `ARM_CLIENT_SECRET`.
    pub client_secret: Option<Secret>,
    /// Authenticate with an OIDC (federated) token. `ARM_USE_OIDC`.
    pub use_oidc: Option<bool>,
    /// The OIDC token itself. `ARM_OIDC_TOKEN`, then `TFC_WORKLOAD_IDENTITY_TOKEN`.
    pub oidc_token: Option<Secret>,
    /// File holding the OIDC token, re-read for each token exchange.
    /// `ARM_OIDC_TOKEN_FILE_PATH`, then `AZURE_FEDERATED_TOKEN_FILE`.
    pub oidc_token_file_path: Option<PathBuf>,
    /// Authenticate with the Azure CLI's login. `ARM_USE_CLI`; defaults to true as in azurerm,
    /// used only when no secret, OIDC token or managed identity is configured.
    pub use_cli: Option<bool>,
    /// Authenticate with a managed identity. `ARM_USE_MSI`.
    pub use_msi: Option<bool>,
    /// Endpoint overrides.
    pub endpoints: AzureEndpoints,
    /// Extra PEM CA bundle to trust (TLS-inspecting proxies, the local emulator). `ARM_CA_CERT_FILE`.
    pub ca_cert_file: Option<PathBuf>,
    /// Register missing resource providers automatically (default true).
    pub register_resource_providers: bool,
}

impl Default for AzureConfig {
    fn default() -> Self {
        Self {
            tenant_id: None,
            subscription_id: None,
            client_id: None,
            client_secret: None,
            use_oidc: None,
            oidc_token: None,
            oidc_token_file_path: None,
            use_cli: None,
            use_msi: None,
            endpoints: AzureEndpoints::default(),
            ca_cert_file: None,
            register_resource_providers: true,
        }
    }
}

/// How the provider will authenticate, decided from the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthMethod {
    /// Client id + client secret.
    ClientSecret,
    /// Client id + OIDC token (client assertion).
    Oidc,
    /// Managed identity of the host.
    ManagedIdentity,
    /// The Azure CLI's current login.
    AzureCli,
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

fn parse_bool(name: &str, value: &str) -> Result<bool, AzureError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" => Ok(true),
        "0" | "false" | "no" | "" => Ok(false),
        other => Err(AzureError::config(
            name,
            format!("{name} has the value {other:?}, which is not a boolean: use true or false"),
        )),
    }
}

impl AzureConfig {
    /// Fills every attribute not set in HCL from the environment (`env` is `std::env::var`
    /// in production, a map in tests). Fails on an unparsable boolean or a sovereign
    /// `ARM_ENVIRONMENT`.
    pub fn with_env_fallbacks(
        mut self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, AzureError> {
        let get = |name: &str| non_empty(env(name));
        if let Some(environment) = get("ARM_ENVIRONMENT")
            && !environment.eq_ignore_ascii_case("public")
        {
            return Err(AzureError::config(
                "ARM_ENVIRONMENT",
                format!(
                    "ARM_ENVIRONMENT is {environment:?}: sovereign clouds are not supported by \
                         Defender for Cloud multicloud connectors; unset ARM_ENVIRONMENT or set it to \"public\""
                ),
            ));
        }
        self.tenant_id = non_empty(self.tenant_id).or_else(|| get("ARM_TENANT_ID"));
        self.subscription_id =
            non_empty(self.subscription_id).or_else(|| get("ARM_SUBSCRIPTION_ID"));
        self.client_id = non_empty(self.client_id).or_else(|| get("ARM_CLIENT_ID"));
        self.client_secret = self
            .client_secret
            .filter(|s| !s.is_empty())
            .or_else(|| get("ARM_CLIENT_SECRET").map(Secret::from));
        self.oidc_token = self
            .oidc_token
            .filter(|s| !s.is_empty())
            .or_else(|| get("ARM_OIDC_TOKEN").map(Secret::from))
            .or_else(|| get("TFC_WORKLOAD_IDENTITY_TOKEN").map(Secret::from));
        self.oidc_token_file_path = self
            .oidc_token_file_path
            .filter(|p| !p.as_os_str().is_empty())
            .or_else(|| get("ARM_OIDC_TOKEN_FILE_PATH").map(PathBuf::from))
            .or_else(|| get("AZURE_FEDERATED_TOKEN_FILE").map(PathBuf::from));
        self.ca_cert_file = self
            .ca_cert_file
            .filter(|p| !p.as_os_str().is_empty())
            .or_else(|| get("ARM_CA_CERT_FILE").map(PathBuf::from));
        for (slot, name) in [
            (&mut self.use_oidc, "ARM_USE_OIDC"),
            (&mut self.use_cli, "ARM_USE_CLI"),
            (&mut self.use_msi, "ARM_USE_MSI"),
        ] {
            if slot.is_none()
                && let Some(v) = get(name)
            {
                *slot = Some(parse_bool(name, &v)?);
            }
        }
        Ok(self)
    }

    /// The authentication method the configuration selects, in azurerm's order:
    /// OIDC, client secret, managed identity, then Azure CLI.
    pub fn auth_method(&self) -> Result<AuthMethod, AzureError> {
        let has_oidc_token = self.oidc_token.is_some() || self.oidc_token_file_path.is_some();
        if self.use_oidc == Some(true) || (has_oidc_token && self.client_secret.is_none()) {
            if !has_oidc_token {
                return Err(AzureError::config(
                    "azure.oidc_token",
                    "azure.use_oidc is true but no OIDC token is available: set azure.oidc_token or \
                     azure.oidc_token_file_path, or ARM_OIDC_TOKEN, ARM_OIDC_TOKEN_FILE_PATH or \
                     TFC_WORKLOAD_IDENTITY_TOKEN",
                ));
            }
            return Ok(AuthMethod::Oidc);
        }
        if self.client_secret.is_some() {
            return Ok(AuthMethod::ClientSecret);
        }
        if self.use_msi == Some(true) {
            return Ok(AuthMethod::ManagedIdentity);
        }
        if self.use_cli != Some(false) {
            return Ok(AuthMethod::AzureCli);
        }
        Err(AzureError::config(
            "azure.client_secret",
            "no Azure credentials are configured: set azure.client_id and azure.client_secret \
             (ARM_CLIENT_ID, ARM_CLIENT_SECRET), or use_oidc with an OIDC token (ARM_USE_OIDC, \
             ARM_OIDC_TOKEN or ARM_OIDC_TOKEN_FILE_PATH), or use_msi = true, or use_cli = true after `az login`",
        ))
    }

    /// Checks that everything the selected authentication method and ARM calls need is present,
    /// naming the attribute, its environment variable and the fix.
    pub fn validate(&self) -> Result<AuthMethod, AzureError> {
        for (attr, value) in [
            (
                "azure.endpoints.resource_manager",
                &self.endpoints.resource_manager,
            ),
            (
                "azure.endpoints.active_directory",
                &self.endpoints.active_directory,
            ),
        ] {
            let url = url::Url::parse(value).map_err(|e| {
                AzureError::config(attr, format!("{attr} is not a valid URL ({value:?}: {e})"))
            })?;
            if !matches!(url.scheme(), "https" | "http") {
                return Err(AzureError::config(
                    attr,
                    format!("{attr} must be an https URL, got {value:?}"),
                ));
            }
            if let Some(host) = url.host_str()
                && SOVEREIGN_HOSTS.iter().any(|h| host.eq_ignore_ascii_case(h))
            {
                return Err(AzureError::config(
                    attr,
                    format!(
                        "{attr} points at a sovereign cloud ({host}): sovereign clouds are not \
                             supported by Defender for Cloud multicloud connectors; use the public cloud"
                    ),
                ));
            }
        }
        if self.subscription_id.is_none() {
            return Err(missing("azure.subscription_id", "ARM_SUBSCRIPTION_ID"));
        }
        let method = self.auth_method()?;
        if matches!(method, AuthMethod::ClientSecret | AuthMethod::Oidc) {
            if self.tenant_id.is_none() {
                return Err(missing("azure.tenant_id", "ARM_TENANT_ID"));
            }
            if self.client_id.is_none() {
                return Err(missing("azure.client_id", "ARM_CLIENT_ID"));
            }
        }
        Ok(method)
    }
}

fn missing(attr: &str, env: &str) -> AzureError {
    AzureError::config(
        attr,
        format!("{attr} is not set: set it in the provider's azure block or {env}"),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    fn secret_config() -> AzureConfig {
        AzureConfig {
            tenant_id: Some("t".into()),
            subscription_id: Some("s".into()),
            client_id: Some("c".into()),
            client_secret: Some(Secret::new("shh")),
            ..Default::default()
        }
    }

    #[test]
    fn hcl_wins_over_env() {
        let cfg = AzureConfig {
            tenant_id: Some("from-hcl".into()),
            use_cli: Some(false),
            ..Default::default()
        }
        .with_env_fallbacks(env(&[
            ("ARM_TENANT_ID", "from-env"),
            ("ARM_CLIENT_ID", "client-env"),
            ("ARM_USE_CLI", "true"),
        ]))
        .unwrap();
        assert_eq!(cfg.tenant_id.as_deref(), Some("from-hcl"));
        assert_eq!(cfg.client_id.as_deref(), Some("client-env"));
        assert_eq!(cfg.use_cli, Some(false));
    }

    #[test]
    fn env_fills_everything() {
        let cfg = AzureConfig::default()
            .with_env_fallbacks(env(&[
                ("ARM_TENANT_ID", "t"),
                ("ARM_SUBSCRIPTION_ID", "s"),
                ("ARM_CLIENT_ID", "c"),
                ("ARM_CLIENT_SECRET", "secret"),
                ("ARM_USE_OIDC", "true"),
                ("ARM_OIDC_TOKEN_FILE_PATH", "/tmp/tok"),
                ("ARM_USE_MSI", "false"),
                ("ARM_CA_CERT_FILE", "/tmp/ca.pem"),
            ]))
            .unwrap();
        assert_eq!(cfg.subscription_id.as_deref(), Some("s"));
        assert_eq!(
            cfg.client_secret.as_ref().map(Secret::expose),
            Some("secret")
        );
        assert_eq!(cfg.use_oidc, Some(true));
        assert_eq!(cfg.use_msi, Some(false));
        assert_eq!(cfg.oidc_token_file_path, Some(PathBuf::from("/tmp/tok")));
        assert_eq!(cfg.ca_cert_file, Some(PathBuf::from("/tmp/ca.pem")));
        assert_eq!(cfg.validate().unwrap(), AuthMethod::Oidc);
    }

    #[test]
    fn tfc_token_is_an_oidc_fallback() {
        let cfg = AzureConfig::default()
            .with_env_fallbacks(env(&[("TFC_WORKLOAD_IDENTITY_TOKEN", "jwt")]))
            .unwrap();
        assert_eq!(cfg.oidc_token.as_ref().map(Secret::expose), Some("jwt"));
        assert_eq!(cfg.auth_method().unwrap(), AuthMethod::Oidc);
    }

    #[test]
    fn sovereign_environment_is_rejected() {
        let err = AzureConfig::default()
            .with_env_fallbacks(env(&[("ARM_ENVIRONMENT", "usgovernment")]))
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("sovereign clouds are not supported"),
            "{err}"
        );
        let mut cfg = secret_config();
        cfg.endpoints.resource_manager = "https://management.usgovcloudapi.net/".into();
        let err = cfg.validate().unwrap_err();
        assert!(
            err.to_string().contains("azure.endpoints.resource_manager"),
            "{err}"
        );
    }

    #[test]
    fn bad_boolean_names_the_variable() {
        let err = AzureConfig::default()
            .with_env_fallbacks(env(&[("ARM_USE_OIDC", "maybe")]))
            .unwrap_err();
        assert!(err.to_string().contains("ARM_USE_OIDC"), "{err}");
    }

    #[test]
    fn missing_tenant_names_attribute_and_env() {
        let mut cfg = secret_config();
        cfg.tenant_id = None;
        let err = cfg.validate().unwrap_err();
        assert_eq!(
            err.to_string(),
            "azure.tenant_id is not set: set it in the provider's azure block or ARM_TENANT_ID"
        );
        assert!(
            matches!(err, AzureError::Config { ref attribute, .. } if attribute == "azure.tenant_id")
        );
    }

    #[test]
    fn missing_subscription_and_client() {
        let mut cfg = secret_config();
        cfg.subscription_id = None;
        assert!(
            cfg.validate()
                .unwrap_err()
                .to_string()
                .contains("ARM_SUBSCRIPTION_ID")
        );
        let mut cfg = secret_config();
        cfg.client_id = None;
        assert!(
            cfg.validate()
                .unwrap_err()
                .to_string()
                .contains("ARM_CLIENT_ID")
        );
    }

    #[test]
    fn auth_selection_order() {
        assert_eq!(
            secret_config().validate().unwrap(),
            AuthMethod::ClientSecret
        );
        let mut cfg = secret_config();
        cfg.client_secret = None;
        assert_eq!(cfg.auth_method().unwrap(), AuthMethod::AzureCli);
        cfg.use_msi = Some(true);
        assert_eq!(cfg.auth_method().unwrap(), AuthMethod::ManagedIdentity);
        cfg.use_msi = None;
        cfg.use_cli = Some(false);
        assert!(
            cfg.auth_method()
                .unwrap_err()
                .to_string()
                .contains("no Azure credentials")
        );
        cfg.use_oidc = Some(true);
        assert!(
            cfg.auth_method()
                .unwrap_err()
                .to_string()
                .contains("ARM_OIDC_TOKEN")
        );
    }

    #[test]
    fn debug_hides_secrets() {
        let mut cfg = secret_config();
        cfg.oidc_token = Some(Secret::new("jwt-value"));
        let out = format!("{cfg:?}");
        assert!(!out.contains("shh") && !out.contains("jwt-value"), "{out}");
    }
}
