//! [`PostgresStore`]: the [`Store`] in connect-pg-simple's table.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex, OnceLock,
    },
    time::{Duration, Instant, SystemTime},
};

use async_trait::async_trait;
use futures_core::future::BoxFuture;
use session_core::{
    Created, Lifetimes, Loaded, Record, Saved, SessionId, Store, StoreError, Version, Write,
};
use sqlx::{Executor as _, PgPool, Row};
use tokio::task::JoinHandle;

use crate::{
    call::{self, Limits},
    clock::{ceil_seconds, unix_ms},
    names::Tables,
};

mod builder;
mod sql;

pub use builder::{PostgresStoreBuilder, DEFAULT_MAX_CONNECTIONS};

use sql::Statements;

/// A [`Store`] in PostgreSQL that shares connect-pg-simple's table, rows and rules, so a Rust
/// service and an Express app (`express-session` + `connect-pg-simple`) share live sessions.
///
/// - Table `session(sid varchar primary key, sess json not null, expire timestamp(6) not
///   null)` with index `IDX_session_expire`, as connect-pg-simple creates it; `sess` is the
///   session JSON of [`Record::to_json`], `expire` is `to_timestamp(ceil(expires / 1 s))`
///   computed in SQL as connect-pg-simple does. Rows whose `expire` has passed are never
///   returned, pruned or not.
/// - One statement (one round trip) per load, create, save, touch and delete; a read-only
///   request's load and touch are one statement too ([`Store::load_and_touch`]).
/// - A save is conditional on the version the request read: the SHA-256 of the stored `sess`
///   text, computed by PostgreSQL in the same statement, so a write by Express is seen, never
///   overwritten.
/// - Each user's sessions are listed in a table of our own (`session_owner` by default),
///   written in the same statement as the session.
///
/// Cheap to clone: clones share one pool. Every call is bounded by the configured timeout and
/// fails with a typed [`StoreError`] (see [`error`](crate::error)) instead of hanging.
///
/// See the [crate docs](crate) for an example.
#[derive(Clone)]
pub struct PostgresStore {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pool: PgPool,
    sql: Statements,
    tables: Tables,
    limits: Limits,
    broken: Arc<Broken>,
    migrate: bool,
    touch_on_load: bool,
    migrated: tokio::sync::OnceCell<()>,
    url: String,
    pruning: Mutex<Option<JoinHandle<()>>>,
}

/// When the store last saw the database go away, so that connections opened before are not
/// handed out again: after a restart of PostgreSQL every pooled connection is dead, and
/// without this each would fail one call before the pool noticed (the pool does not test a
/// connection before use, which would cost a round trip per call).
pub(crate) struct Broken {
    /// Milliseconds since [`Broken::now_ms`]'s origin, or 0 for never.
    at_ms: AtomicU64,
}

impl Broken {
    /// Milliseconds on the monotonic clock, from 1.
    fn now_ms() -> u64 {
        static ORIGIN: OnceLock<Instant> = OnceLock::new();
        let origin = *ORIGIN.get_or_init(Instant::now);
        u64::try_from(origin.elapsed().as_millis()).unwrap_or(u64::MAX) + 1
    }

    fn saw_outage(&self) {
        self.at_ms.store(Self::now_ms(), Ordering::Relaxed);
    }
}

impl PostgresStore {
    /// Starts configuring a store on the PostgreSQL at `url`
    /// (`postgres://user:password@host:port/database?sslmode=...`, as libpq reads it).
    pub fn builder(url: impl Into<String>) -> PostgresStoreBuilder {
        PostgresStoreBuilder::from_url(url.into())
    }

    /// Starts configuring a store on an existing pool (shared with the application). The
    /// pool's own settings then apply: set its `acquire_timeout`, and `statement_timeout` in
    /// its connect options, to bound calls on the server side too; the store's
    /// [`timeout`](PostgresStoreBuilder::timeout) still bounds every call.
    pub fn with_pool(pool: PgPool) -> PostgresStoreBuilder {
        PostgresStoreBuilder::from_pool(pool)
    }

    /// A store on the PostgreSQL at `url` with the defaults: table `session` on the search
    /// path, 2 s timeout, tables created on first use, no pruning task.
    pub fn new(url: &str) -> Result<Self, crate::BuildError> {
        Self::builder(url).build()
    }

    /// The pool the store runs on.
    pub fn pool(&self) -> &PgPool {
        &self.inner.pool
    }

    /// The sessions table, quoted and qualified as the statements use it.
    pub fn table(&self) -> &str {
        &self.inner.tables.sessions
    }

    /// The table listing each user's sessions, quoted and qualified.
    pub fn owner_table(&self) -> &str {
        &self.inner.tables.owners
    }

    /// Creates what is missing, as connect-pg-simple's `createTableIfMissing` does: the
    /// sessions table with its primary key and `IDX_<table>_expire` index when there is no
    /// such table (a table that exists is never altered), and the listing of each user's
    /// sessions (`<table>_owner`, ours alone). One transaction, serialised with other
    /// migrating processes by an advisory lock. The schema must exist.
    ///
    /// Runs by itself on the first call unless
    /// [`migrate_on_first_use(false)`](PostgresStoreBuilder::migrate_on_first_use).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let inner = &*self.inner;
        call::bounded(&inner.pool, inner.limits, inner.run_migration())
            .await
            .inspect_err(|error| inner.note(error))?;
        // The first call need not check again.
        let _ = inner.migrated.set(());
        Ok(())
    }

    /// Deletes every expired row (sessions and listings), as connect-pg-simple's pruning
    /// does, and returns how many sessions it deleted. For a cron job; or let
    /// [`prune_interval`](PostgresStoreBuilder::prune_interval) run it.
    pub async fn delete_expired(&self) -> Result<u64, StoreError> {
        self.inner.delete_expired().await
    }

    /// Checks that PostgreSQL answers, with the same timeout and errors as the store calls.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let pool = &self.inner.pool;
        self.inner
            .call(async { sqlx::query("SELECT 1").execute(pool).await.map(drop) })
            .await
    }
}

impl Inner {
    /// Runs one call within the limits, after the migration when it is due.
    async fn call<T>(
        &self,
        call: impl std::future::Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, StoreError> {
        let result = call::bounded(&self.pool, self.limits, async {
            if self.migrate {
                self.migrated
                    .get_or_try_init(|| self.run_migration())
                    .await?;
            }
            call.await
        })
        .await;
        result.inspect_err(|error| self.note(error))
    }

    /// Remembers an outage, so that connections opened before it are not reused.
    fn note(&self, error: &StoreError) {
        if matches!(error, StoreError::Unavailable(_)) {
            self.broken.saw_outage();
        }
    }

    /// Boxed: a future that borrows connections inside is not provably `Send` to the async
    /// trait methods that await it (rust-lang/rust#102211).
    fn run_migration(&self) -> BoxFuture<'_, Result<(), sqlx::Error>> {
        Box::pin(async move {
            let mut transaction = self.pool.begin().await?;
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
                .bind(format!("session-sql migrate {}", self.tables.sessions))
                .execute(&mut *transaction)
                .await?;
            let exists: Option<String> = sqlx::query_scalar("SELECT to_regclass($1)::text")
                .bind(&self.tables.sessions)
                .fetch_one(&mut *transaction)
                .await?;
            if exists.is_none() {
                transaction
                    .execute(self.sql.create_sessions_table.as_str())
                    .await?;
            }
            transaction
                .execute(self.sql.create_owners_table.as_str())
                .await?;
            transaction.commit().await
        })
    }

    async fn delete_expired(&self) -> Result<u64, StoreError> {
        let count: i64 = self
            .call(
                sqlx::query_scalar(&self.sql.delete_expired)
                    .bind(ceil_seconds(SystemTime::now()))
                    .fetch_one(&self.pool),
            )
            .await?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    fn start_pruning(self: &Arc<Self>, interval: Duration) {
        let task = call::spawn_pruning(
            interval,
            Arc::downgrade(self),
            |inner: Arc<Inner>| async move { inner.delete_expired().await },
        );
        if let Ok(mut slot) = self.pruning.lock() {
            *slot = Some(task);
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let task = match self.pruning.get_mut() {
            Ok(task) => task.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        if let Some(task) = task {
            task.abort();
        }
    }
}

/// A stored `sess` and its digest as a loaded record.
fn loaded(sess: &str, digest: &[u8]) -> Result<Loaded, StoreError> {
    Ok(Loaded::new(
        Record::from_json(sess)?,
        Version::from_bytes(digest),
    ))
}

fn millis(duration: Duration) -> f64 {
    // Exact below 2^53 ms (285 000 years).
    duration.as_millis() as f64
}

#[async_trait]
impl Store for PostgresStore {
    /// `SELECT sess::text, sha256(...) FROM session WHERE sid = $1 AND expire >= to_timestamp($2)`.
    async fn load(&self, id: &SessionId) -> Result<Option<Loaded>, StoreError> {
        let inner = &*self.inner;
        let row = inner
            .call(
                sqlx::query(&inner.sql.load)
                    .bind(id.as_str())
                    .bind(ceil_seconds(SystemTime::now()))
                    .fetch_optional(&inner.pool),
            )
            .await?;
        let Some(row) = row else { return Ok(None) };
        let (sess, digest): (String, Vec<u8>) =
            decode(&row, |row| Ok((row.try_get(0)?, row.try_get(1)?)))?;
        loaded(&sess, &digest).map(Some)
    }

    /// One `UPDATE ... RETURNING` that moves `expire` to now + the record's own lifetime
    /// (`originalMaxAge`, read from the stored JSON in SQL, or the browser-session lifetime),
    /// with the row's `sess` and digest; a record whose lifetime is zero is returned
    /// untouched. A plain [`load`](Store::load) with
    /// [`touch_on_load(false)`](PostgresStoreBuilder::touch_on_load).
    async fn load_and_touch(
        &self,
        id: &SessionId,
        lifetimes: Lifetimes,
    ) -> Result<Option<Loaded>, StoreError> {
        let inner = &*self.inner;
        if !inner.touch_on_load {
            return self.load(id).await;
        }
        let now = SystemTime::now();
        let row = inner
            .call(
                sqlx::query(&inner.sql.load_and_touch)
                    .bind(id.as_str())
                    .bind(ceil_seconds(now))
                    .bind(unix_ms(now) as f64)
                    .bind(millis(lifetimes.browser_session_ttl))
                    .fetch_optional(&inner.pool),
            )
            .await?;
        let Some(row) = row else { return Ok(None) };
        let (sess, digest, touched): (String, Vec<u8>, bool) = decode(&row, |row| {
            Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?))
        })?;
        let loaded = loaded(&sess, &digest)?;
        Ok(Some(if touched { loaded.touched() } else { loaded }))
    }

    /// `INSERT ... ON CONFLICT (sid) DO UPDATE ... WHERE expire < now` (an expired row not yet
    /// pruned is replaced, a live one is left alone), listing the owner in the same statement.
    async fn create(&self, id: &SessionId, write: Write<'_>) -> Result<Created, StoreError> {
        let inner = &*self.inner;
        let json = write.json()?;
        let digest: Option<Vec<u8>> = inner
            .call(
                sqlx::query_scalar(&inner.sql.create)
                    .bind(json)
                    .bind(ceil_seconds(write.expires_at))
                    .bind(id.as_str())
                    .bind(ceil_seconds(SystemTime::now()))
                    .bind(write.owner)
                    .fetch_optional(&inner.pool),
            )
            .await?;
        Ok(match digest {
            Some(digest) => Created::Written(Version::from_bytes(&digest)),
            None => Created::IdTaken,
        })
    }

    /// One statement: lock the live row, update it only if its digest is still `expected`,
    /// list the owner if it was written, and return the new digest, or the current row.
    async fn save(
        &self,
        id: &SessionId,
        write: Write<'_>,
        expected: &Version,
    ) -> Result<Saved, StoreError> {
        let inner = &*self.inner;
        let json = write.json()?;
        let row = inner
            .call(
                sqlx::query(&inner.sql.save)
                    .bind(json)
                    .bind(ceil_seconds(write.expires_at))
                    .bind(id.as_str())
                    .bind(ceil_seconds(SystemTime::now()))
                    .bind(expected.as_bytes())
                    .bind(write.owner)
                    .fetch_optional(&inner.pool),
            )
            .await?;
        let Some(row) = row else {
            return Ok(Saved::Gone);
        };
        type Outcome = (Option<Vec<u8>>, Option<String>, Vec<u8>);
        let (written, current, digest): Outcome = decode(&row, |row| {
            Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?))
        })?;
        match (written, current) {
            (Some(written), _) => Ok(Saved::Written(Version::from_bytes(&written))),
            (None, Some(current)) => loaded(&current, &digest).map(Saved::Changed),
            (None, None) => Err(StoreError::corrupt("a save returned neither outcome")),
        }
    }

    /// `UPDATE session SET expire = to_timestamp($1) WHERE sid = $2 AND expire >= now`
    /// (connect-pg-simple's touch, which also revives an expired row not yet pruned: ours
    /// does not), moving the owner's listing in the same statement.
    async fn touch(
        &self,
        id: &SessionId,
        expires_at: SystemTime,
        owner: Option<&str>,
    ) -> Result<bool, StoreError> {
        let inner = &*self.inner;
        let touched: i64 = inner
            .call(
                sqlx::query_scalar(&inner.sql.touch)
                    .bind(ceil_seconds(expires_at))
                    .bind(id.as_str())
                    .bind(ceil_seconds(SystemTime::now()))
                    .bind(owner)
                    .fetch_one(&inner.pool),
            )
            .await?;
        Ok(touched > 0)
    }

    /// `DELETE FROM session WHERE sid = $1`, and the session's listings in the same statement.
    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        let inner = &*self.inner;
        inner
            .call(
                sqlx::query(&inner.sql.delete)
                    .bind(id.as_str())
                    .execute(&inner.pool),
            )
            .await
            .map(drop)
    }

    /// The listing's live rows for `owner`.
    async fn sessions_of(&self, owner: &str) -> Result<Vec<SessionId>, StoreError> {
        let inner = &*self.inner;
        let ids: Vec<String> = inner
            .call(
                sqlx::query_scalar(&inner.sql.sessions_of)
                    .bind(owner)
                    .bind(ceil_seconds(SystemTime::now()))
                    .fetch_all(&inner.pool),
            )
            .await?;
        Ok(ids.into_iter().map(SessionId::from).collect())
    }

    fn name(&self) -> &'static str {
        "postgres"
    }
}

/// Reads a row's columns; a column of the wrong type is a corrupt row.
fn decode<T>(
    row: &sqlx::postgres::PgRow,
    read: impl FnOnce(&sqlx::postgres::PgRow) -> Result<T, sqlx::Error>,
) -> Result<T, StoreError> {
    read(row).map_err(StoreError::corrupt)
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("url", &self.inner.url)
            .field("table", &self.inner.tables.sessions)
            .field("owner_table", &self.inner.tables.owners)
            .field("timeout", &self.inner.limits.timeout)
            .field("connections", &self.inner.pool.size())
            .finish()
    }
}
