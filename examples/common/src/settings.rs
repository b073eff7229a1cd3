//! The reference apps' configuration, from environment variables (see `examples/README.md`).

use std::{net::SocketAddr, time::Duration};

use session_core::{
    ConfigError, ConflictPolicy, CookieFormat, MemoryStore, SameSite, Secure, SessionConfig,
    SessionManager, Unset,
};
use session_redis::{NearCache, RedisStore};
use session_sql::{PostgresStore, SqliteStore};

/// A setting the app cannot start with; its `Display` is one line for the terminal.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// A variable holds a value that does not parse.
    #[error("{name}={value:?} is invalid: expected {expected}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// What it held.
        value: String,
        /// What it should hold.
        expected: &'static str,
    },
    /// The session configuration was refused.
    #[error("invalid session configuration: {0}")]
    Config(#[from] ConfigError),
    /// The OS random generator failed while making a secret.
    #[error("could not generate a random secret")]
    Random,
    /// The Redis store could not be set up (a bad `REDIS_URL`; Redis being down is not an
    /// error: the app starts and reconnects by itself).
    #[error("cannot use REDIS_URL={url:?}: {source}")]
    Redis {
        /// The URL, without its password.
        url: String,
        /// Why.
        #[source]
        source: session_redis::BuildError,
    },
    /// The PostgreSQL store could not be set up (a bad `DATABASE_URL`, `PG_SCHEMA` or
    /// `PG_TABLE`; PostgreSQL being down is not an error: the app starts and connects when it
    /// can).
    #[error("cannot use DATABASE_URL={url:?}: {source}")]
    Postgres {
        /// The URL, without its password.
        url: String,
        /// Why.
        #[source]
        source: session_sql::BuildError,
    },
    /// The SQLite store could not be set up.
    #[error("cannot use SQLITE_PATH={path:?}: {source}")]
    Sqlite {
        /// The path.
        path: String,
        /// Why.
        #[source]
        source: session_sql::BuildError,
    },
}

/// Where the sessions live (`STORE`).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreChoice {
    /// The embedded memory store (`STORE=memory`, the default): sessions end with the process.
    Memory,
    /// Redis, in connect-redis's format (`STORE=redis`), shared with any app using the same
    /// Redis, prefix, secret and cookie name.
    Redis {
        /// `REDIS_URL`, default `redis://127.0.0.1:6379`.
        url: String,
        /// `REDIS_PREFIX`, default `sess:`.
        prefix: String,
        /// `REDIS_NEAR_CACHE`, default `false`: keep a [`NearCache`] of sessions in the
        /// process, kept coherent by Redis's client tracking.
        near_cache: bool,
    },
    /// PostgreSQL, in connect-pg-simple's table (`STORE=postgres`), shared with any app using
    /// the same database, schema, table, secret and cookie name.
    Postgres {
        /// `DATABASE_URL`, default `postgres://postgres@127.0.0.1:5432/postgres`.
        url: String,
        /// `PG_SCHEMA`, default none (the search path).
        schema: Option<String>,
        /// `PG_TABLE`, default `session`.
        table: String,
    },
    /// The session in the cookie itself, no store (`STORE=cookie`), in `COOKIE_MODE`
    /// `encrypted` (the default) or `cookie-session` (npm cookie-session's signed format,
    /// shared with any app using the same keys and cookie name).
    Cookie(CookieFormat),
    /// SQLite (`STORE=sqlite`): a file, or `:memory:`.
    Sqlite {
        /// `SQLITE_PATH`, default `sessions.db`.
        path: String,
    },
}

/// Prints URLs without their credentials.
impl std::fmt::Debug for StoreChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Memory => f.write_str("Memory"),
            Self::Cookie(format) => f.debug_tuple("Cookie").field(format).finish(),
            Self::Redis {
                url,
                prefix,
                near_cache,
            } => f
                .debug_struct("Redis")
                .field("url", &redacted(url))
                .field("prefix", prefix)
                .field("near_cache", near_cache)
                .finish(),
            Self::Postgres { url, schema, table } => f
                .debug_struct("Postgres")
                .field("url", &redacted(url))
                .field("schema", schema)
                .field("table", table)
                .finish(),
            Self::Sqlite { path } => f.debug_struct("Sqlite").field("path", path).finish(),
        }
    }
}

/// The reference app's settings.
#[derive(Debug)]
pub struct Settings {
    /// Where to listen (`HOST`, `PORT`).
    pub addr: SocketAddr,
    /// The session configuration (`SECRET`, `COOKIE_NAME`, `MAX_AGE_MS`, ...).
    pub config: SessionConfig,
    /// Whether `SECRET` was missing and a random secret was generated.
    pub generated_secret: bool,
    /// Where the sessions live (`STORE`, `REDIS_URL`, `REDIS_PREFIX`, `DATABASE_URL`,
    /// `PG_SCHEMA`, `PG_TABLE`, `SQLITE_PATH`).
    pub store: StoreChoice,
}

impl Settings {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let var = |name: &'static str| Var {
            name,
            value: lookup(name),
        };
        let host = var("HOST").value.unwrap_or_else(|| "127.0.0.1".to_owned());
        let port: u16 = var("PORT").parse("a port number", 3000)?;
        let addr = format!("{host}:{port}")
            .parse()
            .map_err(|_| SettingsError::Invalid {
                name: "HOST",
                value: host,
                expected: "an IP address",
            })?;

        let (secrets, generated_secret) = match var("SECRET").value {
            Some(list) if !list.is_empty() => (list.split(',').map(str::to_owned).collect(), false),
            _ => (vec![random_secret()?], true),
        };
        let max_age = match var("MAX_AGE_MS").value {
            None => Some(Duration::from_millis(1_800_000)),
            Some(empty) if empty.is_empty() => None,
            Some(ms) => Some(Duration::from_millis(
                Var {
                    name: "MAX_AGE_MS",
                    value: Some(ms),
                }
                .parse("milliseconds, or empty for a browser-session cookie", 0)?,
            )),
        };
        let absolute_timeout = match var("ABSOLUTE_TIMEOUT_MS").value {
            None => None,
            Some(empty) if empty.is_empty() => None,
            Some(ms) => Some(Duration::from_millis(
                Var {
                    name: "ABSOLUTE_TIMEOUT_MS",
                    value: Some(ms),
                }
                .parse("milliseconds, or empty for no absolute timeout", 0)?,
            )),
        };
        let mut builder = SessionConfig::builder()
            .secrets(secrets)
            .user_key("user")
            .absolute_timeout(absolute_timeout)
            .serialize_requests(var("SERIALIZE_REQUESTS").flag(false)?)
            .conflicts(var("ON_CONFLICT").choice(
                "last-writer-wins or reject",
                &[
                    ("last-writer-wins", ConflictPolicy::LastWriterWins),
                    ("reject", ConflictPolicy::Reject),
                ],
                ConflictPolicy::LastWriterWins,
            )?)
            .allow_short_secrets(var("ALLOW_SHORT_SECRET").flag(false)?)
            .max_age(max_age)
            .rolling(var("ROLLING").flag(false)?)
            .resave(var("RESAVE").flag(false)?)
            .save_uninitialized(var("SAVE_UNINITIALIZED").flag(true)?)
            .trust_proxy(var("TRUST_PROXY").flag(false)?)
            .secure(var("SECURE").choice(
                "auto, always or never",
                &[
                    ("auto", Secure::Auto),
                    ("always", Secure::Always),
                    ("never", Secure::Never),
                ],
                Secure::Auto,
            )?)
            .same_site(Some(var("SAME_SITE").choice(
                "lax, strict or none",
                &[
                    ("lax", SameSite::Lax),
                    ("strict", SameSite::Strict),
                    ("none", SameSite::None),
                ],
                SameSite::Lax,
            )?))
            .partitioned(var("PARTITIONED").flag(false)?)
            .unset(var("UNSET").choice(
                "keep or destroy",
                &[("keep", Unset::Keep), ("destroy", Unset::Destroy)],
                Unset::Keep,
            )?);
        if let Some(name) = var("COOKIE_NAME").value {
            builder = builder.cookie_name(name);
        }
        let store = match var("STORE").choice(
            "memory, redis, postgres, sqlite or cookie",
            &[
                ("memory", StoreKind::Memory),
                ("redis", StoreKind::Redis),
                ("postgres", StoreKind::Postgres),
                ("sqlite", StoreKind::Sqlite),
                ("cookie", StoreKind::Cookie),
            ],
            StoreKind::Memory,
        )? {
            StoreKind::Memory => StoreChoice::Memory,
            StoreKind::Cookie => StoreChoice::Cookie(var("COOKIE_MODE").choice(
                "encrypted or cookie-session",
                &[
                    ("encrypted", CookieFormat::Encrypted),
                    ("cookie-session", CookieFormat::CookieSession),
                ],
                CookieFormat::Encrypted,
            )?),
            StoreKind::Redis => StoreChoice::Redis {
                url: var("REDIS_URL")
                    .value
                    .filter(|url| !url.is_empty())
                    .unwrap_or_else(|| DEFAULT_REDIS_URL.to_owned()),
                prefix: var("REDIS_PREFIX")
                    .value
                    .unwrap_or_else(|| session_redis::DEFAULT_PREFIX.to_owned()),
                near_cache: var("REDIS_NEAR_CACHE").flag(false)?,
            },
            StoreKind::Postgres => StoreChoice::Postgres {
                url: var("DATABASE_URL")
                    .value
                    .filter(|url| !url.is_empty())
                    .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned()),
                schema: var("PG_SCHEMA").value.filter(|schema| !schema.is_empty()),
                table: var("PG_TABLE")
                    .value
                    .filter(|table| !table.is_empty())
                    .unwrap_or_else(|| session_sql::DEFAULT_TABLE.to_owned()),
            },
            StoreKind::Sqlite => StoreChoice::Sqlite {
                path: var("SQLITE_PATH")
                    .value
                    .filter(|path| !path.is_empty())
                    .unwrap_or_else(|| DEFAULT_SQLITE_PATH.to_owned()),
            },
        };
        Ok(Self {
            addr,
            config: builder.build()?,
            generated_secret,
            store,
        })
    }

    /// The session manager the app runs on, over the store `STORE` chose. With Redis or
    /// PostgreSQL this does not wait for the server: the app starts while it is down, answers
    /// `503` to requests that need their session meanwhile, and recovers by itself.
    pub async fn session_manager(&self) -> Result<SessionManager, SettingsError> {
        match &self.store {
            StoreChoice::Memory => Ok(SessionManager::new(MemoryStore::new(), self.config.clone())),
            StoreChoice::Cookie(format) => {
                Ok(SessionManager::in_cookie(*format, self.config.clone())?)
            }
            StoreChoice::Redis {
                url,
                prefix,
                near_cache,
            } => {
                let mut store = RedisStore::builder(url.as_str()).prefix(prefix.as_str());
                if *near_cache {
                    store = store.near_cache(NearCache::new());
                }
                let store = store.build().map_err(|source| SettingsError::Redis {
                    url: redacted(url),
                    source,
                })?;
                Ok(SessionManager::new(store, self.config.clone()))
            }
            StoreChoice::Postgres { url, schema, table } => {
                let mut builder = PostgresStore::builder(url.as_str()).table(table.as_str());
                if let Some(schema) = schema {
                    builder = builder.schema(schema.as_str());
                }
                let store = builder.build().map_err(|source| SettingsError::Postgres {
                    url: redacted(url),
                    source,
                })?;
                Ok(SessionManager::new(store, self.config.clone()))
            }
            StoreChoice::Sqlite { path } => {
                let store = SqliteStore::builder(path.as_str())
                    .build()
                    .map_err(|source| SettingsError::Sqlite {
                        path: path.clone(),
                        source,
                    })?;
                Ok(SessionManager::new(store, self.config.clone()))
            }
        }
    }

    /// The startup lines every reference app prints.
    pub fn banner(&self, app: &str) -> String {
        let mut banner = format!("{app}: listening on http://{}", self.addr);
        if let StoreChoice::Redis {
            url,
            prefix,
            near_cache,
        } = &self.store
        {
            banner.push_str(&format!(
                "\n{app}: sessions in Redis at {} under prefix {prefix:?}{}",
                redacted(url),
                if *near_cache {
                    ", with a near cache"
                } else {
                    ""
                }
            ));
        }
        if let StoreChoice::Postgres { url, schema, table } = &self.store {
            let place = match schema {
                Some(schema) => format!("{schema}.{table}"),
                None => table.clone(),
            };
            banner.push_str(&format!(
                "\n{app}: sessions in PostgreSQL at {} in table {place:?}",
                redacted(url)
            ));
        }
        if let StoreChoice::Sqlite { path } = &self.store {
            banner.push_str(&format!("\n{app}: sessions in SQLite at {path:?}"));
        }
        if let StoreChoice::Cookie(format) = &self.store {
            let format = match format {
                CookieFormat::CookieSession => "cookie-session's signed format",
                _ => "encrypted",
            };
            banner.push_str(&format!("\n{app}: sessions in the cookie ({format})"));
        }
        if self.generated_secret {
            banner.push_str(&format!(
                "\n{app}: SECRET is not set; generated a random secret, so sessions end when \
                 the process stops"
            ));
        }
        banner
    }
}

#[derive(Clone, Copy)]
enum StoreKind {
    Memory,
    Cookie,
    Redis,
    Postgres,
    Sqlite,
}

struct Var {
    name: &'static str,
    value: Option<String>,
}

impl Var {
    fn invalid(self, expected: &'static str) -> SettingsError {
        SettingsError::Invalid {
            name: self.name,
            value: self.value.unwrap_or_default(),
            expected,
        }
    }

    fn parse<T: std::str::FromStr>(
        self,
        expected: &'static str,
        default: T,
    ) -> Result<T, SettingsError> {
        match &self.value {
            None => Ok(default),
            Some(text) => text.trim().parse().map_err(|_| self.invalid(expected)),
        }
    }

    fn flag(self, default: bool) -> Result<bool, SettingsError> {
        let choices = [
            ("true", true),
            ("1", true),
            ("yes", true),
            ("false", false),
            ("0", false),
            ("no", false),
        ];
        self.choice("true or false", &choices, default)
    }

    fn choice<T: Copy>(
        self,
        expected: &'static str,
        choices: &[(&str, T)],
        default: T,
    ) -> Result<T, SettingsError> {
        let Some(text) = &self.value else {
            return Ok(default);
        };
        let wanted = text.trim().to_ascii_lowercase();
        match choices.iter().find(|(name, _)| *name == wanted) {
            Some((_, value)) => Ok(*value),
            None => Err(self.invalid(expected)),
        }
    }
}

/// The default `REDIS_URL`.
pub const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

/// The default `DATABASE_URL`.
pub(crate) const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The default `SQLITE_PATH`.
pub(crate) const DEFAULT_SQLITE_PATH: &str = "sessions.db";

/// `url` without the credentials it may carry, for messages and `Debug`.
fn redacted(url: &str) -> String {
    session_core::redact_url(url)
}

fn random_secret() -> Result<String, SettingsError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|_| SettingsError::Random)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_follow_the_contract() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.addr.to_string(), "127.0.0.1:3000");
        assert!(s.generated_secret);
        assert_eq!(s.config.cookie_name(), "connect.sid");
        assert_eq!(s.config.max_age(), Some(Duration::from_millis(1_800_000)));
        assert!(!s.config.rolling() && !s.config.resave() && s.config.save_uninitialized());
        assert_eq!(s.store, StoreChoice::Memory);
        assert_eq!(s.config.absolute_timeout(), None);
        assert_eq!(s.config.serialize_requests(), None);
        assert_eq!(s.config.conflicts(), ConflictPolicy::LastWriterWins);
        assert!(s.config.user_key().is_some(), "/logout-everywhere needs it");
    }

    #[test]
    fn reads_the_integrity_settings() {
        let s = settings(&[
            ("ABSOLUTE_TIMEOUT_MS", "5000"),
            ("SERIALIZE_REQUESTS", "true"),
            ("ON_CONFLICT", "reject"),
        ])
        .unwrap();
        assert_eq!(s.config.absolute_timeout(), Some(Duration::from_secs(5)));
        assert!(s.config.serialize_requests().is_some());
        assert_eq!(s.config.conflicts(), ConflictPolicy::Reject);
        for vars in [
            &[("ABSOLUTE_TIMEOUT_MS", "0")][..],
            &[("ON_CONFLICT", "merge")],
        ] {
            let error = settings(vars).unwrap_err().to_string();
            assert!(!error.contains('\n'), "{error}");
        }
    }

    #[test]
    fn redis_store_defaults_to_local_redis_and_connect_redis_prefix() {
        let s = settings(&[("STORE", "redis")]).unwrap();
        assert_eq!(
            s.store,
            StoreChoice::Redis {
                url: "redis://127.0.0.1:6379".into(),
                prefix: "sess:".into(),
                near_cache: false,
            }
        );
        // REDIS_URL and REDIS_PREFIX mean nothing to the memory store.
        let s = settings(&[("STORE", "Memory"), ("REDIS_URL", "redis://x:1")]).unwrap();
        assert_eq!(s.store, StoreChoice::Memory);
    }

    #[tokio::test]
    async fn cookie_mode_is_a_store_choice() {
        let s = settings(&[
            ("STORE", "cookie"),
            ("SECRET", "a secret of at least thirty-two bytes!"),
        ])
        .unwrap();
        assert_eq!(s.store, StoreChoice::Cookie(CookieFormat::Encrypted));
        assert!(s.session_manager().await.is_ok());
        let s = settings(&[("STORE", "cookie"), ("COOKIE_MODE", "cookie-session")]).unwrap();
        assert_eq!(s.store, StoreChoice::Cookie(CookieFormat::CookieSession));
        assert!(settings(&[("STORE", "cookie"), ("COOKIE_MODE", "plain")]).is_err());
        let short = settings(&[
            ("STORE", "cookie"),
            ("SECRET", "keyboard cat"),
            ("ALLOW_SHORT_SECRET", "true"),
        ])
        .unwrap();
        let refused = short.session_manager().await.unwrap_err().to_string();
        assert!(
            refused.contains("secret"),
            "encryption needs 32 bytes: {refused}"
        );
    }

    #[test]
    fn debug_never_prints_a_password() {
        for vars in [
            &[
                ("STORE", "redis"),
                ("REDIS_URL", "redis://:hunter2@127.0.0.1:1"),
            ][..],
            &[
                ("STORE", "redis"),
                (
                    "REDIS_URL",
                    "redis-sentinel://h:26379/0?sentinelPassword=hunter2",
                ),
            ],
            &[
                ("STORE", "postgres"),
                ("DATABASE_URL", "postgres://app:hunter2@db/sessions"),
            ],
        ] {
            let printed = format!("{:?}", settings(vars).unwrap());
            assert!(!printed.contains("hunter2"), "{printed}");
        }
    }

    #[tokio::test]
    async fn a_redis_manager_starts_while_redis_is_down() {
        // Port 1 on loopback: nothing listens there.
        let s = settings(&[
            ("SECRET", "a secret of at least thirty-two bytes!"),
            ("STORE", "redis"),
            ("REDIS_URL", "redis://:hunter2@127.0.0.1:1"),
        ])
        .unwrap();
        assert!(s.session_manager().await.is_ok());
        let banner = s.banner("app");
        assert!(banner.contains("redis://***@127.0.0.1:1") && !banner.contains("hunter2"));
    }

    #[tokio::test]
    async fn database_stores_read_their_variables_and_start_while_the_server_is_down() {
        let s = settings(&[("STORE", "postgres")]).unwrap();
        assert_eq!(
            s.store,
            StoreChoice::Postgres {
                url: DEFAULT_DATABASE_URL.into(),
                schema: None,
                table: "session".into()
            }
        );
        let s = settings(&[
            ("SECRET", "a secret of at least thirty-two bytes!"),
            ("STORE", "postgres"),
            ("DATABASE_URL", "postgres://app:hunter2@127.0.0.1:1/app"),
            ("PG_SCHEMA", "auth"),
            ("PG_TABLE", "web_session"),
        ])
        .unwrap();
        assert!(s.session_manager().await.is_ok());
        let banner = s.banner("app");
        assert!(
            banner.contains("auth.web_session") && !banner.contains("hunter2"),
            "{banner}"
        );
        let s = settings(&[("STORE", "postgres"), ("DATABASE_URL", "mysql://x")]).unwrap();
        let error = s.session_manager().await.unwrap_err().to_string();
        assert!(
            error.starts_with("cannot use DATABASE_URL") && !error.contains('\n'),
            "{error}"
        );

        let s = settings(&[("STORE", "sqlite")]).unwrap();
        assert_eq!(
            s.store,
            StoreChoice::Sqlite {
                path: "sessions.db".into()
            }
        );
        let s = settings(&[("STORE", "SQLite"), ("SQLITE_PATH", ":memory:")]).unwrap();
        assert!(s.session_manager().await.is_ok());
    }

    #[tokio::test]
    async fn a_bad_redis_url_is_a_one_line_error() {
        let s = settings(&[("STORE", "redis"), ("REDIS_URL", "http://:pw@example.com")]).unwrap();
        let error = s.session_manager().await.unwrap_err().to_string();
        assert!(error.starts_with("cannot use REDIS_URL"), "{error}");
        assert!(!error.contains('\n') && !error.contains("pw@"), "{error}");
    }

    #[test]
    fn reads_every_variable() {
        let s = settings(&[
            ("PORT", "8080"),
            ("HOST", "0.0.0.0"),
            ("SECRET", "keyboard cat,old secret"),
            ("ALLOW_SHORT_SECRET", "true"),
            ("COOKIE_NAME", "sid"),
            ("MAX_AGE_MS", ""),
            ("ROLLING", "1"),
            ("RESAVE", "yes"),
            ("SAVE_UNINITIALIZED", "false"),
            ("STORE", "redis"),
            ("REDIS_URL", "redis://10.0.0.5:6380/2"),
            ("REDIS_PREFIX", "myapp:"),
            ("REDIS_NEAR_CACHE", "yes"),
        ])
        .unwrap();
        assert_eq!(s.addr.to_string(), "0.0.0.0:8080");
        assert!(!s.generated_secret);
        assert_eq!(s.config.keyring().len(), 2);
        assert_eq!(s.config.cookie_name(), "sid");
        assert_eq!(s.config.max_age(), None);
        assert!(s.config.rolling() && s.config.resave() && !s.config.save_uninitialized());
        assert_eq!(
            s.store,
            StoreChoice::Redis {
                url: "redis://10.0.0.5:6380/2".into(),
                prefix: "myapp:".into(),
                near_cache: true,
            }
        );
    }

    #[test]
    fn cross_site_cookies_need_secure_always() {
        assert!(settings(&[("SAME_SITE", "Strict")]).is_ok());
        assert!(settings(&[
            ("SAME_SITE", "none"),
            ("PARTITIONED", "yes"),
            ("SECURE", "always")
        ])
        .is_ok());
    }

    #[test]
    fn bad_values_give_one_line_errors() {
        for vars in [
            &[("PORT", "eighty")][..],
            &[("ROLLING", "maybe")],
            &[("MAX_AGE_MS", "-5")],
            &[("HOST", "not a host")],
            &[("SECRET", "short")],
            &[("STORE", "mongodb")],
            &[("SAME_SITE", "sometimes")],
            // Browsers drop these cookies, so the configuration refuses them.
            &[("SAME_SITE", "none")],
            &[("PARTITIONED", "true")],
        ] {
            let error = settings(vars).unwrap_err().to_string();
            assert!(!error.contains('\n'), "{error}");
        }
    }
}
