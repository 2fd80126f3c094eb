//! Queue items and the status a user sees for them.
//!
//! The server stores an item's *state* (`PENDING` -> `LEASED` -> `CLAIMED`,
//! or `FAILED`); what a user wants to know (Idle, Queued, Pending, Running,
//! Finished, Failed, Crashed, Killed) also depends on the associated run and
//! on whether any agent is alive. [`display_status`] derives it, with the
//! current time as a parameter.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::priority::Priority;
use crate::run::RunState;
use crate::timefmt;

/// A run that sent nothing (no file_stream, not even a heartbeat) for this
/// long while `running` has crashed. W&B's SDK heartbeats every 30 s.
pub const RUN_CRASHED_AFTER_SECS: i64 = 90;

/// The stored state of an item.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ItemState {
    /// Waiting in the queue.
    #[default]
    Pending,
    /// Popped by an agent, not yet acknowledged (returns to PENDING when the
    /// lease expires).
    Leased,
    /// Acknowledged: an agent owns it and named its run.
    Claimed,
    /// The agent reported a failure (`failRunQueueItem`).
    Failed,
}

impl ItemState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Leased => "LEASED",
            Self::Claimed => "CLAIMED",
            Self::Failed => "FAILED",
        }
    }
}

/// `failRunQueueItem` input, kept on the item: `stage` is `agent`, `build` or `run`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemError {
    pub message: String,
    pub stage: String,
    #[serde(default)]
    pub file_paths: Vec<String>,
}

/// `updateRunQueueItemWarning` input; an item keeps every warning.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemWarning {
    pub message: String,
    pub stage: String,
    #[serde(default)]
    pub file_paths: Vec<String>,
    #[serde(default)]
    pub created_at: Option<String>,
}

/// A run queue item (`RunQueueItem`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueItem {
    pub id: String,
    pub state: ItemState,
    #[serde(default)]
    pub priority: Priority,
    /// The merged spec (a native JSON object).
    #[serde(default)]
    pub run_spec: Option<Value>,
    #[serde(default)]
    pub associated_run_id: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    /// Liftoff: the user who pushed it.
    #[serde(default)]
    pub created_by: Option<String>,
    /// When an agent acknowledged it.
    #[serde(default)]
    pub claimed_at: Option<String>,
    #[serde(default)]
    pub launch_agent_id: Option<String>,
    #[serde(default)]
    pub error: Option<ItemError>,
    #[serde(default)]
    pub warnings: Vec<ItemWarning>,
    /// Liftoff: how many times the item was requeued after a failed run.
    #[serde(default)]
    pub retries: i64,
    /// The template-variable values it was pushed with (`{"gpus": 2}`).
    #[serde(default)]
    pub template_values: Map<String, Value>,
}

impl QueueItem {
    /// An item in `state` that says nothing else yet (no spec, no times).
    pub fn new(id: impl Into<String>, state: ItemState) -> Self {
        Self {
            id: id.into(),
            state,
            priority: Priority::default(),
            run_spec: None,
            associated_run_id: None,
            created_at: None,
            created_by: None,
            claimed_at: None,
            launch_agent_id: None,
            error: None,
            warnings: vec![],
            retries: 0,
            template_values: Map::new(),
        }
    }
}

/// What the user sees (W&B's queued-run statuses).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DisplayStatus {
    /// Waiting, and no agent is polling the queue.
    Idle,
    /// Waiting for an agent that is polling.
    Queued,
    /// Taken by an agent; its run has not started yet.
    Pending,
    Running,
    Finished,
    Failed,
    Crashed,
    Killed,
}

impl DisplayStatus {
    pub const ALL: [DisplayStatus; 8] = [
        Self::Idle,
        Self::Queued,
        Self::Pending,
        Self::Running,
        Self::Finished,
        Self::Failed,
        Self::Crashed,
        Self::Killed,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::Idle => "Idle",
            Self::Queued => "Queued",
            Self::Pending => "Pending",
            Self::Running => "Running",
            Self::Finished => "Finished",
            Self::Failed => "Failed",
            Self::Crashed => "Crashed",
            Self::Killed => "Killed",
        }
    }

    /// What the status means, in words (a tooltip, a legend).
    pub fn meaning(self) -> &'static str {
        match self {
            Self::Idle => "waiting, but no agent is polling its queue",
            Self::Queued => "waiting for an agent that polls its queue",
            Self::Pending => "taken by an agent; its run has not started yet",
            Self::Running => "its run is running",
            Self::Finished => "its run finished",
            Self::Failed => "it failed: its error says at which stage",
            Self::Crashed => "its run or its agent stopped reporting",
            Self::Killed => "it was stopped",
        }
    }

    /// The status a label names (`"Idle"`).
    pub fn from_label(label: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.label() == label)
    }

    /// Still waiting or working (not an outcome).
    pub fn is_active(self) -> bool {
        matches!(
            self,
            Self::Idle | Self::Queued | Self::Pending | Self::Running
        )
    }
}

impl fmt::Display for DisplayStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The associated run, as far as status derivation needs it.
#[derive(Clone, Debug, PartialEq)]
pub struct RunView {
    pub state: RunState,
    /// Last sign of life (file_stream request or upsert).
    pub heartbeat_at: Option<OffsetDateTime>,
}

/// Everything besides the item that decides its status.
#[derive(Clone, Debug)]
pub struct StatusContext {
    pub run: Option<RunView>,
    /// Some agent polling this queue heartbeated recently.
    pub queue_has_live_agent: bool,
    /// The agent that leased/claimed the item is alive (`None`: unknown).
    pub owner_alive: Option<bool>,
    pub now: OffsetDateTime,
}

/// Derive what the user sees for an item.
pub fn display_status(item: &QueueItem, ctx: &StatusContext) -> DisplayStatus {
    match item.state {
        ItemState::Failed => DisplayStatus::Failed,
        ItemState::Pending if ctx.queue_has_live_agent => DisplayStatus::Queued,
        ItemState::Pending => DisplayStatus::Idle,
        ItemState::Leased => DisplayStatus::Pending,
        ItemState::Claimed => claimed_status(ctx),
    }
}

fn claimed_status(ctx: &StatusContext) -> DisplayStatus {
    let owner_gone = ctx.owner_alive == Some(false);
    let Some(run) = &ctx.run else {
        return if owner_gone {
            DisplayStatus::Crashed
        } else {
            DisplayStatus::Pending
        };
    };
    match &run.state {
        RunState::Pending | RunState::Other(_) if owner_gone => DisplayStatus::Crashed,
        RunState::Pending | RunState::Other(_) => DisplayStatus::Pending,
        RunState::Running | RunState::Preempting => {
            let silent = run
                .heartbeat_at
                .is_none_or(|t| (ctx.now - t).whole_seconds() > RUN_CRASHED_AFTER_SECS);
            if silent && (owner_gone || run.heartbeat_at.is_some()) {
                DisplayStatus::Crashed
            } else {
                DisplayStatus::Running
            }
        }
        RunState::Finished => DisplayStatus::Finished,
        RunState::Failed => DisplayStatus::Failed,
        RunState::Crashed => DisplayStatus::Crashed,
        RunState::Killed | RunState::Preempted => DisplayStatus::Killed,
    }
}

/// Why a waiting item is still waiting, in plain words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WaitReason {
    NoAgent,
    AgentsBusy { running: i64, capacity: i64 },
    BehindOthers { ahead: usize },
    AboutToStart,
}

impl fmt::Display for WaitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoAgent => f.write_str("no agent is polling this queue"),
            Self::AgentsBusy { running, capacity } => {
                let jobs = if *capacity == 1 { "job" } else { "jobs" };
                write!(f, "agents are busy: {running} of {capacity} {jobs} running")
            }
            Self::BehindOthers { ahead: 1 } => f.write_str("1 item ahead of it"),
            Self::BehindOthers { ahead } => write!(f, "{ahead} items ahead of it"),
            Self::AboutToStart => f.write_str("next in line; an agent will pick it up shortly"),
        }
    }
}

/// Live agents of a queue as (running jobs, max_jobs) pairs; `max_jobs < 0`
/// is unlimited. `position` is 0 for the next item to be served.
pub fn wait_reason(agents: &[(i64, i64)], position: usize) -> WaitReason {
    if agents.is_empty() {
        return WaitReason::NoAgent;
    }
    let unlimited = agents.iter().any(|(_, max)| *max < 0);
    let running: i64 = agents.iter().map(|(r, _)| *r).sum();
    let capacity: i64 = agents.iter().map(|(_, max)| (*max).max(0)).sum();
    if !unlimited && running >= capacity {
        return WaitReason::AgentsBusy { running, capacity };
    }
    if position > 0 {
        WaitReason::BehindOthers { ahead: position }
    } else {
        WaitReason::AboutToStart
    }
}

/// Order of service: priority first when the queue uses it, then FIFO.
pub fn service_order(a: &QueueItem, b: &QueueItem, prioritized: bool) -> std::cmp::Ordering {
    service_key(a, prioritized).cmp(&service_key(b, prioritized))
}

/// The key [`service_order`] sorts by (compute it once per item to sort many).
pub fn service_key(item: &QueueItem, prioritized: bool) -> (i64, Option<OffsetDateTime>) {
    let priority = if prioritized {
        item.priority.level()
    } else {
        0
    };
    (
        priority,
        item.created_at.as_deref().and_then(timefmt::parse),
    )
}

/// Of a job's last lines (as the log keeps them: stderr marked `ERROR `),
/// the one that most likely says why it failed: the last exception or error
/// line (Python's `RuntimeError: ...`, a Rust panic, `error: ...`), read
/// past wandb's closing summary and the agent's own notes.
pub fn likely_cause<'a>(lines: impl DoubleEndedIterator<Item = &'a str>) -> Option<&'a str> {
    lines.rev().find_map(cause_in)
}

/// What to do about a failure's cause, when it is one a job's setup
/// fixes: a module the job's Python does not have (a job without a
/// requirements.txt runs on the agent's `python3`), or one that is part of
/// the job's own code (`own`: a file or folder of that name at its top)
/// but not on Python's path.
pub fn cause_hint(cause: &str, own: impl Fn(&str) -> bool) -> Option<String> {
    let module = cause
        .split("No module named '")
        .nth(1)?
        .split(['\'', '.'])
        .next()?;
    if module.is_empty() {
        return None;
    }
    Some(if own(module) {
        format!(
            "{module} is in the job's code but not on Python's path, which starts at the script's own folder: run the script as a module (python -m folder.script) or move it to the top"
        )
    } else {
        format!(
            "if {module} is a package, list it in the job's requirements.txt (by its pip name, which may differ)"
        )
    })
}

/// `line` (as the log keeps it) stripped of its stderr mark, if it says why
/// a job failed; wandb's own lines and the agent's notes never do.
pub fn cause_in(line: &str) -> Option<&str> {
    let l = line.strip_prefix("ERROR ").unwrap_or(line).trim();
    (!l.is_empty() && !l.starts_with("wandb:") && !l.starts_with("[liftoff]") && says_why(l))
        .then_some(l)
}

fn says_why(line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    if ["error:", "error[", "fatal:", "fatal error"]
        .iter()
        .any(|p| lower.starts_with(p))
        || line.contains("panicked at")
    {
        return true;
    }
    // `SomeError: why`, `pkg.mod.SomeException`, `KeyboardInterrupt`.
    let name = line.split([':', ' ']).next().unwrap_or_default();
    let is_name = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    let last = name.rsplit('.').next().unwrap_or(name);
    is_name
        && (line.len() == name.len() || line[name.len()..].starts_with(':'))
        && ["Error", "Exception", "Interrupt", "Exit"]
            .iter()
            .any(|s| last.ends_with(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cause_is_the_last_error_line_before_wandbs_summary() {
        let tail = [
            "epoch 3: loss 0.2",
            "ERROR Traceback (most recent call last):",
            "ERROR   File \"train.py\", line 14, in <module>",
            "ERROR RuntimeError: CUDA out of memory (simulated)",
            "ERROR wandb: ",
            "ERROR wandb: Run history:",
            "ERROR wandb: Find logs at: ./wandb/run-x/logs",
            "[liftoff] the job exited with code 2",
        ];
        assert_eq!(
            likely_cause(tail.into_iter()),
            Some("RuntimeError: CUDA out of memory (simulated)")
        );
        for (line, why) in [
            ("torch.cuda.OutOfMemoryError: CUDA out of memory", true),
            ("KeyboardInterrupt", true),
            ("thread 'main' panicked at src/main.rs:2:5:", true),
            ("error: no such file", true),
            ("ERROR: pip could not find a version", true),
            ("Error handling is hard", false),
            ("loss: 0.3", false),
            ("RuntimeWarning: overflow", false),
            ("MyErrors are: many", false),
        ] {
            assert_eq!(likely_cause([line].into_iter()).is_some(), why, "{line}");
        }
        assert_eq!(likely_cause(["all fine", "wandb: done"].into_iter()), None);
    }

    fn item(state: ItemState) -> QueueItem {
        QueueItem::new("i", state)
    }

    fn now() -> OffsetDateTime {
        timefmt::parse("2026-11-28T12:00:00Z").unwrap()
    }

    fn ctx(run: Option<(RunState, i64)>, live: bool, owner: Option<bool>) -> StatusContext {
        StatusContext {
            run: run.map(|(state, ago)| RunView {
                state,
                heartbeat_at: Some(now() - time::Duration::seconds(ago)),
            }),
            queue_has_live_agent: live,
            owner_alive: owner,
            now: now(),
        }
    }

    #[test]
    fn every_status_has_a_label_it_is_found_by_and_a_meaning() {
        for status in DisplayStatus::ALL {
            assert_eq!(DisplayStatus::from_label(status.label()), Some(status));
            assert!(!status.meaning().is_empty());
        }
        assert_eq!(DisplayStatus::from_label("idle"), None);
    }

    #[test]
    fn waiting_items() {
        assert_eq!(
            display_status(&item(ItemState::Pending), &ctx(None, false, None)),
            DisplayStatus::Idle
        );
        assert_eq!(
            display_status(&item(ItemState::Pending), &ctx(None, true, None)),
            DisplayStatus::Queued
        );
        assert_eq!(
            display_status(&item(ItemState::Leased), &ctx(None, true, Some(true))),
            DisplayStatus::Pending
        );
        assert_eq!(
            display_status(&item(ItemState::Failed), &ctx(None, true, None)),
            DisplayStatus::Failed
        );
    }

    #[test]
    fn claimed_items_follow_their_run() {
        let c = item(ItemState::Claimed);
        assert_eq!(
            display_status(&c, &ctx(None, true, Some(true))),
            DisplayStatus::Pending
        );
        assert_eq!(
            display_status(&c, &ctx(None, true, Some(false))),
            DisplayStatus::Crashed
        );
        assert_eq!(
            display_status(&c, &ctx(Some((RunState::Running, 10)), true, Some(true))),
            DisplayStatus::Running
        );
        assert_eq!(
            display_status(&c, &ctx(Some((RunState::Running, 600)), true, Some(true))),
            DisplayStatus::Crashed
        );
        assert_eq!(
            display_status(&c, &ctx(Some((RunState::Finished, 600)), false, None)),
            DisplayStatus::Finished
        );
        assert_eq!(
            display_status(&c, &ctx(Some((RunState::Failed, 1)), false, None)),
            DisplayStatus::Failed
        );
        assert_eq!(
            display_status(&c, &ctx(Some((RunState::Killed, 1)), false, None)),
            DisplayStatus::Killed
        );
        assert_eq!(
            display_status(&c, &ctx(Some((RunState::Crashed, 1)), false, None)),
            DisplayStatus::Crashed
        );
    }

    #[test]
    fn wait_reasons() {
        assert_eq!(
            wait_reason(&[], 0).to_string(),
            "no agent is polling this queue"
        );
        assert_eq!(
            wait_reason(&[(1, 1), (1, 1)], 0).to_string(),
            "agents are busy: 2 of 2 jobs running"
        );
        assert_eq!(
            wait_reason(&[(5, -1)], 2).to_string(),
            "2 items ahead of it"
        );
        assert_eq!(wait_reason(&[(0, 1)], 0), WaitReason::AboutToStart);
    }

    #[test]
    fn a_missing_module_hints_at_requirements() {
        assert_eq!(
            cause_hint("ModuleNotFoundError: No module named 'wandb'", |_| false).as_deref(),
            Some(
                "if wandb is a package, list it in the job's requirements.txt (by its pip name, which may differ)"
            )
        );
        assert_eq!(
            cause_hint("ModuleNotFoundError: No module named 'torch.nn'", |_| false).as_deref(),
            Some(
                "if torch is a package, list it in the job's requirements.txt (by its pip name, which may differ)"
            )
        );
        assert_eq!(
            cause_hint("ValueError: the data set is empty", |_| true),
            None
        );
        // The job's own package, out of the script's reach.
        let hint = cause_hint("ModuleNotFoundError: No module named 'mypkg.data'", |m| {
            m == "mypkg"
        })
        .unwrap();
        assert!(
            hint.starts_with("mypkg is in the job's code but not on Python's path"),
            "{hint}"
        );
    }
}
