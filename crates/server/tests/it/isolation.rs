//! The isolation matrix: users A and B, a team both belong to, personal
//! and team queues. Every read and write across the boundary is refused
//! ("not found or access denied", or an empty answer), and nothing changes.

use serde_json::{Value, json};

use crate::harness::{Api, doc, liftoff_doc};

/// An answer that gives nothing away: an error saying "not found or access
/// denied", or data whose every leaf is null/empty/false.
fn refused(v: &Value) -> bool {
    if let Some(errs) = v["errors"].as_array() {
        return errs.iter().all(|e| {
            e["message"]
                .as_str()
                .is_some_and(|m| m.contains("not found or access denied"))
        });
    }
    fn empty(v: &Value) -> bool {
        match v {
            Value::Null | Value::Bool(false) => true,
            Value::Array(a) => a.iter().all(empty),
            Value::Object(o) => o.values().all(empty),
            _ => false,
        }
    }
    empty(&v["data"])
}

#[tokio::test]
async fn no_read_or_write_crosses_entities() {
    let backend = crate::backends::sqlite().await;
    let api = Api::new(backend.store.clone()).await;
    let a = api.key.clone(); // admin plays user A
    let b = api.user("bob").await;
    api.team("shared", &["admin", "bob"]).await;
    for (key, entity) in [(&a, "admin"), (&a, "shared")] {
        let (_, v) = api.gql_as(key, &doc("CreateRunQueue"), json!({"entity": entity, "project": "model-registry", "queueName": "q", "access": "PROJECT"}), "CreateRunQueue").await;
        assert!(v.get("errors").is_none(), "{v}");
    }
    let spec = json!({"entity": "admin", "project": "p", "docker": {"docker_image": "busybox"}})
        .to_string();
    let pushed = api.ok("pushToRunQueueByName (no optional args)", json!({"entityName": "admin", "projectName": "model-registry", "queueName": "q", "runSpec": spec})).await;
    let item = pushed["pushToRunQueueByName"]["runQueueItemId"].clone();
    let qid = api
        .ok(
            "fetchRunQueuesFromProject",
            json!({"entityName": "admin", "projectName": "model-registry", "runQueueName": "q"}),
        )
        .await["project"]["runQueue"]["id"]
        .clone();
    let agent = api.ok("createLaunchAgent", json!({"entity": "admin", "project": "model-registry", "queues": [qid], "hostname": "h", "agentConfig": "{}", "version": "v"})).await["createLaunchAgent"]["launchAgentId"].clone();
    let (_, run) = api
        .gql_as(
            &a,
            &doc("UpsertBucket"),
            json!({"name": "r1", "project": "p", "entity": "admin"}),
            "UpsertBucket",
        )
        .await;
    let run_id = run["data"]["upsertBucket"]["bucket"]["id"].clone();

    // B against A's entity: every operation refused.
    let attempts: Vec<(&str, String, Value)> = vec![
        (
            "ProjectRunQueues",
            doc("ProjectRunQueues"),
            json!({"entity": "admin", "projectName": "model-registry"}),
        ),
        (
            "GetRunQueueItems",
            doc("GetRunQueueItems"),
            json!({"entityName": "admin", "projectName": "model-registry", "runQueue": "q"}),
        ),
        (
            "GetRunQueueItem",
            doc("GetRunQueueItem"),
            json!({"entityName": "admin", "projectName": "model-registry", "runQueue": "q", "itemId": item}),
        ),
        (
            "EntityIsTeam",
            doc("EntityIsTeam"),
            json!({"entity": "admin"}),
        ),
        (
            "push",
            doc("pushToRunQueueByName (no optional args)"),
            json!({"entityName": "admin", "projectName": "model-registry", "queueName": "q", "runSpec": spec}),
        ),
        (
            "pushToRunQueue",
            doc("pushToRunQueue"),
            json!({"queueID": qid, "runSpec": spec}),
        ),
        (
            "pop",
            doc("popFromRunQueue"),
            json!({"entity": "admin", "project": "model-registry", "queueName": "q"}),
        ),
        (
            "ack",
            doc("ackRunQueueItem"),
            json!({"itemId": item, "runId": "x"}),
        ),
        (
            "fail",
            doc("failRunQueueItem"),
            json!({"runQueueItemId": item, "message": "m", "stage": "agent"}),
        ),
        (
            "warn",
            doc("updateRunQueueItemWarning"),
            json!({"runQueueItemId": item, "message": "m", "stage": "agent", "filePaths": []}),
        ),
        (
            "DeleteFromRunQueue",
            doc("DeleteFromRunQueue"),
            json!({"queueID": qid, "runQueueItemId": item}),
        ),
        ("DeleteRunQueue", doc("DeleteRunQueue"), json!({"id": qid})),
        (
            "CreateRunQueue",
            doc("CreateRunQueue"),
            json!({"entity": "admin", "project": "model-registry", "queueName": "evil", "access": "PROJECT"}),
        ),
        (
            "UpsertRunQueue",
            doc("UpsertRunQueue"),
            json!({"entityName": "admin", "projectName": "model-registry", "queueName": "q", "resourceType": "local-process", "resourceConfig": "{\"resource_args\":{}}"}),
        ),
        (
            "CreateDefaultResourceConfig",
            doc("CreateDefaultResourceConfig"),
            json!({"entityName": "admin", "resource": "local-process", "config": "{\"resource_args\":{}}"}),
        ),
        (
            "createLaunchAgent",
            doc("createLaunchAgent"),
            json!({"entity": "admin", "project": "model-registry", "queues": [qid], "hostname": "h"}),
        ),
        ("LaunchAgent", doc("LaunchAgent"), json!({"agentId": agent})),
        (
            "updateLaunchAgent",
            doc("updateLaunchAgent"),
            json!({"agentId": agent, "agentStatus": "KILLED"}),
        ),
        (
            "RunState",
            doc("RunState"),
            json!({"project": "p", "entity": "admin", "name": "r1"}),
        ),
        ("StopRun", doc("StopRun"), json!({"id": run_id})),
        ("DeleteRun", doc("DeleteRun"), json!({"id": run_id})),
        (
            "UpsertBucket (by id)",
            doc("UpsertBucket--public-summary"),
            json!({"id": run_id, "summaryMetrics": "{}"}),
        ),
        (
            "UpsertBucket (by name)",
            doc("UpsertBucket"),
            json!({"name": "r1", "project": "p", "entity": "admin", "state": "killed"}),
        ),
        (
            "CreateProject",
            doc("CreateProject"),
            json!({"input": {"entityName": "admin", "name": "x"}}),
        ),
        (
            "ArtifactOfType",
            doc("ArtifactOfType"),
            json!({"entityName": "admin", "projectName": "p", "artifactTypeName": "job"}),
        ),
        (
            "LiftoffRunQueue",
            liftoff_doc("LiftoffRunQueue"),
            json!({"entityName": "admin", "projectName": "model-registry", "queueName": "q"}),
        ),
        (
            "LiftoffRunQueues",
            liftoff_doc("LiftoffRunQueues"),
            json!({"entityName": "admin", "projectName": "model-registry"}),
        ),
        (
            "LiftoffLaunchAgents",
            liftoff_doc("LiftoffLaunchAgents"),
            json!({"entityName": "admin", "projectName": "model-registry"}),
        ),
        (
            "LiftoffStopPolling",
            liftoff_doc("LiftoffStopPolling"),
            json!({"agentId": agent}),
        ),
        (
            "LiftoffCancelItem",
            liftoff_doc("LiftoffCancelItem"),
            json!({"runQueueItemId": item}),
        ),
        (
            "LiftoffSetItemPriority",
            liftoff_doc("LiftoffSetItemPriority"),
            json!({"runQueueItemId": item, "priority": 2}),
        ),
        (
            "LiftoffRequeueItem",
            liftoff_doc("LiftoffRequeueItem"),
            json!({"runQueueItemId": item}),
        ),
        (
            "LiftoffUpdateRunQueue",
            liftoff_doc("LiftoffUpdateRunQueue"),
            json!({"queueID": qid, "maxRetries": 3}),
        ),
    ];
    let mut leaks = Vec::new();
    for (name, document, vars) in &attempts {
        let (_, v) = api.gql_as(&b, document, vars.clone(), "").await;
        if !refused(&v) {
            leaks.push(format!("{name}: {v}"));
        }
    }
    assert!(
        leaks.is_empty(),
        "B reached A's entity:\n{}",
        leaks.join("\n")
    );
    // file_stream into A's run
    let (status, _) = api
        .raw(
            "POST",
            "/files/admin/p/r1/file_stream",
            Some(&b),
            br#"{"files": {"output.log": {"offset": 0, "content": ["x"]}}}"#.to_vec(),
        )
        .await;
    assert_eq!(status, axum::http::StatusCode::NOT_FOUND);
    // and nothing changed: A still sees the item pending, the run running, the agent as it was
    let state = api.ok("GetRunQueueItem", json!({"entityName": "admin", "projectName": "model-registry", "runQueue": "q", "itemId": item})).await;
    assert_eq!(
        state["project"]["runQueue"]["runQueueItem"]["state"],
        "PENDING"
    );
    let rs = api
        .ok(
            "RunState",
            json!({"project": "p", "entity": "admin", "name": "r1"}),
        )
        .await;
    assert_eq!(rs["project"]["run"]["state"], "running");
    let queues = api
        .ok(
            "ProjectRunQueues",
            json!({"entity": "admin", "projectName": "model-registry"}),
        )
        .await;
    assert_eq!(queues["project"]["runQueues"].as_array().unwrap().len(), 1);

    // Both use the team's queue, for runs in the team.
    let team_spec =
        json!({"entity": "shared", "project": "p", "docker": {"docker_image": "busybox"}})
            .to_string();
    for key in [&a, &b] {
        let (_, v) = api.gql_as(key, &doc("pushToRunQueueByName (no optional args)"), json!({"entityName": "shared", "projectName": "model-registry", "queueName": "q", "runSpec": team_spec}), "").await;
        assert!(v.get("errors").is_none(), "{v}");
    }
    // B cannot send a run into A's own entity by way of the team's queue
    // (the agent would make it there): refused, and nothing is queued.
    let refused_for_admin = |v: &Value| {
        v["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("the run's entity \"admin\" does not exist or is not one you belong to")
    };
    let shared_items = || async {
        let (_, items) = api
            .gql_as(
                &b,
                &doc("GetRunQueueItems"),
                json!({"entityName": "shared", "projectName": "model-registry", "runQueue": "q"}),
                "",
            )
            .await;
        items["data"]["project"]["runQueue"]["runQueueItems"]["edges"]
            .as_array()
            .map(Vec::len)
    };
    let (_, v) = api.gql_as(&b, &doc("pushToRunQueueByName (no optional args)"), json!({"entityName": "shared", "projectName": "model-registry", "queueName": "q", "runSpec": spec}), "").await;
    assert!(refused_for_admin(&v), "{v}");
    assert_eq!(shared_items().await, Some(2), "nothing was queued");
    // Nor by requeueing an item A pushed there for A's own entity.
    let (_, v) = api.gql_as(&a, &doc("pushToRunQueueByName (no optional args)"), json!({"entityName": "shared", "projectName": "model-registry", "queueName": "q", "runSpec": spec}), "").await;
    let a_item = v["data"]["pushToRunQueueByName"]["runQueueItemId"].clone();
    assert!(a_item.is_string(), "A may: {v}");
    let (_, v) = api
        .gql_as(
            &b,
            &crate::harness::liftoff_doc("LiftoffRequeueItem"),
            json!({"runQueueItemId": a_item}),
            "",
        )
        .await;
    assert!(refused_for_admin(&v), "{v}");
    assert_eq!(shared_items().await, Some(3), "only A's push was added");
    let (_, v) = api
        .gql_as(
            &b,
            &doc("popFromRunQueue"),
            json!({"entity": "shared", "project": "model-registry", "queueName": "q"}),
            "",
        )
        .await;
    assert!(
        v["data"]["popFromRunQueue"]["runQueueItemId"].is_string(),
        "{v}"
    );
}
