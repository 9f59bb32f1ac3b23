//! systemd's unit-file syntax for values that come from an app: its quoting of command
//! lines and assignments (`systemd.syntax(7)`, `systemd.service(5)` "Command lines"), its
//! `%` specifiers and `$` substitution, and its unit names (`systemd-escape`).

/// A command-line word: always double-quoted, `\` and `"` escaped, `%` and `$` doubled so
/// neither a specifier nor a variable is expanded, control characters as `\xNN`.
pub(crate) fn quoted_exec(word: &str) -> String {
    quoted(word, true)
}

/// An assignment's value (`Environment=`): as [`quoted_exec`], but `$` stays (systemd
/// does not expand variables there).
pub(crate) fn quoted_value(text: &str) -> String {
    quoted(text, false)
}

fn quoted(text: &str, doubles_dollar: bool) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '%' => out.push_str("%%"),
            '$' if doubles_dollar => out.push_str("$$"),
            c if c.is_ascii_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A path for a setting that takes the rest of its line as is (`WorkingDirectory=`,
/// `StandardOutput=append:`): `%` doubled; `None` when a control character could not be
/// written on one line.
pub(crate) fn file_path(path: &str) -> Option<String> {
    (!path.chars().any(|c| c.is_control()) && !path.is_empty()).then(|| path.replace('%', "%%"))
}

/// `Description=`: the app's name, specifiers doubled, control characters dropped.
pub(crate) fn description(name: &str) -> String {
    let name: String = name.chars().filter(|c| !c.is_control()).collect();
    format!("{} (pm2 app, exported)", name.replace('%', "%%"))
}

/// The app's name as a unit name part: what unit names allow (`[A-Za-z0-9:_.-]`), `/` as
/// `-`, every other byte as `\xNN` (the escape `systemd-escape` writes).
pub(crate) fn unit_name(name: &str) -> String {
    let mut out = String::new();
    for (i, b) in name.bytes().enumerate() {
        match b {
            b'/' => out.push('-'),
            b'.' if i == 0 => out.push_str("\\x2e"),
            b if b.is_ascii_alphanumeric() || b":_.-".contains(&b) => out.push(b as char),
            b => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out
}

/// A variable name systemd takes in `Environment=`: a letter or `_`, then letters, digits
/// or `_`.
pub(crate) fn valid_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A user or group (a name or a number) systemd takes in `User=`/`Group=`.
pub(crate) fn valid_user(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 32
        && !name.starts_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_cannot_escape_their_quotes_or_expand() {
        assert_eq!(quoted_exec("a b"), "\"a b\"");
        assert_eq!(quoted_exec("x\"; rm -rf /"), "\"x\\\"; rm -rf /\"");
        assert_eq!(quoted_exec("$(id) %h \\"), "\"$$(id) %%h \\\\\"");
        assert_eq!(
            quoted_exec("l1\nExecStartPre=/bin/evil"),
            "\"l1\\x0aExecStartPre=/bin/evil\""
        );
        assert_eq!(quoted_value("A=$HOME"), "\"A=$HOME\"");
    }

    #[test]
    fn unit_names_are_escaped_as_systemd_escape_does() {
        assert_eq!(unit_name("api"), "api");
        assert_eq!(unit_name("my app@1"), "my\\x20app\\x401");
        assert_eq!(unit_name("a/b"), "a-b");
        assert_eq!(unit_name(".x"), "\\x2ex");
    }

    #[test]
    fn paths_with_control_characters_are_refused() {
        assert_eq!(file_path("/srv/a%b").as_deref(), Some("/srv/a%%b"));
        assert_eq!(file_path("/srv/a\nb"), None);
    }
}
