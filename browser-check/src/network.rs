//! What the browser sent and received for one request, from the `Network` events: the
//! `Cookie` header as it left, each cookie it considered with the reasons it held one back
//! (`SecureOnly`, `SameSiteLax`, …), and each `Set-Cookie` of the response with the reasons
//! it refused one (`OverwriteSecure`, …). This is the browser's own account of its cookie
//! rules, not a guess from the outside.

use serde_json::Value;

/// One request and its response, as the browser saw them.
#[derive(Debug, Clone, Default)]
pub(crate) struct Exchange {
    pub(crate) url: String,
    /// `Document`, `Image`, `Fetch`, …
    pub(crate) kind: String,
    pub(crate) status: Option<u16>,
    /// `http/1.1` or `h2`.
    pub(crate) protocol: Option<String>,
    /// The `Cookie` header as sent, if any.
    pub(crate) cookie_header: Option<String>,
    /// Cookies the browser sent (name, partition site).
    pub(crate) sent: Vec<(String, Option<String>)>,
    /// Cookies the browser held back (name, reasons).
    pub(crate) withheld: Vec<(String, Vec<String>)>,
    /// `Set-Cookie` values of the response (from the headers the browser received).
    pub(crate) set_cookies: Vec<String>,
    /// `Set-Cookie` values the browser refused (the line, reasons).
    pub(crate) refused: Vec<(String, Vec<String>)>,
    seen_request: bool,
    seen_response: bool,
}

impl Exchange {
    /// Whether the browser's accounts of both the request and the response are in.
    pub(crate) fn complete(&self) -> bool {
        self.seen_request && self.seen_response
    }

    /// Whether a cookie named `name` went with the request.
    pub(crate) fn sent(&self, name: &str) -> bool {
        self.sent.iter().any(|(sent, _)| sent == name)
    }

    /// Why the browser held back the cookie named `name` (empty when it did not).
    pub(crate) fn withheld(&self, name: &str) -> Vec<String> {
        self.withheld
            .iter()
            .filter(|(withheld, _)| withheld == name)
            .flat_map(|(_, reasons)| reasons.iter().cloned())
            .collect()
    }

    /// Lines for a screenshot's caption.
    pub(crate) fn describe(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "{} {} -> {} over {}",
            self.kind,
            self.url,
            self.status.map_or("?".into(), |s| s.to_string()),
            self.protocol.as_deref().unwrap_or("?")
        )];
        let sent: Vec<String> = self
            .sent
            .iter()
            .map(|(name, partition)| match partition {
                Some(site) => format!("{name} (partition {site})"),
                None => name.clone(),
            })
            .collect();
        lines.push(format!(
            "sent: {}",
            if sent.is_empty() {
                "no cookie".into()
            } else {
                sent.join(", ")
            }
        ));
        for (name, reasons) in &self.withheld {
            lines.push(format!("withheld: {name} because {}", reasons.join(", ")));
        }
        for (line, reasons) in &self.refused {
            let cookie = line.split(';').next().unwrap_or_default();
            let name = cookie.split('=').next().unwrap_or_default();
            lines.push(format!("refused Set-Cookie {name}: {}", reasons.join(", ")));
        }
        lines
    }
}

/// The last request for `url` among `events`, with everything known about it so far.
pub(crate) fn exchange(events: &[Value], url: &str) -> Option<Exchange> {
    let request = events.iter().rev().find(|e| {
        e["method"] == "Network.requestWillBeSent" && e["params"]["request"]["url"] == url
    })?;
    let id = &request["params"]["requestId"];
    let mut exchange = Exchange {
        url: url.to_owned(),
        kind: text(&request["params"]["type"]),
        ..Exchange::default()
    };
    for event in events.iter().filter(|e| &e["params"]["requestId"] == id) {
        let params = &event["params"];
        match event["method"].as_str() {
            Some("Network.requestWillBeSentExtraInfo") => read_request(&mut exchange, params),
            Some("Network.responseReceivedExtraInfo") => read_response(&mut exchange, params),
            Some("Network.responseReceived") => {
                exchange.protocol = params["response"]["protocol"].as_str().map(str::to_owned);
                exchange.status = exchange.status.or(status(&params["response"]["status"]));
            }
            _ => {}
        }
    }
    Some(exchange)
}

fn read_request(exchange: &mut Exchange, params: &Value) {
    exchange.seen_request = true;
    exchange.cookie_header = header(&params["headers"], "cookie").next();
    for entry in params["associatedCookies"].as_array().into_iter().flatten() {
        let name = text(&entry["cookie"]["name"]);
        let reasons: Vec<String> = entry["blockedReasons"]
            .as_array()
            .into_iter()
            .flatten()
            .map(text)
            .collect();
        if reasons.is_empty() {
            let partition = entry["cookie"]["partitionKey"]["topLevelSite"]
                .as_str()
                .map(str::to_owned);
            exchange.sent.push((name, partition));
        } else {
            exchange.withheld.push((name, reasons));
        }
    }
}

fn read_response(exchange: &mut Exchange, params: &Value) {
    exchange.seen_response = true;
    exchange.status = status(&params["statusCode"]);
    exchange.set_cookies = header(&params["headers"], "set-cookie").collect();
    for entry in params["blockedCookies"].as_array().into_iter().flatten() {
        let reasons = entry["blockedReasons"]
            .as_array()
            .into_iter()
            .flatten()
            .map(text)
            .collect();
        exchange.refused.push((text(&entry["cookieLine"]), reasons));
    }
}

/// The values of header `name` (any case; DevTools joins repeated headers with newlines).
fn header<'a>(headers: &'a Value, name: &'a str) -> impl Iterator<Item = String> + 'a {
    headers
        .as_object()
        .into_iter()
        .flatten()
        .filter(move |(key, _)| key.eq_ignore_ascii_case(name))
        .flat_map(|(_, value)| value.as_str().unwrap_or_default().split('\n'))
        .map(str::to_owned)
}

fn status(value: &Value) -> Option<u16> {
    value.as_u64().and_then(|n| u16::try_from(n).ok())
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// What Chromium 156 reported for a plain-HTTP request after an HTTPS visit had set a
    /// `Secure` cookie on the same host, and the app's attempt to set a new one.
    fn events() -> Vec<Value> {
        let url = "http://mixed.test:4000/";
        vec![
            json!({"method": "Network.requestWillBeSent", "params": {"requestId": "7",
                "type": "Document", "request": {"url": url, "method": "GET"}}}),
            json!({"method": "Network.requestWillBeSentExtraInfo", "params": {"requestId": "7",
                "headers": {"Host": "mixed.test:4000"}, "associatedCookies": [
                    {"blockedReasons": ["SecureOnly"], "cookie": {"name": "connect.sid"}}]}}),
            json!({"method": "Network.responseReceived", "params": {"requestId": "7",
                "response": {"status": 200, "protocol": "http/1.1"}}}),
            json!({"method": "Network.responseReceivedExtraInfo", "params": {"requestId": "7",
                "statusCode": 200,
                "headers": {"set-cookie": "connect.sid=s%3Aa.b; Path=/\nother=1"},
                "blockedCookies": [{"blockedReasons": ["OverwriteSecure"],
                    "cookieLine": "connect.sid=s%3Aa.b; Path=/"}]}}),
        ]
    }

    #[test]
    fn reads_what_the_browser_withheld_and_refused() {
        let exchange = exchange(&events(), "http://mixed.test:4000/").unwrap();
        assert!(exchange.complete());
        assert_eq!(exchange.kind, "Document");
        assert_eq!(exchange.status, Some(200));
        assert_eq!(exchange.protocol.as_deref(), Some("http/1.1"));
        assert!(!exchange.sent("connect.sid") && exchange.cookie_header.is_none());
        assert_eq!(exchange.withheld("connect.sid"), ["SecureOnly"]);
        assert_eq!(exchange.set_cookies.len(), 2);
        assert_eq!(exchange.refused[0].1, ["OverwriteSecure"]);
        let lines = exchange.describe();
        assert!(lines
            .iter()
            .any(|l| l == "withheld: connect.sid because SecureOnly"));
        assert!(lines
            .iter()
            .any(|l| l == "refused Set-Cookie connect.sid: OverwriteSecure"));
    }

    #[test]
    fn a_request_is_complete_only_with_both_accounts() {
        let events = events();
        let partial = exchange(&events[..2], "http://mixed.test:4000/").unwrap();
        assert!(!partial.complete());
        assert!(exchange(&events, "http://other.test/").is_none());
    }

    #[test]
    fn a_sent_cookie_keeps_its_partition() {
        let events = [
            json!({"method": "Network.requestWillBeSent", "params": {"requestId": "1",
                "type": "Image", "request": {"url": "https://chips.test/"}}}),
            json!({"method": "Network.requestWillBeSentExtraInfo", "params": {"requestId": "1",
                "headers": {"cookie": "connect.sid=x"}, "associatedCookies": [
                    {"blockedReasons": [], "cookie": {"name": "connect.sid",
                        "partitionKey": {"topLevelSite": "https://embed.test"}}}]}}),
        ];
        let exchange = exchange(&events, "https://chips.test/").unwrap();
        assert!(exchange.sent("connect.sid"));
        assert_eq!(exchange.cookie_header.as_deref(), Some("connect.sid=x"));
        assert_eq!(exchange.sent[0].1.as_deref(), Some("https://embed.test"));
    }
}
