//! What a run found: each check with its verdict, notes on what the browser did where a rule
//! is the browser's choice rather than ours, and the screenshots, numbered in step order.

use std::{
    fmt::Display,
    path::{Path, PathBuf},
};

use crate::{page::Page, Result};

/// The run's findings so far.
#[derive(Debug)]
pub(crate) struct Report {
    dir: PathBuf,
    scenario: String,
    passed: usize,
    failed: Vec<String>,
    notes: Vec<String>,
    shots: Vec<PathBuf>,
}

impl Report {
    /// A report whose screenshots go to `dir`.
    pub(crate) fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_owned(),
            scenario: String::new(),
            passed: 0,
            failed: Vec::new(),
            notes: Vec::new(),
            shots: Vec::new(),
        }
    }

    /// Starts the checks of `scenario`.
    pub(crate) fn begin(&mut self, scenario: &str) {
        println!("\nbrowser: {scenario}");
        self.scenario = scenario.to_owned();
    }

    /// Records whether `what` holds; `detail` says what was seen when it does not.
    pub(crate) fn check(&mut self, what: &str, holds: bool, detail: impl Display) -> bool {
        if holds {
            println!("  ok    {what}");
            self.passed += 1;
        } else {
            println!("  FAIL  {what}: {detail}");
            self.failed
                .push(format!("{}: {what}: {detail}", self.scenario));
        }
        holds
    }

    /// Records a failure that ended the scenario early.
    pub(crate) fn abort(&mut self, error: &str) {
        println!("  FAIL  {error}");
        self.failed.push(format!("{}: {error}", self.scenario));
    }

    /// Records what the browser did where the rule is its own.
    pub(crate) fn note(&mut self, text: impl Into<String>) {
        let text = text.into();
        println!("  note  {text}");
        self.notes.push(format!("{}: {text}", self.scenario));
    }

    /// Writes a screenshot of `page` for `step`, captioned with `caption`.
    pub(crate) fn shot(&mut self, page: &mut Page<'_>, step: &str, caption: &[String]) -> Result {
        let name = format!("{:02}-{}-{step}.png", self.shots.len() + 1, self.scenario);
        let path = self.dir.join(name);
        let mut lines = vec![format!("{} / {step}", self.scenario)];
        lines.extend_from_slice(caption);
        page.screenshot(&path, &lines)?;
        self.shots.push(path);
        Ok(())
    }

    /// The failures (empty when every check held).
    pub(crate) fn failures(&self) -> &[String] {
        &self.failed
    }

    /// The closing summary.
    pub(crate) fn summary(&self) -> String {
        let mut summary = String::new();
        if !self.notes.is_empty() {
            summary.push_str("\nnotes (what was seen, where the browser or the mode decides):\n");
            for note in &self.notes {
                summary.push_str(&format!("  {note}\n"));
            }
        }
        summary.push_str(&format!(
            "\n{} screenshots in {}\n",
            self.shots.len(),
            self.dir.display()
        ));
        for failure in &self.failed {
            summary.push_str(&format!("failed: {failure}\n"));
        }
        summary.push_str(&format!(
            "browser: {} passed, {} failed",
            self.passed,
            self.failed.len()
        ));
        summary
    }
}
