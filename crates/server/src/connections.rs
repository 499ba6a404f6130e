//! The open connections and what each is doing, so that a bounded number of them is served and a
//! silent one gives its place up: a connection that has not sent its request head in time, or
//! has sat idle between requests too long, is closed; at the cap, a new connection takes the
//! place of the longest-idle one that has not completed a request.

use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// Where a connection is between requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Accepted; its first request head is not complete yet.
    Fresh,
    /// A request of it is being read or handled, or its answer written.
    Busy,
    /// Answered; nothing of a next request has arrived.
    Idle,
    /// The head of a next request is arriving.
    Head,
}

impl Phase {
    fn code(self) -> u64 {
        match self {
            Phase::Fresh => 0,
            Phase::Busy => 1,
            Phase::Idle => 2,
            Phase::Head => 3,
        }
    }

    fn from_code(code: u64) -> Phase {
        match code & 3 {
            0 => Phase::Fresh,
            1 => Phase::Busy,
            2 => Phase::Idle,
            _ => Phase::Head,
        }
    }
}

/// One connection's state, shared by its task (which updates it) and the registry (which reads
/// it and may ask it to close). Times are milliseconds since the registry started.
pub struct Slot {
    index: usize,
    /// The phase in the low two bits, the time it began above them.
    phase: AtomicU64,
    last_read_ms: AtomicU64,
    close: Notify,
    clock: Clock,
}

impl Slot {
    pub fn phase(&self) -> (Phase, u64) {
        let v = self.phase.load(Ordering::Relaxed);
        (Phase::from_code(v), v >> 2)
    }

    fn set(&self, phase: Phase, at_ms: u64) {
        self.phase
            .store(at_ms << 2 | phase.code(), Ordering::Relaxed);
    }

    /// Bytes arrived from the client.
    pub fn on_read(&self) {
        let now = self.clock.now_ms();
        self.last_read_ms.store(now, Ordering::Relaxed);
        if self.phase().0 == Phase::Idle {
            self.set(Phase::Head, now);
        }
    }

    /// A complete request head was parsed: its request is in the server's hands now.
    pub fn on_request(&self) {
        self.set(Phase::Busy, self.clock.now_ms());
    }

    /// The request was answered.
    pub fn on_answered(&self) {
        self.set(Phase::Idle, self.clock.now_ms());
    }

    /// Resolves when the registry wants this connection closed.
    pub async fn closing(&self) {
        self.close.notified().await;
    }

    fn last_read(&self) -> u64 {
        self.last_read_ms.load(Ordering::Relaxed)
    }
}

#[derive(Clone, Copy)]
struct Clock(Instant);

impl Clock {
    fn now_ms(self) -> u64 {
        self.0.elapsed().as_millis() as u64
    }
}

/// How many connections may be open, and how long each may stay silent.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    pub max_connections: usize,
    /// From accept, or from the first byte of a later request, until its head is complete.
    pub header_timeout: Duration,
    /// Between an answer and the first byte of the next request.
    pub keepalive_timeout: Duration,
}

/// What happened to a connection the registry was asked to admit.
pub enum Admission {
    /// Room was free.
    Admitted(Arc<Slot>),
    /// Admitted in place of a connection that is now closing.
    Evicted(Arc<Slot>),
    /// Every open connection is busy with a request: the new one must be closed.
    Full,
}

pub struct Connections {
    limits: ConnectionLimits,
    clock: Clock,
    slots: Mutex<Table>,
}

#[derive(Default)]
struct Table {
    slots: Vec<Option<Arc<Slot>>>,
    free: Vec<usize>,
    open: usize,
}

impl Table {
    fn remove(&mut self, index: usize) -> Option<Arc<Slot>> {
        let slot = self.slots.get_mut(index)?.take()?;
        self.free.push(index);
        self.open -= 1;
        Some(slot)
    }
}

impl Connections {
    pub fn new(limits: ConnectionLimits) -> Connections {
        Connections {
            limits,
            clock: Clock(Instant::now()),
            slots: Mutex::new(Table::default()),
        }
    }

    pub fn open(&self) -> usize {
        self.slots.lock().open
    }

    /// Takes a new connection in, making room at the cap by closing the connection that has
    /// waited longest without sending a complete request (or, failing that, the longest idle
    /// between requests). A connection with a request in progress is never closed for room.
    pub fn admit(&self) -> Admission {
        let now = self.clock.now_ms();
        let mut table = self.slots.lock();
        let mut evicted = false;
        if table.open >= self.limits.max_connections {
            match victim(&table.slots) {
                Some(index) => {
                    if let Some(slot) = table.remove(index) {
                        slot.close.notify_one();
                    }
                    evicted = true;
                }
                None => return Admission::Full,
            }
        }
        let index = table.free.pop().unwrap_or(table.slots.len());
        let slot = Arc::new(Slot {
            index,
            phase: AtomicU64::new(now << 2 | Phase::Fresh.code()),
            last_read_ms: AtomicU64::new(now),
            close: Notify::new(),
            clock: self.clock,
        });
        if index == table.slots.len() {
            table.slots.push(Some(Arc::clone(&slot)));
        } else {
            table.slots[index] = Some(Arc::clone(&slot));
        }
        table.open += 1;
        if evicted {
            Admission::Evicted(slot)
        } else {
            Admission::Admitted(slot)
        }
    }

    /// The connection ended (its task is finishing).
    pub fn release(&self, slot: &Slot) {
        let mut table = self.slots.lock();
        if holds_in(&table, slot) {
            table.remove(slot.index);
        }
    }

    /// Whether `slot` still holds its place (it was not pushed out or swept).
    pub fn holds(&self, slot: &Slot) -> bool {
        holds_in(&self.slots.lock(), slot)
    }

    /// Closes every connection that stayed silent past its timeout; returns how many.
    pub fn sweep(&self) -> usize {
        let now = self.clock.now_ms();
        let header = self.limits.header_timeout.as_millis() as u64;
        let keepalive = self.limits.keepalive_timeout.as_millis() as u64;
        let mut table = self.slots.lock();
        let expired: Vec<usize> = table
            .slots
            .iter()
            .flatten()
            .filter(|slot| {
                let (phase, since) = slot.phase();
                let waited = now.saturating_sub(since);
                match phase {
                    Phase::Fresh | Phase::Head => waited > header,
                    Phase::Idle => waited > keepalive,
                    Phase::Busy => false,
                }
            })
            .map(|slot| slot.index)
            .collect();
        for &index in &expired {
            if let Some(slot) = table.remove(index) {
                slot.close.notify_one();
            }
        }
        expired.len()
    }
}

fn holds_in(table: &Table, slot: &Slot) -> bool {
    table
        .slots
        .get(slot.index)
        .and_then(Option::as_ref)
        .is_some_and(|s| std::ptr::eq(Arc::as_ptr(s), slot))
}

/// The connection to close for room: among those that have not sent a complete request, the one
/// whose last byte came longest ago; else the one idle longest between requests.
fn victim(slots: &[Option<Arc<Slot>>]) -> Option<usize> {
    let open = slots.iter().flatten();
    let waiting = open
        .clone()
        .filter(|s| matches!(s.phase().0, Phase::Fresh | Phase::Head))
        .min_by_key(|s| s.last_read());
    let chosen = waiting.or_else(|| {
        open.filter(|s| s.phase().0 == Phase::Idle)
            .min_by_key(|s| s.phase().1)
    });
    chosen.map(|s| s.index)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry(max: usize) -> Connections {
        Connections::new(ConnectionLimits {
            max_connections: max,
            header_timeout: Duration::from_millis(50),
            keepalive_timeout: Duration::from_millis(150),
        })
    }

    fn admitted(a: Admission) -> Arc<Slot> {
        match a {
            Admission::Admitted(s) | Admission::Evicted(s) => s,
            Admission::Full => panic!("refused"),
        }
    }

    fn is_closing(slot: &Slot) -> bool {
        // A stored notification makes `notified()` ready at once.
        futures::FutureExt::now_or_never(slot.closing()).is_some()
    }

    #[test]
    fn at_the_cap_the_longest_silent_newcomer_makes_room() {
        let c = registry(3);
        let working = admitted(c.admit());
        working.on_request();
        let old_silent = admitted(c.admit());
        std::thread::sleep(Duration::from_millis(5));
        let new_silent = admitted(c.admit());
        new_silent.on_read();
        assert_eq!(c.open(), 3);
        let fourth = c.admit();
        assert!(matches!(fourth, Admission::Evicted(_)));
        assert!(is_closing(&old_silent));
        assert!(!is_closing(&new_silent));
        assert!(!is_closing(&working));
        assert_eq!(c.open(), 3);
    }

    #[test]
    fn idle_keepalive_connections_go_before_busy_ones_and_busy_ones_never() {
        let c = registry(2);
        let a = admitted(c.admit());
        let b = admitted(c.admit());
        a.on_request();
        b.on_request();
        assert!(matches!(c.admit(), Admission::Full));
        b.on_answered();
        assert!(matches!(c.admit(), Admission::Evicted(_)));
        assert!(is_closing(&b));
        assert!(!is_closing(&a));
    }

    #[test]
    fn silent_connections_are_swept_after_their_timeouts() {
        let c = registry(10);
        let fresh = admitted(c.admit());
        let busy = admitted(c.admit());
        busy.on_request();
        let idle = admitted(c.admit());
        idle.on_request();
        idle.on_answered();
        std::thread::sleep(Duration::from_millis(80));
        assert_eq!(c.sweep(), 1, "only the connection without a head");
        assert!(is_closing(&fresh));
        idle.on_read();
        assert_eq!(idle.phase().0, Phase::Head, "a byte starts the next head");
        std::thread::sleep(Duration::from_millis(80));
        assert_eq!(c.sweep(), 1, "the head timed out");
        assert!(is_closing(&idle));
        assert!(!is_closing(&busy));
        assert_eq!(c.open(), 1);
    }

    #[test]
    fn keepalive_lasts_longer_than_the_header_timeout() {
        let c = registry(10);
        let idle = admitted(c.admit());
        idle.on_request();
        idle.on_answered();
        std::thread::sleep(Duration::from_millis(80));
        assert_eq!(c.sweep(), 0);
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(c.sweep(), 1);
    }

    #[test]
    fn a_released_place_is_reused_and_a_stale_release_is_ignored() {
        let c = registry(2);
        let a = admitted(c.admit());
        c.release(&a);
        assert_eq!(c.open(), 0);
        let b = admitted(c.admit());
        c.release(&a);
        assert_eq!(c.open(), 1, "a's place now belongs to b");
        assert!(!c.holds(&a));
        assert!(c.holds(&b));
        c.release(&b);
        assert_eq!(c.open(), 0);
    }
}
