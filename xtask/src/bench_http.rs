//! `cargo xtask bench http`: the side-by-side HTTP benchmark of issue 5.
//!
//! Every server of `session-bench`'s `bench-server` (ours on each store and in cookie mode,
//! the bare framework and the peers, on axum, actix-web, warp and Rocket) is built in release
//! and loaded with wrk on loopback in three scenarios: a new visitor (no cookie), a returning
//! visitor (one valid cookie on every request) and a returning pool ([`POOL`] valid cookies,
//! round robin). Each (server, scenario) gets a fresh server process, so that its peak RSS is
//! its own, a warm-up run and a measured run with the same settings for every server. The table (requests/s, the ratio
//! to the same framework's bare server, p99 latency, peak RSS) goes to `bench/RESULTS.md`
//! with the date, machine, load, command and crate versions, followed by the memory per
//! session ([`bench_memory`]).
//!
//! `cargo xtask bench http [--warmup S] [--duration S] [SERVER...]` runs only the servers
//! whose names contain one of the `SERVER` words, or with other durations; such partial runs
//! print their table but leave `bench/RESULTS.md` alone.

use std::{
    fmt::Write as _,
    fs::{self, File},
    net::SocketAddr,
    path::Path,
    process::{Command, Stdio},
    time::Instant,
};

use crate::{
    bench, bench_memory, http, services,
    smoke::{free_loopback_addr, target_dir, wait_until_listening, KillOnDrop},
    Result,
};

/// wrk's connections (one wrk thread): enough to keep 2 server workers busy without making
/// the run mostly queueing, on 2 cores shared by the server and wrk.
const CONNECTIONS: u32 = 16;
/// wrk's threads: one, so that the load generator takes at most one of the two cores.
const WRK_THREADS: u32 = 1;
/// Seconds of warm-up before each measured run.
const WARMUP_SECS: u32 = 3;
/// Seconds of each measured run.
const MEASURE_SECS: u32 = 10;
/// Distinct cookies of the returning-pool scenario.
const POOL: usize = 1000;
/// Seconds per (server, scenario) beyond wrk (start, cookies, checks), for the estimate.
const OVERHEAD_SECS: u32 = 1;
/// A measured run during which other processes used more than this many cores is repeated
/// (without a new warm-up), and the quietest of its runs is kept.
const NOISY_CORES: f64 = 0.25;
/// At most this many repeats per (server, scenario).
const MAX_REPEATS: u32 = 2;
/// Repeats stop when they would take a full run past this many seconds.
const MAX_TOTAL_SECS: u32 = 14 * 60;
/// wrk's per-request timeout.
const WRK_TIMEOUT: &str = "2s";

/// How the load's requests carry cookies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scenario {
    /// No cookie: every request starts a session.
    New,
    /// The same valid cookie on every request.
    Returning,
    /// [`POOL`] valid cookies, one after the other.
    Pool,
}

impl Scenario {
    const ALL: [Self; 3] = [Self::New, Self::Returning, Self::Pool];

    fn label(self) -> &'static str {
        match self {
            Self::New => "new visitor",
            Self::Returning => "returning visitor",
            Self::Pool => "returning pool",
        }
    }

    fn cookies(self) -> usize {
        match self {
            Self::New => 0,
            Self::Returning => 1,
            Self::Pool => POOL,
        }
    }
}

/// The command line.
#[derive(Debug)]
struct Settings {
    warmup: u32,
    duration: u32,
    filters: Vec<String>,
}

impl Settings {
    fn parse(args: &[String]) -> Result<Self> {
        let mut settings = Self {
            warmup: WARMUP_SECS,
            duration: MEASURE_SECS,
            filters: Vec::new(),
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut seconds = |name: &str| -> Result<u32> {
                args.next()
                    .and_then(|value| value.parse().ok())
                    .filter(|&seconds| seconds > 0)
                    .ok_or_else(|| format!("{name} needs a number of seconds"))
            };
            match arg.as_str() {
                "--warmup" => settings.warmup = seconds("--warmup")?,
                "--duration" => settings.duration = seconds("--duration")?,
                flag if flag.starts_with('-') => return Err(format!("unknown option {flag}")),
                server => settings.filters.push(server.to_owned()),
            }
        }
        Ok(settings)
    }

    /// Whether this is the full, default run whose results belong in `bench/RESULTS.md`.
    fn is_full(&self) -> bool {
        self.filters.is_empty() && self.warmup == WARMUP_SECS && self.duration == MEASURE_SECS
    }

    fn selects(&self, server: &str) -> bool {
        self.filters.is_empty() || self.filters.iter().any(|f| server.contains(f.as_str()))
    }
}

/// What wrk measured.
#[derive(Debug, Default, Clone, Copy)]
struct Measure {
    requests_per_sec: f64,
    p99_ms: f64,
    non_2xx: u64,
    socket_errors: u64,
    /// Cores used during the measured run by the server, by Redis (a private one) and by every
    /// process other than these and wrk: the last says how busy the machine was otherwise.
    cpu: Cpu,
}

/// CPU use during a run, in cores (1.0 = one core busy all the time).
#[derive(Debug, Default, Clone, Copy)]
struct Cpu {
    server: f64,
    redis: f64,
    others: f64,
}

/// One (server, scenario) result.
#[derive(Debug)]
struct Row {
    server: String,
    scenario: Scenario,
    outcome: std::result::Result<Outcome, String>,
}

#[derive(Debug)]
struct Outcome {
    measure: Measure,
    /// The server's peak RSS (`VmHWM`), in KiB.
    peak_rss_kib: u64,
    notes: Vec<String>,
}

/// Runs the benchmark; see the module docs.
pub(crate) fn run(args: &[String]) -> Result {
    let settings = Settings::parse(args)?;
    let wrk_version = wrk_version()?;
    // What is built and measured: read before building, as others may commit meanwhile.
    let revision = bench::revision();
    let release = bench::build_release()?;
    let server_bin = release.join("bench-server");
    let mut servers: Vec<String> = list_servers(&server_bin)?
        .into_iter()
        .filter(|server| settings.selects(server))
        .collect();
    if servers.is_empty() {
        return Err(format!("no server matches {:?}", settings.filters));
    }
    let redis = if servers.iter().any(|s| needs_redis(s)) {
        services::redis()?
    } else {
        None
    };
    if redis.is_none() {
        servers.retain(|server| {
            let keep = !needs_redis(server);
            if !keep {
                println!("bench http: NOTICE: no Redis, {server} is SKIPPED");
            }
            keep
        });
    }
    let redis_url = redis.as_ref().map(|redis| redis.url.as_str());
    let redis_pid = redis.as_ref().and_then(services::Redis::pid);
    let postgres = if servers.iter().any(|s| needs_postgres(s)) {
        services::postgres()?
    } else {
        None
    };
    if postgres.is_none() {
        servers.retain(|server| {
            let keep = !needs_postgres(server);
            if !keep {
                println!("bench http: NOTICE: no PostgreSQL, {server} is SKIPPED");
            }
            keep
        });
    }
    let pg_schema = format!("bench_http_{}", std::process::id());
    let pg = postgres
        .as_ref()
        .map(|pg| (pg.url.as_str(), pg_schema.as_str()));
    if let Some((url, schema)) = pg {
        pg_admin(&server_bin, "create", url, schema)?;
    }
    let work = target_dir().join("bench-http");
    fs::create_dir_all(&work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;

    let runs = u32::try_from(servers.len() * Scenario::ALL.len()).unwrap_or(u32::MAX);
    let per_run = settings.warmup + settings.duration + OVERHEAD_SECS;
    let expected = runs.saturating_mul(per_run);
    let repeats = MAX_TOTAL_SECS.saturating_sub(expected) / (settings.duration + 1);
    println!(
        "\nbench http: {} servers × {} scenarios, {} s warm-up + {} s measured each: \
         expect about {:.1} minutes, at most {:.1} if other processes make the machine noisy \
         ({repeats} repeats of a noisy measured run allowed; logs in {})",
        servers.len(),
        Scenario::ALL.len(),
        settings.warmup,
        settings.duration,
        f64::from(expected) / 60.0,
        f64::from(expected + repeats * (settings.duration + 1)) / 60.0,
        work.display(),
    );

    let started = Instant::now();
    let date = bench::now_utc();
    let load_before = bench::load_average();
    let mut bench = Bench {
        binary: &server_bin,
        redis: redis_url.zip(Some(redis_pid)),
        postgres: pg,
        work: &work,
        settings: &settings,
        loads: Vec::new(),
        repeats,
    };
    let mut rows = Vec::new();
    for server in &servers {
        for scenario in Scenario::ALL {
            let outcome = bench.one(server, scenario);
            match &outcome {
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
            rows.push(Row {
                server: server.clone(),
                scenario,
                outcome,
            });
        }
    }
    let loads = std::mem::take(&mut bench.loads);
    drop(redis);
    if let Some((url, schema)) = pg {
        pg_admin(&server_bin, "drop", url, schema)?;
    }
    drop(postgres);
    let elapsed = started.elapsed();
    let load_after = bench::load_average();

    let context = Context {
        settings: &settings,
        date,
        revision,
        command: ["cargo xtask bench http"]
            .into_iter()
            .chain(args.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" "),
        wrk_version: &wrk_version,
        load_before: &load_before,
        load_after: &load_after,
        loads: &loads,
        elapsed_secs: elapsed.as_secs(),
    };
    let report = render(&rows, &context);
    println!("\n{report}");
    let failed = rows.iter().filter(|row| row.outcome.is_err()).count();
    if settings.is_full() {
        bench::write_section("http", &report)?;
        bench_memory::measure(&release, &[])?;
    } else {
        println!("bench http: a partial run, so bench/RESULTS.md is left as it is");
    }
    println!(
        "bench http: done in {:.1} minutes",
        elapsed.as_secs_f64() / 60.0
    );
    if failed > 0 {
        return Err(format!("{failed} runs failed; see the table"));
    }
    Ok(())
}

fn needs_redis(server: &str) -> bool {
    server.ends_with("-redis")
}

fn needs_postgres(server: &str) -> bool {
    server.ends_with("-postgres")
}

/// Creates or drops the run's schema through `bench-server --pg-admin` (xtask has no
/// PostgreSQL client of its own).
fn pg_admin(server_bin: &Path, action: &str, url: &str, schema: &str) -> Result {
    let status = Command::new(server_bin)
        .args([
            "--pg-admin",
            action,
            "--database-url",
            url,
            "--pg-schema",
            schema,
        ])
        .status()
        .map_err(|e| format!("cannot run {}: {e}", server_bin.display()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "bench-server --pg-admin {action} {schema} failed ({status})"
        ))
    }
}

fn framework(server: &str) -> &str {
    server.split('-').next().unwrap_or(server)
}

fn is_bare(server: &str) -> bool {
    server.ends_with("-bare")
}

/// wrk's version line; fails with the install command when wrk is missing.
fn wrk_version() -> Result<String> {
    match Command::new("wrk").arg("-v").output() {
        Ok(out) => {
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            Ok(text
                .lines()
                .next()
                .and_then(|line| line.split(" Copyright").next())
                .unwrap_or("wrk")
                .trim()
                .to_owned())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(
            "wrk is missing: install it with `apt-get install wrk` (Debian package `wrk`)"
                .to_owned(),
        ),
        Err(e) => Err(format!("cannot run wrk: {e}")),
    }
}

/// `bench-server --list`.
fn list_servers(binary: &Path) -> Result<Vec<String>> {
    let out = Command::new(binary)
        .arg("--list")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
    if !out.status.success() {
        return Err(format!("{} --list failed", binary.display()));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect())
}

/// What every (server, scenario) of one run shares.
struct Bench<'a> {
    /// `bench-server`.
    binary: &'a Path,
    /// The Redis URL, and the pid of the private Redis when this run started one.
    redis: Option<(&'a str, Option<u32>)>,
    /// The PostgreSQL URL and the run's schema.
    postgres: Option<(&'a str, &'a str)>,
    /// Where logs and the wrk script go.
    work: &'a Path,
    settings: &'a Settings,
    /// The 1-minute load average before each measured run.
    loads: Vec<f64>,
    /// Repeats of noisy measured runs still allowed in this run's time budget.
    repeats: u32,
}

impl Bench<'_> {
    /// Starts `server`, gets the scenario's cookies, warms up, measures (again when other
    /// processes were busy), reads the peak RSS and checks that the cookies were honoured.
    fn one(&mut self, server: &str, scenario: Scenario) -> std::result::Result<Outcome, String> {
        let (binary, work, settings) = (self.binary, self.work, self.settings);
        let addr = free_loopback_addr()?;
        let log_path = work.join(format!("{server}.log"));
        let log = File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
        let mut command = Command::new(binary);
        command.args(["--server", server, "--port", &addr.port().to_string()]);
        let redis_pid = match self.redis {
            Some((url, pid)) if needs_redis(server) => {
                command.args(["--redis-url", url]);
                pid
            }
            _ => None,
        };
        if let Some((url, schema)) = self.postgres.filter(|_| needs_postgres(server)) {
            command.args(["--database-url", url, "--pg-schema", schema]);
        }
        if server.ends_with("-sqlite") {
            // A fresh database for every run of the server.
            let db = work.join(format!(
                "{server}-{}.db",
                scenario.label().replace(' ', "-")
            ));
            for suffix in ["", "-wal", "-shm"] {
                let _ = fs::remove_file(format!("{}{suffix}", db.display()));
            }
            command.args(["--sqlite-path", &db.to_string_lossy()]);
        }
        let child = command
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let pid = child.id();
        let _server = KillOnDrop(child);
        wait_until_listening(addr, server)?;

        let cookies = if is_bare(server) {
            // Same request size as ours, and no session behind it.
            (0..scenario.cookies())
                .map(|i| format!("connect.sid=s%3A{i:032}.{i:043}"))
                .collect()
        } else {
            let cookies = new_sessions(addr, scenario.cookies())?;
            if let Some(first) = cookies.first() {
                expect_count(
                    addr,
                    first,
                    |count| count == 1,
                    "count=1 on its second visit",
                )?;
            }
            cookies
        };
        let wrk_args = wrk_args(scenario, &cookies, work)?;

        wrk(addr, settings.warmup, &wrk_args, None)?;
        if let Some(load) = fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|text| text.split_whitespace().next()?.parse().ok())
        {
            self.loads.push(load);
        }
        let watch = Some((pid, redis_pid));
        let mut measure = wrk(addr, settings.duration, &wrk_args, watch)?;
        let mut runs = 1;
        while measure.cpu.others > NOISY_CORES && runs <= MAX_REPEATS && self.repeats > 0 {
            self.repeats -= 1;
            runs += 1;
            let again = wrk(addr, settings.duration, &wrk_args, watch)?;
            if again.cpu.others < measure.cpu.others {
                measure = again;
            }
        }
        let peak_rss_kib = vm_hwm_kib(pid)?;

        let mut notes = Vec::new();
        if runs > 1 {
            notes.push(format!(
                "other processes were busy: measured {runs} times, the quietest kept \
                 (peak RSS covers all)"
            ));
        }
        if let (false, Some(first)) = (is_bare(server), cookies.first()) {
            // A session that survived the load answers count>=1; a cookie that stopped being
            // honoured (a store that lost it, a cookie the server no longer accepts) gets count=0.
            if let Err(reason) = expect_count(addr, first, |count| count >= 1, "count>=1") {
                notes.push(format!("cookie not honoured after the run: {reason}"));
            }
        }
        if measure.non_2xx > 0 {
            notes.push(format!("{} non-2xx responses", measure.non_2xx));
        }
        if measure.socket_errors > 0 {
            notes.push(format!("{} socket errors", measure.socket_errors));
        }
        Ok(Outcome {
            measure,
            peak_rss_kib,
            notes,
        })
    }
}

/// `count` new sessions: the `name=value` of the cookie that each of `count` cookie-less
/// `GET /` got.
fn new_sessions(addr: SocketAddr, count: usize) -> Result<Vec<String>> {
    (0..count)
        .map(|_| {
            let http::Response {
                status,
                set_cookies,
                body,
            } = http::get(addr, "/", None)?;
            if status != 200 || body != "count=0" {
                return Err(format!(
                    "a new visitor got {status} {body:?}, expected 200 \"count=0\""
                ));
            }
            set_cookies
                .first()
                .and_then(|header| header.split(';').next().map(str::to_owned))
                .ok_or_else(|| "a new visitor got no Set-Cookie".to_owned())
        })
        .collect()
}

/// `GET /` with `cookie` must answer `count=N` with `wanted(N)`.
fn expect_count(
    addr: SocketAddr,
    cookie: &str,
    wanted: impl Fn(u64) -> bool,
    what: &str,
) -> Result {
    let http::Response { status, body, .. } = http::get(addr, "/", Some(cookie))?;
    let count = body.strip_prefix("count=").and_then(|n| n.parse().ok());
    match count {
        Some(count) if status == 200 && wanted(count) => Ok(()),
        _ => Err(format!(
            "a returning visitor got {status} {body:?}, expected {what}"
        )),
    }
}

/// wrk's scenario arguments: none, one `Cookie` header, or a script cycling through them.
fn wrk_args(scenario: Scenario, cookies: &[String], work: &Path) -> Result<Vec<String>> {
    Ok(match scenario {
        Scenario::New => Vec::new(),
        Scenario::Returning => {
            let cookie = cookies.first().ok_or("no cookie")?;
            vec!["-H".to_owned(), format!("Cookie: {cookie}")]
        }
        Scenario::Pool => {
            let script = work.join("pool.lua");
            fs::write(&script, pool_script(cookies))
                .map_err(|e| format!("cannot write {}: {e}", script.display()))?;
            vec!["-s".to_owned(), script.display().to_string()]
        }
    })
}

/// A wrk script whose requests carry `cookies` round robin. The requests are formatted once,
/// in `init` (where wrk has set the `Host` header), so that each request costs wrk a lookup.
fn pool_script(cookies: &[String]) -> String {
    let mut script = String::from(
        "-- Written by `cargo xtask bench http`: each request carries the next cookie.\n\
         local cookies = {\n",
    );
    for cookie in cookies {
        let escaped = cookie.replace('\\', "\\\\").replace('"', "\\\"");
        let _ = writeln!(script, "  \"{escaped}\",");
    }
    script.push_str(
        "}\n\
         local requests = {}\n\
         function init(args)\n\
         \x20 for i, cookie in ipairs(cookies) do\n\
         \x20   requests[i] = wrk.format(nil, nil, { [\"Cookie\"] = cookie })\n\
         \x20 end\n\
         end\n\
         local n = 0\n\
         function request()\n\
         \x20 n = n % #requests + 1\n\
         \x20 return requests[n]\n\
         end\n",
    );
    script
}

/// One wrk run against `addr` for `seconds`; with the server's (and a private Redis's) pid,
/// also the CPU that it, Redis and everything else used meanwhile.
fn wrk(
    addr: SocketAddr,
    seconds: u32,
    extra: &[String],
    watch: Option<(u32, Option<u32>)>,
) -> Result<Measure> {
    let before = watch.map(|(server, redis)| CpuTicks::now(server, redis));
    let mut child = Command::new("wrk")
        .args([
            format!("-t{WRK_THREADS}"),
            format!("-c{CONNECTIONS}"),
            format!("-d{seconds}s"),
            "--timeout".to_owned(),
            WRK_TIMEOUT.to_owned(),
            "--latency".to_owned(),
        ])
        .args(extra)
        .arg(format!("http://{addr}/"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run wrk: {e}"))?;
    // wrk's own CPU, read until it exits (its output is far below a pipe's capacity, so it
    // never blocks on it meanwhile).
    let mut wrk_ticks = 0;
    while child
        .try_wait()
        .map_err(|e| format!("waiting for wrk: {e}"))?
        .is_none()
    {
        wrk_ticks = process_ticks(child.id()).unwrap_or(wrk_ticks);
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let after = watch.map(|(server, redis)| CpuTicks::now(server, redis));
    let out = child
        .wait_with_output()
        .map_err(|e| format!("cannot read wrk's output: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "wrk failed ({}): {}{}",
            out.status,
            text.trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let mut measure =
        parse_wrk(&text).ok_or_else(|| format!("cannot read wrk's output: {text}"))?;
    if let (Some(before), Some(after)) = (before, after) {
        measure.cpu = after.since(&before, wrk_ticks);
    }
    Ok(measure)
}

/// Cumulative CPU ticks of the machine and of the processes under test.
#[derive(Debug, Clone, Copy)]
struct CpuTicks {
    /// Every CPU's busy ticks (not idle, not waiting for I/O), summed.
    busy: u64,
    /// Every CPU's ticks, summed.
    total: u64,
    server: u64,
    redis: u64,
}

impl CpuTicks {
    fn now(server: u32, redis: Option<u32>) -> Self {
        let (busy, total) = machine_ticks().unwrap_or_default();
        Self {
            busy,
            total,
            server: process_ticks(server).unwrap_or_default(),
            redis: redis.and_then(process_ticks).unwrap_or_default(),
        }
    }

    /// Cores used between `earlier` and `self`, given that wrk used `wrk` ticks.
    fn since(&self, earlier: &Self, wrk: u64) -> Cpu {
        let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZero::get) as f64;
        let elapsed = self.total.saturating_sub(earlier.total) as f64 / cpus;
        if elapsed <= 0.0 {
            return Cpu::default();
        }
        let server = self.server.saturating_sub(earlier.server);
        let redis = self.redis.saturating_sub(earlier.redis);
        let others = self
            .busy
            .saturating_sub(earlier.busy)
            .saturating_sub(server + redis + wrk);
        Cpu {
            server: server as f64 / elapsed,
            redis: redis as f64 / elapsed,
            others: others as f64 / elapsed,
        }
    }
}

/// The busy and total ticks of every CPU, from the `cpu` line of `/proc/stat`.
fn machine_ticks() -> Option<(u64, u64)> {
    let stat = fs::read_to_string("/proc/stat").ok()?;
    let fields: Vec<u64> = stat
        .lines()
        .next()?
        .strip_prefix("cpu ")?
        .split_whitespace()
        .take(8) // user nice system idle iowait irq softirq steal (guest time is in user)
        .map(|field| field.parse().ok())
        .collect::<Option<_>>()?;
    let total: u64 = fields.iter().sum();
    let idle = fields.get(3)? + fields.get(4)?;
    Some((total - idle, total))
}

/// User plus system ticks of process `pid` (all its threads), from `/proc/<pid>/stat`.
fn process_ticks(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces: the 3rd
    // field (state) comes first, utime and stime are the 14th and 15th.
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some(user + system)
}

/// Requests/s, p99 and errors from wrk's `--latency` output.
fn parse_wrk(text: &str) -> Option<Measure> {
    let mut measure = Measure::default();
    let mut p99 = None;
    let mut rate = None;
    for line in text.lines().map(str::trim) {
        if let Some(value) = line.strip_prefix("Requests/sec:") {
            rate = value.trim().parse().ok();
        } else if let Some(value) = line.strip_prefix("99%") {
            p99 = duration_ms(value.trim());
        } else if let Some(value) = line.strip_prefix("Non-2xx or 3xx responses:") {
            measure.non_2xx = value.trim().parse().ok()?;
        } else if let Some(value) = line.strip_prefix("Socket errors:") {
            measure.socket_errors = value
                .split(',')
                .filter_map(|part| part.split_whitespace().last()?.parse::<u64>().ok())
                .sum();
        }
    }
    measure.requests_per_sec = rate?;
    measure.p99_ms = p99?;
    Some(measure)
}

/// wrk's `724.00us`, `1.23ms`, `2.00s`, `1.50m` in milliseconds.
fn duration_ms(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let factor = match unit {
        "us" => 0.001,
        "ms" => 1.0,
        "s" => 1000.0,
        "m" => 60_000.0,
        "h" => 3_600_000.0,
        _ => return None,
    };
    Some(number * factor)
}

/// The peak resident set (`VmHWM`) of process `pid`, in KiB.
fn vm_hwm_kib(pid: u32) -> Result<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("cannot read the server's /proc status: {e}"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| "no VmHWM in the server's /proc status".to_owned())
}

fn kib_to_mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// What the report says besides the rows.
struct Context<'a> {
    settings: &'a Settings,
    /// When the run started.
    date: String,
    /// What was built, read before building.
    revision: String,
    /// The command line, as typed.
    command: String,
    wrk_version: &'a str,
    load_before: &'a str,
    load_after: &'a str,
    /// The 1-minute load average before each measured run.
    loads: &'a [f64],
    elapsed_secs: u64,
}

/// The crates whose versions the report names: ours, the frameworks and the peers.
const VERSIONED: &[&str] = &[
    "session-core",
    "session-axum",
    "session-actix",
    "session-warp",
    "session-rocket",
    "session-redis",
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
    "actix-session",
    "redis",
    "chacha20poly1305",
];

/// The Markdown report of one run.
fn render(rows: &[Row], context: &Context<'_>) -> String {
    let mut out = String::from("## HTTP, side by side\n\n");
    let settings = context.settings;
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
            "Other work shared the 2 cores during the run, so the figures are noisy: read \
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
    let _ = writeln!(
        out,
        "- Load: {} on loopback, {WRK_THREADS} thread, {CONNECTIONS} connections, \
         `--timeout {WRK_TIMEOUT} --latency`; per server and scenario a fresh server process, \
         {} s warm-up, then {} s measured. Peak RSS is the server's `VmHWM` after both.",
        context.wrk_version, settings.warmup, settings.duration
    );
    let _ = writeln!(
        out,
        "- Reading the ratios: on 2 cores wrk's one thread takes about one core. A bare server \
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
         `Max-Age`, `saveUninitialized`); `-ours-cookie` keeps the whole session in that \
         cookie, sealed (`CookieFormat::Encrypted`, XChaCha20-Poly1305), with no store. \
         tower-sessions: `Expiry::OnInactivity(30 min)`, `Secure` off; moka store unbounded; Redis store on a fred pool of 6. actix-session: \
         its default encrypted cookie, `BrowserSession` with a 30-minute state TTL, `Secure` \
         off. Ours and the peers with Redis share one private `redis-server` (or `REDIS_URL`)."
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

    let find = |server: &str, scenario: Scenario| {
        rows.iter()
            .find(|row| row.server == server && row.scenario == scenario)
            .and_then(|row| row.outcome.as_ref().ok())
    };
    let ratio = |row: &Row| -> Option<f64> {
        let outcome = row.outcome.as_ref().ok()?;
        let bare = find(&format!("{}-bare", framework(&row.server)), row.scenario)?;
        Some(outcome.measure.requests_per_sec / bare.measure.requests_per_sec)
    };

    out.push_str(
        "\n### Throughput as a fraction of the same framework's bare server\n\n\
         | server | new visitor | returning visitor | returning pool |\n\
         |---|---:|---:|---:|\n",
    );
    let mut servers: Vec<&str> = Vec::new();
    for row in rows {
        if !servers.contains(&row.server.as_str()) {
            servers.push(&row.server);
        }
    }
    for server in &servers {
        let _ = write!(out, "| {server} |");
        for scenario in Scenario::ALL {
            let row = rows
                .iter()
                .find(|row| row.server == *server && row.scenario == scenario);
            let cell = match row.map(|row| (&row.outcome, ratio(row))) {
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

    out.push_str(
        "\n### CPU per request, in microseconds\n\n\
         The server's CPU time per request (its cores ÷ requests/s), then in brackets what it \
         spends beyond its framework's bare server in the same scenario: the session layer's \
         own cost, which no load generator sharing the machine distorts. For the Redis servers, \
         `+ R` is Redis's CPU time per request.\n\n\
         | server | new visitor | returning visitor | returning pool |\n\
         |---|---:|---:|---:|\n",
    );
    let per_request = |outcome: &Outcome| -> (f64, f64) {
        let rps = outcome.measure.requests_per_sec.max(1.0);
        (
            outcome.measure.cpu.server * 1e6 / rps,
            outcome.measure.cpu.redis * 1e6 / rps,
        )
    };
    for server in &servers {
        let _ = write!(out, "| {server} |");
        for scenario in Scenario::ALL {
            let cell = match find(server, scenario) {
                None => "–".to_owned(),
                Some(outcome) => {
                    let (server_us, redis_us) = per_request(outcome);
                    let mut cell = format!("{server_us:.1}");
                    let bare = find(&format!("{}-bare", framework(server)), scenario);
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
                ratio(row).map_or_else(|| "–".to_owned(), |r| format!("{r:.2}")),
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
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const WRK_OUTPUT: &str = "Running 3s test @ http://127.0.0.1:40000/
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   238.58us  176.51us   8.93ms   97.23%
    Req/Sec    63.71k     3.26k   68.81k    74.19%
  Latency Distribution
     50%  223.00us
     75%  245.00us
     90%  280.00us
     99%    1.24ms
  196826 requests in 3.10s, 22.71MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 12
Requests/sec:  63492.61
Transfer/sec:      7.33MB
";

    #[test]
    fn reads_wrk_output() {
        let measure = parse_wrk(WRK_OUTPUT).expect("parses");
        assert!((measure.requests_per_sec - 63492.61).abs() < 1e-6);
        assert!((measure.p99_ms - 1.24).abs() < 1e-9);
        assert_eq!(measure.non_2xx, 12);
        assert_eq!(measure.socket_errors, 3);
    }

    #[test]
    fn reads_wrk_durations() {
        assert_eq!(duration_ms("724.00us"), Some(0.724));
        assert_eq!(duration_ms("2.00s"), Some(2000.0));
        assert_eq!(duration_ms("3.00x"), None);
    }

    #[test]
    fn the_pool_script_cycles_through_every_cookie() {
        let script = pool_script(&["a=1".to_owned(), "b=\"2\"".to_owned()]);
        assert!(script.contains("  \"a=1\",\n"));
        assert!(script.contains("  \"b=\\\"2\\\"\",\n"));
        assert!(script.contains("function request()"));
    }

    #[test]
    fn ratios_compare_with_the_same_framework() {
        assert_eq!(framework("axum-tower-sessions-moka"), "axum");
        assert_eq!(framework("actix-session-cookie"), "actix");
        assert!(is_bare("rocket-bare"));
        assert!(needs_redis("actix-session-redis") && !needs_redis("axum-ours-memory"));
    }
}
