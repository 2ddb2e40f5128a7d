//! Language tags (BCP 47).

use std::fmt;

use super::ValueError;
use crate::error::Rule;

/// A well-formed BCP 47 language tag (RFC 5646, section 2.1), kept in the RFC's canonical
/// case: `en`, `en-US`, `pt-BR`, `zh-Hant-TW`, `sr-Latn`, `de-CH-1996`, `x-klingon`.
///
/// Only the syntax is checked, not the IANA registry: `qq-ZZ` is well-formed, so accepted.
/// The irregular grandfathered tags (`i-klingon`, `en-GB-oed`, ...), deprecated since 2006,
/// are refused; the regular ones (`zh-min-nan`, `art-lojban`) fit the syntax.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LanguageTag(String);

impl LanguageTag {
    /// Longest tag accepted: RFC 5646 (section 4.4.1) asks implementations to keep at
    /// least 35 characters, enough for any tag of the registry's subtags.
    pub const MAX_LEN: usize = 35;

    /// Trims, checks and canonicalises the case: the language and every subtag after a
    /// singleton lower-case, a script title-case (`Hant`), a region upper-case (`US`).
    ///
    /// # Errors
    /// [`Rule::MaxLength`] beyond 35 characters; [`Rule::LanguageTag`] when the text is not
    /// a well-formed tag (an empty or over-long subtag, `_` instead of `-`, subtags out of
    /// order, a character other than an ASCII letter, digit or `-`).
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let tag = raw.trim();
        if tag.chars().count() > Self::MAX_LEN {
            return Err(ValueError::new(Rule::MaxLength(Self::MAX_LEN)));
        }
        let subtags: Vec<&str> = tag.split('-').collect();
        if !well_formed(&subtags) {
            return Err(ValueError::new(Rule::LanguageTag));
        }
        Ok(Self(canonical_case(&subtags)))
    }

    /// The tag in canonical case.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LanguageTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<LanguageTag> for String {
    fn from(value: LanguageTag) -> Self {
        value.0
    }
}

fn letters(s: &str, len: std::ops::RangeInclusive<usize>) -> bool {
    len.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphabetic())
}

fn alphanumerics(s: &str, len: std::ops::RangeInclusive<usize>) -> bool {
    len.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// `variant = 5*8alphanum / (DIGIT 3alphanum)`
fn is_variant(s: &str) -> bool {
    alphanumerics(s, 5..=8) || (alphanumerics(s, 4..=4) && s.as_bytes()[0].is_ascii_digit())
}

/// A one-character subtag that starts an extension (any letter or digit but `x`).
fn is_singleton(s: &str) -> bool {
    alphanumerics(s, 1..=1) && !s.eq_ignore_ascii_case("x")
}

/// `privateuse = "x" 1*("-" (1*8alphanum))`, given the subtags after the `x`.
fn private_use(rest: &[&str]) -> bool {
    !rest.is_empty() && rest.iter().all(|s| alphanumerics(s, 1..=8))
}

/// RFC 5646's `Language-Tag` without the irregular grandfathered tags:
/// `langtag = language ["-" script] ["-" region] *("-" variant) *("-" extension)
/// ["-" privateuse]`, or a private-use tag alone. Subtags are taken greedily in that
/// order, which the grammar makes unambiguous (each position has its own shapes).
fn well_formed(subtags: &[&str]) -> bool {
    let Some((&language, rest)) = subtags.split_first() else {
        return false;
    };
    if language.eq_ignore_ascii_case("x") {
        return private_use(rest);
    }
    // language = 2*3ALPHA ["-" extlang] / 4ALPHA / 5*8ALPHA
    if !letters(language, 2..=8) {
        return false;
    }
    let mut i = 1;
    let at = |i: usize| subtags.get(i).copied();
    if language.len() <= 3 {
        // extlang = 3ALPHA *2("-" 3ALPHA)
        let mut extlangs = 0;
        while extlangs < 3 && at(i).is_some_and(|s| letters(s, 3..=3)) {
            i += 1;
            extlangs += 1;
        }
    }
    // script = 4ALPHA
    if at(i).is_some_and(|s| letters(s, 4..=4)) {
        i += 1;
    }
    // region = 2ALPHA / 3DIGIT
    if at(i).is_some_and(|s| {
        letters(s, 2..=2) || (s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()))
    }) {
        i += 1;
    }
    while at(i).is_some_and(is_variant) {
        i += 1;
    }
    // extension = singleton 1*("-" (2*8alphanum))
    while at(i).is_some_and(is_singleton) {
        i += 1;
        let start = i;
        while at(i).is_some_and(|s| alphanumerics(s, 2..=8)) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    match at(i) {
        None => true,
        Some(x) if x.eq_ignore_ascii_case("x") => private_use(&subtags[i + 1..]),
        Some(_) => false,
    }
}

/// RFC 5646, section 2.1.1: lower case, except two-letter subtags (regions) upper case and
/// four-letter subtags (scripts) title case, when they are neither first nor after a
/// singleton (`en-CA-x-ca`, `az-Latn-x-latn`).
fn canonical_case(subtags: &[&str]) -> String {
    let mut out = String::with_capacity(LanguageTag::MAX_LEN);
    let mut after_singleton = false;
    for (i, subtag) in subtags.iter().enumerate() {
        if i > 0 {
            out.push('-');
        }
        let lower = subtag.to_ascii_lowercase();
        if i == 0 || after_singleton {
            out.push_str(&lower);
        } else if subtag.len() == 2 {
            out.push_str(&subtag.to_ascii_uppercase());
        } else if subtag.len() == 4 && subtag.bytes().all(|b| b.is_ascii_alphabetic()) {
            out.push_str(&lower[..1].to_ascii_uppercase());
            out.push_str(&lower[1..]);
        } else {
            out.push_str(&lower);
        }
        after_singleton |= subtag.len() == 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(raw: &str) -> Rule {
        LanguageTag::parse(raw).unwrap_err().rule
    }

    fn canonical(raw: &str) -> String {
        LanguageTag::parse(raw).unwrap().as_str().to_owned()
    }

    #[test]
    fn the_tag_is_shown_and_converted_in_its_canonical_case() {
        let tag = LanguageTag::parse("zh-hant-tw").unwrap();
        assert_eq!(tag.to_string(), "zh-Hant-TW");
        assert_eq!(String::from(tag), "zh-Hant-TW");
    }

    #[test]
    fn common_tags_are_accepted_as_written() {
        for tag in [
            "en",
            "en-US",
            "pt-BR",
            "zh-Hant-TW",
            "sr-Latn",
            "es-419",
            "de-CH-1996",
            "sl-rozaj-biske",
            "zh-yue-HK",
            "zh-min-nan",
            "art-lojban",
            "haw",
            "tlh",
            "en-US-u-ca-gregory",
            "de-DE-u-co-phonebk-x-private",
            "x-klingon",
            "qaa-Qaaa-QM-x-southern",
            // Well-formed, if unregistered: 5 to 8 letters are a language, three letters
            // after a two-letter language an extended language, 5 to 8 characters a variant.
            "english",
            "en-usa",
            "en-1234567",
        ] {
            assert_eq!(canonical(tag), tag);
        }
    }

    #[test]
    fn the_case_is_made_canonical() {
        assert_eq!(canonical("EN-us"), "en-US");
        assert_eq!(canonical("zh-hant-tw"), "zh-Hant-TW");
        assert_eq!(canonical("SR-LATN"), "sr-Latn");
        assert_eq!(canonical("  pt-br "), "pt-BR");
        // After a singleton every subtag is lower case, even two- or four-letter ones.
        assert_eq!(canonical("en-CA-X-CA"), "en-CA-x-ca");
        assert_eq!(canonical("az-LATN-x-LATN"), "az-Latn-x-latn");
        assert_eq!(canonical("en-A-BB-CCCC"), "en-a-bb-cccc");
        assert_eq!(canonical("DE-CH-1996"), "de-CH-1996");
    }

    #[test]
    fn a_language_is_2_to_8_letters() {
        assert_eq!(canonical("ab"), "ab");
        assert_eq!(canonical("abcd"), "abcd");
        assert_eq!(canonical("abcdefgh"), "abcdefgh");
        for bad in ["a", "abcdefghi", "e1", "12", "i-klingon"] {
            assert_eq!(rule(bad), Rule::LanguageTag, "{bad}");
        }
    }

    #[test]
    fn subtags_must_come_in_order_and_have_their_shapes() {
        for bad in [
            "",
            "-",
            "en-",
            "-en",
            "en--US",
            "en_US",
            "en US",
            "en-US-",
            "en-Latn-Latn",
            "en-US-GB",
            "en-12",
            "en-u",
            "en-u-x",
            "en-u-a",
            "en-x",
            "en-x-123456789",
            "x",
            "en-abc-def-ghi-jkl",
            "abcd-abc",
            "en-variant9x",
            "ça",
            "en-ÜS",
        ] {
            assert_eq!(rule(bad), Rule::LanguageTag, "{bad:?}");
        }
    }

    #[test]
    fn up_to_35_characters_are_accepted() {
        // 35 characters: every subtag has its shape.
        let longest = "zh-min-nan-Hant-CN-variant1-u-ca-ab";
        assert_eq!(longest.len(), 35);
        assert_eq!(canonical(longest), longest);
        assert_eq!(rule(&format!("{longest}c")), Rule::MaxLength(35));
        assert_eq!(rule(&"a".repeat(36)), Rule::MaxLength(35));
    }
}
