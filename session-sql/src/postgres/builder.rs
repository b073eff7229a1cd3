//! [`PostgresStoreBuilder`]: a [`PostgresStore`] from a URL or a pool, table names and limits.

use std::{
    str::FromStr,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use sqlx::{
    postgres::{PgConnectOptions, PgPoolOptions},
    PgPool,
};

use crate::{
    call::Limits,
    names::{check, Tables},
    postgres::{sql::Statements, Broken, Inner},
    BuildError, PostgresStore, DEFAULT_TABLE, DEFAULT_TIMEOUT,
};

/// The default size of the pool the builder makes.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;

/// Where the connections come from.
enum Source {
    Url(String),
    Pool(PgPool),
}

/// Configures a [`PostgresStore`]; made by [`PostgresStore::builder`] or
/// [`PostgresStore::with_pool`].
///
/// ```
/// use std::time::Duration;
/// use session_sql::PostgresStore;
///
/// # async fn run() -> Result<(), session_sql::BuildError> {
/// let store = PostgresStore::builder("postgres://app@127.0.0.1/app")
///     .schema("auth") // connect-pg-simple's `schemaName`; none by default (the search path)
///     .table("session") // its `tableName`; `session` by default
///     .timeout(Duration::from_millis(500))
///     .prune_interval(Some(Duration::from_secs(15 * 60)))
///     .build()?; // connects lazily: PostgreSQL may still be down
/// # drop(store); Ok(()) }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(run()).unwrap();
/// ```
#[must_use]
pub struct PostgresStoreBuilder {
    source: Source,
    schema: Option<String>,
    table: String,
    owner_table: Option<String>,
    timeout: Duration,
    acquire_timeout: Option<Duration>,
    max_connections: u32,
    time_zone: Option<String>,
    prune_interval: Option<Duration>,
    migrate: bool,
    touch_on_load: bool,
}

impl PostgresStoreBuilder {
    fn new(source: Source) -> Self {
        Self {
            source,
            schema: None,
            table: DEFAULT_TABLE.to_owned(),
            owner_table: None,
            timeout: DEFAULT_TIMEOUT,
            acquire_timeout: None,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            time_zone: None,
            prune_interval: None,
            migrate: true,
            touch_on_load: true,
        }
    }

    pub(crate) fn from_url(url: String) -> Self {
        Self::new(Source::Url(url))
    }

    pub(crate) fn from_pool(pool: PgPool) -> Self {
        Self::new(Source::Pool(pool))
    }

    /// The schema of the tables, quoted as an identifier (connect-pg-simple's `schemaName`);
    /// none by default, so the connection's `search_path` decides. The schema must exist.
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }

    /// The sessions table, quoted as an identifier (connect-pg-simple's `tableName`);
    /// `session` by default.
    pub fn table(mut self, table: impl Into<String>) -> Self {
        self.table = table.into();
        self
    }

    /// The table listing each user's sessions (ours alone: Node never reads it);
    /// `<table>_owner` by default, in the same schema.
    pub fn owner_table(mut self, table: impl Into<String>) -> Self {
        self.owner_table = Some(table.into());
        self
    }

    /// The longest any call may take, waiting for a connection included; a call that takes
    /// longer fails with [`StoreError::Timeout`](session_core::StoreError::Timeout). 90 % of
    /// it is the server's `statement_timeout` on the connections this builder opens, so a
    /// statement stuck on the server is cancelled there. The bound covers the wait for a
    /// connection too, which the server does not see: a call that timed out after a long wait
    /// for a connection may still have written. The conditional save keeps that safe (a
    /// retried request merges into it). 2 s by default.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long a call waits for a connection from the pool (all busy, or none can be made)
    /// before failing: with [`Timeout`](session_core::StoreError::Timeout) when every
    /// connection is busy, with [`Unavailable`](session_core::StoreError::Unavailable) when
    /// none can be made. The [`timeout`](Self::timeout) by default; never more.
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = Some(timeout);
        self
    }

    /// The most connections the pool opens; 10 by default. Ignored with
    /// [`with_pool`](PostgresStore::with_pool).
    pub fn max_connections(mut self, max: u32) -> Self {
        self.max_connections = max;
        self
    }

    /// The `TimeZone` of the store's connections, in which `to_timestamp(...)` becomes the
    /// `timestamp` column. It must be the one the Express app's connections use, which is the
    /// server's default (node-postgres sets none; see `SHOW timezone` in `psql`). sqlx opens
    /// every connection with `TimeZone=UTC`, so leave this unset when the server's default is
    /// UTC (as on most hosted PostgreSQL and in the official Docker image), and set it to the
    /// server's default otherwise. Ignored with [`with_pool`](PostgresStore::with_pool).
    pub fn time_zone(mut self, zone: impl Into<String>) -> Self {
        self.time_zone = Some(zone.into());
        self
    }

    /// How often a background task deletes expired rows ([`PostgresStore::delete_expired`]);
    /// `None`, the default, starts no task (call `delete_expired` from a cron job, or let the
    /// Express app's connect-pg-simple prune, which it does every 15 minutes by default).
    /// Expired rows are never returned, pruned or not.
    pub fn prune_interval(mut self, interval: Option<Duration>) -> Self {
        self.prune_interval = interval;
        self
    }

    /// Whether the first call creates the tables that are missing
    /// ([`PostgresStore::migrate`]), as connect-pg-simple's `createTableIfMissing`; `true` by
    /// default. Turn it off when the application's role may not create tables, and run
    /// `migrate` (or the DDL of the crate docs) once with a role that may.
    pub fn migrate_on_first_use(mut self, migrate: bool) -> Self {
        self.migrate = migrate;
        self
    }

    /// Whether the load of a request also moves the session's expiry, in the same statement
    /// ([`Store::load_and_touch`](session_core::Store::load_and_touch)); `true` by default. A
    /// read-only request then costs one round trip instead of two (connect-pg-simple sends a
    /// `SELECT`, then an `UPDATE`), but a request that goes on to save its session writes the
    /// row twice (the touch, then the save). Turn it off when most requests change their
    /// session.
    pub fn touch_on_load(mut self, touch: bool) -> Self {
        self.touch_on_load = touch;
        self
    }

    /// Builds the store. Never waits for PostgreSQL: connections are opened on demand, so an
    /// app starts while the server is down, its session calls fail with
    /// [`StoreError::Unavailable`](session_core::StoreError::Unavailable) meanwhile, and
    /// service resumes by itself once the server answers. Must be called inside a tokio
    /// runtime.
    pub fn build(self) -> Result<PostgresStore, BuildError> {
        BuildError::check_limits(self.timeout, self.max_connections, self.prune_interval)?;
        if let Some(zone) = &self.time_zone {
            check("time zone", zone)?;
        }
        let tables = Tables::new(
            self.schema.as_deref(),
            &self.table,
            self.owner_table.as_deref(),
        )?;
        tokio::runtime::Handle::try_current().map_err(BuildError::NoRuntime)?;
        let acquire_timeout = self
            .acquire_timeout
            .unwrap_or(self.timeout)
            .min(self.timeout);
        let broken = Arc::new(Broken::default());
        let (pool, url) = match self.source {
            Source::Pool(pool) => (pool, "<pool>".to_owned()),
            Source::Url(url) => {
                check_scheme(&url)?;
                let options = PgConnectOptions::from_str(&url)
                    .map_err(BuildError::Url)?
                    .options([("statement_timeout", statement_timeout(self.timeout))]);
                let pool = pool_options(
                    self.max_connections,
                    acquire_timeout,
                    self.time_zone,
                    broken.clone(),
                )
                .connect_lazy_with(options);
                (pool, session_core::redact_url(&url))
            }
        };
        let inner = Arc::new(Inner {
            pool,
            sql: Statements::new(&tables),
            tables,
            limits: Limits {
                timeout: self.timeout,
                acquire_timeout,
            },
            broken,
            migrate: self.migrate,
            touch_on_load: self.touch_on_load,
            migrated: tokio::sync::OnceCell::new(),
            url,
            pruning: std::sync::Mutex::new(None),
        });
        if let Some(interval) = self.prune_interval {
            inner.start_pruning(interval);
        }
        Ok(PostgresStore { inner })
    }
}

/// The pool: no ping before each use (that would be a second round trip per call), and no
/// reuse of a connection opened before the last outage was seen (see [`Broken`]).
fn pool_options(
    max_connections: u32,
    acquire_timeout: Duration,
    time_zone: Option<String>,
    broken: Arc<Broken>,
) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(acquire_timeout)
        .test_before_acquire(false)
        .after_connect(move |connection, _| {
            let zone = time_zone.clone();
            Box::pin(async move {
                if let Some(zone) = zone {
                    sqlx::query("SELECT set_config('TimeZone', $1, false)")
                        .bind(zone)
                        .execute(connection)
                        .await?;
                }
                Ok(())
            })
        })
        .before_acquire(move |_, meta| {
            let fresh = broken.opened_after(meta.age);
            Box::pin(async move { Ok(fresh) })
        })
}

impl Broken {
    /// Whether a connection of this age was opened after the last outage the store saw.
    fn opened_after(&self, age: Duration) -> bool {
        let seen = self.at_ms.load(Ordering::Relaxed);
        seen == 0 || Broken::now_ms().saturating_sub(duration_ms(age)) > seen
    }
}

fn duration_ms(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl Default for Broken {
    fn default() -> Self {
        Self {
            at_ms: AtomicU64::new(0),
        }
    }
}

impl std::fmt::Debug for PostgresStoreBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let source = match &self.source {
            Source::Url(url) => session_core::redact_url(url),
            Source::Pool(_) => "<pool>".to_owned(),
        };
        f.debug_struct("PostgresStoreBuilder")
            .field("source", &source)
            .field("schema", &self.schema)
            .field("table", &self.table)
            .field("owner_table", &self.owner_table)
            .field("timeout", &self.timeout)
            .field("prune_interval", &self.prune_interval)
            .finish_non_exhaustive()
    }
}

/// The server's bound on a statement: 90 % of the call timeout, so that a statement stuck on
/// the server (waiting for a lock, say) is cancelled there, and reported as a timeout, before
/// the caller stops waiting (the caller's bound also covers the wait for a connection, so a
/// statement that started late may still land after its caller gave up).
fn statement_timeout(timeout: Duration) -> String {
    format!("{}ms", (timeout.as_millis() * 9 / 10).max(1))
}

/// Refuses a URL that is not PostgreSQL's (sqlx would read `mysql://...` as one).
fn check_scheme(url: &str) -> Result<(), BuildError> {
    let scheme = url.split_once("://").map_or("", |(scheme, _)| scheme);
    match scheme.to_ascii_lowercase().as_str() {
        "postgres" | "postgresql" => Ok(()),
        _ => Err(BuildError::UnsupportedScheme(scheme.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_gives_up_before_the_caller() {
        assert_eq!(statement_timeout(Duration::from_secs(2)), "1800ms");
        assert_eq!(statement_timeout(Duration::from_millis(1)), "1ms");
    }

    #[tokio::test]
    async fn refuses_bad_configuration_with_typed_errors() {
        let url = "postgres://postgres@127.0.0.1:1/test";
        assert!(matches!(
            PostgresStore::builder(url).timeout(Duration::ZERO).build(),
            Err(BuildError::ZeroTimeout)
        ));
        assert!(matches!(
            PostgresStore::builder(url).max_connections(0).build(),
            Err(BuildError::ZeroConnections)
        ));
        assert!(matches!(
            PostgresStore::builder(url)
                .prune_interval(Some(Duration::ZERO))
                .build(),
            Err(BuildError::ZeroPruneInterval)
        ));
        assert!(matches!(
            PostgresStore::builder(url).table("").build(),
            Err(BuildError::Name { what: "table", .. })
        ));
        assert!(matches!(
            PostgresStore::builder("mysql://x").build(),
            Err(BuildError::UnsupportedScheme(s)) if s == "mysql"
        ));
        assert!(matches!(
            PostgresStore::builder("postgres://x:notaport/db").build(),
            Err(BuildError::Url(_))
        ));
        assert!(PostgresStore::builder(url).build().is_ok());
    }

    #[test]
    fn needs_a_runtime_and_says_so() {
        assert!(matches!(
            PostgresStore::builder("postgres://127.0.0.1:1/x").build(),
            Err(BuildError::NoRuntime(_))
        ));
    }

    #[test]
    fn connections_opened_before_an_outage_are_not_reused() {
        let broken = Broken::default();
        assert!(
            broken.opened_after(Duration::from_secs(3600)),
            "no outage yet"
        );
        broken.saw_outage();
        std::thread::sleep(Duration::from_millis(5));
        assert!(!broken.opened_after(Duration::from_secs(1)));
        assert!(broken.opened_after(Duration::ZERO));
    }
}
