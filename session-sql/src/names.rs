//! Schema, table and index names: validated once, quoted as SQL identifiers.

use crate::BuildError;

/// A name quoted as an SQL identifier: `"name"`, with any `"` doubled. Both PostgreSQL and
/// SQLite read it back verbatim (case and all), as connect-pg-simple quotes its names.
pub(crate) fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Refuses a name no database accepts: empty, or holding a NUL character.
pub(crate) fn check(what: &'static str, name: &str) -> Result<(), BuildError> {
    if name.is_empty() || name.contains('\0') {
        Err(BuildError::Name {
            what,
            name: name.to_owned(),
        })
    } else {
        Ok(())
    }
}

/// The tables of a store, quoted and qualified, ready to paste into statements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tables {
    /// The sessions table, e.g. `"session"` or `"myapp"."session"`.
    pub(crate) sessions: String,
    /// The listing of each user's sessions, e.g. `"session_owner"`.
    pub(crate) owners: String,
    /// The sessions table's bare name (for naming its index and key), unquoted.
    pub(crate) sessions_bare: String,
    /// The listing's bare name, unquoted.
    pub(crate) owners_bare: String,
    /// The schema, unquoted, when one was configured.
    pub(crate) schema: Option<String>,
}

impl Tables {
    /// The tables named `table` and `owners` (default: `<table>_owner`), in `schema` when given.
    pub(crate) fn new(
        schema: Option<&str>,
        table: &str,
        owners: Option<&str>,
    ) -> Result<Self, BuildError> {
        if let Some(schema) = schema {
            check("schema", schema)?;
        }
        check("table", table)?;
        let owners_bare = owners.map_or_else(|| format!("{table}_owner"), str::to_owned);
        check("owner table", &owners_bare)?;
        let qualify = |name: &str| match schema {
            Some(schema) => format!("{}.{}", quote(schema), quote(name)),
            None => quote(name),
        };
        Ok(Self {
            sessions: qualify(table),
            owners: qualify(&owners_bare),
            sessions_bare: table.to_owned(),
            owners_bare,
            schema: schema.map(str::to_owned),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_qualifies_like_connect_pg_simple() {
        assert_eq!(quote("session"), r#""session""#);
        assert_eq!(quote(r#"we"ird"#), r#""we""ird""#);
        let tables = Tables::new(Some("My App"), "session", None).unwrap();
        assert_eq!(tables.sessions, r#""My App"."session""#);
        assert_eq!(tables.owners, r#""My App"."session_owner""#);
        let tables = Tables::new(None, "sess", Some("users_sess")).unwrap();
        assert_eq!(tables.sessions, r#""sess""#);
        assert_eq!(tables.owners, r#""users_sess""#);
    }

    #[test]
    fn refuses_names_no_database_takes() {
        assert!(matches!(
            Tables::new(Some(""), "session", None),
            Err(BuildError::Name { what: "schema", .. })
        ));
        assert!(Tables::new(None, "a\0b", None).is_err());
        assert!(Tables::new(None, "session", Some("")).is_err());
    }
}
