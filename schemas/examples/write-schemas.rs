//! Writes the contract's JSON Schema files from the Rust types:
//! `events/{EventType}.v{N}.schema.json` for every catalogue entry and `envelope.schema.json`, each
//! with its examples from `examples/`. Removes schema files of types or versions that are no longer in
//! the catalogue. Run it after changing a payload type or an example:
//!
//! ```text
//! cargo run -p ledger-schemas --example write-schemas
//! ```
//!
//! The contract tests fail when the committed files differ from what this writes.

#[path = "support/generate.rs"]
#[allow(dead_code)] // shared with the contract tests, which use more of it
mod generate;

use std::process::ExitCode;

fn main() -> ExitCode {
    let dir = generate::crate_dir();
    let files = match generate::generate(&dir) {
        Ok(files) => files,
        Err(message) => {
            eprintln!("错误 (error): {message}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = std::fs::create_dir_all(dir.join("events")) {
        eprintln!(
            "错误 (error): 无法创建 (cannot create) {}: {e}",
            dir.join("events").display()
        );
        return ExitCode::FAILURE;
    }
    let (mut written, mut unchanged) = (0, 0);
    for (relative, text) in &files {
        let path = dir.join(relative);
        if std::fs::read_to_string(&path).is_ok_and(|old| old == *text) {
            unchanged += 1;
            continue;
        }
        if let Err(e) = std::fs::write(&path, text) {
            eprintln!(
                "错误 (error): 无法写入 (cannot write) {}: {e}",
                path.display()
            );
            return ExitCode::FAILURE;
        }
        println!("已写入 (wrote) {}", relative.display());
        written += 1;
    }
    for stray in generate::stray_schema_files(&dir, &files) {
        let path = dir.join(&stray);
        if !stray.to_string_lossy().ends_with(".schema.json") {
            eprintln!(
                "警告 (warning): {} 不是生成的文件, 未删除 (is not a generated file; left in place)",
                stray.display()
            );
            continue;
        }
        if let Err(e) = std::fs::remove_file(&path) {
            eprintln!(
                "错误 (error): 无法删除 (cannot remove) {}: {e}",
                path.display()
            );
            return ExitCode::FAILURE;
        }
        println!("已删除 (removed) {}", stray.display());
    }
    println!(
        "{written} 个文件已更新, {unchanged} 个未变 ({written} written, {unchanged} unchanged)"
    );
    ExitCode::SUCCESS
}
