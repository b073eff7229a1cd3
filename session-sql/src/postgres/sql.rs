//! The statements of [`PostgresStore`](crate::PostgresStore), made once from the table names.
//!
//! Every operation is one statement, so one round trip. Times are sent as connect-pg-simple
//! sends them, whole Unix seconds rounded up, and turned into the `timestamp` column by
//! `to_timestamp(...)` in SQL, exactly as connect-pg-simple does. A record's version is the
//! SHA-256 of its stored `sess` text (a `json` column keeps the text verbatim), computed by
//! PostgreSQL in the statement that reads or writes the row, so a write by the Express app,
//! which knows nothing of versions, still gives a new version.

use crate::names::{quote, Tables};

/// The version of the row in scope: the SHA-256 of its `sess` text, as UTF-8.
const DIGEST: &str = "sha256(convert_to(sess::text, 'UTF8'))";

/// The statements of one store.
#[derive(Debug)]
pub(crate) struct Statements {
    /// `$1` sid, `$2` now (seconds) → `sess`, version.
    pub(crate) load: String,
    /// `$1` sid, `$2` now (seconds), `$3` now (ms), `$4` browser-session lifetime (ms) →
    /// `sess`, version, touched.
    pub(crate) load_and_touch: String,
    /// `$1` sess, `$2` expire (seconds), `$3` sid, `$4` now (seconds), `$5` owner → version,
    /// when written.
    pub(crate) create: String,
    /// `$1` sess, `$2` expire (seconds), `$3` sid, `$4` now (seconds), `$5` expected version,
    /// `$6` owner → (new version, current `sess`, current version), or no row when gone.
    pub(crate) save: String,
    /// `$1` expire (seconds), `$2` sid, `$3` now (seconds), `$4` owner → rows touched.
    pub(crate) touch: String,
    /// `$1` sid.
    pub(crate) delete: String,
    /// `$1` owner, `$2` now (seconds) → sid.
    pub(crate) sessions_of: String,
    /// `$1` now (seconds) → sessions deleted.
    pub(crate) delete_expired: String,
    /// The sessions table's DDL, as connect-pg-simple's `table.sql`.
    pub(crate) create_sessions_table: String,
    /// The listing's DDL (`IF NOT EXISTS`).
    pub(crate) create_owners_table: String,
}

impl Statements {
    pub(crate) fn new(tables: &Tables) -> Self {
        let (t, o) = (&tables.sessions, &tables.owners);
        let list = |from: &str, owner: &str| {
            format!(
                "INSERT INTO {o} (owner, sid, expire) \
                 SELECT {owner}, sid, expire FROM {from} WHERE {owner}::text IS NOT NULL \
                 ON CONFLICT (owner, sid) DO UPDATE SET expire = EXCLUDED.expire"
            )
        };
        // A record's own lifetime in ms (`Lifetimes::of`): its `originalMaxAge`, or `$4` (the
        // browser-session lifetime) when it has none.
        let lifetime = "CASE WHEN json_typeof(s.sess -> 'cookie' -> 'originalMaxAge') = 'number' \
             THEN (s.sess -> 'cookie' ->> 'originalMaxAge')::float8 ELSE $4 END";
        Self {
            load: format!(
                "SELECT sess::text, {DIGEST} FROM {t} WHERE sid = $1 AND expire >= to_timestamp($2)"
            ),
            load_and_touch: format!(
                "WITH touched AS (\
                   UPDATE {t} AS s SET expire = to_timestamp(ceil(($3 + {lifetime}) / 1000)) \
                   WHERE s.sid = $1 AND s.expire >= to_timestamp($2) AND {lifetime} > 0 \
                   RETURNING s.sess::text AS sess, sha256(convert_to(s.sess::text, 'UTF8')) AS version\
                 ) \
                 SELECT sess, version, true FROM touched \
                 UNION ALL \
                 SELECT sess::text, {DIGEST}, false FROM {t} \
                 WHERE sid = $1 AND expire >= to_timestamp($2) AND NOT EXISTS (SELECT FROM touched)"
            ),
            create: format!(
                "WITH written AS (\
                   INSERT INTO {t} AS s (sess, expire, sid) VALUES ($1::json, to_timestamp($2), $3) \
                   ON CONFLICT (sid) DO UPDATE SET sess = EXCLUDED.sess, expire = EXCLUDED.expire \
                   WHERE s.expire < to_timestamp($4) \
                   RETURNING s.sid, s.expire, sha256(convert_to(s.sess::text, 'UTF8')) AS version\
                 ), listed AS ({}) \
                 SELECT version FROM written",
                list("written", "$5")
            ),
            save: format!(
                "WITH current AS (\
                   SELECT sid, sess, {DIGEST} AS version FROM {t} \
                   WHERE sid = $3 AND expire >= to_timestamp($4) FOR UPDATE\
                 ), written AS (\
                   UPDATE {t} AS s SET sess = $1::json, expire = to_timestamp($2) FROM current AS c \
                   WHERE s.sid = c.sid AND c.version = $5 \
                   RETURNING s.sid, s.expire, sha256(convert_to(s.sess::text, 'UTF8')) AS version\
                 ), listed AS ({}) \
                 SELECT w.version, CASE WHEN w.sid IS NULL THEN c.sess::text END, c.version \
                 FROM current AS c LEFT JOIN written AS w ON true",
                list("written", "$6")
            ),
            touch: format!(
                "WITH touched AS (\
                   UPDATE {t} SET expire = to_timestamp($1) \
                   WHERE sid = $2 AND expire >= to_timestamp($3) RETURNING sid, expire\
                 ), listed AS ({}) \
                 SELECT count(*) FROM touched",
                list("touched", "$4")
            ),
            delete: format!(
                "WITH deleted AS (DELETE FROM {t} WHERE sid = $1) DELETE FROM {o} WHERE sid = $1"
            ),
            sessions_of: format!(
                "SELECT sid FROM {o} WHERE owner = $1 AND expire >= to_timestamp($2)"
            ),
            delete_expired: format!(
                "WITH pruned AS (DELETE FROM {t} WHERE expire < to_timestamp($1) RETURNING 1), \
                 unlisted AS (DELETE FROM {o} WHERE expire < to_timestamp($1)) \
                 SELECT count(*) FROM pruned"
            ),
            create_sessions_table: format!(
                "CREATE TABLE {t} (\
                   \"sid\" varchar NOT NULL COLLATE \"default\", \
                   \"sess\" json NOT NULL, \
                   \"expire\" timestamp(6) NOT NULL\
                 ); \
                 ALTER TABLE {t} ADD CONSTRAINT {} PRIMARY KEY (\"sid\") NOT DEFERRABLE INITIALLY IMMEDIATE; \
                 CREATE INDEX {} ON {t} (\"expire\");",
                quote(&format!("{}_pkey", tables.sessions_bare)),
                quote(&format!("IDX_{}_expire", tables.sessions_bare)),
            ),
            create_owners_table: format!(
                "CREATE TABLE IF NOT EXISTS {o} (\
                   \"owner\" text NOT NULL, \
                   \"sid\" varchar NOT NULL, \
                   \"expire\" timestamp(6) NOT NULL, \
                   PRIMARY KEY (\"owner\", \"sid\")\
                 ); \
                 CREATE INDEX IF NOT EXISTS {} ON {o} (\"sid\");",
                quote(&format!("IDX_{}_sid", tables.owners_bare)),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_table_is_connect_pg_simples() {
        let sql = Statements::new(&Tables::new(None, "session", None).unwrap());
        assert!(sql
            .create_sessions_table
            .starts_with(r#"CREATE TABLE "session" ("sid" varchar NOT NULL COLLATE "default", "sess" json NOT NULL, "expire" timestamp(6) NOT NULL); "#));
        assert!(sql.create_sessions_table.contains(
            r#"ALTER TABLE "session" ADD CONSTRAINT "session_pkey" PRIMARY KEY ("sid")"#
        ));
        assert!(sql
            .create_sessions_table
            .contains(r#"CREATE INDEX "IDX_session_expire" ON "session" ("expire");"#));
        assert_eq!(
            sql.load,
            r#"SELECT sess::text, sha256(convert_to(sess::text, 'UTF8')) FROM "session" WHERE sid = $1 AND expire >= to_timestamp($2)"#
        );
    }

    #[test]
    fn names_are_quoted_everywhere() {
        let tables = Tables::new(Some("app"), "web sess", None).unwrap();
        let sql = Statements::new(&tables);
        for statement in [
            &sql.load,
            &sql.load_and_touch,
            &sql.create,
            &sql.save,
            &sql.touch,
            &sql.delete,
            &sql.delete_expired,
        ] {
            assert!(statement.contains(r#""app"."web sess""#), "{statement}");
        }
        assert!(sql.sessions_of.contains(r#""app"."web sess_owner""#));
    }
}
