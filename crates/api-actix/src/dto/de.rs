//! Deserialisers for values whose wire form is ours to define: query values, which arrive
//! as text, and the fields of a partial update.
//!
//! Booleans are read as pydantic reads them, because Python clients of the seed send
//! `True`; integers get FastAPI-like messages instead of Rust's "invalid digit".

use domain::Patch;
use serde::de::{Deserialize, Deserializer, Error};

use crate::extract::{Tag, tagged};

/// `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`, `t`/`f`, `y`/`n`, any case.
pub(crate) fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    let raw = String::deserialize(d)?;
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" | "t" | "y" => Ok(Some(true)),
        "false" | "0" | "no" | "off" | "f" | "n" => Ok(Some(false)),
        _ => Err(D::Error::custom(tagged(
            Tag::Bool,
            "value could not be parsed to a boolean",
        ))),
    }
}

/// A field of a partial update: `null` clears it, a value sets it. With `#[serde(default)]`,
/// an absent field keeps it ([`Patch::Keep`], the default).
pub(crate) fn patch<'de, D, T>(d: D) -> Result<Patch<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(|v| v.map_or(Patch::Clear, Patch::Set))
}

/// A non-negative integer that fits 64 bits.
pub(crate) fn u64_param<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let raw = String::deserialize(d)?;
    let text = raw.trim();
    text.parse::<u64>().map_err(|_| {
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let (tag, msg) = match text.strip_prefix('-') {
            Some(rest) if digits(rest) => (Tag::Negative, "must not be negative"),
            _ if digits(text) => (Tag::TooLarge, "must fit 64 bits"),
            _ => (Tag::Int, "value is not a valid integer"),
        };
        D::Error::custom(tagged(tag, msg))
    })
}

#[cfg(test)]
mod tests {
    use serde::de::IntoDeserializer;
    use serde::de::value::{Error as ValueError, StringDeserializer};

    use super::*;

    fn text(s: &str) -> StringDeserializer<ValueError> {
        s.to_owned().into_deserializer()
    }

    #[test]
    fn booleans_are_read_as_python_clients_send_them() {
        assert_eq!(opt_bool(text("True")).unwrap(), Some(true));
        assert_eq!(opt_bool(text("0")).unwrap(), Some(false));
        assert!(opt_bool(text("maybe")).is_err());
    }

    #[test]
    fn negative_and_oversized_integers_are_rejected_with_their_own_messages() {
        assert_eq!(u64_param(text("42")).unwrap(), 42);
        assert!(
            u64_param(text("-1"))
                .unwrap_err()
                .to_string()
                .starts_with("negative")
        );
        assert!(
            u64_param(text("99999999999999999999"))
                .unwrap_err()
                .to_string()
                .starts_with("too_large")
        );
        assert!(
            u64_param(text("ten"))
                .unwrap_err()
                .to_string()
                .starts_with("int")
        );
    }
}
