//! What the scenarios that talk to moto directly (no Terraform, no ARM emulator) share: a
//! moto of their own started through the project's launcher, Organizations' JSON protocol,
//! and reading values out of the Query protocol's XML.

use acceptance_tests::{Moto, Paths};
use serde_json::Value;

/// A moto of the test's own; the temp dir holds its log and must live as long as it.
pub(crate) fn start() -> (Moto, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    (Moto::start(&Paths::from_env(), dir.path()), dir)
}

/// [`start`] plus a runtime for the provider's async clients.
pub(crate) fn start_with_runtime() -> (Moto, tempfile::TempDir, tokio::runtime::Runtime) {
    let (moto, dir) = start();
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    (moto, dir, rt)
}

/// Organizations through its JSON protocol: `(status, body)` of `action` with `body`
/// (`Null` when the answer is not JSON). moto picks the service from the credential scope,
/// so a dummy signature is sent.
pub(crate) fn organizations_call(moto: &Moto, action: &str, body: Value) -> (u16, Value) {
    let resp = reqwest::blocking::Client::builder()
        .no_proxy()
        .build()
        .expect("http client")
        .post(format!("{}/", moto.url()))
        .header("X-Amz-Target", format!("AWSOrganizationsV20161128.{action}"))
        .header("Content-Type", "application/x-amz-json-1.1")
        .header(
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=AKIATEST/20260101/us-east-1/organizations/aws4_request, SignedHeaders=host, Signature=0",
        )
        .body(body.to_string())
        .send()
        .expect("organizations call");
    let status = resp.status().as_u16();
    let text = resp.text().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The text of every `<tag>` element, in order.
pub(crate) fn xml_values(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    xml.split(&open)
        .skip(1)
        .filter_map(|rest| rest.split(&close).next())
        .map(str::to_owned)
        .collect()
}
