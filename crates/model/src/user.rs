//! Who is calling: the `viewer`.

use serde::{Deserialize, Serialize};

/// The caller's identity (`viewer { id entity username email flags teams }`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Viewer {
    pub id: String,
    /// The default entity.
    pub entity: String,
    pub username: String,
    #[serde(default)]
    pub email: Option<String>,
    /// Team entity names.
    #[serde(default)]
    pub teams: Vec<String>,
    #[serde(default)]
    pub admin: bool,
}

impl Viewer {
    /// The user's own entity followed by their teams.
    pub fn entities(&self) -> Vec<String> {
        let mut all = vec![self.entity.clone()];
        all.extend(self.teams.iter().filter(|t| **t != self.entity).cloned());
        all
    }
}
