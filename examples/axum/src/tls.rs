//! The opt-in HTTPS mode: with `TLS_CERT` and `TLS_KEY` (PEM files) the app serves HTTPS with
//! axum-server and rustls (ring), and marks every request as arrived over TLS, so that
//! `SECURE=auto` makes the cookie `Secure`.

use std::{ffi::OsString, path::PathBuf};

use axum::{Extension, Router};
use axum_server::tls_rustls::RustlsConfig;
use session_axum::Https;

/// The certificate chain and private key to serve HTTPS with.
#[derive(Debug)]
pub(crate) struct Tls {
    cert: PathBuf,
    key: PathBuf,
}

impl Tls {
    /// `TLS_CERT` and `TLS_KEY` from the environment: both set (and not empty) is HTTPS,
    /// neither is plain HTTP, one without the other is an error.
    pub(crate) fn from_env() -> Result<Option<Self>, String> {
        Self::from_lookup(|name| std::env::var_os(name))
    }

    /// The same, read through `lookup`.
    fn from_lookup(lookup: impl Fn(&str) -> Option<OsString>) -> Result<Option<Self>, String> {
        let var = |name| lookup(name).filter(|value| !value.is_empty());
        match (var("TLS_CERT"), var("TLS_KEY")) {
            (None, None) => Ok(None),
            (Some(cert), Some(key)) => Ok(Some(Self {
                cert: cert.into(),
                key: key.into(),
            })),
            (Some(_), None) => {
                Err("TLS_CERT is set but TLS_KEY is not: set both, or neither".into())
            }
            (None, Some(_)) => {
                Err("TLS_KEY is set but TLS_CERT is not: set both, or neither".into())
            }
        }
    }

    /// Serves `app` over HTTPS on `listener` until the server fails.
    pub(crate) async fn serve(
        self,
        listener: tokio::net::TcpListener,
        app: Router,
    ) -> Result<(), String> {
        // Say which provider rustls uses, whatever features the rest of the build enables.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let config = RustlsConfig::from_pem_file(&self.cert, &self.key)
            .await
            .map_err(|e| {
                format!(
                    "cannot use TLS_CERT={:?} and TLS_KEY={:?}: {e}",
                    self.cert, self.key
                )
            })?;
        let listener = listener.into_std().map_err(|e| e.to_string())?;
        let server = axum_server::from_tcp_rustls(listener, config).map_err(|e| e.to_string())?;
        server
            .serve(app.layer(Extension(Https)).into_make_service())
            .await
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tls(vars: &[(&str, &str)]) -> Result<Option<Tls>, String> {
        Tls::from_lookup(|name| {
            vars.iter()
                .find(|(set, _)| *set == name)
                .map(|(_, value)| OsString::from(value))
        })
    }

    #[test]
    fn both_files_or_neither() {
        assert!(tls(&[]).unwrap().is_none());
        assert!(tls(&[("TLS_CERT", ""), ("TLS_KEY", "")]).unwrap().is_none());
        let both = tls(&[("TLS_CERT", "c.pem"), ("TLS_KEY", "k.pem")])
            .unwrap()
            .unwrap();
        assert_eq!(
            (both.cert.to_str(), both.key.to_str()),
            (Some("c.pem"), Some("k.pem"))
        );
        for one in [("TLS_CERT", "c.pem"), ("TLS_KEY", "k.pem")] {
            let error = tls(&[one]).unwrap_err();
            assert!(
                error.contains("set both") && !error.contains('\n'),
                "{error}"
            );
        }
    }

    #[tokio::test]
    async fn unreadable_files_are_a_one_line_error() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let missing = Tls {
            cert: "/nonexistent/cert.pem".into(),
            key: "/nonexistent/key.pem".into(),
        };
        let error = missing.serve(listener, Router::new()).await.unwrap_err();
        assert!(error.starts_with("cannot use TLS_CERT="), "{error}");
    }
}
