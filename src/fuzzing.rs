//! The bodies of the fuzz targets, shared by the libFuzzer harness (`fuzz/`, nightly, run by
//! `scripts/fuzz.sh`) and by a plain `cargo test` that replays the checked-in corpus and a few
//! thousand deterministic pseudo-random inputs through the same functions (`tests/fuzz_replay.rs`).
//!
//! Each function takes arbitrary bytes and must not panic on them; where the input parses, it
//! also checks a property (a decoded value re-encodes, and a round trip is stable), so a panic
//! here is a bug either way. Nothing is logged or sent anywhere.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use crate::protocol::{Provider as _, Type, json, msgpack};

/// A fuzz target's body.
pub type Target = fn(&[u8]);

/// The fuzz targets by name, as `fuzz/fuzz_targets/<name>.rs` and the corpus folders call them.
pub const TARGETS: &[(&str, Target)] = &[
    ("dynamic_value_msgpack", dynamic_value_msgpack),
    ("dynamic_value_json", dynamic_value_json),
    ("type_json", type_json),
    ("arm_response", arm_response),
    ("aws_policy_document", aws_policy_document),
];

/// The types the decoders are exercised under (the first input byte picks one): every schema of the provider (the provider
/// block, each resource and data source), `dynamic`, and a few small collection types.
pub fn types() -> &'static [Type] {
    static TYPES: OnceLock<Vec<Type>> = OnceLock::new();
    TYPES.get_or_init(|| {
        let p = crate::resources::MulticloudProvider;
        let mut out = vec![
            Type::Dynamic,
            Type::String,
            Type::Number,
            Type::Bool,
            Type::list(Type::String),
            Type::set(Type::Number),
            Type::map(Type::Dynamic),
            Type::object([("a", Type::list(Type::Dynamic)), ("b", Type::Bool)]),
            crate::resources::provider_schema().value_type(),
        ];
        out.extend(p.resources().iter().map(|r| r.schema().value_type()));
        out.extend(p.data_sources().iter().map(|d| d.schema().value_type()));
        out
    })
}

/// The first byte picks a type, the rest is the payload.
fn split(data: &[u8]) -> Option<(&'static Type, &[u8])> {
    let (&selector, rest) = data.split_first()?;
    let types = types();
    Some((&types[usize::from(selector) % types.len()], rest))
}

/// A DynamicValue's msgpack bytes, decoded under a schema type as the server does for every
/// request. A value that decodes must re-encode, and decode → encode must be stable after one
/// round (the encoder's canonical form).
pub fn dynamic_value_msgpack(data: &[u8]) {
    let Some((ty, bytes)) = split(data) else {
        return;
    };
    let Ok(value) = msgpack::decode(bytes, ty) else {
        return;
    };
    let once = msgpack::encode(&value, ty).expect("a decoded value re-encodes");
    let again = msgpack::decode(&once, ty).expect("an encoded value decodes");
    let twice = msgpack::encode(&again, ty).expect("a decoded value re-encodes");
    assert_eq!(once, twice, "msgpack round trip is not stable");
}

/// A DynamicValue's JSON bytes (and stored state, which UpgradeResourceState reads as JSON),
/// decoded under a schema type. A value that decodes must encode as msgpack and decode back.
pub fn dynamic_value_json(data: &[u8]) {
    let Some((ty, bytes)) = split(data) else {
        return;
    };
    let Ok(value) = json::decode(bytes, ty) else {
        return;
    };
    let packed = msgpack::encode(&value, ty).expect("a JSON-decoded value encodes");
    msgpack::decode(&packed, ty).expect("an encoded value decodes");
}

/// A type's JSON encoding (schemas, and the type half of a `dynamic` value). A type that
/// parses must print and parse back to itself.
pub fn type_json(data: &[u8]) {
    let Ok(ty) = Type::from_json_bytes(data) else {
        return;
    };
    let printed = ty.to_json_bytes();
    let back = Type::from_json_bytes(&printed).expect("a printed type parses");
    assert_eq!(back, ty, "type JSON round trip changed the type");
}

/// A response from ARM: the first two bytes are the status, the rest the body. Read as an
/// error (any status), as a typed model, as a long-running operation's status body, and as
/// an access token's claims; none may panic, and an error message stays bounded.
pub fn arm_response(data: &[u8]) {
    use crate::azure::request::error_from_response;
    use crate::azure::{ArmResponse, lro};

    if data.len() < 2 {
        return;
    }
    let status = 100 + u16::from_be_bytes([data[0], data[1]]) % 500;
    let body = &data[2..];
    let resp = ArmResponse {
        status,
        headers: http::HeaderMap::new(),
        body: body.to_vec(),
    };
    let url =
        url::Url::parse("https://management.azure.com/subscriptions/x").expect("static URL parses");
    let err = error_from_response(&http::Method::PUT, &url, &resp);
    let message = err.to_string();
    assert!(
        message.len() <= 4 * (body.len() + 1024),
        "error message grows beyond the body: {} bytes",
        message.len()
    );
    let _ = crate::azure::client::decode::<crate::azure::security_connector::SecurityConnector>(
        &resp, "fuzz",
    );
    let _ = crate::azure::client::decode::<crate::azure::Pricing>(&resp, "fuzz");
    if let Ok(json) = resp.json() {
        let state = lro::provisioning_state(&json).unwrap_or("InProgress");
        if lro::terminal(state).is_some() {
            let _ =
                lro::operation_error(state, &json, "https://management.azure.com/op").to_string();
        }
        if let Some(status) = json.get("status").and_then(|s| s.as_str()) {
            let _ = lro::terminal(status);
        }
    }
    let text = String::from_utf8_lossy(body);
    let _ = crate::azure::claims::decode_claims(&text);
    let _ = crate::http::retry_after::parse_retry_after(&text, SystemTime::UNIX_EPOCH);
    let later = SystemTime::UNIX_EPOCH + Duration::from_secs(4_000_000_000);
    let _ = crate::http::retry_after::parse_retry_after(&text, later);
}

/// Policy documents as IAM returns them (URL-encoded JSON) and trust policy templates with
/// placeholders: the input is split at the first NUL into a document and a template.
pub fn aws_policy_document(data: &[u8]) {
    use crate::onboarding::trust_template;

    let text = String::from_utf8_lossy(data);
    let (doc, template) = text.split_once('\0').unwrap_or((&text, &text));
    if let Ok(decoded) = crate::aws::iam::decode_policy_document(doc) {
        assert!(
            crate::aws::iam::policy_documents_equal(&decoded, &decoded),
            "a policy document differs from itself"
        );
    }
    let _ = crate::aws::iam::policy_documents_equal(doc, template);
    let _ = trust_template::placeholders(template);
    let _ = trust_template::referenced_roles(template);
    let values = fuzz_trust_values();
    if let Ok(rendered) = trust_template::render_trust_policy(template, &values) {
        trust_template::templatize_trust_policy(&rendered, &values)
            .expect("a rendered policy reads back as a template");
    }
    let _ = trust_template::templatize_trust_policy(doc, &values);
}

/// Values like a real trust's, so that rendering and reading back meet real ARNs.
fn fuzz_trust_values() -> crate::onboarding::trust_template::TrustValues {
    crate::onboarding::trust_template::TrustValues {
        oidc_provider_arn: Some(
            "arn:aws:iam::123456789012:oidc-provider/sts.windows.net/33e01921-4d64-4f8c-a055-5bdaffd5e33d/"
                .to_owned(),
        ),
        customer_oidc_provider_arn: None,
        account_id: "123456789012".to_owned(),
        customer_tenant_id: "11111111-2222-3333-4444-555555555555".to_owned(),
        role_arns: [(
            "cspm_monitor".to_owned(),
            "arn:aws:iam::123456789012:role/CspmMonitorAws".to_owned(),
        )]
        .into_iter()
        .collect(),
    }
}
