//! The statements of [`SqliteStore`](crate::SqliteStore), made once from the table names.
//!
//! SQLite shares nothing with Node, so its table has a `version` column (a random 64-bit
//! number per write) and keeps `expire` in milliseconds since the Unix epoch.

use crate::names::{quote, Tables};

/// The statements of one store.
#[derive(Debug)]
pub(crate) struct Statements {
    /// `?1` sid, `?2` now (ms) → sess, version.
    pub(crate) load: String,
    /// `?1` sid, `?2` sess, `?3` expire (ms), `?4` version, `?5` now (ms): written when a row
    /// changed.
    pub(crate) create: String,
    /// `?1` sess, `?2` expire (ms), `?3` new version, `?4` sid, `?5` now (ms), `?6` expected
    /// version: written when a row changed.
    pub(crate) save: String,
    /// `?1` expire (ms), `?2` sid, `?3` now (ms).
    pub(crate) touch: String,
    /// `?1` owner, `?2` sid, `?3` expire (ms).
    pub(crate) list: String,
    /// `?1` sid.
    pub(crate) delete: String,
    /// `?1` sid.
    pub(crate) unlist: String,
    /// `?1` owner, `?2` now (ms) → sid.
    pub(crate) sessions_of: String,
    /// `?1` now (ms).
    pub(crate) delete_expired: String,
    /// `?1` now (ms).
    pub(crate) unlist_expired: String,
    /// Both tables and their indexes (`IF NOT EXISTS`).
    pub(crate) create_tables: String,
}

impl Statements {
    pub(crate) fn new(tables: &Tables) -> Self {
        let (t, o) = (&tables.sessions, &tables.owners);
        Self {
            load: format!("SELECT sess, version FROM {t} WHERE sid = ?1 AND expire > ?2"),
            create: format!(
                "INSERT INTO {t} AS s (sid, sess, expire, version) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (sid) DO UPDATE SET sess = excluded.sess, expire = excluded.expire, \
                 version = excluded.version WHERE s.expire <= ?5"
            ),
            save: format!(
                "UPDATE {t} SET sess = ?1, expire = ?2, version = ?3 \
                 WHERE sid = ?4 AND expire > ?5 AND version = ?6"
            ),
            touch: format!("UPDATE {t} SET expire = ?1 WHERE sid = ?2 AND expire > ?3"),
            list: format!(
                "INSERT INTO {o} (owner, sid, expire) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (owner, sid) DO UPDATE SET expire = excluded.expire"
            ),
            delete: format!("DELETE FROM {t} WHERE sid = ?1"),
            unlist: format!("DELETE FROM {o} WHERE sid = ?1"),
            sessions_of: format!("SELECT sid FROM {o} WHERE owner = ?1 AND expire > ?2"),
            delete_expired: format!("DELETE FROM {t} WHERE expire <= ?1"),
            unlist_expired: format!("DELETE FROM {o} WHERE expire <= ?1"),
            create_tables: format!(
                "CREATE TABLE IF NOT EXISTS {t} (\
                   sid TEXT NOT NULL PRIMARY KEY, \
                   sess TEXT NOT NULL, \
                   expire INTEGER NOT NULL, \
                   version INTEGER NOT NULL\
                 ) WITHOUT ROWID; \
                 CREATE INDEX IF NOT EXISTS {} ON {} (expire); \
                 CREATE TABLE IF NOT EXISTS {o} (\
                   owner TEXT NOT NULL, \
                   sid TEXT NOT NULL, \
                   expire INTEGER NOT NULL, \
                   PRIMARY KEY (owner, sid)\
                 ) WITHOUT ROWID; \
                 CREATE INDEX IF NOT EXISTS {} ON {} (sid);",
                index(tables, &format!("IDX_{}_expire", tables.sessions_bare)),
                quote(&tables.sessions_bare),
                index(tables, &format!("IDX_{}_sid", tables.owners_bare)),
                quote(&tables.owners_bare),
            ),
        }
    }
}

/// An index name: SQLite puts an index in its table's schema by qualifying the index, not the
/// table.
fn index(tables: &Tables, name: &str) -> String {
    match &tables.schema {
        Some(schema) => format!("{}.{}", quote(schema), quote(name)),
        None => quote(name),
    }
}
