//! The safe-write headers from a web page on another origin, in a real browser: headless
//! Chromium loads a page served from a second port of 127.0.0.1, whose script calls the
//! service with `fetch()` (a keyed create, its replay, a conditional update, a stale one, a
//! read with a consistency token, a conditional read, reads until the rate limit answers)
//! and posts back what it could read. Every header it needs must pass the preflight and be
//! exposed, or the browser hides it (or refuses the call) and the test fails.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use crate::common::{PrivatePostgres, Service};

/// Debian's Chromium: the browser itself, else its launcher script.
const CHROMIUM: [&str; 2] = ["/usr/lib/chromium/chromium", "/usr/bin/chromium"];

/// The page's script; `API` is replaced by the service's base URL.
const SCRIPT: &str = r#"
const api = "API/api/v1/customers";
const results = {};
const read = (r, names) => Object.fromEntries(names.map(n => [n, r.headers.get(n)]));
async function step(name, call) {
  try { results[name] = await call(); } catch (e) { results[name] = { error: String(e) }; }
}
(async () => {
  const json = { "Content-Type": "application/json" };
  const body = JSON.stringify({ first_name: "Ann", last_name: "Lee", email: "ann@example.com" });
  const create = () => fetch(api + "/", { method: "POST", body,
    headers: { ...json, "Idempotency-Key": "from-the-page", "X-Request-ID": "page-create" } });
  let created = {};
  await step("create", async () => {
    const r = await create();
    created = { ...read(r, ["etag", "location", "x-consistency-token", "x-request-id"]),
                status: r.status, body: await r.json() };
    return created;
  });
  const one = api + "/" + (created.body || {}).customer_id;
  await step("replay", async () => {
    const r = await create();
    return { status: r.status, ...read(r, ["idempotent-replayed", "etag", "location"]) };
  });
  let updated = {};
  await step("update", async () => {
    const r = await fetch(one, { method: "PUT", body: JSON.stringify({ city: "Boston" }),
      headers: { ...json, "If-Match": created.etag } });
    updated = { status: r.status, ...read(r, ["etag"]) };
    return updated;
  });
  await step("stale", async () => {
    const r = await fetch(one, { method: "PUT", body: JSON.stringify({ city: "Paris" }),
      headers: { ...json, "If-Match": created.etag } });
    return { status: r.status, body: await r.json() };
  });
  await step("read", async () => {
    const r = await fetch(one, { headers: { "X-Consistency-Token": created["x-consistency-token"] } });
    return { status: r.status, ...read(r, ["etag"]), body: await r.json() };
  });
  await step("not_modified", async () => {
    const r = await fetch(one, { headers: { "If-None-Match": updated.etag } });
    return { status: r.status };
  });
  await step("limited", async () => {
    for (let i = 0; i < 200; i++) {
      const r = await fetch(one);
      if (r.status === 429) return { status: 429, sent: i + 1, ...read(r, ["retry-after"]) };
    }
    return { status: "never 429" };
  });
  await fetch("/results", { method: "POST", body: JSON.stringify(results) });
})();
"#;

/// Chromium in a process group of its own, killed (the group, by its pid) when dropped,
/// with its profile directory removed.
struct Browser {
    child: Child,
    profile: PathBuf,
}

impl Browser {
    fn open(url: &str) -> Self {
        let profile =
            std::env::temp_dir().join(format!("customer-api-chromium-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&profile);
        let program = CHROMIUM
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .expect("Chromium is installed (scripts/ensure-tools.sh chromium)");
        let child = Command::new(program)
            .process_group(0)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(url)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{program}: {e}"));
        Self { child, profile }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Serves the page at `/` and sends what is posted to `/results` to `results`.
async fn serve_page(listener: TcpListener, page: String, results: mpsc::Sender<Value>) {
    while let Ok((stream, _)) = listener.accept().await {
        let (page, results) = (page.clone(), results.clone());
        tokio::spawn(async move {
            let _ = answer(stream, &page, &results).await;
        });
    }
}

/// One HTTP/1.1 request on `stream`, answered and closed.
async fn answer(
    mut stream: TcpStream,
    page: &str,
    results: &mpsc::Sender<Value>,
) -> std::io::Result<()> {
    let mut request = Vec::new();
    let mut chunk = [0_u8; 8192];
    let head_end = loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        request.extend_from_slice(&chunk[..n]);
        if let Some(at) = request.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&request[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while request.len() < head_end + length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        request.extend_from_slice(&chunk[..n]);
    }
    let (status, content_type, body) = if head.starts_with("post /results ") {
        let posted = serde_json::from_slice(&request[head_end..]).unwrap_or(Value::Null);
        let _ = results.send(posted).await;
        ("200 OK", "text/plain", "")
    } else if head.starts_with("get / ") {
        ("200 OK", "text/html; charset=utf-8", page)
    } else {
        ("404 Not Found", "text/plain", "")
    };
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

#[tokio::test]
#[ignore = "starts its own PostgreSQL and headless Chromium (scripts/ensure-tools.sh chromium); run with make chaos"]
async fn a_page_on_another_origin_can_use_versions_conditional_writes_keys_and_tokens() {
    let db = PrivatePostgres::start();
    let page_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let page_origin = format!(
        "http://127.0.0.1:{}",
        page_listener.local_addr().unwrap().port()
    );
    let service = Service::start(
        &db.url,
        &[
            ("APP__CORS__ALLOWED_ORIGINS", page_origin.as_str()),
            // A "replica" that is the primary itself: the service then stamps each write's
            // answer with a consistency token, and reads honour one.
            ("APP__DATABASE__REPLICA_URLS", db.url.as_str()),
            ("APP__RATE_LIMIT__ENABLED", "true"),
            ("APP__RATE_LIMIT__PER_SECOND", "1.0"),
            ("APP__RATE_LIMIT__BURST", "30"),
        ],
    )
    .await;
    let page = format!(
        "<!doctype html><title>another origin</title><script>{}</script>",
        SCRIPT.replace("API", &service.base)
    );
    let (sender, mut received) = mpsc::channel(1);
    let server = tokio::spawn(serve_page(page_listener, page, sender));
    let _browser = Browser::open(&format!("{page_origin}/"));
    let results = tokio::time::timeout(Duration::from_secs(60), received.recv())
        .await
        .expect("the page posted its results within 60 s")
        .expect("results");
    server.abort();

    let step = |name: &str| results[name].clone();
    let created = step("create");
    assert_eq!(created["status"], 200, "{results:#}");
    let id = created["body"]["customer_id"]
        .as_str()
        .expect("a customer id");
    assert_eq!(created["etag"], "\"1\"", "{results:#}");
    assert_eq!(
        created["location"],
        format!("/api/v1/customers/{id}"),
        "{results:#}"
    );
    assert_eq!(created["x-request-id"], "page-create", "{results:#}");
    assert!(created["x-consistency-token"].is_string(), "{results:#}");

    let replay = step("replay");
    assert_eq!(replay["status"], 200, "{results:#}");
    assert_eq!(replay["idempotent-replayed"], "true", "{results:#}");
    assert_eq!(replay["etag"], created["etag"]);
    assert_eq!(replay["location"], created["location"]);

    let updated = step("update");
    assert_eq!(
        (&updated["status"], &updated["etag"]),
        (&200.into(), &"\"2\"".into()),
        "{results:#}"
    );
    let stale = step("stale");
    assert_eq!(stale["status"], 412, "{results:#}");
    assert_eq!(stale["body"]["current_version"], 2, "{results:#}");

    let read = step("read");
    assert_eq!(read["status"], 200, "{results:#}");
    assert_eq!(read["etag"], "\"2\"", "{results:#}");
    assert_eq!(read["body"]["city"], "Boston", "{results:#}");
    assert_eq!(step("not_modified")["status"], 304, "{results:#}");

    let limited = step("limited");
    assert_eq!(limited["status"], 429, "{results:#}");
    let wait: u64 = limited["retry-after"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("a Retry-After the page could read: {results:#}"));
    assert!(wait >= 1, "{results:#}");
    drop(service);
}
