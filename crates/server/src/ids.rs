//! GraphQL node ids, W&B style: base64 of `Type:n` (`UnVuUXVldWU6NQ==` is
//! `RunQueue:5`). A popped item's id also carries its lease, `RunQueueItem:n:s`,
//! so that an ack or a failure from a stale lease can be told apart.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

pub fn encode(kind: &str, id: i64) -> String {
    STANDARD.encode(format!("{kind}:{id}"))
}

pub fn encode_leased_item(id: i64, lease_seq: i64) -> String {
    STANDARD.encode(format!("RunQueueItem:{id}:{lease_seq}"))
}

/// Decode an id of `kind`; `None` for anything else (wrong type, garbage).
pub fn decode(kind: &str, text: &str) -> Option<i64> {
    decode_parts(kind, text).map(|(id, _)| id)
}

/// `(id, lease)` of a `RunQueueItem` id.
pub fn decode_item(text: &str) -> Option<(i64, Option<i64>)> {
    decode_parts("RunQueueItem", text)
}

fn decode_parts(kind: &str, text: &str) -> Option<(i64, Option<i64>)> {
    let raw = STANDARD.decode(text.trim()).ok()?;
    let raw = String::from_utf8(raw).ok()?;
    let mut parts = raw.split(':');
    if parts.next()? != kind {
        return None;
    }
    let id = parts.next()?.parse::<i64>().ok().filter(|n| *n > 0)?;
    let lease = match parts.next() {
        Some(s) => Some(s.parse::<i64>().ok()?),
        None => None,
    };
    if parts.next().is_some() {
        return None;
    }
    Some((id, lease))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_like_wandb() {
        assert_eq!(encode("RunQueue", 5), "UnVuUXVldWU6NQ==");
        assert_eq!(decode("RunQueue", "UnVuUXVldWU6NQ=="), Some(5));
        assert_eq!(decode("Run", "UnVuUXVldWU6NQ=="), None);
        assert_eq!(decode_item(&encode_leased_item(7, 3)), Some((7, Some(3))));
        assert_eq!(decode_item(&encode("RunQueueItem", 7)), Some((7, None)));
        for bad in ["", "!!", "UnVuUXVldWU6", "UnVuUXVldWU6LTE="] {
            assert_eq!(decode("RunQueue", bad), None, "{bad}");
        }
    }
}
