//! `Microsoft.Security/securityConnectors`: request validation against the api-version's schema,
//! the service's own semantic checks, and the properties the service fills in itself.

use hyper::StatusCode;
use serde_json::{Value, json};

use super::connector_schema::SECURITY_CONNECTOR;
use crate::errors::ArmError;
use crate::hooks::{ResourceBehaviour, WriteContext};
use crate::schema::{Problem, strip_read_only, validate};

/// The only api-version whose schema the emulator encodes.
pub const API_VERSION: &str = "2024-08-01-preview";
/// Full resource type.
pub const RESOURCE_TYPE: &str = "Microsoft.Security/securityConnectors";
/// Scan interval the service applies when a create omits it (the portal's default).
/// UNVERIFIED for the API itself; it makes clients cope with a server-side default.
pub const DEFAULT_SCAN_INTERVAL_HOURS: i64 = 4;
/// Length of the trial that starts when a paid offering is first enabled.
const TRIAL_DAYS: u128 = 30;

/// The behaviour registered for [`RESOURCE_TYPE`].
#[derive(Debug, Default)]
pub struct SecurityConnectors;

/// ARM runs OpenAPI payload validation before the resource provider sees a request and answers
/// `HttpPayloadAPISpecValidationFailed` with one detail per violation (seen in ARM responses in
/// the wild; `InvalidRequestContent` is what it answers for a body that is not JSON at all, which
/// the generic store already does). The message repeats the violations with their paths, so a
/// client that shows only `message` still names the offending field.
pub(crate) fn payload_error(problems: &[Problem]) -> ArmError {
    let summary: Vec<String> = problems
        .iter()
        .map(|p| format!("{} ({}, path '{}')", p.message, p.code, p.path))
        .collect();
    let mut e = ArmError::bad_request(
        "HttpPayloadAPISpecValidationFailed",
        format!(
            "Failed during request payload validation against the API specification: {}.",
            summary.join("; ")
        ),
        problems.first().map(|p| p.path.as_str()),
    );
    e.details = problems
        .iter()
        .map(|p| json!({"code": p.code, "target": p.path, "message": p.message}))
        .collect();
    e
}

/// A rejection by the service itself (after the payload passed the schema). The code and wording
/// are the emulator's; the real service's texts are not published.
pub(crate) fn service_error_for(target: &str, message: impl Into<String>) -> ArmError {
    ArmError::bad_request("BadRequest", message, Some(target))
}

impl ResourceBehaviour for SecurityConnectors {
    fn api_versions(&self) -> &'static [&'static str] {
        &[API_VERSION]
    }

    fn reports_provisioning_state(&self) -> bool {
        // The resource has no `provisioningState`: create and update are synchronous.
        false
    }

    fn validate(&self, ctx: &WriteContext<'_>, body: &Value) -> Result<(), ArmError> {
        if body
            .get("location")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return Err(ArmError::new(
                StatusCode::BAD_REQUEST,
                "LocationRequired",
                "The location property is required for this definition.",
            ));
        }
        let problems = validate(&SECURITY_CONNECTOR, body);
        if !problems.is_empty() {
            return Err(payload_error(&problems));
        }
        super::semantics::check(body)?;
        if let Some(old) = ctx.existing {
            super::semantics::check_immutable(old, body)?;
        }
        Ok(())
    }

    fn on_write(&self, ctx: &WriteContext<'_>, body: &mut Value) {
        // The envelope's read-only values were set by the store; keep them, drop the rest.
        let kept: Vec<(&str, Option<Value>)> = ["id", "name", "type", "systemData"]
            .into_iter()
            .map(|k| (k, body.get(k).cloned()))
            .collect();
        strip_read_only(&SECURITY_CONNECTOR, body);
        for (k, v) in kept {
            if let Some(v) = v {
                body[k] = v;
            }
        }
        fill_defaults(ctx, body);
    }
}

fn is_paid(offering_type: &str) -> bool {
    !offering_type.starts_with("CspmMonitor")
}

/// A short description per offering type (the API's read-only `description`; wording ours).
fn describe(offering_type: &str) -> String {
    let (plan, cloud) = offering_type
        .strip_suffix("Aws")
        .map(|p| (p, "AWS"))
        .or_else(|| offering_type.strip_suffix("Gcp").map(|p| (p, "GCP")))
        .unwrap_or((offering_type, "the environment"));
    let plan = match plan {
        "CspmMonitor" => "Foundational CSPM",
        "DefenderCspm" => "Defender CSPM",
        "DefenderForServers" => "Defender for Servers",
        "DefenderForContainers" => "Defender for Containers",
        "DefenderForDatabases" => "Defender for Databases",
        other => other,
    };
    format!("{plan} for {cloud}")
}

/// Values the service returns without being asked: etag, kind, tags, the AWS account name,
/// a default scan interval, offering descriptions and the trial end date.
fn fill_defaults(ctx: &WriteContext<'_>, body: &mut Value) {
    body["etag"] = json!(crate::ids::random_guid());
    if body.get("kind").is_none_or(Value::is_null) {
        body["kind"] = json!("");
    }
    if body.get("tags").is_none_or(Value::is_null) {
        body["tags"] = json!({});
    }
    let Some(props) = body.get_mut("properties").and_then(Value::as_object_mut) else {
        return;
    };
    let account = props
        .get("hierarchyIdentifier")
        .and_then(Value::as_str)
        .map(str::to_string);
    if let Some(env) = props
        .get_mut("environmentData")
        .and_then(Value::as_object_mut)
        && env.get("environmentType").and_then(Value::as_str) == Some("AwsAccount")
    {
        if let Some(a) = &account {
            env.insert("accountName".into(), json!(a));
        }
        if env.get("scanInterval").is_none_or(Value::is_null) {
            env.insert("scanInterval".into(), json!(DEFAULT_SCAN_INTERVAL_HOURS));
        }
    }
    let mut paid = false;
    if let Some(offerings) = props.get_mut("offerings").and_then(Value::as_array_mut) {
        for o in offerings.iter_mut().filter_map(Value::as_object_mut) {
            let t = o
                .get("offeringType")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            paid |= is_paid(&t);
            o.insert("description".into(), json!(describe(&t)));
        }
    }
    if paid {
        let previous = ctx
            .existing
            .and_then(|e| e.pointer("/properties/hierarchyIdentifierTrialEndDate"))
            .cloned();
        let end = previous.unwrap_or_else(|| {
            let ms = crate::clock::now_millis() + TRIAL_DAYS * 86_400_000;
            json!(crate::clock::rfc3339_at(ms))
        });
        props.insert("hierarchyIdentifierTrialEndDate".into(), end);
    }
}
