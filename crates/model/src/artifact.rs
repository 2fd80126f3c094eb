//! Artifact manifests (`wandb_manifest.json`), spec rest.md §3.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::job::indexmap_like::Ordered;

pub const STORAGE_POLICY: &str = "wandb-storage-policy-v1";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ArtifactManifest {
    pub version: i64,
    #[serde(rename = "storagePolicy")]
    pub storage_policy: String,
    #[serde(rename = "storagePolicyConfig", default)]
    pub storage_policy_config: Map<String, Value>,
    pub contents: Ordered<ManifestEntry>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// base64(MD5(content)) for stored files; the provider digest for references.
    pub digest: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
    #[serde(
        rename = "birthArtifactID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub birth_artifact_id: Option<String>,
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<Map<String, Value>>,
    /// Client-side leftovers (`local_path`, `skip_cache`), kept verbatim.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl ArtifactManifest {
    pub fn new() -> Self {
        let mut cfg = Map::new();
        cfg.insert("storageLayout".into(), Value::String("V2".into()));
        Self {
            version: 1,
            storage_policy: STORAGE_POLICY.into(),
            storage_policy_config: cfg,
            contents: Ordered::default(),
            extra: Map::new(),
        }
    }

    /// The manifest as served for download: client-only keys dropped.
    pub fn for_download(&self) -> Self {
        let mut m = self.clone();
        for (_, entry) in m.contents.0.iter_mut() {
            entry.other.remove("local_path");
            entry.other.remove("skip_cache");
        }
        m
    }
}

impl Default for ArtifactManifest {
    fn default() -> Self {
        Self::new()
    }
}

/// A path inside an artifact is safe to store and serve: relative, no `..`,
/// no empty or `.` segments, no backslashes or NUL.
pub fn is_safe_artifact_path(path: &str) -> bool {
    !path.is_empty()
        && path.len() <= 1024
        && !path.starts_with('/')
        && !path.contains('\\')
        && !path.contains('\0')
        && path
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_paths() {
        assert!(is_safe_artifact_path("wandb-job.json"));
        assert!(is_safe_artifact_path("src/train.py"));
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../b",
            "a//b",
            "a\\b",
            "./a",
        ] {
            assert!(!is_safe_artifact_path(bad), "{bad}");
        }
    }
}
