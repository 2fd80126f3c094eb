//! Inputs generated from a JSON schema (config overrides, template
//! variables): the right control per type, the schema's bounds, and the
//! schema's own message next to a value it refuses.

use leptos::prelude::*;
use liftoff_model::form::{Field, FieldKind, text_of};
use liftoff_model::launch::problem_at;
use liftoff_model::schema::Problem;

fn text_in(texts: &[(String, String)], path: &str) -> String {
    texts
        .iter()
        .find(|(p, _)| p == path)
        .map(|(_, t)| t.clone())
        .unwrap_or_default()
}

fn set_text(texts: RwSignal<Vec<(String, String)>>, path: &str, value: String) {
    texts.update(|all| match all.iter_mut().find(|(p, _)| p == path) {
        Some(slot) => slot.1 = value,
        None => all.push((path.to_owned(), value)),
    });
}

/// `<option>`s whose selection follows `value` (`(value, label)` pairs).
pub fn options_view(
    options: Vec<(String, String)>,
    value: impl Fn() -> String + Clone + Send + Sync + 'static,
) -> impl IntoView {
    options
        .into_iter()
        .map(|(v, label)| {
            let value = value.clone();
            let this = v.clone();
            view! { <option value=v selected=move || value() == this>{label}</option> }
        })
        .collect_view()
}

/// One input per field. `prefix` namespaces ids and problem paths
/// (`config` -> `config.lr`); `problems` are those of the last attempt
/// (editing a field drops its own).
#[component]
pub fn FieldInputs(
    fields: Vec<Field>,
    texts: RwSignal<Vec<(String, String)>>,
    #[prop(into)] prefix: String,
    problems: RwSignal<Vec<Problem>>,
) -> impl IntoView {
    fields
        .into_iter()
        .map(|field| {
            let id = format!("{prefix}-{}", field.path.replace('.', "-"));
            let path = field.path.clone();
            let problem_path = format!("{prefix}.{}", field.path);
            let value = {
                let path = path.clone();
                move || texts.with(|t| text_in(t, &path))
            };
            let on_input = {
                let path = path.clone();
                let problem_path = problem_path.clone();
                move |ev: leptos::ev::Event| {
                    set_text(texts, &path, event_target_value(&ev));
                    // The last attempt's problem was about the old value.
                    problems.update(|p| p.retain(|x| x.path != problem_path));
                }
            };
            let message = {
                let field = field.clone();
                let value = value.clone();
                move || {
                    field
                        .check(&value())
                        .or_else(|| problems.with(|p| problem_at(p, &problem_path).map(str::to_owned)))
                }
            };
            let placeholder = match field.default_text() {
                d if d.is_empty() => field.hint(),
                d => format!("default: {d}"),
            };
            let err_id = format!("{id}-error");
            let invalid = {
                let message = message.clone();
                move || message().is_some().then_some("true")
            };
            let control = match &field.kind {
                FieldKind::Choice(values) => {
                    let mut options = vec![(String::new(), match field.default_text() {
                        d if d.is_empty() => "—".to_owned(),
                        d => format!("default ({d})"),
                    })];
                    options.extend(values.iter().map(|v| (text_of(v), text_of(v))));
                    view! {
                        <select id=id.clone() on:change=on_input
                            aria-invalid=invalid aria-describedby=err_id.clone()>
                            {options_view(options, value)}
                        </select>
                    }.into_any()
                }
                FieldKind::Boolean => view! {
                    <select id=id.clone() on:change=on_input
                        aria-invalid=invalid aria-describedby=err_id.clone()>
                        {options_view(
                            vec![("".into(), "default".into()), ("true".into(), "true".into()), ("false".into(), "false".into())],
                            value,
                        )}
                    </select>
                }.into_any(),
                FieldKind::Json => view! {
                    <textarea id=id.clone() rows="2" class="mono" placeholder=placeholder
                        prop:value=value on:input=on_input
                        aria-invalid=invalid aria-describedby=err_id.clone()></textarea>
                }.into_any(),
                kind => {
                    let numeric = matches!(kind, FieldKind::Integer | FieldKind::Number);
                    view! {
                        <input id=id.clone() type="text" placeholder=placeholder
                            inputmode=numeric.then_some("decimal")
                            prop:value=value on:input=on_input
                            aria-invalid=invalid aria-describedby=err_id.clone()/>
                    }.into_any()
                }
            };
            view! {
                <div class="field">
                    <label for=id>
                        {field.label.clone()}
                        {field.required.then_some(view! { <span class="req" title="required">"*"</span> })}
                        <span class="hint">{field.hint()}</span>
                    </label>
                    {control}
                    {field.description.clone().map(|d| view! { <p class="help">{d}</p> })}
                    <p class="field-error" id=err_id>{message}</p>
                </div>
            }
        })
        .collect_view()
}
