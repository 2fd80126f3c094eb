use liftoff_model::Priority;
use liftoff_model::spec::LaunchSpec;
use liftoff_model::template::{placeholders, render, value_text};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "[a-z{}$ ]{0,12}".prop_map(Value::from),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z_]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn any_object_round_trips_as_a_spec(extra in prop::collection::btree_map("[a-z_]{1,8}", json_value(), 0..5),
                                        job in proptest::option::of("[a-z]{1,5}/[a-z]{1,5}/[a-z]{1,5}:v[0-9]"),
                                        args in proptest::option::of(prop::collection::vec("[ -~]{0,8}", 0..3))) {
        let mut obj: Map<String, Value> = extra.into_iter().collect();
        // keys the model types must hold in their own shape
        for k in ["overrides", "docker", "git", "resource_args", "template_variables", "_resume_count",
                  "additional_services", "resource", "uri", "job", "entity", "project", "name", "run_id",
                  "author", "image_uri", "sweep_id", "queue_entity", "python_version", "_wandb_api_key"] {
            obj.remove(k);
        }
        if let Some(job) = job { obj.insert("job".into(), json!(job)); }
        if let Some(args) = args { obj.insert("overrides".into(), json!({"args": args})); }
        let raw = Value::Object(obj);
        let spec = LaunchSpec::from_value(raw.clone()).unwrap();
        prop_assert_eq!(spec.to_value(), raw.clone());
        let text = serde_json::to_string(&spec).unwrap();
        prop_assert_eq!(LaunchSpec::from_json(&text).unwrap(), spec);
    }

    #[test]
    fn priority_levels_round_trip(level in 0i64..4) {
        let p = Priority::from_level(level).unwrap();
        prop_assert_eq!(p.as_str().parse::<Priority>().unwrap(), p);
        prop_assert_eq!(serde_json::from_value::<Priority>(json!(level)).unwrap(), p);
    }

    #[test]
    fn rendering_replaces_every_placeholder_with_a_value(
        config in json_value(),
        names in prop::collection::vec("[a-z]{1,4}", 1..4),
        vals in prop::collection::vec(prop_oneof![any::<i32>().prop_map(Value::from), "[a-zA-Z0-9]{0,6}".prop_map(Value::from)], 4),
    ) {
        // Put the placeholders into the config, then render.
        let template = names.iter().map(|n| format!("<{{{{{n}}}}}>")).collect::<String>();
        let config = json!({"t": template, "rest": config});
        let values: Map<String, Value> = names.iter().cloned().zip(vals.iter().cloned()).collect();
        let out = render(&config, &values);
        prop_assert!(placeholders(&out).iter().all(|p| !values.contains_key(p)));
        let expected: String = names.iter().map(|n| format!("<{}>", value_text(&values[n]))).collect();
        prop_assert_eq!(out["t"].as_str().unwrap(), expected);
        // Rendering with no values changes nothing.
        prop_assert_eq!(render(&config, &Map::new()), config);
    }
}
