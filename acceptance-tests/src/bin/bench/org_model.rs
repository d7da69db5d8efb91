//! The rate-limit model of the organization benchmark: per-API token buckets and the modelled
//! time of a StackSet stack instance, sent to both emulators (which enforce them) and used to
//! compute the floor a run cannot beat. The numbers and their sources are in
//! `docs/performance.md` ("Rate-limit model"); keep the two in step.

use serde_json::{Value, json};

use super::org::Phase;

/// A token bucket: `burst` calls at once, `rate` more per second.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bucket {
    pub(crate) service: &'static str,
    /// One action, or every action of the service.
    pub(crate) action: Option<&'static str>,
    pub(crate) rate: f64,
    pub(crate) burst: f64,
}

const fn bucket(
    service: &'static str,
    action: Option<&'static str>,
    rate: f64,
    burst: f64,
) -> Bucket {
    Bucket {
        service,
        action,
        rate,
        burst,
    }
}

/// AWS buckets per account (and region for CloudFormation). A call takes a token from every
/// bucket that matches it.
const AWS_BUCKETS: &[Bucket] = &[
    bucket("organizations", None, 5.0, 10.0),
    bucket("cloudformation", None, 10.0, 20.0),
    bucket("cloudformation", Some("CreateStackSet"), 1.0, 3.0),
    bucket("cloudformation", Some("UpdateStackSet"), 1.0, 3.0),
    bucket("cloudformation", Some("DeleteStackSet"), 1.0, 3.0),
    bucket("cloudformation", Some("CreateStackInstances"), 1.0, 3.0),
    bucket("cloudformation", Some("UpdateStackInstances"), 1.0, 3.0),
    bucket("cloudformation", Some("DeleteStackInstances"), 1.0, 3.0),
    bucket("cloudformation", Some("CreateStack"), 1.0, 3.0),
    bucket("cloudformation", Some("UpdateStack"), 1.0, 3.0),
    bucket("cloudformation", Some("DeleteStack"), 1.0, 3.0),
    bucket("iam", None, 20.0, 40.0),
    bucket("sts", None, 50.0, 100.0),
];

/// ARM's subscription buckets (reads, writes, deletes), as ARM documents them.
const ARM_BUCKETS: [(&str, f64, f64); 3] = [
    ("reads", 25.0, 250.0),
    ("writes", 10.0, 200.0),
    ("deletes", 10.0, 200.0),
];

/// Modelled time of one wave of StackSet stack instances (an IAM-only member stack).
pub(crate) const STACK_SECONDS: f64 = 30.0;

/// The model of one benchmark run.
#[derive(Debug, Clone)]
pub(crate) struct Model {
    pub(crate) stack_seconds: f64,
}

impl Model {
    /// The extension's `PUT /_mcloud/rate-model` body.
    pub(crate) fn moto_spec(&self, random_throttle: f64) -> Value {
        let buckets: Vec<Value> = AWS_BUCKETS
            .iter()
            .map(|b| json!({"service": b.service, "action": b.action, "rate": b.rate, "burst": b.burst}))
            .collect();
        json!({"buckets": buckets, "random_throttle": random_throttle, "seed": 1,
               "stack_seconds": self.stack_seconds})
    }

    /// The ARM emulator's `PUT /_emulator/throttle` body.
    pub(crate) fn arm_spec(&self, random_throttle: f64) -> Value {
        let mut spec = json!({"random_share": random_throttle, "seed": 1});
        for (kind, rate, burst) in ARM_BUCKETS {
            spec[kind] = json!({"rate": rate, "burst": burst});
        }
        spec
    }
}

/// The least time `calls` accepted calls need from a bucket.
fn bucket_seconds(calls: u64, rate: f64, burst: f64) -> f64 {
    ((calls as f64 - burst) / rate).max(0.0)
}

/// The floor of a phase and what sets it: the StackSet's operations run one after another
/// (CloudFormation allows one at a time per StackSet), each for its modelled time; and no
/// bucket serves its accepted calls faster than its burst and rate allow. The larger bound
/// wins (they overlap, so adding them would overstate the floor).
pub(crate) fn floor(phase: &Phase, operations: &[Value]) -> (f64, String) {
    let mut best = (0.0, "nothing modelled".to_string());
    let ops: f64 = operations
        .iter()
        .map(|o| o["modelled_seconds"].as_f64().unwrap_or(0.0))
        .sum();
    if ops > 0.0 {
        best = (ops, format!("{} StackSet operation(s)", operations.len()));
    }
    for b in AWS_BUCKETS {
        let calls: u64 = phase
            .aws_calls
            .iter()
            .filter(|(k, _)| {
                let (service, action) = k.split_once(':').unwrap_or((k, ""));
                service == b.service && b.action.is_none_or(|a| a == action)
            })
            .map(|(_, n)| n)
            .sum();
        let s = bucket_seconds(calls, b.rate, b.burst);
        if s > best.0 {
            best = (
                s,
                format!("{} {} bucket", b.service, b.action.unwrap_or("*")),
            );
        }
    }
    for (kind, rate, burst) in ARM_BUCKETS {
        let calls: u64 = phase
            .arm_calls
            .iter()
            .filter(|(k, _)| {
                let method = k.split(' ').next().unwrap_or_default();
                match kind {
                    "reads" => method == "GET" || method == "HEAD",
                    "deletes" => method == "DELETE",
                    _ => !matches!(method, "GET" | "HEAD" | "DELETE"),
                }
            })
            .map(|(_, n)| n)
            .sum();
        let s = bucket_seconds(calls, rate, burst);
        if s > best.0 {
            best = (s, format!("ARM {kind} bucket"));
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floor_is_the_larger_of_operations_and_buckets() {
        let mut phase = Phase::default();
        phase
            .aws_calls
            .insert("organizations:ListAccountsForParent".into(), 60);
        let ops = [json!({"modelled_seconds": 30.0})];
        let (s, by) = floor(&phase, &ops);
        assert_eq!((s, by.as_str()), (30.0, "1 StackSet operation(s)"));
        phase
            .aws_calls
            .insert("organizations:ListAccountsForParent".into(), 510);
        let (s, by) = floor(&phase, &ops);
        assert_eq!((s, by.as_str()), (100.0, "organizations * bucket"));
    }
}
