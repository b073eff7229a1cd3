// The reference app of examples/README.md on Express, written once for the Express apps of
// `interop/express/app.js` (connect-redis) and `interop/express-pg/app.js` (connect-pg-simple):
// the settings read from the same environment variables as the Rust examples, the routes, the
// error handler, listening and shutting down. Each app passes in its own copies of `express`
// and `express-session` (so this file imports no package and resolves nothing from
// node_modules), its store, its `/logout-everywhere` (Node has no per-user listing, so each
// store finds a user's sessions its own way) and what to close on exit.

import crypto from "node:crypto";

// Readers of the environment variables that exit with a clear message on a bad value.
export function envReader(name) {
  const fail = (message) => {
    console.error(`${name}: ${message}`);
    process.exit(1);
  };
  const choice = (variable, choices, fallback) => {
    const raw = process.env[variable];
    if (raw === undefined) return fallback;
    const key = raw.trim().toLowerCase();
    if (!(key in choices)) {
      fail(`${variable}=${JSON.stringify(raw)} is invalid: expected ${Object.keys(choices).join(", ")}`);
    }
    return choices[key];
  };
  const flag = (variable, fallback) =>
    choice(variable, { true: true, 1: true, yes: true, false: false, 0: false, no: false }, fallback);
  const integer = (variable, fallback) => {
    const raw = process.env[variable];
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw.trim())) fail(`${variable}=${JSON.stringify(raw)} is invalid: expected a number`);
    return Number(raw.trim());
  };
  return { fail, choice, flag, integer };
}

export function settingsFor(name) {
  const { fail, choice, flag, integer } = envReader(name);
  let secrets = (process.env.SECRET || "").split(",").filter((s) => s !== "");
  if (secrets.length === 0) {
    secrets = [crypto.randomBytes(32).toString("hex")];
    console.log(`${name}: SECRET is not set; generated a random secret`);
  }
  return {
    fail,
    host: process.env.HOST || "127.0.0.1",
    port: integer("PORT", 3000),
    secrets,
    maxAge: process.env.MAX_AGE_MS === "" ? null : integer("MAX_AGE_MS", 1_800_000),
    secure: choice("SECURE", { auto: "auto", always: true, never: false }, "auto"),
    trustProxy: flag("TRUST_PROXY", false),
    cookieName: process.env.COOKIE_NAME || "connect.sid",
    rolling: flag("ROLLING", false),
    resave: flag("RESAVE", false),
    saveUninitialized: flag("SAVE_UNINITIALIZED", true),
    unset: choice("UNSET", { keep: "keep", destroy: "destroy" }, "keep"),
  };
}

export const text = (res, status, body) => res.status(status).type("text/plain").send(body);

// A counter's name, as the Rust reference app accepts it.
const counterKey = (key) =>
  typeof key === "string" && /^[A-Za-z0-9_-]{1,32}$/.test(key) && !["user", "remember"].includes(key)
    ? key
    : null;

// `/` (the visit counter), `/peek` and `/bump`: the routes every reference app has, the
// cookie-session app (`cookie-app.js`) included.
export function counterRoutes(app) {
  app.get("/", (req, res) => {
    req.session.count = req.session.count == null ? 0 : req.session.count + 1;
    text(res, 200, `count=${req.session.count}`);
  });

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
}

// Serves the reference app: `logoutEverywhere(req)` destroys the other sessions of
// `req.session.user` and resolves to how many; `describe` says where sessions live;
// `close()` releases the store's connections on SIGTERM/SIGINT.
export function serve({ name, settings, express, session, store, logoutEverywhere, describe, close }) {
  const app = express();
  app.set("trust proxy", settings.trustProxy);

  // Mounted before the session middleware: it never touches the session.
  app.get("/health", (req, res) => text(res, 200, "ok"));

  app.use(
    session({
      store,
      secret: settings.secrets,
      name: settings.cookieName,
      cookie: { maxAge: settings.maxAge, secure: settings.secure },
      rolling: settings.rolling,
      resave: settings.resave,
      saveUninitialized: settings.saveUninitialized,
      unset: settings.unset,
      proxy: settings.trustProxy,
    }),
  );

  counterRoutes(app);

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

  app.get("/logout-everywhere", async (req, res, next) => {
    try {
      const others = await logoutEverywhere(req);
      req.session.destroy((error) => (error ? next(error) : text(res, 200, `revoked=${others + 1}`)));
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
    console.error(`${name}: ${error.message}`);
    if (res.headersSent) return next(error);
    text(res, 500, "internal error");
  });

  const { host, port } = settings;
  const server = app.listen(port, host, (error) => {
    if (error) settings.fail(`cannot listen on ${host}:${port}: ${error.message}`);
    console.log(`${name}: listening on http://${host}:${port} (${describe})`);
  });

  for (const signal of ["SIGTERM", "SIGINT"]) {
    process.on(signal, () => {
      server.close();
      Promise.resolve(close()).finally(() => process.exit(0));
    });
  }
}
