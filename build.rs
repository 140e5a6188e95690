//! Makes the binary find libtorch and the encoder that `scripts/setup` installed, without
//! LD_LIBRARY_PATH or flags at run time.
use std::env;
use std::path::PathBuf;

include!("build/libtorch.rs");

fn main() {
    println!("cargo:rerun-if-changed=.whosaid");
    println!("cargo:rerun-if-changed=build/libtorch.rs");
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets this"));
    if env::var_os("CARGO_FEATURE_TRANSFORMER").is_none() {
        return;
    }
    rpath_libtorch(&manifest);
    let encoder = manifest.join(".whosaid/encoder");
    let encoder = encoder.canonicalize().unwrap_or(encoder);
    println!(
        "cargo:rustc-env=WHOSAID_DEFAULT_ENCODER={}",
        encoder.display()
    );
}
