//! The index itself, in memory and synchronous: each customer's searchable fields in a slot,
//! a bitmap of slots per byte trigram of the text and per stored place, language and tag,
//! and the search that intersects the bitmaps, checks every candidate against every filter
//! and sorts the matches.
//!
//! It answers exactly what the storage's own search answers, or declines:
//! - Text is compared as the storage lower-cased it (the documents carry its `lower()`); a
//!   term is lower-cased here only when it is ASCII, where every lower-casing agrees. A
//!   search with a term outside ASCII is declined.
//! - The order is by a timestamp or `id`, tie-broken by `id` in the same direction, a
//!   missing `last_login_at` last in both directions. A search sorted by text is declined:
//!   the storage's collation decides that order.
//! - Trigrams only narrow the candidates: every candidate is checked on its text, so a term
//!   shorter than three bytes is matched too (by checking every customer the other filters
//!   leave).
//! - A term whose trigrams leave many candidates (a frequent name, a country's common
//!   surname) is checked once over all of them, and the exact set of its matches is then
//!   remembered: every put and remove keeps each remembered set exact, so a later search with
//!   that term intersects it instead of checking its text again. At most
//!   `REMEMBERED_TERMS` are remembered, the least used going first.
//! - The flags are bitmaps too, and a date bound every customer meets is no filter. When
//!   every filter left is a bitmap (a remembered term, a place, a language, a tag, a flag),
//!   the total is the size of their intersection, and a page in the default order
//!   (`created_at`) is found by walking the customers in that order until it is full,
//!   rather than by ranking every match: a common term in a large country no longer costs
//!   a look at each of its matches. The walk stops, and every match is ranked instead, when
//!   it would take longer than that.
//! - What a search reads of every match (flags, timestamps, id, version) sits side by side
//!   for all customers, apart from their text.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use domain::{SearchCriteria, SearchDocument, SortField, SortOrder};
use memchr::memmem;
use roaring::RoaringBitmap;

/// `SearchDocument::text`'s separator, as a byte (it is ASCII).
const SEPARATOR: u8 = SearchDocument::SEPARATOR as u8;

/// How many candidates a term's trigrams must leave for its exact matches to be
/// remembered: below that, checking them each time costs little.
const REMEMBER_FROM: u64 = 2_048;
/// How many terms' matches are remembered at most (each costs every put a substring check,
/// and its bitmap's memory).
const REMEMBERED_TERMS: usize = 512;

/// The columns of `SearchDocument::text`, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Column {
    FirstName = 0,
    LastName = 1,
    Email = 2,
    Phone = 4,
    CompanyName = 5,
}

/// One customer's text and filtered values, as the index keeps them.
#[derive(Debug)]
struct Doc {
    text: Box<str>,
    has_phone: bool,
    has_company: bool,
    city: Option<u32>,
    state: Option<u32>,
    country: Option<u32>,
    language: Option<u32>,
    tags: Box<[u32]>,
}

impl Doc {
    /// What a term of `column` (or of the whole text: `None`) is looked for in; `None` for
    /// a phone or company the customer does not have.
    fn haystack(&self, column: Option<Column>) -> Option<&[u8]> {
        match column {
            None => Some(self.text.as_bytes()),
            Some(Column::Phone) if !self.has_phone => None,
            Some(Column::CompanyName) if !self.has_company => None,
            Some(column) => self
                .text
                .as_bytes()
                .split(|b| *b == SEPARATOR)
                .nth(column as usize),
        }
    }
}

/// What a search reads of each match: the filters no bitmap answers, and the order.
#[derive(Debug, Clone, Copy, Default)]
struct Keys {
    id: i64,
    version: u64,
    is_active: bool,
    is_verified: bool,
    created_at: i64,
    updated_at: i64,
    last_login_at: Option<i64>,
}

/// A match's place in the order asked for, smallest first: a missing value after every
/// other, then the value and `id`, each flipped for a descending order (`!x` reverses the
/// order of every `i64`).
type Rank = (bool, i64, i64);

fn rank(keys: &Keys, field: SortField, order: SortOrder) -> Rank {
    let value = match field {
        SortField::UpdatedAt => Some(keys.updated_at),
        SortField::LastLoginAt => keys.last_login_at,
        SortField::Id => Some(keys.id),
        _ => Some(keys.created_at),
    };
    let directed = |x: i64| match order {
        SortOrder::Asc => x,
        SortOrder::Desc => !x,
    };
    (
        value.is_none(),
        value.map_or(0, directed),
        directed(keys.id),
    )
}

/// The customers in every one of `sets` (smallest first; `live` when there is none):
/// borrowed when there is one.
fn intersection<'a>(live: &'a RoaringBitmap, sets: &[&'a RoaringBitmap]) -> Cow<'a, RoaringBitmap> {
    match sets {
        [] => Cow::Borrowed(live),
        [only] => Cow::Borrowed(*only),
        [first, second, ..] if first.len().saturating_mul(PROBE_RATIO) < second.len() => {
            // Far smaller than the others: each of its slots looked up in them costs less
            // than merging their containers.
            Cow::Owned(
                first
                    .iter()
                    .filter(|&slot| sets[1..].iter().all(|set| set.contains(slot)))
                    .collect(),
            )
        }
        [first, second, rest @ ..] => {
            let mut all = *first & *second;
            for next in rest {
                if all.is_empty() {
                    break;
                }
                all &= *next;
            }
            Cow::Owned(all)
        }
    }
}

/// How many customers are in every one of `sets` (smallest first; every one in `live`
/// when there is none), building no intersection of the last two.
fn intersection_len(live: &RoaringBitmap, sets: &[&RoaringBitmap]) -> u64 {
    match sets {
        [] => live.len(),
        [only] => only.len(),
        [first, second] => first.intersection_len(second),
        [first, second, rest @ ..] => {
            let mut all = *first & *second;
            let (last, between) = rest.split_last().unwrap_or((second, &[]));
            for next in between {
                all &= *next;
            }
            all.intersection_len(last)
        }
    }
}

/// How many times smaller than the next the smallest bitmap of a search must be for its
/// slots to be looked up in the others rather than intersected with them.
const PROBE_RATIO: u64 = 16;

/// The flags' bitmaps, by their place in `Engine::flags`.
const ACTIVE: usize = 0;
const INACTIVE: usize = 1;
const VERIFIED: usize = 2;
const UNVERIFIED: usize = 3;

/// The two flag bitmaps a customer is in.
fn flag_bitmaps(keys: &Keys) -> [usize; 2] {
    [
        if keys.is_active { ACTIVE } else { INACTIVE },
        if keys.is_verified {
            VERIFIED
        } else {
            UNVERIFIED
        },
    ]
}

/// Where a text term is looked for: the whole text (`None`) or one column.
type TermKey = (Option<Column>, Box<str>);

/// The exact matches of one remembered term.
#[derive(Debug)]
struct Remembered {
    slots: Arc<RoaringBitmap>,
    finder: memmem::Finder<'static>,
    /// Searches that used it since it was remembered, halved whenever a term is evicted.
    uses: u32,
}

/// Microseconds since the epoch, as the storage keeps a timestamp (rounded down).
fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

/// The distinct values of one filtered field, each with the slots holding it.
#[derive(Debug, Default)]
struct Values {
    ids: HashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
    slots: Vec<RoaringBitmap>,
}

impl Values {
    fn id(&mut self, name: &str) -> u32 {
        if let Some(id) = self.ids.get(name) {
            return *id;
        }
        let id = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.ids.insert(name.into(), id);
        self.names.push(name.into());
        self.slots.push(RoaringBitmap::new());
        id
    }

    fn add(&mut self, name: &str, slot: u32) -> u32 {
        let id = self.id(name);
        self.slots[id as usize].insert(slot);
        id
    }

    fn remove(&mut self, id: u32, slot: u32) {
        if let Some(slots) = self.slots.get_mut(id as usize) {
            slots.remove(slot);
        }
    }

    /// The values containing `term` (already lower-cased, as the values are).
    fn containing(&self, term: &str) -> Vec<u32> {
        let finder = memmem::Finder::new(term.as_bytes());
        (0u32..)
            .zip(&self.names)
            .filter(|(_, name)| finder.find(name.as_bytes()).is_some())
            .map(|(id, _)| id)
            .collect()
    }

    /// Every slot holding one of `ids`: borrowed when there is one.
    fn slots_of(&self, ids: &[u32]) -> Cow<'_, RoaringBitmap> {
        match ids {
            [one] => Cow::Borrowed(&self.slots[*one as usize]),
            _ => {
                let mut all = RoaringBitmap::new();
                for id in ids {
                    all |= &self.slots[*id as usize];
                }
                Cow::Owned(all)
            }
        }
    }
}

/// The distinct byte trigrams of a text.
fn trigrams(text: &[u8]) -> Vec<[u8; 3]> {
    let mut grams: Vec<[u8; 3]> = text.windows(3).map(|w| [w[0], w[1], w[2]]).collect();
    grams.sort_unstable();
    grams.dedup();
    grams
}

/// A page of matches: the customers' ids and versions in order, and how many match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hits {
    pub(crate) page: Vec<(i64, u64)>,
    pub(crate) total: u64,
}

/// Every customer the index holds.
#[derive(Debug)]
pub(crate) struct Engine {
    docs: Vec<Option<Doc>>,
    keys: Vec<Keys>,
    free: Vec<u32>,
    slots: HashMap<Box<str>, u32>,
    live: RoaringBitmap,
    /// `[active, inactive, verified, unverified]`: the flags' exact bitmaps.
    flags: [RoaringBitmap; 4],
    /// Every customer by `(created_at, id)`, for pages in that order.
    by_created: BTreeSet<(i64, i64, u32)>,
    /// The earliest and latest `created_at` ever put (a removal leaves them: a bound
    /// outside them is met by every customer all the same).
    created_range: Option<(i64, i64)>,
    grams: HashMap<[u8; 3], RoaringBitmap>,
    cities: Values,
    states: Values,
    countries: Values,
    languages: Values,
    tags: Values,
    /// Frequent terms' exact matches (see the module); searches share them.
    remembered: Mutex<HashMap<TermKey, Remembered>>,
    remember_from: u64,
}

impl Default for Engine {
    fn default() -> Self {
        Self {
            docs: Vec::new(),
            keys: Vec::new(),
            free: Vec::new(),
            slots: HashMap::new(),
            live: RoaringBitmap::new(),
            flags: Default::default(),
            by_created: BTreeSet::new(),
            created_range: None,
            grams: HashMap::new(),
            cities: Values::default(),
            states: Values::default(),
            countries: Values::default(),
            languages: Values::default(),
            tags: Values::default(),
            remembered: Mutex::new(HashMap::new()),
            remember_from: REMEMBER_FROM,
        }
    }
}

/// A substring filter on the text: anywhere in it, or in one column.
struct TextFilter {
    term: String,
    column: Option<Column>,
}

impl Engine {
    /// An engine that remembers every term whose trigrams leave `candidates` or more (so
    /// tests over a few customers use remembered terms too).
    #[cfg(test)]
    pub(crate) fn remembering_from(candidates: u64) -> Self {
        Self {
            remember_from: candidates,
            ..Self::default()
        }
    }

    /// How many terms' matches it remembers.
    pub(crate) fn remembered_terms(&self) -> usize {
        self.remembered
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// How many customers it holds.
    pub(crate) fn len(&self) -> u64 {
        self.live.len()
    }

    /// Stores the customer's document, replacing the one it had.
    pub(crate) fn put(&mut self, document: SearchDocument) {
        self.remove(&document.customer_id);
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                self.docs.push(None);
                self.keys.push(Keys::default());
                u32::try_from(self.docs.len() - 1).unwrap_or(u32::MAX)
            }
        };
        for gram in trigrams(document.text.as_bytes()) {
            self.grams.entry(gram).or_default().insert(slot);
        }
        let mut tags: Vec<u32> = document
            .tags
            .iter()
            .map(|tag| self.tags.add(tag, slot))
            .collect();
        tags.sort_unstable();
        tags.dedup();
        let doc = Doc {
            text: document.text.into_boxed_str(),
            has_phone: document.has_phone,
            has_company: document.has_company,
            city: document.city.map(|v| self.cities.add(&v, slot)),
            state: document.state.map(|v| self.states.add(&v, slot)),
            country: document.country.map(|v| self.countries.add(&v, slot)),
            language: document
                .preferred_language
                .map(|v| self.languages.add(&v, slot)),
            tags: tags.into_boxed_slice(),
        };
        let keys = Keys {
            id: document.id,
            version: document.version,
            is_active: document.is_active,
            is_verified: document.is_verified,
            created_at: micros(document.created_at),
            updated_at: micros(document.updated_at),
            last_login_at: document.last_login_at.map(micros),
        };
        for flag in flag_bitmaps(&keys) {
            self.flags[flag].insert(slot);
        }
        self.by_created.insert((keys.created_at, keys.id, slot));
        self.created_range = Some(match self.created_range {
            None => (keys.created_at, keys.created_at),
            Some((low, high)) => (low.min(keys.created_at), high.max(keys.created_at)),
        });
        self.keys[slot as usize] = keys;
        // No search runs during a put (it has the engine to itself), so no search shares a
        // remembered set and `make_mut` never copies one.
        for ((column, _), remembered) in self
            .remembered
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
        {
            if doc
                .haystack(*column)
                .is_some_and(|text| remembered.finder.find(text).is_some())
            {
                Arc::make_mut(&mut remembered.slots).insert(slot);
            }
        }
        self.slots
            .insert(document.customer_id.into_boxed_str(), slot);
        self.live.insert(slot);
        self.docs[slot as usize] = Some(doc);
    }

    /// Forgets the customer, if it holds it.
    pub(crate) fn remove(&mut self, customer_id: &str) {
        let Some(slot) = self.slots.remove(customer_id) else {
            return;
        };
        let Some(doc) = self.docs.get_mut(slot as usize).and_then(Option::take) else {
            return;
        };
        for gram in trigrams(doc.text.as_bytes()) {
            if let Some(slots) = self.grams.get_mut(&gram) {
                slots.remove(slot);
            }
        }
        for (values, id) in [
            (&mut self.cities, doc.city),
            (&mut self.states, doc.state),
            (&mut self.countries, doc.country),
            (&mut self.languages, doc.language),
        ] {
            if let Some(id) = id {
                values.remove(id, slot);
            }
        }
        for tag in &doc.tags {
            self.tags.remove(*tag, slot);
        }
        for remembered in self
            .remembered
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .values_mut()
        {
            if remembered.slots.contains(slot) {
                Arc::make_mut(&mut remembered.slots).remove(slot);
            }
        }
        let keys = self.keys[slot as usize];
        for flag in flag_bitmaps(&keys) {
            self.flags[flag].remove(slot);
        }
        self.by_created.remove(&(keys.created_at, keys.id, slot));
        self.live.remove(slot);
        self.free.push(slot);
    }

    /// The page and total the storage's search would answer, or `None` when this search is
    /// one the index declines (see the module).
    pub(crate) fn search(&self, criteria: &SearchCriteria) -> Option<Hits> {
        // Every filter named, none left out: a filter added to the criteria does not
        // compile here until the index applies it (or declines the searches using it).
        let SearchCriteria {
            query: _,
            first_name: _,
            last_name: _,
            email: _,
            phone: _,
            city: _,
            state: _,
            country: _,
            is_active: _,
            is_verified: _,
            company_name: _,
            tags: _,
            preferred_language: _,
            created_after: _,
            created_before: _,
            sort_by: _,
            sort_order: _,
            page: _,
        } = criteria;
        if !matches!(
            criteria.sort_by,
            SortField::CreatedAt | SortField::UpdatedAt | SortField::LastLoginAt | SortField::Id
        ) {
            return None;
        }
        let lowered = |term: &Option<String>| -> Option<Option<String>> {
            match term {
                None => Some(None),
                Some(t) if t.is_ascii() => Some(Some(t.to_ascii_lowercase())),
                Some(_) => None,
            }
        };
        let mut texts = Vec::new();
        for (term, column) in [
            (&criteria.query, None),
            (&criteria.first_name, Some(Column::FirstName)),
            (&criteria.last_name, Some(Column::LastName)),
            (&criteria.email, Some(Column::Email)),
            (&criteria.phone, Some(Column::Phone)),
            (&criteria.company_name, Some(Column::CompanyName)),
        ] {
            if let Some(term) = lowered(term)? {
                texts.push(TextFilter { term, column });
            }
        }
        let city = lowered(&criteria.city)?.map(|t| self.cities.containing(&t));
        let state = lowered(&criteria.state)?.map(|t| self.states.containing(&t));
        let country = lowered(&criteria.country)?.map(|t| self.countries.containing(&t));
        let empty = || {
            Some(Hits {
                page: Vec::new(),
                total: 0,
            })
        };
        // No stored value contains the separator: a term holding it matches nothing.
        if texts.iter().any(|f| f.term.as_bytes().contains(&SEPARATOR)) {
            return empty();
        }
        let language = match &criteria.preferred_language {
            None => None,
            Some(tag) => match self
                .languages
                .ids
                .get(tag.as_str().to_ascii_lowercase().as_str())
            {
                Some(id) => Some(*id),
                None => return empty(),
            },
        };
        let mut tags = Vec::new();
        for tag in criteria.tags.iter().flat_map(|t| t.as_slice()) {
            match self.tags.ids.get(tag.as_str()) {
                Some(id) => tags.push(*id),
                None => return empty(),
            }
        }

        // A remembered term is a bitmap of its exact matches; the others are narrowed by
        // their trigrams and checked on each candidate's text.
        let mut exact: Vec<Arc<RoaringBitmap>> = Vec::new();
        let mut checked: Vec<&TextFilter> = Vec::new();
        for filter in &texts {
            match self.exact_matches(filter) {
                Some(slots) => exact.push(slots),
                None => checked.push(filter),
            }
        }

        // The candidates: the smallest bitmaps first, each intersection only shrinks; none
        // is copied but the first intersection. Every bitmap here is exact but the
        // trigrams'.
        let mut narrowing: Vec<Cow<'_, RoaringBitmap>> =
            exact.iter().map(|slots| Cow::Borrowed(&**slots)).collect();
        for filter in &checked {
            for gram in trigrams(filter.term.as_bytes()) {
                match self.grams.get(&gram) {
                    Some(slots) => narrowing.push(Cow::Borrowed(slots)),
                    None => return empty(),
                }
            }
        }
        for (values, ids) in [
            (&self.cities, &city),
            (&self.states, &state),
            (&self.countries, &country),
        ] {
            if let Some(ids) = ids {
                narrowing.push(values.slots_of(ids));
            }
        }
        if let Some(id) = language {
            narrowing.push(Cow::Borrowed(&self.languages.slots[id as usize]));
        }
        for id in &tags {
            narrowing.push(Cow::Borrowed(&self.tags.slots[*id as usize]));
        }
        for (wanted, set, unset) in [
            (criteria.is_active, ACTIVE, INACTIVE),
            (criteria.is_verified, VERIFIED, UNVERIFIED),
        ] {
            if let Some(wanted) = wanted {
                narrowing.push(Cow::Borrowed(&self.flags[if wanted { set } else { unset }]));
            }
        }
        narrowing.sort_by_key(|slots| slots.len());
        let sets: Vec<&RoaringBitmap> = narrowing.iter().map(AsRef::as_ref).collect();

        // What the bitmaps do not answer: the dates (unless every customer meets them) and
        // the text of the terms not remembered.
        let finders: Vec<(memmem::Finder<'_>, Option<Column>)> = checked
            .iter()
            .map(|f| (memmem::Finder::new(f.term.as_bytes()), f.column))
            .collect();
        let (earliest, latest) = self.created_range.unwrap_or((i64::MAX, i64::MIN));
        let after = criteria.created_after.map(micros).filter(|t| *t > earliest);
        let before = criteria.created_before.map(micros).filter(|t| *t < latest);
        let offset = usize::try_from(criteria.page.offset).unwrap_or(usize::MAX);
        let wanted = offset.saturating_add(criteria.page.limit as usize);
        if finders.is_empty()
            && after.is_none()
            && before.is_none()
            && criteria.sort_by == SortField::CreatedAt
        {
            // Counted and walked without building the intersection of the two largest.
            let total = intersection_len(&self.live, &sets);
            let budget = usize::try_from(total).unwrap_or(usize::MAX);
            if let Some(slots) = self.walk_created(&sets, criteria.sort_order, wanted, budget) {
                return Some(Hits {
                    page: slots
                        .iter()
                        .skip(offset)
                        .map(|slot| {
                            let keys = &self.keys[*slot as usize];
                            (keys.id, keys.version)
                        })
                        .collect(),
                    total,
                });
            }
        }
        let candidates = intersection(&self.live, &sets);
        let kept = |keys: &Keys| {
            after.is_none_or(|t| keys.created_at >= t)
                && before.is_none_or(|t| keys.created_at <= t)
        };
        let found_in = |slot: u32| {
            finders.is_empty()
                || self.docs[slot as usize].as_ref().is_some_and(|doc| {
                    finders.iter().all(|(finder, column)| {
                        doc.haystack(*column)
                            .is_some_and(|text| finder.find(text).is_some())
                    })
                })
        };
        let mut found: Vec<(Rank, u32)> = candidates
            .iter()
            .filter(|&slot| kept(&self.keys[slot as usize]) && found_in(slot))
            .map(|slot| {
                let keys = &self.keys[slot as usize];
                (rank(keys, criteria.sort_by, criteria.sort_order), slot)
            })
            .collect();
        let total = found.len() as u64;
        if offset >= found.len() {
            return Some(Hits {
                page: Vec::new(),
                total,
            });
        }
        let end = wanted.min(found.len());
        // Ranks are distinct (they end with the id): an unstable sort is the order.
        if end < found.len() {
            found.select_nth_unstable(end - 1);
        }
        found.truncate(end);
        found.sort_unstable();
        Some(Hits {
            page: found[offset..]
                .iter()
                .map(|(_, slot)| {
                    let keys = &self.keys[*slot as usize];
                    (keys.id, keys.version)
                })
                .collect(),
            total,
        })
    }

    /// The first `wanted` customers in every one of `matches` (all of them when there is
    /// none), in `created_at` order (then `id`, both in `order`), walking every customer in
    /// that order; `None` once that took `budget` steps (ranking every match is then
    /// cheaper).
    fn walk_created(
        &self,
        matches: &[&RoaringBitmap],
        order: SortOrder,
        wanted: usize,
        budget: usize,
    ) -> Option<Vec<u32>> {
        let mut found = Vec::with_capacity(wanted.min(1024));
        if wanted == 0 || budget == 0 {
            return Some(found);
        }
        let all: Box<dyn Iterator<Item = &(i64, i64, u32)>> = match order {
            SortOrder::Asc => Box::new(self.by_created.iter()),
            SortOrder::Desc => Box::new(self.by_created.iter().rev()),
        };
        for (step, (_, _, slot)) in all.enumerate() {
            if step >= budget {
                return None;
            }
            if matches.iter().all(|set| set.contains(*slot)) {
                found.push(*slot);
                if found.len() == wanted {
                    break;
                }
            }
        }
        Some(found)
    }

    /// The exact matches of a term whose trigrams leave many candidates: remembered, or
    /// found now by checking every candidate and remembered from now on. `None` for a term
    /// with few candidates, checked in each search instead.
    fn exact_matches(&self, filter: &TextFilter) -> Option<Arc<RoaringBitmap>> {
        let key: TermKey = (filter.column, filter.term.as_str().into());
        {
            let mut remembered = self
                .remembered
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(known) = remembered.get_mut(&key) {
                known.uses = known.uses.saturating_add(1);
                return Some(Arc::clone(&known.slots));
            }
        }
        let grams = trigrams(filter.term.as_bytes());
        let mut narrowing = Vec::with_capacity(grams.len());
        for gram in &grams {
            narrowing.push(self.grams.get(gram)?);
        }
        narrowing.sort_by_key(|slots| slots.len());
        let candidates = intersection(&self.live, &narrowing);
        if candidates.len() < self.remember_from {
            return None;
        }
        let finder = memmem::Finder::new(filter.term.as_bytes()).into_owned();
        let slots = Arc::new(
            candidates
                .iter()
                .filter(|&slot| {
                    self.docs[slot as usize].as_ref().is_some_and(|doc| {
                        doc.haystack(filter.column)
                            .is_some_and(|text| finder.find(text).is_some())
                    })
                })
                .collect::<RoaringBitmap>(),
        );
        let mut remembered = self
            .remembered
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if remembered.len() >= REMEMBERED_TERMS && !remembered.contains_key(&key) {
            let least = remembered
                .iter()
                .min_by_key(|(_, r)| r.uses)
                .map(|(key, _)| key.clone());
            if let Some(least) = least {
                remembered.remove(&least);
            }
            for r in remembered.values_mut() {
                r.uses /= 2;
            }
        }
        remembered.insert(
            key,
            Remembered {
                slots: Arc::clone(&slots),
                finder,
                uses: 1,
            },
        );
        Some(slots)
    }
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
