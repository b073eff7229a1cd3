//! Cookie mode's reading of untrusted cookies, through the public API, in both formats:
//!
//! - whatever the `Cookie` header bytes, loading gives a session (a fresh one for anything
//!   that does not open) and finishing never fails but for a session too large for its
//!   cookie;
//! - whatever JSON data a session holds, the cookies it is written into, sent back, read as
//!   the same data.

use session_core::{CookieFormat, RequestFacts, SessionConfig, SessionError, SessionManager};

fn manager(format: CookieFormat) -> SessionManager {
    let config = SessionConfig::builder()
        .secret("cookie mode property secret, 32 bytes!")
        .build()
        .expect("config");
    SessionManager::in_cookie(format, config).expect("cookie mode")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Any header bytes read as some session, and its end writes what it must.
pub(crate) fn check_any_cookie(format: CookieFormat, headers: &[Vec<u8>]) {
    let manager = manager(format);
    runtime().block_on(async {
        let request = manager.begin(
            headers.iter().map(Vec::as_slice),
            RequestFacts::plain_http(),
        );
        let session = request
            .session()
            .await
            .unwrap_or_else(|e| panic!("cookie mode never fails to load: {e} ({headers:?})"));
        let _ = session.insert("touched", true);
        match request.finish().await {
            Ok(cookies) => assert!(cookies.len() <= 2, "{cookies:?}"),
            Err(SessionError::TooLarge { .. }) => {}
            Err(other) => panic!("finish failed: {other} ({headers:?})"),
        }
    });
}

/// `data` written into cookies and sent back reads as itself.
pub(crate) fn check_round_trip(
    format: CookieFormat,
    data: &serde_json::Map<String, serde_json::Value>,
) {
    let manager = manager(format);
    runtime().block_on(async {
        let request = manager.begin([], RequestFacts::plain_http());
        let session = request.session().await.expect("a new session");
        for (key, value) in data {
            if session.insert_value(key, value.clone()).is_err() {
                return; // a reserved key: refused, nothing to check
            }
        }
        let cookies = match request.finish().await {
            Ok(cookies) => cookies,
            Err(SessionError::TooLarge { .. }) => return,
            Err(other) => panic!("finish failed: {other}"),
        };
        let jar: Vec<String> = cookies
            .iter()
            .map(|c| c.split(';').next().expect("name=value").to_owned())
            .collect();
        let header = jar.join("; ");
        let again = manager.begin([header.as_bytes()], RequestFacts::plain_http());
        let session = again.session().await.expect("the written session");
        let read: serde_json::Map<_, _> = session
            .keys()
            .into_iter()
            .map(|key| {
                let value = session.get_value(&key).expect("present");
                (key, value)
            })
            .collect();
        assert_eq!(&read, data, "{format:?}");
    });
}
