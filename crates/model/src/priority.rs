//! Queue item priority: `critical`/`high`/`medium`/`low` on the CLI, `0..=3` on
//! the wire (lower is served first; `medium` is the default).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    Critical,
    High,
    #[default]
    Medium,
    Low,
}

impl Priority {
    pub const ALL: [Priority; 4] = [Self::Critical, Self::High, Self::Medium, Self::Low];

    /// The wire integer: 0 critical .. 3 low.
    pub fn level(self) -> i64 {
        match self {
            Self::Critical => 0,
            Self::High => 1,
            Self::Medium => 2,
            Self::Low => 3,
        }
    }

    pub fn from_level(level: i64) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.level() == level)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Critical => "critical",
            Self::High => "high",
            Self::Medium => "medium",
            Self::Low => "low",
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown priority {0:?}: use one of critical, high, medium, low (or 0..3)")]
pub struct ParsePriorityError(pub String);

impl FromStr for Priority {
    type Err = ParsePriorityError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase();
        if let Some(p) = Self::ALL.into_iter().find(|p| p.as_str() == t) {
            return Ok(p);
        }
        t.parse::<i64>()
            .ok()
            .and_then(Self::from_level)
            .ok_or_else(|| ParsePriorityError(s.to_owned()))
    }
}

impl Serialize for Priority {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.level())
    }
}

impl<'de> Deserialize<'de> for Priority {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let level = i64::deserialize(d)?;
        Self::from_level(level).ok_or_else(|| {
            serde::de::Error::custom(format!("priority {level} is out of range: use 0..3"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_levels() {
        assert_eq!("HIGH".parse::<Priority>(), Ok(Priority::High));
        assert_eq!("0".parse::<Priority>(), Ok(Priority::Critical));
        assert!(
            "urgent"
                .parse::<Priority>()
                .unwrap_err()
                .to_string()
                .contains("critical, high")
        );
        assert_eq!(serde_json::to_string(&Priority::Low).unwrap(), "3");
        assert!(serde_json::from_str::<Priority>("7").is_err());
        assert!(Priority::Critical < Priority::Low);
    }
}
