//! Provider logs as go-hclog JSON lines on stderr, which go-plugin parses so
//! that Terraform's `TF_LOG` / `TF_LOG_PROVIDER` show them at their level.
//! Every line passes through a process-wide secret redactor first.

use std::io::Write;
use std::sync::{Mutex, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use serde_json::{Map, Value as Json};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt as _};

/// Shorter secrets would redact ordinary words and make logs useless.
const MIN_SECRET_LEN: usize = 4;
const MASK: &str = "***";

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Registers a secret: from now on every log line (and [`redact`]ed text) has
/// it, its URL-encoded, JSON-escaped and base64 forms replaced by `***`.
pub fn register_secret(secret: &str) {
    if secret.len() < MIN_SECRET_LEN {
        return;
    }
    let mut forms = vec![
        secret.to_owned(),
        url_encode(secret, false),
        url_encode(secret, true),
        STANDARD.encode(secret),
        STANDARD_NO_PAD.encode(secret),
        URL_SAFE.encode(secret),
        URL_SAFE_NO_PAD.encode(secret),
    ];
    let json = serde_json::to_string(secret).unwrap_or_default();
    forms.push(json.trim_matches('"').to_owned());
    let mut secrets = SECRETS
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for form in forms {
        if form.len() >= MIN_SECRET_LEN && !secrets.contains(&form) {
            secrets.push(form);
        }
    }
    // Longest first, so a secret containing another is masked whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

/// `text` with every registered secret masked.
pub fn redact(text: &str) -> String {
    let secrets = SECRETS
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut out = text.to_owned();
    for secret in secrets.iter() {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), MASK);
        }
    }
    out
}

/// Percent-encoding as Go's `url.QueryEscape` (`plus_for_space`) or `url.PathEscape` do.
fn url_encode(s: &str, plus_for_space: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b))
            }
            b' ' if plus_for_space => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Installs the JSON logger as the global `tracing` subscriber. `module` names
/// the logger (e.g. `provider.terraform-provider-multicloud`). The level comes
/// from `TF_LOG_PROVIDER`, else `TF_LOG`, else INFO. Returns false when a
/// subscriber was already installed.
pub fn init(module: &str) -> bool {
    let level = std::env::var("TF_LOG_PROVIDER")
        .ok()
        .filter(|v| !v.is_empty())
        .or_else(|| std::env::var("TF_LOG").ok())
        .map_or(LevelFilter::INFO, |v| level_from_env(&v));
    let layer = JsonLayer::new(module, std::io::stderr()).with_filter(targets(level));
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer)).is_ok()
}

/// This crate logs at `level`; dependencies at INFO at most, because the
/// HTTP/2 and TLS stacks trace every frame, which floods TF_LOG=TRACE output
/// and slows every call.
fn targets(level: LevelFilter) -> Targets {
    Targets::new()
        .with_default(level.min(LevelFilter::INFO))
        .with_target(env!("CARGO_CRATE_NAME"), level)
}

fn level_from_env(value: &str) -> LevelFilter {
    match value.trim().to_ascii_uppercase().as_str() {
        "" => LevelFilter::INFO,
        "DEBUG" => LevelFilter::DEBUG,
        "INFO" => LevelFilter::INFO,
        "WARN" => LevelFilter::WARN,
        "ERROR" => LevelFilter::ERROR,
        "OFF" => LevelFilter::OFF,
        // Terraform treats any other value (TRACE, JSON, 1, ...) as TRACE.
        _ => LevelFilter::TRACE,
    }
}

/// A `tracing` layer writing one go-hclog JSON object per event.
pub struct JsonLayer<W> {
    module: String,
    out: Mutex<W>,
}

impl<W: Write> JsonLayer<W> {
    /// A layer writing to `out` under logger name `module`.
    pub fn new(module: &str, out: W) -> Self {
        JsonLayer {
            module: module.to_owned(),
            out: Mutex::new(out),
        }
    }
}

impl<S: Subscriber, W: Write + 'static> Layer<S> for JsonLayer<W> {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let line = format_event(&self.module, event);
        let mut out = self
            .out
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // A broken stderr must not take the provider down; the line is lost.
        let _ = out.write_all(line.as_bytes()).and_then(|()| out.flush());
    }
}

fn level_name(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

fn format_event(module: &str, event: &Event<'_>) -> String {
    let mut fields = FieldCollector::default();
    event.record(&mut fields);
    let mut obj = fields.map;
    obj.insert(
        "@level".into(),
        Json::from(level_name(event.metadata().level())),
    );
    obj.insert("@message".into(), Json::from(redact(&fields.message)));
    obj.insert("@module".into(), Json::from(module));
    obj.insert(
        "@timestamp".into(),
        Json::from(timestamp(SystemTime::now())),
    );
    let mut line = Json::Object(obj).to_string();
    // Secrets containing quotes or backslashes change shape when escaped in JSON.
    line = redact(&line);
    line.push('\n');
    line
}

#[derive(Default)]
struct FieldCollector {
    message: String,
    map: Map<String, Json>,
}

impl FieldCollector {
    fn put(&mut self, field: &Field, value: Json) {
        self.map.insert(field.name().to_owned(), value);
    }
}

impl Visit for FieldCollector {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_owned();
        } else {
            self.put(field, Json::from(redact(value)));
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Json::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Json::from(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Json::from(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, Json::from(value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let text = format!("{value:?}");
        if field.name() == "message" {
            self.message = text;
        } else {
            self.put(field, Json::from(redact(&text)));
        }
    }
}

/// go-hclog's timestamp layout, `2006-01-02T15:04:05.000000Z07:00`, in UTC;
/// go-plugin rejects the line if the layout differs.
fn timestamp(now: SystemTime) -> String {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        since.subsec_micros()
    )
}

/// Gregorian date from days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);

    impl Write for Buf {
        fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
            self.0.lock().map_or(Ok(0), |mut b| {
                b.extend_from_slice(data);
                Ok(data.len())
            })
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn redacts_secret_in_all_forms() {
        register_secret("s3cr3t/with+chars\"");
        register_secret("abc"); // too short to redact safely
        let raw = "s3cr3t/with+chars\"";
        let text = format!(
            "raw={raw} query={} path={} b64={} json={} short=abc",
            url_encode(raw, true),
            url_encode(raw, false),
            STANDARD.encode(raw),
            serde_json::to_string(raw).unwrap_or_default()
        );
        let out = redact(&text);
        assert!(!out.contains("s3cr3t"), "{out}");
        assert!(!out.contains(&STANDARD.encode(raw)), "{out}");
        assert!(out.contains("short=abc"), "{out}");
    }

    #[test]
    fn writes_hclog_json_lines() {
        register_secret("hunter2-password");
        let buf = Buf::default();
        let subscriber = tracing_subscriber::registry()
            .with(JsonLayer::new("provider.test", buf.clone()).with_filter(LevelFilter::DEBUG));
        tracing::subscriber::with_default(subscriber, || {
            tracing::debug!(
                rpc = "PlanResourceChange",
                token = "Bearer hunter2-password",
                "planning hunter2-password"
            );
            tracing::trace!("filtered out");
        });
        let text = String::from_utf8(buf.0.lock().map(|b| b.clone()).unwrap_or_default())
            .unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1, "{text}");
        let json: Json = serde_json::from_str(lines[0]).unwrap_or_default();
        assert_eq!(json["@level"], "debug");
        assert_eq!(json["@module"], "provider.test");
        assert_eq!(json["@message"], "planning ***");
        assert_eq!(json["token"], "Bearer ***");
        assert_eq!(json["rpc"], "PlanResourceChange");
        assert!(!text.contains("hunter2"));
        let ts = json["@timestamp"].as_str().unwrap_or_default();
        assert_eq!(ts.len(), "2006-01-02T15:04:05.000000Z".len(), "{ts}");
    }

    #[test]
    fn dependencies_are_capped_at_info() {
        let t = targets(LevelFilter::TRACE);
        assert!(t.would_enable(env!("CARGO_CRATE_NAME"), &Level::TRACE));
        assert!(!t.would_enable("h2::codec", &Level::DEBUG));
        assert!(t.would_enable("h2::codec", &Level::INFO));
        assert!(!targets(LevelFilter::WARN).would_enable("h2", &Level::INFO));
    }

    #[test]
    fn timestamp_layout() {
        let t = UNIX_EPOCH + Duration::from_micros(1_709_210_096_123_456);
        assert_eq!(timestamp(t), "2024-02-29T12:34:56.123456Z");
        assert_eq!(level_from_env("json"), LevelFilter::TRACE);
        assert_eq!(level_from_env("warn"), LevelFilter::WARN);
    }
}
