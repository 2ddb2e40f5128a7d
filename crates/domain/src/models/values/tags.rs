//! Tags: a normalised set shown as a comma-separated string.

use super::ValueError;
use crate::error::Rule;

/// A set of tags: trimmed, lower-cased, without duplicates, in first-seen order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Tags(Vec<String>);

impl Tags {
    /// Longest comma-separated form the model stores.
    pub const MAX_LEN: usize = 500;
    /// Longest single tag.
    pub const MAX_TAG_LEN: usize = 50;

    /// Parses the comma-separated form (`"premium, Tech,premium"` gives `premium,tech`).
    ///
    /// # Errors
    /// When a tag is longer than 50 characters or has control characters, or the joined form
    /// is longer than 500 characters.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        Self::from_iter_checked(raw.split(','))
    }

    /// Builds the set from separate tags, with the same rules as [`Tags::parse`].
    ///
    /// # Errors
    /// As [`Tags::parse`].
    pub fn from_iter_checked<'a>(
        raw: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, ValueError> {
        let mut tags: Vec<String> = Vec::new();
        for tag in raw {
            let tag = tag.trim().to_lowercase();
            if tag.is_empty() {
                continue;
            }
            if tag.chars().any(char::is_control) {
                return Err(ValueError::new(Rule::TagControlCharacters));
            }
            if tag.chars().count() > Self::MAX_TAG_LEN {
                return Err(ValueError::new(Rule::TagTooLong(Self::MAX_TAG_LEN)));
            }
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        let joined = tags.join(",");
        if joined.chars().count() > Self::MAX_LEN {
            return Err(ValueError::new(Rule::MaxLength(Self::MAX_LEN)));
        }
        Ok(Self(tags))
    }

    /// Wraps tags read back from storage, which were checked when written.
    pub fn from_stored(tags: Vec<String>) -> Self {
        Self(tags)
    }

    /// The tags, in order.
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    /// True when there is no tag.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The comma-separated form the API shows, `None` when there is no tag.
    pub fn to_csv(&self) -> Option<String> {
        (!self.0.is_empty()).then(|| self.0.join(","))
    }
}

impl TryFrom<String> for Tags {
    type Error = ValueError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Tags> for String {
    fn from(value: Tags) -> Self {
        value.0.join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn tags_are_trimmed_lower_cased_and_deduplicated_in_order() {
        let tags = Tags::parse(" Premium, tech ,,premium,New-York ").unwrap();
        assert_eq!(tags.as_slice(), ["premium", "tech", "new-york"]);
        assert_eq!(tags.to_csv().as_deref(), Some("premium,tech,new-york"));
    }

    #[test]
    fn empty_tags_show_as_none() {
        assert_eq!(Tags::parse(" , ").unwrap().to_csv(), None);
    }

    #[test]
    fn a_tag_has_at_most_50_characters_and_all_at_most_500() {
        assert!(Tags::parse(&"é".repeat(50)).is_ok());
        let rule = |raw: &str| Tags::parse(raw).unwrap_err().rule;
        assert_eq!(rule(&"é".repeat(51)), Rule::TagTooLong(50));
        assert_eq!(rule("ok,a\u{1}b"), Rule::TagControlCharacters);
        // 50 tags of 9 characters and 49 commas: 499 characters.
        let fifty: Vec<String> = (0..50).map(|i| format!("tag{i:06}")).collect();
        assert!(Tags::parse(&fifty.join(",")).is_ok());
        let longer = format!("{},x", fifty.join(","));
        assert_eq!(rule(&longer), Rule::MaxLength(500));
    }

    #[test]
    fn tags_longer_than_their_limits_are_rejected() {
        assert!(Tags::parse(&"x".repeat(51)).is_err());
        let many: Vec<String> = (0..60).map(|i| format!("tag{i:05}")).collect();
        assert!(Tags::parse(&many.join(",")).is_err());
    }

    #[test]
    fn tags_convert_to_and_from_their_comma_separated_text() {
        let tags = Tags::try_from(" B, a ".to_owned()).unwrap();
        assert_eq!(tags.as_slice(), ["b", "a"]);
        assert!(!tags.is_empty());
        assert_eq!(String::from(tags), "b,a");
        assert!(Tags::default().is_empty());
        assert_eq!(String::from(Tags::default()), "");
        assert_eq!(
            Tags::try_from("a\u{1}".to_owned()).unwrap_err().rule,
            Rule::TagControlCharacters
        );
    }

    #[test]
    fn stored_tags_are_taken_as_they_are() {
        let tags = Tags::from_stored(vec!["vip".into(), "new".into()]);
        assert_eq!(tags.as_slice(), ["vip", "new"]);
        assert_eq!(tags.to_csv().as_deref(), Some("vip,new"));
        assert_eq!(tags, Tags::parse("vip,new").unwrap());
    }

    #[test]
    fn separate_tags_follow_the_same_rules() {
        let tags = Tags::from_iter_checked([" A ", "", "a", "b"]).unwrap();
        assert_eq!(tags.as_slice(), ["a", "b"]);
        assert_eq!(
            Tags::from_iter_checked(["x".repeat(51).as_str()])
                .unwrap_err()
                .rule,
            Rule::TagTooLong(50)
        );
    }

    #[test]
    fn the_joined_form_may_have_exactly_500_characters() {
        // 49 tags of 9 characters, one of 10, and 49 commas: 500 characters.
        let mut tags: Vec<String> = (0..50).map(|i| format!("tag{i:06}")).collect();
        tags[49] = "tag0000049".into();
        let joined = tags.join(",");
        assert_eq!(joined.chars().count(), 500);
        assert!(Tags::parse(&joined).is_ok());
        assert_eq!(
            Tags::parse(&format!("{joined}x")).unwrap_err().rule,
            Rule::MaxLength(500)
        );
    }
}
