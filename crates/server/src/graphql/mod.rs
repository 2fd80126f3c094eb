//! The GraphQL API: W&B's schema (the parts Launch and run tracking use)
//! plus Liftoff's extensions, and the W&B envelope's quirks.

pub mod artifacts;
pub mod identity;
pub mod launch;
pub mod paging;
pub mod runs;
pub mod scalars;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use async_graphql::{EmptySubscription, MergedObject, Schema};
use serde_json::{Value, json};

use crate::access::Caller;
use crate::state::AppState;

#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    identity::IdentityQuery,
    launch::LaunchQuery,
    artifacts::ArtifactQuery,
);

#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    identity::IdentityMutation,
    launch::LaunchMutation,
    runs::RunMutation,
    artifacts::ArtifactMutation,
);

pub type LiftoffSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// The deepest W&B document nests 10 levels; leave room, refuse abuse.
pub const MAX_DEPTH: usize = 20;
pub const MAX_COMPLEXITY: usize = 5_000;

pub fn schema(state: Arc<AppState>) -> LiftoffSchema {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        EmptySubscription,
    )
    .data(state)
    .limit_depth(MAX_DEPTH)
    .limit_complexity(MAX_COMPLEXITY)
    .limit_recursive_depth(64)
    .limit_directives(32)
    .finish()
}

/// The schema in SDL (committed as `schema.graphql`, checked by a test).
pub fn sdl() -> String {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        EmptySubscription,
    )
    .finish()
    .sdl()
}

/// A request body that is not a GraphQL request: what to tell the client.
pub fn bad_request(message: &str) -> Value {
    json!({"errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]})
}

/// Execute one request body with the W&B envelope rules:
/// `operationName: ""` means none, undeclared variables are ignored, and
/// errors are answered in the `errors` array (HTTP 200) with a stable code.
pub async fn execute(schema: &LiftoffSchema, caller: Caller, body: &[u8]) -> Result<Value, Value> {
    let envelope: Value = serde_json::from_slice(body)
        .map_err(|e| bad_request(&format!("the request body is not valid JSON: {e}")))?;
    let Some(query) = envelope.get("query").and_then(Value::as_str) else {
        return Err(bad_request(
            "the request body needs a \"query\" string: {\"query\": \"...\", \"variables\": {...}}",
        ));
    };
    let operation_name = envelope
        .get("operationName")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty());
    let variables = match envelope.get("variables") {
        None | Some(Value::Null) => Value::Object(Default::default()),
        Some(v @ Value::Object(_)) => v.clone(),
        Some(_) => return Err(bad_request("\"variables\" must be a JSON object")),
    };
    let mut variables = async_graphql::Variables::from_json(variables);
    let doc = parsed(query);
    if let Some(doc) = &doc {
        fill_defaults(doc, operation_name, &mut variables);
    }
    let mut request = async_graphql::Request::new(query)
        .variables(variables)
        .data(caller);
    if let Some(doc) = doc {
        request.set_parsed_query(doc);
    }
    if let Some(name) = operation_name {
        request = request.operation_name(name);
    }
    let response = schema.execute(request).await;
    let mut out = serde_json::to_value(&response).unwrap_or_else(|_| json!({"data": null}));
    if let Some(errors) = out.get_mut("errors").and_then(Value::as_array_mut) {
        let name = operation_name
            .map(str::to_owned)
            .unwrap_or_else(|| document_name(query));
        for e in errors.iter_mut() {
            rewrite(e, &name, query);
        }
    }
    Ok(out)
}

/// Clients send the same few documents over and over (an agent polls with
/// one); parse each once. Documents that do not parse are not cached (the
/// executor reports their syntax errors).
fn parsed(query: &str) -> Option<async_graphql::parser::types::ExecutableDocument> {
    type Doc = async_graphql::parser::types::ExecutableDocument;
    const MAX: usize = 512;
    static CACHE: OnceLock<Mutex<HashMap<String, Doc>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    if let Some(doc) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(query) {
        return Some(doc.clone());
    }
    if query.len() > 64 << 10 {
        return None;
    }
    let doc = async_graphql::parser::parse_query(query).ok()?;
    let mut map = cache.lock().unwrap_or_else(|p| p.into_inner());
    if map.len() >= MAX {
        map.clear();
    }
    map.insert(query.to_owned(), doc.clone());
    Some(doc)
}

/// Give the variables a request leaves out the defaults its operation
/// declares. async-graphql decides `@include(if: $v)` and `@skip` from the
/// variables sent only (async-graphql PR #1827), so the SDK's artifact
/// documents, with `$includeAliases: Boolean = true`, would lose `aliases`.
fn fill_defaults(
    doc: &async_graphql::parser::types::ExecutableDocument,
    operation_name: Option<&str>,
    variables: &mut async_graphql::Variables,
) {
    use async_graphql::parser::types::DocumentOperations;
    let operation = match (&doc.operations, operation_name) {
        (DocumentOperations::Single(op), _) => Some(op),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next(),
        (DocumentOperations::Multiple(_), None) => None,
    };
    for def in operation.map_or(&[][..], |op| &op.node.variable_definitions) {
        if let Some(default) = &def.node.default_value {
            variables
                .entry(def.node.name.node.clone())
                .or_insert_with(|| default.node.clone());
        }
    }
}

/// Whether `query` declares the variable `$name` (`$name: Type`).
fn declares(query: &str, name: &str) -> bool {
    let mark = format!("${name}");
    query.match_indices(&mark).any(|(at, _)| {
        let rest = &query[at + mark.len()..];
        rest.trim_start().starts_with(':')
            && !rest.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// graphql-js wording for unknown fields (the SDK matches on it), and a
/// `code` on every error.
fn rewrite(error: &mut Value, operation: &str, query: &str) {
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let (message, code) = if let Some(rest) = message.strip_prefix("Unknown field ") {
        tracing::warn!(operation, document = %truncate(query, 2000), "a client sent an operation this server does not implement: {message}");
        (
            format!("Cannot query field {rest}"),
            "GRAPHQL_VALIDATION_FAILED",
        )
    } else if message.contains("recursion limit") && message.contains("JSON") {
        // A JSONString argument (a run spec, a config) nested past
        // serde_json's 128 levels: the query itself is fine.
        (
            format!(
                "a JSON value in the request is nested too deep (at most 127 levels of objects and arrays): {message}"
            ),
            "BAD_USER_INPUT",
        )
    } else if let Some(name) = message
        .strip_prefix("Variable ")
        .and_then(|m| m.strip_suffix(" is not defined."))
        .filter(|name| declares(query, name))
    {
        // Declared by the operation, missing from `variables`.
        (
            format!(
                "variable ${name} was not sent: the operation declares it, so give it a value in `variables`"
            ),
            "BAD_USER_INPUT",
        )
    } else if message.contains("recursion limit")
        || message.contains("nested too deep")
        || message.contains("too complex")
    {
        (
            format!(
                "the query is nested too deep or is too complex (at most {MAX_DEPTH} levels and complexity {MAX_COMPLEXITY}); ask for fewer nested fields"
            ),
            "QUERY_TOO_COMPLEX",
        )
    } else if message.starts_with("Unknown operation")
        || message.starts_with("Unknown argument")
        || message.contains("is not defined by type")
    {
        tracing::warn!(operation, document = %truncate(query, 2000), "unsupported operation: {message}");
        (message, "GRAPHQL_VALIDATION_FAILED")
    } else if error.get("locations").is_some()
        && error.pointer("/extensions/code").is_none()
        && error.get("path").is_none()
    {
        (message, "GRAPHQL_VALIDATION_FAILED")
    } else {
        (message, "")
    };
    error["message"] = Value::String(message);
    if !code.is_empty() {
        let ext = error
            .as_object_mut()
            .map(|o| o.entry("extensions").or_insert_with(|| json!({})));
        if let Some(Value::Object(ext)) = ext {
            ext.entry("code")
                .or_insert_with(|| Value::String(code.into()));
            ext.insert("operation".into(), Value::String(operation.into()));
        }
    }
}

fn truncate(s: &str, n: usize) -> &str {
    let mut end = s.len().min(n);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The name of the first operation in a document (for logs).
fn document_name(query: &str) -> String {
    for keyword in ["query", "mutation", "subscription"] {
        if let Some(i) = query.find(keyword) {
            let rest = query[i + keyword.len()..].trim_start();
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                return name;
            }
        }
    }
    "(anonymous)".into()
}
