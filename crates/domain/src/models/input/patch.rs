//! `Patch<T>`: keep, clear or set one field of an update.

/// A change to one field: keep it, clear it (`null`), or set it.
///
/// Deserialising an absent field gives `Keep` (with `#[serde(default)]`), `null` gives
/// `Clear`, and a value gives `Set`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Patch<T> {
    /// The field was not sent: leave it as it is.
    #[default]
    Keep,
    /// The field was sent as `null`: clear it.
    Clear,
    /// The field was sent with a value.
    Set(T),
}

impl<T> Patch<T> {
    /// Applies `f` to a set value.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Patch<U> {
        match self {
            Self::Keep => Patch::Keep,
            Self::Clear => Patch::Clear,
            Self::Set(v) => Patch::Set(f(v)),
        }
    }

    /// True for `Keep`.
    pub fn is_keep(&self) -> bool {
        matches!(self, Self::Keep)
    }

    /// The set value, if any (`Clear` and `Keep` give `None`).
    pub fn into_set(self) -> Option<T> {
        match self {
            Self::Set(v) => Some(v),
            _ => None,
        }
    }
}

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Patch<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Option::<T>::deserialize(deserializer).map(|v| v.map_or(Self::Clear, Self::Set))
    }
}

impl<T> garde::rules::inner::Inner<T> for Patch<T> {
    type Key = garde::error::NoKey;

    fn validate_inner<F>(&self, mut f: F)
    where
        F: FnMut(&T, &Self::Key),
    {
        if let Self::Set(v) = self {
            f(v, &garde::error::NoKey::default());
        }
    }
}
