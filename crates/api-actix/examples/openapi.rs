//! Prints the OpenAPI document the service serves, for linting and client generation
//! without a running service: `cargo run -p api-actix --example openapi -- [auth|no-auth]`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let authentication = match std::env::args().nth(1).as_deref() {
        Some("auth") => true,
        Some("no-auth") | None => false,
        Some(other) => return Err(format!("unknown argument {other}: auth or no-auth").into()),
    };
    println!(
        "{}",
        api_actix::openapi::openapi_for(authentication).to_pretty_json()?
    );
    Ok(())
}
