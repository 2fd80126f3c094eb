//! Jobs as artifacts: liftoff-client's upload and download flows against
//! `app()`, through the signed upload/download URLs.

use liftoff_client::artifacts::NewVersion;
use liftoff_client::ops::artifacts::ArtifactOfType;
use liftoff_model::spec::JobRef;
use serde_json::json;

use crate::harness::Api;

fn image_job() -> Vec<(String, Vec<u8>)> {
    vec![(
        "wandb-job.json".into(),
        serde_json::to_vec(&json!({"_version": "v0", "source_type": "image", "source": {"image": "busybox:1.36"}, "runtime": ""})).unwrap(),
    )]
}

#[tokio::test]
async fn a_job_uploaded_is_listed_and_fetched_back() {
    crate::backends::each(|store| async move {
        let api = Api::new(store).await;
        let client = api.client(&api.key);
        let v = NewVersion {
            entity: "admin".into(),
            project: "proj".into(),
            name: "job-busybox".into(),
            type_name: "job".into(),
            aliases: vec!["1.36".into()],
            description: None,
            metadata: Some(json!({"_partial": true})),
            files: image_job(),
        };
        let first = client.upload_version(&v).await.unwrap();
        assert!(!first.unchanged);
        let again = client.upload_version(&v).await.unwrap();
        assert!(again.unchanged, "same content: same version");
        assert_eq!(again.id, first.id);
        let mut v2 = v.clone();
        v2.aliases = vec![];
        v2.files
            .push(("requirements.frozen.txt".into(), b"numpy==2.0\n".to_vec()));
        client.upload_version(&v2).await.unwrap();

        let listed = client
            .call(ArtifactOfType {
                entity: "admin".into(),
                project: "proj".into(),
                type_name: "job".into(),
            })
            .await
            .unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].name, "job-busybox");
        let aliases: Vec<Vec<String>> = listed[0]
            .versions
            .iter()
            .map(|x| x.aliases.clone())
            .collect();
        assert_eq!(
            aliases,
            [
                vec!["1.36".to_owned(), "v0".into()],
                vec!["latest".into(), "v1".into()]
            ]
        );

        let job = client
            .fetch_job(&JobRef::parse("admin/proj/job-busybox:latest").unwrap())
            .await
            .unwrap();
        assert_eq!(job.info.version_index, Some(1));
        assert_eq!(job.spec.source.image.as_deref(), Some("busybox:1.36"));
        let names: Vec<&str> = job.files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["requirements.frozen.txt", "wandb-job.json"]);
        let old = client
            .fetch_job(&JobRef::parse("admin/proj/job-busybox:1.36").unwrap())
            .await
            .unwrap();
        assert_eq!(old.info.version_index, Some(0));
        assert_eq!(old.info.metadata.get("_partial"), Some(&json!(true)));

        // another user cannot fetch it
        let bob = api.user("bob").await;
        let err = api
            .client(&bob)
            .fetch_job(&JobRef::parse("admin/proj/job-busybox:latest").unwrap())
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("not found or access denied"),
            "{err}"
        );
        let err = client
            .fetch_job(&JobRef::parse("admin/proj/job-nope:latest").unwrap())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("not found"), "{err}");
    })
    .await;
}

/// The SDK's fallback for a manifest entry it has no link for
/// (`get_entry("wandb-job.json").download()` in a launched run).
#[tokio::test]
async fn artifact_files_download_by_digest_as_the_sdk_falls_back_to() {
    crate::backends::each(|store| async move {
        use md5::{Digest, Md5};
        let api = Api::new(store).await;
        let client = api.client(&api.key);
        let files = image_job();
        client
            .upload_version(&NewVersion {
                entity: "admin".into(),
                project: "proj".into(),
                name: "job-busybox".into(),
                type_name: "job".into(),
                aliases: vec![],
                description: None,
                metadata: Some(json!({"_partial": true})),
                files: files.clone(),
            })
            .await
            .unwrap();
        let hex = hex::encode(Md5::digest(&files[0].1));
        let v1 = format!("/artifacts/admin/{hex}");
        let v2 = format!(
            "/artifactsV2/default/admin/proj/job-busybox/QXJ0aWZhY3Q6MQ%3D%3D/{hex}/wandb-job.json"
        );
        for path in [&v1, &v2] {
            let (status, body) = api.raw("GET", path, Some(&api.key), vec![]).await;
            assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
            assert_eq!(body, files[0].1, "{path}");
        }
        // Without a key, with another user's key, under another entity, or
        // for content nobody uploaded: nothing.
        let bob = api.user("bob").await;
        let other = hex::encode(Md5::digest(b"never uploaded"));
        for (path, key, want) in [
            (v1.clone(), None, 401),
            (v1.clone(), Some(bob.as_str()), 404),
            (format!("/artifacts/bob/{hex}"), Some(bob.as_str()), 404),
            (
                format!("/artifacts/admin/{other}"),
                Some(api.key.as_str()),
                404,
            ),
            (
                "/artifacts/admin/not-hex".into(),
                Some(api.key.as_str()),
                400,
            ),
            (
                "/artifactsV2/default/admin".into(),
                Some(api.key.as_str()),
                404,
            ),
        ] {
            let (status, body) = api.raw("GET", &path, key, vec![]).await;
            assert_eq!(status, want, "{path}: {}", String::from_utf8_lossy(&body));
            assert!(
                !body.windows(8).any(|w| w == b"busybox:"),
                "{path} leaked the file"
            );
        }
        // Naming another entity's file by its MD5 in one's own artifact
        // does not skip the upload, nor make the bytes readable there.
        let bobs = api.client(&bob);
        let (artifact, manifest) = new_artifact(&bobs, "bob", "stolen").await;
        let targets = add_job_file(&bobs, &artifact, &manifest).await;
        assert!(targets[0].upload_url.is_some(), "bob must upload it");
        let again = add_job_file(&bobs, &artifact, &manifest).await;
        assert!(
            again[0].upload_url.is_some(),
            "naming it twice proves nothing"
        );
        let (status, _) = api
            .raw("GET", &format!("/artifacts/bob/{hex}"), Some(&bob), vec![])
            .await;
        assert_eq!(status, 404);
        // Nor does a manifest that lists it (with a size) in bob's artifact.
        let (fake, _) = new_artifact(&bobs, "bob", "fake").await;
        let upload = bobs
            .call(liftoff_client::ops::artifacts::CreateArtifactManifest {
                artifact_id: fake,
                name: "wandb_manifest.json".into(),
                digest: String::new(),
                entity: "bob".into(),
                project: "proj".into(),
                run_name: "fake".into(),
                include_upload: true,
            })
            .await
            .unwrap();
        let (manifest, _) = liftoff_client::artifacts::manifest_of(&image_job());
        bobs.put(
            &upload.upload_url.unwrap(),
            vec![],
            serde_json::to_vec(&manifest).unwrap(),
        )
        .await
        .unwrap();
        let (status, _) = api
            .raw("GET", &format!("/artifacts/bob/{hex}"), Some(&bob), vec![])
            .await;
        assert_eq!(status, 404, "a manifest's word is not the bytes");
        // Within an entity, stored content is not uploaded again.
        let (artifact, manifest) = new_artifact(&client, "admin", "again").await;
        let targets = add_job_file(&client, &artifact, &manifest).await;
        assert_eq!(targets[0].upload_url, None);
    })
    .await;
}

/// A new job artifact in `entity`/proj, files still to add: its id and
/// its manifest's.
async fn new_artifact(
    client: &liftoff_client::Client<crate::harness::AppTransport>,
    entity: &str,
    name: &str,
) -> (String, String) {
    use liftoff_client::ops::artifacts::{CreateArtifact, CreateArtifactManifest};
    let created = client
        .call(CreateArtifact::new(
            entity,
            "proj",
            "job",
            name,
            name,
            name,
            name,
            &[],
            None,
            None,
            None,
        ))
        .await
        .unwrap();
    let manifest = client
        .call(CreateArtifactManifest {
            artifact_id: created.id.clone(),
            name: "wandb_manifest.json".into(),
            digest: String::new(),
            entity: entity.into(),
            project: "proj".into(),
            run_name: name.into(),
            include_upload: false,
        })
        .await
        .unwrap();
    (created.id, manifest.id)
}

/// Names `image_job()`'s file in an artifact: its upload target.
async fn add_job_file(
    client: &liftoff_client::Client<crate::harness::AppTransport>,
    artifact_id: &str,
    manifest_id: &str,
) -> Vec<liftoff_client::ops::artifacts::UploadTarget> {
    use liftoff_client::ops::artifacts::{ArtifactFileSpec, CreateArtifactFiles};
    client
        .call(CreateArtifactFiles {
            artifact_id: artifact_id.to_owned(),
            manifest_id: manifest_id.to_owned(),
            files: vec![ArtifactFileSpec {
                name: "wandb-job.json".into(),
                md5: liftoff_client::artifacts::md5_b64(&image_job()[0].1),
            }],
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn upload_links_are_checked() {
    let backend = crate::backends::sqlite().await;
    let api = Api::new(backend.store.clone()).await;
    // a forged or expired link, or content that does not match its digest
    let (status, _) = api
        .raw("PUT", "/files/upload/not-a-token", None, b"x".to_vec())
        .await;
    assert_eq!(status, axum::http::StatusCode::FORBIDDEN);
    let (status, _) = api
        .raw("GET", "/files/download/abc.def/x.txt", None, vec![])
        .await;
    assert_eq!(status, axum::http::StatusCode::FORBIDDEN);
    let token = liftoff_server::signing::sign(
        b"test-signing-key",
        liftoff_server::signing::Grant::ArtifactFile {
            a: 1,
            name: "f".into(),
            md5: liftoff_client::artifacts::md5_b64(b"good"),
        },
        crate::harness::T0 + 1000,
    );
    let (status, body) = api
        .raw(
            "PUT",
            &format!("/files/upload/{token}"),
            None,
            b"evil".to_vec(),
        )
        .await;
    assert_eq!(status, axum::http::StatusCode::BAD_REQUEST);
    assert!(String::from_utf8_lossy(&body).contains("MD5"));
    api.advance(2000);
    let (status, body) = api
        .raw(
            "PUT",
            &format!("/files/upload/{token}"),
            None,
            b"good".to_vec(),
        )
        .await;
    assert_eq!(status, axum::http::StatusCode::FORBIDDEN);
    assert!(String::from_utf8_lossy(&body).contains("expired"));
}

#[tokio::test]
async fn a_bad_alias_is_named_an_alias() {
    let backend = crate::backends::sqlite().await;
    let api = Api::new(backend.store.clone()).await;
    let err = api
        .client(&api.key)
        .upload_version(&NewVersion {
            entity: "admin".into(),
            project: "proj".into(),
            name: "job-busybox".into(),
            type_name: "job".into(),
            aliases: vec!["bad alias!".into()],
            description: None,
            metadata: None,
            files: image_job(),
        })
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("alias \"bad alias!\" must be 1 to 128 letters"),
        "{err}"
    );
}
