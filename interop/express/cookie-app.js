// The reference app of examples/README.md on Express 5 + cookie-session 2.x: the whole session
// in a signed cookie (`<name>` and `<name>.sig`), no store. Configured from the same environment
// variables as the Rust examples where they make sense, so that `cargo xtask ci` can show an
// Express app and every Rust example started with
// `STORE=cookie COOKIE_MODE=cookie-session COOKIE_NAME=session` sharing sessions.
//
//   npm ci && SECRET=new-key,old-key node cookie-app.js
//
// Variables: HOST, PORT, SECRET (comma-separated keys: the first signs, all verify),
// COOKIE_NAME (default `session`, cookie-session's), MAX_AGE_MS (set but empty: a
// browser-session cookie). cookie-session has no store, so there is no `/logout-everywhere`,
// and no `ROLLING`, `RESAVE`, `SAVE_UNINITIALIZED` or `UNSET` (its rules are fixed).

import crypto from "node:crypto";

import cookieSession from "cookie-session";
import express from "express";

import { counterRoutes, envReader, text } from "./reference.js";

const NAME = "interop-express-cookie";
const { fail, integer } = envReader(NAME);

const host = process.env.HOST || "127.0.0.1";
const port = integer("PORT", 3000);
let keys = (process.env.SECRET || "").split(",").filter((s) => s !== "");
if (keys.length === 0) {
  keys = [crypto.randomBytes(32).toString("hex")];
  console.log(`${NAME}: SECRET is not set; generated a random key`);
}
const maxAge = process.env.MAX_AGE_MS === "" ? undefined : integer("MAX_AGE_MS", 1_800_000);
const name = process.env.COOKIE_NAME || "session";
const REMEMBER_MS = 30 * 24 * 3600 * 1000;

const app = express();

// Mounted before the session middleware: it never touches the session.
app.get("/health", (req, res) => text(res, 200, "ok"));

// `sameSite: "lax"` as the Rust side writes by default; `httpOnly` is cookie-session's default.
app.use(cookieSession({ name, keys, maxAge, sameSite: "lax" }));

counterRoutes(app);

// cookie-session's login: a new session object replaces the old one.
app.get("/login", (req, res) => {
  const user = req.query.user;
  if (typeof user !== "string" || user === "") return text(res, 400, "missing user");
  req.session = { user };
  text(res, 200, `user=${user}`);
});

app.get("/whoami", (req, res) => text(res, 200, `user=${req.session.user ?? "none"}`));

// Both cookies are cleared (expired in 1970).
app.get("/logout", (req, res) => {
  req.session = null;
  text(res, 200, "bye");
});

// The lifetime applies to this response's cookies; it is not kept in the session.
app.get("/remember", (req, res) => {
  req.sessionOptions.maxAge = REMEMBER_MS;
  req.session.remember = true;
  text(res, 200, "ok");
});

app.get("/max-age", (req, res) => {
  const ms = req.query.ms;
  if (ms === undefined) {
    req.sessionOptions.maxAge = undefined;
  } else if (typeof ms === "string" && /^\d+$/.test(ms)) {
    req.sessionOptions.maxAge = Number(ms);
  } else {
    return text(res, 400, "invalid ms");
  }
  // Read the session, as the Rust route does, so that the rules run.
  void req.session;
  text(res, 200, "ok");
});

app.get("/unset", (req, res) => {
  req.session = null;
  text(res, 200, "unset");
});

// An opaque error, no details.
app.use((error, req, res, next) => {
  console.error(`${NAME}: ${error.message}`);
  if (res.headersSent) return next(error);
  text(res, 500, "internal error");
});

const server = app.listen(port, host, (error) => {
  if (error) fail(`cannot listen on ${host}:${port}: ${error.message}`);
  console.log(`${NAME}: listening on http://${host}:${port} (sessions in the ${JSON.stringify(name)} cookie)`);
});

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    server.close();
    process.exit(0);
  });
}
