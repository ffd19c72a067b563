//! Timestamps on the wire between services: RFC 3339 in UTC, exactly as chrono's own serde writes them, but
//! written in one piece and read by chrono's RFC 3339 parser. chrono's `Serialize` streams a timestamp through
//! `collect_str`, so serde_json escapes it one character at a time, and its `Deserialize` goes through the
//! general format parser; on a page of 20 products the two cost about 7 % of the services' instructions
//! (docs/ARCHITECTURE.md, "Performance targets"). Use it as `#[serde(with = "quickmart_shared::timestamp")]`.

use std::fmt;

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use serde::{Deserializer, Serializer, de};

/// Writes `value` as chrono's serde does (`2026-12-06T17:36:49.123456Z`).
pub fn serialize<S: Serializer>(value: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&value.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

/// Reads an RFC 3339 timestamp with any offset, as chrono's serde does, into UTC.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    deserializer.deserialize_str(Rfc3339)
}

struct Rfc3339;

impl de::Visitor<'_> for Rfc3339 {
    type Value = DateTime<Utc>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("an RFC 3339 timestamp")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        // The strict parser is the fast one; the lenient one (what chrono's serde reads) keeps every spelling
        // that was accepted before.
        DateTime::parse_from_rfc3339(value)
            .or_else(|_| value.parse::<DateTime<FixedOffset>>())
            .map(|parsed| parsed.with_timezone(&Utc))
            .map_err(E::custom)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};
    use serde::{Deserialize, Serialize};

    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Ours(#[serde(with = "super")] DateTime<Utc>);

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Chrono(DateTime<Utc>);

    /// Every precision chrono writes (whole seconds, milli, micro, nano, a leap second) comes out byte for byte
    /// as chrono's serde writes it, and reads back to the same instant either way.
    #[test]
    fn it_writes_and_reads_what_chrono_does() {
        let base = Utc
            .with_ymd_and_hms(2026, 12, 6, 17, 36, 49)
            .single()
            .expect("a valid time");
        let leap = chrono::NaiveDate::from_ymd_opt(2016, 12, 31)
            .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 1_500_000_000))
            .expect("a leap second")
            .and_utc();
        for instant in [
            base,
            base + Duration::milliseconds(120),
            base + Duration::microseconds(123_456),
            base + Duration::nanoseconds(123_456_789),
            base + Duration::nanoseconds(1),
            leap,
        ] {
            let ours = serde_json::to_string(&Ours(instant)).expect("ours");
            let chrono = serde_json::to_string(&Chrono(instant)).expect("chrono");
            assert_eq!(ours, chrono);
            assert_eq!(
                serde_json::from_str::<Ours>(&chrono).expect("read").0,
                instant
            );
        }
    }

    /// Offsets and the lenient spellings chrono's serde accepts still read; garbage does not.
    #[test]
    fn it_reads_what_chrono_reads_and_refuses_the_rest() {
        for text in [
            "\"2026-12-06T18:36:49+01:00\"",
            "\"2026-12-06t17:36:49z\"",
            "\"2026-12-06 17:36:49Z\"",
        ] {
            let ours = serde_json::from_str::<Ours>(text).map(|t| t.0);
            let chrono = serde_json::from_str::<Chrono>(text).map(|t| t.0);
            assert_eq!(ours.ok(), chrono.ok(), "{text}");
        }
        assert!(serde_json::from_str::<Ours>("\"2026-12-06T17:36:49\"").is_err());
        assert!(serde_json::from_str::<Ours>("\"yesterday\"").is_err());
        assert!(serde_json::from_str::<Ours>("1765042609").is_err());
    }
}
