include!("../../build/link_torch.rs");

fn main() {
    link_torch();
    compile_device_memory_shim();
}

/// cpp/device_memory.cpp against the headers of the libtorch that tch links (`<lib>/../include`, the
/// layout of both the pip wheel and the libtorch archive).
fn compile_device_memory_shim() {
    println!("cargo:rerun-if-changed=cpp/device_memory.cpp");
    let lib_dir = std::env::var("DEP_TCH_LIBTORCH_LIB").expect("torch-sys exports DEP_TCH_LIBTORCH_LIB");
    let include = std::path::Path::new(&lib_dir).join("../include");
    cc::Build::new()
        .cpp(true)
        .file("cpp/device_memory.cpp")
        .include(&include)
        .std("c++17")
        .flag("-D_GLIBCXX_USE_CXX11_ABI=1")
        .warnings(false)
        .compile("rlxf_device_memory");
}
