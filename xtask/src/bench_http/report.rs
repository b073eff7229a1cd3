//! What a run prints: a progress line per (server, scenario), and the Markdown report of
//! `bench/RESULTS.md` (how the run was made, then three tables).

use std::fmt::Write as _;

use crate::bench;

use super::{
    measure::{Outcome, Row, MAX_REPEATS, NOISY_CORES},
    servers::{framework, is_bare, needs_redis},
    settings::{Scenario, Settings, POOL},
    wrk::{CONNECTIONS, WRK_THREADS, WRK_TIMEOUT},
};

/// What the report says besides the rows.
pub(super) struct Context<'a> {
    pub(super) settings: &'a Settings,
    /// When the run started.
    pub(super) date: String,
    /// What was built, read before building.
    pub(super) revision: String,
    /// The command line, as typed.
    pub(super) command: String,
    pub(super) wrk_version: &'a str,
    pub(super) load_before: &'a str,
    pub(super) load_after: &'a str,
    /// The 1-minute load average before each measured run.
    pub(super) loads: &'a [f64],
    pub(super) elapsed_secs: u64,
}

/// The crates whose versions the report names: ours, the frameworks and the peers.
const VERSIONED: &[&str] = &[
    "session-core",
    "session-axum",
    "session-actix",
    "session-warp",
    "session-rocket",
    "session-redis",
    "session-sql",
    "axum",
    "actix-web",
    "warp",
    "rocket",
    "hyper",
    "tokio",
    "moka",
    "fred",
    "tower-sessions",
    "tower-sessions-core",
    "tower-sessions-moka-store",
    "tower-sessions-redis-store",
    "tower-sessions-sqlx-store",
    "sqlx",
    "actix-session",
    "redis",
    "chacha20poly1305",
];

/// The line printed after each (server, scenario).
pub(super) fn progress(
    server: &str,
    scenario: Scenario,
    outcome: &std::result::Result<Outcome, String>,
) {
    match outcome {
        Ok(outcome) => println!(
            "bench http: {server:<28} {:<18} {:>9.0} req/s  p99 {:>7.2} ms  peak RSS {:>6.1} MiB  \
             CPU server {:.2} others {:.2} {}",
            scenario.label(),
            outcome.measure.requests_per_sec,
            outcome.measure.p99_ms,
            kib_to_mib(outcome.peak_rss_kib),
            outcome.measure.cpu.server,
            outcome.measure.cpu.others,
            outcome.notes.join("; "),
        ),
        Err(reason) => println!(
            "bench http: {server:<28} {:<18} FAILED: {reason}",
            scenario.label()
        ),
    }
}

fn kib_to_mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// The Markdown report of one run.
pub(super) fn render(rows: &[Row], context: &Context<'_>) -> String {
    let mut out = String::from("## HTTP, side by side\n\n");
    conditions(&mut out, rows, context);
    method(&mut out, context);
    let mut servers: Vec<&str> = Vec::new();
    for row in rows {
        if !servers.contains(&row.server.as_str()) {
            servers.push(&row.server);
        }
    }
    throughput(&mut out, rows, &servers);
    cpu_per_request(&mut out, rows, &servers);
    every_run(&mut out, rows);
    out
}

/// When, where and on what the run was made: date, machine, load, revision, command.
fn conditions(out: &mut String, rows: &[Row], context: &Context<'_>) {
    let (low, high) = context
        .loads
        .iter()
        .fold((f64::INFINITY, 0.0_f64), |(low, high), &load| {
            (low.min(load), high.max(load))
        });
    let _ = writeln!(out, "- Date: {}", context.date);
    let _ = writeln!(out, "- Machine: {}", bench::machine());
    let others: Vec<f64> = rows
        .iter()
        .filter_map(|row| Some(row.outcome.as_ref().ok()?.measure.cpu.others))
        .collect();
    let others_mean = others.iter().sum::<f64>() / others.len().max(1) as f64;
    let others_max = others.iter().copied().fold(0.0_f64, f64::max);
    let _ = writeln!(
        out,
        "- Load average (1, 5, 15 min): {} before, {} after; 1-minute load before each \
         measured run: {low:.2} to {high:.2}. CPU taken by other processes (not the server, \
         its Redis or wrk) during the measured runs: {others_mean:.2} cores on average, \
         {others_max:.2} at most (per run in the last table). {}",
        context.load_before,
        context.load_after,
        if others_mean > 0.15 || others_max > 0.5 {
            "Other work shared the machine during the run, so the figures are noisy: read \
             differences of less than about 10-15 % as noise, and compare rows whose \
             \"others\" CPU is alike."
        } else {
            "The machine was otherwise quiet."
        }
    );
    let _ = writeln!(out, "- Revision: {}", context.revision);
    let _ = writeln!(
        out,
        "- Command: `{}` ({:.1} minutes)",
        context.command,
        context.elapsed_secs as f64 / 60.0
    );
}

/// How the load was made and what the servers and scenarios are.
fn method(out: &mut String, context: &Context<'_>) {
    let settings = context.settings;
    let _ = writeln!(
        out,
        "- Load: {} on loopback, {WRK_THREADS} thread, {CONNECTIONS} connections, \
         `--timeout {WRK_TIMEOUT} --latency`; per server and scenario a fresh server process, \
         {} s warm-up, then {} s measured. Peak RSS is the server's `VmHWM` after both.",
        context.wrk_version, settings.warmup, settings.duration
    );
    let _ = writeln!(
        out,
        "- Reading the ratios: wrk's one thread takes about one core. A bare server \
         whose CPU stays under one core is held back by wrk, not by its own cost; a server with \
         sessions gets the rest of the machine, and its ratio says what the session layer costs \
         there. A \
         measured run during which other processes used over {NOISY_CORES} cores is repeated \
         (at most {MAX_REPEATS} times, within the time budget) and the quietest run is kept."
    );
    let _ = writeln!(
        out,
        "- Servers: `bench-server` built in release, 2 runtime worker threads, logging off, \
         `GET /` = the visit counter (`count=N`); `-bare` serves the same body with no \
         sessions. Ours: the reference app's defaults (signed `connect.sid`, 30-minute \
         `Max-Age`, `saveUninitialized`), the memory store with its default bounds (32 MiB \
         of visitors' sessions: a new visitor evicts the least recently used once they are \
         full); `-ours-memory-unbounded` the memory store without a bound, as the peer's moka \
         store runs; `-ours-cookie` keeps the whole session in that cookie, sealed \
         (`CookieFormat::Encrypted`, XChaCha20-Poly1305), with no store. tower-sessions: \
         `Expiry::OnInactivity(30 min)`, `Secure` off; moka store unbounded; Redis store on a \
         fred pool of 6. actix-session: \
         its default encrypted cookie, `BrowserSession` with a 30-minute state TTL, `Secure` \
         off. Ours and the peers with Redis share one private `redis-server` (or `REDIS_URL`). \
         `-ours-postgres` and tower-sessions' PostgreSQL store (sqlx's default pool of 10, \
         `migrate()` at start) each get a table of their own in a schema made for the run on \
         the machine's PostgreSQL (or `DATABASE_URL`); `-ours-sqlite` a fresh file per run \
         (WAL)."
    );
    let _ = writeln!(
        out,
        "- Scenarios: new visitor (no cookie: every request creates and stores a session); \
         returning visitor (one valid cookie on every request: each request loads, increments \
         and saves it); returning pool ({POOL} valid cookies from {POOL} `GET /` before the \
         run, round robin). The bare servers get cookies of the same size."
    );
    let _ = writeln!(
        out,
        "- Versions (Cargo.lock): {}",
        bench::locked_versions(VERSIONED).join(", ")
    );
}

/// The outcome of `server` in `scenario`, if it ran and succeeded.
fn find<'r>(rows: &'r [Row], server: &str, scenario: Scenario) -> Option<&'r Outcome> {
    rows.iter()
        .find(|row| row.server == server && row.scenario == scenario)
        .and_then(|row| row.outcome.as_ref().ok())
}

/// `row`'s requests/s as a fraction of its framework's bare server's in the same scenario.
fn ratio(rows: &[Row], row: &Row) -> Option<f64> {
    let outcome = row.outcome.as_ref().ok()?;
    let bare = find(
        rows,
        &format!("{}-bare", framework(&row.server)),
        row.scenario,
    )?;
    Some(outcome.measure.requests_per_sec / bare.measure.requests_per_sec)
}

/// The table of throughput as a fraction of the bare server's.
fn throughput(out: &mut String, rows: &[Row], servers: &[&str]) {
    out.push_str(
        "\n### Throughput as a fraction of the same framework's bare server\n\n\
         | server | new visitor | returning visitor | returning pool |\n\
         |---|---:|---:|---:|\n",
    );
    for server in servers {
        let _ = write!(out, "| {server} |");
        for scenario in Scenario::ALL {
            let row = rows
                .iter()
                .find(|row| row.server == *server && row.scenario == scenario);
            let cell = match row.map(|row| (&row.outcome, ratio(rows, row))) {
                Some((Ok(outcome), Some(ratio))) => {
                    format!("{ratio:.2} ({:.0}/s)", outcome.measure.requests_per_sec)
                }
                Some((Ok(outcome), None)) => format!("{:.0}/s", outcome.measure.requests_per_sec),
                Some((Err(_), _)) => "failed".to_owned(),
                None => "–".to_owned(),
            };
            let _ = write!(out, " {cell} |");
        }
        out.push('\n');
    }
}

/// The server's (and Redis's) CPU time per request, in microseconds.
fn per_request(outcome: &Outcome) -> (f64, f64) {
    let rps = outcome.measure.requests_per_sec.max(1.0);
    (
        outcome.measure.cpu.server * 1e6 / rps,
        outcome.measure.cpu.redis * 1e6 / rps,
    )
}

/// The table of CPU per request, and beyond the bare server's.
fn cpu_per_request(out: &mut String, rows: &[Row], servers: &[&str]) {
    out.push_str(
        "\n### CPU per request, in microseconds\n\n\
         The server's CPU time per request (its cores ÷ requests/s), then in brackets what it \
         spends beyond its framework's bare server in the same scenario: the session layer's \
         own cost, which no load generator sharing the machine distorts. For the Redis servers, \
         `+ R` is Redis's CPU time per request.\n\n\
         | server | new visitor | returning visitor | returning pool |\n\
         |---|---:|---:|---:|\n",
    );
    for server in servers {
        let _ = write!(out, "| {server} |");
        for scenario in Scenario::ALL {
            let cell = match find(rows, server, scenario) {
                None => "–".to_owned(),
                Some(outcome) => {
                    let (server_us, redis_us) = per_request(outcome);
                    let mut cell = format!("{server_us:.1}");
                    let bare = find(rows, &format!("{}-bare", framework(server)), scenario);
                    if let Some(bare) = bare.filter(|_| !is_bare(server)) {
                        let _ = write!(cell, " (+{:.1})", server_us - per_request(bare).0);
                    }
                    if needs_redis(server) {
                        let _ = write!(cell, " + R {redis_us:.1}");
                    }
                    cell
                }
            };
            let _ = write!(out, " {cell} |");
        }
        out.push('\n');
    }
}

/// The table of every run, failures included.
fn every_run(out: &mut String, rows: &[Row]) {
    out.push_str(
        "\n### Every run\n\n\
         | server | scenario | requests/s | × bare | p99 | peak RSS | CPU: server / Redis / others | notes |\n\
         |---|---|---:|---:|---:|---:|---:|---|\n",
    );
    for row in rows {
        let _ = match &row.outcome {
            Ok(outcome) => writeln!(
                out,
                "| {} | {} | {:.0} | {} | {:.2} ms | {:.1} MiB | {:.2} / {} / {:.2} | {} |",
                row.server,
                row.scenario.label(),
                outcome.measure.requests_per_sec,
                ratio(rows, row).map_or_else(|| "–".to_owned(), |r| format!("{r:.2}")),
                outcome.measure.p99_ms,
                kib_to_mib(outcome.peak_rss_kib),
                outcome.measure.cpu.server,
                if needs_redis(&row.server) {
                    format!("{:.2}", outcome.measure.cpu.redis)
                } else {
                    "–".to_owned()
                },
                outcome.measure.cpu.others,
                outcome.notes.join("; "),
            ),
            Err(reason) => writeln!(
                out,
                "| {} | {} | – | – | – | – | – | failed: {} |",
                row.server,
                row.scenario.label(),
                reason.replace('|', "\\|")
            ),
        };
    }
}
