//! The browser's side of the cookie-mode interop test: a cookie jar, and what a
//! `Set-Cookie` header says (name, value, attributes, `Expires`).

use std::time::{Duration, SystemTime};

use crate::{http, Result};

use super::App;

/// A browser's cookies for the one domain both apps serve.
#[derive(Default, Clone)]
pub(super) struct Jar {
    pub(super) cookies: Vec<(String, String)>,
}

impl Jar {
    pub(super) fn value(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(held, _)| held == name)
            .map(|(_, value)| value.as_str())
    }

    /// `GET path` on `app` with every cookie held, keeping what `Set-Cookie` says (a cookie
    /// with an empty value or expired in 1970 is dropped).
    pub(super) fn get(&mut self, app: &App, path: &str) -> Result<http::Response> {
        let header = self
            .cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ");
        let response = http::get(app.addr, path, (!header.is_empty()).then_some(&*header))?;
        for set_cookie in &response.set_cookies {
            let (name, value) = pair(set_cookie);
            self.cookies.retain(|(held, _)| held != name);
            if !value.is_empty() && !set_cookie.contains("1970") {
                self.cookies.push((name.to_owned(), value.to_owned()));
            }
        }
        Ok(response)
    }
}

/// The names of the cookies a response sets.
pub(super) fn names(response: &http::Response) -> Vec<&str> {
    response
        .set_cookies
        .iter()
        .map(|header| pair(header).0)
        .collect()
}

/// The `name` and `value` of a `Set-Cookie` header.
pub(super) fn pair(header: &str) -> (&str, &str) {
    let first = header.split(';').next().unwrap_or_default();
    let (name, value) = first.split_once('=').unwrap_or((first, ""));
    (name.trim(), value.trim())
}

/// The attributes of a `Set-Cookie` header but `Expires`, lower-cased and sorted: what
/// both sides must agree on (Node writes `path=/`, Rust `Path=/`).
pub(super) fn attributes(header: &str) -> Vec<String> {
    let mut attributes: Vec<String> = header
        .split(';')
        .skip(1)
        .map(|attribute| attribute.trim().to_ascii_lowercase())
        .filter(|attribute| !attribute.starts_with("expires="))
        .collect();
    attributes.sort();
    attributes
}

/// The `Expires` of a `Set-Cookie` header.
pub(super) fn expires(header: &str) -> Option<SystemTime> {
    header.split(';').find_map(|attribute| {
        let (name, value) = attribute.trim().split_once('=')?;
        name.eq_ignore_ascii_case("expires")
            .then(|| parse_http_date(value.trim()))
            .flatten()
    })
}

/// Whether two times are within 3 s of each other (the two responses are not sent at once).
pub(super) fn near(a: SystemTime, b: SystemTime) -> bool {
    let gap = a
        .duration_since(b)
        .or_else(|_| b.duration_since(a))
        .unwrap_or_default();
    gap <= Duration::from_secs(3)
}

/// An IMF-fixdate (`Tue, 01 Dec 2026 05:13:36 GMT`), the only form either side writes.
fn parse_http_date(text: &str) -> Option<SystemTime> {
    let parts: Vec<&str> = text.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| m == month)? as u64
        + 1;
    let (day, year): (u64, u64) = (day.parse().ok()?, year.parse().ok()?);
    let clock: Vec<u64> = time
        .split(':')
        .map(|n| n.parse().ok())
        .collect::<Option<_>>()?;
    let [hours, minutes, seconds] = clock.as_slice() else {
        return None;
    };
    // Days from 1970-01-01 to the civil date (Howard Hinnant's algorithm).
    let (y, m) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y / 400;
    let year_of_era = y - era * 400;
    let day_of_year = (153 * m + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = (era * 146_097 + day_of_era).checked_sub(719_468)?;
    let secs = days * 86_400 + hours * 3600 + minutes * 60 + seconds;
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_both_sides_write() {
        let node = "session=eyJjb3VudCI6MH0=; path=/; expires=Tue, 01 Dec 2026 05:23:36 GMT; \
                    samesite=lax; httponly";
        let rust = "session=eyJjb3VudCI6MH0=; Path=/; Expires=Tue, 01 Dec 2026 05:23:37 GMT; \
                    HttpOnly; SameSite=Lax";
        assert_eq!(pair(node), ("session", "eyJjb3VudCI6MH0="));
        assert_eq!(attributes(node), attributes(rust));
        let (at_node, at_rust) = (expires(node).unwrap(), expires(rust).unwrap());
        assert!(near(at_node, at_rust));
        let since_epoch = at_node.duration_since(SystemTime::UNIX_EPOCH).unwrap();
        assert_eq!(since_epoch.as_secs(), 1_796_102_616);
        assert_eq!(
            expires("a=; Expires=Thu, 01 Jan 1970 00:00:00 GMT"),
            Some(SystemTime::UNIX_EPOCH)
        );
    }
}
