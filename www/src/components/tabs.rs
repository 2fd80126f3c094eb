//! Tabs that are links: each tab has its own URL.

use leptos::prelude::*;

#[component]
pub fn Tabs(
    /// `(label, href, selected)`.
    tabs: Vec<(String, String, Signal<bool>)>,
) -> impl IntoView {
    view! {
        <nav class="tabs" aria-label="Tabs">
            {tabs.into_iter().map(|(label, href, selected)| view! {
                <a href=href class:selected=move || selected.get()
                    aria-current=move || selected.get().then_some("page")>{label}</a>
            }).collect_view()}
        </nav>
    }
}
