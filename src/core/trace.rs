//! Phase timings for performance work: set `PROMO_STUDIO_TRACE=1` and each
//! phase prints its wall time, the CPU time and page faults it cost (Linux),
//! and the process's resident and peak memory to stderr.

use std::time::Instant;

pub struct Phase {
    name: &'static str,
    start: Instant,
    usage: Option<Usage>,
}

pub fn phase(name: &'static str) -> Phase {
    let on = std::env::var_os("PROMO_STUDIO_TRACE").is_some();
    Phase { name, start: Instant::now(), usage: on.then(Usage::now) }
}

impl Drop for Phase {
    fn drop(&mut self) {
        let Some(before) = self.usage else { return };
        let spent = Usage::now().since(before);
        eprintln!(
            "trace: {:<24} {:>7.3} s   cpu {:>6.2} s   faults {:>7}   now {:>6} MB   peak {:>6} MB",
            self.name,
            self.start.elapsed().as_secs_f64(),
            spent.cpu_s,
            spent.faults,
            status_mb("VmRSS:").map_or("?".into(), |m| m.to_string()),
            peak_rss_mb().map_or("?".into(), |m| m.to_string())
        );
    }
}

/// CPU seconds (user + system) and minor page faults of the process so far.
#[derive(Clone, Copy, Default)]
struct Usage {
    cpu_s: f64,
    faults: i64,
}

impl Usage {
    #[cfg(unix)]
    fn now() -> Usage {
        // SAFETY: getrusage fills the zeroed struct it is given.
        let mut u: libc::rusage = unsafe { std::mem::zeroed() };
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) } != 0 {
            return Usage::default();
        }
        let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
        Usage { cpu_s: secs(u.ru_utime) + secs(u.ru_stime), faults: u.ru_minflt }
    }

    #[cfg(not(unix))]
    fn now() -> Usage {
        Usage::default()
    }

    fn since(self, before: Usage) -> Usage {
        Usage { cpu_s: self.cpu_s - before.cpu_s, faults: self.faults - before.faults }
    }
}

/// The process's peak resident memory so far (Linux), in MB.
pub fn peak_rss_mb() -> Option<u64> {
    status_mb("VmHWM:")
}

/// A memory figure of /proc/self/status (Linux), in MB.
fn status_mb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}
