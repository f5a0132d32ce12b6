// Shared by the build scripts of the crates that link libtorch (included with `include!`).
//
// Why: rustc links with `--as-needed`, which drops libtorch_cuda.so because no symbol of it is
// referenced directly, so CUDA would silently be unavailable on a GPU machine (tch-rs#980). Forcing
// `-ltorch` with `--no-as-needed` keeps the CUDA libraries in DT_NEEDED. The RUNPATH points at the
// libtorch we built against; on another machine LD_LIBRARY_PATH overrides it (new dtags).
fn link_torch() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    if let Ok(lib_dir) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,--enable-new-dtags");
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib_dir}");
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
        println!("cargo:rustc-link-arg=-L{lib_dir}");
        println!("cargo:rustc-link-arg=-ltorch");
    }
}
