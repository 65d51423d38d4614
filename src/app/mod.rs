//! The desktop app. The window itself arrives with the GUI issue; until then
//! starting without a command shows what the bundled sample holds and the
//! commands that work today.

use std::process::ExitCode;

use crate::cli::sample_events_path;
use crate::core::import::load_events;

pub fn run_default() -> ExitCode {
    println!("Promo Studio {}", env!("CARGO_PKG_VERSION"));
    println!("The desktop window is not built yet (next: the GUI issue). The bundled sample data:\n");
    let path = sample_events_path();
    match load_events(&path, &[]) {
        Ok(loaded) => print!("{}", loaded.report),
        Err(e) => eprintln!("error: {e}"),
    }
    println!("\nCommands available now (promo-studio <command> --help for details):");
    println!("  inspect          --events F [--json]                quality report");
    println!("  features         --events F [--as-of T] --out F     customer features (DATA.md §2)");
    println!("  generate-sample  --out DIR [--customers N] [--seed S]  the demo shop");
    println!("  generate-events  --rows N --format csv|parquet --out F  benchmark logs");
    println!("\nTry: promo-studio features --events {} --out features.csv", path.display());
    ExitCode::SUCCESS
}
