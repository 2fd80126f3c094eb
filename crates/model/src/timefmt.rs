//! W&B `DateTime` values: ISO-8601, with or without a zone (W&B itself sends
//! `2026-11-28T22:44:12` in UTC without `Z`). We emit RFC 3339 with `Z`.
//!
//! Parsed and printed by hand rather than with `time`'s `parsing` and
//! `formatting` machinery: the web app and the extension link this, and the
//! generic parser alone was ~25 KB of their wasm.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// Parse a W&B `DateTime`; a value without a zone is UTC.
///
/// Accepts RFC 3339 (`YYYY-MM-DD?HH:MM:SS[.frac](Z|±HH:MM)`, any separator
/// byte, `z` too) and the zoneless `YYYY-MM-DDTHH:MM:SS[.frac]`.
pub fn parse(text: &str) -> Option<OffsetDateTime> {
    let b = text.as_bytes();
    let num = |at: usize, n: usize| -> Option<u32> {
        let digits = b.get(at..at + n)?;
        digits.iter().try_fold(0u32, |acc, d| {
            d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0'))
        })
    };
    let lit = |at: usize, c: u8| b.get(at) == Some(&c);
    let year = num(0, 4)?;
    let month = num(5, 2)?;
    let day = num(8, 2)?;
    let hour = num(11, 2)?;
    let minute = num(14, 2)?;
    let second = num(17, 2)?;
    if !(lit(4, b'-') && lit(7, b'-') && lit(13, b':') && lit(16, b':')) {
        return None;
    }
    let mut at = 19;
    let mut nanos = 0u32;
    if lit(at, b'.') {
        at += 1;
        let start = at;
        let mut scale = 100_000_000;
        while let Some(d) = b.get(at).filter(|d| d.is_ascii_digit()) {
            nanos += u32::from(d - b'0') * scale;
            scale /= 10;
            at += 1;
        }
        if at == start {
            return None;
        }
    }
    let rest = &b[at..];
    let offset = match rest {
        // Without a zone: W&B's own form, `T` only.
        [] if lit(10, b'T') => UtcOffset::UTC,
        [] => return None,
        [b'Z' | b'z'] => UtcOffset::UTC,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let h = num(at + 1, 2).filter(|h| *h <= 23)?;
            let m = num(at + 4, 2)?;
            let (h, m) = (i8::try_from(h).ok()?, i8::try_from(m).ok()?);
            let (h, m) = if *sign == b'-' { (-h, -m) } else { (h, m) };
            UtcOffset::from_hms(h, m, 0).ok()?
        }
        _ => return None,
    };
    // RFC 3339 allows a leap second; like `time`, read it as the last instant of :59.
    let (second, nanos) = if second == 60 && !rest.is_empty() {
        (59, 999_999_999)
    } else {
        (second, nanos)
    };
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    let date =
        Date::from_calendar_date(i32::try_from(year).ok()?, month, u8::try_from(day).ok()?).ok()?;
    let time = Time::from_hms_nano(
        u8::try_from(hour).ok()?,
        u8::try_from(minute).ok()?,
        u8::try_from(second).ok()?,
        nanos,
    )
    .ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_offset(offset))
}

/// Format as RFC 3339 in UTC with second precision, e.g. `2026-11-28T22:44:12Z`
/// (empty for a year outside 0..=9999, which RFC 3339 cannot write).
pub fn format(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    if !(0..=9999).contains(&t.year()) {
        return String::new();
    }
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// "12 s ago", "3 min ago", "2 h ago", "4 d ago"; "just now" under a second.
pub fn ago(then: OffsetDateTime, now: OffsetDateTime) -> String {
    let secs = (now - then).whole_seconds();
    match secs {
        s if s < 1 => "just now".to_owned(),
        s if s < 60 => format!("{s} s ago"),
        s if s < 3600 => format!("{} min ago", s / 60),
        s if s < 86_400 => format!("{} h ago", s / 3600),
        s => format!("{} d ago", s / 86_400),
    }
}

/// A duration as "45 s", "3 min 20 s", "1 h 5 min".
pub fn duration(secs: i64) -> String {
    let secs = secs.max(0);
    match secs {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min {} s", s / 60, s % 60),
        s => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_wandb_and_rfc3339_forms() {
        let a = parse("2026-11-28T22:44:12").unwrap();
        let b = parse("2026-11-28T22:44:12Z").unwrap();
        let c = parse("2026-11-28T22:44:12.5").unwrap();
        assert_eq!(a, b);
        assert!(c > a);
        assert_eq!(format(a), "2026-11-28T22:44:12Z");
        assert!(parse("yesterday").is_none());
    }

    #[test]
    fn parses_what_time_rfc3339_parses() {
        use time::format_description::well_known::Rfc3339;
        for text in [
            "2026-11-28T22:44:12Z",
            "2026-11-28t22:44:12z",
            "2026-11-28 22:44:12Z",
            "2026-11-28T22:44:12.123456Z",
            "2026-11-28T22:44:12.1234567891Z",
            "2026-11-28T22:44:12+05:30",
            "2026-11-28T22:44:12.5-08:00",
            "2024-02-29T00:00:00Z",
            "2026-12-31T23:59:60Z",
        ] {
            let ours = parse(text);
            let theirs = OffsetDateTime::parse(text, &Rfc3339).ok();
            assert_eq!(ours, theirs, "{text}");
            assert!(ours.is_some(), "{text}");
        }
        for bad in [
            "",
            "2026-11-28",
            "2026-11-28T22:44",
            "2026-11-28T22:44:12Zjunk",
            "2026-11-28T22:44:12.Z",
            "2026-02-30T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-11-28T24:00:00Z",
            "2026-11-28T22:44:12+24:00",
            "2026-11-28T22:44:12+05",
            "2026-11-28 22:44:12",
            "+2026-11-28T22:44:12Z",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        assert_eq!(
            parse("2026-11-28T22:44:12.25"),
            parse("2026-11-28T22:44:12.25Z")
        );
    }

    #[test]
    fn formats_like_time_rfc3339() {
        use time::format_description::well_known::Rfc3339;
        let t = parse("2026-11-28T22:44:12.987+05:30").unwrap();
        let theirs = t
            .to_offset(time::UtcOffset::UTC)
            .replace_nanosecond(0)
            .unwrap()
            .format(&Rfc3339)
            .unwrap();
        assert_eq!(format(t), theirs);
        assert_eq!(format(t), "2026-11-28T17:14:12Z");
    }

    #[test]
    fn ago_and_duration() {
        let t = parse("2026-11-28T22:44:12Z").unwrap();
        assert_eq!(ago(t, t + time::Duration::seconds(12)), "12 s ago");
        assert_eq!(ago(t, t + time::Duration::minutes(3)), "3 min ago");
        assert_eq!(duration(200), "3 min 20 s");
        assert_eq!(duration(3900), "1 h 5 min");
    }
}
