use serde_json::json;

use liftoff_client::ops::web::JobVersion;
use liftoff_model::PrioritizationMode;
use liftoff_model::job::JobMetadata;
use liftoff_model::queue::template_variables_from_input;

use super::*;

fn schema() -> JsonSchema {
    serde_json::from_value(json!({"type": "object", "properties": {
        "lr": {"type": "number", "minimum": 0.0001, "maximum": 1, "default": 0.01},
        "epochs": {"type": "integer", "minimum": 1, "maximum": 100, "default": 3},
        "optimizer": {"type": "string", "enum": ["adam", "sgd"], "default": "adam"},
        "fail": {"type": "boolean"}
    }}))
    .unwrap()
}

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

fn queues() -> Vec<QueueChoice> {
    vec![
        QueueChoice {
            entity: "admin".into(),
            name: "q1".into(),
            prioritization: PrioritizationMode::Disabled,
            template_variables: vec![],
            resource: None,
        },
        QueueChoice {
            entity: "team".into(),
            name: "gpu".into(),
            prioritization: PrioritizationMode::V0,
            template_variables: template_variables_from_input(&json!({
                "gpus": {"schema": {"type": "integer", "minimum": 0, "maximum": 8, "default": 1}}
            }))
            .unwrap(),
            resource: None,
        },
    ]
}

fn input() -> FormInput {
    FormInput {
        job: "admin/proj/train".into(),
        version: "latest".into(),
        use_json: false,
        texts: vec![("lr".into(), "0.5".into())],
        queue: "admin/q1".into(),
        entity: "admin".into(),
        project: "proj".into(),
        ..FormInput::default()
    }
}

#[test]
fn fields_are_drawn_as_the_web_app_draws_them() {
    let i = inputs(Some(&schema()), None, &[]);
    assert!(!i.use_json);
    let lr = &i.fields[0];
    assert_eq!(
        (
            lr.control,
            lr.numeric,
            lr.hint.as_str(),
            lr.placeholder.as_str()
        ),
        (Control::Text, true, "number, 0.0001 to 1", "default: 0.01")
    );
    let optimizer = &i.fields[2];
    assert_eq!(optimizer.control, Control::Select);
    let labels: Vec<&str> = optimizer.choices.iter().map(|c| c.label.as_str()).collect();
    assert_eq!(labels, ["default (adam)", "adam", "sgd"]);
    let fail = &i.fields[3];
    let values: Vec<&str> = fail.choices.iter().map(|c| c.value.as_str()).collect();
    assert_eq!(values, ["", "true", "false"]);
    assert_eq!(
        i.texts,
        vec![
            ("lr".to_owned(), String::new()),
            ("epochs".to_owned(), String::new()),
            ("optimizer".to_owned(), String::new()),
            ("fail".to_owned(), String::new())
        ]
    );
    let none = inputs(None, None, &[]);
    assert!(none.use_json && none.fields.is_empty());
    assert_eq!(
        none.note,
        "This job declares no inputs: override its config as JSON."
    );
}

#[test]
fn a_relaunch_starts_from_the_run_config() {
    let run = obj(json!({"lr": 0.2, "epochs": 5}));
    let i = inputs(
        Some(&schema()),
        Some(&run),
        &[("epochs".into(), "7".into())],
    );
    assert!(!i.use_json);
    assert_eq!(i.texts[0], ("lr".to_owned(), "0.2".to_owned()));
    assert_eq!(
        i.texts[1],
        ("epochs".to_owned(), "7".to_owned()),
        "typed text is kept"
    );
    assert_eq!(i.json_text, "{\n  \"lr\": 0.2,\n  \"epochs\": 5\n}");
    // Keys the schema does not declare would be lost by the form: JSON it is.
    let run = obj(json!({"lr": 0.2, "data": {"path": "/x"}}));
    let i = inputs(Some(&schema()), Some(&run), &[]);
    assert!(i.use_json);
    assert!(i.note.contains("edit it as JSON"));
    // A value typed for an input this version lacks is said, not lost silently.
    let i = inputs(
        Some(&schema()),
        None,
        &[
            ("dropout".into(), "0.3".into()),
            ("lr".into(), "0.1".into()),
        ],
    );
    assert!(
        i.note
            .ends_with("Left out, as this version has no such input: dropout = 0.3."),
        "{}",
        i.note
    );
}

#[test]
fn a_valid_form_becomes_the_push() {
    let c = check(&input(), Some(&schema()), None, &queues(), "admin", None);
    assert_eq!(c.problems, vec![]);
    let r = c.request.unwrap();
    assert_eq!((r.queue_entity.as_str(), r.queue.as_str()), ("admin", "q1"));
    assert_eq!(
        r.spec.to_value(),
        json!({"job": "admin/proj/train:latest", "entity": "admin", "project": "proj",
               "author": "admin", "overrides": {"run_config": {"lr": 0.5}}})
    );
}

#[test]
fn invalid_input_names_its_field_and_sends_nothing() {
    let mut f = input();
    f.texts = vec![("lr".into(), "5".into()), ("epochs".into(), "two".into())];
    f.priority = "high".into();
    f.project = String::new();
    let c = check(&f, Some(&schema()), None, &queues(), "admin", None);
    assert!(c.request.is_none());
    let text: Vec<String> = c.problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        text,
        vec![
            "config.epochs: must be a whole number, got \"two\"",
            "config.lr: must be at most 1, got 5",
            "project: enter the project the run goes to",
            "priority: queue \"q1\" does not use priorities",
        ]
    );
    let mut f = input();
    f.queue = "team/gpu".into();
    f.priority = "urgent".into();
    f.template_values = vec![("gpus".into(), "9".into())];
    let c = check(&f, Some(&schema()), None, &queues(), "admin", None);
    let paths: Vec<&str> = c.problems.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(paths, ["template.gpus", "priority"]);
    let mut f = input();
    f.use_json = true;
    f.json_text = "{\"lr\": ".into();
    let c = check(&f, Some(&schema()), None, &queues(), "admin", None);
    assert_eq!(c.problems[0].path, "config");
    assert!(c.problems[0].message.starts_with("is not valid JSON"));
    let mut f = input();
    f.queue = "nobody/none".into();
    let c = check(&f, Some(&schema()), None, &queues(), "admin", None);
    assert_eq!(c.problems[0].to_string(), "queue: choose a queue");
}

#[test]
fn a_relaunch_diff_says_what_changed() {
    let run = obj(json!({"lr": 0.2, "epochs": 5, "optimizer": "adam", "_wandb": {"x": 1}}));
    let mut f = input();
    f.texts = vec![
        ("lr".into(), "0.2".into()),
        ("epochs".into(), "7".into()),
        ("optimizer".into(), "".into()),
        ("fail".into(), "true".into()),
    ];
    let c = check(&f, Some(&schema()), None, &queues(), "admin", Some(&run));
    let lines: Vec<String> = c
        .diff
        .iter()
        .map(|d| format!("{}: {:?} -> {:?}", d.path, d.before, d.after))
        .collect();
    assert_eq!(
        lines,
        vec![
            "epochs: Some(\"5\") -> Some(\"7\")",
            "optimizer: Some(\"adam\") -> None",
            "fail: None -> Some(\"true\")",
        ]
    );
    let unchanged = FormInput {
        texts: vec![
            ("lr".into(), "0.2".into()),
            ("epochs".into(), "5".into()),
            ("optimizer".into(), "adam".into()),
        ],
        ..input()
    };
    assert_eq!(
        check(
            &unchanged,
            Some(&schema()),
            None,
            &queues(),
            "admin",
            Some(&run)
        )
        .diff,
        vec![]
    );
}

#[test]
fn nested_configs_diff_by_leaf() {
    let before = obj(json!({"opt": {"name": "adam", "betas": [0.9, 0.99]}, "seed": 1}));
    let after = obj(json!({"opt": {"name": "sgd", "betas": [0.9, 0.99]}, "seed": 1, "tag": "x"}));
    let d = config_diff(&before, &after);
    assert_eq!(
        d,
        vec![
            Change {
                path: "opt.name".into(),
                before: Some("adam".into()),
                after: Some("sgd".into())
            },
            Change {
                path: "tag".into(),
                before: None,
                after: Some("x".into())
            },
        ]
    );
}

#[test]
fn versions_queues_and_priorities() {
    let version = |i: i64, aliases: &[&str]| JobVersion {
        id: format!("a{i}"),
        version_index: i,
        created_at: None,
        description: None,
        metadata: JobMetadata::default(),
        aliases: aliases.iter().map(|a| (*a).to_owned()).collect(),
        runs: vec![],
    };
    let job = Job {
        id: "c".into(),
        name: "train".into(),
        description: None,
        created_at: None,
        versions: vec![version(1, &["latest", "v1", "prod"]), version(0, &["v0"])],
    };
    let labels: Vec<String> = version_choices(&job).into_iter().map(|c| c.label).collect();
    // As the web app's drawer names them.
    assert_eq!(labels, ["latest (v1)", "v1 (prod)", "v0"]);

    let q = queues();
    let offered = Offered {
        queues: q.clone(),
        active: None,
    };
    assert_eq!(default_queue(&offered, None, None, None), "admin/q1");
    assert_eq!(
        default_queue(&offered, Some("team"), Some("gpu"), None),
        "team/gpu"
    );
    assert_eq!(default_queue(&offered, None, Some("gpu"), None), "team/gpu");
    assert_eq!(
        default_queue(&offered, Some("admin"), Some("gpu"), None),
        "admin/q1"
    );
    assert_eq!(default_queue(&Offered::default(), None, None, None), "");
    // Where the server says which queues an agent polls (Liftoff's), the
    // first choice is one that is, and each says so; the options' default
    // still wins.
    let polled = Offered {
        queues: q.clone(),
        active: Some(vec!["team/gpu".into()]),
    };
    assert_eq!(default_queue(&polled, None, None, None), "team/gpu");
    assert_eq!(default_queue(&polled, None, Some("q1"), None), "admin/q1");
    let labels: Vec<String> = q
        .iter()
        .map(|x| QueueView::of(x, None, polled.active(x)).label)
        .collect();
    assert_eq!(labels, ["admin/q1 (no agent)", "team/gpu (active)"]);
    let views: Vec<QueueView> = q.iter().map(|x| QueueView::of(x, None, None)).collect();
    assert!(
        views[0]
            .priority_note
            .as_deref()
            .is_some_and(|n| n.contains("q1 does not use priorities"))
    );
    assert_eq!(views[1].variables[0].placeholder, "default: 1");
    assert_eq!(priority_choices().len(), 4);
}

#[test]
fn an_image_job_is_steered_off_and_refused_by_a_local_process_queue() {
    let spec = liftoff_model::JobSpec::from_json(
        r#"{"source_type": "image", "source": {"image": "busybox:1.36"}, "input_types": {}, "output_types": {}}"#,
    )
    .unwrap();
    let mut q = queues();
    q[0].resource = Some(liftoff_model::queue::ResourceType::LocalProcess);
    q[1].resource = Some(liftoff_model::queue::ResourceType::Kubernetes);
    let job = Some(("admin/proj/train", &spec));
    // The options' default (q1) cannot run it: the first queue that can is chosen.
    let offered = Offered {
        queues: q.clone(),
        active: None,
    };
    assert_eq!(
        default_queue(&offered, Some("admin"), Some("q1"), job),
        "team/gpu"
    );
    assert_eq!(
        default_queue(&offered, Some("admin"), Some("q1"), None),
        "admin/q1"
    );
    let labels: Vec<String> = q
        .iter()
        .map(|x| QueueView::of(x, job, None).label)
        .collect();
    assert_eq!(labels, ["admin/q1 (cannot run this job)", "team/gpu"]);
    let c = check(&input(), Some(&schema()), Some(&spec), &q, "admin", None);
    assert!(c.request.is_none());
    assert_eq!(c.problems[0].path, "queue");
    assert!(
        c.problems[0]
            .message
            .contains("a local-process queue cannot run container image busybox:1.36"),
        "{}",
        c.problems[0].message
    );
}

#[test]
fn switching_to_json_and_back_carries_what_was_typed() {
    let mut f = input();
    f.texts = vec![("lr".into(), "0.3".into())];
    f.json_text = r#"{"note": "kept"}"#.into();
    let to_json = switch(Some(&schema()), &f, true);
    let text = to_json["json_text"].as_str().unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(text).unwrap(),
        json!({"note": "kept", "lr": 0.3})
    );
    // Back to the form: refused while a key has no field, then carried.
    f.json_text = text.to_owned();
    let refused = switch(Some(&schema()), &f, false);
    assert_eq!(refused["problems"][0]["path"], "config");
    assert!(
        refused["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("no field for note"),
        "{refused}"
    );
    f.json_text = r#"{"lr": 0.7}"#.into();
    let back = switch(Some(&schema()), &f, false);
    assert!(
        back["texts"]
            .as_array()
            .unwrap()
            .contains(&json!(["lr", "0.7"])),
        "{back}"
    );
}
