//! The SDK's exact documents against `app()`: answers are snapshotted
//! (`UPDATE_EXPECT=1` refreshes) and the W&B shapes are checked.

use expect_test::expect_file;
use serde_json::{Value, json};

use crate::backends::each;
use crate::harness::{Api, doc, fixture, fixture_as};

/// Send each step, record `name variables -> answer` lines.
struct Transcript<'a> {
    api: &'a Api,
    text: String,
}

impl<'a> Transcript<'a> {
    fn new(api: &'a Api) -> Self {
        Self {
            api,
            text: String::new(),
        }
    }

    async fn step(&mut self, name: &str, vars: Value) -> Value {
        let data = self.api.ok(name, vars.clone()).await;
        self.text.push_str(&format!("{name} {vars}\n  -> {data}\n"));
        data
    }
}

fn k8s_queue() -> Value {
    fixture("queue-config/kubernetes.json")
}

#[tokio::test]
async fn queue_admin_flow_matches_what_the_sdk_reads() {
    each(|store| async move {
        let api = Api::new(store).await;
        let mut t = Transcript::new(&api);
        t.step("Viewer", json!({})).await;
        let p = t.step("CreateProject", json!({"input": {"entityName": "admin", "name": "model-registry"}})).await;
        assert_eq!(p["result"]["project"]["name"], "model-registry");
        let q = k8s_queue();
        let mut vars = q["CreateDefaultResourceConfig.variables"].clone();
        vars["entityName"] = json!("admin");
        let c = t.step("CreateDefaultResourceConfig", vars).await;
        let config_id = c["createDefaultResourceConfig"]["defaultResourceConfigID"].clone();
        let mut vars = q["CreateRunQueue.variables"].clone();
        vars["entity"] = json!("admin");
        vars["defaultResourceConfigID"] = config_id.clone();
        let created = t.step("CreateRunQueue", vars).await;
        assert_eq!(created["createRunQueue"]["success"], true);
        let meta = t.step("GetRunQueueMetadata", json!({"entityName": "admin", "projectName": "model-registry", "runQueue": "kubernetes-queue"})).await;
        assert_eq!(meta["project"]["runQueue"]["prioritizationMode"], "V0");
        assert_eq!(meta["project"]["runQueue"]["externalLinks"], json!({"links": []}));
        let cfg = t.step("GetDefaultResourceConfig", json!({"entityName": "admin", "id": config_id})).await;
        // The shape the SDK's own test asserts: config an object, schemas compact JSON strings.
        let expected = &q["GetDefaultResourceConfig.response"]["data"]["entity"]["defaultResourceConfig"];
        assert_eq!(cfg["entity"]["defaultResourceConfig"], *expected);

        // upsert replaces config, links and template variables
        let lc = fixture("queue-config/local-container.json");
        let mut vars = lc["UpsertRunQueue.variables"].clone();
        vars["entityName"] = json!("admin");
        let up = t.step("UpsertRunQueue", vars).await;
        assert_eq!(up["upsertRunQueue"]["success"], true);
        let name = lc["UpsertRunQueue.variables"]["queueName"].as_str().unwrap().to_owned();
        let meta = t.step("GetRunQueueMetadata", json!({"entityName": "admin", "projectName": "model-registry", "runQueue": name})).await;
        assert_eq!(meta["project"]["runQueue"]["access"], "PROJECT");

        // push with template variables, as `wandb launch --set-var cpu=4 --set-var gpus=1` does
        let mut push = fixture_as("run-spec/image-job-template-variables.push-variables.json", "admin");
        push["entityName"] = json!("admin");
        push["queueName"] = json!("kubernetes-queue");
        let pushed = t.step("pushToRunQueueByName", push).await;
        let merged: Value = serde_json::from_str(pushed["pushToRunQueueByName"]["runSpec"].as_str().unwrap()).unwrap();
        let want = fixture_as("pop/pushToRunQueueByName.image-job-k8s-templated.response.json", "admin");
        let want: Value = serde_json::from_str(want["data"]["pushToRunQueueByName"]["runSpec"].as_str().unwrap()).unwrap();
        assert_eq!(merged, want);
        let item_id = pushed["pushToRunQueueByName"]["runQueueItemId"].clone();
        let items = t.step("GetRunQueueItems", json!({"entityName": "admin", "projectName": "model-registry", "runQueue": "kubernetes-queue"})).await;
        assert_eq!(items["project"]["runQueue"]["runQueueItems"]["edges"][0]["node"]["id"], item_id);
        let item = t.step("GetRunQueueItem", json!({"entityName": "admin", "projectName": "model-registry", "runQueue": "kubernetes-queue", "itemId": item_id})).await;
        assert_eq!(item["project"]["runQueue"]["runQueueItem"]["state"], "PENDING");
        let qid = t.step("fetchRunQueuesFromProject", json!({"entityName": "admin", "projectName": "model-registry", "runQueueName": "kubernetes-queue"})).await;
        let qid = qid["project"]["runQueue"]["id"].clone();
        t.step("DeleteFromRunQueue", json!({"queueID": qid, "runQueueItemId": item_id})).await;
        t.step("DeleteRunQueue", json!({"id": qid})).await;
        let gone = t.step("fetchRunQueuesFromProject", json!({"entityName": "admin", "projectName": "model-registry", "runQueueName": "kubernetes-queue"})).await;
        assert_eq!(gone["project"]["runQueue"], Value::Null);
        expect_file!["snapshots/queue_admin_flow.txt"].assert_eq(&t.text);
    })
    .await;
}

#[tokio::test]
async fn agent_flow_pops_acks_and_tracks_the_run() {
    each(|store| async move {
        let api = Api::new(store).await;
        let mut t = Transcript::new(&api);
        let created = t.step("CreateRunQueue", json!({"entity": "admin", "project": "model-registry", "queueName": "default", "access": "PROJECT"})).await;
        let qid = created["createRunQueue"]["queueID"].clone();
        let queues = t.step("ProjectRunQueues", json!({"entity": "admin", "projectName": "model-registry"})).await;
        assert_eq!(queues["project"]["runQueues"][0]["name"], "default");
        let agent = t.step("createLaunchAgent", json!({"entity": "admin", "project": "model-registry", "queues": [qid], "hostname": "vm",
            "agentConfig": "{\"max_jobs\": 1, \"queues\": [\"default\"]}", "version": "wandb@0.31.0"})).await;
        let agent_id = agent["createLaunchAgent"]["launchAgentId"].clone();
        let team = t.step("EntityIsTeam", json!({"entity": "admin"})).await;
        assert_eq!(team["entity"]["isTeam"], false);
        let a = t.step("LaunchAgent", json!({"agentId": agent_id})).await;
        let name = a["launchAgent"]["name"].as_str().unwrap();
        assert!(name.starts_with("vm-") && name.len() <= 63 && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
        let empty = t.step("popFromRunQueue", json!({"entity": "admin", "project": "model-registry", "queueName": "default", "launchAgentId": agent_id})).await;
        assert_eq!(empty["popFromRunQueue"], Value::Null);
        let mut push = fixture_as("run-spec/artifact-job-local-process.push-variables.json", "admin");
        push["entityName"] = json!("admin");
        push["queueName"] = json!("default");
        t.step("pushToRunQueueByName", push).await;
        let popped = t.step("popFromRunQueue", json!({"entity": "admin", "project": "model-registry", "queueName": "default", "launchAgentId": agent_id})).await;
        let spec = popped["popFromRunQueue"]["runSpec"].clone();
        assert!(spec.is_object(), "runSpec is a JSON object in the pop answer");
        assert_eq!(spec["run_id"], "lr7x0q2a");
        let item = popped["popFromRunQueue"]["runQueueItemId"].clone();
        t.step("updateLaunchAgent", json!({"agentId": agent_id, "agentStatus": "RUNNING"})).await;
        let ack = t.step("ackRunQueueItem", json!({"itemId": item, "runId": "lr7x0q2a"})).await;
        assert_eq!(ack["ackRunQueueItem"]["success"], true);
        let again = t.step("ackRunQueueItem", json!({"itemId": item, "runId": "lr7x0q2a"})).await;
        assert_eq!(again["ackRunQueueItem"]["success"], true, "a repeated ack (its answer lost) is done already");
        let other = t.step("ackRunQueueItem", json!({"itemId": item, "runId": "other"})).await;
        assert_eq!(other["ackRunQueueItem"]["success"], false, "an item is acked for one run");
        // the job's wandb.init
        let mut upsert = json!({"id": null, "name": "lr7x0q2a", "project": "proj", "entity": "admin", "groupName": null, "description": null,
            "displayName": "lp-run", "notes": null, "commit": null, "config": "{\"lr\":{\"value\":0.02}}", "host": "vm", "debug": null,
            "program": "train.py", "repo": null, "jobType": null, "state": null, "sweep": null, "tags": null, "summaryMetrics": null});
        let bucket = t.step("UpsertBucket", upsert.clone()).await;
        assert_eq!(bucket["upsertBucket"]["inserted"], true);
        let state = t.step("RunState", json!({"project": "proj", "entity": "admin", "name": "lr7x0q2a"})).await;
        assert_eq!(state["project"]["run"]["state"], "running");
        let stopped = t.step("RunStoppedStatus", json!({"projectName": "proj", "entityName": "admin", "runId": "lr7x0q2a"})).await;
        assert_eq!(stopped["project"]["run"]["stopped"], false);
        let run_id = bucket["upsertBucket"]["bucket"]["id"].clone();
        let (_, stop) = api.gql_as(&api.key, &doc("StopRun"), json!({"id": run_id}), "StopRun").await;
        assert_eq!(stop["data"]["stopRun"]["success"], true, "{stop}");
        let stopped = t.step("RunStoppedStatus", json!({"projectName": "proj", "entityName": "admin", "runId": "lr7x0q2a"})).await;
        assert_eq!(stopped["project"]["run"]["stopped"], true);
        upsert["state"] = json!("finished");
        t.step("UpsertBucket", upsert).await;
        let state = t.step("RunState", json!({"project": "proj", "entity": "admin", "name": "lr7x0q2a"})).await;
        assert_eq!(state["project"]["run"]["state"], "finished");
        let item_state = t.step("GetRunQueueItem", json!({"entityName": "admin", "projectName": "model-registry", "runQueue": "default", "itemId": item})).await;
        assert_eq!(item_state["project"]["runQueue"]["runQueueItem"], json!({"id": item_state["project"]["runQueue"]["runQueueItem"]["id"], "state": "CLAIMED", "associatedRunId": "lr7x0q2a"}));

        // a rejected item is failed while still leased, with the agent's variables
        let bad = fixture_as("pop/popFromRunQueue.rejected-privileged.response.json", "admin");
        let spec = bad["data"]["popFromRunQueue"]["runSpec"].clone();
        t.step("pushToRunQueueByName", json!({"entityName": "admin", "projectName": "model-registry", "queueName": "default", "runSpec": spec.to_string()})).await;
        let popped = t.step("popFromRunQueue", json!({"entity": "admin", "project": "model-registry", "queueName": "default", "launchAgentId": agent_id})).await;
        let item = popped["popFromRunQueue"]["runQueueItemId"].clone();
        let mut fail = fixture("pop/popFromRunQueue.rejected-privileged.expected-failRunQueueItem.variables.json");
        fail["runQueueItemId"] = item.clone();
        let failed = t.step("failRunQueueItem", fail).await;
        assert_eq!(failed["failRunQueueItem"]["success"], true);
        let warn = t.step("updateRunQueueItemWarning", json!({"runQueueItemId": item, "message": "pod unschedulable", "stage": "Kubernetes", "filePaths": []})).await;
        assert_eq!(warn["updateRunQueueItemWarning"]["success"], true);
        t.step("updateLaunchAgent", json!({"agentId": agent_id, "agentStatus": "KILLED"})).await;
        expect_file!["snapshots/agent_flow.txt"].assert_eq(&t.text);
    })
    .await;
}
