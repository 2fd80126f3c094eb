//! W&B's two JSON scalars. `JSONString` travels as a string holding JSON
//! (every launch input, a few outputs); `JSON` is a native JSON value
//! (async-graphql's `Json<Value>` is named `JSON`).

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value as GqlValue};
use serde_json::Value;

/// A JSON document encoded as a string. Parsing is lenient: a native JSON
/// value is accepted too.
#[derive(Clone, Debug, PartialEq)]
pub struct JsonString(pub Value);

impl JsonString {
    pub fn text(text: &str) -> Self {
        Self(serde_json::from_str(text).unwrap_or(Value::String(text.to_owned())))
    }
}

#[Scalar(name = "JSONString")]
impl ScalarType for JsonString {
    fn parse(value: GqlValue) -> InputValueResult<Self> {
        match value {
            GqlValue::String(s) => serde_json::from_str(&s)
                .map(JsonString)
                .map_err(|e| InputValueError::custom(format!("not valid JSON: {e}"))),
            GqlValue::Null => Ok(JsonString(Value::Null)),
            other => other
                .into_json()
                .map(JsonString)
                .map_err(|e| InputValueError::custom(e.to_string())),
        }
    }

    fn to_value(&self) -> GqlValue {
        GqlValue::String(self.0.to_string())
    }
}

/// `Int64`: W&B's 64-bit integer scalar (sizes, steps).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Int64(pub i64);

#[Scalar(name = "Int64")]
impl ScalarType for Int64 {
    fn parse(value: GqlValue) -> InputValueResult<Self> {
        match &value {
            GqlValue::Number(n) => n
                .as_i64()
                .map(Int64)
                .ok_or_else(|| InputValueError::custom("not a 64-bit integer")),
            GqlValue::String(s) => s
                .parse()
                .map(Int64)
                .map_err(|_| InputValueError::custom("not a 64-bit integer")),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> GqlValue {
        GqlValue::Number(self.0.into())
    }
}

/// Milliseconds as W&B's `DateTime` text: `2026-11-28T22:44:12` (UTC).
pub fn datetime(ms: i64) -> String {
    let t = crate::launch::instant(ms);
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    t.format(fmt).unwrap_or_default()
}
