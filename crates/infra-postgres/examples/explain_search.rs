//! Prints the SQL diesel generates for a search and PostgreSQL's `EXPLAIN (ANALYZE,
//! BUFFERS)` of its page and total queries, against an existing database:
//!
//! ```text
//! cargo run -p infra-postgres --example explain_search -- \
//!     postgres://postgres@127.0.0.1:5432/cust_explain_1m john usa
//! ```
//!
//! (`customer-api seed --count 1000000` fills a database with a million customers; `make
//! bench` keeps one as `customer_api_bench`.) The session plans with the service's default
//! `random_page_cost` of 1.1.

use std::process::ExitCode;

use domain::{SearchCriteria, SortField, SortOrder};
use infra_postgres::explain_search;
use infra_postgres::{PoolSettings, build_pool};

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, query, rest @ ..] = args.as_slice() else {
        eprintln!("usage: explain_search DATABASE_URL QUERY [COUNTRY]");
        return ExitCode::FAILURE;
    };
    let criteria = SearchCriteria {
        query: Some(query.clone()),
        country: rest.first().cloned(),
        sort_by: SortField::CreatedAt,
        sort_order: SortOrder::Desc,
        page: SearchCriteria::page_of(1, 10).unwrap_or_default(),
        ..SearchCriteria::default()
    };
    let settings = PoolSettings {
        random_page_cost: Some(1.1),
        ..PoolSettings::for_url(url.as_str())
    };
    let pool = match build_pool(&settings) {
        Ok(pool) => pool,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::FAILURE;
        }
    };
    match explain_search(&pool, &criteria).await {
        Ok(plans) => {
            println!("-- page\n{}\n", plans.page_sql);
            println!("{}\n", plans.page_plan.join("\n"));
            println!("-- total\n{}\n", plans.count_sql);
            println!("{}", plans.count_plan.join("\n"));
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("{err}");
            ExitCode::FAILURE
        }
    }
}
