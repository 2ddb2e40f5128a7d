//! The text form of a keyset cursor: `c1.` and the last id of the previous page in
//! lower-case hexadecimal. Clients treat it as opaque; the prefix versions the format.

use domain::{Cursor, ValidationErrors};

const PREFIX: &str = "c1.";

/// The text a page's `next_cursor` carries.
pub fn encode(cursor: Cursor) -> String {
    format!("{PREFIX}{:x}", cursor.after_id)
}

/// The cursor a client sent back in the `cursor` parameter.
///
/// # Errors
/// [`domain::Rule::Cursor`] on `cursor` when the text was not produced by [`encode`].
pub fn decode(raw: &str) -> Result<Cursor, ValidationErrors> {
    raw.strip_prefix(PREFIX)
        .and_then(|hex| i64::from_str_radix(hex, 16).ok())
        .ok_or_else(|| ValidationErrors::single("cursor", domain::Rule::Cursor))
        .and_then(|id| Cursor::after(id).map_err(|e| ValidationErrors::single("cursor", e.rule)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_through_its_text() {
        for after_id in [0, 255, 123_456, i64::MAX] {
            let c = Cursor { after_id };
            assert_eq!(decode(&encode(c)).unwrap(), c);
        }
        assert_eq!(encode(Cursor { after_id: 255 }), "c1.ff");
    }

    #[test]
    fn text_we_did_not_issue_breaks_the_cursor_rule() {
        for bad in ["", "123", "c1.zz", "c1.-5", "c1.", "c2.ff"] {
            let err = decode(bad).unwrap_err();
            assert_eq!(
                (err.0[0].field, err.0[0].rule),
                ("cursor", domain::Rule::Cursor),
                "{bad}"
            );
        }
    }
}
