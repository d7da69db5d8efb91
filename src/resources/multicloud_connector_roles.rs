//! The IAM roles of a connector's generated template, in the shape `multicloud_aws_oidc_trust`
//! takes as `roles`, so the trust can deploy what the template asks for: each
//! `AWS::IAM::Role` becomes one role, a federated trust through the template's OIDC provider
//! becomes a `customer_tenant_oidc` trust (the provider for the customer's tenant), and the
//! template's parameter references are resolved.

use serde_json::{Value as Json, json};

use crate::protocol::Value;

/// Turns a `Ref` to the template's OIDC provider or parameter into what the trust fills in.
fn resolve(
    value: &Json,
    oidc_logical_ids: &[String],
    params: &serde_json::Map<String, Json>,
) -> Json {
    match value {
        Json::Object(m) if m.len() == 1 && m.contains_key("Ref") => {
            let target = m["Ref"].as_str().unwrap_or_default();
            if oidc_logical_ids.iter().any(|id| id == target) {
                json!("<customer_oidc_provider_arn>")
            } else if target == "AWS::AccountId" {
                json!("<account_id>")
            } else {
                params
                    .get(target)
                    .and_then(|p| p.get("Default"))
                    .cloned()
                    .unwrap_or_else(|| value.clone())
            }
        }
        Json::Object(m) => Json::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), resolve(v, oidc_logical_ids, params)))
                .collect(),
        ),
        Json::Array(a) => Json::Array(
            a.iter()
                .map(|v| resolve(v, oidc_logical_ids, params))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// `InventoryRole` -> `inventory_role`.
fn snake(logical_id: &str) -> String {
    let mut out = String::new();
    for (i, c) in logical_id.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// The audience a federated trust requires (`...:aud` condition), if any.
fn audience(trust: &Json) -> Option<String> {
    trust["Statement"].as_array()?.iter().find_map(|s| {
        s["Condition"].as_object()?.values().find_map(|op| {
            op.as_object()?
                .iter()
                .find(|(k, _)| k.ends_with(":aud"))
                .and_then(|(_, v)| v.as_str().map(str::to_owned))
        })
    })
}

/// The roles of `template` (a CloudFormation template as JSON text); empty when it has none
/// or is not JSON.
pub(crate) fn roles(template: &str) -> Value {
    let Ok(t) = serde_json::from_str::<Json>(template) else {
        return Value::list(Vec::new());
    };
    let empty = serde_json::Map::new();
    let resources = t["Resources"].as_object().unwrap_or(&empty);
    let params = t["Parameters"].as_object().unwrap_or(&empty);
    let oidc: Vec<String> = resources
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::IAM::OIDCProvider")
        .map(|(k, _)| k.clone())
        .collect();
    let mut out = Vec::new();
    for (logical_id, r) in resources
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::IAM::Role")
    {
        let p = &r["Properties"];
        let trust = resolve(&p["AssumeRolePolicyDocument"], &oidc, params);
        let federated = trust.to_string().contains("<customer_oidc_provider_arn>");
        let policy = p["Policies"].as_array().and_then(|a| a.first());
        let managed: Vec<Value> = p["ManagedPolicyArns"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a.as_str().map(Value::from))
            .collect();
        out.push(Value::object([
            ("key", Value::from(snake(logical_id))),
            (
                "name",
                Value::from(p["RoleName"].as_str().unwrap_or(logical_id.as_str())),
            ),
            (
                "trust",
                Value::from(if federated {
                    "customer_tenant_oidc"
                } else {
                    "aws_service"
                }),
            ),
            (
                "audience",
                Value::from(federated.then(|| audience(&trust)).flatten()),
            ),
            ("managed_policy_arns", Value::list(managed)),
            (
                "inline_policy_name",
                Value::from(
                    policy
                        .and_then(|x| x["PolicyName"].as_str())
                        .map(str::to_owned),
                ),
            ),
            (
                "inline_policy",
                Value::from(
                    policy.map(|x| resolve(&x["PolicyDocument"], &oidc, params).to_string()),
                ),
            ),
            ("trust_policy", Value::from(trust.to_string())),
        ]));
    }
    Value::list(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn federated_and_service_roles_with_references_resolved() {
        let template = json!({
            "Parameters": {"ConnectorPrimaryIdentifier": {"Type": "String", "Default": "abc"}},
            "Resources": {
                "Oidc": {"Type": "AWS::IAM::OIDCProvider", "Properties": {}},
                "InventoryRole": {"Type": "AWS::IAM::Role", "Properties": {
                    "RoleName": "Inv",
                    "AssumeRolePolicyDocument": {"Statement": [{
                        "Principal": {"Federated": {"Ref": "Oidc"}},
                        "Condition": {"StringEquals": {"sts.windows.net/t/:aud": "api://x",
                            "sts.windows.net/t/:sub": {"Ref": "ConnectorPrimaryIdentifier"}}}}]},
                    "ManagedPolicyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"]}},
                "SsmRole": {"Type": "AWS::IAM::Role", "Properties": {
                    "RoleName": "Ssm",
                    "AssumeRolePolicyDocument": {"Statement": [{"Principal": {"Service": "ec2.amazonaws.com"}}]},
                    "Policies": [{"PolicyName": "P", "PolicyDocument": {"Statement": []}}]}}
            }
        });
        let roles = roles(&template.to_string());
        let list = roles.as_list().unwrap();
        assert_eq!(list.len(), 2);
        let inv = &list[0];
        assert_eq!(inv.get("key").as_str(), Some("inventory_role"));
        assert_eq!(inv.get("trust").as_str(), Some("customer_tenant_oidc"));
        assert_eq!(inv.get("audience").as_str(), Some("api://x"));
        let trust = inv.get("trust_policy").as_str().unwrap();
        assert!(
            trust.contains("<customer_oidc_provider_arn>") && trust.contains("\"abc\""),
            "{trust}"
        );
        let ssm = &list[1];
        assert_eq!(ssm.get("trust").as_str(), Some("aws_service"));
        assert!(ssm.get("audience").is_null());
        assert_eq!(ssm.get("inline_policy_name").as_str(), Some("P"));
        assert!(roles_of_garbage_are_empty());
    }

    fn roles_of_garbage_are_empty() -> bool {
        roles("not json").as_list().is_some_and(<[Value]>::is_empty)
    }
}
