//! The one binary: the desktop app by default, a subcommand per stage for
//! scripts. This is the only place that knows both the app and the command line.

use std::path::PathBuf;

use clap::Parser;
use promo_studio::{app, cli};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
#[command(
    name = "promo-studio",
    version,
    about = "Customer segments, recommendations and campaign simulation for e-commerce marketers. Without a command: the desktop app."
)]
struct Arguments {
    #[command(subcommand)]
    command: Option<cli::Command>,
    /// Open the app, wait until the screen's work is done, write the window to this PNG and exit.
    #[arg(long, value_name = "FILE.png")]
    screenshot: Option<PathBuf>,
    /// The screen to open: data, segments or recommendations.
    #[arg(long, value_parser = app::parse_screen)]
    screen: Option<String>,
    /// Open the app on this events file instead of the last one (or the bundled sample).
    #[arg(long, value_name = "FILE", value_parser = cli::events_path)]
    events: Option<PathBuf>,
    /// startup: time to the first frame and to the data on screen; frames: run the whole flow
    /// with frames drawn continuously and report frame-time percentiles. Prints JSON.
    #[arg(long, value_enum)]
    bench: Option<app::Bench>,
}

fn main() -> std::process::ExitCode {
    // No transparent huge pages for this process. mimalloc asks for them on
    // its arenas, so the first touch of every 2 MiB page zeroes all of it;
    // polars fills many column buffers once and frees them, and on a 10M-event
    // import that zeroing took a fifth of the CPU time (measured: system time
    // 0.8–1.6 s with huge pages, 0.3–0.6 s without; peak memory no higher).
    // SAFETY: a process-wide flag with no pointers involved.
    #[cfg(target_os = "linux")]
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
    let arguments = Arguments::parse();
    match arguments.command {
        Some(command) => cli::run(command),
        None => app::run(app::StartOptions {
            screenshot: arguments.screenshot,
            screen: arguments.screen,
            events: arguments.events,
            bench: arguments.bench,
        }),
    }
}
