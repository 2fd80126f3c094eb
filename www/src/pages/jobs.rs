//! `/:entity/:project` (also `/jobs`, `/runs`): a project's jobs with their
//! versions and last run, a Launch button on each, and its latest runs
//! (where wandb's "View project at" link lands).

use leptos::prelude::*;

use liftoff_client::ops::web::{JobVersion, LiftoffProjectRuns};

use crate::components::feedback::{Empty, RequireServer, loaded};
use crate::components::launch_drawer::{LaunchDrawer, LaunchTarget};
use crate::components::status::RunStateBadge;
use crate::components::table::DataTable;
use crate::components::time::Ago;
use crate::load::Load;
use crate::router::use_params_map;
use crate::session::{remember_project, use_session};
use liftoff_client::loads;

#[component]
pub fn JobsPage() -> impl IntoView {
    view! { <RequireServer><JobsView/></RequireServer> }
}

#[component]
fn JobsView() -> impl IntoView {
    let session = use_session();
    let params = use_params_map();
    let entity = move || params.with(|p| p.get("entity").unwrap_or_default());
    let project = move || params.with(|p| p.get("project").unwrap_or_default());
    // Live: a job's last run changes as agents run it.
    let tick = crate::poll::use_poll(std::time::Duration::from_secs(5));
    let jobs = Load::new(move || {
        tick.track();
        let (e, p) = (entity(), project());
        let (client, caps) = (session.client(), session.caps());
        async move {
            let Some(client) = client else {
                return Ok(vec![]);
            };
            let jobs = loads::jobs(&client, caps, &e, &p).await;
            // Recent: projects that have jobs, not every address typed.
            if jobs.as_ref().is_ok_and(|j| !j.is_empty()) {
                remember_project(&e, &p);
            }
            jobs
        }
    });
    let open = RwSignal::new(false);
    let target = RwSignal::new(None::<LaunchTarget>);
    let launch = move |job: String| {
        target.set(Some(LaunchTarget {
            entity: entity(),
            project: project(),
            job,
            version: None,
        }));
        open.set(true);
    };
    view! {
        <section class="page">
            <nav class="crumbs" aria-label="Breadcrumb">{entity}" / "{project}</nav>
            <div class="page-head">
                <div>
                    <h1>"Jobs"</h1>
                    <p class="lead">"Blueprints of runs: launch one to a queue, with its config changed or as it is."</p>
                </div>
            </div>
            {loaded(jobs, move |list| {
                if list.is_empty() {
                    // An entity the viewer is not in shows nothing, whether
                    // or not it has jobs: say that, not "create one".
                    let mine = session.info().map(|i| i.viewer.entities());
                    if let Some(mine) = mine.filter(|m| !m.contains(&entity())) {
                        return view! {
                            <Empty>
                                <p><strong>{format!("Nothing in {}/{} that you may see.", entity(), project())}</strong></p>
                                <p>{format!("{} is not one of your entities ({}).", entity(), mine.join(", "))}</p>
                            </Empty>
                        }.into_any();
                    }
                    return view! {
                        <Empty>
                            <p><strong>"No jobs in this project yet."</strong></p>
                            <p>"Create one with "<code>{format!("liftoff job create code . -e {} -p {} -E 'python train.py'", entity(), project())}</code>
                               ", or run a script with "<code>"wandb"</code>" that logs its code."</p>
                        </Empty>
                    }.into_any();
                }
                let caps = session.caps();
                view! {
                    <DataTable class="jobs" caption="Jobs of this project" columns=vec![
                        ("Job", false), ("Source", false), ("Versions", true), ("Aliases (latest)", false), ("Last run", false), ("Created", false), ("", false),
                    ]>
                            <tbody>
                                {list.into_iter().map(|j| {
                                    let href = format!("/{}/{}/jobs/{}", entity(), project(), j.name);
                                    let aliases = j.latest().map(|v| v.aliases.clone()).unwrap_or_default();
                                    let last = j.last_run().cloned();
                                    let name = j.name.clone();
                                    view! {
                                        <tr data-job=j.name.clone()>
                                            <td><a class="strong" href=href>{j.name.clone()}</a>
                                                {j.description.clone().map(|d| view! { <div class="muted small">{d}</div> })}</td>
                                            <td>{j.latest().cloned().map(|v| view! { <SourceCell entity=entity() project=project() job=j.name.clone() version=v/> })}</td>
                                            <td class="num">{j.versions.len()}</td>
                                            <td><ul class="chips">{aliases.into_iter().map(|a| view! { <li>{a}</li> }).collect_view()}</ul></td>
                                            <td>{match last {
                                                Some(r) => view! {
                                                    <a href=format!("/{}/{}/runs/{}", r.entity, r.project, r.run.name)>{r.run.title().to_owned()}</a>" "
                                                    <RunStateBadge state=r.run.state.clone()/>
                                                }.into_any(),
                                                None if caps.job_runs => view! { <span class="muted">"never run"</span> }.into_any(),
                                                None => view! { <span class="muted">"—"</span> }.into_any(),
                                            }}</td>
                                            <td><Ago at=j.latest().and_then(|v| v.created_at.clone()).or(j.created_at.clone())/></td>
                                            <td><button class="btn primary small" on:click=move |_| launch(name.clone())
                                                aria-label=format!("Launch {}", j.name)>"Launch"</button></td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                    </DataTable>
                }.into_any()
            })}
            <ProjectRuns/>
            <LaunchDrawer open=open target=target/>
        </section>
    }
}

/// The project's latest runs, newest first (the route's project: read
/// again when it changes).
#[component]
fn ProjectRuns() -> impl IntoView {
    let session = use_session();
    let params = use_params_map();
    let tick = crate::poll::use_poll(std::time::Duration::from_secs(5));
    let runs = Load::new(move || {
        tick.track();
        let client = session.client();
        let (e, p) = params.with(|m| {
            (
                m.get("entity").unwrap_or_default(),
                m.get("project").unwrap_or_default(),
            )
        });
        async move {
            let Some(client) = client else {
                return Ok(vec![]);
            };
            client
                .call(LiftoffProjectRuns {
                    entity: e,
                    project: p,
                    first: RUNS_SHOWN,
                    after: None,
                })
                .await
                .map(|page| page.runs)
        }
    });
    view! {
        <h2 id="runs-h">"Runs"</h2>
        {loaded(runs, move |list| {
            if list.is_empty() {
                return view! { <p class="muted">"No runs in this project yet."</p> }.into_any();
            }
            let (e, p) = params.with(|m| (m.get("entity").unwrap_or_default(), m.get("project").unwrap_or_default()));
            view! {
                <DataTable class="runs" caption="The project's latest runs" columns=vec![("Run", false), ("State", false), ("Created", false)]>
                    <tbody>
                        {list.into_iter().map(|r| view! {
                            <tr data-run=r.name.clone()>
                                <td><a href=format!("/{e}/{p}/runs/{}", r.name)>{r.title().to_owned()}</a></td>
                                <td><RunStateBadge state=r.state.clone()/></td>
                                <td><Ago at=r.created_at.clone()/></td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </DataTable>
            }.into_any()
        })}
    }
}

/// How many of a project's runs its page lists.
const RUNS_SHOWN: i64 = 20;

/// A job's source type (`code`, `git`, `image`), read from its `wandb-job.json`.
#[component]
fn SourceCell(entity: String, project: String, job: String, version: JobVersion) -> impl IntoView {
    let session = use_session();
    let spec = Load::new(move || {
        let (client, caps) = (session.client(), session.caps());
        let (e, p, j, v) = (
            entity.clone(),
            project.clone(),
            job.clone(),
            version.clone(),
        );
        async move {
            match client {
                Some(c) => loads::job_spec(&c, caps, &e, &p, &j, &v).await.ok(),
                None => None,
            }
        }
    });
    move || match spec.get() {
        None => view! { <span class="muted">"…"</span> }.into_any(),
        Some(None) => view! { <span class="muted">"?"</span> }.into_any(),
        Some(Some(s)) => {
            view! { <span class="badge outline">{s.source_type.label()}</span> }.into_any()
        }
    }
}
