//! The vocabulary laid out for drawing: words once each, and "wheels" for weighted choices.
//!
//! A wheel is a list in which the index of each word appears as often as its weight, so one
//! random number picks a word with the right odds in constant time.

use super::vocabulary::{
    COMPANY_SUFFIXES, COMPANY_WORDS, COUNTRIES, EMAIL_DOMAINS, FIRST_NAMES, LANGUAGES, LAST_NAMES,
    STREETS, TAG_SETS,
};

/// A city with its region, its country, that country's calling code and the languages
/// its customers prefer (with weights).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Place {
    pub city: &'static str,
    pub state: &'static str,
    pub country: &'static str,
    pub phone_prefix: &'static str,
    pub languages: &'static [(&'static str, u32)],
}

impl Place {
    /// The language that `x` picks with the languages' odds; `None` when there is none.
    pub(super) fn language(&self, x: u64) -> Option<&'static str> {
        let total: u64 = self.languages.iter().map(|(_, w)| u64::from(*w)).sum();
        let mut left = x.checked_rem(total)?;
        for (tag, weight) in self.languages {
            let weight = u64::from(*weight);
            if left < weight {
                return Some(tag);
            }
            left -= weight;
        }
        None
    }
}

/// Everything a row is drawn from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Tables {
    pub first_names: Vec<&'static str>,
    /// Lower-case letters of each first name: the first half of a username base.
    pub first_keys: Vec<String>,
    pub first_wheel: Vec<usize>,
    pub last_names: Vec<&'static str>,
    pub last_keys: Vec<String>,
    pub last_wheel: Vec<usize>,
    pub places: Vec<Place>,
    pub place_wheel: Vec<usize>,
    pub streets: &'static [&'static str],
    pub domains: Vec<&'static str>,
    pub domain_wheel: Vec<usize>,
    /// Each tag set as its tags (none for the empty set).
    pub tag_sets: Vec<Vec<String>>,
    pub tag_wheel: Vec<usize>,
    pub company_words: &'static [&'static str],
    pub company_suffixes: &'static [&'static str],
}

/// 0-based indexes, each repeated as often as its weight (at least once).
fn wheel(weights: impl IntoIterator<Item = u32>) -> Vec<usize> {
    let mut out = Vec::new();
    for (index, weight) in weights.into_iter().enumerate() {
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

impl Tables {
    /// The tables built from the vocabulary.
    pub(super) fn build() -> Self {
        let mut places = Vec::new();
        let mut place_weights = Vec::new();
        for (country, country_weight, phone_prefix, cities) in COUNTRIES {
            let languages = LANGUAGES
                .iter()
                .find(|(c, _)| c == country)
                .map_or(&[][..], |(_, languages)| *languages);
            for (city, state, share) in *cities {
                places.push(Place {
                    city,
                    state,
                    country,
                    phone_prefix,
                    languages,
                });
                // Shares are percentages; /10 keeps the wheel around 10,000 entries.
                place_weights.push(country_weight * share / 10);
            }
        }
        Self {
            first_names: FIRST_NAMES.iter().map(|(n, _)| *n).collect(),
            first_keys: FIRST_NAMES.iter().map(|(n, _)| key(n)).collect(),
            first_wheel: wheel(FIRST_NAMES.iter().map(|(_, w)| *w)),
            last_names: LAST_NAMES.iter().map(|(n, _)| *n).collect(),
            last_keys: LAST_NAMES.iter().map(|(n, _)| key(n)).collect(),
            last_wheel: wheel(LAST_NAMES.iter().map(|(_, w)| *w)),
            places,
            place_wheel: wheel(place_weights),
            streets: STREETS,
            domains: EMAIL_DOMAINS.iter().map(|(d, _)| *d).collect(),
            domain_wheel: wheel(EMAIL_DOMAINS.iter().map(|(_, w)| *w)),
            tag_sets: TAG_SETS
                .iter()
                .map(|(set, _)| {
                    set.split(',')
                        .filter(|t| !t.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .collect(),
            tag_wheel: wheel(TAG_SETS.iter().map(|(_, w)| *w)),
            company_words: COMPANY_WORDS,
            company_suffixes: COMPANY_SUFFIXES,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wheel_repeats_each_index_by_its_weight() {
        assert_eq!(wheel([2, 0, 3]), [0, 0, 1, 2, 2, 2]);
    }

    #[test]
    fn keys_keep_lower_case_letters_and_digits() {
        assert_eq!(key("O'Brien"), "obrien");
        assert_eq!(key("de Vries"), "devries");
    }

    #[test]
    fn every_word_is_usable_in_an_address_and_a_username() {
        let t = Tables::build();
        for k in t.first_keys.iter().chain(&t.last_keys) {
            assert!(
                !k.is_empty() && k.bytes().all(|b| b.is_ascii_lowercase()),
                "{k}"
            );
        }
        let countries: std::collections::HashSet<_> = t.places.iter().map(|p| p.country).collect();
        assert!(countries.len() >= 30);
        let wheels = [
            &t.first_wheel,
            &t.last_wheel,
            &t.place_wheel,
            &t.domain_wheel,
        ];
        assert!(wheels.iter().all(|w| w.len() < 20_000));
        assert_eq!(
            t.place_wheel.iter().max().copied(),
            Some(t.places.len() - 1)
        );
    }

    #[test]
    fn every_country_has_languages_as_tags_in_canonical_case() {
        let t = Tables::build();
        for place in &t.places {
            assert!(!place.languages.is_empty(), "{}", place.country);
            for (tag, _) in place.languages {
                let parsed = domain::LanguageTag::parse(tag).unwrap();
                assert_eq!(parsed.as_str(), *tag);
            }
        }
    }

    #[test]
    fn a_language_is_picked_with_its_weight() {
        let swiss = Tables::build()
            .places
            .into_iter()
            .find(|p| p.country == "Switzerland")
            .unwrap();
        let picks: Vec<_> = (0..100).filter_map(|x| swiss.language(x)).collect();
        let count = |tag| picks.iter().filter(|t| **t == tag).count();
        assert_eq!(
            (count("de-CH"), count("fr-CH"), count("it-CH")),
            (60, 30, 10)
        );
        let nowhere = Place {
            languages: &[],
            ..swiss
        };
        assert_eq!(nowhere.language(7), None);
    }

    #[test]
    fn tag_sets_are_already_normalised() {
        for (set, (joined, _)) in Tables::build().tag_sets.iter().zip(TAG_SETS) {
            let parsed = domain::Tags::parse(joined).unwrap();
            assert_eq!(parsed.as_slice(), set.as_slice());
        }
    }
}
