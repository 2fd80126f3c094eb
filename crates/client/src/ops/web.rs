//! The web app's reads of runs and jobs (Liftoff documents under
//! `documents/liftoff/`). Run pages and project run lists use fields W&B
//! also has; `logLines` and `Artifact.usedBy` are Liftoff's: use those only
//! against a server that advertises Liftoff's features.

use std::borrow::Cow;

use liftoff_model::job::JobMetadata;
use liftoff_model::run::{Run as RunInfo, RunState, unwrap_config};
use serde_json::{Map, Value, json};

use crate::error::Error;
use crate::graphql::{Operation, at, decode_err, nodes, string_at, vars};
use crate::ops::artifacts::Collection;
use crate::ops::{document, operation};

fn s(v: &Value, path: &[&str]) -> Option<String> {
    at(v, path).and_then(Value::as_str).map(str::to_owned)
}

/// A JSONString field holding an object (`config`, `summaryMetrics`,
/// `metadata`): empty when null or blank.
fn json_object(op: &str, v: Option<&Value>) -> Result<Map<String, Value>, Error> {
    match v {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::String(t)) if t.trim().is_empty() => Ok(Map::new()),
        Some(Value::String(t)) => match serde_json::from_str(t) {
            Ok(Value::Object(m)) => Ok(m),
            Ok(Value::Null) => Ok(Map::new()),
            Ok(other) => Err(decode_err(
                op,
                format!("expected a JSON object, got {other}"),
            )),
            Err(e) => Err(decode_err(op, e.to_string())),
        },
        Some(Value::Object(m)) => Ok(m.clone()),
        Some(other) => Err(decode_err(
            op,
            format!("expected a JSON object, got {other}"),
        )),
    }
}

fn state_of(v: &Value) -> RunState {
    RunState::parse(v.get("state").and_then(Value::as_str).unwrap_or("pending"))
}

/// A run as a list shows it; `config` is the plain config (no `{"value"}`
/// wrappers, no `_wandb`).
#[derive(Clone, Debug, PartialEq)]
pub struct RunRow {
    pub id: String,
    pub name: String,
    pub display_name: Option<String>,
    pub state: RunState,
    pub stopped: bool,
    pub created_at: Option<String>,
    pub heartbeat_at: Option<String>,
    pub config: Map<String, Value>,
}

impl RunRow {
    /// The display name, else the run id.
    pub fn title(&self) -> &str {
        self.display_name.as_deref().unwrap_or(&self.name)
    }
}

fn run_row(op: &str, n: &Value) -> Result<RunRow, Error> {
    Ok(RunRow {
        id: string_at(op, n, &["id"])?,
        name: string_at(op, n, &["name"])?,
        display_name: s(n, &["displayName"]).filter(|d| !d.is_empty()),
        state: state_of(n),
        stopped: at(n, &["stopped"])
            .and_then(Value::as_bool)
            .unwrap_or(false),
        created_at: s(n, &["createdAt"]),
        heartbeat_at: s(n, &["heartbeatAt"]),
        config: unwrap_config(&json_object(op, n.get("config"))?),
    })
}

/// A page of a project's runs, newest first.
#[derive(Clone, Debug, PartialEq)]
pub struct RunPage {
    pub runs: Vec<RunRow>,
    pub end_cursor: Option<String>,
    pub has_next_page: bool,
}

/// `query LiftoffProjectRuns`: a project's runs, newest first.
#[derive(Clone, Debug)]
pub struct LiftoffProjectRuns {
    pub entity: String,
    pub project: String,
    pub first: i64,
    pub after: Option<String>,
}
operation!(LiftoffProjectRuns, "LiftoffProjectRuns", "liftoff/LiftoffProjectRuns", typed = true, output = RunPage,
vars(self) {
    vars([("entityName", json!(self.entity)), ("projectName", json!(self.project)),
          ("first", json!(self.first)), ("after", json!(self.after))])
},
decode(self, data) {
    // A project that does not exist yet has no runs.
    let Some(conn) = at(&data, &["project", "runs"]) else {
        return Ok(RunPage { runs: vec![], end_cursor: None, has_next_page: false });
    };
    Ok(RunPage {
        runs: nodes(Some(conn)).into_iter().map(|n| run_row("LiftoffProjectRuns", n)).collect::<Result<_, _>>()?,
        end_cursor: s(conn, &["pageInfo", "endCursor"]),
        has_next_page: at(conn, &["pageInfo", "hasNextPage"]).and_then(Value::as_bool).unwrap_or(false),
    })
});

/// `query LiftoffProjects`: the names of an entity's projects, newest
/// first (W&B's `models`, which W&B servers answer too), without the
/// launch project `model-registry`, which holds queues, not runs.
#[derive(Clone, Debug)]
pub struct LiftoffProjects {
    pub entity: String,
    pub first: i64,
}
operation!(LiftoffProjects, "LiftoffProjects", "liftoff/LiftoffProjects", typed = true, output = Vec<String>,
vars(self) {
    vars([("entityName", json!(self.entity)), ("first", json!(self.first))])
},
decode(self, data) {
    Ok(nodes(at(&data, &["models"]))
        .into_iter()
        .filter_map(|n| s(n, &["name"]))
        .filter(|name| name != liftoff_model::LAUNCH_PROJECT)
        .collect())
});

/// A file of a run or an artifact, with its download URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileLink {
    pub name: String,
    pub size: Option<i64>,
    pub url: Option<String>,
}

fn file_links(conn: Option<&Value>) -> Vec<FileLink> {
    nodes(conn)
        .into_iter()
        .filter_map(|n| {
            Some(FileLink {
                name: s(n, &["name"])?,
                size: at(n, &["sizeBytes"]).and_then(Value::as_i64),
                url: s(n, &["directUrl"]),
            })
        })
        .collect()
}

/// Everything the run page shows but the history and the console.
#[derive(Clone, Debug, PartialEq)]
pub struct RunDetail {
    /// `config` is the plain config.
    pub run: RunInfo,
    pub host: Option<String>,
    pub program: Option<String>,
    pub job_type: Option<String>,
    pub user: Option<String>,
    pub history_line_count: i64,
    /// Console lines: the run's own, or the ones its agent captured.
    pub log_line_count: i64,
    /// History keys with numbers, in name order (`_step` and friends left out).
    pub metric_keys: Vec<String>,
    pub last_step: Option<i64>,
    pub files: Vec<FileLink>,
    /// The job version the run was made from (a used artifact of type `job`).
    pub job: Option<JobVersionRef>,
    /// The queue item that started the run (Liftoff servers say).
    pub launched: Option<LaunchedFrom>,
}

/// The queue item a run was started from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LaunchedFrom {
    /// The queue's entity.
    pub entity: String,
    pub queue: String,
    pub item_id: String,
    /// The spec's `job` (`entity/project/name:alias`), when it ran one.
    pub job: Option<String>,
    /// Why the item failed, in one line (`stage stage: ...`), when it did.
    pub error: Option<String>,
}

fn launched_from(item: Option<&Value>) -> Option<LaunchedFrom> {
    let item = item?;
    // A spec that does not parse loses only the job, not the queue.
    let spec = match item.get("runSpec") {
        Some(Value::String(text)) => serde_json::from_str(text).unwrap_or(Value::Null),
        Some(v) => v.clone(),
        None => Value::Null,
    };
    Some(LaunchedFrom {
        entity: s(item, &["runQueue", "entityName"])?,
        queue: s(item, &["runQueue", "name"])?,
        item_id: s(item, &["id"])?,
        job: s(&spec, &["job"]).filter(|j| !j.is_empty()),
        error: s(item, &["error", "message"]).map(|m| {
            let stage = s(item, &["error", "stage"]).unwrap_or_else(|| "run".into());
            format!("{stage} stage: {}", crate::view::items::error_line(&m))
        }),
    })
}

/// A job version a run used: where its page is, and which version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobVersionRef {
    pub entity: String,
    pub project: String,
    pub name: String,
    /// `v0`, `v1`, ...
    pub version: String,
}

/// The first used artifact of type `job` in an `inputArtifacts` connection.
fn used_job(conn: Option<&Value>) -> Option<JobVersionRef> {
    let edges = conn?.get("edges")?.as_array()?;
    edges.iter().filter_map(|e| e.get("node")).find_map(|n| {
        if at(n, &["artifactType", "name"])?.as_str()? != "job" {
            return None;
        }
        let seq = n.get("artifactSequence")?;
        Some(JobVersionRef {
            entity: s(seq, &["project", "entityName"])?,
            project: s(seq, &["project", "name"])?,
            name: s(seq, &["name"])?,
            version: format!("v{}", at(n, &["versionIndex"])?.as_i64()?),
        })
    })
}

impl RunDetail {
    /// A run as W&B's public `Run` read gives it: charts are offered for the
    /// summary's numbers; no console size, no files.
    pub fn from_run(run: RunInfo) -> Self {
        let mut metric_keys: Vec<String> = run
            .summary
            .iter()
            .filter(|(k, v)| !k.starts_with('_') && v.is_number())
            .map(|(k, _)| k.clone())
            .collect();
        liftoff_model::sort::sort(&mut metric_keys);
        let last_step = run.summary.get("_step").and_then(Value::as_i64);
        let mut run = run;
        run.config = unwrap_config(&run.config);
        Self {
            run,
            host: None,
            program: None,
            job_type: None,
            user: None,
            history_line_count: 0,
            log_line_count: 0,
            metric_keys,
            last_step,
            files: vec![],
            job: None,
            launched: None,
        }
    }
}

/// The numeric keys of a `historyKeys` answer (`{"lastStep", "keys": {k:
/// {"typeCounts": [{"type", "count"}]}}}`), without `_`-keys, and the last step.
pub fn metric_keys(history_keys: &Value) -> (Vec<String>, Option<i64>) {
    let mut keys: Vec<String> = history_keys
        .get("keys")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter(|(k, _)| !k.starts_with('_'))
                .filter(|(_, v)| {
                    v.get("typeCounts")
                        .and_then(Value::as_array)
                        .is_some_and(|c| c.iter().any(|t| t.get("type") == Some(&json!("number"))))
                })
                .map(|(k, _)| k.clone())
                .collect()
        })
        .unwrap_or_default();
    liftoff_model::sort::sort(&mut keys);
    let last = history_keys
        .get("lastStep")
        .and_then(Value::as_i64)
        .filter(|s| *s >= 0);
    (keys, last)
}

/// `query LiftoffRunPage`: a run's state, config, summary, keys and files,
/// and the queue item that started it where the server knows it.
#[derive(Clone, Debug)]
pub struct LiftoffRunPage {
    pub entity: String,
    pub project: String,
    pub run: String,
    /// Ask for `Run.launchItem` (`LIFTOFF_RUN_LAUNCH_ITEM`): a Liftoff
    /// server from before it would refuse the whole query.
    pub launch_item: bool,
}

impl Operation for LiftoffRunPage {
    type Output = RunDetail;
    const NAME: &'static str = "LiftoffRunPage";
    const TYPED: bool = true;
    fn document(&self) -> Cow<'static, str> {
        Cow::Borrowed(if self.launch_item {
            document!("liftoff/LiftoffRunPage")
        } else {
            document!("liftoff/LiftoffRunPage--no-launch-item")
        })
    }
    fn variables(&self) -> Option<Value> {
        vars([
            ("entityName", json!(self.entity)),
            ("projectName", json!(self.project)),
            ("runName", json!(self.run)),
        ])
    }
    fn decode(&self, data: Value) -> Result<RunDetail, Error> {
        const OP: &str = "LiftoffRunPage";
        let r = at(&data, &["project", "run"]).ok_or_else(|| Error::NotFound {
            what: format!("run {}/{}/{}", self.entity, self.project, self.run),
        })?;
        let count = |k: &str| at(r, &[k]).and_then(Value::as_i64).unwrap_or(0);
        let history_keys = match r.get("historyKeys") {
            Some(Value::String(t)) => serde_json::from_str(t).unwrap_or(Value::Null),
            Some(v) => v.clone(),
            None => Value::Null,
        };
        let (metric_keys, last_step) = metric_keys(&history_keys);
        Ok(RunDetail {
            run: RunInfo {
                id: string_at(OP, r, &["id"])?,
                name: string_at(OP, r, &["name"])?,
                display_name: s(r, &["displayName"]).filter(|d| !d.is_empty()),
                state: state_of(r),
                stopped: at(r, &["stopped"])
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                created_at: s(r, &["createdAt"]),
                heartbeat_at: s(r, &["heartbeatAt"]),
                project: Some(self.project.clone()),
                entity: Some(self.entity.clone()),
                config: unwrap_config(&json_object(OP, r.get("config"))?),
                summary: json_object(OP, r.get("summaryMetrics"))?,
                exit_code: at(r, &["exitcode"]).and_then(Value::as_i64),
            },
            host: s(r, &["host"]).filter(|h| !h.is_empty()),
            program: s(r, &["program"]).filter(|p| !p.is_empty()),
            job_type: s(r, &["jobType"]).filter(|j| !j.is_empty()),
            user: s(r, &["user", "username"]),
            history_line_count: count("historyLineCount"),
            log_line_count: count("logLineCount").max(count("agentLogLineCount")),
            metric_keys,
            last_step,
            files: file_links(r.get("files")),
            job: used_job(r.get("inputArtifacts")),
            launched: launched_from(r.get("launchItem")),
        })
    }
}

/// `query LiftoffRunHistory`: up to `samples` history rows (the server
/// downsamples), each with `_step`, `_timestamp` and the asked `keys`.
#[derive(Clone, Debug)]
pub struct LiftoffRunHistory {
    pub entity: String,
    pub project: String,
    pub run: String,
    pub keys: Vec<String>,
    pub samples: i64,
}
operation!(LiftoffRunHistory, "LiftoffRunHistory", "liftoff/LiftoffRunHistory", typed = true, output = Vec<Map<String, Value>>,
vars(self) {
    let mut keys = vec!["_step".to_owned(), "_timestamp".to_owned()];
    keys.extend(self.keys.iter().filter(|k| !k.starts_with('_')).cloned());
    let spec = json!({"keys": keys, "samples": self.samples}).to_string();
    vars([("entityName", json!(self.entity)), ("projectName", json!(self.project)), ("runName", json!(self.run)),
          ("specs", json!([spec]))])
},
decode(self, data) {
    let r = at(&data, &["project", "run"]).ok_or_else(|| Error::NotFound {
        what: format!("run {}/{}/{}", self.entity, self.project, self.run),
    })?;
    let rows = r.get("sampledHistory").and_then(Value::as_array).and_then(|l| l.first()).cloned().unwrap_or(json!([]));
    // Rows are objects, or JSON strings of objects on some servers.
    Ok(rows.as_array().map(|l| l.iter().filter_map(|row| match row {
        Value::Object(m) => Some(m.clone()),
        Value::String(t) => liftoff_model::json::parse(t).ok(),
        _ => None,
    }).collect()).unwrap_or_default())
});

/// A page of console lines and the run's state (to stop following it).
#[derive(Clone, Debug, PartialEq)]
pub struct LogPage {
    pub state: RunState,
    /// `(line number, text)`, in order.
    pub lines: Vec<(i64, String)>,
}

/// `query LiftoffRunLogLines`: console lines from `offset`.
#[derive(Clone, Debug)]
pub struct LiftoffRunLogLines {
    pub entity: String,
    pub project: String,
    pub run: String,
    pub offset: i64,
    pub limit: i64,
}
operation!(LiftoffRunLogLines, "LiftoffRunLogLines", "liftoff/LiftoffRunLogLines", typed = true, output = LogPage,
vars(self) {
    vars([("entityName", json!(self.entity)), ("projectName", json!(self.project)), ("runName", json!(self.run)),
          ("offset", json!(self.offset)), ("limit", json!(self.limit))])
},
decode(self, data) {
    let r = at(&data, &["project", "run"]).ok_or_else(|| Error::NotFound {
        what: format!("run {}/{}/{}", self.entity, self.project, self.run),
    })?;
    let lines = r.get("logLines").and_then(Value::as_array).map(|l| l.iter().filter_map(|x| {
        Some((x.get("lineNo")?.as_i64()?, x.get("text")?.as_str()?.to_owned()))
    }).collect()).unwrap_or_default();
    Ok(LogPage { state: state_of(r), lines })
});

/// A run created from a job (`Artifact.usedBy`).
#[derive(Clone, Debug, PartialEq)]
pub struct JobRun {
    pub run: RunRow,
    pub entity: String,
    pub project: String,
}

/// One version of a job.
#[derive(Clone, Debug, PartialEq)]
pub struct JobVersion {
    pub id: String,
    pub version_index: i64,
    pub created_at: Option<String>,
    pub description: Option<String>,
    pub metadata: JobMetadata,
    /// `latest`, `v3`, ...
    pub aliases: Vec<String>,
    pub runs: Vec<JobRun>,
}

impl JobVersion {
    /// `v3`.
    pub fn version(&self) -> String {
        format!("v{}", self.version_index)
    }

    /// `v3`, with its other aliases: `v3 (latest, best)`.
    pub fn label(&self) -> String {
        let version = self.version();
        let others: Vec<&str> = self
            .aliases
            .iter()
            .map(String::as_str)
            .filter(|a| *a != version)
            .collect();
        if others.is_empty() {
            version
        } else {
            format!("{version} ({})", others.join(", "))
        }
    }
}

/// A version select's (value, label) pairs: `latest (v3)`, then each
/// version with its other aliases (`v3 (best)`). The web app's drawer and
/// the extension's.
pub fn version_options(job: &Job) -> Vec<(String, String)> {
    let latest = match job
        .versions
        .iter()
        .find(|v| v.aliases.iter().any(|a| a == "latest"))
    {
        Some(v) => format!("latest ({})", v.version()),
        None => "latest".to_owned(),
    };
    let mut options = vec![("latest".to_owned(), latest)];
    options.extend(job.versions.iter().map(|v| {
        let version = v.version();
        let extra: Vec<&str> = v
            .aliases
            .iter()
            .map(String::as_str)
            .filter(|a| *a != version && *a != "latest")
            .collect();
        let label = if extra.is_empty() {
            version.clone()
        } else {
            format!("{version} ({})", extra.join(", "))
        };
        (version, label)
    }));
    options
}

/// A job (an artifact collection of type `job`), newest version first.
#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub created_at: Option<String>,
    pub versions: Vec<JobVersion>,
}

impl Job {
    /// The version tagged `latest`, else the newest.
    pub fn latest(&self) -> Option<&JobVersion> {
        self.versions
            .iter()
            .find(|v| v.aliases.iter().any(|a| a == "latest"))
            .or(self.versions.first())
    }

    /// The version an alias (`latest`, `v2`, a custom alias) names.
    pub fn version(&self, alias: &str) -> Option<&JobVersion> {
        if alias == "latest" {
            return self.latest();
        }
        self.versions
            .iter()
            .find(|v| v.version() == alias || v.aliases.iter().any(|a| a == alias))
    }

    /// Every run of every version, newest first, with the version it ran.
    pub fn runs(&self) -> Vec<(&JobVersion, &JobRun)> {
        let mut out: Vec<(&JobVersion, &JobRun)> = self
            .versions
            .iter()
            .flat_map(|v| v.runs.iter().map(move |r| (v, r)))
            .collect();
        liftoff_model::sort::sort_by(&mut out, |a, b| b.1.run.created_at.cmp(&a.1.run.created_at));
        out
    }

    /// The newest run of any version.
    pub fn last_run(&self) -> Option<&JobRun> {
        self.runs().first().map(|(_, r)| *r)
    }

    /// A job as W&B's own `ArtifactOfType` lists it (servers without
    /// Liftoff's reads): versions and aliases, no metadata, no runs.
    pub fn from_collection(c: &Collection) -> Self {
        let mut versions: Vec<JobVersion> = c
            .versions
            .iter()
            .filter(|v| v.state.is_empty() || v.state == "COMMITTED")
            .map(|v| JobVersion {
                id: v.id.clone(),
                version_index: v
                    .aliases
                    .iter()
                    .find_map(|a| a.strip_prefix('v').and_then(|n| n.parse().ok()))
                    .unwrap_or(0),
                created_at: None,
                description: None,
                metadata: JobMetadata::default(),
                aliases: v.aliases.clone(),
                runs: vec![],
            })
            .collect();
        liftoff_model::sort::sort_by_key(&mut versions, |v| std::cmp::Reverse(v.version_index));
        Self {
            id: c.name.clone(),
            name: c.name.clone(),
            description: None,
            created_at: None,
            versions,
        }
    }
}

fn job_from(op: &str, c: &Value) -> Result<Job, Error> {
    let mut versions = Vec::new();
    for a in nodes(c.get("artifacts")) {
        if at(a, &["artifactType", "name"])
            .and_then(Value::as_str)
            .is_some_and(|t| t != "job")
        {
            continue;
        }
        let metadata = json_object(op, a.get("metadata"))?;
        let runs = a
            .get("usedBy")
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .map(|r| {
                        Ok(JobRun {
                            run: run_row(op, r)?,
                            entity: s(r, &["project", "entityName"]).unwrap_or_default(),
                            project: s(r, &["project", "name"]).unwrap_or_default(),
                        })
                    })
                    .collect::<Result<Vec<_>, Error>>()
            })
            .transpose()?
            .unwrap_or_default();
        versions.push(JobVersion {
            id: string_at(op, a, &["id"])?,
            version_index: at(a, &["versionIndex"])
                .and_then(Value::as_i64)
                .unwrap_or(0),
            created_at: s(a, &["createdAt"]),
            description: s(a, &["description"]).filter(|d| !d.is_empty()),
            metadata: serde_json::from_value(Value::Object(metadata)).unwrap_or_default(),
            aliases: a
                .get("aliases")
                .and_then(Value::as_array)
                .map(|l| {
                    l.iter()
                        .filter_map(|x| x.get("alias")?.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            runs,
        });
    }
    liftoff_model::sort::sort_by_key(&mut versions, |v| std::cmp::Reverse(v.version_index));
    Ok(Job {
        id: string_at(op, c, &["id"])?,
        name: string_at(op, c, &["name"])?,
        // The collection's, else the newest version's (`job create -d`
        // and wandb describe the version).
        description: s(c, &["description"])
            .filter(|d| !d.is_empty())
            .or_else(|| versions.first().and_then(|v| v.description.clone())),
        created_at: s(c, &["createdAt"]),
        versions,
    })
}

/// `query LiftoffJobs`: a project's jobs with their versions and runs.
#[derive(Clone, Debug)]
pub struct LiftoffJobs {
    pub entity: String,
    pub project: String,
}
operation!(LiftoffJobs, "LiftoffJobs", "liftoff/LiftoffJobs", typed = true, output = Vec<Job>,
vars(self) { vars([("entityName", json!(self.entity)), ("projectName", json!(self.project))]) },
decode(self, data) {
    let Some(t) = at(&data, &["project", "artifactType"]) else { return Ok(vec![]) };
    let mut jobs = nodes(t.get("artifactCollections")).into_iter().map(|c| job_from("LiftoffJobs", c)).collect::<Result<Vec<_>, _>>()?;
    liftoff_model::sort::sort_by(&mut jobs, |a, b| a.name.cmp(&b.name));
    Ok(jobs)
});

/// `query LiftoffJob`: one job with its versions and runs.
#[derive(Clone, Debug)]
pub struct LiftoffJob {
    pub entity: String,
    pub project: String,
    pub name: String,
}
operation!(LiftoffJob, "LiftoffJob", "liftoff/LiftoffJob", typed = true, output = Job,
vars(self) { vars([("entityName", json!(self.entity)), ("projectName", json!(self.project)), ("jobName", json!(self.name))]) },
decode(self, data) {
    let c = at(&data, &["project", "artifactCollection"]).ok_or_else(|| Error::NotFound {
        what: format!("job {}/{}/{}", self.entity, self.project, self.name),
    })?;
    job_from("LiftoffJob", c)
});

/// `query LiftoffArtifactFiles`: an artifact version's files (all, or
/// those named) with their download URLs.
#[derive(Clone, Debug)]
pub struct LiftoffArtifactFiles {
    pub id: String,
    pub names: Option<Vec<String>>,
    pub first: i64,
}
operation!(LiftoffArtifactFiles, "LiftoffArtifactFiles", "liftoff/LiftoffArtifactFiles", typed = true, output = Vec<FileLink>,
vars(self) { vars([("id", json!(self.id)), ("names", json!(self.names)), ("first", json!(self.first))]) },
decode(self, data) {
    let a = at(&data, &["artifact"]).ok_or_else(|| Error::NotFound { what: format!("artifact {}", self.id) })?;
    Ok(file_links(a.get("files")))
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_suggestions_leave_out_the_launch_project() {
        let op = LiftoffProjects {
            entity: "admin".into(),
            first: 50,
        };
        let data = json!({"models": {"edges": [
            {"node": {"name": "web"}},
            {"node": {"name": "model-registry"}},
            {"node": {"name": "mnist"}}
        ]}});
        assert_eq!(op.decode(data).unwrap(), ["web", "mnist"]);
    }

    #[test]
    fn run_page_asks_for_its_launch_item_only_where_advertised() {
        let page = |launch_item| LiftoffRunPage {
            entity: "alice".into(),
            project: "mnist".into(),
            run: "r1".into(),
            launch_item,
        };
        let with = page(true).document();
        let without = page(false).document();
        assert!(with.contains("launchItem {"), "{with}");
        // The same document without that line.
        let expected: Vec<&str> = with.lines().filter(|l| !l.contains("launchItem")).collect();
        assert_eq!(without.lines().collect::<Vec<_>>(), expected);
    }

    #[test]
    fn jobs_from_wandb_collections() {
        use crate::ops::artifacts::VersionRef;
        let c = Collection {
            name: "job-train".into(),
            versions: vec![
                VersionRef {
                    id: "a0".into(),
                    state: "COMMITTED".into(),
                    aliases: vec!["v0".into()],
                },
                VersionRef {
                    id: "a1".into(),
                    state: "COMMITTED".into(),
                    aliases: vec!["latest".into(), "v1".into()],
                },
                VersionRef {
                    id: "a2".into(),
                    state: "PENDING".into(),
                    aliases: vec![],
                },
            ],
        };
        let job = Job::from_collection(&c);
        let ids: Vec<(&str, i64)> = job
            .versions
            .iter()
            .map(|v| (v.id.as_str(), v.version_index))
            .collect();
        assert_eq!(ids, vec![("a1", 1), ("a0", 0)]);
        assert_eq!(job.latest().map(|v| v.id.as_str()), Some("a1"));
        assert_eq!(job.version("v0").map(|v| v.id.as_str()), Some("a0"));
        assert_eq!(
            job.version("latest").map(JobVersion::version).as_deref(),
            Some("v1")
        );
        assert!(job.last_run().is_none());
    }

    #[test]
    fn a_public_run_read_offers_the_summary_numbers() {
        let run: RunInfo = serde_json::from_value(json!({
            "id": "UnVuOjE=", "name": "r", "state": "finished",
            "config": {"lr": {"value": 0.1}, "_wandb": {"value": {}}},
            "summary": {"loss": 0.2, "acc": 0.9, "_step": 4, "note": "x"}
        }))
        .unwrap();
        let d = RunDetail::from_run(run);
        assert_eq!(d.metric_keys, vec!["acc".to_owned(), "loss".to_owned()]);
        assert_eq!(d.last_step, Some(4));
        assert_eq!(Value::Object(d.run.config), json!({"lr": 0.1}));
    }

    #[test]
    fn metric_keys_are_the_numeric_public_ones() {
        let hk = json!({"lastStep": 9, "keys": {
            "loss": {"typeCounts": [{"type": "number", "count": 10}]},
            "_step": {"typeCounts": [{"type": "number", "count": 10}]},
            "hello": {"typeCounts": [{"type": "string", "count": 1}]},
            "acc": {"typeCounts": [{"type": "nil", "count": 1}, {"type": "number", "count": 3}]}
        }});
        assert_eq!(
            metric_keys(&hk),
            (vec!["acc".to_owned(), "loss".to_owned()], Some(9))
        );
        assert_eq!(metric_keys(&json!({"lastStep": -1})), (vec![], None));
    }
}
