//! Builds the contract's JSON Schema files from the Rust types.
//!
//! Shared by the `write-schemas` example, which writes the files, and by the contract tests
//! (`tests/contract.rs`), which check that the committed files are exactly what this produces now. It
//! reads the payload examples (`examples/{EventType}.v{N}.json`, `examples/envelope.json`) because every
//! schema carries its examples in the `examples` keyword.
//!
//! Output is deterministic: object keys are sorted, except at the top of each file, where `$schema`,
//! `$id`, `title` and `description` come first and `examples` and `$defs` last, so that a reader meets
//! the contract before its examples and building blocks.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ledger_schemas::events::{CATALOGUE, CatalogueEntry};
use serde_json::Value;

/// The JSON Schema dialect every file declares.
pub const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// The base of every schema's `$id`. These are identifiers, not addresses: `.invalid` (RFC 2606) never
/// resolves, so no tool will try to fetch them; the path mirrors the file's place in this crate.
pub const ID_BASE: &str = "https://ledger.invalid/schemas/";

/// How to bring the files up to date, for messages (zh-CN first).
pub const REGENERATE: &str =
    "请运行 (run) `cargo run -p ledger-schemas --example write-schemas` 重新生成 (to regenerate)";

/// The crate's directory, which holds `events/`, `examples/` and `envelope.schema.json`.
pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `events/{EventType}.v{N}.schema.json`, relative to the crate.
pub fn schema_path(event_type: &str, version: u32) -> PathBuf {
    PathBuf::from(format!("events/{event_type}.v{version}.schema.json"))
}

/// `examples/{EventType}.v{N}.json`, relative to the crate.
pub fn example_path(event_type: &str, version: u32) -> PathBuf {
    PathBuf::from(format!("examples/{event_type}.v{version}.json"))
}

/// The stored envelope's schema, relative to the crate.
pub const ENVELOPE_SCHEMA: &str = "envelope.schema.json";

/// The stored envelope's examples, relative to the crate.
pub const ENVELOPE_EXAMPLES: &str = "examples/envelope.json";

/// Reads an examples file: a non-empty JSON array.
pub fn read_examples(dir: &Path, relative: &Path) -> Result<Vec<Value>, String> {
    let path = dir.join(relative);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "缺少示例文件 {} (missing examples file {}: {e}); 每个事件类型和版本都需要至少一个示例 \
             (every event type and version needs at least one example: a JSON array of payloads)",
            relative.display(),
            path.display()
        )
    })?;
    let value: Value = serde_json::from_str(&text).map_err(|e| {
        format!(
            "示例文件 {} 不是合法的 JSON (examples file {} is not valid JSON): {e}",
            relative.display(),
            path.display()
        )
    })?;
    match value {
        Value::Array(items) if !items.is_empty() => Ok(items),
        _ => Err(format!(
            "示例文件 {} 必须是非空 JSON 数组 (examples file {} must be a non-empty JSON array)",
            relative.display(),
            path.display()
        )),
    }
}

/// Every file the generator owns, keyed by its path relative to the crate, with its exact text.
pub fn generate(dir: &Path) -> Result<BTreeMap<PathBuf, String>, String> {
    let mut files = BTreeMap::new();
    for entry in CATALOGUE {
        let path = schema_path(entry.event_type, entry.version);
        let examples = read_examples(dir, &example_path(entry.event_type, entry.version))?;
        let schema = event_schema(entry, examples)?;
        files.insert(path, render(&schema));
    }
    let envelope = finish(
        schemars::schema_for!(ledger_schemas::Envelope).to_value(),
        ENVELOPE_SCHEMA,
        "Envelope".to_owned(),
        read_examples(dir, Path::new(ENVELOPE_EXAMPLES))?,
    )?;
    files.insert(PathBuf::from(ENVELOPE_SCHEMA), render(&envelope));
    Ok(files)
}

/// The schema of one catalogue entry, with its `$id`, title and examples.
pub fn event_schema(entry: &CatalogueEntry, examples: Vec<Value>) -> Result<Value, String> {
    let path = schema_path(entry.event_type, entry.version);
    finish(
        (entry.schema)().to_value(),
        &path.to_string_lossy(),
        format!("{} v{}", entry.event_type, entry.version),
        examples,
    )
}

fn finish(schema: Value, path: &str, title: String, examples: Vec<Value>) -> Result<Value, String> {
    let Value::Object(mut schema) = schema else {
        return Err(format!(
            "{title}: 生成的模式不是对象 (the generated schema is not an object)"
        ));
    };
    match schema.get("description") {
        Some(Value::String(d)) if !d.trim().is_empty() => {}
        _ => {
            return Err(format!(
                "{title}: 缺少说明, 请给该类型加文档注释 (no description: give the Rust type a doc comment)"
            ));
        }
    }
    schema.insert("$schema".into(), DIALECT.into());
    schema.insert("$id".into(), format!("{ID_BASE}{path}").into());
    schema.insert("title".into(), title.into());
    schema.insert("examples".into(), Value::Array(examples));
    let mut schema = Value::Object(schema);
    bound_integers(&mut schema);
    plain_descriptions(&mut schema);
    Ok(schema)
}

/// Descriptions come from rustdoc comments; their intra-doc links (``[`decode`]``) mean nothing outside
/// rustdoc, so they become plain code spans (`` `decode` ``).
fn plain_descriptions(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                match child {
                    Value::String(text) if key == "description" => *text = without_doc_links(text),
                    _ => plain_descriptions(child),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(plain_descriptions),
        _ => {}
    }
}

fn without_doc_links(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("[`") {
        let after = &rest[start + 1..];
        match after.find("`]") {
            Some(end) if !after[..end + 1].contains(['[', ']', '\n']) => {
                out.push_str(&rest[..start]);
                out.push_str(&after[..end + 1]);
                rest = &after[end + 2..];
            }
            _ => {
                out.push_str(&rest[..start + 2]);
                rest = &rest[start + 2..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// schemars marks Rust's unsigned integers with `"format": "uint32"` / `"uint64"` and `"minimum": 0`
/// but no maximum, and formats it invents are ignored by validators. Adding the maximum makes the
/// schema refuse exactly what the decoder refuses.
fn bound_integers(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let max = match map.get("format").and_then(Value::as_str) {
                Some("uint32") => Some(Value::from(u32::MAX)),
                Some("uint64") => Some(Value::from(u64::MAX)),
                Some("uint16") => Some(Value::from(u16::MAX)),
                Some("uint8") => Some(Value::from(u8::MAX)),
                _ => None,
            };
            if let Some(max) = max
                && map.get("type").and_then(Value::as_str) == Some("integer")
            {
                map.entry("maximum").or_insert(max);
            }
            for child in map.values_mut() {
                bound_integers(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(bound_integers),
        _ => {}
    }
}

/// Top-level keys that come first, in this order; then the rest, sorted; then `examples` and `$defs`.
const LEADING: &[&str] = &["$schema", "$id", "title", "description"];

/// Pretty-prints a schema with two-space indentation and a final newline.
pub fn render(schema: &Value) -> String {
    let mut out = String::new();
    match schema {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by_key(|k| {
                let rank = match LEADING.iter().position(|l| l == k) {
                    Some(i) => i,
                    None => match k.as_str() {
                        "examples" => LEADING.len() + 2,
                        "$defs" => LEADING.len() + 3,
                        _ => LEADING.len() + 1,
                    },
                };
                (rank, k.as_str())
            });
            let ordered: Vec<(&String, &Value)> = keys.into_iter().map(|k| (k, &map[k])).collect();
            write_object(&ordered, 0, &mut out);
        }
        other => write_value(other, 0, &mut out),
    }
    out.push('\n');
    out
}

fn write_value(value: &Value, indent: usize, out: &mut String) {
    match value {
        Value::Object(map) => {
            let entries: Vec<(&String, &Value)> = map.iter().collect();
            write_object(&entries, indent, out);
        }
        Value::Array(items) if items.is_empty() => out.push_str("[]"),
        Value::Array(items) => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                push_indent(indent + 1, out);
                write_value(item, indent + 1, out);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            push_indent(indent, out);
            out.push(']');
        }
        scalar => out.push_str(&serde_json::to_string(scalar).expect("a scalar serialises")),
    }
}

fn write_object(entries: &[(&String, &Value)], indent: usize, out: &mut String) {
    if entries.is_empty() {
        out.push_str("{}");
        return;
    }
    out.push_str("{\n");
    for (i, (key, value)) in entries.iter().enumerate() {
        push_indent(indent + 1, out);
        out.push_str(&serde_json::to_string(key).expect("a key serialises"));
        out.push_str(": ");
        write_value(value, indent + 1, out);
        out.push_str(if i + 1 < entries.len() { ",\n" } else { "\n" });
    }
    push_indent(indent, out);
    out.push('}');
}

fn push_indent(indent: usize, out: &mut String) {
    for _ in 0..indent {
        out.push_str("  ");
    }
}

/// Files under `events/` that the generator would not produce: schemas of a type or version that is
/// no longer in the catalogue, or anything else that does not belong there.
pub fn stray_schema_files(dir: &Path, expected: &BTreeMap<PathBuf, String>) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir.join("events")) else {
        return Vec::new();
    };
    let mut stray: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| PathBuf::from("events").join(e.file_name()))
        .filter(|p| !expected.contains_key(p))
        .collect();
    stray.sort();
    stray
}
