//! A queue page: its items as rows (display status, place in line, why
//! they wait, duration) and its agents (liveness, heartbeat).

use liftoff_model::agent::{Agent, Liveness};
use liftoff_model::status::{
    DisplayStatus, ItemState, QueueItem, RunView, StatusContext, WaitReason, display_status,
    service_key, wait_reason,
};
use liftoff_model::timefmt;
use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;

use crate::ops::liftoff::{ItemRun, QueueDetail};

/// One row of the Items tab.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemRow {
    pub item: QueueItem,
    pub run: Option<ItemRun>,
    pub status: DisplayStatus,
    /// Place in line among the waiting items (0: next).
    pub position: Option<usize>,
    /// Why a waiting item waits.
    pub wait: Option<WaitReason>,
    /// What runs: the job, else the image, else the command.
    pub job: Option<Runs>,
    /// Where its run goes.
    pub entity: Option<String>,
    pub project: Option<String>,
    pub author: Option<String>,
    /// When it started: its run's creation, else the agent's claim.
    pub started_at: Option<String>,
    /// "3 min ago" for the creation and the start, at the time of the rows.
    pub created_ago: Option<String>,
    pub started_ago: Option<String>,
    /// Started until finished (or until now).
    pub duration_secs: Option<i64>,
}

impl ItemRow {
    /// Waiting or running: it can be cancelled.
    pub fn can_cancel(&self) -> bool {
        self.status.is_active()
    }

    /// Done (any outcome): it can be pushed again.
    pub fn can_requeue(&self) -> bool {
        !self.status.is_active()
    }

    /// Still in the queue: its priority can change.
    pub fn can_change_priority(&self) -> bool {
        self.item.state == ItemState::Pending
    }

    /// The job's short name (`name:alias`), else the image or command, for a
    /// narrow column.
    pub fn job_short(&self) -> Option<&str> {
        self.job.as_ref().map(|r| match r {
            Runs::Job(j) => j.rsplit('/').next().unwrap_or(j),
            other => other.text(),
        })
    }

    /// The item in words, for labels read aloud (its id is not words): its
    /// run, else its place in line, else when it was pushed.
    pub fn label(&self) -> String {
        let what = self.job_short().unwrap_or("item");
        let run =
            (self.item.associated_run_id.as_deref()).or(self.run.as_ref().map(|r| r.name.as_str()));
        match (run, self.position, &self.created_ago) {
            (Some(run), _, _) => format!("{what}, run {run}"),
            (None, Some(p), _) => format!("{what}, #{} in line", p + 1),
            (None, None, Some(ago)) => format!("{what}, pushed {ago}"),
            _ => what.to_owned(),
        }
    }

    /// What this item changes, for telling same-job items apart: its
    /// config overrides as `key=value` (three at most, then `…`), else its
    /// args; then the queue's template values it was pushed with
    /// (`gpus: 2`); none when it runs the job as it is.
    pub fn overrides_note(&self) -> Option<String> {
        let text = |v: &Value| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let cut = |s: String| match s.char_indices().nth(40) {
            Some((i, _)) => format!("{}…", &s[..i]),
            None => s,
        };
        let listed = |map: &serde_json::Map<String, Value>, sep: &str| {
            let mut parts: Vec<String> = map
                .iter()
                .take(3)
                .map(|(k, v)| cut(format!("{k}{sep}{}", text(v))))
                .collect();
            if map.len() > 3 {
                parts.push("…".into());
            }
            parts.join(" · ")
        };
        let overrides = self.item.run_spec.as_ref().and_then(|s| s.get("overrides"));
        let changed = match overrides
            .and_then(|o| o.get("run_config"))
            .and_then(Value::as_object)
        {
            Some(cfg) if !cfg.is_empty() => Some(listed(cfg, "=")),
            _ => overrides
                .and_then(|o| o.get("args"))
                .and_then(Value::as_array)
                .map(|args| args.iter().map(text).collect::<Vec<_>>().join(" "))
                .filter(|a| !a.is_empty())
                .map(cut),
        };
        let values = &self.item.template_values;
        let template = (!values.is_empty()).then(|| listed(values, ": "));
        match (changed, template) {
            (Some(c), Some(t)) => Some(format!("{c} · {t}")),
            (c, t) => c.or(t),
        }
    }

    /// The job as the row names it (`train:latest`), with the version its
    /// run used when the alias does not say it (`train:latest (v0)`): an
    /// alias moves on, the row keeps saying what ran.
    pub fn job_label(&self, job: &liftoff_model::spec::JobRef) -> String {
        match self.run.as_ref().and_then(|r| r.job_version.as_deref()) {
            Some(v) if v != job.alias => format!("{} ({v})", job.name_with_alias()),
            _ => job.name_with_alias(),
        }
    }

    /// The error in one line, for the row: its first line and, when there
    /// is more, the output's last line (the exception, say); the whole
    /// message is behind a disclosure.
    pub fn error_summary(&self) -> Option<String> {
        self.item
            .error
            .as_ref()
            .map(|e| format!("{} stage: {}", e.stage, error_line(&e.message)))
    }
}

/// A (multi-line) error in one line: its first line, then ` … ` and the
/// output line that most likely says why (`status::likely_cause`: the last
/// exception or error line, read past wandb's closing summary), else the
/// last line that is not the agent's own `[liftoff]` note, each cut at 160
/// characters. A first line that already names the cause stands alone.
pub fn error_line(message: &str) -> String {
    let cut = |l: &str| -> String {
        let l = l.trim();
        match l.char_indices().nth(160) {
            Some((i, _)) => format!("{}…", &l[..i]),
            None => l.to_owned(),
        }
    };
    // The output's tail as a terminal shows it (no colour codes, a
    // progress bar's last frame).
    let message: String = message
        .lines()
        .map(super::terminal_text)
        .collect::<Vec<_>>()
        .join("\n");
    let mut lines = message.lines().filter(|l| !l.trim().is_empty());
    let first = lines.next().unwrap_or("");
    let rest: Vec<&str> = lines.collect();
    if let Some(why) = liftoff_model::status::likely_cause(rest.iter().copied()) {
        // The agent names the cause in its first line: once is enough.
        return if first.contains(&format!(": {why};")) {
            cut(first.trim_end_matches("; last output:"))
        } else {
            format!("{} … {}", cut(first), cut(why))
        };
    }
    let last = rest
        .iter()
        .rev()
        .find(|l| {
            let l = l.trim_start();
            !l.starts_with("[liftoff]")
                && !l.starts_with("ERROR wandb:")
                && !l.starts_with("wandb:")
        })
        .or(rest.last());
    match last {
        Some(last) => format!("{} … {}", cut(first), cut(last)),
        None => cut(first),
    }
}

/// What an item runs, as its run spec names it (the first of these it sets).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Runs {
    /// `entity/project/name:alias`.
    Job(String),
    /// A container image.
    Image(String),
    /// A command (`overrides.entry_point`), its words joined by spaces.
    Command(String),
}

impl Runs {
    /// The job, image or command itself.
    pub fn text(&self) -> &str {
        match self {
            Runs::Job(s) | Runs::Image(s) | Runs::Command(s) => s,
        }
    }
}

/// "entity/project/train:latest", "image busybox:1.36", "command python3 train.py".
impl std::fmt::Display for Runs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Runs::Job(j) => f.write_str(j),
            Runs::Image(i) => write!(f, "image {i}"),
            Runs::Command(c) => write!(f, "command {c}"),
        }
    }
}

/// The parts of a run spec a row shows; read without copying the spec
/// (a full `LaunchSpec` per row is slow for a thousand rows).
#[derive(Default, Deserialize)]
struct SpecSummary {
    job: Option<String>,
    entity: Option<String>,
    project: Option<String>,
    author: Option<String>,
    docker: Option<Docker>,
    image_uri: Option<String>,
    overrides: Option<Overrides>,
}

#[derive(Default, Deserialize)]
struct Docker {
    docker_image: Option<String>,
}

#[derive(Default, Deserialize)]
struct Overrides {
    entry_point: Option<Vec<String>>,
}

impl SpecSummary {
    fn of(spec: Option<&Value>) -> Self {
        spec.and_then(|v| Self::deserialize(v).ok())
            .unwrap_or_default()
    }

    /// The job, else the image, else the command.
    fn what_runs(&self) -> Option<Runs> {
        let image = self
            .docker
            .as_ref()
            .and_then(|d| d.docker_image.clone())
            .or_else(|| self.image_uri.clone())
            .filter(|i| !i.is_empty());
        let command = self
            .overrides
            .as_ref()
            .and_then(|o| o.entry_point.as_ref())
            .filter(|c| !c.is_empty())
            .map(|c| c.join(" "));
        let job = self.job.clone().filter(|j| !j.is_empty());
        job.map(Runs::Job)
            .or(image.map(Runs::Image))
            .or(command.map(Runs::Command))
    }
}

/// The agents as the queue page shows them.
#[derive(Clone, Debug, PartialEq)]
pub struct AgentRow {
    pub agent: Agent,
    pub liveness: Liveness,
    /// "12 s ago".
    pub heartbeat: String,
    /// Jobs of this queue it is running now.
    pub running: i64,
}

/// Derive every row of a queue page at `now`. Rows keep the server's order
/// (newest first); positions follow the order of service.
pub fn item_rows(detail: &QueueDetail, now: OffsetDateTime) -> Vec<ItemRow> {
    let liveness: Vec<(&Agent, Liveness)> =
        detail.agents.iter().map(|a| (a, a.liveness(now))).collect();
    let live = detail.agents.iter().any(|a| a.polls(now));
    let mut rows: Vec<ItemRow> = detail
        .items
        .iter()
        .map(|it| {
            let item = &it.item;
            let owner_alive = item.launch_agent_id.as_ref().and_then(|id| {
                liveness
                    .iter()
                    .find(|(a, _)| &a.id == id)
                    .map(|(_, l)| l.is_alive())
            });
            let ctx = StatusContext {
                run: it.run.as_ref().map(|r| RunView {
                    state: r.state.clone(),
                    heartbeat_at: r.heartbeat_at.as_deref().and_then(timefmt::parse),
                }),
                queue_has_live_agent: live,
                owner_alive,
                now,
            };
            let status = display_status(item, &ctx);
            let spec = SpecSummary::of(item.run_spec.as_ref());
            let started_at = it
                .run
                .as_ref()
                .and_then(|r| r.created_at.clone())
                .or_else(|| item.claimed_at.clone());
            let started = started_at.as_deref().and_then(timefmt::parse);
            let duration_secs = started.and_then(|start| {
                let end = if status.is_active() {
                    Some(now)
                } else {
                    it.run
                        .as_ref()
                        .and_then(|r| r.heartbeat_at.as_deref())
                        .and_then(timefmt::parse)
                }?;
                Some((end - start).whole_seconds().max(0))
            });
            ItemRow {
                item: item.clone(),
                run: it.run.clone(),
                status,
                position: None,
                wait: None,
                job: spec.what_runs(),
                entity: spec.entity,
                project: spec.project,
                // The spec's author (`wandb launch` sets it), else who pushed it.
                author: spec.author.or_else(|| item.created_by.clone()),
                created_ago: item
                    .created_at
                    .as_deref()
                    .and_then(timefmt::parse)
                    .map(|t| timefmt::ago(t, now)),
                started_ago: started.map(|t| timefmt::ago(t, now)),
                started_at,
                duration_secs,
            }
        })
        .collect();

    // Capacity of the live agents: (jobs of this queue they run, max_jobs).
    let busy: Vec<(i64, i64)> = detail
        .agents
        .iter()
        .filter(|a| a.polls(now))
        .map(|a| (running_for(&rows, &a.id), a.max_jobs()))
        .collect();
    let prioritized = detail.queue.prioritization_mode.enabled();
    let mut waiting: Vec<(_, usize)> = (0..rows.len())
        .filter(|&i| rows[i].item.state == ItemState::Pending)
        .map(|i| {
            let order = (
                service_key(&rows[i].item, prioritized),
                // createdAt has whole seconds: items pushed in the same
                // second are served by id (the server's `ORDER BY priority, id`),
                // and failing that in the server's listing order, newest first.
                push_seq(&rows[i].item.id).unwrap_or(i64::MAX),
                std::cmp::Reverse(i),
            );
            (order, i)
        })
        .collect();
    liftoff_model::sort::sort(&mut waiting);
    for (position, (_, i)) in waiting.into_iter().enumerate() {
        rows[i].position = Some(position);
        rows[i].wait = Some(wait_reason(&busy, position));
    }
    rows
}

/// The number in an item's id (`base64("RunQueueItem:42")` -> 42, as W&B
/// and Liftoff make them): ids grow with each push.
fn push_seq(id: &str) -> Option<i64> {
    use base64::Engine as _;
    let raw = base64::engine::general_purpose::STANDARD.decode(id).ok()?;
    let text = std::str::from_utf8(&raw).ok()?;
    // `RunQueueItem:42`, or `RunQueueItem:42:<lease>` for a popped item.
    text.split(':').nth(1)?.parse().ok()
}

fn running_for(rows: &[ItemRow], agent_id: &str) -> i64 {
    rows.iter()
        .filter(|r| r.item.launch_agent_id.as_deref() == Some(agent_id) && r.status.is_active())
        .count() as i64
}

/// The agents of a queue page at `now`, live ones first.
pub fn agent_rows(detail: &QueueDetail, rows: &[ItemRow], now: OffsetDateTime) -> Vec<AgentRow> {
    let mut out: Vec<AgentRow> = detail
        .agents
        .iter()
        .map(|a| AgentRow {
            agent: a.clone(),
            liveness: a.liveness(now),
            heartbeat: a
                .heartbeat()
                .map_or_else(|| "never".to_owned(), |t| timefmt::ago(t, now)),
            running: running_for(rows, &a.id),
        })
        .collect();
    liftoff_model::sort::sort_by_key(&mut out, |r| !r.liveness.is_alive());
    out
}

/// Some agent polls the queue (else the page shows the red banner).
pub fn has_live_agent(detail: &QueueDetail, now: OffsetDateTime) -> bool {
    detail.agents.iter().any(|a| a.polls(now))
}

/// How many rows have each status, in [`DisplayStatus::ALL`] order, zeros left out.
pub fn status_counts(rows: &[ItemRow]) -> Vec<(DisplayStatus, usize)> {
    DisplayStatus::ALL
        .into_iter()
        .map(|s| (s, rows.iter().filter(|r| r.status == s).count()))
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// What the bulk bar asks before it cancels the rows that can be: how many
/// leave the queue, and how many jobs an agent has taken (starting or
/// running) are stopped. `None`: none of them can be cancelled now.
pub fn cancel_question(rows: &[ItemRow]) -> Option<String> {
    let n = |k: usize, one: &str, many: &str| format!("{k} {}", if k == 1 { one } else { many });
    let cancel: Vec<&ItemRow> = rows.iter().filter(|r| r.can_cancel()).collect();
    let starting = cancel
        .iter()
        .filter(|r| r.status == DisplayStatus::Pending)
        .count();
    let running = cancel
        .iter()
        .filter(|r| r.status == DisplayStatus::Running)
        .count();
    let taken = starting + running;
    let waiting = cancel.len() - taken;
    let jobs = if starting == 0 {
        n(taken, "running job", "running jobs")
    } else if running == 0 {
        n(taken, "starting job", "starting jobs")
    } else {
        n(taken, "started job", "started jobs")
    };
    Some(match (waiting, taken) {
        (0, 0) => return None,
        (_, 0) => format!(
            "Take {} off the queue?",
            n(waiting, "waiting item", "waiting items")
        ),
        (0, _) => format!(
            "Stop {jobs}? {} as killed.",
            if taken == 1 {
                "Its run ends"
            } else {
                "Their runs end"
            }
        ),
        _ => format!(
            "Take {} off the queue and stop {jobs}?",
            n(waiting, "waiting item", "waiting items"),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::liftoff::ItemWithRun;
    use liftoff_model::queue::Queue;
    use liftoff_model::status::ItemError;
    use liftoff_model::{Priority, RunState};
    use serde_json::json;

    fn now() -> OffsetDateTime {
        timefmt::parse("2026-11-28T12:00:00Z").unwrap()
    }

    fn queue(prioritized: bool) -> Queue {
        serde_json::from_value(json!({
            "id": "q1", "name": "gpu", "entityName": "alice",
            "prioritizationMode": if prioritized { "V0" } else { "DISABLED" }
        }))
        .unwrap()
    }

    fn agent(id: &str, ago: i64, max_jobs: i64) -> Agent {
        let hb = timefmt::format(now() - time::Duration::seconds(ago));
        serde_json::from_value(json!({
            "id": id, "name": id, "agentStatus": "POLLING", "heartbeatAt": hb,
            "runQueues": ["q1"], "hostname": "vm", "agentConfig": {"max_jobs": max_jobs}
        }))
        .unwrap()
    }

    fn item(id: &str, state: ItemState, created: &str, priority: Priority) -> ItemWithRun {
        let mut item = QueueItem::new(id, state);
        item.priority = priority;
        item.run_spec = Some(
            json!({"job": "alice/mnist/job-train:v2", "entity": "alice", "project": "mnist", "author": "alice"}),
        );
        item.created_at = Some(created.into());
        ItemWithRun { item, run: None }
    }

    fn running(id: &str, agent: &str, run_state: RunState) -> ItemWithRun {
        let mut it = item(
            id,
            ItemState::Claimed,
            "2026-11-28T11:00:00Z",
            Priority::Medium,
        );
        it.item.launch_agent_id = Some(agent.into());
        it.item.claimed_at = Some("2026-11-28T11:58:00Z".into());
        it.run = Some(ItemRun {
            id: "UnVu".into(),
            name: "run-1".into(),
            state: run_state,
            stopped: false,
            heartbeat_at: Some("2026-11-28T11:59:50Z".into()),
            created_at: Some("2026-11-28T11:58:20Z".into()),
            job_version: None,
        });
        it
    }

    fn detail(prioritized: bool, agents: Vec<Agent>, items: Vec<ItemWithRun>) -> QueueDetail {
        QueueDetail {
            queue: queue(prioritized),
            agents,
            items,
            end_cursor: None,
            has_next_page: false,
        }
    }

    #[test]
    fn what_runs_is_the_job_else_the_image_else_the_command() {
        let runs = |spec: Value| SpecSummary::of(Some(&spec)).what_runs();
        let job = runs(json!({"job": "e/p/train:v1", "docker": {"docker_image": "x:1"}}));
        assert_eq!(job, Some(Runs::Job("e/p/train:v1".into())));
        assert_eq!(job.unwrap().to_string(), "e/p/train:v1");
        // `image_uri` (a job's image) counts as the image; an empty job does not count.
        let image = runs(json!({"job": "", "image_uri": "busybox:1.36"}));
        assert_eq!(
            image.as_ref().map(ToString::to_string).as_deref(),
            Some("image busybox:1.36")
        );
        let command = runs(json!({"overrides": {"entry_point": ["python3", "train.py"]}}));
        assert_eq!(
            command.map(|c| (c.text().to_owned(), c.to_string())),
            Some(("python3 train.py".into(), "command python3 train.py".into()))
        );
        assert_eq!(runs(json!({"overrides": {"entry_point": []}})), None);
    }

    #[test]
    fn the_author_is_the_specs_else_whoever_pushed_the_item() {
        let signed = item(
            "a",
            ItemState::Pending,
            "2026-11-28T11:00:00Z",
            Priority::Medium,
        );
        let mut unsigned = item(
            "b",
            ItemState::Pending,
            "2026-11-28T11:01:00Z",
            Priority::Medium,
        );
        unsigned.item.run_spec = Some(json!({"job": "alice/mnist/job-train:v2"}));
        unsigned.item.created_by = Some("bob".into());
        let mut unknown = unsigned.clone();
        unknown.item.id = "c".into();
        unknown.item.created_by = None;
        let rows = item_rows(
            &detail(false, vec![], vec![signed, unsigned, unknown]),
            now(),
        );
        let authors: Vec<(&str, Option<&str>)> = rows
            .iter()
            .map(|r| (r.item.id.as_str(), r.author.as_deref()))
            .collect();
        assert_eq!(
            authors,
            [("a", Some("alice")), ("b", Some("bob")), ("c", None)]
        );
    }

    #[test]
    fn waiting_items_get_a_place_and_a_reason() {
        let d = detail(
            true,
            vec![agent("a1", 5, 1)],
            vec![
                item(
                    "new-low",
                    ItemState::Pending,
                    "2026-11-28T11:50:00Z",
                    Priority::Low,
                ),
                item(
                    "old-high",
                    ItemState::Pending,
                    "2026-11-28T11:40:00Z",
                    Priority::High,
                ),
                running("busy", "a1", RunState::Running),
            ],
        );
        let rows = item_rows(&d, now());
        let shape: Vec<(&str, DisplayStatus, Option<usize>, Option<String>)> = rows
            .iter()
            .map(|r| {
                (
                    r.item.id.as_str(),
                    r.status,
                    r.position,
                    r.wait.as_ref().map(ToString::to_string),
                )
            })
            .collect();
        assert_eq!(
            shape,
            vec![
                (
                    "new-low",
                    DisplayStatus::Queued,
                    Some(1),
                    Some("agents are busy: 1 of 1 job running".into())
                ),
                (
                    "old-high",
                    DisplayStatus::Queued,
                    Some(0),
                    Some("agents are busy: 1 of 1 job running".into())
                ),
                ("busy", DisplayStatus::Running, None, None),
            ]
        );
        assert_eq!(rows[2].duration_secs, Some(100));
        assert_eq!(rows[2].started_ago.as_deref(), Some("1 min ago"));
        assert_eq!(rows[0].created_ago.as_deref(), Some("10 min ago"));
        assert_eq!(rows[2].job_short(), Some("job-train:v2"));
        assert_eq!(rows[0].project.as_deref(), Some("mnist"));
        assert!(rows[2].can_cancel() && !rows[2].can_requeue() && !rows[2].can_change_priority());
        assert!(rows[0].can_change_priority());
        assert_eq!(rows[0].label(), "job-train:v2, #2 in line");
        assert_eq!(rows[2].label(), "job-train:v2, run run-1");

        let agents = agent_rows(&d, &rows, now());
        assert_eq!(
            (agents[0].heartbeat.as_str(), agents[0].running),
            ("5 s ago", 1)
        );
        assert!(has_live_agent(&d, now()));
        assert_eq!(
            status_counts(&rows),
            vec![(DisplayStatus::Queued, 2), (DisplayStatus::Running, 1)]
        );
    }

    #[test]
    fn items_pushed_in_the_same_second_wait_in_push_order() {
        use base64::Engine as _;
        let id =
            |n: i64| base64::engine::general_purpose::STANDARD.encode(format!("RunQueueItem:{n}"));
        let at = "2026-11-28T11:50:00Z";
        // The server lists newest first; 9 and 10 tie on priority and second.
        let items = [12, 10, 9]
            .map(|n| {
                let priority = if n == 12 {
                    Priority::High
                } else {
                    Priority::Medium
                };
                item(&id(n), ItemState::Pending, at, priority)
            })
            .to_vec();
        let positions = |prioritized| {
            let rows = item_rows(
                &detail(prioritized, vec![agent("a1", 5, 1)], items.clone()),
                now(),
            );
            rows.iter().map(|r| r.position.unwrap()).collect::<Vec<_>>()
        };
        assert_eq!(positions(false), [2, 1, 0], "first in, first out");
        assert_eq!(positions(true), [0, 2, 1], "high first, then by push");
        // Ids that are not W&B-style: the listing order (newest first) decides.
        let plain: Vec<_> = ["c", "b", "a"]
            .map(|i| item(i, ItemState::Pending, at, Priority::Medium))
            .to_vec();
        let rows = item_rows(&detail(false, vec![], plain), now());
        let positions: Vec<_> = rows.iter().map(|r| r.position.unwrap()).collect();
        assert_eq!(positions, [2, 1, 0]);
    }

    #[test]
    fn without_a_live_agent_items_are_idle() {
        let d = detail(
            false,
            vec![agent("gone", 600, 1)],
            vec![
                item(
                    "b",
                    ItemState::Pending,
                    "2026-11-28T11:50:00Z",
                    Priority::High,
                ),
                item(
                    "a",
                    ItemState::Pending,
                    "2026-11-28T11:40:00Z",
                    Priority::Low,
                ),
            ],
        );
        let rows = item_rows(&d, now());
        assert_eq!(rows[0].status, DisplayStatus::Idle);
        // FIFO when the queue does not use priorities.
        assert_eq!((rows[0].position, rows[1].position), (Some(1), Some(0)));
        assert_eq!(rows[1].wait, Some(WaitReason::NoAgent));
        assert!(!has_live_agent(&d, now()));
        assert_eq!(agent_rows(&d, &rows, now())[0].liveness, Liveness::Gone);
    }

    /// The row of a queue's only item, waiting.
    fn one_waiting_row() -> ItemRow {
        let waiting = item(
            "a",
            ItemState::Pending,
            "2026-11-28T11:00:00Z",
            Priority::Medium,
        );
        item_rows(&detail(false, vec![], vec![waiting]), now()).remove(0)
    }

    #[test]
    fn same_job_items_differ_by_their_overrides() {
        let mut row = one_waiting_row();
        assert_eq!(row.overrides_note(), None);
        let spec = row.item.run_spec.as_mut().unwrap();
        spec["overrides"] = json!({"args": ["--epochs", "3"]});
        assert_eq!(row.overrides_note().as_deref(), Some("--epochs 3"));
        let spec = row.item.run_spec.as_mut().unwrap();
        spec["overrides"]["run_config"] =
            json!({"lr": 0.05, "optimizer": "sgd", "fail": true, "steps": 9});
        assert_eq!(
            row.overrides_note().as_deref(),
            Some("lr=0.05 · optimizer=sgd · fail=true · …")
        );
        // The queue's template values it was pushed with come after.
        row.item.template_values = serde_json::from_value(json!({"gpus": 3, "mem": "2g"})).unwrap();
        assert_eq!(
            row.overrides_note().as_deref(),
            Some("lr=0.05 · optimizer=sgd · fail=true · … · gpus: 3 · mem: 2g")
        );
        let spec = row.item.run_spec.as_mut().unwrap();
        spec["overrides"] = json!({});
        assert_eq!(row.overrides_note().as_deref(), Some("gpus: 3 · mem: 2g"));
    }

    #[test]
    fn a_row_names_the_job_version_its_run_used_when_the_alias_does_not() {
        let latest = liftoff_model::spec::JobRef::parse("a/p/train:latest").unwrap();
        let v0 = liftoff_model::spec::JobRef::parse("a/p/train:v0").unwrap();
        let mut row = one_waiting_row();
        assert_eq!(row.job_label(&latest), "train:latest");
        row.run = Some(ItemRun {
            id: "r".into(),
            name: "r".into(),
            state: liftoff_model::RunState::Running,
            stopped: false,
            heartbeat_at: None,
            created_at: None,
            job_version: Some("v0".into()),
        });
        assert_eq!(row.job_label(&latest), "train:latest (v0)");
        assert_eq!(row.job_label(&v0), "train:v0");
    }

    #[test]
    fn failed_and_finished_items() {
        let mut failed = item(
            "f",
            ItemState::Failed,
            "2026-11-28T11:40:00Z",
            Priority::Medium,
        );
        failed.item.error = Some(ItemError {
            message: "\nTraceback (most recent call last):\n  File \"train.py\"\nZeroDivisionError"
                .into(),
            stage: "run".into(),
            file_paths: vec![],
        });
        let done = running("d", "a1", RunState::Finished);
        let d = detail(false, vec![agent("a1", 5, 2)], vec![failed, done]);
        let rows = item_rows(&d, now());
        assert_eq!(rows[0].status, DisplayStatus::Failed);
        assert_eq!(
            rows[0].error_summary().as_deref(),
            Some("run stage: Traceback (most recent call last): … ZeroDivisionError")
        );
        // The agent's own notes after the output are skipped; one line stays one line.
        let agent = "the job exited with code 3; last output:\n[liftoff] started process 9\nValueError: the data set is empty\n[liftoff] the job exited with code 3\n";
        assert_eq!(
            error_line(agent),
            "the job exited with code 3; last output: … ValueError: the data set is empty"
        );
        // A wandb job: the exception, not wandb's summary after it; when the
        // agent named it first, once.
        let wandb = "the job exited with code 2; last output:\nERROR RuntimeError: out of memory\nERROR wandb: Run history:\nERROR wandb: Find logs at: ./wandb/x\n";
        assert_eq!(
            error_line(wandb),
            "the job exited with code 2; last output: … RuntimeError: out of memory"
        );
        let named = wandb.replacen("code 2;", "code 2: RuntimeError: out of memory;", 1);
        assert_eq!(
            error_line(&named),
            "the job exited with code 2: RuntimeError: out of memory"
        );
        assert_eq!(error_line("no such image"), "no such image");
        assert_eq!(error_line(&"x".repeat(200)).chars().count(), 161);
        assert!(rows[0].can_requeue());
        assert_eq!(rows[1].status, DisplayStatus::Finished);
        assert_eq!(rows[1].duration_secs, Some(90));
    }

    #[test]
    fn the_cancel_question_counts_what_is_dropped_and_what_is_stopped() {
        let mut starting = item(
            "i4",
            ItemState::Claimed,
            "2026-11-28T11:50:00Z",
            Priority::Medium,
        );
        starting.item.launch_agent_id = Some("a1".into());
        starting.item.claimed_at = Some("2026-11-28T11:59:58Z".into());
        let d = detail(
            false,
            vec![agent("a1", 5, 3)],
            vec![
                running("i1", "a1", RunState::Running),
                item(
                    "i2",
                    ItemState::Pending,
                    "2026-11-28T11:30:00Z",
                    Priority::Medium,
                ),
                item(
                    "i3",
                    ItemState::Pending,
                    "2026-11-28T11:40:00Z",
                    Priority::Medium,
                ),
                starting,
                running("i5", "a1", RunState::Finished),
            ],
        );
        let rows = item_rows(&d, now());
        let by = |ids: &[&str]| -> Vec<ItemRow> {
            rows.iter()
                .filter(|r| ids.contains(&r.item.id.as_str()))
                .cloned()
                .collect()
        };
        let status = |id: &str| by(&[id])[0].status;
        assert_eq!(status("i4"), DisplayStatus::Pending);
        assert_eq!(status("i5"), DisplayStatus::Finished);
        let q = |ids: &[&str]| cancel_question(&by(ids));
        assert_eq!(
            q(&["i1", "i2", "i3"]).unwrap(),
            "Take 2 waiting items off the queue and stop 1 running job?"
        );
        assert_eq!(q(&["i2"]).unwrap(), "Take 1 waiting item off the queue?");
        assert_eq!(
            q(&["i1"]).unwrap(),
            "Stop 1 running job? Its run ends as killed."
        );
        // An item an agent has taken is stopped, not taken off the queue.
        assert_eq!(
            q(&["i4"]).unwrap(),
            "Stop 1 starting job? Its run ends as killed."
        );
        assert_eq!(
            q(&["i1", "i2", "i4"]).unwrap(),
            "Take 1 waiting item off the queue and stop 2 started jobs?"
        );
        // Ended while the question was open: nothing to ask.
        assert_eq!(q(&["i5"]), None);
    }
}
