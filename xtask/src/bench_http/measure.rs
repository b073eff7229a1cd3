//! One (server, scenario) from start to outcome: a fresh server, its cookies, a warm-up, the
//! measured run (again when other processes were busy), its peak RSS and the notes.

use std::path::Path;

use crate::Result;

use super::{
    cookies, procfs, report,
    servers::{self, Running, Services},
    settings::{Scenario, Settings},
    wrk::{self, Measure},
};

/// A measured run during which other processes used more than this many cores is repeated
/// (without a new warm-up), and the quietest of its runs is kept.
pub(super) const NOISY_CORES: f64 = 0.25;
/// At most this many repeats per (server, scenario).
pub(super) const MAX_REPEATS: u32 = 2;

/// One (server, scenario) result.
#[derive(Debug)]
pub(super) struct Row {
    pub(super) server: String,
    pub(super) scenario: Scenario,
    pub(super) outcome: std::result::Result<Outcome, String>,
}

#[derive(Debug)]
pub(super) struct Outcome {
    pub(super) measure: Measure,
    /// The server's peak RSS (`VmHWM`), in KiB.
    pub(super) peak_rss_kib: u64,
    pub(super) notes: Vec<String>,
}

/// What every (server, scenario) of one run shares.
pub(super) struct Bench<'a> {
    /// `bench-server`.
    binary: &'a Path,
    /// The Redis and PostgreSQL of the run, if any.
    services: &'a Services,
    /// Where logs and the wrk script go.
    work: &'a Path,
    settings: &'a Settings,
    /// The 1-minute load average before each measured run.
    loads: Vec<f64>,
    /// Repeats of noisy measured runs still allowed in this run's time budget.
    repeats: u32,
}

impl<'a> Bench<'a> {
    pub(super) fn new(
        binary: &'a Path,
        services: &'a Services,
        work: &'a Path,
        settings: &'a Settings,
        repeats: u32,
    ) -> Self {
        Self {
            binary,
            services,
            work,
            settings,
            loads: Vec::new(),
            repeats,
        }
    }

    /// Every scenario on every server, in order, with a progress line after each.
    pub(super) fn all(&mut self, servers: &[String]) -> Vec<Row> {
        let mut rows = Vec::new();
        for server in servers {
            for scenario in Scenario::ALL {
                let outcome = self.one(server, scenario);
                report::progress(server, scenario, &outcome);
                rows.push(Row {
                    server: server.clone(),
                    scenario,
                    outcome,
                });
            }
        }
        rows
    }

    /// The 1-minute load average before each measured run.
    pub(super) fn into_loads(self) -> Vec<f64> {
        self.loads
    }

    /// Starts `server`, gets the scenario's cookies, warms up, measures (again when other
    /// processes were busy), reads the peak RSS and checks that the cookies were honoured.
    fn one(&mut self, server: &str, scenario: Scenario) -> std::result::Result<Outcome, String> {
        let running = servers::start(self.binary, self.services, self.work, server, scenario)?;
        let cookies = cookies::for_scenario(running.addr, server, scenario)?;
        let wrk_args = wrk::args(scenario, &cookies, self.work)?;
        let (measure, runs) = self.quietest(&running, &wrk_args)?;
        let peak_rss_kib = procfs::vm_hwm_kib(running.pid)?;

        let mut notes = Vec::new();
        if runs > 1 {
            notes.push(format!(
                "other processes were busy: measured {runs} times, the quietest kept \
                 (peak RSS covers all)"
            ));
        }
        notes.extend(cookies::not_honoured_after_the_run(
            running.addr,
            server,
            &cookies,
        ));
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

    /// A warm-up, then the measured run, repeated while other processes used more than
    /// [`NOISY_CORES`] (within [`MAX_REPEATS`] and the run's budget): the quietest measure,
    /// and how many measured runs it took.
    fn quietest(&mut self, running: &Running, wrk_args: &[String]) -> Result<(Measure, u32)> {
        let (addr, settings) = (running.addr, self.settings);
        wrk::run(addr, settings.warmup, wrk_args, None)?;
        if let Some(load) = std::fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|text| text.split_whitespace().next()?.parse().ok())
        {
            self.loads.push(load);
        }
        let watch = Some((running.pid, running.redis_pid));
        let mut measure = wrk::run(addr, settings.duration, wrk_args, watch)?;
        let mut runs = 1;
        while measure.cpu.others > NOISY_CORES && runs <= MAX_REPEATS && self.repeats > 0 {
            self.repeats -= 1;
            runs += 1;
            let again = wrk::run(addr, settings.duration, wrk_args, watch)?;
            if again.cpu.others < measure.cpu.others {
                measure = again;
            }
        }
        Ok((measure, runs))
    }
}
