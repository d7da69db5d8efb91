//! Fault injection: rules matching method + path substring that throttle, fail, delay or drop.

use hyper::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::errors::{ArmError, EntraError};
use crate::http::Resp;

/// Error code/message to put in an injected error body.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct FaultError {
    pub(crate) code: String,
    pub(crate) message: String,
}

/// An injected fault, as posted to `/_emulator/faults`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FaultRule {
    /// Assigned by the emulator.
    #[serde(default)]
    pub(crate) id: u64,
    /// HTTP method to match (case-insensitive); any when absent.
    #[serde(default)]
    pub(crate) method: Option<String>,
    /// Case-insensitive substring of the request path; every path when absent or empty.
    #[serde(default)]
    pub(crate) path_contains: Option<String>,
    /// Matching requests to let through before the rule starts firing.
    #[serde(default)]
    pub(crate) skip: u32,
    /// How many times the rule fires; forever when absent. Counts down as it fires.
    #[serde(default)]
    pub(crate) count: Option<u32>,
    /// Status to answer with (e.g. 429, 500, 503).
    #[serde(default)]
    pub(crate) status: Option<u16>,
    /// `Retry-After` value: seconds (`"2"`) or an HTTP date, sent verbatim.
    #[serde(default)]
    pub(crate) retry_after: Option<String>,
    /// Error body override; a code derived from the status otherwise.
    #[serde(default)]
    pub(crate) error: Option<FaultError>,
    /// Delay before answering (or before passing the request on when no status/drop is set).
    #[serde(default)]
    pub(crate) delay_ms: Option<u64>,
    /// Close the connection without any response (the request is not processed).
    #[serde(default)]
    pub(crate) drop: bool,
    /// Process the request, then close the connection without its response: the change is
    /// made but the client never learns it (tests that POST is not blindly re-sent, PUT is).
    #[serde(default)]
    pub(crate) drop_after: bool,
    /// Fire on every n-th matching request only (2 = every other one); every one when absent.
    #[serde(default)]
    pub(crate) every: Option<u32>,
    /// Matching requests seen while `every` counts.
    #[serde(default)]
    pub(crate) seen: u32,
    /// Times the rule has fired.
    #[serde(default)]
    pub(crate) fired: u32,
}

/// What a firing rule asks the server to do.
#[derive(Debug, Clone)]
pub(crate) struct FaultAction {
    pub(crate) delay_ms: u64,
    pub(crate) drop: bool,
    pub(crate) drop_after: bool,
    pub(crate) respond: Option<FaultRule>,
}

impl FaultRule {
    /// Rejects rules that would do nothing.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.status.is_none() && self.delay_ms.is_none() && !self.drop && !self.drop_after {
            return Err(
                "a fault needs at least one of status, delay_ms, drop or drop_after".to_string(),
            );
        }
        if self.drop_after && (self.drop || self.status.is_some()) {
            return Err("drop_after cannot be combined with drop or status".to_string());
        }
        if self.every == Some(0) {
            return Err("every must be at least 1".to_string());
        }
        if let Some(s) = self.status
            && StatusCode::from_u16(s).is_err()
        {
            return Err(format!("status {s} is not an HTTP status"));
        }
        Ok(())
    }

    fn matches(&self, method: &str, path_lower: &str) -> bool {
        let method_ok = self
            .method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method));
        let path_ok = self
            .path_contains
            .as_deref()
            .is_none_or(|p| path_lower.contains(&p.to_ascii_lowercase()));
        method_ok && path_ok && self.count.is_none_or(|c| c > 0)
    }
}

/// Finds the first live rule matching the request and consumes one use of it.
pub(crate) fn check(rules: &mut [FaultRule], method: &str, path: &str) -> Option<FaultAction> {
    let lower = path.to_ascii_lowercase();
    let rule = rules.iter_mut().find(|r| r.matches(method, &lower))?;
    if rule.skip > 0 {
        rule.skip -= 1;
        return None;
    }
    if let Some(n) = rule.every {
        rule.seen += 1;
        if rule.seen % n != 0 {
            return None;
        }
    }
    if let Some(c) = rule.count.as_mut() {
        *c -= 1;
    }
    rule.fired += 1;
    Some(FaultAction {
        delay_ms: rule.delay_ms.unwrap_or(0),
        drop: rule.drop,
        drop_after: rule.drop_after,
        respond: rule.status.is_some().then(|| rule.clone()),
    })
}

fn default_error(status: StatusCode) -> (String, String) {
    let (code, message) = match status.as_u16() {
        429 => (
            "TooManyRequests",
            "The request is being throttled as the limit has been reached for operation type.",
        ),
        500 => (
            "InternalServerError",
            "Encountered internal server error. Please try again.",
        ),
        502 => ("BadGateway", "The gateway did not receive a response."),
        503 => (
            "ServiceUnavailable",
            "The service is currently unavailable. Please try again later.",
        ),
        504 => (
            "GatewayTimeout",
            "The gateway did not receive a response in time.",
        ),
        _ => ("InjectedFault", "A fault was injected by the emulator."),
    };
    (code.to_string(), message.to_string())
}

/// The response for a firing rule: Entra's shape on token endpoints, ARM's elsewhere.
pub(crate) fn response(rule: &FaultRule, entra: bool) -> Resp {
    let status = rule
        .status
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let (code, message) = rule
        .error
        .as_ref()
        .map(|e| (e.code.clone(), e.message.clone()))
        .unwrap_or_else(|| default_error(status));
    let mut resp = if entra {
        let error = if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            "temporarily_unavailable"
        } else {
            "invalid_request"
        };
        let mut r = EntraError::new(status, error, 50_196, message).into_resp();
        if let Some(b) = r.body.as_mut() {
            b["emulator_code"] = json!(code);
        }
        r
    } else {
        ArmError::new(status, &code, message).into_resp()
    };
    if let Some(ra) = &rule.retry_after {
        resp = resp.with_header("Retry-After", ra.clone());
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(v: serde_json::Value) -> FaultRule {
        serde_json::from_value(v).unwrap_or_else(|e| panic!("bad rule: {e}"))
    }

    #[test]
    fn skip_count_and_matching() {
        let mut rules = vec![rule(
            json!({"method": "put", "path_contains": "/Widgets/", "skip": 1, "count": 2, "status": 503}),
        )];
        assert!(check(&mut rules, "GET", "/x/widgets/a").is_none());
        assert!(
            check(&mut rules, "PUT", "/x/widgets/a").is_none(),
            "skipped"
        );
        assert!(check(&mut rules, "PUT", "/x/WIDGETS/a").is_some());
        assert!(check(&mut rules, "PUT", "/x/widgets/a").is_some());
        assert!(
            check(&mut rules, "PUT", "/x/widgets/a").is_none(),
            "exhausted"
        );
        assert_eq!(rules[0].fired, 2);
    }

    #[test]
    fn every_nth_request_fires() {
        let mut rules = vec![rule(json!({"every": 2, "count": 2, "status": 429}))];
        let fired: Vec<bool> = (0..6)
            .map(|_| check(&mut rules, "PUT", "/x").is_some())
            .collect();
        assert_eq!(fired, [false, true, false, true, false, false]);
    }

    #[test]
    fn empty_rules_are_rejected() {
        assert!(rule(json!({"drop_after": true})).validate().is_ok());
        assert!(
            rule(json!({"drop_after": true, "status": 500}))
                .validate()
                .is_err()
        );
        assert!(rule(json!({"every": 0, "status": 500})).validate().is_err());
        assert!(rule(json!({"path_contains": "/"})).validate().is_err());
        assert!(rule(json!({"status": 429})).validate().is_ok());
        assert!(rule(json!({"status": 1000})).validate().is_err());
    }
}
