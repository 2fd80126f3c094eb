//! A side drawer (a modal dialog): Escape or the backdrop closes it. Opening
//! moves the focus to its first field, Tab stays inside it, and closing
//! gives the focus back to what opened it.

use std::cell::RefCell;
use std::rc::Rc;

use leptos::prelude::*;
use wasm_bindgen::JsCast as _;

const FOCUSABLE: &str = "input:not([disabled]), select:not([disabled]), textarea:not([disabled]), \
     button:not([disabled]), a[href], [tabindex]:not([tabindex='-1'])";

/// The elements Tab visits inside `root`, in order.
fn focusables(root: &web_sys::Element) -> Vec<web_sys::HtmlElement> {
    let Ok(list) = root.query_selector_all(FOCUSABLE) else {
        return Vec::new();
    };
    (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|n| n.dyn_into::<web_sys::HtmlElement>().ok())
        .collect()
}

fn active_element() -> Option<web_sys::HtmlElement> {
    document()
        .active_element()
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
}

#[component]
pub fn Drawer(
    open: RwSignal<bool>,
    #[prop(into)] title: Signal<String>,
    children: ChildrenFn,
) -> impl IntoView {
    let children = StoredValue::new(children);
    let aside = NodeRef::<leptos::html::Aside>::new();
    let close = move || open.set(false);
    let opener: Rc<RefCell<Option<web_sys::HtmlElement>>> = Rc::default();
    let toasts = crate::components::toast::use_toasts();
    Effect::new(move |_| {
        if open.get() {
            toasts.clear();
            *opener.borrow_mut() = active_element();
            // After the drawer is drawn: its first field (its body's, so
            // not the close button), else the drawer itself.
            request_animation_frame(move || {
                if let Some(a) = aside.get_untracked() {
                    let body = a.query_selector(".drawer-body").ok().flatten();
                    match body.as_ref().and_then(|b| focusables(b).into_iter().next()) {
                        Some(first) => drop(first.focus()),
                        None => drop(a.focus()),
                    }
                }
            });
        } else if let Some(el) = opener.borrow_mut().take() {
            let _ = el.focus();
        }
    });
    // Escape with the focus nowhere (on a control just removed, such as a
    // "Start over" that redraws the form) still closes the open drawer.
    let stray = window_event_listener(leptos::ev::keydown, move |ev| {
        let nowhere = document()
            .active_element()
            .is_none_or(|e| document().body().is_some_and(|b| *b == e));
        if ev.key() == "Escape" && nowhere && open.get_untracked() {
            close();
        }
    });
    on_cleanup(move || stray.remove());
    let on_key = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        "Escape" => close(),
        "Tab" => {
            let Some(a) = aside.get_untracked() else {
                return;
            };
            let all = focusables(&a);
            let (Some(first), Some(last)) = (all.first(), all.last()) else {
                return;
            };
            let active = active_element();
            let at = |el: &web_sys::HtmlElement| active.as_ref() == Some(el);
            let outside = !all.iter().any(at);
            if ev.shift_key() && (at(first) || outside) {
                ev.prevent_default();
                let _ = last.focus();
            } else if !ev.shift_key() && (at(last) || outside) {
                ev.prevent_default();
                let _ = first.focus();
            }
        }
        _ => {}
    };
    view! {
        <Show when=move || open.get()>
            <div class="backdrop" on:click=move |_| close()></div>
            <aside class="drawer" role="dialog" aria-modal="true" aria-labelledby="drawer-title"
                tabindex="-1" node_ref=aside on:keydown=on_key>
                <header>
                    <h2 id="drawer-title">{move || title.get()}</h2>
                    <button class="close" aria-label="Close" on:click=move |_| close()>"×"</button>
                </header>
                <div class="drawer-body">{children.with_value(|c| c())}</div>
            </aside>
        </Show>
    }
}
