// Embed libtorch's directory as an rpath so binaries and tests run without LD_LIBRARY_PATH.
use std::path::Path;

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    // `scripts/setup --cuda` leaves this marker; the slim CPU wheel also ships libtorch_cuda.so
    // but not the CUDA libraries it needs, so the file alone is no evidence.
    let cuda_marker = Path::new(&manifest).join(".libtorch-cuda");
    println!("cargo:rerun-if-changed={}", cuda_marker.display());
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    if let Ok(dir) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
        // A CUDA libtorch registers its CUDA backend only if libtorch_cuda is linked in.
        if cuda_marker.exists() {
            println!("cargo:rustc-link-arg=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
        }
    }
}
