//! `cargo xtask bench [http | memory | instructions]`: the criterion micro-benchmarks (no
//! argument), the side-by-side HTTP benchmark ([`bench_http`]), the memory per session
//! ([`bench_memory`]) and the instructions per request ([`bench_instructions`]); and what the
//! last three share: the release build of `session-bench`, the machine's description and
//! `bench/RESULTS.md`.

use std::{path::PathBuf, process::Command};

use crate::{
    bench_http, bench_instructions, bench_memory, ci::cargo, cmd, smoke::target_dir, Result,
};

const USAGE: &str = "usage: cargo xtask bench [http [--warmup S] [--duration S] [SERVER...] | memory [--sessions N] | instructions]";

/// Runs the benchmark named by `args`; without one, the micro-benchmarks of session-core
/// (signing, ids, memory store) and session-axum (one request through the layer against the
/// bare router).
pub(crate) fn run(args: &[String]) -> Result {
    match args.first().map(String::as_str) {
        None => cmd::run(
            &cargo(),
            &[
                "bench",
                "-p",
                "session-core",
                "-p",
                "session-axum",
                "--benches",
            ],
            &[],
        ),
        Some("http") => bench_http::run(&args[1..]),
        Some("memory") => bench_memory::run(&args[1..]),
        Some("instructions") => bench_instructions::run(&args[1..]),
        Some("-h" | "--help") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown bench `{other}`; {USAGE}")),
    }
}

/// Builds `session-bench`'s binaries in release; returns the folder that holds them.
pub(crate) fn build_release() -> Result<PathBuf> {
    cmd::run(
        &cargo(),
        &["build", "--release", "-p", "session-bench", "--bins"],
        &[],
    )?;
    Ok(target_dir().join("release"))
}

/// `bench/RESULTS.md`.
fn results_path() -> PathBuf {
    crate::root().join("bench").join("RESULTS.md")
}

const RESULTS_TITLE: &str = "# Benchmark results\n\n\
Written by `cargo xtask bench http` (the HTTP and memory sections), `cargo xtask bench memory`\n\
(the memory section only) and `cargo xtask bench instructions` (the instructions section). The\n\
servers are `bench/src/bin/bench-server/`, the memory benchmark `bench/src/bin/bench-memory.rs`,\n\
the driver `xtask/src/bench_http.rs`; the in-process requests for an instruction profile\n\
`bench/src/bin/bench-requests.rs`.\n";

/// Replaces the section `name` of `bench/RESULTS.md` (between `<!-- name:begin -->` and
/// `<!-- name:end -->`) with `text`, or appends it; creates the file when it is missing.
pub(crate) fn write_section(name: &str, text: &str) -> Result {
    let path = results_path();
    let old = std::fs::read_to_string(&path).unwrap_or_else(|_| RESULTS_TITLE.to_owned());
    let begin = format!("<!-- {name}:begin -->");
    let end = format!("<!-- {name}:end -->");
    let section = format!("{begin}\n{}\n{end}", text.trim_end());
    let new = match (old.find(&begin), old.find(&end)) {
        (Some(start), Some(stop)) if start < stop => {
            format!("{}{section}{}", &old[..start], &old[stop + end.len()..])
        }
        _ => format!("{}\n{section}\n", old.trim_end()),
    };
    std::fs::write(&path, new).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!("bench: wrote the {name} section of {}", path.display());
    Ok(())
}

/// The current UTC date and time, as `date -u` prints it.
pub(crate) fn now_utc() -> String {
    output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]).unwrap_or_else(|| "unknown date".to_owned())
}

/// One line describing the machine: CPUs, CPU model, memory, kernel.
pub(crate) fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .and_then(|rest| rest.split_once(':'))
        .map_or("unknown CPU", |(_, model)| model.trim())
        .to_owned();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory = meminfo
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))
        .and_then(|kib| kib.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or_else(
            || "unknown memory".to_owned(),
            |kib| format!("{:.1} GiB RAM", kib / 1024.0 / 1024.0),
        );
    let kernel = output("uname", &["-sr"]).unwrap_or_default();
    format!("{cpus} CPUs (nproc), {model}, {memory}, {kernel}")
}

/// The 1-, 5- and 15-minute load averages.
pub(crate) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

/// The commit the working tree is on, and the tracked files that differ from it.
pub(crate) fn revision() -> String {
    let commit = output("git", &["rev-parse", "--short", "HEAD"]).unwrap_or_default();
    let status = output("git", &["status", "--porcelain", "--untracked-files=no"]);
    let changed: Vec<String> = status
        .iter()
        .flat_map(|status| status.lines())
        .filter_map(|line| line.get(3..))
        .map(|path| format!("`{path}`"))
        .collect();
    if changed.is_empty() {
        format!("`{commit}`")
    } else {
        format!("`{commit}` + uncommitted changes to {}", changed.join(", "))
    }
}

/// `name version` for each of `names` found in `Cargo.lock`, in that order.
pub(crate) fn locked_versions(names: &[&str]) -> Vec<String> {
    let lock = std::fs::read_to_string(crate::root().join("Cargo.lock")).unwrap_or_default();
    let packages: Vec<(&str, &str)> = lock
        .split("[[package]]")
        .filter_map(|block| {
            let field = |key: &str| {
                block.lines().find_map(|line| {
                    line.strip_prefix(key)
                        .and_then(|rest| rest.trim().strip_prefix('='))
                        .map(|value| value.trim().trim_matches('"'))
                })
            };
            Some((field("name ")?, field("version ")?))
        })
        .collect();
    names
        .iter()
        .flat_map(|name| {
            packages
                .iter()
                .filter(move |(package, _)| package == name)
                .map(|(package, version)| format!("{package} {version}"))
        })
        .collect()
}

/// What `program args` prints, without its trailing newline; `None` when it cannot run or fails.
fn output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program)
        .args(args)
        .current_dir(crate::root())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim_end().to_owned())
}
