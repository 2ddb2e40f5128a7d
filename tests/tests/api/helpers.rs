//! Spawns the application against a fresh database and offers a small HTTP client.

use std::path::PathBuf;

use customer_api::Application;
use customer_api::settings::{AppEnv, Settings};
use serde_json::{Value, json};
use test_db::TestDatabase;

use crate::proxy::CuttingProxy;

/// A running application and a client pointed at it.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    /// The app's database, reached directly (not through any proxy).
    pub db_url: String,
    /// Kept so the database lives as long as the app (dropped with it).
    _db: TestDatabase,
}

/// Starts the app on port 0 with the `test` settings and its own database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Like [`spawn_app`], with these `APP__...` variables over the `test` settings.
pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    let db = TestDatabase::new().await;
    let url = db.url().to_owned();
    spawn_app_on(db, &url, extra).await
}

/// The signing secret of [`spawn_app_with_auth`] and [`token`].
pub const AUTH_SECRET: &str = "e2e-secret-0123456789abcdef-0123456789";

/// Like [`spawn_app`], with authentication on and tokens signed with [`AUTH_SECRET`].
pub async fn spawn_app_with_auth() -> TestApp {
    spawn_app_with(&[
        ("APP__AUTH__ENABLED", "true"),
        ("APP__AUTH__HS256_SECRET", AUTH_SECRET),
    ])
    .await
}

/// The repository's `config/` directory.
pub fn config_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../config")
}

/// A token for `role` as `customer-api token --role <role>` mints it, signed with `secret`.
pub fn token_with(secret: &str, role: &str) -> String {
    let vars = vec![("APP__AUTH__HS256_SECRET".to_owned(), secret.to_owned())];
    let settings = Settings::load_from(&config_dir(), AppEnv::Test, &vars).unwrap();
    customer_api::token::mint(&settings.auth, role.parse().unwrap(), "e2e-user", None).unwrap()
}

/// A token for `role` that [`spawn_app_with_auth`] accepts.
pub fn token(role: &str) -> String {
    token_with(AUTH_SECRET, role)
}

/// Like [`spawn_app`], with the service reaching its database through a [`CuttingProxy`].
pub async fn spawn_app_through_proxy() -> (TestApp, CuttingProxy) {
    spawn_app_through_proxy_armed(false).await
}

/// [`spawn_app_through_proxy`], with the proxy armed (`armed`) before the service starts,
/// so that every write of its start-up meets an armed proxy.
pub async fn spawn_app_through_proxy_armed(armed: bool) -> (TestApp, CuttingProxy) {
    let db = TestDatabase::new().await;
    let upstream = address_of(db.url()).await;
    let proxy = CuttingProxy::start(upstream).await;
    if armed {
        proxy.arm();
    }
    let url = with_address(db.url(), &format!("127.0.0.1:{}", proxy.port));
    (spawn_app_on(db, &url, &[]).await, proxy)
}

/// Like [`spawn_app`], with the service reaching its database (through the pooler of
/// [`POOLER_VARIABLE`] when there is one) through a proxy that reads its queries, so that
/// the test can hold its `ROLLBACK`s back ([`CuttingProxy::hold_rollbacks`]).
pub async fn spawn_app_reading_queries() -> (TestApp, CuttingProxy) {
    let db = TestDatabase::new().await;
    let (url, settings) = match through_pooler(db.url()) {
        Some((pooled, settings)) => (pooled, settings.to_vec()),
        None => (db.url().to_owned(), Vec::new()),
    };
    let proxy = CuttingProxy::reading_queries(address_of(&url).await).await;
    let url = with_address(&url, &format!("127.0.0.1:{}", proxy.port));
    (spawn_app_on(db, &url, &settings).await, proxy)
}

/// The `host:port` of a `postgres://user@host[:port]/db` URL.
fn host_port(url: &str) -> &str {
    url.split_once('@')
        .and_then(|(_, after)| after.split_once('/'))
        .expect("postgres://user@host:port/db")
        .0
}

/// The socket address a `postgres://` URL names.
async fn address_of(url: &str) -> std::net::SocketAddr {
    let host_port = host_port(url);
    let with_port = if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:5432")
    };
    tokio::net::lookup_host(with_port)
        .await
        .expect("database address")
        .next()
        .expect("one address")
}

/// `url` with its `host:port` replaced by `address`.
fn with_address(url: &str, address: &str) -> String {
    url.replacen(host_port(url), address, 1)
}

/// Set by `scripts/with-pgbouncer.sh` (`make test`'s second run of this suite) to the
/// `host:port` of a PgBouncer in transaction mode in front of the tests' PostgreSQL: the
/// service then reaches its database through it, with `prepared_statements = false`. The
/// tests' own SQL (`TestApp::db_url`) and the cutting proxy's tests still go direct.
const POOLER_VARIABLE: &str = "E2E_PGBOUNCER";

/// `url` through the pooler of [`POOLER_VARIABLE`], with the settings that mode needs.
fn through_pooler(url: &str) -> Option<(String, [(&'static str, &'static str); 2])> {
    let pooler = std::env::var(POOLER_VARIABLE).ok()?;
    let (scheme_user, after) = url.split_once('@')?;
    let (_, database) = after.split_once('/')?;
    Some((
        format!("{scheme_user}@{pooler}/{database}"),
        [
            ("APP__DATABASE__PREPARED_STATEMENTS", "false"),
            ("APP__DATABASE__MIGRATE_ON_START", "false"),
        ],
    ))
}

async fn spawn_app_on(db: TestDatabase, url: &str, extra: &[(&str, &str)]) -> TestApp {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../config");
    let mut vars = vec![("APP__DATABASE__URL".to_string(), url.to_owned())];
    if url == db.url()
        && let Some((pooled, settings)) = through_pooler(url)
    {
        vars = vec![("APP__DATABASE__URL".to_string(), pooled)];
        vars.extend(settings.map(|(k, v)| (k.to_owned(), v.to_owned())));
    }
    vars.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let settings = Settings::load_from(&dir, AppEnv::Test, &vars).expect("test settings load");
    let app = Application::build(&settings)
        .await
        .expect("application builds");
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    TestApp {
        base,
        // Idle connections are dropped before the server's keep-alive (actix: 5 s) closes
        // them: reusing one the server is closing fails the request with IncompleteMessage
        // (the feed follower's long polls met it on the Citus run).
        client: reqwest::Client::builder()
            .pool_idle_timeout(std::time::Duration::from_secs(2))
            .build()
            .expect("an HTTP client"),
        db_url: db.url().to_owned(),
        _db: db,
    }
}

/// Another instance of the service over `app`'s database (reached directly), with the
/// `test` settings and `extra`; its base URL.
pub async fn another_instance(app: &TestApp, extra: &[(&str, &str)]) -> String {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../config");
    let mut vars = vec![("APP__DATABASE__URL".to_string(), app.db_url.clone())];
    vars.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let settings = Settings::load_from(&dir, AppEnv::Test, &vars).expect("test settings load");
    let instance = Application::build(&settings)
        .await
        .expect("application builds");
    let base = format!("http://127.0.0.1:{}", instance.port());
    tokio::spawn(instance.run_until_stopped());
    base
}

impl TestApp {
    /// `base` + `/api/v1/customers` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}/api/v1/customers{path}", self.base)
    }

    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        into_parts(
            self.client
                .post(self.url(path))
                .json(body)
                .send()
                .await
                .expect("request"),
        )
        .await
    }

    pub async fn put(&self, path: &str, body: &Value) -> (u16, Value) {
        into_parts(
            self.client
                .put(self.url(path))
                .json(body)
                .send()
                .await
                .expect("request"),
        )
        .await
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        into_parts(
            self.client
                .get(self.url(path))
                .send()
                .await
                .expect("request"),
        )
        .await
    }

    pub async fn patch(&self, path: &str) -> (u16, Value) {
        into_parts(
            self.client
                .patch(self.url(path))
                .send()
                .await
                .expect("request"),
        )
        .await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        into_parts(
            self.client
                .delete(self.url(path))
                .send()
                .await
                .expect("request"),
        )
        .await
    }

    /// A request to `base` + `/api/v1/customers` + `path`, to add headers and a body to.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, self.url(path))
    }

    /// Creates a customer and returns its body, failing the test unless the answer is 200.
    pub async fn create(&self, body: &Value) -> Value {
        let (status, created) = self.post("/", body).await;
        assert_eq!(status, 200, "{created}");
        created
    }
}

/// A whole answer: status, headers, and the body as JSON (`Null` when it is not) and as text.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Answer {
    /// Reads the whole answer.
    pub async fn of(request: reqwest::RequestBuilder) -> Self {
        let res = request.send().await.expect("request");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Self {
            status,
            headers,
            body,
            text,
        }
    }

    /// The value of a header, `None` when absent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .map(|v| v.to_str().expect("an ASCII header value"))
    }
}

/// Status and JSON body (`Null` when the body is not JSON).
/// The `/metrics` text of the instance at `base`.
pub async fn metrics_text(client: &reqwest::Client, base: &str) -> String {
    client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The value of the series `name` (with its labels, as `/metrics` writes them) of the
/// instance at `base`; 0 when it has none yet.
pub async fn metric(client: &reqwest::Client, base: &str, name: &str) -> f64 {
    metrics_text(client, base)
        .await
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{name} ")))
        .map_or(0.0, |v| v.trim().parse().unwrap())
}

pub async fn into_parts(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let text = res.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A minimal valid customer with a unique email.
pub fn customer(first: &str, last: &str, email: &str) -> Value {
    json!({"first_name": first, "last_name": last, "email": email})
}

/// The contract's full create example.
pub fn contract_john_doe() -> Value {
    json!({
        "first_name": "John",
        "last_name": "Doe",
        "email": "john.doe@example.com",
        "phone": "+1-555-0123",
        "address_line1": "123 Main Street",
        "city": "New York",
        "state": "NY",
        "postal_code": "10001",
        "country": "USA",
        "date_of_birth": "1990-01-15T00:00:00",
        "gender": "male",
        "company_name": "Tech Corp",
        "marketing_emails": true,
        "marketing_sms": false,
        "notes": "Premium customer",
        "tags": "premium,tech,new-york"
    })
}

/// Asserts the FastAPI-style 422 body and returns its `loc`s.
pub fn validation_locs(body: &Value) -> Vec<Vec<String>> {
    let detail = body["detail"]
        .as_array()
        .unwrap_or_else(|| panic!("422 detail is a list: {body}"));
    detail
        .iter()
        .map(|d| {
            assert!(d["msg"].is_string(), "{d}");
            assert!(d["type"].is_string(), "{d}");
            d["loc"]
                .as_array()
                .unwrap_or_else(|| panic!("loc is a list: {d}"))
                .iter()
                .map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_owned))
                .collect()
        })
        .collect()
}

/// Follows the feed from `after` with long polls of a second until `done` says the events
/// seen so far are all there is to wait for, or [`test_db::HORIZON_WAIT`] passed (the feed
/// serves an event once every older transaction on the server has ended, other tests'
/// among them; on Citus, any transaction open on the cluster); the events in the order
/// served, and the cursor after them.
pub async fn follow(
    app: &TestApp,
    after: Option<String>,
    done: impl Fn(&[Value]) -> bool,
) -> (Vec<Value>, Option<String>) {
    let mut seen: Vec<Value> = Vec::new();
    let mut cursor = after;
    let deadline = std::time::Instant::now() + test_db::HORIZON_WAIT;
    while !done(&seen) && std::time::Instant::now() < deadline {
        let after = cursor
            .as_deref()
            .map(|c| format!("&after={c}"))
            .unwrap_or_default();
        let request = app.client.get(format!(
            "{}/api/v1/events?limit=1000&wait=1{after}",
            app.base
        ));
        let (status, body) = into_parts(request.send().await.expect("request")).await;
        assert_eq!(status, 200, "{body}");
        if let Some(next) = body["next_cursor"].as_str() {
            cursor = Some(next.to_owned());
        }
        seen.extend(body["events"].as_array().unwrap().iter().cloned());
    }
    (seen, cursor)
}
