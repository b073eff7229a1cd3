//! The servers under test: their names, the services (Redis, PostgreSQL) they need, and
//! starting one.

use std::{
    fs::{self, File},
    net::SocketAddr,
    path::Path,
    process::{Command, Stdio},
};

use crate::{
    services,
    smoke::{free_loopback_addr, wait_until_listening, KillOnDrop},
    Result,
};

use super::settings::{Scenario, Settings};

pub(super) fn needs_redis(server: &str) -> bool {
    server.ends_with("-redis") || server.ends_with("-redis-near")
}

fn needs_postgres(server: &str) -> bool {
    server.ends_with("-postgres")
}

pub(super) fn framework(server: &str) -> &str {
    server.split('-').next().unwrap_or(server)
}

pub(super) fn is_bare(server: &str) -> bool {
    server.ends_with("-bare")
}

/// The servers of `bench-server --list` that `settings` selects; fails when none is.
pub(super) fn selected(binary: &Path, settings: &Settings) -> Result<Vec<String>> {
    let servers: Vec<String> = list_servers(binary)?
        .into_iter()
        .filter(|server| settings.selects(server))
        .collect();
    if servers.is_empty() {
        return Err(format!("no server matches {:?}", settings.filters));
    }
    Ok(servers)
}

/// `bench-server --list`.
fn list_servers(binary: &Path) -> Result<Vec<String>> {
    let out = Command::new(binary)
        .arg("--list")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
    if !out.status.success() {
        return Err(format!("{} --list failed", binary.display()));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect())
}

/// The Redis and the PostgreSQL (with a schema of its own) of one run, when a server needs
/// them.
pub(super) struct Services {
    redis: Option<services::Redis>,
    postgres: Option<services::Postgres>,
    pg_schema: String,
}

impl Services {
    /// Finds or starts the services that `servers` need; a server whose service is missing
    /// is dropped from `servers` with a notice.
    pub(super) fn start(binary: &Path, servers: &mut Vec<String>) -> Result<Self> {
        let redis = if servers.iter().any(|s| needs_redis(s)) {
            services::redis()?
        } else {
            None
        };
        if redis.is_none() {
            skip(servers, needs_redis, "Redis");
        }
        let postgres = if servers.iter().any(|s| needs_postgres(s)) {
            services::postgres()?
        } else {
            None
        };
        if postgres.is_none() {
            skip(servers, needs_postgres, "PostgreSQL");
        }
        let pg_schema = format!("bench_http_{}", std::process::id());
        if let Some(postgres) = &postgres {
            pg_admin(binary, "create", &postgres.url, &pg_schema)?;
        }
        Ok(Self {
            redis,
            postgres,
            pg_schema,
        })
    }

    /// The Redis URL, and the pid of the private Redis when this run started one.
    fn redis(&self) -> Option<(&str, Option<u32>)> {
        let redis = self.redis.as_ref()?;
        Some((redis.url.as_str(), redis.pid()))
    }

    /// The PostgreSQL URL and the run's schema.
    fn postgres(&self) -> Option<(&str, &str)> {
        let postgres = self.postgres.as_ref()?;
        Some((postgres.url.as_str(), self.pg_schema.as_str()))
    }

    /// Stops Redis, then drops the run's schema and stops PostgreSQL.
    pub(super) fn stop(self, binary: &Path) -> Result {
        let Self {
            redis,
            postgres,
            pg_schema,
        } = self;
        drop(redis);
        if let Some(postgres) = &postgres {
            pg_admin(binary, "drop", &postgres.url, &pg_schema)?;
        }
        drop(postgres);
        Ok(())
    }
}

/// Drops from `servers` those that `need` the missing `service`, with a notice for each.
fn skip(servers: &mut Vec<String>, need: fn(&str) -> bool, service: &str) {
    servers.retain(|server| {
        let keep = !need(server);
        if !keep {
            println!("bench http: NOTICE: no {service}, {server} is SKIPPED");
        }
        keep
    });
}

/// Creates or drops the run's schema through `bench-server --pg-admin` (xtask has no
/// PostgreSQL client of its own).
fn pg_admin(server_bin: &Path, action: &str, url: &str, schema: &str) -> Result {
    let status = Command::new(server_bin)
        .args([
            "--pg-admin",
            action,
            "--database-url",
            url,
            "--pg-schema",
            schema,
        ])
        .status()
        .map_err(|e| format!("cannot run {}: {e}", server_bin.display()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "bench-server --pg-admin {action} {schema} failed ({status})"
        ))
    }
}

/// A server under test, killed on drop.
pub(super) struct Running {
    pub(super) addr: SocketAddr,
    pub(super) pid: u32,
    /// The pid of the private Redis that the server uses, if any.
    pub(super) redis_pid: Option<u32>,
    _process: KillOnDrop,
}

/// Starts `server` of `binary` (`bench-server`) for `scenario` with the services it needs,
/// its log in `work`, and waits until it listens.
pub(super) fn start(
    binary: &Path,
    services: &Services,
    work: &Path,
    server: &str,
    scenario: Scenario,
) -> Result<Running> {
    let addr = free_loopback_addr()?;
    let log_path = work.join(format!("{server}.log"));
    let log = File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
    let mut command = Command::new(binary);
    command.args(["--server", server, "--port", &addr.port().to_string()]);
    let redis_pid = match services.redis() {
        Some((url, pid)) if needs_redis(server) => {
            command.args(["--redis-url", url]);
            pid
        }
        _ => None,
    };
    if let Some((url, schema)) = services.postgres().filter(|_| needs_postgres(server)) {
        command.args(["--database-url", url, "--pg-schema", schema]);
    }
    if server.ends_with("-sqlite") {
        // A fresh database for every run of the server.
        let db = work.join(format!(
            "{server}-{}.db",
            scenario.label().replace(' ', "-")
        ));
        for suffix in ["", "-wal", "-shm"] {
            let _ = fs::remove_file(format!("{}{suffix}", db.display()));
        }
        command.args(["--sqlite-path", &db.to_string_lossy()]);
    }
    let child = command
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    let pid = child.id();
    let process = KillOnDrop(child);
    wait_until_listening(addr, server)?;
    Ok(Running {
        addr,
        pid,
        redis_pid,
        _process: process,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_compare_with_the_same_framework() {
        assert_eq!(framework("axum-tower-sessions-moka"), "axum");
        assert_eq!(framework("actix-session-cookie"), "actix");
        assert!(is_bare("rocket-bare"));
        assert!(needs_redis("actix-session-redis") && !needs_redis("axum-ours-memory"));
        assert!(needs_redis("axum-ours-redis-near"));
    }
}
