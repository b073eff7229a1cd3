//! [`redact_url`]: a store's connection URL without its credentials, for `Debug` and logs.

/// The URL without its credentials, for `Debug` and logs: the user and password before `@`,
/// and the value of every query parameter that names a user, a password or a secret
/// (`sentinelUsername`, `sentinelPassword`, ...). Any `scheme://user:password@host/path?query`
/// URL works (a PostgreSQL one too).
///
/// ```
/// assert_eq!(
///     session_core::redact_url("redis-sentinel://:pw@h:26379/0?sentinelPassword=pw2&node=h2"),
///     "redis-sentinel://***@h:26379/0?sentinelPassword=***&node=h2"
/// );
/// ```
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "<unparsable url>".to_owned();
    };
    let (before_query, query) = match rest.split_once('?') {
        Some((before, query)) => (before, Some(query)),
        None => (rest, None),
    };
    let authority_end = before_query.find('/').unwrap_or(before_query.len());
    let mut out = match before_query[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://***@{}", &before_query[at + 1..]),
        None => format!("{scheme}://{before_query}"),
    };
    if let Some(query) = query {
        let params: Vec<String> = query
            .split('&')
            .map(|param| match param.split_once('=') {
                Some((name, _)) if is_credential(name) => format!("{name}=***"),
                _ => param.to_owned(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

fn is_credential(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.contains("password") || name.contains("username") || name.contains("secret")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_credentials() {
        assert_eq!(
            redact_url("redis://user:pw@host:6379/0"),
            "redis://***@host:6379/0"
        );
        assert_eq!(redact_url("redis://host:6379"), "redis://host:6379");
        assert_eq!(
            redact_url("redis-sentinel://:p@h:26379/0?sentinelServiceName=m"),
            "redis-sentinel://***@h:26379/0?sentinelServiceName=m"
        );
        assert_eq!(redact_url("nonsense"), "<unparsable url>");
        assert_eq!(
            redact_url("redis-sentinel://h:26379/0?sentinelServiceName=m&sentinelUsername=u&sentinelPassword=hunter2&node=h2:26379"),
            "redis-sentinel://h:26379/0?sentinelServiceName=m&sentinelUsername=***&sentinelPassword=***&node=h2:26379"
        );
        assert_eq!(
            redact_url("postgres://app:secret@db:5432/app?sslmode=require&password=x"),
            "postgres://***@db:5432/app?sslmode=require&password=***"
        );
    }
}
