//! The Chrome DevTools Protocol over `--remote-debugging-pipe`: JSON messages, each ended by a
//! NUL byte, written to the browser's fd 3 and read from its fd 4 (`chromium.rs` connects
//! those to this process's pipes). A reader thread hands every message to a channel; replies
//! are matched to calls by id, and everything else is kept in order as an event log that the
//! checks read (`network.rs`).

use std::{
    io::{BufRead, BufReader, Read, Write},
    sync::mpsc::{self, Receiver, RecvTimeoutError},
    time::{Duration, Instant},
};

use serde_json::{json, Value};

use crate::Result;

/// How long a command may take before the browser is taken to be stuck.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// A DevTools connection: commands out, replies and events in.
pub(crate) struct Cdp {
    to_browser: Box<dyn Write + Send>,
    from_browser: Receiver<Value>,
    next_id: u64,
    events: Vec<Value>,
}

impl Cdp {
    /// A connection over the browser's pipe ends.
    pub(crate) fn new(
        to_browser: impl Write + Send + 'static,
        from_browser: impl Read + Send + 'static,
    ) -> Self {
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(from_browser);
            let mut message = Vec::new();
            while matches!(reader.read_until(0, &mut message), Ok(n) if n > 0) {
                message.pop_if(|byte| *byte == 0);
                if let Ok(value) = serde_json::from_slice::<Value>(&message) {
                    if sender.send(value).is_err() {
                        break;
                    }
                }
                message.clear();
            }
        });
        Self {
            to_browser: Box::new(to_browser),
            from_browser: receiver,
            next_id: 0,
            events: Vec::new(),
        }
    }

    /// Sends `method` (to the page attached as `session`, or to the browser) and waits for
    /// its result.
    pub(crate) fn call(
        &mut self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<Value> {
        let id = self.write(session, method, params)?;
        let deadline = Instant::now() + CALL_TIMEOUT;
        loop {
            let message = self
                .receive(deadline)
                .map_err(|e| format!("{method}: {e}"))?;
            if message["id"].as_u64() != Some(id) {
                self.events.push(message);
                continue;
            }
            return match message.get("error") {
                Some(error) => Err(format!("{method} failed: {error}")),
                None => Ok(message["result"].clone()),
            };
        }
    }

    /// Sends `method` to the browser without waiting for a reply (`Browser.close`, whose
    /// reply may never come as the browser goes away).
    pub(crate) fn send(&mut self, method: &str) -> Result {
        self.write(None, method, json!({})).map(drop)
    }

    fn write(&mut self, session: Option<&str>, method: &str, params: Value) -> Result<u64> {
        self.next_id += 1;
        let mut message = json!({ "id": self.next_id, "method": method, "params": params });
        if let Some(session) = session {
            message["sessionId"] = session.into();
        }
        let mut bytes = serde_json::to_vec(&message).map_err(|e| e.to_string())?;
        bytes.push(0);
        self.to_browser
            .write_all(&bytes)
            .and_then(|()| self.to_browser.flush())
            .map_err(|e| format!("{method}: the browser's pipe is closed ({e})"))?;
        Ok(self.next_id)
    }

    /// Where the event log ends now: events after this mark happened after this moment.
    pub(crate) fn mark(&self) -> usize {
        self.events.len()
    }

    /// The events received since `mark`, in order (without waiting for more).
    pub(crate) fn events_since(&self, mark: usize) -> &[Value] {
        self.events.get(mark..).unwrap_or_default()
    }

    /// Waits until an event after `mark` satisfies `wanted`, and returns it.
    pub(crate) fn wait_for(
        &mut self,
        mark: usize,
        timeout: Duration,
        what: &str,
        wanted: impl Fn(&Value) -> bool,
    ) -> Result<Value> {
        self.wait_until(mark, timeout, what, |events| {
            events.iter().find(|e| wanted(e)).cloned()
        })
    }

    /// Waits until `found` finds what it looks for in the events after `mark`.
    pub(crate) fn wait_until<T>(
        &mut self,
        mark: usize,
        timeout: Duration,
        what: &str,
        found: impl Fn(&[Value]) -> Option<T>,
    ) -> Result<T> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(found) = found(self.events_since(mark)) {
                return Ok(found);
            }
            let message = self
                .receive(deadline)
                .map_err(|e| format!("waiting for {what}: {e}"))?;
            self.events.push(message);
        }
    }

    fn receive(&mut self, deadline: Instant) -> std::result::Result<Value, String> {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.from_browser.recv_timeout(left) {
            Ok(message) => Ok(message),
            Err(RecvTimeoutError::Timeout) => Err("no answer from the browser in time".into()),
            Err(RecvTimeoutError::Disconnected) => Err("the browser closed its pipe".into()),
        }
    }
}
