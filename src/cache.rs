//! Work derived from the content, kept on disk between starts: the decline threshold chosen
//! by cross-validation, the weights the matcher learned and, with the encoder, the embeddings
//! of the content's phrasings.
//! Each entry is named by a hash of everything it was derived from, so a changed phrase,
//! model or setting simply misses. The cache is an optimisation: a missing, unreadable or
//! unwritable cache costs time, never correctness, and is only logged.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// A short hex hash of the given parts, in order.
pub fn fingerprint<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        // Lengths keep ("ab", "c") apart from ("a", "bc").
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    hex::encode(&hasher.finalize()[..12])
}

#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
}

impl Cache {
    pub fn new(dir: &Path) -> Self {
        Self { dir: dir.to_path_buf() }
    }

    fn path(&self, kind: &str, key: &str, extension: &str) -> PathBuf {
        self.dir.join(format!("{kind}-{key}.{extension}"))
    }

    /// A hit marks the entry as just used, so `keep_newest` keeps what is read (the content
    /// serving now) over what was merely written later (a draft tried once).
    pub fn read_bytes(&self, kind: &str, key: &str) -> Option<Vec<u8>> {
        let path = self.path(kind, key, "bin");
        let bytes = std::fs::read(&path).ok()?;
        if let Ok(file) = std::fs::File::options().append(true).open(&path) {
            file.set_modified(std::time::SystemTime::now()).ok();
        }
        Some(bytes)
    }

    /// Written to a temporary file and renamed, so a reader never sees half an entry.
    pub fn write_bytes(&self, kind: &str, key: &str, bytes: &[u8]) {
        let path = self.path(kind, key, "bin");
        if let Err(e) = write_atomically(&self.dir, &path, bytes) {
            tracing::warn!(path = %path.display(), error = %e, "cannot write the cache");
        }
    }

    /// Removes all but the `keep` newest entries of a kind, so large entries (learned weights)
    /// of content versions long replaced do not fill the disk.
    pub fn keep_newest(&self, kind: &str, keep: usize) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return };
        let prefix = format!("{kind}-");
        let mut found: Vec<(std::time::SystemTime, PathBuf)> = entries
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
            .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
            .collect();
        found.sort_by_key(|(modified, _)| std::cmp::Reverse(*modified));
        for (_, path) in found.into_iter().skip(keep) {
            if let Err(e) = std::fs::remove_file(&path) {
                tracing::warn!(path = %path.display(), error = %e, "cannot prune the cache");
            }
        }
    }

    pub fn read_json<T: serde::de::DeserializeOwned>(&self, kind: &str, key: &str) -> Option<T> {
        let text = std::fs::read(self.path(kind, key, "json")).ok()?;
        serde_json::from_slice(&text).ok()
    }

    pub fn write_json<T: serde::Serialize>(&self, kind: &str, key: &str, value: &T) {
        let path = self.path(kind, key, "json");
        let written = serde_json::to_vec_pretty(value)
            .map_err(std::io::Error::other)
            .and_then(|bytes| write_atomically(&self.dir, &path, &bytes));
        if let Err(e) = written {
            tracing::warn!(path = %path.display(), error = %e, "cannot write the cache");
        }
    }
}

/// Sentence embeddings by text, as bytes: u32 count, then per entry u32 text length, the
/// UTF-8 text, u32 dims and the values (all little-endian).
pub fn encode_embeddings(embeddings: &std::collections::HashMap<String, Vec<f32>>) -> Vec<u8> {
    let mut bytes = Vec::new();
    bytes.extend((embeddings.len() as u32).to_le_bytes());
    for (text, vector) in embeddings {
        bytes.extend((text.len() as u32).to_le_bytes());
        bytes.extend(text.as_bytes());
        bytes.extend((vector.len() as u32).to_le_bytes());
        vector.iter().for_each(|v| bytes.extend(v.to_le_bytes()));
    }
    bytes
}

/// The inverse of [`encode_embeddings`]; None for anything malformed.
pub fn decode_embeddings(bytes: &[u8]) -> Option<std::collections::HashMap<String, Vec<f32>>> {
    let mut reader = Reader(bytes);
    let count = reader.u32()?;
    let mut embeddings = std::collections::HashMap::with_capacity(count.min(1 << 16));
    for _ in 0..count {
        let length = reader.u32()?;
        let text = std::str::from_utf8(reader.take(length)?).ok()?.to_string();
        let dims = reader.u32()?;
        let values = reader.take(dims.checked_mul(4)?)?;
        let vector = values.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        embeddings.insert(text, vector);
    }
    reader.0.is_empty().then_some(embeddings)
}

/// Reads little-endian fields off the front of a byte slice.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, tail) = self.0.split_at_checked(n)?;
        self.0 = tail;
        Some(head)
    }

    fn u32(&mut self) -> Option<usize> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?) as usize)
    }
}

fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let temporary = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&temporary, bytes)?;
    std::fs::rename(&temporary, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_a_changed_key_misses() {
        let dir = std::env::temp_dir().join(format!("ha-cache-test-{}", std::process::id()));
        let cache = Cache::new(&dir);
        let key = fingerprint([b"intents".as_slice(), b"v1"]);
        assert!(cache.read_json::<f32>("threshold", &key).is_none());
        cache.write_json("threshold", &key, &0.42f32);
        assert_eq!(cache.read_json::<f32>("threshold", &key), Some(0.42));
        let other = fingerprint([b"intents".as_slice(), b"v2"]);
        assert_ne!(key, other);
        assert!(cache.read_json::<f32>("threshold", &other).is_none());
        assert_ne!(fingerprint([b"ab".as_slice(), b"c"]), fingerprint([b"a".as_slice(), b"bc"]));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn embeddings_round_trip_and_truncation_is_refused() {
        let embeddings: std::collections::HashMap<String, Vec<f32>> =
            [("bin day".to_string(), vec![0.5, -1.0]), ("tip".to_string(), vec![0.25, 2.0])].into();
        let bytes = encode_embeddings(&embeddings);
        assert_eq!(decode_embeddings(&bytes), Some(embeddings));
        assert_eq!(decode_embeddings(&bytes[..bytes.len() - 1]), None);
        assert_eq!(decode_embeddings(&[]), None);
    }

    #[test]
    fn pruning_keeps_the_newest_entries_of_one_kind() {
        let dir = std::env::temp_dir().join(format!("ha-cache-prune-{}", std::process::id()));
        let cache = Cache::new(&dir);
        for key in ["a", "b", "c"] {
            cache.write_bytes("weights", key, key.as_bytes());
            // Modification times must differ for "newest" to mean something.
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        cache.write_json("tuning", "a", &1);
        cache.keep_newest("weights", 2);
        assert!(cache.read_bytes("weights", "a").is_none());
        assert_eq!(cache.read_bytes("weights", "b").as_deref(), Some(b"b".as_slice()));
        assert_eq!(cache.read_bytes("weights", "c").as_deref(), Some(b"c".as_slice()));
        assert_eq!(cache.read_json::<i32>("tuning", "a"), Some(1), "other kinds are left alone");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn an_entry_read_counts_as_newest() {
        let dir = std::env::temp_dir().join(format!("ha-cache-used-{}", std::process::id()));
        let cache = Cache::new(&dir);
        for key in ["serving", "draft", "other draft"] {
            cache.write_bytes("weights", key, key.as_bytes());
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(cache.read_bytes("weights", "serving").is_some());
        cache.keep_newest("weights", 2);
        assert!(cache.read_bytes("weights", "serving").is_some(), "read last, so kept");
        assert!(cache.read_bytes("weights", "draft").is_none());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn an_unwritable_cache_is_only_a_miss() {
        let cache = Cache::new(Path::new("/proc/no-such-dir/cache"));
        cache.write_bytes("x", "y", b"z");
        assert!(cache.read_bytes("x", "y").is_none());
    }
}
