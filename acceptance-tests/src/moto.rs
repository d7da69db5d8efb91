//! moto, the AWS emulator, as a child process on a loopback port it binds itself, plus
//! direct queries that let tests verify remote objects without Terraform.
//!
//! moto runs through the project's launcher (`acceptance-tests/moto_ext/serve.py`),
//! which installs the extension closing moto's fidelity gaps (IAM OIDC client ids,
//! CloudFormation IAM resources, stack failures that roll back with resource events,
//! web-identity validation) and its admin API for fault injection and call counts
//! (`/_mcloud/...`).

use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use regex::Regex;

use crate::paths::Paths;

/// How long moto may take to answer after start (it imports every service
/// on first use; a loaded 2-core machine needs several seconds).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Where a signed Query call is answered: the region of its credential scope and, when set,
/// the account moto answers as (its `x-moto-account-id` header), so a member account of an
/// organization is read without credentials of its own.
#[derive(Debug, Clone, Copy)]
pub(crate) struct QueryScope<'a> {
    region: &'a str,
    account: Option<&'a str>,
}

impl<'a> QueryScope<'a> {
    /// `region` of the default account.
    pub(crate) fn region(region: &'a str) -> Self {
        Self {
            region,
            account: None,
        }
    }

    /// `us-east-1` of `account`.
    pub(crate) fn account(account: &'a str) -> Self {
        Self {
            region: "us-east-1",
            account: Some(account),
        }
    }

    /// ` as <account>` for messages, empty for the default account.
    fn as_account(&self) -> String {
        self.account.map(|a| format!(" as {a}")).unwrap_or_default()
    }
}

/// A running moto server, stopped on drop.
pub struct Moto {
    child: Child,
    url: String,
    http: reqwest::blocking::Client,
}

impl Moto {
    /// Starts moto on a port the system picks when moto binds it, so two tests starting
    /// moto at once can never end up on the same port; a moto that dies while starting is
    /// started again (three attempts).
    pub fn start(paths: &Paths, log_dir: &Path) -> Self {
        paths.require_tools();
        let http = reqwest::blocking::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_else(|e| panic!("cannot build an HTTP client: {e}"));
        let log = log_dir.join("moto.log");
        let port_file = log_dir.join("moto.port");
        for _attempt in 0..3 {
            let _ = std::fs::remove_file(&port_file);
            let log_file = File::create(&log)
                .unwrap_or_else(|e| panic!("cannot create {}: {e}", log.display()));
            let stderr = log_file
                .try_clone()
                .unwrap_or_else(|e| panic!("cannot reopen {}: {e}", log.display()));
            let mut child = Command::new(moto_python(paths))
                .arg(launcher(paths))
                .args(["-H", "127.0.0.1", "--port-file"])
                .arg(&port_file)
                // AWS-managed policies exist in every real account; templates attach them.
                .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
                .stdin(Stdio::null())
                .stdout(log_file)
                .stderr(stderr)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start moto_server: {e}"));
            let deadline = Instant::now() + START_TIMEOUT;
            if let Some(port) = wait_for_port(&port_file, &mut child, deadline) {
                let url = format!("http://127.0.0.1:{port}");
                if wait_ready(&http, &url, &mut child, deadline) {
                    return Self { child, url, http };
                }
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        let tail = std::fs::read_to_string(&log).unwrap_or_default();
        panic!("moto did not start; its log:\n{tail}");
    }

    /// Base URL, used as the endpoint for every AWS service.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Sends an AWS Query-protocol call (IAM, STS, CloudFormation) and
    /// returns the XML body; panics on an error status. moto does not check
    /// signatures, but it picks the service from the credential scope of the
    /// `Authorization` header, so one is sent.
    pub fn query(&self, service: &str, action: &str, params: &[(&str, &str)]) -> String {
        let (status, text) = self.query_status(service, action, params);
        assert!(
            (200..300).contains(&status),
            "moto {service} {action}: {status}\n{text}"
        );
        text
    }

    /// Like [`Moto::query`], but returns the status and body of any answer,
    /// for tests that expect an error.
    pub fn query_status(
        &self,
        service: &str,
        action: &str,
        params: &[(&str, &str)],
    ) -> (u16, String) {
        self.signed_query(service, QueryScope::region("us-east-1"), action, params)
    }

    /// A Query-protocol call in `region` (regional services such as EC2 keep each region
    /// apart); panics unless moto answers 2xx.
    pub fn query_in(
        &self,
        service: &str,
        region: &str,
        action: &str,
        params: &[(&str, &str)],
    ) -> String {
        let (status, text) = self.signed_query(service, QueryScope::region(region), action, params);
        assert!(
            (200..300).contains(&status),
            "moto {service} {action} in {region}: {status}\n{text}"
        );
        text
    }

    /// A Query-protocol call in `scope`, signed as moto accepts; the status and body, whatever
    /// the status.
    pub(crate) fn signed_query(
        &self,
        service: &str,
        scope: QueryScope<'_>,
        action: &str,
        params: &[(&str, &str)],
    ) -> (u16, String) {
        let version = match service {
            "ec2" => "2016-11-15",
            "iam" => "2010-05-08",
            "sts" => "2011-06-15",
            "cloudformation" => "2010-05-15",
            other => panic!("no Query API version known for service {other}"),
        };
        let mut form: Vec<(&str, &str)> = vec![("Action", action), ("Version", version)];
        form.extend_from_slice(params);
        let body = form
            .iter()
            .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let region = scope.region;
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential=AKIAHARNESS/20260101/{region}/{service}/aws4_request, SignedHeaders=host, Signature=0"
        );
        let mut request = self
            .http
            .post(format!("{}/", self.url))
            .header("Authorization", auth)
            .header("Content-Type", "application/x-www-form-urlencoded");
        if let Some(account) = scope.account {
            request = request.header("x-moto-account-id", account);
        }
        let resp = request
            .body(body)
            .send()
            .unwrap_or_else(|e| panic!("moto {service} {action}{}: {e}", scope.as_account()));
        let status = resp.status().as_u16();
        (status, resp.text().unwrap_or_default())
    }

    /// Adds a fault rule through the extension's admin API, e.g.
    /// `{"service": "iam", "action": "GetRole", "count": 2}`; returns the rule.
    pub fn add_fault(&self, rule: serde_json::Value) -> serde_json::Value {
        self.admin(reqwest::Method::POST, "faults", Some(rule))
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.admin(reqwest::Method::DELETE, "faults", None);
    }

    /// The fault rules with their remaining counts and hits.
    pub fn faults(&self) -> serde_json::Value {
        self.admin(reqwest::Method::GET, "faults", None)
    }

    /// Calls received per `service:Action` (faulted calls included).
    pub fn calls(&self) -> serde_json::Value {
        self.admin(reqwest::Method::GET, "calls", None)
    }

    /// Calls received for one `service:Action`.
    pub fn call_count(&self, service: &str, action: &str) -> u64 {
        self.calls()[format!("{service}:{action}")]
            .as_u64()
            .unwrap_or(0)
    }

    /// Resets the call counters.
    pub fn reset_calls(&self) {
        self.admin(reqwest::Method::DELETE, "calls", None);
    }

    /// Sets the extension's model of AWS rate limits and StackSet deployment times (see its
    /// `rate_model` module); `{}` turns it off. Returns the model.
    pub fn set_rate_model(&self, model: serde_json::Value) -> serde_json::Value {
        self.admin(reqwest::Method::PUT, "rate-model", Some(model))
    }

    /// The rate model, the calls it refused per `service:Action`, and the StackSet operations
    /// it timed (with their modelled seconds, final status and failed results).
    pub fn rate_model(&self) -> serde_json::Value {
        self.admin(reqwest::Method::GET, "rate-model", None)
    }

    /// An AWS Organizations call (JSON protocol) as the harness's account; panics unless moto
    /// answers 2xx. Returns the answer.
    pub fn organizations(&self, action: &str, body: serde_json::Value) -> serde_json::Value {
        let auth = "AWS4-HMAC-SHA256 Credential=AKIAHARNESS/20260101/us-east-1/organizations/aws4_request, SignedHeaders=host, Signature=0";
        let resp = self
            .http
            .post(format!("{}/", self.url))
            .header("Authorization", auth)
            .header("Content-Type", "application/x-amz-json-1.1")
            .header(
                "X-Amz-Target",
                format!("AWSOrganizationsV20161128.{action}"),
            )
            .body(body.to_string())
            .send()
            .unwrap_or_else(|e| panic!("moto organizations {action}: {e}"));
        let status = resp.status();
        let text = resp.text().unwrap_or_default();
        assert!(
            status.is_success(),
            "moto organizations {action}: {status}\n{text}"
        );
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
    }

    /// The extension's self-check report (`{"ok": true, ...}`).
    pub fn self_check(&self) -> serde_json::Value {
        self.admin(reqwest::Method::GET, "self-check", None)
    }

    fn admin(
        &self,
        method: reqwest::Method,
        what: &str,
        body: Option<serde_json::Value>,
    ) -> serde_json::Value {
        let mut req = self
            .http
            .request(method.clone(), format!("{}/_mcloud/{what}", self.url));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req
            .send()
            .unwrap_or_else(|e| panic!("moto admin {method} {what}: {e}"));
        let status = resp.status();
        let text = resp.text().unwrap_or_default();
        assert!(
            status.is_success(),
            "moto admin {method} {what}: {status}\n{text}"
        );
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("moto admin {what}: not JSON ({e}): {text}"))
    }

    /// Client ids (audiences) of an OIDC provider.
    pub fn iam_oidc_client_ids(&self, arn: &str) -> Vec<String> {
        let xml = self.query(
            "iam",
            "GetOpenIDConnectProvider",
            &[("OpenIDConnectProviderArn", arn)],
        );
        let list = xml
            .split_once("<ClientIDList>")
            .and_then(|(_, rest)| rest.split_once("</ClientIDList>"))
            .map(|(inner, _)| inner)
            .unwrap_or("");
        xml_values(list, "member")
    }

    /// A role's trust policy, decoded.
    pub fn iam_role_trust_policy(&self, role: &str) -> String {
        let xml = self.query("iam", "GetRole", &[("RoleName", role)]);
        let raw = xml_values(&xml, "AssumeRolePolicyDocument")
            .into_iter()
            .next()
            .unwrap_or_default();
        percent_decode(&raw)
    }

    /// ARNs of the managed policies attached to a role.
    pub fn iam_attached_policy_arns(&self, role: &str) -> Vec<String> {
        let xml = self.query("iam", "ListAttachedRolePolicies", &[("RoleName", role)]);
        xml_values(&xml, "PolicyArn")
    }

    /// Names of a role's inline policies.
    pub fn iam_inline_policy_names(&self, role: &str) -> Vec<String> {
        let xml = self.query("iam", "ListRolePolicies", &[("RoleName", role)]);
        xml_values(&xml, "member")
    }

    /// Names of all IAM roles.
    pub fn iam_role_names(&self) -> Vec<String> {
        xml_values(
            &self.query("iam", "ListRoles", &[("MaxItems", "1000")]),
            "RoleName",
        )
    }

    /// ARNs of all IAM OIDC identity providers.
    pub fn iam_oidc_provider_arns(&self) -> Vec<String> {
        xml_values(&self.query("iam", "ListOpenIDConnectProviders", &[]), "Arn")
    }

    /// Names of all CloudFormation stacks that are not deleted.
    pub fn cloudformation_stack_names(&self) -> Vec<String> {
        let xml = self.query("cloudformation", "DescribeStacks", &[]);
        xml_values(&xml, "StackName")
    }

    /// The account moto reports for the caller (STS GetCallerIdentity).
    pub fn account_id(&self) -> String {
        let xml = self.query("sts", "GetCallerIdentity", &[]);
        xml_values(&xml, "Account")
            .into_iter()
            .next()
            .unwrap_or_default()
    }

    /// Forgets every emulated AWS object.
    pub fn reset(&self) {
        let resp = self
            .http
            .post(format!("{}/moto-api/reset", self.url))
            .send()
            .unwrap_or_else(|e| panic!("moto reset: {e}"));
        assert!(resp.status().is_success(), "moto reset: {}", resp.status());
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The Python of the venv `scripts/tools.sh` installed moto into.
fn moto_python(paths: &Paths) -> std::path::PathBuf {
    paths.tools_dir.join("venv").join("bin").join("python")
}

/// The launcher that installs the project's moto extension, then serves.
fn launcher(paths: &Paths) -> std::path::PathBuf {
    paths
        .root
        .join("acceptance-tests")
        .join("moto_ext")
        .join("serve.py")
}

/// Decodes `%XX` escapes (IAM URL-encodes policy documents).
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The port the launcher bound, once it has written it to `port_file`; `None` when moto
/// exits or `deadline` passes first.
fn wait_for_port(port_file: &Path, child: &mut Child, deadline: Instant) -> Option<u16> {
    while Instant::now() < deadline {
        if let Some(port) = std::fs::read_to_string(port_file)
            .ok()
            .and_then(|text| text.trim().parse().ok())
        {
            return Some(port);
        }
        if !matches!(child.try_wait(), Ok(None)) {
            return None;
        }
        thread::sleep(Duration::from_millis(50));
    }
    None
}

fn wait_ready(
    http: &reqwest::blocking::Client,
    url: &str,
    child: &mut Child,
    deadline: Instant,
) -> bool {
    while Instant::now() < deadline {
        if !matches!(child.try_wait(), Ok(None)) {
            return false;
        }
        if let Ok(resp) = http
            .get(format!("{url}/moto-api/"))
            .timeout(Duration::from_secs(2))
            .send()
            && !resp.status().is_server_error()
        {
            return true;
        }
        thread::sleep(Duration::from_millis(200));
    }
    false
}

/// The text of every `<tag>…</tag>` element, in document order.
pub(crate) fn xml_values(xml: &str, tag: &str) -> Vec<String> {
    let re = Regex::new(&format!("<{0}>([^<]*)</{0}>", regex::escape(tag)))
        .unwrap_or_else(|e| panic!("bad tag {tag}: {e}"));
    re.captures_iter(xml).map(|c| unescape_xml(&c[1])).collect()
}

fn unescape_xml(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

pub(crate) fn form_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b));
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

impl Moto {
    /// Calls `AssumeRoleWithWebIdentity` as Defender for Cloud would: a token from `issuer`
    /// for `audience`, and `session` as the role session name. Returns status and body.
    pub fn assume_role_with_web_identity(
        &self,
        role_arn: &str,
        session: &str,
        issuer: &str,
        audience: &str,
    ) -> (u16, String) {
        self.query_status(
            "sts",
            "AssumeRoleWithWebIdentity",
            &[
                ("RoleArn", role_arn),
                ("RoleSessionName", session),
                ("WebIdentityToken", &web_identity_token(issuer, audience)),
            ],
        )
    }
}

/// An unsigned JWT from `issuer` for `audience`: the extension checks claims, not signatures
/// (the emulated issuer has no keys).
pub fn web_identity_token(issuer: &str, audience: &str) -> String {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let part = |v: serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
    format!(
        "{}.{}.{}",
        part(serde_json::json!({"alg": "RS256", "typ": "JWT"})),
        part(
            serde_json::json!({"iss": issuer, "aud": audience, "sub": "app", "exp": 4_102_444_800u64})
        ),
        URL_SAFE_NO_PAD.encode(b"signature-not-checked")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_values_extracts_and_unescapes() {
        let xml = "<Roles><member><RoleName>a&amp;b</RoleName></member><member><RoleName>c</RoleName></member></Roles>";
        assert_eq!(xml_values(xml, "RoleName"), ["a&b", "c"]);
        assert!(xml_values(xml, "Arn").is_empty());
    }

    #[test]
    fn percent_decoding_handles_escapes_and_stray_percent() {
        assert_eq!(percent_decode("%7B%22a%22%3A1%7D"), r#"{"a":1}"#);
        assert_eq!(percent_decode("100%"), "100%");
    }

    #[test]
    fn form_encoding_escapes_reserved_characters() {
        assert_eq!(form_encode("a b/c=d"), "a%20b%2Fc%3Dd");
    }
}
