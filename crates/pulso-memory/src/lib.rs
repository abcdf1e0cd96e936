//! How the plugin process gives memory back. Queries over millions of rows build large,
//! short-lived hash tables; glibc's allocator keeps freed memory in per-thread arenas, so the
//! resident size would ratchet up to the largest query ever run. Fewer arenas, large blocks
//! always mapped (so freeing returns them), and a periodic trim keep it near the live data.

use std::time::Duration;

const TRIM_EVERY: Duration = Duration::from_secs(5);

/// Tunes the allocator and starts the periodic trim; call once, inside the runtime.
pub fn manage() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only changes allocator parameters; called before the work starts.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
            libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
            libc::mallopt(libc::M_TRIM_THRESHOLD, 8 << 20);
        }
        tokio::spawn(async {
            let mut tick = tokio::time::interval(TRIM_EVERY);
            loop {
                tick.tick().await;
                // SAFETY: malloc_trim is thread-safe and only releases free memory.
                unsafe {
                    libc::malloc_trim(0);
                }
            }
        });
    }
}
