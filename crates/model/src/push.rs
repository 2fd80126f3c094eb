//! What a server does to a spec when it is pushed (spec §2.3, §7.1): set the
//! queue's resource, lay the queue's default resource config under the
//! spec's `resource_args`, and render `{{var}}` placeholders with validated
//! template values.

use serde_json::{Map, Value};

use crate::job::{JobSpec, SourceType};
use crate::json::deep_merge;
use crate::queue::{DefaultResourceConfig, ResourceType};
use crate::schema::Problem;
use crate::spec::LaunchSpec;
use crate::template;

/// A job a queue's runner cannot run, known only once the job is read (the
/// spec names it, `job_spec` is its `wandb-job.json`): an image job on a
/// local-process queue. A spec that names its own image was already
/// checked by [`merge_for_push`]; this is for the image a job brings.
pub fn check_job(resource: ResourceType, job: &str, job_spec: &JobSpec) -> Result<(), Problem> {
    match (job_spec.source_type, job_spec.source.image.as_deref()) {
        (SourceType::Image, Some(image)) if !resource.runs_images() => Err(Problem {
            path: "job".into(),
            message: format!(
                "a {resource} queue cannot run container image {image} (job {job} is an image job); push it to a local-container or kubernetes queue"
            ),
        }),
        _ => Ok(()),
    }
}

/// Merge a pushed spec with its queue's config. Returns every problem.
///
/// Precedence: the queue's config is the base and the spec's
/// `resource_args[<resource>]` is deep-merged over it; when the queue
/// defines template variables the admin's rendered config wins instead
/// (template variables are how an admin limits what users may set).
pub fn merge_for_push(
    spec: &mut LaunchSpec,
    queue_name: &str,
    queue_config: Option<&DefaultResourceConfig>,
    values: &Map<String, Value>,
) -> Result<(), Vec<Problem>> {
    let Some(cfg) = queue_config else {
        if !values.is_empty() {
            return Err(vec![Problem {
                path: "templateVariableValues".into(),
                message: format!("queue {queue_name:?} has no template variables"),
            }]);
        }
        return Ok(());
    };
    let resource = cfg.resource.as_str();
    if let Some(asked) = spec
        .resource()
        .filter(|r| r.parse().ok() != Some(cfg.resource))
    {
        return Err(vec![Problem {
            path: "resource".into(),
            message: format!(
                "queue {queue_name:?} runs {resource} jobs, but the spec asks for {asked}; push to a {asked} queue or drop `resource`"
            ),
        }]);
    }
    // The agent would fail it at once ("a local-process queue cannot run an
    // image job"); say so now, while the user is still at the push.
    if let Some((field, image)) = spec.image_field().filter(|_| !cfg.resource.runs_images()) {
        return Err(vec![Problem {
            path: field.into(),
            message: format!(
                "a {resource} queue cannot run container image {image}; push it to a local-container or kubernetes queue, or launch code or an --entry-point command instead"
            ),
        }]);
    }
    let resolved = template::resolve_values(&cfg.template_variables, values)?;
    let rendered = cfg.resource_args().map(|c| template::render(c, &resolved));
    spec.resource = Some(Some(resource.to_owned()));
    let args = spec.resource_args.get_or_insert_with(Map::new);
    let from_spec = args.remove(resource);
    let merged = match (rendered, from_spec) {
        (Some(mut base), Some(over)) if cfg.template_variables.is_empty() => {
            deep_merge(&mut base, &over);
            base
        }
        (Some(queue), Some(mut user)) => {
            deep_merge(&mut user, &queue);
            user
        }
        (Some(c), None) | (None, Some(c)) => c,
        (None, None) => Value::Object(Map::new()),
    };
    args.insert(resource.to_owned(), merged);
    Ok(())
}
