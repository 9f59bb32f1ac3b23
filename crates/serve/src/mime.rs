//! Content types by file extension.
//!
//! A short table of the types a static site serves rather than a full registry crate:
//! PM2 answers from a fixed table of its own with `text/plain` for anything else, and its
//! answers differ from the registries' (`application/javascript`, `text/html` without a
//! charset, `application/font-woff`); these entries give PM2's answer for every extension
//! PM2 knows, plus a few types PM2's table lacks (`wasm`, `mjs`, `avif`, `webm`).

/// PM2's type for an extension it does not know.
pub const DEFAULT: &str = "text/plain";

/// Sorted by extension (a binary search looks them up).
const TYPES: &[(&str, &str)] = &[
    ("avif", "image/avif"),
    ("bmp", "image/bmp"),
    ("css", "text/css"),
    ("csv", "text/csv"),
    ("gif", "image/gif"),
    ("gz", "application/x-gzip"),
    ("htm", "text/html"),
    ("html", "text/html"),
    ("ico", "image/vnd.microsoft.icon"),
    ("jpeg", "image/jpeg"),
    ("jpg", "image/jpeg"),
    ("js", "application/javascript"),
    ("json", "application/json"),
    ("log", "text/plain"),
    ("map", "application/json"),
    ("md", "text/markdown"),
    ("mjs", "application/javascript"),
    ("mp3", "audio/mpeg"),
    ("mp4", "video/mp4"),
    ("mpeg", "video/mpeg"),
    ("ogg", "application/ogg"),
    ("otf", "application/font-sfnt"),
    ("pdf", "application/pdf"),
    ("png", "image/png"),
    ("rss", "application/rss+xml"),
    ("svg", "image/svg+xml"),
    ("tar", "application/x-tar"),
    ("tif", "image/tiff"),
    ("tiff", "image/tiff"),
    ("ttf", "application/font-sfnt"),
    ("txt", "text/plain"),
    ("wasm", "application/wasm"),
    ("wav", "audio/x-wav"),
    ("webm", "video/webm"),
    ("webp", "image/webp"),
    ("woff", "application/font-woff"),
    ("woff2", "application/font-woff"),
    ("xhtml", "application/xhtml+xml"),
    ("xml", "application/xml"),
    ("yaml", "text/yaml"),
    ("yml", "text/yaml"),
    ("zip", "application/zip"),
];

/// The content type of a file name: by its last extension, case-insensitively.
pub fn content_type(file_name: &str) -> &'static str {
    let Some((_, ext)) = file_name.rsplit_once('.') else {
        return DEFAULT;
    };
    let ext = ext.to_ascii_lowercase();
    TYPES
        .binary_search_by(|(e, _)| (*e).cmp(ext.as_str()))
        .map(|i| TYPES[i].1)
        .unwrap_or(DEFAULT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_so_every_entry_is_found() {
        for (ext, ty) in TYPES {
            assert_eq!(content_type(&format!("a.{ext}")), *ty);
        }
    }

    #[test]
    fn pm2s_answers() {
        assert_eq!(content_type("index.HTML"), "text/html");
        assert_eq!(content_type("app.min.js"), "application/javascript");
        assert_eq!(content_type("README"), "text/plain");
        assert_eq!(content_type("x.unknownext"), "text/plain");
    }
}
