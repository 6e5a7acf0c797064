//! The content's source files as one value: what editors publish, what the store keeps as a
//! version, and what `export` writes back to the two folders (so content can also live in git).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Content, ContentErrors, SourceFile, from_sources, read_dirs};

/// The folder names a version's files are shown under, as in the repository.
pub const INTENTS_FOLDER: &str = "intents";
pub const ARTICLES_FOLDER: &str = "knowledge-base";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentFiles {
    /// `intents/*.toml`, by file name.
    pub intents: BTreeMap<String, String>,
    /// `knowledge-base/*.md`, by file name.
    pub articles: BTreeMap<String, String>,
}

impl ContentFiles {
    /// Reads every `*.toml` in `intents_dir` and `*.md` in `articles_dir`.
    pub fn read(intents_dir: &Path, articles_dir: &Path) -> Result<Self, ContentErrors> {
        let (intents, articles) = read_dirs(intents_dir, articles_dir)?;
        let by_name = |files: Vec<SourceFile>| {
            files
                .into_iter()
                .map(|f| (f.path.file_name().unwrap_or_default().to_string_lossy().into_owned(), f.text))
                .collect()
        };
        Ok(Self { intents: by_name(intents), articles: by_name(articles) })
    }

    /// Parses and validates; problems are named `intents/<file>:<line>`.
    pub fn parse(&self) -> Result<Content, ContentErrors> {
        let sources = |folder: &str, files: &BTreeMap<String, String>| -> Vec<SourceFile> {
            files
                .iter()
                .map(|(name, text)| SourceFile { path: Path::new(folder).join(name), text: text.clone() })
                .collect()
        };
        from_sources(&sources(INTENTS_FOLDER, &self.intents), &sources(ARTICLES_FOLDER, &self.articles))
    }

    /// SHA-256 of every file's folder, name and text: equal files, equal fingerprint, wherever
    /// they were read from.
    pub fn fingerprint(&self) -> String {
        let mut hasher = Sha256::new();
        for (folder, files) in [(INTENTS_FOLDER, &self.intents), (ARTICLES_FOLDER, &self.articles)] {
            for (name, text) in files {
                // Lengths keep ("ab", "c") apart from ("a", "bc").
                for part in [folder, name.as_str(), text.as_str()] {
                    hasher.update((part.len() as u64).to_le_bytes());
                    hasher.update(part.as_bytes());
                }
            }
        }
        hex::encode(hasher.finalize())
    }

    /// Writes the files into `root/intents` and `root/knowledge-base`, removing the `*.toml`
    /// and `*.md` there that this version does not have, so the folders hold exactly it.
    pub fn write(&self, root: &Path) -> std::io::Result<()> {
        for (folder, extension, files) in
            [(INTENTS_FOLDER, "toml", &self.intents), (ARTICLES_FOLDER, "md", &self.articles)]
        {
            let dir = root.join(folder);
            std::fs::create_dir_all(&dir)?;
            for entry in std::fs::read_dir(&dir)? {
                let path = entry?.path();
                let stale = path.extension().is_some_and(|e| e == extension)
                    && !path.file_name().is_some_and(|n| files.contains_key(&*n.to_string_lossy()));
                if stale {
                    std::fs::remove_file(&path)?;
                }
            }
            for (name, text) in files {
                std::fs::write(safe_path(&dir, name)?, text)?;
            }
        }
        Ok(())
    }
}

/// A stored file name joined to its folder; a name that would leave the folder is refused.
fn safe_path(dir: &Path, name: &str) -> std::io::Result<PathBuf> {
    let plain = !name.is_empty()
        && !name.starts_with('.')
        && !name.contains(['/', '\\', '\0'])
        && Path::new(name).file_name().is_some_and(|n| n == name);
    if plain {
        Ok(dir.join(name))
    } else {
        Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("not a plain file name: {name:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> ContentFiles {
        let mut files = ContentFiles::default();
        files.intents.insert(
            "roads.toml".into(),
            "[[intent]]\nid = \"potholes\"\ntitle = \"Potholes\"\nexamples = [\"report a pothole\"]\nanswer = \"Report it online.\"\n".into(),
        );
        files.articles.insert("a.md".into(), "+++\nid = \"a\"\ntitle = \"A\"\n+++\nBody.\n".into());
        files
    }

    #[test]
    fn the_fingerprint_follows_names_and_texts() {
        let a = files();
        let mut renamed = a.clone();
        let text = renamed.articles.remove("a.md").unwrap();
        renamed.articles.insert("b.md".into(), text);
        assert_eq!(a.fingerprint(), files().fingerprint());
        assert_ne!(a.fingerprint(), renamed.fingerprint());
    }

    #[test]
    fn written_folders_read_back_the_same_and_lose_stale_files() {
        let root = std::env::temp_dir().join(format!("ha-files-{}", hex::encode(rand::random::<[u8; 6]>())));
        std::fs::create_dir_all(root.join(INTENTS_FOLDER)).unwrap();
        std::fs::write(root.join(INTENTS_FOLDER).join("old.toml"), "# gone in this version").unwrap();
        std::fs::write(root.join(INTENTS_FOLDER).join("notes.txt"), "kept: not content").unwrap();
        files().write(&root).unwrap();
        let read = ContentFiles::read(&root.join(INTENTS_FOLDER), &root.join(ARTICLES_FOLDER)).unwrap();
        assert_eq!(read, files());
        assert!(root.join(INTENTS_FOLDER).join("notes.txt").exists());
        std::fs::remove_dir_all(&root).ok();
    }

    #[test]
    fn a_name_that_leaves_its_folder_is_refused() {
        let mut bad = files();
        bad.intents.insert("../escape.toml".into(), String::new());
        let root = std::env::temp_dir().join(format!("ha-files-{}", hex::encode(rand::random::<[u8; 6]>())));
        assert!(bad.write(&root).is_err());
        assert!(!root.join("escape.toml").exists());
        std::fs::remove_dir_all(&root).ok();
    }
}
