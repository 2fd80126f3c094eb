//! `/launch/:entity/:queue[/:tab]`: a queue's Items (default), Agents and
//! Config tabs, live while the tab is visible.

use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_params_map, use_query_map};
use liftoff_client::Error;
use liftoff_client::ops::liftoff::{
    LiftoffCancelItem, LiftoffRequeueItem, LiftoffSetItemPriority, LiftoffStopPolling, QueueDetail,
};
use liftoff_client::view::items::{
    AgentRow, ItemRow, agent_rows, has_live_agent, item_rows, status_counts,
};
use liftoff_client::view::queues::can_edit_queue;
use liftoff_client::view::{agent_commands, explain};
use liftoff_model::Priority;
use liftoff_model::queue_draft::{
    ConfigFormat, QueueDraft, QueueSettings, VariableTile, print_config,
};
use liftoff_model::timefmt;

use crate::components::copy::CopyCommand;
use crate::components::feedback::{Empty, ErrorView, Loading, RequireServer};
use crate::components::queue_form::QueueForm;
use crate::components::status::{LivenessBadge, status_badge};
use crate::components::table::DataTable;
use crate::components::tabs::Tabs;
use crate::components::toast::use_toasts;
use crate::load::Load;
use crate::pages::launch::upsert;
use crate::poll::{last_good, mark, use_poll};
use crate::session::{now, use_session};
use liftoff_client::loads;

/// Items per page (the server answers at most 1000).
const PAGE: i64 = 250;

#[component]
pub fn QueuePage() -> impl IntoView {
    view! { <RequireServer><QueueView/></RequireServer> }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tab {
    Items,
    Agents,
    Config,
}

#[component]
fn QueueView() -> impl IntoView {
    let session = use_session();
    let params = use_params_map();
    let query = use_query_map();
    let entity = move || params.with(|p| p.get("entity").unwrap_or_default());
    let queue = move || params.with(|p| p.get("queue").unwrap_or_default());
    let tab = Memo::new(move |_| match params.with(|p| p.get("tab")).as_deref() {
        Some("agents") => Tab::Agents,
        Some("config") => Tab::Config,
        _ => Tab::Items,
    });
    let limit = RwSignal::new(
        query
            .with_untracked(|q| q.get("show"))
            .and_then(|s| s.parse::<i64>().ok())
            .unwrap_or(PAGE)
            .clamp(1, 1000),
    );
    let tick = use_poll(Duration::from_secs(3));
    let detail = Load::new(move || {
        tick.track();
        let (e, q, first) = (entity(), queue(), limit.get());
        let (client, caps) = (session.client(), session.caps());
        async move {
            let Some(client) = client else {
                return Err(Error::Unauthorized {
                    url: "this server".into(),
                });
            };
            loads::queue_detail(&client, caps, &e, &q, first).await
        }
    });
    let (last_good, failure) = last_good(detail);
    // What the page shows at all; polls change the data inside, not this.
    let loaded = Memo::new(move |_| last_good.with(Option::is_some));
    let rows = Memo::new(move |_| {
        tick.track();
        let rows = last_good.with(|d| d.as_ref().map(|d| item_rows(d, now())).unwrap_or_default());
        mark("liftoff:rows");
        rows
    });
    let refresh = Callback::new(move |()| detail.refetch());

    let base = move || format!("/launch/{}/{}", entity(), queue());
    let tabs = move || {
        let n_items = rows.with(Vec::len);
        let n_agents = last_good.with(|d| d.as_ref().map_or(0, |d| d.agents.len()));
        vec![
            (
                format!("Items ({n_items})"),
                base(),
                Signal::derive(move || tab.get() == Tab::Items),
            ),
            (
                format!("Agents ({n_agents})"),
                format!("{}/agents", base()),
                Signal::derive(move || tab.get() == Tab::Agents),
            ),
            (
                "Config".to_owned(),
                format!("{}/config", base()),
                Signal::derive(move || tab.get() == Tab::Config),
            ),
        ]
    };

    view! {
        <section class="page">
            <nav class="crumbs" aria-label="Breadcrumb">
                <a href="/launch">"Launch"</a>" / "
                <a href=move || format!("/launch?entity={}", entity())>{entity}</a>" / "
            </nav>
            {move || match loaded.get() {
                false => view! {
                    {move || match failure.get() {
                        None => view! { <Loading what="Loading the queue…"/> }.into_any(),
                        Some(e) => view! { <ErrorView error=e retry=refresh/> }.into_any(),
                    }}
                }.into_any(),
                true => view! {
                    <QueueHeader detail=last_good tick=tick/>
                    <NoAgentBanner detail=last_good tick=tick/>
                    {move || failure.get().map(|e| view! {
                        <div class="notice warn" role="status">"Live updates paused: "{explain(&e)}</div>
                    })}
                    {move || view! { <Tabs tabs=tabs()/> }}
                    {move || match tab.get() {
                        Tab::Items => view! { <ItemsTab rows=rows detail=last_good refresh=refresh limit=limit/> }.into_any(),
                        Tab::Agents => view! { <AgentsTab rows=rows detail=last_good refresh=refresh tick=tick/> }.into_any(),
                        Tab::Config => view! { <ConfigTab detail=last_good refresh=refresh/> }.into_any(),
                    }}
                }.into_any(),
            }}
        </section>
    }
}

#[component]
fn QueueHeader(detail: RwSignal<Option<QueueDetail>>, tick: ReadSignal<u64>) -> impl IntoView {
    let session = use_session();
    move || {
        tick.track();
        detail.with(|d| {
            let d = d.as_ref()?;
            let active = has_live_agent(d, now());
            let caps = session.caps();
            Some(view! {
                <div class="page-head">
                    <div>
                        <h1>{d.queue.name.clone()}</h1>
                        <p class="meta">
                            <span class="badge outline">{d.queue.resource().map_or("no resource", |r| r.as_str())}</span>
                            {caps.agents.then(|| if active {
                                view! { <span class="badge ok">"Active"</span> }.into_any()
                            } else {
                                view! { <span class="badge muted">"Not active"</span> }.into_any()
                            })}
                            <span class="muted">{if d.queue.prioritization_mode.enabled() { "prioritized" } else { "first in, first out" }}</span>
                        </p>
                    </div>
                </div>
            })
        })
    }
}

#[component]
fn NoAgentBanner(detail: RwSignal<Option<QueueDetail>>, tick: ReadSignal<u64>) -> impl IntoView {
    let session = use_session();
    let show_commands = RwSignal::new(false);
    move || {
        tick.track();
        let caps = session.caps();
        detail.with(|d| {
            let d = d.as_ref()?;
            if !caps.agents || has_live_agent(d, now()) {
                return None;
            }
            let [liftoff, wandb] = agent_commands(&d.queue.entity_name, &d.queue.name);
            Some(view! {
                <div class="banner danger" role="alert" data-testid="no-agent">
                    <div class="banner-row">
                        <p><strong>"No agent is polling this queue."</strong>" Items wait until one does."</p>
                        <button class="btn" aria-expanded=move || show_commands.get().to_string()
                            on:click=move |_| show_commands.update(|s| *s = !*s)>"Add an agent"</button>
                    </div>
                    <Show when=move || show_commands.get()>
                        <p>"Run one of these where the jobs should run:"</p>
                        <CopyCommand command=liftoff.clone()/>
                        <CopyCommand command=wandb.clone()/>
                    </Show>
                </div>
            })
        })
    }
}

/// A row's key: its id and everything shown, so an unchanged row is not redrawn.
fn row_key(r: &ItemRow) -> String {
    format!(
        "{}|{}|{:?}|{}|{:?}|{:?}|{:?}|{}|{:?}|{:?}",
        r.item.id,
        r.status.label(),
        r.position,
        r.item.priority.level(),
        r.run.as_ref().map(|x| &x.name),
        r.duration_secs,
        r.wait.as_ref().map(ToString::to_string),
        r.item.warnings.len(),
        r.created_ago,
        r.started_ago,
    )
}

/// A time as "3 min ago" (as of the rows), the exact time on hover.
fn at(exact: Option<String>, ago: Option<String>) -> AnyView {
    match (exact, ago) {
        (Some(exact), Some(ago)) => {
            view! { <time datetime=exact.clone() title=exact>{ago}</time> }.into_any()
        }
        _ => view! { <span class="muted">"—"</span> }.into_any(),
    }
}

#[component]
fn ItemsTab(
    rows: Memo<Vec<ItemRow>>,
    detail: RwSignal<Option<QueueDetail>>,
    refresh: Callback<()>,
    limit: RwSignal<i64>,
) -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let query = use_query_map();
    let highlight = move || query.with(|q| q.get("item"));
    let selected = RwSignal::new(Vec::<String>::new());
    let bulk_priority = RwSignal::new("high".to_owned());
    let busy = RwSignal::new(false);
    let caps = session.caps();
    let prioritized = move || {
        detail.with(|d| {
            d.as_ref()
                .is_some_and(|d| d.queue.prioritization_mode.enabled())
        })
    };

    let chosen = move || {
        let ids = selected.get();
        rows.with(|r| {
            r.iter()
                .filter(|x| ids.contains(&x.item.id))
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    // One bulk action: run `op` on every selected row `eligible` allows.
    let bulk =
        move |verb: &'static str, eligible: fn(&ItemRow) -> bool, priority: Option<Priority>| {
            let targets: Vec<String> = chosen()
                .into_iter()
                .filter(eligible)
                .map(|r| r.item.id)
                .collect();
            let Some(client) = session.client() else {
                return;
            };
            if targets.is_empty() {
                return;
            }
            busy.set(true);
            spawn_local(async move {
                let mut done = 0;
                let mut errors = Vec::new();
                for id in targets {
                    let r = match (verb, priority) {
                        ("cancel", _) => client.call(LiftoffCancelItem { item_id: id }).await,
                        ("requeue", _) => client
                            .call(LiftoffRequeueItem { item_id: id })
                            .await
                            .map(drop),
                        (_, Some(p)) => {
                            client
                                .call(LiftoffSetItemPriority {
                                    item_id: id,
                                    priority: p,
                                })
                                .await
                        }
                        _ => Ok(()),
                    };
                    match r {
                        Ok(()) => done += 1,
                        Err(e) => errors.push(explain(&e)),
                    }
                }
                let noun = if done == 1 { "item" } else { "items" };
                let what = match verb {
                    "cancel" => format!("Cancelled {done} {noun}."),
                    "requeue" => format!("Requeued {done} {noun}."),
                    _ => format!("Changed the priority of {done} {noun}."),
                };
                let text = if errors.is_empty() {
                    what
                } else {
                    format!("{what} {}", errors.join(" "))
                };
                toasts.show(text, None);
                selected.try_set(vec![]);
                busy.try_set(false);
                refresh.try_run(());
            });
        };
    let set_priority = move |id: String, level: String| {
        let (Some(client), Ok(p)) = (session.client(), level.parse::<Priority>()) else {
            return;
        };
        spawn_local(async move {
            match client
                .call(LiftoffSetItemPriority {
                    item_id: id,
                    priority: p,
                })
                .await
            {
                Ok(()) => toasts.show(format!("Priority set to {p}."), None),
                Err(e) => toasts.show(explain(&e), None),
            }
            refresh.try_run(());
        });
    };

    let all_ids = move || rows.with(|r| r.iter().map(|x| x.item.id.clone()).collect::<Vec<_>>());
    let all_selected = move || {
        let ids = all_ids();
        !ids.is_empty() && selected.with(|s| ids.iter().all(|i| s.contains(i)))
    };
    let has_more =
        move || detail.with(|d| d.as_ref().is_some_and(|d| d.has_next_page)) && limit.get() < 1000;

    view! {
        <div class="tab-panel">
            <div class="toolbar">
                <p class="counts">{move || rows.with(|r| status_counts(r).into_iter()
                    .map(|(s, n)| format!("{n} {}", s.label().to_lowercase())).collect::<Vec<_>>().join(" · "))}</p>
                <Show when=move || caps.queue_admin && !selected.with(Vec::is_empty)>
                    <div class="bulk" role="group" aria-label="Selected items">
                        <span>{move || format!("{} selected", selected.with(Vec::len))}</span>
                        <button class="btn" disabled=move || busy.get() || !chosen().iter().any(ItemRow::can_cancel)
                            on:click=move |_| bulk("cancel", ItemRow::can_cancel, None)>"Cancel"</button>
                        <button class="btn" disabled=move || busy.get() || !chosen().iter().any(ItemRow::can_requeue)
                            on:click=move |_| bulk("requeue", ItemRow::can_requeue, None)>"Requeue"</button>
                        <label for="bulk-priority" class="sr-only">"New priority"</label>
                        <select id="bulk-priority" disabled=move || !prioritized()
                            title=move || (!prioritized()).then_some("This queue does not use priorities")
                            on:change=move |ev| bulk_priority.set(event_target_value(&ev))>
                            {Priority::ALL.iter().map(|p| view! {
                                <option value=p.as_str() selected=*p == Priority::High>{p.as_str()}</option>
                            }).collect_view()}
                        </select>
                        <button class="btn" disabled=move || busy.get() || !prioritized() || !chosen().iter().any(ItemRow::can_change_priority)
                            on:click=move |_| bulk("priority", ItemRow::can_change_priority, bulk_priority.get_untracked().parse().ok())>
                            "Set priority"</button>
                    </div>
                </Show>
            </div>
            <Show when=move || !rows.with(Vec::is_empty) fallback=|| view! {
                <Empty>
                    <p><strong>"No items yet."</strong></p>
                    <p>"Launch a job from a project's Jobs page, or with "<code>"liftoff launch --queue"</code>"."</p>
                </Empty>
            }>
                <DataTable class="items" caption="Items of this queue, newest first"
                    lead=ViewFn::from(move || view! {
                        <input type="checkbox" aria-label="Select all items" prop:checked=all_selected
                            disabled=!caps.queue_admin
                            on:change=move |ev| selected.set(if event_target_checked(&ev) { all_ids() } else { vec![] })/>
                    })
                    columns=vec![("Status", false), ("Run", false), ("Job", false), ("Project", false), ("Priority", false),
                                 ("Author", false), ("Created", false), ("Started", false), ("Duration", true)]>
                        <For each=move || rows.get() key=row_key let:row>
                            {item_row(row, selected, highlight(), caps.queue_admin, caps.queue_admin && prioritized(), set_priority)}
                        </For>
                </DataTable>
                <Show when=has_more>
                    <button class="btn" on:click=move |_| limit.update(|l| *l = (*l + PAGE).min(1000))>"Show more"</button>
                </Show>
            </Show>
        </div>
    }
}

/// One item: a `<tbody>` with its row and the error and warning rows under
/// it. A plain function, not a component: a queue page draws a thousand.
fn item_row(
    row: ItemRow,
    selected: RwSignal<Vec<String>>,
    highlight: Option<String>,
    can_select: bool,
    can_prioritize: bool,
    on_priority: impl Fn(String, String) + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let id = row.item.id.clone();
    let is_highlighted = highlight.as_deref() == Some(id.as_str());
    if is_highlighted {
        let selector = format!("tbody[data-item=\"{id}\"]");
        request_animation_frame(move || {
            if let Ok(Some(el)) = document().query_selector(&selector) {
                el.scroll_into_view();
            }
        });
    }
    let checked = {
        let id = id.clone();
        move || selected.with(|s| s.contains(&id))
    };
    let toggle = {
        let id = id.clone();
        move |ev: leptos::ev::Event| {
            let on = event_target_checked(&ev);
            selected.update(|s| {
                s.retain(|x| x != &id);
                if on {
                    s.push(id.clone());
                }
            })
        }
    };
    let run_link = match (&row.run, &row.entity, &row.project) {
        (Some(run), Some(e), Some(p)) => Some(
            view! { <a href=format!("/{e}/{p}/runs/{}", run.name)>{run.name.clone()}</a> }
                .into_any(),
        ),
        (None, Some(e), Some(p)) => row
            .item
            .associated_run_id
            .clone()
            .map(|r| view! { <a href=format!("/{e}/{p}/runs/{r}")>{r.clone()}</a> }.into_any()),
        _ => row.item.associated_run_id.clone().map(|r| r.into_any()),
    };
    let job_link = match (&row.job, row.job.as_deref().and_then(|j| liftoff_model::spec::JobRef::parse(j).ok())) {
        (_, Some(j)) => view! {
            <a href=format!("/{}/{}/jobs/{}", j.entity, j.project, j.name) title=j.to_string()>{j.name_with_alias()}</a>
        }.into_any(),
        (Some(other), None) => view! { <code class="clip" title=other.clone()>{other.clone()}</code> }.into_any(),
        (None, None) => view! { <span class="muted">"—"</span> }.into_any(),
    };
    let project = match (&row.entity, &row.project) {
        (Some(e), Some(p)) => {
            view! { <a href=format!("/{e}/{p}/jobs")>{format!("{e}/{p}")}</a> }.into_any()
        }
        _ => view! { <span class="muted">"—"</span> }.into_any(),
    };
    let priority = if can_prioritize && row.can_change_priority() {
        let current = row.item.priority;
        let label = format!("Priority of item {}", row.item.id);
        let id = id.clone();
        view! {
            <select class="compact" aria-label=label on:change=move |ev| on_priority(id.clone(), event_target_value(&ev))>
                {Priority::ALL.iter().map(|p| view! { <option value=p.as_str() selected=*p == current>{p.as_str()}</option> }).collect_view()}
            </select>
        }.into_any()
    } else {
        row.item.priority.as_str().into_any()
    };
    let waiting = row.position.map(|p| {
        let reason = row
            .wait
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        view! { <div class="wait-reason">{format!("#{} in line · {reason}", p + 1)}</div> }
    });
    let error = row.item.error.clone().map(|e| {
        let summary = row.error_summary().unwrap_or_default();
        let files = e.file_paths.join(", ");
        view! {
            <tr class="sub error-row">
                <td></td>
                <td colspan="9">
                    <details>
                        <summary><span class="err-label">"Error"</span>" "{summary}</summary>
                        <pre class="error-log">{e.message.clone()}</pre>
                        {(!files.is_empty()).then(|| view! { <p class="help">"Files: "{files}</p> })}
                    </details>
                </td>
            </tr>
        }
    });
    let warnings = (!row.item.warnings.is_empty()).then(|| {
        let text = row.item.warnings.iter().map(|w| format!("{}: {}", w.stage, w.message)).collect::<Vec<_>>().join(" · ");
        view! {
            <tr class="sub warn-row"><td></td><td colspan="9"><span class="warn-label">"Warning"</span>" "{text}</td></tr>
        }
    });
    let duration = row
        .duration_secs
        .map(timefmt::duration)
        .unwrap_or_else(|| "—".into());
    view! {
        <tbody class:highlight=is_highlighted data-item=id.clone() data-status=row.status.label()>
            <tr>
                <td class="check">
                    <input type="checkbox" aria-label=format!("Select item {id}") prop:checked=checked
                        disabled=!can_select on:change=toggle/>
                </td>
                <td>{status_badge(row.status)}{waiting}</td>
                <td>{run_link.unwrap_or_else(|| view! { <span class="muted">"—"</span> }.into_any())}</td>
                <td>{job_link}</td>
                <td>{project}</td>
                <td>{priority}</td>
                <td>{row.author.clone().unwrap_or_else(|| "—".into())}</td>
                <td>{at(row.item.created_at.clone(), row.created_ago.clone())}</td>
                <td>{at(row.started_at.clone(), row.started_ago.clone())}</td>
                <td class="num">{duration}</td>
            </tr>
            {error}
            {warnings}
        </tbody>
    }
}

#[component]
fn AgentsTab(
    rows: Memo<Vec<ItemRow>>,
    detail: RwSignal<Option<QueueDetail>>,
    refresh: Callback<()>,
    tick: ReadSignal<u64>,
) -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let caps = session.caps();
    if !caps.agents {
        return view! {
            <Empty><p>"This server does not list agents (a Liftoff server does)."</p></Empty>
        }
        .into_any();
    }
    let agents = Memo::new(move |_| {
        tick.track();
        detail.with(|d| {
            d.as_ref()
                .map(|d| rows.with(|r| agent_rows(d, r, now())))
                .unwrap_or_default()
        })
    });
    let stop = move |id: String| {
        let Some(client) = session.client() else {
            return;
        };
        spawn_local(async move {
            match client.call(LiftoffStopPolling { agent_id: id }).await {
                Ok(()) => toasts.show("The agent will stop polling after its running jobs.", None),
                Err(e) => toasts.show(explain(&e), None),
            }
            refresh.try_run(());
        });
    };
    let queue_name = move |qid: &str| {
        detail.with_untracked(|d| {
            d.as_ref()
                .filter(|d| d.queue.id == qid)
                .map(|d| d.queue.name.clone())
                .unwrap_or_else(|| "another queue".into())
        })
    };
    view! {
        <div class="tab-panel">
            <Show when=move || !agents.with(Vec::is_empty) fallback=|| view! {
                <Empty><p>"No agent has polled this queue yet. Start one with the command above."</p></Empty>
            }>
                <DataTable class="agents" caption="Agents of this queue" columns=vec![
                    ("Agent", false), ("Status", false), ("Last heartbeat", false), ("Version", false), ("Queues", false), ("Jobs", true), ("", false),
                ]>
                        <tbody>
                            <For each=move || agents.get() key=|a: &AgentRow| format!("{}|{}|{:?}|{}|{}", a.agent.id, a.heartbeat, a.liveness, a.running, a.agent.stop_polling) let:a>
                                {
                                    let id = a.agent.id.clone();
                                    let can_stop = caps.stop_polling && a.liveness.is_alive() && !a.agent.stop_polling;
                                    let queues = a.agent.run_queues.iter().map(|q| queue_name(q)).collect::<Vec<_>>().join(", ");
                                    let max = a.agent.max_jobs();
                                    view! {
                                        <tr>
                                            <td><strong>{a.agent.hostname.clone()}</strong><div class="muted small">{a.agent.name.clone()}</div></td>
                                            <td><LivenessBadge liveness=a.liveness/>
                                                {a.agent.stop_polling.then_some(view! { <div class="muted small">"stopping"</div> })}</td>
                                            <td>{a.heartbeat.clone()}</td>
                                            <td>{a.agent.version.clone().unwrap_or_else(|| "—".into())}</td>
                                            <td>{queues}</td>
                                            <td class="num">{format!("{} of {}", a.running, if max < 0 { "∞".to_owned() } else { max.to_string() })}</td>
                                            <td>{can_stop.then(|| view! {
                                                <button class="btn small" on:click=move |_| stop(id.clone())>"Stop polling"</button>
                                            })}</td>
                                        </tr>
                                    }
                                }
                            </For>
                        </tbody>
                </DataTable>
            </Show>
        </div>
    }.into_any()
}

#[component]
fn ConfigTab(detail: RwSignal<Option<QueueDetail>>, refresh: Callback<()>) -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let editing = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let failure = RwSignal::new(None::<String>);
    let save = Callback::new(move |s: QueueSettings| {
        let Some(client) = session.client() else {
            return;
        };
        busy.set(true);
        failure.set(None);
        spawn_local(async move {
            let result = client.call(upsert(s)).await;
            busy.try_set(false);
            match result {
                Ok(_) => {
                    editing.try_set(false);
                    toasts.show("Queue saved.", None);
                    refresh.try_run(());
                }
                Err(e) => {
                    failure.try_set(Some(explain(&e)));
                }
            }
        });
    });
    // Snapshot when the tab opens: polling must not reset an edit in progress.
    let snapshot = detail.get_untracked();
    let Some(d) = snapshot else {
        return view! { <Loading/> }.into_any();
    };
    let q = d.queue;
    let config = q
        .default_resource_config
        .as_ref()
        .and_then(|c| c.resource_args().cloned())
        .unwrap_or_else(|| serde_json::json!({}));
    let vars = q.template_variables().to_vec();
    let allowed = session
        .info()
        .is_some_and(|i| can_edit_queue(&q, &i.viewer));
    let initial = QueueDraft {
        entity: q.entity_name.clone(),
        name: q.name.clone(),
        resource: q.resource(),
        prioritization: q.prioritization_mode,
        config_text: print_config(&config, ConfigFormat::Json),
        format: ConfigFormat::Json,
        tiles: vars.iter().map(VariableTile::from_variable).collect(),
    };
    let shown = print_config(&config, ConfigFormat::Json);
    let entities = vec![q.entity_name.clone()];
    view! {
        <div class="tab-panel">
            <Show when=move || editing.get() fallback={
                let shown = shown.clone();
                let vars = vars.clone();
                let resource = q.resource().map_or("—", |r| r.as_str());
                let prioritized = q.prioritization_mode.enabled();
                move || view! {
                    <dl class="facts">
                        <dt>"Resource"</dt><dd>{resource}</dd>
                        <dt>"Prioritization"</dt><dd>{if prioritized { "on: by priority, then first in, first out" } else { "off: first in, first out" }}</dd>
                    </dl>
                    <h3>"Configuration"</h3>
                    {if shown.is_empty() {
                        view! { <p class="muted">"None: jobs run with the resource's defaults."</p> }.into_any()
                    } else {
                        view! { <pre class="code">{shown.clone()}</pre> }.into_any()
                    }}
                    <h3>"Template variables"</h3>
                    {if vars.is_empty() {
                        view! { <p class="muted">"None."</p> }.into_any()
                    } else {
                        let rows: Vec<(String, String)> = vars.iter().map(|v| (format!("{{{{{}}}}}", v.name), serde_json::to_string(v.schema()).unwrap_or_default())).collect();
                        view! {
                            <DataTable class="variables" caption="Template variables" columns=vec![("Name", false), ("Schema", false)]>
                                <tbody>{rows.into_iter().map(|(name, schema)| view! {
                                    <tr><td><code>{name}</code></td><td><code>{schema}</code></td></tr>
                                }).collect_view()}</tbody>
                            </DataTable>
                        }.into_any()
                    }}
                    {if allowed {
                        view! { <button class="btn" on:click=move |_| editing.set(true)>"Edit"</button> }.into_any()
                    } else {
                        view! { <p class="muted">"Only the queue's owner or an admin can change it."</p> }.into_any()
                    }}
                }
            }>
                <QueueForm entities=entities.clone() initial=initial.clone() editing=true taken=Signal::derive(Vec::new)
                    on_save=save busy=busy submit_label="Save"/>
                <button class="btn" on:click=move |_| editing.set(false)>"Cancel"</button>
                {move || failure.get().map(|m| view! { <div class="error-box" role="alert"><p>{m}</p></div> })}
            </Show>
        </div>
    }.into_any()
}
