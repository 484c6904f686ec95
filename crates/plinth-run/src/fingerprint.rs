//! The hash of everything a plan consumed: if any part differs at apply time, the plan is
//! stale and apply refuses it.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use plinth_engine::{BackendSetup, StateSnapshot};

use crate::context::RunContext;

use crate::inputs::ResolvedInputs;

/// Everything a plan of one instance consumed.
struct Consumed<'a> {
    /// Digest of the stack's and its local modules' files.
    pub code_digest: &'a str,
    /// Resolved variables (environment vars, var files, inputs with upstream outputs).
    pub inputs: &'a ResolvedInputs,
    /// The instance's own state when planned.
    pub own_state: Option<&'a StateSnapshot>,
    /// Backend configuration.
    pub backend: &'a BackendSetup,
    /// Engine version.
    pub engine_version: String,
    /// Names of the secrets passed (values never enter the hash).
    pub secret_names: &'a [String],
}

impl Consumed<'_> {
    /// One hash per consumed part, so that a stale plan can say what changed.
    fn parts(&self) -> BTreeMap<String, String> {
        let hash = |value: &[u8]| hex::encode(Sha256::digest(value));
        let upstream: Vec<String> = self
            .inputs
            .consumed
            .iter()
            .map(|(output, value)| format!("{output}={value}"))
            .collect();
        let own = self
            .own_state
            .map(|s| format!("{}:{}", s.lineage, s.serial))
            .unwrap_or_default();
        BTreeMap::from([
            ("code".to_string(), self.code_digest.to_string()),
            (
                "inputs".to_string(),
                hash(&serde_json::to_vec(&self.inputs.vars).expect("JSON values serialise")),
            ),
            (
                "upstream outputs".to_string(),
                hash(upstream.join("\n").as_bytes()),
            ),
            ("own state".to_string(), hash(own.as_bytes())),
            (
                "backend".to_string(),
                hash(self.backend.init_args().join("\n").as_bytes()),
            ),
            ("engine".to_string(), hash(self.engine_version.as_bytes())),
            (
                "secrets".to_string(),
                hash(self.secret_names.join(",").as_bytes()),
            ),
        ])
    }
}

/// Per-item hashes behind two of the parts, so that a stale plan names what changed:
/// `inputs` by variable, `upstream outputs` by `stack.output`.
pub type Details = BTreeMap<String, BTreeMap<String, String>>;

/// The per-item hashes of `inputs`.
pub fn details(inputs: &ResolvedInputs) -> Details {
    let vars = inputs
        .vars
        .iter()
        .map(|(k, v)| (k.clone(), crate::inputs::value_hash(Some(v))))
        .collect();
    BTreeMap::from([
        ("inputs".to_string(), vars),
        ("upstream outputs".to_string(), inputs.consumed.clone()),
    ])
}

/// What changed between a plan's record and now, most telling first: `upstream output
/// net.vpc_id`, `input size`, `code`, … Items of a part that differ are named when the
/// plan recorded them.
pub fn describe_changes(
    old: &BTreeMap<String, String>,
    old_details: &Details,
    new: &BTreeMap<String, String>,
    new_details: &Details,
) -> Vec<String> {
    let mut out = Vec::new();
    for part in changed_parts(old, new) {
        let items = match (old_details.get(&part), new_details.get(&part)) {
            (Some(a), Some(b)) => changed_parts(a, b),
            _ => Vec::new(),
        };
        let singular = match part.as_str() {
            "inputs" => "input",
            "upstream outputs" => "upstream output",
            _ => "",
        };
        if items.is_empty() || singular.is_empty() {
            out.push(part);
        } else {
            out.extend(items.into_iter().map(|i| format!("{singular} {i}")));
        }
    }
    out.sort_by_key(|c| !c.starts_with("upstream output"));
    out
}

/// The fingerprint of all parts together.
pub fn combine(parts: &BTreeMap<String, String>) -> String {
    let mut h = Sha256::new();
    for (k, v) in parts {
        h.update(k.as_bytes());
        h.update([0]);
        h.update(v.as_bytes());
        h.update([0]);
    }
    hex::encode(h.finalize())
}

/// The names of the parts that differ between two plans' records.
pub fn changed_parts(
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) -> Vec<String> {
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| old.get(*k) != new.get(*k))
        .cloned()
        .collect()
}

impl RunContext {
    /// The hash of each part a plan of `stack` consumes, given its resolved inputs, its own
    /// state, its backend and the names of its secrets.
    pub fn consumed(
        &self,
        stack: &str,
        inputs: &ResolvedInputs,
        own_state: Option<&StateSnapshot>,
        backend: &BackendSetup,
        secret_names: &[String],
    ) -> BTreeMap<String, String> {
        let code = self.code_of(stack);
        Consumed {
            code_digest: &code.digest,
            inputs,
            own_state,
            backend,
            engine_version: self.engine.version.to_string(),
            secret_names,
        }
        .parts()
    }
}
