//! The cookies as the browser holds them (`Storage.getCookies`).

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// One cookie in the browser's jar.
#[derive(Debug, Clone)]
pub(crate) struct Cookie {
    pub(crate) name: String,
    pub(crate) value: String,
    pub(crate) domain: String,
    pub(crate) path: String,
    /// Name and value together, as the browser counts them against its 4096-byte limit.
    pub(crate) size: usize,
    pub(crate) http_only: bool,
    pub(crate) secure: bool,
    /// `Strict`, `Lax` or `None`; absent when the cookie did not say.
    pub(crate) same_site: Option<String>,
    /// A browser-session cookie (no `Expires`): gone when the browser quits.
    pub(crate) session: bool,
    /// When it expires, in seconds since the epoch (meaningless for a session cookie).
    pub(crate) expires: f64,
    /// The top-level site whose partition holds it, for a `Partitioned` cookie.
    pub(crate) partition: Option<String>,
}

impl Cookie {
    /// Reads one entry of `Storage.getCookies`.
    pub(crate) fn from_cdp(cookie: &Value) -> Self {
        let text = |key: &str| cookie[key].as_str().unwrap_or_default().to_owned();
        Self {
            name: text("name"),
            value: text("value"),
            domain: text("domain"),
            path: text("path"),
            size: cookie["size"]
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .unwrap_or_default(),
            http_only: cookie["httpOnly"] == true,
            secure: cookie["secure"] == true,
            same_site: cookie["sameSite"].as_str().map(str::to_owned),
            session: cookie["session"] == true,
            expires: cookie["expires"].as_f64().unwrap_or(-1.0),
            partition: cookie["partitionKey"]["topLevelSite"]
                .as_str()
                .map(str::to_owned),
        }
    }

    /// Seconds until it expires (negative for a session cookie).
    pub(crate) fn expires_in(&self) -> f64 {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        if self.session {
            -1.0
        } else {
            self.expires - now
        }
    }

    /// The id part of a signed session cookie (`s%3A<id>.<mac>`), to tell sessions apart.
    pub(crate) fn session_id(&self) -> &str {
        let unsigned = self.value.strip_prefix("s%3A").unwrap_or(&self.value);
        unsigned.split('.').next().unwrap_or_default()
    }

    /// One line for a screenshot's caption: everything but the value.
    pub(crate) fn describe(&self) -> String {
        let mut line = format!(
            "{} on {}{}: {} bytes",
            self.name, self.domain, self.path, self.size
        );
        for (flag, on) in [(" HttpOnly", self.http_only), (" Secure", self.secure)] {
            if on {
                line.push_str(flag);
            }
        }
        if let Some(same_site) = &self.same_site {
            line.push_str(&format!(" SameSite={same_site}"));
        }
        if self.session {
            line.push_str(", browser session");
        } else {
            line.push_str(&format!(", expires in {}", human(self.expires_in())));
        }
        if let Some(site) = &self.partition {
            line.push_str(&format!(", Partitioned under {site}"));
        }
        line
    }
}

/// The cookies named `name` that the browser would send to `host`.
pub(crate) fn named<'a>(jar: &'a [Cookie], host: &str, name: &str) -> Vec<&'a Cookie> {
    jar.iter()
        .filter(|c| c.name == name && c.domain == host)
        .collect()
}

/// The captions' lines for every cookie of `host` (or a line saying there is none).
pub(crate) fn describe_jar(jar: &[Cookie], host: &str) -> Vec<String> {
    let lines: Vec<String> = jar
        .iter()
        .filter(|c| c.domain == host)
        .map(|c| format!("jar: {}", c.describe()))
        .collect();
    if lines.is_empty() {
        vec![format!("jar: no cookie for {host}")]
    } else {
        lines
    }
}

/// `seconds` as "29 min 59 s" or "30 days".
fn human(seconds: f64) -> String {
    let whole = seconds.max(0.0).round() as u64;
    match whole {
        0..=5_999 => format!("{} min {} s", whole / 60, whole % 60),
        6_000..=172_799 => format!("{:.1} h", seconds / 3600.0),
        _ => format!("{:.1} days", seconds / 86_400.0),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_a_partitioned_cookie_and_describes_it_without_its_value() {
        let cookie = Cookie::from_cdp(&json!({
            "name": "connect.sid", "value": "s%3Aabc.mac", "domain": "chips.test", "path": "/",
            "size": 91, "httpOnly": true, "secure": true, "sameSite": "None", "session": false,
            "expires": 1.0, "partitionKey": {"topLevelSite": "https://embed.test"}
        }));
        assert_eq!(cookie.session_id(), "abc");
        assert_eq!(cookie.partition.as_deref(), Some("https://embed.test"));
        let line = cookie.describe();
        assert!(
            line.starts_with("connect.sid on chips.test/: 91 bytes HttpOnly Secure SameSite=None")
        );
        assert!(
            line.ends_with("Partitioned under https://embed.test"),
            "{line}"
        );
        assert!(!line.contains("abc"), "{line}");
    }

    #[test]
    fn lifetimes_read_as_a_person_would() {
        assert_eq!(human(1_800.0), "30 min 0 s");
        assert_eq!(human(7_200.0), "2.0 h");
        assert_eq!(human(2_592_000.0), "30.0 days");
    }
}
