//! Liftoff's web app (Leptos, client-side rendered): queues, items,
//! agents, jobs, the Launch drawer and runs. Pages (`pages/`, one per route)
//! and components (`components/`) render `liftoff-model` values and call
//! `liftoff-client` operations; what those values mean is decided there.

mod app;
mod components;
mod drafts;
mod load;
mod pages;
mod poll;
mod router;
mod session;

fn main() {
    // A bug should say what it was in the console, not just "unreachable".
    std::panic::set_hook(Box::new(|info| {
        web_sys::console::error_1(&format!("liftoff-www: {info}").into());
    }));
    leptos::mount::mount_to_body(app::App);
}
