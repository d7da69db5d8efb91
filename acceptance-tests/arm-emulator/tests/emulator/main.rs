//! End-to-end tests of the emulator over real HTTPS on loopback, with a client trusting the
//! generated CA.

mod auth;
mod binary;
mod faults;
mod lro;
mod pricings;
mod security;
mod store;

use arm_emulator::{Config, Emulator, config::DEFAULT_CLIENT_ID, config::DEFAULT_CLIENT_SECRET};
use base64::Engine;
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{Value, json};

pub(crate) const API: &str = "api-version=2024-08-01-preview";

/// A minimal valid AWS security connector for `account`: location, environment and the free
/// Foundational CSPM offering.
pub(crate) fn connector_body(account: &str) -> Value {
    json!({
        "location": "westeurope",
        "properties": {
            "hierarchyIdentifier": account,
            "environmentName": "AWS",
            "environmentData": {"environmentType": "AwsAccount"},
            "offerings": [{
                "offeringType": "CspmMonitorAws",
                "nativeCloudConnection": {"cloudRoleArn": format!("arn:aws:iam::{account}:role/CspmMonitorAws")},
            }],
        },
    })
}

/// A running emulator plus a client that trusts its CA.
pub(crate) struct Env {
    pub(crate) emu: Emulator,
    pub(crate) http: reqwest::Client,
    pub(crate) _dir: tempfile::TempDir,
    pub(crate) token: String,
}

pub(crate) fn client_trusting(ca_pem: &str) -> reqwest::Client {
    let cert = reqwest::Certificate::from_pem(ca_pem.as_bytes())
        .unwrap_or_else(|e| panic!("CA PEM unreadable: {e}"));
    reqwest::Client::builder()
        .tls_certs_only([cert])
        .build()
        .unwrap_or_else(|e| panic!("client: {e}"))
}

pub(crate) async fn env_with(adjust: impl FnOnce(&mut Config)) -> Env {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let mut config = Config::new(dir.path());
    adjust(&mut config);
    let emu = arm_emulator::start(config)
        .await
        .unwrap_or_else(|e| panic!("start: {e}"));
    let http = client_trusting(emu.ca_pem());
    let mut env = Env {
        emu,
        http,
        _dir: dir,
        token: String::new(),
    };
    let (status, body) = env
        .token_with_secret(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
        .await;
    assert_eq!(status, 200, "{body}");
    env.token = body["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    env
}

pub(crate) async fn env() -> Env {
    env_with(|_| {}).await
}

pub(crate) async fn read(resp: Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("non-JSON body {text:?}: {e}"))
    };
    (status, body)
}

/// Claims of a JWT (no verification; test-side inspection only).
pub(crate) fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap_or_default();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap_or_default();
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

impl Env {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.emu.url())
    }

    pub(crate) fn sub(&self) -> String {
        format!("/subscriptions/{}", self.emu.info().subscription_id)
    }

    pub(crate) async fn token_form(&self, tenant: &str, form: &[(&str, &str)]) -> (u16, Value) {
        let resp = self
            .http
            .post(self.url(&format!("/{tenant}/oauth2/v2.0/token")))
            .form(form)
            .send()
            .await
            .unwrap_or_else(|e| panic!("token request: {e}"));
        read(resp).await
    }

    pub(crate) async fn token_with_secret(&self, id: &str, secret: &str) -> (u16, Value) {
        let tenant = self.emu.info().tenant_id.clone();
        self.token_form(
            &tenant,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", id),
                ("client_secret", secret),
                ("scope", "https://management.azure.com/.default"),
            ],
        )
        .await
    }

    /// An authenticated ARM request; `path` includes the query string.
    pub(crate) fn arm(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, self.url(path))
            .bearer_auth(&self.token)
    }

    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut rb = self.arm(method, path);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        read(rb.send().await.unwrap_or_else(|e| panic!("{path}: {e}"))).await
    }

    pub(crate) async fn admin(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut rb = self
            .http
            .request(method, self.url(&format!("/_emulator{path}")));
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        read(
            rb.send()
                .await
                .unwrap_or_else(|e| panic!("admin {path}: {e}")),
        )
        .await
    }

    /// Registers a namespace through the admin API (no polling).
    pub(crate) async fn registered(&self, ns: &str) {
        let (s, _) = self
            .admin(
                Method::PUT,
                &format!("/providers/{ns}"),
                Some(json!({"registrationState": "Registered"})),
            )
            .await;
        assert_eq!(s, 200);
    }

    pub(crate) async fn resource_group(&self, rg: &str) {
        let (s, b) = self
            .call(
                Method::PUT,
                &format!("{}/resourcegroups/{rg}?api-version=2021-04-01", self.sub()),
                Some(json!({"location": "westeurope"})),
            )
            .await;
        assert!(s == 201 || s == 200, "{s} {b}");
    }
}
