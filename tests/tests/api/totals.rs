//! A search's total is exact whenever at most `[search] exact_total_up_to` customers match,
//! on one node and on Citus (`make citus-test` runs this file too), checked against an
//! oracle: the customers the test created, matched in Rust by the contract's rules
//! (case-insensitive substrings). Above the bound the total is the count or an estimate
//! within a factor of 2, flagged.

use serde_json::{Value, json};

use crate::helpers::spawn_app_with;

const BOUND: u64 = 12;
const CUSTOMERS: usize = 90;
const SEARCHES: usize = 250;

const FIRST: [&str; 6] = ["Ann", "Anna", "Bob", "Bobby", "Cyd", "Dee"];
const LAST: [&str; 5] = ["Lee", "Leeds", "Kim", "Kimball", "Ng"];
const COMPANIES: [Option<&str>; 4] = [Some("Acme"), Some("Acme Labs"), Some("Globex"), None];
const COUNTRIES: [&str; 4] = ["Norway", "Chile", "Chad", "Japan"];
/// What the searches look for: names, fragments of them, of the emails and the companies.
const FRAGMENTS: [&str; 16] = [
    "ann", "an", "bob", "by", "cyd", "e", "lee", "kim", "ball", "ng", "acme", "labs", "glob",
    "example", "3@", "zzz",
];

/// A small deterministic generator (xorshift): the same searches on every run.
struct Draws(u64);

impl Draws {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        usize::try_from(self.0 % n as u64).unwrap()
    }
}

/// `needle` is a substring of `haystack`, case ignored.
fn contains(haystack: &str, needle: &str) -> bool {
    haystack.to_lowercase().contains(&needle.to_lowercase())
}

/// Whether `customer` matches `search` by the contract's rules: `query` a substring of any
/// of the names, the email, the username, the phone or the company; `country` and
/// `company_name` substrings of theirs.
fn matches(customer: &Value, search: &Value) -> bool {
    let text = |field: &str| customer[field].as_str().unwrap_or_default().to_owned();
    let query_ok = search["query"].as_str().is_none_or(|q| {
        [
            "first_name",
            "last_name",
            "email",
            "username",
            "phone",
            "company_name",
        ]
        .iter()
        .any(|field| contains(&text(field), q))
    });
    let country_ok = search["country"]
        .as_str()
        .is_none_or(|c| contains(&text("country"), c));
    let company_ok = search["company_name"]
        .as_str()
        .is_none_or(|c| contains(&text("company_name"), c));
    query_ok && country_ok && company_ok
}

#[tokio::test]
async fn search_totals_are_exact_up_to_the_bound_whatever_the_layout() {
    let bound = BOUND.to_string();
    let app = spawn_app_with(&[("APP__SEARCH__EXACT_TOTAL_UP_TO", bound.as_str())]).await;
    let mut draws = Draws(0x9e37_79b9_7f4a_7c15);
    let mut created = Vec::with_capacity(CUSTOMERS);
    for n in 0..CUSTOMERS {
        let mut body = json!({
            "first_name": FIRST[draws.below(FIRST.len())],
            "last_name": LAST[draws.below(LAST.len())],
            "email": format!("c{n}@example.com"),
            "country": COUNTRIES[draws.below(COUNTRIES.len())],
        });
        if let Some(company) = COMPANIES[draws.below(COMPANIES.len())] {
            body["company_name"] = json!(company);
        }
        created.push(app.create(&body).await);
    }

    let (mut exact, mut beyond) = (0, 0);
    for _ in 0..SEARCHES {
        let mut search = json!({"page": 1, "limit": 5});
        if draws.below(4) > 0 {
            search["query"] = json!(FRAGMENTS[draws.below(FRAGMENTS.len())]);
        }
        if draws.below(3) == 0 {
            search["country"] = json!(&COUNTRIES[draws.below(COUNTRIES.len())][..3]);
        }
        if draws.below(5) == 0 {
            search["company_name"] = json!("acme");
        }
        let truth = created.iter().filter(|c| matches(c, &search)).count() as u64;
        let (status, page) = app.post("/search", &search).await;
        assert_eq!(status, 200, "{search}: {page}");
        let (total, estimated) = (
            page["total"].as_u64().unwrap(),
            page["total_is_estimate"].as_bool().unwrap(),
        );
        if truth <= BOUND {
            exact += 1;
            assert_eq!((total, estimated), (truth, false), "{search}");
        } else {
            beyond += 1;
            assert!(total > BOUND, "{search}: {total} for {truth}");
            if estimated {
                assert!(
                    total * 2 >= truth && total <= truth * 2,
                    "{search}: estimated {total} for {truth}"
                );
            } else {
                assert_eq!(total, truth, "{search}");
            }
        }
    }
    // Both sides of the bound were asked about.
    assert!(exact > 50 && beyond > 50, "{exact} within, {beyond} beyond");
}
