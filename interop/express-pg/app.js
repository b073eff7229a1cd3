// The reference app of examples/README.md on Express 5 + express-session + connect-pg-simple
// (routes and settings in `../express/reference.js`, shared with the Redis app), configured
// from the same environment variables as the Rust examples (`STORE=postgres`), so that
// `cargo xtask ci` can show both sharing live sessions through one PostgreSQL table.
//
//   npm ci && DATABASE_URL=postgres://postgres@127.0.0.1:5432/test PG_SCHEMA=... SECRET=... node app.js

import connectPgSimple from "connect-pg-simple";
import express from "express";
import session from "express-session";
import pg from "pg";

import { serve, settingsFor } from "../express/reference.js";

const NAME = "interop-express-pg";
const settings = settingsFor(NAME);
const databaseUrl = process.env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres";
const schemaName = process.env.PG_SCHEMA || undefined;
const tableName = process.env.PG_TABLE || "session";

const pool = new pg.Pool({ connectionString: databaseUrl, max: 5 });
pool.on("error", (error) => console.error(`${NAME}: postgres: ${error.message}`));
const PgStore = connectPgSimple(session);
const store = new PgStore({ pool, schemaName, tableName, createTableIfMissing: true });

// Node has no per-user listing (and connect-pg-simple no `all()`): it reads every live row of
// the table, as connect-pg-simple's `get` reads one, and destroys the user's other sessions.
async function logoutEverywhere(req) {
  const user = req.session.user;
  const now = Math.ceil(Date.now() / 1000);
  const { rows } = await pool.query(
    `SELECT sid, sess FROM ${store.quotedTable()} WHERE expire >= to_timestamp($1)`,
    [now],
  );
  const mine =
    user === undefined ? [] : rows.filter((row) => row.sess.user === user && row.sid !== req.sessionID);
  await Promise.all(
    mine.map((row) => new Promise((done, fail) => store.destroy(row.sid, (e) => (e ? fail(e) : done())))),
  );
  return mine.length;
}

serve({
  name: NAME,
  settings,
  express,
  session,
  store,
  logoutEverywhere,
  describe: `sessions in PostgreSQL table ${store.quotedTable()}`,
  close: () => pool.end(),
});
