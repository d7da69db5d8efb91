//! Paged ARM lists: `{"value": [...], "nextLink": "..."}`, followed to the end.

use http::Method;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use url::Url;

use super::client::{ArmClient, decode};
use super::error::AzureError;

/// More pages than any real list has; a server that keeps answering with new links is broken,
/// and this stops the loop instead of running forever.
const MAX_PAGES: usize = 1_000;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Page<T> {
    #[serde(default = "Vec::new")]
    value: Vec<T>,
    #[serde(default)]
    next_link: Option<String>,
}

impl ArmClient {
    /// Every item of a paged list, following `nextLink` until it is absent or empty.
    pub async fn list_all<T: DeserializeOwned>(
        &self,
        path: &str,
        api_version: &str,
    ) -> Result<Vec<T>, AzureError> {
        let mut items = Vec::new();
        let mut next: Option<String> = None;
        let mut seen: Vec<String> = Vec::new();
        for _ in 0..MAX_PAGES {
            let resp = match &next {
                None => {
                    self.send(Method::GET, path, Some(api_version), None)
                        .await?
                }
                // The link already carries the api-version (and the skip token).
                Some(link) => self.send(Method::GET, link, None, None).await?,
            };
            let page: Page<T> = decode(&resp, path)?;
            items.extend(page.value);
            match page.next_link.filter(|l| !l.trim().is_empty()) {
                None => return Ok(items),
                Some(link) => {
                    self.check_next_link(&link, path)?;
                    if seen.contains(&link) {
                        return Err(list_error(path, "the server sent the same nextLink twice"));
                    }
                    seen.push(link.clone());
                    next = Some(link);
                }
            }
        }
        Err(list_error(
            path,
            &format!("more than {MAX_PAGES} pages; stopped following nextLink"),
        ))
    }

    /// The bearer token goes wherever a `nextLink` points, so only links to the Resource Manager
    /// endpoint the provider was configured with are followed.
    fn check_next_link(&self, link: &str, path: &str) -> Result<(), AzureError> {
        let base = &self.inner.base;
        let same_origin = Url::parse(link).is_ok_and(|u| {
            u.scheme() == base.scheme()
                && u.host_str() == base.host_str()
                && u.port_or_known_default() == base.port_or_known_default()
        });
        if same_origin {
            Ok(())
        } else {
            Err(list_error(
                path,
                "the nextLink points at another host than the Resource Manager endpoint; not followed",
            ))
        }
    }
}

fn list_error(path: &str, message: &str) -> AzureError {
    AzureError::Decode {
        context: format!("list {path}"),
        message: message.to_owned(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use serde_json::{Value, json};

    use crate::azure::credential::tests::StaticCredential;
    use crate::azure::{ArmClient, AzureConfig, AzureEndpoints, AzureError};
    use crate::http::RetryPolicy;
    use crate::http::mock_server::{MockServer, Reply};
    use crate::http::retry::tests::FakeClock;

    /// The subscription of [`mock_client`].
    pub(crate) const MOCK_SUBSCRIPTION: &str = "00000000-0000-0000-0000-00000000000a";

    /// An ARM client for [`MOCK_SUBSCRIPTION`] talking to `server`, with a fixed token and a
    /// fake clock (nothing really sleeps).
    pub(crate) fn mock_client(server: &MockServer) -> ArmClient {
        mock_client_in(server, MOCK_SUBSCRIPTION, 7, Arc::new(FakeClock::default()))
    }

    /// An ARM client for `subscription` talking to `server`, with a fixed token, the retry
    /// jitter seeded with `seed` and `clock` to sleep on (tests that look at the sleeps keep
    /// it).
    pub(crate) fn mock_client_in(
        server: &MockServer,
        subscription: &str,
        seed: u64,
        clock: Arc<FakeClock>,
    ) -> ArmClient {
        let cfg = AzureConfig {
            subscription_id: Some(subscription.into()),
            endpoints: AzureEndpoints {
                resource_manager: server.base_url.clone(),
                ..Default::default()
            },
            ..Default::default()
        };
        ArmClient::with_credential(
            cfg,
            StaticCredential::new("arm-token", Duration::from_secs(3600)),
        )
        .unwrap()
        .with_retry_policy(RetryPolicy::default().with_seed(seed).with_clock(clock))
    }

    #[tokio::test]
    async fn follows_next_link_to_the_end() {
        let server = MockServer::start().await;
        let next = server.url("/subscriptions/sub/providers/X/things?api-version=1&$skiptoken=1");
        server.push(Reply::json(200, json!({"value": [1, 2], "nextLink": next})));
        server.push(Reply::json(200, json!({"value": [3], "nextLink": ""})));
        let items: Vec<Value> = mock_client(&server)
            .list_all("/subscriptions/sub/providers/X/things", "1")
            .await
            .unwrap();
        assert_eq!(items, vec![json!(1), json!(2), json!(3)]);
        let reqs = server.requests();
        assert_eq!(reqs.len(), 2);
        assert_eq!(
            reqs[1].target, "/subscriptions/sub/providers/X/things?api-version=1&$skiptoken=1",
            "the link is followed as given, without a second api-version"
        );
    }

    #[tokio::test]
    async fn refuses_next_links_to_other_hosts() {
        let server = MockServer::start().await;
        server.push(Reply::json(
            200,
            json!({"value": [1], "nextLink": "https://elsewhere.example/steal?api-version=1"}),
        ));
        let err = mock_client(&server)
            .list_all::<Value>("/subscriptions/sub/providers/X/things", "1")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("another host"), "{err}");
        assert_eq!(server.requests().len(), 1);
    }

    #[tokio::test]
    async fn stops_on_a_repeated_next_link() {
        let server = MockServer::start().await;
        let next = server.url("/p?api-version=1&$skiptoken=1");
        for _ in 0..2 {
            server.push(Reply::json(200, json!({"value": [], "nextLink": next})));
        }
        let err = mock_client(&server)
            .list_all::<Value>("/p", "1")
            .await
            .unwrap_err();
        assert!(matches!(err, AzureError::Decode { .. }), "{err}");
        assert!(err.to_string().contains("same nextLink"), "{err}");
    }

    #[tokio::test]
    async fn health_report_list_404_means_no_reports_yet() {
        let server = MockServer::start().await;
        server.push(Reply::json(
            404,
            json!({"error": {"code": "NotFound", "message": "no reports"}}),
        ));
        let reports = mock_client(&server)
            .connector_health_reports("/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Security/securityConnectors/c")
            .await
            .unwrap();
        assert!(reports.is_empty());
        assert_eq!(
            server.requests()[0].target,
            "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Security/securityConnectors/c/providers/Microsoft.Security/healthReports?api-version=2023-05-01-preview"
        );
    }
}
