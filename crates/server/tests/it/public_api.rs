//! What `wandb.Api()` reads besides runs: an entity's projects, a run's
//! logged and used artifacts, a project's artifact types and collections,
//! with paging (the e2e test runs the real SDK against the same fields).

use liftoff_server::store::{NewArtifact, RunFields, Store};
use serde_json::{Value, json};

use crate::backends::each;
use crate::harness::Api;

/// A committed version of `collection_id`, created by `run` if given.
async fn version(s: &dyn Store, collection_id: i64, digest: &str, run: Option<&str>) -> i64 {
    let new = NewArtifact {
        collection_id,
        digest: digest.into(),
        client_id: None,
        sequence_client_id: None,
        description: None,
        metadata: "{}".into(),
        run_name: run.map(str::to_owned),
        pending_aliases: "[\"prod\"]".into(),
    };
    let a = s.artifact_create(&new, 1).await.unwrap();
    s.artifact_commit(a.id, 2).await.unwrap().id
}

async fn data(api: &Api, query: &str) -> Value {
    let (_, v) = api.gql_as(&api.key, query, json!({}), "").await;
    assert!(v.get("errors").is_none(), "{query}: {v}");
    v["data"].clone()
}

#[tokio::test]
async fn projects_run_artifacts_types_and_collections_page_like_wandb() {
    each(|store| async move {
        let api = Api::new(store.clone()).await;
        let s = &*store;
        let admin = s.entity_by_name("admin").await.unwrap().unwrap();
        let (p, _) = s.project_upsert(admin.id, "proj", 1).await.unwrap();
        s.project_upsert(admin.id, "newer", 2).await.unwrap();
        let job_a = s.collection_get_or_create(p.id, "job-a", "job", 3).await.unwrap();
        let job_b = s.collection_get_or_create(p.id, "job-b", "job", 4).await.unwrap();
        let data_c = s.collection_get_or_create(p.id, "data", "dataset", 5).await.unwrap();
        version(s, job_a.id, "a0", None).await;
        let a1 = version(s, job_a.id, "a1", None).await;
        version(s, job_b.id, "b0", None).await;
        version(s, data_c.id, "d0", Some("r1")).await;
        let (run, _) = s
            .run_upsert(p.id, "r1", &RunFields::default(), "admin", 6)
            .await
            .unwrap();
        s.artifact_use(run.id, a1, None).await.unwrap();

        // projects, newest first, one page at a time
        let page = data(&api, r#"{ models(entityName: "admin", first: 1) { pageInfo { endCursor hasNextPage } edges { node { name isBenchmark user { username } } } } }"#).await;
        assert_eq!(
            page["models"]["edges"],
            json!([{"node": {"name": "newer", "isBenchmark": false, "user": {"username": "admin"}}}])
        );
        assert_eq!(page["models"]["pageInfo"]["hasNextPage"], true);
        let after = page["models"]["pageInfo"]["endCursor"].as_str().unwrap();
        let page = data(&api, &format!(r#"{{ models(entityName: "admin", first: 1, after: "{after}") {{ pageInfo {{ hasNextPage }} edges {{ node {{ name }} }} }} }}"#)).await;
        assert_eq!(page["models"]["edges"], json!([{"node": {"name": "proj"}}]));
        assert_eq!(page["models"]["pageInfo"]["hasNextPage"], false);

        // a run's artifacts; `aliases` kept by its variable's default
        let run_q = r#"query RunArtifacts($includeAliases: Boolean = true) { project(entityName: "admin", name: "proj") { run(name: "r1") {
            out: outputArtifacts(first: 10) { totalCount edges { node { artifactSequence { name } versionIndex aliases @include(if: $includeAliases) { alias } } } }
            used: inputArtifacts(first: 10) { totalCount edges { node { artifactSequence { name } artifactType { name } versionIndex } } } } } }"#;
        let run = data(&api, run_q).await["project"]["run"].clone();
        assert_eq!(
            run["out"],
            json!({"totalCount": 1, "edges": [{"node": {"artifactSequence": {"name": "data"}, "versionIndex": 0,
                "aliases": [{"alias": "latest"}, {"alias": "prod"}, {"alias": "v0"}]}}]})
        );
        assert_eq!(
            run["used"],
            json!({"totalCount": 1, "edges": [{"node": {"artifactSequence": {"name": "job-a"}, "artifactType": {"name": "job"}, "versionIndex": 1}}]})
        );

        // types in the order they appeared
        let types = data(&api, r#"{ project(entityName: "admin", name: "proj") { artifactTypes(first: 10) { pageInfo { hasNextPage } edges { node { name description } } } } }"#).await;
        assert_eq!(
            types["project"]["artifactTypes"]["edges"],
            json!([{"node": {"name": "job", "description": null}}, {"node": {"name": "dataset", "description": null}}])
        );

        // collections of a type: newest first, paged, filtered, one by name
        let colls = data(&api, r#"{ project(entityName: "admin", name: "proj") { artifactType(name: "job") {
            first: artifactCollections(first: 1) { totalCount pageInfo { hasNextPage } edges { node { name } } }
            byName: artifactCollections(order: "+name") { edges { node { name } } }
            named: artifactCollections(filters: "{\"name\": {\"$in\": [\"job-a\"]}}") { totalCount }
            artifactCollection(name: "job-a") { __typename id name description createdAt updatedAt
                type: defaultArtifactType { name } tags { edges { node { name } } }
                aliases { edges { node { alias } } }
                artifacts(filters: "{\"state\": \"COMMITTED\"}", order: "-createdAt") { totalCount edges { version node { versionIndex } } } }
            other: artifactCollection(name: "data") { name } } } }"#).await;
        let t = &colls["project"]["artifactType"];
        assert_eq!(
            t["first"],
            json!({"totalCount": 2, "pageInfo": {"hasNextPage": true}, "edges": [{"node": {"name": "job-b"}}]})
        );
        assert_eq!(t["byName"]["edges"], json!([{"node": {"name": "job-a"}}, {"node": {"name": "job-b"}}]));
        assert_eq!(t["named"]["totalCount"], 1);
        assert_eq!(t["other"], Value::Null, "a collection of another type");
        let c = &t["artifactCollection"];
        assert_eq!(c["type"]["name"], "job");
        assert_eq!(c["tags"]["edges"], json!([]));
        assert_eq!(
            c["aliases"]["edges"],
            json!([{"node": {"alias": "latest"}}, {"node": {"alias": "prod"}}])
        );
        assert_eq!(
            c["artifacts"],
            json!({"totalCount": 2, "edges": [{"version": "v1", "node": {"versionIndex": 1}}, {"version": "v0", "node": {"versionIndex": 0}}]})
        );
        // the same collection by id
        let id = c["id"].as_str().unwrap();
        let by_id = data(&api, &format!(r#"{{ artifactCollection(id: "{id}") {{ name aliases(first: 1) {{ pageInfo {{ hasNextPage }} edges {{ node {{ alias }} }} }} }} }}"#)).await;
        assert_eq!(
            by_id["artifactCollection"],
            json!({"name": "job-a", "aliases": {"pageInfo": {"hasNextPage": true}, "edges": [{"node": {"alias": "latest"}}]}})
        );
        let all = data(&api, r#"{ project(entityName: "admin", name: "proj") { artifactCollections { totalCount } } }"#).await;
        assert_eq!(all["project"]["artifactCollections"]["totalCount"], 3);

        // another user sees none of it
        let bob = api.user("bob").await;
        let (_, v) = api
            .gql_as(&bob, r#"{ models(entityName: "admin") { edges { node { name } } } }"#, json!({}), "")
            .await;
        assert!(
            v["errors"][0]["message"].as_str().unwrap().contains("not found or access denied"),
            "{v}"
        );
        let (_, v) = api
            .gql_as(&bob, &format!(r#"{{ artifactCollection(id: "{id}") {{ name }} }}"#), json!({}), "")
            .await;
        assert_eq!(v["data"]["artifactCollection"], Value::Null, "{v}");
    })
    .await;
}
