//! Developer tasks for Reservoir.
//!
//! * `cargo xtask trim-models [--botocore DIR]` — copy the operations listed in
//!   `models/trim.toml` (and every shape they reach) out of botocore's bundled service
//!   models into `models/<service>.json`, documentation stripped.
//! * `cargo xtask codegen` — generate `crates/wire/src/generated/*.rs` from `models/`.
//!   A unit test in this crate (`codegen::tests::generated_code_is_fresh`) regenerates in
//!   memory and fails when the committed files differ, so a forgotten run is caught by
//!   `cargo test`.

use std::path::PathBuf;
use std::process::ExitCode;

mod codegen;
mod names;
mod trim;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("trim-models") => {
            let botocore = match args.iter().position(|a| a == "--botocore") {
                Some(i) => args.get(i + 1).map(PathBuf::from),
                None => None,
            };
            trim::run(&workspace_root(), botocore)
        }
        Some("codegen") => codegen::run(&workspace_root()),
        _ => {
            eprintln!("usage: cargo xtask (trim-models [--botocore DIR] | codegen)");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The repository root: xtask lives one level below it.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask has a parent directory").to_path_buf()
}

pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;
