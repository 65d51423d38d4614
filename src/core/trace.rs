//! Phase timings for performance work: set `PROMO_STUDIO_TRACE=1` and each
//! phase prints its wall time to stderr.

use std::time::Instant;

pub struct Phase {
    name: &'static str,
    start: Instant,
    on: bool,
}

pub fn phase(name: &'static str) -> Phase {
    Phase { name, start: Instant::now(), on: std::env::var_os("PROMO_STUDIO_TRACE").is_some() }
}

impl Drop for Phase {
    fn drop(&mut self) {
        if self.on {
            eprintln!(
                "trace: {:<24} {:>8.3} s   peak {:>6} MB",
                self.name,
                self.start.elapsed().as_secs_f64(),
                peak_rss_mb().map_or("?".into(), |m| m.to_string())
            );
        }
    }
}

/// The process's peak resident memory so far (Linux), in MB.
pub fn peak_rss_mb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}
