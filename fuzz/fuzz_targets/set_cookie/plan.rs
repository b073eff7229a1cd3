//! The `set_cookie` target's input: text, one command a line, read leniently (an unknown or
//! malformed line is skipped). Lines before the first `request` configure the manager;
//! `request` starts the next request (one without commands never asks for its session), and
//! the lines after it are what its handler does.
//!
//! ```text
//! name connect.sid            path /app                 domain example.com | -
//! http_only 0|1               secure always|never|auto  same_site strict|lax|none|-
//! priority low|medium|high|-  partitioned 0|1           max_age MS|max|-
//! rolling 0|1                 resave 0|1                save_uninitialized 0|1
//! unset keep|destroy          browser_session_ttl MS    absolute_timeout MS|max|-
//! conflicts reject|last       user_key 0|1              hash_ids 0|1
//! serialize 0|1               tls 0|1
//! request
//! insert KEY JSON (or text)   read KEY     remove KEY   clear    max_age MS|max|-
//! touch  save  reload  regenerate  cycle_id  destroy  unset  log_out_everywhere
//! log_out_others
//! ```
//!
//! At most 8 requests of at most 16 commands each are run, so that an input stays quick.

use std::time::Duration;

use serde_json::Value;
use session_core::{ConflictPolicy, Priority, SameSite, Secure, Unset};

use crate::set_cookie::{Action, ConfigPlan, SetCookieCase};

const MAX_REQUESTS: usize = 8;
const MAX_ACTIONS: usize = 16;

/// Reads a case from `text`.
pub(crate) fn parse(text: &str) -> SetCookieCase {
    let mut case = SetCookieCase {
        config: ConfigPlan::default(),
        requests: Vec::new(),
    };
    for line in text.lines() {
        let (command, argument) = line.split_once(' ').unwrap_or((line, ""));
        if command == "request" {
            if case.requests.len() == MAX_REQUESTS {
                break;
            }
            case.requests.push(Vec::new());
            continue;
        }
        match case.requests.last_mut() {
            None => configure(&mut case.config, command, argument),
            Some(actions) if actions.len() < MAX_ACTIONS => {
                if let Some(action) = action(command, argument) {
                    actions.push(action);
                }
            }
            Some(_) => {}
        }
    }
    case
}

fn configure(config: &mut ConfigPlan, command: &str, argument: &str) {
    let flag = argument == "1";
    match command {
        "name" => config.name = argument.to_owned(),
        "path" => config.path = argument.to_owned(),
        "domain" => config.domain = (argument != "-").then(|| argument.to_owned()),
        "http_only" => config.http_only = flag,
        "secure" => {
            config.secure = match argument {
                "always" => Secure::Always,
                "never" => Secure::Never,
                _ => Secure::Auto,
            }
        }
        "same_site" => {
            config.same_site = match argument {
                "strict" => Some(SameSite::Strict),
                "lax" => Some(SameSite::Lax),
                "none" => Some(SameSite::None),
                _ => None,
            }
        }
        "priority" => {
            config.priority = match argument {
                "low" => Some(Priority::Low),
                "medium" => Some(Priority::Medium),
                "high" => Some(Priority::High),
                _ => None,
            }
        }
        "partitioned" => config.partitioned = flag,
        "max_age" => config.max_age = duration(argument),
        "rolling" => config.rolling = flag,
        "resave" => config.resave = flag,
        "save_uninitialized" => config.save_uninitialized = flag,
        "unset" => {
            config.unset = if argument == "destroy" {
                Unset::Destroy
            } else {
                Unset::Keep
            }
        }
        "browser_session_ttl" => {
            if let Some(ttl) = duration(argument) {
                config.browser_session_ttl = ttl;
            }
        }
        "absolute_timeout" => config.absolute_timeout = duration(argument),
        "conflicts" => {
            config.conflicts = if argument == "reject" {
                ConflictPolicy::Reject
            } else {
                ConflictPolicy::LastWriterWins
            }
        }
        "user_key" => config.user_key = flag,
        "hash_ids" => config.hash_ids = flag,
        "serialize" => config.serialize_requests = flag,
        "tls" => config.tls = flag,
        _ => {}
    }
}

fn action(command: &str, argument: &str) -> Option<Action> {
    Some(match command {
        "insert" => {
            let (key, json) = argument.split_once(' ').unwrap_or((argument, "null"));
            let value = serde_json::from_str(json).unwrap_or_else(|_| Value::from(json));
            Action::Insert(key.to_owned(), value)
        }
        "read" => Action::Read(argument.to_owned()),
        "remove" => Action::Remove(argument.to_owned()),
        "clear" => Action::Clear,
        "max_age" => Action::SetMaxAge(duration(argument)),
        "touch" => Action::Touch,
        "save" => Action::Save,
        "reload" => Action::Reload,
        "regenerate" => Action::Regenerate,
        "cycle_id" => Action::CycleId,
        "destroy" => Action::Destroy,
        "unset" => Action::Unset,
        "log_out_everywhere" => Action::LogOutEverywhere,
        "log_out_others" => Action::LogOutOtherSessions,
        _ => return None,
    })
}

/// Milliseconds, `max` (or a number too big for `u64`) for `Duration::MAX`, anything else
/// for none.
fn duration(text: &str) -> Option<Duration> {
    if text == "max" || (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())) {
        Some(text.parse().map_or(Duration::MAX, Duration::from_millis))
    } else {
        None
    }
}
