//! Parsing of server-requested retry delays (`Retry-After` and Azure's millisecond variants).

use std::time::{Duration, SystemTime};

/// Header names consulted, most precise first. Azure sends the `-ms` variants on some throttles.
pub const RETRY_AFTER_HEADERS: [&str; 3] = ["retry-after-ms", "x-ms-retry-after-ms", "retry-after"];

/// Parses a `Retry-After` value: delta-seconds (`"120"`) or an HTTP-date
/// (`"Wed, 21 Oct 2015 07:28:00 GMT"`). A date in the past means "now" (zero).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    // Some servers send fractional seconds; tolerate them rather than ignore the hint.
    // A number of seconds too large for a Duration (found by fuzzing: it panicked) is no
    // usable hint either.
    if let Ok(secs) = value.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).ok();
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Reads the server's requested delay from response headers, if any.
pub fn retry_after_from_headers(headers: &http::HeaderMap, now: SystemTime) -> Option<Duration> {
    for name in RETRY_AFTER_HEADERS {
        let Some(value) = headers.get(name).and_then(|v| v.to_str().ok()) else {
            continue;
        };
        let parsed = if name == "retry-after" {
            parse_retry_after(value, now)
        } else {
            value.trim().parse::<u64>().ok().map(Duration::from_millis)
        };
        if parsed.is_some() {
            return parsed;
        }
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn seconds_beyond_a_duration_are_ignored_not_a_panic() {
        let huge = "6".repeat(50);
        assert_eq!(parse_retry_after(&huge, SystemTime::UNIX_EPOCH), None);
        assert_eq!(parse_retry_after("1e300", SystemTime::UNIX_EPOCH), None);
        assert_eq!(parse_retry_after("-1.5", SystemTime::UNIX_EPOCH), None);
        assert_eq!(parse_retry_after("NaN", SystemTime::UNIX_EPOCH), None);
        assert_eq!(
            parse_retry_after("1.5", SystemTime::UNIX_EPOCH),
            Some(Duration::from_millis(1500))
        );
    }

    #[test]
    fn seconds() {
        let now = SystemTime::now();
        assert_eq!(parse_retry_after("2", now), Some(Duration::from_secs(2)));
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("1.5", now),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(parse_retry_after("-3", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn http_date() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").expect("valid date");
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn header_precedence() {
        let now = SystemTime::now();
        let mut h = http::HeaderMap::new();
        h.insert("retry-after", http::HeaderValue::from_static("5"));
        assert_eq!(
            retry_after_from_headers(&h, now),
            Some(Duration::from_secs(5))
        );
        h.insert("x-ms-retry-after-ms", http::HeaderValue::from_static("250"));
        assert_eq!(
            retry_after_from_headers(&h, now),
            Some(Duration::from_millis(250))
        );
        assert_eq!(retry_after_from_headers(&http::HeaderMap::new(), now), None);
    }
}
