//! Sorting: every allowed field in both orders, ties broken by id, missing values last.

use std::cmp::Ordering;

use chrono::{DateTime, SecondsFormat, Utc};
use domain::{
    Customer, CustomerReads, CustomerSearch, CustomerStore, Precondition, SearchCriteria,
    SortField, SortOrder,
};

use crate::support::{Ctx, Outcome, at, ctx, draft, ids, insert, set_created_at};

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// The value a field sorts by; `None` sorts last in both directions.
fn key(c: &Customer, field: SortField) -> Option<String> {
    match field {
        SortField::CreatedAt => Some(time(c.created_at)),
        SortField::UpdatedAt => Some(time(c.updated_at)),
        SortField::FirstName => Some(c.first_name.clone()),
        SortField::LastName => Some(c.last_name.clone()),
        SortField::Email => Some(c.email.to_string()),
        SortField::Username => Some(c.username.to_string()),
        SortField::CustomerId => Some(c.customer_id.to_string()),
        SortField::City => c.city.clone(),
        SortField::Country => c.country.clone(),
        SortField::LastLoginAt => c.last_login_at.map(time),
        SortField::Id => Some(String::new()),
    }
}

fn expected(customers: &[Customer], field: SortField, order: SortOrder) -> Vec<i64> {
    let mut sorted = customers.to_vec();
    let directed = |o: Ordering| match order {
        SortOrder::Asc => o,
        SortOrder::Desc => o.reverse(),
    };
    sorted.sort_by(|a, b| {
        let primary = match (key(a, field), key(b, field)) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(x), Some(y)) => directed(x.cmp(&y)),
        };
        primary.then_with(|| directed(a.id.cmp(&b.id)))
    });
    ids(&sorted)
}

/// Five customers with ties on first name, country, city (missing) and created_at.
async fn fixtures(t: &Ctx) -> Vec<Customer> {
    let rows = [
        (
            "Alpha",
            "Delta",
            "echo",
            Some("Boston"),
            Some("USA"),
            Some(3),
            4,
        ),
        ("Bravo", "Charlie", "alpha", None, Some("Canada"), None, 1),
        (
            "Bravo",
            "Alpha",
            "delta",
            Some("Austin"),
            Some("USA"),
            Some(1),
            1,
        ),
        (
            "Charlie",
            "Bravo",
            "bravo",
            Some("Chicago"),
            None,
            Some(2),
            2,
        ),
        ("Delta", "Echo", "charlie", None, None, None, 3),
    ];
    let mut stored = Vec::new();
    for (first, last, email, city, country, login_day, created_day) in rows {
        let mut new = draft(first, last, &format!("{email}@example.com"));
        new.city = city.map(Into::into);
        new.country = country.map(Into::into);
        let c = insert(&t.repo, &new).await;
        if let Some(day) = login_day {
            t.repo
                .record_login(&c.customer_id, at(2024, 5, day, 9), &Precondition::Any)
                .await
                .unwrap()
                .done();
        }
        set_created_at(&t.db, &c, at(2024, 1, created_day, 0)).await;
        stored.push(c.customer_id);
    }
    let mut customers = Vec::new();
    for id in &stored {
        customers.push(t.repo.find_by_customer_id(id).await.unwrap().unwrap());
    }
    customers
}

#[tokio::test]
async fn every_sort_field_orders_both_ways_with_ties_broken_by_id() {
    let t = ctx().await;
    let customers = fixtures(&t).await;
    for (field, name) in SortField::ALL {
        for order in [SortOrder::Asc, SortOrder::Desc] {
            let criteria = SearchCriteria {
                sort_by: field,
                sort_order: order,
                ..SearchCriteria::default()
            };
            let result = t.repo.search(&criteria).await.unwrap();
            assert_eq!(
                ids(&result.customers),
                expected(&customers, field, order),
                "sort_by {name} {order:?}"
            );
        }
    }
}

#[tokio::test]
async fn sorted_pages_do_not_overlap_when_values_tie() {
    let t = ctx().await;
    for i in 0..6 {
        let c = insert(
            &t.repo,
            &draft("Same", "Name", &format!("s{i}@example.com")),
        )
        .await;
        set_created_at(&t.db, &c, at(2024, 1, 1, 0)).await;
    }
    let mut seen = Vec::new();
    for offset in [0, 2, 4] {
        let criteria = SearchCriteria {
            sort_by: SortField::CreatedAt,
            sort_order: SortOrder::Desc,
            page: domain::PageRequest { offset, limit: 2 },
            ..SearchCriteria::default()
        };
        seen.extend(ids(&t.repo.search(&criteria).await.unwrap().customers));
    }
    let mut unique = seen.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), 6, "{seen:?}");
}
