//! Liftoff's web app (Leptos, client-side rendered). The app itself (queues,
//! items, agents, jobs) arrives in issue #5; this shell proves the build:
//! trunk, wasm-bindgen and wasm-opt, from `cargo xtask web`.

use leptos::prelude::*;

#[component]
fn App() -> impl IntoView {
    view! {
        <header class="top">
            <span class="mark"></span>
            <h1>"Liftoff"</h1>
        </header>
        <main>
            <p>"W&B Launch, rebuilt in Rust: queues, agents and jobs."</p>
            <p class="note">"The web app arrives in issue #5 ([4/7] The web app)."</p>
        </main>
    }
}

fn main() {
    leptos::mount::mount_to_body(App);
}
