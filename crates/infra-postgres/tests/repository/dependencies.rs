//! The adapter needs no libpq: nothing in its dependency tree links `pq-sys`.

use std::process::Command;

#[test]
fn the_adapter_does_not_depend_on_libpq() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args([
            // Not `--offline`: `--target all` needs the manifests of other platforms'
            // crates, which a build for this one never downloads.
            "tree",
            "--package",
            "infra-postgres",
            "--all-features",
            "--target",
            "all",
            "--edges",
            "normal,build,dev",
            "--prefix",
            "none",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tree = String::from_utf8(output.stdout).unwrap();
    assert!(tree.contains("diesel-async"), "unexpected tree:\n{tree}");
    assert!(
        !tree
            .lines()
            .any(|line| line.starts_with("pq-sys") || line.starts_with("pq-src")),
        "libpq crept in:\n{tree}"
    );
}
