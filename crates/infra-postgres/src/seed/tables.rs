//! The vocabulary as the arrays the generating statement binds.
//!
//! A weighted choice becomes a "wheel": an `int4[]` in which the index of each word appears
//! as often as its weight, so SQL picks a word with one random subscript. Integer arrays
//! are subscripted in constant time, text arrays by walking them, so wheels hold indexes
//! and each text array holds each word once.

use super::vocabulary::{
    COMPANY_SUFFIXES, COMPANY_WORDS, COUNTRIES, EMAIL_DOMAINS, FIRST_NAMES, LAST_NAMES, STREETS,
    TAG_SETS,
};

/// Every array the statement binds, in a fixed order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SeedTables {
    pub first_names: Vec<String>,
    /// Lower-case letters of each first name: the first half of a username base.
    pub first_keys: Vec<String>,
    pub first_wheel: Vec<i32>,
    pub last_names: Vec<String>,
    pub last_keys: Vec<String>,
    pub last_wheel: Vec<i32>,
    pub cities: Vec<String>,
    pub states: Vec<String>,
    pub countries: Vec<String>,
    /// The calling code of each place's country.
    pub phone_prefixes: Vec<String>,
    pub place_wheel: Vec<i32>,
    pub streets: Vec<String>,
    pub domains: Vec<String>,
    pub domain_wheel: Vec<i32>,
    /// Comma-joined tag sets (`""` for none).
    pub tag_sets: Vec<String>,
    pub tag_wheel: Vec<i32>,
    pub company_words: Vec<String>,
    pub company_suffixes: Vec<String>,
}

/// 1-based indexes, each repeated as often as its weight (at least once).
fn wheel(weights: impl IntoIterator<Item = u32>) -> Vec<i32> {
    let mut out = Vec::new();
    for (index, weight) in (1_i32..).zip(weights) {
        out.extend(std::iter::repeat_n(index, weight.max(1) as usize));
    }
    out
}

/// Lower-case ASCII letters and digits only, as the domain's username base keeps them.
fn key(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn owned(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| (*w).to_owned()).collect()
}

impl SeedTables {
    /// The tables built from the vocabulary.
    pub(super) fn build() -> Self {
        let mut places = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (country, country_weight, prefix, cities) in COUNTRIES {
            for (city, state, share) in *cities {
                places.0.push((*city).to_owned());
                places.1.push((*state).to_owned());
                places.2.push((*country).to_owned());
                places.3.push((*prefix).to_owned());
                // Shares are percentages; /10 keeps the wheel around 10,000 entries.
                places.4.push(country_weight * share / 10);
            }
        }
        Self {
            first_names: FIRST_NAMES.iter().map(|(n, _)| (*n).to_owned()).collect(),
            first_keys: FIRST_NAMES.iter().map(|(n, _)| key(n)).collect(),
            first_wheel: wheel(FIRST_NAMES.iter().map(|(_, w)| *w)),
            last_names: LAST_NAMES.iter().map(|(n, _)| (*n).to_owned()).collect(),
            last_keys: LAST_NAMES.iter().map(|(n, _)| key(n)).collect(),
            last_wheel: wheel(LAST_NAMES.iter().map(|(_, w)| *w)),
            cities: places.0,
            states: places.1,
            countries: places.2,
            phone_prefixes: places.3,
            place_wheel: wheel(places.4),
            streets: owned(STREETS),
            domains: EMAIL_DOMAINS.iter().map(|(d, _)| (*d).to_owned()).collect(),
            domain_wheel: wheel(EMAIL_DOMAINS.iter().map(|(_, w)| *w)),
            tag_sets: TAG_SETS.iter().map(|(t, _)| (*t).to_owned()).collect(),
            tag_wheel: wheel(TAG_SETS.iter().map(|(_, w)| *w)),
            company_words: owned(COMPANY_WORDS),
            company_suffixes: owned(COMPANY_SUFFIXES),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wheel_repeats_each_index_by_its_weight() {
        assert_eq!(wheel([2, 0, 3]), [1, 1, 2, 3, 3, 3]);
    }

    #[test]
    fn keys_keep_lower_case_letters_and_digits() {
        assert_eq!(key("O'Brien"), "obrien");
        assert_eq!(key("de Vries"), "devries");
    }

    #[test]
    fn every_word_is_usable_in_an_address_and_a_username() {
        let t = SeedTables::build();
        for k in t.first_keys.iter().chain(&t.last_keys) {
            assert!(
                !k.is_empty() && k.bytes().all(|b| b.is_ascii_lowercase()),
                "{k}"
            );
        }
        assert!(
            t.countries
                .iter()
                .collect::<std::collections::HashSet<_>>()
                .len()
                >= 30
        );
        let wheels = [
            &t.first_wheel,
            &t.last_wheel,
            &t.place_wheel,
            &t.domain_wheel,
        ];
        assert!(wheels.iter().all(|w| w.len() < 20_000));
        assert_eq!(
            t.place_wheel.iter().max().copied(),
            i32::try_from(t.cities.len()).ok()
        );
    }

    #[test]
    fn tag_sets_are_already_normalised() {
        for set in SeedTables::build().tag_sets {
            let parsed = domain::Tags::parse(&set).unwrap();
            assert_eq!(parsed.as_slice().join(","), set);
        }
    }
}
