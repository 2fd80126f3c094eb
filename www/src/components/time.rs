//! Times as people read them: "3 min ago", with the exact time on hover.

use leptos::prelude::*;
use liftoff_model::timefmt;

use crate::session::now;

/// `at` (a W&B DateTime) as "12 s ago"; `tick` re-renders it as time passes.
#[component]
pub fn Ago(at: Option<String>, #[prop(optional)] tick: Option<ReadSignal<u64>>) -> impl IntoView {
    let Some(text) = at else {
        return view! { <span class="muted">"—"</span> }.into_any();
    };
    let Some(t) = timefmt::parse(&text) else {
        return view! { <span>{text}</span> }.into_any();
    };
    let exact = timefmt::format(t);
    let label = move || {
        if let Some(tick) = tick {
            tick.track();
        }
        timefmt::ago(t, now())
    };
    view! { <time datetime=exact.clone() title=exact>{label}</time> }.into_any()
}
