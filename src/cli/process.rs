//! The process's settings for a run: threads, and the allocators.

use whosaid::{Error, Result};

/// jemalloc allocates for whosaid's own code, in place of glibc. Fast mode allocates a few
/// thousand small blocks a document, from hundreds of places, and glibc's malloc and free took
/// about a sixth of its time; with jemalloc's per-thread caches fast mode is 10-12% faster at
/// one thread and about 5% at two, for 4-8 MiB more memory (docs/BENCHMARKS.md, "jemalloc").
/// libtorch allocates through glibc still, hence [`limit_malloc_arenas`].
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// The machine's cores, the default thread count.
pub fn all_cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Sets rayon's thread count for the analysis.
pub fn set_threads(threads: Option<usize>) -> Result<()> {
    limit_malloc_arenas(threads.unwrap_or_else(all_cores));
    if let Some(threads) = threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads.max(1))
            .build_global()
            .map_err(|error| Error::Usage(error.to_string()))?;
    }
    Ok(())
}

/// Bounds glibc's malloc arenas by the threads that work (at least two). glibc gives threads
/// arenas of their own up to eight per core, and each keeps what its thread freed: the
/// transformer's copies allocate a window's activations (tens of MB) on threads of their own,
/// and with an arena each the default mode's peak memory at 2 threads was about 580 MiB,
/// with two arenas 500 MiB, no slower (PolNeAR dev, docs/BENCHMARKS.md). glibc's own
/// `MALLOC_ARENA_MAX`, where the environment sets it, is left to rule.
fn limit_malloc_arenas(threads: usize) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        let arenas = i32::try_from(threads.max(2)).unwrap_or(i32::MAX);
        // SAFETY: mallopt only sets a malloc parameter; it is called before the worker threads
        // start, and a refusal (a zero return) leaves glibc's default.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, arenas);
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = threads;
}

/// Has glibc's allocator keep freed memory for reuse, in the default mode. The encoder allocates
/// and frees buffers of megabytes for every window; by default glibc maps each afresh and
/// returns it on free, and the kernel's page faults and zeroing then cost a third of the
/// default mode's time. Fast mode has no such buffers and keeps glibc's defaults, which hold its
/// peak memory lower.
#[cfg(feature = "transformer")]
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters, before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 512 << 20);
    }
}
