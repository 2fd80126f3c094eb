//! A run's console output that follows live: new lines are fetched from the
//! last offset while the tab is visible and the run is not over.

use std::time::Duration;

use leptos::html::Pre;
use leptos::prelude::*;
use leptos::task::spawn_local;
use liftoff_client::Error;
use liftoff_client::ops::web::LiftoffRunLogLines;

use crate::components::feedback::ErrorView;
use crate::poll::use_poll;
use crate::session::use_session;

const PAGE: i64 = 1000;
/// Empty reads of an ended run before the console stops following (one
/// every 2 s): long enough for an agent's last upload to land.
const QUIET_READS: u32 = 5;

#[component]
pub fn Console(
    #[prop(into)] entity: String,
    #[prop(into)] project: String,
    #[prop(into)] run: String,
) -> impl IntoView {
    let session = use_session();
    let lines = RwSignal::new(Vec::<(i64, String)>::new());
    let error = RwSignal::new(None::<Error>);
    // `done`: the run is over and its last lines are read (polling stops);
    // `over`: the server said the run is over (the label stops saying
    // "following", though later reads may still bring late lines: the agent
    // sends the process's last output after the SDK marked the run ended).
    // `quiet`: reads in a row that found the run over and no new line.
    let done = RwSignal::new(false);
    let quiet = StoredValue::new(0u32);
    let over = RwSignal::new(false);
    let loaded = RwSignal::new(false);
    let busy = StoredValue::new(false);
    let pre = NodeRef::<Pre>::new();
    // Whether the view is at the bottom, where new lines keep it (scrolled
    // up, it stays put and says so).
    let pinned = RwSignal::new(true);
    let at_bottom =
        |e: &web_sys::HtmlElement| e.scroll_top() + e.client_height() >= e.scroll_height() - 24;
    let to_latest = move |_| {
        if let Some(e) = pre.get_untracked() {
            e.set_scroll_top(e.scroll_height());
        }
        pinned.set(true);
    };
    let tick = use_poll(Duration::from_secs(2));

    let fetch = move || {
        if busy.get_value() || done.get_untracked() {
            return;
        }
        let Some(client) = session.client() else {
            return;
        };
        busy.set_value(true);
        let (entity, project, run) = (entity.clone(), project.clone(), run.clone());
        spawn_local(async move {
            loop {
                let offset = lines.with_untracked(|l| l.last().map_or(0, |(n, _)| n + 1));
                let page = client
                    .call(LiftoffRunLogLines {
                        entity: entity.clone(),
                        project: project.clone(),
                        run: run.clone(),
                        offset,
                        limit: PAGE,
                    })
                    .await;
                match page {
                    Ok(page) => {
                        error.try_set(None);
                        let got = page.lines.len() as i64;
                        if got > 0 {
                            let el = pre.get_untracked();
                            let follow = el.as_ref().is_none_or(|e| at_bottom(e));
                            lines.try_update(|l| l.extend(page.lines));
                            if let (true, Some(e)) = (follow, el) {
                                request_animation_frame(move || {
                                    e.set_scroll_top(e.scroll_height())
                                });
                            }
                        }
                        loaded.try_set(true);
                        let run_over = page.state.is_terminal();
                        if run_over {
                            over.try_set(true);
                        }
                        if got < PAGE {
                            let n = if run_over && got == 0 {
                                quiet.try_get_value().unwrap_or(0) + 1
                            } else {
                                0
                            };
                            quiet.try_set_value(n);
                            if n >= QUIET_READS {
                                done.try_set(true);
                            }
                            break;
                        }
                    }
                    Err(e) => {
                        error.try_set(Some(e));
                        break;
                    }
                }
            }
            busy.try_set_value(false);
        });
    };
    Effect::new(move |_| {
        tick.track();
        fetch();
    });

    view! {
        <section class="console-wrap" aria-label="Console output">
            <div class="console-head">
                <h3>"Console"</h3>
                <span class="muted">{move || {
                    let n = lines.with(Vec::len);
                    let state = match (over.get(), pinned.get()) {
                        (true, _) => "",
                        (false, true) => " · following",
                        (false, false) => " · scrolled up: new lines are below",
                    };
                    format!("{n} line{}{state}", if n == 1 { "" } else { "s" })
                }}</span>
                <Show when=move || !pinned.get()>
                    <button type="button" class="link" on:click=to_latest>"Jump to latest"</button>
                </Show>
            </div>
            {move || error.get().map(|e| view! { <ErrorView error=e/> })}
            <pre class="console" node_ref=pre tabindex="0" on:scroll=move |_| {
                if let Some(e) = pre.get_untracked() {
                    pinned.set(at_bottom(&e));
                }
            }>
                {move || {
                    if !loaded.get() {
                        return "Loading…".to_owned();
                    }
                    lines.with(|l| {
                        if l.is_empty() {
                            return "(no output yet)".to_owned();
                        }
                        let mut out = String::new();
                        for (_, text) in l {
                            out.push_str(&liftoff_client::view::console_line(text));
                            out.push('\n');
                        }
                        out
                    })
                }}
            </pre>
        </section>
    }
}
