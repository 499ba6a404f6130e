//! Wall-clock helpers. The only place that reads the system time.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, as the admin and identity store APIs report timestamps.
pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> i64 {
    now_millis() / 1000
}

/// Unix seconds as an RFC 3339 UTC time (`2026-12-02T19:30:00Z`), for people to read.
pub fn format_iso8601_secs(unix_secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix_secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn unix_seconds_read_as_utc() {
        assert_eq!(
            super::format_iso8601_secs(1_684_955_360),
            "2023-05-24T19:09:20Z"
        );
    }
}
