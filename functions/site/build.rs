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
    for file in ["swagger-ui-bundle.js", "swagger-ui.css"] {
        copy(&swagger.join(file), &out.join(file));
    }
}

fn copy(from: &Path, to: &Path) {
    println!("cargo:rerun-if-changed={}", from.display());
    if let Err(e) = std::fs::copy(from, to) {
        panic!(
            "{}: {e}\n\nThe site function embeds Swagger UI from npm. Install it with \
             `scripts/web.sh` (make test, make dev and make build run it).",
            from.display()
        );
    }
}
