//! The queue editor (Create queue drawer, a queue's Config tab): entity,
//! name, resource, prioritization, a configuration validated as you type
//! (JSON or YAML), and a tile per `{{var}}` template variable.

use leptos::prelude::*;
use liftoff_model::queue::{PrioritizationMode, ResourceType};
use liftoff_model::queue_draft::{
    ConfigFormat, QueueDraft, QueueSettings, VariableKind, VariableTile, parse_config, paths,
    print_config, problems_under, tiles_for,
};
use liftoff_model::schema::Problem;
use liftoff_model::template::not_placeholders_note;

use crate::components::fields::options_view;

fn example(resource: Option<ResourceType>) -> &'static str {
    match resource {
        Some(ResourceType::LocalContainer) => {
            "{\n  \"env\": [\"DATA_DIR=/data\"],\n  \"gpus\": \"{{gpus}}\"\n}"
        }
        Some(ResourceType::Kubernetes) => {
            "{\n  \"namespace\": \"launch\",\n  \"spec\": {\"template\": {\"spec\": {\"containers\": [{\"resources\": {\"limits\": {\"cpu\": \"{{cpu}}\"}}}]}}}\n}"
        }
        Some(ResourceType::LocalProcess) => "{}  (local-process jobs take no settings)",
        _ => "{}",
    }
}

fn messages(problems: &[Problem], path: &str) -> Option<String> {
    let found = problems_under(problems, path);
    (!found.is_empty()).then(|| {
        found
            .iter()
            .map(|p| p.message.clone())
            .collect::<Vec<_>>()
            .join("; ")
    })
}

/// JSON or YAML: two buttons, the current one pressed.
#[component]
pub fn FormatSwitch(
    #[prop(into)] current: Signal<ConfigFormat>,
    on_pick: Callback<ConfigFormat>,
) -> impl IntoView {
    view! {
        <div class="segmented" role="group" aria-label="Configuration language">
            {[ConfigFormat::Json, ConfigFormat::Yaml].into_iter().map(|f| view! {
                <button type="button" class:selected=move || current.get() == f
                    aria-pressed=move || (current.get() == f).to_string()
                    on:click=move |_| on_pick.run(f)>{f.label()}</button>
            }).collect_view()}
        </div>
    }
}

#[component]
pub fn QueueForm(
    /// The entities a new queue may go to; one fixed entity when editing.
    entities: Vec<String>,
    initial: QueueDraft,
    /// Editing an existing queue: entity and name are fixed.
    editing: bool,
    /// Names already used in each entity, as `(entity, name)`.
    #[prop(into)]
    taken: Signal<Vec<(String, String)>>,
    on_save: Callback<QueueSettings>,
    #[prop(into)] busy: Signal<bool>,
    #[prop(into)] submit_label: String,
    /// A Cancel button next to the submit one (the Config tab's edit).
    #[prop(optional)]
    on_cancel: Option<Callback<()>>,
    /// Told every change, so that a closed drawer can keep what was typed.
    #[prop(optional)]
    on_change: Option<Callback<QueueDraft>>,
) -> impl IntoView {
    let entity = RwSignal::new(initial.entity.clone());
    let name = RwSignal::new(initial.name.clone());
    let resource = RwSignal::new(initial.resource);
    let prioritized = RwSignal::new(initial.prioritization.enabled());
    let text = RwSignal::new(initial.config_text.clone());
    let format = RwSignal::new(initial.format);
    let tiles = RwSignal::new(initial.tiles.clone());
    let attempted = RwSignal::new(false);

    // Tiles follow the placeholders of the config as it is typed.
    Effect::new(move |_| {
        if let Ok(c) = parse_config(&text.get(), format.get()) {
            let next = tiles.with_untracked(|t| tiles_for(&c, t));
            if tiles.with_untracked(|t| *t != next) {
                tiles.set(next);
            }
        }
    });

    let draft = move || QueueDraft {
        entity: entity.get(),
        name: name.get(),
        resource: resource.get(),
        prioritization: if prioritized.get() {
            PrioritizationMode::V0
        } else {
            PrioritizationMode::Disabled
        },
        config_text: text.get(),
        format: format.get(),
        tiles: tiles.get(),
    };
    // Told only once the user has typed or picked something: what the
    // form settles to by itself (variables put in the config's order) is
    // no change of theirs.
    let touched = RwSignal::new(false);
    if let Some(told) = on_change {
        Effect::new(move |_| {
            let now = draft();
            if touched.get() {
                told.run(now);
            }
        });
    }
    let checked = Memo::new(move |_| {
        let d = draft();
        let used: Vec<String> = if editing {
            vec![]
        } else {
            taken.with(|t| {
                t.iter()
                    .filter(|(e, _)| *e == d.entity)
                    .map(|(_, n)| n.clone())
                    .collect()
            })
        };
        d.check(&used)
    });
    let problems =
        Memo::new(move |_| checked.with(|c| c.as_ref().err().cloned().unwrap_or_default()));
    // The config is checked as you type; the rest once "Create" was pressed.
    let shown = move |path: &'static str| {
        move || {
            if path != paths::CONFIG && !attempted.get() {
                return None;
            }
            problems.with(|p| messages(p, path))
        }
    };
    // Marked for the eye and for `focus_first_invalid` (the first field
    // to fix gets the focus on a refused submit).
    let invalid = move |path: &'static str| move || shown(path)().is_some().then_some("true");

    // Braces that look meant as a variable but are not one: said, not refused.
    let note = move || {
        let config = parse_config(&text.get(), format.get()).ok()?;
        not_placeholders_note(&config).or_else(|| {
            resource
                .get()
                .and_then(|r| liftoff_model::resource_args::ignored_note(r, &config))
        })
    };

    let switch_format = move |to: ConfigFormat| {
        if let Ok(c) = parse_config(&text.get_untracked(), format.get_untracked()) {
            text.set(print_config(&c, to));
        }
        format.set(to);
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        attempted.set(true);
        match checked.get_untracked() {
            Ok(settings) => on_save.run(settings),
            Err(_) => crate::components::focus_first_invalid(".queue-form"),
        }
    };

    let tile_names = move || tiles.with(|t| t.iter().map(|x| x.name.clone()).collect::<Vec<_>>());
    let entity_options: Vec<(String, String)> =
        entities.iter().map(|e| (e.clone(), e.clone())).collect();
    let mut resource_options = vec![(String::new(), "Choose…".to_owned())];
    resource_options.extend(ResourceType::ALL.iter().map(|r| {
        (
            r.as_str().to_owned(),
            format!("{} ({})", r.label(), r.as_str()),
        )
    }));

    view! {
        <form class="form queue-form" on:submit=submit novalidate
            on:input=move |_| touched.set(true) on:change=move |_| touched.set(true)>
            <div class="field">
                <label for="queue-entity">"Entity"</label>
                <select id="queue-entity" disabled=editing aria-invalid=invalid(paths::ENTITY)
                    on:change=move |ev| entity.set(event_target_value(&ev))>
                    {options_view(entity_options, move || entity.get())}
                </select>
                <p class="field-error">{shown(paths::ENTITY)}</p>
            </div>
            <div class="field">
                <label for="queue-name">"Queue name"</label>
                <input id="queue-name" type="text" autocomplete="off" placeholder="e.g. gpu-a100"
                    disabled=editing aria-invalid=invalid(paths::NAME) bind:value=name/>
                <p class="field-error">{shown(paths::NAME)}</p>
            </div>
            <div class="field">
                <label for="queue-resource">"Resource"</label>
                <select id="queue-resource" aria-invalid=invalid(paths::RESOURCE)
                    on:change=move |ev| resource.set(event_target_value(&ev).parse().ok())>
                    {options_view(resource_options, move || resource.get().map(|r| r.as_str().to_owned()).unwrap_or_default())}
                </select>
                <p class="field-error">{shown(paths::RESOURCE)}</p>
                {move || resource.get().and_then(ResourceType::agent_note).map(|n| view! { <p class="help" data-testid="resource-note">{n}</p> })}
            </div>
            <div class="field check">
                <input id="queue-prioritized" type="checkbox" bind:checked=prioritized/>
                <label for="queue-prioritized">"Prioritization"
                    <span class="help">" — serve items by priority (critical, high, medium, low), then first in, first out"</span>
                </label>
            </div>
            <div class="field">
                <div class="label-row">
                    <label for="queue-config">"Configuration"</label>
                    <FormatSwitch current=format on_pick=Callback::new(switch_format)/>
                </div>
                <textarea id="queue-config" class="mono" rows="8" spellcheck="false"
                    placeholder=move || example(resource.get())
                    aria-invalid=move || problems.with(|p| messages(p, paths::CONFIG).is_some()).then_some("true")
                    aria-describedby="queue-config-error"
                    bind:value=text></textarea>
                <p class="help">"Resource arguments for this queue's jobs. Write "<code>"\"{{name}}\""</code>" (in quotes) where a value is chosen at launch: each becomes a template variable below."</p>
                <p class="field-error" id="queue-config-error" data-testid="config-error">{shown(paths::CONFIG)}</p>
                <p class="field-note" data-testid="config-note">{note}</p>
            </div>
            <Show when=move || tiles.with(|t| !t.is_empty())>
                <fieldset class="tiles">
                    <legend>"Template variables"</legend>
                    <For each=tile_names key=|n| n.clone() let:var>
                        <VariableTileEditor name=var tiles=tiles problems=problems attempted=attempted/>
                    </For>
                </fieldset>
            </Show>
            <div class="actions">
                <button class="btn primary" type="submit" disabled=move || busy.get()>
                    {move || if busy.get() { "Saving…".to_owned() } else { submit_label.clone() }}
                </button>
                {on_cancel.map(|c| view! {
                    <button class="btn" type="button" on:click=move |_| c.run(())>"Cancel"</button>
                })}
            </div>
        </form>
    }
}

#[component]
fn VariableTileEditor(
    name: String,
    tiles: RwSignal<Vec<VariableTile>>,
    problems: Memo<Vec<Problem>>,
    attempted: RwSignal<bool>,
) -> impl IntoView {
    let key = StoredValue::new(name.clone());
    let get = move |f: fn(&VariableTile) -> String| {
        move || {
            tiles.with(|t| {
                key.with_value(|k| t.iter().find(|x| &x.name == k).map(f).unwrap_or_default())
            })
        }
    };
    let set = move |f: fn(&mut VariableTile, String)| {
        move |ev: leptos::ev::Event| {
            let v = event_target_value(&ev);
            tiles.update(|t| {
                key.with_value(|k| {
                    if let Some(x) = t.iter_mut().find(|x| &x.name == k) {
                        f(x, v);
                    }
                })
            });
        }
    };
    let id = move |what: &str| key.with_value(|k| format!("var-{k}-{what}"));
    let path = format!("variables.{name}");
    // An input whose own value is refused is marked so (the message is
    // the tile's, which every input names as its description).
    let base = StoredValue::new(path.clone());
    let invalid = move |what: &'static str| {
        move || {
            let mine = |x: &Problem| base.with_value(|b| x.path == format!("{b}.{what}"));
            (attempted.get() && problems.with(|p| p.iter().any(mine))).then_some("true")
        }
    };
    let message = move || {
        if !attempted.get() {
            return None;
        }
        problems.with(|p| messages(p, &path))
    };
    let kind = get(|t| t.kind.as_str().to_owned());
    let numeric = move || kind() != "string";
    let kind_options: Vec<(String, String)> = VariableKind::ALL
        .iter()
        .map(|k| (k.as_str().to_owned(), k.as_str().to_owned()))
        .collect();
    view! {
        <div class="tile">
            <h4><code>{format!("{{{{{name}}}}}")}</code></h4>
            // Under the name, not under the last field: it is about the
            // variable (a default out of its range names the default).
            <p class="field-error" role="alert" id=id("error")>{message}</p>
            <div class="tile-grid">
                <div class="field">
                    <label for=id("type")>"Type"</label>
                    <select id=id("type") on:change=set(|t, v| t.kind = VariableKind::parse(&v).unwrap_or_default())>
                        {options_view(kind_options, kind)}
                    </select>
                </div>
                <div class="field">
                    <label for=id("allowed")>"Allowed values"</label>
                    <input id=id("allowed") type="text" aria-invalid=invalid("allowed") aria-describedby=id("error") placeholder="any (or: a, b, c)"
                        prop:value=get(|t| t.allowed.clone()) on:input=set(|t, v| t.allowed = v)/>
                </div>
                <Show when=numeric>
                    <div class="field">
                        <label for=id("min")>"Minimum"</label>
                        <input id=id("min") type="text" aria-invalid=invalid("minimum") aria-describedby=id("error") inputmode="decimal"
                            prop:value=get(|t| t.minimum.clone()) on:input=set(|t, v| t.minimum = v)/>
                    </div>
                    <div class="field">
                        <label for=id("max")>"Maximum"</label>
                        <input id=id("max") type="text" aria-invalid=invalid("maximum") aria-describedby=id("error") inputmode="decimal"
                            prop:value=get(|t| t.maximum.clone()) on:input=set(|t, v| t.maximum = v)/>
                    </div>
                </Show>
                <div class="field">
                    <label for=id("default")>"Default"</label>
                    <input id=id("default") type="text" aria-invalid=invalid("default") aria-describedby=id("error")
                        prop:value=get(|t| t.default.clone()) on:input=set(|t, v| t.default = v)/>
                </div>
                <div class="field wide">
                    <label for=id("description")>"Description"</label>
                    <input id=id("description") type="text"
                        prop:value=get(|t| t.description.clone()) on:input=set(|t, v| t.description = v)/>
                </div>
            </div>
        </div>
    }
}
