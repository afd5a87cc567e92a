//! SPEC §7 binary sizes: the arm64 bootstraps `make build` leaves in `target/lambda`.

use std::path::Path;

use crate::report::{Row, row};

const FUNCTIONS: [&str; 5] = [
    "authorizer",
    "create-key",
    "list-keys",
    "revoke-key",
    "site",
];

/// Decimal megabytes: the stricter reading of "under 8 MB".
const LIMIT_BYTES: u64 = 8_000_000;

pub fn sizes(root: &Path, rows: &mut Vec<Row>) {
    for f in FUNCTIONS {
        let path = root.join("target/lambda").join(f).join("bootstrap");
        rows.push(match std::fs::metadata(&path) {
            Ok(m) => size_row(f, m.len()),
            Err(_) => row(
                &format!("{f} bootstrap"),
                "not built: run make build".into(),
                "< 8 MB",
                None,
            ),
        });
    }
}

fn size_row(function: &str, bytes: u64) -> Row {
    row(
        &format!("{function} bootstrap, arm64 stripped (make build)"),
        format!(
            "{bytes} bytes = {:.2} MB ({:.2} MiB)",
            bytes as f64 / 1e6,
            bytes as f64 / 1_048_576.0
        ),
        "< 8 MB",
        Some(bytes < LIMIT_BYTES),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_shown_in_bytes_mb_and_mib() {
        let r = size_row("authorizer", 7_252_944);
        assert_eq!(r.measured, "7252944 bytes = 7.25 MB (6.92 MiB)");
        assert_eq!(r.pass, Some(true));
    }

    #[test]
    fn eight_million_bytes_is_already_over() {
        assert_eq!(size_row("x", 7_999_999).pass, Some(true));
        assert_eq!(size_row("x", 8_000_000).pass, Some(false));
    }
}
