//! Signed uploads (PUT) and downloads (GET) of artifact and run files.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use md5::{Digest, Md5};
use tokio::io::AsyncWriteExt;

use crate::graphql::artifacts::{content_key, manifest_key, md5_key, register_manifest};
use crate::http::Http;
use crate::signing::{Grant, verify};

fn fail(status: StatusCode, message: &str) -> Response {
    (status, message.to_owned()).into_response()
}

pub async fn upload(State(http): State<Http>, Path(token): Path<String>, body: Body) -> Response {
    let state = &http.state;
    let grant = match verify(&state.signing_key, &token, state.now()) {
        Ok(g) => g,
        Err(msg) => return fail(StatusCode::FORBIDDEN, msg),
    };
    let key = match &grant {
        Grant::ArtifactFile { md5, .. } => match content_key(md5) {
            Some(k) => k,
            None => return fail(StatusCode::BAD_REQUEST, "bad digest in link"),
        },
        Grant::Manifest { a } => manifest_key(*a),
        Grant::RunFile { r, name } => format!("runs/{r}/{name}"),
        Grant::Get { .. } => {
            return fail(StatusCode::METHOD_NOT_ALLOWED, "this link is for downloads");
        }
    };
    // Stream to a temp file, hashing as we go.
    let tmp = state
        .config
        .objects_dir
        .join("tmp")
        .join(format!("up-{}", rand::random::<u64>()));
    if let Err(e) =
        tokio::fs::create_dir_all(tmp.parent().unwrap_or(&state.config.objects_dir)).await
    {
        tracing::error!(error = %e, "cannot create the upload directory");
        return fail(StatusCode::INTERNAL_SERVER_ERROR, "cannot store the file");
    }
    let result = async {
        let mut file = tokio::fs::File::create(&tmp).await?;
        let mut hasher = Md5::new();
        let mut size: usize = 0;
        let mut stream = body.into_data_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| std::io::Error::other(e.to_string()))?;
            size += chunk.len();
            if size > state.config.max_upload_bytes {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::FileTooLarge,
                    "too large",
                ));
            }
            hasher.update(&chunk);
            file.write_all(&chunk).await?;
        }
        file.sync_data().await?;
        Ok::<_, std::io::Error>((hasher.finalize(), size))
    }
    .await;
    let (digest, size) = match result {
        Ok(r) => r,
        Err(e) => {
            let _ = tokio::fs::remove_file(&tmp).await;
            if e.kind() == std::io::ErrorKind::FileTooLarge {
                return fail(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    &format!(
                        "the file is larger than {} bytes",
                        state.config.max_upload_bytes
                    ),
                );
            }
            return fail(StatusCode::BAD_REQUEST, "the upload was interrupted");
        }
    };
    use base64::Engine as _;
    let digest_b64 = base64::engine::general_purpose::STANDARD.encode(digest);
    if let Grant::ArtifactFile { md5, .. } = &grant
        && *md5 != digest_b64
    {
        let _ = tokio::fs::remove_file(&tmp).await;
        return fail(
            StatusCode::BAD_REQUEST,
            &format!("the content's MD5 is {digest_b64}, the link was made for {md5}"),
        );
    }
    if let Grant::Manifest { .. } = &grant {
        let text = tokio::fs::read(&tmp).await.unwrap_or_default();
        match serde_json::from_slice::<liftoff_model::ArtifactManifest>(&text) {
            Ok(manifest) => {
                if let Grant::Manifest { a } = &grant
                    && let Err(e) = register_manifest(state, *a, &manifest).await
                {
                    let _ = tokio::fs::remove_file(&tmp).await;
                    tracing::error!(error = ?e, "cannot register the manifest");
                    return fail(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "cannot store the manifest",
                    );
                }
            }
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                return fail(
                    StatusCode::BAD_REQUEST,
                    &format!("the manifest is not a W&B artifact manifest: {e}"),
                );
            }
        }
    }
    if let Err(e) = state.blobs.commit(&tmp, &key).await {
        tracing::error!(error = %e, "cannot store an upload");
        let _ = tokio::fs::remove_file(&tmp).await;
        return fail(StatusCode::INTERNAL_SERVER_ERROR, "cannot store the file");
    }
    let now = state.now();
    let recorded = match &grant {
        Grant::ArtifactFile { a, name, md5 } => {
            state
                .store
                .artifact_file_add(*a, name, md5, Some(size as i64))
                .await
        }
        Grant::Manifest { a } => state.store.artifact_set_manifest(*a, &key, now).await,
        Grant::RunFile { r, name } => {
            state
                .store
                .run_file_uploaded(*r, name, size as i64, now)
                .await
        }
        Grant::Get { .. } => Ok(()),
    };
    if let Err(e) = recorded {
        tracing::error!(error = %e, "cannot record an upload");
        return fail(StatusCode::INTERNAL_SERVER_ERROR, "cannot record the file");
    }
    (
        StatusCode::OK,
        [(header::ETAG, format!("\"{}\"", hex::encode(digest)))],
        "",
    )
        .into_response()
}

/// The SDK's download fallback for an artifact file it has no link for
/// (`ArtifactManifestEntry.download()`, e.g. a launched run reading its
/// job's `wandb-job.json`), layout V1: `GET /artifacts/{entity}/{hex md5}`,
/// with the caller's key.
pub async fn by_digest_v1(
    State(http): State<Http>,
    Path((entity, md5_hex)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    by_digest(&http, &headers, &entity, &md5_hex).await
}

/// Layout V2: `GET /artifactsV2/{region}/{entity}/{project}/{collection}/
/// [{artifact id}/]{birth artifact id}/{hex md5}/{file name}`.
pub async fn by_digest_v2(
    State(http): State<Http>,
    Path(rest): Path<String>,
    headers: HeaderMap,
) -> Response {
    let parts: Vec<&str> = rest.split('/').collect();
    let md5_hex = parts.iter().skip(4).find(|p| is_md5_hex(p));
    match (parts.get(1), md5_hex) {
        (Some(entity), Some(md5_hex)) => by_digest(&http, &headers, entity, md5_hex).await,
        _ => fail(
            StatusCode::NOT_FOUND,
            "expected /artifactsV2/REGION/ENTITY/PROJECT/COLLECTION/[ARTIFACT_ID/]BIRTH_ID/MD5_HEX/NAME",
        ),
    }
}

fn is_md5_hex(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

async fn by_digest(http: &Http, headers: &HeaderMap, entity: &str, md5_hex: &str) -> Response {
    let state = &http.state;
    let caller = match super::caller(state, headers).await {
        Ok(c) => c,
        Err(response) => return response,
    };
    use base64::Engine as _;
    let Some(raw) = hex::decode(md5_hex).ok().filter(|raw| raw.len() == 16) else {
        return fail(
            StatusCode::BAD_REQUEST,
            &format!("{md5_hex:?} is not a hex MD5 digest (32 hex digits)"),
        );
    };
    let not_found = || {
        fail(
            StatusCode::NOT_FOUND,
            &format!("no artifact file with MD5 {md5_hex} in entity {entity:?} (or access denied)"),
        )
    };
    // Manifests (and so the store) hold digests in base64.
    let md5 = base64::engine::general_purpose::STANDARD.encode(&raw);
    let found = async {
        let Ok(e) = crate::access::entity(state, &caller, Some(entity)).await else {
            return Ok(false);
        };
        state.store.artifact_file_in_entity(e.id, &md5).await
    };
    match found.await {
        Ok(true) => {}
        Ok(false) => return not_found(),
        Err(e) => {
            tracing::error!(error = %e, "cannot look up an artifact file");
            return fail(StatusCode::INTERNAL_SERVER_ERROR, "cannot look up the file");
        }
    }
    serve(state, &md5_key(&raw)).await
}

pub async fn download(
    State(http): State<Http>,
    Path((token, _name)): Path<(String, String)>,
) -> Response {
    let state = &http.state;
    let key = match verify(&state.signing_key, &token, state.now()) {
        Ok(Grant::Get { key, .. }) => key,
        Ok(_) => return fail(StatusCode::METHOD_NOT_ALLOWED, "this link is for uploads"),
        Err(msg) => return fail(StatusCode::FORBIDDEN, msg),
    };
    serve(state, &key).await
}

async fn serve(state: &crate::state::AppState, key: &str) -> Response {
    match state.blobs.get(key).await {
        Ok(Some(bytes)) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/octet-stream")],
            bytes,
        )
            .into_response(),
        Ok(None) => fail(StatusCode::NOT_FOUND, "the file was never uploaded"),
        Err(e) => {
            tracing::error!(error = %e, "cannot read an object");
            fail(StatusCode::INTERNAL_SERVER_ERROR, "cannot read the file")
        }
    }
}
