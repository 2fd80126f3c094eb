//! A side drawer (a modal dialog): Escape or the backdrop closes it.

use leptos::prelude::*;

#[component]
pub fn Drawer(
    open: RwSignal<bool>,
    #[prop(into)] title: Signal<String>,
    children: ChildrenFn,
) -> impl IntoView {
    let children = StoredValue::new(children);
    let close = move || open.set(false);
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" {
            close();
        }
    };
    view! {
        <Show when=move || open.get()>
            <div class="backdrop" on:click=move |_| close()></div>
            <aside class="drawer" role="dialog" aria-modal="true" aria-labelledby="drawer-title"
                on:keydown=on_key>
                <header>
                    <h2 id="drawer-title">{move || title.get()}</h2>
                    <button class="close" aria-label="Close" on:click=move |_| close()>"×"</button>
                </header>
                <div class="drawer-body">{children.with_value(|c| c())}</div>
            </aside>
        </Show>
    }
}
