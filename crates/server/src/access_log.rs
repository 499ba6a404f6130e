//! The access log: the one line per request (`iic_api::pipeline::ACCESS_LOG_TARGET`) is formatted
//! here instead of by tracing's general formatter, which cost about a fifth of the server's
//! throughput under load (docs/performance.md). The line keeps the shape of the other log lines:
//! `<timestamp> <level> <target>: key=value …` as text, or the same JSON object layout.
//! Whether it is written at all is still decided by the `IIC_LOG` filter.

use crate::log_writer::BatchedStderr;
use std::cell::RefCell;
use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::Layer;

pub use iic_api::pipeline::ACCESS_LOG_TARGET as TARGET;

pub struct AccessLog {
    sink: BatchedStderr,
    json: bool,
}

impl AccessLog {
    pub fn new(sink: BatchedStderr, json: bool) -> AccessLog {
        AccessLog { sink, json }
    }
}

thread_local! {
    static LINE: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(256));
    static CLOCK: RefCell<SecondStamp> = const { RefCell::new(SecondStamp { second: u64::MAX, text: [0; 19] }) };
}

impl<S: Subscriber> Layer<S> for AccessLog {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        if event.metadata().target() != TARGET {
            return;
        }
        LINE.with(|line| {
            let Ok(mut line) = line.try_borrow_mut() else {
                return;
            };
            line.clear();
            format_line(&mut line, SystemTime::now(), event, self.json);
            self.sink.append(&line);
        });
    }
}

fn format_line(out: &mut Vec<u8>, now: SystemTime, event: &Event<'_>, json: bool) {
    let meta = event.metadata();
    let level = meta.level().as_str();
    if json {
        out.extend_from_slice(b"{\"timestamp\":\"");
        timestamp(out, now);
        out.extend_from_slice(b"\",\"level\":\"");
        out.extend_from_slice(level.as_bytes());
        out.extend_from_slice(b"\",\"fields\":{");
    } else {
        timestamp(out, now);
        for _ in level.len()..6 {
            out.push(b' ');
        }
        out.extend_from_slice(level.as_bytes());
        out.push(b' ');
        out.extend_from_slice(meta.target().as_bytes());
        out.push(b':');
    }
    event.record(&mut Fields {
        out,
        json,
        first: true,
    });
    if json {
        out.extend_from_slice(b"},\"target\":");
        json_string(out, meta.target());
        out.push(b'}');
    }
    out.push(b'\n');
}

struct Fields<'a> {
    out: &'a mut Vec<u8>,
    json: bool,
    first: bool,
}

impl Fields<'_> {
    fn key(&mut self, field: &Field) {
        if self.json {
            if !self.first {
                self.out.push(b',');
            }
            json_string(self.out, field.name());
            self.out.push(b':');
        } else {
            self.out.push(b' ');
            self.out.extend_from_slice(field.name().as_bytes());
            self.out.push(b'=');
        }
        self.first = false;
    }

    fn number(&mut self, field: &Field, value: impl itoa::Integer) {
        self.key(field);
        self.out
            .extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
    }

    fn string(&mut self, value: &str) {
        if self.json {
            json_string(self.out, value);
        } else {
            self.out.extend_from_slice(value.as_bytes());
        }
    }
}

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.key(field);
        self.string(value);
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.number(field, value);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.number(field, value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.key(field);
        self.out
            .extend_from_slice(if value { b"true" } else { b"false" });
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let mut text = String::new();
        let _ = write!(text, "{value:?}");
        self.key(field);
        self.string(&text);
    }
}

fn json_string(out: &mut Vec<u8>, value: &str) {
    // Writing a &str into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, value);
}

/// `YYYY-MM-DDTHH:MM:SS` of the current second, rebuilt once a second per thread.
struct SecondStamp {
    second: u64,
    text: [u8; 19],
}

/// RFC 3339 in UTC with microseconds, as tracing's own formatter writes it.
fn timestamp(out: &mut Vec<u8>, now: SystemTime) {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let second = since.as_secs();
    CLOCK.with(|clock| {
        let mut clock = clock.borrow_mut();
        if clock.second != second {
            clock.text = civil_text(second);
            clock.second = second;
        }
        out.extend_from_slice(&clock.text);
    });
    out.push(b'.');
    let mut micros = itoa::Buffer::new();
    let micros = micros.format(since.subsec_micros());
    for _ in micros.len()..6 {
        out.push(b'0');
    }
    out.extend_from_slice(micros.as_bytes());
    out.push(b'Z');
}

/// `YYYY-MM-DDTHH:MM:SS` in UTC.
fn civil_text(unix_seconds: u64) -> [u8; 19] {
    let at = i64::try_from(unix_seconds)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let mut text = *b"0000-00-00T00:00:00";
    let mut put = |at: usize, value: u32, width: usize| {
        let mut v = value;
        for i in (0..width).rev() {
            text[at + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, at.year().unsigned_abs(), 4);
    put(5, u32::from(u8::from(at.month())), 2);
    put(8, u32::from(at.day()), 2);
    put(11, u32::from(at.hour()), 2);
    put(14, u32::from(at.minute()), 2);
    put(17, u32::from(at.second()), 2);
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tracing_subscriber::layer::SubscriberExt;

    fn logged(json: bool, emit: impl FnOnce()) -> String {
        let sink = BatchedStderr::default();
        let subscriber = tracing_subscriber::registry().with(AccessLog::new(sink.clone(), json));
        tracing::subscriber::with_default(subscriber, emit);
        String::from_utf8(sink.take()).expect("utf-8")
    }

    #[test]
    fn a_text_line_carries_every_field() {
        let text = logged(false, || {
            tracing::info!(
                target: TARGET,
                method = "GET",
                path = "/v1/instances",
                status = 200u64,
                latency_us = 57u64,
                request_id = "0123456789abcdef0123456789abcdef",
            );
        });
        let (stamp, rest) = text.split_at(27);
        assert!(
            stamp.ends_with('Z') && stamp.as_bytes()[10] == b'T',
            "{text}"
        );
        assert_eq!(
            rest,
            "  INFO iic::access: method=GET path=/v1/instances status=200 latency_us=57 \
             request_id=0123456789abcdef0123456789abcdef\n"
        );
    }

    #[test]
    fn a_json_line_is_an_object_with_escaped_strings() {
        let text = logged(true, || {
            tracing::info!(target: TARGET, path = "/a\"b", status = 404u64, slow = true);
        });
        let value: serde_json::Value = serde_json::from_str(text.trim_end()).expect("json");
        assert_eq!(value["level"], "INFO");
        assert_eq!(value["target"], "iic::access");
        assert_eq!(value["fields"]["path"], "/a\"b");
        assert_eq!(value["fields"]["status"], 404);
        assert_eq!(value["fields"]["slow"], true);
        assert_eq!(value["timestamp"].as_str().map(str::len), Some(27));
    }

    #[test]
    fn other_targets_are_left_to_the_general_formatter() {
        let text = logged(false, || tracing::info!(target: "iic::other", path = "/x"));
        assert!(text.is_empty(), "{text}");
    }

    #[test]
    fn timestamps_are_rfc3339_utc_with_microseconds() {
        let mut out = Vec::new();
        let at = UNIX_EPOCH + Duration::from_micros(1_764_640_443_000_042);
        timestamp(&mut out, at);
        assert_eq!(out, b"2025-12-02T01:54:03.000042Z");
        out.clear();
        timestamp(&mut out, UNIX_EPOCH + Duration::from_secs(951_782_400));
        assert_eq!(out, b"2000-02-29T00:00:00.000000Z", "a leap day");
        out.clear();
        timestamp(&mut out, UNIX_EPOCH);
        assert_eq!(out, b"1970-01-01T00:00:00.000000Z");
    }
}
