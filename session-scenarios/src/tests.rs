//! The lists of [`scenario_tests!`](crate::scenario_tests) name every scenario, once, and
//! nothing else: a scenario missing from its list would never run, and nothing else would
//! say so. A scenario is a `pub async fn` of `scenarios.rs`, `integrity.rs` or
//! `cookie_mode.rs` (their helpers are private or not `async`); this reads those files and
//! `lib.rs` as text and compares.

/// The macro, with its three lists.
const LIB: &str = include_str!("lib.rs");

/// Each scenario module: its file, its source, and the macro call that lists its scenarios.
const MODULES: [(&str, &str, &str); 3] = [
    (
        "scenarios.rs",
        include_str!("scenarios.rs"),
        "$crate::scenario_tests!(@each;",
    ),
    (
        "integrity.rs",
        include_str!("integrity.rs"),
        "$crate::integrity_scenarios!($($mode)*;",
    ),
    (
        "cookie_mode.rs",
        include_str!("cookie_mode.rs"),
        "$crate::scenario_tests!(@each_format $format;",
    ),
];

/// The names of the `pub async fn`s of a module's source.
fn scenarios_in(source: &str) -> Vec<&str> {
    source
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("pub async fn "))
        .filter_map(|rest| rest.split(['(', '<']).next())
        .map(str::trim)
        .collect()
}

/// The names listed in `lib` after `call`, up to its closing `);`, comments left out.
fn listed<'a>(lib: &'a str, call: &str) -> Vec<&'a str> {
    assert_eq!(
        lib.matches(call).count(),
        1,
        "lib.rs should call `{call}` exactly once"
    );
    let start = lib.find(call).unwrap_or_default() + call.len();
    let end = start + lib[start..].find(");").expect("the list ends with `);`");
    lib[start..end]
        .lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .flat_map(|line| line.split(','))
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .collect()
}

/// What is wrong between the scenarios `defined` in `file` and those `listed` for it.
fn problems(file: &str, defined: &[&str], listed: &[&str]) -> Vec<String> {
    let mut problems = Vec::new();
    for name in defined.iter().filter(|name| !listed.contains(name)) {
        problems.push(format!(
            "{file}: `{name}` is not in its list of `scenario_tests!` (lib.rs), so it never runs"
        ));
    }
    for name in listed.iter().filter(|name| !defined.contains(name)) {
        problems.push(format!(
            "lib.rs: `{name}` is listed for {file}, which has no `pub async fn {name}`"
        ));
    }
    for (i, name) in listed.iter().enumerate() {
        if listed[..i].contains(name) {
            problems.push(format!("lib.rs: `{name}` is listed twice for {file}"));
        }
    }
    problems
}

#[test]
fn every_scenario_is_listed_once_and_every_listed_name_is_a_scenario() {
    let mut all = Vec::new();
    for (file, source, call) in MODULES {
        let defined = scenarios_in(source);
        assert!(!defined.is_empty(), "no `pub async fn` found in {file}");
        all.extend(problems(file, &defined, &listed(LIB, call)));
    }
    assert!(all.is_empty(), "\n{}\n", all.join("\n"));
}

#[test]
fn the_check_sees_a_forgotten_scenario_and_a_stray_name() {
    let source = "pub fn config() {}\n\
                  async fn helper() {}\n\
                  /// pub async fn in_a_doc_comment(start: Start) {}\n\
                  pub async fn listed_one(start: Start) {}\n\
                  pub async fn forgotten(start: Start, backend: Backend) {}\n";
    let lib = "$crate::scenario_tests!(@each;\n    listed_one,\n    // forgotten,\n    stray,\n);";
    let defined = scenarios_in(source);
    assert_eq!(defined, ["listed_one", "forgotten"]);
    let listed = listed(lib, "$crate::scenario_tests!(@each;");
    assert_eq!(listed, ["listed_one", "stray"]);
    let problems = problems("x.rs", &defined, &listed);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].contains("`forgotten` is not in its list"));
    assert!(problems[1].contains("`stray` is listed for x.rs"));
}
