//! The seed program on actix-web. Run with `cargo run -p example-seed-actix`, then open
//! <http://127.0.0.1:3000> (`PORT` changes the port).
//!
//! The Express snippet this project started from, translated line by line, with one fix: its
//! `let visits = 0` was a global counter, a bug that counted every visitor together. Here the
//! count lives in the session, so each visitor has their own.

use std::time::Duration;

use actix_web::{web, App, HttpServer};
use session_actix::{
    MemoryStore, Session, SessionConfig, SessionError, SessionManager, SessionMiddleware,
};

async fn visit(session: Session) -> Result<&'static str, SessionError> {
    let user_id = session
        .get::<u64>("userId")?
        .unwrap_or_else(random_below_1000);
    let visits = session.get::<u64>("visits")?.unwrap_or(0) + 1;
    session.insert("userId", user_id)?;
    session.insert("visits", visits)?;
    println!("User {user_id} has visited the page {visits} times");
    Ok("Welcome to our website!")
}

/// `Math.floor(Math.random() * 1000)` without an RNG crate: std keys its `RandomState`s from
/// the OS RNG (each new one differently), so hashing nothing with a new one is unpredictable.
fn random_below_1000() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
        % 1000
}

async fn logout(session: Session) -> Result<web::Redirect, SessionError> {
    session.destroy().await?; // deletes the record and clears the cookie
    Ok(web::Redirect::to("/").see_other()) // 303 See Other: "now GET /" (Express sends 302)
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The seed's 'keyboard cat', stretched to the 32 bytes the builder asks for. A demo secret
    // only: production must set `SECRET` (a long random value kept out of the code).
    let secret =
        std::env::var("SECRET").unwrap_or_else(|_| "keyboard cat, but 32 bytes or longer".into());
    let config = SessionConfig::builder()
        .secret(secret)
        .resave(false)
        .save_uninitialized(true)
        .max_age(Some(Duration::from_millis(60_000)))
        .build()?;
    let manager = SessionManager::new(MemoryStore::new(), config);
    let port = std::env::var("PORT").map_or(Ok(3000), |port| port.parse())?;
    HttpServer::new(move || {
        App::new()
            .route("/", web::get().to(visit))
            .route("/logout", web::get().to(logout))
            .wrap(SessionMiddleware::new(manager.clone()))
    })
    .bind(("127.0.0.1", port))?
    .run()
    .await?;
    Ok(())
}
