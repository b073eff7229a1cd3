//! A keep-alive HTTP/1.1 client for the soak's browsers. `http::get` opens a connection per
//! request (`Connection: close`); at a few thousand requests per second that would leave tens
//! of thousands of sockets in `TIME_WAIT`, so each browser keeps one connection open and
//! reconnects only after a failure.

use std::{
    io::{BufRead, BufReader, ErrorKind, Read, Write},
    net::{SocketAddr, TcpStream},
    time::Duration,
};

/// What became of one request.
pub(super) enum Answer {
    /// A complete response: status, the first `Set-Cookie` value's `name=value` part, body.
    Reply {
        status: u16,
        cookie: Option<String>,
        body: String,
    },
    /// No complete response within the read timeout.
    TimedOut,
    /// The connection could not be made, or broke before a complete response.
    Broken,
}

/// One browser's connection to the app.
pub(super) struct Client {
    addr: SocketAddr,
    timeout: Duration,
    connection: Option<BufReader<TcpStream>>,
}

impl Client {
    /// A client of `addr` that waits at most `timeout` for any read.
    pub(super) fn new(addr: SocketAddr, timeout: Duration) -> Self {
        Self {
            addr,
            timeout,
            connection: None,
        }
    }

    /// `GET path` with an optional `Cookie`; a failed request drops the connection.
    pub(super) fn get(&mut self, path: &str, cookie: Option<&str>) -> Answer {
        match self.exchange(path, cookie) {
            Ok((answer, keep)) => {
                if !keep {
                    self.connection = None;
                }
                answer
            }
            Err(error) => {
                self.connection = None;
                match error.kind() {
                    ErrorKind::WouldBlock | ErrorKind::TimedOut => Answer::TimedOut,
                    _ => Answer::Broken,
                }
            }
        }
    }

    fn exchange(&mut self, path: &str, cookie: Option<&str>) -> std::io::Result<(Answer, bool)> {
        if self.connection.is_none() {
            let stream = TcpStream::connect_timeout(&self.addr, self.timeout)?;
            stream.set_read_timeout(Some(self.timeout))?;
            stream.set_nodelay(true)?;
            self.connection = Some(BufReader::new(stream));
        }
        let Some(connection) = self.connection.as_mut() else {
            return Err(ErrorKind::NotConnected.into());
        };
        let cookie_line = cookie
            .map(|c| format!("Cookie: {c}\r\n"))
            .unwrap_or_default();
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\n{cookie_line}\r\n",
            self.addr
        );
        connection.get_mut().write_all(request.as_bytes())?;
        read_response(connection)
    }
}

/// Reads one response; also says whether the connection may carry another request.
fn read_response(reader: &mut BufReader<TcpStream>) -> std::io::Result<(Answer, bool)> {
    let invalid = |what: &str| std::io::Error::new(ErrorKind::InvalidData, what.to_owned());
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err(ErrorKind::UnexpectedEof.into());
    }
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| invalid("no status"))?;
    let (mut length, mut cookie, mut keep) = (None, None, true);
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(ErrorKind::UnexpectedEof.into());
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let Some((name, value)) = header.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.parse::<usize>().map_err(|_| invalid("bad length"))?);
        } else if name.eq_ignore_ascii_case("set-cookie") && cookie.is_none() {
            cookie = value.split(';').next().map(str::to_owned);
        } else if name.eq_ignore_ascii_case("connection") && value.eq_ignore_ascii_case("close") {
            keep = false;
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(invalid("chunked responses are not expected from the app"));
        }
    }
    let mut body = Vec::new();
    match length {
        Some(length) => {
            body.resize(length, 0);
            reader.read_exact(&mut body)?;
        }
        None => {
            reader.read_to_end(&mut body)?;
            keep = false;
        }
    }
    let body = String::from_utf8_lossy(&body).into_owned();
    Ok((
        Answer::Reply {
            status,
            cookie,
            body,
        },
        keep,
    ))
}
