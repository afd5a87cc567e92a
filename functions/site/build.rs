//! Embeds the public OpenAPI document (from infra/openapi.yaml) and the vendored Swagger UI
//! (from web/node_modules, installed by scripts/web.sh) into the site function.

use std::path::{Path, PathBuf};

// A build script: every panic below stops `cargo build` with its message (a missing npm
// install, an invalid document). Nothing here runs when the function serves a request.
fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let root = manifest.join("../..");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it"));

    let source_path = root.join("infra/openapi.yaml");
    println!("cargo:rerun-if-changed={}", source_path.display());
    let source = std::fs::read_to_string(&source_path)
        .unwrap_or_else(|e| panic!("{}: {e}", source_path.display()));
    let document = openapi::public_document(&source).unwrap_or_else(|e| panic!("{e}"));
    let json = serde_json::to_string(&document).expect("a JSON value serializes");
    std::fs::write(out.join("openapi.json"), json).expect("write OUT_DIR/openapi.json");

    let swagger = root.join("web/node_modules/swagger-ui-dist");
    let files = ["swagger-ui-bundle.js", "swagger-ui.css"];
    println!(
        "cargo:rerun-if-changed={}",
        root.join("web/package-lock.json").display()
    );
    if !files.iter().all(|f| swagger.join(f).is_file()) {
        install_web_files(&root);
    }
    for file in files {
        copy(&swagger.join(file), &out.join(file));
    }
}

/// A fresh clone has no web/node_modules: install it here, with the same pinned lock file
/// and script that `make test`, `make dev` and `make build` use, so a first `cargo build` or
/// `sam build` needs no extra step. Without npm, stop with one line naming the fix.
fn install_web_files(root: &Path) {
    let script = root.join("scripts/web.sh");
    println!("cargo:warning=web/node_modules is missing: running scripts/web.sh (npm ci)");
    let ran = std::process::Command::new("bash")
        .arg(&script)
        .stdout(std::process::Stdio::null())
        .status();
    if !matches!(ran, Ok(status) if status.success()) {
        eprintln!(
            "functions/site embeds Swagger UI from npm: install Node.js/npm, then run `scripts/web.sh`"
        );
        std::process::exit(1);
    }
}

fn copy(from: &Path, to: &Path) {
    println!("cargo:rerun-if-changed={}", from.display());
    if let Err(e) = std::fs::copy(from, to) {
        eprintln!(
            "{}: {e} (run `scripts/web.sh` to install the npm files)",
            from.display()
        );
        std::process::exit(1);
    }
}
