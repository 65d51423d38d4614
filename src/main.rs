fn main() -> std::process::ExitCode {
    promo_studio::cli::run()
}
