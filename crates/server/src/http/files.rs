//! Signed uploads (PUT) and downloads (GET) of artifact and run files.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use md5::{Digest, Md5};
use tokio::io::AsyncWriteExt;

use crate::graphql::artifacts::{content_key, manifest_key, register_manifest};
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
    match state.blobs.get(&key).await {
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
