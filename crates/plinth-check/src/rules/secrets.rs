//! Secrets: SCR001 plaintext secrets, SCR002 provider credentials, SCR003 secret variables,
//! SCR004 secret outputs.
//!
//! The patterns follow gitleaks' high-value rules; each match must also pass an entropy floor
//! and an allowlist of placeholders so that examples and references stay quiet.

use std::sync::LazyLock;

use std::ops::Range;

use hcl_edit::Span;
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Body, Structure};
use regex::Regex;

use super::Hit;
use crate::model::{ModuleModel, SourceUnit};
use crate::node::{Node, block_head, labels, literal_str, object_key};

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
        // A secret access key has no prefix of its own: it is found by the name it is given
        // (`AWS_SECRET_ACCESS_KEY=…` in user_data and scripts, `aws_secret_access_key = …`).
        pattern(
            "AWS secret access key",
            r#"(?i)aws_?secret_?(?:access_?)?key["']?\s*[=:]\s*["']?([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)"#,
            3.5,
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

/// Names that contain a secret word but name metadata, settings or derived values, not the
/// secret itself (`access_key_status`, `max_password_age`, `access_key_fingerprint`,
/// `login_profile_encrypted_password`, `secret_version_tokens`).
static NOT_A_SECRET_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:(?:_|^)(?:name|names|arn|arns|id|ids|path|paths|ttl|length|version|versions|version_tokens?|type|policy|rotation\w*|description|prefix|suffix|file|mount|engine|kms_key_id|kms_key_arns?|key_id|ref|source|secret_string_wo_version|wo_version|enabled|status|mode|age|count|required|format|algorithm|fingerprint|permission|permissions|immediately|reuse_prevention|expiration|expire_\w+|lowercase|uppercase|numbers|symbols|characters|hash|checksum|location|uri|url|endpoint|identifier|recovery_window_in_days|ssm_parameter_arns|secrets_manager_arns)$)|(?:^|_)encrypted_|(?:^|_)(?:create|manage|enable|allow|require|use|save|rotate|generate|expire|hard_expiry)_")
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

/// Dotted or dashed names in any case (`authSecret.github_app_private_key`,
/// `prod-db-password`): keys and paths, not values.
static MIXED_IDENTIFIER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[A-Za-z][A-Za-z]*[0-9]{0,2}(?:[-_.][A-Za-z][A-Za-z]*[0-9]{0,2})+$")
        .expect("valid regex")
});

/// One or two words of letters (`Inactive`, `Enabled`, `SecureString`, `STANDARD`): enum
/// values, not secrets.
static WORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:[A-Z]?[a-z]+|[A-Z]+|[A-Z][a-z]+[A-Z][a-z]+)$").expect("valid regex")
});

/// Values that describe themselves as demo credentials (`UberSecretPassword`,
/// `SuperSecretPassw0rd`): documentation examples more likely than leaked secrets, so they
/// are notes rather than errors.
const SELF_DESCRIBED: &[&str] = &["password", "passw0rd", "secret", "s3cr3t"];

/// Whether a value names itself a password or secret: a demo value, reported as a note.
fn self_described(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    SELF_DESCRIBED.iter().any(|p| lower.contains(p))
}

/// Dotted or dashed names: keys and paths, never credentials.
fn is_name(value: &str) -> bool {
    IDENTIFIER.is_match(value) || MIXED_IDENTIFIER.is_match(value)
}

fn is_placeholder(value: &str) -> bool {
    // References resolved elsewhere: `$slack-token`, `${…}`, `{{ … }}`, Key Vault refs.
    if value.starts_with('$') || value.starts_with("{{") || value.starts_with("@Microsoft.") {
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
    let candidates = match &unit.body {
        Some(body) => {
            let mut found = Vec::new();
            literal_assignments(body, &mut found);
            found
        }
        // plinth's own .hcl files are not parsed here (see `SourceUnit::from_text`), and a
        // file that does not parse still deserves the scan: read assignments from the text.
        None => ASSIGNMENT
            .captures_iter(text)
            .filter(|caps| !in_comment(text, caps.get(1).expect("name").start()))
            .map(|caps| {
                let (name, value) = (caps.get(1).expect("name"), caps.get(2).expect("value"));
                Assignment {
                    name: name.as_str().to_owned(),
                    value: value.as_str().to_owned(),
                    span: value.start() - 1..value.end() + 1,
                }
            })
            .collect(),
    };
    for a in candidates {
        if !SECRET_VALUE_NAME.is_match(&a.name)
            || NOT_A_SECRET_NAME.is_match(&a.name)
            || a.value.len() < 8
            || a.value.len() > 150
            || is_placeholder(&a.value)
            || is_name(&a.value)
            || taken
                .iter()
                .any(|r| r.start < a.span.end && a.span.start < r.end)
        {
            continue;
        }
        let demo = self_described(&a.value);
        if !demo && (WORD.is_match(&a.value) || entropy(&a.value) < 3.0) {
            continue;
        }
        let hit = Hit::new("SCR001", unit, a.span, "literal credential");
        out.push(if demo {
            hit.message(format!(
                "literal value for `{}` looks like a demo password; never use it for a real one",
                a.name
            ))
            .into_note()
        } else {
            hit.message(format!(
                "plaintext secret in the repository: literal value for `{}`",
                a.name
            ))
        });
    }
}

/// Names whose literal value is a credential.
static SECRET_VALUE_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(password|passwd|pwd|secret|token|api_?key|access_key|private_key|client_secret)",
    )
    .expect("valid regex")
});

/// A literal string and the attribute or object key that holds it.
struct Assignment {
    name: String,
    value: String,
    /// The span of the quoted value.
    span: Range<usize>,
}

/// Every `key = "literal"` in a body, its nested blocks and the objects, arrays and
/// function arguments of its values, with the key that holds each literal.
fn literal_assignments(body: &Body, out: &mut Vec<Assignment>) {
    for structure in body.iter() {
        match structure {
            Structure::Attribute(attr) => expr_assignments(attr.key.as_str(), &attr.value, out),
            Structure::Block(block) => literal_assignments(&block.body, out),
        }
    }
}

fn expr_assignments(name: &str, expr: &Expression, out: &mut Vec<Assignment>) {
    match expr {
        Expression::String(s) => {
            if let Some(span) = expr.span() {
                out.push(Assignment {
                    name: name.to_owned(),
                    value: s.as_str().to_owned(),
                    span,
                });
            }
        }
        Expression::Object(object) => {
            for (key, value) in object.iter() {
                match object_key(key) {
                    Some(k) => expr_assignments(k, value.expr(), out),
                    None => expr_assignments("", value.expr(), out),
                }
            }
        }
        Expression::Array(items) => {
            for item in items.iter() {
                expr_assignments(name, item, out);
            }
        }
        Expression::FuncCall(call) => {
            for arg in call.args.iter() {
                expr_assignments(name, arg, out);
            }
        }
        Expression::Parenthesis(p) => expr_assignments(name, p.inner(), out),
        Expression::Conditional(c) => {
            expr_assignments(name, &c.true_expr, out);
            expr_assignments(name, &c.false_expr, out);
        }
        _ => {}
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
            let node = Node::Body(&var.body);
            if !looks_secret(name) || !may_hold_a_secret(node) {
                continue;
            }
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
                && literal_str(found.value).is_some_and(|v| !v.is_empty())
            {
                out.push(
                    Hit::new("SCR003", unit, found.span, "default value for a secret")
                        .message(format!("secret-looking variable `{name}` has a default")),
                );
            }
        }
        for output in unit.blocks("output") {
            let name = labels(output).first().copied().unwrap_or("");
            let node = Node::Body(&output.body);
            if looks_secret(name)
                && node.bool_attr("sensitive") != Some(true)
                && node
                    .attr("value")
                    .is_none_or(|f| value_may_be_secret(unit, f.value))
            {
                out.push(
                    Hit::new("SCR004", unit, block_head(output), "not marked sensitive").message(
                        format!("secret-looking output `{name}` is not `sensitive = true`"),
                    ),
                );
            }
        }
    }
}

/// Whether a variable can carry a secret at all: its type is a string (or unconstrained)
/// and its default, if any, is not a bool, number or collection.
fn may_hold_a_secret(var: Node<'_>) -> bool {
    if let Some(found) = var.attr("type") {
        let ty = match found.value {
            Expression::Variable(v) => v.as_str().to_owned(),
            // terraform 0.11 quoted types: `type = "string"`.
            Expression::String(s) => s.as_str().to_owned(),
            _ => return false,
        };
        if ty != "string" && ty != "any" {
            return false;
        }
    }
    match var.attr("default").map(|f| f.value) {
        None => true,
        Some(Expression::String(_) | Expression::Null(_) | Expression::StringTemplate(_)) => true,
        Some(_) => false,
    }
}

/// Whether an output's value could be the secret: literals that are not strings and
/// references to metadata attributes (`.arn`, `.fingerprint`, `.encrypted_secret`,
/// `.status`) cannot.
fn value_may_be_secret(unit: &SourceUnit, value: &Expression) -> bool {
    match value {
        Expression::Bool(_) | Expression::Number(_) | Expression::Null(_) => false,
        Expression::Traversal(_) | Expression::FuncCall(_) | Expression::Conditional(_) => {
            let text = unit.text(value.span().unwrap_or(0..0));
            // The last attribute named decides (`aws_iam_access_key.this[0].encrypted_secret`).
            let last = text
                .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .find(|w| !w.is_empty() && !w.chars().all(|c| c.is_ascii_digit()));
            last.is_none_or(|w| !NOT_A_SECRET_NAME.is_match(w))
        }
        _ => true,
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
