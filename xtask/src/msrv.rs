//! The declared MSRV, checked with that toolchain: `rustup run <rust-version> cargo check` of every
//! publishable crate with all its features, in a target directory of its own.

use std::path::Path;

use crate::{cmd, Result};

/// Installs the workspace's `rust-version` toolchain (minimal profile, about 15 s) and checks
/// every publishable crate with it. Without rustup it skips with a notice (a failure under
/// `CI=true`).
pub(crate) fn run() -> Result {
    let root = crate::root();
    let manifest = read(&root.join("Cargo.toml"))?;
    let version = value_of(&manifest, "rust-version").ok_or("no rust-version in Cargo.toml")?;
    if let Err(reason) = cmd::run(
        "rustup",
        &["toolchain", "install", &version, "--profile", "minimal"],
        &[],
    ) {
        if crate::strict() {
            return Err(format!("MSRV {version}: {reason}"));
        }
        println!("msrv: NOTICE: {reason}; the MSRV check is SKIPPED (install rustup)");
        return Ok(());
    }
    let crates = publishable(&root, &manifest)?;
    let target = root.join("target").join("msrv");
    let target = target.to_string_lossy();
    let mut args = vec![
        "run",
        version.as_str(),
        "cargo",
        "check",
        "--all-features",
        "--target-dir",
        &target,
    ];
    for name in &crates {
        args.extend(["-p", name.as_str()]);
    }
    cmd::run("rustup", &args, &[])?;
    println!("msrv: {} crates build on Rust {version}", crates.len());
    Ok(())
}

/// The names of the workspace members that do not say `publish = false`.
fn publishable(root: &Path, manifest: &str) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for member in members(manifest) {
        let member = read(&root.join(member).join("Cargo.toml"))?;
        if member.lines().any(|line| line.trim() == "publish = false") {
            continue;
        }
        names.push(value_of(&member, "name").ok_or("a member without a name")?);
    }
    Ok(names)
}

/// The paths in the root manifest's `members = [ ... ]`, one per line.
fn members(manifest: &str) -> Vec<&str> {
    manifest
        .lines()
        .skip_while(|line| !line.trim_start().starts_with("members"))
        .skip(1)
        .take_while(|line| !line.trim_start().starts_with(']'))
        .filter_map(|line| {
            line.trim()
                .strip_suffix(',')?
                .strip_prefix('"')?
                .strip_suffix('"')
        })
        .collect()
}

/// The string value of the first `key = "value"` line.
fn value_of(manifest: &str, key: &str) -> Option<String> {
    manifest.lines().find_map(|line| {
        let (name, value) = line.split_once('=')?;
        (name.trim() == key).then(|| value.trim().trim_matches('"').to_owned())
    })
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_members_and_values_from_a_manifest() {
        let manifest = "[workspace]\nmembers = [\n    \"session-core\",\n    \"examples/axum\",\n]\n\n[workspace.package]\nrust-version = \"1.89\"\n";
        assert_eq!(members(manifest), ["session-core", "examples/axum"]);
        assert_eq!(value_of(manifest, "rust-version").as_deref(), Some("1.89"));
        assert_eq!(value_of(manifest, "edition"), None);
    }
}
