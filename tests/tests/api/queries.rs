//! Listing, search, tags, locations and statistics.

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, validation_locs};

async fn populate(app: &TestApp) -> Vec<Value> {
    let people = [
        (
            "John",
            "Doe",
            "USA",
            "New York",
            "NY",
            "premium,tech",
            "male",
            "1990-01-15",
        ),
        (
            "Jane",
            "Doe",
            "USA",
            "New York",
            "NY",
            "premium",
            "female",
            "1985-06-01",
        ),
        (
            "Johnny",
            "Cash",
            "USA",
            "Nashville",
            "TN",
            "music,premium-plus",
            "male",
            "1932-02-26",
        ),
        (
            "Ann",
            "Lee",
            "Canada",
            "Toronto",
            "ON",
            "tech",
            "female",
            "2000-03-03",
        ),
        (
            "Percy",
            "100% Real_Name",
            "UK",
            "London",
            "",
            "",
            "other",
            "",
        ),
    ];
    let mut created = Vec::new();
    for (i, (first, last, country, city, state, tags, gender, dob)) in
        people.into_iter().enumerate()
    {
        let mut body = json!({
            "first_name": first, "last_name": last, "email": format!("person{i}@example.com"),
            "country": country, "city": city, "state": state, "tags": tags, "gender": gender,
            "company_name": if i % 2 == 0 { "Tech Corp" } else { "Other Inc" },
        });
        if !dob.is_empty() {
            body["date_of_birth"] = json!(dob);
        }
        created.push(app.create(&body).await);
    }
    created
}

fn ids(page: &Value) -> Vec<String> {
    page["customers"]
        .as_array()
        .unwrap_or_else(|| panic!("customers list: {page}"))
        .iter()
        .map(|c| c["customer_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn list_returns_the_envelope_with_total_page_and_filter() {
    let app = spawn_app().await;
    let created = populate(&app).await;
    app.delete(&format!("/{}", created[0]["customer_id"].as_str().unwrap()))
        .await;

    let (status, page) = app.get("/?skip=0&limit=100&is_active=true").await;
    assert_eq!(status, 200);
    assert_eq!(page["total"], 4);
    assert_eq!(page["page"], 1);
    assert_eq!(page["limit"], 100);
    assert_eq!(page["total_pages"], 1);
    assert_eq!(ids(&page).len(), 4);

    let (_, page) = app.get("/?skip=2&limit=2").await;
    assert_eq!(page["total"], 5);
    assert_eq!(page["page"], 2);
    assert_eq!(page["total_pages"], 3);
    assert_eq!(ids(&page).len(), 2);

    let (_, page) = app.get("/?skip=50&limit=10").await;
    assert_eq!((page["total"].as_u64(), ids(&page).len()), (Some(5), 0));
}

#[tokio::test]
async fn list_follows_its_cursor_through_every_customer_once() {
    let app = spawn_app().await;
    let created = populate(&app).await;
    let mut seen = Vec::new();
    let (status, mut page) = app.get("/?limit=2").await;
    assert_eq!(status, 200);
    loop {
        seen.extend(ids(&page));
        let Some(cursor) = page["next_cursor"].as_str().map(str::to_owned) else {
            break;
        };
        let (status, next) = app.get(&format!("/?limit=2&cursor={cursor}")).await;
        assert_eq!(status, 200, "{next}");
        page = next;
    }
    let expected: Vec<String> = created
        .iter()
        .map(|c| c["customer_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn list_rejects_out_of_range_paging_with_422() {
    let app = spawn_app().await;
    for query in [
        "limit=0",
        "limit=1001",
        "skip=-1",
        "limit=abc",
        "skip=99999999999999999999999",
        "cursor=bogus",
        "is_active=maybe",
    ] {
        let (status, body) = app.get(&format!("/?{query}")).await;
        assert_eq!(status, 422, "{query}: {body}");
        let locs = validation_locs(&body);
        assert_eq!(locs[0][0], "query", "{query}: {locs:?}");
    }
}

#[tokio::test]
async fn search_combines_text_and_filters_sorts_and_pages() {
    let app = spawn_app().await;
    populate(&app).await;
    let (status, res) = app
        .post("/search", &json!({"query": "john", "country": "usa", "sort_by": "first_name", "sort_order": "asc"}))
        .await;
    assert_eq!(status, 200, "{res}");
    let names: Vec<&str> = res["customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["first_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["John", "Johnny"]);
    assert_eq!(
        (
            res["total"].as_u64(),
            res["page"].as_u64(),
            res["limit"].as_u64(),
            res["total_pages"].as_u64()
        ),
        (Some(2), Some(1), Some(10), Some(1))
    );

    let (_, res) = app
        .post(
            "/search",
            &json!({"tags": "premium", "sort_by": "last_name"}),
        )
        .await;
    assert_eq!(res["total"], 2, "premium-plus is another tag: {res}");

    let (_, res) = app.post("/search", &json!({"query": "100%"})).await;
    assert_eq!(res["total"], 1, "% is literal");
    let (_, res) = app.post("/search", &json!({"query": "l_"})).await;
    assert_eq!(res["total"], 1, "_ is literal: {res}");

    let (_, res) = app.post("/search", &json!({"limit": 2, "page": 3})).await;
    assert_eq!(
        (
            res["total"].as_u64(),
            res["total_pages"].as_u64(),
            ids(&res).len()
        ),
        (Some(5), Some(3), 1)
    );

    let (_, res) = app.post("/search", &json!({"created_after": "2000-01-01T00:00:00Z", "created_before": "2999-01-01T00:00:00Z", "is_active": true, "is_verified": false})).await;
    assert_eq!(res["total"], 5);
    let (_, res) = app
        .post(
            "/search",
            &json!({"created_before": "2000-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(res["total"], 0);
}

#[tokio::test]
async fn search_rejects_unknown_sort_and_out_of_range_paging() {
    let app = spawn_app().await;
    for body in [
        json!({"sort_by": "password"}),
        json!({"sort_order": "sideways"}),
        json!({"limit": 101}),
        json!({"page": 0}),
        json!({"page": "one"}),
    ] {
        let (status, res) = app.post("/search", &body).await;
        assert_eq!(status, 422, "{body}: {res}");
        validation_locs(&res);
    }
}

#[tokio::test]
async fn tags_endpoint_returns_customers_with_every_tag() {
    let app = spawn_app().await;
    populate(&app).await;
    let (status, res) = app.get("/tags/premium,tech").await;
    assert_eq!(status, 200, "{res}");
    assert_eq!(res["tags"], json!(["premium", "tech"]));
    assert_eq!(res["customers"].as_array().unwrap().len(), 1);
    let (_, res) = app.get("/tags/premium").await;
    assert_eq!(res["customers"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn location_search_and_available_locations_count_customers() {
    let app = spawn_app().await;
    populate(&app).await;
    let (status, res) = app
        .get("/location/search?city=New%20York&country=USA")
        .await;
    assert_eq!(status, 200, "{res}");
    assert_eq!(res["customers"].as_array().unwrap().len(), 2);
    assert_eq!(res["filters"]["city"], "New York");

    let (status, res) = app.get("/available/countries").await;
    assert_eq!(status, 200);
    assert_eq!(res["countries"][0], json!({"country": "USA", "count": 3}));
    assert_eq!(res["countries"].as_array().unwrap().len(), 3);
    let (_, res) = app.get("/available/cities?country=USA").await;
    assert_eq!(res["cities"][0], json!({"city": "New York", "count": 2}));
    assert_eq!(res["cities"].as_array().unwrap().len(), 2);
    let (_, res) = app.get("/available/states?country=USA").await;
    assert_eq!(res["states"][0], json!({"state": "NY", "count": 2}));
}

#[tokio::test]
async fn statistics_overview_has_the_contracts_shape_and_counts() {
    let app = spawn_app().await;
    let created = populate(&app).await;
    app.delete(&format!("/{}", created[1]["customer_id"].as_str().unwrap()))
        .await;
    app.patch(&format!(
        "/{}/verify-email",
        created[2]["customer_id"].as_str().unwrap()
    ))
    .await;
    let (status, s) = app.get("/statistics/overview").await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["total_customers"], 5);
    assert_eq!(s["active_customers"], 4);
    assert_eq!(s["new_customers_today"], 5);
    assert_eq!(s["new_customers_this_week"], 5);
    assert_eq!(s["new_customers_this_month"], 5);
    assert!(s["verified_customers"].is_u64());
    assert_eq!(
        s["customers_by_country"],
        json!({"USA": 3, "Canada": 1, "UK": 1})
    );
    assert_eq!(s["customers_by_city"]["New York"], 2);
    assert_eq!(
        s["gender_distribution"],
        json!({"male": 2, "female": 2, "other": 1})
    );
    let age = s["average_customer_age"].as_f64().unwrap();
    assert!((40.0..70.0).contains(&age), "{age}");
}
