//! What a run measures: the command line and the three scenarios.

use crate::Result;

/// Seconds of warm-up before each measured run.
const WARMUP_SECS: u32 = 3;
/// Seconds of each measured run.
const MEASURE_SECS: u32 = 10;
/// Distinct cookies of the returning-pool scenario.
pub(super) const POOL: usize = 1000;

/// How the load's requests carry cookies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scenario {
    /// No cookie: every request starts a session.
    New,
    /// The same valid cookie on every request.
    Returning,
    /// [`POOL`] valid cookies, one after the other.
    Pool,
}

impl Scenario {
    pub(super) const ALL: [Self; 3] = [Self::New, Self::Returning, Self::Pool];

    pub(super) fn label(self) -> &'static str {
        match self {
            Self::New => "new visitor",
            Self::Returning => "returning visitor",
            Self::Pool => "returning pool",
        }
    }

    pub(super) fn cookies(self) -> usize {
        match self {
            Self::New => 0,
            Self::Returning => 1,
            Self::Pool => POOL,
        }
    }
}

/// The command line.
#[derive(Debug)]
pub(super) struct Settings {
    pub(super) warmup: u32,
    pub(super) duration: u32,
    pub(super) filters: Vec<String>,
}

impl Settings {
    pub(super) fn parse(args: &[String]) -> Result<Self> {
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
    pub(super) fn is_full(&self) -> bool {
        self.filters.is_empty() && self.warmup == WARMUP_SECS && self.duration == MEASURE_SECS
    }

    pub(super) fn selects(&self, server: &str) -> bool {
        self.filters.is_empty() || self.filters.iter().any(|f| server.contains(f.as_str()))
    }
}
