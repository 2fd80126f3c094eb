//! Rules beyond the happy path: envelope quirks, isolation, leases,
//! validation, long polls, cancellation.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::harness::{Api, doc, liftoff_doc};

async fn api() -> (crate::backends::Backend, Api) {
    let backend = crate::backends::sqlite().await;
    let api = Api::new(backend.store.clone()).await;
    (backend, api)
}

async fn queue(api: &Api, entity: &str, key: &str, name: &str, mode: &str) -> Value {
    let (_, v) = api
        .gql_as(key, &doc("CreateRunQueue"), json!({"entity": entity, "project": "model-registry", "queueName": name, "access": "PROJECT", "prioritizationMode": mode}), "CreateRunQueue")
        .await;
    assert!(v.get("errors").is_none(), "{v}");
    v["data"]["createRunQueue"]["queueID"].clone()
}

fn push_vars(queue: &str, spec: Value) -> Value {
    json!({"entityName": "admin", "projectName": "model-registry", "queueName": queue, "runSpec": spec.to_string()})
}

fn image_spec() -> Value {
    json!({"entity": "admin", "project": "proj", "docker": {"docker_image": "busybox"}, "git": {}, "overrides": {}})
}

#[tokio::test]
async fn envelope_quirks() {
    let (_b, api) = api().await;
    // operationName "" runs the only operation; undeclared variables are ignored.
    let (status, v) = api
        .gql_as(&api.key, &doc("GetDefaultEntity"), json!({"unused": 1}), "")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["data"]["viewer"]["entity"], "admin");
    // an unknown field: graphql-js wording, HTTP 200, a code and the operation name
    let (status, v) = api
        .gql_as(
            &api.key,
            "query Mine { viewer { shoeSize } }",
            json!({}),
            "",
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        v["errors"][0]["message"],
        "Cannot query field \"shoeSize\" on type \"User\"."
    );
    assert_eq!(
        v["errors"][0]["extensions"]["code"],
        "GRAPHQL_VALIDATION_FAILED"
    );
    assert_eq!(v["errors"][0]["extensions"]["operation"], "Mine");
    let (_, v) = api
        .gql_as(
            &api.key,
            "mutation Fancy { teleport(input: {}) { ok } }",
            json!({}),
            "",
        )
        .await;
    assert_eq!(
        v["errors"][0]["message"],
        "Cannot query field \"teleport\" on type \"Mutation\"."
    );
    // malformed envelopes are a 400 with a message, never a 500
    for body in [
        b"{not json".to_vec(),
        b"[]".to_vec(),
        br#"{"query": 5}"#.to_vec(),
        br#"{"query": "{viewer{id}}", "variables": [1]}"#.to_vec(),
        vec![0xff, 0xfe],
    ] {
        let (status, bytes) = api.raw("POST", "/graphql", Some(&api.key), body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["errors"][0]["extensions"]["code"], "BAD_REQUEST");
    }
    // no key / a bad key: 401 with a message saying what to do
    let (status, bytes) = api
        .raw(
            "POST",
            "/graphql",
            None,
            br#"{"query":"{viewer{id}}"}"#.to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(String::from_utf8_lossy(&bytes).contains("WANDB_API_KEY"));
    let (status, _) = api
        .raw(
            "POST",
            "/graphql",
            Some("ffffffffffffffffffffffffffffffffffffffff"),
            br#"{"query":"{viewer{id}}"}"#.to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // deep queries are refused
    let mut q = String::from("name");
    for _ in 0..30 {
        q = format!(
            "project {{ entity {{ name }} runQueue(name: \"x\") {{ id }} run(name: \"r\") {{ project {{ {q} }} }} }}"
        );
    }
    let (status, v) = api
        .gql_as(
            &api.key,
            &format!("query Deep {{ project(name: \"p\") {{ {q} }} }}"),
            json!({}),
            "",
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        v["errors"][0]["extensions"]["code"], "QUERY_TOO_COMPLEX",
        "{v}"
    );
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("nested too deep"),
        "{v}"
    );
}

#[tokio::test]
async fn users_see_only_their_entities() {
    let (_b, api) = api().await;
    let bob = api.user("bob").await;
    queue(&api, "admin", &api.key, "private", "DISABLED").await;
    // bob cannot see, push to, pop from or create in admin's entity
    let (_, v) = api
        .gql_as(
            &bob,
            &doc("ProjectRunQueues"),
            json!({"entity": "admin", "projectName": "model-registry"}),
            "",
        )
        .await;
    assert_eq!(v["data"]["project"], Value::Null);
    let (_, v) = api
        .gql_as(
            &bob,
            &doc("pushToRunQueueByName (no optional args)"),
            push_vars("private", image_spec()),
            "",
        )
        .await;
    assert_eq!(
        v["errors"][0]["message"],
        "entity \"admin\" not found or access denied (yours is bob)"
    );
    assert_eq!(v["errors"][0]["extensions"]["code"], "NOT_FOUND");
    let (_, v) = api
        .gql_as(
            &bob,
            &doc("popFromRunQueue"),
            json!({"entity": "admin", "project": "model-registry", "queueName": "private"}),
            "",
        )
        .await;
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("not found or access denied")
    );
    let (_, v) = api
        .gql_as(&bob, &doc("EntityIsTeam"), json!({"entity": "admin"}), "")
        .await;
    assert_eq!(v["data"]["entity"], Value::Null);
    // an item id from admin's queue is refused to bob
    let pushed = api
        .ok(
            "pushToRunQueueByName (no optional args)",
            push_vars("private", image_spec()),
        )
        .await;
    let item = pushed["pushToRunQueueByName"]["runQueueItemId"].clone();
    let (_, v) = api
        .gql_as(
            &bob,
            &doc("ackRunQueueItem"),
            json!({"itemId": item, "runId": "r1"}),
            "",
        )
        .await;
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("not found or access denied"),
        "{v}"
    );
    // a shared team is visible to both
    api.team("ml-team", &["admin", "bob"]).await;
    queue(&api, "ml-team", &api.key, "shared", "DISABLED").await;
    let (_, v) = api
        .gql_as(
            &bob,
            &doc("ProjectRunQueues"),
            json!({"entity": "ml-team", "projectName": "model-registry"}),
            "",
        )
        .await;
    assert_eq!(v["data"]["project"]["runQueues"][0]["name"], "shared");
}

#[tokio::test]
async fn leases_expire_and_stale_acks_are_refused() {
    let (_b, api) = api().await;
    queue(&api, "admin", &api.key, "q", "DISABLED").await;
    api.ok(
        "pushToRunQueueByName (no optional args)",
        push_vars("q", image_spec()),
    )
    .await;
    let pop = json!({"entity": "admin", "project": "model-registry", "queueName": "q"});
    let first =
        api.ok("popFromRunQueue", pop.clone()).await["popFromRunQueue"]["runQueueItemId"].clone();
    assert_eq!(
        api.ok("popFromRunQueue", pop.clone()).await["popFromRunQueue"],
        Value::Null,
        "leased items are not handed out twice"
    );
    api.advance(61_000);
    let second =
        api.ok("popFromRunQueue", pop.clone()).await["popFromRunQueue"]["runQueueItemId"].clone();
    assert_ne!(first, second, "a new lease has a new id");
    let stale = api
        .ok("ackRunQueueItem", json!({"itemId": first, "runId": "a"}))
        .await;
    assert_eq!(stale["ackRunQueueItem"]["success"], false);
    let fresh = api
        .ok("ackRunQueueItem", json!({"itemId": second, "runId": "b"}))
        .await;
    assert_eq!(fresh["ackRunQueueItem"]["success"], true);
    let failed_late = api
        .ok(
            "failRunQueueItem",
            json!({"runQueueItemId": first, "message": "x", "stage": "agent"}),
        )
        .await;
    assert_eq!(
        failed_late["failRunQueueItem"]["success"], false,
        "a stale lease cannot fail the item"
    );
}

#[tokio::test]
async fn pushes_are_validated_with_every_problem_listed() {
    let (_b, api) = api().await;
    let q = crate::harness::fixture("queue-config/kubernetes.json");
    let mut vars = q["CreateDefaultResourceConfig.variables"].clone();
    vars["entityName"] = json!("admin");
    let (_, c) = api
        .gql_as(
            &api.key,
            &doc("CreateDefaultResourceConfig"),
            vars,
            "CreateDefaultResourceConfig",
        )
        .await;
    let id = c["data"]["createDefaultResourceConfig"]["defaultResourceConfigID"].clone();
    api.gql_as(&api.key, &doc("CreateRunQueue"), json!({"entity": "admin", "project": "model-registry", "queueName": "k8s", "access": "PROJECT", "defaultResourceConfigID": id}), "CreateRunQueue").await;
    // A second queue made with the same config, then upserted with another:
    // the first keeps its own (its template variables below).
    api.gql_as(&api.key, &doc("CreateRunQueue"), json!({"entity": "admin", "project": "model-registry", "queueName": "twin", "access": "PROJECT", "defaultResourceConfigID": id}), "CreateRunQueue").await;
    let mut up =
        crate::harness::fixture("queue-config/local-container.json")["UpsertRunQueue.variables"]
            .clone();
    up["entityName"] = json!("admin");
    up["queueName"] = json!("twin");
    api.ok("UpsertRunQueue", up).await;
    let mut vars = push_vars("k8s", image_spec());
    vars["templateVariableValues"] = json!("{\"cpu\": 99, \"memory\": \"1Ti\", \"gpu\": 1}");
    let msg = api.err("pushToRunQueueByName", vars.clone()).await;
    assert_eq!(
        msg,
        "cannot push to queue \"k8s\": gpu: is not a template variable of this queue (known variables: cpu, memory, gpus); cpu: must be at most 16, got 99; memory: must be one of \"8Gi\", \"16Gi\", \"32Gi\", got \"1Ti\""
    );
    // priority on a queue without prioritization
    vars["priority"] = json!(0);
    vars["templateVariableValues"] = json!("{}");
    let msg = api.err("pushToRunQueueByName", vars).await;
    assert!(msg.contains("does not use priorities"), "{msg}");
    // bad specs say what is wrong
    for (spec, want) in [
        (json!("[1,2]"), "must be a JSON object"),
        (json!("{\"entity\": \"admin\"}"), "names no source"),
        (
            json!("{\"job\": \"nope\"}"),
            "is not of the form entity/project/name[:alias]",
        ),
        (
            json!("{\"job\": \"a/b/c:v0\", \"overrides\": {\"args\": \"--x\"}}"),
            "wrong type",
        ),
    ] {
        let vars = json!({"entityName": "admin", "projectName": "model-registry", "queueName": "k8s", "runSpec": spec});
        let msg = api
            .err("pushToRunQueueByName (no optional args)", vars)
            .await;
        assert!(msg.contains(want), "{msg}");
    }
    // A push's values are kept with its item, and a requeue keeps them.
    let mut vars = push_vars("k8s", image_spec());
    vars["templateVariableValues"] = json!("{\"cpu\": 8, \"memory\": \"32Gi\"}");
    let pushed = api.ok("pushToRunQueueByName", vars).await;
    let item = pushed["pushToRunQueueByName"]["runQueueItemId"].clone();
    let values = |id: Value| {
        let api = &api;
        async move {
            let (_, v) = api
                .gql_as(
                    &api.key,
                    "query Values { project(entityName: \"admin\", name: \"model-registry\") { runQueue(name: \"k8s\") { runQueueItems { edges { node { id templateVariableValues } } } } } }",
                    json!({}),
                    "",
                )
                .await;
            let edges = v["data"]["project"]["runQueue"]["runQueueItems"]["edges"].clone();
            edges
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["node"]["id"] == id)
                .map(|e| e["node"]["templateVariableValues"].clone())
                .unwrap_or_else(|| panic!("{v}"))
        }
    };
    assert_eq!(
        values(item.clone()).await,
        json!({"cpu": 8, "memory": "32Gi"})
    );
    // Once it has ended (here: failed), a requeue keeps them.
    let pop = json!({"entity": "admin", "project": "model-registry", "queueName": "k8s"});
    let popped = api.ok("popFromRunQueue", pop).await["popFromRunQueue"]["runQueueItemId"].clone();
    api.ok(
        "failRunQueueItem",
        json!({"runQueueItemId": popped, "message": "x", "stage": "agent"}),
    )
    .await;
    let (_, v) = api.item_action("LiftoffRequeueItem", &item).await;
    let again = v["data"]["requeueRunQueueItem"]["runQueueItemId"].clone();
    assert!(again.is_string(), "{v}");
    assert_eq!(values(again).await, json!({"cpu": 8, "memory": "32Gi"}));
    let vars = json!({"entityName": "admin", "projectName": "model-registry", "queueName": "nope", "runSpec": image_spec().to_string()});
    let msg = api
        .err("pushToRunQueueByName (no optional args)", vars)
        .await;
    assert_eq!(
        msg,
        "queue \"nope\" not found in entity \"admin\"; known queues: k8s, twin"
    );
    // bad queue configs are refused with the problems
    let vars = json!({"entityName": "admin", "resource": "kubernetes", "config": "{\"resource_args\":{\"kubernetes\":{\"cpu\":\"{{cpu}}\"}}}", "templateVariables": "{\"cpu\":{\"schema\":{\"type\":\"object\"}}}"});
    let (_, v) = api
        .gql_as(
            &api.key,
            &doc("CreateDefaultResourceConfig"),
            vars,
            "CreateDefaultResourceConfig",
        )
        .await;
    assert_eq!(
        v["errors"][0]["message"],
        "invalid queue config: cpu: type \"object\" is not allowed: use string, integer or number"
    );
    let vars = json!({"entityName": "admin", "resource": "slurm", "config": "{}", "templateVariables": null});
    let (_, v) = api
        .gql_as(
            &api.key,
            &doc("CreateDefaultResourceConfig"),
            vars,
            "CreateDefaultResourceConfig",
        )
        .await;
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("unknown resource \"slurm\""),
        "{v}"
    );
}

#[tokio::test]
async fn priorities_order_the_queue() {
    let (_b, api) = api().await;
    queue(&api, "admin", &api.key, "p", "V0").await;
    for (p, run) in [(3, "low"), (2, "med"), (0, "crit")] {
        let mut spec = image_spec();
        spec["run_id"] = json!(run);
        let mut vars = push_vars("p", spec);
        vars["priority"] = json!(p);
        api.ok("pushToRunQueueByName", vars).await;
    }
    let pop = json!({"entity": "admin", "project": "model-registry", "queueName": "p"});
    let mut order = vec![];
    for _ in 0..3 {
        order.push(
            api.ok("popFromRunQueue", pop.clone()).await["popFromRunQueue"]["runSpec"]["run_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(order, ["crit", "med", "low"]);
}

#[tokio::test]
async fn only_ended_items_are_requeued_and_copies_on_a_fifo_queue_wait_their_turn() {
    let (_b, api) = api().await;
    let qid = queue(&api, "admin", &api.key, "rq", "V0").await;
    let mut spec = image_spec();
    spec["run_id"] = json!("c1");
    let mut vars = push_vars("rq", spec);
    vars["priority"] = json!(0);
    let waiting =
        api.ok("pushToRunQueueByName", vars).await["pushToRunQueueByName"]["runQueueItemId"]
            .clone();
    // A copy of a waiting item would run its job twice.
    let (_, v) = api.item_action("LiftoffRequeueItem", &waiting).await;
    assert_eq!(
        v["errors"][0]["message"],
        "the item is still idle (waiting, but no agent is polling its queue): it runs when an agent takes it, so there is nothing to requeue",
        "{v}"
    );
    let pop = json!({"entity": "admin", "project": "model-registry", "queueName": "rq"});
    let item =
        api.ok("popFromRunQueue", pop.clone()).await["popFromRunQueue"]["runQueueItemId"].clone();
    let (_, v) = api.item_action("LiftoffRequeueItem", &item).await;
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("the item is still pending")),
        "{v}"
    );
    // Its run starts; then the item fails as when its agent went quiet,
    // while the run still reports: a copy would run the job twice.
    api.ok("ackRunQueueItem", json!({"itemId": item, "runId": "c1"}))
        .await;
    let up = json!({"name": "c1", "project": "proj", "entity": "admin"});
    let (_, v) = api
        .gql_as(&api.key, &doc("UpsertBucket"), up, "UpsertBucket")
        .await;
    assert!(v.get("errors").is_none(), "{v}");
    api.ok(
        "failRunQueueItem",
        json!({"runQueueItemId": item, "message": "x", "stage": "agent"}),
    )
    .await;
    let (_, v) = api.item_action("LiftoffRequeueItem", &item).await;
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("the item is still running")),
        "{v}"
    );
    let up = json!({"name": "c1", "project": "proj", "entity": "admin", "state": "crashed"});
    let (_, v) = api
        .gql_as(&api.key, &doc("UpsertBucket"), up, "UpsertBucket")
        .await;
    assert!(v.get("errors").is_none(), "{v}");
    // The queue turns FIFO: a copy of the critical item queues behind the
    // items pushed before it.
    let (_, v) = api
        .gql_as(
            &api.key,
            &liftoff_doc("LiftoffUpdateRunQueue"),
            json!({"queueID": qid, "prioritizationMode": "DISABLED"}),
            "",
        )
        .await;
    assert!(v.get("errors").is_none(), "{v}");
    let mut spec = image_spec();
    spec["run_id"] = json!("plain");
    api.ok(
        "pushToRunQueueByName (no optional args)",
        push_vars("rq", spec),
    )
    .await;
    let (_, v) = api.item_action("LiftoffRequeueItem", &item).await;
    assert!(
        v["data"]["requeueRunQueueItem"]["runQueueItemId"].is_string(),
        "{v}"
    );
    let first = api.ok("popFromRunQueue", pop.clone()).await;
    assert_eq!(first["popFromRunQueue"]["runSpec"]["run_id"], "plain");
}

#[tokio::test]
async fn long_poll_pop_returns_as_soon_as_an_item_arrives() {
    let (_b, api) = api().await;
    queue(&api, "admin", &api.key, "lp", "DISABLED").await;
    let wait = liftoff_doc("LiftoffPopWait");
    let vars = json!({"entity": "admin", "project": "model-registry", "queueName": "lp", "waitSeconds": 10});
    let started = Instant::now();
    let (popped, _) = tokio::join!(api.gql_as(&api.key, &wait, vars, "LiftoffPopWait"), async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        api.ok(
            "pushToRunQueueByName (no optional args)",
            push_vars("lp", image_spec()),
        )
        .await
    });
    let elapsed = started.elapsed();
    assert!(
        popped.1["data"]["popFromRunQueue"]["runQueueItemId"].is_string(),
        "{}",
        popped.1
    );
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
    // with nothing pushed it waits, then answers null
    let vars = json!({"entity": "admin", "project": "model-registry", "queueName": "lp", "waitSeconds": 1});
    let started = Instant::now();
    let (_, v) = api.gql_as(&api.key, &wait, vars, "LiftoffPopWait").await;
    assert_eq!(v["data"]["popFromRunQueue"], Value::Null);
    assert!(started.elapsed() >= Duration::from_millis(900));
}

#[tokio::test]
async fn items_can_be_cancelled_reprioritised_and_requeued() {
    let (_b, api) = api().await;
    queue(&api, "admin", &api.key, "c", "V0").await;
    let a = api
        .ok(
            "pushToRunQueueByName (no optional args)",
            push_vars("c", image_spec()),
        )
        .await["pushToRunQueueByName"]["runQueueItemId"]
        .clone();
    let (_, v) = api
        .gql_as(
            &api.key,
            &liftoff_doc("LiftoffSetItemPriority"),
            json!({"runQueueItemId": a, "priority": 0}),
            "",
        )
        .await;
    assert_eq!(
        v["data"]["updateRunQueueItemPriority"]["success"], true,
        "{v}"
    );
    let (_, v) = api
        .gql_as(
            &api.key,
            &liftoff_doc("LiftoffSetItemPriority"),
            json!({"runQueueItemId": a, "priority": 9}),
            "",
        )
        .await;
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("out of range")
    );
    let (_, v) = api.item_action("LiftoffCancelItem", &a).await;
    assert_eq!(v["data"]["cancelRunQueueItem"]["success"], true);
    let items = api
        .ok(
            "GetRunQueueItems",
            json!({"entityName": "admin", "projectName": "model-registry", "runQueue": "c"}),
        )
        .await;
    assert_eq!(
        items["project"]["runQueue"]["runQueueItems"]["edges"],
        json!([])
    );
    // a running item: cancel stops its run
    let mut spec = image_spec();
    spec["run_id"] = json!("r9");
    api.ok(
        "pushToRunQueueByName (no optional args)",
        push_vars("c", spec),
    )
    .await;
    let popped = api
        .ok(
            "popFromRunQueue",
            json!({"entity": "admin", "project": "model-registry", "queueName": "c"}),
        )
        .await;
    let item = popped["popFromRunQueue"]["runQueueItemId"].clone();
    api.ok("ackRunQueueItem", json!({"itemId": item, "runId": "r9"}))
        .await;
    let up = json!({"name": "r9", "project": "proj", "entity": "admin"});
    let (_, v) = api
        .gql_as(&api.key, &doc("UpsertBucket"), up, "UpsertBucket")
        .await;
    assert!(v.get("errors").is_none(), "{v}");
    let (_, v) = api.item_action("LiftoffCancelItem", &item).await;
    assert_eq!(v["data"]["cancelRunQueueItem"]["success"], true, "{v}");
    let stopped = api
        .ok(
            "RunStoppedStatus",
            json!({"projectName": "proj", "entityName": "admin", "runId": "r9"}),
        )
        .await;
    assert_eq!(stopped["project"]["run"]["stopped"], true);
    // Its row says who cancelled it.
    let notes = || async {
        let queue = api
            .client(&api.key)
            .call(liftoff_client::ops::liftoff::LiftoffRunQueue {
                entity: "admin".into(),
                queue: "c".into(),
                first: 10,
                after: None,
            })
            .await
            .unwrap();
        queue.items[0]
            .item
            .warnings
            .iter()
            .map(|w| (w.stage.clone(), w.message.clone()))
            .collect::<Vec<_>>()
    };
    let said = [("cancel".to_owned(), "cancelled by admin".to_owned())];
    assert_eq!(notes().await, said);
    // A crashed run may be a quiet one still going: it can still be stopped.
    let up = json!({"name": "r9", "project": "proj", "entity": "admin", "state": "crashed"});
    let (_, v) = api
        .gql_as(&api.key, &doc("UpsertBucket"), up, "UpsertBucket")
        .await;
    assert!(v.get("errors").is_none(), "{v}");
    let (_, v) = api.item_action("LiftoffCancelItem", &item).await;
    assert_eq!(v["data"]["cancelRunQueueItem"]["success"], true, "{v}");
    assert_eq!(notes().await, said, "said once");
    // Once its run has ended there is nothing to cancel, and it says so.
    let up = json!({"name": "r9", "project": "proj", "entity": "admin", "state": "killed"});
    let (_, v) = api
        .gql_as(&api.key, &doc("UpsertBucket"), up, "UpsertBucket")
        .await;
    assert!(v.get("errors").is_none(), "{v}");
    let (_, v) = api.item_action("LiftoffCancelItem", &item).await;
    assert_eq!(
        v["errors"][0]["message"],
        "the item's run r9 has ended already (killed): there is nothing to cancel",
        "{v}"
    );
    let (_, v) = api.item_action("LiftoffRequeueItem", &item).await;
    assert!(
        v["data"]["requeueRunQueueItem"]["runQueueItemId"].is_string(),
        "{v}"
    );
}

#[tokio::test]
async fn failed_runs_are_retried_when_the_queue_allows_it() {
    let (_b, api) = api().await;
    let qid = queue(&api, "admin", &api.key, "r", "DISABLED").await;
    let doc = liftoff_doc("LiftoffUpdateRunQueue");
    let (_, v) = api
        .gql_as(
            &api.key,
            &doc,
            json!({"queueID": qid, "maxRetries": 11}),
            "",
        )
        .await;
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("out of range"),
        "{v}"
    );
    let (_, v) = api
        .gql_as(&api.key, &doc, json!({"queueID": qid, "maxRetries": 1}), "")
        .await;
    assert_eq!(v["data"]["updateRunQueue"]["success"], true, "{v}");
    let mut spec = image_spec();
    spec["run_id"] = json!("first");
    api.ok(
        "pushToRunQueueByName (no optional args)",
        push_vars("r", spec),
    )
    .await;
    let pop = json!({"entity": "admin", "project": "model-registry", "queueName": "r"});
    for attempt in 0..2 {
        let item =
            api.ok("popFromRunQueue", pop.clone()).await["popFromRunQueue"]["runQueueItemId"]
                .clone();
        let failed = api
            .ok(
                "failRunQueueItem",
                json!({"runQueueItemId": item, "message": "exit 1", "stage": "run"}),
            )
            .await;
        assert_eq!(
            failed["failRunQueueItem"]["success"], true,
            "attempt {attempt}"
        );
    }
    // one retry, then no more
    assert_eq!(
        api.ok("popFromRunQueue", pop).await["popFromRunQueue"],
        Value::Null
    );
    let items = api
        .ok(
            "GetRunQueueItems",
            json!({"entityName": "admin", "projectName": "model-registry", "runQueue": "r"}),
        )
        .await;
    assert_eq!(
        items["project"]["runQueue"]["runQueueItems"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn queue_status_counts_are_what_the_items_list_shows() {
    use liftoff_client::ops::liftoff::{LiftoffRunQueue, LiftoffRunQueues, LiftoffStopPolling};
    use liftoff_client::view::items::{item_rows, status_counts};
    use liftoff_model::DisplayStatus::{
        Crashed, Failed, Finished, Idle, Killed, Pending, Queued, Running,
    };
    let (_b, api) = api().await;
    let qid = queue(&api, "admin", &api.key, "s", "DISABLED").await;
    for (run, entity) in [
        ("a", "admin"),
        ("b", ""),
        ("c", "admin"),
        ("d", "admin"),
        ("e", "admin"),
    ] {
        let mut spec = image_spec();
        spec["run_id"] = json!(run);
        // An empty entity means the queue's (as W&B's agent reads it).
        spec["entity"] = json!(entity);
        api.ok(
            "pushToRunQueueByName (no optional args)",
            push_vars("s", spec),
        )
        .await;
    }
    let client = api.client(&api.key);
    // The Launch home's counts, checked against the queue page's rows.
    let counts = || async {
        let home = client
            .call(LiftoffRunQueues {
                entity: "admin".into(),
            })
            .await
            .unwrap()
            .into_iter()
            .find(|q| q.queue.name == "s")
            .unwrap()
            .statuses;
        let detail = client
            .call(LiftoffRunQueue {
                entity: "admin".into(),
                queue: "s".into(),
                first: 100,
                after: None,
            })
            .await
            .unwrap();
        let ms = api.clock.0.load(std::sync::atomic::Ordering::SeqCst);
        let now =
            time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap();
        let page: Vec<_> = status_counts(&item_rows(&detail, now))
            .into_iter()
            .map(|(s, n)| (s, n as i64))
            .collect();
        assert_eq!(home, page, "the home's counts and the queue page's rows");
        home
    };
    assert_eq!(counts().await, vec![(Idle, 5)], "no agent polls the queue");
    let agent = api.ok("createLaunchAgent", json!({"entity": "admin", "project": "model-registry", "queues": [qid], "hostname": "h", "agentConfig": "{}", "version": "v"})).await["createLaunchAgent"]["launchAgentId"].clone();
    assert_eq!(counts().await, vec![(Queued, 5)]);

    let pop = json!({"entity": "admin", "project": "model-registry", "queueName": "s", "launchAgentId": agent});
    let popped = |_: ()| async {
        api.ok("popFromRunQueue", pop.clone()).await["popFromRunQueue"]["runQueueItemId"].clone()
    };
    let a = popped(()).await;
    assert_eq!(counts().await, vec![(Queued, 4), (Pending, 1)], "leased");
    api.ok("ackRunQueueItem", json!({"itemId": a, "runId": "a"}))
        .await;
    assert_eq!(
        counts().await,
        vec![(Queued, 4), (Pending, 1)],
        "claimed, its run not made yet"
    );
    let api = &api;
    let upsert = |name: &'static str, state: &'static str| async move {
        let vars = json!({"name": name, "project": "proj", "entity": "admin", "state": state});
        let (_, v) = api
            .gql_as(&api.key, &doc("UpsertBucket"), vars, "UpsertBucket")
            .await;
        assert!(v.get("errors").is_none(), "{v}");
    };
    upsert("a", "running").await;
    assert_eq!(counts().await, vec![(Queued, 4), (Running, 1)]);

    for (run, state) in [("b", "finished"), ("c", "killed")] {
        let item = popped(()).await;
        api.ok("ackRunQueueItem", json!({"itemId": item, "runId": run}))
            .await;
        upsert(run, state).await;
    }
    let d = popped(()).await;
    api.ok(
        "failRunQueueItem",
        json!({"runQueueItemId": d, "message": "no such image", "stage": "build"}),
    )
    .await;
    assert_eq!(
        counts().await,
        vec![
            (Queued, 1),
            (Running, 1),
            (Finished, 1),
            (Failed, 1),
            (Killed, 1)
        ]
    );
    // An agent told to stop polling takes nothing new: the last item is Idle.
    client
        .call(LiftoffStopPolling {
            agent_id: agent.as_str().unwrap().to_owned(),
        })
        .await
        .unwrap();
    assert_eq!(
        counts().await,
        vec![
            (Idle, 1),
            (Running, 1),
            (Finished, 1),
            (Failed, 1),
            (Killed, 1)
        ]
    );
    // Two minutes of silence: the agent is gone and run `a` crashed.
    api.advance(120_000);
    let after = vec![
        (Idle, 1),
        (Finished, 1),
        (Failed, 1),
        (Crashed, 1),
        (Killed, 1),
    ];
    assert_eq!(counts().await, after);
    // The sweeper fails the gone agent's unfinished item (`a`, its run
    // crashed); the items whose runs had ended (W&B's agent never acks them
    // further) keep their runs' end.
    liftoff_server::launch::reap_gone_agents(&api.state)
        .await
        .unwrap();
    assert_eq!(
        counts().await,
        vec![(Idle, 1), (Finished, 1), (Failed, 2), (Killed, 1)],
        "after the gone agent was reaped"
    );
}

#[tokio::test]
async fn a_run_names_the_item_that_started_it_to_those_who_may_see_its_queue() {
    let (_b, api) = api().await;
    let bob = api.user("bob").await;
    api.team("shared", &["admin", "bob"]).await;
    // Admin's own queue runs a job into the team's project, which bob sees.
    queue(&api, "admin", &api.key, "mine", "DISABLED").await;
    // Push a spec to that queue, and claim it for a run of this name.
    let claim = |project: &'static str, run: &'static str| {
        let api = &api;
        async move {
            let spec =
                json!({"entity": "shared", "project": project, "job": "shared/p/train:latest"});
            let pushed = api
                .ok(
                    "pushToRunQueueByName (no optional args)",
                    push_vars("mine", spec),
                )
                .await;
            let pop = json!({"entity": "admin", "project": "model-registry", "queueName": "mine"});
            let leased =
                api.ok("popFromRunQueue", pop).await["popFromRunQueue"]["runQueueItemId"].clone();
            let acked = api
                .ok("ackRunQueueItem", json!({"itemId": leased, "runId": run}))
                .await;
            assert_eq!(acked["ackRunQueueItem"]["success"], true);
            pushed["pushToRunQueueByName"]["runQueueItemId"].clone()
        }
    };
    let item_id = claim("p", "r1").await;
    // The item of a run of the same name in another project.
    claim("other", "r2").await;
    // More newer items than one page of the lookup, claimed with r1's name
    // for runs of another project, do not hide r1's item.
    for _ in 0..201 {
        claim("other", "r1").await;
    }
    for run in ["r1", "r2"] {
        let (_, v) = api
            .gql_as(
                &api.key,
                &doc("UpsertBucket"),
                json!({"name": run, "project": "p", "entity": "shared"}),
                "UpsertBucket",
            )
            .await;
        assert!(v.get("errors").is_none(), "{v}");
    }
    let page = liftoff_doc("LiftoffRunPage");
    let launch_item = |key: String, run: &'static str| {
        let (api, page) = (&api, &page);
        async move {
            let (_, v) = api
                .gql_as(
                    &key,
                    page,
                    json!({"entityName": "shared", "projectName": "p", "runName": run}),
                    "",
                )
                .await;
            assert!(v.get("errors").is_none(), "{v}");
            v["data"]["project"]["run"]["launchItem"].clone()
        }
    };
    let item = launch_item(api.key.clone(), "r1").await;
    assert_eq!(item["id"], item_id, "{item}");
    assert_eq!(
        item["runQueue"],
        json!({"name": "mine", "entityName": "admin"})
    );
    assert_eq!(item["runSpec"]["job"], "shared/p/train:latest");
    // Bob sees the run but not admin's queue; r2 of this project was started
    // by no item (the r2 item ran in shared/other).
    assert_eq!(launch_item(bob, "r1").await, Value::Null);
    assert_eq!(launch_item(api.key.clone(), "r2").await, Value::Null);
    // The page as a client asks a server that does not advertise
    // LIFTOFF_RUN_LAUNCH_ITEM: still a valid query, the run without its item.
    let plain = liftoff_client::ops::web::LiftoffRunPage {
        entity: "shared".into(),
        project: "p".into(),
        run: "r1".into(),
        launch_item: false,
    };
    let (_, v) = api
        .gql_as(
            &api.key,
            &liftoff_client::graphql::Operation::document(&plain),
            json!({"entityName": "shared", "projectName": "p", "runName": "r1"}),
            "",
        )
        .await;
    assert!(v.get("errors").is_none(), "{v}");
    assert_eq!(v["data"]["project"]["run"]["name"], "r1");
    assert!(
        v["data"]["project"]["run"].get("launchItem").is_none(),
        "{v}"
    );
}

#[tokio::test]
async fn a_project_name_that_could_not_be_addressed_is_refused_where_projects_are_made() {
    let (_b, api) = api().await;
    let run = api
        .err(
            "UpsertBucket",
            json!({"name": "r1", "project": "bad/project", "entity": "admin"}),
        )
        .await;
    assert_eq!(run, "project name \"bad/project\" may not contain '/'");
    let model = api
        .err(
            "CreateProject",
            json!({"input": {"name": "a#b", "entityName": "admin"}}),
        )
        .await;
    assert_eq!(model, "project name \"a#b\" may not contain '#'");
    // Nothing was made.
    let store = &api.state.store;
    let admin = store.entity_by_name("admin").await.unwrap().unwrap();
    for name in ["bad/project", "a#b"] {
        assert!(store.project_get(admin.id, name).await.unwrap().is_none());
    }
}

/// Input the probe of 2026-12-01 found taken or half-used: each is refused
/// saying what was wrong, and nothing is written.
#[tokio::test]
async fn malformed_ids_run_names_and_stream_lines_are_refused_with_nothing_written() {
    let (_b, api) = api().await;
    queue(&api, "admin", &api.key, "m", "DISABLED").await;
    let item = api
        .ok(
            "pushToRunQueueByName (no optional args)",
            push_vars("m", image_spec()),
        )
        .await["pushToRunQueueByName"]["runQueueItemId"]
        .clone();
    // A queue id that does not decode: refused, and the item stays.
    let msg = api
        .err(
            "DeleteFromRunQueue",
            json!({"queueID": "garbage", "runQueueItemId": item}),
        )
        .await;
    assert!(
        msg.starts_with("queueID \"garbage\" is not a run queue id"),
        "{msg}"
    );
    let items = api
        .ok(
            "GetRunQueueItems",
            json!({"entityName": "admin", "projectName": "model-registry", "runQueue": "m"}),
        )
        .await;
    assert_eq!(
        items["project"]["runQueue"]["runQueueItems"]["edges"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    // A run name no upsertBucket could make: the item stays leased.
    let popped = api
        .ok(
            "popFromRunQueue",
            json!({"entity": "admin", "project": "model-registry", "queueName": "m"}),
        )
        .await["popFromRunQueue"]["runQueueItemId"]
        .clone();
    let msg = api
        .err(
            "ackRunQueueItem",
            json!({"itemId": popped, "runId": "bad/run name"}),
        )
        .await;
    assert_eq!(
        msg,
        "run name \"bad/run name\" must be 1 to 128 letters, digits, '_', '.' or '-'"
    );
    let ok = api
        .ok("ackRunQueueItem", json!({"itemId": popped, "runId": "r1"}))
        .await;
    assert_eq!(ok["ackRunQueueItem"]["success"], true, "the lease was kept");
    // The same ack again (its answer lost) is a success; another run's is not.
    for (run, want) in [("r1", true), ("r2", false)] {
        let again = api
            .ok("ackRunQueueItem", json!({"itemId": popped, "runId": run}))
            .await;
        assert_eq!(again["ackRunQueueItem"]["success"], want, "{run}");
    }
    // file_stream: a history line that is not a JSON object refuses the
    // whole request (the console chunk beside it is not stored either:
    // nothing is written before every file is checked).
    let up = json!({"name": "r1", "project": "proj", "entity": "admin"});
    let (_, v) = api
        .gql_as(&api.key, &doc("UpsertBucket"), up, "UpsertBucket")
        .await;
    assert!(v.get("errors").is_none(), "{v}");
    let post_stream = |body: Vec<u8>| {
        api.raw(
            "POST",
            "/files/admin/proj/r1/file_stream",
            Some(&api.key),
            body,
        )
    };
    let body = json!({"files": {
        "output.log": {"offset": 0, "content": ["hello"]},
        "wandb-history.jsonl": {"offset": 0, "content": ["{\"_step\": 0}", "not json"]},
    }});
    let (status, said) = post_stream(body.to_string().into_bytes()).await;
    assert_eq!(status, axum::http::StatusCode::BAD_REQUEST);
    let said = String::from_utf8_lossy(&said);
    assert!(
        said.contains("wandb-history.jsonl: line 2 of this chunk is not a JSON object"),
        "{said}"
    );
    let (status, said) = api
        .raw(
            "GET",
            "/files/admin/proj/r1/file_stream",
            Some(&api.key),
            vec![],
        )
        .await;
    assert_eq!(status, axum::http::StatusCode::METHOD_NOT_ALLOWED);
    assert!(String::from_utf8_lossy(&said).contains("with POST"));
    let history = api
        .ok(
            "RunFullHistory",
            json!({"project": "proj", "entity": "admin", "name": "r1"}),
        )
        .await;
    assert_eq!(history["project"]["run"]["history"], json!([]));
    let (_, lines) = api
        .gql_as(
            &api.key,
            &liftoff_doc("LiftoffRunLogLines"),
            json!({"entityName": "admin", "projectName": "proj", "runName": "r1"}),
            "",
        )
        .await;
    assert_eq!(
        lines["data"]["project"]["run"]["logLines"],
        json!([]),
        "{lines}"
    );
    // What Python writes for a loss gone NaN is a row, and a summary.
    let body = json!({"files": {
        "wandb-history.jsonl": {"offset": 0, "content": ["{\"_step\": 0, \"loss\": NaN, \"acc\": 0.5}"]},
        "wandb-summary.json": {"offset": 0, "content": ["{\"loss\": Infinity}"]},
    }});
    let (status, said) = post_stream(body.to_string().into_bytes()).await;
    assert_eq!(
        status,
        axum::http::StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&said)
    );
    let sampled = api
        .ok(
            "RunSampledHistory",
            json!({"project": "proj", "entity": "admin", "name": "r1", "specs": ["{\"keys\": [\"_step\", \"loss\", \"acc\"], \"samples\": 10}"]}),
        )
        .await;
    assert_eq!(
        sampled["project"]["run"]["sampledHistory"],
        json!([[{"_step": 0, "loss": null, "acc": 0.5}]])
    );
    // wandb sends file_stream chunks of up to ~10 MiB (axum's default
    // limit is 2 MB); past the server's own limit it is told which.
    let big_line = format!("{{\"_step\": 1, \"blob\": \"{}\"}}", "x".repeat(5 << 20));
    let stream = |lines: Vec<String>| {
        json!({"files": {"wandb-history.jsonl": {"offset": 1, "content": lines}}})
            .to_string()
            .into_bytes()
    };
    let (status, said) = post_stream(stream(vec![big_line.clone()])).await;
    assert_eq!(
        status,
        axum::http::StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&said)
    );
    let (status, said) = post_stream(stream(vec![big_line.clone(); 4])).await;
    assert_eq!(status, axum::http::StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        String::from_utf8_lossy(&said).contains("larger than this server takes (16 MB at most)"),
        "{}",
        String::from_utf8_lossy(&said)
    );
    // A run spec nested past the JSON parser's depth is a JSON problem, not
    // the query's.
    let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
    let msg = api
        .err(
            "pushToRunQueueByName (no optional args)",
            json!({"entityName": "admin", "projectName": "model-registry", "queueName": "m", "runSpec": deep}),
        )
        .await;
    assert!(
        msg.starts_with("a JSON value in the request is nested too deep"),
        "{msg}"
    );
    // A variable the operation declares but the request leaves out.
    let msg = api
        .err(
            "pushToRunQueueByName (no optional args)",
            json!({"entityName": "admin", "projectName": "model-registry", "runSpec": image_spec()}),
        )
        .await;
    assert_eq!(
        msg,
        "variable $queueName was not sent: the operation declares it, so give it a value in `variables`"
    );
}

/// `upsertRunQueue` replaces the config (and the links: wandb sends null for
/// none); a prioritization it leaves out stays as it was.
#[tokio::test]
async fn an_upsert_without_a_prioritization_keeps_the_queues() {
    let (_b, api) = api().await;
    queue(&api, "admin", &api.key, "up", "V0").await;
    let mut vars =
        crate::harness::fixture("queue-config/local-container.json")["UpsertRunQueue.variables"]
            .clone();
    vars["entityName"] = json!("admin");
    vars["queueName"] = json!("up");
    let mode = || async {
        api.ok(
            "GetRunQueueMetadata",
            json!({"entityName": "admin", "projectName": "model-registry", "runQueue": "up"}),
        )
        .await["project"]["runQueue"]["prioritizationMode"]
            .clone()
    };
    let mut left_out = vars.clone();
    left_out
        .as_object_mut()
        .unwrap()
        .remove("prioritizationMode");
    let up = api.ok("UpsertRunQueue", left_out).await;
    assert_eq!(up["upsertRunQueue"]["success"], true, "{up}");
    assert_eq!(mode().await, "V0");
    vars["prioritizationMode"] = json!("DISABLED");
    api.ok("UpsertRunQueue", vars).await;
    assert_eq!(mode().await, "DISABLED");
}

/// A body over the limit is answered as GraphQL errors are, with the limit;
/// a pushed image no engine would take is refused at the push.
#[tokio::test]
async fn an_oversized_body_and_an_unusable_image_are_refused_saying_why() {
    let (_b, api) = api().await;
    let body = format!("{{\"query\": \"{}\"}}", "x".repeat(17 << 20));
    let (status, said) = api
        .raw("POST", "/graphql", Some(&api.key), body.into_bytes())
        .await;
    assert_eq!(status, axum::http::StatusCode::PAYLOAD_TOO_LARGE);
    let said: Value = serde_json::from_slice(&said).unwrap();
    assert_eq!(
        said["errors"][0]["message"],
        "the request body is larger than this server takes (16 MB at most); send less at once"
    );
    queue(&api, "admin", &api.key, "img", "DISABLED").await;
    let spec = json!({"docker": {"docker_image": "alp ine; rm -rf /"}});
    let msg = api
        .err(
            "pushToRunQueueByName (no optional args)",
            push_vars("img", spec),
        )
        .await;
    assert!(
        msg.contains("`docker.docker_image` in the run spec is not usable: \"alp ine; rm -rf /\" is not a container image reference"),
        "{msg}"
    );
}
