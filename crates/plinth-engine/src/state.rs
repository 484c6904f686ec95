//! Reading an instance's state: outputs, serial and lineage, straight from the state file.

use std::path::Path;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::EngineError;

/// One output of a state.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct OutputValue {
    /// The value.
    pub value: Value,
    /// Whether Terraform marked it sensitive.
    #[serde(default)]
    pub sensitive: bool,
}

/// What plinth needs of a state: identity and outputs.
#[derive(Debug, Clone, Deserialize)]
pub struct StateSnapshot {
    /// Increases with every write.
    pub serial: u64,
    /// Identity of the state's history.
    pub lineage: String,
    /// Root module outputs.
    #[serde(default)]
    pub outputs: std::collections::BTreeMap<String, OutputValue>,
    /// Managed resources (only counted).
    #[serde(default)]
    resources: Vec<Value>,
}

impl StateSnapshot {
    /// Parses state JSON (format version 4).
    pub fn parse(bytes: &[u8], origin: &str) -> Result<StateSnapshot, EngineError> {
        serde_json::from_slice(bytes)
            .map_err(|e| EngineError::State(origin.to_string(), e.to_string()))
    }

    /// Reads a local state file; `Ok(None)` when the instance has no state yet.
    pub fn read_file(path: &Path) -> Result<Option<StateSnapshot>, EngineError> {
        match std::fs::read(path) {
            Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => Ok(None),
            Ok(bytes) => Self::parse(&bytes, &path.display().to_string()).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(EngineError::Io(path.display().to_string(), e)),
        }
    }

    /// Output values as a JSON object (for `dependency.X.outputs`).
    pub fn output_values(&self) -> Map<String, Value> {
        self.outputs
            .iter()
            .map(|(k, v)| (k.clone(), v.value.clone()))
            .collect()
    }

    /// Whether the state holds no resources (never applied, or destroyed).
    pub fn is_empty(&self) -> bool {
        self.resources.is_empty() && self.outputs.is_empty()
    }
}
