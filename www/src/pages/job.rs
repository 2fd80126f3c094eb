//! `/:entity/:project/jobs/:job[/:tab]`: a job's versions and its Runs,
//! Details (source, code files), Dependencies and Inputs tabs.

use leptos::prelude::*;
use liftoff_client::Error;
use liftoff_client::ops::web::{Job, LiftoffArtifactFiles};
use liftoff_client::view::chart::value_text;
use liftoff_model::form::{self, FieldKind};
use liftoff_model::job::{JobMetadata, REQUIREMENTS_FILE, SourceType};
use liftoff_model::spec::JobRef;

use crate::components::feedback::{Empty, ErrorView, Loading, RequireServer, loaded};
use crate::components::launch_drawer::{LaunchDrawer, LaunchTarget};
use crate::components::status::RunStateBadge;
use crate::components::table::DataTable;
use crate::components::tabs::Tabs;
use crate::components::time::Ago;
use crate::load::Load;
use crate::router::{use_params_map, use_query_map};
use crate::session::{remember_project, use_session};
use liftoff_client::loads;

#[component]
pub fn JobPage() -> impl IntoView {
    view! { <RequireServer><JobView/></RequireServer> }
}

#[component]
fn JobView() -> impl IntoView {
    let session = use_session();
    let params = use_params_map();
    let query = use_query_map();
    let entity = move || params.with(|p| p.get("entity").unwrap_or_default());
    let project = move || params.with(|p| p.get("project").unwrap_or_default());
    let name = move || params.with(|p| p.get("job").unwrap_or_default());
    let tab = move || {
        params
            .with(|p| p.get("tab"))
            .unwrap_or_else(|| "runs".into())
    };
    let version = move || {
        query
            .with(|q| q.get("version"))
            .unwrap_or_else(|| "latest".into())
    };
    // Live: the Runs tab fills as agents run the job.
    let tick = crate::poll::use_poll(std::time::Duration::from_secs(5));
    let job = Load::new(move || {
        tick.track();
        let (e, p, n) = (entity(), project(), name());
        let (client, caps) = (session.client(), session.caps());
        async move {
            let Some(client) = client else {
                return Err(Error::Unauthorized {
                    url: "this server".into(),
                });
            };
            let job = loads::job(&client, caps, &e, &p, &n).await;
            if job.is_ok() {
                remember_project(&e, &p);
            }
            job
        }
    });
    let open = RwSignal::new(false);
    let target = RwSignal::new(None::<LaunchTarget>);
    let base = move || format!("/{}/{}/jobs/{}", entity(), project(), name());
    let with_version = move |path: String| match version().as_str() {
        "latest" => path,
        v => format!("{path}?version={v}"),
    };
    let tabs = move || {
        ["runs", "details", "dependencies", "inputs"]
            .into_iter()
            .map(|t| {
                let label = match t {
                    "runs" => "Runs",
                    "details" => "Details",
                    "dependencies" => "Dependencies",
                    _ => "Inputs",
                };
                (
                    label.to_owned(),
                    with_version(format!("{}/{t}", base())),
                    Signal::derive(move || tab() == t),
                )
            })
            .collect::<Vec<_>>()
    };
    view! {
        <section class="page">
            <nav class="crumbs" aria-label="Breadcrumb">
                <a href=move || format!("/launch?entity={}", entity())>{entity}</a>" / "
                <a href=move || format!("/{}/{}", entity(), project())>{project}</a>" / "
                <a href=move || format!("/{}/{}/jobs", entity(), project())>"jobs"</a>
            </nav>
            {loaded(job, move |j: Job| {
                let versions = j.versions.clone();
                let chosen = j.version(&version()).cloned();
                let job_name = j.name.clone();
                view! {
                    <div class="page-head">
                        <div>
                            <h1>{j.name.clone()}</h1>
                            {j.description.clone().map(|d| view! { <p class="lead">{d}</p> })}
                        </div>
                        <button class="btn primary" on:click=move |_| {
                            target.set(Some(LaunchTarget { entity: entity(), project: project(), job: job_name.clone(), version: Some(version()) }));
                            open.set(true);
                        }>"Launch"</button>
                    </div>
                    <nav class="filters" aria-label="Versions">
                        {versions.into_iter().map(|v| {
                            let label = v.label();
                            let href = format!("{}/{}?version={}", base(), tab(), v.version());
                            let this = v.version();
                            let current = chosen.as_ref().map(|c| c.version()) == Some(this);
                            view! { <a href=href aria-current=current.then_some("page")>{label}</a> }
                        }).collect_view()}
                    </nav>
                    {move || view! { <Tabs tabs=tabs()/> }}
                    {match chosen {
                        None => view! { <Empty><p>{format!("This job has no version {}.", version())}</p></Empty> }.into_any(),
                        Some(v) => {
                            let jref = JobRef { entity: entity(), project: project(), name: j.name.clone(), alias: v.version() };
                            match tab().as_str() {
                                "details" | "dependencies" | "inputs" => view! { <VersionTabs job=jref tab=tab()/> }.into_any(),
                                _ => view! { <RunsTab job=j.clone() chosen=v.version()/> }.into_any(),
                            }
                        }
                    }}
                }
            })}
            <LaunchDrawer open=open target=target/>
        </section>
    }
}

/// The runs created from this job, of every version (the Version column
/// says which); `chosen` is the version picked above.
#[component]
fn RunsTab(job: Job, chosen: String) -> impl IntoView {
    let caps = use_session().caps();
    if !caps.job_runs {
        return view! { <Empty><p>"This server does not say which runs used a job (a Liftoff server does)."</p></Empty> }.into_any();
    }
    let mut runs: Vec<_> = job
        .runs()
        .into_iter()
        .map(|(v, r)| (v.version(), r.clone()))
        .collect();
    // The chosen version's runs first; the others after, newest first still.
    runs.sort_by_key(|(v, _)| *v != chosen);
    if runs.is_empty() {
        return view! { <Empty><p>"No runs of this job yet. Press Launch to make one: it shows here once an agent starts it (until then, on its queue's page)."</p></Empty> }.into_any();
    }
    let of_chosen = runs.iter().filter(|(v, _)| *v == chosen).count();
    // The config keys the runs share, as columns (at most six).
    let mut keys: Vec<String> = runs
        .iter()
        .flat_map(|(_, r)| r.run.config.keys().cloned())
        .collect();
    liftoff_model::sort::sort(&mut keys);
    keys.dedup();
    keys.truncate(6);
    let total = runs.len();
    view! {
        <p class="muted">{match (of_chosen, total - of_chosen) {
            (0, others) => format!("No runs of {chosen} yet; {others} of other versions (the Version column says which)."),
            (mine, 0) => format!("{mine} run{} of {chosen}.", if mine == 1 { "" } else { "s" }),
            (mine, others) => format!("{mine} run{} of {chosen} first, then {others} of other versions.", if mine == 1 { "" } else { "s" }),
        }}</p>
        <div class="table-wrap">
            <table class="data">
                <caption class="sr-only">"Runs of this job"</caption>
                <thead><tr>
                    <th scope="col">"Run"</th><th scope="col">"State"</th><th scope="col">"Version"</th><th scope="col">"Created"</th>
                    {keys.iter().map(|k| view! { <th scope="col" class="mono">{k.clone()}</th> }).collect_view()}
                </tr></thead>
                <tbody>
                    {runs.into_iter().map(|(v, r)| {
                        let cells = keys.iter().map(|k| {
                            let text = r.run.config.get(k).map(value_text).unwrap_or_else(|| "—".into());
                            view! { <td class="mono">{text}</td> }
                        }).collect_view();
                        view! {
                            <tr>
                                <td><a href=format!("/{}/{}/runs/{}", r.entity, r.project, r.run.name)>{r.run.title().to_owned()}</a></td>
                                <td><RunStateBadge state=r.run.state.clone()/></td>
                                <td>{v}</td>
                                <td><Ago at=r.run.created_at.clone()/></td>
                                {cells}
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }.into_any()
}

/// Details, Dependencies and Inputs: read from the version's files.
#[component]
fn VersionTabs(job: JobRef, tab: String) -> impl IntoView {
    let session = use_session();
    let j = job.clone();
    let fetched = Load::new(move || {
        let client = session.client();
        let j = j.clone();
        async move {
            let Some(client) = client else {
                return Err(Error::Unauthorized {
                    url: "this server".into(),
                });
            };
            client.fetch_job(&j).await
        }
    });
    loaded(fetched, move |f| match tab.as_str() {
        "dependencies" => {
            let reqs = f
                .files
                .iter()
                .find(|(n, _)| n == REQUIREMENTS_FILE)
                .map(|(_, b)| String::from_utf8_lossy(b).into_owned());
            match reqs {
                Some(text) if !text.trim().is_empty() => view! {
                    <p class="help">{format!("{REQUIREMENTS_FILE}: installed in a virtual environment before the job runs.")}</p>
                    <pre class="code">{text}</pre>
                }.into_any(),
                _ => view! { <Empty><p>"No requirements: the job runs with the agent's Python and packages."</p></Empty> }.into_any(),
            }
        }
        "inputs" => {
            let metadata: JobMetadata =
                serde_json::from_value(serde_json::Value::Object(f.info.metadata.clone()))
                    .unwrap_or_default();
            match metadata.config_schema() {
                None => view! { <Empty><p>"This job declares no inputs; the Launch drawer offers a JSON editor for its config."</p></Empty> }.into_any(),
                Some(schema) => {
                    let fields = form::fields(&schema);
                    view! {
                        <DataTable class="inputs" caption="Inputs of this job" columns=vec![
                            ("Input", false), ("Type", false), ("Allowed", false), ("Default", false), ("Description", false),
                        ]>
                                <tbody>{fields.into_iter().map(|fld| {
                                    let allowed = match &fld.kind {
                                        FieldKind::Choice(v) => v.iter().map(form::text_of).collect::<Vec<_>>().join(", "),
                                        // The type has its own column.
                                        _ => fld.range_text(),
                                    };
                                    view! {
                                        <tr>
                                            <td class="mono">{fld.path.clone()}{fld.required.then_some(" *")}</td>
                                            <td>{fld.schema.kind.map_or("any", |k| k.as_str())}</td>
                                            <td>{allowed}</td>
                                            <td class="mono">{fld.default_text()}</td>
                                            <td>{fld.description.clone().unwrap_or_default()}</td>
                                        </tr>
                                    }
                                }).collect_view()}</tbody>
                        </DataTable>
                        <details><summary>"Schema (JSON)"</summary><pre class="code">{serde_json::to_string_pretty(&schema).unwrap_or_default()}</pre></details>
                    }.into_any()
                }
            }
        }
        _ => {
            let spec = f.spec.clone();
            let code = spec.code_artifact_id().map(str::to_owned);
            view! {
                <dl class="facts">
                    <dt>"Source"</dt><dd>{spec.source_type.label()}</dd>
                    {spec.source.image.clone().map(|i| view! { <dt>"Image"</dt><dd><code>{i}</code></dd> })}
                    {spec.source.git.clone().map(|g| view! {
                        <dt>"Git repository"</dt><dd><code>{g.remote}</code></dd>
                        <dt>"Commit"</dt><dd><code>{g.commit}</code></dd>
                    })}
                    <dt>"Entry point"</dt><dd><code>{if spec.entrypoint().is_empty() { "(the image's)".to_owned() } else { spec.entrypoint().join(" ") }}</code></dd>
                    {spec.runtime.clone().filter(|r| !r.is_empty()).map(|r| view! { <dt>"Python"</dt><dd>{r}</dd> })}
                    {spec.source.base_image.clone().map(|b| view! { <dt>"Base image"</dt><dd><code>{b}</code></dd> })}
                    <dt>"Version"</dt><dd>{f.info.versioned_name()}" · "<Ago at=f.info.created_at.clone()/></dd>
                </dl>
                {(spec.source_type == SourceType::Artifact).then(|| code.map(|id| view! { <CodeFiles artifact=id/> }))}
            }.into_any()
        }
    })
}

/// A code job's files; choosing one shows its text.
#[component]
fn CodeFiles(artifact: String) -> impl IntoView {
    let session = use_session();
    let files = Load::new(move || {
        let client = session.client();
        let id = artifact.clone();
        async move {
            let Some(client) = client else {
                return Err(Error::Unauthorized {
                    url: "this server".into(),
                });
            };
            client
                .call(LiftoffArtifactFiles {
                    id,
                    names: None,
                    first: 500,
                })
                .await
        }
    });
    let open_file = RwSignal::new(None::<(String, Option<String>)>);
    let content = Load::new(move || {
        let chosen = open_file.get();
        let client = session.client();
        async move {
            let (Some((name, Some(url))), Some(client)) = (chosen, client) else {
                return None;
            };
            Some(
                client
                    .get(&url)
                    .await
                    .map(|b| (name, String::from_utf8_lossy(&b).into_owned())),
            )
        }
    });
    view! {
        <h3>"Code"</h3>
        {loaded(files, move |list| view! {
            <div class="code-browser">
                <ul class="file-list" aria-label="Files">
                    {list.into_iter().map(|f| {
                        let pick = (f.name.clone(), f.url.clone());
                        let name = f.name.clone();
                        view! {
                            <li><button class="link" aria-pressed=move || open_file.with(|o| o.as_ref().is_some_and(|(n, _)| *n == name)).to_string()
                                on:click=move |_| open_file.set(Some(pick.clone()))>{f.name.clone()}</button>
                                <span class="muted small">{f.size.map(|s| format!(" {s} B")).unwrap_or_default()}</span></li>
                        }
                    }).collect_view()}
                </ul>
                <div class="file-view">
                    {move || match content.get() {
                        None | Some(None) if open_file.with(Option::is_some) => view! { <Loading/> }.into_any(),
                        None | Some(None) => view! { <p class="muted">"Choose a file to read it."</p> }.into_any(),
                        Some(Some(Err(e))) => view! { <ErrorView error=e/> }.into_any(),
                        Some(Some(Ok((name, text)))) => view! {
                            <p class="mono small">{name}</p>
                            <pre class="code">{text}</pre>
                        }.into_any(),
                    }}
                </div>
            </div>
        })}
    }
}
