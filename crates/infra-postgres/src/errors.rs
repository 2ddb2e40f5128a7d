//! Turns diesel and pool errors into the domain's [`RepositoryError`], in one place.
//!
//! Unique violations are recognised by constraint name, so a new unique index never
//! silently becomes someone else's conflict. A Citus coordinator passes a worker's error on
//! without the constraint field, naming the shard's constraint in the message
//! (`customer_emails_pkey_102021`): there the name is read from the message, and a known
//! name with a shard's numeric suffix is that constraint. The texts kept in `Unavailable` and
//! `Unexpected` are for logs; the HTTP layer never shows them to clients.
//!
//! A statement cancelled by `statement_timeout` (SQLSTATE 57014) is `Unavailable`: the
//! database is too busy for it now. diesel-async 0.9 reports that SQLSTATE only as
//! `DatabaseErrorKind::Unknown` (its error wrapper is private and diesel's
//! `DatabaseErrorInformation` has no code), so the code cannot be read. The least fragile
//! way left: each pool learns its server's own message for exactly this cancellation once,
//! by provoking one on its first connection ([`TimeoutMessage`]), and a database error with
//! that exact message is the timeout, whatever kind the driver gave either (so a release
//! that classifies it differently can neither break connections nor the 503). The message
//! comes from the server in its own language (`lc_messages`), so no English text is written
//! here.

use std::sync::{Arc, OnceLock};

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::pooled_connection::PoolError as ManagerError;
use diesel_async::pooled_connection::deadpool::PoolError;
use diesel_async::{AsyncPgConnection, SimpleAsyncConnection};
use domain::{Conflict, RepositoryError};

/// The unique constraints of `customers` (and, in the distributed layout, of its lookup
/// tables) and the domain conflict each one means.
const UNIQUE_CONSTRAINTS: [(&str, Conflict); 5] = [
    ("customers_customer_id_key", Conflict::CustomerId),
    ("customers_username_key", Conflict::Username),
    ("customers_email_lower_key", Conflict::Email),
    ("customer_usernames_pkey", Conflict::Username),
    ("customer_emails_pkey", Conflict::Email),
];

/// The conflict a unique violation means: by the constraint the server names, else by the
/// first quoted name in the message (a Citus coordinator's), a shard's suffix ignored.
fn conflict_of(constraint: Option<&str>, message: &str) -> Option<Conflict> {
    let name = constraint.or_else(|| message.split('"').nth(1))?;
    UNIQUE_CONSTRAINTS.iter().find_map(|(known, conflict)| {
        let shard_suffix = name
            .strip_prefix(known)
            .and_then(|rest| rest.strip_prefix('_'));
        let is_shard = shard_suffix
            .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()));
        (name == *known || (constraint.is_none() && is_shard)).then_some(*conflict)
    })
}

/// The server's message for a statement cancelled by `statement_timeout`, learned by the
/// first connection a pool opens and kept on the pool (each pool's server answers in its own
/// `lc_messages`), then shared by its clones and its connector.
///
/// A query error is mapped where it happens ([`from_diesel`]), far from any pool: a database
/// error of no kind this crate tells apart becomes `Unexpected` carrying exactly the
/// server's message, and the repository's calls hand every outcome to
/// [`TimeoutMessage::classify`] on their way out, which turns that message into
/// `Unavailable`.
#[derive(Debug, Clone, Default)]
pub(crate) struct TimeoutMessage(Arc<OnceLock<String>>);

impl TimeoutMessage {
    /// Learns the message once: in a transaction of its own (so nothing leaks into the
    /// session, which a transaction-mode pooler shares), it sets a 50 ms timeout and sleeps
    /// past it.
    pub(crate) async fn learn(&self, conn: &mut AsyncPgConnection) -> diesel::QueryResult<()> {
        if self.0.get().is_some() {
            return Ok(());
        }
        // Simple-protocol messages only, so no prepared statement is left to be closed
        // under the short timeout; and the timeout long enough to fire once, inside the
        // sleep (at 1 ms it could fire again around the rollback, and an error arriving
        // after the transaction ended breaks a transaction-mode pooler's server session).
        conn.batch_execute("BEGIN; SET LOCAL statement_timeout = 50")
            .await?;
        let provoked = conn.batch_execute("SELECT pg_sleep(2)").await;
        conn.batch_execute("ROLLBACK").await?;
        if let Some(message) = timeout_message_of(provoked) {
            let _ = self.0.set(message);
        }
        Ok(())
    }

    /// `outcome`, its error `Unavailable` when it is this server's statement timeout.
    pub(crate) fn classify<T>(
        &self,
        outcome: Result<T, RepositoryError>,
    ) -> Result<T, RepositoryError> {
        outcome.map_err(|err| match err {
            RepositoryError::Unexpected(message) if self.0.get() == Some(&message) => {
                RepositoryError::Unavailable(format!("statement timeout: {message}"))
            }
            other => other,
        })
    }

    /// A query's outcome mapped ([`from_diesel`]) and classified.
    pub(crate) fn mapped<T>(&self, outcome: diesel::QueryResult<T>) -> Result<T, RepositoryError> {
        self.classify(outcome.map_err(from_diesel))
    }

    /// A message learned already, for tests.
    #[cfg(test)]
    fn known(message: &str) -> Self {
        Self(Arc::new(OnceLock::from(message.to_owned())))
    }
}

/// The message of the provoked cancellation, whatever kind the driver gives it: only
/// `BEGIN` and `ROLLBACK` failing (a connection that cannot serve) may fail the connection,
/// never how a diesel release classifies the cancellation. `None` when the sleep finished in
/// spite of the timeout, or failed without the server's word: nothing to learn, and the
/// timeout is then a 500 rather than every connection refused.
fn timeout_message_of(provoked: diesel::QueryResult<()>) -> Option<String> {
    match provoked {
        Err(DieselError::DatabaseError(_, info)) => Some(info.message().to_owned()),
        Err(other) => {
            tracing::warn!(error = %other, "could not learn the server's statement timeout message");
            None
        }
        Ok(()) => None,
    }
}

/// Maps a query error.
pub(crate) fn from_diesel(err: DieselError) -> RepositoryError {
    match &err {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            match conflict_of(info.constraint_name(), info.message()) {
                Some(conflict) => RepositoryError::Conflict(conflict),
                None => RepositoryError::Unexpected(format!(
                    "unique violation on an unknown constraint {:?}: {}",
                    info.constraint_name(),
                    info.message()
                )),
            }
        }
        // diesel-async reports a dropped or unreachable server as "unable to send".
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            info,
        ) => RepositoryError::Unavailable(info.message().to_owned()),
        // The server's message as it is, for `TimeoutMessage::classify` to recognise.
        DieselError::DatabaseError(_, info) => {
            RepositoryError::Unexpected(info.message().to_owned())
        }
        DieselError::BrokenTransactionManager => RepositoryError::Unavailable(err.to_string()),
        _ => RepositoryError::Unexpected(err.to_string()),
    }
}

/// Maps a failure to get a connection from the pool: all of them mean the database cannot
/// serve this request now, except a pool built without a runtime, which is a bug.
pub(crate) fn from_pool(err: PoolError) -> RepositoryError {
    match err {
        PoolError::Timeout(kind) => {
            RepositoryError::Unavailable(format!("no database connection in time ({kind:?})"))
        }
        PoolError::Closed => RepositoryError::Unavailable("the pool is closed".into()),
        PoolError::Backend(ManagerError::ConnectionError(e)) => {
            RepositoryError::Unavailable(format!("cannot connect: {e}"))
        }
        PoolError::Backend(ManagerError::QueryError(e)) => {
            RepositoryError::Unavailable(format!("connection check failed: {e}"))
        }
        PoolError::PostCreateHook(e) => {
            RepositoryError::Unavailable(format!("connection setup failed: {e}"))
        }
        PoolError::NoRuntimeSpecified => {
            RepositoryError::Unexpected("the pool was built without a runtime".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use deadpool::managed::TimeoutType;
    use diesel::result::{ConnectionError, DatabaseErrorInformation};

    use super::*;

    #[test]
    fn a_citus_coordinators_message_names_the_shards_constraint() {
        let message =
            |name: &str| format!("duplicate key value violates unique constraint \"{name}\"");
        for (name, expected) in [
            ("customer_emails_pkey_102021", Some(Conflict::Email)),
            ("customer_usernames_pkey_7", Some(Conflict::Username)),
            (
                "customers_customer_id_key_102008",
                Some(Conflict::CustomerId),
            ),
            ("customer_emails_pkey", Some(Conflict::Email)),
            ("customer_emails_pkey_", None),
            ("customer_emails_pkey_10x", None),
            ("customer_emails_pkey_extra_1", None),
            ("other_pkey_1", None),
        ] {
            assert_eq!(conflict_of(None, &message(name)), expected, "{name}");
        }
        assert_eq!(conflict_of(None, "no name at all"), None);
        // A name the server gives is taken as it is, never as a shard's.
        assert_eq!(
            conflict_of(
                Some("customer_emails_pkey_1"),
                &message("customer_emails_pkey")
            ),
            None
        );
        assert_eq!(
            conflict_of(Some("customers_username_key"), "anything"),
            Some(Conflict::Username)
        );
    }

    #[derive(Debug)]
    struct Info(Option<&'static str>);

    impl DatabaseErrorInformation for Info {
        fn message(&self) -> &str {
            "duplicate key value violates unique constraint"
        }
        fn details(&self) -> Option<&str> {
            None
        }
        fn hint(&self) -> Option<&str> {
            None
        }
        fn table_name(&self) -> Option<&str> {
            None
        }
        fn column_name(&self) -> Option<&str> {
            None
        }
        fn constraint_name(&self) -> Option<&str> {
            self.0
        }
        fn statement_position(&self) -> Option<i32> {
            None
        }
    }

    /// An unclassified error with this message.
    #[derive(Debug)]
    struct Message(&'static str);

    impl DatabaseErrorInformation for Message {
        fn message(&self) -> &str {
            self.0
        }
        fn details(&self) -> Option<&str> {
            None
        }
        fn hint(&self) -> Option<&str> {
            None
        }
        fn table_name(&self) -> Option<&str> {
            Some("customers")
        }
        fn column_name(&self) -> Option<&str> {
            None
        }
        fn constraint_name(&self) -> Option<&str> {
            None
        }
        fn statement_position(&self) -> Option<i32> {
            None
        }
    }

    fn database_error(kind: DatabaseErrorKind, constraint: Option<&'static str>) -> DieselError {
        DieselError::DatabaseError(kind, Box::new(Info(constraint)))
    }

    #[test]
    fn each_unique_constraint_maps_to_its_conflict() {
        for (name, expected) in UNIQUE_CONSTRAINTS {
            let err = from_diesel(database_error(
                DatabaseErrorKind::UniqueViolation,
                Some(name),
            ));
            assert!(
                matches!(err, RepositoryError::Conflict(c) if c == expected),
                "{name}: {err:?}"
            );
        }
    }

    #[test]
    fn a_unique_violation_on_an_unknown_constraint_is_unexpected() {
        for constraint in [Some("customers_pkey"), None] {
            let err = from_diesel(database_error(
                DatabaseErrorKind::UniqueViolation,
                constraint,
            ));
            assert!(matches!(err, RepositoryError::Unexpected(_)), "{err:?}");
        }
    }

    #[test]
    fn a_lost_connection_is_unavailable() {
        for kind in [
            DatabaseErrorKind::ClosedConnection,
            DatabaseErrorKind::UnableToSendCommand,
        ] {
            let err = from_diesel(database_error(kind, None));
            assert!(matches!(err, RepositoryError::Unavailable(_)), "{err:?}");
        }
    }

    #[test]
    fn other_database_errors_are_unexpected() {
        for err in [
            database_error(
                DatabaseErrorKind::CheckViolation,
                Some("customers_tags_length_check"),
            ),
            database_error(DatabaseErrorKind::Unknown, None),
            DieselError::NotFound,
        ] {
            assert!(matches!(from_diesel(err), RepositoryError::Unexpected(_)));
        }
    }

    #[test]
    fn learning_the_timeout_message_never_depends_on_the_kind_of_error() {
        let cancelled = "canceling statement due to statement timeout";
        for kind in [
            DatabaseErrorKind::Unknown,
            DatabaseErrorKind::SerializationFailure,
            DatabaseErrorKind::ClosedConnection,
            DatabaseErrorKind::CheckViolation,
        ] {
            let provoked = Err(DieselError::DatabaseError(
                kind,
                Box::new(Message(cancelled)),
            ));
            assert_eq!(
                timeout_message_of(provoked).as_deref(),
                Some(cancelled),
                "{kind:?}"
            );
        }
        assert_eq!(timeout_message_of(Ok(())), None);
        assert_eq!(timeout_message_of(Err(DieselError::NotFound)), None);
    }

    /// A query error as the repository's call hands it on, with `learned` as its pool's.
    fn handed_on(learned: &TimeoutMessage, err: DieselError) -> RepositoryError {
        learned.classify::<()>(Err(from_diesel(err))).unwrap_err()
    }

    #[test]
    fn the_learned_timeout_message_is_a_timeout_whatever_its_kind() {
        let timeout = "canceling statement due to statement timeout";
        let learned = TimeoutMessage::known(timeout);
        for kind in [
            DatabaseErrorKind::Unknown,
            DatabaseErrorKind::SerializationFailure,
            DatabaseErrorKind::CheckViolation,
            DatabaseErrorKind::ReadOnlyTransaction,
        ] {
            let err = DieselError::DatabaseError(kind, Box::new(Message(timeout)));
            assert!(
                matches!(handed_on(&learned, err), RepositoryError::Unavailable(cause) if cause == format!("statement timeout: {timeout}")),
                "{kind:?}"
            );
        }
    }

    #[test]
    fn only_the_learned_timeout_message_of_the_pool_makes_an_unknown_error_unavailable() {
        let timeout = "canceling statement due to statement timeout";
        let unknown = |message| {
            DieselError::DatabaseError(DatabaseErrorKind::Unknown, Box::new(Message(message)))
        };
        assert!(matches!(
            handed_on(&TimeoutMessage::known(timeout), unknown(timeout)),
            RepositoryError::Unavailable(_)
        ));
        // Another pool's server answers in another language, or has not been asked yet.
        for learned in [
            TimeoutMessage::known("Abbruch der Anweisung wegen Zeitüberschreitung"),
            TimeoutMessage::default(),
        ] {
            assert!(matches!(
                handed_on(&learned, unknown(timeout)),
                RepositoryError::Unexpected(text) if text == timeout
            ));
        }
        for message in [
            "division by zero",
            "canceling statement due to user request",
        ] {
            assert!(matches!(
                handed_on(&TimeoutMessage::known(timeout), unknown(message)),
                RepositoryError::Unexpected(text) if text == message
            ));
        }
        // Only an error's own message counts: other outcomes pass as they are.
        let learned = TimeoutMessage::known(timeout);
        assert_eq!(learned.classify(Ok(7)).unwrap(), 7);
        assert!(matches!(
            learned.classify::<()>(Err(RepositoryError::Unavailable(timeout.into()))),
            Err(RepositoryError::Unavailable(text)) if text == timeout
        ));
    }

    #[test]
    fn pool_timeouts_closed_pools_and_refused_connections_are_unavailable() {
        let errors = [
            PoolError::Timeout(TimeoutType::Wait),
            PoolError::Timeout(TimeoutType::Create),
            PoolError::Timeout(TimeoutType::Recycle),
            PoolError::Closed,
            PoolError::Backend(ManagerError::ConnectionError(
                ConnectionError::BadConnection("connection refused".into()),
            )),
            PoolError::Backend(ManagerError::QueryError(DieselError::NotFound)),
        ];
        for err in errors {
            assert!(matches!(from_pool(err), RepositoryError::Unavailable(_)));
        }
    }

    #[test]
    fn a_pool_without_runtime_is_a_bug_not_an_outage() {
        assert!(matches!(
            from_pool(PoolError::NoRuntimeSpecified),
            RepositoryError::Unexpected(_)
        ));
    }
}
