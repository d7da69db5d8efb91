//! AWS writes whose answer never came back.
//!
//! The SDK sends a call again when its connection breaks or times out, but only a few times
//! and quickly; on a flaky network all of its attempts can end without an answer while the
//! first of them was processed. The call then fails as [`AwsError::Unreachable`] although its
//! effect may well exist. Writes that do the same however often they arrive (putting, attaching
//! or detaching a policy, tagging, replacing a trust policy, deleting, and creates that carry an
//! idempotency token) are simply sent again here, a bounded number of times with a pause
//! between: the pause lets a connection that broke for a moment recover.
//!
//! What a resend may answer is no surprise either: a delete answered "no such entity" was
//! done by an earlier attempt, and callers already count that as success. Creates without an
//! idempotency token (IAM's roles, users, OIDC providers and access keys) are not resent
//! blindly: `iam::lost_answer` decides whether the object that exists afterwards is ours.

use std::future::Future;
use std::time::Duration;

use super::error::AwsError;
use crate::http::Clock;

/// Times one write is sent again after the SDK's own attempts all ended without an answer.
pub const MAX_RESENDS: u32 = 3;
/// Pause before the first resend; doubled before each further one.
pub const RESEND_DELAY: Duration = Duration::from_secs(1);

/// Whether a failed call may have been processed all the same: no answer came back (the
/// connection broke or an attempt timed out after the request was sent).
pub fn answer_lost(e: &AwsError) -> bool {
    matches!(e, AwsError::Unreachable { .. })
}

/// Sends `write` and, while it fails without an answer ([`answer_lost`]), sends it again, at
/// most [`MAX_RESENDS`] times, sleeping on `clock` between. Only for writes that are safe to
/// repeat (see the module documentation); any answer, error or not, is returned as it is.
pub async fn resend_while_lost<T, F, Fut>(
    clock: &dyn Clock,
    operation: &str,
    mut write: F,
) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    let mut delay = RESEND_DELAY;
    let mut resends = 0;
    loop {
        match write().await {
            Err(e) if answer_lost(&e) && resends < MAX_RESENDS => {
                resends += 1;
                tracing::warn!(
                    operation,
                    resend = resends,
                    of = MAX_RESENDS,
                    error = %e,
                    "the answer to a write was lost; sending it again"
                );
                clock.sleep(delay).await;
                delay *= 2;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::http::retry::tests::FakeClock;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn lost() -> AwsError {
        AwsError::Unreachable {
            service: "iam".into(),
            endpoint: "https://iam.amazonaws.com".into(),
            message: "connection closed before message completed".into(),
        }
    }

    #[tokio::test]
    async fn a_lost_answer_is_sent_again_until_one_comes_back() {
        let clock = FakeClock::default();
        let calls = AtomicU32::new(0);
        let out = resend_while_lost(&clock, "PutRolePolicy", || async {
            if calls.fetch_add(1, Ordering::SeqCst) < 2 {
                Err(lost())
            } else {
                Ok("put")
            }
        })
        .await;
        assert_eq!(out.unwrap(), "put");
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert_eq!(
            clock.sleeps(),
            [1, 2].map(Duration::from_secs).to_vec(),
            "pauses double"
        );
    }

    #[tokio::test]
    async fn resends_are_bounded() {
        let clock = FakeClock::default();
        let calls = AtomicU32::new(0);
        let out: Result<(), _> = resend_while_lost(&clock, "TagRole", || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(lost())
        })
        .await;
        assert!(matches!(out, Err(AwsError::Unreachable { .. })), "{out:?}");
        assert_eq!(calls.load(Ordering::SeqCst), 1 + MAX_RESENDS);
    }

    #[tokio::test]
    async fn an_answer_is_final_even_when_it_is_an_error() {
        let clock = FakeClock::default();
        let calls = AtomicU32::new(0);
        let out: Result<(), _> = resend_while_lost(&clock, "DeleteRole", || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(crate::aws::error::classify_service_error(
                "DeleteRole",
                "NoSuchEntity".into(),
                "gone".into(),
                None,
            ))
        })
        .await;
        assert!(out.unwrap_err().is_not_found());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(clock.sleeps().is_empty());
    }
}
