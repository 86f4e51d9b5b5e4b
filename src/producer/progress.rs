//! Progress on stderr while producing: an indicatif bar on a terminal (records, current rate,
//! resends, per-shard counts), a plain line every few seconds otherwise (logs, CI).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::stats::{Snapshot, Stats};

/// How to show progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProgressMode {
    /// An indicatif bar (stderr is a terminal).
    Bar,
    /// A plain line at this interval.
    Lines(Duration),
}

impl ProgressMode {
    /// A bar on a terminal, else a line every 5 s.
    pub(crate) fn for_stderr() -> Self {
        use std::io::IsTerminal;
        if std::io::stderr().is_terminal() {
            Self::Bar
        } else {
            Self::Lines(Duration::from_secs(5))
        }
    }
}

/// The running display; stop it with [`Reporter::finish`].
pub(crate) struct Reporter {
    task: Option<tokio::task::JoinHandle<()>>,
    bar: Option<ProgressBar>,
}

impl Reporter {
    /// Starts showing `stats`; `total` is the record count when known.
    pub fn start(stats: Arc<Stats>, mode: ProgressMode, total: Option<u64>) -> Self {
        match mode {
            ProgressMode::Bar => {
                let bar = match total {
                    Some(n) => ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stderr())
                        .with_style(style(
                            "{spinner} [{elapsed_precise}] {bar:30} {human_pos}/{human_len} records  {msg}",
                        )),
                    None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
                        .with_style(style("{spinner} [{elapsed_precise}] {human_pos} records  {msg}")),
                };
                let b = bar.clone();
                let task = tokio::spawn(async move {
                    let mut rate = RateWindow::default();
                    let mut tick = tokio::time::interval(Duration::from_millis(200));
                    loop {
                        tick.tick().await;
                        let s = stats.snapshot();
                        let r = rate.update(Instant::now(), s.records);
                        b.set_position(s.records);
                        b.set_message(message(&s, r, 8));
                    }
                });
                Self {
                    task: Some(task),
                    bar: Some(bar),
                }
            }
            ProgressMode::Lines(every) => {
                let task = tokio::spawn(async move {
                    let mut rate = RateWindow::default();
                    let mut tick = tokio::time::interval(every);
                    tick.tick().await;
                    rate.update(Instant::now(), 0);
                    loop {
                        tick.tick().await;
                        let s = stats.snapshot();
                        let r = rate.update(Instant::now(), s.records);
                        eprintln!("produce: {} records sent, {}", s.records, message(&s, r, 64));
                    }
                });
                Self {
                    task: Some(task),
                    bar: None,
                }
            }
        }
    }

    /// Stops the display and clears the bar.
    pub fn finish(mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

/// `2400/s · 12 resent · #0 600 #1 600 …` (at most `max_shards` shards).
fn message(s: &Snapshot, rate: f64, max_shards: usize) -> String {
    let mut m = format!("{rate:.0}/s · {} resent", s.retried);
    if !s.per_shard.is_empty() {
        m.push_str(" ·");
        for (shard, n) in s.per_shard.iter().take(max_shards) {
            let short = shard
                .strip_prefix("shardId-")
                .map(|d| d.trim_start_matches('0'))
                .map_or(shard.as_str(), |d| if d.is_empty() { "0" } else { d });
            m.push_str(&format!(" #{short} {n}"));
        }
        if s.per_shard.len() > max_shards {
            m.push_str(" …");
        }
    }
    m
}

/// The rate over roughly the last second.
#[derive(Default)]
struct RateWindow {
    points: VecDeque<(Instant, u64)>,
}

impl RateWindow {
    fn update(&mut self, now: Instant, records: u64) -> f64 {
        self.points.push_back((now, records));
        while self.points.len() > 2
            && self
                .points
                .front()
                .is_some_and(|(t, _)| now.duration_since(*t) > Duration::from_secs(1))
        {
            self.points.pop_front();
        }
        match (self.points.front(), self.points.back()) {
            (Some((t0, n0)), Some((t1, n1))) if t1 > t0 => {
                #[allow(clippy::cast_precision_loss)]
                let r = (n1 - n0) as f64 / t1.duration_since(*t0).as_secs_f64();
                r
            }
            _ => 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_abbreviates_shards() {
        let s = Snapshot {
            records: 10,
            retried: 2,
            per_shard: [
                ("shardId-000000000000".to_string(), 4),
                ("shardId-000000000012".to_string(), 6),
            ]
            .into_iter()
            .collect(),
            ..Snapshot::default()
        };
        assert_eq!(message(&s, 99.6, 8), "100/s · 2 resent · #0 4 #12 6");
        assert_eq!(message(&s, 0.0, 1), "0/s · 2 resent · #0 4 …");
    }

    #[test]
    fn rate_window_measures_the_last_second() {
        let t = Instant::now();
        let mut w = RateWindow::default();
        assert_eq!(w.update(t, 0), 0.0);
        let r = w.update(t + Duration::from_millis(500), 500);
        assert!((r - 1000.0).abs() < 1e-6);
        let r = w.update(t + Duration::from_millis(2500), 500);
        assert!(r < 1000.0);
    }
}
