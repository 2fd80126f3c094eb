//! A button that asks first: pressed, it turns into its question with a yes
//! and a no button, the focus on "no". "No" or Escape put the button back
//! (with the focus); "yes" does it, and the focus goes back to the button
//! (the action may move it elsewhere).

use leptos::prelude::*;

use crate::components::focus_soon;

#[component]
pub fn AskFirst(
    /// The button's id; its "no" is `{id}-no`.
    #[prop(into)]
    id: String,
    #[prop(into)] class: String,
    #[prop(into)] label: Signal<String>,
    /// While busy the button stays focusable but does nothing (a disabled
    /// button would drop the focus).
    #[prop(optional, into)]
    busy: Signal<bool>,
    #[prop(into)] question: String,
    #[prop(into)] yes: String,
    #[prop(into)] no: String,
    on_yes: Callback<()>,
) -> impl IntoView {
    let asking = RwSignal::new(false);
    let id = StoredValue::new(id);
    let no_id = StoredValue::new(format!("{}-no", id.get_value()));
    let back = move || {
        asking.set(false);
        focus_soon(&id.get_value());
    };
    view! {
        <span class="ask-first" on:keydown=move |ev: leptos::ev::KeyboardEvent| {
            if ev.key() == "Escape" && asking.get_untracked() {
                ev.stop_propagation();
                back();
            }
        }>
            <Show when=move || asking.get() fallback=move || view! {
                <button class=class.clone() id=id.get_value() aria-disabled=move || busy.get().to_string()
                    on:click=move |_| {
                        if !busy.get_untracked() {
                            asking.set(true);
                            focus_soon(&no_id.get_value());
                        }
                    }>{move || label.get()}</button>
            }>
                <span class="confirm" role="alert">{question.clone()}</span>
                <button class="btn danger" on:click=move |_| {
                    back();
                    on_yes.run(());
                }>{yes.clone()}</button>
                <button class="btn" id=no_id.get_value() on:click=move |_| back()>{no.clone()}</button>
            </Show>
        </span>
    }
}
