//! Wall-clock helpers: Unix seconds and the RFC 3339 / Entra timestamp renderings ARM bodies use.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch.
pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_millis() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

/// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm), to avoid a date crate.
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn parts(millis: u128) -> (i64, u32, u32, u64, u64, u64, u64) {
    let secs = (millis / 1000) as u64;
    let (y, m, d) = civil((secs / 86_400) as i64);
    let rem = secs % 86_400;
    (
        y,
        m,
        d,
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        (millis % 1000) as u64,
    )
}

/// RFC 3339 UTC with milliseconds, e.g. `2024-05-01T12:00:00.123Z`.
pub(crate) fn rfc3339_now() -> String {
    rfc3339_at(now_millis())
}

/// [`rfc3339_now`] for another instant, given in milliseconds since the Unix epoch.
pub(crate) fn rfc3339_at(millis: u128) -> String {
    let (y, mo, d, h, mi, s, ms) = parts(millis);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
}

/// Entra's `timestamp` field format, e.g. `2024-05-01 12:00:00Z`.
pub(crate) fn entra_timestamp_now() -> String {
    let (y, mo, d, h, mi, s, _) = parts(now_millis());
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(19_723), (2024, 1, 1));
        assert_eq!(civil(19_782), (2024, 2, 29));
        assert_eq!(rfc3339_at(86_400_000 + 1_001), "1970-01-02T00:00:01.001Z");
    }
}
