//! A one-line progress display on a terminal's stderr while a run goes:
//! rows read, bytes of the total when it is known, rate, rejects and an
//! ETA. A thread of its own redraws it every `REDRAW_INTERVAL` from the
//! engine's counters; it is erased when the run ends, before the summary.

use std::io::Write;
use std::sync::Arc;
use std::sync::mpsc::{RecvTimeoutError, Sender, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use runink_engine::{ProgressSnapshot, RunProgress};

/// How often the line is redrawn.
const REDRAW_INTERVAL: Duration = Duration::from_millis(200);
/// Runs shorter than this never show the line: no flicker on small runs.
const FIRST_DRAW_AFTER: Duration = Duration::from_millis(400);
/// Cells of the bar drawn when the input's size is known.
const BAR_CELLS: usize = 24;

pub struct ProgressBar {
    stop: Sender<()>,
    drawer: JoinHandle<()>,
}

impl ProgressBar {
    pub fn start(progress: Arc<RunProgress>, total_bytes: Option<u64>) -> Self {
        let (stop, stopped) = channel::<()>();
        let started = Instant::now();
        let drawer = std::thread::spawn(move || {
            let mut drawn = false;
            // Until `finish` sends (or the bar is dropped), redraw.
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(REDRAW_INTERVAL) {
                let elapsed = started.elapsed();
                if elapsed < FIRST_DRAW_AFTER {
                    continue;
                }
                let line = render_line(progress.snapshot(), elapsed, total_bytes);
                let mut err = std::io::stderr().lock();
                let _ = write!(err, "\r\x1b[2K{line}");
                let _ = err.flush();
                drawn = true;
            }
            if drawn {
                let mut err = std::io::stderr().lock();
                let _ = write!(err, "\r\x1b[2K");
                let _ = err.flush();
            }
        });
        Self { stop, drawer }
    }

    /// Stops drawing and erases the line.
    pub fn finish(self) {
        let _ = self.stop.send(());
        let _ = self.drawer.join();
    }
}

/// The progress line for `now`, `elapsed` into the run.
pub fn render_line(now: ProgressSnapshot, elapsed: Duration, total_bytes: Option<u64>) -> String {
    let seconds = elapsed.as_secs_f64().max(1e-3);
    let rate = now.rows_in as f64 / seconds;
    let mut line = String::new();
    if let Some(total) = total_bytes.filter(|t| *t > 0) {
        let done = (now.bytes_in as f64 / total as f64).clamp(0.0, 1.0);
        let filled = (done * BAR_CELLS as f64).round() as usize;
        line.push_str(&format!(
            "[{}{}] {:>3.0}%  ",
            "#".repeat(filled),
            "-".repeat(BAR_CELLS - filled),
            done * 100.0
        ));
    }
    line.push_str(&format!("{} rows", grouped(now.rows_in)));
    match total_bytes {
        Some(total) => line.push_str(&format!(
            "  {} of {}",
            bytes_text(now.bytes_in),
            bytes_text(total)
        )),
        None if now.bytes_in > 0 => line.push_str(&format!("  {}", bytes_text(now.bytes_in))),
        None => {}
    }
    line.push_str(&format!("  {} rows/s", grouped(rate as u64)));
    if now.rows_rejected > 0 {
        line.push_str(&format!("  {} rejected", grouped(now.rows_rejected)));
    }
    if let Some(total) = total_bytes
        && now.bytes_in > 0
        && now.bytes_in < total
    {
        let left = (total - now.bytes_in) as f64 * seconds / now.bytes_in as f64;
        line.push_str(&format!("  ETA {}", clock(left)));
    }
    line
}

/// 1234567 → `1,234,567`.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn bytes_text(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Seconds as `m:ss`, or `h:mm:ss` past an hour.
fn clock(seconds: f64) -> String {
    let total = seconds.round() as u64;
    let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(rows_in: u64, bytes_in: u64, rows_rejected: u64) -> ProgressSnapshot {
        ProgressSnapshot {
            rows_in,
            bytes_in,
            rows_out: rows_in - rows_rejected,
            rows_rejected,
        }
    }

    #[test]
    fn a_known_size_shows_a_bar_and_an_eta() {
        let line = render_line(
            snapshot(1_000_000, 256 * 1024 * 1024, 1_234),
            Duration::from_secs(2),
            Some(1024 * 1024 * 1024),
        );
        assert_eq!(
            line,
            "[######------------------]  25%  1,000,000 rows  256.0 MiB of 1.0 GiB  \
             500,000 rows/s  1,234 rejected  ETA 0:06"
        );
    }

    #[test]
    fn an_unknown_size_shows_rows_and_rate_only() {
        let line = render_line(snapshot(7_500, 0, 0), Duration::from_secs(3), None);
        assert_eq!(line, "7,500 rows  2,500 rows/s");
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1_000), "1,000");
        assert_eq!(grouped(12_345_678), "12,345,678");
        assert_eq!(bytes_text(512), "512 B");
        assert_eq!(bytes_text(1536), "1.5 KiB");
        assert_eq!(clock(59.4), "0:59");
        assert_eq!(clock(3_725.0), "1:02:05");
    }
}
