//! Reads the provider block into the cloud layers' configuration structs, and checks it at plan
//! time so that a mistake is reported against the attribute that holds it.

use std::path::PathBuf;
use std::time::Duration;

use crate::aws::{AssumeRole, AwsConfig, AwsEndpoints, WebIdentity};
use crate::azure::{AzureConfig, AzureEndpoints, AzureError};
use crate::protocol::{AttrPath, Diagnostics, Value};
use crate::secret::Secret;

use super::{validators, value_checks};

type Check = fn(&str) -> Result<(), String>;

/// Plan-time checks on the provider block. Unknown values are skipped: they are checked again
/// when known, at apply.
pub(crate) fn validate(config: &Value, diags: &mut Diagnostics) {
    let azure = config.get("azure");
    let azure_checks: [(&str, Check); 4] = [
        ("tenant_id", validators::guid),
        ("subscription_id", validators::guid),
        ("client_id", validators::guid),
        ("ca_cert_file", readable_file),
    ];
    for (name, check) in azure_checks {
        check_attr(azure, &["azure", name], check, diags);
    }
    let azure_endpoints = azure.get("endpoints");
    for name in ["resource_manager", "active_directory"] {
        check_attr(
            azure_endpoints,
            &["azure", "endpoints", name],
            validators::https_url,
            diags,
        );
    }
    if let Some(true) = azure.get("use_oidc").as_bool() {
        let inline = azure.get("oidc_token");
        let file = azure.get("oidc_token_file_path");
        if !inline.is_null() && !file.is_null() {
            diags.attribute_error(
                path(&["azure", "oidc_token"]),
                "Conflicting OIDC token sources",
                "Set either `oidc_token` or `oidc_token_file_path`, not both.",
            );
        }
    }

    let aws = config.get("aws");
    check_attr(aws, &["aws", "region"], validators::aws_region, diags);
    let access = aws.get("access_key");
    let secret = aws.get("secret_key");
    if access.is_null() != secret.is_null() && !access.is_unknown() && !secret.is_unknown() {
        let (present, missing) = if access.is_null() {
            ("secret_key", "access_key")
        } else {
            ("access_key", "secret_key")
        };
        diags.attribute_error(
            path(&["aws", missing]),
            "Incomplete AWS access key",
            format!("`aws.{present}` is set but `aws.{missing}` is not: set both, or neither to use the standard credential chain."),
        );
    }
    if value_checks::whole_number_in(aws.get("max_retries"), 1..=25).is_err() {
        diags.attribute_error(
            path(&["aws", "max_retries"]),
            "Invalid max_retries",
            format!(
                "Got {}; set a number of attempts from 1 to 25 (default 3).",
                shown_number(aws.get("max_retries"))
            ),
        );
    }
    for block in ["assume_role", "assume_role_with_web_identity"] {
        check_attr(
            aws.get(block),
            &["aws", block, "role_arn"],
            validators::iam_role_arn,
            diags,
        );
    }
    let duration = aws.get("assume_role").get("duration_seconds");
    if value_checks::whole_number_in(duration, 900..=43_200).is_err() {
        diags.attribute_error(
            path(&["aws", "assume_role", "duration_seconds"]),
            "Invalid role session duration",
            format!(
                "Got {}; AWS accepts 900 to 43200 seconds.",
                shown_number(duration)
            ),
        );
    }
    for block in ["assume_role", "assume_role_with_web_identity"] {
        check_attr(
            aws.get(block),
            &["aws", block, "session_name"],
            value_checks::sts_session_name,
            diags,
        );
    }
    check_attr(
        aws.get("assume_role"),
        &["aws", "assume_role", "external_id"],
        value_checks::sts_external_id,
        diags,
    );
    let web = aws.get("assume_role_with_web_identity");
    if !web.get("web_identity_token").is_null() && !web.get("web_identity_token_file").is_null() {
        diags.attribute_error(
            path(&["aws", "assume_role_with_web_identity", "web_identity_token"]),
            "Conflicting web identity token sources",
            "Set either `web_identity_token` or `web_identity_token_file`, not both.",
        );
    }
    let endpoints = aws.get("endpoints");
    for name in ["iam", "sts", "cloudformation", "organizations", "s3"] {
        check_attr(
            endpoints,
            &["aws", "endpoints", name],
            validators::http_url,
            diags,
        );
    }
}

fn shown_number(v: &Value) -> String {
    match v {
        Value::Number(n) => n.to_string(),
        _ => "a value that is not a number".to_owned(),
    }
}

fn readable_file(value: &str) -> Result<(), String> {
    match std::fs::metadata(value) {
        Ok(m) if m.is_file() => Ok(()),
        Ok(_) => Err(format!(
            "{value:?} is not a file; give the path of a PEM file"
        )),
        Err(e) => Err(format!(
            "cannot read {value:?}: {e}; give the path of a PEM file"
        )),
    }
}

fn path(steps: &[&str]) -> AttrPath {
    let mut p = AttrPath::root(steps[0]);
    for s in &steps[1..] {
        p = p.attr(s);
    }
    p
}

fn check_attr(parent: &Value, steps: &[&str], check: Check, diags: &mut Diagnostics) {
    let name = steps[steps.len() - 1];
    if let Some(s) = parent.get(name).as_str()
        && let Err(detail) = check(s)
    {
        let title = format!("Invalid {}", steps.join("."));
        diags.attribute_error(path(steps), title, detail);
    }
}

fn string(v: &Value, name: &str) -> Option<String> {
    v.get(name).as_str().map(str::to_owned)
}

fn secret(v: &Value, name: &str) -> Option<Secret> {
    string(v, name).map(Secret::new)
}

/// Builds the Azure configuration from the `azure` block, with `ARM_*` environment fallbacks.
pub(crate) fn azure_config(
    config: &Value,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<AzureConfig, AzureError> {
    let b = config.get("azure");
    let e = b.get("endpoints");
    let defaults = AzureConfig::default();
    AzureConfig {
        tenant_id: string(b, "tenant_id"),
        subscription_id: string(b, "subscription_id"),
        client_id: string(b, "client_id"),
        client_secret: secret(b, "client_secret"),
        use_oidc: b.get("use_oidc").as_bool(),
        oidc_token: secret(b, "oidc_token"),
        oidc_token_file_path: string(b, "oidc_token_file_path").map(PathBuf::from),
        use_cli: b.get("use_cli").as_bool(),
        use_msi: b.get("use_msi").as_bool(),
        ca_cert_file: string(b, "ca_cert_file").map(PathBuf::from),
        register_resource_providers: b
            .get("register_resource_providers")
            .as_bool()
            .unwrap_or(defaults.register_resource_providers),
        endpoints: AzureEndpoints {
            resource_manager: string(e, "resource_manager")
                .unwrap_or(defaults.endpoints.resource_manager),
            active_directory: string(e, "active_directory")
                .unwrap_or(defaults.endpoints.active_directory),
        },
    }
    .with_env_fallbacks(env)
}

/// Builds the AWS configuration from the `aws` block; the AWS SDK adds its standard chain.
pub(crate) fn aws_config(config: &Value, env: &dyn Fn(&str) -> Option<String>) -> AwsConfig {
    let b = config.get("aws");
    let e = b.get("endpoints");
    let role = b.get("assume_role");
    let web = b.get("assume_role_with_web_identity");
    AwsConfig {
        region: string(b, "region"),
        profile: string(b, "profile"),
        access_key: string(b, "access_key"),
        secret_key: secret(b, "secret_key"),
        session_token: secret(b, "token"),
        max_retries: b
            .get("max_retries")
            .as_i64()
            .and_then(|n| u32::try_from(n).ok()),
        assume_role: string(role, "role_arn").map(|role_arn| AssumeRole {
            role_arn,
            session_name: string(role, "session_name"),
            external_id: string(role, "external_id"),
            duration: role
                .get("duration_seconds")
                .as_i64()
                .and_then(|n| u64::try_from(n).ok())
                .map(Duration::from_secs),
        }),
        assume_role_with_web_identity: string(web, "role_arn").map(|role_arn| WebIdentity {
            role_arn,
            session_name: string(web, "session_name"),
            web_identity_token: secret(web, "web_identity_token"),
            web_identity_token_file: string(web, "web_identity_token_file").map(PathBuf::from),
        }),
        endpoints: AwsEndpoints {
            iam: string(e, "iam"),
            sts: string(e, "sts"),
            cloudformation: string(e, "cloudformation"),
            organizations: string(e, "organizations"),
            s3: string(e, "s3"),
        },
    }
    .with_env_fallbacks(env)
}
