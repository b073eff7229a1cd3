//! The one small HTTP/1.1 client the tasks use to talk to the servers they start.

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpStream},
    time::Duration,
};

use crate::Result;

/// A response: status, every `Set-Cookie` value in order, body.
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) set_cookies: Vec<String>,
    pub(crate) body: String,
}

impl Response {
    /// The `Set-Cookie` value for cookie `name`, if any.
    pub(crate) fn cookie(&self, name: &str) -> Option<&str> {
        self.set_cookies.iter().map(String::as_str).find(|value| {
            value
                .strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('='))
        })
    }
}

/// `GET path` with an optional `Cookie` header, on a fresh connection (`Connection: close`).
pub(crate) fn get(addr: SocketAddr, path: &str, cookie: Option<&str>) -> Result<Response> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    let cookie_line = cookie
        .map(|c| format!("Cookie: {c}\r\n"))
        .unwrap_or_default();
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{cookie_line}Connection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut raw = String::new();
    stream
        .read_to_string(&mut raw)
        .map_err(|e| format!("read from {addr}: {e}"))?;
    let (head, body) = raw
        .split_once("\r\n\r\n")
        .ok_or("response without a head")?;
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or("response without a status")?;
    let set_cookies = lines
        .filter_map(|line| line.split_once(':'))
        .filter(|(name, _)| name.eq_ignore_ascii_case("set-cookie"))
        .map(|(_, value)| value.trim().to_owned())
        .collect();
    Ok(Response {
        status,
        set_cookies,
        body: body.to_owned(),
    })
}
