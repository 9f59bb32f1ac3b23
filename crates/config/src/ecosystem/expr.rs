//! `.json` files and stdin as PM2 reads them: one JavaScript expression, evaluated.
//!
//! PM2 runs `'(' + text + ')'` through `vm.runInThisContext` in the CLI process, so a
//! `.json` ecosystem file may hold comments, trailing commas, unquoted keys and computed
//! values (`'api-' + process.env.REGION`, `2 * 1024`). Text JSON5 can read is read without
//! node (JSON5 is a subset of ES5, so the value is the one PM2 computes); anything else is
//! evaluated by node the same way, and its errors say `<file>:<line>:<col>`.

use super::node::{node_for, run_node};
use crate::error::EcosystemError;
use crate::resolve::ResolveContext;
use serde_json::Value;
use std::ffi::OsStr;

/// Evaluates `text` (stdin) as PM2 does. Only the globals a CommonJS module sees from
/// `vm.runInThisContext` remain (`process`, `Buffer`, ...; no `require` or `__dirname`).
/// A SyntaxError is placed at V8's caret; a thrown error at its frame in the file; the
/// `(` PM2 prepends is not counted in line 1's columns.
const EXPR_LOADER: &str = r#"
const fs = require('fs');
const vm = require('vm');
const label = process.argv[1];
const text = fs.readFileSync(0, 'utf8');
for (const k of ['require', 'module', 'exports', '__filename', '__dirname']) delete globalThis[k];
const code = '(' + text + ')';
const at = (line, col) => `${label}:${line}:${line === 1 ? Math.max(col - 1, 1) : col}`;
const escaped = label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const frame = new RegExp(escaped + ':(\\d+):(\\d+)\\)?$');
const place = (e) => {
  const stack = e && typeof e.stack === 'string' ? e.stack.split('\n') : [];
  const head = new RegExp('^' + escaped + ':(\\d+)$').exec(stack[0] || '');
  if (head) {
    const caret = (stack[2] || '').indexOf('^');
    if (caret >= 0) return at(Number(head[1]), caret + 1);
    const lines = code.split('\n');
    if (/end of input/.test(String(e.message))) return at(lines.length, lines[lines.length - 1].length + 1);
    return at(Number(head[1]), 1);
  }
  for (const l of stack) {
    const m = frame.exec(l);
    if (m) return at(Number(m[1]), Number(m[2]));
  }
  return label;
};
try {
  const value = vm.runInThisContext(code, { filename: label, displayErrors: false });
  // Through the stream, as the file loader does (a non-blocking pipe refuses writeSync).
  process.stdout.write('\n\u0000PM2RS-CONFIG\u0000' + JSON.stringify(value === undefined ? null : value), () => process.exit(0));
} catch (e) {
  const what = e && e.name !== undefined && e.message !== undefined ? `${e.name}: ${e.message}` : String(e);
  process.stderr.write(`${place(e)}: ${what}`, () => process.exit(3));
}
"#;

/// Reads `text` as PM2 reads a `.json` file or stdin. `json5` is the lenient parse already
/// tried; its error is the answer when node is missing (or `ctx` is `None`: no context to
/// run node in).
pub(crate) fn eval_expression(
    text: &str,
    json5: EcosystemError,
    label: &str,
    ctx: Option<&ResolveContext>,
) -> Result<Value, EcosystemError> {
    let Some(ctx) = ctx else { return Err(json5) };
    if node_for(label, ctx).is_err() {
        return Err(json5);
    }
    let args = [OsStr::new("-e"), OsStr::new(EXPR_LOADER), OsStr::new(label)];
    run_node(&args, Some(text), label, ctx)
}
