//! The project's ARM emulator as a child process, and its admin API
//! (`/_emulator/...`), which tests use to count calls, inspect and reset
//! emulated resources and switch faults on.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::paths::Paths;

const START_TIMEOUT: Duration = Duration::from_secs(30);

/// Identities the emulator is started with.
#[derive(Debug, Clone, Default)]
pub(crate) struct ArmIdentities {
    pub(crate) tenant_id: String,
    pub(crate) subscription_id: String,
    /// `(client id, secret)` pairs accepted for client credentials.
    pub(crate) clients: Vec<(String, String)>,
    /// `(client id, issuer, subject)` federated credentials for OIDC.
    pub(crate) federated: Vec<(String, String, String)>,
    /// moto's URL, asked by connector health (`--aws-endpoint`).
    pub(crate) aws_endpoint: Option<String>,
    /// Keep the world in a state file, so [`ArmEmulator::restart`] finds it again.
    pub(crate) persistent: bool,
}

/// One request from the emulator's request log.
#[derive(Debug, Clone)]
pub struct ArmRequest {
    /// HTTP method, upper case.
    pub method: String,
    /// Path (with query string when the emulator logs one).
    pub path: String,
    /// Response status, when logged.
    pub status: Option<u16>,
    /// The log entry as the emulator wrote it.
    pub raw: Value,
}

impl ArmRequest {
    fn from_value(raw: Value) -> Self {
        let text = |keys: &[&str]| {
            keys.iter()
                .find_map(|k| raw.get(*k).and_then(Value::as_str))
                .unwrap_or_default()
                .to_string()
        };
        Self {
            method: text(&["method"]).to_ascii_uppercase(),
            path: text(&["path", "uri", "url"]),
            status: ["status", "status_code"]
                .iter()
                .find_map(|k| raw.get(*k).and_then(Value::as_u64))
                .and_then(|s| u16::try_from(s).ok()),
            raw,
        }
    }
}

/// A running ARM emulator, stopped on drop.
pub struct ArmEmulator {
    child: std::sync::Mutex<Child>,
    /// Binary, arguments (without `--listen`) and state directory, to start it again.
    launch: (PathBuf, Vec<String>, PathBuf),
    url: String,
    ca_cert_file: PathBuf,
    ids: ArmIdentities,
    http: reqwest::blocking::Client,
}

impl ArmEmulator {
    /// Starts the emulator with `ids` and state in `state_dir`, waiting for
    /// it to write `emulator.json`.
    pub(crate) fn start(paths: &Paths, state_dir: &Path, ids: ArmIdentities) -> Self {
        let bin = paths.arm_emulator_bin();
        paths.require(
            &bin,
            "run `cargo build -p arm-emulator` (scripts/test.sh does)",
        );
        std::fs::create_dir_all(state_dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", state_dir.display()));
        let mut args: Vec<String> = vec![
            "--state-dir".into(),
            state_dir.to_string_lossy().into_owned(),
            "--tenant-id".into(),
            ids.tenant_id.clone(),
            "--subscription-id".into(),
            ids.subscription_id.clone(),
        ];
        for (id, secret) in &ids.clients {
            args.extend(["--client".into(), format!("{id}={secret}")]);
        }
        for (id, issuer, subject) in &ids.federated {
            args.extend(["--federated".into(), format!("{id}={issuer}|{subject}")]);
        }
        if let Some(url) = &ids.aws_endpoint {
            args.extend(["--aws-endpoint".into(), url.clone()]);
        }
        if ids.persistent {
            let file = state_dir.join("world.json");
            args.extend(["--state-file".into(), file.to_string_lossy().into_owned()]);
        }
        let launch = (bin, args, state_dir.to_path_buf());
        let (child, info) = spawn(&launch, "127.0.0.1:0");
        let field = |k: &str| info.get(k).and_then(Value::as_str).map(str::to_string);
        let (Some(url), Some(ca)) = (field("url"), field("ca_cert_file")) else {
            panic!("emulator.json lacks url or ca_cert_file: {info}");
        };
        let ca_cert_file = PathBuf::from(ca);
        let http = https_client(&ca_cert_file);
        Self {
            child: std::sync::Mutex::new(child),
            launch,
            url: url.trim_end_matches('/').to_string(),
            ca_cert_file,
            ids,
            http,
        }
    }

    /// Kills the emulator without warning (SIGKILL, as a crash would) and starts it again on the
    /// same address. Only an emulator started with a state file keeps its resources; clients
    /// see refused connections while it is down.
    pub fn restart(&self, down_for: Duration) {
        let mut child = self.child.lock().unwrap_or_else(|p| p.into_inner());
        let _ = child.kill();
        let _ = child.wait();
        let _ = std::fs::remove_file(self.launch.2.join("emulator.json"));
        thread::sleep(down_for);
        let listen = self.url.trim_start_matches("https://").to_string();
        let (new_child, _) = spawn(&self.launch, &listen);
        *child = new_child;
    }

    /// Base URL (https), for both Resource Manager and the token endpoint.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// PEM file of the emulator's CA.
    pub fn ca_cert_file(&self) -> &Path {
        &self.ca_cert_file
    }

    /// Tenant the emulator serves.
    pub fn tenant_id(&self) -> &str {
        &self.ids.tenant_id
    }

    /// Subscription the emulator serves.
    pub fn subscription_id(&self) -> &str {
        &self.ids.subscription_id
    }

    /// GET `/_emulator/health`; true on 2xx.
    pub fn healthy(&self) -> bool {
        self.http
            .get(self.admin_url("health"))
            .send()
            .is_ok_and(|r| r.status().is_success())
    }

    /// The request log, oldest first.
    pub fn requests(&self) -> Vec<ArmRequest> {
        list(self.admin_json("GET", "requests", None), "requests")
            .into_iter()
            .map(ArmRequest::from_value)
            .collect()
    }

    /// Empties the request log (before the step whose calls a test counts).
    pub fn clear_requests(&self) {
        self.admin_json("DELETE", "requests", None);
    }

    /// Every stored ARM resource, as the emulator reports it.
    pub fn resources(&self) -> Vec<Value> {
        list(self.admin_json("GET", "resources", None), "resources")
    }

    /// Forgets stored resources, faults and the request log.
    pub fn reset(&self) {
        self.admin_json("POST", "reset", None);
    }

    /// Adds a fault rule, or an array of them; returns `{"ids": [...]}`. Fields: `method`,
    /// `path_contains` (case-insensitive substring), `skip` (matches let through first),
    /// `count` (times it fires; forever when absent), `every` (fire on every n-th match),
    /// `status` (+ `retry_after`, seconds or HTTP date, and `error {code, message}`),
    /// `delay_ms` (slow answer; alone it passes the request on), `drop` (close the connection
    /// unprocessed) or `drop_after` (process, then close without the answer).
    pub fn add_fault(&self, fault: Value) -> Value {
        self.admin_json("POST", "faults", Some(fault))
    }

    /// A burst of `count` 429 answers with `Retry-After: retry_after_secs` on requests whose
    /// method is `method` (any when `None`) and whose path contains `path_contains`.
    pub fn throttle(
        &self,
        method: Option<&str>,
        path_contains: &str,
        count: u32,
        retry_after_secs: u32,
    ) {
        let mut rule = serde_json::json!({
            "path_contains": path_contains, "count": count, "status": 429,
            "retry_after": retry_after_secs.to_string(),
        });
        if let Some(m) = method {
            rule["method"] = Value::from(m);
        }
        self.add_fault(rule);
    }

    /// The fault rules with how often each fired.
    pub fn faults(&self) -> Vec<Value> {
        list(self.admin_json("GET", "faults", None), "faults")
    }

    /// Sets the emulator's model of ARM's subscription request limits (token buckets for
    /// reads, writes and deletes, and a random share of 429s), e.g.
    /// `{"writes": {"rate": 10, "burst": 200}, "random_share": 0.1, "seed": 1}`; `{}` turns
    /// it off. Returns the model with its refusal counts.
    pub fn set_throttle(&self, model: Value) -> Value {
        self.admin_json("PUT", "throttle", Some(model))
    }

    /// The throttling model and how many requests each bucket refused.
    pub fn throttle_report(&self) -> Value {
        self.admin_json("GET", "throttle", None)
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.admin_json("DELETE", "faults", None);
    }

    /// Request log entries selected by admin-API query parameters, e.g.
    /// `[("method", "PUT"), ("path_contains", "securityConnectors"), ("writes", "true"),
    /// ("fault", "false"), ("api_version", "2024-08-01-preview")]`.
    pub fn requests_where(&self, filters: &[(&str, &str)]) -> Vec<ArmRequest> {
        let query: String = filters
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        list(
            self.admin_json("GET", &format!("requests?{query}"), None),
            "requests",
        )
        .into_iter()
        .map(ArmRequest::from_value)
        .collect()
    }

    /// Write calls (PUT, PATCH, DELETE, POST under `/subscriptions/`) not answered by an injected
    /// fault, per lower-case request path and method:
    /// `{"total": N, "by_resource": {"/subscriptions/.../securityconnectors/c": {"PUT": 1}}}`.
    pub fn write_counts(&self, path_contains: Option<&str>) -> Value {
        let what = match path_contains {
            Some(p) => format!("write-counts?path_contains={}", encode(p)),
            None => "write-counts".to_string(),
        };
        self.admin_json("GET", &what, None)
    }

    /// Total of [`ArmEmulator::write_counts`].
    pub fn write_count(&self, path_contains: Option<&str>) -> u64 {
        self.write_counts(path_contains)["total"]
            .as_u64()
            .unwrap_or(0)
    }

    /// Health of a security connector (full resource id), evaluated now against moto:
    /// `{"status": "Healthy" | "NotHealthy" | "NotApplicable", "value": [health reports]}`,
    /// one `Microsoft.Security/healthReports` per IAM role, with `properties.status.code` and
    /// `properties.issues[].issueKey`. Read through the admin API, so it is not in the request
    /// log (it does call moto's IAM and STS, which moto's call counters see).
    pub fn connector_health(&self, connector_id: &str) -> Value {
        let id = connector_id.trim_start_matches('/');
        self.admin_json("GET", &format!("connector-health/{id}"), None)
    }

    /// Points connector health at another AWS endpoint, or at none (`None`).
    pub fn set_aws_endpoint(&self, url: Option<&str>) {
        self.admin_json(
            "PUT",
            "settings",
            Some(serde_json::json!({"aws_endpoint": url.unwrap_or("")})),
        );
    }

    /// An ARM call as the first client-credentials app (a fresh token each time): for tests
    /// that create or delete objects behind Terraform's back. `path` starts with
    /// `/subscriptions/` and includes the query. Returns the status and the JSON body (`Null`
    /// when empty).
    pub fn arm_call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let token = self.token();
        let url = format!("{}{path}", self.url);
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .unwrap_or_else(|e| panic!("bad method {method}: {e}"));
        let mut req = self.http.request(method.clone(), &url).bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = resp.status().as_u16();
        let text = resp.text().unwrap_or_default();
        let body = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, body)
    }

    /// Creates (or updates) resource group `name` in `location` through ARM.
    pub fn create_resource_group(&self, name: &str, location: &str) {
        let path = format!(
            "/subscriptions/{}/resourcegroups/{name}?api-version=2021-04-01",
            self.ids.subscription_id
        );
        let (status, body) = self.arm_call(
            "PUT",
            &path,
            Some(serde_json::json!({"location": location})),
        );
        assert!(
            status == 200 || status == 201,
            "creating resource group {name}: {status} {body}"
        );
    }

    fn token(&self) -> String {
        let (id, secret) = self
            .ids
            .clients
            .first()
            .unwrap_or_else(|| panic!("the emulator was started without a client"));
        let url = format!("{}/{}/oauth2/v2.0/token", self.url, self.ids.tenant_id);
        let resp = self
            .http
            .post(&url)
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", id.as_str()),
                ("client_secret", secret.as_str()),
                ("scope", "https://management.azure.com/.default"),
            ])
            .send()
            .unwrap_or_else(|e| panic!("token request: {e}"));
        let body: Value = resp
            .json()
            .unwrap_or_else(|e| panic!("token response is not JSON: {e}"));
        body["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no access_token in the token response"))
            .to_string()
    }

    /// A namespace's registration state on the emulated subscription, read through the admin
    /// API (so it does not count as a provider call).
    pub fn provider_state(&self, namespace: &str) -> String {
        let all = self.admin_json("GET", "providers", None);
        let items = all
            .get("value")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        items
            .iter()
            .find(|p| {
                p.get("namespace")
                    .and_then(Value::as_str)
                    .is_some_and(|n| n.eq_ignore_ascii_case(namespace))
            })
            .and_then(|p| p.get("registrationState").and_then(Value::as_str))
            .unwrap_or_else(|| panic!("namespace {namespace} not in the emulator: {all}"))
            .to_string()
    }

    /// Sets a namespace's registration state out of band (for requires-import and disappears
    /// tests).
    pub fn set_provider_state(&self, namespace: &str, state: &str) {
        self.admin_json(
            "PUT",
            &format!("providers/{namespace}"),
            Some(serde_json::json!({ "registrationState": state })),
        );
    }

    /// A Defender plan (`Microsoft.Security/pricings/{name}`) on the emulated subscription, as
    /// GET answers it (every plan is `Free` until switched on). Read through the admin API, so
    /// it is not in the request log and needs no registration.
    pub fn pricing(&self, name: &str) -> Value {
        self.admin_json("GET", &format!("pricings/{name}"), None)
    }

    /// `(tier, sub-plan)` of a Defender plan, e.g. `("Standard", Some("P2"))`.
    pub fn pricing_tier(&self, name: &str) -> (String, Option<String>) {
        let p = self.pricing(name);
        let text = |k: &str| p["properties"][k].as_str().map(str::to_string);
        (text("pricingTier").unwrap_or_default(), text("subPlan"))
    }

    /// Sets a Defender plan out of band, as someone in the portal would (validated like a PUT;
    /// not in the request log).
    pub fn set_pricing(&self, name: &str, tier: &str, sub_plan: Option<&str>) -> Value {
        let mut properties = serde_json::json!({ "pricingTier": tier });
        if let Some(p) = sub_plan {
            properties["subPlan"] = Value::from(p);
        }
        self.admin_json(
            "PUT",
            &format!("pricings/{name}"),
            Some(serde_json::json!({ "properties": properties })),
        )
    }

    /// Gives the first client-credentials app exactly these built-in roles on the subscription
    /// (`Owner`, `Contributor`, `Reader`, `User Access Administrator`); it is Owner until then.
    pub fn set_caller_roles(&self, roles: &[&str]) {
        let (id, _) = self
            .ids
            .clients
            .first()
            .unwrap_or_else(|| panic!("the emulator was started without a client"));
        self.admin_json(
            "PUT",
            &format!("roles/{id}"),
            Some(serde_json::json!({ "roles": roles })),
        );
    }

    fn admin_url(&self, what: &str) -> String {
        format!("{}/_emulator/{what}", self.url)
    }

    fn admin_json(&self, method: &str, what: &str, body: Option<Value>) -> Value {
        let url = self.admin_url(what);
        let req = match method {
            "GET" => self.http.get(&url),
            "DELETE" => self.http.delete(&url),
            "PUT" => self.http.put(&url),
            _ => self.http.post(&url),
        };
        let req = match body {
            Some(b) => req.json(&b),
            None => req,
        };
        let resp = req.send().unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = resp.status();
        let text = resp.text().unwrap_or_default();
        assert!(status.is_success(), "{method} {url}: {status}\n{text}");
        if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        }
    }
}

impl Drop for ArmEmulator {
    fn drop(&mut self) {
        let child = self.child.get_mut().unwrap_or_else(|p| p.into_inner());
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Starts the emulator listening on `listen` and waits for its `emulator.json`.
fn spawn((bin, args, state_dir): &(PathBuf, Vec<String>, PathBuf), listen: &str) -> (Child, Value) {
    let log = state_dir.join("arm-emulator.log");
    let log_file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", log.display()));
    let mut child = Command::new(bin)
        .args(["--listen", listen])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log_file)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let ready_file = state_dir.join("emulator.json");
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        // Written atomically, so a parse failure means "not yet".
        if let Some(info) = std::fs::read_to_string(&ready_file)
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        {
            return (child, info);
        }
        let exited = !matches!(child.try_wait(), Ok(None));
        if exited || Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let tail = std::fs::read_to_string(&log).unwrap_or_default();
            panic!("arm-emulator did not become ready; its log:\n{tail}");
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// Percent-encodes a query value.
fn encode(v: &str) -> String {
    let mut out = String::new();
    for b in v.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(char::from(b));
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A client that trusts only the emulator's CA and ignores proxies.
fn https_client(ca_file: &Path) -> reqwest::blocking::Client {
    let pem =
        std::fs::read(ca_file).unwrap_or_else(|e| panic!("cannot read {}: {e}", ca_file.display()));
    let cert = reqwest::Certificate::from_pem(&pem)
        .unwrap_or_else(|e| panic!("{} is not a PEM certificate: {e}", ca_file.display()));
    reqwest::blocking::Client::builder()
        .no_proxy()
        .tls_certs_only([cert])
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap_or_else(|e| panic!("cannot build an HTTPS client: {e}"))
}

/// Accepts a bare array or an object wrapping it under `key` or `value`.
fn list(v: Value, key: &str) -> Vec<Value> {
    match v {
        Value::Array(items) => items,
        Value::Object(mut map) => match map.remove(key).or_else(|| map.remove("value")) {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn request_log_entries_parse_with_alternative_keys() {
        let r = ArmRequest::from_value(
            json!({"method": "put", "uri": "/subscriptions/x?api-version=1", "status": 201}),
        );
        assert_eq!(r.method, "PUT");
        assert_eq!(r.path, "/subscriptions/x?api-version=1");
        assert_eq!(r.status, Some(201));
    }

    #[test]
    fn lists_accept_bare_and_wrapped_arrays() {
        assert_eq!(list(json!([1, 2]), "requests").len(), 2);
        assert_eq!(list(json!({"requests": [1]}), "requests").len(), 1);
        assert_eq!(list(json!({"value": [1, 2, 3]}), "resources").len(), 3);
        assert!(list(json!({"other": 1}), "requests").is_empty());
    }
}
