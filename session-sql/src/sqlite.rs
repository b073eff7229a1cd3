//! [`SqliteStore`]: the [`Store`] in an SQLite file, or in a shared in-memory database.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, SystemTime},
};

use async_trait::async_trait;
use futures_core::future::BoxFuture;
use session_core::{Created, Loaded, Record, Saved, SessionId, Store, StoreError, Version, Write};
use sqlx::{Executor as _, Row, SqliteConnection, SqlitePool};
use tokio::task::JoinHandle;

use crate::{
    call::{self, Limits},
    clock::unix_ms,
    names::Tables,
};

mod builder;
mod sql;

pub use builder::{SqliteStoreBuilder, DEFAULT_SQLITE_CONNECTIONS};

use sql::Statements;

/// A [`Store`] in SQLite, for embedded deployments: one file (or one in-memory database) that
/// every worker thread of the process shares through one pool.
///
/// - Table `session(sid text primary key, sess text, expire integer, version integer)`:
///   the session JSON of [`Record::to_json`], the expiry in milliseconds since the Unix epoch,
///   and a random 64-bit version per write. Rows whose `expire` has passed are never
///   returned, pruned or not.
/// - A file database runs in WAL mode (readers never wait for the writer) with a busy
///   timeout equal to the call timeout, so concurrent writers queue instead of failing.
/// - `:memory:` is one in-memory database that every connection of the pool sees; it lives
///   as long as the store.
/// - A save is one `BEGIN IMMEDIATE` transaction: the conditional `UPDATE`, the current row
///   when it did not apply, and the user's listing when it moves.
///
/// Cheap to clone: clones share one pool. See the [crate docs](crate) for an example.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pool: SqlitePool,
    sql: Statements,
    tables: Tables,
    limits: Limits,
    migrate: bool,
    migrated: tokio::sync::OnceCell<()>,
    /// For `:memory:`: a connection held out of the pool for the store's lifetime, since an
    /// in-memory database ends with its last connection.
    keeper: Option<tokio::sync::OnceCell<tokio::sync::Mutex<SqliteConnection>>>,
    path: String,
    pruning: Mutex<Option<JoinHandle<()>>>,
}

impl SqliteStore {
    /// Starts configuring a store in the SQLite database at `path`: a file path (created if
    /// missing), or `:memory:` for a database in memory that lives as long as the store.
    pub fn builder(path: impl Into<String>) -> SqliteStoreBuilder {
        SqliteStoreBuilder::from_path(path.into())
    }

    /// Starts configuring a store on an existing pool (shared with the application); its
    /// connect options (journal mode, busy timeout) are then the application's.
    pub fn with_pool(pool: SqlitePool) -> SqliteStoreBuilder {
        SqliteStoreBuilder::from_pool(pool)
    }

    /// The pool the store runs on.
    pub fn pool(&self) -> &SqlitePool {
        &self.inner.pool
    }

    /// Creates the tables and indexes that are missing (`IF NOT EXISTS`). Runs by itself on
    /// the first call unless
    /// [`migrate_on_first_use(false)`](SqliteStoreBuilder::migrate_on_first_use).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let inner = &*self.inner;
        call::bounded(&inner.pool, inner.limits, inner.run_migration()).await?;
        // The first call need not check again.
        let _ = inner.migrated.set(());
        Ok(())
    }

    /// Deletes every expired row (sessions and listings) and returns how many sessions it
    /// deleted. For a cron job; or let
    /// [`prune_interval`](SqliteStoreBuilder::prune_interval) run it.
    pub async fn delete_expired(&self) -> Result<u64, StoreError> {
        self.inner.delete_expired().await
    }
}

impl Inner {
    /// Runs one call within the limits, after the migration when it is due.
    async fn call<T>(
        &self,
        call: impl std::future::Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, StoreError> {
        call::bounded(&self.pool, self.limits, async {
            self.keep_memory_alive().await?;
            if self.migrate {
                self.migrated
                    .get_or_try_init(|| self.run_migration())
                    .await?;
            }
            call.await
        })
        .await
    }

    /// For `:memory:`, takes one connection out of the pool for good, so the database outlives
    /// the pool's idle connections.
    async fn keep_memory_alive(&self) -> Result<(), sqlx::Error> {
        if let Some(keeper) = &self.keeper {
            keeper
                .get_or_try_init(|| async {
                    let connection = self.pool.acquire().await?.detach();
                    Ok::<_, sqlx::Error>(tokio::sync::Mutex::new(connection))
                })
                .await?;
        }
        Ok(())
    }

    /// Boxed: a future that borrows connections inside is not provably `Send` to the async
    /// trait methods that await it (rust-lang/rust#102211).
    fn run_migration(&self) -> BoxFuture<'_, Result<(), sqlx::Error>> {
        Box::pin(async move {
            self.keep_memory_alive().await?;
            self.pool
                .execute(self.sql.create_tables.as_str())
                .await
                .map(drop)
        })
    }

    async fn delete_expired(self: &Arc<Self>) -> Result<u64, StoreError> {
        let now = unix_ms(SystemTime::now());
        let inner = self.clone();
        self.call(detached(async move {
            let mut transaction = inner.pool.begin_with("BEGIN IMMEDIATE").await?;
            let pruned = sqlx::query(&inner.sql.delete_expired)
                .bind(now)
                .execute(&mut *transaction)
                .await?
                .rows_affected();
            sqlx::query(&inner.sql.unlist_expired)
                .bind(now)
                .execute(&mut *transaction)
                .await?;
            transaction.commit().await?;
            Ok(pruned)
        }))
        .await
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

    /// Lists `id` under `owner` until `expires_at`, inside `transaction`.
    async fn list(
        &self,
        transaction: &mut SqliteConnection,
        owner: &str,
        id: &str,
        expires_at: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(&self.sql.list)
            .bind(owner)
            .bind(id)
            .bind(expires_at)
            .execute(transaction)
            .await
            .map(drop)
    }

    /// The live row of `id`, through `executor`.
    async fn current<'e>(
        &self,
        executor: impl sqlx::SqliteExecutor<'e>,
        id: &str,
        now: i64,
    ) -> Result<Option<(String, i64)>, sqlx::Error> {
        let row = sqlx::query(&self.sql.load)
            .bind(id)
            .bind(now)
            .fetch_optional(executor)
            .await?;
        row.map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .transpose()
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

/// A new version: random, so that a record deleted and created again under the same id never
/// takes the version an old request read.
fn new_version() -> Result<i64, StoreError> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::backend(e.to_string()))?;
    Ok(i64::from_be_bytes(bytes))
}

/// Runs a transaction in a task of its own, so that it always ends with its commit or its
/// rollback: dropped half-way (the caller timed out, the HTTP client went away), a
/// `BEGIN IMMEDIATE` that SQLite already ran would leave its pooled connection inside a
/// transaction for good, and every later `BEGIN` on it would fail. A caller that stops waiting
/// gets its timeout; the transaction still completes (bounded by the busy timeout).
async fn detached<T: Send + 'static>(
    transaction: impl std::future::Future<Output = Result<T, sqlx::Error>> + Send + 'static,
) -> Result<T, sqlx::Error> {
    match tokio::spawn(transaction).await {
        Ok(outcome) => outcome,
        Err(failed) => Err(sqlx::Error::Protocol(format!(
            "the store's transaction task failed: {failed}"
        ))),
    }
}

fn version(n: i64) -> Version {
    Version::from_bytes(&n.to_be_bytes())
}

fn loaded((sess, n): (String, i64)) -> Result<Loaded, StoreError> {
    Ok(Loaded::new(Record::from_json(&sess)?, version(n)))
}

#[async_trait]
impl Store for SqliteStore {
    async fn load(&self, id: &SessionId) -> Result<Option<Loaded>, StoreError> {
        let inner = &*self.inner;
        let now = unix_ms(SystemTime::now());
        inner
            .call(inner.current(&inner.pool, id.as_str(), now))
            .await?
            .map(loaded)
            .transpose()
    }

    async fn create(&self, id: &SessionId, write: Write<'_>) -> Result<Created, StoreError> {
        let inner = &self.inner;
        let (json, n) = (write.json()?.into_owned(), new_version()?);
        let (expires_at, now) = (unix_ms(write.expires_at), unix_ms(SystemTime::now()));
        let written = match write.owner {
            None => {
                inner
                    .call(async {
                        let inserted = sqlx::query(&inner.sql.create)
                            .bind(id.as_str())
                            .bind(json)
                            .bind(expires_at)
                            .bind(n)
                            .bind(now)
                            .execute(&inner.pool)
                            .await?;
                        Ok(inserted.rows_affected() > 0)
                    })
                    .await?
            }
            Some(owner) => {
                let (task, id, owner) = (inner.clone(), id.as_str().to_owned(), owner.to_owned());
                inner
                    .call(detached(async move {
                        let mut transaction = task.pool.begin_with("BEGIN IMMEDIATE").await?;
                        let written = sqlx::query(&task.sql.create)
                            .bind(id.as_str())
                            .bind(json)
                            .bind(expires_at)
                            .bind(n)
                            .bind(now)
                            .execute(&mut *transaction)
                            .await?
                            .rows_affected()
                            > 0;
                        if written {
                            task.list(&mut transaction, &owner, &id, expires_at).await?;
                        }
                        transaction.commit().await?;
                        Ok(written)
                    }))
                    .await?
            }
        };
        Ok(if written {
            Created::Written(version(n))
        } else {
            Created::IdTaken
        })
    }

    async fn save(
        &self,
        id: &SessionId,
        write: Write<'_>,
        expected: &Version,
    ) -> Result<Saved, StoreError> {
        let inner = &self.inner;
        let Ok(expected) = <[u8; 8]>::try_from(expected.as_bytes()).map(i64::from_be_bytes) else {
            // Not a version this store made: no record of ours has it.
            return match self.load(id).await? {
                Some(current) => Ok(Saved::Changed(current)),
                None => Ok(Saved::Gone),
            };
        };
        let (json, n) = (write.json()?.into_owned(), new_version()?);
        let (expires_at, now) = (unix_ms(write.expires_at), unix_ms(SystemTime::now()));
        let (task, id, owner) = (
            inner.clone(),
            id.as_str().to_owned(),
            write.owner.map(str::to_owned),
        );
        let outcome = inner
            .call(detached(async move {
                let mut transaction = task.pool.begin_with("BEGIN IMMEDIATE").await?;
                let written = sqlx::query(&task.sql.save)
                    .bind(json)
                    .bind(expires_at)
                    .bind(n)
                    .bind(id.as_str())
                    .bind(now)
                    .bind(expected)
                    .execute(&mut *transaction)
                    .await?
                    .rows_affected()
                    > 0;
                let current = if written {
                    if let Some(owner) = owner {
                        task.list(&mut transaction, &owner, &id, expires_at).await?;
                    }
                    None
                } else {
                    task.current(&mut *transaction, &id, now).await?
                };
                transaction.commit().await?;
                Ok((written, current))
            }))
            .await?;
        match outcome {
            (true, _) => Ok(Saved::Written(version(n))),
            (false, Some(current)) => loaded(current).map(Saved::Changed),
            (false, None) => Ok(Saved::Gone),
        }
    }

    async fn touch(
        &self,
        id: &SessionId,
        expires_at: SystemTime,
        owner: Option<&str>,
    ) -> Result<bool, StoreError> {
        let inner = &self.inner;
        let (expires_at, now) = (unix_ms(expires_at), unix_ms(SystemTime::now()));
        let Some(owner) = owner else {
            return inner
                .call(async {
                    let touched = sqlx::query(&inner.sql.touch)
                        .bind(expires_at)
                        .bind(id.as_str())
                        .bind(now)
                        .execute(&inner.pool)
                        .await?;
                    Ok(touched.rows_affected() > 0)
                })
                .await;
        };
        let (task, id, owner) = (inner.clone(), id.as_str().to_owned(), owner.to_owned());
        inner
            .call(detached(async move {
                let mut transaction = task.pool.begin_with("BEGIN IMMEDIATE").await?;
                let touched = sqlx::query(&task.sql.touch)
                    .bind(expires_at)
                    .bind(id.as_str())
                    .bind(now)
                    .execute(&mut *transaction)
                    .await?
                    .rows_affected()
                    > 0;
                if touched {
                    task.list(&mut transaction, &owner, &id, expires_at).await?;
                }
                transaction.commit().await?;
                Ok(touched)
            }))
            .await
    }

    /// The session first, then its listings: a listing may name a deleted session for a
    /// moment, never the other way round.
    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        let inner = &*self.inner;
        inner
            .call(async {
                sqlx::query(&inner.sql.delete)
                    .bind(id.as_str())
                    .execute(&inner.pool)
                    .await?;
                sqlx::query(&inner.sql.unlist)
                    .bind(id.as_str())
                    .execute(&inner.pool)
                    .await
                    .map(drop)
            })
            .await
    }

    async fn sessions_of(&self, owner: &str) -> Result<Vec<SessionId>, StoreError> {
        let inner = &*self.inner;
        let ids: Vec<String> = inner
            .call(
                sqlx::query_scalar(&inner.sql.sessions_of)
                    .bind(owner)
                    .bind(unix_ms(SystemTime::now()))
                    .fetch_all(&inner.pool),
            )
            .await?;
        Ok(ids.into_iter().map(SessionId::from).collect())
    }

    fn name(&self) -> &'static str {
        "sqlite"
    }
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .field("table", &self.inner.tables.sessions)
            .field("timeout", &self.inner.limits.timeout)
            .field("connections", &self.inner.pool.size())
            .finish()
    }
}
