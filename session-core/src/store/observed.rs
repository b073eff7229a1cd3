//! [`Observed`]: the store as the session layer calls it, with a `tracing` span and `metrics`
//! for every call (the metrics are listed in `telemetry.rs`). Both are off unless the app
//! installs a subscriber or a recorder.
//!
//! `op` is `load`, `create`, `save`, `touch`, `delete` or `sessions_of`; `outcome` what the
//! call found (`found`, `missing`, `written`, `id_taken`, `changed`, `gone`, `touched`,
//! `deleted`, `listed`) or `error`; `kind` the [`StoreError`] (`unavailable`, `timeout`,
//! `corrupt`, `encode`, `too_large`, `backend`). Spans are named `session_store` at `DEBUG`,
//! with the same fields, the elapsed microseconds and the first characters of the id.

use std::{
    future::Future,
    sync::Arc,
    time::{Duration, Instant, SystemTime},
};

use async_trait::async_trait;
use metrics::{Key, Label, Level, Metadata};
use tracing::{field, Instrument};

use crate::{Created, Lifetimes, Loaded, Saved, SessionId, Store, StoreError, Version, Write};

/// Forwards every call to the inner store, observed.
pub(crate) struct Observed {
    inner: Arc<dyn Store>,
    name: &'static str,
    keys: Keys,
}

/// A store operation; its index in [`OUTCOMES`].
#[derive(Clone, Copy)]
enum Op {
    Load,
    Create,
    Save,
    Touch,
    Delete,
    SessionsOf,
}

impl Op {
    /// The `op` label.
    fn name(self) -> &'static str {
        OUTCOMES[self as usize].0
    }
}

/// Every operation (in [`Op`]'s order) and the outcomes its calls can have, `error` included.
const OUTCOMES: [(&str, &[&str]); 6] = [
    ("load", &["found", "missing", "error"]),
    ("create", &["written", "id_taken", "error"]),
    ("save", &["written", "changed", "gone", "error"]),
    ("touch", &["touched", "missing", "error"]),
    ("delete", &["deleted", "error"]),
    ("sessions_of", &["listed", "error"]),
];

/// What the `metrics!` macros would say of these metrics.
static METADATA: Metadata<'static> =
    Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

/// The `metrics` keys of one store's calls, built once: a call looks its keys up and hands
/// them to whatever recorder is installed at that moment, instead of building and hashing
/// three labelled keys on every call (about a thousand instructions each time, recorder or
/// not).
struct Keys {
    /// `session_store_calls_total` by operation ([`Op`] index) and outcome.
    calls: Vec<Vec<(&'static str, Key)>>,
    /// `session_store_duration_seconds` by operation ([`Op`] index).
    durations: Vec<Key>,
}

impl Keys {
    fn new(store: &'static str) -> Self {
        let label = Label::from_static_parts;
        let calls = OUTCOMES
            .iter()
            .map(|(op, outcomes)| {
                let key = |outcome: &&'static str| {
                    let labels = vec![
                        label("store", store),
                        label("op", op),
                        label("outcome", outcome),
                    ];
                    (
                        *outcome,
                        Key::from_parts("session_store_calls_total", labels),
                    )
                };
                outcomes.iter().map(key).collect()
            })
            .collect();
        let durations = OUTCOMES
            .iter()
            .map(|(op, _)| {
                let labels = vec![label("store", store), label("op", op)];
                Key::from_parts("session_store_duration_seconds", labels)
            })
            .collect();
        Self { calls, durations }
    }

    fn call(&self, op: Op, outcome: &str) -> Option<&Key> {
        self.calls[op as usize]
            .iter()
            .find(|(out, _)| *out == outcome)
            .map(|(_, key)| key)
    }

    fn duration(&self, op: Op) -> Option<&Key> {
        self.durations.get(op as usize)
    }
}

impl Observed {
    pub(crate) fn new(inner: Arc<dyn Store>) -> Self {
        let name = inner.name();
        Self {
            inner,
            name,
            keys: Keys::new(name),
        }
    }

    /// The inner store as the trait object (a call on the `Arc` would box one more future).
    fn inner(&self) -> &dyn Store {
        &*self.inner
    }

    /// Counts a call and records its duration with the recorder installed now, if any.
    fn measure(&self, op: Op, outcome: &'static str, elapsed: Duration) {
        let (name, seconds, op_name) = (self.name, elapsed.as_secs_f64(), op.name());
        let calls = match self.keys.call(op, outcome) {
            Some(key) => metrics::with_recorder(|r| r.register_counter(key, &METADATA)),
            None => metrics::counter!(
                "session_store_calls_total", "store" => name, "op" => op_name, "outcome" => outcome
            ),
        };
        calls.increment(1);
        let durations = match self.keys.duration(op) {
            Some(key) => metrics::with_recorder(|r| r.register_histogram(key, &METADATA)),
            None => metrics::histogram!(
                "session_store_duration_seconds", "store" => name, "op" => op_name
            ),
        };
        durations.record(seconds);
    }

    async fn observe<T>(
        &self,
        op: Op,
        id: Option<&SessionId>,
        call: impl Future<Output = Result<T, StoreError>>,
        outcome: impl FnOnce(&T) -> &'static str,
    ) -> Result<T, StoreError> {
        let span = tracing::debug_span!(
            "session_store",
            store = self.name,
            op = op.name(),
            id = field::Empty,
            outcome = field::Empty,
            elapsed_us = field::Empty,
        );
        let enabled = !span.is_disabled();
        if let (true, Some(id)) = (enabled, id) {
            span.record("id", field::display(id.redacted()));
        }
        let started = Instant::now();
        let result = call.instrument(span.clone()).await;
        let elapsed = started.elapsed();
        let outcome = match &result {
            Ok(value) => outcome(value),
            Err(error) => {
                let kind = error_kind(error);
                metrics::counter!("session_store_errors_total", "store" => self.name, "op" => op.name(), "kind" => kind)
                    .increment(1);
                "error"
            }
        };
        if enabled {
            span.record("outcome", outcome);
            span.record(
                "elapsed_us",
                u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
            );
        }
        self.measure(op, outcome, elapsed);
        result
    }
}

/// The metric label of a store error's kind.
fn error_kind(error: &StoreError) -> &'static str {
    match error {
        StoreError::Unavailable(_) => "unavailable",
        StoreError::Timeout(_) => "timeout",
        StoreError::Corrupt(_) => "corrupt",
        StoreError::Encode(_) => "encode",
        StoreError::TooLarge { .. } => "too_large",
        _ => "backend",
    }
}

fn found(loaded: &Option<Loaded>) -> &'static str {
    if loaded.is_some() {
        "found"
    } else {
        "missing"
    }
}

/// The calls of the session layer: not the `Store` methods, whose futures `async_trait` boxes
/// (one allocation per call), but the same calls unboxed around the inner store's.
impl Observed {
    pub(crate) async fn load(&self, id: &SessionId) -> Result<Option<Loaded>, StoreError> {
        self.observe(Op::Load, Some(id), self.inner().load(id), found)
            .await
    }

    pub(crate) async fn create(
        &self,
        id: &SessionId,
        write: Write<'_>,
    ) -> Result<Created, StoreError> {
        let outcome = |created: &Created| match created {
            Created::Written(_) => "written",
            Created::IdTaken => "id_taken",
        };
        self.observe(
            Op::Create,
            Some(id),
            self.inner().create(id, write),
            outcome,
        )
        .await
    }

    pub(crate) async fn save(
        &self,
        id: &SessionId,
        write: Write<'_>,
        expected: &Version,
    ) -> Result<Saved, StoreError> {
        let outcome = |saved: &Saved| match saved {
            Saved::Written(_) => "written",
            Saved::Changed(_) => "changed",
            Saved::Gone => "gone",
        };
        let call = self.inner().save(id, write, expected);
        self.observe(Op::Save, Some(id), call, outcome).await
    }

    pub(crate) async fn touch(
        &self,
        id: &SessionId,
        expires_at: SystemTime,
        owner: Option<&str>,
    ) -> Result<bool, StoreError> {
        let outcome = |touched: &bool| if *touched { "touched" } else { "missing" };
        let call = self.inner().touch(id, expires_at, owner);
        self.observe(Op::Touch, Some(id), call, outcome).await
    }

    pub(crate) async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        self.observe(Op::Delete, Some(id), self.inner().delete(id), |_| "deleted")
            .await
    }

    pub(crate) async fn sessions_of(&self, owner: &str) -> Result<Vec<SessionId>, StoreError> {
        let call = self.inner().sessions_of(owner);
        self.observe(Op::SessionsOf, None, call, |_| "listed").await
    }

    pub(crate) async fn load_and_touch(
        &self,
        id: &SessionId,
        lifetimes: Lifetimes,
    ) -> Result<Option<Loaded>, StoreError> {
        let call = self.inner().load_and_touch(id, lifetimes);
        self.observe(Op::Load, Some(id), call, found).await
    }
}

/// For code outside the session layer ([`SessionManager::store`](crate::SessionManager::store)):
/// the same calls, through the inherent methods above.
#[async_trait]
impl Store for Observed {
    async fn load(&self, id: &SessionId) -> Result<Option<Loaded>, StoreError> {
        Observed::load(self, id).await
    }

    async fn create(&self, id: &SessionId, write: Write<'_>) -> Result<Created, StoreError> {
        Observed::create(self, id, write).await
    }

    async fn save(
        &self,
        id: &SessionId,
        write: Write<'_>,
        expected: &Version,
    ) -> Result<Saved, StoreError> {
        Observed::save(self, id, write, expected).await
    }

    async fn touch(
        &self,
        id: &SessionId,
        expires_at: SystemTime,
        owner: Option<&str>,
    ) -> Result<bool, StoreError> {
        Observed::touch(self, id, expires_at, owner).await
    }

    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        Observed::delete(self, id).await
    }

    async fn sessions_of(&self, owner: &str) -> Result<Vec<SessionId>, StoreError> {
        Observed::sessions_of(self, owner).await
    }

    async fn load_and_touch(
        &self,
        id: &SessionId,
        lifetimes: Lifetimes,
    ) -> Result<Option<Loaded>, StoreError> {
        Observed::load_and_touch(self, id, lifetimes).await
    }

    fn name(&self) -> &'static str {
        self.name
    }
}
