//! `POST /files/{entity}/{project}/{run}/file_stream`: what a running
//! `wandb` sends (rest.md §1): history rows, system events, the summary,
//! console lines (rewritable by offset), uploaded files, completion.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::access;
use crate::http::{Http, caller};
use crate::store::{Lines, LiveUpdate, RunFields};

/// The one extra file Liftoff's agent streams: the job's console as it
/// captured it (advertised as `LIFTOFF_RUN_CONSOLE`).
pub const AGENT_CONSOLE: &str = "liftoff-console.log";

#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    offset: i64,
    #[serde(default)]
    content: Vec<String>,
}

#[derive(Deserialize, Default)]
struct Request {
    #[serde(default)]
    files: BTreeMap<String, Chunk>,
    #[serde(default)]
    uploaded: Vec<String>,
    #[serde(default)]
    preempting: bool,
    #[serde(default)]
    complete: bool,
    #[serde(default)]
    exitcode: Option<i64>,
}

/// The highest offset a chunk may start at.
const MAX_OFFSET: i64 = 1 << 40;

/// What is wrong with a request's files, if anything: an offset out of
/// range, a history or events line (or the summary) that is not a JSON
/// object, which every reader of those files expects.
fn check_files(files: &BTreeMap<String, Chunk>) -> Result<(), String> {
    for (name, chunk) in files {
        if !(0..=MAX_OFFSET).contains(&chunk.offset) {
            return Err(format!(
                "{name}: offset {} is out of range (0 to {MAX_OFFSET})",
                chunk.offset
            ));
        }
        // As Python writes it: a NaN loss is a row still.
        let is_object = |line: &str| {
            matches!(
                liftoff_model::json::parse_lenient(line),
                Ok(Value::Object(_))
            )
        };
        match name.as_str() {
            "wandb-history.jsonl" | "wandb-events.jsonl" => {
                if let Some(i) = chunk.content.iter().position(|l| !is_object(l)) {
                    return Err(format!(
                        "{name}: line {} of this chunk is not a JSON object (each line is one row, as {{\"_step\": 0, \"loss\": 0.5}}); nothing was stored",
                        i + 1
                    ));
                }
            }
            "wandb-summary.json" if chunk.content.last().is_some_and(|l| !is_object(l)) => {
                return Err(
                    "wandb-summary.json must hold one JSON object; nothing was stored".into(),
                );
            }
            _ => {}
        }
    }
    Ok(())
}

fn fail(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"error": message}))).into_response()
}

pub async fn post(
    State(http): State<Http>,
    Path((entity, project_name, run_name)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let state = &http.state;
    let caller = match caller(state, &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let body = match body {
        Ok(b) => b,
        Err(e) => {
            return fail(
                e.status(),
                &super::unread_body(&e, state.config.max_body_bytes),
            );
        }
    };
    if headers
        .get("content-encoding")
        .is_some_and(|v| v.as_bytes() != b"identity")
    {
        return fail(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "compressed file_stream bodies are not supported by this server",
        );
    }
    let req: Request = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return fail(
                StatusCode::BAD_REQUEST,
                &format!("the body is not a file_stream request: {e}"),
            );
        }
    };
    // Checked whole before anything is written: a refused request stores nothing.
    if let Err(problem) = check_files(&req.files) {
        return fail(StatusCode::BAD_REQUEST, &problem);
    }
    let project = match access::project(state, &caller, Some(&entity), &project_name).await {
        Ok(Some((_, p))) => Some(p),
        Ok(None) => None,
        Err(e) => return fail(StatusCode::NOT_FOUND, &e.message()),
    };
    let now = state.now();
    let run = match &project {
        Some(p) => match state.store.run_get(p.id, &run_name).await {
            Ok(r) => r,
            Err(e) => return internal(e),
        },
        None => None,
    };
    let run = match run {
        Some(r) => r,
        // The agent may stream a job's console before the job's wandb exists.
        None if req.files.keys().all(|k| k == AGENT_CONSOLE) && !req.files.is_empty() => {
            let p = match &project {
                Some(p) => p.clone(),
                None => {
                    let entity_row = match access::entity(state, &caller, Some(&entity)).await {
                        Ok(e) => e,
                        Err(e) => return fail(StatusCode::NOT_FOUND, &e.message()),
                    };
                    match state
                        .store
                        .project_upsert(entity_row.id, &project_name, now)
                        .await
                    {
                        Ok((p, _)) => p,
                        Err(e) => return internal(e),
                    }
                }
            };
            match state
                .store
                .run_upsert(
                    p.id,
                    &run_name,
                    &RunFields {
                        state: Some("running".into()),
                        ..Default::default()
                    },
                    &caller.user.username,
                    now,
                )
                .await
            {
                Ok((r, _)) => r,
                Err(e) => return internal(e),
            }
        }
        None => {
            return fail(
                StatusCode::NOT_FOUND,
                &format!(
                    "run {entity}/{project_name}/{run_name} does not exist: create it with upsertBucket first"
                ),
            );
        }
    };
    let mut update = LiveUpdate {
        preempting: req.preempting,
        agent_only: !req.files.is_empty() && req.files.keys().all(|k| k == AGENT_CONSOLE),
        ..Default::default()
    };
    for (name, chunk) in &req.files {
        let which = match name.as_str() {
            "wandb-history.jsonl" => Lines::History,
            "wandb-events.jsonl" => Lines::Events,
            "output.log" => Lines::Console,
            AGENT_CONSOLE => Lines::AgentConsole,
            "wandb-summary.json" => {
                // An object: `check_files` said so.
                if let Some(Ok(v)) = chunk
                    .content
                    .last()
                    .map(|l| liftoff_model::json::parse_lenient(l))
                {
                    update.summary = Some(v.to_string());
                }
                continue;
            }
            other => {
                tracing::debug!(
                    file = other,
                    "ignoring a file_stream file this server does not keep"
                );
                continue;
            }
        };
        if let Err(e) = state
            .store
            .run_lines_put(run.id, which, chunk.offset, &chunk.content)
            .await
        {
            return internal(e);
        }
    }
    for f in &req.uploaded {
        if liftoff_model::artifact::is_safe_artifact_path(f) {
            let size = tokio::fs::metadata(
                state
                    .config
                    .objects_dir
                    .join(format!("runs/{}/{f}", run.id)),
            )
            .await
            .map(|m| m.len() as i64)
            .unwrap_or(0);
            if let Err(e) = state.store.run_file_uploaded(run.id, f, size, now).await {
                return internal(e);
            }
        }
    }
    if req.complete {
        let code = req.exitcode.unwrap_or(0);
        update.finish = Some((
            if code == 0 { "finished" } else { "failed" }.to_owned(),
            code,
        ));
    }
    match state.store.run_live(run.id, &update, now).await {
        Ok(r) => {
            Json(json!({"exitcode": null, "limits": {}, "stopped": r.stopped})).into_response()
        }
        Err(e) => internal(e),
    }
}

fn internal(e: crate::store::Error) -> Response {
    tracing::error!(error = %e, "file_stream failed");
    fail(
        StatusCode::SERVICE_UNAVAILABLE,
        "the server could not store this; retry",
    )
}
