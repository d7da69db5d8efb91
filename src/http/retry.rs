//! The one retry loop: which failures are retried, how long to wait, when to give up.

use super::backoff::{Backoff, Random, SplitMix64};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// Retries after the first attempt (so at most four attempts in all).
pub const MAX_RETRIES: u32 = 3;
/// Lower bound of the backoff delay.
pub const BASE_DELAY: Duration = Duration::from_millis(800);
/// Upper bound of a computed backoff delay; a server's `Retry-After` longer than this ends
/// the loop instead of parking the Terraform run.
pub const MAX_DELAY: Duration = Duration::from_secs(60);
/// Total time budget of one call including all retries and waits.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(180);

/// HTTP statuses worth another attempt: timeouts, throttling and transient server faults.
pub const RETRYABLE_STATUSES: [u16; 6] = [408, 429, 500, 502, 503, 504];

/// Whether a status code is retried.
pub fn is_retryable_status(status: u16) -> bool {
    RETRYABLE_STATUSES.contains(&status)
}

/// The verdict on one failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Give up now and return this error.
    Fail,
    /// Try again; the server may ask for a minimum wait.
    Retry {
        /// Server-requested delay (`Retry-After`), when present.
        retry_after: Option<Duration>,
    },
}

/// Sleeping and a monotonic clock, injectable so tests run without waiting.
pub trait Clock: Send + Sync {
    /// Time since an arbitrary fixed origin.
    fn now(&self) -> Duration;
    /// Waits for `d`.
    fn sleep(&self, d: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>>;
}

/// The real clock: `tokio::time`, so tests may also use paused time.
#[derive(Debug, Clone)]
pub struct TokioClock {
    origin: tokio::time::Instant,
}

impl Default for TokioClock {
    fn default() -> Self {
        Self {
            origin: tokio::time::Instant::now(),
        }
    }
}

impl Clock for TokioClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }
    fn sleep(&self, d: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(tokio::time::sleep(d))
    }
}

type RandomFactory = Arc<dyn Fn() -> Box<dyn Random> + Send + Sync>;

/// Retry policy shared by the Azure and AWS-facing HTTP code.
#[derive(Clone)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// Lower bound of the backoff delay.
    pub base_delay: Duration,
    /// Upper bound of a computed delay.
    pub max_delay: Duration,
    /// Overall budget; no retry starts if its wait would end past it.
    pub deadline: Duration,
    clock: Arc<dyn Clock>,
    random: RandomFactory,
}

impl std::fmt::Debug for RetryPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RetryPolicy")
            .field("max_retries", &self.max_retries)
            .field("base_delay", &self.base_delay)
            .field("max_delay", &self.max_delay)
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: MAX_RETRIES,
            base_delay: BASE_DELAY,
            max_delay: MAX_DELAY,
            deadline: DEFAULT_DEADLINE,
            clock: Arc::new(TokioClock::default()),
            random: Arc::new(|| Box::new(SplitMix64::from_entropy())),
        }
    }
}

impl RetryPolicy {
    /// Replaces the clock (tests: a fake clock that records sleeps).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Uses a fixed-seed generator for jitter (tests: exact delay sequences).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.random = Arc::new(move || Box::new(SplitMix64::seeded(seed)));
        self
    }

    /// Sets the overall time budget (a resource's `timeouts {}` value).
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Sets the number of retries.
    pub fn with_max_retries(mut self, max_retries: u32) -> Self {
        self.max_retries = max_retries;
        self
    }

    /// The policy's clock, for callers that wait between polls with the same time source.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Runs `attempt` until it succeeds, `classify` says [`Verdict::Fail`], retries run out,
    /// or the next wait would cross the deadline. The last error is returned unchanged.
    pub async fn run<T, E, F, Fut>(
        &self,
        what: &str,
        mut attempt: F,
        classify: impl Fn(&E) -> Verdict,
    ) -> Result<T, E>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: std::fmt::Display,
    {
        let start = self.clock.now();
        let mut backoff = Backoff::new(self.base_delay, self.max_delay, (self.random)());
        let mut retry = 0;
        loop {
            let err = match attempt().await {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            let Verdict::Retry { retry_after } = classify(&err) else {
                return Err(err);
            };
            if retry >= self.max_retries {
                tracing::debug!(what, retries = retry, "giving up: retries exhausted");
                return Err(err);
            }
            let jittered = backoff.next_delay();
            let delay = match retry_after {
                Some(server) if server > self.max_delay => {
                    tracing::warn!(
                        what,
                        retry_after_s = server.as_secs(),
                        "server asks to wait longer than the retry cap; giving up"
                    );
                    return Err(err);
                }
                Some(server) => server.max(jittered),
                None => jittered,
            };
            let elapsed = self.clock.now().saturating_sub(start);
            if elapsed + delay > self.deadline {
                tracing::warn!(
                    what,
                    elapsed_ms = elapsed.as_millis() as u64,
                    "giving up: retry would pass the deadline"
                );
                return Err(err);
            }
            retry += 1;
            tracing::warn!(
                what,
                delay_ms = delay.as_millis() as u64,
                error = %err,
                "retry {retry} of {max}",
                max = self.max_retries
            );
            self.clock.sleep(delay).await;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A clock that never waits and records what it was asked to sleep.
    #[derive(Default)]
    pub(crate) struct FakeClock {
        pub(crate) slept: Mutex<Vec<Duration>>,
    }

    impl Clock for FakeClock {
        fn now(&self) -> Duration {
            self.slept
                .lock()
                .map(|s| s.iter().sum())
                .unwrap_or_default()
        }
        fn sleep(&self, d: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
            if let Ok(mut s) = self.slept.lock() {
                s.push(d);
            }
            Box::pin(async {})
        }
    }

    impl FakeClock {
        pub(crate) fn sleeps(&self) -> Vec<Duration> {
            self.slept.lock().map(|s| s.clone()).unwrap_or_default()
        }
    }

    fn policy(clock: Arc<FakeClock>) -> RetryPolicy {
        RetryPolicy::default().with_seed(42).with_clock(clock)
    }

    #[test]
    fn defaults_are_the_named_constants() {
        let p = RetryPolicy::default();
        assert_eq!(p.max_retries, 3);
        assert_eq!(p.base_delay, Duration::from_millis(800));
        assert_eq!(p.max_delay, Duration::from_secs(60));
        assert_eq!(p.deadline, DEFAULT_DEADLINE);
    }

    #[test]
    fn retryable_statuses() {
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(is_retryable_status(s), "{s}");
        }
        for s in [200, 400, 401, 403, 404, 409, 412, 501] {
            assert!(!is_retryable_status(s), "{s}");
        }
    }

    #[tokio::test]
    async fn retries_until_success_with_pinned_delays() {
        let clock = Arc::new(FakeClock::default());
        let mut calls = 0;
        let out: Result<u32, String> = policy(clock.clone())
            .run(
                "test",
                || {
                    calls += 1;
                    let n = calls;
                    async move {
                        if n < 3 {
                            Err(format!("fail {n}"))
                        } else {
                            Ok(n)
                        }
                    }
                },
                |_| Verdict::Retry { retry_after: None },
            )
            .await;
        assert_eq!(out, Ok(3));
        let ms: Vec<u128> = clock.sleeps().iter().map(Duration::as_millis).collect();
        assert_eq!(ms, vec![1986, 1625]);
    }

    #[tokio::test]
    async fn gives_up_after_max_retries() {
        let clock = Arc::new(FakeClock::default());
        let mut calls = 0;
        let out: Result<(), String> = policy(clock.clone())
            .run(
                "test",
                || {
                    calls += 1;
                    async { Err("always".to_owned()) }
                },
                |_| Verdict::Retry { retry_after: None },
            )
            .await;
        assert_eq!(out, Err("always".to_owned()));
        assert_eq!(calls, 4);
        assert_eq!(clock.sleeps().len(), 3);
        assert!(clock.sleeps().iter().all(|d| *d <= MAX_DELAY));
    }

    #[tokio::test]
    async fn fail_verdict_stops_at_once() {
        let clock = Arc::new(FakeClock::default());
        let mut calls = 0;
        let out: Result<(), String> = policy(clock.clone())
            .run(
                "test",
                || {
                    calls += 1;
                    async { Err("certificate".to_owned()) }
                },
                |_| Verdict::Fail,
            )
            .await;
        assert!(out.is_err());
        assert_eq!(calls, 1);
        assert!(clock.sleeps().is_empty());
    }

    #[tokio::test]
    async fn retry_after_wins_when_longer() {
        let clock = Arc::new(FakeClock::default());
        let mut calls = 0;
        let _: Result<(), String> = policy(clock.clone())
            .with_max_retries(2)
            .run(
                "test",
                || {
                    calls += 1;
                    async { Err("429".to_owned()) }
                },
                |_| Verdict::Retry {
                    retry_after: Some(Duration::from_millis(1800)),
                },
            )
            .await;
        // Jittered delays are 1986 ms then 1625 ms: the first beats the server's 1.8 s, the second does not.
        let ms: Vec<u128> = clock.sleeps().iter().map(Duration::as_millis).collect();
        assert_eq!(ms, vec![1986, 1800]);
    }

    #[tokio::test]
    async fn retry_after_beyond_cap_gives_up() {
        let clock = Arc::new(FakeClock::default());
        let out: Result<(), String> = policy(clock.clone())
            .run(
                "test",
                || async { Err("429".to_owned()) },
                |_| Verdict::Retry {
                    retry_after: Some(Duration::from_secs(3600)),
                },
            )
            .await;
        assert!(out.is_err());
        assert!(clock.sleeps().is_empty());
    }

    #[tokio::test]
    async fn deadline_bounds_the_loop() {
        let clock = Arc::new(FakeClock::default());
        let mut calls = 0;
        let _: Result<(), String> = policy(clock.clone())
            .with_max_retries(100)
            .with_deadline(Duration::from_secs(10))
            .run(
                "test",
                || {
                    calls += 1;
                    async { Err("503".to_owned()) }
                },
                |_| Verdict::Retry { retry_after: None },
            )
            .await;
        let total: Duration = clock.sleeps().iter().sum();
        assert!(total <= Duration::from_secs(10), "{total:?}");
        assert!(calls < 10, "{calls}");
    }

    #[tokio::test(start_paused = true)]
    async fn tokio_clock_really_waits_retry_after() {
        let start = tokio::time::Instant::now();
        let mut calls = 0;
        let _: Result<(), String> = RetryPolicy::default()
            .with_seed(1)
            .with_max_retries(1)
            .run(
                "test",
                || {
                    calls += 1;
                    async { Err("429".to_owned()) }
                },
                |_| Verdict::Retry {
                    retry_after: Some(Duration::from_secs(5)),
                },
            )
            .await;
        assert!(start.elapsed() >= Duration::from_secs(5));
        assert_eq!(calls, 2);
    }
}
