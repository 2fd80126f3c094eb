//! The Launch home: one row per queue.

use liftoff_model::Viewer;
use liftoff_model::queue::Queue;
use liftoff_model::status::DisplayStatus;
use time::OffsetDateTime;

use crate::ops::liftoff::QueueSummary;

/// A queue on the Launch home.
#[derive(Clone, Debug, PartialEq)]
pub struct QueueRow {
    pub queue: Queue,
    /// Some agent polls it (W&B's "Active").
    pub active: bool,
    /// Agents polling it now / agents that ever did.
    pub live_agents: usize,
    pub agents: usize,
    /// Items by what a user sees, in `DisplayStatus::ALL` order, zeros left
    /// out (the server's counts, so the queue page's rows add up to them).
    pub statuses: Vec<(DisplayStatus, i64)>,
}

/// Who may edit a queue's config: an admin, its creator, or anyone in a
/// team entity's queue when its creator is unknown.
pub fn can_edit_queue(queue: &Queue, viewer: &Viewer) -> bool {
    viewer.admin
        || queue.created_by.as_deref() == Some(viewer.username.as_str())
        || (queue.created_by.is_none() && viewer.entities().contains(&queue.entity_name))
}

/// The rows of the Launch home at `now`, by entity then name.
pub fn queue_rows(summaries: &[QueueSummary], now: OffsetDateTime) -> Vec<QueueRow> {
    let mut rows: Vec<QueueRow> = summaries
        .iter()
        .map(|s| {
            let live = s.agents.iter().filter(|a| a.polls(now)).count();
            QueueRow {
                queue: s.queue.clone(),
                active: live > 0,
                live_agents: live,
                agents: s.agents.len(),
                statuses: DisplayStatus::ALL
                    .iter()
                    .filter_map(|st| {
                        let n: i64 = s
                            .statuses
                            .iter()
                            .filter(|(c, _)| c == st)
                            .map(|(_, n)| n)
                            .sum();
                        (n > 0).then_some((*st, n))
                    })
                    .collect(),
            }
        })
        .collect();
    liftoff_model::sort::sort_by(&mut rows, |a, b| {
        (a.queue.entity_name.as_str(), a.queue.name.as_str())
            .cmp(&(b.queue.entity_name.as_str(), b.queue.name.as_str()))
    });
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use liftoff_model::agent::Agent;
    use liftoff_model::timefmt;
    use serde_json::json;

    #[test]
    fn active_queues_have_a_live_agent() {
        let now = timefmt::parse("2026-11-28T12:00:00Z").unwrap();
        let q = |name: &str| -> Queue {
            serde_json::from_value(json!({"id": name, "name": name, "entityName": "alice"}))
                .unwrap()
        };
        let a: Agent = serde_json::from_value(json!({
            "id": "a", "name": "a", "agentStatus": "POLLING", "heartbeatAt": "2026-11-28T11:59:50Z"
        }))
        .unwrap();
        let rows = queue_rows(
            &[
                QueueSummary {
                    queue: q("zeta"),
                    agents: vec![],
                    statuses: vec![(DisplayStatus::Idle, 2)],
                },
                QueueSummary {
                    queue: q("alpha"),
                    agents: vec![a],
                    statuses: vec![
                        (DisplayStatus::Failed, 1),
                        (DisplayStatus::Queued, 0),
                        (DisplayStatus::Running, 3),
                    ],
                },
            ],
            now,
        );
        assert_eq!(rows[0].queue.name, "alpha");
        assert!(rows[0].active && !rows[1].active);
        // In the order an item goes through them, zeros left out.
        assert_eq!(
            rows[0].statuses,
            vec![(DisplayStatus::Running, 3), (DisplayStatus::Failed, 1)]
        );
        assert_eq!(rows[1].statuses, vec![(DisplayStatus::Idle, 2)]);

        let bob = Viewer {
            username: "bob".into(),
            entity: "bob".into(),
            ..Viewer::default()
        };
        let mut q = q("x");
        assert!(!can_edit_queue(&q, &bob));
        q.created_by = Some("bob".into());
        assert!(can_edit_queue(&q, &bob));
        assert!(can_edit_queue(
            &q,
            &Viewer {
                admin: true,
                ..Viewer::default()
            }
        ));
    }
}
