//! Imports a GGUF into a Hugging Face folder: `import [import-gguf] <model.gguf> <out_dir> [bf16|f16|f32]`.
//! (The optional `import-gguf` word lets scripts/fetch-models.sh use this binary as `RLXF_BIN`.)

use std::path::Path;
use std::process::ExitCode;

use rlxf_gguf::{import_gguf, ImportOptions};

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("import-gguf") {
        args.remove(0);
    }
    let (gguf, out, dtype) = match args.as_slice() {
        [g, o] => (g, o, None),
        [g, o, d] => (g, o, Some(d)),
        _ => {
            eprintln!("usage: import [import-gguf] <model.gguf> <out_dir> [bf16|f16|f32]");
            return ExitCode::from(2);
        }
    };
    let mut opts = ImportOptions::default();
    if let Some(d) = dtype {
        match d.trim_start_matches("--dtype=").parse() {
            Ok(d) => opts.dtype = d,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let start = std::time::Instant::now();
    match import_gguf(Path::new(gguf), Path::new(out), &opts) {
        Ok(r) => {
            println!(
                "imported {} ({} tensors, {} parameters, source types {:?}) into {} as {} in {:.1}s",
                r.architecture,
                r.tensors,
                r.parameters,
                r.quant_types,
                r.out_dir.display(),
                opts.dtype,
                start.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
