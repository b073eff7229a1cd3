//! [`Jar`]: a browser that keeps every cookie it is sent, by name, as a real browser does.
//! Cookie mode needs it: npm cookie-session's format sets two cookies (`<name>` and
//! `<name>.sig`), and a response may renew one without the other.

use std::net::SocketAddr;

use crate::{client, Response};

/// A cookie jar for one site: stores each `Set-Cookie` by name, drops a cookie on a removal,
/// and sends every cookie it holds back in one `Cookie` header.
#[derive(Debug, Clone)]
pub struct Jar {
    addr: SocketAddr,
    /// The cookies held, `(name, value)`, in the order they were first set; values
    /// percent-encoded as received.
    pub cookies: Vec<(String, String)>,
    /// Extra headers sent with every request.
    pub extra_headers: Vec<(String, Vec<u8>)>,
}

impl Jar {
    /// An empty jar for the server at `addr`.
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            cookies: Vec::new(),
            extra_headers: Vec::new(),
        }
    }

    /// The same cookies for another server, like a second app on the same domain.
    pub fn at(&self, addr: SocketAddr) -> Self {
        Self {
            addr,
            ..self.clone()
        }
    }

    /// The value of cookie `name`, if held.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(held, _)| held == name)
            .map(|(_, value)| value.as_str())
    }

    /// Holds cookie `name` with `value`, replacing what was held under that name.
    pub fn set(&mut self, name: &str, value: &str) {
        match self.cookies.iter_mut().find(|(held, _)| held == name) {
            Some((_, held)) => value.clone_into(held),
            None => self.cookies.push((name.to_owned(), value.to_owned())),
        }
    }

    /// The `Cookie` header this jar sends, if it holds any cookie.
    pub fn header(&self) -> Option<String> {
        (!self.cookies.is_empty()).then(|| {
            self.cookies
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    /// Stores what `response`'s `Set-Cookie` headers say, in order, as a browser does when
    /// the response arrives.
    pub fn absorb(&mut self, response: &Response) {
        for cookie in response.set_cookies() {
            if cookie.is_removal() {
                self.cookies.retain(|(held, _)| *held != cookie.name);
            } else {
                self.set(&cookie.name, &cookie.value);
            }
        }
    }

    /// `GET path` without storing the answer's cookies (see [`absorb`](Self::absorb)), to
    /// play responses back in a chosen order.
    pub async fn send(&self, path: &str) -> Response {
        let cookie = self.header();
        let mut headers: Vec<(&str, &[u8])> = self
            .extra_headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_slice()))
            .collect();
        if let Some(cookie) = &cookie {
            headers.push(("Cookie", cookie.as_bytes()));
        }
        client::get(self.addr, path, &headers).await
    }

    /// `GET path`, sending the cookies held and storing what comes back.
    pub async fn get(&mut self, path: &str) -> Response {
        let response = self.send(path).await;
        self.absorb(&response);
        response
    }
}
