//! The Launch drawer: pick a job version, override its config (a form made
//! from its input schema, or JSON), paste a past run's config, pick a queue,
//! a priority and template variables, a destination project; Launch now.

use leptos::prelude::*;
use leptos::task::spawn_local;
use liftoff_client::ops::web::{Job, LiftoffProjectRuns, RunRow};
use liftoff_client::view::explain;
use liftoff_model::Priority;
use liftoff_model::form::{self, Field};
use liftoff_model::launch::{
    ConfigInput, LaunchForm, QueueChoice, check_config_json, form_to_json, json_to_form, paths,
    pretty_config, problem_at,
};
use liftoff_model::route;
use liftoff_model::schema::{JsonSchema, Problem};

use crate::components::drawer::Drawer;
use crate::components::feedback::{DraftNote, ErrorView, Loading};
use crate::components::fields::{FieldInputs, options_view};
use crate::components::toast::use_toasts;
use crate::drafts::{Drafts, use_drafts};
use crate::load::Load;
use crate::session::use_session;
use liftoff_client::loads;

/// What to launch: a job, optionally at a version.
#[derive(Clone, Debug, PartialEq)]
pub struct LaunchTarget {
    pub entity: String,
    pub project: String,
    pub job: String,
    pub version: Option<String>,
}

impl LaunchTarget {
    /// Its kept draft's key.
    fn key(&self) -> String {
        format!(
            "launch {}/{}/{}:{}",
            self.entity,
            self.project,
            self.job,
            self.version.as_deref().unwrap_or("")
        )
    }
}

#[component]
pub fn LaunchDrawer(open: RwSignal<bool>, target: RwSignal<Option<LaunchTarget>>) -> impl IntoView {
    let title = Signal::derive(move || {
        target.with(|t| {
            t.as_ref()
                .map_or_else(|| "Launch".to_owned(), |t| format!("Launch {}", t.job))
        })
    });
    // What was typed for a job, kept when the drawer closes without
    // launching (Escape, the backdrop, ×, another page): opened again for
    // the same job, the form goes on from there.
    let kept = use_drafts::<LaunchDraft>();
    view! {
        <Drawer open=open title=title>
            {move || target.get().map(|t| view! { <LaunchPanel target=t open=open kept=kept/> })}
        </Drawer>
    }
}

/// The Launch form's inputs as typed.
#[derive(Clone, Debug, PartialEq)]
pub struct LaunchDraft {
    version: String,
    texts: Vec<(String, String)>,
    json_text: String,
    use_json: bool,
    queue_key: String,
    /// The queue was picked by the user (not moved off one that cannot run the job).
    queue_picked: bool,
    priority: String,
    vars: Vec<(String, String)>,
    entity: String,
    project: String,
}

/// Everything the form needs before it can show.
#[derive(Clone, Debug, PartialEq)]
struct Loaded {
    job: Job,
    queues: Vec<QueueChoice>,
    /// The keys of the queues some agent polls now.
    active: Vec<String>,
    /// Past runs to copy a config from: the job's (with the version each
    /// used), else the project's.
    runs: Vec<(Option<String>, RunRow)>,
    username: String,
    /// Where the viewer may create runs: their own entity and their teams.
    entities: Vec<String>,
    /// `runs` are the job's own (else the project's: it has none yet).
    runs_of_job: bool,
}

#[component]
fn LaunchPanel(
    target: LaunchTarget,
    open: RwSignal<bool>,
    kept: Drafts<LaunchDraft>,
) -> impl IntoView {
    let session = use_session();
    let t = target.clone();
    let loaded = Load::new(move || {
        let t = t.clone();
        let client = session.client();
        let info = session.info();
        async move {
            let (Some(client), Some(info)) = (client, info) else {
                return Err(liftoff_client::Error::Unauthorized {
                    url: "this server".into(),
                });
            };
            let job = loads::job(&client, info.caps, &t.entity, &t.project, &t.job).await?;
            let queues = loads::queues(&client, info.caps, &info.viewer.entities()).await?;
            let mut runs: Vec<(Option<String>, RunRow)> = job
                .runs()
                .into_iter()
                .map(|(v, r)| (Some(v.version()), r.run.clone()))
                .collect();
            let runs_of_job = !runs.is_empty();
            if !runs_of_job {
                runs = client
                    .call(LiftoffProjectRuns {
                        entity: t.entity.clone(),
                        project: t.project.clone(),
                        first: 30,
                        after: None,
                    })
                    .await
                    .map(|p| p.runs.into_iter().map(|r| (None, r)).collect())
                    .unwrap_or_default();
            }
            Ok(Loaded {
                job,
                active: queues
                    .iter()
                    .filter(|q| q.agents.iter().any(|a| a.polls(crate::session::now())))
                    .map(|q| QueueChoice::of(&q.queue).key())
                    .collect(),
                queues: queues.iter().map(|q| QueueChoice::of(&q.queue)).collect(),
                runs,
                runs_of_job,
                entities: info.viewer.entities(),
                username: info.viewer.username,
            })
        }
    });
    move || match loaded.get() {
        None => view! { <Loading what="Loading the job and your queues…"/> }.into_any(),
        Some(Err(e)) => {
            view! { <ErrorView error=e retry=Callback::new(move |()| loaded.refetch())/> }
                .into_any()
        }
        Some(Ok(l)) => {
            view! { <LaunchFormView target=target.clone() loaded=l open=open kept=kept/> }
                .into_any()
        }
    }
}

#[component]
fn LaunchFormView(
    target: LaunchTarget,
    loaded: Loaded,
    open: RwSignal<bool>,
    kept: Drafts<LaunchDraft>,
) -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let Loaded {
        job,
        queues,
        active,
        runs,
        runs_of_job,
        username,
        entities,
    } = loaded;
    let job = StoredValue::new(job);
    let queues = StoredValue::new(queues);
    let runs = StoredValue::new(runs);

    // A blank form: the target's version, a queue an agent polls (else the
    // first), the job's entity when the viewer may run there (else their own).
    let blank = {
        let target = target.clone();
        let queue_key = queues.with_value(|q| {
            q.iter()
                .map(QueueChoice::key)
                .find(|k| active.contains(k))
                .or_else(|| q.first().map(QueueChoice::key))
                .unwrap_or_default()
        });
        let entity = if entities.contains(&target.entity) {
            target.entity.clone()
        } else {
            entities.first().cloned().unwrap_or_default()
        };
        move || LaunchDraft {
            version: target.version.clone().unwrap_or_else(|| "latest".into()),
            texts: vec![],
            json_text: String::new(),
            use_json: false,
            queue_key: queue_key.clone(),
            queue_picked: false,
            priority: String::new(),
            vars: vec![],
            entity: entity.clone(),
            project: target.project.clone(),
        }
    };
    let start = kept.get(&target.key()).unwrap_or_else(&blank);
    let resumed = RwSignal::new(start != blank());
    let version = RwSignal::new(start.version.clone());
    // The schema of the chosen version: from Liftoff's job read, else W&B's artifact read.
    let (entity0, project0, name0) = (
        target.entity.clone(),
        target.project.clone(),
        target.job.clone(),
    );
    let schema = Load::new(move || {
        let v = version.get();
        let from_list = job.with_value(|j| j.version(&v).map(|jv| jv.metadata.clone()));
        let (client, caps) = (session.client(), session.caps());
        let (e, p, n) = (entity0.clone(), project0.clone(), name0.clone());
        async move {
            let metadata = match (from_list, client) {
                (Some(m), _) if caps.job_runs => m,
                (_, Some(client)) => loads::job_metadata(&client, &e, &p, &n, &v)
                    .await
                    .unwrap_or_default(),
                (m, None) => m.unwrap_or_default(),
            };
            metadata.config_schema()
        }
    });

    // The chosen version's wandb-job.json, to know which queues can run it.
    let (entity1, project1, name1) = (
        target.entity.clone(),
        target.project.clone(),
        target.job.clone(),
    );
    let job_spec = Load::new(move || {
        let v = version.get();
        let chosen = job.with_value(|j| j.version(&v).cloned());
        let (client, caps) = (session.client(), session.caps());
        let (e, p, n) = (entity1.clone(), project1.clone(), name1.clone());
        async move {
            let spec = match (client, chosen) {
                (Some(c), Some(jv)) => loads::job_spec(&c, caps, &e, &p, &n, &jv).await.ok(),
                _ => None,
            };
            (v, spec)
        }
    });
    // The spec of the version chosen now (not the last one's, while loading).
    let spec_now = move || {
        job_spec
            .get()
            .and_then(|(v, spec)| (v == version.get()).then_some(spec))
            .flatten()
    };
    let job_path = StoredValue::new(format!(
        "{}/{}/{}",
        target.entity, target.project, target.job
    ));
    let refusal = move |q: &QueueChoice| {
        let spec = spec_now()?;
        job_path.with_value(|path| q.refusal(path, &spec))
    };

    let texts = RwSignal::new(start.texts);
    let json_text = RwSignal::new(start.json_text);
    let use_json = RwSignal::new(start.use_json);
    let queue_key = RwSignal::new(start.queue_key);
    let priority = RwSignal::new(start.priority);
    let vars = RwSignal::new(start.vars);
    let dest_entity = RwSignal::new(start.entity);
    let entity_options: Vec<(String, String)> =
        entities.iter().map(|e| (e.clone(), e.clone())).collect();
    let dest_project = RwSignal::new(start.project);
    let problems = RwSignal::new(Vec::<Problem>::new());
    // What the last "Paste from run" could not put in the form.
    let paste_note = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let failure = RwSignal::new(None::<liftoff_client::Error>);

    let chosen_queue = Memo::new(move |_| {
        let key = queue_key.get();
        queues.with_value(|q| q.iter().find(|c| c.key() == key).cloned())
    });
    // Once the job is read: the first choice moves off a queue that cannot
    // run it, to one that can (an active one first), until the user picks.
    let queue_picked = RwSignal::new(start.queue_picked);
    let draft_now = move || LaunchDraft {
        version: version.get(),
        texts: texts.get(),
        json_text: json_text.get(),
        use_json: use_json.get(),
        queue_key: queue_key.get(),
        queue_picked: queue_picked.get(),
        priority: priority.get(),
        vars: vars.get(),
        entity: dest_entity.get(),
        project: dest_project.get(),
    };
    // Kept once the user has typed or picked something (not for what the
    // form does by itself, such as moving off a queue that cannot run the job).
    let touched = RwSignal::new(false);
    {
        let target = target.clone();
        Effect::new(move |_| {
            let now = draft_now();
            if touched.get() {
                kept.keep(&target.key(), now);
            }
        });
    }
    // "Start over": every input back to the blank form's.
    let start_over = Callback::new(move |()| {
        let d = blank();
        version.set(d.version);
        texts.set(d.texts);
        json_text.set(d.json_text);
        use_json.set(d.use_json);
        queue_key.set(d.queue_key);
        queue_picked.set(d.queue_picked);
        priority.set(d.priority);
        vars.set(d.vars);
        dest_entity.set(d.entity);
        dest_project.set(d.project);
        problems.set(vec![]);
        paste_note.set(None);
        resumed.set(false);
        crate::components::focus_soon("launch-version");
    });
    let active = StoredValue::new(active);
    Effect::new(move |_| {
        let Some(current) = chosen_queue.get() else {
            return;
        };
        if queue_picked.get_untracked() || refusal(&current).is_none() {
            return;
        }
        let better = queues.with_value(|q| {
            let fits: Vec<&QueueChoice> = q.iter().filter(|c| refusal(c).is_none()).collect();
            fits.iter()
                .find(|c| active.with_value(|a| a.contains(&c.key())))
                .or(fits.first())
                .map(|c| c.key())
        });
        if let Some(key) = better {
            queue_key.set(key);
        }
    });
    let queue_refusal = move || chosen_queue.get().and_then(|q| refusal(&q));
    let schema_now = move || schema.get().flatten();
    let fields = Memo::new(move |_| schema_now().map(|s| form::fields(&s)).unwrap_or_default());
    let json_mode = move || use_json.get() || fields.with(Vec::is_empty);

    // A problem of the last attempt goes once its value is edited.
    let clear_config_problems = move || problems.update(|p| p.retain(|x| !is_config_problem(x)));
    let paste = move |ev: leptos::ev::Event| {
        let name = event_target_value(&ev);
        let Some(config) = runs.with_value(|r| {
            r.iter()
                .find(|(_, x)| x.name == name)
                .map(|(_, x)| x.config.clone())
        }) else {
            return;
        };
        texts.set(fields.with_untracked(|f| form::texts_for(f, &config)));
        json_text.set(pretty_config(&config));
        clear_config_problems();
        // Keys the form has no field for would be dropped by it: the run's
        // config is launched from JSON instead, saying why.
        let extra = fields.with_untracked(|f| form::keys_without_field(f, &config));
        if extra.is_empty() {
            paste_note.set(None);
        } else {
            use_json.set(true);
            paste_note.set(Some(format!(
                "Run {name}'s config has {}, which this version's form has no field for: it is here as JSON, to launch as it is or edit.",
                extra.join(", ")
            )));
        }
    };
    // Switching between the form and JSON carries the values across; a
    // switch that would lose something is refused, saying why.
    let switch = move |ev: leptos::ev::Event| {
        clear_config_problems();
        let refuse = |message: String| {
            problems.set(vec![Problem {
                path: paths::CONFIG.into(),
                message,
            }]);
            use_json.set(true);
        };
        if event_target_checked(&ev) {
            let json = fields.with_untracked(|f| {
                texts.with_untracked(|t| form_to_json(f, t, &json_text.get_untracked()))
            });
            json_text.set(json);
            use_json.set(true);
            return;
        }
        match fields.with_untracked(|f| json_to_form(f, &json_text.get_untracked())) {
            Err(m) => refuse(m),
            Ok(t) => {
                texts.set(t);
                use_json.set(false);
            }
        }
    };

    let draft_key = StoredValue::new(target.key());
    let launch = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        failure.set(None);
        let schema: Option<JsonSchema> = schema_now();
        let form = LaunchForm {
            job: job_path.get_value(),
            version: version.get_untracked(),
            config: if json_mode() {
                ConfigInput::Json(json_text.get_untracked())
            } else {
                ConfigInput::Fields(texts.get_untracked())
            },
            priority: priority.get_untracked().parse::<Priority>().ok(),
            template_values: vars.get_untracked(),
            entity: dest_entity.get_untracked(),
            project: dest_project.get_untracked(),
            author: Some(username.clone()),
        };
        let spec = spec_now();
        let request = match form.build(
            schema.as_ref(),
            chosen_queue.get_untracked().as_ref(),
            spec.as_ref(),
        ) {
            Ok(r) => r,
            Err(found) => {
                problems.set(found);
                crate::components::focus_first_invalid(".launch-form");
                return;
            }
        };
        problems.set(vec![]);
        let Some(client) = session.client() else {
            return;
        };
        busy.set(true);
        spawn_local(async move {
            let push = loads::push_of(&request);
            match client.call(push).await {
                Ok(pushed) => {
                    kept.forget(&draft_key.get_value());
                    let job = request.spec.job.clone().unwrap_or_default();
                    toasts.show(
                        format!(
                            "Launched {} to queue {}.",
                            job.rsplit('/').next().unwrap_or(&job),
                            request.queue
                        ),
                        Some((
                            format!(
                                "{}?item={}",
                                route::path(&["launch", &request.queue_entity, &request.queue]),
                                route::percent_encode(&pushed.item_id)
                            ),
                            "View the item".to_owned(),
                        )),
                    );
                    open.try_set(false);
                }
                Err(e) => {
                    failure.try_set(Some(e));
                }
            }
            busy.try_set(false);
        });
    };

    // The JSON editor's message: the last attempt's (until the text is
    // edited), else the text as checked as you type.
    let json_problem = move || {
        let found = problems.with(|p| {
            p.iter()
                .filter(|x| is_config_problem(x))
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        });
        if !found.is_empty() {
            return Some(found);
        }
        let schema = schema_now();
        json_text
            .with(|t| check_config_json(t, schema.as_ref()))
            .err()
            .map(|found| {
                found
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            })
    };
    let problem =
        move |path: &'static str| move || problems.with(|p| problem_at(p, path).map(str::to_owned));
    let version_options = job.with_value(liftoff_client::ops::web::version_options);
    let queue_options = move || {
        queues.with_value(|q| {
            q.iter()
                .map(|c| {
                    let key = c.key();
                    let label = match (refusal(c), active.with_value(|a| a.contains(&key))) {
                        (Some(_), _) => format!("{key} (cannot run this job)"),
                        (None, true) => format!("{key} (active)"),
                        (None, false) => format!("{key} (no agent)"),
                    };
                    (key, label)
                })
                .collect::<Vec<_>>()
        })
    };
    let no_queues = queues.with_value(Vec::is_empty);
    let run_options: Vec<(String, String)> = runs.with_value(|r| {
        let choose = if runs_of_job {
            "Choose a run of this job…"
        } else {
            "Choose a run of this project (none from this job yet)…"
        };
        let mut o = vec![(String::new(), choose.to_owned())];
        // With the job version each used: a run of another version may
        // have inputs this one's form does not.
        o.extend(r.iter().map(|(v, x)| {
            let label = match v {
                Some(v) => format!("{} ({v}, {})", x.title(), x.state),
                None => format!("{} ({})", x.title(), x.state),
            };
            (x.name.clone(), label)
        }));
        o
    });
    let has_runs = run_options.len() > 1;
    let prioritized =
        move || chosen_queue.with(|q| q.as_ref().is_some_and(|q| q.prioritization.enabled()));
    let priority_options = liftoff_model::launch::priority_options();

    view! {
        <form class="form launch-form" on:submit=launch novalidate
            on:input=move |_| touched.set(true) on:change=move |_| touched.set(true)>
            <Show when=move || resumed.get()>
                <DraftNote text="Going on from what you typed before." start_over=start_over/>
            </Show>
            <div class="field">
                <label for="launch-version">"Job version"</label>
                <select id="launch-version" on:change=move |ev| version.set(event_target_value(&ev))>
                    {options_view(version_options, move || version.get())}
                </select>
                <p class="field-error">{problem(paths::VERSION)}{problem(paths::JOB)}</p>
            </div>

            <fieldset class="group">
                <legend>"Overrides"</legend>
                <div class="label-row">
                    <span class="help">{move || match (schema.get(), fields.with(Vec::is_empty)) {
                        (None, _) => "Loading the job's inputs…",
                        (Some(_), true) => "This job declares no inputs: override its config as JSON.",
                        (Some(_), false) => "From the job's input schema; blank fields keep their defaults.",
                    }}</span>
                    <Show when=move || !fields.with(Vec::is_empty)>
                        <label class="inline">
                            <input type="checkbox" prop:checked=move || use_json.get() on:change=switch/>" Edit as JSON"
                        </label>
                    </Show>
                </div>
                <Show when=move || has_runs>
                    <div class="field">
                        <label for="launch-paste">"Paste from run"</label>
                        <select id="launch-paste" on:change=paste aria-describedby="launch-paste-note">
                            {options_view(run_options.clone(), String::new)}
                        </select>
                        <p class="help" id="launch-paste-note" role="status">{move || paste_note.get()}</p>
                    </div>
                </Show>
                {move || if json_mode() {
                    view! {
                        <div class="field">
                            <label for="launch-config">"Config (JSON)"</label>
                            <textarea id="launch-config" class="mono" rows="6" spellcheck="false"
                                placeholder="{\"lr\": 0.01}" prop:value=move || json_text.get()
                                on:input=move |ev| {
                                    json_text.set(event_target_value(&ev));
                                    clear_config_problems();
                                }
                                aria-invalid=move || json_problem().is_some().then_some("true")
                                aria-describedby="launch-config-error"></textarea>
                            <p class="field-error" id="launch-config-error">{json_problem}</p>
                        </div>
                    }.into_any()
                } else {
                    view! { <FieldInputs fields=fields.get() texts=texts prefix="config" problems=problems/> }.into_any()
                }}
            </fieldset>

            <div class="field">
                <label for="launch-queue">"Queue"</label>
                <select id="launch-queue" aria-describedby="launch-queue-error" on:change=move |ev| {
                    queue_picked.set(true);
                    queue_key.set(event_target_value(&ev));
                    problems.update(|p| p.retain(|x| x.path != paths::QUEUE));
                }>
                    {move || options_view(queue_options(), move || queue_key.get())}
                </select>
                {no_queues.then(|| view! { <p class="help">"No queues yet: create one on the "<a href="/launch">"Launch"</a>" page."</p> })}
                <p class="field-error" id="launch-queue-error">{move || problem(paths::QUEUE)().or_else(queue_refusal)}</p>
            </div>

            <div class="field">
                <label for="launch-priority">"Priority"</label>
                <select id="launch-priority" disabled=move || !prioritized()
                    title=move || (!prioritized()).then_some("This queue does not use priorities: turn on prioritization in its Config tab.")
                    on:change=move |ev| priority.set(event_target_value(&ev))>
                    {options_view(priority_options, move || priority.get())}
                </select>
                {move || (!prioritized()).then(|| view! {
                    <p class="help">"This queue does not use priorities (its Config tab can turn them on)."</p>
                })}
                <p class="field-error">{problem(paths::PRIORITY)}</p>
            </div>

            {move || {
                let q = chosen_queue.get();
                let vs: Vec<Field> = q.map(|q| q.template_variables.iter().map(Field::for_variable).collect()).unwrap_or_default();
                (!vs.is_empty()).then(|| view! {
                    <fieldset class="group">
                        <legend>"Template variables"</legend>
                        <FieldInputs fields=vs texts=vars prefix="template" problems=problems/>
                    </fieldset>
                })
            }}

            <div class="field-row">
                <div class="field">
                    <label for="launch-entity">"Destination entity"</label>
                    <select id="launch-entity" on:change=move |ev| dest_entity.set(event_target_value(&ev))>
                        {options_view(entity_options, move || dest_entity.get())}
                    </select>
                </div>
                <div class="field">
                    <label for="launch-project">"Destination project"</label>
                    <input id="launch-project" type="text" bind:value=dest_project/>
                </div>
            </div>
            <p class="field-error">{problem(paths::ENTITY)}</p>
            <p class="field-error">{problem(paths::PROJECT)}</p>

            {move || failure.get().map(|e| view! { <div class="error-box" role="alert"><p>{explain(&e)}</p></div> })}
            <div class="actions">
                <button class="btn primary" type="submit" disabled=move || busy.get()>
                    {move || if busy.get() { "Launching…" } else { "Launch now" }}
                </button>
            </div>
        </form>
    }
}

/// A problem about the config overrides (the whole config, or one of its fields).
fn is_config_problem(p: &Problem) -> bool {
    p.path == paths::CONFIG || p.path.starts_with("config.")
}
