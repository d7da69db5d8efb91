//! The configured provider's cloud clients, connected lazily: the first resource that needs a
//! cloud logs in to it, so a configuration that touches only AWS needs no Azure login.

use std::fmt;

use tokio::sync::OnceCell;

use crate::aws::{AwsClients, AwsConfig, AwsError};
use crate::azure::{ArmClient, AzureConfig, AzureError};
use crate::protocol::{AttrPath, Diagnostics, Value, logging};

use super::provider_config;

/// Why a cloud's configuration cannot be used yet.
#[derive(Debug, Clone)]
enum Pending<T> {
    Ready(T),
    /// The configuration cannot work; reported, against the attribute at fault, when a resource
    /// first needs this cloud.
    Invalid(ConfigProblem),
    /// Some attribute of the block depends on a value Terraform only knows at apply.
    Unknown,
}

/// What `configure` hands to every resource and data source.
pub struct ProviderClients {
    azure_config: Pending<AzureConfig>,
    aws_config: Pending<AwsConfig>,
    azure: OnceCell<Result<ArmClient, ConfigProblem>>,
    aws: OnceCell<Result<AwsClients, ConfigProblem>>,
}

impl fmt::Debug for ProviderClients {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderClients")
            .field("azure_config", &self.azure_config)
            .field("aws_config", &self.aws_config)
            .field("azure_connected", &self.azure.initialized())
            .field("aws_connected", &self.aws.initialized())
            .finish()
    }
}

impl ProviderClients {
    /// Reads both cloud blocks; nothing is contacted yet. Every secret in the configuration is
    /// registered with the log redactor before anything can log it.
    pub fn from_config(config: &Value, env: &dyn Fn(&str) -> Option<String>) -> Self {
        let azure_config = if config.get("azure").is_fully_known() {
            match provider_config::azure_config(config, env) {
                Ok(c) => {
                    for s in [&c.client_secret, &c.oidc_token].into_iter().flatten() {
                        logging::register_secret(s.expose());
                    }
                    Pending::Ready(c)
                }
                Err(e) => Pending::Invalid(ConfigProblem::azure(&e)),
            }
        } else {
            Pending::Unknown
        };
        let aws_config = if config.get("aws").is_fully_known() {
            let c = provider_config::aws_config(config, env);
            let web_token = c
                .assume_role_with_web_identity
                .as_ref()
                .and_then(|w| w.web_identity_token.as_ref());
            for s in [&c.secret_key, &c.session_token]
                .into_iter()
                .flatten()
                .chain(web_token)
            {
                logging::register_secret(s.expose());
            }
            Pending::Ready(c)
        } else {
            Pending::Unknown
        };
        Self {
            azure_config,
            aws_config,
            azure: OnceCell::new(),
            aws: OnceCell::new(),
        }
    }

    /// The provider's default Azure subscription, known without logging in (None when the
    /// `azure` block is not known yet or names none).
    pub fn default_subscription_id(&self) -> Option<String> {
        match &self.azure_config {
            Pending::Ready(c) => c.subscription_id.clone(),
            Pending::Invalid(_) | Pending::Unknown => None,
        }
    }

    /// The ARM client, logging in on first use. On failure, the error is added to `diags`
    /// (against the attribute at fault, or the `azure` block) and `None` is returned; later
    /// calls report the same error without trying again, so one bad secret is not retried by
    /// every resource.
    pub async fn azure(&self, diags: &mut Diagnostics) -> Option<&ArmClient> {
        let config = self.azure_config.get("azure", diags)?;
        let result = self
            .azure
            .get_or_init(|| async {
                ArmClient::new(config.clone()).map_err(|e| ConfigProblem::azure(&e))
            })
            .await;
        reported(result, diags)
    }

    /// The ARM client for a read whose configuration passes `validate`: a data source checks
    /// its input again on read, because values unknown at plan time were not validated then.
    /// `None` when `validate` reported an error or the ARM client cannot be had (see
    /// [`ProviderClients::azure`]); nothing is called remotely for an invalid configuration.
    pub(crate) async fn azure_if_valid(
        &self,
        diags: &mut Diagnostics,
        validate: impl FnOnce(&mut Diagnostics),
    ) -> Option<&ArmClient> {
        validate(diags);
        if diags.has_errors() {
            return None;
        }
        self.azure(diags).await
    }

    /// Reports an Azure configuration that cannot work (a national cloud, a missing
    /// subscription) the way the first login would, without logging in: for plan-time checks.
    /// Nothing is reported while the `azure` block depends on values not known yet.
    pub(crate) async fn check_azure(&self, diags: &mut Diagnostics) {
        if !matches!(self.azure_config, Pending::Unknown) {
            let _ = self.azure(diags).await;
        }
    }

    /// Clients whose ARM client is `client` (tests against a mock server).
    #[cfg(test)]
    pub(crate) fn with_azure_client(client: ArmClient) -> Self {
        let config = AzureConfig {
            subscription_id: Some(client.subscription_id().to_owned()),
            ..AzureConfig::default()
        };
        Self {
            azure_config: Pending::Ready(config),
            aws_config: Pending::Unknown,
            azure: OnceCell::new_with(Some(Ok(client))),
            aws: OnceCell::new(),
        }
    }

    /// The AWS clients, resolving credentials on first use; errors as for [`Self::azure`].
    pub async fn aws(&self, diags: &mut Diagnostics) -> Option<&AwsClients> {
        let config = self.aws_config.get("aws", diags)?;
        let result = self
            .aws
            .get_or_init(|| async {
                AwsClients::new(config)
                    .await
                    .map_err(|e| ConfigProblem::aws(&e))
            })
            .await;
        reported(result, diags)
    }
}

impl<T> Pending<T> {
    /// The configuration, or `None` with the reason added to `diags`.
    fn get(&self, block: &str, diags: &mut Diagnostics) -> Option<&T> {
        match self {
            Pending::Ready(c) => Some(c),
            Pending::Unknown => {
                unknown_config(diags, block);
                None
            }
            Pending::Invalid(problem) => {
                problem.report(diags);
                None
            }
        }
    }
}

fn reported<'a, T>(result: &'a Result<T, ConfigProblem>, diags: &mut Diagnostics) -> Option<&'a T> {
    result
        .as_ref()
        .map_err(|problem| problem.report(diags))
        .ok()
}

/// A configuration error, with the attribute it is about when the cloud layer named one.
#[derive(Debug, Clone)]
struct ConfigProblem {
    path: AttrPath,
    summary: &'static str,
    message: String,
}

impl ConfigProblem {
    fn azure(e: &AzureError) -> Self {
        let path = match e {
            AzureError::Config { attribute, .. } => attribute_path("azure", attribute),
            _ => AttrPath::root("azure"),
        };
        Self {
            path,
            summary: "Invalid Azure provider configuration",
            message: e.to_string(),
        }
    }

    fn aws(e: &AwsError) -> Self {
        let path = match e {
            AwsError::Config { attribute, .. } => attribute_path("aws", attribute),
            _ => AttrPath::root("aws"),
        };
        Self {
            path,
            summary: "Cannot use the AWS configuration",
            message: e.to_string(),
        }
    }

    fn report(&self, diags: &mut Diagnostics) {
        diags.attribute_error(self.path.clone(), self.summary, self.message.clone());
    }
}

/// `azure.endpoints.resource_manager` becomes that attribute path; an environment variable
/// name (the value came from the environment) points at the block.
fn attribute_path(block: &str, attribute: &str) -> AttrPath {
    let mut steps = attribute.split('.');
    if steps.next() != Some(block) {
        return AttrPath::root(block);
    }
    steps.fold(AttrPath::root(block), |p, s| p.attr(s))
}

fn unknown_config(diags: &mut Diagnostics, block: &str) {
    diags.attribute_error(
        AttrPath::root(block),
        "Provider configuration not known yet",
        format!(
            "The provider's `{block}` block depends on values that are only known after apply, so \
             this cannot be read during plan. Configure the provider from values known at plan time \
             (variables, data sources), or apply the resources it depends on first with `-target`."
        ),
    );
}
