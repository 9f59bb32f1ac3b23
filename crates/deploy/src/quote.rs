//! POSIX single quoting: how every config value enters the remote script, so no value is
//! ever read as shell code.

/// `value` as one POSIX shell word that means exactly its bytes: inside single quotes
/// nothing is special, and a `'` is closed, escaped and reopened (`'\''`).
pub fn sh_quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::sh_quote;
    use std::process::Command;

    /// What `sh` makes of the quoted word: it must be the value, byte for byte.
    fn through_sh(value: &str) -> String {
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!("printf %s {}", sh_quote(value)))
            .output()
            .expect("run sh");
        String::from_utf8(out.stdout).expect("utf-8")
    }

    #[test]
    fn hostile_values_come_back_unchanged() {
        for value in [
            "",
            "plain",
            "it's",
            "'",
            "''",
            "$(touch /tmp/x)",
            "`id`",
            "a\nb",
            "\\'\"$HOME\"",
            "*.js ~ ; | & > <",
            "héllo wörld  two  spaces",
        ] {
            assert_eq!(through_sh(value), value, "for {value:?}");
        }
    }
}
