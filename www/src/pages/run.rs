//! `/:entity/:project/runs/:run`: a run's state, charts of its history,
//! summary, config, files and console (live), and a Stop button.

use liftoff_model::route;
use liftoff_model::run::RunState;
use liftoff_model::timefmt;
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use liftoff_client::Error;
use liftoff_client::ops::runs::StopRun;
use liftoff_client::ops::web::{LiftoffRunHistory, RunDetail};
use liftoff_client::view::chart::XAxis;
use liftoff_client::view::explain;
use serde_json::{Map, Value};

use crate::components::ask::AskFirst;
use crate::components::chart::LineChart;
use crate::components::console::Console;
use crate::components::feedback::{Empty, ErrorView, Loading, RequireServer};
use crate::components::kv::KeyValues;
use crate::components::status::RunStateBadge;
use crate::components::time::Ago;
use crate::components::toast::use_toasts;
use crate::load::Load;
use crate::poll::{last_good, use_poll};
use crate::router::use_params_map;
use crate::session::use_session;
use liftoff_client::loads;

/// Rows asked per chart load (the server downsamples to this many).
const SAMPLES: i64 = 500;
/// Charts shown before the user picks keys.
const FIRST_KEYS: usize = 6;

#[component]
pub fn RunPage() -> impl IntoView {
    view! { <RequireServer><RunView/></RequireServer> }
}

#[component]
fn RunView() -> impl IntoView {
    let session = use_session();
    let params = use_params_map();
    let entity = move || params.with(|p| p.get("entity").unwrap_or_default());
    let project = move || params.with(|p| p.get("project").unwrap_or_default());
    let name = move || params.with(|p| p.get("run").unwrap_or_default());
    let tick = use_poll(Duration::from_secs(3));
    // The run (by name) seen to have ended: this page, or the next run's
    // after an in-app navigation, polls until its run has.
    let finished = RwSignal::new(None::<String>);
    let detail = Load::new(move || {
        // Poll while the run is live; one last load after it ends.
        if finished.with(|f| f.as_deref() != Some(name().as_str())) {
            tick.track();
        }
        let (e, p, r) = (entity(), project(), name());
        let (client, caps) = (session.client(), session.caps());
        async move {
            let Some(client) = client else {
                return Err(Error::Unauthorized {
                    url: "this server".into(),
                });
            };
            loads::run_detail(&client, caps, &e, &p, &r).await
        }
    });
    let (last_good, failure) = last_good(detail);
    // Set once: a signal set (even to the same value) wakes the loader that
    // reads it, and each answer differs (its file links are signed anew), so
    // setting it on every answer loaded the run again and again.
    Effect::new(move |_| {
        let ended = last_good.with(|d| {
            d.as_ref()
                .filter(|d| d.run.state.is_terminal())
                .map(|d| d.run.name.clone())
        });
        if ended.is_some() && finished.with_untracked(|f| *f != ended) {
            finished.set(ended);
        }
    });
    let loaded = Memo::new(move |_| last_good.with(Option::is_some));
    let summary = Memo::new(move |_| last_good.with(|d| d.as_ref().map(|d| d.run.summary.clone())));
    let ended = Memo::new(move |_| {
        last_good.with(|d| d.as_ref().is_some_and(|d| d.run.state.is_terminal()))
    });
    let config = Memo::new(move |_| last_good.with(|d| d.as_ref().map(|d| d.run.config.clone())));

    view! {
        <section class="page">
            <nav class="crumbs" aria-label="Breadcrumb">
                <a href=move || format!("/launch?entity={}", entity())>{entity}</a>" / "
                <a href=move || format!("/{}/{}", entity(), project())>{project}</a>
                " / "<a href=move || format!("/{}/{}/runs", entity(), project())>"runs"</a>
            </nav>
            {move || match loaded.get() {
                false => view! {
                    {move || match failure.get() {
                        None => view! { <Loading what="Loading the run…"/> }.into_any(),
                        Some(e) => view! { <ErrorView error=e retry=Callback::new(move |()| detail.refetch())/> }.into_any(),
                    }}
                }.into_any(),
                true => view! {
                    <RunHeader detail=last_good refresh=Callback::new(move |()| detail.refetch())/>
                    <Charts detail=last_good entity=entity() project=project() run=name() tick=tick/>
                    <div class="two-col">
                        <section aria-labelledby="summary-h">
                            <h2 id="summary-h">"Summary"</h2>
                            {move || summary.get().map(|m| {
                                let empty = if ended.get() { "No summary." } else { "No summary yet." };
                                view! { <KeyValues map=m caption="Summary" empty=empty/> }
                            })}
                        </section>
                        <section aria-labelledby="config-h">
                            <h2 id="config-h">"Config"</h2>
                            {move || config.get().map(|m| view! { <KeyValues map=m caption="Config" empty="No config."/> })}
                        </section>
                    </div>
                    <Files detail=last_good/>
                    {move || if session.caps().console {
                        view! { <Console entity=entity() project=project() run=name()/> }.into_any()
                    } else {
                        view! { <Empty><p>"This server does not serve console output (a Liftoff server does)."</p></Empty> }.into_any()
                    }}
                }.into_any(),
            }}
        </section>
    }
}

#[component]
fn RunHeader(detail: RwSignal<Option<RunDetail>>, refresh: Callback<()>) -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let stopping = RwSignal::new(false);
    let stop = move |id: String| {
        let Some(client) = session.client() else {
            return;
        };
        stopping.set(true);
        spawn_local(async move {
            match client.call(StopRun { id }).await {
                Ok(()) => toasts.show("Asked the run to stop.", None),
                Err(e) => {
                    stopping.try_set(false);
                    toasts.show(explain(&e), None);
                }
            }
            refresh.try_run(());
        });
    };
    // The Stop button (which asks first) is drawn once, outside the part a
    // poll redraws, so the focus stays on it; while stopping it is
    // aria-disabled, not disabled, which would drop the focus.
    let live =
        Memo::new(move |_| detail.with(|d| d.as_ref().is_some_and(|d| !d.run.state.is_terminal())));
    let stopped = Memo::new(move |_| {
        stopping.get() || detail.with(|d| d.as_ref().is_some_and(|d| d.run.stopped))
    });
    let on_stop = move |()| {
        if stopped.get_untracked() {
            return;
        }
        if let Some(id) = detail.with_untracked(|d| d.as_ref().map(|d| d.run.id.clone())) {
            stop(id);
        }
    };
    view! {
        <div class="page-head">
            {move || detail.get().map(|d| {
                let r = d.run.clone();
                view! {
                    <div>
                        <h1>{r.display_name.clone().unwrap_or_else(|| r.name.clone())}" "<RunStateBadge state=r.state.clone()/></h1>
                        <p class="meta-line">
                            {r.display_name.as_ref().filter(|d| **d != r.name).map(|_| view! {
                                <span class="mono">{r.name.clone()}</span>" · "
                            })}
                            "created "<Ago at=r.created_at.clone()/>
                            {if r.state.is_terminal() {
                                // Ended: how long it ran, and when it ended.
                                let ran = r.created_at.as_deref().and_then(timefmt::parse)
                                    .zip(r.heartbeat_at.as_deref().and_then(timefmt::parse))
                                    .map(|(a, b)| format!(" · ran {}", timefmt::duration((b - a).whole_seconds())));
                                view! { {ran}" · ended "<Ago at=r.heartbeat_at.clone()/> }.into_any()
                            } else {
                                view! { " · last heard from "<Ago at=r.heartbeat_at.clone()/> }.into_any()
                            }}
                            {d.host.clone().map(|h| format!(" · on {h}"))}
                            {d.program.clone().map(|p| {
                                // The script's name; its full path on hover.
                                let name = p.rsplit(['/', '\\']).next().unwrap_or(&p).to_owned();
                                view! { " · "<span class="program" title=p>{name}</span> }
                            })}
                            {d.user.clone().map(|u| format!(" · by {u}"))}
                            {d.job.clone().map(|j| view! {
                                " · from job "
                                <a class="job-link" href=format!("/{}/{}/jobs/{}?version={}", j.entity, j.project, j.name, j.version)>{format!("{}:{}", j.name, j.version)}</a>
                            })}
                            {d.launched.clone().map(|l| {
                                let href = format!("{}?item={}", route::path(&["launch", &l.entity, &l.queue]), route::percent_encode(&l.item_id));
                                view! { " · from queue "<a class="queue-link" href=href>{l.queue}</a> }
                            })}
                            {match (r.stopped && r.state == RunState::Killed, r.exit_code) {
                                // Stopped as asked: its exit code is the stop's (the SDK's 255), which says nothing more.
                                (true, _) => Some(" · stopped on request".to_owned()),
                                (false, Some(c)) => Some(format!(" · exit code {c}")),
                                (false, None) => None,
                            }}
                        </p>
                        // Why its queue item failed, as the row says it (W&B
                        // shows the error on the run too).
                        {d.launched.as_ref().and_then(|l| l.error.clone()).map(|e| view! {
                            <p class="error-box item-error">{format!("Failed at the {e}")}</p>
                        })}
                    </div>
                }
            })}
            <Show when=move || live.get()>
                <AskFirst id="run-stop" class="btn danger" busy=stopped
                    label=Signal::derive(move || if stopped.get() { "Stopping…" } else { "Stop" }.to_owned())
                    question="Stop this run? The agent interrupts its process."
                    yes="Stop the run" no="Keep it running" on_yes=Callback::new(on_stop)/>
            </Show>
        </div>
    }
}

#[component]
fn Charts(
    detail: RwSignal<Option<RunDetail>>,
    entity: String,
    project: String,
    run: String,
    tick: ReadSignal<u64>,
) -> impl IntoView {
    let session = use_session();
    let keys = Memo::new(move |_| {
        detail.with(|d| {
            d.as_ref()
                .map(|d| d.metric_keys.clone())
                .unwrap_or_default()
        })
    });
    let live =
        Memo::new(move |_| detail.with(|d| d.as_ref().is_some_and(|d| !d.run.state.is_terminal())));
    // The user's choice of keys, once made; until then the first few.
    let picked = RwSignal::new(None::<Vec<String>>);
    let shown = Memo::new(move |_| {
        picked
            .get()
            .unwrap_or_else(|| keys.with(|k| k.iter().take(FIRST_KEYS).cloned().collect()))
    });
    let x = RwSignal::new(XAxis::Step);
    let history = Load::new(move || {
        if live.get() {
            tick.track();
        }
        let wanted = shown.get();
        let client = session.client();
        let (e, p, r) = (entity.clone(), project.clone(), run.clone());
        async move {
            if wanted.is_empty() {
                return Ok(vec![]);
            }
            let Some(client) = client else {
                return Err(Error::Unauthorized {
                    url: "this server".into(),
                });
            };
            client
                .call(LiftoffRunHistory {
                    entity: e,
                    project: p,
                    run: r,
                    keys: wanted,
                    samples: SAMPLES,
                })
                .await
        }
    });
    let rows = RwSignal::new(Vec::<Map<String, Value>>::new());
    let failure = RwSignal::new(None::<Error>);
    Effect::new(move |_| match history.get() {
        Some(Ok(r)) => {
            rows.set(r);
            failure.set(None);
        }
        Some(Err(e)) => failure.set(Some(e)),
        None => {}
    });
    let toggle = move |key: String, on: bool| {
        let mut now = shown.get_untracked();
        now.retain(|k| k != &key);
        if on {
            now.push(key);
            liftoff_model::sort::sort(&mut now);
        }
        picked.set(Some(now));
    };
    view! {
        <section class="charts" aria-labelledby="charts-h">
            <div class="section-head">
                <h2 id="charts-h">"Charts"</h2>
                <div class="segmented" role="group" aria-label="X axis">
                    {[XAxis::Step, XAxis::Time].into_iter().map(|a| view! {
                        <button type="button" class:selected=move || x.get() == a aria-pressed=move || (x.get() == a).to_string()
                            on:click=move |_| x.set(a)>{a.label()}</button>
                    }).collect_view()}
                </div>
            </div>
            {move || (!keys.with(Vec::is_empty)).then(|| view! {
                <details class="key-picker">
                    <summary>{move || format!("Metrics: {} of {} shown", shown.with(Vec::len), keys.with(Vec::len))}</summary>
                    <div class="key-list">
                        {keys.get().into_iter().map(|k| {
                            let key = k.clone();
                            let id = format!("key-{}", k.replace(|c: char| !c.is_ascii_alphanumeric(), "-"));
                            let label_for = id.clone();
                            view! {
                                <label for=label_for class="inline">
                                    <input id=id type="checkbox" prop:checked={let k = k.clone(); move || shown.with(|s| s.contains(&k))}
                                        on:change=move |ev| toggle(key.clone(), event_target_checked(&ev))/>
                                    " "{k}
                                </label>
                            }
                        }).collect_view()}
                    </div>
                </details>
            })}
            {move || failure.get().map(|e| view! { <ErrorView error=e/> })}
            {move || {
                let list = shown.get();
                if list.is_empty() {
                    let what = if live.get() { "No metrics logged yet. " } else { "This run logged no metrics. " };
                    return view! { <Empty><p>{what}"Numbers a run logs with "<code>"run.log"</code>" appear here."</p></Empty> }.into_any();
                }
                view! {
                    <div class="chart-grid">
                        {list.into_iter().map(|k| view! { <LineChart metric=k rows=rows x=x/> }).collect_view()}
                    </div>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn Files(detail: RwSignal<Option<RunDetail>>) -> impl IntoView {
    move || {
        let files = detail.with(|d| d.as_ref().map(|d| d.files.clone()).unwrap_or_default());
        (!files.is_empty()).then(|| view! {
            <section aria-labelledby="files-h">
                <h2 id="files-h">"Files"</h2>
                <ul class="file-list inline-list">
                    {files.into_iter().map(|f| {
                        let size = f.size.map(|s| format!(" ({s} B)")).unwrap_or_default();
                        match f.url {
                            Some(url) => view! { <li><a href=url target="_blank" rel="noopener">{f.name}</a><span class="muted small">{size}</span></li> }.into_any(),
                            None => view! { <li>{f.name}<span class="muted small">{size}</span></li> }.into_any(),
                        }
                    }).collect_view()}
                </ul>
            </section>
        })
    }
}
