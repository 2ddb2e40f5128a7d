//! What the service's own stack can do: `GET /api/v1/customers/{customer_id}` and
//! `GET /api/v1/customers/email/{email}` with actix-web and tokio-postgres alone. The same
//! SQL as the service (the same columns, the same indexes), prepared once per connection,
//! and the same JSON (the same keys in the same order, the same value formats), with no
//! layers and no middleware: no request ids, metrics, security headers, ETag, auth or pool
//! checkout. `make bench` runs it beside the service and reports each lookup against it.
//!
//! Every connect and every lookup waits at most 5 s for the database.
//!
//! `DATABASE_URL`, `MINIMAL_PORT` (8090), `MINIMAL_WORKERS` (one per core) and
//! `MINIMAL_CONNECTIONS` (32, shared out between the workers) configure it.

use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::{App, HttpResponse, HttpServer, web};
use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::json;
use tokio_postgres::{Client, NoTls, Row, Statement};

/// The columns the service reads, in its order.
const COLUMNS: &str = "id, customer_id, username, first_name, last_name, email, phone, \
    address_line1, address_line2, city, state, postal_code, country, date_of_birth, gender, \
    company_name, tax_id, is_active, is_verified, email_verified, phone_verified, \
    marketing_emails, marketing_sms, notes, tags, created_at, updated_at, last_login_at, \
    preferred_language, version";

/// The longest a connect or a lookup may wait for the database.
const BOUND: std::time::Duration = std::time::Duration::from_secs(5);

/// One connection with both lookups prepared on it.
struct Connection {
    client: Client,
    by_id: Statement,
    by_email: Statement,
}

/// A worker's connections, taken in turn.
struct Connections {
    all: Vec<Connection>,
    next: AtomicUsize,
}

impl Connections {
    async fn open(url: String, count: usize) -> Result<Self, tokio_postgres::Error> {
        let mut all = Vec::with_capacity(count);
        for _ in 0..count {
            let mut config: tokio_postgres::Config = url.parse()?;
            config.connect_timeout(BOUND);
            let (client, connection) = config.connect(NoTls).await?;
            tokio::spawn(connection);
            let by_id = client
                .prepare(&format!(
                    "SELECT {COLUMNS} FROM customers \
                     WHERE customer_id = $1 AND erased_at IS NULL"
                ))
                .await?;
            let by_email = client
                .prepare(&format!(
                    "SELECT {COLUMNS} FROM customers \
                     WHERE lower(email) = lower($1) AND erased_at IS NULL"
                ))
                .await?;
            all.push(Connection {
                client,
                by_id,
                by_email,
            });
        }
        Ok(Self {
            all,
            next: AtomicUsize::new(0),
        })
    }

    fn take(&self) -> &Connection {
        &self.all[self.next.fetch_add(1, Ordering::Relaxed) % self.all.len()]
    }
}

/// The customer as the service shows it: the same keys, in the same order.
#[derive(Serialize)]
struct CustomerJson<'a> {
    id: i64,
    customer_id: &'a str,
    username: &'a str,
    first_name: &'a str,
    last_name: &'a str,
    email: &'a str,
    phone: Option<&'a str>,
    address_line1: Option<&'a str>,
    address_line2: Option<&'a str>,
    city: Option<&'a str>,
    state: Option<&'a str>,
    postal_code: Option<&'a str>,
    country: Option<&'a str>,
    date_of_birth: Option<String>,
    gender: Option<&'a str>,
    company_name: Option<&'a str>,
    tax_id: Option<&'a str>,
    preferred_language: Option<&'a str>,
    is_active: bool,
    is_verified: bool,
    email_verified: bool,
    phone_verified: bool,
    marketing_emails: bool,
    marketing_sms: bool,
    notes: Option<&'a str>,
    tags: Option<String>,
    created_at: String,
    updated_at: String,
    last_login_at: Option<String>,
    full_name: String,
    full_address: Option<String>,
    version: i64,
}

fn utc(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

impl<'a> CustomerJson<'a> {
    fn of(row: &'a Row) -> Self {
        let (first_name, last_name): (&str, &str) = (row.get(3), row.get(4));
        let address: Vec<&str> = (7..=12)
            .filter_map(|i| row.get::<_, Option<&str>>(i))
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .collect();
        let tags: Vec<&str> = row.get(24);
        Self {
            id: row.get(0),
            customer_id: row.get(1),
            username: row.get(2),
            first_name,
            last_name,
            email: row.get(5),
            phone: row.get(6),
            address_line1: row.get(7),
            address_line2: row.get(8),
            city: row.get(9),
            state: row.get(10),
            postal_code: row.get(11),
            country: row.get(12),
            date_of_birth: row
                .get::<_, Option<NaiveDateTime>>(13)
                .map(|at| at.format("%Y-%m-%dT%H:%M:%S%.f").to_string()),
            gender: row.get(14),
            company_name: row.get(15),
            tax_id: row.get(16),
            is_active: row.get(17),
            is_verified: row.get(18),
            email_verified: row.get(19),
            phone_verified: row.get(20),
            marketing_emails: row.get(21),
            marketing_sms: row.get(22),
            notes: row.get(23),
            tags: (!tags.is_empty()).then(|| tags.join(",")),
            created_at: utc(row.get(25)),
            updated_at: utc(row.get(26)),
            last_login_at: row.get::<_, Option<DateTime<Utc>>>(27).map(utc),
            preferred_language: row.get(28),
            full_name: format!("{first_name} {last_name}"),
            full_address: (!address.is_empty()).then(|| address.join(", ")),
            version: row.get(29),
        }
    }
}

async fn answer(client: &Client, statement: &Statement, key: &str) -> HttpResponse {
    // Bounded as the service's round trips are (`infra_postgres::net`).
    match tokio::time::timeout(BOUND, client.query_opt(statement, &[&key])).await {
        Ok(Ok(Some(row))) => HttpResponse::Ok().json(CustomerJson::of(&row)),
        Ok(Ok(None)) => HttpResponse::NotFound().json(json!({"detail": "Customer not found"})),
        Ok(Err(error)) => {
            HttpResponse::ServiceUnavailable().json(json!({"detail": error.to_string()}))
        }
        Err(_) => HttpResponse::ServiceUnavailable().json(json!({"detail": "timed out"})),
    }
}

async fn by_id(connections: web::Data<Connections>, id: web::Path<String>) -> HttpResponse {
    let conn = connections.take();
    answer(&conn.client, &conn.by_id, &id).await
}

async fn by_email(connections: web::Data<Connections>, email: web::Path<String>) -> HttpResponse {
    let conn = connections.take();
    answer(&conn.client, &conn.by_email, &email).await
}

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let url = std::env::var("DATABASE_URL").map_err(std::io::Error::other)?;
    let port = u16::try_from(setting("MINIMAL_PORT", 8090)).map_err(std::io::Error::other)?;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let workers = setting("MINIMAL_WORKERS", cores).max(1);
    let per_worker = setting("MINIMAL_CONNECTIONS", 32).div_ceil(workers).max(1);
    HttpServer::new(move || {
        let url = url.clone();
        App::new()
            .data_factory(move || Connections::open(url.clone(), per_worker))
            .route("/api/v1/customers/email/{email}", web::get().to(by_email))
            .route("/api/v1/customers/{customer_id}", web::get().to(by_id))
    })
    .workers(workers)
    .bind(("127.0.0.1", port))?
    .run()
    .await
}
