//! Whole artifact flows built from the operations: upload a set of files
//! as a new version (how `wandb job create` and `liftoff launch --uri`
//! create jobs), and download a version's files (how agents fetch a job).

use base64::Engine as _;
use liftoff_model::job::{JOB_FILE, JobSpec};
use liftoff_model::spec::JobRef;
use liftoff_model::{ArtifactManifest, ManifestEntry};
use md5::{Digest, Md5};
use serde_json::Value;

use crate::client::Client;
use crate::error::Error;
use crate::ops::artifacts::{
    ArtifactFileSpec, ArtifactInfo, ArtifactMembershipByName, CommitArtifact, CreateArtifact,
    CreateArtifactFiles, CreateArtifactManifest, FetchArtifactManifest,
    GetArtifactMembershipFileUrls,
};
use crate::transport::Transport;

/// A new version of an artifact to upload.
#[derive(Clone, Debug)]
pub struct NewVersion {
    pub entity: String,
    pub project: String,
    /// The collection (job) name.
    pub name: String,
    /// `job`, `code`, ...
    pub type_name: String,
    pub aliases: Vec<String>,
    pub description: Option<String>,
    pub metadata: Option<Value>,
    /// `(path inside the artifact, content)`.
    pub files: Vec<(String, Vec<u8>)>,
}

/// What an upload made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Uploaded {
    pub id: String,
    /// `true` when the server already had this exact content.
    pub unchanged: bool,
}

pub fn md5_b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Md5::digest(bytes))
}

/// The manifest of a set of files, and its artifact digest (hex MD5 over
/// the sorted `name:digest` entries).
pub fn manifest_of(files: &[(String, Vec<u8>)]) -> (ArtifactManifest, String) {
    let mut sorted: Vec<&(String, Vec<u8>)> = files.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut m = ArtifactManifest::new();
    let mut h = Md5::new();
    for (name, bytes) in sorted {
        let digest = md5_b64(bytes);
        h.update(format!("{name}:{digest}\n").as_bytes());
        m.contents.0.push((
            name.clone(),
            ManifestEntry {
                digest,
                size: Some(bytes.len() as i64),
                ..Default::default()
            },
        ));
    }
    (m, hex::encode(h.finalize()))
}

fn parse_headers(headers: &[String]) -> Vec<(String, String)> {
    headers
        .iter()
        .filter_map(|h| {
            h.split_once(':')
                .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        })
        .collect()
}

impl<T: Transport> Client<T> {
    /// Upload `v` as a new version (create, manifest, files, commit).
    pub async fn upload_version(&self, v: &NewVersion) -> Result<Uploaded, Error> {
        let (manifest, digest) = manifest_of(&v.files);
        let client_id = format!("liftoff-{}-{digest}", v.name);
        let created = self
            .call(CreateArtifact::new(
                &v.entity,
                &v.project,
                &v.type_name,
                &v.name,
                &digest,
                &client_id,
                &client_id,
                &v.aliases,
                v.description.as_deref(),
                v.metadata.as_ref(),
                None,
            ))
            .await?;
        if created.state == "COMMITTED" {
            return Ok(Uploaded {
                id: created.id,
                unchanged: true,
            });
        }
        let manifest_call = |digest: String, include_upload: bool| CreateArtifactManifest {
            artifact_id: created.id.clone(),
            name: "wandb_manifest.json".into(),
            digest,
            entity: v.entity.clone(),
            project: v.project.clone(),
            run_name: v.name.clone(),
            include_upload,
        };
        let first = self.call(manifest_call(String::new(), false)).await?;
        let specs: Vec<ArtifactFileSpec> = v
            .files
            .iter()
            .map(|(name, bytes)| ArtifactFileSpec {
                name: name.clone(),
                md5: md5_b64(bytes),
            })
            .collect();
        if !specs.is_empty() {
            let targets = self
                .call(CreateArtifactFiles {
                    artifact_id: created.id.clone(),
                    manifest_id: first.id,
                    files: specs,
                })
                .await?;
            for ((_, bytes), target) in v.files.iter().zip(targets) {
                if let Some(url) = target.upload_url {
                    self.put(&url, parse_headers(&target.upload_headers), bytes.clone())
                        .await?;
                }
            }
        }
        let manifest_bytes = serde_json::to_vec(&manifest).unwrap_or_default();
        let second = self
            .call(manifest_call(md5_b64(&manifest_bytes), true))
            .await?;
        let url = second.upload_url.ok_or_else(|| Error::Decode {
            operation: "CreateArtifactManifest".into(),
            message: "no upload URL for the manifest".into(),
        })?;
        self.put(&url, parse_headers(&second.upload_headers), manifest_bytes)
            .await?;
        self.call(CommitArtifact {
            artifact_id: created.id.clone(),
        })
        .await?;
        Ok(Uploaded {
            id: created.id,
            unchanged: false,
        })
    }

    /// Resolve `entity/project/name:alias` and download every file.
    pub async fn download_version(
        &self,
        entity: &str,
        project: &str,
        name_with_alias: &str,
    ) -> Result<(ArtifactInfo, Vec<(String, Vec<u8>)>), Error> {
        let info = self
            .call(ArtifactMembershipByName {
                entity: entity.into(),
                project: project.into(),
                name: name_with_alias.into(),
            })
            .await?;
        let files = self.download_files(&info).await?;
        Ok((info, files))
    }

    /// Download every file of a resolved artifact version.
    pub async fn download_files(
        &self,
        info: &ArtifactInfo,
    ) -> Result<Vec<(String, Vec<u8>)>, Error> {
        let manifest_url = self
            .call(FetchArtifactManifest {
                id: info.id.clone(),
            })
            .await?;
        let manifest: ArtifactManifest =
            liftoff_model::json::parse_bytes(&self.get(&manifest_url).await?).map_err(|e| {
                Error::Decode {
                    operation: "artifact manifest".into(),
                    message: e.to_string(),
                }
            })?;
        let mut urls = Vec::new();
        let mut cursor = None;
        loop {
            let page = self
                .call(GetArtifactMembershipFileUrls {
                    entity: info.entity.clone(),
                    project: info.project.clone(),
                    collection: info.collection.clone(),
                    alias: format!("v{}", info.version_index.unwrap_or(0)),
                    cursor: cursor.clone(),
                    per_page: 5000,
                })
                .await?;
            urls.extend(page.files);
            if !page.has_next_page {
                break;
            }
            cursor = page.end_cursor;
        }
        let mut out = Vec::new();
        for (name, entry) in manifest.contents.iter() {
            if entry.reference.is_some() {
                continue;
            }
            let url = urls
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, u)| u.clone())
                .ok_or_else(|| Error::NotFound {
                    what: format!("file {name:?} of artifact {}", info.versioned_name()),
                })?;
            let bytes = self.get(&url).await?;
            if md5_b64(&bytes) != entry.digest {
                return Err(Error::Decode {
                    operation: format!("download of {name}"),
                    message: "the content does not match its digest".into(),
                });
            }
            out.push((name.clone(), bytes));
        }
        Ok(out)
    }

    /// Fetch a job: its artifact, `wandb-job.json` and every file.
    pub async fn fetch_job(&self, job: &JobRef) -> Result<FetchedJob, Error> {
        let (info, files) = self
            .download_version(&job.entity, &job.project, &job.name_with_alias())
            .await?;
        if info.type_name != "job" {
            return Err(Error::NotFound {
                what: format!("job {job} (it is a {:?} artifact)", info.type_name),
            });
        }
        let text = files
            .iter()
            .find(|(n, _)| n == JOB_FILE)
            .map(|(_, b)| b.clone())
            .ok_or_else(|| Error::NotFound {
                what: format!("{JOB_FILE} in job {job}"),
            })?;
        let spec =
            JobSpec::from_json(&String::from_utf8_lossy(&text)).map_err(|e| Error::Decode {
                operation: format!("job {job}"),
                message: e.to_string(),
            })?;
        Ok(FetchedJob { info, spec, files })
    }
}

/// A downloaded job.
#[derive(Clone, Debug, PartialEq)]
pub struct FetchedJob {
    pub info: ArtifactInfo,
    pub spec: JobSpec,
    pub files: Vec<(String, Vec<u8>)>,
}

impl FetchedJob {
    /// The job's `requirements.frozen.txt`, if it has one.
    pub fn requirements(&self) -> Option<&[u8]> {
        self.files
            .iter()
            .find(|(n, _)| n == liftoff_model::job::REQUIREMENTS_FILE)
            .map(|(_, b)| b.as_slice())
    }
}
