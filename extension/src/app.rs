//! The service worker's brain: one [`Request`] in, one JSON answer out.
//! Every API call of the extension starts here, with the key of the server
//! the *sender's* origin maps to (a page never names a server or sees a
//! key). Requests that read or change settings are answered only to the
//! extension's own pages (`trusted`). Generic over where settings live
//! ([`Host`]) and how HTTP travels ([`Transport`]), so it runs natively in
//! tests and in the wasm worker alike.

use std::cell::RefCell;
use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use liftoff_client::ops::web::Job;
use liftoff_client::view::explain;
use liftoff_client::{Client, Credentials, Error, Transport};
use liftoff_model::JobSpec;
use liftoff_model::launch::QueueChoice;
use liftoff_model::schema::{JsonSchema, Problem};
use liftoff_model::spec::JobRef;

use crate::drawer::{
    self, Base, Choice, DrawerModel, FormInput, Offered, QueueView, default_queue, inputs,
    priority_choices, version_choices, wanted_queue,
};
use crate::loads::{self, Session};
use crate::page::{JobTarget, Page, Site, job_link, origin_of, recognise};
use crate::recent::{self, Launched, LaunchedView};
use crate::settings::{Server, Settings, check_server};

/// `chrome.storage.local` keys.
pub const SETTINGS: &str = "settings";
pub const RECENT: &str = "recent";

/// How long a server's identity, queues and schemas are reused.
const CACHE_SECS: i64 = 30;

/// Where the worker keeps things and the browser calls it makes.
#[allow(async_fn_in_trait)] // single-threaded: the wasm worker, or a test
pub trait Host {
    async fn get(&self, key: &str) -> Result<Option<Value>, String>;
    async fn set(&self, key: &str, value: Value) -> Result<(), String>;
    async fn open_options(&self) -> Result<(), String>;
}

/// Who is asking.
#[derive(Clone, Debug)]
pub struct Ctx {
    /// The sender's URL as the browser reports it (not as it claims).
    pub sender_url: String,
    /// An extension page (options, popup), not a content script.
    pub trusted: bool,
    /// Origins that stand in for wandb.ai (tests only; empty otherwise).
    pub test_origins: Vec<String>,
    pub now: OffsetDateTime,
}

/// What is being opened in the drawer.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Target {
    /// A job; `choose` offers the project's other jobs too.
    Job {
        entity: String,
        project: String,
        job: String,
        #[serde(default)]
        version: Option<String>,
        #[serde(default)]
        choose: bool,
    },
    /// Some job of a project (sweep pages, a Jobs tab without job links).
    Project { entity: String, project: String },
    /// Relaunch a run; `job` (`entity/project/name`) when the user chose it.
    Run {
        entity: String,
        project: String,
        run: String,
        #[serde(default)]
        job: Option<String>,
    },
}

/// A message to the worker.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Request {
    // From content scripts: `url` is the page's location.
    Page {
        url: String,
    },
    Links {
        url: String,
        hrefs: Vec<String>,
    },
    Drawer {
        url: String,
        target: Target,
        /// The queue to choose (`entity/name`), when the drawer is opened
        /// again for another job.
        #[serde(default)]
        queue: Option<String>,
        /// Texts typed in the form before, kept where the new job has the
        /// same fields.
        #[serde(default)]
        kept: Vec<(String, String)>,
    },
    Inputs {
        url: String,
        job: String,
        version: String,
        #[serde(default)]
        base: Option<Map<String, Value>>,
        #[serde(default)]
        kept: Vec<(String, String)>,
    },
    /// Carry the overrides between the form and the JSON editor.
    Switch {
        url: String,
        input: FormInput,
        to_json: bool,
    },
    Check {
        url: String,
        input: FormInput,
        #[serde(default)]
        base: Option<Map<String, Value>>,
    },
    Launch {
        url: String,
        input: FormInput,
        #[serde(default)]
        base: Option<Map<String, Value>>,
    },
    Chips {
        url: String,
        jobs: Vec<String>,
    },
    Recent {
        url: String,
    },
    OpenOptions,
    // From the extension's own pages.
    Settings,
    AddServer {
        base_url: String,
        api_key: String,
    },
    /// Whether a saved server answers its key (the options page's Status).
    ServerStatus {
        base_url: String,
    },
    RemoveServer {
        base_url: String,
    },
    /// Put back the server removed last (with its key and its wandb.ai role).
    UndoRemove,
    UseForWandb {
        base_url: String,
    },
    SaveDefaults {
        entity: String,
        queue: String,
    },
    Popup,
}

/// What the drawer says when the options' default entity or queue is not
/// among the queues the viewer can launch to (it falls back to the first).
fn defaults_not_found(
    settings: &Settings,
    session: &Session,
    queues: &[QueueChoice],
) -> Option<String> {
    if let Some(e) = &settings.default_entity
        && !session.viewer.entities().contains(e)
        && !queues.iter().any(|q| &q.entity == e)
    {
        return Some(format!(
            "Your default entity \"{e}\" (in the extension's options) was not found, or has no queues you may see: change it in the options."
        ));
    }
    let name = settings.default_queue.as_deref()?;
    let found = wanted_queue(queues, settings.default_entity.as_deref(), Some(name)).is_some();
    (!found && !queues.is_empty()).then(|| {
        format!(
            "Your default queue \"{name}\" (in the extension's options) is not one of your queues, so the first is chosen: change it in the options."
        )
    })
}

/// A refusal: a message for people, and the fields it is about.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Failure {
    pub error: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Problem>,
    /// The extension's options can fix it (a key, a server's address).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub in_options: bool,
    /// Who asked where ("admin on http://…"), once the drawer knows it: a
    /// job that is not found may be on another server or for another user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub who: Option<String>,
}

fn fail(message: impl Into<String>) -> Failure {
    Failure {
        error: message.into(),
        problems: vec![],
        in_options: false,
        who: None,
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure {
            in_options: matches!(e, Error::Unauthorized { .. } | Error::Network { .. }),
            ..fail(say(&e))
        }
    }
}

/// An error as the extension says it: the web app's words, and where to
/// fix a key.
pub fn say(e: &Error) -> String {
    match e {
        Error::Unauthorized { .. } => format!(
            "{} Change it in the Liftoff extension's options.",
            explain(e)
        ),
        _ => explain(e),
    }
}

/// Said when no server is set up yet.
pub const NO_SERVER: &str = "No server is set up yet: open the Liftoff extension's options and add one (base URL and API key).";

/// Reused reads, per server, for [`CACHE_SECS`].
#[derive(Default)]
pub struct Cache {
    sessions: RefCell<HashMap<String, (Session, OffsetDateTime)>>,
    queues: RefCell<HashMap<String, (Offered, OffsetDateTime)>>,
    schemas: RefCell<HashMap<String, (Option<JsonSchema>, OffsetDateTime)>>,
    /// A job version's `wandb-job.json` (`None`: it could not be read).
    specs: RefCell<HashMap<String, (Option<JobSpec>, OffsetDateTime)>>,
    /// The server the options page removed last and whether wandb.ai pages
    /// used it, for its Undo: in memory only, gone with any other change of
    /// the settings (or when the worker stops).
    removed: RefCell<Option<(Server, bool)>>,
}

impl Cache {
    fn fresh<V: Clone>(
        map: &RefCell<HashMap<String, (V, OffsetDateTime)>>,
        key: &str,
        now: OffsetDateTime,
    ) -> Option<V> {
        map.borrow()
            .get(key)
            .filter(|(_, at)| (now - *at).whole_seconds() < CACHE_SECS)
            .map(|(v, _)| v.clone())
    }

    pub fn clear(&self) {
        self.sessions.borrow_mut().clear();
        self.queues.borrow_mut().clear();
        self.schemas.borrow_mut().clear();
        self.specs.borrow_mut().clear();
        self.removed.borrow_mut().take();
    }
}

/// The job a [`JobRef`] names (every version), from the page's server.
async fn read_job<T: Transport>(
    reach: &Reach<T>,
    session: &Session,
    job: &JobRef,
) -> Result<Job, liftoff_client::Error> {
    loads::job(
        &reach.client,
        session.caps,
        &job.entity,
        &job.project,
        &job.name,
    )
    .await
}

/// The server a content script's page talks to, with a client for it.
struct Reach<T> {
    server: Server,
    client: Client<T>,
}

/// Everything one request needs.
pub struct App<'a, H, T> {
    pub host: &'a H,
    pub transport: T,
    pub cache: &'a Cache,
    pub ctx: Ctx,
}

impl<H: Host, T: Transport + Clone> App<'_, H, T> {
    /// Answer one request: `{"ok": ...}` or `{"error": ..., "problems": [...]}`.
    pub async fn handle(&self, request: Request) -> Value {
        match self.dispatch(request).await {
            Ok(v) => json!({ "ok": v }),
            Err(f) => serde_json::to_value(f).unwrap_or(Value::Null),
        }
    }

    async fn dispatch(&self, request: Request) -> Result<Value, Failure> {
        use Request as R;
        let trusted_only = matches!(
            request,
            R::Settings
                | R::AddServer { .. }
                | R::ServerStatus { .. }
                | R::RemoveServer { .. }
                | R::UndoRemove
                | R::UseForWandb { .. }
                | R::SaveDefaults { .. }
                | R::Popup
        );
        if trusted_only && !self.ctx.trusted {
            return Err(fail("only the extension's own pages may ask for this"));
        }
        match request {
            R::Page { url } => self.page(&url).await,
            R::Links { url, hrefs } => self.links(&url, &hrefs).await,
            R::Drawer {
                url,
                target,
                queue,
                kept,
            } => to_value(self.drawer(&url, target, queue, &kept).await?),
            R::Inputs {
                url,
                job,
                version,
                base,
                kept,
            } => {
                let schema = self.version_schema(&url, &job, &version).await?;
                to_value(inputs(schema.as_ref(), base.as_ref(), &kept))
            }
            R::Switch {
                url,
                input,
                to_json,
            } => {
                let schema = self
                    .version_schema(&url, &input.job, &input.version)
                    .await?;
                Ok(drawer::switch(schema.as_ref(), &input, to_json))
            }
            R::Check { url, input, base } => self.check(&url, &input, base.as_ref(), false).await,
            R::Launch { url, input, base } => self.check(&url, &input, base.as_ref(), true).await,
            R::Chips { url, jobs } => self.chips(&url, &jobs).await,
            R::Recent { url } => self.recent_items(&url).await,
            R::OpenOptions => {
                self.host.open_options().await.map_err(fail)?;
                Ok(Value::Null)
            }
            R::Settings => to_value(self.settings().await?.view()),
            R::AddServer { base_url, api_key } => self.add_server(&base_url, &api_key).await,
            R::ServerStatus { base_url } => {
                let s = self.settings().await?;
                let server = s
                    .server(&base_url)
                    .ok_or_else(|| fail(format!("no server {base_url} is set up")))?;
                Ok(match loads::session(&self.client_for(server)).await {
                    Ok(session) => json!({ "who": session.viewer.username }),
                    // (This page is where a key is changed: not `say`.)
                    Err(e) => json!({ "error": explain(&e) }),
                })
            }
            R::RemoveServer { base_url } => {
                let mut s = self.settings().await?;
                let removed = s.server(&base_url).cloned().map(|server| {
                    let for_wandb = s.wandb_server() == Some(&server);
                    (server, for_wandb)
                });
                s.remove_server(&base_url);
                self.save_settings(&s).await?;
                *self.cache.removed.borrow_mut() = removed;
                to_value(s.view())
            }
            R::UndoRemove => {
                let Some((server, for_wandb)) = self.cache.removed.borrow_mut().take() else {
                    return Err(fail(
                        "There is nothing to put back: the settings changed since, or the extension restarted.",
                    ));
                };
                let mut s = self.settings().await?;
                if s.server(&server.base_url).is_some() {
                    return Err(fail(format!(
                        "{} is saved again already: nothing to put back.",
                        server.base_url
                    )));
                }
                if for_wandb {
                    s.wandb_server = Some(server.base_url.clone());
                }
                s.put_server(server);
                self.save_settings(&s).await?;
                to_value(s.view())
            }
            R::UseForWandb { base_url } => {
                let mut s = self.settings().await?;
                if s.server(&base_url).is_none() {
                    return Err(fail(format!("no server {base_url} is set up")));
                }
                s.wandb_server = Some(base_url);
                self.save_settings(&s).await?;
                to_value(s.view())
            }
            R::SaveDefaults { entity, queue } => {
                let mut s = self.settings().await?;
                s.set_defaults(&entity, &queue)
                    .map_err(|problems| Failure {
                        problems,
                        ..fail("Check the defaults.")
                    })?;
                self.save_settings(&s).await?;
                to_value(s.view())
            }
            R::Popup => self.popup().await,
        }
    }

    async fn settings(&self) -> Result<Settings, Failure> {
        let stored = self.host.get(SETTINGS).await.map_err(fail)?;
        Ok(stored
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default())
    }

    async fn save_settings(&self, s: &Settings) -> Result<(), Failure> {
        self.cache.clear();
        self.host
            .set(SETTINGS, serde_json::to_value(s).unwrap_or_default())
            .await
            .map_err(fail)
    }

    async fn recent(&self) -> Vec<Launched> {
        self.host
            .get(RECENT)
            .await
            .ok()
            .flatten()
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default()
    }

    async fn save_recent(&self, list: &[Launched]) {
        // Losing the list of recent items loses only the chips.
        let _ = self
            .host
            .set(RECENT, serde_json::to_value(list).unwrap_or_default())
            .await;
    }

    /// The page's site, if the extension works there. A content script
    /// speaks only for its own page's origin.
    async fn site(&self, url: &str) -> Result<(Settings, Option<Site>), Failure> {
        if !self.ctx.trusted && origin_of(url) != origin_of(&self.ctx.sender_url) {
            return Err(fail("a page may only ask about itself"));
        }
        let settings = self.settings().await?;
        let site = settings.site_of(url, &self.ctx.test_origins);
        Ok((settings, site))
    }

    async fn reach(&self, url: &str) -> Result<Reach<T>, Failure> {
        let (settings, site) = self.site(url).await?;
        let Some(site) = site else {
            return Err(fail("the Liftoff extension does not work on this page"));
        };
        let server = settings
            .server_for(site, url)
            .ok_or_else(|| Failure {
                in_options: true,
                ..fail(NO_SERVER)
            })?
            .clone();
        let client = self.client_for(&server);
        Ok(Reach { server, client })
    }

    /// A client for one of the saved servers, with its key.
    fn client_for(&self, server: &Server) -> Client<T> {
        Client::new(
            self.transport.clone(),
            Credentials::new(server.base_url.clone(), server.api_key.clone()),
        )
    }

    async fn session(&self, reach: &Reach<T>) -> Result<Session, Failure> {
        let key = reach.server.base_url.clone();
        if let Some(s) = Cache::fresh(&self.cache.sessions, &key, self.ctx.now) {
            return Ok(s);
        }
        let s = loads::session(&reach.client).await?;
        self.cache
            .sessions
            .borrow_mut()
            .insert(key, (s.clone(), self.ctx.now));
        Ok(s)
    }

    /// The viewer's entities, and the default entity's when it is another.
    async fn entities(&self, session: &Session) -> Result<Vec<String>, Failure> {
        let mut list = session.viewer.entities();
        if let Some(e) = self.settings().await?.default_entity
            && !list.contains(&e)
        {
            list.push(e);
        }
        Ok(list)
    }

    async fn queues(
        &self,
        reach: &Reach<T>,
        session: &Session,
        fresh: bool,
    ) -> Result<Offered, Failure> {
        let key = reach.server.base_url.clone();
        if !fresh && let Some(q) = Cache::fresh(&self.cache.queues, &key, self.ctx.now) {
            return Ok(q);
        }
        let entities = self.entities(session).await?;
        let now = self.ctx.now;
        let q = match loads::queues(&reach.client, session.caps, &entities, now).await {
            // The options' default entity may be gone: the viewer's own
            // entities still have queues (the drawer says what is wrong).
            Err(Error::NotFound { .. }) if entities.len() > session.viewer.entities().len() => {
                loads::queues(&reach.client, session.caps, &session.viewer.entities(), now).await?
            }
            other => other?,
        };
        self.cache
            .queues
            .borrow_mut()
            .insert(key, (q.clone(), self.ctx.now));
        Ok(q)
    }

    /// The input schema of a job version (`entity/project/name`, alias), as
    /// the page's server has it.
    async fn version_schema(
        &self,
        url: &str,
        job: &str,
        version: &str,
    ) -> Result<Option<JsonSchema>, Failure> {
        let reach = self.reach(url).await?;
        let session = self.session(&reach).await?;
        let job = parse_job(job, version)?;
        self.schema(&reach, &session, &job, None).await
    }

    async fn schema(
        &self,
        reach: &Reach<T>,
        session: &Session,
        job: &JobRef,
        known: Option<&Job>,
    ) -> Result<Option<JsonSchema>, Failure> {
        let key = format!("{} {job}", reach.server.base_url);
        if let Some(s) = Cache::fresh(&self.cache.schemas, &key, self.ctx.now) {
            return Ok(s);
        }
        let fetched;
        let known = match known {
            Some(j) => Some(j),
            None if session.caps.job_runs => {
                fetched = read_job(reach, session, job).await?;
                Some(&fetched)
            }
            None => None,
        };
        let s = loads::schema(&reach.client, session.caps, job, known).await?;
        self.cache
            .schemas
            .borrow_mut()
            .insert(key, (s.clone(), self.ctx.now));
        Ok(s)
    }

    /// The `wandb-job.json` of a job version, to know which queues can run
    /// it; `None` when it cannot be read (the server still checks the push).
    async fn job_spec(
        &self,
        reach: &Reach<T>,
        session: &Session,
        job: &JobRef,
        known: Option<&Job>,
    ) -> Option<JobSpec> {
        let key = format!("{} {job}", reach.server.base_url);
        if let Some(s) = Cache::fresh(&self.cache.specs, &key, self.ctx.now) {
            return s;
        }
        let fetched;
        let known = match known {
            Some(j) => Some(j),
            None => {
                fetched = read_job(reach, session, job).await.ok();
                fetched.as_ref()
            }
        };
        let spec = match known.and_then(|j| j.version(&job.alias)) {
            Some(version) => liftoff_client::loads::job_spec(
                &reach.client,
                session.caps,
                &job.entity,
                &job.project,
                &job.name,
                version,
            )
            .await
            .ok(),
            None => None,
        };
        self.cache
            .specs
            .borrow_mut()
            .insert(key, (spec.clone(), self.ctx.now));
        spec
    }

    async fn page(&self, url: &str) -> Result<Value, Failure> {
        let (settings, site) = self.site(url).await?;
        let Some(site) = site else {
            return Ok(json!({ "site": null, "page": Page::Other, "connected": false }));
        };
        Ok(json!({
            "site": site,
            "page": recognise(site, url),
            "connected": settings.server_for(site, url).is_some(),
        }))
    }

    async fn links(&self, url: &str, hrefs: &[String]) -> Result<Value, Failure> {
        let (_, site) = self.site(url).await?;
        let targets: Vec<Option<JobTarget>> = match site {
            Some(site) => hrefs.iter().map(|h| job_link(site, url, h)).collect(),
            None => hrefs.iter().map(|_| None).collect(),
        };
        Ok(json!({ "targets": targets }))
    }

    async fn drawer(
        &self,
        url: &str,
        target: Target,
        queue: Option<String>,
        kept: &[(String, String)],
    ) -> Result<DrawerModel, Failure> {
        let reach = self.reach(url).await?;
        let session = self.session(&reach).await?;
        let who = format!("{} on {}", session.viewer.username, reach.server.base_url);
        self.drawer_as(&reach, &session, &who, target, queue, kept)
            .await
            .map_err(|f| Failure {
                who: Some(who.clone()),
                ..f
            })
    }

    async fn drawer_as(
        &self,
        reach: &Reach<T>,
        session: &Session,
        who: &str,
        target: Target,
        mut queue: Option<String>,
        kept: &[(String, String)],
    ) -> Result<DrawerModel, Failure> {
        let c = &reach.client;
        let caps = session.caps;
        let (entity, project) = match &target {
            Target::Job {
                entity, project, ..
            }
            | Target::Project { entity, project }
            | Target::Run {
                entity, project, ..
            } => (entity.clone(), project.clone()),
        };
        let mut notice = None;
        let mut base = None;
        let mut offered: Vec<Job> = vec![];
        let (job, version, title) = match target {
            Target::Job {
                job,
                version,
                choose,
                ..
            } => {
                let j = loads::job(c, caps, &entity, &project, &job).await?;
                if choose {
                    offered = loads::jobs(c, caps, &entity, &project).await?;
                }
                let title = format!("Launch {}", j.name);
                (j, version.unwrap_or_else(|| "latest".into()), title)
            }
            Target::Project { .. } => {
                offered = loads::jobs(c, caps, &entity, &project).await?;
                let Some(first) = offered.first().cloned() else {
                    return Err(fail(format!(
                        "No jobs in {entity}/{project} yet: create one with \"liftoff job create\" or \"wandb job create\"."
                    )));
                };
                (first, "latest".to_owned(), "Launch a job".to_owned())
            }
            Target::Run { run, job, .. } => {
                let b = loads::run_base(c, &entity, &project, &run).await?;
                let title = format!("Relaunch {} with edits", b.title);
                let all = loads::jobs(c, caps, &entity, &project)
                    .await
                    .unwrap_or_default();
                let origin = loads::run_origin(c, caps, &all, &entity, &project, &run).await;
                // A relaunch goes to the run's queue unless told otherwise.
                queue = queue.or(origin.queue);
                let chosen = match job {
                    Some(path) => Some(parse_job(&path, "latest")?),
                    None => origin.job,
                };
                let found = match &chosen {
                    Some(j) => match all
                        .iter()
                        .find(|x| x.name == j.name && j.project == project)
                    {
                        Some(x) => Some(x.clone()),
                        None => loads::job(c, caps, &j.entity, &j.project, &j.name)
                            .await
                            .ok(),
                    },
                    None => None,
                };
                base = Some(b);
                match (found, chosen) {
                    (Some(j), Some(r)) => {
                        offered = all;
                        (j, r.alias, title)
                    }
                    _ => {
                        let Some(first) = all.first().cloned() else {
                            return Err(fail(format!(
                                "Liftoff could not tell which job started run {run}, and {entity}/{project} has no jobs to choose from."
                            )));
                        };
                        notice = Some(format!(
                            "Liftoff could not tell which job started run {run}: choose it below. The run's config is filled in."
                        ));
                        offered = all;
                        (first, "latest".to_owned(), title)
                    }
                }
            }
        };
        let job_ref = JobRef {
            entity: entity.clone(),
            project: project.clone(),
            name: job.name.clone(),
            alias: version.clone(),
        };
        let schema = self.schema(reach, session, &job_ref, Some(&job)).await?;
        let spec = self.job_spec(reach, session, &job_ref, Some(&job)).await;
        let job_path = format!("{entity}/{project}/{}", job.name);
        let fit = spec.as_ref().map(|s| (job_path.as_str(), s));
        let choice = self.queues(reach, session, true).await?;
        let queues = &choice.queues;
        let settings = self.settings().await?;
        if let Some(stale) = defaults_not_found(&settings, session, queues) {
            notice = Some(match notice {
                Some(n) => format!("{n} {stale}"),
                None => stale,
            });
        }
        // A picker of one job is no choice, unless the run's job is unknown.
        if offered.len() < 2 && notice.is_none() {
            offered.clear();
        }
        Ok(DrawerModel {
            title,
            who: who.to_owned(),
            job: Some(job_path.clone()),
            jobs: offered
                .iter()
                .map(|j| Choice {
                    value: format!("{entity}/{project}/{}", j.name),
                    label: j.name.clone(),
                })
                .collect(),
            versions: version_choices(&job),
            version,
            inputs: inputs(
                schema.as_ref(),
                base.as_ref().map(|b: &Base| &b.config),
                kept,
            ),
            queue: queue
                .filter(|k| queues.iter().any(|q| q.key() == *k))
                .unwrap_or_else(|| {
                    default_queue(
                        &choice,
                        settings.default_entity.as_deref(),
                        settings.default_queue.as_deref(),
                        fit,
                    )
                }),
            no_queues: queues.is_empty().then(|| {
                format!(
                    "No queues yet: create one (\"liftoff queue create NAME -e {} --resource local-process\", or on the Launch page).",
                    session.viewer.entity
                )
            }),
            queues: queues
                .iter()
                .map(|q| QueueView::of(q, fit, choice.active(q)))
                .collect(),
            priorities: priority_choices(),
            entity,
            project,
            base,
            notice,
        })
    }

    async fn check(
        &self,
        url: &str,
        input: &FormInput,
        base: Option<&Map<String, Value>>,
        launch: bool,
    ) -> Result<Value, Failure> {
        let reach = self.reach(url).await?;
        let session = self.session(&reach).await?;
        let (schema, spec) = match parse_job(&input.job, &input.version) {
            Ok(job) => (
                self.schema(&reach, &session, &job, None).await?,
                self.job_spec(&reach, &session, &job, None).await,
            ),
            Err(_) => (None, None), // the check names the bad version
        };
        let offered = self.queues(&reach, &session, launch).await?;
        let queues = &offered.queues;
        let checked = drawer::check(
            input,
            schema.as_ref(),
            spec.as_ref(),
            queues,
            &session.viewer.username,
            base,
        );
        let Some(request) = checked.request.filter(|_| launch) else {
            // The queue select's labels follow the version chosen now.
            let fit = spec.as_ref().map(|s| (input.job.as_str(), s));
            let labels: Map<String, Value> = queues
                .iter()
                .map(|q| {
                    let label = QueueView::label(q, fit, offered.active(q));
                    (q.key(), Value::String(label))
                })
                .collect();
            return Ok(json!({
                "problems": checked.problems,
                "diff": checked.diff,
                "queue_labels": labels,
            }));
        };
        let pushed = loads::push(&reach.client, &request).await?;
        let launched = Launched {
            base_url: reach.server.base_url.clone(),
            queue_entity: request.queue_entity.clone(),
            queue: request.queue.clone(),
            item_id: pushed.item_id,
            job: request.spec.job.clone().unwrap_or_default(),
            entity: input.entity.clone(),
            project: input.project.clone(),
            launched_at: self.ctx.now.unix_timestamp(),
            status: None,
            run: None,
            error: None,
        };
        let mut list = self.recent().await;
        recent::remember(&mut list, launched.clone());
        self.save_recent(&list).await;
        let view = LaunchedView::of(&launched, self.ctx.now);
        Ok(json!({
            "problems": [],
            "message": format!("Launched {} to queue {}.", view.job, view.queue),
            "launched": view,
        }))
    }

    /// Bring the status of the chosen items (those still moving) up to date.
    async fn refresh(
        &self,
        reach: &Reach<T>,
        list: &mut [Launched],
        chosen: &[usize],
    ) -> Result<(), Failure> {
        let moving: Vec<usize> = chosen
            .iter()
            .copied()
            .filter(|i| !list[*i].settled())
            .collect();
        if moving.is_empty() {
            return Ok(());
        }
        let session = self.session(reach).await?;
        for i in moving {
            if let Ok(now) =
                loads::status(&reach.client, session.caps, &list[i], self.ctx.now).await
            {
                list[i].update(now);
            }
        }
        self.save_recent(list).await;
        Ok(())
    }

    /// The newest item launched from here for each job, with its status now.
    async fn chips(&self, url: &str, jobs: &[String]) -> Result<Value, Failure> {
        let reach = self.reach(url).await?;
        let mut list = self.recent().await;
        let found: Vec<(String, usize)> = jobs
            .iter()
            .filter_map(|path| {
                list.iter()
                    .position(|l| l.base_url == reach.server.base_url && l.job_path() == path)
                    .map(|i| (path.clone(), i))
            })
            .collect();
        let chosen: Vec<usize> = found.iter().map(|(_, i)| *i).collect();
        self.refresh(&reach, &mut list, &chosen).await?;
        let chips: Vec<Value> = found
            .iter()
            .map(|(path, i)| json!({ "job_path": path, "item": LaunchedView::of(&list[*i], self.ctx.now) }))
            .collect();
        Ok(json!({ "chips": chips }))
    }

    /// The last items launched from here to this page's server.
    async fn recent_items(&self, url: &str) -> Result<Value, Failure> {
        let reach = self.reach(url).await?;
        let mut list = self.recent().await;
        let chosen: Vec<usize> = (0..list.len())
            .filter(|i| list[*i].base_url == reach.server.base_url)
            .take(10)
            .collect();
        self.refresh(&reach, &mut list, &chosen).await?;
        let items: Vec<LaunchedView> = chosen
            .iter()
            .map(|i| LaunchedView::of(&list[*i], self.ctx.now))
            .collect();
        Ok(json!({ "items": items }))
    }

    async fn add_server(&self, base_url: &str, api_key: &str) -> Result<Value, Failure> {
        let mut settings = self.settings().await?;
        // A blank key keeps the known one (the page never has it to resend).
        let known = settings
            .server(&liftoff_client::auth::normalize_base_url(base_url))
            .map(|s| s.api_key.clone());
        let key = match (api_key.trim(), known) {
            ("", Some(k)) => k,
            (typed, _) => typed.to_owned(),
        };
        let server = check_server(base_url, &key).map_err(|problems| Failure {
            problems,
            ..fail("Check the server's address and key.")
        })?;
        // Known before: with this key (unchanged) or another (replaced).
        let same_key = settings
            .server(&server.base_url)
            .map(|s| s.api_key == server.api_key);
        let (replaced, unchanged) = (same_key == Some(false), same_key == Some(true));
        settings.put_server(server.clone());
        let mut who = None;
        let mut warning = None;
        match loads::session(&self.client_for(&server)).await {
            Ok(s) => {
                let mut said = format!(
                    "Connected to {} as {}{}.",
                    server.base_url,
                    s.viewer.username,
                    if replaced {
                        " (its key was replaced)"
                    } else {
                        ""
                    }
                );
                // wandb.ai pages should not stay on a server that cannot be
                // reached when one that can was just added.
                if let Some(old) = settings.wandb_server().cloned()
                    && old.base_url != server.base_url
                    && loads::session(&self.client_for(&old)).await.is_err()
                {
                    settings.wandb_server = Some(server.base_url.clone());
                    said.push_str(&format!(
                        " wandb.ai pages use it now ({} could not be reached).",
                        old.base_url
                    ));
                }
                who = Some(said);
            }
            // This is the options page: the key is fixed right here.
            Err(e) if unchanged => {
                warning = Some(format!(
                    "Nothing to change (this server and key were saved already), but: {}",
                    explain(&e)
                ));
            }
            Err(e) => warning = Some(format!("Saved, but: {}", explain(&e))),
        }
        self.save_settings(&settings).await?;
        let mut answer = serde_json::to_value(settings.view()).unwrap_or_default();
        if let Some(w) = who {
            answer["who"] = json!(w);
        }
        if let Some(w) = warning {
            answer["warning"] = json!(w);
        }
        Ok(answer)
    }

    async fn popup(&self) -> Result<Value, Failure> {
        let settings = self.settings().await?;
        let mut servers = Vec::new();
        let mut sessions: HashMap<String, Session> = HashMap::new();
        for server in &settings.servers {
            let client = self.client_for(server);
            let mut row = json!({ "base_url": server.base_url, "web_url": server.web_url() });
            match loads::session(&client).await {
                Ok(s) => {
                    row["who"] = json!(s.viewer.username);
                    sessions.insert(server.base_url.clone(), s);
                }
                Err(e) => row["error"] = json!(say(&e)),
            }
            servers.push(row);
        }
        let mut list = self.recent().await;
        let mut changed = false;
        for item in list.iter_mut().take(10).filter(|l| !l.settled()) {
            let (Some(server), Some(session)) = (
                settings.server(&item.base_url),
                sessions.get(&item.base_url),
            ) else {
                continue;
            };
            let client = self.client_for(server);
            if let Ok(now) = loads::status(&client, session.caps, item, self.ctx.now).await {
                item.update(now);
                changed = true;
            }
        }
        if changed {
            self.save_recent(&list).await;
        }
        let items: Vec<LaunchedView> = list
            .iter()
            .take(10)
            .map(|l| LaunchedView::of(l, self.ctx.now))
            .collect();
        Ok(json!({ "servers": servers, "items": items }))
    }
}

fn to_value<V: Serialize>(v: V) -> Result<Value, Failure> {
    serde_json::to_value(v).map_err(|e| fail(e.to_string()))
}

/// `entity/project/name` and a version as a job reference.
fn parse_job(path: &str, version: &str) -> Result<JobRef, Failure> {
    JobRef::parse(&format!("{path}:{version}")).map_err(|e| fail(e.to_string()))
}

#[cfg(test)]
mod tests;
