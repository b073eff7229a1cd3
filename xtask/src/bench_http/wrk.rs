//! The load generator: wrk's version, its arguments for each scenario, one run of it, and
//! what its `--latency` output says.

use std::{
    fmt::Write as _,
    fs,
    net::SocketAddr,
    path::Path,
    process::{Command, Stdio},
};

use crate::Result;

use super::{
    procfs::{process_ticks, Cpu, CpuTicks},
    settings::Scenario,
};

/// wrk's connections (one wrk thread): enough to keep 2 server workers busy without making
/// the run mostly queueing, on 2 cores shared by the server and wrk.
pub(super) const CONNECTIONS: u32 = 16;
/// wrk's threads: one, so that the load generator takes at most one of the two cores.
pub(super) const WRK_THREADS: u32 = 1;
/// wrk's per-request timeout.
pub(super) const WRK_TIMEOUT: &str = "2s";

/// What wrk measured.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Measure {
    pub(super) requests_per_sec: f64,
    pub(super) p99_ms: f64,
    pub(super) non_2xx: u64,
    pub(super) socket_errors: u64,
    /// Cores used during the measured run by the server, by Redis (a private one) and by every
    /// process other than these and wrk: the last says how busy the machine was otherwise.
    pub(super) cpu: Cpu,
}

/// wrk's version line; fails with the install command when wrk is missing.
pub(super) fn version() -> Result<String> {
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

/// wrk's scenario arguments: none, one `Cookie` header, or a script cycling through them.
pub(super) fn args(scenario: Scenario, cookies: &[String], work: &Path) -> Result<Vec<String>> {
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
pub(super) fn run(
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
    let mut measure = parse(&text).ok_or_else(|| format!("cannot read wrk's output: {text}"))?;
    if let (Some(before), Some(after)) = (before, after) {
        measure.cpu = after.since(&before, wrk_ticks);
    }
    Ok(measure)
}

/// Requests/s, p99 and errors from wrk's `--latency` output.
fn parse(text: &str) -> Option<Measure> {
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
        let measure = parse(WRK_OUTPUT).expect("parses");
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
}
