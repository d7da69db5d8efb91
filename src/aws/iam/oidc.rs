//! IAM OpenID Connect providers. AWS allows one provider per URL, so callers look one up
//! by URL before creating, and reuse it (adding audiences) when it exists.

use super::{IamClient, false_if_not_found, from_tags, none_if_not_found, to_tags};
use crate::aws::error::AwsError;
use std::collections::BTreeMap;

/// An OIDC provider as IAM reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcProvider {
    /// Provider ARN (`arn:aws:iam::<account>:oidc-provider/<host/path>`).
    pub arn: String,
    /// Issuer URL as IAM returns it (without the `https://` scheme).
    pub url: String,
    /// Audiences (client ids) accepted.
    pub client_ids: Vec<String>,
    /// Server certificate thumbprints.
    pub thumbprints: Vec<String>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
}

/// Input of [`IamClient::create_oidc_provider`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewOidcProvider {
    /// Issuer URL, `https://...`.
    pub url: String,
    /// Audiences (client ids).
    pub client_ids: Vec<String>,
    /// Thumbprints; IAM no longer requires them for well-known issuers.
    pub thumbprints: Vec<String>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
}

/// The ARN suffix IAM derives from an issuer URL: scheme dropped, rest kept verbatim.
pub(crate) fn provider_key(url: &str) -> &str {
    url.split_once("://").map_or(url, |(_, rest)| rest)
}

impl IamClient {
    /// The provider for `url`, if one exists (list, match the ARN's URL part, then get).
    pub async fn find_oidc_provider_by_url(
        &self,
        url: &str,
    ) -> Result<Option<OidcProvider>, AwsError> {
        match self.oidc_provider_arn_for_url(url).await? {
            Some(arn) => self.get_oidc_provider_opt(&arn).await,
            None => Ok(None),
        }
    }

    /// The ARN of the provider for `url`, if one exists: IAM has no lookup by URL, so the
    /// account's providers are listed and matched on the URL part of their ARNs.
    pub(crate) async fn oidc_provider_arn_for_url(
        &self,
        url: &str,
    ) -> Result<Option<String>, AwsError> {
        let list = self
            .client
            .list_open_id_connect_providers()
            .send()
            .await
            .map_err(self.err("ListOpenIDConnectProviders"))?;
        let key = provider_key(url);
        Ok(list
            .open_id_connect_provider_list()
            .iter()
            .filter_map(|e| e.arn())
            .find(|arn| {
                arn.split_once(":oidc-provider/")
                    .is_some_and(|(_, k)| k == key)
            })
            .map(str::to_owned))
    }

    /// Creates a provider; returns its ARN. `AlreadyExists` when the URL is taken, unless our
    /// own call made the provider before its answer was lost (see [`super::lost_answer`]).
    pub async fn create_oidc_provider(&self, p: &NewOidcProvider) -> Result<String, AwsError> {
        let started = std::time::SystemTime::now();
        let created = self.create_oidc_provider_once(p).await;
        super::lost_answer::unless_ours(created, self.oidc_provider_from_lost_create(p, started))
            .await
    }

    async fn create_oidc_provider_once(&self, p: &NewOidcProvider) -> Result<String, AwsError> {
        const OP: &str = "CreateOpenIDConnectProvider";
        let out = self
            .client
            .create_open_id_connect_provider()
            .url(&p.url)
            .set_client_id_list(Some(p.client_ids.clone()))
            .set_thumbprint_list(Some(p.thumbprints.clone()))
            .set_tags(Some(to_tags(&p.tags)?))
            .send()
            .await
            .map_err(self.err(OP))?;
        out.open_id_connect_provider_arn
            .ok_or_else(|| AwsError::MissingField {
                operation: OP.into(),
                field: "OpenIDConnectProviderArn".into(),
            })
    }

    /// The provider, or `None` when it does not exist.
    pub async fn get_oidc_provider_opt(&self, arn: &str) -> Result<Option<OidcProvider>, AwsError> {
        let r = self
            .client
            .get_open_id_connect_provider()
            .open_id_connect_provider_arn(arn)
            .send()
            .await
            .map_err(self.err("GetOpenIDConnectProvider"))
            .map(|out| OidcProvider {
                arn: arn.to_owned(),
                url: out.url().unwrap_or_default().to_owned(),
                client_ids: out.client_id_list().to_vec(),
                thumbprints: out.thumbprint_list().to_vec(),
                tags: from_tags(out.tags()),
            });
        none_if_not_found(r)
    }

    /// Adds an audience; adding one already present is a no-op in IAM.
    pub async fn add_oidc_client_id(&self, arn: &str, client_id: &str) -> Result<(), AwsError> {
        self.idempotent("AddClientIDToOpenIDConnectProvider", || async {
            self.client
                .add_client_id_to_open_id_connect_provider()
                .open_id_connect_provider_arn(arn)
                .client_id(client_id)
                .send()
                .await
                .map(drop)
                .map_err(self.err("AddClientIDToOpenIDConnectProvider"))
        })
        .await
    }

    /// Removes an audience; removing an absent one is a no-op in IAM.
    pub async fn remove_oidc_client_id(&self, arn: &str, client_id: &str) -> Result<(), AwsError> {
        self.idempotent("RemoveClientIDFromOpenIDConnectProvider", || async {
            self.client
                .remove_client_id_from_open_id_connect_provider()
                .open_id_connect_provider_arn(arn)
                .client_id(client_id)
                .send()
                .await
                .map(drop)
                .map_err(self.err("RemoveClientIDFromOpenIDConnectProvider"))
        })
        .await
    }

    /// Replaces the thumbprint list.
    pub async fn update_oidc_thumbprints(
        &self,
        arn: &str,
        thumbprints: &[String],
    ) -> Result<(), AwsError> {
        self.idempotent("UpdateOpenIDConnectProviderThumbprint", || async {
            self.client
                .update_open_id_connect_provider_thumbprint()
                .open_id_connect_provider_arn(arn)
                .set_thumbprint_list(Some(thumbprints.to_vec()))
                .send()
                .await
                .map(drop)
                .map_err(self.err("UpdateOpenIDConnectProviderThumbprint"))
        })
        .await
    }

    /// Deletes the provider; `Ok(false)` when it was already gone.
    pub async fn delete_oidc_provider(&self, arn: &str) -> Result<bool, AwsError> {
        false_if_not_found(
            self.idempotent("DeleteOpenIDConnectProvider", || async {
                self.client
                    .delete_open_id_connect_provider()
                    .open_id_connect_provider_arn(arn)
                    .send()
                    .await
                    .map(drop)
                    .map_err(self.err("DeleteOpenIDConnectProvider"))
            })
            .await,
        )
    }
}
