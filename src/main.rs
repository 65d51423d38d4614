#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    promo_studio::cli::run()
}
