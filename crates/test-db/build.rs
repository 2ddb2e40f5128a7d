//! Rebuilds the crate when a migration changes (they are embedded with `embed_migrations!`)
//! and exposes a hash of their contents as `CUSTOMER_MIGRATIONS_HASH`, so the migrated
//! template database is named after exactly these migrations.

use std::error::Error;
use std::fs;
use std::path::{Path, PathBuf};

const MIGRATIONS: &str = "../../migrations";

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo:rerun-if-changed={MIGRATIONS}");
    let mut files = Vec::new();
    collect(Path::new(MIGRATIONS), &mut files)?;
    files.sort();
    let mut hash = Fnv1a::default();
    for file in &files {
        let relative = file.strip_prefix(MIGRATIONS)?;
        hash.write(relative.to_string_lossy().as_bytes());
        hash.write(&[0]);
        hash.write(&fs::read(file)?);
        hash.write(&[0]);
    }
    println!("cargo:rustc-env=CUSTOMER_MIGRATIONS_HASH={:016x}", hash.0);
    Ok(())
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), Box<dyn Error>> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, files)?;
        } else {
            files.push(path);
        }
    }
    Ok(())
}

/// 64-bit FNV-1a: tiny, and stable across compilers (unlike `DefaultHasher`).
struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv1a {
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}
