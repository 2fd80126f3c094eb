//! Relay paging of short lists held in memory (a project's artifact types
//! and collections, a run's artifacts, a collection's versions and aliases),
//! keyset paging of long ones read from the store (projects, runs), and the
//! `filters`/`order` arguments W&B's public API sends with them.

use serde_json::Value;

use crate::error::{ApiError, ApiResult};
use crate::graphql::launch::PageInfo;
use crate::ids;

/// The most items one page may hold.
pub const MAX_PAGE: i32 = 10_000;

/// One page: each item with its cursor, the page info and the total count
/// (before paging).
pub struct Page<T> {
    pub items: Vec<(String, T)>,
    pub page_info: PageInfo,
    pub total: i64,
}

/// The page of `all` after the cursor `after`, `first` items long (all of
/// them when `first` is absent, as liftoff-client's documents expect).
/// A cursor is the 1-based position of an item (`Cursor:n`), so it stays
/// valid while the list only grows at its end.
pub fn offset_page<T>(all: Vec<T>, after: Option<&str>, first: Option<i32>) -> ApiResult<Page<T>> {
    let total = all.len();
    let skip = match after {
        Some(c) if !c.is_empty() => ids::decode("Cursor", c)
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| ApiError::invalid(format!("{c:?} is not a cursor from this server")))?,
        _ => 0,
    };
    let take = match first {
        Some(n) if n < 0 => {
            return Err(ApiError::invalid(format!(
                "first must be at least 0, not {n}"
            )));
        }
        Some(n) => usize::try_from(n.min(MAX_PAGE)).unwrap_or(0),
        None => total,
    };
    let items: Vec<(String, T)> = all
        .into_iter()
        .enumerate()
        .skip(skip)
        .take(take)
        .map(|(i, x)| (ids::encode("Cursor", i as i64 + 1), x))
        .collect();
    let end = skip.saturating_add(items.len());
    let end_cursor = match items.last() {
        Some((c, _)) => Some(c.clone()),
        None => after.filter(|c| !c.is_empty()).map(str::to_owned),
    };
    Ok(Page {
        items,
        page_info: PageInfo {
            end_cursor,
            has_next_page: end < total,
        },
        total: total as i64,
    })
}

/// A W&B `order` argument (`name`, `+createdAt`, `-createdAt`): the field
/// and whether it is descending. `None` for an empty or absent order.
pub fn parse_order(order: Option<&str>) -> Option<(&str, bool)> {
    let o = order.map(str::trim).filter(|o| !o.is_empty())?;
    Some(match o.strip_prefix('-') {
        Some(field) => (field, true),
        None => (o.strip_prefix('+').unwrap_or(o), false),
    })
}

/// Whether `value` passes a W&B filter on one string field: `"x"`,
/// `{"$eq": "x"}`, `{"$ne": "x"}` or `{"$in": ["x", ...]}`. `None` for a
/// condition this server does not evaluate (e.g. `$regex`).
pub fn string_matches(value: &str, condition: &Value) -> Option<bool> {
    match condition {
        Value::String(s) => Some(value == s),
        Value::Object(ops) if ops.len() == 1 => {
            let (op, arg) = ops.iter().next()?;
            match (op.as_str(), arg) {
                ("$eq", Value::String(s)) => Some(value == s),
                ("$ne", Value::String(s)) => Some(value != s),
                ("$in", Value::Array(list)) => Some(list.iter().any(|x| x.as_str() == Some(value))),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Log what a client asked for that this server does not apply.
pub fn ignored(what: &str, field: &str, detail: &Value) {
    tracing::warn!(
        "{what}: ignored {field} {detail} (this server applies only the conditions it documents)"
    );
}

/// A keyset page request: how many rows (`first`, 50 by default, 1 to
/// 1,000) and the row id the page starts below (`after`, a `Cursor:<id>`).
/// The store is asked for one row more, to know whether a next page exists.
pub struct Keyset {
    pub limit: i64,
    pub before: Option<i64>,
}

impl Keyset {
    pub fn new(after: Option<&str>, first: Option<i32>) -> ApiResult<Self> {
        let before = match after {
            Some(c) if !c.is_empty() => Some(ids::decode("Cursor", c).ok_or_else(|| {
                ApiError::invalid(format!("{c:?} is not a cursor from this server"))
            })?),
            _ => None,
        };
        Ok(Self {
            limit: i64::from(first.unwrap_or(50).clamp(1, 1000)),
            before,
        })
    }

    /// Cut the store's `limit + 1` rows to the page; answers each row with
    /// its cursor, and the page info.
    pub fn page<T>(
        &self,
        mut rows: Vec<T>,
        id: impl Fn(&T) -> i64,
    ) -> (Vec<(String, T)>, PageInfo) {
        let has_next_page = rows.len() as i64 > self.limit;
        rows.truncate(usize::try_from(self.limit).unwrap_or(0));
        let rows: Vec<(String, T)> = rows
            .into_iter()
            .map(|r| (ids::encode("Cursor", id(&r)), r))
            .collect();
        let end_cursor = rows.last().map(|(c, _)| c.clone());
        (
            rows,
            PageInfo {
                end_cursor,
                has_next_page,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pages_follow_their_cursors_to_the_end() {
        let p = offset_page(vec!['a', 'b', 'c'], None, Some(2)).unwrap();
        assert_eq!(p.items.iter().map(|x| x.1).collect::<String>(), "ab");
        assert!(p.page_info.has_next_page);
        assert_eq!(p.total, 3);
        let after = p.page_info.end_cursor.unwrap();
        let p = offset_page(vec!['a', 'b', 'c'], Some(&after), Some(2)).unwrap();
        assert_eq!(p.items.iter().map(|x| x.1).collect::<String>(), "c");
        assert!(!p.page_info.has_next_page);
        let all = offset_page(vec!['a', 'b', 'c'], None, None).unwrap();
        assert_eq!(all.items.len(), 3);
        let none = offset_page(Vec::<char>::new(), None, Some(5)).unwrap();
        assert_eq!((none.items.len(), none.page_info.end_cursor), (0, None));
        assert!(offset_page(vec![1], Some("junk"), None).is_err());
        assert!(offset_page(vec![1], None, Some(-1)).is_err());
    }

    #[test]
    fn orders_and_string_filters_read_like_wandb() {
        assert_eq!(parse_order(Some("-createdAt")), Some(("createdAt", true)));
        assert_eq!(parse_order(Some("+name")), Some(("name", false)));
        assert_eq!(parse_order(Some("name")), Some(("name", false)));
        assert_eq!(parse_order(Some("")), None);
        assert_eq!(string_matches("a", &json!("a")), Some(true));
        assert_eq!(string_matches("a", &json!({"$ne": "a"})), Some(false));
        assert_eq!(string_matches("a", &json!({"$in": ["b", "a"]})), Some(true));
        assert_eq!(string_matches("a", &json!({"$regex": "a"})), None);
    }
}
