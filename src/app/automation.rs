//! Runs the window without a person: `--screenshot FILE.png [--screen S]`
//! waits until the screen's jobs are done, writes the rendered window and
//! exits; `--bench-frames` keeps frames coming while the whole flow runs and
//! prints start-up time and frame-time percentiles.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{PromoStudioApp, StartOptions};
use crate::core::output;

/// Exit status of an automated run (0 = fine).
static EXIT_STATUS: AtomicU8 = AtomicU8::new(0);

pub fn exit_code() -> std::process::ExitCode {
    std::process::ExitCode::from(EXIT_STATUS.load(Ordering::Relaxed))
}

fn fail(message: &str) {
    eprintln!("error: {message}");
    EXIT_STATUS.store(1, Ordering::Relaxed);
}

/// Frame timing, recorded every frame.
#[derive(Clone, Debug, Default)]
pub struct FrameTimes {
    /// From process start to the end of the first frame.
    pub first_frame: Option<Duration>,
    /// From process start to the first frame with the dataset loaded.
    pub data_shown: Option<Duration>,
    last_frame_start: Option<Instant>,
    /// Time between consecutive frame starts while a job was running (ms).
    pub busy_intervals_ms: Vec<f64>,
    /// Time spent in the app's own frame code while a job was running (ms).
    pub busy_frame_ms: Vec<f64>,
    /// Time between frame starts with no job running (ms): the renderer's own pace.
    pub idle_intervals_ms: Vec<f64>,
    /// Time between frame starts while a job of the shown screen ran (ms):
    /// the simulation, with `--screen simulation`.
    pub screen_job_intervals_ms: Vec<f64>,
}

impl FrameTimes {
    /// `busy`: a job is running; `screen_busy`: one of the shown screen's.
    pub fn record(&mut self, started: Instant, frame_started: Instant, busy: bool, screen_busy: bool) {
        let now = Instant::now();
        self.first_frame.get_or_insert(now - started);
        let interval = self.last_frame_start.map(|last| (frame_started - last).as_secs_f64() * 1000.0);
        if screen_busy {
            self.screen_job_intervals_ms.extend(interval);
        }
        if busy {
            self.busy_intervals_ms.extend(interval);
            self.busy_frame_ms.push((now - frame_started).as_secs_f64() * 1000.0);
        } else {
            self.idle_intervals_ms.extend(interval);
        }
        self.last_frame_start = Some(frame_started);
    }
}

/// The `q`-quantile (0..1) of `values`, nearest rank.
pub fn percentile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

/// What `--bench` measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Bench {
    /// Start-up to the first frame, and to the first frame with the data loaded.
    Startup,
    /// Frame times while the whole flow runs, frames drawn continuously.
    Frames,
}

enum Phase {
    /// Waiting for the flow (load → segments → recommendations) to finish.
    Working,
    /// Letting layout settle for a few frames before the picture.
    Settling(u32),
    WaitingForPicture(Arc<Mutex<Option<Result<(), String>>>>),
}

pub struct Automation {
    options: StartOptions,
    phase: Phase,
    started: Instant,
}

/// An automated run gives up after this long.
const TIMEOUT: Duration = Duration::from_secs(600);

impl Automation {
    pub fn new(options: StartOptions, ctx: &egui::Context) -> Automation {
        // The pointer of a headless display rests mid-window; no tooltips in the pictures.
        ctx.all_styles_mut(|s| s.interaction.tooltip_delay = 1.0e6);
        // Pictures of the light theme: PROMO_STUDIO_THEME=light.
        match std::env::var("PROMO_STUDIO_THEME").as_deref() {
            Ok("light") => ctx.set_theme(egui::Theme::Light),
            Ok("dark") => ctx.set_theme(egui::Theme::Dark),
            _ => {}
        }
        Automation { options, phase: Phase::Working, started: Instant::now() }
    }

    /// Whether the flow has run on from the load as far as it goes by itself.
    fn flow_done(app: &PromoStudioApp) -> bool {
        !app.is_working() && app.dataset().is_some() && app.flow.is_settled()
    }

    /// Advances one frame; true when the run is over (the window is closing).
    pub fn step(&mut self, app: &mut PromoStudioApp, ctx: &egui::Context) -> bool {
        if app.dataset().is_some() && app.frame_times.data_shown.is_none() {
            app.frame_times.data_shown = Some(app.started.elapsed());
        }
        if self.options.bench == Some(Bench::Startup) && app.frame_times.data_shown.is_some() {
            self.finish(app, ctx);
            return true;
        }
        if self.options.bench == Some(Bench::Frames) {
            // Frames as fast as they come, to see whether the jobs slow them.
            ctx.request_repaint();
        } else {
            ctx.request_repaint_after(Duration::from_millis(200));
        }
        let failed =
            app.dataset().is_none() && app.jobs.is_idle() && app.notices.iter().any(|n| n.level == super::Level::Error);
        // A benchmark on a large log runs the whole flow first: it gets longer.
        let limit = if self.options.bench.is_some() { 3 * TIMEOUT } else { TIMEOUT };
        if failed || self.started.elapsed() > limit {
            let why = app.notices.last().map_or("timed out".to_string(), |n| n.text.clone());
            fail(&format!("the app did not finish its work: {why}"));
            // The frames drawn so far are still a measurement (of a job that outlasts the limit).
            if self.options.bench.is_some() {
                print_frame_times(app, false);
            }
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            return true;
        }
        match &self.phase {
            Phase::Working => {
                let asked_for = super::views::current(app).on_demand;
                let ready = match (asked_for, self.options.bench) {
                    // Frames while the screen's own job runs: it starts as soon as its
                    // inputs are there, and the run ends with it, whatever else is running.
                    (Some(done), Some(Bench::Frames)) => {
                        let screen = super::views::current(app);
                        done(app) && !screen.busy_with.iter().any(|k| app.jobs.is_running(k))
                    }
                    (Some(done), _) => Self::flow_done(app) && done(app),
                    (None, _) => Self::flow_done(app),
                };
                if ready {
                    self.phase = Phase::Settling(0);
                }
                false
            }
            Phase::Settling(n) if *n < if self.options.bench.is_some() { 120 } else { 5 } => {
                self.phase = Phase::Settling(n + 1);
                false
            }
            Phase::Settling(_) => match self.options.screenshot.clone() {
                Some(path) => {
                    let slot = Arc::new(Mutex::new(None));
                    let inner = slot.clone();
                    let repaint = ctx.clone();
                    ctx.request_screenshot(move |image| {
                        let saved = save_png(&path, &image);
                        if let Ok(mut s) = inner.lock() {
                            *s = Some(saved);
                        }
                        repaint.request_repaint();
                    });
                    self.phase = Phase::WaitingForPicture(slot);
                    false
                }
                None => {
                    self.finish(app, ctx);
                    true
                }
            },
            Phase::WaitingForPicture(slot) => {
                let saved = slot.lock().ok().and_then(|mut s| s.take());
                match saved {
                    None => false,
                    Some(result) => {
                        match result {
                            Ok(()) => println!(
                                "screenshot: {} screen → {}",
                                super::views::current(app).title,
                                self.options.screenshot.as_ref().map(|p| p.display().to_string()).unwrap_or_default()
                            ),
                            Err(e) => fail(&e),
                        }
                        self.finish(app, ctx);
                        true
                    }
                }
            }
        }
    }

    fn finish(&self, app: &PromoStudioApp, ctx: &egui::Context) {
        if self.options.bench.is_some() {
            print_frame_times(app, true);
        }
        ctx.send_viewport_cmd(egui::ViewportCommand::Close);
    }
}

/// The benchmark's figures as one JSON line; `finished`: whether the work ended
/// before the time limit.
fn print_frame_times(app: &PromoStudioApp, finished: bool) {
    let t = &app.frame_times;
    let ms = |d: Option<Duration>| d.map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0);
    println!(
        "{}",
        serde_json::json!({
            "finished": finished,
            "first_frame_ms": ms(t.first_frame),
            "data_shown_ms": ms(t.data_shown),
            "busy_frames": t.busy_intervals_ms.len(),
            "frame_interval_p50_ms": percentile(&t.busy_intervals_ms, 0.5),
            "frame_interval_p99_ms": percentile(&t.busy_intervals_ms, 0.99),
            "frame_interval_max_ms": percentile(&t.busy_intervals_ms, 1.0),
            "app_frame_p99_ms": percentile(&t.busy_frame_ms, 0.99),
            "screen_job_frames": t.screen_job_intervals_ms.len(),
            "screen_job_interval_p50_ms": percentile(&t.screen_job_intervals_ms, 0.5),
            "screen_job_interval_p99_ms": percentile(&t.screen_job_intervals_ms, 0.99),
            "screen_job_interval_max_ms": percentile(&t.screen_job_intervals_ms, 1.0),
            "idle_frames": t.idle_intervals_ms.len(),
            "idle_interval_p50_ms": percentile(&t.idle_intervals_ms, 0.5),
            "idle_interval_p99_ms": percentile(&t.idle_intervals_ms, 0.99),
            "total_s": app.started.elapsed().as_secs_f64(),
        })
    );
}

fn save_png(path: &std::path::Path, image: &egui::ColorImage) -> Result<(), String> {
    let [w, h] = image.size;
    let mut rgba = Vec::with_capacity(w * h * 4);
    for p in &image.pixels {
        rgba.extend_from_slice(&p.to_array());
    }
    let buffer = image::RgbaImage::from_raw(w as u32, h as u32, rgba).ok_or("screenshot has the wrong size")?;
    output::write_atomically(path, |out| buffer.write_to(out, image::ImageFormat::Png).map_err(|e| e.to_string()))
        .map_err(|e| format!("{}: {}", e.path, e.message))
}

/// For `--screen`: a screen's title, in any case.
pub fn parse_screen(name: &str) -> Result<String, String> {
    let titles = super::screen_titles();
    titles.iter().find(|t| t.eq_ignore_ascii_case(name)).map(|t| t.to_string()).ok_or_else(|| {
        format!(
            "unknown screen '{name}': use {}",
            titles.iter().map(|t| t.to_lowercase()).collect::<Vec<_>>().join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.5), 50.0);
        assert_eq!(percentile(&v, 0.99), 99.0);
        assert_eq!(percentile(&v, 1.0), 100.0);
        assert!(percentile(&[], 0.5).is_nan());
    }
}
