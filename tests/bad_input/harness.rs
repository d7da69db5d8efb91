//! The bad-input corpus runner: reads the case files, drives the provider in-process over the
//! plugin protocol, and checks each case's diagnostic. The provider is configured against a
//! loopback listener that only counts connections, so any remote call a case makes is seen.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Deserialize;
use serde_json::Value as Json;
use terraform_provider_multicloud::protocol::{Number, Provider as _, Type, Value, json, msgpack};
use terraform_provider_multicloud::resources::{MulticloudProvider, provider_schema};
use tokio::net::TcpListener;

use super::support::client::pb::tfplugin6 as pb;

/// Which configuration a case file is about.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Kind {
    /// The `provider "multicloud"` block.
    Provider,
    /// A managed resource.
    Resource,
    /// A data source.
    DataSource,
}

/// The RPC a case goes through.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Rpc {
    /// ValidateProviderConfig / ValidateResourceConfig / ValidateDataResourceConfig.
    #[default]
    Validate,
    /// PlanResourceChange (create), on the configured provider.
    Plan,
    /// ConfigureProvider, on a fresh provider.
    Configure,
}

/// How the configuration travels.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Wire {
    /// msgpack encoded under the schema's type, as Terraform sends it.
    #[default]
    Typed,
    /// JSON bytes as written, so a value of the wrong type reaches the provider's decoder.
    Json,
    /// msgpack encoded under each value's own type, so a wrong type reaches the decoder.
    Msgpack,
}

/// One file of the corpus: a valid base configuration and the cases that break it.
#[derive(Debug, Deserialize)]
pub(crate) struct CaseFile {
    /// What the cases configure.
    pub(crate) kind: Kind,
    /// The resource or data source type (empty for the provider).
    #[serde(default, rename = "type")]
    pub(crate) type_name: String,
    /// A configuration that is valid; every case changes it.
    pub(crate) base: Json,
    /// The invalid variants.
    pub(crate) cases: Vec<Case>,
}

/// One invalid configuration and the diagnostic it must produce.
#[derive(Debug, Deserialize)]
pub(crate) struct Case {
    /// What is wrong, in a few words.
    pub(crate) name: String,
    /// Merged into the base (objects recursively; anything else replaces).
    #[serde(default)]
    pub(crate) set: Json,
    /// Dotted paths (list indexes as numbers) made unknown, as Terraform sends values it will
    /// only know at apply.
    #[serde(default)]
    pub(crate) unknown: Vec<String>,
    /// The RPC to send.
    #[serde(default)]
    pub(crate) rpc: Rpc,
    /// How to encode the configuration.
    #[serde(default)]
    pub(crate) wire: Wire,
    /// The attribute path the error must name, as `a.b[0]["key"]`.
    pub(crate) path: String,
    /// A fragment of the fix the diagnostic's detail must contain.
    pub(crate) fix: String,
}

/// Reads every `*.json` file under `dir`, sorted by name.
pub(crate) fn load(dir: &Path) -> Vec<(String, CaseFile)> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .expect("corpus directory")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("readable case file");
            let file: CaseFile =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (
                p.file_name()
                    .expect("file name")
                    .to_string_lossy()
                    .into_owned(),
                file,
            )
        })
        .collect()
}

/// Counts the TCP connections made to it; each is closed at once.
#[derive(Clone)]
pub(crate) struct Tripwire {
    /// `127.0.0.1:<port>`.
    pub(crate) addr: String,
    hits: Arc<AtomicUsize>,
}

impl Tripwire {
    /// Listens on a free loopback port.
    pub(crate) async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr").to_string();
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                drop(stream);
            }
        });
        Tripwire { addr, hits }
    }

    /// Connections so far.
    pub(crate) fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    /// A provider configuration whose every endpoint is this listener.
    pub(crate) fn provider_config(&self) -> Json {
        let https = format!("https://{}/", self.addr);
        let http = format!("http://{}", self.addr);
        serde_json::json!({
            "azure": {
                "tenant_id": "11111111-2222-3333-4444-555555555555",
                "subscription_id": "00000000-0000-0000-0000-000000000001",
                "client_id": "66666666-7777-8888-9999-000000000000",
                "client_secret": "not-a-real-secret",
                "endpoints": {"resource_manager": https, "active_directory": https}
            },
            "aws": {
                "region": "us-east-1",
                "access_key": "AKIAIOSFODNN7EXAMPLE",
                "secret_key": "not-a-real-secret-key",
                "max_retries": 1,
                "endpoints": {"iam": http, "sts": http, "cloudformation": http,
                              "organizations": http, "s3": http}
            }
        })
    }
}

/// The schema type of the provider block, a resource or a data source.
pub(crate) fn schema_type(kind: Kind, type_name: &str) -> Type {
    let p = MulticloudProvider;
    match kind {
        Kind::Provider => provider_schema().value_type(),
        Kind::Resource => p
            .resources()
            .into_iter()
            .find(|r| r.type_name() == type_name)
            .unwrap_or_else(|| panic!("no resource {type_name}"))
            .schema()
            .value_type(),
        Kind::DataSource => p
            .data_sources()
            .into_iter()
            .find(|d| d.type_name() == type_name)
            .unwrap_or_else(|| panic!("no data source {type_name}"))
            .schema()
            .value_type(),
    }
}

/// `base` with `patch` merged in: objects recursively, anything else (and `{}`) replaces.
pub(crate) fn merge(base: &Json, patch: &Json) -> Json {
    match (base, patch) {
        // An empty object clears, so a case can empty a map.
        (Json::Object(b), Json::Object(p)) if !p.is_empty() => {
            let mut out = b.clone();
            for (k, v) in p {
                let merged = match out.get(k) {
                    Some(existing) => merge(existing, v),
                    None => v.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Json::Object(out)
        }
        _ => patch.clone(),
    }
}

/// A JSON value as a protocol value of its own shape (arrays as lists, objects as objects).
fn untyped(j: &Json) -> Value {
    match j {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Number(Number::Int(i)),
            None => Value::Number(Number::from_f64(n.as_f64().unwrap_or_default())),
        },
        Json::String(s) => Value::String(s.clone()),
        Json::Array(a) => Value::List(a.iter().map(untyped).collect()),
        Json::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), untyped(v))).collect()),
    }
}

fn make_unknown(v: &mut Value, dotted: &str) {
    let mut cur = v;
    for step in dotted.split('.') {
        cur = match (cur, step.parse::<usize>()) {
            (Value::List(items) | Value::Set(items), Ok(i)) => items
                .get_mut(i)
                .unwrap_or_else(|| panic!("no element {dotted}")),
            (other, _) => other
                .get_mut(step)
                .unwrap_or_else(|| panic!("no attribute {dotted}")),
        };
    }
    *cur = Value::Unknown;
}

/// The configuration a case sends, as a DynamicValue.
pub(crate) fn dynamic_value(ty: &Type, config: &Json, case: &Case) -> pb::DynamicValue {
    match case.wire {
        Wire::Json => pb::DynamicValue {
            msgpack: vec![],
            json: serde_json::to_vec(config).expect("JSON"),
        },
        Wire::Msgpack => {
            let v = untyped(config);
            pb::DynamicValue {
                msgpack: msgpack::encode(&v, &v.implied_type()).expect("own type"),
                json: vec![],
            }
        }
        Wire::Typed => {
            let bytes = serde_json::to_vec(config).expect("JSON");
            let mut v = json::decode(&bytes, ty).unwrap_or_else(|e| {
                panic!("case {:?}: config does not fit the schema: {e}", case.name)
            });
            for u in &case.unknown {
                make_unknown(&mut v, u);
            }
            pb::DynamicValue {
                msgpack: msgpack::encode(&v, ty).expect("encodable"),
                json: vec![],
            }
        }
    }
}

/// `a.b[0]["k"]`, the way the cases write paths.
pub(crate) fn render_path(path: Option<&pb::AttributePath>) -> String {
    use pb::attribute_path::step::Selector;
    let Some(path) = path else {
        return "<none>".to_owned();
    };
    let mut out = String::new();
    for step in &path.steps {
        match &step.selector {
            Some(Selector::AttributeName(a)) if out.is_empty() => out.push_str(a),
            Some(Selector::AttributeName(a)) => {
                out.push('.');
                out.push_str(a);
            }
            Some(Selector::ElementKeyInt(i)) => out.push_str(&format!("[{i}]")),
            Some(Selector::ElementKeyString(k)) => out.push_str(&format!("[{k:?}]")),
            None => out.push_str("<?>"),
        }
    }
    out
}

/// Checks the diagnostics of one case: an error at `case.path` whose detail holds `case.fix`.
pub(crate) fn check(case: &Case, diags: &[pb::Diagnostic]) -> Result<(), String> {
    let errors: Vec<_> = diags
        .iter()
        .filter(|d| d.severity == pb::diagnostic::Severity::Error as i32)
        .collect();
    let hit = errors
        .iter()
        .any(|d| render_path(d.attribute.as_ref()) == case.path && d.detail.contains(&case.fix));
    if hit {
        return Ok(());
    }
    let got: Vec<String> = errors
        .iter()
        .map(|d| {
            format!(
                "[{}] {}: {}",
                render_path(d.attribute.as_ref()),
                d.summary,
                d.detail
            )
        })
        .collect();
    Err(format!(
        "expected an error at `{}` with fix containing {:?}; got {} error(s): {got:#?}",
        case.path,
        case.fix,
        errors.len()
    ))
}
