//! SPEC §7 peak RSS: the release authorizer binary after 10,000 invocations with a real key,
//! through the fake Runtime API; the hello world's peak is shown beside it.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::json;

use crate::fixtures::{event_json, fresh_store, seed};
use crate::report::{Row, row};
use crate::runtime::{authorizer_env, spawn_function};

/// `VmHWM` (peak resident set) in kB from the text of `/proc/<pid>/status`.
pub fn parse_vm_hwm_kb(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn vm_hwm_kb(pid: u32) -> Option<u64> {
    parse_vm_hwm_kb(&std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?)
}

pub async fn memory(endpoint: &str, release: &Path, rows: &mut Vec<Row>) {
    let store = fresh_store(endpoint, "rss").await;
    let (key, _) = seed(&store, "alice").await;
    let invocations = 10_000;
    let env = authorizer_env(endpoint, store.table());
    let (start, mut s) = spawn_function(
        &release.join("authorizer"),
        invocations,
        &event_json(key.expose_secret()),
        &env,
    )
    .await;
    let finished = tokio::time::timeout(Duration::from_secs(600), s.done.recv())
        .await
        .is_ok();
    let elapsed = start.elapsed();
    let pid = s.child.id().unwrap_or_default();
    let peak = vm_hwm_kb(pid).unwrap_or_default();
    let answered = s.runtime.responses.load(Ordering::SeqCst);
    let _ = s.child.kill().await;
    s.server.abort();
    let (_, mut h) = spawn_function(&release.join("hello-lambda"), 1, &json!({}), &[]).await;
    let _ = tokio::time::timeout(Duration::from_secs(10), h.done.recv()).await;
    let hello_peak = h.child.id().and_then(vm_hwm_kb).unwrap_or_default();
    let _ = h.child.kill().await;
    h.server.abort();
    rows.push(row(
        "authorizer peak RSS after 10,000 invocations",
        format!(
            "{:.1} MB ({answered} allowed in {:.1} s; hello world {:.1} MB)",
            peak as f64 / 1024.0,
            elapsed.as_secs_f64(),
            hello_peak as f64 / 1024.0
        ),
        "< 40 MB",
        Some(finished && answered == invocations && peak < 40 * 1024),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_peak_is_read_from_the_vm_hwm_line() {
        let status =
            "Name:\tauthorizer\nVmPeak:\t  20000 kB\nVmHWM:\t    8294 kB\nVmRSS:\t 8000 kB\n";
        assert_eq!(parse_vm_hwm_kb(status), Some(8294));
    }

    #[test]
    fn a_status_without_a_peak_gives_none() {
        for status in ["", "Name:\tx\nVmRSS:\t 8000 kB\n", "VmHWM:\t lots kB\n"] {
            assert_eq!(parse_vm_hwm_kb(status), None, "{status:?}");
        }
    }
}
