//! `/launch/:entity/:queue[/:tab]`: a queue's Items (default), Agents and
//! Config tabs, live while the tab is visible.

use liftoff_model::route;
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use liftoff_client::Error;
use liftoff_client::ops::liftoff::{
    LiftoffCancelItem, LiftoffRequeueItem, LiftoffRunQueues, LiftoffSetItemPriority,
    LiftoffStopPolling, QueueDetail,
};
use liftoff_client::view::html::Markup;
use liftoff_client::view::items::{
    AgentRow, ItemRow, agent_rows, cancel_question, has_live_agent, item_rows, status_counts,
};
use liftoff_client::view::queues::can_edit_queue;
use liftoff_client::view::{agent_commands, explain};
use liftoff_model::Priority;
use liftoff_model::queue_draft::{
    ConfigFormat, QueueDraft, QueueSettings, VariableTile, print_config,
};
use liftoff_model::spec::JobRef;
use liftoff_model::timefmt;
use wasm_bindgen::JsCast as _;

use crate::components::ask::AskFirst;
use crate::components::copy::CopyCommand;
use crate::components::feedback::{DraftNote, Empty, ErrorView, Loading, RequireServer};
use crate::components::focus_soon;
use crate::components::html_rows::HtmlRows;
use crate::components::queue_form::{FormatSwitch, QueueForm};
use crate::components::status::{LivenessBadge, tone};
use crate::components::table::DataTable;
use crate::components::tabs::Tabs;
use crate::components::toast::use_toasts;
use crate::drafts::use_queue_drafts;
use crate::load::Load;
use crate::pages::launch::upsert;
use crate::poll::{last_good, mark, use_poll};
use crate::router::{use_params_map, use_query_map};
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

    let base = move || route::path(&["launch", &entity(), &queue()]);
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
                <span aria-current="page">{queue}</span>
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
                        // Drawn for the queue the address names once that is the one
                        // loaded (the page stays mounted from one queue to the next):
                        // an edit, or a kept draft, never crosses queues.
                        Tab::Config => {
                            let here = Memo::new(move |_| last_good.with(|d| d.as_ref().is_some_and(|d| {
                                d.queue.entity_name == entity() && d.queue.name == queue()
                            })));
                            view! {
                                <Show when=move || here.get() fallback=|| view! { <Loading/> }>
                                    <ConfigTab detail=last_good refresh=refresh/>
                                </Show>
                            }.into_any()
                        }
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
            let note = d.queue.resource().and_then(liftoff_model::ResourceType::agent_note);
            // A new shell talks to api.wandb.ai unless told this server.
            let login = session
                .info()
                .map(|i| i.base_url)
                .filter(|b| b != liftoff_client::auth::DEFAULT_BASE_URL)
                .map(|b| format!("liftoff login --host {}", liftoff_client::view::shell_quote(&b)));
            let lead = if login.is_some() {
                "Then run one of these there:"
            } else {
                "Run one of these where the jobs should run:"
            };
            Some(view! {
                <div class="banner danger" role="alert" data-testid="no-agent">
                    <div class="banner-row">
                        <p><strong>"No agent is polling this queue."</strong>" Items wait until one does."</p>
                        <button class="btn" aria-expanded=move || show_commands.get().to_string()
                            on:click=move |_| show_commands.update(|s| *s = !*s)>"Add an agent"</button>
                    </div>
                    <Show when=move || show_commands.get()>
                        {login.clone().map(|login| view! {
                            <p>"First, in the shell where jobs should run, point it at this server (it asks for your API key):"</p>
                            <CopyCommand command=login/>
                        })}
                        {match note.clone() {
                            // Only W&B's agent runs these.
                            Some(n) => view! {
                                <p>{n}</p>
                                <CopyCommand command=wandb.clone()/>
                            }.into_any(),
                            None => view! {
                                <p>{lead}</p>
                                <CopyCommand command=liftoff.clone()/>
                                <CopyCommand command=wandb.clone()/>
                            }.into_any(),
                        }}
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
    let here = crate::router::use_pathname();
    let selected = RwSignal::new(Vec::<String>::new());
    let bulk_priority = RwSignal::new("high".to_owned());
    let busy = RwSignal::new(false);
    // "Cancel items" asks first (it stops running jobs); another selection
    // takes the question back.
    let confirming = RwSignal::new(false);
    Effect::new(move |_| {
        selected.track();
        confirming.set(false);
    });
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
                let mut errors: Vec<String> = Vec::new();
                // The items it failed for stay selected, to try again.
                let mut failed = Vec::new();
                // The new items a requeue made (one is linked from the toast).
                let mut made: Vec<String> = Vec::new();
                for id in targets {
                    let item_id = id.clone();
                    let r = match (verb, priority) {
                        ("cancel", _) => client.call(LiftoffCancelItem { item_id }).await,
                        ("requeue", _) => client
                            .call(LiftoffRequeueItem { item_id })
                            .await
                            .map(|new| made.push(new)),
                        (_, Some(p)) => {
                            client
                                .call(LiftoffSetItemPriority {
                                    item_id,
                                    priority: p,
                                })
                                .await
                        }
                        _ => Ok(()),
                    };
                    match r {
                        Ok(()) => done += 1,
                        Err(e) => {
                            let why = explain(&e);
                            if !errors.contains(&why) {
                                errors.push(why);
                            }
                            failed.push(id);
                        }
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
                let link = match made.as_slice() {
                    [one] => Some((
                        format!(
                            "{}?item={}",
                            here.get_untracked(),
                            route::percent_encode(one)
                        ),
                        "View the item".to_owned(),
                    )),
                    _ => None,
                };
                toasts.show(text, link);
                // The bulk buttons go with the selection: the focus goes
                // back to the table's first control, not the page's top.
                if failed.is_empty() {
                    focus_soon("select-all");
                }
                selected.try_set(failed);
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

    // The rows' checkboxes and priority buttons are plain HTML (see
    // `item_html`): listeners on the table handle them, and one effect
    // keeps the checkboxes in step with `selected`.
    let table = NodeRef::<leptos::html::Div>::new();
    // The open priority editor: its cell and the button it replaced (the
    // redraws leave a `data-keep` editor alone), put back when it closes,
    // with the focus on it.
    let editing = StoredValue::new_local(None::<(web_sys::Element, web_sys::Element)>);
    // Chrome fires `change` on every arrow key of a closed select: a value
    // reached by keys is only committed by Enter or by leaving the editor.
    let keyed = StoredValue::new(false);
    let commit_keyed = move |el: &web_sys::Element, value: String| {
        let before = editing.with_value(|e| {
            e.as_ref()
                .and_then(|(_, button)| button.get_attribute("data-level"))
        });
        if let Some(id) = el.get_attribute("data-priority")
            && keyed.get_value()
            && before.as_deref() != Some(value.as_str())
        {
            set_priority(id, value);
        }
        keyed.set_value(false);
    };
    let close_editor = move || {
        if let Some((cell, button)) = editing.try_update_value(Option::take).flatten() {
            let focused = cell.contains(
                web_sys::window()
                    .and_then(|w| w.document())
                    .and_then(|d| d.active_element())
                    .as_ref()
                    .map(AsRef::as_ref),
            );
            cell.replace_children_with_node_1(&button);
            if focused && let Some(b) = button.dyn_ref::<web_sys::HtmlElement>() {
                let _ = b.focus();
            }
        }
    };
    let on_change = move |ev: leptos::ev::Event| {
        let Some(el) = target_element(&ev) else {
            return;
        };
        if let Some(id) = el.get_attribute("data-select") {
            let on = event_target_checked(&ev);
            selected.update(|s| {
                s.retain(|x| x != &id);
                if on {
                    s.push(id);
                }
            });
        } else if let Some(id) = el.get_attribute("data-priority")
            && !keyed.get_value()
        {
            set_priority(id, event_target_value(&ev));
            close_editor();
        }
    };
    let on_click = move |ev: leptos::ev::MouseEvent| {
        let Some(button) = target_element(&ev) else {
            return;
        };
        let (Some(id), Some(cell)) = (
            button.get_attribute("data-priority-edit"),
            button.parent_element(),
        ) else {
            return;
        };
        let current = button
            .get_attribute("data-level")
            .and_then(|l| l.parse().ok());
        let label = button.get_attribute("data-label").unwrap_or_default();
        close_editor();
        keyed.set_value(false);
        cell.set_inner_html(&priority_select_html(&id, &label, current));
        if let Some(select) = cell
            .first_element_child()
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = select.focus();
        }
        editing.set_value(Some((cell, button)));
    };
    // Escape closes the editor unchanged; Enter, or leaving it, commits a
    // value reached by keys (a pick with the mouse commits at once).
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        let Some(el) = target_element(&ev).filter(|e| e.has_attribute("data-priority")) else {
            return;
        };
        match ev.key().as_str() {
            "Escape" => {
                ev.stop_propagation();
                keyed.set_value(false);
                close_editor();
            }
            "Enter" => {
                ev.prevent_default();
                commit_keyed(&el, event_target_value(&ev));
                close_editor();
            }
            // Keys that change a closed select's value (type-ahead too);
            // Space and Alt+Down open the list, where a pick commits.
            key if !ev.alt_key()
                && !ev.ctrl_key()
                && !ev.meta_key()
                && (matches!(
                    key,
                    "ArrowUp"
                        | "ArrowDown"
                        | "ArrowLeft"
                        | "ArrowRight"
                        | "Home"
                        | "End"
                        | "PageUp"
                        | "PageDown"
                ) || (key.chars().count() == 1 && key != " ")) =>
            {
                keyed.set_value(true);
            }
            _ => {}
        }
    };
    let on_focusout = move |ev: leptos::ev::FocusEvent| {
        if let Some(el) = target_element(&ev).filter(|e| e.has_attribute("data-priority")) {
            commit_keyed(&el, event_target_value(&ev));
            close_editor();
        }
    };
    Effect::new(move |_| {
        let chosen = selected.get();
        let Some(boxes) = table
            .get()
            .and_then(|t| t.query_selector_all("input[data-select]").ok())
        else {
            return;
        };
        for i in 0..boxes.length() {
            if let Some(input) = boxes
                .item(i)
                .and_then(|n| n.dyn_into::<web_sys::HtmlInputElement>().ok())
            {
                let id = input.get_attribute("data-select").unwrap_or_default();
                input.set_checked(chosen.contains(&id));
            }
        }
    });
    let drawn = StoredValue::new_local(HtmlRows::default());
    let scrolled_to = StoredValue::new(None::<String>);
    Effect::new(move |_| {
        let (hl, can_select, prioritized) = (highlight(), caps.queue_admin, prioritized());
        let Some(el) = table
            .get()
            .and_then(|t| t.query_selector("table").ok().flatten())
        else {
            return;
        };
        let chosen = selected.get_untracked();
        let fresh = rows.with(|rows| {
            drawn.try_update_value(|d| {
                d.draw(
                    &el,
                    rows.iter().map(|row| {
                        let is_hl = hl.as_deref() == Some(row.item.id.as_str());
                        let key = format!("{}|{is_hl}|{can_select}|{prioritized}", row_key(row));
                        let checked = chosen.contains(&row.item.id);
                        (row.item.id.clone(), key, move || {
                            item_html(row, is_hl, checked, can_select, prioritized)
                        })
                    }),
                )
            })
        });
        mark("liftoff:drawn");
        // Scroll to the item the address names, once per item: not again
        // at every poll, and also when its row was drawn before.
        if fresh.is_some() && hl != scrolled_to.get_value() {
            let row = hl.as_ref().and_then(|id| {
                el.query_selector(&format!("tbody[data-item=\"{id}\"]"))
                    .ok()
                    .flatten()
            });
            if let Some(row) = row {
                scrolled_to.set_value(hl);
                request_animation_frame(move || row.scroll_into_view());
            }
        }
    });
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
                    <div class="bulk" role="group" aria-label="Selected items"
                        on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                            // Escape answers the cancel question with "no".
                            if ev.key() == "Escape" && confirming.get_untracked() {
                                confirming.set(false);
                                focus_soon("bulk-cancel");
                            }
                        }>
                        <span>{move || format!("{} selected", selected.with(Vec::len))}</span>
                        <Show when=move || confirming.get() fallback=move || view! {
                            <button class="btn" id="bulk-cancel" disabled=move || busy.get() || !chosen().iter().any(ItemRow::can_cancel)
                                title=move || if chosen().iter().any(ItemRow::can_cancel) {
                                    "Take the selected waiting items off the queue and stop the running ones"
                                } else {
                                    "Only waiting or running items can be cancelled"
                                }
                                on:click=move |_| {
                                    confirming.set(true);
                                    focus_soon("bulk-keep");
                                }>"Cancel items"</button>
                        }>
                            <span class="confirm" role="alert" data-testid="cancel-question">{move || cancel_question(&chosen())
                                .unwrap_or_else(|| "None of the selected items can be cancelled now.".to_owned())}</span>
                            <button class="btn danger" disabled=move || busy.get() || cancel_question(&chosen()).is_none()
                                on:click=move |_| {
                                    confirming.set(false);
                                    bulk("cancel", ItemRow::can_cancel, None);
                                }>"Yes, cancel"</button>
                            <button class="btn" id="bulk-keep" on:click=move |_| {
                                confirming.set(false);
                                focus_soon("bulk-cancel");
                            }>"No, keep them"</button>
                        </Show>
                        <button class="btn" disabled=move || busy.get() || !chosen().iter().any(ItemRow::can_requeue)
                            title=move || if chosen().iter().any(ItemRow::can_requeue) {
                                "Push the selected ended items again, as they were"
                            } else {
                                "Only ended items (finished, failed, crashed, killed) can be requeued"
                            }
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
                <div node_ref=table on:change=on_change on:click=on_click on:keydown=on_keydown on:focusout=on_focusout>
                <DataTable class="items" caption="Items of this queue, newest first"
                    lead=ViewFn::from(move || view! {
                        <input type="checkbox" id="select-all" aria-label="Select all items" prop:checked=all_selected
                            disabled=!caps.queue_admin
                            on:change=move |ev| selected.set(if event_target_checked(&ev) { all_ids() } else { vec![] })/>
                    })
                    columns=vec![("Status", false), ("Run", false), ("Job", false), ("Project", false), ("Priority", false),
                                 ("Author", false), ("Created", false), ("Started", false), ("Duration", true)]/>
                </div>
                <Show when=has_more>
                    <button class="btn" on:click=move |_| limit.update(|l| *l = (*l + PAGE).min(1000))>"Show more"</button>
                </Show>
            </Show>
        </div>
    }
}

/// The element an event happened on.
fn target_element(ev: &web_sys::Event) -> Option<web_sys::Element> {
    ev.target()?.dyn_into().ok()
}

/// The priority select of item `id` (what its priority button becomes).
fn priority_select_html(id: &str, label: &str, current: Option<Priority>) -> String {
    let mut m = Markup::new();
    m.open(
        "select",
        &[
            ("class", Some("compact")),
            ("aria-label", Some(&format!("Priority of {label}"))),
            ("data-priority", Some(id)),
            ("data-keep", Some("")),
        ],
    );
    for p in Priority::ALL {
        let selected = (Some(p) == current).then_some("");
        m.element(
            "option",
            &[("value", Some(p.as_str())), ("selected", selected)],
            p.as_str(),
        );
    }
    m.close("select");
    m.into_string()
}

/// One item as HTML (every value escaped by [`Markup`]): a `<tbody>`
/// holding its row and the error and warning rows under it. The queue page
/// draws a thousand from one parse (see [`HtmlRows`]); their checkboxes and
/// priority buttons are handled by [`ItemsTab`]'s listeners on the table.
fn item_html(
    row: &ItemRow,
    highlight: bool,
    checked: bool,
    can_select: bool,
    prioritized: bool,
) -> String {
    let can_prioritize = can_select && prioritized;
    let id = row.item.id.as_str();
    let label = row.label();
    let flag = |on: bool| on.then_some("");
    let mut m = Markup::new();
    m.open(
        "tbody",
        &[
            ("class", highlight.then_some("highlight")),
            ("data-item", Some(id)),
            ("data-status", Some(row.status.label())),
        ],
    );
    let dash = |m: &mut Markup| {
        m.element("span", &[("class", Some("muted"))], "—");
    };
    m.open("tr", &[]);
    m.open("td", &[("class", Some("check"))]).open(
        "input",
        &[
            ("type", Some("checkbox")),
            ("aria-label", Some(&format!("Select {label}"))),
            ("data-select", Some(id)),
            ("checked", flag(checked)),
            ("disabled", flag(!can_select)),
        ],
    );
    m.close("td");

    m.open("td", &[]).element(
        "span",
        &[("class", Some(&format!("badge {}", tone(row.status))))],
        row.status.label(),
    );
    if let Some(p) = row.position {
        let reason = row
            .wait
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        m.element(
            "div",
            &[("class", Some("wait-reason"))],
            &format!("#{} in line · {reason}", p + 1),
        );
    }
    m.close("td");

    m.open("td", &[]);
    let run_name = row
        .run
        .as_ref()
        .map(|r| r.name.as_str())
        .or(row.item.associated_run_id.as_deref());
    match (run_name, &row.entity, &row.project) {
        (Some(run), Some(e), Some(p)) => {
            m.element("a", &[("href", Some(&format!("/{e}/{p}/runs/{run}")))], run);
        }
        (Some(run), _, _) => {
            m.text(run);
        }
        (None, _, _) => dash(&mut m),
    }
    m.close("td");

    m.open("td", &[]);
    let runs = row.job.as_ref().map(|r| r.text());
    match (runs, runs.and_then(|j| JobRef::parse(j).ok())) {
        (_, Some(j)) => {
            let href = format!("/{}/{}/jobs/{}", j.entity, j.project, j.name);
            m.element(
                "a",
                &[("href", Some(&href)), ("title", Some(&j.to_string()))],
                &row.job_label(&j),
            );
        }
        (Some(other), None) => {
            m.element(
                "code",
                &[("class", Some("clip")), ("title", Some(other))],
                other,
            );
        }
        (None, None) => dash(&mut m),
    }
    if let Some(note) = row.overrides_note() {
        m.element("div", &[("class", Some("muted small clip"))], &note);
    }
    m.close("td");

    m.open("td", &[]);
    match (&row.entity, &row.project) {
        (Some(e), Some(p)) => {
            m.element(
                "a",
                &[("href", Some(&format!("/{e}/{p}/jobs")))],
                &format!("{e}/{p}"),
            );
        }
        _ => dash(&mut m),
    }
    m.close("td");

    m.open("td", &[]);
    let current = row.item.priority;
    if can_prioritize && row.can_change_priority() {
        // A button until used: a thousand <select>s took most of the render.
        m.element(
            "button",
            &[
                ("type", Some("button")),
                ("class", Some("link prio")),
                (
                    "aria-label",
                    Some(&format!("Priority of {label}: {current}; change it")),
                ),
                ("data-priority-edit", Some(id)),
                ("data-level", Some(current.as_str())),
                ("data-label", Some(&label)),
            ],
            current.as_str(),
        );
    } else if prioritized {
        m.text(current.as_str());
    } else {
        // A queue without priorities serves in order: no level to show.
        dash(&mut m);
    }
    m.close("td");

    m.element("td", &[], row.author.as_deref().unwrap_or("—"));
    for (exact, ago) in [
        (&row.item.created_at, &row.created_ago),
        (&row.started_at, &row.started_ago),
    ] {
        m.open("td", &[]);
        match (exact, ago) {
            (Some(exact), Some(ago)) => {
                m.element(
                    "time",
                    &[("datetime", Some(exact)), ("title", Some(exact))],
                    ago,
                );
            }
            _ => dash(&mut m),
        }
        m.close("td");
    }
    let duration = row
        .duration_secs
        .map(timefmt::duration)
        .unwrap_or_else(|| "—".into());
    m.element("td", &[("class", Some("num"))], &duration);
    m.close("tr");

    if let Some(e) = &row.item.error {
        let summary = row.error_summary().unwrap_or_default();
        m.open("tr", &[("class", Some("sub error-row"))])
            .element("td", &[], "");
        m.open("td", &[("colspan", Some("9"))])
            .open("details", &[])
            .open("summary", &[]);
        m.element("span", &[("class", Some("err-label"))], "Error")
            .text(" ")
            .text(&summary);
        m.close("summary");
        let log: Vec<String> = e
            .message
            .lines()
            .map(liftoff_client::view::terminal_text)
            .collect();
        m.element("pre", &[("class", Some("error-log"))], &log.join("\n"));
        if !e.file_paths.is_empty() {
            m.element(
                "p",
                &[("class", Some("help"))],
                &format!("Files: {}", e.file_paths.join(", ")),
            );
        }
        m.close("details").close("td").close("tr");
    }
    if !row.item.warnings.is_empty() {
        let text = row
            .item
            .warnings
            .iter()
            .map(|w| format!("{}: {}", w.stage, w.message))
            .collect::<Vec<_>>()
            .join(" · ");
        m.open("tr", &[("class", Some("sub warn-row"))])
            .element("td", &[], "");
        m.open("td", &[("colspan", Some("9"))]).element(
            "span",
            &[("class", Some("warn-label"))],
            "Warning",
        );
        m.text(" ").text(&text).close("td").close("tr");
    }
    m.close("tbody");
    m.into_string()
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
        // Its button goes once the agent is asked: the focus waits on the
        // tab, where Tab reaches the next agent's.
        focus_soon("agents-panel");
        spawn_local(async move {
            match client.call(LiftoffStopPolling { agent_id: id }).await {
                Ok(()) => toasts.show("The agent will stop polling after its running jobs.", None),
                Err(e) => toasts.show(explain(&e), None),
            }
            refresh.try_run(());
        });
    };
    // The agents' other queues by name: the entity's queues, read once.
    let entity = detail.with_untracked(|d| {
        d.as_ref()
            .map(|d| d.queue.entity_name.clone())
            .unwrap_or_default()
    });
    let names = Load::new(move || {
        let (client, entity) = (session.client(), entity.clone());
        async move {
            match client {
                Some(c) if caps.queue_admin => c
                    .call(LiftoffRunQueues { entity })
                    .await
                    .map(|qs| qs.into_iter().map(|q| (q.queue.id, q.queue.name)).collect())
                    .unwrap_or_default(),
                _ => Vec::<(String, String)>::new(),
            }
        }
    });
    let queue_names = move |ids: &[String]| {
        ids.iter()
            .map(|qid| {
                detail
                    .with_untracked(|d| {
                        d.as_ref()
                            .filter(|d| d.queue.id == *qid)
                            .map(|d| d.queue.name.clone())
                    })
                    .or_else(|| {
                        names.get().and_then(|n| {
                            n.into_iter()
                                .find(|(id, _)| id == qid)
                                .map(|(_, name)| name)
                        })
                    })
                    .unwrap_or_else(|| "another queue".into())
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    view! {
        <div class="tab-panel" id="agents-panel" tabindex="-1">
            <Show when=move || !agents.with(Vec::is_empty) fallback=|| view! {
                <Empty><p>"No agent has polled this queue yet. Start one: \"Add an agent\" above shows the commands."</p></Empty>
            }>
                <DataTable class="agents" caption="Agents of this queue" columns=vec![
                    ("Agent", false), ("Status", false), ("Last heartbeat", false), ("Version", false), ("Queues", false), ("Jobs", true), ("", false),
                ]>
                        <tbody>
                            // A row per agent for as long as it is listed, its cells
                            // following it: a poll keeps the focus and an open
                            // Stop polling question.
                            <For each=move || agents.get() key=|a: &AgentRow| a.agent.id.clone() let:a>
                                {
                                    let id = a.agent.id.clone();
                                    let row = {
                                        let id = id.clone();
                                        Memo::new(move |_| agents.with(|l| l.iter().find(|x| x.agent.id == id).cloned()))
                                    };
                                    let cell = move |f: fn(&AgentRow) -> String| move || row.with(|r| r.as_ref().map(f).unwrap_or_default());
                                    let stopping = Memo::new(move |_| row.with(|r| r.as_ref().is_some_and(|a| a.agent.stop_polling && a.liveness.is_alive())));
                                    let liveness = Memo::new(move |_| row.with(|r| r.as_ref().map(|a| a.liveness)));
                                    let can_stop = Memo::new(move |_| caps.stop_polling && row.with(|r| r.as_ref().is_some_and(|a| a.liveness.is_alive() && !a.agent.stop_polling)));
                                    let queues = move || row.with(|r| r.as_ref().map(|a| queue_names(&a.agent.run_queues)).unwrap_or_default());
                                    view! {
                                        <tr>
                                            <td><strong>{a.agent.hostname.clone()}</strong><div class="muted small">{a.agent.name.clone()}</div></td>
                                            <td>{move || if stopping.get() {
                                                // Asked to stop: it takes no new jobs, whatever its heartbeat says.
                                                view! { <span class="badge wait">"Stopping"</span>
                                                    <div class="muted small">"takes no new jobs"</div> }.into_any()
                                            } else {
                                                liveness.get().map(|l| view! { <LivenessBadge liveness=l/> }).into_any()
                                            }}</td>
                                            <td>{cell(|a| a.heartbeat.clone())}</td>
                                            <td>{cell(|a| a.agent.version.clone().unwrap_or_else(|| "—".into()))}</td>
                                            <td>{queues}</td>
                                            <td class="num">{cell(|a| {
                                                let max = a.agent.max_jobs();
                                                format!("{} of {}", a.running, if max < 0 { "∞".to_owned() } else { max.to_string() })
                                            })}</td>
                                            <td>{move || can_stop.get().then(|| {
                                                let id = id.clone();
                                                view! {
                                                    <AskFirst id=format!("stop-{id}") class="btn small" label=Signal::derive(|| "Stop polling".to_owned())
                                                        question="Stop this agent? It finishes its running jobs and exits; start it again on its machine."
                                                        yes="Stop polling" no="Keep it" on_yes=Callback::new(move |()| stop(id.clone()))/>
                                                }
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
    // While editing, the form's starting point: the queue as it was when Edit
    // was pressed (polling must not reset an edit in progress). An edit left
    // unsaved for another page is kept: coming back goes on with it.
    let drafts = use_queue_drafts();
    let key = detail.with_untracked(|d| {
        d.as_ref()
            .map(|d| format!("config {}/{}", d.queue.entity_name, d.queue.name))
            .unwrap_or_default()
    });
    let kept = drafts.get(&key);
    let resumed = RwSignal::new(kept.is_some());
    let edit_start = StoredValue::new(kept.as_ref().map(|k| k.start.clone()));
    let draft = RwSignal::new(kept.map(|k| k.now));
    let remember = {
        let key = key.clone();
        Callback::new(move |d: QueueDraft| {
            if let Some(start) = edit_start.try_get_value().flatten() {
                drafts.put(&key, &start, d);
            }
        })
    };
    let busy = RwSignal::new(false);
    let failure = RwSignal::new(None::<String>);
    let key_saved = key.clone();
    let save = Callback::new(move |s: QueueSettings| {
        let Some(client) = session.client() else {
            return;
        };
        busy.set(true);
        failure.set(None);
        let key = key_saved.clone();
        spawn_local(async move {
            let result = client.call(upsert(s)).await;
            busy.try_set(false);
            match result {
                Ok(_) => {
                    // Saved: nothing to keep, even if the tab is gone by now.
                    drafts.forget(&key);
                    resumed.try_set(false);
                    draft.try_set(None);
                    toasts.show("Queue saved.", None);
                    refresh.try_run(());
                    focus_soon("config-edit");
                }
                Err(e) => {
                    failure.try_set(Some(explain(&e)));
                }
            }
        });
    });
    // The read-only view follows the queue as loaded, so a save shows as
    // soon as the queue is read again.
    let queue = Memo::new(move |_| detail.with(|d| d.as_ref().map(|d| d.queue.clone())));
    // The language the config is shown in (and an edit starts in).
    let shown_as = RwSignal::new(ConfigFormat::Json);
    let cancel = Callback::new(move |()| {
        drafts.forget(&key);
        resumed.set(false);
        draft.set(None);
        failure.set(None);
        focus_soon("config-edit");
    });
    move || {
        if let Some(initial) = draft.get() {
            let entities = vec![initial.entity.clone()];
            return view! {
                <div class="tab-panel">
                    <Show when=move || resumed.get()>
                        <DraftNote text="Going on with your unsaved edit. Cancel drops it."/>
                    </Show>
                    <QueueForm entities=entities initial=initial editing=true taken=Signal::derive(Vec::new)
                        on_save=save busy=busy submit_label="Save" on_cancel=cancel on_change=remember/>
                    {move || failure.get().map(|m| view! { <div class="error-box" role="alert"><p>{m}</p></div> })}
                </div>
            }
            .into_any();
        }
        let Some(q) = queue.get() else {
            return view! { <Loading/> }.into_any();
        };
        let config = StoredValue::new(queue_config(&q));
        let shown = move || config.with_value(|c| print_config(c, shown_as.get()));
        let no_config = config.with_value(|c| print_config(c, ConfigFormat::Json).is_empty());
        let vars = q.template_variables().to_vec();
        let allowed = session
            .info()
            .is_some_and(|i| can_edit_queue(&q, &i.viewer));
        let resource = q.resource().map_or("—", |r| r.as_str());
        let prioritized = q.prioritization_mode.enabled();
        // Editing starts from the queue as shown (this view is drawn again
        // whenever the queue changes).
        let start = QueueDraft {
            entity: q.entity_name.clone(),
            name: q.name.clone(),
            resource: q.resource(),
            prioritization: q.prioritization_mode,
            config_text: String::new(),
            format: ConfigFormat::Json,
            tiles: vars.iter().map(VariableTile::from_variable).collect(),
        };
        let edit = move |_| {
            // In the language the config is shown in now.
            let format = shown_as.get_untracked();
            let start = QueueDraft {
                config_text: config.with_value(|c| print_config(c, format)),
                format,
                ..start.clone()
            };
            edit_start.set_value(Some(start.clone()));
            draft.set(Some(start.clone()));
            focus_soon("queue-resource");
        };
        view! {
            <div class="tab-panel">
                <dl class="facts">
                    <dt>"Resource"</dt><dd>{resource}</dd>
                    <dt>"Prioritization"</dt><dd>{if prioritized { "on: by priority, then first in, first out" } else { "off: first in, first out" }}</dd>
                </dl>
                <div class="label-row">
                    <h3>"Configuration"</h3>
                    <FormatSwitch current=shown_as on_pick=Callback::new(move |f| shown_as.set(f))/>
                </div>
                {if no_config {
                    view! { <p class="muted">"None: jobs run with the resource's defaults."</p> }.into_any()
                } else {
                    view! { <pre class="code">{shown}</pre> }.into_any()
                }}
                <h3>"Template variables"</h3>
                {if vars.is_empty() {
                    view! { <p class="muted">"None."</p> }.into_any()
                } else {
                    let rows: Vec<(String, String, String)> = vars.iter().map(|v| {
                        let schema = v.schema();
                        (format!("{{{{{}}}}}", v.name), schema.summary(), schema.description.clone().unwrap_or_default())
                    }).collect();
                    view! {
                        <DataTable class="variables" caption="Template variables" columns=vec![("Name", false), ("Values", false), ("Description", false)]>
                            <tbody>{rows.into_iter().map(|(name, schema, about)| view! {
                                <tr><td><code>{name}</code></td><td>{schema}</td><td>{about}</td></tr>
                            }).collect_view()}</tbody>
                        </DataTable>
                    }.into_any()
                }}
                {if allowed {
                    view! { <button class="btn" id="config-edit" on:click=edit>"Edit"</button> }.into_any()
                } else {
                    view! { <p class="muted">"Only the queue's owner or an admin can change it."</p> }.into_any()
                }}
            </div>
        }
        .into_any()
    }
}

/// The queue's resource config (`{}` when it has none).
fn queue_config(q: &liftoff_model::queue::Queue) -> serde_json::Value {
    q.default_resource_config
        .as_ref()
        .and_then(|c| c.resource_args().cloned())
        .unwrap_or_else(|| serde_json::json!({}))
}
