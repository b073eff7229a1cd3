//! [`UserKey`]: how the configuration names the user a session belongs to, so that a store can
//! list a user's sessions and the manager can revoke them all ("log out everywhere").

use std::{fmt, sync::Arc};

use serde_json::{Map, Value};

/// Where a session's user is found in its data. The value found must be a non-empty string or
/// a number (taken as its decimal text); anything else means "no user".
///
/// ```
/// use serde_json::json;
/// use session_core::UserKey;
///
/// let data = json!({"user": "ann", "passport": {"user": 7}});
/// let data = data.as_object().expect("an object");
/// assert_eq!(UserKey::path("user").user_of(data).as_deref(), Some("ann"));
/// assert_eq!(UserKey::path("/passport/user").user_of(data).as_deref(), Some("7"));
/// assert_eq!(UserKey::path("missing").user_of(data), None);
/// let custom = UserKey::custom(|data| data.get("user")?.as_str().map(str::to_uppercase));
/// assert_eq!(custom.user_of(data).as_deref(), Some("ANN"));
/// ```
#[derive(Clone)]
pub enum UserKey {
    /// A top-level key (`"user"`), or a JSON pointer (`"/passport/user"`, Passport's place).
    Path(String),
    /// A function of the session data.
    Custom(FindUser),
}

/// A function that finds the user in a session's data.
pub type FindUser = Arc<dyn Fn(&Map<String, Value>) -> Option<String> + Send + Sync>;

impl UserKey {
    /// The user is the value of a top-level key, or of a JSON pointer when `path` starts
    /// with `/`.
    pub fn path(path: impl Into<String>) -> Self {
        Self::Path(path.into())
    }

    /// The user is what `find` returns for the session data.
    pub fn custom(
        find: impl Fn(&Map<String, Value>) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        Self::Custom(Arc::new(find))
    }

    /// The user that `data` belongs to, if any.
    pub fn user_of(&self, data: &Map<String, Value>) -> Option<String> {
        let user = match self {
            Self::Path(path) => match path.strip_prefix('/') {
                Some(_) => pointer(data, path).and_then(as_user),
                None => data.get(path).and_then(as_user),
            },
            Self::Custom(find) => find(data),
        };
        user.filter(|user| !user.is_empty())
    }
}

/// A JSON pointer (RFC 6901) into the session object.
fn pointer<'a>(data: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut tokens = path.split('/').skip(1);
    let first = unescape(tokens.next()?);
    let value = data.get(first.as_str())?;
    let rest: String = tokens.map(|token| format!("/{token}")).collect();
    value.pointer(&rest)
}

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

fn as_user(value: &Value) -> Option<String> {
    match value {
        Value::String(user) => Some(user.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

impl fmt::Debug for UserKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Path(path) => f.debug_tuple("UserKey::Path").field(path).finish(),
            Self::Custom(_) => f.write_str("UserKey::Custom(..)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn data(value: Value) -> Map<String, Value> {
        value.as_object().cloned().expect("object")
    }

    #[test]
    fn only_strings_and_numbers_name_a_user() {
        let key = UserKey::path("user");
        for (value, user) in [
            (json!("ann"), Some("ann")),
            (json!(42), Some("42")),
            (json!(""), None),
            (json!(null), None),
            (json!(true), None),
            (json!({"id": 1}), None),
        ] {
            assert_eq!(
                key.user_of(&data(json!({ "user": value }))).as_deref(),
                user
            );
        }
    }

    #[test]
    fn pointers_reach_nested_values_and_unescape() {
        let d = data(json!({"passport": {"user": "p"}, "a/b": {"c~d": "e"}}));
        assert_eq!(
            UserKey::path("/passport/user").user_of(&d).as_deref(),
            Some("p")
        );
        assert_eq!(
            UserKey::path("/a~1b/c~0d").user_of(&d).as_deref(),
            Some("e")
        );
        assert_eq!(UserKey::path("/passport/none").user_of(&d), None);
        assert_eq!(UserKey::path("/").user_of(&d), None);
    }
}
