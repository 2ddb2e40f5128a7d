//! The functions `sql/distribute.sql` replaces, checked against the migrations that own them.
//!
//! The distributed layout redefines some of the migrations' functions for Citus (the counts
//! per shard, the history's triggers as loops, the erasure that also frees the lookup rows).
//! Each such definition is preceded by a line naming the migration whose version it replaces:
//!
//! ```sql
//! -- Replaces customer_erase of migration 2026-12-02-500000_erasure.
//! CREATE OR REPLACE FUNCTION customer_erase(target TEXT, reason TEXT, context TEXT)
//! ```
//!
//! A later migration that redefines the function (as adding a personal field does with
//! `customer_erase`) makes that line stale, and the test below fails until the Citus variant
//! is brought up to date and the line names the new migration. Without it, the distributed
//! variant would silently lag the single-node one.
//!
//! On a database distributed already, such a migration puts the single-node function back;
//! the migration run then applies the marked definitions again ([`replacements`],
//! `super::distribute`), so the distributed layout holds after every run.

#[cfg(test)]
use std::collections::BTreeMap;

use super::{dollar_tag, statements, without_line_comments};

/// The marker's words around the function name and the migration.
const MARKER: &str = "-- Replaces ";
#[cfg(test)]
const OF_MIGRATION: &str = " of migration ";

/// One function definition of the distributed layout that replaces a migration's.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Replacement<'a> {
    /// The function's name, as `pg_proc.proname` has it.
    pub(super) name: String,
    /// Its body, the text between its dollar quotes, as `pg_proc.prosrc` has it.
    pub(super) body: &'a str,
    /// The whole `CREATE OR REPLACE FUNCTION` statement, without its `;`.
    pub(super) statement: &'a str,
}

/// The statements of `script` that a marker line names as replacing a migration's function.
pub(super) fn replacements(script: &str) -> Vec<Replacement<'_>> {
    statements(script)
        .into_iter()
        .filter(|statement| statement.lines().any(|l| l.trim().starts_with(MARKER)))
        .filter_map(|statement| {
            let code = without_line_comments(statement);
            let name = defined_functions(&code).into_iter().next()?;
            Some(Replacement {
                name,
                body: body(statement)?,
                statement,
            })
        })
        .collect()
}

/// The text inside the first dollar quotes of `statement` outside its `--` comments.
fn body(statement: &str) -> Option<&str> {
    let mut at = 0;
    for line in statement.split_inclusive('\n') {
        if !line.trim_start().starts_with("--")
            && let Some(found) = line.find('$').and_then(|i| {
                let rest = &statement[at + i..];
                dollar_tag(rest).map(|tag| (at + i, tag))
            })
        {
            let (open, tag) = found;
            let inside = &statement[open + tag.len()..];
            return inside.find(tag).map(|end| &inside[..end]);
        }
        at += line.len();
    }
    None
}

/// What is wrong between the distributed layout (`distribute`) and the migrations
/// (`(directory, up.sql)` in any order): one sentence per problem, empty when none.
#[cfg(test)]
fn problems(distribute: &str, migrations: &[(String, String)]) -> Vec<String> {
    let mut owners: BTreeMap<String, &str> = BTreeMap::new();
    let mut sorted: Vec<_> = migrations.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    for (directory, up) in sorted {
        for name in defined_functions(up) {
            owners.insert(name, directory);
        }
    }
    let markers = markers(distribute);
    let defined = defined_functions(distribute);
    let mut found = Vec::new();
    for name in &defined {
        let Some(owner) = owners.get(name) else {
            continue;
        };
        match markers.get(name) {
            None => found.push(format!(
                "sql/distribute.sql redefines {name}, which migration {owner} defines, without \
                 a `{MARKER}{name}{OF_MIGRATION}{owner}.` line above it"
            )),
            Some(marked) if marked != owner => found.push(format!(
                "sql/distribute.sql's {name} replaces the one of migration {marked}, but \
                 migration {owner} redefines it: bring the Citus variant up to date with \
                 {owner}'s and name {owner} in its `{MARKER}` line"
            )),
            Some(_) => {}
        }
    }
    for (name, marked) in &markers {
        if !defined.contains(name) || !owners.contains_key(name) {
            found.push(format!(
                "sql/distribute.sql says it replaces {name} of migration {marked}, but it or \
                 the migrations define no such function"
            ));
        }
    }
    found
}

/// The functions `sql` creates (`CREATE [OR REPLACE] FUNCTION name(`), by name; names made
/// up at run time (`%1$I`) are not names and are left out.
fn defined_functions(sql: &str) -> Vec<String> {
    let upper = sql.to_ascii_uppercase();
    let mut names = Vec::new();
    for prefix in ["CREATE OR REPLACE FUNCTION ", "CREATE FUNCTION "] {
        let mut from = 0;
        while let Some(at) = upper[from..].find(prefix) {
            let start = from + at + prefix.len();
            let name: String = sql[start..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
                names.push(name.to_ascii_lowercase());
            }
            from = start;
        }
    }
    names
}

/// The `-- Replaces <function> of migration <directory>.` lines: directory by function.
#[cfg(test)]
fn markers(sql: &str) -> BTreeMap<String, String> {
    sql.lines()
        .filter_map(|line| line.trim().strip_prefix(MARKER))
        .filter_map(|rest| rest.trim_end_matches('.').split_once(OF_MIGRATION))
        .map(|(name, directory)| (name.trim().to_owned(), directory.trim().to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{Replacement, defined_functions, problems, replacements};

    fn migration(directory: &str, up: &str) -> (String, String) {
        (directory.to_owned(), up.to_owned())
    }

    /// The workspace's migrations, as directory and `up.sql`.
    fn workspace_migrations() -> Vec<(String, String)> {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations");
        std::fs::read_dir(root)
            .expect("the workspace's migrations")
            .map(|entry| {
                let path = entry.expect("a migration directory").path();
                let up = std::fs::read_to_string(path.join("up.sql")).expect("its up.sql");
                let name = path.file_name().expect("a name").to_string_lossy().into();
                (name, up)
            })
            .collect()
    }

    #[test]
    fn every_function_the_distributed_layout_replaces_is_as_of_its_latest_migration() {
        let migrations = workspace_migrations();
        assert!(migrations.len() >= 10, "{}", migrations.len());
        assert_eq!(
            problems(super::super::DISTRIBUTE, &migrations),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_later_migration_redefining_a_replaced_function_is_reported() {
        let distribute = "-- Replaces f of migration 1_first.\n\
                          CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 2 $$;";
        let first = migration(
            "1_first",
            "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1 $$;",
        );
        assert!(problems(distribute, std::slice::from_ref(&first)).is_empty());

        let later = migration("2_later", "create or replace function F() returns int;");
        let found = problems(distribute, &[later, first]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].contains("migration 2_later redefines it"),
            "{found:?}"
        );
    }

    #[test]
    fn a_replacement_without_its_line_and_a_line_without_its_function_are_reported() {
        let first = migration(
            "1_first",
            "CREATE FUNCTION f() RETURNS int; CREATE FUNCTION g() RETURNS int;",
        );
        let unmarked = "CREATE OR REPLACE FUNCTION f() RETURNS int;";
        let found = problems(unmarked, std::slice::from_ref(&first));
        assert!(
            found[0].contains("without a `-- Replaces f of migration 1_first.`"),
            "{found:?}"
        );

        let stray = "-- Replaces h of migration 1_first.\nSELECT 1;";
        let found = problems(stray, &[first]);
        assert!(
            found[0].contains("replaces h of migration 1_first"),
            "{found:?}"
        );
    }

    #[test]
    fn the_replacements_are_the_marked_statements_with_their_bodies() {
        let script = "CREATE FUNCTION new_one() RETURNS int LANGUAGE sql AS $$ SELECT 0 $$;\n\
                      -- Why it differs.\n\
                      -- Replaces f of migration 1_first.\n\
                      CREATE OR REPLACE FUNCTION f(x TEXT) RETURNS int\n\
                      LANGUAGE plpgsql AS $body$ BEGIN RETURN 1; END; $body$;\n\
                      -- Replaces g of migration 1_first.\n\
                      CREATE OR REPLACE FUNCTION g() RETURNS bool LANGUAGE sql AS $$ SELECT true $$;";
        let found = replacements(script);
        assert_eq!(
            found
                .iter()
                .map(|r| (r.name.as_str(), r.body))
                .collect::<Vec<_>>(),
            [("f", " BEGIN RETURN 1; END; "), ("g", " SELECT true ")]
        );
        assert!(
            found[0].statement.trim_end().ends_with("$body$"),
            "{found:?}"
        );
    }

    #[test]
    fn the_distributed_layout_has_a_replacement_for_every_marker() {
        let layout = super::super::DISTRIBUTE;
        let markers = layout
            .lines()
            .filter(|l| l.trim().starts_with("-- Replaces "))
            .count();
        assert!(markers >= 8, "{markers}");
        let found: Vec<Replacement<'_>> = replacements(layout);
        assert_eq!(found.len(), markers, "{found:?}");
        assert!(found.iter().all(|r| !r.body.trim().is_empty()), "{found:?}");
    }

    #[test]
    fn names_made_up_at_run_time_are_not_functions() {
        let sql = "CREATE FUNCTION a_1(x int);\n\
                   EXECUTE 'CREATE OR REPLACE FUNCTION %1$I() RETURNS trigger';\n\
                   create or replace function B ()";
        assert_eq!(defined_functions(sql), ["b", "a_1"]);
    }
}
