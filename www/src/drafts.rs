//! Queue forms typed into and left unsaved (the Create queue drawer, a
//! queue's Config edit), kept while this tab lives: closing the drawer or
//! going to another page loses nothing. Nothing is written to storage.

use leptos::prelude::*;
use liftoff_model::queue_draft::QueueDraft;

/// The Create queue drawer's key.
pub const NEW_QUEUE: &str = "new queue";

/// A kept form: what it started from and what it says now.
#[derive(Clone, Debug, PartialEq)]
pub struct Kept {
    pub start: QueueDraft,
    pub now: QueueDraft,
}

#[derive(Clone, Copy)]
pub struct QueueDrafts(StoredValue<Vec<(String, Kept)>>);

impl QueueDrafts {
    pub fn provide() {
        provide_context(Self(StoredValue::new(Vec::new())));
    }

    /// The form kept under `key` (only one that was changed is kept).
    pub fn get(&self, key: &str) -> Option<Kept> {
        self.0
            .with_value(|l| l.iter().find(|(k, _)| k == key).map(|(_, d)| d.clone()))
    }

    /// Keep what the form says now; one back where it started is dropped.
    pub fn put(&self, key: &str, start: &QueueDraft, now: QueueDraft) {
        self.0.update_value(|l| {
            l.retain(|(k, _)| k != key);
            if now != *start {
                let start = start.clone();
                l.push((key.to_owned(), Kept { start, now }));
            }
        });
    }

    /// Saved, cancelled or started over: nothing to keep.
    pub fn forget(&self, key: &str) {
        self.0.update_value(|l| l.retain(|(k, _)| k != key));
    }
}

pub fn use_queue_drafts() -> QueueDrafts {
    expect_context::<QueueDrafts>()
}
