//! The `_full` module links libtorch: rpath the one `scripts/setup` installed, as the binary does.
use std::path::PathBuf;

include!("../build/libtorch.rs");

fn main() {
    println!("cargo:rerun-if-changed=../build/libtorch.rs");
    if std::env::var_os("CARGO_FEATURE_FULL").is_none() {
        return;
    }
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets this"));
    let root = manifest.parent().expect("python/ sits in the repository");
    rpath_libtorch(root);
}
