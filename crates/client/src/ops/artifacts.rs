//! Jobs are artifacts of type `job`: listing, fetching and creating them
//! (spec §2.6-2.8, rest.md §3-4).

use serde_json::{Map, Value, json};

use crate::error::Error;
use crate::graphql::{at, decode_err, nodes, string_at, vars};
use crate::ops::operation;

/// One version of an artifact collection, as `ArtifactOfType` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionRef {
    pub id: String,
    pub state: String,
    pub aliases: Vec<String>,
}

/// A collection (a job) with its versions, newest first as the server lists them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Collection {
    pub name: String,
    pub versions: Vec<VersionRef>,
}

/// `query ArtifactOfType` (`wandb job list`): `None` when the type does not exist.
#[derive(Clone, Debug)]
pub struct ArtifactOfType {
    pub entity: String,
    pub project: String,
    pub type_name: String,
}
operation!(ArtifactOfType, "ArtifactOfType", "ArtifactOfType", typed = false, output = Vec<Collection>,
vars(self) { vars([("entityName", json!(self.entity)), ("projectName", json!(self.project)), ("artifactTypeName", json!(self.type_name))]) },
decode(self, data) {
    let project = at(&data, &["project"]).ok_or_else(|| Error::NotFound { what: format!("project {}/{}", self.entity, self.project) })?;
    let Some(t) = at(project, &["artifactType"]) else { return Ok(vec![]) };
    let mut out = Vec::new();
    for coll in nodes(t.get("artifactCollections")) {
        let versions: Vec<VersionRef> = nodes(coll.get("artifacts"))
            .into_iter()
            .map(|a| VersionRef {
                id: a.get("id").and_then(Value::as_str).unwrap_or_default().to_owned(),
                state: a.get("state").and_then(Value::as_str).unwrap_or_default().to_owned(),
                aliases: a.get("aliases").and_then(Value::as_array).map(|l| {
                    l.iter().filter_map(|x| x.get("alias")?.as_str().map(str::to_owned)).collect()
                }).unwrap_or_default(),
            })
            .collect();
        let name = nodes(coll.get("artifacts")).first()
            .and_then(|a| at(a, &["artifactSequence", "name"]))
            .and_then(Value::as_str).unwrap_or_default().to_owned();
        out.push(Collection { name, versions });
    }
    Ok(out)
});

/// An artifact version, as `ArtifactFragment` describes it.
#[derive(Clone, Debug, PartialEq)]
pub struct ArtifactInfo {
    pub id: String,
    pub collection: String,
    pub entity: String,
    pub project: String,
    pub version_index: Option<i64>,
    pub type_name: String,
    pub description: Option<String>,
    pub metadata: Map<String, Value>,
    pub state: String,
    pub digest: String,
    pub size: Option<i64>,
    pub file_count: Option<i64>,
    pub created_at: Option<String>,
    pub aliases: Vec<String>,
}

impl ArtifactInfo {
    /// `name:vN`.
    pub fn versioned_name(&self) -> String {
        format!("{}:v{}", self.collection, self.version_index.unwrap_or(0))
    }
}

fn artifact_info(op: &str, a: &Value, aliases_from: Option<&Value>) -> Result<ArtifactInfo, Error> {
    let metadata = match a.get("metadata") {
        Some(Value::String(t)) if !t.is_empty() => {
            liftoff_model::json::parse(t).map_err(|e| decode_err(op, e.to_string()))?
        }
        Some(Value::Object(m)) => m.clone(),
        _ => Map::new(),
    };
    let s = |p: &[&str]| at(a, p).and_then(Value::as_str).map(str::to_owned);
    let alias_list = aliases_from.or_else(|| a.get("aliases"));
    Ok(ArtifactInfo {
        id: string_at(op, a, &["id"])?,
        collection: s(&["artifactSequence", "name"]).unwrap_or_default(),
        entity: s(&["artifactSequence", "project", "entity", "name"]).unwrap_or_default(),
        project: s(&["artifactSequence", "project", "name"]).unwrap_or_default(),
        version_index: at(a, &["versionIndex"]).and_then(Value::as_i64),
        type_name: s(&["artifactType", "name"]).unwrap_or_default(),
        description: s(&["description"]),
        metadata,
        state: s(&["state"]).unwrap_or_default(),
        digest: s(&["digest"]).unwrap_or_default(),
        size: at(a, &["size"]).and_then(Value::as_i64),
        file_count: at(a, &["fileCount"]).and_then(Value::as_i64),
        created_at: s(&["createdAt"]),
        aliases: alias_list
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .filter_map(|x| x.get("alias")?.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
    })
}

/// `query ArtifactMembershipByName`: resolve `name:alias` in a project.
#[derive(Clone, Debug)]
pub struct ArtifactMembershipByName {
    pub entity: String,
    pub project: String,
    /// `collection:alias` or `collection:vN`.
    pub name: String,
}
operation!(ArtifactMembershipByName, "ArtifactMembershipByName", "ArtifactMembershipByName", typed = false, output = ArtifactInfo,
vars(self) { vars([("entity", json!(self.entity)), ("project", json!(self.project)), ("name", json!(self.name))]) },
decode(self, data) {
    let m = at(&data, &["project", "artifactCollectionMembership"])
        .ok_or_else(|| Error::NotFound { what: format!("artifact {}/{}/{}", self.entity, self.project, self.name) })?;
    let a = at(m, &["artifact"]).ok_or_else(|| decode_err("ArtifactMembershipByName", "membership without artifact"))?;
    let mut info = artifact_info("ArtifactMembershipByName", a, m.get("aliases"))?;
    if info.version_index.is_none() {
        info.version_index = at(m, &["versionIndex"]).and_then(Value::as_i64);
    }
    Ok(info)
});

/// `query ArtifactByID`.
#[derive(Clone, Debug)]
pub struct ArtifactByID {
    pub id: String,
}
operation!(ArtifactByID, "ArtifactByID", "ArtifactByID", typed = false, output = ArtifactInfo,
vars(self) { vars([("id", json!(self.id))]) },
decode(self, data) {
    let a = at(&data, &["artifact"]).ok_or_else(|| Error::NotFound { what: format!("artifact {}", self.id) })?;
    artifact_info("ArtifactByID", a, None)
});

/// `query FetchArtifactManifest`: the manifest's download URL.
#[derive(Clone, Debug)]
pub struct FetchArtifactManifest {
    pub id: String,
}
operation!(FetchArtifactManifest, "FetchArtifactManifest", "FetchArtifactManifest", typed = false, output = String,
vars(self) { vars([("id", json!(self.id))]) },
decode(self, data) {
    at(&data, &["artifact", "currentManifest", "file", "directUrl"]).and_then(Value::as_str).map(str::to_owned)
        .ok_or_else(|| Error::NotFound { what: format!("manifest of artifact {}", self.id) })
});

/// A page of file download URLs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileUrlPage {
    pub files: Vec<(String, String)>,
    pub end_cursor: Option<String>,
    pub has_next_page: bool,
}

/// `query GetArtifactMembershipFileUrls`.
#[derive(Clone, Debug)]
pub struct GetArtifactMembershipFileUrls {
    pub entity: String,
    pub project: String,
    pub collection: String,
    /// `vN` or an alias.
    pub alias: String,
    pub cursor: Option<String>,
    pub per_page: i64,
}
operation!(GetArtifactMembershipFileUrls, "GetArtifactMembershipFileUrls", "GetArtifactMembershipFileUrls", typed = false, output = FileUrlPage,
vars(self) {
    vars([("entity", json!(self.entity)), ("project", json!(self.project)), ("collection", json!(self.collection)),
          ("alias", json!(self.alias)), ("cursor", json!(self.cursor)), ("perPage", json!(self.per_page))])
},
decode(self, data) {
    let files = at(&data, &["project", "artifactCollection", "artifactMembership", "files"])
        .ok_or_else(|| Error::NotFound { what: format!("artifact {}/{}/{}:{}", self.entity, self.project, self.collection, self.alias) })?;
    Ok(FileUrlPage {
        files: nodes(Some(files)).into_iter().filter_map(|n| {
            Some((n.get("name")?.as_str()?.to_owned(), n.get("directUrl")?.as_str()?.to_owned()))
        }).collect(),
        end_cursor: at(files, &["pageInfo", "endCursor"]).and_then(Value::as_str).map(str::to_owned),
        has_next_page: at(files, &["pageInfo", "hasNextPage"]).and_then(Value::as_bool).unwrap_or(false),
    })
});

/// `query ArtifactType`: the type of `name:alias` if it exists.
#[derive(Clone, Debug)]
pub struct ArtifactType {
    pub entity: String,
    pub project: String,
    pub name: String,
}
operation!(ArtifactType, "ArtifactType", "ArtifactType", typed = false, output = Option<String>,
    vars(self) { vars([("entity", json!(self.entity)), ("project", json!(self.project)), ("name", json!(self.name))]) },
    decode(self, data) { Ok(at(&data, &["project", "artifact", "artifactType", "name"]).and_then(Value::as_str).map(str::to_owned)) });

/// A created (or deduplicated) artifact version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreatedArtifact {
    pub id: String,
    /// `PENDING` for a new version, `COMMITTED` when the digest matched.
    pub state: String,
    pub latest_id: Option<String>,
}

/// `mutation CreateArtifact` (wandb-core's, typed): `input` is the
/// `CreateArtifactInput` object.
#[derive(Clone, Debug)]
pub struct CreateArtifact {
    pub input: Value,
}
impl CreateArtifact {
    /// The input for a new version of `collection` of `type_name`, with
    /// `latest` among its aliases, as wandb-core sends it.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        entity: &str,
        project: &str,
        type_name: &str,
        collection: &str,
        digest: &str,
        client_id: &str,
        sequence_client_id: &str,
        aliases: &[String],
        description: Option<&str>,
        metadata: Option<&Value>,
        run_name: Option<&str>,
    ) -> Self {
        let mut all: Vec<String> = aliases.to_vec();
        if !all.iter().any(|a| a == "latest") {
            all.push("latest".into());
        }
        let aliases: Vec<Value> = all
            .iter()
            .map(|a| json!({"alias": a, "artifactCollectionName": collection}))
            .collect();
        Self {
            input: json!({
                "aliases": aliases,
                "artifactCollectionName": collection,
                "artifactCollectionNames": null,
                "artifactTypeName": type_name,
                "clientID": client_id,
                "clientMutationId": null,
                "description": description,
                "digest": digest,
                "digestAlgorithm": "MANIFEST_MD5",
                "distributedID": null,
                "enableDigestDeduplication": true,
                "entityName": entity,
                "historyStep": null,
                "labels": null,
                "metadata": metadata.map(Value::to_string),
                "projectName": project,
                "runName": run_name,
                "sequenceClientID": sequence_client_id,
                "storageRegion": null,
                "ttlDurationSeconds": null,
            }),
        }
    }
}
operation!(CreateArtifact, "CreateArtifact", "CreateArtifact", typed = true, output = CreatedArtifact,
vars(self) { vars([("input", self.input.clone())]) },
decode(self, data) {
    let a = at(&data, &["createArtifact", "artifact"])
        .ok_or_else(|| Error::Rejected { operation: "CreateArtifact".into(), message: "the artifact was not created".into() })?;
    Ok(CreatedArtifact {
        id: string_at("CreateArtifact", a, &["id"])?,
        state: at(a, &["state"]).and_then(Value::as_str).unwrap_or_default().to_owned(),
        latest_id: at(a, &["artifactSequence", "latestArtifact", "id"]).and_then(Value::as_str).map(str::to_owned),
    })
});

/// Where to PUT a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadTarget {
    pub id: String,
    pub upload_url: Option<String>,
    pub upload_headers: Vec<String>,
}

/// `mutation CreateArtifactManifest`.
#[derive(Clone, Debug)]
pub struct CreateArtifactManifest {
    pub artifact_id: String,
    pub name: String,
    /// base64 MD5 of the manifest JSON ("" for the first, id-only call).
    pub digest: String,
    pub entity: String,
    pub project: String,
    pub run_name: String,
    pub include_upload: bool,
}
operation!(CreateArtifactManifest, "CreateArtifactManifest", "CreateArtifactManifest", typed = true, output = UploadTarget,
vars(self) {
    vars([("artifactID", json!(self.artifact_id)), ("baseArtifactID", Value::Null), ("name", json!(self.name)),
          ("digest", json!(self.digest)), ("entityName", json!(self.entity)), ("projectName", json!(self.project)),
          ("runName", json!(self.run_name)), ("manifestType", json!("FULL")), ("includeUpload", json!(self.include_upload))])
},
decode(self, data) {
    let m = at(&data, &["createArtifactManifest", "artifactManifest"])
        .ok_or_else(|| Error::Rejected { operation: "CreateArtifactManifest".into(), message: "no manifest was created".into() })?;
    Ok(UploadTarget {
        id: string_at("CreateArtifactManifest", m, &["id"])?,
        upload_url: at(m, &["file", "uploadUrl"]).and_then(Value::as_str).map(str::to_owned),
        upload_headers: at(m, &["file", "uploadHeaders"]).and_then(|h| serde_json::from_value(h.clone()).ok()).unwrap_or_default(),
    })
});

/// One file to register with `CreateArtifactFiles`.
#[derive(Clone, Debug)]
pub struct ArtifactFileSpec {
    pub name: String,
    /// base64 MD5.
    pub md5: String,
}

/// `mutation CreateArtifactFiles`: upload URLs, in request order.
#[derive(Clone, Debug)]
pub struct CreateArtifactFiles {
    pub artifact_id: String,
    pub manifest_id: String,
    pub files: Vec<ArtifactFileSpec>,
}
operation!(CreateArtifactFiles, "CreateArtifactFiles", "CreateArtifactFiles", typed = true, output = Vec<UploadTarget>,
vars(self) {
    let files: Vec<Value> = self.files.iter().map(|f| json!({
        "artifactID": self.artifact_id, "artifactManifestID": self.manifest_id, "md5": f.md5,
        "mimetype": null, "name": f.name, "uploadPartsInput": null,
    })).collect();
    vars([("input", json!({"artifactFiles": files, "clientMutationId": null, "cloudRegionID": null, "storageLayout": "V2"}))])
},
decode(self, data) {
    let list = nodes(at(&data, &["createArtifactFiles", "files"]));
    if list.len() != self.files.len() {
        return Err(decode_err("CreateArtifactFiles", format!("asked for {} upload URLs, got {}", self.files.len(), list.len())));
    }
    Ok(list.into_iter().map(|n| UploadTarget {
        id: n.get("storagePath").and_then(Value::as_str).unwrap_or_default().to_owned(),
        upload_url: n.get("uploadUrl").and_then(Value::as_str).map(str::to_owned),
        upload_headers: n.get("uploadHeaders").and_then(|h| serde_json::from_value(h.clone()).ok()).unwrap_or_default(),
    }).collect())
});

/// `mutation CommitArtifact`.
#[derive(Clone, Debug)]
pub struct CommitArtifact {
    pub artifact_id: String,
}
operation!(CommitArtifact, "CommitArtifact", "CommitArtifact", typed = true, output = (),
vars(self) { vars([("artifactID", json!(self.artifact_id))]) },
decode(self, data) {
    at(&data, &["commitArtifact", "artifact"]).map(|_| ())
        .ok_or_else(|| Error::Rejected { operation: "CommitArtifact".into(), message: format!("artifact {} was not committed", self.artifact_id) })
});

/// `mutation UseArtifact` (typed): a run declares it used an artifact.
#[derive(Clone, Debug)]
pub struct UseArtifact {
    pub artifact_id: String,
    pub entity: String,
    pub project: String,
    pub run_name: String,
}
operation!(UseArtifact, "UseArtifact", "UseArtifact", typed = true, output = (),
    vars(self) {
        vars([("input", json!({"artifactID": self.artifact_id, "clientMutationId": null, "entityName": self.entity,
                              "projectName": self.project, "runName": self.run_name, "usedAs": null}))])
    },
    decode(self, data) { Ok(()) });

/// `mutation CreateRunFiles`: upload URLs for run files.
#[derive(Clone, Debug)]
pub struct CreateRunFiles {
    pub entity: String,
    pub project: String,
    pub run: String,
    pub files: Vec<String>,
}
operation!(CreateRunFiles, "CreateRunFiles", "CreateRunFiles", typed = true, output = (Vec<String>, Vec<(String, Option<String>)>),
vars(self) { vars([("entity", json!(self.entity)), ("project", json!(self.project)), ("run", json!(self.run)), ("files", json!(self.files))]) },
decode(self, data) {
    let p = at(&data, &["createRunFiles"]).ok_or_else(|| Error::NotFound { what: format!("run {}/{}/{}", self.entity, self.project, self.run) })?;
    let headers: Vec<String> = p.get("uploadHeaders").and_then(|h| serde_json::from_value(h.clone()).ok()).unwrap_or_default();
    let files = p.get("files").and_then(Value::as_array).map(|l| l.iter().map(|f| (
        f.get("name").and_then(Value::as_str).unwrap_or_default().to_owned(),
        f.get("uploadUrl").and_then(Value::as_str).map(str::to_owned),
    )).collect()).unwrap_or_default();
    Ok((headers, files))
});
