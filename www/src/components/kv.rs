//! A key/value table (a run's config or summary).

use leptos::prelude::*;
use liftoff_client::view::chart::value_text;
use serde_json::{Map, Value};

use crate::components::feedback::Empty;

#[component]
pub fn KeyValues(
    map: Map<String, Value>,
    #[prop(into)] caption: String,
    #[prop(into, default = "Nothing here.".into())] empty: String,
) -> impl IntoView {
    if map.is_empty() {
        return view! { <Empty>{empty}</Empty> }.into_any();
    }
    let mut entries: Vec<(String, Value)> = map
        .into_iter()
        .filter(|(k, _)| !k.starts_with('_'))
        .collect();
    liftoff_model::sort::sort_by(&mut entries, |a, b| a.0.cmp(&b.0));
    view! {
        <div class="table-wrap">
            <table class="kv">
                <caption class="sr-only">{caption}</caption>
                <tbody>
                    {entries.into_iter().map(|(k, v)| {
                        let text = match &v {
                            Value::Object(_) | Value::Array(_) => serde_json::to_string_pretty(&v).unwrap_or_default(),
                            other => value_text(other),
                        };
                        let long = matches!(v, Value::Object(_) | Value::Array(_));
                        view! {
                            <tr>
                                <th scope="row">{k}</th>
                                <td class:mono=long>{if long { view! { <pre>{text}</pre> }.into_any() } else { text.into_any() }}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
