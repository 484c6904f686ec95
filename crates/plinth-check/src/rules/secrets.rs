//! Secrets: SCR001 plaintext secrets, SCR002 provider credentials, SCR003 secret variables,
//! SCR004 secret outputs.
//!
//! The patterns follow gitleaks' high-value rules; each match must also pass an entropy floor
//! and an allowlist of placeholders so that examples and references stay quiet.

use std::sync::LazyLock;

use hcl_edit::expr::Expression;
use regex::Regex;

use super::Hit;
use crate::model::{ModuleModel, SourceUnit};
use crate::node::{Node, block_head, labels, literal_str};

struct Pattern {
    what: &'static str,
    regex: Regex,
    /// Minimum Shannon entropy (bits per character) of the secret group.
    entropy: f64,
}

fn pattern(what: &'static str, regex: &str, entropy: f64) -> Pattern {
    Pattern {
        what,
        regex: Regex::new(regex).expect("valid secret regex"),
        entropy,
    }
}

static PATTERNS: LazyLock<Vec<Pattern>> = LazyLock::new(|| {
    vec![
        pattern(
            "AWS access key id",
            r"\b((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b",
            3.0,
        ),
        pattern(
            "private key",
            r"(-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----[\s\S]{64,}?-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----)",
            0.0,
        ),
        pattern(
            "Stripe live secret key",
            r"\b((?:sk|rk)_(?:live|prod)_[a-zA-Z0-9]{10,99})\b",
            3.0,
        ),
        pattern(
            "GitHub token",
            r"\b((?:ghp|gho|ghu|ghs|ghr)_[0-9a-zA-Z]{36})\b",
            3.0,
        ),
        pattern(
            "GitHub fine-grained token",
            r"\b(github_pat_[0-9a-zA-Z_]{82})\b",
            3.0,
        ),
        pattern(
            "Slack token",
            r"\b(xox[baprs]-[0-9]{10,13}-[0-9a-zA-Z-]{10,})",
            3.0,
        ),
        pattern(
            "Slack webhook",
            r"(hooks\.slack\.com/services/T[A-Z0-9]{8,}/B[A-Z0-9]{8,}/[A-Za-z0-9]{20,})",
            3.0,
        ),
        pattern(
            "Vault/OpenBao service token",
            r"\b(hvs\.[A-Za-z0-9_-]{90,120})",
            3.5,
        ),
        pattern(
            "Vault/OpenBao batch token",
            r"\b(hvb\.[A-Za-z0-9_-]{138,300})",
            3.5,
        ),
        pattern(
            "Terraform Cloud token",
            r"\b([a-z0-9]{14}\.atlasv1\.[a-z0-9\-_=]{60,70})\b",
            3.5,
        ),
    ]
});

/// `name = "literal"` where the name looks like a credential.
static ASSIGNMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)\b([a-z0-9_]*(?:password|passwd|pwd|secret|token|api_?key|access_key|private_key|client_secret)[a-z0-9_]*)"?\s*[=:]\s*"([^"\n]{8,150})""#,
    )
    .expect("valid regex")
});

/// Names that contain a secret word but name metadata, not the secret itself.
static NOT_A_SECRET_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(_|^)(name|names|arn|id|ids|path|paths|ttl|length|version|type|policy|rotation\w*|description|prefix|suffix|file|mount|engine|kms_key_id|key_id|ref|source|secret_string_wo_version|enabled)$")
        .expect("valid regex")
});

/// Secret-looking names for variables and outputs.
static SECRET_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(password|passwd|secret|token|private_key|api_key|apikey|access_key|credential|client_secret)")
        .expect("valid regex")
});

const PLACEHOLDERS: &[&str] = &[
    "changeme",
    "change-me",
    "change_me",
    "example",
    "placeholder",
    "dummy",
    "redacted",
    "xxxx",
    "todo",
    "your-",
    "your_",
    "<",
    "insert",
    "replace",
    "notasecret",
    "not-a-secret",
    "sample",
];

/// Shannon entropy in bits per character.
fn entropy(s: &str) -> f64 {
    let mut counts = [0usize; 256];
    for b in s.bytes() {
        counts[b as usize] += 1;
    }
    let len = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / len;
            -p * p.log2()
        })
        .sum()
}

/// Lower-case words joined by `-`, `_` or `.`: names of things (secret names, bindings),
/// not secret values.
static IDENTIFIER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z]+(?:[-_.][a-z]+)+$").expect("valid regex"));

fn is_placeholder(value: &str) -> bool {
    if IDENTIFIER.is_match(value) {
        return true;
    }
    let lower = value.to_ascii_lowercase();
    PLACEHOLDERS.iter().any(|p| lower.contains(p))
        || lower.ends_with("example")
        || value.contains("${")
        || value.contains("%{")
        || value.chars().any(char::is_whitespace)
        || value.starts_with("arn:")
        || value.starts_with("vault:")
        || value.starts_with("env:")
        || value.starts_with("sops:")
        || value.contains('/')
        || value
            .chars()
            .all(|c| c == value.chars().next().unwrap_or(' '))
}

/// SCR001 over the raw text of any .tf, .tfvars or .hcl file.
pub fn plaintext(unit: &SourceUnit, out: &mut Vec<Hit>) {
    let text = unit.source.text();
    let mut taken: Vec<std::ops::Range<usize>> = Vec::new();
    for p in PATTERNS.iter() {
        for caps in p.regex.captures_iter(text) {
            let m = caps.get(1).expect("secret group");
            if m.as_str().ends_with("EXAMPLE") || entropy(m.as_str()) < p.entropy {
                continue;
            }
            taken.push(m.range());
            let end = text[m.start()..m.end()]
                .find('\n')
                .map_or(m.end(), |n| m.start() + n);
            out.push(
                Hit::new("SCR001", unit, m.start()..end, p.what)
                    .message(format!("plaintext secret in the repository: {}", p.what)),
            );
        }
    }
    for caps in ASSIGNMENT.captures_iter(text) {
        let (name, value) = (caps.get(1).expect("name"), caps.get(2).expect("value"));
        if NOT_A_SECRET_NAME.is_match(name.as_str())
            || is_placeholder(value.as_str())
            || entropy(value.as_str()) < 3.0
            || taken
                .iter()
                .any(|r| r.start < value.end() && value.start() < r.end)
            || in_comment(text, name.start())
        {
            continue;
        }
        out.push(
            Hit::new(
                "SCR001",
                unit,
                value.start() - 1..value.end() + 1,
                "literal credential",
            )
            .message(format!(
                "plaintext secret in the repository: literal value for `{}`",
                name.as_str()
            )),
        );
    }
}

/// Whether `offset` is after a `#` or `//` on its line (a commented-out assignment is
/// still reported by the token patterns above, not by the name heuristic).
fn in_comment(text: &str, offset: usize) -> bool {
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let before = &text[line_start..offset];
    before.contains('#') || before.contains("//")
}

const PROVIDER_CREDENTIALS: &[&str] = &[
    "access_key",
    "secret_key",
    "token",
    "password",
    "client_secret",
    "client_certificate_password",
    "api_key",
    "api_token",
    "private_key",
    "secret",
];

/// SCR002, SCR003, SCR004.
pub fn check(module: &ModuleModel, out: &mut Vec<Hit>) {
    for unit in &module.tf {
        for provider in unit.blocks("provider") {
            let name = labels(provider).first().copied().unwrap_or("?");
            for key in PROVIDER_CREDENTIALS {
                if let Some(found) = Node::Body(&provider.body).attr(key)
                    && literal_str(found.value).is_some_and(|v| !v.is_empty())
                {
                    out.push(
                        Hit::new("SCR002", unit, found.span, "literal credential")
                            .message(format!("provider `{name}` has a literal `{key}`")),
                    );
                }
            }
        }
        for var in unit.blocks("variable") {
            let name = labels(var).first().copied().unwrap_or("");
            if !looks_secret(name) {
                continue;
            }
            let node = Node::Body(&var.body);
            if node.bool_attr("sensitive") != Some(true)
                && node.bool_attr("ephemeral") != Some(true)
            {
                out.push(
                    Hit::new("SCR003", unit, block_head(var), "not marked sensitive").message(
                        format!("secret-looking variable `{name}` is not `sensitive = true`"),
                    ),
                );
            }
            if let Some(found) = node.attr("default")
                && !matches!(found.value, Expression::Null(_))
            {
                out.push(
                    Hit::new("SCR003", unit, found.span, "default value for a secret")
                        .message(format!("secret-looking variable `{name}` has a default")),
                );
            }
        }
        for output in unit.blocks("output") {
            let name = labels(output).first().copied().unwrap_or("");
            if looks_secret(name) && Node::Body(&output.body).bool_attr("sensitive") != Some(true) {
                out.push(
                    Hit::new("SCR004", unit, block_head(output), "not marked sensitive").message(
                        format!("secret-looking output `{name}` is not `sensitive = true`"),
                    ),
                );
            }
        }
    }
}

fn looks_secret(name: &str) -> bool {
    SECRET_NAME.is_match(name) && !NOT_A_SECRET_NAME.is_match(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_separates_random_from_repetitive() {
        assert!(entropy("aaaaaaaa") < 0.1);
        assert!(entropy("Xk9#mQ2$vL7p") > 3.0);
    }

    #[test]
    fn secret_names_exclude_metadata() {
        assert!(looks_secret("db_password"));
        assert!(looks_secret("github_token"));
        assert!(!looks_secret("db_password_secret_arn"));
        assert!(!looks_secret("secret_name"));
        assert!(!looks_secret("region"));
    }
}
