//! Prints the OpenAPI document the service serves, for linting and client generation
//! without a running service: `cargo run -p api-actix --example openapi -- [auth|no-auth]
//! [200|201]` (the second: the status a create answers with, 200 by default).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let authentication = match std::env::args().nth(1).as_deref() {
        Some("auth") => true,
        Some("no-auth") | None => false,
        Some(other) => return Err(format!("unknown argument {other}: auth or no-auth").into()),
    };
    let create_status = match std::env::args().nth(2) {
        Some(code) => api_actix::settings::CreateStatus::try_from(code.parse::<u16>()?)?,
        None => api_actix::settings::CreateStatus::default(),
    };
    let settings = api_actix::ApiSettings {
        authentication,
        create_status,
        ..api_actix::ApiSettings::default()
    };
    println!(
        "{}",
        api_actix::openapi::openapi_for(&settings).to_pretty_json()?
    );
    Ok(())
}
