//! Loading, error and empty views: every resource shows one of them until
//! it has data.

use crate::load::Load;
use leptos::prelude::*;
use liftoff_client::Error;
use liftoff_client::view::explain;

#[component]
pub fn Loading(#[prop(into, default = "Loading…".into())] what: String) -> impl IntoView {
    view! {
        <div class="loading" role="status" aria-live="polite">
            <span class="spinner" aria-hidden="true"></span>
            {what}
        </div>
    }
}

/// An error in plain words, with a retry button when there is something to retry.
#[component]
pub fn ErrorView(
    error: Error,
    #[prop(optional, into)] retry: Option<Callback<()>>,
) -> impl IntoView {
    // Trying again finds nothing more; Launch is the way on. A refused key
    // is refused again: Connect is where another one is given.
    let not_found = matches!(error, Error::NotFound { .. });
    let refused = matches!(error, Error::Unauthorized { .. });
    view! {
        <div class="error-box" role="alert">
            <p>{liftoff_client::view::code_spans(&explain(&error)).into_iter().map(|(code, text)| {
                let text = text.to_owned();
                if code { view! { <code>{text}</code> }.into_any() } else { text.into_any() }
            }).collect_view()}</p>
            {if not_found {
                view! { <a class="btn" href="/launch">"Go to Launch"</a> }.into_any()
            } else if refused {
                view! { <a class="btn" href="/connect">"Connect with another key"</a> }.into_any()
            } else {
                retry.map(|r| view! {
                    <button class="btn" on:click=move |_| r.run(())>"Try again"</button>
                }).into_any()
            }}
        </div>
    }
}

#[component]
pub fn Empty(children: Children) -> impl IntoView {
    view! { <div class="empty">{children()}</div> }
}

/// Render a resource: loading until it answers, its error with a retry, or
/// `ok` of its value. Stale values stay on screen while it reloads.
pub fn loaded<T, V>(
    resource: Load<Result<T, Error>>,
    ok: impl Fn(T) -> V + Send + Sync + 'static,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    move || match resource.get() {
        None => view! { <Loading/> }.into_any(),
        Some(Err(e)) => {
            view! { <ErrorView error=e retry=Callback::new(move |()| resource.refetch())/> }
                .into_any()
        }
        Some(Ok(v)) => ok(v).into_any(),
    }
}

/// Render `children` once connected to a server that accepted the key;
/// else say what is missing.
#[component]
pub fn RequireServer(children: ChildrenFn) -> impl IntoView {
    let session = crate::session::use_session();
    let here = crate::router::use_href();
    move || {
        match (session.creds.get(), session.server.get()) {
        // Connect sends the user back here (a shared link is not lost).
        (None, _) => view! {
            <section class="page narrow">
                <h1>"Connect first"</h1>
                <p>"This page needs a server and an API key. "
                    <a href=format!("/connect?next={}", liftoff_model::route::percent_encode(&here.get_untracked()))>"Connect"</a>"."</p>
            </section>
        }
        .into_any(),
        (Some(_), None | Some(None)) => view! { <Loading what="Connecting…"/> }.into_any(),
        (Some(_), Some(Some(Err(e)))) => view! {
            <section class="page narrow">
                <ErrorView error=e retry=Callback::new(move |()| session.server.refetch())/>
                <p><a href="/connect">"Change the server or the key"</a></p>
            </section>
        }
        .into_any(),
        (Some(_), Some(Some(Ok(_)))) => children().into_any(),
    }
    }
}

/// Says a form goes on from what was typed before and left unsaved; with
/// `start_over`, a button for a blank form.
#[component]
pub fn DraftNote(
    #[prop(into)] text: String,
    #[prop(optional)] start_over: Option<Callback<()>>,
) -> impl IntoView {
    view! {
        <p class="draft-note" data-testid="draft-note">{text}" "
            {start_over.map(|c| view! {
                <button type="button" class="link" on:click=move |_| c.run(())>"Start over"</button>
            })}
        </p>
    }
}
