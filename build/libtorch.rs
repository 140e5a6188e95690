// Shared by the build scripts of the crate and of the Python extension (each `include!`s it):
// both link libtorch and must find it at run time without LD_LIBRARY_PATH.

/// Rpaths the folders of the libtorch that `scripts/setup` linked into `<root>/.whosaid`, or of
/// `$LIBTORCH` (relative paths are taken from `root`).
fn rpath_libtorch(root: &std::path::Path) {
    use std::path::{Path, PathBuf};
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    let libtorch = std::env::var_os("LIBTORCH")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".whosaid/libtorch"));
    let libtorch = if libtorch.is_absolute() {
        libtorch
    } else {
        root.join(libtorch)
    };
    // The links in .whosaid point into the unpacked wheels; rpath the real folders, where
    // libtorch_cpu.so sits beside libc10.so and libgomp, and the CUDA wheels it links.
    let Ok(real) = libtorch.join("lib/libtorch_cpu.so").canonicalize() else {
        return;
    };
    let torch_lib = real.parent().expect("a file has a parent").to_path_buf();
    let mut dirs = vec![torch_lib.clone()];
    if let Some(site) = torch_lib.parent().and_then(Path::parent) {
        for sub in ["nvidia/cuda_runtime/lib", "nvidia/cuda_cupti/lib"] {
            if site.join(sub).is_dir() {
                dirs.push(site.join(sub));
            }
        }
    }
    // DT_RPATH (not RUNPATH) so that it also serves libtorch_cpu.so's own dependencies.
    println!("cargo:rustc-link-arg=-Wl,--disable-new-dtags");
    for dir in dirs {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
    }
}
