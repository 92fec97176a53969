//! What a seller sells: files from its disk, each described as a menu [`Item`] (name, size, price,
//! granularity, SHA-256 of the whole), hashed once when it is added.

use std::io::Read;
use std::path::{Path, PathBuf};

use alloy::primitives::{Address, B256, U256};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::message::Item;

/// How an item is priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Price {
    /// This much for the whole item, in the token's smallest unit.
    Fixed(U256),
    /// This much per MiB (2^20 bytes), rounded up for the last part of a MiB.
    PerMiB(U256),
}

impl Price {
    fn of(self, size: u64) -> U256 {
        match self {
            Self::Fixed(p) => p,
            Self::PerMiB(p) => p.saturating_mul(U256::from(size)).div_ceil(U256::from(1u64 << 20)),
        }
    }
}

/// The terms items are added with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terms {
    /// The price.
    pub price: Price,
    /// The token; `Address::ZERO` for ETH.
    pub token: Address,
    /// The granularity: bytes per chunk (the last chunk may be shorter).
    pub chunk_size: u64,
}

/// An item and the file it is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// As the menu shows it.
    pub item: Item,
    /// Where its bytes are.
    pub path: PathBuf,
}

/// The items a seller serves.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    entries: Vec<Entry>,
}

impl Catalogue {
    /// An empty catalogue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one file as the item `name`, hashing it.
    pub async fn add_file(&mut self, name: &str, path: &Path, terms: Terms) -> Result<&Item> {
        if terms.chunk_size == 0 {
            return Err(Error::Catalogue("chunk size must be at least one byte".into()));
        }
        if name.is_empty() || self.get(name).is_some() {
            return Err(Error::Catalogue(format!("item name {name:?} is empty or taken")));
        }
        let owned = path.to_path_buf();
        let (size, sha256) = tokio::task::spawn_blocking(move || hash_file(&owned))
            .await
            .map_err(|e| Error::Catalogue(format!("hashing {}: {e}", path.display())))??;
        let item = Item {
            name: name.into(),
            size,
            price: terms.price.of(size),
            token: terms.token,
            chunk_size: terms.chunk_size,
            sha256,
        };
        self.entries.push(Entry { item, path: path.to_path_buf() });
        Ok(&self.entries[self.entries.len() - 1].item)
    }

    /// Adds every file under `dir` (recursively, in name order), each as an item named by its path
    /// relative to `dir` with `/` between the parts, prefixed with `prefix/` when `prefix` is not
    /// empty. A directory is sold as its files.
    pub async fn add_dir(&mut self, prefix: &str, dir: &Path, terms: Terms) -> Result<usize> {
        let mut files = Vec::new();
        walk(dir, &mut Vec::new(), &mut files)?;
        files.sort();
        for (parts, path) in &files {
            let rel = parts.join("/");
            let name = if prefix.is_empty() { rel } else { format!("{prefix}/{rel}") };
            self.add_file(&name, path, terms).await?;
        }
        Ok(files.len())
    }

    /// The item called `name`.
    pub fn get(&self, name: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.item.name == name)
    }

    /// Every item, as the menu lists them.
    pub fn items(&self) -> Vec<Item> {
        self.entries.iter().map(|e| e.item.clone()).collect()
    }
}

fn walk(dir: &Path, parts: &mut Vec<String>, out: &mut Vec<(Vec<String>, PathBuf)>) -> Result<()> {
    let read = std::fs::read_dir(dir).map_err(|e| Error::Catalogue(format!("reading {}: {e}", dir.display())))?;
    for entry in read {
        let entry = entry.map_err(|e| Error::Catalogue(format!("reading {}: {e}", dir.display())))?;
        let name = entry
            .file_name()
            .into_string()
            .map_err(|n| Error::Catalogue(format!("{} is not UTF-8", Path::new(&n).display())))?;
        let kind = entry.file_type()?;
        parts.push(name);
        if kind.is_dir() {
            walk(&entry.path(), parts, out)?;
        } else if kind.is_file() {
            out.push((parts.clone(), entry.path()));
        }
        parts.pop();
    }
    Ok(())
}

/// The size and SHA-256 of a file, read in 1 MiB pieces.
pub fn hash_file(path: &Path) -> Result<(u64, B256)> {
    let mut file =
        std::fs::File::open(path).map_err(|e| Error::Catalogue(format!("opening {}: {e}", path.display())))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok((size, B256::from_slice(&hasher.finalize())))
}

/// SHA-256 of some bytes.
pub fn sha256(bytes: &[u8]) -> B256 {
    B256::from_slice(&Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_directory_is_sold_as_its_files_each_hashed_and_priced() -> Result<()> {
        let dir = tempfile::tempdir()?;
        std::fs::create_dir(dir.path().join("sub"))?;
        std::fs::write(dir.path().join("b.bin"), vec![7u8; 3 << 20])?;
        std::fs::write(dir.path().join("sub/a.txt"), b"hello")?;
        let terms = Terms { price: Price::PerMiB(U256::from(1000)), token: Address::ZERO, chunk_size: 1 << 20 };
        let mut c = Catalogue::new();
        assert_eq!(c.add_dir("set", dir.path(), terms).await?, 2);
        let names: Vec<_> = c.items().into_iter().map(|i| i.name).collect();
        assert_eq!(names, ["set/b.bin", "set/sub/a.txt"]);
        let b = &c.get("set/b.bin").ok_or(Error::Catalogue("missing".into()))?.item;
        assert_eq!((b.size, b.price, b.sha256), (3 << 20, U256::from(3000), sha256(&vec![7u8; 3 << 20])));
        let a = &c.get("set/sub/a.txt").ok_or(Error::Catalogue("missing".into()))?.item;
        assert_eq!(a.price, U256::from(1), "a part of a MiB is rounded up");
        assert!(matches!(c.add_dir("set", dir.path(), terms).await, Err(Error::Catalogue(_))), "names are unique");
        Ok(())
    }
}
