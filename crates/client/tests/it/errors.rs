use liftoff_client::ops::identity::Viewer;
use liftoff_client::ops::items::PushToRunQueueByName;
use liftoff_client::{Client, Credentials, Error};
use liftoff_model::spec::LaunchSpec;

use crate::Scripted;

fn client(t: Scripted) -> Client<Scripted> {
    Client::new(t, Credentials::new("http://127.0.0.1:9/", "k"))
}

fn block<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn sends_basic_auth_and_the_wandb_envelope() {
    let c = client(Scripted::answering(
        200,
        r#"{"data":{"viewer":{"id":"VXNlcjox","entity":"alice","username":"alice","email":null,"flags":null,"teams":{"edges":[]}}}}"#,
    ));
    let viewer = block(c.call(Viewer)).unwrap();
    assert_eq!(viewer.entity, "alice");
    let req = &c.transport().requests.lock().unwrap()[0];
    assert_eq!(req.url, "http://127.0.0.1:9/graphql");
    assert!(
        req.headers
            .contains(&("Authorization".into(), "Basic YXBpOms=".into()))
    );
    let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(body["operationName"], "Viewer");
    assert!(
        body.get("variables").is_none(),
        "typed operations without variables send none"
    );
}

#[test]
fn any_errors_entry_fails_the_call() {
    let c = client(Scripted::answering(
        200,
        r#"{"data":{"viewer":null},"errors":[{"message":"boom","extensions":{"code":"INTERNAL"}}]}"#,
    ));
    let err = block(c.call(Viewer)).unwrap_err();
    assert_eq!(err.code(), Some("INTERNAL"));
    assert_eq!(err.to_string(), "Viewer: boom");
}

#[test]
fn a_null_viewer_or_401_is_a_bad_key() {
    let c = client(Scripted::answering(200, r#"{"data":{"viewer":null}}"#));
    assert!(matches!(
        block(c.call(Viewer)),
        Err(Error::Unauthorized { .. })
    ));
    let c = client(Scripted::answering(401, "nope"));
    let err = block(c.call(Viewer)).unwrap_err();
    assert!(err.to_string().contains("refused the API key"), "{err}");
}

#[test]
fn dead_servers_and_non_graphql_answers_say_so() {
    let c = client(Scripted::default());
    let err = block(c.call(Viewer)).unwrap_err();
    assert!(err.is_transient());
    assert_eq!(
        err.to_string(),
        "cannot reach http://127.0.0.1:9/graphql: connection refused"
    );
    let c = client(Scripted::answering(200, "<html>hello</html>"));
    let err = block(c.call(Viewer)).unwrap_err();
    assert!(
        err.to_string()
            .contains("is http://127.0.0.1:9/graphql a W&B-compatible server?"),
        "{err}"
    );
    let c = client(Scripted::answering(502, "bad gateway"));
    let err = block(c.call(Viewer)).unwrap_err();
    assert!(err.is_transient());
    // A 4xx that is not GraphQL: the address is wrong, not the operation.
    let c = client(Scripted::answering(405, ""));
    let err = block(c.call(Viewer)).unwrap_err();
    assert!(!err.is_transient());
    assert_eq!(
        err.to_string(),
        "http://127.0.0.1:9/graphql answered HTTP 405, not GraphQL: is the server's address right? Give a W&B or Liftoff server's base URL with no path (such as http://localhost:8080 or https://api.wandb.ai)"
    );
    let c = client(Scripted::answering(404, "404 page not found\n"));
    let err = block(c.call(Viewer)).unwrap_err();
    assert!(
        err.to_string().starts_with(
            "http://127.0.0.1:9/graphql answered HTTP 404 (\"404 page not found\"), not GraphQL"
        ),
        "{err}"
    );
    // A GraphQL server's own 400 keeps its words.
    let c = client(Scripted::answering(
        400,
        r#"{"errors":[{"message":"Cannot query field \"nope\" on type \"Query\"."}]}"#,
    ));
    let err = block(c.call(Viewer)).unwrap_err();
    assert!(err.is_unknown_field(), "{err}");
}

#[test]
fn the_push_fallback_error_is_recognised() {
    let body = std::fs::read_to_string(
        crate::repo()
            .join("spec/fixtures/responses/pushToRunQueueByName.error-no-runSpec-field.json"),
    )
    .unwrap();
    let c = client(Scripted::answering(400, &body));
    let push = PushToRunQueueByName::new("alice", "q", LaunchSpec::default());
    let err = block(c.call(push)).unwrap_err();
    assert!(err.is_unknown_field(), "{err}");
}
