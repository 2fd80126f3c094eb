pub mod ask;
pub mod chart;
pub mod console;
pub mod copy;
pub mod drawer;
pub mod feedback;
pub mod fields;
pub mod html_rows;
pub mod kv;
pub mod launch_drawer;
pub mod queue_form;
pub mod status;
pub mod table;
pub mod tabs;
pub mod time;
pub mod toast;

use leptos::prelude::*;
use wasm_bindgen::JsCast as _;

/// Focus the element with this id once the view has drawn it.
/// After a refused submit: focus (and so scroll to) the first field of
/// `form` (a selector) marked invalid, once the errors are drawn.
pub fn focus_first_invalid(form: &'static str) {
    request_animation_frame(move || {
        if let Some(el) = document()
            .query_selector(&format!("{form} [aria-invalid=true]"))
            .ok()
            .flatten()
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = el.focus();
        }
    });
}

pub fn focus_soon(id: &str) {
    let id = id.to_owned();
    request_animation_frame(move || {
        if let Some(el) = document()
            .get_element_by_id(&id)
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = el.focus();
        }
    });
}
