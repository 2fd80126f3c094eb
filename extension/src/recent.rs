//! Items launched from the extension: kept (the last [`KEEP`]) in
//! `chrome.storage.local`, shown in the popup and as status chips next to
//! their job's Launch button, each with a link to where it can be watched.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use liftoff_client::ops::liftoff::QueueDetail;
use liftoff_client::view::items::item_rows;
use liftoff_model::status::{DisplayStatus, ItemState, QueueItem, RunView, StatusContext};
use liftoff_model::{RunState, timefmt};

use crate::settings::web_url;

/// How many launched items are remembered.
pub const KEEP: usize = 20;

/// An item pushed from the extension.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Launched {
    /// The server it went to.
    pub base_url: String,
    pub queue_entity: String,
    pub queue: String,
    pub item_id: String,
    /// `entity/project/name:alias`.
    pub job: String,
    /// Where its run goes.
    pub entity: String,
    pub project: String,
    /// Unix seconds.
    pub launched_at: i64,
    /// The last status seen (`Queued`, `Running`, ...).
    #[serde(default)]
    pub status: Option<String>,
    /// Its run, once an agent claimed it.
    #[serde(default)]
    pub run: Option<String>,
    /// Why it failed, in one line (`run stage: ValueError: ...`), when the
    /// server says (Liftoff's queue read; W&B's item read does not).
    #[serde(default)]
    pub error: Option<String>,
}

/// What a status read says about an item now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemNow {
    pub status: DisplayStatus,
    pub run: Option<String>,
    pub error: Option<String>,
}

impl Launched {
    /// `entity/project/name`: the job without its alias.
    pub fn job_path(&self) -> &str {
        self.job.rsplit_once(':').map_or(&self.job, |(p, _)| p)
    }

    /// Take what a status read says (a run or error once known stays).
    pub fn update(&mut self, now: ItemNow) {
        self.status = Some(now.status.label().to_owned());
        self.run = now.run.or(self.run.take());
        self.error = now.error.or(self.error.take());
    }

    /// Done: its status will not change.
    pub fn settled(&self) -> bool {
        self.status.as_deref().is_some_and(|s| {
            DisplayStatus::ALL
                .iter()
                .any(|d| !d.is_active() && d.label() == s)
        })
    }

    /// Where to watch it: Liftoff's queue page for the item; on W&B its
    /// run once there is one, else the Launch page.
    pub fn link(&self) -> String {
        let web = web_url(&self.base_url);
        if web == "https://wandb.ai" {
            return match &self.run {
                Some(run) => format!("{web}/{}/{}/runs/{run}", self.entity, self.project),
                None => format!("{web}/launch"),
            };
        }
        format!(
            "{web}{}?item={}",
            liftoff_model::route::path(&["launch", &self.queue_entity, &self.queue]),
            liftoff_model::route::percent_encode(&self.item_id)
        )
    }
}

/// Remember a new item, newest first, at most [`KEEP`].
pub fn remember(list: &mut Vec<Launched>, item: Launched) {
    list.retain(|l| !(l.item_id == item.item_id && l.base_url == item.base_url));
    list.insert(0, item);
    list.truncate(KEEP);
}

/// The newest item launched for `job_path` (`entity/project/name`) on a server.
pub fn latest_for_job<'a>(
    list: &'a [Launched],
    base_url: &str,
    job_path: &str,
) -> Option<&'a Launched> {
    list.iter()
        .find(|l| l.base_url == base_url && l.job_path() == job_path)
}

/// An item's status and run from Liftoff's queue read, as the web app's
/// queue page derives them.
pub fn status_in(detail: &QueueDetail, item_id: &str, now: OffsetDateTime) -> Option<ItemNow> {
    item_rows(detail, now)
        .into_iter()
        .find(|r| r.item.id == item_id)
        .map(|r| ItemNow {
            error: r.error_summary(),
            status: r.status,
            run: r.run.map(|run| run.name),
        })
}

/// An item's status from W&B's own reads (its state, its run's state),
/// where agents' liveness is unknown: a waiting item is `Queued`.
pub fn status_from_states(
    state: ItemState,
    run: Option<RunState>,
    now: OffsetDateTime,
) -> DisplayStatus {
    let item = QueueItem::new("", state);
    let ctx = StatusContext {
        run: run.map(|state| RunView {
            state,
            heartbeat_at: None,
        }),
        queue_has_live_agent: true,
        owner_alive: None,
        now,
    };
    liftoff_model::status::display_status(&item, &ctx)
}

/// An item as the popup and the chips show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LaunchedView {
    pub item_id: String,
    /// `name:alias`.
    pub job: String,
    /// `entity/project/name`.
    pub job_path: String,
    pub queue: String,
    pub status: String,
    /// What the status means (`Idle`: no agent is polling the queue).
    pub status_note: &'static str,
    /// `active`, `done` or `failed`: how the chip is coloured.
    pub tone: &'static str,
    pub when: String,
    pub link: String,
    /// Its run, once an agent claimed it (tells relaunches apart).
    pub run: Option<String>,
    /// `entity/project`: where its run goes.
    pub destination: String,
    /// Why it failed, in one line, when known.
    pub error: Option<String>,
}

/// How a status is coloured.
pub fn tone(status: &str) -> &'static str {
    match status {
        "Finished" => "done",
        "Failed" | "Crashed" | "Killed" => "failed",
        _ => "active",
    }
}

impl LaunchedView {
    pub fn of(l: &Launched, now: OffsetDateTime) -> Self {
        let status = l.status.clone().unwrap_or_else(|| "Queued".to_owned());
        let when = OffsetDateTime::from_unix_timestamp(l.launched_at)
            .map(|t| timefmt::ago(t, now))
            .unwrap_or_default();
        Self {
            item_id: l.item_id.clone(),
            job: l.job.rsplit('/').next().unwrap_or(&l.job).to_owned(),
            job_path: l.job_path().to_owned(),
            queue: format!("{}/{}", l.queue_entity, l.queue),
            tone: tone(&status),
            status_note: liftoff_model::status::DisplayStatus::from_label(&status)
                .map_or("", |s| s.meaning()),
            status,
            when,
            link: l.link(),
            run: l.run.clone(),
            destination: format!("{}/{}", l.entity, l.project),
            error: l.error.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn launched(id: &str, job: &str) -> Launched {
        Launched {
            base_url: "http://127.0.0.1:8080".into(),
            queue_entity: "admin".into(),
            queue: "q1".into(),
            item_id: id.into(),
            job: job.into(),
            entity: "admin".into(),
            project: "proj".into(),
            launched_at: 1_700_000_000,
            status: None,
            run: None,
            error: None,
        }
    }

    #[test]
    fn newest_first_and_bounded() {
        let mut list = Vec::new();
        for i in 0..25 {
            remember(
                &mut list,
                launched(&format!("i{i}"), "admin/proj/train:latest"),
            );
        }
        assert_eq!(list.len(), KEEP);
        assert_eq!(list[0].item_id, "i24");
        remember(&mut list, launched("i20", "admin/proj/other:v1"));
        assert_eq!(list.len(), KEEP);
        assert_eq!(list[0].item_id, "i20");
        assert_eq!(list.iter().filter(|l| l.item_id == "i20").count(), 1);
        let l = latest_for_job(&list, "http://127.0.0.1:8080", "admin/proj/train").unwrap();
        assert_eq!(l.item_id, "i24");
        assert!(latest_for_job(&list, "http://other", "admin/proj/train").is_none());
        assert_eq!(
            latest_for_job(&list, "http://127.0.0.1:8080", "admin/proj/other")
                .map(|l| l.job_path()),
            Some("admin/proj/other")
        );
    }

    #[test]
    fn links_and_views() {
        let mut l = launched("UnVuUXVldWVJdGVtOjE=", "admin/proj/train:latest");
        assert_eq!(
            l.link(),
            "http://127.0.0.1:8080/launch/admin/q1?item=UnVuUXVldWVJdGVtOjE="
        );
        l.base_url = "https://api.wandb.ai".into();
        assert_eq!(l.link(), "https://wandb.ai/launch");
        l.run = Some("abc123".into());
        assert_eq!(l.link(), "https://wandb.ai/admin/proj/runs/abc123");
        let now = OffsetDateTime::from_unix_timestamp(1_700_000_090).unwrap();
        let v = LaunchedView::of(&l, now);
        assert_eq!(
            (v.job.as_str(), v.status.as_str(), v.tone, v.when.as_str()),
            ("train:latest", "Queued", "active", "1 min ago")
        );
        l.status = Some("Failed".into());
        assert!(l.settled());
        assert_eq!(LaunchedView::of(&l, now).tone, "failed");
        l.status = Some("Running".into());
        assert!(!l.settled());
    }

    #[test]
    fn status_from_w_and_b_states() {
        let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let s = |state, run| status_from_states(state, run, now);
        assert_eq!(s(ItemState::Pending, None), DisplayStatus::Queued);
        assert_eq!(s(ItemState::Leased, None), DisplayStatus::Pending);
        assert_eq!(
            s(ItemState::Claimed, Some(RunState::Running)),
            DisplayStatus::Running
        );
        assert_eq!(
            s(ItemState::Claimed, Some(RunState::Finished)),
            DisplayStatus::Finished
        );
        assert_eq!(s(ItemState::Failed, None), DisplayStatus::Failed);
    }
}
