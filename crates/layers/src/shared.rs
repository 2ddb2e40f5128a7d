//! What the requests sharing one computation each get back: the answer, or the error again.

use std::sync::Arc;

use domain::RepositoryError;

/// One computation's answer, or why it failed, handed to every request that shared it.
pub(crate) type Shared<T> = Result<T, Arc<RepositoryError>>;

/// The error again, for one more request that shared the computation.
pub(crate) fn duplicate(error: &RepositoryError) -> RepositoryError {
    match error {
        RepositoryError::Conflict(key) => RepositoryError::Conflict(*key),
        RepositoryError::Unavailable(why) => RepositoryError::Unavailable(why.clone()),
        RepositoryError::Unexpected(why) => RepositoryError::Unexpected(why.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_duplicated_with_their_kind_and_text() {
        for error in [
            RepositoryError::Conflict(domain::Conflict::Email),
            RepositoryError::Unavailable("a".into()),
            RepositoryError::Unexpected("b".into()),
        ] {
            assert_eq!(duplicate(&error).to_string(), error.to_string());
        }
    }
}
