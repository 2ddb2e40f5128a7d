//! The preferred language: a BCP 47 tag, kept in canonical case, set, cleared, changed in
//! bulk and searched by exact match.

use super::*;
use crate::models::LanguageTag;

fn tag(raw: &str) -> LanguageTag {
    LanguageTag::parse(raw).unwrap()
}

#[tokio::test]
async fn a_new_customers_language_is_stored_in_canonical_case() {
    let mut repo = Mocks::default();
    every_username_free(&mut repo.store);
    repo.store
        .expect_insert()
        .withf(|_, _, draft| draft.preferred_language == Some(tag("zh-Hant-TW")))
        .times(1)
        .returning(|id, u, d| Ok(stored(id, u, d)));
    let input = NewCustomer {
        preferred_language: Some(" ZH-hant-tw ".into()),
        ..john()
    };
    service(repo).create(input).await.unwrap();
}

#[tokio::test]
async fn a_blank_language_is_no_language() {
    let mut repo = Mocks::default();
    every_username_free(&mut repo.store);
    repo.store
        .expect_insert()
        .withf(|_, _, draft| draft.preferred_language.is_none())
        .times(1)
        .returning(|id, u, d| Ok(stored(id, u, d)));
    let input = NewCustomer {
        preferred_language: Some("   ".into()),
        ..john()
    };
    service(repo).create(input).await.unwrap();
}

#[tokio::test]
async fn a_malformed_or_overlong_language_is_reported_with_the_other_violations() {
    for (raw, rule) in [
        ("en_US", Rule::LanguageTag),
        ("en--US", Rule::LanguageTag),
        ("e", Rule::LanguageTag),
        ("x".repeat(36).as_str(), Rule::MaxLength(35)),
    ] {
        let input = NewCustomer {
            first_name: "".into(),
            preferred_language: Some(raw.into()),
            ..john()
        };
        let got = violations(service(Mocks::default()).create(input).await.unwrap_err());
        assert_eq!(
            got,
            vec![
                ("first_name".into(), Rule::MinLength(1)),
                ("preferred_language".into(), rule)
            ],
            "{raw}"
        );
    }
}

#[tokio::test]
async fn an_update_sets_the_language_in_canonical_case_or_clears_it() {
    for (sent, expected) in [
        (Patch::Set("pt-br".to_owned()), Patch::Set(tag("pt-BR"))),
        (Patch::Clear, Patch::Clear),
        (Patch::Set(" ".to_owned()), Patch::Clear),
        (Patch::Keep, Patch::Keep),
    ] {
        let mut repo = Mocks::default();
        let want = expected.clone();
        repo.store
            .expect_update()
            .withf(move |_, changes, _| changes.preferred_language == want)
            .times(1)
            .returning(|_, _, _| Ok(Written::Done(crate::fixtures::john_doe())));
        let patch = CustomerPatch {
            preferred_language: sent,
            // Something to change even when the language is kept.
            city: Patch::Set("Lisbon".into()),
            ..CustomerPatch::default()
        };
        service(repo)
            .update("CUST_A1B2C3D4", patch, Precondition::Any)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn an_update_refuses_a_malformed_language() {
    let patch = CustomerPatch {
        preferred_language: Patch::Set("pt-BR-".into()),
        ..CustomerPatch::default()
    };
    let got = violations(
        service(Mocks::default())
            .update("CUST_A1B2C3D4", patch, Precondition::Any)
            .await
            .unwrap_err(),
    );
    assert_eq!(got, vec![("preferred_language".into(), Rule::LanguageTag)]);
}

#[tokio::test]
async fn a_bulk_update_may_set_the_language_and_locates_a_bad_one_under_updates() {
    let mut repo = Mocks::default();
    repo.store
        .expect_bulk_update()
        .withf(|_, changes| changes.preferred_language == Patch::Set(tag("fr-CA")))
        .times(1)
        .returning(|targets, _| Ok(all_changed(targets)));
    let changes = |raw: &str| BulkUpdate {
        customer_ids: vec!["CUST_A1B2C3D4".into()],
        updates: CustomerPatch {
            preferred_language: Patch::Set(raw.into()),
            ..CustomerPatch::default()
        },
        expected_versions: Default::default(),
    };
    let svc = service(repo);
    let report = svc.bulk_update(changes("FR-ca")).await.unwrap();
    assert_eq!(report.updated_count, 1);
    let got = violations(svc.bulk_update(changes("fr_CA")).await.unwrap_err());
    assert_eq!(
        got,
        vec![("updates.preferred_language".into(), Rule::LanguageTag)]
    );
}

#[tokio::test]
async fn a_search_passes_the_language_filter_on_unchanged() {
    let mut repo = Mocks::default();
    repo.search
        .expect_search()
        .withf(|c| c.preferred_language == Some(tag("sr-Latn")))
        .times(1)
        .returning(|_| Ok(CustomerPage::default()));
    let criteria = SearchCriteria {
        preferred_language: Some(tag("SR-latn")),
        ..SearchCriteria::default()
    };
    service(repo).search(criteria).await.unwrap();
}
