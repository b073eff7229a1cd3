// The reference app of examples/README.md on Express 5 + express-session + connect-pg-simple,
// configured from the same environment variables as the Rust examples (`STORE=postgres`), so
// that `cargo xtask ci` can show both sharing live sessions through one PostgreSQL table.
//
//   npm ci && DATABASE_URL=postgres://postgres@127.0.0.1:5432/test PG_SCHEMA=... SECRET=... node app.js

import crypto from "node:crypto";

import connectPgSimple from "connect-pg-simple";
import express from "express";
import session from "express-session";
import pg from "pg";

const NAME = "interop-express-pg";

function fail(message) {
  console.error(`${NAME}: ${message}`);
  process.exit(1);
}

function choice(name, choices, fallback) {
  const raw = process.env[name];
  if (raw === undefined) return fallback;
  const key = raw.trim().toLowerCase();
  if (!(key in choices)) {
    fail(`${name}=${JSON.stringify(raw)} is invalid: expected ${Object.keys(choices).join(", ")}`);
  }
  return choices[key];
}

const flag = (name, fallback) =>
  choice(name, { true: true, 1: true, yes: true, false: false, 0: false, no: false }, fallback);

function integer(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw.trim())) fail(`${name}=${JSON.stringify(raw)} is invalid: expected a number`);
  return Number(raw.trim());
}

const host = process.env.HOST || "127.0.0.1";
const port = integer("PORT", 3000);
let secrets = (process.env.SECRET || "").split(",").filter((s) => s !== "");
if (secrets.length === 0) {
  secrets = [crypto.randomBytes(32).toString("hex")];
  console.log(`${NAME}: SECRET is not set; generated a random secret`);
}
const maxAge =
  process.env.MAX_AGE_MS === "" ? null : integer("MAX_AGE_MS", 1_800_000);
const secure = choice("SECURE", { auto: "auto", always: true, never: false }, "auto");
const trustProxy = flag("TRUST_PROXY", false);
const databaseUrl = process.env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres";
const schemaName = process.env.PG_SCHEMA || undefined;
const tableName = process.env.PG_TABLE || "session";

const pool = new pg.Pool({ connectionString: databaseUrl, max: 5 });
pool.on("error", (error) => console.error(`${NAME}: postgres: ${error.message}`));
const PgStore = connectPgSimple(session);
const store = new PgStore({ pool, schemaName, tableName, createTableIfMissing: true });

const app = express();
app.set("trust proxy", trustProxy);

const text = (res, status, body) => res.status(status).type("text/plain").send(body);

// Mounted before the session middleware: it never touches the session.
app.get("/health", (req, res) => text(res, 200, "ok"));

app.use(
  session({
    store,
    secret: secrets,
    name: process.env.COOKIE_NAME || "connect.sid",
    cookie: { maxAge, secure },
    rolling: flag("ROLLING", false),
    resave: flag("RESAVE", false),
    saveUninitialized: flag("SAVE_UNINITIALIZED", true),
    unset: choice("UNSET", { keep: "keep", destroy: "destroy" }, "keep"),
    proxy: trustProxy,
  }),
);

app.get("/", (req, res) => {
  req.session.count = req.session.count == null ? 0 : req.session.count + 1;
  text(res, 200, `count=${req.session.count}`);
});

// A counter's name, as the Rust reference app accepts it.
const counterKey = (key) =>
  typeof key === "string" && /^[A-Za-z0-9_-]{1,32}$/.test(key) && !["user", "remember"].includes(key)
    ? key
    : null;

app.get("/peek", (req, res) => {
  const key = req.query.key === undefined ? "count" : counterKey(req.query.key);
  if (key === null) return text(res, 400, "invalid key");
  text(res, 200, `${key}=${req.session[key] ?? "none"}`);
});

app.get("/bump", (req, res) => {
  const key = counterKey(req.query.key);
  if (key === null) return text(res, 400, "invalid key");
  req.session[key] = (req.session[key] ?? 0) + 1;
  text(res, 200, `${key}=${req.session[key]}`);
});

app.get("/login", (req, res, next) => {
  const user = req.query.user;
  if (typeof user !== "string" || user === "") return text(res, 400, "missing user");
  req.session.regenerate((error) => {
    if (error) return next(error);
    req.session.user = user;
    text(res, 200, `user=${user}`);
  });
});

app.get("/whoami", (req, res) => text(res, 200, `user=${req.session.user ?? "none"}`));

app.get("/logout", (req, res, next) => {
  // express-session 1.x deletes the record but leaves the browser's cookie in place.
  req.session.destroy((error) => (error ? next(error) : text(res, 200, "bye")));
});

// Node has no per-user listing (and connect-pg-simple no `all()`): it reads every live row of
// the table, as connect-pg-simple's `get` reads one, and destroys the user's.
app.get("/logout-everywhere", async (req, res, next) => {
  try {
    const user = req.session.user;
    const now = Math.ceil(Date.now() / 1000);
    const { rows } = await pool.query(
      `SELECT sid, sess FROM ${store.quotedTable()} WHERE expire >= to_timestamp($1)`,
      [now],
    );
    const mine =
      user === undefined ? [] : rows.filter((row) => row.sess.user === user && row.sid !== req.sessionID);
    await Promise.all(mine.map((row) => new Promise((done, fail) => store.destroy(row.sid, (e) => (e ? fail(e) : done())))));
    req.session.destroy((error) => (error ? next(error) : text(res, 200, `revoked=${mine.length + 1}`)));
  } catch (error) {
    next(error);
  }
});

app.get("/remember", (req, res) => {
  req.session.cookie.maxAge = 30 * 24 * 3600 * 1000;
  req.session.remember = true;
  text(res, 200, "ok");
});

app.get("/max-age", (req, res) => {
  const ms = req.query.ms;
  if (ms === undefined) {
    req.session.cookie.maxAge = null;
  } else if (typeof ms === "string" && /^\d+$/.test(ms)) {
    req.session.cookie.maxAge = Number(ms);
  } else {
    return text(res, 400, "invalid ms");
  }
  text(res, 200, "ok");
});

app.get("/unset", (req, res) => {
  req.session = null;
  text(res, 200, "unset");
});

// A failing store: an opaque error, no details.
app.use((error, req, res, next) => {
  console.error(`${NAME}: ${error.message}`);
  if (res.headersSent) return next(error);
  text(res, 500, "internal error");
});

const server = app.listen(port, host, (error) => {
  if (error) fail(`cannot listen on ${host}:${port}: ${error.message}`);
  console.log(`${NAME}: listening on http://${host}:${port} (sessions in PostgreSQL table ${store.quotedTable()})`);
});

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    server.close();
    pool.end().finally(() => process.exit(0));
  });
}
