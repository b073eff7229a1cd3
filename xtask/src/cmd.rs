//! Running commands and reading what cargo's test runner says.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
};

use crate::Result;

/// Runs a command in the workspace root, inheriting the terminal; fails on a non-zero exit.
pub(crate) fn run(program: &str, args: &[&str], envs: &[(&str, &str)]) -> Result {
    println!("\n$ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .envs(envs.iter().copied())
        .current_dir(crate::root())
        .status()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{program} {}` failed ({status})", args.join(" ")))
    }
}

/// Test counts summed over every `test result:` line.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Counts {
    pub(crate) passed: u64,
    pub(crate) failed: u64,
    pub(crate) ignored: u64,
}

/// Runs `cargo <args>` echoing its output, and sums the test counts it reports.
pub(crate) fn cargo_test(args: &[&str], envs: &[(String, String)]) -> Result<Counts> {
    println!("\n$ cargo {}", args.join(" "));
    let mut child = Command::new(env!("CARGO"))
        .args(args)
        .envs(envs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .current_dir(crate::root())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let mut counts = Counts::default();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout)
            .lines()
            .map_while(std::io::Result::ok)
        {
            println!("{line}");
            if let Some(summary) = line.strip_prefix("test result: ") {
                counts.passed += count(summary, " passed");
                counts.failed += count(summary, " failed");
                counts.ignored += count(summary, " ignored");
            }
        }
    }
    let status = child.wait().map_err(|e| format!("cargo test: {e}"))?;
    if status.success() {
        Ok(counts)
    } else {
        Err(format!("`cargo {}` failed ({status})", args.join(" ")))
    }
}

/// The number before `label` in a `test result:` summary.
fn count(summary: &str, label: &str) -> u64 {
    summary
        .split(';')
        .find(|part| part.trim_end().ends_with(label.trim()))
        .and_then(|part| part.split_whitespace().rev().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cargo_test_summaries() {
        let summary =
            "ok. 40 passed; 2 failed; 3 ignored; 0 measured; 0 filtered out; finished in 2.31s";
        assert_eq!(count(summary, " passed"), 40);
        assert_eq!(count(summary, " failed"), 2);
        assert_eq!(count(summary, " ignored"), 3);
    }
}
