include!("../../build/link_torch.rs");

fn main() {
    link_torch();
    compile_libtorch_shims();
}

/// The C++ shims for what tch does not expose (cpp/*.cpp), against the headers of the libtorch that tch
/// links (`<lib>/../include`, the layout of both the pip wheel and the libtorch archive).
fn compile_libtorch_shims() {
    const SHIMS: [&str; 6] = [
        "cpp/autocast.cpp",
        "cpp/device_memory.cpp",
        "cpp/fused_adamw.cpp",
        "cpp/stochastic_rounding.cpp",
        "cpp/swiglu_down.cpp",
        "cpp/token_logprobs.cpp",
    ];
    SHIMS.iter().chain(&["cpp/shim_error.h"]).for_each(|f| println!("cargo:rerun-if-changed={f}"));
    let lib_dir = std::env::var("DEP_TCH_LIBTORCH_LIB").expect("torch-sys exports DEP_TCH_LIBTORCH_LIB");
    let include = std::path::Path::new(&lib_dir).join("../include");
    cc::Build::new()
        .cpp(true)
        .files(SHIMS)
        .include(&include)
        .std("c++17")
        .flag("-D_GLIBCXX_USE_CXX11_ABI=1")
        .warnings(false)
        .compile("rlxf_libtorch_shims");
}
