//! Every document the official SDK sends validates against our schema
//! (except sweeps and multipart uploads), and so do liftoff-client's own
//! documents.

use serde_json::{Value, json};

use crate::harness::{Api, doc};

/// Documents this server does not answer: multipart uploads (it never
/// offers them) and sweeps.
const NOT_YET: &[&str] = &[
    "CompleteMultipartUploadArtifact",
    "SweepWithRuns",
    "UpsertSweep",
];

fn validation_errors(answer: &Value) -> Vec<String> {
    answer["errors"]
        .as_array()
        .map(|errs| {
            errs.iter()
                .filter(|e| {
                    let m = e["message"].as_str().unwrap_or_default();
                    // Missing variable values are fine here; schema mismatches are not.
                    !(m.contains("was not provided")
                        || m.contains("is required")
                        || e.get("path").is_some())
                })
                .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn every_sdk_document_validates() {
    let backend = crate::backends::sqlite().await;
    let api = Api::new(backend.store.clone()).await;
    let texts: Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../spec/operations/wire-texts.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let mut failures = Vec::new();
    let mut checked = 0;
    for (name, _) in texts.as_object().unwrap() {
        let (_, answer) = api.gql_as(&api.key, &doc(name), json!({}), "").await;
        let errs = validation_errors(&answer);
        let expected_missing = NOT_YET.contains(&name.as_str());
        if errs.is_empty() == expected_missing {
            failures.push(format!(
                "{name}: {}",
                if expected_missing {
                    "now validates: remove it from NOT_YET".into()
                } else {
                    errs.join("; ")
                }
            ));
        }
        checked += 1;
    }
    assert!(checked > 70);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn liftoff_client_documents_validate() {
    let backend = crate::backends::sqlite().await;
    let api = Api::new(backend.store.clone()).await;
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../client/src/documents/liftoff");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let (_, answer) = api.gql_as(&api.key, &text, json!({}), "").await;
        let errs = validation_errors(&answer);
        assert!(errs.is_empty(), "{}: {errs:?}", path.display());
        n += 1;
    }
    assert!(n >= 8);
}

/// The schema is committed (`crates/server/schema.graphql`) so that changes
/// to it show up in review; `UPDATE_EXPECT=1` refreshes it.
#[test]
fn schema_graphql_is_up_to_date() {
    expect_test::expect_file!["../../schema.graphql"].assert_eq(&liftoff_server::graphql::sdl());
}
