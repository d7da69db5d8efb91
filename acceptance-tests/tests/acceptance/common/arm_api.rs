//! Direct Azure Resource Manager calls against the emulator, as another tool or a portal user
//! would make them: to create what a scenario needs that the provider does not manage (resource
//! groups) and to change things out of band (pre-existing objects, drift).

use std::time::Duration;

use acceptance_tests::Emulators;
use serde_json::{Value, json};

/// api-version of resource group calls.
const RESOURCE_GROUPS_API: &str = "2021-04-01";
/// api-version of security connector calls.
pub(crate) const SECURITY_CONNECTORS_API: &str = "2024-08-01-preview";

/// An authenticated ARM client for the emulator's subscription.
pub(crate) struct ArmApi {
    http: reqwest::blocking::Client,
    base: String,
    subscription_id: String,
    token: String,
}

impl ArmApi {
    /// Logs in with the emulators' client-secret app.
    pub(crate) fn new(emulators: &Emulators) -> Self {
        let pem = std::fs::read(emulators.ca_cert_file()).expect("emulator CA file");
        let http = reqwest::blocking::Client::builder()
            .no_proxy()
            .tls_certs_only([reqwest::Certificate::from_pem(&pem).expect("PEM")])
            .timeout(Duration::from_secs(30))
            .build()
            .expect("HTTPS client");
        let base = emulators.arm_url().trim_end_matches('/').to_owned();
        let token: Value = http
            .post(format!(
                "{base}/{}/oauth2/v2.0/token",
                emulators.tenant_id()
            ))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", emulators.arm_client_id()),
                ("client_secret", emulators.arm_client_secret()),
                ("scope", "https://management.azure.com/.default"),
            ])
            .send()
            .expect("token request")
            .json()
            .expect("token JSON");
        let token = token["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no access token: {token}"))
            .to_owned();
        Self {
            http,
            base,
            subscription_id: emulators.subscription_id().to_owned(),
            token,
        }
    }

    /// `/subscriptions/<emulated subscription>`.
    pub(crate) fn subscription_path(&self) -> String {
        format!("/subscriptions/{}", self.subscription_id)
    }

    /// The id of connector `name` in resource group `rg`.
    pub(crate) fn connector_id(&self, rg: &str, name: &str) -> String {
        format!(
            "{}/resourceGroups/{rg}/providers/Microsoft.Security/securityConnectors/{name}",
            self.subscription_path()
        )
    }

    /// Sends one request; returns the status and the JSON body (null when empty).
    pub(crate) fn call(
        &self,
        method: &str,
        path: &str,
        api_version: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let url = format!("{}{path}?api-version={api_version}", self.base);
        let req = match method {
            "PUT" => self.http.put(&url),
            "DELETE" => self.http.delete(&url),
            "POST" => self.http.post(&url),
            _ => self.http.get(&url),
        }
        .bearer_auth(&self.token);
        let req = match body {
            Some(b) => req.json(b),
            None => req,
        };
        let resp = req.send().unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = resp.status().as_u16();
        let text = resp.text().unwrap_or_default();
        let json = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, json)
    }

    fn expect_ok(
        &self,
        method: &str,
        path: &str,
        api_version: &str,
        body: Option<&Value>,
    ) -> Value {
        let (status, json) = self.call(method, path, api_version, body);
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {json}"
        );
        json
    }

    /// Creates (or keeps) a resource group.
    pub(crate) fn resource_group(&self, name: &str, location: &str) {
        self.expect_ok(
            "PUT",
            &format!("{}/resourcegroups/{name}", self.subscription_path()),
            RESOURCE_GROUPS_API,
            Some(&json!({ "location": location })),
        );
    }

    /// A connector as ARM stores it, or `None`.
    pub(crate) fn connector(&self, id: &str) -> Option<Value> {
        match self.call("GET", id, SECURITY_CONNECTORS_API, None) {
            (200, body) => Some(body),
            (404, _) => None,
            (status, body) => panic!("GET {id}: {status} {body}"),
        }
    }

    /// Writes a connector out of band.
    pub(crate) fn put_connector(&self, id: &str, body: &Value) {
        self.expect_ok("PUT", id, SECURITY_CONNECTORS_API, Some(body));
    }

    /// Deletes a connector out of band.
    pub(crate) fn delete_connector(&self, id: &str) {
        self.expect_ok("DELETE", id, SECURITY_CONNECTORS_API, None);
    }
}

/// A minimal AWS connector body for `account`, as the portal would write one.
pub(crate) fn aws_connector_body(account: &str) -> Value {
    json!({
        "location": "westeurope",
        "properties": {
            "hierarchyIdentifier": account,
            "environmentName": "AWS",
            "environmentData": {"environmentType": "AwsAccount", "scanInterval": 4},
            "offerings": [{"offeringType": "CspmMonitorAws",
                "nativeCloudConnection": {"cloudRoleArn": format!("arn:aws:iam::{account}:role/CspmMonitorAws")}}]
        }
    })
}
