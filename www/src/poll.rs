//! Live updates by polling, only while the tab is visible.

use std::time::Duration;

use crate::load::Load;
use leptos::prelude::*;

/// A counter that goes up every `every` while the page is visible (and once
/// more when it becomes visible again). Resources that read it reload.
pub fn use_poll(every: Duration) -> ReadSignal<u64> {
    let (tick, set_tick) = signal(0u64);
    let bump = move || set_tick.update(|n| *n += 1);
    let visible = || !document().hidden();
    if let Ok(handle) = set_interval_with_handle(
        move || {
            if visible() {
                bump();
            }
        },
        every,
    ) {
        on_cleanup(move || handle.clear());
    }
    let listener = window_event_listener_untyped("visibilitychange", move |_| {
        if visible() {
            bump();
        }
    });
    on_cleanup(move || listener.remove());
    tick
}

/// The last good answer of a polled resource, and the error of the last
/// poll if it failed: a failing poll leaves the data on screen. Both change
/// only when their value does, so views that read them are not rebuilt by
/// a poll that brought nothing new.
pub fn last_good<T>(
    resource: Load<Result<T, liftoff_client::Error>>,
) -> (RwSignal<Option<T>>, RwSignal<Option<liftoff_client::Error>>)
where
    T: Clone + PartialEq + Send + Sync + 'static,
{
    let data = RwSignal::new(None::<T>);
    let failure = RwSignal::new(None::<liftoff_client::Error>);
    Effect::new(move |_| match resource.get() {
        Some(Ok(d)) => {
            if data.with_untracked(|old| old.as_ref() != Some(&d)) {
                data.set(Some(d));
            }
            if failure.with_untracked(Option::is_some) {
                failure.set(None);
            }
        }
        Some(Err(e)) => failure.set(Some(e)),
        None => {}
    });
    (data, failure)
}

/// A `performance.mark` (the benchmark reads them).
pub fn mark(name: &str) {
    if let Some(p) = window().performance() {
        let _ = p.mark(name);
    }
}
