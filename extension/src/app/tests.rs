//! The worker's rules against a scripted server: who may ask what, which
//! key travels where, and that nothing is pushed until the form is valid.

use std::future::Future;
use std::sync::{Arc, Mutex};

use futures::executor::block_on;
use liftoff_client::{HttpRequest, HttpResponse};

use super::*;

const KEY: &str = "0123456789abcdef0123456789abcdef01234567";
const SERVER: &str = "http://127.0.0.1:8080";
const PAGE: &str = "http://127.0.0.1:5555";

/// `chrome.storage.local` in memory.
#[derive(Default)]
struct Memory {
    items: RefCell<HashMap<String, Value>>,
}

impl Host for Memory {
    async fn get(&self, key: &str) -> Result<Option<Value>, String> {
        Ok(self.items.borrow().get(key).cloned())
    }
    async fn set(&self, key: &str, value: Value) -> Result<(), String> {
        self.items.borrow_mut().insert(key.to_owned(), value);
        Ok(())
    }
    async fn open_options(&self) -> Result<(), String> {
        Ok(())
    }
}

/// One request the scripted server saw.
#[derive(Clone, Debug)]
struct Call {
    op: String,
    url: String,
    authorization: String,
    variables: Value,
}

/// A W&B-compatible server that knows one job, one queue and one run.
#[derive(Clone, Default)]
struct Scripted {
    calls: Arc<Mutex<Vec<Call>>>,
}

fn schema_metadata() -> String {
    json!({"input_schemas": {"@wandb.config": {"type": "object", "properties": {
        "lr": {"type": "number", "minimum": 0.0001, "maximum": 1, "default": 0.01},
        "epochs": {"type": "integer", "minimum": 1, "maximum": 100, "default": 3}
    }}}})
    .to_string()
}

fn job_collection() -> Value {
    json!({"id": "QXJ0aWZhY3RTZXF1ZW5jZToy", "name": "train", "description": null, "createdAt": "2026-11-28T09:00:00Z",
      "artifacts": {"edges": [{"node": {"id": "QXJ0aWZhY3Q6Mw==", "versionIndex": 0, "createdAt": "2026-11-28T09:00:00Z",
        "description": null, "metadata": schema_metadata(), "aliases": [{"alias": "v0"}, {"alias": "latest"}],
        "artifactType": {"name": "job"},
        "usedBy": [{"id": "UnVuOjE=", "name": "r1", "displayName": "brave-cat", "state": "finished",
                    "createdAt": "2026-11-28T09:10:00Z", "config": "{}", "project": {"name": "proj", "entityName": "admin"}}]}}]}})
}

impl Scripted {
    fn answer(&self, req: &HttpRequest) -> HttpResponse {
        let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
        let query = body["query"].as_str().unwrap_or_default();
        let op = match body["operationName"].as_str() {
            Some(name) if !name.is_empty() => name.to_owned(),
            _ => query
                .split_whitespace()
                .skip_while(|w| *w != "query" && *w != "mutation")
                .nth(1)
                .unwrap_or_default()
                .split('(')
                .next()
                .unwrap_or_default()
                .to_owned(),
        };
        let authorization = req
            .headers
            .iter()
            .find(|(k, _)| k == "Authorization")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        self.calls.lock().unwrap().push(Call {
            op: op.clone(),
            url: req.url.clone(),
            authorization: authorization.clone(),
            variables: body["variables"].clone(),
        });
        if authorization != Credentials::new(SERVER, KEY).authorization() {
            return HttpResponse {
                status: 401,
                headers: vec![],
                body: b"{\"errors\":[{\"message\":\"bad key\"}]}".to_vec(),
            };
        }
        let data = match op.as_str() {
            "Viewer" => json!({"viewer": {"id": "VXNlcjox", "entity": "admin", "username": "admin",
                                          "email": null, "flags": null, "teams": {"edges": []}}}),
            "ServerFeaturesQuery" => json!({"serverInfo": {"features": [
                {"name": "LIFTOFF_QUEUE_ADMIN", "isEnabled": true}, {"name": "LIFTOFF_LAUNCH_AGENTS", "isEnabled": true},
                {"name": "LIFTOFF_RUN_CONSOLE", "isEnabled": true}, {"name": "LIFTOFF_RUN_LAUNCH_ITEM", "isEnabled": true}]}}),
            "LiftoffJob" if body["variables"]["jobName"] != "train" => {
                json!({"project": {"artifactCollection": null}})
            }
            "LiftoffJob" => json!({"project": {"artifactCollection": job_collection()}}),
            // No wandb-job.json to read: which queues fit the job is not known.
            "LiftoffArtifactFiles" => json!({"artifact": {"files": {"edges": []}}}),
            "LiftoffJobs" => {
                json!({"project": {"artifactType": {"artifactCollections": {"edges": [{"node": job_collection()}]}}}})
            }
            "LiftoffRunQueues" => json!({"project": {"runQueues": [{
                "id": "UnVuUXVldWU6MQ==", "name": "q1", "entityName": "admin", "access": "PROJECT", "prioritizationMode": "DISABLED",
                "createdBy": "admin", "createdAt": "2026-11-28T10:00:00Z", "defaultResourceConfigID": null, "externalLinks": null,
                "defaultResourceConfig": null, "launchAgents": [], "itemCounts": []}]}}),
            // Item 7 failed at the run stage; its error is on the item.
            "LiftoffRunQueue" => json!({"project": {"runQueue": {
                "id": "UnVuUXVldWU6MQ==", "name": "q1", "entityName": "admin", "access": "PROJECT", "prioritizationMode": "DISABLED",
                "createdBy": "admin", "createdAt": "2026-11-28T10:00:00Z", "defaultResourceConfigID": null, "externalLinks": null,
                "defaultResourceConfig": null, "launchAgents": [],
                "runQueueItems": {"edges": [{"node": {"id": "item-7", "state": "FAILED", "runSpec": {"job": "admin/proj/train:latest"},
                    "associatedRunId": null, "createdAt": "2026-11-28T10:01:00Z",
                    "error": {"stage": "run", "message": "the job exited with code 1; last output:\nValueError: lr must be positive"}}}],
                    "pageInfo": {"endCursor": null, "hasNextPage": false}}}}}),
            "pushToRunQueueByName" => {
                json!({"pushToRunQueueByName": {"runQueueItemId": "UnVuUXVldWVJdGVtOjE=", "runSpec": null}})
            }
            // r2 used no job version: only its queue item's spec names the job.
            // (Its item only when asked for, as a GraphQL server answers.)
            "LiftoffRunPage" => {
                let mut run = json!({"id": "UnVuOjI=", "name": "r2", "state": "finished",
                "config": "{}", "summaryMetrics": "{}", "inputArtifacts": {"edges": []}});
                if query.contains("launchItem") {
                    run["launchItem"] = json!({"id": "UnVuUXVldWVJdGVtOjk=", "runSpec": {"job": "admin/proj/train:v0"},
                                               "runQueue": {"name": "q1", "entityName": "admin"}});
                }
                json!({"project": {"run": run}})
            }
            "Run" => {
                let name = body["variables"]["name"].as_str().unwrap_or_default();
                json!({"project": {"run": {"id": "UnVuOjE=", "name": name, "displayName": "brave-cat", "state": "finished",
                "createdAt": "2026-11-28T09:10:00Z", "heartbeatAt": "2026-11-28T09:11:00Z",
                "config": "{\"lr\": {\"value\": 0.2}, \"epochs\": {\"value\": 5}, \"_wandb\": {\"value\": {}}}",
                "summaryMetrics": "{}"}}})
            }
            other => panic!("the scripted server does not know {other}"),
        };
        HttpResponse {
            status: 200,
            headers: vec![],
            body: json!({ "data": data }).to_string().into_bytes(),
        }
    }

    fn ops(&self) -> Vec<String> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .map(|c| c.op.clone())
            .collect()
    }
}

impl Transport for Scripted {
    fn send(&self, request: HttpRequest) -> impl Future<Output = Result<HttpResponse, String>> {
        let response = self.answer(&request);
        async move { Ok(response) }
    }
}

struct World {
    host: Memory,
    server: Scripted,
    cache: Cache,
}

impl World {
    fn new() -> Self {
        Self {
            host: Memory::default(),
            server: Scripted::default(),
            cache: Cache::default(),
        }
    }

    /// The options page added the server (with this key).
    fn with_server(self, key: &str) -> Self {
        let mut settings = Settings::default();
        settings.put_server(Server {
            base_url: SERVER.into(),
            api_key: key.into(),
        });
        self.host
            .items
            .borrow_mut()
            .insert(SETTINGS.into(), serde_json::to_value(&settings).unwrap());
        self
    }

    fn ask(&self, sender: &str, trusted: bool, request: Value) -> Value {
        let app = App {
            host: &self.host,
            transport: self.server.clone(),
            cache: &self.cache,
            ctx: Ctx {
                sender_url: sender.into(),
                trusted,
                test_origins: vec![PAGE.into()],
                now: OffsetDateTime::from_unix_timestamp(1_764_000_000).unwrap(),
            },
        };
        let request: Request = serde_json::from_value(request).unwrap();
        block_on(app.handle(request))
    }

    /// A content script on the wandb-like page at `path`.
    fn page(&self, path: &str, mut request: Value) -> Value {
        let url = format!("{PAGE}{path}");
        request["url"] = json!(url);
        self.ask(&url, false, request)
    }
}

fn input(lr: &str) -> Value {
    json!({"job": "admin/proj/train", "version": "latest", "use_json": false,
           "texts": [["lr", lr], ["epochs", ""]], "queue": "admin/q1", "entity": "admin", "project": "proj"})
}

#[test]
fn content_scripts_cannot_read_or_change_settings() {
    let w = World::new().with_server(KEY);
    for request in [
        json!({"kind": "settings"}),
        json!({"kind": "popup"}),
        json!({"kind": "add_server", "base_url": "http://evil.example", "api_key": "k"}),
        json!({"kind": "server_status", "base_url": SERVER}),
        json!({"kind": "remove_server", "base_url": SERVER}),
        json!({"kind": "undo_remove"}),
        json!({"kind": "use_for_wandb", "base_url": SERVER}),
        json!({"kind": "save_defaults", "entity": "x", "queue": "y"}),
    ] {
        let answer = w.ask(&format!("{PAGE}/admin/proj/jobs"), false, request.clone());
        assert_eq!(
            answer["error"], "only the extension's own pages may ask for this",
            "{request}"
        );
    }
    // The options page may, and still never sees the key.
    let view = w.ask(
        "chrome-extension://x/options.html",
        true,
        json!({"kind": "settings"}),
    );
    assert_eq!(view["ok"]["servers"][0]["key_hint"], "••••4567");
    assert!(!view.to_string().contains(KEY));
    assert!(w.server.ops().is_empty());
}

#[test]
fn a_page_speaks_only_for_itself() {
    let w = World::new().with_server(KEY);
    let answer = w.ask(
        &format!("{PAGE}/admin/proj/jobs"),
        false,
        json!({"kind": "page", "url": "https://wandb.ai/admin/proj/jobs"}),
    );
    assert_eq!(answer["error"], "a page may only ask about itself");
    let answer = w.page("/admin/proj/jobs", json!({"kind": "page"}));
    assert_eq!(
        answer["ok"],
        json!({"site": "wandb", "page": {"kind": "jobs", "entity": "admin", "project": "proj"}, "connected": true})
    );
    // A page the extension does not work on learns nothing and reaches nothing.
    let other = "http://127.0.0.1:7777/admin/proj/jobs";
    assert_eq!(
        w.ask(other, false, json!({"kind": "page", "url": other}))["ok"]["site"],
        Value::Null
    );
    let target = json!({"mode": "job", "entity": "admin", "project": "proj", "job": "train"});
    let answer = w.ask(
        other,
        false,
        json!({"kind": "drawer", "url": other, "target": target}),
    );
    assert_eq!(
        answer["error"],
        "the Liftoff extension does not work on this page"
    );
    assert!(w.server.ops().is_empty());
}

#[test]
fn links_to_jobs_are_recognised() {
    let w = World::new();
    let answer = w.page(
        "/admin/proj/jobs",
        json!({"kind": "links", "hrefs": [
            format!("{PAGE}/admin/proj/artifacts/job/train/latest"),
            format!("{PAGE}/admin/proj/runs/r1"),
            "https://elsewhere.example/admin/proj/artifacts/job/train/latest",
        ]}),
    );
    assert_eq!(
        answer["ok"]["targets"],
        json!([{"entity": "admin", "project": "proj", "job": "train", "version": "latest"}, null, null])
    );
}

#[test]
fn without_a_server_the_drawer_says_how_to_add_one() {
    let w = World::new();
    let target = json!({"mode": "job", "entity": "admin", "project": "proj", "job": "train"});
    let answer = w.page(
        "/admin/proj/jobs",
        json!({"kind": "drawer", "target": target}),
    );
    assert_eq!(answer["error"], NO_SERVER);
}

#[test]
fn a_drawer_that_cannot_load_says_as_whom_and_where() {
    let w = World::new().with_server(KEY);
    let target = json!({"mode": "job", "entity": "admin", "project": "proj", "job": "no-such-job"});
    let answer = w.page(
        "/admin/proj/jobs",
        json!({"kind": "drawer", "target": target}),
    );
    assert!(
        answer["error"].as_str().unwrap().contains("no-such-job"),
        "{answer}"
    );
    assert_eq!(answer["who"], format!("admin on {SERVER}"), "{answer}");
    // Before a session there is no one to name.
    let refused = World::new().with_server("ffffffffffffffffffffffffffffffffffffffff");
    let answer = refused.page(
        "/admin/proj/jobs",
        json!({"kind": "drawer", "target": target}),
    );
    assert!(answer["error"].is_string(), "{answer}");
    assert!(answer.get("who").is_none(), "{answer}");
}

#[test]
fn the_drawer_launches_with_the_servers_key_and_nothing_invalid_is_sent() {
    let w = World::new().with_server(KEY);
    let target = json!({"mode": "job", "entity": "admin", "project": "proj", "job": "train"});
    let model = &w.page(
        "/admin/proj/jobs",
        json!({"kind": "drawer", "target": target}),
    )["ok"];
    assert_eq!(model["title"], "Launch train");
    assert_eq!(model["who"], format!("admin on {SERVER}"));
    assert_eq!(model["queue"], "admin/q1");
    assert_eq!(model["inputs"]["fields"][0]["path"], "lr");
    assert_eq!(model["jobs"], json!([]));
    let calls = w.server.calls.lock().unwrap().clone();
    assert!(calls.iter().all(|c| c.url == format!("{SERVER}/graphql")));
    assert!(
        calls
            .iter()
            .all(|c| c.authorization == Credentials::new(SERVER, KEY).authorization())
    );

    let bad = w.page(
        "/admin/proj/jobs",
        json!({"kind": "launch", "input": input("5")}),
    );
    assert_eq!(
        bad["ok"]["problems"],
        json!([{"path": "config.lr", "message": "must be at most 1, got 5"}])
    );
    assert!(!w.server.ops().contains(&"pushToRunQueueByName".to_owned()));

    let ok = w.page(
        "/admin/proj/jobs",
        json!({"kind": "launch", "input": input("0.5")}),
    );
    assert_eq!(
        ok["ok"]["message"],
        "Launched train:latest to queue admin/q1."
    );
    assert_eq!(
        ok["ok"]["launched"]["link"],
        format!("{SERVER}/launch/admin/q1?item=UnVuUXVldWVJdGVtOjE=")
    );
    let push = w
        .server
        .calls
        .lock()
        .unwrap()
        .iter()
        .rev()
        .find(|c| c.op == "pushToRunQueueByName")
        .cloned()
        .unwrap();
    let spec: Value = serde_json::from_str(push.variables["runSpec"].as_str().unwrap()).unwrap();
    assert_eq!(
        spec,
        json!({"job": "admin/proj/train:latest", "entity": "admin", "project": "proj", "author": "admin",
               "overrides": {"run_config": {"lr": 0.5}}})
    );
    let recent = w.host.items.borrow()[RECENT].clone();
    assert_eq!(recent[0]["item_id"], "UnVuUXVldWVJdGVtOjE=");
}

#[test]
fn relaunch_with_edits_starts_from_the_run() {
    let w = World::new().with_server(KEY);
    let target = json!({"mode": "run", "entity": "admin", "project": "proj", "run": "r1"});
    let model = &w.page(
        "/admin/proj/runs/r1",
        json!({"kind": "drawer", "target": target}),
    )["ok"];
    assert_eq!(model["title"], "Relaunch brave-cat with edits");
    assert_eq!(model["job"], "admin/proj/train");
    assert_eq!(model["version"], "v0", "the version the run used");
    assert_eq!(
        model["inputs"]["texts"],
        json!([["lr", "0.2"], ["epochs", "5"]])
    );
    assert_eq!(model["notice"], Value::Null);
    let base = model["base"]["config"].clone();
    assert_eq!(base, json!({"lr": 0.2, "epochs": 5}));
    let mut edited = input("0.2");
    edited["version"] = json!("v0");
    edited["texts"] = json!([["lr", "0.2"], ["epochs", "7"]]);
    let checked = w.page(
        "/admin/proj/runs/r1",
        json!({"kind": "check", "input": edited, "base": base}),
    );
    assert_eq!(
        checked["ok"]["diff"],
        json!([{"path": "epochs", "before": "5", "after": "7"}])
    );
}

#[test]
fn relaunch_finds_the_job_of_a_run_through_the_item_that_started_it() {
    let w = World::new().with_server(KEY);
    let target = json!({"mode": "run", "entity": "admin", "project": "proj", "run": "r2"});
    let model = &w.page(
        "/admin/proj/runs/r2",
        json!({"kind": "drawer", "target": target}),
    )["ok"];
    assert_eq!(model["job"], "admin/proj/train", "{model}");
    assert_eq!(model["version"], "v0");
    let ops = w.server.ops();
    assert!(ops.contains(&"LiftoffRunPage".to_owned()), "{ops:?}");
    assert!(
        !ops.iter().any(|op| op == "LiftoffRunQueue"),
        "no queue is scanned: {ops:?}"
    );
}

#[test]
fn a_refused_key_is_said_plainly() {
    let w = World::new().with_server("ffffffffffffffffffffffffffffffffffffffff");
    let target = json!({"mode": "job", "entity": "admin", "project": "proj", "job": "train"});
    let answer = w.page(
        "/admin/proj/jobs",
        json!({"kind": "drawer", "target": target}),
    );
    let error = answer["error"].as_str().unwrap();
    assert!(
        error.starts_with(&format!(
            "The server at {SERVER}/graphql refused this API key."
        )),
        "{error}"
    );
    assert!(
        error.ends_with("Change it in the Liftoff extension's options."),
        "{error}"
    );
    assert_eq!(answer["in_options"], true, "the options can fix a key");
    // What is not there is not something the options fix.
    let missing = Failure::from(Error::NotFound {
        what: "job admin/proj/nope".into(),
    });
    assert!(!missing.in_options);
    assert_eq!(
        serde_json::to_value(&missing).unwrap().get("in_options"),
        None
    );
}

#[test]
fn a_removed_server_comes_back_with_its_key_on_undo_and_its_status_is_checked() {
    let w = World::new().with_server(KEY);
    let options = "chrome-extension://x/options.html";
    let ask = |request: Value| w.ask(options, true, request);
    // A second server, so that which one serves wandb.ai pages is a choice.
    let other = "http://127.0.0.1:9999";
    {
        let mut items = w.host.items.borrow_mut();
        let mut settings: Settings = serde_json::from_value(items[SETTINGS].clone()).unwrap();
        settings.put_server(Server {
            base_url: other.into(),
            api_key: "k".repeat(40),
        });
        settings.wandb_server = Some(SERVER.into());
        items.insert(SETTINGS.into(), serde_json::to_value(&settings).unwrap());
    }
    let status = ask(json!({"kind": "server_status", "base_url": SERVER}));
    assert_eq!(status["ok"]["who"], "admin");
    let gone = ask(json!({"kind": "remove_server", "base_url": SERVER}));
    assert_eq!(gone["ok"]["servers"].as_array().unwrap().len(), 1);
    assert_eq!(
        gone["ok"]["servers"][0]["for_wandb"], true,
        "the other one took over"
    );
    let back = ask(json!({"kind": "undo_remove"}));
    let servers = back["ok"]["servers"].as_array().unwrap();
    let mine = servers.iter().find(|s| s["base_url"] == SERVER).unwrap();
    assert_eq!(mine["key_hint"], "••••4567");
    assert_eq!(mine["for_wandb"], true, "it serves wandb.ai pages again");
    assert!(!back.to_string().contains(KEY));
    // The key works again: it was kept, not retyped.
    let status = ask(json!({"kind": "server_status", "base_url": SERVER}));
    assert_eq!(status["ok"]["who"], "admin");
    let twice = ask(json!({"kind": "undo_remove"}));
    assert!(
        twice["error"]
            .as_str()
            .unwrap()
            .starts_with("There is nothing to put back")
    );
    // Another change of the settings ends the chance to undo (an old key
    // never comes back over a newer one).
    ask(json!({"kind": "remove_server", "base_url": SERVER}));
    ask(json!({"kind": "add_server", "base_url": SERVER, "api_key": KEY}));
    let late = ask(json!({"kind": "undo_remove"}));
    assert!(
        late["error"]
            .as_str()
            .unwrap()
            .starts_with("There is nothing to put back")
    );
}

#[test]
fn adding_a_server_checks_it_and_keeps_the_key_when_left_blank() {
    let w = World::new();
    let options = "chrome-extension://x/options.html";
    let bad = w.ask(
        options,
        true,
        json!({"kind": "add_server", "base_url": "localhost:8080", "api_key": ""}),
    );
    assert_eq!(bad["problems"][0]["path"], "base_url");
    assert_eq!(bad["problems"][1]["path"], "api_key");
    let ok = w.ask(
        options,
        true,
        json!({"kind": "add_server", "base_url": format!("{SERVER}/"), "api_key": KEY}),
    );
    assert_eq!(ok["ok"]["who"], format!("Connected to {SERVER} as admin."));
    assert_eq!(ok["ok"]["servers"][0]["for_wandb"], true);
    assert_eq!(ok["ok"]["servers"][0]["permission"], "http://127.0.0.1/*");
    let again = w.ask(
        options,
        true,
        json!({"kind": "add_server", "base_url": SERVER, "api_key": ""}),
    );
    assert_eq!(
        again["ok"]["who"],
        format!("Connected to {SERVER} as admin.")
    );
    let wrong = w.ask(
        options,
        true,
        json!({"kind": "add_server", "base_url": SERVER, "api_key": "f".repeat(40)}),
    );
    assert!(
        wrong["ok"]["warning"]
            .as_str()
            .unwrap()
            .starts_with("Saved, but: The server at")
    );
    let popup = w.ask(
        "chrome-extension://x/popup.html",
        true,
        json!({"kind": "popup"}),
    );
    assert!(
        popup["ok"]["servers"][0]["error"]
            .as_str()
            .unwrap()
            .contains("refused this API key")
    );
}

#[test]
fn the_popup_says_why_an_item_failed_and_where_its_run_goes() {
    let w = World::new().with_server(KEY);
    let launched = crate::recent::Launched {
        base_url: SERVER.into(),
        queue_entity: "admin".into(),
        queue: "q1".into(),
        item_id: "item-7".into(),
        job: "admin/proj/train:latest".into(),
        entity: "admin".into(),
        project: "proj".into(),
        launched_at: 1_763_999_000,
        status: Some("Running".into()),
        run: None,
        error: None,
    };
    w.host
        .items
        .borrow_mut()
        .insert(RECENT.into(), json!([launched]));
    let popup = w.ask(
        "chrome-extension://x/popup.html",
        true,
        json!({"kind": "popup"}),
    );
    let item = &popup["ok"]["items"][0];
    assert_eq!(item["status"], "Failed", "{popup}");
    assert_eq!(
        item["error"],
        "run stage: the job exited with code 1; last output: … ValueError: lr must be positive"
    );
    assert_eq!(item["destination"], "admin/proj");
    // Kept: a settled item is not read again, and still says why.
    let stored: Vec<crate::recent::Launched> =
        serde_json::from_value(w.host.items.borrow()[RECENT].clone()).unwrap();
    assert_eq!(stored[0].error.as_deref(), item["error"].as_str());
}
