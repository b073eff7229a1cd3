//! `cargo xtask fuzz [SECONDS]`: runs each libFuzzer target of `fuzz/` for SECONDS (default
//! 60) with nightly and reports, per target, the runs, the coverage, the corpus and the
//! crashing inputs. Installs cargo-fuzz when it is missing. Not part of `cargo xtask ci`,
//! where the same properties run on stable as session-core's property tests.
//!
//! A target runs in libFuzzer's fork mode with crashes ignored, so that one crash (a known
//! one, say) does not end its run: every crashing input found is saved in
//! `fuzz/artifacts/<target>/` and listed with its panic message. New interesting inputs go to
//! `fuzz/corpus/<target>/` (not committed) and are used by the next run, along with the
//! committed `fuzz/seeds/<target>/`.

use std::{
    collections::BTreeSet,
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Instant,
};

use crate::Result;

/// The targets, in `fuzz/Cargo.toml`.
const TARGETS: [&str; 3] = ["cookie_header", "record_json", "set_cookie"];

const DEFAULT_SECONDS: u64 = 60;

const USAGE: &str = "usage: cargo xtask fuzz [SECONDS]   (per target; default 60)";

/// What one target's run came to.
#[derive(Debug, Default)]
struct Report {
    target: &'static str,
    status: Status,
    seconds: u64,
    corpus: usize,
    /// The crashing inputs this run saved, each with what it printed.
    crashes: Vec<(PathBuf, String)>,
}

/// The figures of libFuzzer's last status line.
#[derive(Debug, Default, Clone, PartialEq)]
struct Status {
    runs: u64,
    exec_per_s: u64,
    cov: u64,
    ft: u64,
}

/// Runs every target for the seconds given in `args`.
pub(crate) fn run(args: &[String]) -> Result {
    let seconds = match args {
        [] => DEFAULT_SECONDS,
        [flag] if flag == "-h" || flag == "--help" => {
            println!("{USAGE}");
            return Ok(());
        }
        [seconds] => seconds
            .parse()
            .ok()
            .filter(|&seconds| seconds > 0)
            .ok_or_else(|| USAGE.to_owned())?,
        _ => return Err(USAGE.to_owned()),
    };
    ensure_cargo_fuzz()?;
    let mut reports = Vec::new();
    for target in TARGETS {
        reports.push(run_target(target, seconds)?);
    }
    print_reports(&reports);
    let crashes: usize = reports.iter().map(|r| r.crashes.len()).sum();
    if crashes == 0 {
        Ok(())
    } else {
        Err(format!(
            "fuzz: {crashes} crashing input(s), in fuzz/artifacts/ (reproduce one with \
             `cargo +nightly fuzz run <target> <file>`, minimise with `cargo +nightly fuzz tmin`)"
        ))
    }
}

/// `cargo` through rustup's proxy, so that `+nightly` picks the toolchain; without the
/// variables of the cargo that runs xtask, which would pin its own.
fn rustup_cargo() -> Command {
    let mut command = Command::new("cargo");
    for variable in ["CARGO", "RUSTC", "RUSTDOC", "RUSTUP_TOOLCHAIN"] {
        command.env_remove(variable);
    }
    command.current_dir(crate::root());
    command
}

/// Checks for nightly, and installs cargo-fuzz when `cargo fuzz` is not there.
fn ensure_cargo_fuzz() -> Result {
    let works = |args: &[&str]| {
        rustup_cargo()
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    };
    if !works(&["+nightly", "--version"]) {
        return Err(
            "fuzz: needs the nightly toolchain (`rustup toolchain install nightly`)".into(),
        );
    }
    if works(&["fuzz", "--version"]) {
        return Ok(());
    }
    println!("\n$ cargo install cargo-fuzz --locked");
    let status = rustup_cargo()
        .args(["install", "cargo-fuzz", "--locked"])
        .status()
        .map_err(|e| format!("cannot run cargo install: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "`cargo install cargo-fuzz --locked` failed ({status})"
        ))
    }
}

/// Builds and runs one target for `seconds`, echoing libFuzzer's progress.
fn run_target(target: &'static str, seconds: u64) -> Result<Report> {
    let fuzz = crate::root().join("fuzz");
    let corpus = fuzz.join("corpus").join(target);
    let seeds = fuzz.join("seeds").join(target);
    let artifacts = fuzz.join("artifacts").join(target);
    for dir in [&corpus, &artifacts] {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let before = files(&artifacts);
    let mut libfuzzer = vec![
        format!("-max_total_time={seconds}"),
        "-fork=1".to_owned(),
        "-ignore_crashes=1".to_owned(),
        "-ignore_timeouts=1".to_owned(),
        "-ignore_ooms=1".to_owned(),
        "-timeout=10".to_owned(),
    ];
    let dict = fuzz.join("dicts").join(format!("{target}.dict"));
    if dict.is_file() {
        libfuzzer.push(format!("-dict={}", dict.display()));
    }
    let mut args: Vec<String> = ["+nightly", "fuzz", "run", "--fuzz-dir"]
        .map(str::to_owned)
        .to_vec();
    args.push(fuzz.display().to_string());
    args.push(target.to_owned());
    args.push(corpus.display().to_string());
    args.push(seeds.display().to_string());
    args.push("--".to_owned());
    args.extend(libfuzzer);
    println!("\n$ cargo {}", args.join(" "));
    let started = Instant::now();
    let mut child = rustup_cargo()
        .args(&args)
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run cargo fuzz: {e}"))?;
    let mut status = Status::default();
    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr)
            .lines()
            .map_while(std::io::Result::ok)
        {
            if let Some(figures) = parse_status(&line) {
                status = figures;
            }
            if !is_noise(&line) {
                eprintln!("{line}");
            }
        }
    }
    let exit = child.wait().map_err(|e| format!("cargo fuzz: {e}"))?;
    if !exit.success() && status.runs == 0 {
        return Err(format!("`cargo {}` failed ({exit})", args.join(" ")));
    }
    let binary = binary(&fuzz, target);
    let crashes = files(&artifacts)
        .difference(&before)
        .map(|input| (input.clone(), reproduce(binary.as_deref(), input)))
        .collect();
    Ok(Report {
        target,
        status,
        seconds: started.elapsed().as_secs(),
        corpus: files(&corpus).len(),
        crashes,
    })
}

/// The files in `dir`.
fn files(dir: &Path) -> BTreeSet<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|path| path.is_file())
                .collect()
        })
        .unwrap_or_default()
}

/// Lines not worth echoing: each new corpus input, and the recommended dictionary.
fn is_noise(line: &str) -> bool {
    let event = line.split_whitespace().nth(1).unwrap_or_default();
    line.starts_with('#') && (event == "NEW" || event == "REDUCE") || line.contains("# Uses:")
}

/// The figures of a libFuzzer status line: `#69629  DONE   cov: 1082 ft: 2636 ...` or, in
/// fork mode, `#80129: cov: 1757 ft: 4329 corp: 309 exec/s: 40064 ...`.
fn parse_status(line: &str) -> Option<Status> {
    let rest = line.strip_prefix('#')?;
    let runs = rest
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()?;
    let words: Vec<&str> = line.split_whitespace().collect();
    let figure = |key: &str| {
        words
            .iter()
            .position(|word| *word == key)
            .and_then(|at| words.get(at + 1))
            .and_then(|value| value.parse().ok())
    };
    Some(Status {
        runs,
        exec_per_s: figure("exec/s:").unwrap_or(0),
        cov: figure("cov:")?,
        ft: figure("ft:").unwrap_or(0),
    })
}

/// The built target (`fuzz/target/<host triple>/release/<target>`), if there is one.
fn binary(fuzz: &Path, target: &str) -> Option<PathBuf> {
    std::fs::read_dir(fuzz.join("target"))
        .ok()?
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.path().join("release").join(target))
        .find(|path| path.is_file())
}

/// Runs the target on one crashing input; returns the panic message's first line (or the
/// sanitizer's verdict).
fn reproduce(binary: Option<&Path>, input: &Path) -> String {
    let Some(binary) = binary else {
        return "(not reproduced: no built target)".to_owned();
    };
    let Ok(output) = Command::new(binary).arg(input).output() else {
        return "(not reproduced: the target did not start)".to_owned();
    };
    let log = String::from_utf8_lossy(&output.stderr);
    let mut lines = log.lines();
    let panic = lines.by_ref().find(|line| line.contains("panicked at"));
    let verdict = match panic {
        Some(at) => format!("{} {}", at.trim(), lines.next().unwrap_or_default()),
        None => log
            .lines()
            .find(|line| line.contains("ERROR:") || line.contains("SUMMARY:"))
            .unwrap_or("(no message)")
            .to_owned(),
    };
    verdict.chars().take(400).collect()
}

fn print_reports(reports: &[Report]) {
    println!("\nxtask fuzz: per target");
    println!("| target | time | runs | exec/s | coverage (cov / ft) | corpus | crashing inputs |");
    println!("|---|---|---|---|---|---|---|");
    for report in reports {
        let status = &report.status;
        println!(
            "| {} | {} s | {} | {} | {} / {} | {} | {} |",
            report.target,
            report.seconds,
            status.runs,
            status.exec_per_s,
            status.cov,
            status.ft,
            report.corpus,
            report.crashes.len()
        );
    }
    for report in reports {
        for (input, message) in &report.crashes {
            let bytes = std::fs::read(input).unwrap_or_default();
            let shown: String = String::from_utf8_lossy(&bytes).chars().take(200).collect();
            println!("\n{}: {}", report.target, input.display());
            println!("  input: {shown:?}");
            println!("  {message}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_libfuzzer_status_lines() {
        let fork = "#80129: cov: 1757 ft: 4329 corp: 309 exec/s: 40064 oom/timeout/crash: 0/0/0 time: 2s job: 1 dft_time: 0";
        assert_eq!(
            parse_status(fork),
            Some(Status {
                runs: 80129,
                exec_per_s: 40064,
                cov: 1757,
                ft: 4329
            })
        );
        let done =
            "#69629\tDONE   cov: 1082 ft: 2636 corp: 340/47Kb lim: 362 exec/s: 3315 rss: 395Mb";
        assert_eq!(
            parse_status(done).map(|s| (s.runs, s.cov)),
            Some((69629, 1082))
        );
        assert_eq!(parse_status("#1 NEW"), None);
        assert_eq!(parse_status("INFO: Seed: 1"), None);
    }
}
