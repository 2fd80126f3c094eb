//! Status badges: an item's display status, a run's state, an agent's liveness.

use leptos::prelude::*;
use liftoff_model::agent::Liveness;
use liftoff_model::{DisplayStatus, RunState};

/// The badge colour of a status (a CSS class).
pub fn tone(status: DisplayStatus) -> &'static str {
    match status {
        DisplayStatus::Idle => "muted",
        DisplayStatus::Queued | DisplayStatus::Pending => "wait",
        DisplayStatus::Running => "run",
        DisplayStatus::Finished => "ok",
        DisplayStatus::Failed | DisplayStatus::Crashed => "bad",
        DisplayStatus::Killed => "muted",
    }
}

/// A run's state, worded like an item's status.
#[component]
pub fn RunStateBadge(state: RunState) -> impl IntoView {
    let status = match &state {
        RunState::Pending | RunState::Other(_) => DisplayStatus::Pending,
        RunState::Running | RunState::Preempting => DisplayStatus::Running,
        RunState::Finished => DisplayStatus::Finished,
        RunState::Failed => DisplayStatus::Failed,
        RunState::Crashed => DisplayStatus::Crashed,
        RunState::Killed | RunState::Preempted => DisplayStatus::Killed,
    };
    view! {
        <span class=format!("badge {}", tone(status)) data-state=state.as_str().to_owned()>
            {status.label()}
        </span>
    }
}

#[component]
pub fn LivenessBadge(liveness: Liveness) -> impl IntoView {
    let tone = match liveness {
        Liveness::Polling => "ok",
        Liveness::Running => "run",
        Liveness::Stopped | Liveness::Gone => "muted",
    };
    view! { <span class=format!("badge {tone}")>{liveness.label()}</span> }
}
