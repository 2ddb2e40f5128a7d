//! `Patch<T>`: keep, clear or set one field of an update.

/// A change to one field: keep it, clear it, or set it. (How a client says which is the
/// adapter's concern: the HTTP adapter reads an absent field as `Keep` and `null` as `Clear`.)
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Patch<T> {
    /// Leave the field as it is.
    #[default]
    Keep,
    /// Remove the field's value.
    Clear,
    /// Give the field this value.
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

    /// A patch of a reference to the set value.
    pub fn as_ref(&self) -> Patch<&T> {
        match self {
            Self::Keep => Patch::Keep,
            Self::Clear => Patch::Clear,
            Self::Set(v) => Patch::Set(v),
        }
    }

    /// A patch of the set value's dereferenced form (`Patch<&str>` of a `Patch<String>`).
    pub fn as_deref(&self) -> Patch<&T::Target>
    where
        T: std::ops::Deref,
    {
        self.as_ref().map(|v| &**v)
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
