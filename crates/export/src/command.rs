//! What every target needs from an app the same way: its command line as an argument
//! vector, a container image to start from, names the engines accept.

use pm2_proto::AppSpec;

/// The app's command line, as the daemon spawns it: the interpreter (absolute, as found
/// when the app was defined), its arguments, the script, the script's arguments; or the
/// script itself when it runs without an interpreter.
pub(crate) fn argv(app: &AppSpec) -> Vec<String> {
    let mut words = Vec::new();
    match &app.interpreter_path {
        Some(interpreter) => {
            words.push(interpreter.clone());
            words.extend(app.interpreter_args.iter().cloned());
            words.push(app.script.clone());
        }
        None => words.push(app.script.clone()),
    }
    words.extend(app.args.iter().cloned());
    words
}

/// The command line inside a container: the interpreter by its name (the image puts it
/// on PATH), not this machine's path to it.
pub(crate) fn container_argv(app: &AppSpec) -> Vec<String> {
    let mut words = argv(app);
    if app.interpreter_path.is_some() {
        words[0] = app.interpreter.clone();
    }
    words
}

/// An official image that has the app's interpreter, or a placeholder to replace.
pub(crate) fn image(app: &AppSpec) -> String {
    let interpreter = app.interpreter.as_str();
    let image = if interpreter.starts_with("node") {
        "node:22-slim"
    } else if interpreter.starts_with("python") {
        "python:3-slim"
    } else if interpreter.starts_with("bun") {
        "oven/bun:1"
    } else if interpreter.starts_with("ruby") {
        "ruby:3-slim"
    } else if interpreter.starts_with("php") {
        "php:8-cli"
    } else {
        return format!("REPLACE-ME/{}:latest", dns_label(&app.name));
    };
    image.to_string()
}

/// `name` as a DNS-1123 label (what Kubernetes and Compose accept as a name): lowercase
/// letters, digits and `-`, starting and ending alphanumeric, at most 63 characters.
pub(crate) fn dns_label(name: &str) -> String {
    let mut label: String = name
        .chars()
        .map(|c| match c {
            'a'..='z' | '0'..='9' => c,
            'A'..='Z' => c.to_ascii_lowercase(),
            _ => '-',
        })
        .collect();
    label.truncate(63);
    let label = label.trim_matches('-').to_string();
    if label.is_empty() {
        "app".to_string()
    } else {
        label
    }
}

/// The port the app listens on, when its env says so (`PORT`, a number).
pub(crate) fn port(app: &AppSpec) -> Option<u16> {
    app.env.get("PORT")?.trim().parse().ok().filter(|p| *p > 0)
}

/// Milliseconds as whole seconds, rounded up (engines that count in seconds).
pub(crate) fn seconds_up(ms: u64) -> u64 {
    ms.div_ceil(1000)
}

/// PM2's default grace period before SIGKILL, when the app sets none.
pub(crate) const DEFAULT_KILL_TIMEOUT_MS: u64 = 1600;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_dns_labels() {
        assert_eq!(dns_label("My_API.v2"), "my-api-v2");
        assert_eq!(dns_label("--x--"), "x");
        assert_eq!(dns_label("§§"), "app");
        assert_eq!(dns_label(&"a".repeat(80)).len(), 63);
    }
}
