//! The reference apps' configuration, from environment variables (see `examples/README.md`).

use std::{net::SocketAddr, time::Duration};

use session_core::{ConfigError, MemoryStore, Secure, SessionConfig, SessionManager, Unset};

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
        Ok(Self {
            addr,
            config: builder.build()?,
            generated_secret,
        })
    }

    /// The session manager the app runs on: the embedded memory store.
    pub async fn session_manager(&self) -> Result<SessionManager, SettingsError> {
        Ok(SessionManager::new(MemoryStore::new(), self.config.clone()))
    }

    /// The startup lines every reference app prints.
    pub fn banner(&self, app: &str) -> String {
        let mut banner = format!("{app}: listening on http://{}", self.addr);
        if self.generated_secret {
            banner.push_str(&format!(
                "\n{app}: SECRET is not set; generated a random secret, so sessions end when \
                 the process stops"
            ));
        }
        banner
    }
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
        ])
        .unwrap();
        assert_eq!(s.addr.to_string(), "0.0.0.0:8080");
        assert!(!s.generated_secret);
        assert_eq!(s.config.keyring().len(), 2);
        assert_eq!(s.config.cookie_name(), "sid");
        assert_eq!(s.config.max_age(), None);
        assert!(s.config.rolling() && s.config.resave() && !s.config.save_uninitialized());
    }

    #[test]
    fn bad_values_give_one_line_errors() {
        for vars in [
            &[("PORT", "eighty")][..],
            &[("ROLLING", "maybe")],
            &[("MAX_AGE_MS", "-5")],
            &[("HOST", "not a host")],
            &[("SECRET", "short")],
        ] {
            let error = settings(vars).unwrap_err().to_string();
            assert!(!error.contains('\n'), "{error}");
        }
    }
}
