//! Forms typed into and left unsaved (the Create queue drawer, a queue's
//! Config edit, the Launch drawer for a job), kept while this tab lives:
//! closing a drawer or going to another page loses nothing. Nothing is
//! written to storage.

use leptos::prelude::*;
use liftoff_model::queue_draft::QueueDraft;

/// The Create queue drawer's key.
pub const NEW_QUEUE: &str = "new queue";

/// Kept forms of one kind (`T`), by key (a queue, a job).
pub struct Drafts<T: Send + Sync + 'static>(StoredValue<Vec<(String, T)>>);

impl<T: Send + Sync + 'static> Clone for Drafts<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for Drafts<T> {}

impl<T: Clone + Send + Sync + 'static> Drafts<T> {
    pub fn provide() {
        provide_context(Self(StoredValue::new(Vec::new())));
    }

    /// The form kept under `key`.
    pub fn get(&self, key: &str) -> Option<T> {
        self.0
            .with_value(|l| l.iter().find(|(k, _)| k == key).map(|(_, d)| d.clone()))
    }

    /// Keep `form` under `key`, in place of what was.
    pub fn keep(&self, key: &str, form: T) {
        self.0.update_value(|l| {
            l.retain(|(k, _)| k != key);
            l.push((key.to_owned(), form));
        });
    }

    /// Saved, launched, cancelled or started over: nothing to keep.
    pub fn forget(&self, key: &str) {
        self.0.update_value(|l| l.retain(|(k, _)| k != key));
    }
}

pub fn use_drafts<T: Send + Sync + 'static>() -> Drafts<T> {
    expect_context::<Drafts<T>>()
}

/// A kept queue form: what it started from and what it says now.
#[derive(Clone, Debug, PartialEq)]
pub struct Kept {
    pub start: QueueDraft,
    pub now: QueueDraft,
}

pub type QueueDrafts = Drafts<Kept>;

impl QueueDrafts {
    /// Keep what the form says now; one back where it started is dropped.
    pub fn put(&self, key: &str, start: &QueueDraft, now: QueueDraft) {
        if now == *start {
            self.forget(key);
        } else {
            let start = start.clone();
            self.keep(key, Kept { start, now });
        }
    }
}

pub fn use_queue_drafts() -> QueueDrafts {
    use_drafts()
}
