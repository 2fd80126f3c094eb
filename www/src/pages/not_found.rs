use leptos::prelude::*;

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <section class="page">
            <h1>"Not found"</h1>
            <p>"There is no page here. Go to "<a href="/launch">"Launch"</a>"."</p>
        </section>
    }
}
