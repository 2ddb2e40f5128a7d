//! Sweeping what crashed runs left behind: old test databases of dead processes, half-built
//! templates, and templates of other migrations nobody uses. Runs under the admin lock.

use std::path::Path;
use std::time::Duration;

use diesel::QueryableByName;
use diesel::sql_types::Text;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::admin::execute;
use crate::names::{TEMPLATE_PREFIX, parse_test_name, quoted};

/// A test database this old whose creating process is gone is a crashed run's leftover.
const STALE_AFTER: Duration = Duration::from_secs(5 * 60);

/// Where `/proc` cannot tell whether the creator lives, only much older ones are swept.
const STALE_AFTER_UNKNOWN_PID: Duration = Duration::from_secs(24 * 60 * 60);

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

/// Whether the process that created a database is still running: `None` without `/proc`.
fn creator_alive(pid: u32) -> Option<bool> {
    Path::new("/proc/self")
        .exists()
        .then(|| Path::new(&format!("/proc/{pid}")).exists())
}

/// Drops what crashed runs left: test databases whose creator is gone and that are a few
/// minutes old (by force: nobody legitimate is connected), half-built templates, and
/// templates of other migrations when nobody uses them.
pub(crate) async fn sweep(
    conn: &mut AsyncPgConnection,
    current_template: &str,
) -> Result<(), String> {
    let names: Vec<Name> = diesel::sql_query(
        "SELECT datname::text AS name FROM pg_database \
         WHERE datname LIKE 'cust\\_test\\_%' OR datname LIKE 'cust\\_tpl\\_%'",
    )
    .load(conn)
    .await
    .map_err(|e| e.to_string())?;
    for Name { name } in names {
        let Ok(sql_name) = quoted(&name) else {
            continue;
        };
        if let Some(test) = parse_test_name(&name) {
            let stale = match creator_alive(test.pid) {
                Some(alive) => !alive && test.age > STALE_AFTER,
                None => test.age > STALE_AFTER_UNKNOWN_PID,
            };
            if stale {
                execute(
                    conn,
                    &format!("DROP DATABASE IF EXISTS {sql_name} WITH (FORCE)"),
                )
                .await?;
            }
        } else if name.starts_with(TEMPLATE_PREFIX) && name != current_template {
            // Without FORCE: a template someone is connected to (a build in progress under
            // another lock scope, a person looking) is left alone; the error is expected.
            let _in_use = execute(conn, &format!("DROP DATABASE IF EXISTS {sql_name}")).await;
        }
    }
    Ok(())
}
