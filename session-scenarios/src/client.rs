//! A small HTTP/1.1 client over TCP, able to send the malformed headers that browsers and
//! attackers send (non-UTF-8 bytes, 8 KiB cookies, a name twice), and a [`Browser`] that keeps
//! the session cookie between requests.

use std::{net::SocketAddr, time::SystemTime};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// A response as received.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Every header, in order, names lower-cased.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body as text.
    pub body: String,
}

impl Response {
    /// Every `Set-Cookie` header, parsed.
    pub fn set_cookies(&self) -> Vec<SetCookie> {
        self.headers
            .iter()
            .filter(|(name, _)| name == "set-cookie")
            .map(|(_, value)| SetCookie::parse(&String::from_utf8_lossy(value)))
            .collect()
    }

    /// The `Set-Cookie` for cookie `name`; panics if there are several.
    pub fn cookie(&self, name: &str) -> Option<SetCookie> {
        let mut found: Vec<_> = self
            .set_cookies()
            .into_iter()
            .filter(|c| c.name == name)
            .collect();
        assert!(
            found.len() <= 1,
            "more than one Set-Cookie for {name}: {found:?}"
        );
        found.pop()
    }
}

/// One parsed `Set-Cookie` header.
#[derive(Debug, Clone, PartialEq)]
pub struct SetCookie {
    /// The header as received.
    pub raw: String,
    /// The cookie name.
    pub name: String,
    /// The cookie value, still percent-encoded.
    pub value: String,
    /// The attributes in order: (name, value).
    pub attributes: Vec<(String, Option<String>)>,
}

impl SetCookie {
    fn parse(raw: &str) -> Self {
        let mut parts = raw.split(';');
        let (name, value) = parts
            .next()
            .unwrap_or_default()
            .split_once('=')
            .unwrap_or_default();
        let attributes = parts
            .map(|part| match part.trim().split_once('=') {
                Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
                None => (part.trim().to_owned(), None),
            })
            .collect();
        Self {
            raw: raw.to_owned(),
            name: name.trim().to_owned(),
            value: value.to_owned(),
            attributes,
        }
    }

    /// The value of attribute `name` (case-insensitive): `Some(None)` for a flag.
    pub fn attribute(&self, name: &str) -> Option<Option<&str>> {
        self.attributes
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_deref())
    }

    /// Whether the flag or attribute is present.
    pub fn has(&self, name: &str) -> bool {
        self.attribute(name).is_some()
    }

    /// The `Expires` date.
    pub fn expires(&self) -> Option<SystemTime> {
        httpdate::parse_http_date(self.attribute("Expires")??).ok()
    }

    /// Whether this header asks the browser to drop the cookie.
    pub fn is_removal(&self) -> bool {
        self.value.is_empty() || self.expires().is_some_and(|at| at <= SystemTime::now())
    }

    /// The attribute names in order.
    pub fn attribute_names(&self) -> Vec<&str> {
        self.attributes.iter().map(|(k, _)| k.as_str()).collect()
    }
}

/// Sends `GET path` with the given extra header lines (raw bytes allowed) and reads the
/// whole response.
pub async fn get(addr: SocketAddr, path: &str, headers: &[(&str, &[u8])]) -> Response {
    let mut request =
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n").into_bytes();
    for (name, value) in headers {
        request.extend_from_slice(name.as_bytes());
        request.extend_from_slice(b": ");
        request.extend_from_slice(value);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"\r\n");
    let mut stream = TcpStream::connect(addr)
        .await
        .expect("connect to test server");
    stream.write_all(&request).await.expect("send request");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read response");
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> Response {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("response has a head");
    let head = String::from_utf8_lossy(&raw[..split]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("status line");
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status code");
    let headers: Vec<(String, Vec<u8>)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().as_bytes().to_vec()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case(b"chunked"));
    if chunked {
        body = dechunk(&body);
    }
    Response {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = body.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size_text = String::from_utf8_lossy(&body[..eol]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("0").trim(), 16)
            .unwrap_or(0);
        if size == 0 || body.len() < eol + 2 + size {
            return out;
        }
        out.extend_from_slice(&body[eol + 2..eol + 2 + size]);
        body = &body[(eol + 4 + size).min(body.len())..];
    }
}

/// A client that keeps the session cookie like a browser: stores it from `Set-Cookie`,
/// drops it on a removal cookie, and sends it back.
#[derive(Debug, Clone)]
pub struct Browser {
    addr: SocketAddr,
    cookie_name: String,
    /// The stored cookie value (percent-encoded, as received).
    pub cookie: Option<String>,
    /// Extra headers sent with every request.
    pub extra_headers: Vec<(String, Vec<u8>)>,
}

impl Browser {
    /// A browser with no cookie for the server at `addr`.
    pub fn new(addr: SocketAddr, cookie_name: &str) -> Self {
        Self {
            addr,
            cookie_name: cookie_name.to_owned(),
            cookie: None,
            extra_headers: Vec::new(),
        }
    }

    /// Points the browser at another server (same cookie jar), like a second app on the domain.
    pub fn at(&self, addr: SocketAddr) -> Self {
        Self {
            addr,
            ..self.clone()
        }
    }

    /// `GET path`, sending the stored cookie and storing what comes back.
    pub async fn get(&mut self, path: &str) -> Response {
        let cookie_header = self
            .cookie
            .as_ref()
            .map(|v| format!("{}={v}", self.cookie_name));
        let mut headers: Vec<(&str, &[u8])> = self
            .extra_headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_slice()))
            .collect();
        if let Some(cookie) = &cookie_header {
            headers.push(("Cookie", cookie.as_bytes()));
        }
        let response = get(self.addr, path, &headers).await;
        if let Some(set) = response.cookie(&self.cookie_name) {
            self.cookie = (!set.is_removal()).then_some(set.value);
        }
        response
    }
}
