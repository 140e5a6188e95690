//! Makes the binary find libtorch and the encoder that `scripts/setup` installed, without
//! LD_LIBRARY_PATH or flags at run time.
use std::env;
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    println!("cargo:rerun-if-changed=.whosaid");
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets this"));
    if env::var_os("CARGO_FEATURE_TRANSFORMER").is_none() {
        return;
    }
    let libtorch = env::var_os("LIBTORCH")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join(".whosaid/libtorch"));
    let libtorch = if libtorch.is_absolute() {
        libtorch
    } else {
        manifest.join(libtorch)
    };
    // The links in .whosaid point into the unpacked wheels; rpath the real folders, where
    // libtorch_cpu.so sits beside libc10.so and libgomp, and the CUDA wheels it links.
    if let Ok(real) = libtorch.join("lib/libtorch_cpu.so").canonicalize() {
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
    let encoder = manifest.join(".whosaid/encoder");
    let encoder = encoder.canonicalize().unwrap_or(encoder);
    println!(
        "cargo:rustc-env=WHOSAID_DEFAULT_ENCODER={}",
        encoder.display()
    );
}
