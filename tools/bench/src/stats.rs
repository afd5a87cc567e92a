//! Shared measurement helpers: percentiles, ratios, and running two variants interleaved so
//! that machine noise lands on both alike.

use std::future::Future;
use std::time::{Duration, Instant};

/// Timed samples per latency figure (each side).
pub const SAMPLES: usize = 5_000;
/// Untimed rounds of each side before sampling starts.
pub const WARMUP: usize = 300;

/// The nearest-rank percentile `p` (0.0–1.0) of `samples`, which it sorts.
///
/// # Panics
/// On an empty slice: a figure without samples is a bench bug, not a result.
pub fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort_unstable();
    let idx = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[idx.min(samples.len() - 1)]
}

/// Microseconds, as a float for ratios and printing.
pub fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// `measured / baseline`, the figure every SPEC §7 target is stated in (from whole
/// nanoseconds, so that a ratio exactly on a target compares equal to it).
pub fn ratio(measured: Duration, baseline: Duration) -> f64 {
    measured.as_nanos() as f64 / baseline.as_nanos() as f64
}

pub async fn timed<F: Future<Output = T>, T>(f: F) -> (Duration, T) {
    let start = Instant::now();
    let out = f.await;
    (start.elapsed(), out)
}

/// Runs `a` and `b` alternately (order flipped every round) `n` times after a warm-up, and
/// returns both sample sets.
pub async fn interleave<A, B, FA, FB>(
    n: usize,
    mut a: A,
    mut b: B,
) -> (Vec<Duration>, Vec<Duration>)
where
    A: FnMut() -> FA,
    B: FnMut() -> FB,
    FA: Future<Output = ()>,
    FB: Future<Output = ()>,
{
    for _ in 0..WARMUP {
        a().await;
        b().await;
    }
    let (mut xs, mut ys) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for i in 0..n {
        if i % 2 == 0 {
            xs.push(timed(a()).await.0);
            ys.push(timed(b()).await.0);
        } else {
            ys.push(timed(b()).await.0);
            xs.push(timed(a()).await.0);
        }
    }
    (xs, ys)
}

/// The order in which round `round` runs `n` variants: rotated by one each round, so that no
/// variant always goes first (right after the previous process exits) or last.
pub fn rotation(round: usize, n: usize) -> Vec<usize> {
    (0..n).map(|k| (round + k) % n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: &[u64]) -> Vec<Duration> {
        v.iter().map(|&m| Duration::from_millis(m)).collect()
    }

    #[test]
    fn the_median_of_an_odd_set_is_its_middle_value() {
        let mut s = ms(&[5, 1, 3, 2, 4]);
        assert_eq!(percentile(&mut s, 0.5), Duration::from_millis(3));
    }

    #[test]
    fn percentiles_round_to_the_nearest_rank() {
        let mut s = ms(&(1..=100).collect::<Vec<_>>());
        assert_eq!(percentile(&mut s, 0.0), Duration::from_millis(1));
        assert_eq!(percentile(&mut s, 0.99), Duration::from_millis(99));
        assert_eq!(percentile(&mut s, 1.0), Duration::from_millis(100));
        // (100 - 1) × 0.5 = 49.5 rounds up to index 50, the 51st value.
        assert_eq!(percentile(&mut s, 0.5), Duration::from_millis(51));
    }

    #[test]
    fn a_single_sample_is_every_percentile() {
        for p in [0.0, 0.5, 0.99, 1.0] {
            assert_eq!(percentile(&mut ms(&[7]), p), Duration::from_millis(7));
        }
    }

    #[test]
    fn ratio_is_measured_over_baseline() {
        let r = ratio(Duration::from_micros(2_570), Duration::from_micros(2_030));
        assert!((r - 1.266).abs() < 0.001, "{r}");
        assert_eq!(us(Duration::from_millis(2)), 2_000.0);
    }

    #[test]
    fn rotation_puts_each_variant_first_in_turn() {
        assert_eq!(rotation(0, 3), [0, 1, 2]);
        assert_eq!(rotation(1, 3), [1, 2, 0]);
        assert_eq!(rotation(2, 3), [2, 0, 1]);
        assert_eq!(rotation(3, 3), [0, 1, 2]);
    }

    #[tokio::test]
    async fn interleave_returns_n_samples_of_each_and_runs_the_warm_up() {
        let (mut a_runs, mut b_runs) = (0, 0);
        let (xs, ys) = interleave(
            10,
            || {
                a_runs += 1;
                async {}
            },
            || {
                b_runs += 1;
                async {}
            },
        )
        .await;
        assert_eq!((xs.len(), ys.len()), (10, 10));
        assert_eq!((a_runs, b_runs), (WARMUP + 10, WARMUP + 10));
    }
}
