//! Client-side navigation: the URL as a signal, links followed without a
//! reload, back and forward, and the page a path shows. Which route a path
//! matches is `liftoff_model::route` (pure, tested natively); this is
//! the browser side. (`leptos_router` did this, for 37 KB of the gzipped
//! bundle; the app needs only paths, parameters and the query string.)

use leptos::ev;
use leptos::prelude::*;
use liftoff_model::route::{Params, match_route};
use wasm_bindgen::JsCast;
use web_sys::HtmlAnchorElement;

/// Where the app is: the path and the query string (`?a=1`, or empty).
#[derive(Clone, Copy)]
struct Url(RwSignal<(String, String)>);

fn current() -> (String, String) {
    let location = window().location();
    (
        location.pathname().unwrap_or_else(|_| "/".into()),
        location.search().unwrap_or_default(),
    )
}

/// The current route's `:name` values.
#[derive(Clone, Copy)]
struct PathParams(Memo<Params>);

/// The routes of the app, in the order they are tried.
pub type Routes<P> = &'static [(&'static str, P)];

/// Start following the URL: links to this origin change the page without a
/// reload, as do back and forward. Returns the page the path shows (`None`
/// when no route matches), which changes only when the page does, not when
/// its parameters do.
pub fn provide<P>(routes: Routes<P>) -> Memo<Option<P>>
where
    P: Copy + PartialEq + Send + Sync + 'static,
{
    let url = Url(RwSignal::new(current()));
    provide_context(url);
    let matched = Memo::new(move |_| url.0.with(|(p, _)| match_route(routes, p)));
    provide_context(PathParams(Memo::new(move |_| {
        matched.with(|m| {
            m.as_ref()
                .map(|(_, params)| params.clone())
                .unwrap_or_default()
        })
    })));
    window_event_listener(ev::popstate, move |_| url.0.set(current()));
    window_event_listener(ev::click, move |ev| follow_link(&ev, url));
    Memo::new(move |_| matched.with(|m| m.as_ref().map(|(page, _)| *page)))
}

fn follow_link(ev: &ev::MouseEvent, url: Url) {
    if ev.default_prevented()
        || ev.button() != 0
        || ev.meta_key()
        || ev.ctrl_key()
        || ev.shift_key()
        || ev.alt_key()
    {
        return;
    }
    let Some(a) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .and_then(|e| e.closest("a[href]").ok().flatten())
        .and_then(|e| e.dyn_into::<HtmlAnchorElement>().ok())
    else {
        return;
    };
    let here = window().location();
    let elsewhere = a.origin() != here.origin().unwrap_or_default()
        || !matches!(a.target().as_str(), "" | "_self")
        || a.has_attribute("download")
        || a.get_attribute("rel")
            .is_some_and(|r| r.contains("external"));
    if elsewhere {
        return;
    }
    let (path, search, hash) = (a.pathname(), a.search(), a.hash());
    // A link to a place on this page is the browser's to scroll to.
    let same_page = url.0.with_untracked(|(p, s)| *p == path && *s == search);
    if !hash.is_empty() && same_page {
        return;
    }
    ev.prevent_default();
    // A link to where the app already is adds no history entry.
    go(url, &format!("{path}{search}{hash}"), same_page);
}

fn go(url: Url, href: &str, replace: bool) {
    let history = window().history();
    let pushed = history.and_then(|h| {
        if replace {
            h.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(href))
        } else {
            h.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(href))
        }
    });
    if pushed.is_err() {
        // No history API: a plain page load still gets there.
        let _ = window().location().set_href(href);
        return;
    }
    window().scroll_to_with_x_and_y(0.0, 0.0);
    url.0.set(current());
}

fn url() -> Url {
    expect_context::<Url>()
}

/// Go to `href` (a path on this origin), as a click on a link would.
pub fn use_navigate() -> impl Fn(&str) + Clone + Send + Sync + 'static {
    let url = url();
    move |href: &str| go(url, href, false)
}

/// Go to `href` in place of the current entry (back skips it).
pub fn redirect(href: &str) {
    go(url(), href, true);
}

/// The current path.
pub fn use_pathname() -> Memo<String> {
    let url = url();
    Memo::new(move |_| url.0.with(|(p, _)| p.clone()))
}

/// The current path with its query string (`/launch/e/q?item=...`).
pub fn use_href() -> Memo<String> {
    let url = url();
    Memo::new(move |_| url.0.with(|(p, s)| format!("{p}{s}")))
}

/// The query string's values.
pub fn use_query_map() -> Memo<Params> {
    let url = url();
    Memo::new(move |_| url.0.with(|(_, s)| Params::from_query(s)))
}

/// The current route's `:name` values.
pub fn use_params_map() -> Memo<Params> {
    expect_context::<PathParams>().0
}
