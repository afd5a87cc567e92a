//! Result rows: printed as they are measured, then rendered into the section of BENCHMARKS.md
//! between the `make bench` markers (a full run), or printed as Markdown rows to paste (a
//! partial run, which never touches the file).

use std::path::Path;
use std::time::Duration;

use apikey::Timestamp;

use crate::stats::{SAMPLES, WARMUP, ratio, us};

pub const BEGIN: &str = "<!-- make bench: begin -->";
pub const END: &str = "<!-- make bench: end -->";

pub struct Row {
    pub figure: String,
    pub measured: String,
    pub target: String,
    pub pass: Option<bool>,
}

impl Row {
    pub fn new(figure: &str, measured: String, target: &str, pass: Option<bool>) -> Self {
        Row {
            figure: figure.into(),
            measured,
            target: target.into(),
            pass,
        }
    }

    /// The row as a console line, as it is measured.
    pub fn print(&self) {
        println!(
            "{:<58} {:<34} {:<10} {}",
            self.figure,
            self.measured,
            self.target,
            verdict(self.pass)
        );
    }
}

/// Prints the row to the console and returns it for the report.
pub fn row(figure: &str, measured: String, target: &str, pass: Option<bool>) -> Row {
    let r = Row::new(figure, measured, target, pass);
    r.print();
    r
}

/// A latency against its same-run baseline, "M µs vs B µs = R×", passing at R ≤ `max`.
pub fn ratio_row(
    figure: &str,
    measured: Duration,
    baseline: Duration,
    target: &str,
    max: f64,
) -> Row {
    let r = ratio(measured, baseline);
    row(
        figure,
        ratio_text(measured, baseline),
        target,
        Some(r <= max),
    )
}

/// The same "M µs vs B µs = R×" with no target: a comparison shown for what it explains.
pub fn info_ratio_row(figure: &str, measured: Duration, baseline: Duration) -> Row {
    row(figure, ratio_text(measured, baseline), "-", None)
}

fn ratio_text(measured: Duration, baseline: Duration) -> String {
    let r = ratio(measured, baseline);
    format!("{:.0} µs vs {:.0} µs = {r:.2}×", us(measured), us(baseline))
}

pub fn print_header() {
    println!(
        "{:<58} {:<34} {:<10} result",
        "figure", "measured", "target"
    );
}

pub fn verdict(pass: Option<bool>) -> &'static str {
    match pass {
        Some(true) => "pass",
        Some(false) => "FAIL",
        None => "-",
    }
}

/// One Markdown table row.
pub fn markdown_row(r: &Row) -> String {
    format!(
        "| {} | {} | {} | {} |\n",
        r.figure.trim(),
        r.measured,
        r.target,
        verdict(r.pass)
    )
}

/// Where and on what a run happened, for the section's first line.
pub struct RunInfo {
    pub command: String,
    pub date: String,
    pub commit: String,
    pub cores: usize,
    pub cpu: String,
    pub took: Duration,
}

impl RunInfo {
    /// The current machine, time and git commit.
    pub fn here(root: &Path, command: &str, took: Duration) -> Self {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|c| {
                c.lines().find_map(|l| {
                    l.strip_prefix("model name")
                        .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
                })
            })
            .unwrap_or_else(|| "unknown CPU".into());
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        RunInfo {
            command: command.into(),
            date: Timestamp::now().to_rfc3339(),
            commit: git_commit(root),
            cores,
            cpu,
            took,
        }
    }
}

/// `git rev-parse --short HEAD`, marked when the working tree differs from it (the binaries
/// measured are built from the working tree).
fn git_commit(root: &Path) -> String {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(root)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    match git(&["rev-parse", "--short", "HEAD"]) {
        Some(head)
            if git(&["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|s| s.is_empty()) =>
        {
            head
        }
        Some(head) => format!("{head} + uncommitted changes"),
        None => "unknown".into(),
    }
}

/// The whole results section, markers included.
pub fn render_section(rows: &[Row], info: &RunInfo) -> String {
    let mut section = format!(
        "{BEGIN}\n## Results of `make bench`\n\nCommand: `{}` · date: {} · commit: {} · machine: {} cores, {} · took {:.0} s.\n\
         Latency figures: {SAMPLES} samples each after {WARMUP} warm-up rounds, the compared variants interleaved; DynamoDB Local on loopback.\n\n\
         | figure | measured | target | result |\n|---|---|---|---|\n",
        info.command,
        info.date,
        info.commit,
        info.cores,
        info.cpu,
        info.took.as_secs_f64()
    );
    for r in rows {
        section.push_str(&markdown_row(r));
    }
    section.push_str(END);
    section
}

/// `text` with its results section replaced by `section`, or `section` appended when the
/// markers are missing.
pub fn splice(text: &str, section: &str) -> String {
    match (text.find(BEGIN), text.find(END)) {
        (Some(b), Some(e)) if b < e => {
            format!("{}{section}{}", &text[..b], &text[e + END.len()..])
        }
        _ => format!("{text}\n{section}\n"),
    }
}

pub fn write_report(root: &Path, rows: &[Row], info: &RunInfo) {
    let path = root.join("BENCHMARKS.md");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let new = splice(&text, &render_section(rows, info));
    if let Err(e) = std::fs::write(&path, new) {
        eprintln!("bench: writing {}: {e}", path.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Vec<Row> {
        vec![
            Row {
                figure: "cold init".into(),
                measured: "2.57 ms vs 2.03 ms = 1.27×".into(),
                target: "≤ 1.5×".into(),
                pass: Some(true),
            },
            Row {
                figure: "  … informational".into(),
                measured: "5599 ns/call".into(),
                target: "-".into(),
                pass: None,
            },
            Row {
                figure: "p99".into(),
                measured: "1.40×".into(),
                target: "≤ 1.25×".into(),
                pass: Some(false),
            },
        ]
    }

    fn info() -> RunInfo {
        RunInfo {
            command: "make bench".into(),
            date: "2026-11-23T16:11:38Z".into(),
            commit: "d3062b8".into(),
            cores: 2,
            cpu: "AMD EPYC".into(),
            took: Duration::from_millis(119_400),
        }
    }

    #[test]
    fn verdicts_are_pass_fail_or_a_dash() {
        assert_eq!(verdict(Some(true)), "pass");
        assert_eq!(verdict(Some(false)), "FAIL");
        assert_eq!(verdict(None), "-");
    }

    #[test]
    fn a_markdown_row_trims_the_indent_of_sub_figures() {
        assert_eq!(
            markdown_row(&rows()[1]),
            "| … informational | 5599 ns/call | - | - |\n"
        );
    }

    #[test]
    fn the_section_names_the_run_and_lists_every_row_between_the_markers() {
        let s = render_section(&rows(), &info());
        let expected = format!(
            "{BEGIN}\n## Results of `make bench`\n\n\
             Command: `make bench` · date: 2026-11-23T16:11:38Z · commit: d3062b8 · machine: 2 cores, AMD EPYC · took 119 s.\n\
             Latency figures: {SAMPLES} samples each after {WARMUP} warm-up rounds, the compared variants interleaved; DynamoDB Local on loopback.\n\n\
             | figure | measured | target | result |\n|---|---|---|---|\n\
             | cold init | 2.57 ms vs 2.03 ms = 1.27× | ≤ 1.5× | pass |\n\
             | … informational | 5599 ns/call | - | - |\n\
             | p99 | 1.40× | ≤ 1.25× | FAIL |\n\
             {END}"
        );
        assert_eq!(s, expected);
    }

    #[test]
    fn splice_replaces_only_the_section_and_keeps_the_text_around_it() {
        let text = format!("# Benchmarks\n\nintro\n\n{BEGIN}\nold rows\n{END}\n\n## Notes\nkept\n");
        let new = splice(&text, &format!("{BEGIN}\nnew rows\n{END}"));
        assert_eq!(
            new,
            format!("# Benchmarks\n\nintro\n\n{BEGIN}\nnew rows\n{END}\n\n## Notes\nkept\n")
        );
    }

    #[test]
    fn splice_appends_the_section_when_the_markers_are_missing_or_reversed() {
        let section = format!("{BEGIN}\nrows\n{END}");
        assert_eq!(splice("# B\n", &section), format!("# B\n\n{section}\n"));
        let reversed = format!("{END}\n{BEGIN}\n");
        assert_eq!(
            splice(&reversed, &section),
            format!("{reversed}\n{section}\n")
        );
    }
}
