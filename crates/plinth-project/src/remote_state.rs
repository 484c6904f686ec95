//! Where a root module's state lives and whose state it reads: its own `backend` block, and
//! `data "terraform_remote_state"` blocks, each a dependency plinth should wire as a
//! `dependency` block instead.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hcl_edit::Span;
use hcl_edit::expr::{Expression, ObjectKey};

/// One `data "terraform_remote_state" "NAME"` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteStateRead {
    /// The `.tf` file holding the block.
    pub file: PathBuf,
    /// 1-based line of the block.
    pub line: usize,
    /// The block's name (`data.terraform_remote_state.NAME`).
    pub name: String,
    /// `backend`, when it is a literal.
    pub backend: Option<String>,
    /// The `config` settings that are literal strings (`key`, `path`, `bucket`…).
    pub config: BTreeMap<String, String>,
    /// Outputs the directory's code reads from it (`…NAME.outputs.OUTPUT`), sorted.
    pub outputs: Vec<String>,
}

/// The `backend "KIND" {}` block of a root module's own code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredBackend {
    /// The `.tf` file holding it.
    pub file: PathBuf,
    /// 1-based line of the `backend` block.
    pub line: usize,
    /// The backend type (`s3`, `local`…).
    pub kind: String,
    /// Its settings that are literal strings.
    pub config: BTreeMap<String, String>,
}

/// The backend the root module in `dir` declares, if any.
pub fn declared_backend(dir: &Path) -> Option<DeclaredBackend> {
    for (file, text) in tf_texts(dir) {
        if !text.contains("backend") {
            continue;
        }
        let Ok(body) = hcl_edit::parser::parse_body(text.strip_prefix('\u{feff}').unwrap_or(&text))
        else {
            continue;
        };
        for terraform in body
            .blocks()
            .filter(|b| b.ident.value().as_str() == "terraform")
        {
            for backend in terraform.body.blocks() {
                if backend.ident.value().as_str() != "backend" {
                    continue;
                }
                let Some(kind) = backend.labels.first() else {
                    continue;
                };
                let config = backend
                    .body
                    .attributes()
                    .filter_map(|a| match &a.value {
                        Expression::String(s) => {
                            Some((a.key.value().to_string(), s.value().clone()))
                        }
                        _ => None,
                    })
                    .collect();
                return Some(DeclaredBackend {
                    line: line_of(&text, backend.span()),
                    file,
                    kind: kind.as_str().to_string(),
                    config,
                });
            }
        }
    }
    None
}

fn tf_texts(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "tf") && p.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .filter_map(|f| std::fs::read_to_string(&f).ok().map(|t| (f, t)))
        .collect()
}

fn line_of(text: &str, span: Option<std::ops::Range<usize>>) -> usize {
    let offset = span.map_or(0, |r| r.start).min(text.len());
    text[..offset].matches('\n').count() + 1
}

/// The remote state reads of the root module in `dir` (its own `.tf` files), by file and line.
pub fn remote_state_reads(dir: &Path) -> Vec<RemoteStateRead> {
    let texts = tf_texts(dir);
    let mut reads = Vec::new();
    for (file, text) in &texts {
        // Most files read no remote state: the substring test spares parsing them.
        if !text.contains("terraform_remote_state") {
            continue;
        }
        let Ok(body) = hcl_edit::parser::parse_body(text.strip_prefix('\u{feff}').unwrap_or(text))
        else {
            continue;
        };
        for block in body.blocks() {
            let labels: Vec<&str> = block.labels.iter().map(|l| l.as_str()).collect();
            let ["terraform_remote_state", name] = labels.as_slice() else {
                continue;
            };
            if block.ident.value().as_str() != "data" {
                continue;
            }
            let backend = match block.body.get_attribute("backend").map(|a| &a.value) {
                Some(Expression::String(s)) => Some(s.value().clone()),
                _ => None,
            };
            let mut config = BTreeMap::new();
            if let Some(Expression::Object(obj)) =
                block.body.get_attribute("config").map(|a| &a.value)
            {
                for (key, value) in obj.iter() {
                    let key = match key {
                        ObjectKey::Ident(i) => i.value().to_string(),
                        ObjectKey::Expression(Expression::String(s)) => s.value().clone(),
                        ObjectKey::Expression(_) => continue,
                    };
                    if let Expression::String(s) = value.expr() {
                        config.insert(key, s.value().clone());
                    }
                }
            }
            reads.push(RemoteStateRead {
                file: file.clone(),
                line: line_of(text, block.span()),
                name: name.to_string(),
                backend,
                config,
                outputs: outputs_read(&texts, name),
            });
        }
    }
    reads
}

/// Output names read as `data.terraform_remote_state.NAME.outputs.OUTPUT` anywhere in the
/// directory. A text scan is enough here: the list only suggests which inputs to wire.
fn outputs_read(texts: &[(PathBuf, String)], name: &str) -> Vec<String> {
    let needle = format!("data.terraform_remote_state.{name}.outputs.");
    let mut outputs: Vec<String> = texts
        .iter()
        .flat_map(|(_, text)| {
            text.match_indices(&needle)
                .map(|(i, _)| &text[i + needle.len()..])
        })
        .map(|rest| {
            rest.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                .collect::<String>()
        })
        .filter(|o| !o.is_empty())
        .collect();
    outputs.sort();
    outputs.dedup();
    outputs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_reads_with_line_config_and_outputs() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(
            tmp.path().join("main.tf"),
            "resource \"terraform_data\" \"a\" {\n  input = data.terraform_remote_state.net.outputs.vpc_id\n}\n\ndata \"terraform_remote_state\" \"net\" {\n  backend = \"s3\"\n  config = {\n    bucket = \"b\"\n    key    = \"network/terraform.tfstate\"\n    region = var.region\n  }\n}\n\noutput \"x\" {\n  value = data.terraform_remote_state.net.outputs.subnets[0]\n}\n",
        )
        .unwrap();
        let reads = remote_state_reads(tmp.path());
        assert_eq!(reads.len(), 1);
        let r = &reads[0];
        assert_eq!((r.name.as_str(), r.line), ("net", 5));
        assert_eq!(r.backend.as_deref(), Some("s3"));
        assert_eq!(r.config.get("key").unwrap(), "network/terraform.tfstate");
        assert!(!r.config.contains_key("region"), "not a literal");
        assert_eq!(r.outputs, ["subnets", "vpc_id"]);
        assert!(declared_backend(tmp.path()).is_none());
        std::fs::write(
            tmp.path().join("backend.tf"),
            "terraform {\n  backend \"s3\" {\n    key = \"app/terraform.tfstate\"\n  }\n}\n",
        )
        .unwrap();
        let b = declared_backend(tmp.path()).unwrap();
        assert_eq!((b.kind.as_str(), b.line), ("s3", 2));
        assert_eq!(b.config["key"], "app/terraform.tfstate");
    }
}
