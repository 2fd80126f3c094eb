//! Times as people read them: "3 min ago", with the exact time on hover.

use leptos::prelude::*;
use liftoff_model::timefmt;

use crate::session::now;

/// The app's clock: ticks every 15 s while the page is visible, so every
/// "12 s ago" keeps true after a page stops polling (a run that ended).
#[derive(Clone, Copy)]
pub struct Clock(pub ReadSignal<u64>);

impl Clock {
    pub fn provide() {
        provide_context(Clock(crate::poll::use_poll(
            std::time::Duration::from_secs(15),
        )));
    }
}

/// `at` (a W&B DateTime) as "12 s ago"; `tick` (else the app's [`Clock`])
/// re-renders it as time passes.
#[component]
pub fn Ago(at: Option<String>, #[prop(optional)] tick: Option<ReadSignal<u64>>) -> impl IntoView {
    let tick = tick.or_else(|| use_context::<Clock>().map(|c| c.0));
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
