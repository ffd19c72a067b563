//! Timestamps on the wire between services: RFC 3339 in UTC, exactly as chrono's own serde writes them, but
//! written in one piece and read without chrono's general machinery. chrono's `Serialize` streams a timestamp
//! through `collect_str`, so serde_json escaped it one character at a time, and its `Deserialize` goes through the
//! general format parser; on a page of 20 products the two cost about 7 % of the services' instructions
//! (docs/ARCHITECTURE.md, "Performance targets"). The text every service writes (`YYYY-MM-DDTHH:MM:SS[.fff…]Z`,
//! years 0–9999) is written and read digit by digit here, a few hundred instructions less per timestamp than
//! chrono's formatter and parser, and two of them travel with every order and product; anything else (another
//! offset, a leap second, a lenient spelling) goes to chrono. Use it as
//! `#[serde(with = "quickmart_shared::timestamp")]`.

use std::fmt;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveTime, SecondsFormat, Timelike, Utc};
use serde::{Deserializer, Serializer, de};

/// Longest canonical text: `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`.
const LONGEST: usize = 30;

/// Writes `value` as chrono's serde does (`2026-12-06T17:36:49.123456Z`).
pub fn serialize<S: Serializer>(value: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    let mut text = [0_u8; LONGEST];
    match write_canonical(value, &mut text).and_then(|len| std::str::from_utf8(&text[..len]).ok()) {
        Some(text) => serializer.serialize_str(text),
        None => serializer.serialize_str(&value.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
    }
}

/// Reads an RFC 3339 timestamp with any offset, as chrono's serde does, into UTC.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    deserializer.deserialize_str(Rfc3339)
}

/// What `to_rfc3339_opts(SecondsFormat::AutoSi, true)` writes, into `text`; its length, or `None` for what only
/// chrono spells (a year outside 0–9999, a leap second).
fn write_canonical(value: &DateTime<Utc>, text: &mut [u8; LONGEST]) -> Option<usize> {
    fn digits(text: &mut [u8], mut value: u32) {
        for place in text.iter_mut().rev() {
            // `value % 10` is a single digit.
            *place = b'0' + (value % 10) as u8;
            value /= 10;
        }
    }
    let (date, time) = (value.date_naive(), value.time());
    let year = u32::try_from(date.year())
        .ok()
        .filter(|year| *year <= 9999)?;
    let nanos = time.nanosecond();
    if nanos >= 1_000_000_000 {
        return None;
    }
    digits(&mut text[0..4], year);
    text[4] = b'-';
    digits(&mut text[5..7], date.month());
    text[7] = b'-';
    digits(&mut text[8..10], date.day());
    text[10] = b'T';
    digits(&mut text[11..13], time.hour());
    text[13] = b':';
    digits(&mut text[14..16], time.minute());
    text[16] = b':';
    digits(&mut text[17..19], time.second());
    // chrono's AutoSi: no fraction, or milli-, micro- or nanoseconds, whichever shows every non-zero digit.
    let (width, fraction) = match nanos {
        0 => (0, 0),
        n if n % 1_000_000 == 0 => (3, n / 1_000_000),
        n if n % 1_000 == 0 => (6, n / 1_000),
        n => (9, n),
    };
    let mut len = 19;
    if width > 0 {
        text[len] = b'.';
        digits(&mut text[len + 1..len + 1 + width], fraction);
        len += 1 + width;
    }
    text[len] = b'Z';
    Some(len + 1)
}

/// Reads the canonical spelling (`YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z`); `None` for anything else, which chrono reads.
fn read_canonical(text: &str) -> Option<DateTime<Utc>> {
    let bytes = text.as_bytes();
    let separators = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    if bytes.len() < 20
        || bytes.last() != Some(&b'Z')
        || separators.iter().any(|&(at, sign)| bytes[at] != sign)
    {
        return None;
    }
    let number = |from: usize, to: usize| -> Option<u32> {
        bytes[from..to].iter().try_fold(0_u32, |sum, &byte| {
            byte.is_ascii_digit()
                .then(|| sum * 10 + u32::from(byte - b'0'))
        })
    };
    let nanos = match bytes.len() - 20 {
        0 => 0,
        fraction if bytes[19] == b'.' && (2..=10).contains(&fraction) => {
            let width = fraction - 1;
            number(20, 20 + width)? * 10_u32.pow(9 - u32::try_from(width).ok()?)
        }
        _ => return None,
    };
    let year = i32::try_from(number(0, 4)?).ok()?;
    let date = NaiveDate::from_ymd_opt(year, number(5, 7)?, number(8, 10)?)?;
    let time =
        NaiveTime::from_hms_nano_opt(number(11, 13)?, number(14, 16)?, number(17, 19)?, nanos)?;
    Some(date.and_time(time).and_utc())
}

struct Rfc3339;

impl de::Visitor<'_> for Rfc3339 {
    type Value = DateTime<Utc>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("an RFC 3339 timestamp")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        if let Some(instant) = read_canonical(value) {
            return Ok(instant);
        }
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

    /// Over 20 000 instants spread across years 0–9999 and every precision, the text is byte for byte chrono's
    /// and reads back to the same instant, through the fast path and through chrono's parser alike; years
    /// outside 0–9999 go to chrono both ways.
    #[test]
    fn the_digit_by_digit_path_agrees_with_chrono_everywhere() {
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            state >> 11
        };
        let first = NaiveDate::from_ymd_opt(0, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .expect("year 0")
            .and_utc();
        let span = 10_000 * 365 * 86_400;
        for _ in 0..20_000 {
            let seconds = i64::try_from(next() % span).expect("fits");
            let nanos = match next() % 4 {
                0 => 0,
                1 => (next() % 1_000) * 1_000_000,
                2 => (next() % 1_000_000) * 1_000,
                _ => next() % 1_000_000_000,
            };
            let instant = first
                + Duration::seconds(seconds)
                + Duration::nanoseconds(i64::try_from(nanos).expect("fits"));
            let ours = serde_json::to_string(&Ours(instant)).expect("ours");
            let chrono = serde_json::to_string(&Chrono(instant)).expect("chrono");
            assert_eq!(ours, chrono);
            assert_eq!(
                serde_json::from_str::<Ours>(&ours).expect("read").0,
                instant
            );
            assert_eq!(
                serde_json::from_str::<Chrono>(&ours)
                    .expect("chrono reads it")
                    .0,
                instant
            );
        }
        for year in [-1, 10_000, 262_142] {
            let instant = NaiveDate::from_ymd_opt(year, 6, 1)
                .and_then(|d| d.and_hms_milli_opt(1, 2, 3, 4))
                .expect("a date")
                .and_utc();
            let ours = serde_json::to_string(&Ours(instant)).expect("ours");
            assert_eq!(
                ours,
                serde_json::to_string(&Chrono(instant)).expect("chrono")
            );
            assert_eq!(
                serde_json::from_str::<Ours>(&ours).expect("read").0,
                instant
            );
        }
    }

    /// Near misses of the canonical spelling are judged by chrono, as before: read when chrono reads them, refused
    /// when it refuses them.
    #[test]
    fn near_misses_of_the_canonical_spelling_are_chronos_to_judge() {
        for text in [
            "\"2026-12-06T17:36:49.1234567891Z\"",
            "\"2026-12-06T17:36:49.Z\"",
            "\"2026-12-06T17:36:60Z\"",
            "\"2026-02-30T17:36:49Z\"",
            "\"2026-12-06T24:00:00Z\"",
            "\"2026-12-06T17:36:4AZ\"",
            "\"+2026-12-06T17:36:49Z\"",
            "\"2026-12-06T17:36:49.5Z\"",
        ] {
            let ours = serde_json::from_str::<Ours>(text).map(|t| t.0);
            let chrono = serde_json::from_str::<Chrono>(text).map(|t| t.0);
            assert_eq!(ours.ok(), chrono.ok(), "{text}");
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
