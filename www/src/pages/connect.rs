//! `/connect`: the server's base URL and your API key (kept in this
//! browser's localStorage until you forget it); who you are there.

use leptos::prelude::*;
use leptos::task::spawn_local;
use liftoff_client::auth::api_key_problem;
use liftoff_client::url::base_url_problem;

use crate::components::feedback::{ErrorView, Loading};
use crate::session::{Session, use_session};

#[component]
pub fn ConnectPage() -> impl IntoView {
    let session = use_session();
    let base = RwSignal::new(session.base_url());
    let key = RwSignal::new(String::new());
    let show_key = RwSignal::new(false);
    let missing_key = RwSignal::new(false);
    // A key that cannot be one (cut short, spaces), said before asking.
    let bad_key = RwSignal::new(None::<String>);
    // Gone once the key is edited.
    Effect::new(move |_| {
        key.track();
        bad_key.set(None);
    });
    let bad_base = RwSignal::new(None::<String>);
    let trying = RwSignal::new(false);
    // A server that did not take the key (or did not answer): nothing is
    // switched, and the connection in use, if any, stays.
    let refused = RwSignal::new(None::<liftoff_client::Error>);
    // Connect with what the form says now (Connect, and Try again after
    // the base URL was corrected): checked first, used once it works.
    let connect = move || {
        if trying.get_untracked() {
            return;
        }
        bad_base.set(base_url_problem(&base.get_untracked()));
        if bad_base.with_untracked(Option::is_some) {
            return;
        }
        // A blank key keeps the saved one (to change only the base URL).
        let typed = key.get_untracked();
        let saved = session.creds.get_untracked().map(|c| c.api_key);
        let api_key = match (typed.trim().is_empty(), saved) {
            (false, _) => typed,
            (true, Some(saved)) => saved,
            (true, None) => {
                missing_key.set(true);
                return;
            }
        };
        missing_key.set(false);
        bad_key.set(api_key_problem(&api_key));
        if bad_key.with_untracked(Option::is_some) {
            return;
        }
        let base_url = base.get_untracked();
        trying.set(true);
        refused.set(None);
        spawn_local(async move {
            let checked = Session::check(&base_url, &api_key).await;
            trying.try_set(false);
            match checked {
                Ok(info) => {
                    session.adopt(&base_url, &api_key, info);
                    key.try_set(String::new());
                }
                Err(e) => {
                    refused.try_set(Some(e));
                }
            }
        });
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        connect();
    };
    let forget_if_refused =
        move |e: &liftoff_client::Error| {
            matches!(e, liftoff_client::Error::Unauthorized { .. }).then(|| view! {
            <button class="btn" on:click=move |_| session.forget()>"Forget this key"</button>
        })
        };
    let refusal = move |e: liftoff_client::Error| {
        let still = session.info().map(|i| {
            format!(
                "Nothing was changed: still connected to {} as {}.",
                i.base_url, i.viewer.username
            )
        });
        view! {
            <ErrorView error=e retry=Callback::new(move |()| connect())/>
            {still.map(|s| view! { <p class="muted" data-testid="still-connected">{s}</p> })}
        }
        .into_any()
    };
    // Where "Connect first" came from (`?next=`), to go back to.
    let query = crate::router::use_query_map();
    let status = move || match (session.creds.get(), session.server.get(), refused.get()) {
        _ if trying.get() => view! { <Loading what="Checking the key…"/> }.into_any(),
        (_, _, Some(e)) => refusal(e),
        (None, _, _) => {
            view! { <p class="muted">"Not connected. Enter an API key above."</p> }.into_any()
        }
        (Some(_), None | Some(None), _) => view! { <Loading what="Checking the key…"/> }.into_any(),
        // The form's own message says what is wrong with the address now.
        (Some(_), Some(Some(Err(_))), _) if bad_base.with(Option::is_some) => ().into_any(),
        (Some(_), Some(Some(Err(e))), _) => {
            let forget = forget_if_refused(&e);
            view! {
                <ErrorView error=e retry=Callback::new(move |()| connect())/>
                {forget}
            }
            .into_any()
        }
        (Some(_), Some(Some(Ok(info))), _) => {
            let next = query.with(|q| q.get("next"));
            let entities = info.viewer.entities();
            let caps = info.caps;
            view! {
                <div class="card connected" data-testid="connected">
                    <h2>"Connected"</h2>
                    <dl class="facts">
                        <dt>"Server"</dt><dd><code>{info.base_url.clone()}</code></dd>
                        <dt>"You"</dt><dd data-testid="viewer">{info.viewer.username.clone()}
                            {info.viewer.email.clone().map(|e| format!(" ({e})"))}
                            {info.viewer.admin.then_some(" · admin")}</dd>
                        <dt>"Entities"</dt>
                        <dd><ul class="chips">{entities.into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}</ul></dd>
                        <dt>"Liftoff extensions"</dt>
                        <dd>{if caps.queue_admin {
                            "yes: queue details, agents, cancel, requeue, priorities, run consoles"
                        } else {
                            "no: a plain W&B server. Queue lists and launches work; item details, agents and consoles need a Liftoff server."
                        }}</dd>
                    </dl>
                    <div class="actions">
                        {match liftoff_model::route::return_path(next.as_deref()) {
                            Some(back) => view! { <a class="btn primary" href=back>"Back to the page you opened"</a> }.into_any(),
                            None => view! { <a class="btn primary" href="/launch">"Go to Launch"</a> }.into_any(),
                        }}
                        <button class="btn" on:click=move |_| session.forget()>"Forget this key"</button>
                    </div>
                </div>
            }.into_any()
        }
    };
    view! {
        <section class="page narrow">
            <h1>"Connect"</h1>
            <p class="lead">"Liftoff talks to a W&B-compatible server: this Liftoff server, or another one it forwards to."</p>
            <form class="form card" on:submit=submit>
                <div class="field">
                    <label for="base-url">"Base URL"</label>
                    <input id="base-url" type="text" inputmode="url" autocomplete="url" spellcheck="false"
                        aria-invalid=move || bad_base.with(Option::is_some).to_string() bind:value=base/>
                    <p class="help">"Defaults to where this page came from."</p>
                    {move || bad_base.get().map(|m| view! {
                        <p class="field-error" role="alert">{m}</p>
                    })}
                </div>
                <div class="field">
                    <label for="api-key">"API key"</label>
                    <div class="input-row">
                        <input id="api-key" autocomplete="off" spellcheck="false"
                            type=move || if show_key.get() { "text" } else { "password" }
                            placeholder=move || match (session.creds.get(), session.server.get()) {
                                (None, _) => "40 characters",
                                (Some(_), Some(Some(Err(liftoff_client::Error::Unauthorized { .. })))) => "the server refused this key: enter another",
                                (Some(_), Some(Some(Err(_)))) => "not checked yet: the server did not answer",
                                (Some(_), _) => "saved (enter a new one to replace it)",
                            }
                            aria-invalid=move || bad_key.with(Option::is_some).to_string()
                            bind:value=key/>
                        <button type="button" class="btn" aria-pressed=move || show_key.get().to_string()
                            on:click=move |_| show_key.update(|s| *s = !*s)>
                            {move || if show_key.get() { "Hide" } else { "Show" }}
                        </button>
                    </div>
                    <p class="help">"Kept in this browser only (localStorage) once the server accepts it, until you forget it."</p>
                    {move || bad_key.get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
                    {move || (missing_key.get() && key.with(|k| k.trim().is_empty())).then(|| view! {
                        <p class="field-error" role="alert">"Enter an API key: "<code>"liftoff server"</code>" prints the admin's on its first start; on W&B it is at wandb.ai/authorize."</p>
                    })}
                </div>
                <div class="actions">
                    <button class="btn primary" type="submit">"Connect"</button>
                </div>
            </form>
            {status}
        </section>
    }
}
