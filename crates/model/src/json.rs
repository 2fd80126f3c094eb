//! The two JSON scalars of the W&B schema.
//!
//! `JSONString` carries a JSON document *encoded as a string* (every launch
//! input, `runSpec` in the push answer, `TemplateVariable.schema`,
//! `Viewer.flags`); `JSON` carries a native JSON value (`runSpec` in the pop
//! answer, `DefaultResourceConfig.config`, `RunQueue.externalLinks`).
//! [`JsonString`] is the typed form of the first; plain `serde_json::Value`
//! or a typed struct is the second.

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use serde_json::{Map, Value};

/// A value that travels as a `JSONString`: serialised as a string holding its
/// compact JSON, deserialised from such a string. A native JSON value is also
/// accepted when decoding, since some servers answer with one.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JsonString<T>(pub T);

impl<T: Serialize> Serialize for JsonString<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = serde_json::to_string(&self.0).map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for JsonString<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        match value {
            Value::String(text) => parse(&text)
                .map(JsonString)
                .map_err(|e| D::Error::custom(format!("invalid JSON in JSONString: {e}"))),
            other => serde_json::from_value(other)
                .map(JsonString)
                .map_err(D::Error::custom),
        }
    }
}

/// Read JSON text into a `T` by way of [`Value`]. All types then share one
/// text parser, `Value`'s, and only the `Value` reader is built per type:
/// reading text straight into each type builds a second reader for each,
/// which the web app pays for in bundle size.
pub fn parse<T: DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
    serde_json::from_value(serde_json::from_str::<Value>(text)?)
}

/// JSON as Python's `json.dumps` writes it: the `NaN`, `Infinity` and
/// `-Infinity` it emits for floats JSON cannot hold (a loss that went NaN,
/// in a wandb run's history or summary) read as `null`; anything else
/// that is not JSON is refused as [`serde_json`] refuses it.
pub fn parse_lenient(text: &str) -> Result<Value, serde_json::Error> {
    serde_json::from_str(text).or_else(|e| match without_non_finite(text) {
        Some(fixed) => serde_json::from_str(&fixed).map_err(|_| e),
        None => Err(e),
    })
}

/// `text` with Python's non-finite float literals, outside strings,
/// replaced by `null`; `None` when it has none.
fn without_non_finite(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped, mut changed) = (false, false, false);
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
        } else if let Some(word) = ["-Infinity", "Infinity", "NaN"]
            .into_iter()
            .find(|w| rest.starts_with(w))
        {
            out.push_str("null");
            rest = &rest[word.len()..];
            changed = true;
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    changed.then_some(out)
}

/// JSON bytes (an HTTP body, UTF-8 as JSON is) as a [`Value`], read by the
/// same text parser as [`parse`] (not `from_slice`, which would be another).
pub fn value_from_bytes(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| serde_json::Error::custom(format!("not UTF-8 text ({e}), so not JSON")))?;
    serde_json::from_str(text)
}

/// [`parse`] for bytes: see [`value_from_bytes`].
pub fn parse_bytes<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, serde_json::Error> {
    serde_json::from_value(value_from_bytes(bytes)?)
}

/// Encode a value as a compact JSON string (the `JSONString` input form).
pub fn to_json_string<T: Serialize>(value: &T) -> String {
    // Serialising model types and `Value`s cannot fail: keys are strings.
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

/// Decode a field that may arrive either as a `JSONString` or as native JSON.
pub fn decode_lenient<T: DeserializeOwned>(value: Value) -> Result<T, serde_json::Error> {
    match value {
        Value::String(text) => parse(&text),
        other => serde_json::from_value(other),
    }
}

/// Deep-merge `over` into `base`: objects merge key by key (recursively),
/// anything else in `over` replaces what `base` had.
pub fn deep_merge(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(base), Value::Object(over)) => {
            for (key, value) in over {
                match base.get_mut(key) {
                    Some(slot) => deep_merge(slot, value),
                    None => {
                        base.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (base, over) => *base = over.clone(),
    }
}

/// `serde(with = "double_option")`: tells an absent key (`None`) from an
/// explicit `null` (`Some(None)`), so specs round-trip byte for byte.
pub mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(
        value: &Option<Option<T>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(inner) => inner.serialize(s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pythons_non_finite_floats_read_as_null_outside_strings() {
        assert_eq!(
            parse_lenient(r#"{"loss": NaN, "lr": -Infinity, "x": Infinity, "note": "NaN \" Infinity", "_step": 3}"#)
                .unwrap(),
            serde_json::json!({"loss": null, "lr": null, "x": null, "note": "NaN \" Infinity", "_step": 3})
        );
        assert_eq!(parse_lenient("[1, 2]").unwrap(), serde_json::json!([1, 2]));
        assert!(parse_lenient("not json").is_err());
        assert!(parse_lenient("{\"a\": Nope}").is_err());
        // Plain serde_json refuses what Python wrote.
        assert!(serde_json::from_str::<Value>(r#"{"loss": NaN}"#).is_err());
    }
    use serde_json::json;

    #[test]
    fn parse_reads_text_into_a_type_as_from_str_does() {
        #[derive(Debug, Deserialize, PartialEq)]
        struct Spec {
            name: String,
            #[serde(default)]
            tags: Vec<String>,
        }
        let text = r#"{"name": "train", "tags": ["a", "b"]}"#;
        let ours: Spec = parse(text).unwrap();
        assert_eq!(ours, serde_json::from_str::<Spec>(text).unwrap());
        assert_eq!(parse_bytes::<Spec>(text.as_bytes()).unwrap(), ours);
        // Wrong syntax keeps its place; a wrong shape says what was expected.
        let syntax = parse::<Spec>(r#"{"name": }"#).unwrap_err().to_string();
        assert!(syntax.contains("line 1 column 10"), "{syntax}");
        let shape = parse::<Spec>(r#"{"tags": []}"#).unwrap_err().to_string();
        assert_eq!(shape, "missing field `name`");
        let bytes = parse_bytes::<Spec>(b"{\"name\": \"\xff\"}").unwrap_err();
        assert!(bytes.to_string().starts_with("not UTF-8 text"), "{bytes}");
        assert_eq!(
            value_from_bytes(text.as_bytes()).unwrap(),
            serde_json::from_str::<Value>(text).unwrap()
        );
        assert!(value_from_bytes(b"\xff").is_err());
    }

    #[test]
    fn json_string_encodes_as_a_string_and_decodes_both_forms() {
        let v = JsonString(json!({"a": 1}));
        assert_eq!(serde_json::to_value(&v).unwrap(), json!("{\"a\":1}"));
        let back: JsonString<Value> = serde_json::from_value(json!("{\"a\":1}")).unwrap();
        assert_eq!(back.0, json!({"a": 1}));
        let native: JsonString<Value> = serde_json::from_value(json!({"a": 1})).unwrap();
        assert_eq!(native.0, json!({"a": 1}));
        let bad = serde_json::from_value::<JsonString<Value>>(json!("{nope"));
        assert!(
            bad.unwrap_err()
                .to_string()
                .contains("invalid JSON in JSONString")
        );
    }

    #[test]
    fn deep_merge_merges_objects_and_replaces_leaves() {
        let mut base = json!({"a": {"x": 1, "y": [1]}, "b": 1});
        deep_merge(&mut base, &json!({"a": {"y": [2], "z": 3}, "c": null}));
        assert_eq!(
            base,
            json!({"a": {"x": 1, "y": [2], "z": 3}, "b": 1, "c": null})
        );
    }
}
