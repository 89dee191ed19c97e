//! The server clock: the one source of "now" for every time-based behaviour.
//!
//! Tests must not wait for time to pass (Cognito credentials expiring, reservations
//! ending, instance launch times), so the clock is the wall clock plus an offset that
//! `POST /_reservoir/clock` moves forward. The offset is kept in the store (`meta`), so
//! it survives restarts and a reset of the state does not move time back; each process
//! keeps the value it last wrote or read, and only ever moves it forward.

use std::sync::atomic::{AtomicI64, Ordering};

use reservoir_domain::time::Timestamp;

/// The `meta` key of the offset (milliseconds, decimal).
pub const OFFSET_KEY: &str = "clock-offset-ms";

#[derive(Debug, Default)]
pub struct Clock {
    offset_ms: AtomicI64,
}

impl Clock {
    pub fn new(offset_ms: i64) -> Clock {
        Clock { offset_ms: AtomicI64::new(offset_ms) }
    }

    /// Now, on the server clock.
    pub fn now(&self) -> Timestamp {
        Timestamp(Timestamp::now().0.saturating_add(self.offset_ms()))
    }

    pub fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::Acquire)
    }

    /// Takes an offset read from or committed to the store. The clock never moves back,
    /// even when two advances commit in one order and report in the other.
    pub fn observe(&self, offset_ms: i64) {
        self.offset_ms.fetch_max(offset_ms, Ordering::AcqRel);
    }
}

/// Reads a stored offset (absent: none).
pub fn parse_offset(stored: Option<&str>) -> i64 {
    stored.and_then(|v| v.parse().ok()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observed_offsets_only_move_the_clock_forward() {
        let c = Clock::new(10_000);
        let before = c.now();
        assert!(before.0 >= Timestamp::now().0 + 9_000);
        c.observe(5_000);
        assert_eq!(c.offset_ms(), 10_000);
        c.observe(20_000);
        assert_eq!(c.offset_ms(), 20_000);
        assert_eq!(parse_offset(Some("1500")), 1500);
        assert_eq!(parse_offset(Some("x")), 0);
        assert_eq!(parse_offset(None), 0);
    }
}
