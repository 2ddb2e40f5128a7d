//! What the requests sharing one computation each get back: the answer, or the error again.

use std::sync::Arc;

use domain::RepositoryError;

/// One computation's answer, or why it failed, handed to every request that shared it.
pub(crate) type Shared<T> = Result<T, Arc<RepositoryError>>;
