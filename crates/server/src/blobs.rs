//! File storage for artifact files, manifests and run files: a directory
//! of objects addressed by key. (An S3-compatible store can implement the
//! same calls later.)

use std::path::{Path, PathBuf};

use tokio::io::AsyncWriteExt;

#[derive(Clone, Debug)]
pub struct Blobs {
    root: PathBuf,
}

/// Keys are `/`-separated safe segments (no `..`, no absolute paths).
pub fn is_safe_key(key: &str) -> bool {
    liftoff_model::artifact::is_safe_artifact_path(key)
}

impl Blobs {
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }

    fn path(&self, key: &str) -> std::io::Result<PathBuf> {
        if !is_safe_key(key) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "unsafe object key",
            ));
        }
        Ok(self.root.join(key))
    }

    /// Write an object atomically (temp file, then rename).
    pub async fn put(&self, key: &str, bytes: &[u8]) -> std::io::Result<()> {
        let path = self.path(key)?;
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await?;
        }
        let tmp = temp_path(&path);
        let mut f = tokio::fs::File::create(&tmp).await?;
        f.write_all(bytes).await?;
        f.sync_data().await?;
        drop(f);
        tokio::fs::rename(&tmp, &path).await
    }

    pub async fn get(&self, key: &str) -> std::io::Result<Option<Vec<u8>>> {
        let path = self.path(key)?;
        match tokio::fs::read(&path).await {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn exists(&self, key: &str) -> bool {
        match self.path(key) {
            Ok(p) => tokio::fs::metadata(p).await.is_ok(),
            Err(_) => false,
        }
    }
}

fn temp_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(format!(".tmp{}", rand::random::<u32>()));
    path.with_file_name(name)
}

impl Blobs {
    /// Move a finished temp file into place under `key`.
    pub async fn commit(&self, tmp: &Path, key: &str) -> std::io::Result<()> {
        let path = self.path(key)?;
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await?;
        }
        tokio::fs::rename(tmp, &path).await
    }
}
