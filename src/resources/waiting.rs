//! The one bounded wait of reads that may wait for a condition (a healthy connector, a synced
//! inventory, enough member connectors): read, pause, read again with a doubling pause, until
//! the condition holds, a read fails, or the next pause would end past the timeout.
//!
//! This is the eventual-consistency wait of the house rules, kept apart from the transport
//! retry in `http::retry`: each read here already went through that retry.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::http::retry::Clock;
use crate::protocol::Value;

use super::validators;

/// What one read found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Poll<T, W> {
    /// The condition holds: the wait ends with this value.
    Ready(T),
    /// Not yet; what was seen, handed back if the wait runs out.
    Pending(W),
}

/// Why a wait ended without its condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WaitError<W, E> {
    /// A read failed: waiting longer would not help, so the wait stops at once.
    Failed(E),
    /// Waiting longer would pass the timeout.
    TimedOut {
        /// What the last read saw.
        last: W,
        /// Time spent since the first read began.
        elapsed: Duration,
        /// The bound that was reached.
        timeout: Duration,
    },
}

/// How a data source or resource paces its wait: its default bound (when `wait_timeout` is not
/// set) and the pauses between reads. Each caller keeps its own, because the services behind
/// them settle at very different speeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cadence {
    /// The bound when the configuration sets no `wait_timeout`.
    pub(crate) default_timeout: Duration,
    /// The first pause; each later one doubles, up to `max_interval`.
    pub(crate) first_interval: Duration,
    /// The longest pause.
    pub(crate) max_interval: Duration,
}

impl Cadence {
    /// The wait a configuration asks for: its `wait_timeout`, else the default. `None` when
    /// `wait_timeout` does not parse, which validation has already reported.
    pub(crate) fn wait(&self, clock: Arc<dyn Clock>, config: &Value) -> Option<Wait> {
        let timeout = validators::wait_timeout(config, self.default_timeout).ok()?;
        Some(self.wait_for(clock, timeout))
    }

    /// A wait bounded by `timeout`; [`Duration::ZERO`] reads exactly once.
    pub(crate) fn wait_for(&self, clock: Arc<dyn Clock>, timeout: Duration) -> Wait {
        Wait {
            clock,
            cadence: *self,
            timeout,
        }
    }
}

/// A wait ready to run: a clock, a cadence and a bound.
pub(crate) struct Wait {
    clock: Arc<dyn Clock>,
    cadence: Cadence,
    timeout: Duration,
}

impl std::fmt::Debug for Wait {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wait")
            .field("cadence", &self.cadence)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Wait {
    /// Only one read, however long the configuration would let it wait: for reads told not to
    /// wait, so that they report what they see now through the same path.
    pub(crate) fn once(mut self) -> Self {
        self.timeout = Duration::ZERO;
        self
    }

    /// Calls `read` until it answers [`Poll::Ready`] or fails, pausing between reads; gives up
    /// before a pause that would end past the timeout, so a wait never overruns its bound by
    /// a pause. `what` names the awaited condition in the progress log.
    pub(crate) async fn until<T, W, E, F, Fut>(
        &self,
        what: &str,
        mut read: F,
    ) -> Result<T, WaitError<W, E>>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Poll<T, W>, E>>,
    {
        let started = self.clock.now();
        let mut interval = self.cadence.first_interval;
        loop {
            let last = match read().await {
                Ok(Poll::Ready(value)) => return Ok(value),
                Ok(Poll::Pending(last)) => last,
                Err(e) => return Err(WaitError::Failed(e)),
            };
            let elapsed = self.clock.now().saturating_sub(started);
            if elapsed + interval > self.timeout {
                return Err(WaitError::TimedOut {
                    last,
                    elapsed,
                    timeout: self.timeout,
                });
            }
            tracing::info!(
                elapsed_s = elapsed.as_secs(),
                next_read_in_s = interval.as_secs(),
                "waiting for {what}"
            );
            self.clock.sleep(interval).await;
            interval = (interval * 2).min(self.cadence.max_interval);
        }
    }
}

/// `after 95s of waiting (wait_timeout 600s)`: how long a timed-out wait lasted, for its error.
pub(crate) fn waited(elapsed: Duration, timeout: Duration) -> String {
    format!(
        "after {}s of waiting (wait_timeout {}s)",
        elapsed.as_secs(),
        timeout.as_secs()
    )
}

#[cfg(test)]
#[path = "waiting_tests.rs"]
mod tests;
