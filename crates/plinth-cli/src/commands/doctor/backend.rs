//! The state backend: for `backend = "plinth"`, the server answers `/v1/whoami` for
//! PLINTH_TOKEN with a scope that can write state; local state needs a writable directory.

use plinth_config::Backend;
use reqwest::StatusCode;

use super::{Doctor, Finding};

/// Reaches the backend the project's state block names.
pub(super) fn check(d: &Doctor) -> Vec<Finding> {
    let what = "state backend";
    let (Some(root), Some(config)) = (&d.root, &d.config) else {
        return vec![Finding::skipped(what, "no readable plinth.hcl")];
    };
    let state = &config.state;
    vec![match state.backend {
        Backend::Local => {
            let dir = plinth_engine::Layout::new(root).base().join("state");
            match std::fs::create_dir_all(&dir) {
                Ok(()) => Finding::ok(what, "local: state files under .plinth/state/"),
                Err(e) => Finding::fail(
                    what,
                    format!("local: cannot create .plinth/state: {e}"),
                    "make .plinth/ writable",
                ),
            }
        }
        Backend::Plinth => {
            let url = state
                .url
                .as_ref()
                .and_then(|u| u.value.as_literal())
                .and_then(|v| v.as_str().map(str::to_string));
            match url {
                Some(url) => plinth_server(d, what, url.trim_end_matches('/')),
                None => Finding::fail(
                    what,
                    "plinth: `url` is not a literal",
                    "write the server's URL in the state block",
                ),
            }
        }
        other => Finding::skipped(
            what,
            format!(
                "{}: reached by the engine with the environment's credentials; not checked here",
                other.name()
            ),
        ),
    }]
}

fn plinth_server(d: &Doctor, what: &str, url: &str) -> Finding {
    let Some(token) = std::env::var("PLINTH_TOKEN").ok().filter(|t| !t.is_empty()) else {
        return Finding::fail(
            what,
            format!("plinth server {url}: PLINTH_TOKEN is not set"),
            "export PLINTH_TOKEN (an admin creates one with `plinth token create NAME --scope write`)",
        );
    };
    let client = match d.http() {
        Ok(c) => c,
        Err(e) => return Finding::fail(what, e, "check PLINTH_CA_FILE"),
    };
    let endpoint = format!("{url}/v1/whoami");
    let answer = d.block_on(async {
        let response = client.get(&endpoint).bearer_auth(&token).send().await?;
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        Ok::<_, reqwest::Error>((status, body))
    });
    match answer {
        Err(e) => Finding::fail(what, e, "retry"),
        Ok(Err(e)) => Finding::fail(
            what,
            format!("cannot reach {endpoint}: {}", error_chain(&e)),
            "start the server (`plinth serve`) or correct `url` in the state block",
        ),
        Ok(Ok((StatusCode::OK, body))) => {
            let doc: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            let name = doc["name"].as_str().unwrap_or("?");
            let scope = doc["scope"].as_str().unwrap_or("?");
            if scope == "read" {
                Finding::fail(
                    what,
                    format!(
                        "plinth server {url}: token `{name}` has scope read, which cannot lock or write state"
                    ),
                    "use a token with scope write (`plinth token create NAME --scope write`)",
                )
            } else {
                Finding::ok(
                    what,
                    format!("plinth server {url}: token `{name}`, scope {scope}"),
                )
            }
        }
        Ok(Ok((status @ (StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN), _))) => Finding::fail(
            what,
            format!("plinth server {url} refused PLINTH_TOKEN ({status})"),
            "the token is unknown or revoked: create a new one with `plinth token create NAME --scope write`",
        ),
        Ok(Ok((status, _))) => Finding::fail(
            what,
            format!("{endpoint} answered {status}: not a plinth server?"),
            "point `url` in the state block at `plinth serve`",
        ),
    }
}

/// The error with its causes: reqwest's own message alone says only "error sending request".
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
