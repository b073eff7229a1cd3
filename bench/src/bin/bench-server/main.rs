//! One server of the side-by-side HTTP benchmark: `bench-server --server NAME --port P
//! [--redis-url URL] [--database-url URL --pg-schema SCHEMA] [--sqlite-path PATH]`, or
//! `bench-server --list` for every name, or `bench-server --pg-admin create|drop
//! --database-url URL --pg-schema SCHEMA` for a run's schema. Run them all with
//! `cargo xtask bench http`.
//!
//! Every server answers `GET /` with the visit counter of `examples/README.md` (`count=N`):
//! ours through [`example_common::routes::visit`], the peers (tower-sessions, actix-session)
//! through their own session API with the same [`counter`] steps, and each framework's bare
//! server with the same body and no sessions. Every server runs 2 runtime worker threads
//! ([`WORKERS`]) with logging off, listens on `127.0.0.1:P` and runs until it is killed.

mod common;
mod counter;
mod tower_axum;
mod with_actix;
mod with_axum;
mod with_rocket;
mod with_warp;

use std::process::ExitCode;

use common::Options;

/// Runtime worker threads of every server.
pub(crate) const WORKERS: usize = 2;

const USAGE: &str = "usage: bench-server --server NAME --port P [--redis-url URL] \
     [--database-url URL --pg-schema SCHEMA] [--sqlite-path PATH]  |  bench-server --list  |  \
     bench-server --pg-admin create|drop --database-url URL --pg-schema SCHEMA";

/// Runs one server, named in its options, until the process is killed.
type Run = fn(&Options) -> common::Result;

/// Every framework's servers (one file each): their names and how to run one.
const FRAMEWORKS: &[(&[&str], Run)] = &[
    (with_axum::SERVERS, with_axum::run),
    (with_actix::SERVERS, with_actix::run),
    (with_warp::SERVERS, with_warp::run),
    (with_rocket::SERVERS, with_rocket::run),
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|arg| arg == "--pg-admin") {
        return match common::pg_admin(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("bench-server --pg-admin: {error}");
                ExitCode::FAILURE
            }
        };
    }
    if args.iter().any(|arg| arg == "--list") {
        for (servers, _) in FRAMEWORKS {
            for server in *servers {
                println!("{server}");
            }
        }
        return ExitCode::SUCCESS;
    }
    let options = match Options::parse(&args) {
        Ok(options) => options,
        Err(reason) => {
            eprintln!("bench-server: {reason}\n{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    let Some((_, run)) = FRAMEWORKS
        .iter()
        .find(|(servers, _)| servers.contains(&options.server.as_str()))
    else {
        eprintln!(
            "bench-server: unknown server `{}` (see --list)",
            options.server
        );
        return ExitCode::FAILURE;
    };
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bench-server {}: {error}", options.server);
            ExitCode::FAILURE
        }
    }
}
