//! `make bench`: every SPEC §7 figure, each against a baseline measured in the same run and
//! interleaved with it (the machine is noisy), then the results section of BENCHMARKS.md is
//! rewritten. Needs DynamoDB Local (`PODKEYS_BENCH_DYNAMODB`) and the release binaries
//! (`scripts/bench.sh` provides both). Arguments pick parts; a partial run prints its rows as
//! Markdown instead of writing the file.

mod cold;
mod crud;
mod fixtures;
mod flat;
mod garbage;
mod latency;
mod memory;
mod report;
mod runtime;
mod sizes;
mod stats;
mod usage;

use std::path::{Path, PathBuf};
use std::time::Instant;

/// Where cargo put the release binaries: `CARGO_TARGET_DIR` (relative to `root` unless
/// absolute) when set, else `root/target`.
fn release_dir(root: &Path, cargo_target_dir: Option<&str>) -> PathBuf {
    match cargo_target_dir.filter(|d| !d.is_empty()) {
        Some(dir) => root.join(dir).join("release"),
        None => root.join("target/release"),
    }
}

#[tokio::main]
async fn main() {
    let endpoint =
        std::env::var("PODKEYS_BENCH_DYNAMODB").expect("PODKEYS_BENCH_DYNAMODB: run `make bench`");
    let root = PathBuf::from(std::env::var("PODKEYS_ROOT").unwrap_or_else(|_| ".".into()));
    let release = release_dir(&root, std::env::var("CARGO_TARGET_DIR").ok().as_deref());
    let only: Vec<String> = std::env::args().skip(1).collect();
    let wants = |name: &str| only.is_empty() || only.iter().any(|o| o == name);
    let started = Instant::now();
    let mut rows = Vec::new();
    report::print_header();
    if wants("authorizer") {
        latency::authorizer_vs_get_item(&endpoint, &mut rows).await;
    }
    if wants("ratelimit") {
        latency::rate_limited_authorizer(&endpoint, &mut rows).await;
    }
    if wants("usage") {
        usage::usage_writes(&endpoint, &mut rows).await;
    }
    if wants("garbage") {
        garbage::garbage(&mut rows).await;
    }
    if wants("crud") {
        crud::create_and_list(&endpoint, &mut rows).await;
    }
    if wants("flat") {
        flat::flat_cost(&endpoint, &mut rows).await;
    }
    if wants("cold") {
        cold::cold_start(&release, &mut rows).await;
    }
    if wants("memory") {
        memory::memory(&endpoint, &release, &mut rows).await;
    }
    if wants("sizes") {
        sizes::sizes(&root, &mut rows);
    }
    let info = report::RunInfo::here(&root, "make bench", started.elapsed());
    if only.is_empty() {
        report::write_report(&root, &rows, &info);
    } else {
        println!("\nrows for BENCHMARKS.md (commit {}):", info.commit);
        for r in &rows {
            print!("{}", report::markdown_row(r));
        }
    }
    println!("took {:.0} s", started.elapsed().as_secs_f64());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binaries_are_found_under_cargo_target_dir_when_it_is_set() {
        let root = Path::new("/work/main");
        assert_eq!(
            release_dir(root, None),
            Path::new("/work/main/target/release")
        );
        assert_eq!(
            release_dir(root, Some("")),
            Path::new("/work/main/target/release")
        );
        assert_eq!(
            release_dir(root, Some("/work/tgt-h2")),
            Path::new("/work/tgt-h2/release")
        );
        assert_eq!(
            release_dir(root, Some("tgt")),
            Path::new("/work/main/tgt/release")
        );
    }
}
