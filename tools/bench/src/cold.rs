//! SPEC §7 and §7b cold init: spawn → first `GET /runtime/invocation/next` of the release
//! authorizer against two hello-world `lambda_runtime` binaries built in the same cargo
//! invocation (same release profile, same feature set): one on tokio's multi-thread runtime
//! (§7's baseline, ≤ 1.5×) and one on `current_thread`, the flavour every function uses
//! (§7b, ≤ 1.3×), so the runtime's own worker threads are not counted as headroom. A fourth
//! binary, the current_thread hello world registering the authorizer's shutdown extension
//! (SPEC §12), shows what that registration adds (informational).

use std::path::Path;
use std::time::Duration;

use serde_json::json;

use crate::report::Row;
use crate::runtime::{authorizer_env, spawn_function};
use crate::stats::{percentile, ratio, rotation};

/// Timed runs of each binary, after this many untimed ones.
const RUNS: usize = 30;
const WARMUP_RUNS: usize = 3;

/// The binaries in `release`, in the order of [`Medians`].
const BINARIES: [&str; 4] = [
    "authorizer",
    "hello-lambda",
    "hello-lambda-current-thread",
    "hello-lambda-shutdown-extension",
];

pub struct Medians {
    pub authorizer: Duration,
    pub hello_multi_thread: Duration,
    pub hello_current_thread: Duration,
    /// The current_thread hello world registering the authorizer's shutdown extension.
    pub hello_extension: Duration,
    pub runs: usize,
}

pub async fn cold_start(release: &Path, rows: &mut Vec<Row>) {
    let bins: Vec<_> = BINARIES.iter().map(|b| release.join(b)).collect();
    // Init as in Lambda: region and role credentials from the environment, DynamoDB's own
    // endpoint (no call is made before the first /next, so nothing needs to answer).
    let auth_env: Vec<_> = authorizer_env("unused", "unused")
        .into_iter()
        .filter(|(name, _)| *name != "AWS_ENDPOINT_URL_DYNAMODB")
        .collect();
    let mut samples: [Vec<Duration>; 4] = Default::default();
    for round in 0..RUNS + WARMUP_RUNS {
        // Rotated so that no binary always runs right after the same one.
        for k in rotation(round, bins.len()) {
            let env = if k == 0 { &auth_env[..] } else { &[][..] };
            let (start, mut s) = spawn_function(&bins[k], 0, &json!({}), env).await;
            let first = tokio::time::timeout(Duration::from_secs(10), s.first_next.recv())
                .await
                .ok()
                .flatten()
                .unwrap_or_else(|| panic!("{} never asked for an invocation", bins[k].display()));
            if round >= WARMUP_RUNS {
                samples[k].push(first - start);
            }
            let _ = s.child.kill().await;
            s.server.abort();
        }
    }
    let [mut a, mut mt, mut ct, mut ext] = samples;
    let medians = Medians {
        authorizer: percentile(&mut a, 0.5),
        hello_multi_thread: percentile(&mut mt, 0.5),
        hello_current_thread: percentile(&mut ct, 0.5),
        hello_extension: percentile(&mut ext, 0.5),
        runs: RUNS,
    };
    for r in cold_rows(&medians) {
        r.print();
        rows.push(r);
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The figures: §7 against the multi-thread hello world, §7b against the current_thread one,
/// and the two baselines against each other (what tokio's worker threads cost at start-up).
pub fn cold_rows(m: &Medians) -> Vec<Row> {
    let vs_mt = ratio(m.authorizer, m.hello_multi_thread);
    let vs_ct = ratio(m.authorizer, m.hello_current_thread);
    let baselines = ratio(m.hello_multi_thread, m.hello_current_thread);
    let extension = ratio(m.hello_extension, m.hello_current_thread);
    let runs = m.runs;
    vec![
        Row::new(
            "cold init (spawn → first /next), authorizer vs multi-thread hello world",
            format!(
                "{:.2} ms vs {:.2} ms = {vs_mt:.2}× ({runs} runs each)",
                ms(m.authorizer),
                ms(m.hello_multi_thread)
            ),
            "≤ 1.5×",
            Some(vs_mt <= 1.5),
        ),
        Row::new(
            "cold init, authorizer vs current_thread hello world (§7b)",
            format!(
                "{:.2} ms vs {:.2} ms = {vs_ct:.2}× ({runs} runs each)",
                ms(m.authorizer),
                ms(m.hello_current_thread)
            ),
            "≤ 1.3×",
            Some(vs_ct <= 1.3),
        ),
        Row::new(
            "  … multi-thread vs current_thread hello world (informational)",
            format!(
                "{:.2} ms vs {:.2} ms = {baselines:.2}×",
                ms(m.hello_multi_thread),
                ms(m.hello_current_thread)
            ),
            "-",
            None,
        ),
        Row::new(
            "  … current_thread hello world with vs without the shutdown extension (informational)",
            format!(
                "{:.2} ms vs {:.2} ms = {extension:.2}×",
                ms(m.hello_extension),
                ms(m.hello_current_thread)
            ),
            "-",
            None,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn medians(a: u64, mt: u64, ct: u64) -> Medians {
        Medians {
            authorizer: Duration::from_micros(a),
            hello_multi_thread: Duration::from_micros(mt),
            hello_current_thread: Duration::from_micros(ct),
            hello_extension: Duration::from_micros(ct + 100),
            runs: 30,
        }
    }

    #[test]
    fn both_baselines_are_reported_with_their_own_targets() {
        let rows = cold_rows(&medians(2_570, 2_030, 1_900));
        let got: Vec<_> = rows
            .iter()
            .map(|r| (r.measured.as_str(), r.target.as_str(), r.pass))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "2.57 ms vs 2.03 ms = 1.27× (30 runs each)",
                    "≤ 1.5×",
                    Some(true)
                ),
                (
                    "2.57 ms vs 1.90 ms = 1.35× (30 runs each)",
                    "≤ 1.3×",
                    Some(false)
                ),
                ("2.03 ms vs 1.90 ms = 1.07×", "-", None),
                ("2.00 ms vs 1.90 ms = 1.05×", "-", None),
            ]
        );
    }

    #[test]
    fn the_targets_are_inclusive() {
        let rows = cold_rows(&medians(3_000, 2_000, 3_000));
        assert_eq!(rows[0].pass, Some(true), "exactly 1.5×");
        let rows = cold_rows(&medians(2_600, 2_000, 2_000));
        assert_eq!(rows[1].pass, Some(true), "exactly 1.3×");
    }
}
