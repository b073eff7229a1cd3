//! The reference app on Rocket. Run with `cargo run -p example-rocket`; configured from the
//! environment as `examples/README.md` says.

use std::process::ExitCode;

use example_common::Settings;
use rocket::fairing::AdHoc;

#[rocket::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("example-rocket: {error}");
            return ExitCode::FAILURE;
        }
    };
    let manager = match settings.session_manager().await {
        Ok(manager) => manager,
        Err(error) => {
            eprintln!("example-rocket: {error}");
            return ExitCode::FAILURE;
        }
    };
    // Rocket binds when it launches; the banner goes out once it listens (liftoff).
    let banner = settings.banner("example-rocket");
    let app = example_rocket::app(manager, settings.addr)
        .attach(AdHoc::on_liftoff("banner", move |_| {
            Box::pin(async move { println!("{banner}") })
        }));
    if let Err(error) = app.launch().await {
        eprintln!("example-rocket: {error}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
