//! A command with a Copy button.

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen_futures::JsFuture;

#[component]
pub fn CopyCommand(#[prop(into)] command: String) -> impl IntoView {
    let copied = RwSignal::new(false);
    let text = command.clone();
    let copy = move |_| {
        let text = text.clone();
        let clipboard = window().navigator().clipboard();
        spawn_local(async move {
            let ok = JsFuture::from(clipboard.write_text(&text)).await.is_ok();
            copied.try_set(ok);
            set_timeout(
                move || {
                    copied.try_set(false);
                },
                std::time::Duration::from_secs(2),
            );
        });
    };
    view! {
        <div class="command">
            <code>{command}</code>
            <button class="btn small" on:click=copy aria-label="Copy the command">
                {move || if copied.get() { "Copied" } else { "Copy" }}
            </button>
        </div>
    }
}
