//! Artifacts, and so jobs (artifacts of type `job`): the read path the SDK
//! and agents use to fetch a job, and the write path that creates one
//! (spec §2.6-2.8, rest.md §3-4).

use std::collections::HashMap;

use async_graphql::{Context, Enum, ID, InputObject, Interface, Object, SimpleObject};
use base64::Engine as _;
use serde_json::{Map, Value, json};

use crate::access::{self, Caller, denied};
use crate::error::{ApiError, ApiResult};
use crate::graphql::identity::{ProjectObj, caller, st};
use crate::graphql::launch::PageInfo;
use crate::graphql::paging::{ignored, offset_page, parse_order, string_matches};
use crate::graphql::runs::validate_run_name;
use crate::graphql::scalars::{Int64, JsonString, datetime};
use crate::ids;
use crate::signing::{Grant, sign};
use crate::state::AppState;
use crate::store::{Artifact, Collection, Entity, NewArtifact, Project};

/// How long upload and download links stay valid.
pub const LINK_TTL_MS: i64 = 60 * 60 * 1000;

/// The object key of stored file content, by its MD5.
pub fn content_key(md5_b64: &str) -> Option<String> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(md5_b64)
        .ok()
        .filter(|r| r.len() == 16)?;
    Some(md5_key(&raw))
}

/// The object key of stored file content, by its MD5 as bytes.
pub fn md5_key(raw: &[u8]) -> String {
    format!("artifacts/md5/{}", hex::encode(raw))
}

pub fn manifest_key(artifact_id: i64) -> String {
    format!("artifacts/manifests/{artifact_id}.json")
}

pub fn download_url(state: &AppState, base: &str, key: &str, name: &str) -> String {
    let token = sign(
        &state.signing_key,
        Grant::Get {
            key: key.to_owned(),
            name: name.to_owned(),
        },
        state.now() + LINK_TTL_MS,
    );
    let file = name.rsplit('/').next().unwrap_or(name);
    format!("{base}/files/download/{token}/{}", urlencode(file))
}

pub fn upload_url(state: &AppState, base: &str, grant: Grant) -> String {
    let token = sign(&state.signing_key, grant, state.now() + LINK_TTL_MS);
    format!("{base}/files/upload/{token}")
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// Where an artifact lives.
#[derive(Clone)]
pub struct Home {
    pub entity: Entity,
    pub project: Project,
    pub collection: Collection,
}

impl Home {
    pub(crate) async fn of(state: &AppState, caller: &Caller, a: &Artifact) -> ApiResult<Self> {
        let collection = state
            .store
            .collection_by_id(a.collection_id)
            .await?
            .ok_or_else(|| denied("artifact"))?;
        let (entity, project) =
            access::project_by_id(state, caller, collection.project_id, "artifact").await?;
        Ok(Self {
            entity,
            project,
            collection,
        })
    }
}

/// `name:alias`, `name:vN` or `name` (latest).
fn split_name(name: &str) -> (&str, &str) {
    match name.rsplit_once(':') {
        Some((c, a)) if !c.is_empty() && !a.is_empty() => (c, a),
        _ => (name, "latest"),
    }
}

async fn resolve_version(
    state: &AppState,
    collection: &Collection,
    alias: &str,
) -> ApiResult<Option<Artifact>> {
    if let Some(v) = alias.strip_prefix('v').and_then(|n| n.parse::<i64>().ok()) {
        return Ok(state.store.artifact_by_version(collection.id, v).await?);
    }
    Ok(state.store.artifact_by_alias(collection.id, alias).await?)
}

/// The `wandb-job.json` of the job a spec names (`entity/project/name:alias`),
/// read from storage; `None` where the caller cannot see it, it is not
/// there (yet) or does not parse: pushes of those go on as W&B's do.
pub(crate) async fn job_spec(
    state: &AppState,
    caller: &Caller,
    job: &str,
) -> ApiResult<Option<liftoff_model::job::JobSpec>> {
    let Ok(r) = liftoff_model::spec::JobRef::parse(job) else {
        return Ok(None);
    };
    let Ok(Some((entity, project))) =
        access::project(state, caller, Some(&r.entity), &r.project).await
    else {
        return Ok(None);
    };
    let Some(job) = MembershipObj::by_name(state, &entity, &project, &r.name_with_alias()).await?
    else {
        return Ok(None);
    };
    let files = state.store.artifact_files(job.artifact.artifact.id).await?;
    let Some(key) = files
        .iter()
        .find(|f| f.name == "wandb-job.json")
        .and_then(|f| content_key(&f.md5))
    else {
        return Ok(None);
    };
    let Ok(Some(bytes)) = state.blobs.get(&key).await else {
        return Ok(None);
    };
    Ok(std::str::from_utf8(&bytes)
        .ok()
        .and_then(|text| liftoff_model::job::JobSpec::from_json(text).ok()))
}

#[derive(SimpleObject)]
pub struct ArtifactTypeName {
    name: String,
}

#[derive(SimpleObject)]
#[graphql(name = "Tag")]
pub struct TagObj {
    id: ID,
    name: String,
}

pub struct ArtifactObj {
    pub artifact: Artifact,
    pub home: Home,
}

#[Object(name = "Artifact")]
impl ArtifactObj {
    async fn id(&self) -> ID {
        ids::encode("Artifact", self.artifact.id).into()
    }
    async fn artifact_sequence(&self) -> ArtifactSequenceObj {
        ArtifactSequenceObj(self.home.clone())
    }
    async fn version_index(&self) -> Option<i64> {
        self.artifact.version_index
    }
    async fn artifact_type(&self) -> ArtifactTypeName {
        ArtifactTypeName {
            name: self.home.collection.type_name.clone(),
        }
    }
    async fn description(&self) -> Option<&str> {
        self.artifact.description.as_deref()
    }
    async fn metadata(&self) -> JsonString {
        JsonString::text(&self.artifact.metadata)
    }
    async fn ttl_duration_seconds(&self) -> Int64 {
        Int64(-2)
    }
    async fn ttl_is_inherited(&self) -> bool {
        true
    }
    async fn tags(&self) -> Vec<TagObj> {
        vec![]
    }
    async fn history_step(&self) -> Option<Int64> {
        None
    }
    async fn state(&self) -> &str {
        &self.artifact.state
    }
    async fn size(&self) -> Int64 {
        Int64(self.artifact.size)
    }
    async fn digest(&self) -> &str {
        &self.artifact.digest
    }
    async fn digest_algorithm(&self) -> DigestAlgorithm {
        DigestAlgorithm::ManifestMd5
    }
    async fn commit_hash(&self) -> Option<String> {
        self.artifact
            .version_index
            .map(|_| format!("{:012x}", self.artifact.id))
    }
    async fn file_count(&self) -> Int64 {
        Int64(self.artifact.file_count)
    }
    async fn created_at(&self) -> String {
        datetime(self.artifact.created_at)
    }
    async fn updated_at(&self) -> Option<String> {
        Some(datetime(self.artifact.updated_at))
    }
    /// The version's aliases, `vN` included (as `ArtifactOfType` shows them).
    async fn aliases(&self, ctx: &Context<'_>) -> ApiResult<Vec<AliasObj>> {
        aliases_of(st(ctx), &self.artifact, &self.home, true).await
    }
    async fn current_manifest(&self, ctx: &Context<'_>) -> Option<ArtifactManifestObj> {
        let key = self.artifact.manifest_key.clone()?;
        let state = st(ctx);
        let url = download_url(state, &caller(ctx).base_url, &key, "wandb_manifest.json");
        Some(ArtifactManifestObj {
            id: ids::encode("ArtifactManifest", self.artifact.id).into(),
            file: FileObj::link(
                ids::encode("File", self.artifact.id),
                "wandb_manifest.json",
                url,
            ),
        })
    }
    /// Liftoff: the runs that used this artifact (for a job: its launches).
    async fn used_by(&self, ctx: &Context<'_>) -> ApiResult<Vec<crate::graphql::runs::RunObj>> {
        let state = st(ctx);
        let runs = state
            .store
            .runs_using_artifacts(&[self.artifact.id])
            .await?;
        let mut out = Vec::new();
        for (_, run) in runs {
            if let Ok((e, p)) =
                access::project_by_id(state, caller(ctx), run.project_id, "run").await
            {
                out.push(crate::graphql::runs::RunObj::new(run, e, p));
            }
        }
        Ok(out)
    }
    async fn files(
        &self,
        ctx: &Context<'_>,
        names: Option<Vec<Option<String>>>,
        after: Option<String>,
        first: Option<i32>,
    ) -> ApiResult<FileConnection> {
        FileConnection::load(
            st(ctx),
            caller(ctx),
            &self.artifact,
            flat(names),
            after,
            first,
        )
        .await
    }
}

/// `[String]` arguments: nulls dropped, an empty list means no filter.
pub fn flat(names: Option<Vec<Option<String>>>) -> Option<Vec<String>> {
    names
        .map(|n| n.into_iter().flatten().collect::<Vec<_>>())
        .filter(|n| !n.is_empty())
}

async fn aliases_of(
    state: &AppState,
    a: &Artifact,
    home: &Home,
    with_version: bool,
) -> ApiResult<Vec<AliasObj>> {
    let mut names: Vec<String> = state
        .store
        .artifact_aliases(&[a.id])
        .await?
        .into_iter()
        .map(|(_, n)| n)
        .collect();
    if with_version && let Some(v) = a.version_index {
        names.push(format!("v{v}"));
    }
    Ok(names
        .into_iter()
        .map(|alias| AliasObj {
            alias,
            artifact_id: a.id,
            home: home.clone(),
        })
        .collect())
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "ArtifactDigestAlgorithm")]
pub enum DigestAlgorithm {
    #[graphql(name = "MANIFEST_MD5")]
    ManifestMd5,
}

pub struct AliasObj {
    alias: String,
    artifact_id: i64,
    home: Home,
}

#[Object(name = "ArtifactAlias")]
impl AliasObj {
    async fn id(&self) -> ID {
        ids::encode("ArtifactAlias", self.artifact_id).into()
    }
    async fn alias(&self) -> &str {
        &self.alias
    }
    async fn artifact_collection(&self) -> ArtifactCollectionIface {
        ArtifactCollectionIface::ArtifactSequence(ArtifactSequenceObj(self.home.clone()))
    }
}

pub struct ArtifactSequenceObj(pub Home);

#[derive(SimpleObject)]
pub struct VersionIndexRef {
    id: ID,
    version_index: Option<i64>,
}

#[derive(SimpleObject)]
pub struct ArtifactEdge {
    node: ArtifactObj,
    cursor: String,
    /// `vN` (W&B's `VersionedArtifactEdge`); null for an uncommitted version.
    version: Option<String>,
}

#[derive(SimpleObject)]
pub struct ArtifactConnection {
    edges: Vec<ArtifactEdge>,
    page_info: PageInfo,
    total_count: i64,
}

impl ArtifactConnection {
    fn page(list: Vec<ArtifactObj>, after: Option<&str>, first: Option<i32>) -> ApiResult<Self> {
        let page = offset_page(list, after, first)?;
        Ok(Self {
            edges: page
                .items
                .into_iter()
                .map(|(cursor, node)| ArtifactEdge {
                    version: node.artifact.version_index.map(|v| format!("v{v}")),
                    cursor,
                    node,
                })
                .collect(),
            page_info: page.page_info,
            total_count: page.total,
        })
    }

    /// A run's artifacts (logged or used), oldest first. Versions in
    /// projects the caller may not see are left out.
    pub(crate) async fn of_run(
        state: &AppState,
        caller: &Caller,
        list: Vec<Artifact>,
        after: Option<String>,
        first: Option<i32>,
    ) -> ApiResult<Self> {
        let mut homes: HashMap<i64, Option<Home>> = HashMap::new();
        let mut nodes = Vec::new();
        for artifact in list {
            let home = match homes.get(&artifact.collection_id) {
                Some(h) => h.clone(),
                None => {
                    let h = match Home::of(state, caller, &artifact).await {
                        Ok(h) => Some(h),
                        Err(ApiError::NotFound(_)) => None,
                        Err(e) => return Err(e),
                    };
                    homes.insert(artifact.collection_id, h.clone());
                    h
                }
            };
            if let Some(home) = home {
                nodes.push(ArtifactObj { artifact, home });
            }
        }
        Self::page(nodes, after.as_deref(), first)
    }
}

/// `filters` on a collection's versions: `state` is applied (only
/// committed versions are listed, so `{"state": "COMMITTED"}`, the SDK's
/// default, keeps them all); other conditions are ignored and logged.
fn filter_versions(list: &mut Vec<Artifact>, filters: Option<&Value>) {
    let Some(Value::Object(conditions)) = filters else {
        return;
    };
    for (field, condition) in conditions {
        match field.as_str() {
            "state" => match string_matches("COMMITTED", condition) {
                Some(true) => {}
                Some(false) => list.retain(|a| a.state != "COMMITTED"),
                None => ignored("artifact versions", "filter", &json!({field: condition})),
            },
            _ => ignored("artifact versions", "filter", &json!({field: condition})),
        }
    }
}

#[derive(SimpleObject)]
#[graphql(name = "TagEdge")]
pub struct TagEdge {
    node: TagObj,
}

#[derive(SimpleObject)]
#[graphql(name = "TagConnection")]
pub struct TagConnection {
    edges: Vec<TagEdge>,
}

#[derive(SimpleObject)]
pub struct ArtifactAliasEdge {
    node: AliasObj,
    cursor: String,
}

#[derive(SimpleObject)]
pub struct ArtifactAliasConnection {
    edges: Vec<ArtifactAliasEdge>,
    page_info: PageInfo,
}

#[Object(name = "ArtifactSequence")]
impl ArtifactSequenceObj {
    async fn id(&self) -> ID {
        ids::encode("ArtifactSequence", self.0.collection.id).into()
    }
    async fn name(&self) -> &str {
        &self.0.collection.name
    }
    async fn description(&self) -> Option<&str> {
        self.0.collection.description.as_deref()
    }
    async fn created_at(&self) -> String {
        datetime(self.0.collection.created_at)
    }
    /// The last change: the collection's creation or its newest version's
    /// last update.
    async fn updated_at(&self, ctx: &Context<'_>) -> ApiResult<Option<String>> {
        let versions = st(ctx)
            .store
            .artifacts_of_collection(self.0.collection.id)
            .await?;
        let last = versions
            .iter()
            .map(|a| a.updated_at)
            .fold(self.0.collection.created_at, i64::max);
        Ok(Some(datetime(last)))
    }
    async fn default_artifact_type(&self, ctx: &Context<'_>) -> ApiResult<ArtifactTypeObj> {
        let home = &self.0;
        let t = ArtifactTypeObj::load(
            st(ctx),
            &home.entity,
            &home.project,
            &home.collection.type_name,
        )
        .await?;
        Ok(t.unwrap_or_else(|| ArtifactTypeObj {
            entity: home.entity.clone(),
            project: home.project.clone(),
            name: home.collection.type_name.clone(),
            collections: vec![home.collection.clone()],
        }))
    }
    /// Liftoff collections have no tags: W&B's answer for none.
    async fn tags(&self) -> TagConnection {
        TagConnection { edges: vec![] }
    }
    /// The aliases of the collection's versions (`latest` and the ones
    /// users set; not `vN`), by name.
    async fn aliases(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i32>,
    ) -> ApiResult<ArtifactAliasConnection> {
        let state = st(ctx);
        let versions = state
            .store
            .artifacts_of_collection(self.0.collection.id)
            .await?;
        let ids: Vec<i64> = versions.iter().map(|a| a.id).collect();
        let aliases: Vec<AliasObj> = state
            .store
            .artifact_aliases(&ids)
            .await?
            .into_iter()
            .map(|(artifact_id, alias)| AliasObj {
                alias,
                artifact_id,
                home: self.0.clone(),
            })
            .collect();
        let page = offset_page(aliases, after.as_deref(), first)?;
        Ok(ArtifactAliasConnection {
            edges: page
                .items
                .into_iter()
                .map(|(cursor, node)| ArtifactAliasEdge { node, cursor })
                .collect(),
            page_info: page.page_info,
        })
    }
    async fn project(&self) -> ProjectObj {
        ProjectObj {
            entity: self.0.entity.clone(),
            project: self.0.project.clone(),
        }
    }
    async fn latest_artifact(&self, ctx: &Context<'_>) -> ApiResult<Option<VersionIndexRef>> {
        let a = st(ctx)
            .store
            .artifact_by_alias(self.0.collection.id, "latest")
            .await?;
        Ok(a.map(|a| VersionIndexRef {
            id: ids::encode("Artifact", a.id).into(),
            version_index: a.version_index,
        }))
    }
    /// Committed versions, oldest first (as W&B lists them); `order` by
    /// `createdAt` or `versionIndex` (`-` for newest first). Other orders
    /// and filters other than `state` are ignored (and logged).
    async fn artifacts(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i32>,
        order: Option<String>,
        filters: Option<JsonString>,
    ) -> ApiResult<ArtifactConnection> {
        let mut list = st(ctx)
            .store
            .artifacts_of_collection(self.0.collection.id)
            .await?;
        filter_versions(&mut list, filters.as_ref().map(|f| &f.0));
        match parse_order(order.as_deref()) {
            None | Some(("createdAt" | "versionIndex", false)) => {}
            Some(("createdAt" | "versionIndex", true)) => list.reverse(),
            Some((field, _)) => ignored("artifact versions", "order", &json!(field)),
        }
        let nodes = list
            .into_iter()
            .map(|artifact| ArtifactObj {
                artifact,
                home: self.0.clone(),
            })
            .collect();
        ArtifactConnection::page(nodes, after.as_deref(), first)
    }
    async fn artifact_membership(
        &self,
        ctx: &Context<'_>,
        alias_name: String,
    ) -> ApiResult<Option<MembershipObj>> {
        let Some(a) = resolve_version(st(ctx), &self.0.collection, &alias_name).await? else {
            return Ok(None);
        };
        Ok(Some(MembershipObj {
            artifact: ArtifactObj {
                artifact: a,
                home: self.0.clone(),
            },
        }))
    }
}

/// `ArtifactCollection`: W&B's interface over sequences (and portfolios,
/// which Liftoff does not have).
// clippy reads the `arg(...)` lists of two fields (both paged) as one
// attribute repeated.
#[allow(clippy::duplicated_attributes)]
#[derive(Interface)]
#[graphql(
    name = "ArtifactCollection",
    field(name = "id", ty = "ID"),
    field(name = "name", ty = "&str"),
    field(name = "description", ty = "Option<&str>"),
    field(name = "created_at", ty = "String"),
    field(name = "updated_at", ty = "ApiResult<Option<String>>"),
    field(name = "default_artifact_type", ty = "ApiResult<ArtifactTypeObj>"),
    field(name = "tags", ty = "TagConnection"),
    field(
        name = "aliases",
        ty = "ApiResult<ArtifactAliasConnection>",
        arg(name = "after", ty = "Option<String>"),
        arg(name = "first", ty = "Option<i32>")
    ),
    field(name = "project", ty = "ProjectObj"),
    field(
        name = "artifacts",
        ty = "ApiResult<ArtifactConnection>",
        arg(name = "after", ty = "Option<String>"),
        arg(name = "first", ty = "Option<i32>"),
        arg(name = "order", ty = "Option<String>"),
        arg(name = "filters", ty = "Option<JsonString>")
    ),
    field(
        name = "artifact_membership",
        ty = "ApiResult<Option<MembershipObj>>",
        arg(name = "alias_name", ty = "String")
    )
)]
pub enum ArtifactCollectionIface {
    ArtifactSequence(ArtifactSequenceObj),
}

impl ArtifactCollectionIface {
    fn of(home: Home) -> Self {
        Self::ArtifactSequence(ArtifactSequenceObj(home))
    }

    pub async fn by_name(
        state: &AppState,
        entity: &Entity,
        project: &Project,
        name: &str,
    ) -> ApiResult<Option<Self>> {
        let Some(c) = state.store.collection_get(project.id, name).await? else {
            return Ok(None);
        };
        Ok(Some(Self::ArtifactSequence(ArtifactSequenceObj(Home {
            entity: entity.clone(),
            project: project.clone(),
            collection: c,
        }))))
    }
}

pub struct MembershipObj {
    pub artifact: ArtifactObj,
}

impl MembershipObj {
    pub async fn by_name(
        state: &AppState,
        entity: &Entity,
        project: &Project,
        name: &str,
    ) -> ApiResult<Option<Self>> {
        let (collection, alias) = split_name(name);
        let Some(c) = state.store.collection_get(project.id, collection).await? else {
            return Ok(None);
        };
        let Some(a) = resolve_version(state, &c, alias).await? else {
            return Ok(None);
        };
        let home = Home {
            entity: entity.clone(),
            project: project.clone(),
            collection: c,
        };
        Ok(Some(Self {
            artifact: ArtifactObj { artifact: a, home },
        }))
    }
}

#[Object(name = "ArtifactCollectionMembership")]
impl MembershipObj {
    async fn id(&self) -> ID {
        ids::encode("ArtifactCollectionMembership", self.artifact.artifact.id).into()
    }
    async fn version_index(&self) -> Option<i64> {
        self.artifact.artifact.version_index
    }
    async fn created_at(&self) -> String {
        datetime(self.artifact.artifact.created_at)
    }
    async fn aliases(&self, ctx: &Context<'_>) -> ApiResult<Vec<AliasObj>> {
        aliases_of(st(ctx), &self.artifact.artifact, &self.artifact.home, false).await
    }
    async fn artifact_collection(&self) -> ArtifactCollectionIface {
        ArtifactCollectionIface::ArtifactSequence(ArtifactSequenceObj(self.artifact.home.clone()))
    }
    async fn artifact(&self) -> ArtifactObj {
        ArtifactObj {
            artifact: self.artifact.artifact.clone(),
            home: self.artifact.home.clone(),
        }
    }
    async fn files(
        &self,
        ctx: &Context<'_>,
        names: Option<Vec<Option<String>>>,
        after: Option<String>,
        first: Option<i32>,
    ) -> ApiResult<FileConnection> {
        FileConnection::load(
            st(ctx),
            caller(ctx),
            &self.artifact.artifact,
            flat(names),
            after,
            first,
        )
        .await
    }
}

#[derive(SimpleObject, Clone)]
#[graphql(name = "File", complex)]
pub struct FileObj {
    pub(crate) id: ID,
    pub(crate) name: String,
    pub(crate) display_name: String,
    #[graphql(skip)]
    pub(crate) url: Option<String>,
    pub(crate) direct_url: Option<String>,
    pub(crate) upload_url: Option<String>,
    pub(crate) upload_headers: Vec<String>,
    pub(crate) size_bytes: Option<Int64>,
    pub(crate) storage_path: Option<String>,
    pub(crate) mimetype: Option<String>,
    pub(crate) updated_at: Option<String>,
    pub(crate) digest: Option<String>,
    pub(crate) md5: Option<String>,
}

#[async_graphql::ComplexObject]
impl FileObj {
    /// The download URL (`upload: true` is not supported: use createRunFiles).
    async fn url(&self, upload: Option<bool>) -> Option<String> {
        let _ = upload;
        self.url.clone()
    }
}

impl FileObj {
    pub(crate) fn link(id: String, name: &str, url: String) -> Self {
        Self {
            id: id.into(),
            name: name.to_owned(),
            display_name: name.to_owned(),
            url: Some(url.clone()),
            direct_url: Some(url),
            upload_url: None,
            upload_headers: vec![],
            size_bytes: None,
            storage_path: None,
            mimetype: None,
            updated_at: None,
            digest: None,
            md5: None,
        }
    }
}

#[derive(SimpleObject)]
pub struct FileEdge {
    pub(crate) node: FileObj,
    pub(crate) cursor: String,
}

#[derive(SimpleObject)]
pub struct FileConnection {
    pub(crate) edges: Vec<FileEdge>,
    pub(crate) page_info: PageInfo,
    pub(crate) total_count: i64,
}

impl FileConnection {
    async fn load(
        state: &AppState,
        caller: &Caller,
        a: &Artifact,
        names: Option<Vec<String>>,
        after: Option<String>,
        first: Option<i32>,
    ) -> ApiResult<Self> {
        let mut files = state.store.artifact_files(a.id).await?;
        if let Some(names) = names {
            files.retain(|f| names.contains(&f.name));
        }
        let total = files.len() as i64;
        let start = match after.as_deref() {
            Some(c) if !c.is_empty() => ids::decode("Cursor", c)
                .ok_or_else(|| ApiError::invalid(format!("{c:?} is not a cursor")))?
                as usize,
            _ => 0,
        };
        let per = usize::try_from(first.unwrap_or(50).clamp(1, 10_000)).unwrap_or(50);
        let page: Vec<_> = files
            .into_iter()
            .enumerate()
            .skip(start)
            .take(per)
            .collect();
        let next = page.last().map(|(i, _)| i + 1).unwrap_or(start);
        let mut edges = Vec::new();
        for (i, f) in page {
            let Some(key) = content_key(&f.md5) else {
                continue;
            };
            let url = download_url(state, &caller.base_url, &key, &f.name);
            let mut node =
                FileObj::link(ids::encode("File", a.id * 100_000 + i as i64), &f.name, url);
            // A file named but never stored (its upload not done) has no
            // link: the bytes under its MD5 may be another entity's.
            if f.size.is_none() {
                node.url = None;
                node.direct_url = None;
            }
            node.size_bytes = f.size.map(Int64);
            node.digest = Some(f.md5.clone());
            node.md5 = Some(f.md5.clone());
            node.storage_path = Some(key);
            edges.push(FileEdge {
                node,
                cursor: ids::encode("Cursor", i as i64 + 1),
            });
        }
        let has_next_page = (next as i64) < total;
        Ok(Self {
            edges,
            page_info: PageInfo {
                end_cursor: Some(ids::encode("Cursor", next as i64)),
                has_next_page,
            },
            total_count: total,
        })
    }
}

#[derive(SimpleObject)]
#[graphql(name = "ArtifactManifest")]
pub struct ArtifactManifestObj {
    id: ID,
    file: FileObj,
}

#[derive(SimpleObject)]
pub struct ArtifactCollectionEdge {
    node: ArtifactCollectionIface,
    cursor: String,
}

#[derive(SimpleObject)]
pub struct ArtifactCollectionConnection {
    total_count: i64,
    page_info: PageInfo,
    edges: Vec<ArtifactCollectionEdge>,
}

impl ArtifactCollectionConnection {
    /// A page of `collections`: `filters` on `name` (`"x"`, `$eq`, `$ne`,
    /// `$in`) and `order` by `createdAt` or `name` are applied; W&B's
    /// default order is newest first. Other conditions are ignored (and
    /// logged).
    pub fn load(
        entity: &Entity,
        project: &Project,
        mut collections: Vec<Collection>,
        after: Option<String>,
        first: Option<i32>,
        filters: Option<&Value>,
        order: Option<&str>,
    ) -> ApiResult<Self> {
        if let Some(Value::Object(conditions)) = filters {
            for (field, condition) in conditions {
                match field.as_str() {
                    "name" if string_matches("", condition).is_some() => {
                        collections.retain(|c| string_matches(&c.name, condition) == Some(true));
                    }
                    _ => ignored("artifact collections", "filter", &json!({field: condition})),
                }
            }
        }
        match parse_order(order) {
            None => collections.sort_by_key(|c| std::cmp::Reverse(c.id)),
            Some(("createdAt", desc)) => {
                collections.sort_by_key(|c| (c.created_at, c.id));
                if desc {
                    collections.reverse();
                }
            }
            Some(("name", desc)) => {
                collections.sort_by(|a, b| a.name.cmp(&b.name));
                if desc {
                    collections.reverse();
                }
            }
            Some((field, _)) => {
                ignored("artifact collections", "order", &json!(field));
                collections.sort_by_key(|c| std::cmp::Reverse(c.id));
            }
        }
        let page = offset_page(collections, after.as_deref(), first)?;
        Ok(Self {
            total_count: page.total,
            page_info: page.page_info,
            edges: page
                .items
                .into_iter()
                .map(|(cursor, collection)| ArtifactCollectionEdge {
                    node: ArtifactCollectionIface::of(Home {
                        entity: entity.clone(),
                        project: project.clone(),
                        collection,
                    }),
                    cursor,
                })
                .collect(),
        })
    }
}

/// An artifact type of a project: Liftoff has no type table, a type exists
/// while a collection of that type does (its first collection gives the
/// type its id and creation time).
pub struct ArtifactTypeObj {
    entity: Entity,
    project: Project,
    name: String,
    /// Oldest first, never empty.
    collections: Vec<Collection>,
}

impl ArtifactTypeObj {
    pub async fn load(
        state: &AppState,
        entity: &Entity,
        project: &Project,
        name: &str,
    ) -> ApiResult<Option<Self>> {
        let collections = state.store.collections_of_type(project.id, name).await?;
        if collections.is_empty() {
            return Ok(None);
        }
        Ok(Some(Self {
            entity: entity.clone(),
            project: project.clone(),
            name: name.to_owned(),
            collections,
        }))
    }

    /// Every type of a project, in the order they first appeared.
    pub async fn of_project(
        state: &AppState,
        entity: &Entity,
        project: &Project,
    ) -> ApiResult<Vec<Self>> {
        let mut types: Vec<Self> = Vec::new();
        for c in state.store.collections_of_project(project.id).await? {
            match types.iter_mut().find(|t| t.name == c.type_name) {
                Some(t) => t.collections.push(c),
                None => types.push(Self {
                    entity: entity.clone(),
                    project: project.clone(),
                    name: c.type_name.clone(),
                    collections: vec![c],
                }),
            }
        }
        Ok(types)
    }

    fn first(&self) -> Option<&Collection> {
        self.collections.first()
    }
}

#[Object(name = "ArtifactType")]
impl ArtifactTypeObj {
    async fn id(&self) -> ID {
        ids::encode("ArtifactType", self.first().map_or(0, |c| c.id)).into()
    }
    async fn name(&self) -> &str {
        &self.name
    }
    /// Liftoff types have no description: W&B's answer for none.
    async fn description(&self) -> Option<String> {
        None
    }
    /// When the first collection of this type was created.
    async fn created_at(&self) -> String {
        datetime(self.first().map_or(0, |c| c.created_at))
    }
    async fn artifact_collection(&self, name: String) -> Option<ArtifactCollectionIface> {
        self.collections.iter().find(|c| c.name == name).map(|c| {
            ArtifactCollectionIface::of(Home {
                entity: self.entity.clone(),
                project: self.project.clone(),
                collection: c.clone(),
            })
        })
    }
    async fn artifact_collections(
        &self,
        after: Option<String>,
        first: Option<i32>,
        filters: Option<JsonString>,
        order: Option<String>,
    ) -> ApiResult<ArtifactCollectionConnection> {
        ArtifactCollectionConnection::load(
            &self.entity,
            &self.project,
            self.collections.clone(),
            after,
            first,
            filters.as_ref().map(|f| &f.0),
            order.as_deref(),
        )
    }
}

#[derive(SimpleObject)]
pub struct ArtifactTypeEdge {
    node: ArtifactTypeObj,
    cursor: String,
}

#[derive(SimpleObject)]
pub struct ArtifactTypeConnection {
    edges: Vec<ArtifactTypeEdge>,
    page_info: PageInfo,
}

impl ArtifactTypeConnection {
    pub fn page(
        types: Vec<ArtifactTypeObj>,
        after: Option<&str>,
        first: Option<i32>,
    ) -> ApiResult<Self> {
        let page = offset_page(types, after, first)?;
        Ok(Self {
            edges: page
                .items
                .into_iter()
                .map(|(cursor, node)| ArtifactTypeEdge { node, cursor })
                .collect(),
            page_info: page.page_info,
        })
    }
}

#[derive(Default)]
pub struct ArtifactQuery;

#[Object]
impl ArtifactQuery {
    /// A collection by id (the SDK reads a collection's aliases this way).
    async fn artifact_collection(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> ApiResult<Option<ArtifactCollectionIface>> {
        let state = st(ctx);
        let Some(cid) = ids::decode("ArtifactSequence", &id) else {
            return Ok(None);
        };
        let Some(collection) = state.store.collection_by_id(cid).await? else {
            return Ok(None);
        };
        match access::project_by_id(state, caller(ctx), collection.project_id, "artifact").await {
            Ok((entity, project)) => Ok(Some(ArtifactCollectionIface::of(Home {
                entity,
                project,
                collection,
            }))),
            Err(ApiError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }
    async fn artifact(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<ArtifactObj>> {
        let state = st(ctx);
        let Some(aid) = ids::decode("Artifact", &id) else {
            return Ok(None);
        };
        let Some(a) = state.store.artifact_by_id(aid).await? else {
            return Ok(None);
        };
        match Home::of(state, caller(ctx), &a).await {
            Ok(home) => Ok(Some(ArtifactObj { artifact: a, home })),
            Err(ApiError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

// ---- writes ----

#[derive(InputObject)]
#[graphql(name = "ArtifactAliasInput")]
pub struct AliasInput {
    alias: String,
    artifact_collection_name: Option<String>,
}

#[derive(InputObject)]
pub struct TagInput {
    tag_name: Option<String>,
    tag_category_name: Option<String>,
    attributes: Option<JsonString>,
}

#[derive(InputObject)]
pub struct CreateArtifactInput {
    artifact_type_name: Option<String>,
    artifact_collection_name: Option<String>,
    artifact_collection_names: Option<Vec<String>>,
    entity_name: Option<String>,
    project_name: Option<String>,
    run_name: Option<String>,
    description: Option<String>,
    digest: Option<String>,
    digest_algorithm: Option<DigestAlgorithm>,
    aliases: Option<Vec<AliasInput>>,
    metadata: Option<JsonString>,
    #[graphql(name = "clientID")]
    client_id: Option<ID>,
    #[graphql(name = "sequenceClientID")]
    sequence_client_id: Option<ID>,
    enable_digest_deduplication: Option<bool>,
    #[graphql(name = "distributedID")]
    distributed_id: Option<String>,
    history_step: Option<Int64>,
    labels: Option<JsonString>,
    storage_region: Option<String>,
    ttl_duration_seconds: Option<Int64>,
    tags: Option<Vec<TagInput>>,
    client_mutation_id: Option<String>,
}

#[derive(SimpleObject)]
pub struct ArtifactPayload {
    artifact: ArtifactObj,
    client_mutation_id: Option<String>,
}

/// `createArtifact`'s answer (the SDK's fragment names this type).
#[derive(SimpleObject)]
pub struct CreateArtifactPayload {
    artifact: ArtifactObj,
    client_mutation_id: Option<String>,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "ArtifactManifestType")]
pub enum ManifestType {
    #[graphql(name = "FULL")]
    Full,
    #[graphql(name = "PATCH")]
    Patch,
    #[graphql(name = "INCREMENTAL")]
    Incremental,
}

#[derive(InputObject)]
pub struct CreateArtifactManifestInput {
    #[graphql(name = "artifactID")]
    artifact_id: Option<ID>,
    #[graphql(name = "baseArtifactID")]
    base_artifact_id: Option<ID>,
    name: Option<String>,
    digest: Option<String>,
    entity_name: Option<String>,
    project_name: Option<String>,
    run_name: Option<String>,
    #[graphql(name = "type")]
    manifest_type: Option<ManifestType>,
    client_mutation_id: Option<String>,
}

#[derive(SimpleObject)]
pub struct CreateArtifactManifestPayload {
    artifact_manifest: ArtifactManifestObj,
    client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub struct UploadPartsInput {
    part_number: Option<i64>,
    #[graphql(name = "hexMD5")]
    hex_md5: Option<String>,
}

#[derive(InputObject)]
pub struct CreateArtifactFileSpecInput {
    #[graphql(name = "artifactID")]
    artifact_id: Option<ID>,
    #[graphql(name = "artifactManifestID")]
    artifact_manifest_id: Option<ID>,
    name: Option<String>,
    md5: Option<String>,
    mimetype: Option<String>,
    upload_parts_input: Option<Vec<UploadPartsInput>>,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "ArtifactStorageLayout")]
pub enum StorageLayout {
    V1,
    V2,
}

#[derive(InputObject)]
pub struct CreateArtifactFilesInput {
    artifact_files: Option<Vec<CreateArtifactFileSpecInput>>,
    storage_layout: Option<StorageLayout>,
    #[graphql(name = "cloudRegionID")]
    cloud_region_id: Option<ID>,
    client_mutation_id: Option<String>,
}

#[derive(SimpleObject)]
pub struct UploadedFileArtifact {
    id: ID,
}

#[derive(SimpleObject)]
#[graphql(name = "UploadMultipartUrls")]
pub struct MultipartUrls {
    #[graphql(name = "uploadID")]
    upload_id: String,
    upload_url_parts: Vec<PartUrl>,
}

#[derive(SimpleObject)]
pub struct PartUrl {
    part_number: i64,
    upload_url: String,
}

#[derive(SimpleObject)]
#[graphql(name = "ArtifactFileUpload")]
pub struct FileUploadObj {
    storage_path: String,
    upload_url: Option<String>,
    upload_headers: Vec<String>,
    upload_multipart_urls: Option<MultipartUrls>,
    artifact: UploadedFileArtifact,
}

#[derive(SimpleObject)]
pub struct FileUploadEdge {
    node: FileUploadObj,
}

#[derive(SimpleObject)]
pub struct FileUploadConnection {
    edges: Vec<FileUploadEdge>,
}

#[derive(SimpleObject)]
pub struct CreateArtifactFilesPayload {
    files: FileUploadConnection,
    client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub struct CommitArtifactInput {
    #[graphql(name = "artifactID")]
    artifact_id: Option<ID>,
    client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub struct UseArtifactInput {
    #[graphql(name = "artifactID")]
    artifact_id: Option<ID>,
    entity_name: Option<String>,
    project_name: Option<String>,
    run_name: Option<String>,
    used_as: Option<String>,
    artifact_entity_name: Option<String>,
    artifact_project_name: Option<String>,
    client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub struct UpdateArtifactInput {
    #[graphql(name = "artifactID")]
    artifact_id: Option<ID>,
    metadata: Option<JsonString>,
    description: Option<String>,
    aliases: Option<Vec<AliasInput>>,
    client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub struct CreateRunFilesInput {
    entity_name: Option<String>,
    project_name: Option<String>,
    run_name: Option<String>,
    files: Option<Vec<String>>,
    client_mutation_id: Option<String>,
}

#[derive(SimpleObject)]
pub struct RunFileUpload {
    name: String,
    upload_url: Option<String>,
}

#[derive(SimpleObject)]
pub struct CreateRunFilesPayload {
    #[graphql(name = "runID")]
    run_id: ID,
    upload_headers: Vec<String>,
    files: Vec<RunFileUpload>,
    client_mutation_id: Option<String>,
}

/// Artifact and collection names: W&B's safe characters, at most 128.
pub fn validate_artifact_name(name: &str) -> ApiResult<()> {
    validate_safe_name("artifact name", name)
}

/// An artifact alias (`latest`, `prod`): the same characters as a name.
pub fn validate_alias(alias: &str) -> ApiResult<()> {
    validate_safe_name("alias", alias)
}

/// `name` is 1 to 128 of `[A-Za-z0-9_.-]` (run names, artifact names, aliases).
pub fn validate_safe_name(what: &str, name: &str) -> ApiResult<()> {
    if !liftoff_model::job::is_safe_name(name) {
        return Err(ApiError::invalid(format!(
            "{what} {name:?} must be 1 to 128 letters, digits, '_', '.' or '-'"
        )));
    }
    Ok(())
}

async fn artifact_for_write(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> ApiResult<(Artifact, Home)> {
    let aid = ids::decode("Artifact", id)
        .ok_or_else(|| ApiError::invalid(format!("{id:?} is not an artifact id")))?;
    let a = state
        .store
        .artifact_by_id(aid)
        .await?
        .ok_or_else(|| denied("artifact"))?;
    let home = Home::of(state, caller, &a).await?;
    Ok((a, home))
}

fn metadata_text(v: Option<JsonString>) -> ApiResult<Option<String>> {
    match v.map(|j| j.0) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(Value::Object(m).to_string())),
        Some(_) => Err(ApiError::invalid("metadata must be a JSON object")),
    }
}

#[derive(Default)]
pub struct ArtifactMutation;

#[Object]
impl ArtifactMutation {
    async fn create_artifact(
        &self,
        ctx: &Context<'_>,
        input: CreateArtifactInput,
    ) -> ApiResult<CreateArtifactPayload> {
        let state = st(ctx);
        let caller = caller(ctx);
        let type_name = input
            .artifact_type_name
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::invalid("artifactTypeName is required"))?;
        validate_artifact_name(&type_name)?;
        let collection = input
            .artifact_collection_name
            .or_else(|| {
                input
                    .artifact_collection_names
                    .and_then(|n| n.into_iter().next())
            })
            .ok_or_else(|| ApiError::invalid("artifactCollectionName is required"))?;
        validate_artifact_name(&collection)?;
        let digest = input.digest.unwrap_or_default();
        if digest.len() > 128 {
            return Err(ApiError::invalid("digest is too long"));
        }
        let project_name = input
            .project_name
            .filter(|p| !p.is_empty())
            .ok_or_else(|| ApiError::invalid("projectName is required"))?;
        crate::graphql::runs::validate_project_name(&project_name)?;
        let entity = access::entity(state, caller, input.entity_name.as_deref()).await?;
        let (project, _) = state
            .store
            .project_upsert(entity.id, &project_name, state.now())
            .await?;
        let c = state
            .store
            .collection_get_or_create(project.id, &collection, &type_name, state.now())
            .await?;
        if c.type_name != type_name {
            return Err(ApiError::Conflict(format!(
                "artifact {collection:?} is of type {:?}, not {type_name:?}",
                c.type_name
            )));
        }
        let mut aliases: Vec<String> = Vec::new();
        for a in input.aliases.unwrap_or_default() {
            if a.artifact_collection_name
                .as_deref()
                .is_some_and(|n| n != collection)
            {
                continue;
            }
            validate_alias(&a.alias)?;
            if a.alias.starts_with('v') && a.alias[1..].parse::<u64>().is_ok() {
                return Err(ApiError::invalid(format!(
                    "alias {:?} is reserved for versions",
                    a.alias
                )));
            }
            aliases.push(a.alias);
        }
        let metadata = metadata_text(input.metadata)?;
        let home = Home {
            entity,
            project,
            collection: c.clone(),
        };
        // The same client id is the same version: the SDK sends it twice.
        if let Some(client_id) = input.client_id.as_deref()
            && let Some(existing) = state
                .store
                .artifact_by_client_id(client_id)
                .await?
                .filter(|a| a.collection_id == c.id)
        {
            // Keys sent again are set; keys not sent are kept (a job made
            // again without its schema keeps the schema it had).
            if let Some(m) = metadata.as_deref() {
                let merged = merge_metadata(&existing.metadata, m);
                state
                    .store
                    .artifact_set_metadata(existing.id, &merged, state.now())
                    .await?;
            }
            if existing.state == "COMMITTED" {
                state
                    .store
                    .artifact_alias_set(c.id, existing.id, &aliases)
                    .await?;
            }
            let artifact = state
                .store
                .artifact_by_id(existing.id)
                .await?
                .unwrap_or(existing);
            return Ok(CreateArtifactPayload {
                artifact: ArtifactObj { artifact, home },
                client_mutation_id: input.client_mutation_id,
            });
        }
        if input.enable_digest_deduplication.unwrap_or(false)
            && !digest.is_empty()
            && let Some(existing) = state
                .store
                .artifact_committed_by_digest(c.id, &digest)
                .await?
        {
            let mut all = aliases.clone();
            all.push("latest".into());
            state
                .store
                .artifact_alias_set(c.id, existing.id, &all)
                .await?;
            return Ok(CreateArtifactPayload {
                artifact: ArtifactObj {
                    artifact: existing,
                    home,
                },
                client_mutation_id: input.client_mutation_id,
            });
        }
        let new = NewArtifact {
            collection_id: c.id,
            digest,
            client_id: input.client_id.map(|i| i.0),
            sequence_client_id: input.sequence_client_id.map(|i| i.0),
            description: input.description,
            metadata: metadata.unwrap_or_else(|| "{}".into()),
            run_name: input.run_name,
            pending_aliases: serde_json::to_string(&aliases).unwrap_or_else(|_| "[]".into()),
        };
        let artifact = state.store.artifact_create(&new, state.now()).await?;
        Ok(CreateArtifactPayload {
            artifact: ArtifactObj { artifact, home },
            client_mutation_id: input.client_mutation_id,
        })
    }

    async fn create_artifact_manifest(
        &self,
        ctx: &Context<'_>,
        input: CreateArtifactManifestInput,
    ) -> ApiResult<CreateArtifactManifestPayload> {
        let state = st(ctx);
        let id = input
            .artifact_id
            .ok_or_else(|| ApiError::invalid("artifactID is required"))?;
        let (a, _) = artifact_for_write(state, caller(ctx), &id).await?;
        let url = upload_url(state, &caller(ctx).base_url, Grant::Manifest { a: a.id });
        let mut file = FileObj::link(
            ids::encode("File", a.id),
            input.name.as_deref().unwrap_or("wandb_manifest.json"),
            url.clone(),
        );
        file.direct_url = None;
        file.url = None;
        file.upload_url = Some(url);
        Ok(CreateArtifactManifestPayload {
            artifact_manifest: ArtifactManifestObj {
                id: ids::encode("ArtifactManifest", a.id).into(),
                file,
            },
            client_mutation_id: input.client_mutation_id,
        })
    }

    async fn update_artifact_manifest(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "input")] input: UpdateArtifactManifestInput,
    ) -> ApiResult<CreateArtifactManifestPayload> {
        let state = st(ctx);
        let id = input
            .artifact_manifest_id
            .ok_or_else(|| ApiError::invalid("artifactManifestID is required"))?;
        let aid = ids::decode("ArtifactManifest", &id)
            .ok_or_else(|| ApiError::invalid("not an artifact manifest id"))?;
        let (a, _) = artifact_for_write(state, caller(ctx), &ids::encode("Artifact", aid)).await?;
        let url = upload_url(state, &caller(ctx).base_url, Grant::Manifest { a: a.id });
        let mut file = FileObj::link(
            ids::encode("File", a.id),
            "wandb_manifest.json",
            url.clone(),
        );
        file.upload_url = Some(url);
        Ok(CreateArtifactManifestPayload {
            artifact_manifest: ArtifactManifestObj { id, file },
            client_mutation_id: input.client_mutation_id,
        })
    }

    async fn create_artifact_files(
        &self,
        ctx: &Context<'_>,
        input: CreateArtifactFilesInput,
    ) -> ApiResult<CreateArtifactFilesPayload> {
        let state = st(ctx);
        let caller = caller(ctx);
        let _ = (input.storage_layout, input.cloud_region_id);
        let specs = input.artifact_files.unwrap_or_default();
        if specs.len() > 10_000 {
            return Err(ApiError::invalid("at most 10,000 files per call"));
        }
        let mut edges = Vec::new();
        // (artifact id as sent, its id, its entity's id)
        let mut checked: Option<(String, i64, i64)> = None;
        for f in specs {
            let aid_text = f
                .artifact_id
                .ok_or_else(|| ApiError::invalid("artifactID is required"))?;
            let (aid, entity_id) = match &checked {
                Some((text, id, entity)) if *text == aid_text.0 => (*id, *entity),
                _ => {
                    let (a, home) = artifact_for_write(state, caller, &aid_text).await?;
                    if a.state != "PENDING" {
                        return Err(ApiError::invalid(
                            "files can only be added to an artifact before it is committed",
                        ));
                    }
                    checked = Some((aid_text.0.clone(), a.id, home.entity.id));
                    (a.id, home.entity.id)
                }
            };
            let name = f
                .name
                .ok_or_else(|| ApiError::invalid("name is required"))?;
            if !liftoff_model::artifact::is_safe_artifact_path(&name) {
                return Err(ApiError::invalid(format!(
                    "artifact file name {name:?} must be a relative path without '..'"
                )));
            }
            let md5 = f.md5.ok_or_else(|| ApiError::invalid("md5 is required"))?;
            let key = content_key(&md5).ok_or_else(|| {
                ApiError::invalid(format!("md5 {md5:?} is not a base64 MD5 digest"))
            })?;
            let _ = (f.mimetype, f.upload_parts_input, f.artifact_manifest_id);
            // Not uploaded again only when this entity has stored these
            // bytes itself: an MD5 alone must not get another's file.
            let have = state.blobs.exists(&key).await
                && state.store.artifact_file_in_entity(entity_id, &md5).await?;
            let size = if have {
                tokio::fs::metadata(state.config.objects_dir.join(&key))
                    .await
                    .ok()
                    .map(|m| m.len() as i64)
            } else {
                None
            };
            state
                .store
                .artifact_file_add(aid, &name, &md5, size)
                .await?;
            let upload = (!have).then(|| {
                upload_url(
                    state,
                    &caller.base_url,
                    Grant::ArtifactFile {
                        a: aid,
                        name: name.clone(),
                        md5: md5.clone(),
                    },
                )
            });
            edges.push(FileUploadEdge {
                node: FileUploadObj {
                    storage_path: key,
                    upload_url: upload,
                    upload_headers: vec![],
                    upload_multipart_urls: None,
                    artifact: UploadedFileArtifact {
                        id: ids::encode("Artifact", aid).into(),
                    },
                },
            });
        }
        Ok(CreateArtifactFilesPayload {
            files: FileUploadConnection { edges },
            client_mutation_id: input.client_mutation_id,
        })
    }

    async fn commit_artifact(
        &self,
        ctx: &Context<'_>,
        input: CommitArtifactInput,
    ) -> ApiResult<ArtifactPayload> {
        let state = st(ctx);
        let id = input
            .artifact_id
            .ok_or_else(|| ApiError::invalid("artifactID is required"))?;
        let (a, home) = artifact_for_write(state, caller(ctx), &id).await?;
        if a.state == "PENDING" {
            if a.manifest_key.is_none() {
                return Err(ApiError::invalid(
                    "upload the artifact's manifest before committing it",
                ));
            }
            for f in state.store.artifact_files(a.id).await? {
                let uploaded = content_key(&f.md5).is_some_and(|k| !k.is_empty())
                    && state
                        .blobs
                        .exists(&content_key(&f.md5).unwrap_or_default())
                        .await;
                if !uploaded {
                    return Err(ApiError::invalid(format!(
                        "file {:?} of the artifact was never uploaded",
                        f.name
                    )));
                }
            }
        }
        let artifact = state.store.artifact_commit(a.id, state.now()).await?;
        Ok(ArtifactPayload {
            artifact: ArtifactObj { artifact, home },
            client_mutation_id: input.client_mutation_id,
        })
    }

    async fn use_artifact(
        &self,
        ctx: &Context<'_>,
        input: UseArtifactInput,
    ) -> ApiResult<ArtifactPayload> {
        let state = st(ctx);
        let caller = caller(ctx);
        let id = input
            .artifact_id
            .ok_or_else(|| ApiError::invalid("artifactID is required"))?;
        let (a, home) = artifact_for_write(state, caller, &id).await?;
        let run_name = input
            .run_name
            .filter(|r| !r.is_empty())
            .ok_or_else(|| ApiError::invalid("runName is required"))?;
        validate_run_name(&run_name)?;
        let project = input
            .project_name
            .filter(|p| !p.is_empty())
            .ok_or_else(|| ApiError::invalid("projectName is required"))?;
        let (_, project) = access::project(state, caller, input.entity_name.as_deref(), &project)
            .await?
            .ok_or_else(|| denied("project"))?;
        let run = state
            .store
            .run_get(project.id, &run_name)
            .await?
            .ok_or_else(|| denied(&format!("run {run_name:?}")))?;
        let _ = (input.artifact_entity_name, input.artifact_project_name);
        state
            .store
            .artifact_use(run.id, a.id, input.used_as.as_deref())
            .await?;
        Ok(ArtifactPayload {
            artifact: ArtifactObj { artifact: a, home },
            client_mutation_id: input.client_mutation_id,
        })
    }

    async fn update_artifact(
        &self,
        ctx: &Context<'_>,
        input: UpdateArtifactInput,
    ) -> ApiResult<ArtifactPayload> {
        let state = st(ctx);
        let id = input
            .artifact_id
            .ok_or_else(|| ApiError::invalid("artifactID is required"))?;
        let (a, home) = artifact_for_write(state, caller(ctx), &id).await?;
        if let Some(m) = metadata_text(input.metadata)? {
            state
                .store
                .artifact_set_metadata(a.id, &m, state.now())
                .await?;
        }
        if let Some(aliases) = input.aliases {
            let names: Vec<String> = aliases.into_iter().map(|x| x.alias).collect();
            for n in &names {
                validate_alias(n)?;
            }
            state
                .store
                .artifact_alias_set(home.collection.id, a.id, &names)
                .await?;
        }
        let _ = input.description;
        let artifact = state.store.artifact_by_id(a.id).await?.unwrap_or(a);
        Ok(ArtifactPayload {
            artifact: ArtifactObj { artifact, home },
            client_mutation_id: input.client_mutation_id,
        })
    }

    async fn create_run_files(
        &self,
        ctx: &Context<'_>,
        input: CreateRunFilesInput,
    ) -> ApiResult<CreateRunFilesPayload> {
        let state = st(ctx);
        let caller = caller(ctx);
        let project = input
            .project_name
            .filter(|p| !p.is_empty())
            .ok_or_else(|| ApiError::invalid("projectName is required"))?;
        let run_name = input
            .run_name
            .filter(|r| !r.is_empty())
            .ok_or_else(|| ApiError::invalid("runName is required"))?;
        let (_, project) = access::project(state, caller, input.entity_name.as_deref(), &project)
            .await?
            .ok_or_else(|| denied("project"))?;
        let run = state
            .store
            .run_get(project.id, &run_name)
            .await?
            .ok_or_else(|| denied(&format!("run {run_name:?}")))?;
        let files = input.files.unwrap_or_default();
        if files.len() > 10_000 {
            return Err(ApiError::invalid("at most 10,000 files per call"));
        }
        let mut out = Vec::new();
        for name in files {
            if !liftoff_model::artifact::is_safe_artifact_path(&name) {
                return Err(ApiError::invalid(format!(
                    "run file name {name:?} must be a relative path without '..'"
                )));
            }
            state.store.run_file_add(run.id, &name, state.now()).await?;
            let url = upload_url(
                state,
                &caller.base_url,
                Grant::RunFile {
                    r: run.id,
                    name: name.clone(),
                },
            );
            out.push(RunFileUpload {
                name,
                upload_url: Some(url),
            });
        }
        Ok(CreateRunFilesPayload {
            run_id: ids::encode("Run", run.id).into(),
            upload_headers: vec![],
            files: out,
            client_mutation_id: input.client_mutation_id,
        })
    }
}

#[derive(InputObject)]
pub struct UpdateArtifactManifestInput {
    #[graphql(name = "artifactManifestID")]
    artifact_manifest_id: Option<ID>,
    digest: Option<String>,
    #[graphql(name = "baseArtifactID")]
    base_artifact_id: Option<ID>,
    client_mutation_id: Option<String>,
}

/// Manifest entries become the artifact's file list when the manifest is
/// uploaded (files the client did not register are added).
pub async fn register_manifest(
    state: &AppState,
    artifact_id: i64,
    manifest: &liftoff_model::ArtifactManifest,
) -> ApiResult<()> {
    let known: Map<String, Value> = state
        .store
        .artifact_files(artifact_id)
        .await?
        .into_iter()
        .map(|f| (f.name, Value::String(f.md5)))
        .collect();
    let unregistered: Vec<_> = manifest
        .contents
        .iter()
        .filter(|(name, entry)| {
            entry.reference.is_none()
                && !known.contains_key(*name)
                && liftoff_model::artifact::is_safe_artifact_path(name)
        })
        .collect();
    if unregistered.is_empty() {
        return Ok(());
    }
    let entity = artifact_entity(state, artifact_id).await?;
    for (name, entry) in unregistered {
        // A manifest's word is not proof of the bytes: its size (which
        // makes the file downloadable, `artifact_file_in_entity`) is kept
        // only for content this entity has stored itself.
        let stored = state
            .store
            .artifact_file_in_entity(entity, &entry.digest)
            .await?;
        state
            .store
            .artifact_file_add(
                artifact_id,
                name,
                &entry.digest,
                entry.size.filter(|_| stored),
            )
            .await?;
    }
    Ok(())
}

/// The id of the entity an artifact belongs to.
async fn artifact_entity(state: &AppState, artifact_id: i64) -> ApiResult<i64> {
    let a = state
        .store
        .artifact_by_id(artifact_id)
        .await?
        .ok_or_else(|| ApiError::not_found("artifact"))?;
    let c = state
        .store
        .collection_by_id(a.collection_id)
        .await?
        .ok_or_else(|| ApiError::not_found("artifact collection"))?;
    let p = state
        .store
        .project_by_id(c.project_id)
        .await?
        .ok_or_else(|| ApiError::not_found("project"))?;
    Ok(p.entity_id)
}

/// `new`'s top-level keys over `old`'s (both JSON objects as text); `new`
/// as it is when either is not an object.
fn merge_metadata(old: &str, new: &str) -> String {
    match (
        serde_json::from_str::<serde_json::Value>(old),
        serde_json::from_str::<serde_json::Value>(new),
    ) {
        (Ok(serde_json::Value::Object(mut o)), Ok(serde_json::Value::Object(n))) => {
            o.extend(n);
            serde_json::Value::Object(o).to_string()
        }
        _ => new.to_owned(),
    }
}
