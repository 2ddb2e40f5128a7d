//! Waiting for the server's snapshot horizon: the change feed serves an event, and a purge
//! removes one, only once every transaction on the server that is older than the event's
//! has ended, whichever database it runs in.
//!
//! Tests share one server, and every test database dropped there holds a transaction id
//! until the checkpoint `DROP DATABASE` forces has completed. A checkpoint usually takes
//! milliseconds, but on a machine whose disk stalls it once took a minute (CI: a retention
//! test gave up after 60 s while another test's drop took as long). Tests that wait for the
//! horizon therefore wait [`HORIZON_WAIT`], and name who held it when even that was not
//! enough.

use std::time::Duration;

use diesel::QueryableByName;
use diesel::sql_types::Text;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

/// How long a test waits for the server's snapshot horizon before it fails.
pub const HORIZON_WAIT: Duration = Duration::from_secs(180);

/// The server's sessions that hold a transaction id, oldest first, and the locks anyone
/// waits for: what holds the snapshot horizon back, for a failure's message.
pub async fn horizon_holders(url: &str) -> String {
    #[derive(QueryableByName)]
    struct Line {
        #[diesel(sql_type = Text)]
        line: String,
    }
    let Ok(mut conn) = AsyncPgConnection::establish(url).await else {
        return "(no connection to ask who holds the horizon)".into();
    };
    let sql = "SELECT line FROM ( \
                   SELECT 0 AS part, age(backend_xid) AS age, \
                       format('pid %s db %s %s xid %s for %s: %s', pid, datname, state, \
                           backend_xid, now() - xact_start, left(query, 200)) AS line \
                   FROM pg_stat_activity WHERE backend_xid IS NOT NULL \
                   UNION ALL \
                   SELECT 1, 0, format('pid %s waits for %s %s (%s)', pid, locktype, mode, \
                       coalesce(relation::regclass::text, objid::text, '')) \
                   FROM pg_locks WHERE NOT granted \
               ) AS found ORDER BY part, age DESC";
    let lines: Vec<Line> = diesel::sql_query(sql)
        .load(&mut conn)
        .await
        .unwrap_or_default();
    let lines: Vec<String> = lines.into_iter().map(|l| l.line).collect();
    format!("holders of the snapshot horizon: {lines:#?}")
}
