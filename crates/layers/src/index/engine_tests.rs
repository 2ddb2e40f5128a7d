use std::cmp::Ordering;

use chrono::{TimeZone, Utc};
use domain::{LanguageTag, PageRequest, Tags};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + seconds, 0)
        .single()
        .unwrap_or_default()
}

fn document(id: i64, first: &str, last: &str) -> SearchDocument {
    SearchDocument {
        id,
        customer_id: format!("CUST_{id:08X}"),
        version: 1,
        text: format!(
            "{first}\u{1f}{last}\u{1f}{first}.{last}@example.com\u{1f}{first}{id}\u{1f}\u{1f}"
        ),
        has_phone: false,
        has_company: false,
        city: None,
        state: None,
        country: None,
        preferred_language: None,
        tags: Vec::new(),
        is_active: true,
        is_verified: false,
        created_at: at(id),
        updated_at: at(id),
        last_login_at: None,
    }
}

fn ids(hits: &Hits) -> Vec<i64> {
    hits.page.iter().map(|(id, _)| *id).collect()
}

fn criteria(query: &str) -> SearchCriteria {
    SearchCriteria {
        query: Some(query.to_owned()),
        page: PageRequest {
            offset: 0,
            limit: 10,
        },
        ..SearchCriteria::default()
    }
}

#[test]
fn a_term_matches_as_a_substring_anywhere_newest_first_with_the_count_of_all() {
    let mut engine = Engine::default();
    engine.put(document(1, "anna", "smith"));
    engine.put(document(2, "john", "smithers"));
    engine.put(document(3, "maria", "garcia"));
    let hits = engine.search(&criteria("SMITH")).unwrap();
    assert_eq!((ids(&hits), hits.total), (vec![2, 1], 2));
    // Shorter than a trigram: every customer is checked.
    assert_eq!(engine.search(&criteria("ia")).unwrap().total, 1);
    assert_eq!(engine.search(&criteria("")).unwrap().total, 3);
    assert_eq!(engine.search(&criteria("zzz")).unwrap().total, 0);
}

#[test]
fn a_term_never_matches_across_two_columns() {
    let mut engine = Engine::default();
    engine.put(document(1, "anna", "smith"));
    assert_eq!(
        engine.search(&criteria("anna\u{1f}smith")).unwrap().total,
        0
    );
    assert_eq!(engine.search(&criteria("annasmith")).unwrap().total, 0);
}

#[test]
fn a_column_filter_looks_only_in_its_column_and_never_in_a_missing_one() {
    let mut engine = Engine::default();
    engine.put(document(1, "anna", "smith"));
    let mut phone = document(2, "bob", "jones");
    phone.text = "bob\u{1f}jones\u{1f}bob@x.io\u{1f}bob2\u{1f}+15550100\u{1f}".into();
    phone.has_phone = true;
    engine.put(phone);
    let by = |f: fn(&mut SearchCriteria, String), term: &str| {
        let mut c = SearchCriteria::default();
        f(&mut c, term.to_owned());
        engine.search(&c).unwrap().total
    };
    assert_eq!(by(|c, t| c.first_name = Some(t), "smith"), 0);
    assert_eq!(by(|c, t| c.last_name = Some(t), "smith"), 1);
    assert_eq!(by(|c, t| c.email = Some(t), "anna.smith@"), 1);
    assert_eq!(by(|c, t| c.phone = Some(t), "555"), 1);
    // The empty term matches every phone there is, and no missing one.
    assert_eq!(by(|c, t| c.phone = Some(t), ""), 1);
    assert_eq!(by(|c, t| c.company_name = Some(t), ""), 0);
}

#[test]
fn searches_the_storage_orders_otherwise_are_declined() {
    let mut engine = Engine::default();
    engine.put(document(1, "anna", "smith"));
    let mut c = criteria("anna");
    c.sort_by = SortField::LastName;
    assert_eq!(engine.search(&c), None);
    assert_eq!(engine.search(&criteria("müller")), None);
    let c = SearchCriteria {
        city: Some("Zürich".into()),
        ..SearchCriteria::default()
    };
    assert_eq!(engine.search(&c), None);
}

#[test]
fn a_document_put_again_replaces_the_old_one_and_a_removed_one_is_gone() {
    let mut engine = Engine::default();
    engine.put(document(1, "anna", "smith"));
    let mut renamed = document(1, "anna", "jones");
    renamed.version = 2;
    engine.put(renamed);
    assert_eq!(engine.len(), 1);
    assert_eq!(engine.search(&criteria("smith")).unwrap().total, 0);
    assert_eq!(
        engine.search(&criteria("jones")).unwrap().page,
        vec![(1, 2)]
    );
    engine.remove("CUST_00000001");
    engine.remove("CUST_00000001");
    assert_eq!(engine.len(), 0);
    assert_eq!(engine.search(&criteria("anna")).unwrap().total, 0);
    // The slot is used again, with nothing of its last holder.
    engine.put(document(7, "maria", "garcia"));
    assert_eq!(engine.search(&criteria("anna")).unwrap().total, 0);
    assert_eq!(ids(&engine.search(&criteria("garcia")).unwrap()), vec![7]);
}

#[test]
fn pages_follow_one_another_without_overlap_and_past_the_end_are_empty() {
    let mut engine = Engine::default();
    for id in 1..=25 {
        engine.put(document(id, "anna", "smith"));
    }
    let page = |offset, order| {
        let mut c = criteria("anna");
        c.page = PageRequest { offset, limit: 10 };
        c.sort_order = order;
        let hits = engine.search(&c).unwrap();
        assert_eq!(hits.total, 25);
        ids(&hits)
    };
    assert_eq!(
        page(0, SortOrder::Desc),
        (16..=25).rev().collect::<Vec<_>>()
    );
    assert_eq!(page(20, SortOrder::Desc), (1..=5).rev().collect::<Vec<_>>());
    assert_eq!(page(10, SortOrder::Asc), (11..=20).collect::<Vec<_>>());
    assert_eq!(page(25, SortOrder::Asc), Vec::<i64>::new());
    assert_eq!(page(u64::MAX, SortOrder::Asc), Vec::<i64>::new());
}

/// Every filter and order the index serves, against the plainest reading of the rules:
/// the same answers for hundreds of random searches over random customers.
#[test]
fn random_searches_answer_what_checking_every_customer_answers() {
    random_searches_against(Engine::default());
}

/// The same with every term remembered (each has at least one candidate here), and the
/// remembered matches kept exact through removals and changes between the searches.
#[test]
fn random_searches_with_remembered_terms_answer_the_same() {
    let engine = random_searches_against(Engine::remembering_from(1));
    assert!(
        engine.remembered_terms() > 20,
        "{}",
        engine.remembered_terms()
    );
}

const NAMES: [&str; 6] = ["ann", "anna", "joHN", "li", "smith", "o'neil"];

fn random_searches_against(mut engine: Engine) -> Engine {
    const PLACES: [&str; 4] = ["usa", "uk", "south korea", "ukraine"];
    const TAGS: [&str; 3] = ["vip", "new", "b2b"];
    let mut rng = StdRng::seed_from_u64(7);
    let mut all = Vec::new();
    for id in 1..=400 {
        let pick =
            |rng: &mut StdRng, from: &[&str]| from[rng.random_range(0..from.len())].to_owned();
        let first = pick(&mut rng, &NAMES).to_lowercase();
        let last = pick(&mut rng, &NAMES).to_lowercase();
        let mut d = document(id, &first, &last);
        if rng.random_bool(0.5) {
            d.text = d.text.trim_end_matches('\u{1f}').to_owned()
                + "\u{1f}555"
                + &id.to_string()
                + "\u{1f}acme";
            d.has_phone = true;
            d.has_company = true;
        }
        d.country = rng.random_bool(0.8).then(|| pick(&mut rng, &PLACES));
        d.city = rng.random_bool(0.5).then(|| pick(&mut rng, &PLACES));
        d.preferred_language = rng.random_bool(0.3).then(|| "pt-br".to_owned());
        d.tags = TAGS
            .iter()
            .filter(|_| rng.random_bool(0.4))
            .map(|t| (*t).to_owned())
            .collect();
        d.is_active = rng.random_bool(0.7);
        d.is_verified = rng.random_bool(0.5);
        d.created_at = at(rng.random_range(0..50));
        d.updated_at = at(rng.random_range(0..50));
        d.last_login_at = rng.random_bool(0.5).then(|| at(rng.random_range(0..50)));
        engine.put(d.clone());
        all.push(d);
    }
    let mut nonempty = random_searches(&engine, &all, &mut rng);
    // Some go, some come back changed (their text too), then the same searches again.
    for id in (1..=400).step_by(7) {
        engine.remove(&format!("CUST_{id:08X}"));
        all.retain(|d| d.id != id);
    }
    for d in all.iter_mut().step_by(5) {
        d.is_active = !d.is_active;
        d.version = 2;
        d.text = d.text.replacen("ann", "bea", 1).replacen("smi", "smj", 1);
        engine.put(d.clone());
    }
    let mut rng = StdRng::seed_from_u64(7);
    nonempty += random_searches(&engine, &all, &mut rng);
    // The searches find something often enough to compare pages, not only empty ones.
    assert!(nonempty > 200, "{nonempty} of 400 searches found a page");
    engine
}

/// 200 random searches, each compared with [`plainly`]: how many found a page.
fn random_searches(engine: &Engine, all: &[SearchDocument], rng: &mut StdRng) -> usize {
    let mut nonempty = 0;
    for _ in 0..200 {
        let maybe = |rng: &mut StdRng, from: &[&str]| {
            rng.random_bool(0.4)
                .then(|| from[rng.random_range(0..from.len())].to_owned())
        };
        let fragment = |rng: &mut StdRng| {
            maybe(rng, &NAMES).map(|n| {
                let start = rng.random_range(0..n.len());
                n[start..].to_uppercase()
            })
        };
        let c = SearchCriteria {
            query: fragment(rng),
            first_name: fragment(rng),
            last_name: if rng.random_bool(0.2) {
                fragment(rng)
            } else {
                None
            },
            phone: rng.random_bool(0.1).then(|| "55".to_owned()),
            company_name: rng.random_bool(0.1).then(|| "AC".to_owned()),
            country: maybe(rng, &["US", "uk", "KOREA", ""]),
            city: if rng.random_bool(0.2) {
                maybe(rng, &["a", "uk"])
            } else {
                None
            },
            preferred_language: rng
                .random_bool(0.1)
                .then(|| LanguageTag::parse("pt-BR").unwrap_or_else(|_| unreachable!())),
            tags: rng
                .random_bool(0.2)
                .then(|| Tags::parse("vip").unwrap_or_default()),
            is_active: rng.random_bool(0.3).then(|| rng.random_bool(0.5)),
            is_verified: rng.random_bool(0.3).then(|| rng.random_bool(0.5)),
            created_after: rng.random_bool(0.2).then(|| at(rng.random_range(0..50))),
            created_before: rng.random_bool(0.2).then(|| at(rng.random_range(0..50))),
            sort_by: [
                SortField::CreatedAt,
                SortField::UpdatedAt,
                SortField::LastLoginAt,
                SortField::Id,
            ][rng.random_range(0..4)],
            sort_order: if rng.random_bool(0.5) {
                SortOrder::Asc
            } else {
                SortOrder::Desc
            },
            page: PageRequest {
                offset: rng.random_range(0..30),
                limit: rng.random_range(1..20),
            },
            ..SearchCriteria::default()
        };
        let hits = engine
            .search(&c)
            .unwrap_or_else(|| panic!("declined {c:?}"));
        assert_eq!(hits, plainly(all, &c), "{c:?}");
        nonempty += usize::from(!hits.page.is_empty());
    }
    nonempty
}

/// The rules read literally, one customer at a time.
fn plainly(all: &[SearchDocument], c: &SearchCriteria) -> Hits {
    let lower = |t: &Option<String>| t.as_ref().map(|t| t.to_lowercase());
    let column =
        |d: &SearchDocument, i: usize| d.text.split('\u{1f}').nth(i).unwrap_or("").to_owned();
    let has = |value: Option<String>, term: Option<String>| match term {
        None => true,
        Some(t) => value.is_some_and(|v| v.contains(&t)),
    };
    let mut found: Vec<&SearchDocument> = all
        .iter()
        .filter(|d| {
            has(Some(d.text.clone()), lower(&c.query))
                && has(Some(column(d, 0)), lower(&c.first_name))
                && has(Some(column(d, 1)), lower(&c.last_name))
                && has(d.has_phone.then(|| column(d, 4)), lower(&c.phone))
                && has(d.has_company.then(|| column(d, 5)), lower(&c.company_name))
                && has(d.country.clone(), lower(&c.country))
                && has(d.city.clone(), lower(&c.city))
                && c.preferred_language.as_ref().is_none_or(|l| {
                    d.preferred_language.as_deref() == Some(&l.as_str().to_lowercase())
                })
                && c.tags
                    .as_ref()
                    .is_none_or(|t| t.as_slice().iter().all(|t| d.tags.contains(t)))
                && c.is_active.is_none_or(|v| d.is_active == v)
                && c.is_verified.is_none_or(|v| d.is_verified == v)
                && c.created_after.is_none_or(|t| d.created_at >= t)
                && c.created_before.is_none_or(|t| d.created_at <= t)
        })
        .collect();
    let key = |d: &SearchDocument| match c.sort_by {
        SortField::UpdatedAt => Some(d.updated_at),
        SortField::LastLoginAt => d.last_login_at,
        SortField::Id => Some(at(d.id)),
        _ => Some(d.created_at),
    };
    found.sort_by(|a, b| {
        let (ka, kb) = (key(a), key(b));
        // Missing values last whichever the direction.
        match (ka.is_none(), kb.is_none()) {
            (false, true) => return Ordering::Less,
            (true, false) => return Ordering::Greater,
            _ => {}
        }
        let o = ka.cmp(&kb).then(a.id.cmp(&b.id));
        if c.sort_order == SortOrder::Desc {
            o.reverse()
        } else {
            o
        }
    });
    Hits {
        total: found.len() as u64,
        page: found
            .iter()
            .skip(c.page.offset as usize)
            .take(c.page.limit as usize)
            .map(|d| (d.id, d.version))
            .collect(),
    }
}

#[test]
fn at_most_so_many_terms_are_remembered_and_a_term_in_use_stays() {
    let mut engine = Engine::remembering_from(1);
    for id in 0..600 {
        engine.put(document(id, &format!("name{id:03}"), "smith"));
    }
    for round in 0..600 {
        // One term in every search, and a new one each time.
        assert_eq!(engine.search(&criteria("smith")).unwrap().total, 600);
        let hits = engine
            .search(&criteria(&format!("name{round:03}")))
            .unwrap();
        assert_eq!((ids(&hits), hits.total), (vec![round], 1));
    }
    assert_eq!(engine.remembered_terms(), REMEMBERED_TERMS);
    let key: TermKey = (None, "smith".into());
    assert!(engine.remembered.lock().unwrap().contains_key(&key));
    // Forgotten terms are found again all the same.
    assert_eq!(engine.search(&criteria("name000")).unwrap().total, 1);
}

#[test]
fn a_filter_far_rarer_than_the_others_is_looked_up_in_each_of_them() {
    let mut engine = Engine::default();
    let mut all = Vec::new();
    for id in 1..=2000 {
        let mut d = document(id, "ann", "lee");
        d.tags = if id % 97 == 0 {
            vec!["rare".to_owned()]
        } else {
            Vec::new()
        };
        d.country = (id % 2 == 0).then(|| "usa".to_owned());
        d.is_active = id % 3 != 0;
        engine.put(d.clone());
        all.push(d);
    }
    let c = SearchCriteria {
        tags: Some(Tags::parse("rare").unwrap_or_default()),
        country: Some("USA".to_owned()),
        is_active: Some(true),
        created_after: Some(at(5)),
        page: PageRequest {
            offset: 0,
            limit: 100,
        },
        ..SearchCriteria::default()
    };
    let hits = engine.search(&c).unwrap();
    assert_eq!(hits, plainly(&all, &c));
    assert_eq!(hits.total, 7, "{hits:?}");
}
