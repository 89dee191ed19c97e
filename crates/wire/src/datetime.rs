//! Timestamps as AWS protocols carry them.
//!
//! One type, millisecond precision (what EC2 prints and what Cognito's fractional epoch
//! seconds carry). The EC2 query protocol writes ISO-8601 (`2019-08-16T09:27:35.000Z`);
//! the JSON protocols write epoch seconds as a JSON number (`1413231134.115`).

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A point in time, milliseconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct DateTime {
    millis: i64,
}

impl DateTime {
    pub const fn from_unix_millis(millis: i64) -> Self {
        Self { millis }
    }

    pub const fn unix_millis(self) -> i64 {
        self.millis
    }

    /// `2019-08-16T09:27:35.000Z`, the form EC2 writes.
    pub fn to_iso8601(self) -> String {
        let dt = self.to_offset();
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            dt.year(),
            u8::from(dt.month()),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second(),
            dt.millisecond()
        )
    }

    /// Parses RFC 3339 (`2030-01-02T03:04:05Z`, with an optional fraction and `Z` or a
    /// numeric offset), as botocore and aws-sdk-rust send timestamps in EC2 query requests.
    /// Anything else is refused: a lenient parser would turn typos into silent dates.
    pub fn parse_iso8601(text: &str) -> Option<Self> {
        if text.as_bytes().get(10) != Some(&b'T') {
            return None;
        }
        let dt = OffsetDateTime::parse(text, &Rfc3339).ok()?;
        let nanos = dt.unix_timestamp_nanos();
        Some(Self { millis: i64::try_from(nanos.div_euclid(1_000_000)).ok()? })
    }

    /// Epoch seconds with the milliseconds as a fraction.
    pub fn epoch_seconds(self) -> f64 {
        self.millis as f64 / 1000.0
    }

    pub fn from_epoch_seconds(secs: f64) -> Option<Self> {
        if !secs.is_finite() || secs.abs() > 1.0e14 {
            return None;
        }
        Some(Self { millis: (secs * 1000.0).round() as i64 })
    }

    fn to_offset(self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.millis) * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_iso8601())
    }
}

/// JSON protocols: epoch seconds, an integer when there is no fraction.
impl Serialize for DateTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.millis % 1000 == 0 {
            s.serialize_i64(self.millis / 1000)
        } else {
            s.serialize_f64(self.epoch_seconds())
        }
    }
}

impl<'de> Deserialize<'de> for DateTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct EpochVisitor;
        impl Visitor<'_> for EpochVisitor {
            type Value = DateTime;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a timestamp in epoch seconds")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<DateTime, E> {
                DateTime::from_epoch_seconds(v as f64).ok_or_else(|| E::custom("timestamp out of range"))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<DateTime, E> {
                DateTime::from_epoch_seconds(v as f64).ok_or_else(|| E::custom("timestamp out of range"))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<DateTime, E> {
                DateTime::from_epoch_seconds(v).ok_or_else(|| E::custom("timestamp out of range"))
            }
        }
        d.deserialize_any(EpochVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_round_trip() {
        let t = DateTime::parse_iso8601("2019-08-16T09:27:35.123Z").unwrap();
        assert_eq!(t.to_iso8601(), "2019-08-16T09:27:35.123Z");
        let t = DateTime::parse_iso8601("2030-01-02T03:04:05Z").unwrap();
        assert_eq!(t.to_iso8601(), "2030-01-02T03:04:05.000Z");
        let t = DateTime::parse_iso8601("2030-01-02T05:04:05.123456+02:00").unwrap();
        assert_eq!(t.to_iso8601(), "2030-01-02T03:04:05.123Z");
    }

    #[test]
    fn iso8601_is_strict() {
        for bad in ["2030-01-02", "yesterday", "2030-01-02 03:04:05Z", "2030-13-02T03:04:05Z", ""] {
            assert!(DateTime::parse_iso8601(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn epoch_seconds_json() {
        let t = DateTime::from_unix_millis(1_413_231_134_115);
        assert_eq!(serde_json::to_string(&t).unwrap(), "1413231134.115");
        let t = DateTime::from_unix_millis(1_413_231_134_000);
        assert_eq!(serde_json::to_string(&t).unwrap(), "1413231134");
        let back: DateTime = serde_json::from_str("1.413231134115E9").unwrap();
        assert_eq!(back.unix_millis(), 1_413_231_134_115);
    }
}
