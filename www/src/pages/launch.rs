//! `/launch`: every queue of the chosen entity (or all of yours), and the
//! Create queue drawer.

use liftoff_model::route;
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use liftoff_client::ops::queues::UpsertRunQueue;
use liftoff_client::ops::web::LiftoffProjects;
use liftoff_client::view::explain;
use liftoff_client::view::queues::queue_rows;
use liftoff_model::LAUNCH_PROJECT;
use liftoff_model::queue::template_variables_to_input;
use liftoff_model::queue_draft::{QueueDraft, QueueSettings};

use crate::components::drawer::Drawer;
use crate::components::feedback::{DraftNote, Empty, RequireServer, loaded};
use crate::components::focus_soon;
use crate::components::queue_form::QueueForm;
use crate::components::status::tone;
use crate::components::table::DataTable;
use crate::drafts::{NEW_QUEUE, use_queue_drafts};
use crate::load::Load;
use crate::poll::use_poll;
use crate::router::{use_navigate, use_query_map};
use crate::session::{now, recent_projects, use_session};
use liftoff_client::loads;

#[component]
pub fn LaunchPage() -> impl IntoView {
    view! { <RequireServer><LaunchHome/></RequireServer> }
}

#[component]
fn LaunchHome() -> impl IntoView {
    let session = use_session();
    let query = use_query_map();
    let navigate = use_navigate();
    let tick = use_poll(Duration::from_secs(5));
    let info = session.info();
    let entities = info
        .as_ref()
        .map(|i| i.viewer.entities())
        .unwrap_or_default();
    let chosen = move || query.with(|q| q.get("entity")).filter(|e| !e.is_empty());
    let queues = Load::new({
        let entities = entities.clone();
        move || {
            tick.track();
            let wanted: Vec<String> = match chosen() {
                Some(e) => vec![e],
                None => entities.clone(),
            };
            let (client, caps) = (session.client(), session.caps());
            async move {
                let Some(client) = client else {
                    return Ok(vec![]);
                };
                loads::queues(&client, caps, &wanted).await
            }
        }
    });
    let taken = Signal::derive(move || {
        queues
            .get()
            .and_then(Result::ok)
            .map(|qs| {
                qs.iter()
                    .map(|q| (q.queue.entity_name.clone(), q.queue.name.clone()))
                    .collect()
            })
            .unwrap_or_default()
    });

    let creating = RwSignal::new(false);
    // What was typed in the Create queue drawer, kept when it closes unsaved
    // (Escape, the backdrop, ×, another page): reopening it goes on from
    // there, and "Start over" (which bumps `fresh`) draws a blank form.
    let drafts = use_queue_drafts();
    let fresh = RwSignal::new(0u32);
    let busy = RwSignal::new(false);
    let failure = RwSignal::new(None::<String>);
    let save = Callback::new(move |s: QueueSettings| {
        let Some(client) = session.client() else {
            return;
        };
        busy.set(true);
        failure.set(None);
        let navigate = navigate.clone();
        spawn_local(async move {
            let (entity, name) = (s.entity.clone(), s.name.clone());
            let result = client.call(upsert(s)).await;
            busy.try_set(false);
            match result {
                Ok(_) => {
                    drafts.forget(NEW_QUEUE);
                    creating.try_set(false);
                    // As W&B does: a new queue opens on its Agents tab.
                    navigate(&route::path(&["launch", &entity, &name, "agents"]));
                }
                Err(e) => {
                    failure.try_set(Some(explain(&e)));
                    // In view and read out, not below a drawer's fold.
                    crate::components::focus_soon("create-queue-failure");
                }
            }
        });
    });
    let first_entity = entities.first().cloned().unwrap_or_default();
    let form_entities = entities.clone();
    let blank = move || QueueDraft {
        entity: chosen().unwrap_or_else(|| first_entity.clone()),
        ..QueueDraft::default()
    };

    let entity_links = entities.clone();
    view! {
        <section class="page">
            <div class="page-head">
                <div>
                    <h1>"Launch"</h1>
                    <p class="lead">"Queues of jobs, and the agents that run them."</p>
                </div>
                <button class="btn primary" on:click=move |_| creating.set(true)>"Create queue"</button>
            </div>
            <nav class="filters" aria-label="Entity">
                <a href="/launch" aria-current=move || chosen().is_none().then_some("page")>"All entities"</a>
                {entity_links.into_iter().map(|e| {
                    let href = format!("/launch?entity={e}");
                    let this = e.clone();
                    view! { <a href=href aria-current=move || (chosen().as_deref() == Some(this.as_str())).then_some("page")>{e}</a> }
                }).collect_view()}
            </nav>
            {loaded(queues, move |list| {
                let rows = queue_rows(&list, now());
                if rows.is_empty() {
                    return view! {
                        <Empty>
                            <p><strong>"No queues yet."</strong></p>
                            <p>"Create a queue, start an agent on it, then launch jobs from a project's Jobs page."</p>
                        </Empty>
                    }.into_any();
                }
                let caps = session.caps();
                view! {
                    <DataTable class="queues" caption="Queues" columns=vec![
                        ("Queue", false), ("Entity", false), ("Resource", false), ("Status", false), ("Items", false), ("Agents (live / all)", true),
                    ]>
                            <tbody>
                                {rows.into_iter().map(|r| {
                                    let href = route::path(&["launch", &r.queue.entity_name, &r.queue.name]);
                                    let counts = if r.statuses.is_empty() {
                                        let none = if caps.queue_admin { "none" } else { "—" };
                                        view! { <span class="muted">{none}</span> }.into_any()
                                    } else {
                                        // Coloured as the queue page's Status column.
                                        view! { <span class="counts">{r.statuses.iter().map(|(s, n)| view! {
                                            <span class=format!("badge {}", tone(*s))>{format!("{n} {s}")}</span>
                                        }).collect_view()}</span> }.into_any()
                                    };
                                    view! {
                                        <tr>
                                            <td><a href=href class="strong">{r.queue.name.clone()}</a></td>
                                            <td>{r.queue.entity_name.clone()}</td>
                                            <td>{r.queue.resource().map(|x| x.as_str()).unwrap_or("—")}</td>
                                            <td>{if r.active {
                                                view! { <span class="badge ok">"Active"</span> }.into_any()
                                            } else {
                                                view! { <span class="badge muted">"Not active"</span> }.into_any()
                                            }}</td>
                                            <td>{counts}</td>
                                            <td class="num">{if caps.agents { format!("{} / {}", r.live_agents, r.agents) } else { "—".into() }}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                    </DataTable>
                }.into_any()
            })}
            <ProjectPicker/>
            <Drawer open=creating title=Signal::derive(|| "Create queue".to_owned())>
                {
                    let form_entities = form_entities.clone();
                    let blank = blank.clone();
                    move || {
                        fresh.track();
                        let new = blank();
                        let kept = drafts.get(NEW_QUEUE).map(|k| k.now);
                        let start_over = Callback::new(move |()| {
                            drafts.forget(NEW_QUEUE);
                            fresh.update(|n| *n += 1);
                            focus_soon("queue-name");
                        });
                        let resumed = kept.is_some().then(|| view! {
                            <DraftNote text="Going on from what you typed before." start_over=start_over/>
                        });
                        let initial = kept.unwrap_or_else(|| new.clone());
                        let remember = Callback::new(move |d| drafts.put(NEW_QUEUE, &new, d));
                        view! {
                            {resumed}
                            <QueueForm entities=form_entities.clone() initial=initial editing=false taken=taken
                                on_save=save busy=busy submit_label="Create queue" on_change=remember/>
                            {move || failure.get().map(|m| view! { <div class="error-box" role="alert" id="create-queue-failure" tabindex="-1"><p>{m}</p></div> })}
                        }
                    }
                }
            </Drawer>
        </section>
    }
}

/// The upsert that creates (or replaces) a queue.
pub fn upsert(s: QueueSettings) -> UpsertRunQueue {
    UpsertRunQueue {
        entity: s.entity,
        project: LAUNCH_PROJECT.into(),
        name: s.name,
        resource: s.resource,
        config: s.config,
        template_variables: (!s.template_variables.is_empty())
            .then(|| template_variables_to_input(&s.template_variables)),
        prioritization_mode: s.prioritization,
        external_links: None,
    }
}

/// The project field of the Launch home's picker: the top bar's Jobs link
/// goes to `/launch#pick-project` before any project was opened.
pub const PICK_PROJECT: &str = "pick-project";

/// Jobs live in projects: open one (or a recent one).
#[component]
fn ProjectPicker() -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let entity = RwSignal::new(session.info().map(|i| i.viewer.entity).unwrap_or_default());
    let project = RwSignal::new(String::new());
    // Sent here by that link (from another page, or from this one, where
    // only the hash changes): the project is what to type.
    let project_input = NodeRef::<leptos::html::Input>::new();
    let focus_if_asked = move || {
        let asked = window()
            .location()
            .hash()
            .is_ok_and(|h| h.strip_prefix('#') == Some(PICK_PROJECT));
        if let (true, Some(input)) = (asked, project_input.get_untracked()) {
            let _ = input.focus();
        }
    };
    Effect::new(move |_| {
        project_input.track();
        focus_if_asked();
    });
    let on_hash = window_event_listener(leptos::ev::hashchange, move |_| focus_if_asked());
    on_cleanup(move || on_hash.remove());
    // Suggestions: the projects of the entity typed, when it is one of yours.
    let projects = Load::new(move || {
        let e = entity.get();
        let (client, info) = (session.client(), session.info());
        async move {
            let yours = info.is_some_and(|i| i.viewer.entities().contains(&e));
            match client.filter(|_| yours) {
                Some(c) => c
                    .call(LiftoffProjects {
                        entity: e,
                        first: 100,
                    })
                    .await
                    .unwrap_or_default(),
                None => vec![],
            }
        }
    });
    let problem = RwSignal::new(None::<String>);
    let open = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (e, p) = (entity.get_untracked(), project.get_untracked());
        let (e, p) = (e.trim(), p.trim());
        let found = if e.is_empty() {
            Some("Type an entity (a user or team name).".to_owned())
        } else {
            liftoff_model::spec::entity_name_problem(e)
                .or_else(|| liftoff_model::spec::project_name_problem(p))
        };
        problem.set(found.clone());
        if found.is_none() {
            navigate(&route::path(&[e, p, "jobs"]));
        }
    };
    let recent = recent_projects();
    view! {
        <section class="card jobs-picker">
            <h2>"Launch a job"</h2>
            <p class="help">"Jobs belong to projects. Open a project's jobs and press Launch on one."</p>
            <form class="inline-form" on:submit=open>
                <label for="pick-entity" class="sr-only">"Entity"</label>
                <input id="pick-entity" type="text" placeholder="entity" bind:value=entity/>
                <span aria-hidden="true">"/"</span>
                <label for=PICK_PROJECT class="sr-only">"Project"</label>
                <input id=PICK_PROJECT type="text" placeholder="project" list="pick-projects" autocomplete="off"
                    bind:value=project node_ref=project_input/>
                <datalist id="pick-projects">
                    {move || projects.get().unwrap_or_default().into_iter().map(|p| view! { <option value=p/> }).collect_view()}
                </datalist>
                <button class="btn" type="submit">"Open jobs"</button>
            </form>
            {move || problem.get().map(|p| view! { <p class="field-error" role="alert">{p}</p> })}
            {(!recent.is_empty()).then(|| view! {
                <p class="recent">"Recent: "{recent.into_iter().map(|p| view! { <a href=format!("/{p}/jobs")>{p.clone()}</a> }).collect_view()}</p>
            })}
            // The entity's projects, each a link to its jobs: nothing to know first.
            {move || {
                let (e, found) = (entity.get(), projects.get().unwrap_or_default());
                (!found.is_empty()).then(|| view! {
                    <p class="recent projects">{format!("Projects of {e}: ")}{found.into_iter().take(30).map(|p| {
                        let href = route::path(&[&e, &p, "jobs"]);
                        view! { <a href=href>{p}</a> }
                    }).collect_view()}</p>
                })
            }}
        </section>
    }
}
