//! Running the git CLI for mirrors and worktrees: credentials only through the environment,
//! nothing inherited that could redirect or trace it, and every message scrubbed before it
//! reaches an error (git prints URLs, and with tracing on, headers, when something fails).

use std::path::Path;
use std::process::Stdio;
use std::sync::LazyLock;
use std::time::Duration;

use plinth_forge::GitAuth;
use regex::Regex;

/// Variables that would point git elsewhere than the directory given, or make it print
/// request headers.
const INHERITED_AWAY: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_CONFIG_PARAMETERS",
    "GIT_TRACE",
    "GIT_TRACE_CURL",
    "GIT_TRACE_CURL_NO_DATA",
    "GIT_TRACE_PACKET",
    "GIT_TRACE_SETUP",
    "GIT_TRACE_PERFORMANCE",
    "GIT_TRACE2",
    "GIT_TRACE2_EVENT",
    "GIT_TRACE2_PERF",
    "GIT_CURL_VERBOSE",
    "GIT_ASKPASS",
    "SSH_ASKPASS",
];

/// How a git command failed, already scrubbed.
#[derive(Debug)]
pub(crate) enum GitFailure {
    /// git could not be started.
    Spawn(String),
    /// It exited with `code` and printed `message` on stderr.
    Exit { code: Option<i32>, message: String },
    /// It ran longer than allowed and was killed.
    Timeout,
}

/// One git invocation's settings.
pub(crate) struct GitCommand<'a> {
    pub dir: &'a Path,
    pub auth: Option<&'a GitAuth>,
    pub timeout: Duration,
}

impl GitCommand<'_> {
    /// Runs `git -C dir ARGS` and returns its stdout.
    pub async fn run(&self, args: &[&str]) -> Result<String, GitFailure> {
        let mut cmd = tokio::process::Command::new("git");
        cmd.arg("-C")
            .arg(self.dir)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // A timed-out fetch must not keep running (and holding the mirror) unseen.
            .kill_on_drop(true);
        for name in INHERITED_AWAY {
            cmd.env_remove(name);
        }
        cmd.env("GIT_TERMINAL_PROMPT", "0");
        // What `GitAuth::git_env` sets (the header as `http.extraHeader` through
        // GIT_CONFIG_COUNT/KEY/VALUE, invisible in `ps`), plus settings that keep credentials
        // where they belong: no credential helper to read or store a password, no askpass
        // program, and maintenance inside the locked command rather than detached after it.
        let mut config: Vec<(&str, String)> = vec![
            ("credential.helper", String::new()),
            ("core.askPass", String::new()),
            ("gc.autoDetach", "false".into()),
            ("maintenance.autoDetach", "false".into()),
        ];
        if let Some(auth) = self.auth {
            config.push(("http.extraHeader", auth.header_line()));
        }
        cmd.env("GIT_CONFIG_COUNT", config.len().to_string());
        for (i, (key, value)) in config.iter().enumerate() {
            cmd.env(format!("GIT_CONFIG_KEY_{i}"), key);
            cmd.env(format!("GIT_CONFIG_VALUE_{i}"), value);
        }
        let output = match tokio::time::timeout(self.timeout, cmd.output()).await {
            Err(_) => return Err(GitFailure::Timeout),
            Ok(Err(e)) => return Err(GitFailure::Spawn(e.to_string())),
            Ok(Ok(output)) => output,
        };
        if !output.status.success() {
            let message = String::from_utf8_lossy(&output.stderr);
            return Err(GitFailure::Exit {
                code: output.status.code(),
                message: scrub(message.trim(), self.auth),
            });
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

/// `text` without the header value (nor its base64 credentials), userinfo in URLs, or any
/// `Authorization:` line.
pub(crate) fn scrub(text: &str, auth: Option<&GitAuth>) -> String {
    static USERINFO: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?i)([a-z][a-z0-9+.-]*://)[^/@\s]+@").expect("a regex"));
    static AUTH_LINE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?im)^(.*(?:authorization|private-token)\s*:\s*).*$").expect("a regex")
    });
    let mut out = text.to_string();
    if let Some(auth) = auth {
        let value = auth.value();
        let credentials = value.split_once(' ').map_or(value, |(_, c)| c);
        for secret in [value, credentials] {
            if secret.len() >= 4 {
                out = out.replace(secret, "[redacted]");
            }
        }
    }
    let out = USERINFO.replace_all(&out, "${1}[redacted]@");
    AUTH_LINE.replace_all(&out, "${1}[redacted]").into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_removes_userinfo_and_header_lines() {
        let text = "fatal: unable to access 'https://x-access-token:ghp_abc@github.com/a/b.git/'\n\
                    => Send header: Authorization: Basic eC1hY2Nlc3M=\nok";
        let out = scrub(text, None);
        assert!(!out.contains("ghp_abc"), "{out}");
        assert!(!out.contains("eC1hY2Nlc3M"), "{out}");
        assert!(
            out.contains("https://[redacted]@github.com/a/b.git/"),
            "{out}"
        );
        assert!(out.ends_with("\nok"), "{out}");
    }
}
