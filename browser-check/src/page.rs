//! One browser tab: navigating as a person does (typing a URL, clicking a link), loading an
//! image from another site, running a script, and taking a captioned screenshot.

use std::{
    path::Path,
    time::{Duration, Instant},
};

use base64::Engine as _;
use serde_json::{json, Value};

use crate::{cdp::Cdp, cookies::Cookie, network::Exchange, Result};

/// How long a page may take to load.
const LOAD_TIMEOUT: Duration = Duration::from_secs(15);
/// How long the browser's account of a finished request may trail it.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(5);

/// A tab the checks drive.
pub(crate) struct Page<'b> {
    cdp: &'b mut Cdp,
    session: String,
}

/// What a navigation showed.
#[derive(Debug)]
pub(crate) struct Visit {
    /// The page's text (the reference app answers `text/plain`).
    pub(crate) body: String,
    /// The browser's account of the document request.
    pub(crate) exchange: Exchange,
}

impl<'b> Page<'b> {
    /// Takes over the tab attached as `session`, with page and network events on.
    pub(crate) fn attach(cdp: &'b mut Cdp, session: String) -> Result<Self> {
        let mut page = Self { cdp, session };
        page.call("Page.enable", json!({}))?;
        page.call("Network.enable", json!({}))?;
        Ok(page)
    }

    /// Goes to `url` as typed into the address bar (a browser-initiated navigation).
    pub(crate) fn goto(&mut self, url: &str) -> Result<Visit> {
        let mark = self.cdp.mark();
        let navigated = self.call("Page.navigate", json!({ "url": url }))?;
        if let Some(error) = navigated["errorText"].as_str() {
            return Err(format!("cannot open {url}: {error}"));
        }
        self.finish_load(mark, url)
    }

    /// Clicks a link to `url` on the current page (a navigation the page starts, which is
    /// what `SameSite` judges by the page's site).
    pub(crate) fn click_link(&mut self, url: &str) -> Result<Visit> {
        let mark = self.cdp.mark();
        self.eval(&format!(
            "const a = document.createElement('a'); a.href = {}; a.textContent = 'link'; \
             document.body.append(a); a.click(); true",
            json!(url)
        ))?;
        self.finish_load(mark, url)
    }

    /// Submits a `POST` form to `url` from the current page (a top-level navigation that is
    /// not "safe", which `SameSite=Lax` does not allow cross-site).
    pub(crate) fn post_form(&mut self, url: &str) -> Result<Visit> {
        let mark = self.cdp.mark();
        self.eval(&format!(
            "const f = document.createElement('form'); f.method = 'post'; f.action = {}; \
             document.body.append(f); f.submit(); true",
            json!(url)
        ))?;
        self.finish_load(mark, url)
    }

    /// Loads `url` as an `<img>` of the current page (a subresource) and returns the
    /// browser's account of the request.
    pub(crate) fn load_image(&mut self, url: &str) -> Result<Exchange> {
        let mark = self.cdp.mark();
        self.eval(&format!(
            "new Promise(done => {{ const img = new Image(); img.onload = img.onerror = () => \
             done(true); img.src = {}; document.body.append(img); }})",
            json!(url)
        ))?;
        self.exchange(mark, url)
    }

    /// Runs `script` in the page and returns its value (awaiting a promise).
    pub(crate) fn eval(&mut self, script: &str) -> Result<Value> {
        let result = self.call(
            "Runtime.evaluate",
            json!({ "expression": script, "awaitPromise": true, "returnByValue": true }),
        )?;
        if let Some(error) = result.get("exceptionDetails") {
            let text = &error["exception"]["description"];
            return Err(format!("script failed: {}", text.as_str().unwrap_or("?")));
        }
        Ok(result["result"]["value"].clone())
    }

    /// Puts `cookie` back in the jar as it was (a client replaying an old cookie).
    pub(crate) fn set_cookie(&mut self, cookie: &Cookie) -> Result {
        let mut params = json!({
            "name": cookie.name, "value": cookie.value, "domain": cookie.domain,
            "path": cookie.path, "secure": cookie.secure, "httpOnly": cookie.http_only,
        });
        if let Some(same_site) = &cookie.same_site {
            params["sameSite"] = json!(same_site);
        }
        if !cookie.session {
            params["expires"] = json!(cookie.expires);
        }
        let set = self.call("Network.setCookie", params)?;
        if set["success"] == false {
            return Err(format!("the browser refused to set {}", cookie.name));
        }
        Ok(())
    }

    /// Writes a screenshot of the page to `path`, with `caption` laid over its top.
    pub(crate) fn screenshot(&mut self, path: &Path, caption: &[String]) -> Result {
        self.eval(&format!(
            "(() => {{ const box = document.createElement('div'); box.style = {}; \
             box.textContent = {}; document.documentElement.prepend(box); return true; }})()",
            json!(
                "font: 13px/1.45 monospace; white-space: pre-wrap; background: #fff8d6; \
                 border-bottom: 2px solid #c9a400; padding: 8px 12px; margin: 0 0 8px 0"
            ),
            json!(caption.join("\n"))
        ))?;
        let shot = self.call("Page.captureScreenshot", json!({ "format": "png" }))?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap_or_default())
            .map_err(|e| format!("screenshot: {e}"))?;
        std::fs::write(path, png).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Waits for the load that began after `mark`, then reads the page and the document
    /// request.
    fn finish_load(&mut self, mark: usize, url: &str) -> Result<Visit> {
        let session = self.session.clone();
        self.cdp
            .wait_for(mark, LOAD_TIMEOUT, "the page to load", |e| {
                e["method"] == "Page.loadEventFired" && e["sessionId"] == session.as_str()
            })?;
        // A late load event of the tab's first `about:blank` would match too: wait until the
        // new document (the page at `url`, or Chromium's error page for an empty error
        // response) has loaded.
        let deadline = Instant::now() + LOAD_TIMEOUT;
        let loaded = "location.href !== 'about:blank' && document.readyState === 'complete'";
        while self.eval(loaded)? != json!(true) {
            if Instant::now() > deadline {
                return Err(format!("{url} did not finish loading"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let body = self.eval("document.body ? document.body.innerText : ''")?;
        let exchange = self.exchange(mark, url)?;
        Ok(Visit {
            body: body.as_str().unwrap_or_default().trim().to_owned(),
            exchange,
        })
    }

    /// Where the event log ends now (see `exchange`).
    pub(crate) fn mark(&self) -> usize {
        self.cdp.mark()
    }

    /// Every cookie the browser holds, partitioned ones included.
    pub(crate) fn cookies(&mut self) -> Result<Vec<Cookie>> {
        let cookies = self.cdp.call(None, "Storage.getCookies", json!({}))?;
        Ok(cookies["cookies"]
            .as_array()
            .map(|all| all.iter().map(Cookie::from_cdp).collect())
            .unwrap_or_default())
    }

    /// Waits until the browser has told all it knows about the request for `url` made after
    /// `mark`.
    pub(crate) fn exchange(&mut self, mark: usize, url: &str) -> Result<Exchange> {
        self.cdp.wait_until(
            mark,
            EXCHANGE_TIMEOUT,
            &format!("the request for {url}"),
            |events| crate::network::exchange(events, url).filter(Exchange::complete),
        )
    }

    fn call(&mut self, method: &str, params: Value) -> Result<Value> {
        self.cdp.call(Some(&self.session), method, params)
    }
}
