//! `search`: every filter, literal wildcards, tags semantics, and the total.

mod cache;
mod filters;
mod language;
mod text;
mod totals;

use domain::{Customer, CustomerDraft, CustomerSearch, SearchCriteria, SortField, SortOrder};

use crate::support::{Ctx, draft, ids, insert};

/// The ids of the matches, by id.
pub async fn matching(t: &Ctx, criteria: SearchCriteria) -> Vec<i64> {
    let criteria = SearchCriteria {
        sort_by: SortField::Id,
        sort_order: SortOrder::Asc,
        ..criteria
    };
    let result = t.repo.search(&criteria).await.unwrap();
    assert_eq!(
        result.total,
        result.customers.len() as u64,
        "whole result fits the page"
    );
    ids(&result.customers)
}

/// Free-text criteria.
pub fn query(text: &str) -> SearchCriteria {
    SearchCriteria {
        query: Some(text.into()),
        ..SearchCriteria::default()
    }
}

/// Inserts a customer after `edit` adjusts its draft.
pub async fn with(
    t: &Ctx,
    first: &str,
    last: &str,
    email: &str,
    edit: impl FnOnce(&mut CustomerDraft),
) -> Customer {
    let mut new = draft(first, last, email);
    edit(&mut new);
    insert(&t.repo, &new).await
}
