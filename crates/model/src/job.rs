//! Jobs: artifacts of type `job` whose `wandb-job.json` says how to run them
//! (spec §3.4), plus the artifact metadata that carries input schemas.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::schema::JsonSchema;

/// The file name of a job's definition inside the job artifact.
pub const JOB_FILE: &str = "wandb-job.json";
/// The pinned requirements inside a code or repo job artifact.
pub const REQUIREMENTS_FILE: &str = "requirements.frozen.txt";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceType {
    /// A git repository at a commit.
    Repo,
    /// A `code` artifact logged to W&B.
    Artifact,
    /// A container image.
    Image,
}

impl SourceType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Repo => "repo",
            Self::Artifact => "artifact",
            Self::Image => "image",
        }
    }

    /// What the UI and CLI call it (`wandb job create {git|code|image}`).
    pub fn label(self) -> &'static str {
        match self {
            Self::Repo => "git",
            Self::Artifact => "code",
            Self::Image => "image",
        }
    }
}

/// `wandb-job.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobSpec {
    #[serde(rename = "_version", default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub source_type: SourceType,
    pub source: JobSource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_types: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_types: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub services: Option<Map<String, Value>>,
    #[serde(rename = "_partial", default, skip_serializing_if = "Option::is_none")]
    pub partial: Option<bool>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct JobSource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git: Option<GitSource>,
    /// `wandb-artifact://_id/<code artifact id>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notebook: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_context: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dockerfile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_image: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitSource {
    pub remote: String,
    pub commit: String,
}

/// Prefix of a code artifact reference in `source.artifact`.
pub const ARTIFACT_ID_PREFIX: &str = "wandb-artifact://_id/";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    #[error("wandb-job.json is not valid: {0}")]
    Invalid(String),
    #[error("a {kind} job needs `source.{field}` in wandb-job.json")]
    MissingSource {
        kind: &'static str,
        field: &'static str,
    },
}

impl JobSpec {
    pub fn from_json(text: &str) -> Result<Self, JobError> {
        let spec: Self = crate::json::parse(text).map_err(|e| JobError::Invalid(e.to_string()))?;
        spec.check()?;
        Ok(spec)
    }

    /// The source fields each kind requires are present.
    pub fn check(&self) -> Result<(), JobError> {
        let missing = |field| JobError::MissingSource {
            kind: self.source_type.label(),
            field,
        };
        match self.source_type {
            SourceType::Repo if self.source.git.is_none() => Err(missing("git")),
            SourceType::Artifact if self.source.artifact.is_none() => Err(missing("artifact")),
            SourceType::Image if self.source.image.is_none() => Err(missing("image")),
            _ => Ok(()),
        }
    }

    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The code artifact id of an artifact job (`wandb-artifact://_id/<id>`).
    pub fn code_artifact_id(&self) -> Option<&str> {
        self.source
            .artifact
            .as_deref()
            .and_then(|a| a.strip_prefix(ARTIFACT_ID_PREFIX))
    }

    pub fn entrypoint(&self) -> &[String] {
        self.source.entrypoint.as_deref().unwrap_or(&[])
    }

    /// Names of the job's typed config inputs (`input_types` of the W&B type
    /// system, `typedDict` at the top), in declaration order.
    pub fn input_names(&self) -> Vec<String> {
        self.input_types
            .as_ref()
            .and_then(|t| t.pointer("/params/type_map"))
            .and_then(Value::as_object)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }
}

/// A job artifact's metadata (not a file): input schemas for the launch form.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct JobMetadata {
    #[serde(rename = "_partial", default, skip_serializing_if = "Option::is_none")]
    pub partial: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_types: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_types: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_schemas: Option<InputSchemas>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct InputSchemas {
    /// The schema of `run.config` (`overrides.run_config`).
    #[serde(
        rename = "@wandb.config",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub wandb_config: Option<JsonSchema>,
    /// Schemas of config files (`overrides.files`), by relative path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<indexmap_like::Ordered<JsonSchema>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl JobMetadata {
    /// The config schema for the launch form: the declared schema if any,
    /// else one derived from the W&B `input_types` (types only).
    pub fn config_schema(&self) -> Option<JsonSchema> {
        if let Some(s) = self
            .input_schemas
            .as_ref()
            .and_then(|s| s.wandb_config.clone())
        {
            return Some(s);
        }
        let types = self.input_types.as_ref()?;
        let typed = types.get("@wandb.config").unwrap_or(types);
        JsonSchema::from_wb_type(typed)
    }
}

/// A string-keyed map that keeps insertion order (serde_json's `Map` with
/// `preserve_order`), typed.
pub mod indexmap_like {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use serde_json::{Map, Value};

    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct Ordered<T>(pub Vec<(String, T)>);

    impl<T> Ordered<T> {
        pub fn get(&self, key: &str) -> Option<&T> {
            self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
        }
        pub fn iter(&self) -> impl Iterator<Item = (&String, &T)> {
            self.0.iter().map(|(k, v)| (k, v))
        }
        pub fn len(&self) -> usize {
            self.0.len()
        }
        pub fn is_empty(&self) -> bool {
            self.0.is_empty()
        }
    }

    impl<T: Serialize> Serialize for Ordered<T> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeMap;
            let mut map = s.serialize_map(Some(self.0.len()))?;
            for (k, v) in &self.0 {
                map.serialize_entry(k, v)?;
            }
            map.end()
        }
    }

    impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for Ordered<T> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let map = Map::<String, Value>::deserialize(d)?;
            map.into_iter()
                .map(|(k, v)| serde_json::from_value(v).map(|v| (k, v)))
                .collect::<Result<Vec<_>, _>>()
                .map(Ordered)
                .map_err(serde::de::Error::custom)
        }
    }
}

/// A character W&B allows in artifact and run names: `[A-Za-z0-9_.-]`.
pub fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_.-".contains(c)
}

/// 1 to 128 of [`is_name_char`] (run names, artifact names, aliases).
pub fn is_safe_name(name: &str) -> bool {
    (1..=128).contains(&name.len()) && name.chars().all(is_name_char)
}

/// What is wrong with a job's name given by hand (`--name`, `--job-name`):
/// W&B's artifact name characters (letters, digits, `_`, `.`, `-`), up to
/// 128, not starting with `.` (`..` cannot be a URL's path segment).
pub fn job_name_problem(name: &str) -> Option<String> {
    if name.is_empty() || name.len() > 128 {
        return Some("a job's name is 1 to 128 characters".into());
    }
    if let Some(c) = name.chars().find(|c| !is_name_char(*c)) {
        return Some(format!(
            "{c:?} cannot be in a job's name: use letters, digits, '_', '.' or '-'"
        ));
    }
    name.starts_with('.')
        .then(|| "a job's name cannot start with '.'".to_owned())
}

/// Make a string safe as an artifact name: W&B's `make_artifact_name_safe`
/// (characters outside `[A-Za-z0-9_.-]` become `_`; more than 128 characters
/// become `first63..last63`).
pub fn artifact_safe_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| if is_name_char(c) { c } else { '_' })
        .collect();
    if cleaned.len() > 128 {
        format!("{}..{}", &cleaned[..63], &cleaned[cleaned.len() - 63..])
    } else {
        cleaned
    }
}

/// The job name W&B gives an image job: `job-<image without tag>`, and the
/// tag as an extra alias when it is a well-formed one.
pub fn image_job_name(image: &str) -> (String, Option<String>) {
    let (repo, tag) = split_image_tag(image);
    (
        artifact_safe_name(&format!("job-{repo}")),
        tag.map(str::to_owned),
    )
}

/// Split `registry:5000/repo:tag` into (`registry:5000/repo`, `tag`).
pub fn split_image_tag(image: &str) -> (&str, Option<&str>) {
    let image = image.split('@').next().unwrap_or(image);
    match image.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') && !tag.is_empty() => (repo, Some(tag)),
        _ => (image, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the job_spec fuzz target: a number too big for an integer
    /// (a schema's enum) read back changed by one ULP after being written,
    /// as serde_json parses floats without `float_roundtrip`.
    #[test]
    fn a_job_with_huge_numbers_survives_a_round_trip() {
        let text = r#"{"_version": "v0", "source_type": "artifact",
            "source": {"artifact": "wandb-artifact://_id/QXJ0aWZhY3Q6NTAx", "entrypoint": ["python3", "train.py"]},
            "input_types": {"enum": [1, 100000000000000000000000000000000000000000000000000000000000, 0.1, 1.7976931348623157e308]}}"#;
        let job = JobSpec::from_json(text).unwrap();
        let again = JobSpec::from_json(&job.to_json_pretty()).unwrap();
        assert_eq!(again, job);
    }

    #[test]
    fn a_job_name_by_hand_is_an_artifact_name() {
        assert_eq!(job_name_problem("train-v2.1_x"), None);
        for bad in ["", "..", ".hidden", "my job", "a/b", "x:latest"] {
            assert!(job_name_problem(bad).is_some(), "{bad:?}");
        }
    }

    #[test]
    fn names() {
        assert_eq!(
            artifact_safe_name("job-https://github.com/a/b.git_train.py"),
            "job-https___github.com_a_b.git_train.py"
        );
        assert_eq!(
            image_job_name("ghcr.io/acme/train:1.2.0"),
            ("job-ghcr.io_acme_train".into(), Some("1.2.0".into()))
        );
        assert_eq!(
            split_image_tag("localhost:5000/x"),
            ("localhost:5000/x", None)
        );
        let long = "a".repeat(200);
        assert_eq!(artifact_safe_name(&long).len(), 128);
    }

    #[test]
    fn checks_the_source_of_each_kind() {
        let err = JobSpec::from_json(r#"{"source_type":"image","source":{}}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "a image job needs `source.image` in wandb-job.json"
        );
        let err = JobSpec::from_json(r#"{"source_type":"tarball","source":{}}"#).unwrap_err();
        assert!(err.to_string().contains("unknown variant"), "{err}");
    }
}
