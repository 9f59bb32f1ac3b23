//! Reading an ecosystem file into a JSON value: `.json` as PM2 reads it (a JavaScript
//! expression: JSON5 when that reads it, else evaluated by node, see `expr`), YAML, and
//! JavaScript (CommonJS or ESM) evaluated by the `node` on PATH.

use crate::error::EcosystemError;
use crate::resolve::ResolveContext;
use serde_json::{Map, Number, Value};
use std::path::Path;
use yaml_rust2::{Yaml, YamlLoader};

/// How a file is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// A JavaScript expression (JSON5 when that reads it).
    Json,
    /// YAML.
    Yaml,
    /// `require()` (falling back to `import()` for ESM).
    CommonJs,
    /// `import()`.
    Esm,
}

/// PM2's rule (`Common.isConfigFile`): a substring match, `.json` first; a plain `.js`,
/// `.cjs` or `.mjs` given explicitly is JavaScript too; anything else is read as JSON.
pub(crate) fn format_of(arg: &str) -> Format {
    if arg.contains(".json") {
        Format::Json
    } else if arg.contains(".yml") || arg.contains(".yaml") {
        Format::Yaml
    } else if arg.contains(".config.mjs") || arg.ends_with(".mjs") {
        Format::Esm
    } else if arg.contains(".config.js")
        || arg.contains(".config.cjs")
        || arg.ends_with(".js")
        || arg.ends_with(".cjs")
    {
        Format::CommonJs
    } else {
        Format::Json
    }
}

/// Reads and parses `path`; `label` is how messages name the file.
pub(crate) fn load_file(
    path: &Path,
    label: &str,
    ctx: &ResolveContext,
) -> Result<Value, EcosystemError> {
    if path.is_dir() {
        return Err(EcosystemError(format!(
            "{label}: is a directory, not an ecosystem file (give the file in it, such as \
             {}/ecosystem.config.js)",
            label.trim_end_matches('/')
        )));
    }
    match format_of(label) {
        Format::CommonJs | Format::Esm if !path.is_file() => Err(not_found(label)),
        Format::CommonJs => eval_js(path, false, label, ctx),
        Format::Esm => eval_js(path, true, label, ctx),
        format => {
            let file = std::fs::File::open(path).map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => not_found(label),
                _ => EcosystemError(format!("{label}: cannot read the file: {e}")),
            })?;
            let text = read_bounded(file, label, "the file holds")?;
            parse_text(&text, format, label, Some(ctx))
        }
    }
}

/// Reads text up to [`super::bounds::MAX_FILE_BYTES`]; more is an error (`what` starts it).
pub(crate) fn read_bounded(
    input: impl std::io::Read,
    label: &str,
    what: &str,
) -> Result<String, EcosystemError> {
    use std::io::Read;
    let limit = super::bounds::MAX_FILE_BYTES;
    let mut bytes = Vec::new();
    input
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| EcosystemError(format!("{label}: cannot read: {e}")))?;
    if bytes.len() as u64 > limit {
        return Err(super::bounds::too_large(label, what));
    }
    String::from_utf8(bytes).map_err(|e| {
        EcosystemError(format!(
            "{label}: not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

fn not_found(label: &str) -> EcosystemError {
    EcosystemError(format!("{label}: file not found"))
}

/// Parses YAML text, or a `.json` expression (evaluated by node in `ctx` when JSON5 cannot
/// read it and there is a context); syntax errors say `<label>:<line>:<col>: <what>`.
pub(crate) fn parse_text(
    text: &str,
    format: Format,
    label: &str,
    ctx: Option<&ResolveContext>,
) -> Result<Value, EcosystemError> {
    match format {
        Format::Yaml => parse_yaml(text, label),
        _ => {
            let scanned = super::scan::check_json5(text, label)?;
            json5::from_str::<Value>(text).or_else(|e| {
                // JSON5 ran out of text and something is still open: the file was cut
                // short (a JavaScript reading would fail there too, with a vaguer place).
                if at_eof(&e) {
                    if let Some(cut) = scanned.cut_short(label) {
                        return Err(cut);
                    }
                }
                super::expr::eval_expression(text, json5_error(&e, label), label, ctx)
            })
        }
    }
}

/// Whether JSON5 stopped because the text ended.
fn at_eof(e: &json5::Error) -> bool {
    use json5::ErrorCode::*;
    matches!(
        e.code(),
        Some(
            EofParsingArray
                | EofParsingBool
                | EofParsingComment
                | EofParsingEscapeSequence
                | EofParsingIdentifier
                | EofParsingNull
                | EofParsingNumber
                | EofParsingObject
                | EofParsingString
                | EofParsingValue
        )
    )
}

/// JSON5's error as `<label>:<line>:<col>: <what>`.
fn json5_error(e: &json5::Error, label: &str) -> EcosystemError {
    let what = match e.code() {
        Some(code) => code.to_string(),
        None => e.to_string(),
    };
    match e.position() {
        Some(p) => EcosystemError(format!("{label}:{}:{}: {what}", p.line + 1, p.column + 1)),
        None => EcosystemError(format!("{label}: {what}")),
    }
}

fn parse_yaml(text: &str, label: &str) -> Result<Value, EcosystemError> {
    super::bounds::check_yaml(text, label)?;
    let docs = YamlLoader::load_from_str(text).map_err(|e| {
        let m = e.marker();
        EcosystemError(format!(
            "{label}:{}:{}: {}",
            m.line(),
            m.col() + 1,
            e.info()
        ))
    })?;
    Ok(docs
        .into_iter()
        .next()
        .map(yaml_to_json)
        .unwrap_or(Value::Null))
}

/// YAML data as the JSON value js-yaml would give.
fn yaml_to_json(y: Yaml) -> Value {
    match y {
        Yaml::Real(s) => s
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .unwrap_or(Value::String(s)),
        Yaml::Integer(i) => Value::Number(i.into()),
        Yaml::String(s) => Value::String(s),
        Yaml::Boolean(b) => Value::Bool(b),
        Yaml::Array(items) => Value::Array(items.into_iter().map(yaml_to_json).collect()),
        Yaml::Hash(hash) => {
            let mut map = Map::new();
            for (k, v) in hash {
                let key = match yaml_to_json(k) {
                    Value::String(s) => s,
                    other => super::fields::js_string(&other),
                };
                map.insert(key, yaml_to_json(v));
            }
            Value::Object(map)
        }
        Yaml::Alias(_) | Yaml::Null | Yaml::BadValue => Value::Null,
    }
}

/// Loads the module in Node, then prints its export as JSON after a marker line (so that
/// anything the file itself prints is ignored). ESM is handled by `import()`, both for
/// `.mjs` and for `.js` in a `"type": "module"` package (`ERR_REQUIRE_ESM`).
const LOADER: &str = r#"
const fs = require('fs');
const file = process.argv[1];
const fail = (e) => {
  let msg = e && e.name !== undefined && e.message !== undefined ? `${e.name}: ${e.message}` : String(e);
  const stack = e && typeof e.stack === 'string' ? e.stack.split('\n') : [];
  const at = stack.find((l) => /^\s+at /.test(l));
  if (stack.length && /:\d+$/.test(stack[0]) && !stack[0].startsWith(String(e.name))) msg += ` (${stack[0]})`;
  else if (at) msg += ` (${at.trim()})`;
  // Through the stream: its pipe may be non-blocking with the file's own output queued.
  process.stderr.write(msg, () => process.exit(3));
};
const done = (m) => {
  let c = m;
  if (c && (Object.prototype.toString.call(c) === '[object Module]' || c.__esModule) && c.default !== undefined) c = c.default;
  Promise.resolve(c).then((value) => {
    const out = JSON.stringify(value === undefined ? null : value);
    process.stdout.write('\n\u0000PM2RS-CONFIG\u0000' + out, () => process.exit(0));
  }, fail);
};
const viaImport = () => import(require('url').pathToFileURL(file).href).then(done, fail);
if (process.argv[2] === 'esm') viaImport();
else {
  try { done(require(file)); }
  catch (e) {
    if (e && (e.code === 'ERR_REQUIRE_ESM' || e.code === 'ERR_REQUIRE_ASYNC_MODULE')) viaImport();
    else fail(e);
  }
}
"#;

fn eval_js(
    path: &Path,
    esm: bool,
    label: &str,
    ctx: &ResolveContext,
) -> Result<Value, EcosystemError> {
    let absolute = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let args = [
        std::ffi::OsStr::new("-e"),
        std::ffi::OsStr::new(LOADER),
        absolute.as_os_str(),
        std::ffi::OsStr::new(if esm { "esm" } else { "cjs" }),
    ];
    super::node::run_node(&args, None, label, ctx)
}
