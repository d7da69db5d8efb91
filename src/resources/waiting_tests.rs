use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::http::retry::{Clock, TokioClock};
use crate::protocol::Value;

use super::*;

const CADENCE: Cadence = Cadence {
    default_timeout: Duration::from_secs(60),
    first_interval: Duration::from_secs(10),
    max_interval: Duration::from_secs(20),
};

fn clock() -> Arc<dyn Clock> {
    Arc::new(TokioClock::default())
}

type Answer = Result<Poll<&'static str, u32>, &'static str>;

/// A read that answers `answers` in turn (the last one forever), counting its calls.
fn script<'a>(
    answers: Vec<Answer>,
    calls: &'a AtomicUsize,
) -> impl FnMut() -> std::future::Ready<Answer> + 'a {
    move || {
        let n = calls.fetch_add(1, Ordering::SeqCst);
        let answer = answers
            .get(n)
            .or(answers.last())
            .cloned()
            .unwrap_or(Err("no answer scripted"));
        std::future::ready(answer)
    }
}

#[tokio::test(start_paused = true)]
async fn a_condition_that_holds_at_once_is_read_once_without_pausing() {
    let clock = clock();
    let calls = AtomicUsize::new(0);
    let wait = CADENCE.wait_for(clock.clone(), Duration::from_secs(60));
    let got = wait
        .until("test", script(vec![Ok(Poll::Ready("done"))], &calls))
        .await;
    assert_eq!(got, Ok("done"));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(clock.now(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn pauses_double_until_the_condition_holds() {
    let clock = clock();
    let calls = AtomicUsize::new(0);
    let answers = vec![
        Ok(Poll::Pending(1)),
        Ok(Poll::Pending(2)),
        Ok(Poll::Ready("done")),
    ];
    let got = CADENCE
        .wait_for(clock.clone(), Duration::from_secs(60))
        .until("test", script(answers, &calls))
        .await;
    assert_eq!(got, Ok("done"));
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    // 10 s, then 20 s.
    assert_eq!(clock.now(), Duration::from_secs(30));
}

#[tokio::test(start_paused = true)]
async fn gives_up_before_a_pause_that_would_pass_the_timeout() {
    let clock = clock();
    let calls = AtomicUsize::new(0);
    let got = CADENCE
        .wait_for(clock.clone(), Duration::from_secs(60))
        .until("test", script(vec![Ok(Poll::Pending(7))], &calls))
        .await;
    // Reads at 0, 10, 30 and 50 s (the pause is capped at 20 s); 50 + 20 > 60.
    assert_eq!(
        got,
        Err(WaitError::TimedOut {
            last: 7,
            elapsed: Duration::from_secs(50),
            timeout: Duration::from_secs(60),
        })
    );
    assert_eq!(calls.load(Ordering::SeqCst), 4);
    assert_eq!(clock.now(), Duration::from_secs(50));
}

#[tokio::test(start_paused = true)]
async fn a_failed_read_ends_the_wait_with_its_error() {
    let clock = clock();
    let calls = AtomicUsize::new(0);
    let answers = vec![Ok(Poll::Pending(1)), Err("denied"), Ok(Poll::Ready("late"))];
    let got = CADENCE
        .wait_for(clock.clone(), Duration::from_secs(600))
        .until("test", script(answers, &calls))
        .await;
    assert_eq!(got, Err(WaitError::Failed("denied")));
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(clock.now(), Duration::from_secs(10));
}

#[tokio::test(start_paused = true)]
async fn once_reads_once_and_reports_what_it_saw() {
    let clock = clock();
    let calls = AtomicUsize::new(0);
    let wait = CADENCE
        .wait_for(clock.clone(), Duration::from_secs(600))
        .once();
    assert_eq!(wait.timeout, Duration::ZERO);
    let got = wait
        .until("test", script(vec![Ok(Poll::Pending(3))], &calls))
        .await;
    assert_eq!(
        got,
        Err(WaitError::TimedOut {
            last: 3,
            elapsed: Duration::ZERO,
            timeout: Duration::ZERO,
        })
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[test]
fn the_bound_comes_from_wait_timeout_or_the_default() {
    let none = Value::object::<String>([]);
    let wait = CADENCE.wait(clock(), &none);
    assert_eq!(wait.map(|w| w.timeout), Some(Duration::from_secs(60)));

    let mut set = none.clone();
    set.set_attr("wait_timeout", "5m");
    let wait = CADENCE.wait(clock(), &set);
    assert_eq!(wait.map(|w| w.timeout), Some(Duration::from_secs(300)));

    let mut bad = none;
    bad.set_attr("wait_timeout", "soon");
    assert!(CADENCE.wait(clock(), &bad).is_none());
}

#[test]
fn the_waited_phrase_names_both_durations() {
    assert_eq!(
        waited(Duration::from_secs(95), Duration::from_secs(600)),
        "after 95s of waiting (wait_timeout 600s)"
    );
}
