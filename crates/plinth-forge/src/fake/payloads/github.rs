//! GitHub's real payloads, from the npm package `@octokit/webhooks-examples` (installed by
//! `scripts/setup.sh`, found through `PLINTH_WEBHOOK_EXAMPLES`), re-pointed at a test's own
//! repository, numbers and commits.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::fake::webhooks::{Delivery, delivery};
use plinth_config::ForgeKind;

/// The variable naming the package's directory.
pub const EXAMPLES_ENV: &str = "PLINTH_WEBHOOK_EXAMPLES";

#[derive(Deserialize)]
struct Definition {
    name: String,
    examples: Vec<Value>,
}

/// The package's examples for api.github.com, by event.
pub struct OctokitExamples {
    definitions: Vec<Definition>,
}

impl OctokitExamples {
    /// The examples, loaded once per process. Panics with what to do when the package is
    /// missing: tests must not pass without GitHub's real payloads.
    pub fn get() -> &'static OctokitExamples {
        static EXAMPLES: OnceLock<OctokitExamples> = OnceLock::new();
        EXAMPLES.get_or_init(|| match Self::load() {
            Ok(examples) => examples,
            Err(e) => panic!("{e}"),
        })
    }

    /// Reads `$PLINTH_WEBHOOK_EXAMPLES/api.github.com/index.json`.
    pub fn load() -> Result<OctokitExamples, String> {
        let Some(dir) = std::env::var_os(EXAMPLES_ENV).filter(|v| !v.is_empty()) else {
            return Err(format!(
                "{EXAMPLES_ENV} is unset: GitHub's payloads come from the npm package \
                 @octokit/webhooks-examples. Run scripts/setup.sh, then test through \
                 scripts/test.sh, or export {EXAMPLES_ENV}=$PWD/.tools/npm/node_modules/@octokit/webhooks-examples"
            ));
        };
        let dir = resolve(Path::new(&dir));
        let index = dir.join("api.github.com").join("index.json");
        let text = std::fs::read_to_string(&index).map_err(|e| {
            format!(
                "{EXAMPLES_ENV}: cannot read {}: {e} (run scripts/setup.sh)",
                index.display()
            )
        })?;
        let definitions: Vec<Definition> = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not the octokit examples index: {e}", index.display()))?;
        Ok(OctokitExamples { definitions })
    }

    /// Every example of `event` (`pull_request`, `issue_comment`, `ping`, …).
    pub fn all(&self, event: &str) -> Vec<GitHubPayload> {
        self.definitions
            .iter()
            .filter(|d| d.name == event)
            .flat_map(|d| d.examples.iter())
            .map(|json| GitHubPayload {
                event: event.to_string(),
                json: json.clone(),
            })
            .collect()
    }

    /// The first example of `event` with `action` (`None` for events without one, like
    /// `ping` and `push`). Panics when the package has none.
    pub fn example(&self, event: &str, action: Option<&str>) -> GitHubPayload {
        self.all(event)
            .into_iter()
            .find(|p| p.json.get("action").and_then(Value::as_str) == action)
            .unwrap_or_else(|| panic!("@octokit/webhooks-examples has no {event} {action:?}"))
    }
}

/// A relative directory is taken from the working directory, else from the workspace root
/// (cargo runs tests in the crate's directory).
fn resolve(dir: &Path) -> PathBuf {
    if dir.is_absolute() || dir.exists() {
        return dir.to_path_buf();
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(dir)
}

/// One GitHub payload and its event name, to re-point and send.
#[derive(Debug, Clone)]
pub struct GitHubPayload {
    /// `X-GitHub-Event`.
    pub event: String,
    /// The payload.
    pub json: Value,
}

fn set(json: &mut Value, pointer: &str, value: Value) {
    if let Some(slot) = json.pointer_mut(pointer) {
        *slot = value;
    }
}

/// Replaces `from` with `to` in every string of `json`.
fn replace_strings(json: &mut Value, from: &str, to: &str) {
    match json {
        Value::String(s) if s.contains(from) => *s = s.replace(from, to),
        Value::Array(items) => items.iter_mut().for_each(|v| replace_strings(v, from, to)),
        Value::Object(map) => map.values_mut().for_each(|v| replace_strings(v, from, to)),
        _ => {}
    }
}

impl GitHubPayload {
    /// Points every mention of the example's repository at `full_name` (`owner/name`).
    pub fn repo(mut self, full_name: &str) -> Self {
        let old = self
            .json
            .pointer("/repository/full_name")
            .and_then(Value::as_str)
            .map(str::to_string);
        if let Some(old) = old {
            replace_strings(&mut self.json, &format!("{old}."), &format!("{full_name}."));
            replace_strings(&mut self.json, &format!("{old}/"), &format!("{full_name}/"));
            replace_strings(&mut self.json, &format!("/{old}"), &format!("/{full_name}"));
            replace_strings(&mut self.json, &format!(":{old}"), &format!(":{full_name}"));
        }
        let (owner, name) = full_name.split_once('/').unwrap_or(("owner", full_name));
        for base in [
            "/repository",
            "/pull_request/base/repo",
            "/pull_request/head/repo",
        ] {
            set(
                &mut self.json,
                &format!("{base}/full_name"),
                json!(full_name),
            );
            set(&mut self.json, &format!("{base}/name"), json!(name));
            set(&mut self.json, &format!("{base}/owner/login"), json!(owner));
        }
        self
    }

    /// Sets the repository's clone URL (a test's own git repository).
    pub fn clone_url(mut self, url: &str) -> Self {
        for base in [
            "/repository",
            "/pull_request/base/repo",
            "/pull_request/head/repo",
        ] {
            set(&mut self.json, &format!("{base}/clone_url"), json!(url));
        }
        self
    }

    /// Sets the pull request's (or commented issue's) number.
    pub fn number(mut self, number: u64) -> Self {
        set(&mut self.json, "/number", json!(number));
        set(&mut self.json, "/pull_request/number", json!(number));
        set(&mut self.json, "/issue/number", json!(number));
        self
    }

    /// Sets the head commit (and `after` on `synchronize`).
    pub fn head(mut self, sha: &str) -> Self {
        set(&mut self.json, "/pull_request/head/sha", json!(sha));
        set(&mut self.json, "/after", json!(sha));
        self
    }

    /// Sets the head branch.
    pub fn head_ref(mut self, name: &str) -> Self {
        set(&mut self.json, "/pull_request/head/ref", json!(name));
        self
    }

    /// Sets the base branch and its commit.
    pub fn base(mut self, sha: &str, name: &str) -> Self {
        set(&mut self.json, "/pull_request/base/sha", json!(sha));
        set(&mut self.json, "/pull_request/base/ref", json!(name));
        self
    }

    /// Makes the (closed) pull request merged as `merge_commit_sha`.
    pub fn merged(mut self, merge_commit_sha: &str) -> Self {
        set(&mut self.json, "/pull_request/merged", json!(true));
        set(&mut self.json, "/pull_request/state", json!("closed"));
        set(
            &mut self.json,
            "/pull_request/merged_at",
            json!("2026-01-01T00:00:00Z"),
        );
        set(
            &mut self.json,
            "/pull_request/merge_commit_sha",
            json!(merge_commit_sha),
        );
        self
    }

    /// Sets the draft flag.
    pub fn draft(mut self, draft: bool) -> Self {
        set(&mut self.json, "/pull_request/draft", json!(draft));
        self
    }

    /// Sets who sent the event.
    pub fn sender(mut self, login: &str, id: u64) -> Self {
        set(&mut self.json, "/sender/login", json!(login));
        set(&mut self.json, "/sender/id", json!(id));
        self
    }

    /// Makes the commented issue a pull request (GitHub adds `issue.pull_request`).
    pub fn on_pull_request(mut self) -> Self {
        let number = self
            .json
            .pointer("/issue/number")
            .cloned()
            .unwrap_or(json!(1));
        let repo = self
            .json
            .pointer("/repository/full_name")
            .and_then(Value::as_str)
            .unwrap_or("owner/name")
            .to_string();
        if let Some(issue) = self.json.get_mut("issue").and_then(Value::as_object_mut) {
            issue.insert(
                "pull_request".into(),
                json!({
                    "url": format!("https://api.github.com/repos/{repo}/pulls/{number}"),
                    "html_url": format!("https://github.com/{repo}/pull/{number}"),
                    "diff_url": format!("https://github.com/{repo}/pull/{number}.diff"),
                    "patch_url": format!("https://github.com/{repo}/pull/{number}.patch"),
                    "merged_at": null
                }),
            );
        }
        self
    }

    /// Sets the comment's id and text.
    pub fn comment(mut self, id: u64, body: &str) -> Self {
        set(&mut self.json, "/comment/id", json!(id));
        set(&mut self.json, "/comment/body", json!(body));
        self
    }

    /// Sets the commenter (who is also the sender).
    pub fn commenter(mut self, login: &str, id: u64) -> Self {
        set(&mut self.json, "/comment/user/login", json!(login));
        set(&mut self.json, "/comment/user/id", json!(id));
        self.sender(login, id)
    }

    /// Makes the commenter a GitHub App's bot (`login[bot]`, `type: Bot`).
    pub fn bot_commenter(mut self, app_slug: &str) -> Self {
        let login = format!("{app_slug}[bot]");
        for base in ["/comment/user", "/sender"] {
            set(&mut self.json, &format!("{base}/login"), json!(login));
            set(&mut self.json, &format!("{base}/type"), json!("Bot"));
        }
        self
    }

    /// The body as sent.
    pub fn body(&self) -> Vec<u8> {
        serde_json::to_vec(&self.json).expect("JSON serializes")
    }

    /// A signed delivery of this payload.
    pub fn delivery(&self, secret: &str) -> Delivery {
        delivery(ForgeKind::GitHub, &self.event, self.body(), secret)
    }
}
