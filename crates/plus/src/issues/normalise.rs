//! What makes two errors the same issue: their message with what changes from one
//! occurrence to the next (numbers, hex ids and addresses, UUIDs) replaced by
//! placeholders, and a stable short id for the group.

/// The message with numbers → `<n>`, hex (`0x1f`, 8+ hex digits with a digit) → `<hex>`,
/// UUIDs → `<uuid>`; runs of spaces kept as they are.
pub fn normalise(message: &str) -> String {
    let chars: Vec<char> = message.chars().collect();
    let mut out = String::with_capacity(message.len());
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_alphanumeric() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        if is_uuid_at(&chars, i) {
            out.push_str("<uuid>");
            i += 36;
            continue;
        }
        let start = i;
        while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
            i += 1;
        }
        let word: String = chars[start..i].iter().collect();
        out.push_str(placeholder(&word).unwrap_or(&word));
    }
    out
}

/// What a word stands for, when it varies.
fn placeholder(word: &str) -> Option<&'static str> {
    let hex = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_hexdigit());
    if word.chars().all(|c| c.is_ascii_digit()) {
        return Some("<n>");
    }
    if let Some(rest) = word.strip_prefix("0x").or_else(|| word.strip_prefix("0X")) {
        if hex(rest) {
            return Some("<hex>");
        }
    }
    if word.len() >= 8 && hex(word) && word.chars().any(|c| c.is_ascii_digit()) {
        return Some("<hex>");
    }
    None
}

/// Whether a UUID (8-4-4-4-12 hex digits) starts at `i`, not inside a longer word.
fn is_uuid_at(chars: &[char], i: usize) -> bool {
    if i > 0 && chars[i - 1].is_ascii_alphanumeric() {
        return false;
    }
    let Some(candidate) = chars.get(i..i + 36) else {
        return false;
    };
    let dashes = [8, 13, 18, 23];
    let shape = candidate.iter().enumerate().all(|(k, c)| {
        if dashes.contains(&k) {
            *c == '-'
        } else {
            c.is_ascii_hexdigit()
        }
    });
    shape && !chars.get(i + 36).is_some_and(|c| c.is_ascii_alphanumeric())
}

/// The group's id: 16 hex digits of FNV-1a over the app and the normalised message,
/// the same in every run (the stored inbox keeps its ids across restarts).
pub fn group_id(app: &str, normalised: &str) -> String {
    let hash = crate::hash::fnv1a(app.bytes().chain([0]).chain(normalised.bytes()));
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_varies_is_replaced_and_the_rest_kept() {
        assert_eq!(
            normalise("Error: boom 1733217000123 at port 3000"),
            "Error: boom <n> at port <n>"
        );
        assert_eq!(
            normalise("user 6f1c2a3e-9b4d-4c1e-8f00-123456789abc not found"),
            "user <uuid> not found"
        );
        assert_eq!(
            normalise("bad pointer 0xdeadBEEF in deadbeef12 and cafe"),
            "bad pointer <hex> in <hex> and cafe"
        );
        assert_eq!(
            normalise("ECONNREFUSED 127.0.0.1:5432"),
            "ECONNREFUSED <n>.<n>.<n>.<n>:<n>"
        );
        // Words with digits in them are names, not values.
        assert_eq!(normalise("utf8 v8 ERR_404x"), "utf8 v8 ERR_404x");
        assert_eq!(normalise("ünïcode 12 ok"), "ünïcode <n> ok");
        assert_eq!(normalise(""), "");
    }

    #[test]
    fn the_id_depends_on_the_app_and_the_normalised_message_only() {
        let a = group_id("api", &normalise("timeout after 30 ms"));
        assert_eq!(a, group_id("api", &normalise("timeout after 5000 ms")));
        assert_ne!(a, group_id("worker", &normalise("timeout after 30 ms")));
        assert_eq!(a.len(), 16);
    }
}
