//! `Set-Cookie` values, attribute for attribute as express-session writes them (`cookie`
//! 0.7 `serialize`): `Domain`, `Path`, `Expires`, `HttpOnly`, `Secure`, `Partitioned`,
//! `Priority`, `SameSite`, in that order, with the value percent-encoded.

use std::time::SystemTime;

use crate::{calendar, config::CookiePolicy, cookie_header::encode_value_into};

/// The session cookie carrying a signed value, given in pieces that are written one after
/// the other (`["s:", id, ".", mac]`: a value kept in parts needs no joining first).
pub(crate) fn session_cookie(
    policy: &CookiePolicy,
    signed_value: &[&str],
    expires: Option<SystemTime>,
    secure: bool,
) -> String {
    let value_len: usize = signed_value.iter().map(|piece| piece.len()).sum();
    // Room for a value whose every byte is percent-encoded: no reallocation on the way.
    let mut out = String::with_capacity(policy.name.len() + 3 * value_len + attributes_len(policy));
    out.push_str(&policy.name);
    out.push('=');
    for piece in signed_value {
        encode_value_into(&mut out, piece);
    }
    write_attributes(&mut out, policy, expires, secure);
    out
}

/// A cookie that makes the browser drop the session cookie: empty value, expired in 1970,
/// with the same `Path` and `Domain` so that it replaces the right cookie.
pub(crate) fn removal_cookie(policy: &CookiePolicy, secure: bool) -> String {
    removal_of(policy, &policy.name, secure)
}

/// The same for cookie `name` (a cookie-mode signature cookie).
pub(crate) fn removal_of(policy: &CookiePolicy, name: &str, secure: bool) -> String {
    let mut out = String::with_capacity(name.len() + 1 + attributes_len(policy));
    out.push_str(name);
    out.push('=');
    write_attributes(&mut out, policy, Some(SystemTime::UNIX_EPOCH), secure);
    out
}

/// Cookie `name` with `value` written as it is (cookie mode's values are base64 already,
/// and npm cookie-session writes them unencoded), with the session cookie's attributes.
pub(crate) fn raw_cookie(
    policy: &CookiePolicy,
    name: &str,
    value: &str,
    expires: Option<SystemTime>,
    secure: bool,
) -> String {
    let mut out = String::with_capacity(name.len() + 1 + value.len() + attributes_len(policy));
    out.push_str(name);
    out.push('=');
    out.push_str(value);
    write_attributes(&mut out, policy, expires, secure);
    out
}

/// The most [`write_attributes`] writes for `policy`: its `Domain` and `Path`, and every other
/// attribute at its longest (`; Expires=` and an HTTP date are 39 bytes).
fn attributes_len(policy: &CookiePolicy) -> usize {
    const LONGEST_REST: usize = "; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; \
        Partitioned; Priority=Medium; SameSite=Strict"
        .len();
    let domain = policy
        .domain
        .as_ref()
        .map_or(0, |d| "; Domain=".len() + d.len());
    domain + "; Path=".len() + policy.path.len() + LONGEST_REST
}

fn write_attributes(
    out: &mut String,
    policy: &CookiePolicy,
    expires: Option<SystemTime>,
    secure: bool,
) {
    if let Some(domain) = &policy.domain {
        out.push_str("; Domain=");
        out.push_str(domain);
    }
    out.push_str("; Path=");
    out.push_str(&policy.path);
    if let Some(expires) = expires {
        out.push_str("; Expires=");
        calendar::write_http_date(out, crate::deadline::writable(expires));
    }
    if policy.http_only {
        out.push_str("; HttpOnly");
    }
    if secure {
        out.push_str("; Secure");
    }
    if policy.partitioned {
        out.push_str("; Partitioned");
    }
    if let Some(priority) = policy.priority {
        out.push_str("; Priority=");
        out.push_str(priority.as_attribute());
    }
    if let Some(same_site) = policy.same_site {
        out.push_str("; SameSite=");
        out.push_str(same_site.as_attribute());
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;
    use crate::{Priority, SameSite, Secure, SessionConfig};

    fn policy(
        configure: impl FnOnce(crate::SessionConfigBuilder) -> crate::SessionConfigBuilder,
    ) -> CookiePolicy {
        let builder = SessionConfig::builder()
            .secret("keyboard cat")
            .allow_short_secrets(true);
        configure(builder).build().unwrap().cookie
    }

    #[test]
    fn the_longest_attributes_fit_the_room_reserved_for_them() {
        let every = policy(|b| {
            b.domain(Some("sub.example.com".into()))
                .path("/some/path")
                .http_only(true)
                .secure(Secure::Always)
                .partitioned(true)
                .priority(Some(Priority::Medium))
                .same_site(Some(SameSite::Strict))
        });
        let mut out = String::new();
        write_attributes(&mut out, &every, Some(UNIX_EPOCH), true);
        assert_eq!(out.len(), attributes_len(&every), "{out}");
        // A value that is all percent-encoded, and a signed id as the reference app sets it:
        // neither outgrows the room reserved up front (a reallocation would change it).
        let plain = policy(|b| b);
        let signed = format!("s:{}.{}", "i".repeat(32), "m".repeat(43));
        for (policy, value) in [(&every, "s:+/=".repeat(20)), (&plain, signed)] {
            let reserved = policy.name.len() + 3 * value.len() + attributes_len(policy);
            let cookie = session_cookie(policy, &[&value], Some(UNIX_EPOCH), true);
            assert_eq!(cookie.capacity(), reserved, "{cookie}");
        }
    }

    #[test]
    fn matches_the_spec_example_with_every_attribute() {
        let policy = policy(|b| {
            b.domain(Some("example.com".into()))
                .secure(Secure::Always)
                .partitioned(true)
                .priority(Some(Priority::High))
                .same_site(Some(SameSite::None))
        });
        let expires = UNIX_EPOCH + Duration::from_millis(1_700_000_000_000 + 86_400_000);
        let value =
            "s:fQx3zKx4YlwQe9k1N7pPjXyZ0aBcDeFg.G/nVJ+3vzC2U/PWi/qY8GjACRPgsS2Y6kF2krvt9v30";
        assert_eq!(
            session_cookie(&policy, &[value], Some(expires), true),
            "connect.sid=s%3AfQx3zKx4YlwQe9k1N7pPjXyZ0aBcDeFg.G%2FnVJ%2B3vzC2U%2FPWi%2FqY8GjACRPgsS2Y6kF2krvt9v30; Domain=example.com; Path=/; Expires=Wed, 15 Nov 2023 22:13:20 GMT; HttpOnly; Secure; Partitioned; Priority=High; SameSite=None"
        );
    }

    #[test]
    fn express_defaults_give_path_and_httponly_only() {
        let policy = policy(|b| b.same_site(None));
        assert_eq!(
            session_cookie(&policy, &["s:a", ".b"], None, false),
            "connect.sid=s%3Aa.b; Path=/; HttpOnly"
        );
    }

    #[test]
    fn a_date_past_the_year_9999_is_written_as_its_last_second() {
        let policy = policy(|b| b);
        let far = UNIX_EPOCH + Duration::from_secs(1 << 40);
        let cookie = session_cookie(&policy, &["s:a.b"], Some(far), false);
        assert!(
            cookie.contains("Expires=Fri, 31 Dec 9999 23:59:59 GMT"),
            "{cookie}"
        );
    }

    #[test]
    fn removal_cookie_expires_in_1970_on_the_same_path() {
        let policy = policy(|b| b.path("/app").domain(Some("example.com".into())));
        assert_eq!(
            removal_cookie(&policy, false),
            "connect.sid=; Domain=example.com; Path=/app; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax"
        );
    }
}
