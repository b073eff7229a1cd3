//! The reference apps' configuration, from environment variables (see `examples/README.md`).

use std::{net::SocketAddr, time::Duration};

use session_core::{ConfigError, MemoryStore, Secure, SessionConfig, SessionManager, Unset};
use session_redis::RedisStore;

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
}

/// Where the sessions live (`STORE`).
#[derive(Debug, Clone, PartialEq, Eq)]
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
    },
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
    /// Where the sessions live (`STORE`, `REDIS_URL`, `REDIS_PREFIX`).
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
        let mut builder = SessionConfig::builder()
            .secrets(secrets)
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
            .unset(var("UNSET").choice(
                "keep or destroy",
                &[("keep", Unset::Keep), ("destroy", Unset::Destroy)],
                Unset::Keep,
            )?);
        if let Some(name) = var("COOKIE_NAME").value {
            builder = builder.cookie_name(name);
        }
        let store = match var("STORE").choice(
            "memory or redis",
            &[("memory", StoreKind::Memory), ("redis", StoreKind::Redis)],
            StoreKind::Memory,
        )? {
            StoreKind::Memory => StoreChoice::Memory,
            StoreKind::Redis => StoreChoice::Redis {
                url: var("REDIS_URL")
                    .value
                    .filter(|url| !url.is_empty())
                    .unwrap_or_else(|| DEFAULT_REDIS_URL.to_owned()),
                prefix: var("REDIS_PREFIX")
                    .value
                    .unwrap_or_else(|| session_redis::DEFAULT_PREFIX.to_owned()),
            },
        };
        Ok(Self {
            addr,
            config: builder.build()?,
            generated_secret,
            store,
        })
    }

    /// The session manager the app runs on, over the store `STORE` chose. With Redis this
    /// does not wait for Redis: the app starts while Redis is down, answers `503` to requests
    /// that need their session meanwhile, and recovers by itself.
    pub async fn session_manager(&self) -> Result<SessionManager, SettingsError> {
        match &self.store {
            StoreChoice::Memory => Ok(SessionManager::new(MemoryStore::new(), self.config.clone())),
            StoreChoice::Redis { url, prefix } => {
                let store = RedisStore::builder(url.as_str())
                    .prefix(prefix.as_str())
                    .build()
                    .map_err(|source| SettingsError::Redis {
                        url: redacted(url),
                        source,
                    })?;
                Ok(SessionManager::new(store, self.config.clone()))
            }
        }
    }

    /// The startup lines every reference app prints.
    pub fn banner(&self, app: &str) -> String {
        let mut banner = format!("{app}: listening on http://{}", self.addr);
        if let StoreChoice::Redis { url, prefix } = &self.store {
            banner.push_str(&format!(
                "\n{app}: sessions in Redis at {} under prefix {prefix:?}",
                redacted(url)
            ));
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
    Redis,
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

/// `url` without the password it may carry, for messages.
fn redacted(url: &str) -> String {
    match (url.split_once("://"), url.rfind('@')) {
        (Some((scheme, _)), Some(at)) => format!("{scheme}://***@{}", &url[at + 1..]),
        _ => url.to_owned(),
    }
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
    }

    #[test]
    fn redis_store_defaults_to_local_redis_and_connect_redis_prefix() {
        let s = settings(&[("STORE", "redis")]).unwrap();
        assert_eq!(
            s.store,
            StoreChoice::Redis {
                url: "redis://127.0.0.1:6379".into(),
                prefix: "sess:".into()
            }
        );
        // REDIS_URL and REDIS_PREFIX mean nothing to the memory store.
        let s = settings(&[("STORE", "Memory"), ("REDIS_URL", "redis://x:1")]).unwrap();
        assert_eq!(s.store, StoreChoice::Memory);
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
                prefix: "myapp:".into()
            }
        );
    }

    #[test]
    fn bad_values_give_one_line_errors() {
        for vars in [
            &[("PORT", "eighty")][..],
            &[("ROLLING", "maybe")],
            &[("MAX_AGE_MS", "-5")],
            &[("HOST", "not a host")],
            &[("SECRET", "short")],
            &[("STORE", "postgres")],
        ] {
            let error = settings(vars).unwrap_err().to_string();
            assert!(!error.contains('\n'), "{error}");
        }
    }
}
