//! ARM's subscription request limits, modelled as the token buckets ARM uses since 2024: one
//! bucket each for reads, writes and deletes per subscription, refilled at a fixed rate. A
//! request that finds its bucket empty is answered `429 TooManyRequests` with `Retry-After`
//! (whole seconds until a token is back), as ARM answers it. A random share of requests may be
//! refused as well (seeded), to measure what retries cost. Off until set through
//! `PUT /_emulator/throttle`; `GET /_emulator/throttle` reports the model and how many requests
//! each bucket refused.

use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::faults::{FaultAction, FaultRule};

/// One bucket: `burst` tokens, `rate` tokens back per second.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BucketSpec {
    rate: f64,
    burst: f64,
}

/// The model as posted to the admin API.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ThrottleSpec {
    #[serde(default)]
    reads: Option<BucketSpec>,
    #[serde(default)]
    writes: Option<BucketSpec>,
    #[serde(default)]
    deletes: Option<BucketSpec>,
    /// Share of subscription requests refused at random (0 to 1).
    #[serde(default)]
    random_share: f64,
    #[serde(default)]
    seed: u64,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    spec: BucketSpec,
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn new(spec: BucketSpec, now: Instant) -> Self {
        Self {
            spec,
            tokens: spec.burst,
            at: now,
        }
    }

    /// Takes a token, or says in how many whole seconds one is back.
    fn take(&mut self, now: Instant) -> Result<(), u64> {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.spec.rate).min(self.spec.burst);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - self.tokens) / self.spec.rate).ceil().max(1.0) as u64)
        }
    }
}

/// The live model: buckets, the random source and what was refused.
#[derive(Debug, Default)]
pub(crate) struct Throttle {
    spec: Option<ThrottleSpec>,
    /// reads, writes, deletes.
    buckets: [Option<Bucket>; 3],
    rng: u64,
    refused: [u64; 3],
    refused_at_random: u64,
}

const KINDS: [&str; 3] = ["reads", "writes", "deletes"];

fn kind(method: &str) -> usize {
    match method {
        "GET" | "HEAD" => 0,
        "DELETE" => 2,
        _ => 1,
    }
}

impl Throttle {
    /// Replaces the model (an empty object turns it off) and clears the counts.
    pub(crate) fn set(&mut self, spec: ThrottleSpec) -> Result<(), String> {
        if !(0.0..=1.0).contains(&spec.random_share) {
            return Err("random_share is a share from 0 to 1".to_string());
        }
        for (name, b) in KINDS.iter().zip([spec.reads, spec.writes, spec.deletes]) {
            if let Some(b) = b
                && (b.rate <= 0.0 || b.burst < 1.0)
            {
                return Err(format!("{name}: rate must be above 0 and burst at least 1"));
            }
        }
        let now = Instant::now();
        *self = Self {
            buckets: [spec.reads, spec.writes, spec.deletes]
                .map(|b| b.map(|b| Bucket::new(b, now))),
            // xorshift needs a non-zero state.
            rng: spec.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
            spec: Some(spec),
            ..Self::default()
        };
        Ok(())
    }

    /// The model and the refusals so far.
    pub(crate) fn report(&self) -> Value {
        json!({
            "model": self.spec,
            "refused": {"reads": self.refused[0], "writes": self.refused[1], "deletes": self.refused[2]},
            "refused_at_random": self.refused_at_random,
        })
    }

    fn random(&mut self) -> f64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        (self.rng >> 11) as f64 / (1u64 << 53) as f64
    }

    /// The 429 to answer a subscription request with, if the model refuses it.
    pub(crate) fn check(&mut self, method: &str, path: &str) -> Option<FaultAction> {
        let share = self.spec.as_ref()?.random_share;
        if !path.to_ascii_lowercase().starts_with("/subscriptions/") {
            return None;
        }
        let k = kind(method);
        let retry_after = match self.buckets[k].as_mut().map(|b| b.take(Instant::now())) {
            Some(Err(secs)) => {
                self.refused[k] += 1;
                secs
            }
            _ if share > 0.0 && self.random() < share => {
                self.refused_at_random += 1;
                1
            }
            _ => return None,
        };
        Some(FaultAction {
            delay_ms: 0,
            drop: false,
            drop_after: false,
            respond: Some(FaultRule {
                id: 0,
                method: None,
                path_contains: None,
                skip: 0,
                count: None,
                status: Some(429),
                retry_after: Some(retry_after.to_string()),
                error: None,
                delay_ms: None,
                drop: false,
                drop_after: false,
                every: None,
                seen: 0,
                fired: 0,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle(v: Value) -> Throttle {
        let mut t = Throttle::default();
        let spec = serde_json::from_value(v).unwrap_or_else(|e| panic!("bad spec: {e}"));
        t.set(spec).unwrap_or_else(|e| panic!("{e}"));
        t
    }

    #[test]
    fn a_spent_bucket_answers_429_with_retry_after() {
        let mut t = throttle(json!({"writes": {"rate": 0.5, "burst": 2}}));
        let path = "/subscriptions/s/resourceGroups/rg";
        assert!(t.check("PUT", path).is_none());
        assert!(t.check("PUT", path).is_none());
        let refused = t.check("PUT", path).and_then(|a| a.respond);
        let rule = refused.unwrap_or_else(|| panic!("third write passed"));
        assert_eq!(rule.status, Some(429));
        assert_eq!(rule.retry_after.as_deref(), Some("2"));
        assert!(
            t.check("GET", path).is_none(),
            "reads have their own bucket"
        );
        assert!(
            t.check("PUT", "/tenants").is_none(),
            "tenant calls not modelled"
        );
        assert_eq!(t.report()["refused"]["writes"], 1);
    }

    #[test]
    fn random_share_refuses_about_that_share() {
        let mut t = throttle(json!({"random_share": 0.1, "seed": 7}));
        let refused = (0..10_000)
            .filter(|_| t.check("GET", "/subscriptions/s").is_some())
            .count();
        assert!((800..1200).contains(&refused), "{refused}");
        assert!(
            Throttle::default()
                .check("GET", "/subscriptions/s")
                .is_none()
        );
        let bad = serde_json::from_value::<ThrottleSpec>(json!({"random_share": 2.0}));
        assert!(Throttle::default().set(bad.unwrap_or_default()).is_err());
    }
}
