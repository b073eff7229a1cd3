//! The live interop test on PostgreSQL: the Express app of `interop/express-pg/`
//! (express-session + connect-pg-simple from npm) and every Rust example, all with
//! `STORE=postgres` on one table, share sessions in both directions: the same checks as the
//! Redis test (`interop/shared.rs`), logouts, "log out everywhere", the absolute timeout and
//! secret rotation included. Everything lives in a schema made for the run, dropped at the end.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Instant, SystemTime, UNIX_EPOCH},
};

use crate::{
    interop::{
        apps::{node_available, npm_ci, Backend, Rows},
        shared::run_checks,
    },
    services, smoke, Result,
};

/// Runs the checks against the PostgreSQL that CI provides; `None` means CI found none and
/// already said so.
pub(crate) fn run(postgres: Option<&services::Postgres>) -> Result {
    let Some(postgres) = postgres else {
        println!("interop: NOTICE: no PostgreSQL; the Express (connect-pg-simple) interop test is SKIPPED");
        return Ok(());
    };
    let app_dir = crate::root().join("interop").join("express-pg");
    if let Err(reason) = node_available() {
        if crate::strict() {
            return Err(format!(
                "the interop test needs Node.js under CI=true: {reason}"
            ));
        }
        println!("interop: NOTICE: {reason}; the Express (connect-pg-simple) interop test is SKIPPED (install node and npm)");
        return Ok(());
    }
    let installed = Instant::now();
    npm_ci(&app_dir)?;
    println!("interop: npm ci took {:.1?}", installed.elapsed());

    let started = Instant::now();
    let schema = format!(
        "interop_{}_{}",
        std::process::id(),
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis())
    );
    let mut rows = PgRows {
        app_dir: app_dir.clone(),
        url: postgres.url.clone(),
        schema: schema.clone(),
    };
    rows.admin(&["create-schema", &schema])?;
    let mut backend = Backend {
        env: vec![
            ("STORE", "postgres".to_owned()),
            ("DATABASE_URL", postgres.url.clone()),
            ("PG_SCHEMA", schema.clone()),
        ],
        example_env: |_| Vec::new(),
        app_dir,
        rows: &mut rows,
    };
    let outcome = run_checks("postgres", &mut backend);
    let dropped = rows.admin(&["drop-schema", &schema]);
    let passed = outcome?;
    dropped?;
    println!(
        "interop: {passed} checks passed for {} example(s) against Express in {:.1?} \
         (PostgreSQL-backed part); dropped schema {schema:?}",
        smoke::EXAMPLES.len(),
        started.elapsed()
    );
    Ok(())
}

/// The sessions in connect-pg-simple's table, read through `interop/express-pg/admin.js`
/// (node-postgres), so that xtask needs no PostgreSQL client of its own.
struct PgRows {
    app_dir: PathBuf,
    url: String,
    schema: String,
}

impl PgRows {
    fn admin(&self, args: &[&str]) -> Result<String> {
        admin(&self.app_dir, &self.url, args)
    }
}

impl Rows for PgRows {
    fn get(&mut self, id: &str) -> Result<Option<String>> {
        let sess = self.admin(&["get", &self.schema, id])?;
        Ok((!sess.is_empty()).then_some(sess))
    }
}

/// Runs `node admin.js <args>` with `DATABASE_URL`; returns what it printed.
fn admin(app_dir: &Path, url: &str, args: &[&str]) -> Result<String> {
    let output = Command::new("node")
        .arg("admin.js")
        .args(args)
        .env("DATABASE_URL", url)
        .current_dir(app_dir)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run node admin.js: {e}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(format!(
            "`node admin.js {}` failed ({})",
            args.join(" "),
            output.status
        ))
    }
}
