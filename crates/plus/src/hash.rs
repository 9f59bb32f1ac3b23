//! 64-bit FNV-1a: a stable hash (the same in every run and Rust version, unlike std's
//! hasher) for the ids and tags the dashboard hands out: an issue group's id, kept across
//! restarts in the inbox file, and an embedded asset's ETag.

/// The FNV-1a hash of `bytes`.
pub fn fnv1a(bytes: impl IntoIterator<Item = u8>) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    #[test]
    fn it_is_fnv1a_64() {
        // The published test vectors: the ids in stored inboxes must not drift.
        assert_eq!(super::fnv1a(*b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(super::fnv1a(*b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(super::fnv1a(*b"foobar"), 0x8594_4171_f739_67e8);
    }
}
