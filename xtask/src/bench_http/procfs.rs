//! What `/proc` says about the machine and the processes under test: CPU ticks, turned into
//! cores used during a run, and a server's peak RSS.

use std::fs;

use crate::Result;

/// CPU use during a run, in cores (1.0 = one core busy all the time).
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Cpu {
    pub(super) server: f64,
    pub(super) redis: f64,
    pub(super) others: f64,
}

/// Cumulative CPU ticks of the machine and of the processes under test.
#[derive(Debug, Clone, Copy)]
pub(super) struct CpuTicks {
    /// Every CPU's busy ticks (not idle, not waiting for I/O), summed.
    busy: u64,
    /// Every CPU's ticks, summed.
    total: u64,
    server: u64,
    redis: u64,
}

impl CpuTicks {
    pub(super) fn now(server: u32, redis: Option<u32>) -> Self {
        let (busy, total) = machine_ticks().unwrap_or_default();
        Self {
            busy,
            total,
            server: process_ticks(server).unwrap_or_default(),
            redis: redis.and_then(process_ticks).unwrap_or_default(),
        }
    }

    /// Cores used between `earlier` and `self`, given that wrk used `wrk` ticks.
    pub(super) fn since(&self, earlier: &Self, wrk: u64) -> Cpu {
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
pub(super) fn process_ticks(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces: the 3rd
    // field (state) comes first, utime and stime are the 14th and 15th.
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some(user + system)
}

/// The peak resident set (`VmHWM`) of process `pid`, in KiB.
pub(super) fn vm_hwm_kib(pid: u32) -> Result<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("cannot read the server's /proc status: {e}"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| "no VmHWM in the server's /proc status".to_owned())
}
