//! Agent-side checks of `resource_args` before an item is acknowledged
//! (spec §4.10), with W&B's own messages (plus the option meant, for a typo),
//! also run where a config is given (queue create, `launch --resource-args`,
//! the Create queue form).

use serde_json::Value;

use crate::queue::ResourceType;

/// `docker run` options a local-container queue may set.
pub const LOCAL_CONTAINER_OPTIONS: &[&str] = &[
    "command",
    "cpu",
    "cpu-period",
    "cpu-quota",
    "cpu-shares",
    "cpus",
    "cpuset-cpus",
    "cpuset-mems",
    "e",
    "env",
    "gpus",
    "m",
    "memory",
    "memory-reservation",
    "memory-swap",
    "name",
    "pids-limit",
    "platform",
    "shm-size",
    "ulimit",
    "w",
    "workdir",
];
const LIST_OPTIONS: &[&str] = &["e", "env", "ulimit"];

/// `--Foo_Bar` -> `foo-bar`.
pub fn normalize_option(key: &str) -> String {
    key.trim_start_matches(['-', '_'])
        .replace('_', "-")
        .to_ascii_lowercase()
}

/// The options of `resource`'s args that its runner would refuse (a
/// local-container or kubernetes config; others are not checked).
pub fn check_resource_args(resource: ResourceType, args: &Value) -> Result<(), String> {
    match resource {
        ResourceType::LocalContainer => check_local_container(args),
        ResourceType::Kubernetes => check_kubernetes(args),
        _ => Ok(()),
    }
}

/// What to tell whoever gives settings to a resource whose runner reads
/// none (local-process: the job is a process on the agent's machine), so
/// they are not kept in the belief that they work. Not refused: W&B takes
/// them too.
pub fn ignored_note(resource: ResourceType, args: &Value) -> Option<String> {
    if resource != ResourceType::LocalProcess {
        return None;
    }
    let keys: Vec<&str> = args.as_object()?.keys().map(String::as_str).collect();
    let (last, rest) = keys.split_last()?;
    let list = if rest.is_empty() {
        format!("'{last}'")
    } else {
        format!("'{}' and '{last}'", rest.join("', '"))
    };
    Some(format!(
        "local-process jobs take no settings: {list} will be ignored (a local-container or kubernetes queue reads them)"
    ))
}

/// Check `resource_args["local-container"]` against the allow-list.
pub fn check_local_container(args: &Value) -> Result<(), String> {
    let Some(map) = args.as_object() else {
        return Err("resource_args.local-container must be a mapping of docker run options".into());
    };
    for (key, value) in map {
        let k = normalize_option(key);
        if !LOCAL_CONTAINER_OPTIONS.contains(&k.as_str()) {
            // (Short names are flags of their own: `v` is not a typo of `e`.)
            let near = crate::config::closest(&k, LOCAL_CONTAINER_OPTIONS)
                .filter(|_| k.len() > 3)
                .map(|n| format!(" (did you mean '{n}'?)"))
                .unwrap_or_default();
            return Err(format!(
                "Unsupported resource_args.local-container option '{key}'{near}. Supported options are: {}",
                LOCAL_CONTAINER_OPTIONS.join(", ")
            ));
        }
        let ok = match value {
            Value::String(_) | Value::Number(_) | Value::Bool(_) => true,
            Value::Array(items) => {
                LIST_OPTIONS.contains(&k.as_str())
                    && items.iter().all(|i| i.is_string() || i.is_number())
            }
            _ => false,
        };
        if !ok {
            return Err(format!(
                "resource_args.local-container option '{key}' must be a single string or number{}",
                if LIST_OPTIONS.contains(&k.as_str()) {
                    " or a list of them"
                } else {
                    ""
                }
            ));
        }
    }
    Ok(())
}

/// The `docker run` flags for local-container args: one-letter keys become
/// `-k value`, others `--key value`; list values repeat the flag.
pub fn docker_flags(args: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(map) = args.as_object() {
        for (key, value) in map {
            let k = normalize_option(key);
            let flag = if k.len() == 1 {
                format!("-{k}")
            } else {
                format!("--{k}")
            };
            let values: Vec<String> = match value {
                Value::Array(items) => items.iter().map(text).collect(),
                Value::Bool(true) => vec![],
                other => vec![text(other)],
            };
            if values.is_empty() {
                out.push(flag.clone());
            }
            for v in values {
                out.push(flag.clone());
                out.push(v);
            }
        }
    }
    out
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Refuse Kubernetes manifests that would escape the agent's sandbox.
pub fn check_kubernetes(args: &Value) -> Result<(), String> {
    fn walk(v: &Value, path: &str, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                for (k, val) in map {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    let truthy = match val {
                        Value::Bool(b) => *b,
                        Value::Null => false,
                        Value::Number(n) => n.as_f64() != Some(0.0),
                        Value::String(s) => !s.is_empty(),
                        _ => true,
                    };
                    match k.as_str() {
                        "securityContext" | "hostPath" | "serviceAccountToken" => {
                            out.push(format!("{p} is not allowed"))
                        }
                        "hostPID"
                        | "hostIPC"
                        | "hostNetwork"
                        | "shareProcessNamespace"
                        | "hostUsers"
                        | "automountServiceAccountToken"
                        | "hostPort"
                            if truthy =>
                        {
                            out.push(format!("{p} is not allowed"))
                        }
                        "serviceAccountName" | "serviceAccount" if truthy => {
                            out.push(format!("{p} is not allowed"))
                        }
                        "mountPropagation" if val.as_str() == Some("Bidirectional") => {
                            out.push(format!("{p}: Bidirectional is not allowed"))
                        }
                        _ => {}
                    }
                    if k == "annotations"
                        && let Some(a) = val.as_object()
                    {
                        for (ak, av) in a {
                            let low = format!("{ak}={}", text(av)).to_ascii_lowercase();
                            if (low.contains("apparmor") || low.contains("seccomp"))
                                && low.contains("unconfined")
                            {
                                out.push(format!("{p}.{ak}: unconfined profiles are not allowed"));
                            }
                        }
                    }
                    walk(val, &p, out);
                }
            }
            Value::Array(items) => items
                .iter()
                .enumerate()
                .for_each(|(i, x)| walk(x, &format!("{path}[{i}]"), out)),
            _ => {}
        }
    }
    let mut problems = Vec::new();
    walk(args, "resource_args.kubernetes", &mut problems);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "refused Kubernetes config: {}",
            problems.join("; ")
        ))
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn settings_a_local_process_queue_would_ignore_are_named() {
        use serde_json::json;
        let note = |v: Value| ignored_note(ResourceType::LocalProcess, &v);
        assert_eq!(note(json!({})), None);
        assert_eq!(
            note(json!({"foo": 1, "env": "x"})).as_deref(),
            Some(
                "local-process jobs take no settings: 'foo' and 'env' will be ignored (a local-container or kubernetes queue reads them)"
            )
        );
        assert!(
            note(json!({"a": 1, "b": 2, "c": 3}))
                .unwrap()
                .contains("'a', 'b' and 'c'")
        );
        assert_eq!(
            ignored_note(ResourceType::LocalContainer, &json!({"cpus": 1})),
            None
        );
    }

    use super::*;
    use serde_json::json;

    #[test]
    fn wandb_allow_list_and_message() {
        let err = check_local_container(&json!({"privileged": true})).unwrap_err();
        assert_eq!(
            err,
            "Unsupported resource_args.local-container option 'privileged'. Supported options are: command, cpu, cpu-period, cpu-quota, cpu-shares, cpus, cpuset-cpus, cpuset-mems, e, env, gpus, m, memory, memory-reservation, memory-swap, name, pids-limit, platform, shm-size, ulimit, w, workdir"
        );
        assert!(check_local_container(&json!({"builder": {"accelerator": {}}})).is_err());
        assert!(check_local_container(&json!({"memory": ["1g"]})).is_err());
        assert!(
            check_local_container(
                &json!({"--Shm_Size": "1g", "env": ["A=1", "B=2"], "gpus": "all"})
            )
            .is_ok()
        );
        assert_eq!(
            docker_flags(&json!({"env": ["A=1", "B=2"], "m": "1g", "shm-size": "2g"})),
            [
                "--env",
                "A=1",
                "--env",
                "B=2",
                "-m",
                "1g",
                "--shm-size",
                "2g"
            ]
        );
        // A typo of an option is said with the option meant.
        assert!(
            check_local_container(&serde_json::json!({"memroy": "2g"}))
                .unwrap_err()
                .starts_with("Unsupported resource_args.local-container option 'memroy' (did you mean 'memory'?). Supported")
        );
    }

    #[test]
    fn kubernetes_escapes_are_refused() {
        assert!(
            check_kubernetes(
                &json!({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}})
            )
            .is_ok()
        );
        let err = check_kubernetes(&json!({"spec": {"template": {"spec": {"hostNetwork": true, "containers": [{"securityContext": {}}]}}}})).unwrap_err();
        assert!(
            err.contains("hostNetwork is not allowed")
                && err.contains("securityContext is not allowed"),
            "{err}"
        );
        assert!(
            check_kubernetes(
                &json!({"spec": {"hostNetwork": false, "automountServiceAccountToken": false}})
            )
            .is_ok()
        );
    }
}
