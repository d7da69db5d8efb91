//! Defender for Cloud Apps' AWS "Security auditing" connection: the permissions its IAM user
//! needs, the policy document granting them, and a policy evaluator that tells which of the
//! calls the portal's "Test API" makes a set of policy documents would refuse.

use serde_json::{Value, json};

/// The actions Microsoft's instructions grant the Cloud Apps user, in their order.
pub const AUDIT_ACTIONS: [&str; 12] = [
    "cloudtrail:DescribeTrails",
    "cloudtrail:LookupEvents",
    "cloudtrail:GetTrailStatus",
    "cloudwatch:Describe*",
    "cloudwatch:Get*",
    "cloudwatch:List*",
    "iam:List*",
    "iam:Get*",
    "s3:ListAllMyBuckets",
    "s3:PutBucketAcl",
    "s3:GetBucketAcl",
    "s3:GetBucketLocation",
];

/// Concrete calls standing for [`AUDIT_ACTIONS`] (wildcards replaced by a call the connector
/// makes), checked after every new key: one per granted action, so a missing grant is named.
pub const PROBE_ACTIONS: [&str; 12] = [
    "cloudtrail:DescribeTrails",
    "cloudtrail:LookupEvents",
    "cloudtrail:GetTrailStatus",
    "cloudwatch:DescribeAlarms",
    "cloudwatch:GetMetricData",
    "cloudwatch:ListMetrics",
    "iam:ListUsers",
    "iam:GetUser",
    "s3:ListAllMyBuckets",
    "s3:PutBucketAcl",
    "s3:GetBucketAcl",
    "s3:GetBucketLocation",
];

/// The AWS managed policy behind the optional "Security configuration" permissions.
pub const SECURITY_AUDIT_POLICY_ARN: &str = "arn:aws:iam::aws:policy/SecurityAudit";

/// The policy document allowing `actions` on every resource, as the instructions write it.
pub fn policy_document(actions: &[String]) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": actions,
            "Resource": "*",
        }],
    })
    .to_string()
}

/// What a set of policies decides for one action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// An `Allow` statement matches and no `Deny` does.
    Allowed,
    /// No statement allows it (IAM's implicit deny).
    NotAllowed,
    /// A `Deny` statement matches.
    Denied,
}

/// Decides `action` against identity-based policy documents on resource `*`. Conditions are
/// not evaluated (a conditional statement counts as matching), which errs towards reporting a
/// grant as present; `Resource` is only required to contain `*` for an allow to count, since
/// the connector's calls are account-wide.
pub fn decide(documents: &[String], action: &str) -> Decision {
    let mut allowed = false;
    for doc in documents {
        let Ok(parsed) = serde_json::from_str::<Value>(doc) else {
            continue;
        };
        for st in statements(&parsed) {
            if !statement_matches(st, action) {
                continue;
            }
            match st.get("Effect").and_then(Value::as_str) {
                Some("Deny") => return Decision::Denied,
                Some("Allow") if covers_all_resources(st) => allowed = true,
                _ => {}
            }
        }
    }
    if allowed {
        Decision::Allowed
    } else {
        Decision::NotAllowed
    }
}

/// The probe actions `documents` do not allow, with the decision for each.
pub fn missing_permissions(documents: &[String]) -> Vec<(&'static str, Decision)> {
    PROBE_ACTIONS
        .iter()
        .map(|a| (*a, decide(documents, a)))
        .filter(|(_, d)| *d != Decision::Allowed)
        .collect()
}

fn statements(doc: &Value) -> Vec<&Value> {
    match doc.get("Statement") {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    }
}

fn strings(v: Option<&Value>) -> Vec<&str> {
    match v {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn statement_matches(st: &Value, action: &str) -> bool {
    if st.get("NotAction").is_some() {
        return !strings(st.get("NotAction"))
            .iter()
            .any(|p| action_matches(p, action));
    }
    strings(st.get("Action"))
        .iter()
        .any(|p| action_matches(p, action))
}

fn covers_all_resources(st: &Value) -> bool {
    st.get("NotResource").is_none() && strings(st.get("Resource")).contains(&"*")
}

/// IAM action matching: the service prefix and name compare case-insensitively, `*` matches
/// any run of characters and `?` one character.
pub fn action_matches(pattern: &str, action: &str) -> bool {
    let p: Vec<char> = pattern.to_ascii_lowercase().chars().collect();
    let a: Vec<char> = action.to_ascii_lowercase().chars().collect();
    glob(&p, &a)
}

fn glob(p: &[char], a: &[char]) -> bool {
    match p.split_first() {
        None => a.is_empty(),
        Some(('*', rest)) => (0..=a.len()).any(|i| glob(rest, &a[i..])),
        Some((c, rest)) => match a.split_first() {
            Some((x, tail)) if *c == '?' || c == x => glob(rest, tail),
            _ => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<String> {
        AUDIT_ACTIONS.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_instructions_policy_allows_every_probe() {
        let doc = policy_document(&all());
        assert!(missing_permissions(&[doc]).is_empty());
    }

    #[test]
    fn a_dropped_action_is_named() {
        let actions: Vec<String> = all()
            .into_iter()
            .filter(|a| a != "cloudtrail:DescribeTrails")
            .collect();
        let missing = missing_permissions(&[policy_document(&actions)]);
        assert_eq!(
            missing,
            vec![("cloudtrail:DescribeTrails", Decision::NotAllowed)]
        );
    }

    #[test]
    fn an_explicit_deny_wins_over_an_allow() {
        let deny = r#"{"Statement":{"Effect":"Deny","Action":"s3:Put*","Resource":"*"}}"#;
        let missing = missing_permissions(&[policy_document(&all()), deny.to_owned()]);
        assert_eq!(missing, vec![("s3:PutBucketAcl", Decision::Denied)]);
    }

    #[test]
    fn wildcards_and_case_follow_iam() {
        assert!(action_matches("iam:Get*", "iam:GetUser"));
        assert!(action_matches("IAM:get*", "iam:GetUser"));
        assert!(action_matches("*", "s3:GetBucketAcl"));
        assert!(action_matches("s3:Get?ucketAcl", "s3:GetBucketAcl"));
        assert!(!action_matches("iam:List*", "iam:GetUser"));
        assert!(!action_matches("s3:GetBucket", "s3:GetBucketAcl"));
    }

    #[test]
    fn not_action_and_scoped_resources() {
        let not_action = r#"{"Statement":[{"Effect":"Allow","NotAction":"s3:*","Resource":"*"}]}"#;
        assert_eq!(
            decide(&[not_action.to_owned()], "iam:GetUser"),
            Decision::Allowed
        );
        assert_eq!(
            decide(&[not_action.to_owned()], "s3:GetBucketAcl"),
            Decision::NotAllowed
        );
        let scoped = r#"{"Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"arn:aws:iam::1:user/x"}]}"#;
        assert_eq!(
            decide(&[scoped.to_owned()], "iam:ListUsers"),
            Decision::NotAllowed
        );
    }
}
