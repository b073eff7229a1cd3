//! [`SqliteStoreBuilder`]: a [`SqliteStore`] from a path or a pool, table names and limits.

use std::{str::FromStr, sync::Arc, time::Duration};

use sqlx::{
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
    SqlitePool,
};

use crate::{
    call::Limits,
    names::Tables,
    sqlite::{sql::Statements, Inner},
    BuildError, SqliteStore, DEFAULT_TABLE, DEFAULT_TIMEOUT,
};

/// The default size of the pool the builder makes: readers run in parallel in WAL mode, and
/// writers queue on SQLite's one write lock whatever the size.
pub const DEFAULT_SQLITE_CONNECTIONS: u32 = 4;

/// What `:memory:` is spelled as.
const MEMORY: &str = ":memory:";

enum Source {
    Path(String),
    Pool(SqlitePool),
}

/// Configures a [`SqliteStore`]; made by [`SqliteStore::builder`] or [`SqliteStore::with_pool`].
///
/// ```
/// use std::time::Duration;
/// use session_sql::SqliteStore;
///
/// # async fn run() -> Result<(), session_sql::BuildError> {
/// let store = SqliteStore::builder(":memory:")
///     .table("sessions")
///     .timeout(Duration::from_secs(1))
///     .prune_interval(Some(Duration::from_secs(600)))
///     .build()?;
/// # drop(store); Ok(()) }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(run()).unwrap();
/// ```
#[must_use]
pub struct SqliteStoreBuilder {
    source: Source,
    table: String,
    owner_table: Option<String>,
    timeout: Duration,
    max_connections: u32,
    prune_interval: Option<Duration>,
    migrate: bool,
}

impl SqliteStoreBuilder {
    fn new(source: Source) -> Self {
        Self {
            source,
            table: DEFAULT_TABLE.to_owned(),
            owner_table: None,
            timeout: DEFAULT_TIMEOUT,
            max_connections: DEFAULT_SQLITE_CONNECTIONS,
            prune_interval: None,
            migrate: true,
        }
    }

    pub(crate) fn from_path(path: String) -> Self {
        Self::new(Source::Path(path))
    }

    pub(crate) fn from_pool(pool: SqlitePool) -> Self {
        Self::new(Source::Pool(pool))
    }

    /// The sessions table; `session` by default.
    pub fn table(mut self, table: impl Into<String>) -> Self {
        self.table = table.into();
        self
    }

    /// The table listing each user's sessions; `<table>_owner` by default.
    pub fn owner_table(mut self, table: impl Into<String>) -> Self {
        self.owner_table = Some(table.into());
        self
    }

    /// The longest any call may take, waiting for a connection or for the write lock
    /// included (it is also SQLite's busy timeout); a call that takes longer fails with
    /// [`StoreError::Timeout`](session_core::StoreError::Timeout). 2 s by default.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The most connections the pool opens; 4 by default. Ignored with
    /// [`with_pool`](SqliteStore::with_pool).
    pub fn max_connections(mut self, max: u32) -> Self {
        self.max_connections = max;
        self
    }

    /// How often a background task deletes expired rows ([`SqliteStore::delete_expired`]);
    /// `None`, the default, starts no task. Expired rows are never returned, pruned or not.
    pub fn prune_interval(mut self, interval: Option<Duration>) -> Self {
        self.prune_interval = interval;
        self
    }

    /// Whether the first call creates the missing tables ([`SqliteStore::migrate`]); `true`
    /// by default.
    pub fn migrate_on_first_use(mut self, migrate: bool) -> Self {
        self.migrate = migrate;
        self
    }

    /// Builds the store. Never opens the file: that happens on the first call. Must be called
    /// inside a tokio runtime.
    pub fn build(self) -> Result<SqliteStore, BuildError> {
        BuildError::check_limits(self.timeout, self.max_connections, self.prune_interval)?;
        let tables = Tables::new(None, &self.table, self.owner_table.as_deref())?;
        tokio::runtime::Handle::try_current().map_err(BuildError::NoRuntime)?;
        let (pool, path, memory) = match self.source {
            Source::Pool(pool) => (pool, "<pool>".to_owned(), false),
            Source::Path(path) => {
                let memory = path == MEMORY;
                let options = if memory {
                    // sqlx gives `:memory:` a unique shared-cache name, so that every
                    // connection of the pool sees one database.
                    SqliteConnectOptions::from_str("sqlite::memory:").map_err(BuildError::Url)?
                } else {
                    SqliteConnectOptions::new()
                        .filename(&path)
                        .create_if_missing(true)
                        .journal_mode(SqliteJournalMode::Wal)
                        .synchronous(SqliteSynchronous::Normal)
                };
                let pool = SqlitePoolOptions::new()
                    .max_connections(self.max_connections)
                    .acquire_timeout(self.timeout)
                    .test_before_acquire(false)
                    .connect_lazy_with(options.busy_timeout(self.timeout));
                (pool, path, memory)
            }
        };
        let inner = Arc::new(Inner {
            pool,
            sql: Statements::new(&tables),
            tables,
            limits: Limits {
                timeout: self.timeout,
                acquire_timeout: self.timeout,
            },
            migrate: self.migrate,
            migrated: tokio::sync::OnceCell::new(),
            keeper: memory.then(tokio::sync::OnceCell::new),
            path,
            pruning: std::sync::Mutex::new(None),
        });
        if let Some(interval) = self.prune_interval {
            inner.start_pruning(interval);
        }
        Ok(SqliteStore { inner })
    }
}

impl std::fmt::Debug for SqliteStoreBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let source = match &self.source {
            Source::Path(path) => path.as_str(),
            Source::Pool(_) => "<pool>",
        };
        f.debug_struct("SqliteStoreBuilder")
            .field("source", &source)
            .field("table", &self.table)
            .field("timeout", &self.timeout)
            .field("prune_interval", &self.prune_interval)
            .finish_non_exhaustive()
    }
}
