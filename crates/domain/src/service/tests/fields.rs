//! Every field of a create and an update: trimmed, typed and carried to the repository, blank
//! values dropped or cleared, each length limit exact (at the limit accepted, one past it
//! refused), fields that may not be cleared named.

use chrono::NaiveDate;
use mockall::predicate::always;

use super::*;
use crate::models::{CustomerDraft, Email, Gender, LanguageTag, Phone};

fn birth() -> chrono::NaiveDateTime {
    NaiveDate::from_ymd_opt(1990, 1, 15)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
}

/// A repository that accepts one insert of exactly this draft.
fn expecting_draft(draft: CustomerDraft) -> Mocks {
    let mut repo = Mocks::default();
    every_username_free(&mut repo.store);
    repo.store
        .expect_insert()
        .with(always(), always(), eq(draft))
        .times(1)
        .returning(|id, u, d| Ok(stored(id, u, d)));
    repo
}

/// A repository that accepts one update of exactly these changes.
fn expecting_changes(changes: CustomerChanges) -> Mocks {
    let mut repo = Mocks::default();
    repo.store
        .expect_update()
        .with(always(), eq(changes), eq(Precondition::Any))
        .times(1)
        .returning(|_, _, _| Ok(Written::Done(crate::fixtures::john_doe())));
    repo
}

fn padded(s: &str) -> String {
    format!("  {s}\t")
}

#[tokio::test]
async fn create_carries_every_field_trimmed_and_typed() {
    let input = NewCustomer {
        first_name: padded("John"),
        last_name: padded("Doe"),
        email: padded("John.Doe@Example.com"),
        phone: Some(padded("+1-555-0123")),
        address_line1: Some(padded("123 Main Street")),
        address_line2: Some(padded("Apt 4")),
        city: Some(padded("New York")),
        state: Some(padded("NY")),
        postal_code: Some(padded("10001")),
        country: Some(padded("USA")),
        date_of_birth: Some(birth()),
        gender: Some(padded("Prefer_Not_To_Say")),
        company_name: Some(padded("Tech Corp")),
        tax_id: Some(padded("12-3456789")),
        preferred_language: Some(padded("pt-br")),
        marketing_emails: Some(false),
        marketing_sms: Some(true),
        notes: Some(padded("line one\nline two")),
        tags: Some(padded("Premium, tech")),
    };
    let draft = CustomerDraft {
        first_name: "John".into(),
        last_name: "Doe".into(),
        email: Email::parse("John.Doe@Example.com").unwrap(),
        phone: Some(Phone::parse("+1-555-0123").unwrap()),
        address_line1: Some("123 Main Street".into()),
        address_line2: Some("Apt 4".into()),
        city: Some("New York".into()),
        state: Some("NY".into()),
        postal_code: Some("10001".into()),
        country: Some("USA".into()),
        date_of_birth: Some(birth()),
        gender: Some(Gender::PreferNotToSay),
        company_name: Some("Tech Corp".into()),
        tax_id: Some("12-3456789".into()),
        preferred_language: Some(LanguageTag::parse("pt-BR").unwrap()),
        marketing_emails: false,
        marketing_sms: true,
        notes: Some("line one\nline two".into()),
        tags: Tags::parse("premium,tech").unwrap(),
    };
    service(expecting_draft(draft)).create(input).await.unwrap();
}

#[tokio::test]
async fn create_drops_blank_optional_fields_and_applies_the_defaults() {
    let blank = || Some(" \t ".to_owned());
    let input = NewCustomer {
        first_name: "John".into(),
        last_name: "Doe".into(),
        email: "john@example.com".into(),
        phone: blank(),
        address_line1: blank(),
        address_line2: blank(),
        city: blank(),
        state: blank(),
        postal_code: blank(),
        country: blank(),
        date_of_birth: None,
        gender: blank(),
        company_name: blank(),
        tax_id: blank(),
        preferred_language: blank(),
        marketing_emails: None,
        marketing_sms: None,
        notes: blank(),
        tags: blank(),
    };
    // No optional field, and the defaults (marketing emails on, SMS off, no tags).
    let draft = crate::fixtures::draft("John", "Doe", "john@example.com");
    service(expecting_draft(draft)).create(input).await.unwrap();
}

/// Every text field with its limit in characters.
const TEXT_LIMITS: [(&str, usize); 11] = [
    ("first_name", 100),
    ("last_name", 100),
    ("address_line1", 255),
    ("address_line2", 255),
    ("city", 100),
    ("state", 100),
    ("postal_code", 20),
    ("country", 100),
    ("company_name", 255),
    ("tax_id", 50),
    ("notes", 10_000),
];

/// `john()` with `field` set to `value`.
fn new_customer_with(field: &str, value: String) -> NewCustomer {
    let mut c = john();
    let slot = match field {
        "first_name" => {
            c.first_name = value;
            return c;
        }
        "last_name" => {
            c.last_name = value;
            return c;
        }
        "address_line1" => &mut c.address_line1,
        "address_line2" => &mut c.address_line2,
        "city" => &mut c.city,
        "state" => &mut c.state,
        "postal_code" => &mut c.postal_code,
        "country" => &mut c.country,
        "company_name" => &mut c.company_name,
        "tax_id" => &mut c.tax_id,
        "notes" => &mut c.notes,
        other => panic!("no text field {other}"),
    };
    *slot = Some(value);
    c
}

/// An empty patch with `field` set to `value`.
fn patch_with(field: &str, value: String) -> CustomerPatch {
    let mut p = CustomerPatch::default();
    let slot = match field {
        "first_name" => &mut p.first_name,
        "last_name" => &mut p.last_name,
        "address_line1" => &mut p.address_line1,
        "address_line2" => &mut p.address_line2,
        "city" => &mut p.city,
        "state" => &mut p.state,
        "postal_code" => &mut p.postal_code,
        "country" => &mut p.country,
        "company_name" => &mut p.company_name,
        "tax_id" => &mut p.tax_id,
        "notes" => &mut p.notes,
        other => panic!("no text field {other}"),
    };
    *slot = Patch::Set(value);
    p
}

#[tokio::test]
async fn every_text_field_of_a_create_holds_its_limit_in_characters_and_no_more() {
    let mut repo = Mocks::default();
    every_username_free(&mut repo.store);
    repo.store
        .expect_insert()
        .times(TEXT_LIMITS.len())
        .returning(|id, u, d| Ok(stored(id, u, d)));
    let svc = service(repo);
    for (field, max) in TEXT_LIMITS {
        svc.create(new_customer_with(field, "é".repeat(max)))
            .await
            .unwrap_or_else(|e| panic!("{field} at {max}: {e}"));
        let got = violations(
            svc.create(new_customer_with(field, "é".repeat(max + 1)))
                .await
                .unwrap_err(),
        );
        assert_eq!(got, [(field.to_owned(), Rule::MaxLength(max))]);
    }
}

#[tokio::test]
async fn every_text_field_of_an_update_holds_its_limit_in_characters_and_no_more() {
    let mut repo = Mocks::default();
    repo.store
        .expect_update()
        .times(TEXT_LIMITS.len())
        .returning(|_, _, _| Ok(Written::Done(crate::fixtures::john_doe())));
    let svc = service(repo);
    for (field, max) in TEXT_LIMITS {
        svc.update(
            "CUST_A1B2C3D4",
            patch_with(field, "é".repeat(max)),
            Precondition::Any,
        )
        .await
        .unwrap_or_else(|e| panic!("{field} at {max}: {e}"));
        let got = violations(
            svc.update(
                "CUST_A1B2C3D4",
                patch_with(field, "é".repeat(max + 1)),
                Precondition::Any,
            )
            .await
            .unwrap_err(),
        );
        assert_eq!(got, [(field.to_owned(), Rule::MaxLength(max))]);
    }
}

#[tokio::test]
async fn every_text_field_refuses_control_characters_but_notes_allow_line_breaks() {
    let svc = service(Mocks::default());
    for (field, _) in TEXT_LIMITS {
        let bad = if field == "notes" { "a\0b" } else { "a\nb" };
        let got = violations(
            svc.create(new_customer_with(field, bad.into()))
                .await
                .unwrap_err(),
        );
        assert_eq!(got, [(field.to_owned(), Rule::ControlCharacters)]);
        let got = violations(
            svc.update(
                "CUST_A1B2C3D4",
                patch_with(field, bad.into()),
                Precondition::Any,
            )
            .await
            .unwrap_err(),
        );
        assert_eq!(got, [(field.to_owned(), Rule::ControlCharacters)]);
    }
}

#[tokio::test]
async fn a_date_of_birth_may_be_1900_01_01_or_now_but_not_a_moment_outside() {
    let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap();
    let midnight = earliest.and_hms_opt(0, 0, 0).unwrap();
    let second = chrono::Duration::seconds(1);
    let mut repo = Mocks::default();
    every_username_free(&mut repo.store);
    repo.store
        .expect_insert()
        .times(2)
        .returning(|id, u, d| Ok(stored(id, u, d)));
    repo.store
        .expect_update()
        .times(2)
        .returning(|_, _, _| Ok(Written::Done(crate::fixtures::john_doe())));
    let svc = service(repo);
    let create = |at| NewCustomer {
        date_of_birth: Some(at),
        ..john()
    };
    let update = |at| CustomerPatch {
        date_of_birth: Patch::Set(at),
        ..CustomerPatch::default()
    };
    for ok in [midnight, now().naive_utc()] {
        svc.create(create(ok)).await.unwrap();
        svc.update("CUST_A1B2C3D4", update(ok), Precondition::Any)
            .await
            .unwrap();
    }
    for (bad, rule) in [
        (midnight - second, Rule::BirthBefore(earliest)),
        (now().naive_utc() + second, Rule::BirthInFuture),
    ] {
        let expected = [("date_of_birth".to_owned(), rule)];
        assert_eq!(
            violations(svc.create(create(bad)).await.unwrap_err()),
            expected
        );
        assert_eq!(
            violations(
                svc.update("CUST_A1B2C3D4", update(bad), Precondition::Any)
                    .await
                    .unwrap_err()
            ),
            expected
        );
    }
}

#[tokio::test]
async fn update_carries_every_field_trimmed_and_typed() {
    let set = |s: &str| Patch::Set(padded(s));
    let patch = CustomerPatch {
        first_name: set("Jane"),
        last_name: set("Roe"),
        email: set("Jane.Roe@Example.com"),
        phone: set("+44 20 7946 0958"),
        address_line1: set("1 High Street"),
        address_line2: set("Flat 2"),
        city: set("London"),
        state: set("Greater London"),
        postal_code: set("SW1A 1AA"),
        country: set("UK"),
        date_of_birth: Patch::Set(birth()),
        gender: set("FEMALE"),
        company_name: set("Acme"),
        tax_id: set("GB123"),
        preferred_language: set("zh-hant-tw"),
        marketing_emails: Patch::Set(false),
        marketing_sms: Patch::Set(true),
        notes: set("a\tnote"),
        tags: set("VIP, vip, new"),
        is_active: Patch::Set(false),
        is_verified: Patch::Set(true),
        email_verified: Patch::Set(true),
        phone_verified: Patch::Set(false),
    };
    let text = |s: &str| Patch::Set(s.to_owned());
    let changes = CustomerChanges {
        first_name: Some("Jane".into()),
        last_name: Some("Roe".into()),
        email: Some(Email::parse("Jane.Roe@Example.com").unwrap()),
        phone: Patch::Set(Phone::parse("+44 20 7946 0958").unwrap()),
        address_line1: text("1 High Street"),
        address_line2: text("Flat 2"),
        city: text("London"),
        state: text("Greater London"),
        postal_code: text("SW1A 1AA"),
        country: text("UK"),
        date_of_birth: Patch::Set(birth()),
        gender: Patch::Set(Gender::Female),
        company_name: text("Acme"),
        tax_id: text("GB123"),
        preferred_language: Patch::Set(LanguageTag::parse("zh-Hant-TW").unwrap()),
        marketing_emails: Some(false),
        marketing_sms: Some(true),
        notes: text("a\tnote"),
        tags: Patch::Set(Tags::parse("vip,new").unwrap()),
        is_active: Some(false),
        is_verified: Some(true),
        email_verified: Some(true),
        phone_verified: Some(false),
    };
    let got = service(expecting_changes(changes))
        .update("CUST_A1B2C3D4", patch, Precondition::Any)
        .await
        .unwrap();
    assert_eq!(got, crate::fixtures::john_doe());
}

#[tokio::test]
async fn update_clears_every_optional_field_sent_blank_or_null() {
    let changes = CustomerChanges {
        phone: Patch::Clear,
        address_line1: Patch::Clear,
        address_line2: Patch::Clear,
        city: Patch::Clear,
        state: Patch::Clear,
        postal_code: Patch::Clear,
        country: Patch::Clear,
        date_of_birth: Patch::Clear,
        gender: Patch::Clear,
        company_name: Patch::Clear,
        tax_id: Patch::Clear,
        notes: Patch::Clear,
        tags: Patch::Clear,
        ..CustomerChanges::default()
    };
    let blank = || Patch::Set(" \t ".to_owned());
    let blanks = CustomerPatch {
        phone: blank(),
        address_line1: blank(),
        address_line2: blank(),
        city: blank(),
        state: blank(),
        postal_code: blank(),
        country: blank(),
        date_of_birth: Patch::Clear,
        gender: blank(),
        company_name: blank(),
        tax_id: blank(),
        notes: blank(),
        tags: blank(),
        ..CustomerPatch::default()
    };
    service(expecting_changes(changes.clone()))
        .update("CUST_A1B2C3D4", blanks, Precondition::Any)
        .await
        .unwrap();
    let nulls = CustomerPatch {
        phone: Patch::Clear,
        address_line1: Patch::Clear,
        address_line2: Patch::Clear,
        city: Patch::Clear,
        state: Patch::Clear,
        postal_code: Patch::Clear,
        country: Patch::Clear,
        date_of_birth: Patch::Clear,
        gender: Patch::Clear,
        company_name: Patch::Clear,
        tax_id: Patch::Clear,
        notes: Patch::Clear,
        tags: Patch::Clear,
        ..CustomerPatch::default()
    };
    service(expecting_changes(changes))
        .update("CUST_A1B2C3D4", nulls, Precondition::Any)
        .await
        .unwrap();
}

#[tokio::test]
async fn every_field_that_may_not_be_cleared_is_named_in_order() {
    let patch = CustomerPatch {
        first_name: Patch::Clear,
        last_name: Patch::Clear,
        email: Patch::Clear,
        marketing_emails: Patch::Clear,
        marketing_sms: Patch::Clear,
        is_active: Patch::Clear,
        is_verified: Patch::Clear,
        email_verified: Patch::Clear,
        phone_verified: Patch::Clear,
        ..CustomerPatch::default()
    };
    let got = violations(
        service(Mocks::default())
            .update("CUST_A1B2C3D4", patch, Precondition::Any)
            .await
            .unwrap_err(),
    );
    let expected: Vec<(String, Rule)> = [
        "first_name",
        "last_name",
        "email",
        "marketing_emails",
        "marketing_sms",
        "is_active",
        "is_verified",
        "email_verified",
        "phone_verified",
    ]
    .into_iter()
    .map(|f| (f.to_owned(), Rule::NotNull))
    .collect();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn a_blank_name_in_an_update_is_too_short_not_a_clear() {
    let patch = CustomerPatch {
        first_name: Patch::Set("  ".into()),
        last_name: Patch::Set("".into()),
        ..CustomerPatch::default()
    };
    let got = violations(
        service(Mocks::default())
            .update("CUST_A1B2C3D4", patch, Precondition::Any)
            .await
            .unwrap_err(),
    );
    assert_eq!(
        got,
        [
            ("first_name".to_owned(), Rule::MinLength(1)),
            ("last_name".to_owned(), Rule::MinLength(1)),
        ]
    );
}

#[tokio::test]
async fn update_validates_gender_and_tags() {
    let patch = CustomerPatch {
        gender: Patch::Set("robot".into()),
        tags: Patch::Set("x".repeat(51)),
        ..CustomerPatch::default()
    };
    let got = violations(
        service(Mocks::default())
            .update("CUST_A1B2C3D4", patch, Precondition::Any)
            .await
            .unwrap_err(),
    );
    assert_eq!(
        got,
        [
            ("gender".to_owned(), Rule::OneOf(Gender::NAMES)),
            ("tags".to_owned(), Rule::TagTooLong(50)),
        ]
    );
}

#[tokio::test]
async fn create_names_each_bad_field_with_its_rule_in_order() {
    let input = NewCustomer {
        first_name: "   ".into(),
        last_name: "x".repeat(101),
        email: "not-an-email".into(),
        phone: Some("call me".into()),
        gender: Some("robot".into()),
        tags: Some("x".repeat(51)),
        ..NewCustomer::default()
    };
    let got = violations(service(Mocks::default()).create(input).await.unwrap_err());
    assert_eq!(
        got,
        [
            ("first_name".to_owned(), Rule::MinLength(1)),
            ("last_name".to_owned(), Rule::MaxLength(100)),
            ("email".to_owned(), Rule::Email(EmailProblem::NoAtSign)),
            ("phone".to_owned(), Rule::PhoneCharacters),
            ("gender".to_owned(), Rule::OneOf(Gender::NAMES)),
            ("tags".to_owned(), Rule::TagTooLong(50)),
        ]
    );
}
