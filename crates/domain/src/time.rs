//! Time as the domain sees it: milliseconds since the Unix epoch, UTC, and the rule of
//! the server clock (which tests move forward instead of waiting).

use serde::{Deserialize, Serialize};

/// A point in time (Unix milliseconds, UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The current wall-clock time. Domain functions take the time as an argument;
    /// only the layers above call this.
    pub fn now() -> Timestamp {
        let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        Timestamp(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }

    pub fn millis(self) -> i64 {
        self.0
    }

    /// ISO 8601 in UTC with milliseconds (`2026-12-04T13:53:02.000Z`), as EC2's date
    /// filters compare dates.
    pub fn iso8601(self) -> String {
        let (days, ms) = (self.0.div_euclid(86_400_000), self.0.rem_euclid(86_400_000));
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        let (h, m, s, milli) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1_000 % 60, ms % 1_000);
        format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{milli:03}Z")
    }
}

#[cfg(test)]
mod iso_tests {
    use super::Timestamp;

    #[test]
    fn iso8601_is_utc_with_milliseconds() {
        assert_eq!(Timestamp(0).iso8601(), "1970-01-01T00:00:00.000Z");
        assert_eq!(Timestamp(1_796_392_382_123).iso8601(), "2026-12-04T13:53:02.123Z");
        assert_eq!(Timestamp(951_782_400_000).iso8601(), "2000-02-29T00:00:00.000Z");
    }
}

/// The largest step the server clock takes in one advance: a hundred years, far more
/// than any test needs and far from overflowing.
pub const MAX_ADVANCE_SECONDS: i64 = 100 * 366 * 86_400;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    #[error("advance_seconds must be zero or more, not {0}: the server clock never goes back")]
    Negative(i64),
    #[error("advance_seconds must be at most {MAX_ADVANCE_SECONDS} (a hundred years), not {0}")]
    TooLarge(i64),
    #[error("the server clock cannot move that far ahead")]
    Overflow,
}

/// The server clock's offset from the wall clock (milliseconds) after moving it
/// `seconds` forward. Time only moves forward: a reset of the state does not move it back.
pub fn advance_offset(offset_ms: i64, seconds: i64) -> Result<i64, ClockError> {
    if seconds < 0 {
        return Err(ClockError::Negative(seconds));
    }
    if seconds > MAX_ADVANCE_SECONDS {
        return Err(ClockError::TooLarge(seconds));
    }
    offset_ms
        .checked_add(seconds * 1000)
        .filter(|o| Timestamp::now().0.checked_add(*o).is_some_and(|t| t < 253_402_300_800_000))
        .ok_or(ClockError::Overflow)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_only_moves_forward_and_within_bounds() {
        assert_eq!(advance_offset(0, 0), Ok(0));
        assert_eq!(advance_offset(5_000, 60), Ok(65_000));
        assert_eq!(advance_offset(0, -1), Err(ClockError::Negative(-1)));
        assert_eq!(advance_offset(0, MAX_ADVANCE_SECONDS + 1), Err(ClockError::TooLarge(MAX_ADVANCE_SECONDS + 1)));
        // Year 9999 is as far as ISO 8601 timestamps go.
        let mut offset = 0;
        let mut steps = 0;
        while let Ok(o) = advance_offset(offset, MAX_ADVANCE_SECONDS) {
            offset = o;
            steps += 1;
        }
        assert!((70..=80).contains(&steps), "{steps}");
        assert_eq!(advance_offset(offset, MAX_ADVANCE_SECONDS), Err(ClockError::Overflow));
    }
}
