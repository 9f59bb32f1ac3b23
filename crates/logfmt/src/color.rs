//! The ANSI sequences PM2's colour library (ansis) emits for the styles
//! `pm2 logs` uses, so coloured output is byte-identical to PM2's.

/// An SGR style as an (open, close) pair.
pub(crate) type Style = (&'static str, &'static str);

pub(crate) const GREEN: Style = ("\x1b[32m", "\x1b[39m");
pub(crate) const RED: Style = ("\x1b[31m", "\x1b[39m");
pub(crate) const BLUE: Style = ("\x1b[34m", "\x1b[39m");
pub(crate) const GRAY: Style = ("\x1b[90m", "\x1b[39m");
/// `chalk.dim(chalk.gray(..))`, used for `--timestamp`.
pub(crate) const DIM_GRAY: Style = ("\x1b[2m\x1b[90m", "\x1b[39m\x1b[22m");
/// `chalk.bold.gray(..)`, used for the `[TAILING]` banner.
pub(crate) const BOLD_GRAY: Style = ("\x1b[1m\x1b[90m", "\x1b[39m\x1b[22m");
/// `chalk.bgBlackBright(..)`, used for `--highlight`.
pub(crate) const HIGHLIGHT: Style = ("\x1b[100m", "\x1b[49m");

/// Appends `text` to `out`, wrapped in `style` only when colour is on, so
/// a non-terminal gets no escape codes (as ansis does when not a TTY).
pub(crate) fn paint(out: &mut String, color: bool, style: Style, text: &str) {
    if color {
        out.push_str(style.0);
    }
    out.push_str(text);
    if color {
        out.push_str(style.1);
    }
}
