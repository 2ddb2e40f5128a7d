//! Finding one customer, and which usernames are taken.

use domain::{CustomerId, CustomerReads, CustomerStore};

use crate::support::{ctx, draft, insert, person};

#[tokio::test]
async fn find_by_customer_id_returns_the_customer_or_none() {
    let t = ctx().await;
    let john = person(&t.repo, "John", "Doe").await;
    assert_eq!(
        t.repo.find_by_customer_id(&john.customer_id).await.unwrap(),
        Some(john)
    );
    let missing = CustomerId::parse("CUST_FFFFFFFF").unwrap();
    assert_eq!(t.repo.find_by_customer_id(&missing).await.unwrap(), None);
}

#[tokio::test]
async fn find_by_username_returns_the_customer_or_none() {
    let t = ctx().await;
    let john = person(&t.repo, "John", "Doe").await;
    assert_eq!(
        t.repo
            .find_by_username(john.username.as_str())
            .await
            .unwrap(),
        Some(john)
    );
    assert_eq!(t.repo.find_by_username("nobody").await.unwrap(), None);
}

#[tokio::test]
async fn find_by_email_ignores_letter_case() {
    let t = ctx().await;
    let john = insert(&t.repo, &draft("John", "Doe", "John.Doe@Example.com")).await;
    for query in [
        "John.Doe@Example.com",
        "john.doe@example.com",
        "JOHN.DOE@EXAMPLE.COM",
    ] {
        assert_eq!(
            t.repo.find_by_email(query).await.unwrap().as_ref(),
            Some(&john),
            "{query}"
        );
    }
    assert_eq!(
        t.repo.find_by_email("john@example.com").await.unwrap(),
        None
    );
}

#[tokio::test]
async fn taken_usernames_are_exactly_the_candidates_that_exist() {
    let t = ctx().await;
    let a = person(&t.repo, "Ann", "Lee").await;
    let b = person(&t.repo, "Bob", "Lee").await;
    let candidates = vec![
        a.username.to_string(),
        "free1".to_owned(),
        b.username.to_string(),
        "free2".to_owned(),
    ];
    let mut taken = t.repo.taken_usernames(&candidates).await.unwrap();
    taken.sort();
    let mut expected = vec![a.username.to_string(), b.username.to_string()];
    expected.sort();
    assert_eq!(taken, expected);
    assert!(t.repo.taken_usernames(&[]).await.unwrap().is_empty());
}

#[tokio::test]
async fn ping_succeeds_when_the_database_answers() {
    let t = ctx().await;
    t.repo.ping().await.unwrap();
}
