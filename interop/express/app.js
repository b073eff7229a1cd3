// The reference app of examples/README.md on Express 5 + express-session + connect-redis
// (routes and settings in `reference.js`), configured from the same environment variables as
// the Rust examples, so that `cargo xtask ci` can show both sharing live sessions through one
// Redis.
//
//   npm ci && REDIS_URL=redis://127.0.0.1:6379 SECRET=... node app.js

import { RedisStore } from "connect-redis";
import express from "express";
import session from "express-session";
import { createClient } from "redis";

import { serve, settingsFor } from "./reference.js";

const NAME = "interop-express";
const settings = settingsFor(NAME);
const redisUrl = process.env.REDIS_URL || "redis://127.0.0.1:6379";
const prefix = process.env.REDIS_PREFIX ?? "sess:";

const client = createClient({ url: redisUrl });
const store = new RedisStore({ client, prefix });
client.on("error", (error) => console.error(`${NAME}: redis: ${error.message}`));
await client.connect();

// Node has no per-user listing: it reads every session under the prefix (connect-redis's
// `all()`, a SCAN of `prefix*`) and destroys the user's other sessions.
async function logoutEverywhere(req) {
  const user = req.session.user;
  const sessions = await new Promise((done, fail) =>
    store.all((error, all) => (error ? fail(error) : done(all))),
  );
  const mine = user === undefined ? [] : sessions.filter((s) => s.user === user && s.id !== req.sessionID);
  await Promise.all(mine.map((s) => store.destroy(s.id)));
  return mine.length;
}

serve({
  name: NAME,
  settings,
  express,
  session,
  store,
  logoutEverywhere,
  describe: `sessions in Redis under ${JSON.stringify(prefix)}`,
  close: () => client.destroy(),
});
