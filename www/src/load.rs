//! Data from an async call that runs again when the signals it reads
//! change (or on [`Load::refetch`]); the last answer stays on screen until
//! the next one arrives, and a stale answer never overwrites a newer one.
//! (Leptos' `LocalResource` does this too, at several times the wasm size.)

use std::future::Future;

use leptos::prelude::*;
use leptos::task::spawn_local;

pub struct Load<T: 'static> {
    value: RwSignal<Option<T>>,
    again: RwSignal<u64>,
}

impl<T> Clone for Load<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Load<T> {}

impl<T: PartialEq + Send + Sync + 'static> Load<T> {
    /// Start loading; `fetch` runs now and whenever a signal it read changes
    /// (a poll's tick too). An answer equal to the last one changes nothing:
    /// what shows it is not redrawn (focus, an open details stay).
    pub fn new<Fut>(fetch: impl Fn() -> Fut + 'static) -> Self
    where
        Fut: Future<Output = T> + 'static,
    {
        let value = RwSignal::new(None::<T>);
        let again = RwSignal::new(0u64);
        let latest = StoredValue::new(0u64);
        Effect::new(move |_| {
            again.track();
            let answer = fetch();
            let n = latest.get_value() + 1;
            latest.set_value(n);
            spawn_local(async move {
                let v = answer.await;
                if latest.try_get_value() == Some(n)
                    && value
                        .try_with_untracked(|old| old.as_ref() != Some(&v))
                        .unwrap_or(false)
                {
                    value.try_set(Some(v));
                }
            });
        });
        Self { value, again }
    }
}

impl<T: Send + Sync + 'static> Load<T> {
    /// The last answer (`None` until the first one); tracked.
    pub fn get(&self) -> Option<T>
    where
        T: Clone,
    {
        self.value.get()
    }

    /// Load again now.
    pub fn refetch(&self) {
        self.again.update(|n| *n += 1);
    }
}
