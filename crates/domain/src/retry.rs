//! How often, and how soon, a durable job that failed for a passing reason is tried again.
//! Deterministic: the spread of the delays comes from the job's id, so that jobs failing
//! together (a database restart) do not all come back at the same moment, yet a job's schedule
//! can be computed and tested without a clock or a random source.

/// When a failed job runs again, and when it is given up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Runs a job gets in all, the first included.
    pub max_attempts: i64,
    /// The delay after the first failed run (before jitter); it doubles after each.
    pub base_ms: i64,
    /// No delay exceeds this.
    pub cap_ms: i64,
}

/// What becomes of a job whose run failed for a passing reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Run it again this many milliseconds from now.
    RetryAfter(i64),
    /// It has had its runs: end it as failed.
    GiveUp,
}

impl Default for RetryPolicy {
    /// Eight runs over about two minutes (1, 2, 4 … 64 s apart, each between half and all of
    /// that), no delay above five minutes.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            base_ms: 1_000,
            cap_ms: 300_000,
        }
    }
}

impl RetryPolicy {
    /// After run number `attempt` (1 for the first) of job `job_id` failed: wait, or give up.
    /// The delay is the exponential one, capped, then spread over its upper half by the job's
    /// id and the attempt ("equal jitter"): never less than half of it, never more.
    pub fn next(&self, attempt: i64, job_id: &str) -> Decision {
        if attempt >= self.max_attempts {
            return Decision::GiveUp;
        }
        let doublings = u32::try_from(attempt.saturating_sub(1).clamp(0, 62)).unwrap_or(62);
        let full = self
            .base_ms
            .saturating_mul(1_i64.checked_shl(doublings).unwrap_or(i64::MAX))
            .min(self.cap_ms)
            .max(0);
        let half = full / 2;
        let spread = (full - half) as u64 + 1;
        let jitter = (fnv1a(job_id, attempt) % spread) as i64;
        Decision::RetryAfter(half + jitter)
    }

    /// After run number `attempt` of job `job_id` failed: a failure that would repeat itself
    /// (`transient` false) ends the job at once; a passing one is tried again, while runs remain.
    pub fn decide(&self, transient: bool, attempt: i64, job_id: &str) -> Decision {
        match transient {
            true => self.next(attempt, job_id),
            false => Decision::GiveUp,
        }
    }

    /// Whether a job claimed for its run number `attempt` may run at all. A run that never
    /// reported back (its worker died, its lease ran out) still counts: a job that kills its
    /// worker is given up when claimed after its last run.
    pub fn admits(&self, attempt: i64) -> bool {
        attempt <= self.max_attempts
    }
}

/// 64-bit FNV-1a of the id and the attempt.
fn fnv1a(id: &str, attempt: i64) -> u64 {
    id.bytes()
        .chain(attempt.to_le_bytes())
        .fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
}

/// A failure's description as kept beside a job for operators: one line, no control
/// characters (a database message may quote the value it refused), at most 500 characters.
pub fn failure_note(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(500)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delay(p: &RetryPolicy, attempt: i64, id: &str) -> i64 {
        match p.next(attempt, id) {
            Decision::RetryAfter(ms) => ms,
            Decision::GiveUp => panic!("gave up after attempt {attempt}"),
        }
    }

    #[test]
    fn delays_stay_within_the_upper_half_of_the_doubling_delay() {
        let p = RetryPolicy::default();
        for id in ["a", "job-1", "0123456789abcdef0123456789abcdef", ""] {
            for attempt in 1..p.max_attempts {
                let full = (1_000_i64 << (attempt - 1)).min(300_000);
                let d = delay(&p, attempt, id);
                assert!(
                    (full / 2..=full).contains(&d),
                    "{id} attempt {attempt}: {d} not in {}..={full}",
                    full / 2
                );
            }
        }
    }

    #[test]
    fn delays_grow_and_are_capped() {
        let p = RetryPolicy {
            max_attempts: 40,
            base_ms: 1_000,
            cap_ms: 300_000,
        };
        let id = "growing";
        // Each delay's lower bound is the previous one's upper bound while doubling.
        for attempt in 1..9 {
            assert!(
                delay(&p, attempt + 1, id) >= delay(&p, attempt, id),
                "attempt {attempt}"
            );
        }
        for attempt in 10..40 {
            let d = delay(&p, attempt, id);
            assert!((150_000..=300_000).contains(&d), "attempt {attempt}: {d}");
        }
    }

    #[test]
    fn jitter_differs_between_jobs() {
        let p = RetryPolicy::default();
        let delays: std::collections::BTreeSet<i64> =
            (0..50).map(|i| delay(&p, 5, &format!("job-{i}"))).collect();
        assert!(delays.len() > 40, "only {} distinct delays", delays.len());
        assert_eq!(
            delay(&p, 5, "job-1"),
            delay(&p, 5, "job-1"),
            "deterministic"
        );
    }

    #[test]
    fn gives_up_after_the_last_attempt() {
        let p = RetryPolicy::default();
        assert!(matches!(p.next(7, "j"), Decision::RetryAfter(_)));
        assert_eq!(p.next(8, "j"), Decision::GiveUp);
        assert_eq!(p.next(9, "j"), Decision::GiveUp);
        assert!(p.admits(8));
        assert!(!p.admits(9));
    }

    #[test]
    fn a_permanent_failure_gives_up_at_once() {
        let p = RetryPolicy::default();
        assert_eq!(p.decide(false, 1, "j"), Decision::GiveUp);
        assert_eq!(p.decide(true, 1, "j"), p.next(1, "j"));
        assert_eq!(p.decide(true, 8, "j"), Decision::GiveUp);
    }

    #[test]
    fn extreme_settings_do_not_overflow() {
        let p = RetryPolicy {
            max_attempts: i64::MAX,
            base_ms: i64::MAX / 3,
            cap_ms: i64::MAX,
        };
        assert!(delay(&p, 1_000, "x") > 0);
        assert!(delay(&p, 0, "x") > 0);
    }

    #[test]
    fn failure_notes_are_one_bounded_line() {
        assert_eq!(failure_note("a\0b\nc"), "a b c");
        assert_eq!(failure_note(&"é".repeat(900)).chars().count(), 500);
    }
}
