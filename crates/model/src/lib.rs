//! `liftoff-model`: the W&B Launch domain, exactly as it travels on the wire.
//!
//! Every type here serialises to the field names and enum strings that W&B's
//! GraphQL API and SDK use (see `spec/wandb-launch-protocol.md`). The crate
//! does no IO and never reads a clock: functions that depend on time take
//! `now` as a parameter. It builds for `wasm32-unknown-unknown` and native.

pub mod agent;
pub mod artifact;
pub mod config;
pub mod form;
pub mod image;
pub mod job;
pub mod json;
pub mod launch;
pub mod macros;
pub mod priority;
pub mod push;
pub mod queue;
pub mod queue_draft;
pub mod resource_args;
pub mod route;
pub mod run;
pub mod schema;
pub mod sort;
pub mod spec;
pub mod status;
pub mod template;
pub mod timefmt;
pub mod user;
pub mod yaml;

pub use agent::{Agent, AgentStatus};
pub use artifact::{ArtifactManifest, ManifestEntry};
pub use config::{AgentConfig, ConfigError};
pub use job::{JobMetadata, JobSource, JobSpec, SourceType};
pub use priority::Priority;
pub use queue::{
    DefaultResourceConfig, ExternalLink, PrioritizationMode, Queue, QueueAccess, ResourceType,
    TemplateVariable,
};
pub use run::{Run, RunState};
pub use spec::{LaunchSpec, Overrides};
pub use status::{DisplayStatus, ItemError, ItemState, ItemWarning, QueueItem};
pub use user::Viewer;

/// The project that holds an entity's queues and agents, always.
pub const LAUNCH_PROJECT: &str = "model-registry";
