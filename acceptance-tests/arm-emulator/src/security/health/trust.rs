//! Evaluation of an IAM trust policy for one assume-role request, the way STS decides it, with
//! the reason when it refuses: which principal is missing or which condition is not met.
//!
//! Covers what onboarding trust policies use: `Effect`, `Action` (`sts:*`, `*`), `Principal`
//! (`Federated`, `Service`, `AWS` with account roots), and the string condition operators with
//! their `IfExists` and `ForAnyValue:`/`ForAllValues:` forms. An operator outside that set never
//! grants access, as a policy the emulator cannot model must not look healthy.

use serde_json::Value;

/// Who asks to assume the role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Principal {
    Federated(String),
    Service(String),
    Aws(String),
}

impl Principal {
    fn key(&self) -> &'static str {
        match self {
            Principal::Federated(_) => "Federated",
            Principal::Service(_) => "Service",
            Principal::Aws(_) => "AWS",
        }
    }
}

/// An assume-role request: action, caller and the request context (keys compared
/// case-insensitively, as IAM does).
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) action: &'static str,
    pub(crate) principal: Principal,
    pub(crate) context: Vec<(String, String)>,
}

/// Why a statement does not allow the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Finding {
    /// No Allow statement names this principal for this action; `trusted` lists the principals
    /// of that kind the policy does name for it.
    PrincipalMissing { trusted: Vec<String> },
    /// A condition of the closest matching statement is not met.
    Condition {
        operator: String,
        key: String,
        policy_values: Vec<String>,
        request_value: Option<String>,
    },
    /// A Deny statement matches.
    ExplicitDeny,
}

fn list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| match x {
                Value::String(s) => Some(s.clone()),
                Value::Bool(b) => Some(b.to_string()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect(),
        Some(Value::Bool(b)) => vec![b.to_string()],
        Some(Value::Number(n)) => vec![n.to_string()],
        _ => Vec::new(),
    }
}

fn statements(policy: &Value) -> Vec<&Value> {
    match policy.get("Statement") {
        Some(Value::Array(a)) => a.iter().filter(|s| s.is_object()).collect(),
        Some(s @ Value::Object(_)) => vec![s],
        _ => Vec::new(),
    }
}

fn action_matches(statement: &Value, action: &str) -> bool {
    list(statement.get("Action"))
        .iter()
        .any(|a| a == "*" || a.eq_ignore_ascii_case("sts:*") || a.eq_ignore_ascii_case(action))
}

/// Principals of `principal`'s kind that `statement` names.
fn named(statement: &Value, principal: &Principal) -> Vec<String> {
    match statement.get("Principal") {
        Some(Value::String(s)) if s == "*" => vec!["*".to_string()],
        Some(Value::Object(m)) => list(m.get(principal.key())),
        _ => Vec::new(),
    }
}

fn principal_matches(statement: &Value, principal: &Principal) -> bool {
    let names = named(statement, principal);
    match principal {
        Principal::Federated(arn) | Principal::Service(arn) => {
            names.iter().any(|n| n == "*" || n == arn)
        }
        Principal::Aws(arn) => {
            let account = arn.split(':').nth(4).unwrap_or_default();
            names.iter().any(|n| {
                n == "*"
                    || n == arn
                    || n == account
                    || n.strip_suffix(":root")
                        .and_then(|p| p.rsplit(':').next())
                        .is_some_and(|a| a == account)
            })
        }
    }
}

/// `*` and `?` wildcards, as StringLike uses them.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Whether one condition (`operator`, policy values) is met by `actual`.
fn condition_met(operator: &str, values: &[String], actual: Option<&str>) -> bool {
    let base = operator.rsplit(':').next().unwrap_or(operator);
    let (base, if_exists) = match base.strip_suffix("IfExists") {
        Some(b) => (b, true),
        None => (base, false),
    };
    let negated = base.starts_with("StringNot");
    let Some(actual) = actual else {
        // A missing key matches nothing, so only IfExists and negated operators are met.
        return if_exists || negated;
    };
    let any = |f: &dyn Fn(&str) -> bool| values.iter().any(|v| f(v));
    match base {
        "StringEquals" => any(&|v| v == actual),
        "StringNotEquals" => !any(&|v| v == actual),
        "StringEqualsIgnoreCase" => any(&|v| v.eq_ignore_ascii_case(actual)),
        "StringNotEqualsIgnoreCase" => !any(&|v| v.eq_ignore_ascii_case(actual)),
        "StringLike" => any(&|v| glob(v, actual)),
        "StringNotLike" => !any(&|v| glob(v, actual)),
        _ => false,
    }
}

/// Conditions of `statement` that `request` does not meet.
fn unmet(statement: &Value, request: &Request) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(Value::Object(ops)) = statement.get("Condition") else {
        return out;
    };
    for (operator, keys) in ops {
        let Value::Object(keys) = keys else { continue };
        for (key, values) in keys {
            let values = list(Some(values));
            let actual = request
                .context
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v.as_str());
            if !condition_met(operator, &values, actual) {
                out.push(Finding::Condition {
                    operator: operator.clone(),
                    key: key.clone(),
                    policy_values: values,
                    request_value: actual.map(str::to_string),
                });
            }
        }
    }
    out
}

/// `Ok(())` when `policy` lets `request` through; otherwise the findings of the closest
/// statement (fewest unmet conditions), or why no statement applies.
pub(crate) fn evaluate(policy: &Value, request: &Request) -> Result<(), Vec<Finding>> {
    let applicable: Vec<&Value> = statements(policy)
        .into_iter()
        .filter(|s| action_matches(s, request.action) && principal_matches(s, &request.principal))
        .collect();
    let effect = |s: &Value| {
        s.get("Effect")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    if applicable
        .iter()
        .any(|s| effect(s) == "Deny" && unmet(s, request).is_empty())
    {
        return Err(vec![Finding::ExplicitDeny]);
    }
    let mut best: Option<Vec<Finding>> = None;
    for s in applicable.iter().filter(|s| effect(s) == "Allow") {
        let findings = unmet(s, request);
        if findings.is_empty() {
            return Ok(());
        }
        if best.as_ref().is_none_or(|b| findings.len() < b.len()) {
            best = Some(findings);
        }
    }
    Err(best.unwrap_or_else(|| {
        let trusted = statements(policy)
            .into_iter()
            .filter(|s| effect(s) == "Allow" && action_matches(s, request.action))
            .flat_map(|s| named(s, &request.principal))
            .collect();
        vec![Finding::PrincipalMissing { trusted }]
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PROVIDER: &str = "arn:aws:iam::123456789012:oidc-provider/sts.windows.net/t/";

    fn web(aud: &str, session: &str) -> Request {
        Request {
            action: "sts:AssumeRoleWithWebIdentity",
            principal: Principal::Federated(PROVIDER.into()),
            context: vec![
                ("sts.windows.net/t/:aud".into(), aud.into()),
                ("sts:RoleSessionName".into(), session.into()),
            ],
        }
    }

    fn policy() -> Value {
        json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Federated": PROVIDER},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringLike": {"sts.windows.net/t/:aud": "api://a", "sts:RoleSessionName": "MicrosoftDefenderForClouds_c*"}}
        }]})
    }

    #[test]
    fn a_matching_request_is_allowed() {
        assert_eq!(
            evaluate(&policy(), &web("api://a", "MicrosoftDefenderForClouds_c1")),
            Ok(())
        );
    }

    #[test]
    fn each_unmet_condition_is_reported() {
        let Err(f) = evaluate(&policy(), &web("api://b", "Other_c1")) else {
            panic!("must be refused")
        };
        assert_eq!(f.len(), 2);
        assert!(
            matches!(&f[0], Finding::Condition { key, request_value: Some(v), .. } if key.ends_with(":aud") && v == "api://b")
        );
    }

    #[test]
    fn another_principal_or_action_is_not_trusted() {
        let mut r = web("api://a", "MicrosoftDefenderForClouds_c1");
        r.principal = Principal::Federated("arn:aws:iam::123456789012:oidc-provider/other/".into());
        assert_eq!(
            evaluate(&policy(), &r),
            Err(vec![Finding::PrincipalMissing {
                trusted: vec![PROVIDER.to_string()]
            }])
        );
        let service = Request {
            action: "sts:AssumeRole",
            principal: Principal::Service("logs.amazonaws.com".into()),
            context: Vec::new(),
        };
        assert!(evaluate(&policy(), &service).is_err());
    }

    #[test]
    fn account_roots_deny_statements_and_operators() {
        let p = json!({"Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": ["sts:AssumeRole"],
             "Condition": {"StringEquals": {"sts:ExternalId": "x"}, "StringEqualsIfExists": {"aws:Missing": "y"}}},
            {"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::111111111111:role/bad"}, "Action": "*"}]});
        let req = |arn: &str, ext: &str| Request {
            action: "sts:AssumeRole",
            principal: Principal::Aws(arn.into()),
            context: vec![("sts:externalid".into(), ext.into())],
        };
        assert_eq!(
            evaluate(&p, &req("arn:aws:iam::111111111111:role/good", "x")),
            Ok(())
        );
        assert!(evaluate(&p, &req("arn:aws:iam::111111111111:role/good", "z")).is_err());
        assert_eq!(
            evaluate(&p, &req("arn:aws:iam::111111111111:role/bad", "x")),
            Err(vec![Finding::ExplicitDeny])
        );
        assert!(!condition_met("NumericEquals", &["1".into()], Some("1")));
        assert!(condition_met(
            "ForAnyValue:StringLike",
            &["a?c*".into()],
            Some("abcd")
        ));
        assert!(condition_met("StringNotEquals", &["a".into()], None));
    }

    #[test]
    fn globbing() {
        assert!(glob("*", ""));
        assert!(glob("a*b?d", "aXXbcd"));
        assert!(!glob("a*b", "ac"));
    }
}
