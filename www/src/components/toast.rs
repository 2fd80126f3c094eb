//! Toasts: short confirmations with an optional link (e.g. to a new item).

use std::time::Duration;

use leptos::prelude::*;

#[derive(Clone, Debug, PartialEq)]
pub struct Toast {
    pub id: u64,
    pub text: String,
    pub link: Option<(String, String)>,
}

#[derive(Clone, Copy)]
pub struct Toasts(RwSignal<Vec<Toast>>);

impl Toasts {
    pub fn provide() {
        provide_context(Toasts(RwSignal::new(vec![])));
    }

    /// Close every toast (a drawer opening: they would cover its buttons).
    pub fn clear(&self) {
        self.0.set(vec![]);
    }

    /// Show `text` (and a link `(href, label)`) for a while.
    pub fn show(&self, text: impl Into<String>, link: Option<(String, String)>) {
        let list = self.0;
        let id = list.with_untracked(|l| l.iter().map(|t| t.id).max().unwrap_or(0) + 1);
        list.update(|l| {
            l.push(Toast {
                id,
                text: text.into(),
                link,
            })
        });
        set_timeout(
            move || list.update(|l| l.retain(|t| t.id != id)),
            Duration::from_secs(12),
        );
    }
}

pub fn use_toasts() -> Toasts {
    expect_context::<Toasts>()
}

#[component]
pub fn ToastHost() -> impl IntoView {
    let Toasts(list) = use_toasts();
    view! {
        <div class="toasts" role="status" aria-live="polite">
            <For each=move || list.get() key=|t| t.id let:t>
                <div class="toast">
                    <span>{t.text.clone()}</span>
                    // Followed, the link has done its work: the toast goes
                    // (after the router has read the click).
                    {t.link.clone().map(|(href, label)| view! {
                        <a href=href on:click=move |_| request_animation_frame(move || {
                            list.update(|l| l.retain(|x| x.id != t.id));
                        })>{label}</a>
                    })}
                    <button class="close" aria-label="Dismiss"
                        on:click=move |_| list.update(|l| l.retain(|x| x.id != t.id))>"×"</button>
                </div>
            </For>
        </div>
    }
}
