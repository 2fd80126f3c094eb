//! What a page is, from its URL alone: a project's Jobs tab, a job, a run,
//! a sweep, the Launch page. wandb.ai and Liftoff's web app lay their URLs
//! out differently ([`Site`]); both are recognised here so the content
//! script only asks "what is this page?" and "which of these links are
//! jobs?". Pure: no DOM, no network.

pub use liftoff_client::url::{Url, origin_of, parse_url};
use liftoff_model::route::percent_decode;
use serde::{Deserialize, Serialize};

/// Whose pages these are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Site {
    /// wandb.ai (or a page that stands in for it in tests).
    Wandb,
    /// A Liftoff server's own web app.
    Liftoff,
}

/// A page the extension adds something to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Page {
    /// A project's Jobs tab: a Launch button next to each job.
    Jobs {
        entity: String,
        project: String,
    },
    /// One job (W&B: its artifact page); `version` when the URL names one.
    Job {
        entity: String,
        project: String,
        job: String,
        version: Option<String>,
    },
    /// A run: Relaunch with edits.
    Run {
        entity: String,
        project: String,
        run: String,
    },
    Sweep {
        entity: String,
        project: String,
        sweep: String,
    },
    /// The Launch page (queues), optionally one queue.
    Launch {
        entity: Option<String>,
        queue: Option<String>,
    },
    Other,
}

/// A job a link points to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobTarget {
    pub entity: String,
    pub project: String,
    pub job: String,
    pub version: Option<String>,
}

impl JobTarget {
    /// `entity/project/name`, the job as a launch spec names it (no alias).
    pub fn path(&self) -> String {
        format!("{}/{}/{}", self.entity, self.project, self.job)
    }
}

fn segments(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect()
}

/// First path segments of wandb.ai that are not entities.
const WANDB_RESERVED: &[&str] = &[
    "authorize",
    "fully-connected",
    "home",
    "launch",
    "login",
    "org",
    "registry",
    "settings",
    "signup",
    "site",
    "subscriptions",
    "support",
];

/// First path segments of Liftoff's web app that are not entities.
const LIFTOFF_RESERVED: &[&str] = &["connect", "launch", "graphql", "files", "artifacts"];

/// W&B writes `name:alias` in some artifact links.
fn split_alias(name: &str) -> (String, Option<String>) {
    match name.rsplit_once(':') {
        Some((n, a)) if !n.is_empty() && !a.is_empty() => (n.to_owned(), Some(a.to_owned())),
        _ => (name.to_owned(), None),
    }
}

/// What the page at `url` is, on `site`.
pub fn recognise(site: Site, url: &str) -> Page {
    let Some(u) = parse_url(url) else {
        return Page::Other;
    };
    let s = segments(u.path);
    let s: Vec<&str> = s.iter().map(String::as_str).collect();
    let reserved = match site {
        Site::Wandb => WANDB_RESERVED,
        Site::Liftoff => LIFTOFF_RESERVED,
    };
    if s.first() == Some(&"launch") {
        return match (site, &s[1..]) {
            (Site::Liftoff, [entity, queue, ..]) => Page::Launch {
                entity: Some((*entity).to_owned()),
                queue: Some((*queue).to_owned()),
            },
            _ => Page::Launch {
                entity: None,
                queue: None,
            },
        };
    }
    let [entity, project, rest @ ..] = s.as_slice() else {
        return Page::Other;
    };
    if reserved.contains(entity) {
        return Page::Other;
    }
    let (entity, project) = ((*entity).to_owned(), (*project).to_owned());
    match (site, rest) {
        (_, ["jobs"]) => Page::Jobs { entity, project },
        (Site::Liftoff, ["jobs", job, ..]) => Page::Job {
            entity,
            project,
            job: (*job).to_owned(),
            version: None,
        },
        (Site::Wandb, ["artifacts", "job", name, more @ ..]) => {
            let (job, alias) = split_alias(name);
            Page::Job {
                entity,
                project,
                job,
                version: alias.or_else(|| more.first().map(|v| (*v).to_owned())),
            }
        }
        (_, ["runs", run, ..]) => Page::Run {
            entity,
            project,
            run: (*run).to_owned(),
        },
        (Site::Wandb, ["sweeps", sweep, ..]) => Page::Sweep {
            entity,
            project,
            sweep: (*sweep).to_owned(),
        },
        // W&B's queue pages live under an entity: `/<entity>/launch/<queue>`.
        (Site::Wandb, _) if project == "launch" && !rest.is_empty() => Page::Launch {
            entity: Some(entity),
            queue: rest.first().map(|q| (*q).to_owned()),
        },
        _ => Page::Other,
    }
}

/// The job a link on `page_url` points to, if it is one on the same site.
pub fn job_link(site: Site, page_url: &str, href: &str) -> Option<JobTarget> {
    if origin_of(page_url)? != origin_of(href)? {
        return None;
    }
    match recognise(site, href) {
        Page::Job {
            entity,
            project,
            job,
            version,
        } => Some(JobTarget {
            entity,
            project,
            job,
            version,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
