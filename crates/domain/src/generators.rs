//! Username and customer-id generation, as the seed describes, with randomness injected.
//!
//! A username is the base (first + last name, transliterated to ASCII, lower-case letters and
//! digits only, at most 20 characters) when free; otherwise the base with a random numeric
//! suffix, checked in batches so that even 10,000 existing `johndoe…` names cost a handful
//! of queries; after a few batches, a UUID-derived suffix that is unique in practice.

use deunicode::deunicode;

use crate::models::{CustomerId, Username};
use crate::ports::{IdSource, SuffixSource};

/// Longest base before a suffix is added.
pub const BASE_MAX_LEN: usize = 20;
/// Base used when nothing of the name is left after cleaning.
pub const FALLBACK_BASE: &str = "customer";
/// Random candidates checked per round.
pub const CANDIDATES_PER_ROUND: usize = 10;
/// Digits of the numeric suffix in each round; after the last, a UUID suffix is used.
pub const SUFFIX_DIGITS_BY_ROUND: [u32; 3] = [4, 6, 8];

/// The base username for a name: `José Müller` gives `josemuller`, `李小龙` gives `lixiaolong`.
pub fn username_base(first_name: &str, last_name: &str) -> String {
    let ascii = deunicode(&format!("{first_name}{last_name}"));
    let base: String = ascii
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .take(BASE_MAX_LEN)
        .collect();
    if base.is_empty() {
        FALLBACK_BASE.to_owned()
    } else {
        base
    }
}

/// Candidates for one round: round 0 starts with the base itself, then random suffixes with
/// the round's number of digits (no leading zero), without duplicates.
pub fn candidates(base: &str, round: usize, suffixes: &dyn SuffixSource) -> Vec<String> {
    let mut out = Vec::with_capacity(CANDIDATES_PER_ROUND + 1);
    if round == 0 {
        out.push(base.to_owned());
    }
    let digits = SUFFIX_DIGITS_BY_ROUND
        .get(round)
        .copied()
        .unwrap_or(SUFFIX_DIGITS_BY_ROUND[SUFFIX_DIGITS_BY_ROUND.len() - 1]);
    let low = 10u64.pow(digits - 1);
    let high = 10u64.pow(digits);
    for _ in 0..CANDIDATES_PER_ROUND {
        let candidate = format!("{base}{}", suffixes.number_in(low, high));
        if !out.contains(&candidate) {
            out.push(candidate);
        }
    }
    out
}

/// The last resort: the base and 12 hex digits of a fresh UUID.
pub fn uuid_username(base: &str, ids: &dyn IdSource) -> String {
    let hex = ids.new_uuid().simple().to_string();
    format!("{base}{}", &hex[..12])
}

/// Turns a generated candidate into a [`Username`]; generated names always fit, so a
/// failure falls back to a UUID name, which always does.
pub fn to_username(candidate: &str, ids: &dyn IdSource) -> Username {
    Username::parse(candidate).unwrap_or_else(|_| {
        let hex = ids.new_uuid().simple().to_string();
        Username::parse(&format!("{FALLBACK_BASE}{}", &hex[..12]))
            .unwrap_or_else(|_| unreachable_username())
    })
}

#[expect(clippy::unwrap_used, reason = "a constant, valid username")]
fn unreachable_username() -> Username {
    Username::parse(FALLBACK_BASE).unwrap()
}

/// A new customer id from a fresh UUID.
pub fn customer_id(ids: &dyn IdSource) -> CustomerId {
    CustomerId::from_uuid(ids.new_uuid())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{MockIdSource, MockSuffixSource};

    #[test]
    fn base_joins_lower_cased_first_and_last_name() {
        assert_eq!(username_base("John", "Doe"), "johndoe");
    }

    #[test]
    fn base_keeps_only_ascii_letters_and_digits() {
        assert_eq!(username_base("Mary-Jane", "O'Neil 3rd"), "maryjaneoneil3rd");
    }

    #[test]
    fn base_transliterates_unicode() {
        assert_eq!(username_base("José", "Müller"), "josemuller");
        assert_eq!(username_base("李", "小龙"), "lixiaolong");
        assert_eq!(username_base("Zoë", "Ångström"), "zoeangstrom");
    }

    #[test]
    fn base_is_cut_to_20_characters() {
        let base = username_base("Maximilianus", "Wolfeschlegelsteinhausen");
        assert_eq!(base, "maximilianuswolfesch");
        assert_eq!(base.len(), BASE_MAX_LEN);
    }

    #[test]
    fn base_falls_back_when_nothing_is_left() {
        assert_eq!(username_base("!!!", "---"), "customer");
        assert_eq!(username_base("", ""), "customer");
        assert_eq!(username_base("—", "…"), "customer");
    }

    #[test]
    fn first_round_starts_with_the_base_then_four_digit_suffixes() {
        let mut s = MockSuffixSource::new();
        s.expect_number_in()
            .withf(|l, h| *l == 1000 && *h == 10_000)
            .returning(|l, _| l + 234);
        let c = candidates("johndoe", 0, &s);
        assert_eq!(c, vec!["johndoe".to_string(), "johndoe1234".to_string()]);
    }

    #[test]
    fn later_rounds_use_more_digits_and_no_bare_base() {
        let mut s = MockSuffixSource::new();
        let mut n = 100_000;
        s.expect_number_in()
            .withf(|l, h| *l == 100_000 && *h == 1_000_000)
            .returning(move |_, _| {
                n += 1;
                n
            });
        let c = candidates("johndoe", 1, &s);
        assert_eq!(c.len(), CANDIDATES_PER_ROUND);
        assert!(c.iter().all(|u| u.len() == "johndoe".len() + 6));
    }

    #[test]
    fn uuid_username_fits_the_column() {
        let mut ids = MockIdSource::new();
        ids.expect_new_uuid()
            .returning(|| uuid::Uuid::from_u128(0xabcdef12_3456_4789_8abc_def012345678));
        let name = uuid_username("maximilianuswolfesch", &ids);
        assert_eq!(name, "maximilianuswolfeschabcdef123456");
        assert!(Username::parse(&name).is_ok());
    }

    #[test]
    fn customer_id_is_cust_and_eight_upper_hex_from_the_uuid() {
        let mut ids = MockIdSource::new();
        ids.expect_new_uuid()
            .returning(|| uuid::Uuid::from_u128(0x0a1b2c3d_0000_4000_8000_000000000000));
        assert_eq!(customer_id(&ids).as_str(), "CUST_0A1B2C3D");
    }

    #[test]
    fn rounds_past_the_last_keep_its_number_of_digits() {
        let mut s = MockSuffixSource::new();
        s.expect_number_in()
            .withf(|l, h| *l == 10_000_000 && *h == 100_000_000)
            .returning(|l, _| l);
        assert_eq!(candidates("jo", 2, &s), ["jo10000000"]);
        assert_eq!(candidates("jo", 5, &s), ["jo10000000"]);
    }

    #[test]
    fn a_candidate_that_is_no_username_becomes_a_uuid_name() {
        let mut ids = MockIdSource::new();
        ids.expect_new_uuid()
            .times(1)
            .returning(|| uuid::Uuid::from_u128(0xabcdef12_3456_4789_8abc_def012345678));
        assert_eq!(
            to_username("Not Valid", &ids).as_str(),
            "customerabcdef123456"
        );
        let mut unused = MockIdSource::new();
        unused.expect_new_uuid().never();
        assert_eq!(to_username("johndoe", &unused).as_str(), "johndoe");
    }
}
