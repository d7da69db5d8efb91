//! The IAM propagation wait: bounded retries keyed on specific eventual-consistency errors.
//!
//! IAM is eventually consistent: a role trusting a just-created OIDC provider may be refused
//! with "Invalid principal in policy", a just-created role may read as `NoSuchEntity`, and a
//! role whose policies were just removed may still refuse deletion with `DeleteConflict`.
//! Each of those is retried here, within one time budget, and nothing else is: any other
//! error returns at once so genuinely wrong input is not hidden behind a two-minute wait.

use crate::aws::error::AwsError;
use crate::http::{Clock, TokioClock};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// Default budget for one propagation wait, as the AWS provider uses for IAM.
pub const PROPAGATION_TIMEOUT: Duration = Duration::from_secs(120);
/// First delay between attempts.
pub const PROPAGATION_MIN_DELAY: Duration = Duration::from_millis(500);
/// Longest delay between attempts (delays double up to it).
pub const PROPAGATION_MAX_DELAY: Duration = Duration::from_secs(5);

/// A named, bounded wait for IAM propagation, with an injectable clock.
#[derive(Clone)]
pub struct PropagationWait {
    budget: Duration,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for PropagationWait {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PropagationWait")
            .field("budget", &self.budget)
            .finish_non_exhaustive()
    }
}

impl Default for PropagationWait {
    fn default() -> Self {
        Self::new(PROPAGATION_TIMEOUT)
    }
}

impl PropagationWait {
    /// A wait with the given budget on the real clock.
    pub fn new(budget: Duration) -> Self {
        Self {
            budget,
            clock: Arc::new(TokioClock::default()),
        }
    }

    /// Replaces the clock (tests: a fake clock that does not sleep).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The budget.
    pub fn budget(&self) -> Duration {
        self.budget
    }

    /// The clock waits sleep on (also the pause before resending a write whose answer was lost).
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Runs `op` until it succeeds, fails with an error `retryable` rejects, or the next
    /// delay would cross the budget; the last error (classified by `classify`) is returned.
    pub async fn retry_while<T, E, F, Fut>(
        &self,
        what: &str,
        mut op: F,
        retryable: impl Fn(&AwsError) -> bool,
        classify: impl Fn(E) -> AwsError,
    ) -> Result<T, AwsError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let start = self.clock.now();
        let mut delay = PROPAGATION_MIN_DELAY;
        let mut attempt = 1u32;
        loop {
            let err = match op().await {
                Ok(v) => return Ok(v),
                Err(e) => classify(e),
            };
            let elapsed = self.clock.now().saturating_sub(start);
            if !retryable(&err) || elapsed + delay > self.budget {
                return Err(err);
            }
            tracing::info!(
                what,
                attempt,
                delay_ms = delay.as_millis() as u64,
                error = %err,
                "waiting for IAM propagation"
            );
            self.clock.sleep(delay).await;
            delay = (delay * 2).min(PROPAGATION_MAX_DELAY);
            attempt += 1;
        }
    }
}

/// IAM's answer while a principal named in a trust policy has not propagated yet.
pub fn is_invalid_principal(e: &AwsError) -> bool {
    matches!(e, AwsError::MalformedPolicy { message, .. } if message.contains("Invalid principal in policy"))
}

/// IAM's answer while a just-detached policy still blocks a role's deletion.
pub fn is_delete_conflict(e: &AwsError) -> bool {
    matches!(e, AwsError::Conflict { code, .. } if code == "DeleteConflict")
}
