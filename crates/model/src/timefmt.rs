//! W&B `DateTime` values: ISO-8601, with or without a zone (W&B itself sends
//! `2026-11-28T22:44:12` in UTC without `Z`). We emit RFC 3339 with `Z`.

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, PrimitiveDateTime, macros::format_description};

/// Parse a W&B `DateTime`; a value without a zone is UTC.
pub fn parse(text: &str) -> Option<OffsetDateTime> {
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(t);
    }
    let with_frac =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond]");
    let plain = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    PrimitiveDateTime::parse(text, with_frac)
        .or_else(|_| PrimitiveDateTime::parse(text, plain))
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

/// Format as RFC 3339 in UTC with second precision, e.g. `2026-11-28T22:44:12Z`.
pub fn format(t: OffsetDateTime) -> String {
    let t = t
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(t);
    t.format(&Rfc3339).unwrap_or_default()
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
    fn ago_and_duration() {
        let t = parse("2026-11-28T22:44:12Z").unwrap();
        assert_eq!(ago(t, t + time::Duration::seconds(12)), "12 s ago");
        assert_eq!(ago(t, t + time::Duration::minutes(3)), "3 min ago");
        assert_eq!(duration(200), "3 min 20 s");
        assert_eq!(duration(3900), "1 h 5 min");
    }
}
