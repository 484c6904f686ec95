//! Terragrunt's and Terraform's functions, as far as they can be computed without running
//! anything: paths from the directory tree, files read from it, and pure functions over
//! known values. The others (`run_cmd`, AWS look-ups) are problems with their place.

use std::ops::Range;
use std::path::{Path, PathBuf};

use hcl_edit::expr::{Expression, FuncCall};
use serde_json::{Map, Value};

use super::eval::{Ctx, FileScope, Names, span_of};
use super::files::{normalize, relative};
use super::value::{Eval, PVal};

/// Functions whose value exists only when Terragrunt runs.
const RUNTIME_ONLY: &[&str] = &[
    "run_cmd",
    "get_aws_account_id",
    "get_aws_account_alias",
    "get_aws_caller_identity_arn",
    "get_aws_caller_identity_user_id",
    "get_terraform_command",
    "get_terraform_cli_args",
    "get_terraform_commands_that_need_vars",
    "get_terraform_commands_that_need_input",
    "get_terraform_commands_that_need_locking",
    "get_terraform_commands_that_need_parallelism",
    "get_working_dir",
    "sops_decrypt_file",
    "get_default_retryable_errors",
    "timestamp",
    "uuid",
    "mark_as_read",
];

/// Evaluates a function call.
pub(crate) fn call(s: &FileScope<'_>, call: &FuncCall, span: Option<Range<usize>>) -> Eval<PVal> {
    let name = call.name.name.value().as_str();
    let args: Vec<&Expression> = call.args.iter().collect();
    if call.name.is_namespaced() || call.args.expand_final() {
        return Err(s.problem(span, format!("`{name}(…)` is not converted")));
    }
    if RUNTIME_ONLY.contains(&name) {
        return Err(s.problem(
            span,
            format!("`{name}()` is known only when Terragrunt runs; plinth does not evaluate it"),
        ));
    }
    let arg = |i: usize| {
        args.get(i)
            .copied()
            .ok_or_else(|| s.problem(span.clone(), format!("`{name}` needs more arguments")))
    };
    let string = |i: usize| arg(i).and_then(|e| s.known_string(e, &format!("`{name}`")));
    let known = |i: usize| arg(i).and_then(|e| s.known(e, &format!("`{name}`")));
    let all_known = || {
        args.iter()
            .map(|e| s.known(e, &format!("`{name}`")))
            .collect::<Eval<Vec<Value>>>()
    };
    let ctx = s.ctx;
    let path_str = |p: &Path| PVal::string(p.to_string_lossy().into_owned());
    let bad = |what: &str| s.problem(span.clone(), format!("`{name}`: {what}"));
    Ok(match name {
        // Terragrunt's path functions.
        "find_in_parent_folders" => {
            let wanted = if args.is_empty() {
                "terragrunt.hcl".to_string()
            } else {
                string(0)?
            };
            match find_in_parent_folders(ctx.unit_dir, &wanted) {
                Some(p) => path_str(&p),
                None if args.len() > 1 => PVal::Known(known(1)?),
                None => return Err(bad(&format!("no {wanted} in any parent directory"))),
            }
        }
        "get_terragrunt_dir" | "get_original_terragrunt_dir" => path_str(ctx.unit_dir),
        "get_parent_terragrunt_dir" => path_str(&include_dir(s, &args, ctx)?),
        "path_relative_to_include" => {
            let dir = include_dir(s, &args, ctx)?;
            PVal::string(relative(&dir, ctx.unit_dir))
        }
        "path_relative_from_include" => {
            let dir = include_dir(s, &args, ctx)?;
            PVal::string(relative(ctx.unit_dir, &dir))
        }
        "get_repo_root" => {
            path_str(&repo_root(ctx.unit_dir).ok_or_else(|| bad("not in a git repository"))?)
        }
        "get_path_to_repo_root" => {
            let root = repo_root(ctx.unit_dir).ok_or_else(|| bad("not in a git repository"))?;
            PVal::string(relative(ctx.unit_dir, &root))
        }
        "get_path_from_repo_root" => {
            let root = repo_root(ctx.unit_dir).ok_or_else(|| bad("not in a git repository"))?;
            PVal::string(relative(&root, ctx.unit_dir))
        }
        "get_env" => {
            let var = string(0)?;
            let default = if args.len() > 1 {
                Some(string(1)?)
            } else {
                None
            };
            PVal::Getenv { name: var, default }
        }
        "read_terragrunt_config" => {
            let path = resolve(ctx.unit_dir, &string(0)?);
            match read_terragrunt_config(ctx.loader, &path) {
                Ok(v) => v,
                Err(_) if args.len() > 1 && !path.is_file() => PVal::Known(known(1)?),
                Err(e) => return Err(e),
            }
        }
        "file" => {
            let path = resolve(ctx.unit_dir, &string(0)?);
            PVal::string(
                std::fs::read_to_string(&path)
                    .map_err(|e| bad(&format!("{}: {e}", path.display())))?,
            )
        }
        "fileexists" => PVal::Known(Value::Bool(resolve(ctx.unit_dir, &string(0)?).is_file())),
        "abspath" => path_str(&resolve(ctx.unit_dir, &string(0)?)),
        "basename" => PVal::string(
            string(0)?
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or("")
                .to_string(),
        ),
        "dirname" => {
            let p = string(0)?;
            let p = p.trim_end_matches('/');
            PVal::string(match p.rsplit_once('/') {
                Some(("", _)) => "/".to_string(),
                Some((d, _)) => d.to_string(),
                None => ".".to_string(),
            })
        }
        // Decoding and encoding.
        "jsondecode" => {
            PVal::Known(serde_json::from_str(&string(0)?).map_err(|e| bad(&e.to_string()))?)
        }
        "yamldecode" => {
            PVal::Known(yaml_serde::from_str(&string(0)?).map_err(|e| bad(&e.to_string()))?)
        }
        "jsonencode" => PVal::string(serde_json::to_string(&known(0)?).unwrap_or_default()),
        // Collections: merge and friends keep unknown values, the rest need known ones.
        "merge" => {
            let mut entries = Vec::new();
            for e in &args {
                match s.eval(e)? {
                    PVal::Known(Value::Null) => {}
                    v => entries.extend(
                        v.entries()
                            .ok_or_else(|| bad("arguments must be objects"))?,
                    ),
                }
            }
            PVal::object(entries)
        }
        "concat" => {
            let mut items = Vec::new();
            for e in &args {
                match s.eval(e)? {
                    PVal::Known(Value::Array(a)) => items.extend(a.into_iter().map(PVal::Known)),
                    PVal::List(l) => items.extend(l),
                    _ => return Err(bad("arguments must be lists")),
                }
            }
            PVal::list(items)
        }
        "lookup" => {
            let map = s.eval(arg(0)?)?;
            let key = string(1)?;
            match map
                .entries()
                .and_then(|e| e.into_iter().find(|(k, _)| *k == key))
            {
                Some((_, v)) => v,
                None if args.len() > 2 => s.eval(arg(2)?)?,
                None => return Err(bad(&format!("no key {key:?}"))),
            }
        }
        "try" => {
            let mut last = None;
            for e in &args {
                match s.eval(e) {
                    Ok(v) => return Ok(v),
                    Err(p) => last = Some(p),
                }
            }
            return Err(last.unwrap_or_else(|| bad("needs arguments")));
        }
        "can" => PVal::Known(Value::Bool(s.eval(arg(0)?).is_ok())),
        "coalesce" => {
            for v in all_known()? {
                if !v.is_null() && v != Value::String(String::new()) {
                    return Ok(PVal::Known(v));
                }
            }
            return Err(bad("no non-empty argument"));
        }
        "length" => PVal::Known(Value::from(match known(0)? {
            Value::Array(a) => a.len(),
            Value::Object(m) => m.len(),
            Value::String(t) => t.chars().count(),
            _ => return Err(bad("needs a collection or a string")),
        })),
        "keys" => match known(0)? {
            Value::Object(m) => {
                PVal::Known(Value::Array(m.keys().cloned().map(Value::String).collect()))
            }
            _ => return Err(bad("needs an object")),
        },
        "values" => match known(0)? {
            Value::Object(m) => PVal::Known(Value::Array(m.values().cloned().collect())),
            _ => return Err(bad("needs an object")),
        },
        "element" => {
            let list = known(0)?;
            let i = known(1)?
                .as_u64()
                .ok_or_else(|| bad("index must be a number"))? as usize;
            match list {
                Value::Array(a) if !a.is_empty() => PVal::Known(a[i % a.len()].clone()),
                _ => return Err(bad("needs a non-empty list")),
            }
        }
        "contains" => match known(0)? {
            Value::Array(a) => PVal::Known(Value::Bool(a.contains(&known(1)?))),
            _ => return Err(bad("needs a list")),
        },
        "distinct" | "compact" | "reverse" | "flatten" | "tolist" | "toset" => {
            let Value::Array(a) = known(0)? else {
                return Err(bad("needs a list"));
            };
            PVal::Known(Value::Array(match name {
                "distinct" | "toset" => {
                    let mut out: Vec<Value> = Vec::new();
                    for v in a {
                        if !out.contains(&v) {
                            out.push(v);
                        }
                    }
                    out
                }
                "compact" => a
                    .into_iter()
                    .filter(|v| v.as_str().is_some_and(|t| !t.is_empty()))
                    .collect(),
                "reverse" => a.into_iter().rev().collect(),
                "flatten" => flatten(a),
                _ => a,
            }))
        }
        "tomap" => match known(0)? {
            v @ Value::Object(_) => PVal::Known(v),
            _ => return Err(bad("needs an object")),
        },
        "zipmap" => {
            let (Value::Array(k), Value::Array(v)) = (known(0)?, known(1)?) else {
                return Err(bad("needs two lists"));
            };
            let mut m = Map::new();
            for (k, v) in k.into_iter().zip(v) {
                m.insert(
                    k.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| k.to_string()),
                    v,
                );
            }
            PVal::Known(Value::Object(m))
        }
        // Strings.
        "tostring" => PVal::string(string(0)?),
        "tonumber" => PVal::Known(match known(0)? {
            v @ Value::Number(_) => v,
            Value::String(t) => t
                .parse::<f64>()
                .map(super::eval::float)
                .map_err(|_| bad("not a number"))?,
            _ => return Err(bad("not a number")),
        }),
        "tobool" => PVal::Known(match known(0)? {
            v @ Value::Bool(_) => v,
            Value::String(t) if t == "true" || t == "false" => Value::Bool(t == "true"),
            _ => return Err(bad("not a bool")),
        }),
        "lower" => PVal::string(string(0)?.to_lowercase()),
        "upper" => PVal::string(string(0)?.to_uppercase()),
        "trimspace" => PVal::string(string(0)?.trim().to_string()),
        "trimprefix" => {
            let (t, p) = (string(0)?, string(1)?);
            PVal::string(t.strip_prefix(p.as_str()).unwrap_or(&t).to_string())
        }
        "trimsuffix" => {
            let (t, p) = (string(0)?, string(1)?);
            PVal::string(t.strip_suffix(p.as_str()).unwrap_or(&t).to_string())
        }
        "startswith" => PVal::Known(Value::Bool(string(0)?.starts_with(&string(1)?))),
        "endswith" => PVal::Known(Value::Bool(string(0)?.ends_with(&string(1)?))),
        "strcontains" => PVal::Known(Value::Bool(string(0)?.contains(&string(1)?))),
        "replace" => {
            let (t, from, to) = (string(0)?, string(1)?, string(2)?);
            if from.len() > 1 && from.starts_with('/') && from.ends_with('/') {
                return Err(bad("regular expressions are not converted"));
            }
            PVal::string(t.replace(&from, &to))
        }
        "split" => PVal::Known(Value::Array(
            string(1)?
                .split(&string(0)?)
                .map(|p| Value::String(p.to_string()))
                .collect(),
        )),
        "join" => {
            let sep = string(0)?;
            let mut parts = Vec::new();
            for v in args[1..].iter().map(|e| s.known(e, "`join`")) {
                match v? {
                    Value::Array(a) => parts.extend(a.into_iter().map(|x| match x {
                        Value::String(t) => t,
                        other => other.to_string(),
                    })),
                    _ => return Err(bad("needs lists")),
                }
            }
            PVal::string(parts.join(&sep))
        }
        "format" => {
            let values = all_known()?;
            PVal::string(format(values).ok_or_else(|| bad("unsupported format"))?)
        }
        "min" | "max" => {
            let nums: Vec<f64> = all_known()?.iter().filter_map(Value::as_f64).collect();
            if nums.len() != args.len() || nums.is_empty() {
                return Err(bad("needs numbers"));
            }
            let pick = if name == "min" {
                nums.iter().cloned().fold(f64::INFINITY, f64::min)
            } else {
                nums.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
            };
            PVal::Known(super::eval::float(pick))
        }
        other => {
            return Err(s.problem(
                span,
                format!("function `{other}` is not evaluated by plinth's importer"),
            ));
        }
    })
}

/// The directory of the include `args[0]` names (or the one being evaluated, or the only one).
fn include_dir(s: &FileScope<'_>, args: &[&Expression], ctx: Ctx<'_>) -> Eval<PathBuf> {
    if let Some(e) = args.first() {
        let label = s.known_string(e, "an include name")?;
        return ctx
            .includes
            .iter()
            .find(|(n, _)| *n == label)
            .map(|(_, d)| d.clone())
            .ok_or_else(|| s.problem(span_of(e), format!("no include \"{label}\"")));
    }
    if let Some(dir) = ctx.current_include {
        return Ok(dir.to_path_buf());
    }
    Ok(match ctx.includes {
        [(_, dir)] => dir.clone(),
        _ => ctx.unit_dir.to_path_buf(),
    })
}

/// Terragrunt's search: from the parent of `start` upwards.
pub(crate) fn find_in_parent_folders(start: &Path, name: &str) -> Option<PathBuf> {
    start
        .ancestors()
        .skip(1)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn repo_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
}

/// `path` relative to `dir` unless absolute, normalized.
pub(crate) fn resolve(dir: &Path, path: &str) -> PathBuf {
    normalize(&dir.join(path))
}

/// `read_terragrunt_config(path)`: the file's locals, inputs and other attributes, evaluated in
/// its own directory (memoised: it does not depend on the unit that reads it).
pub(crate) fn read_terragrunt_config(loader: &super::files::Loader, path: &Path) -> Eval<PVal> {
    loader.read_config(path, || {
        let file = loader.parse(path)?;
        let dir = file.dir().to_path_buf();
        let ctx = Ctx {
            loader,
            unit_dir: &dir,
            includes: &[],
            current_include: None,
        };
        let scope = FileScope::new(ctx, &file, Names::default());
        let mut locals = Vec::new();
        for (name, value) in scope.all_locals() {
            locals.push((name, value?));
        }
        let mut entries = vec![("locals".to_string(), PVal::object(locals))];
        for attr in file.body.attributes() {
            entries.push((attr.key.value().to_string(), scope.eval(&attr.value)?));
        }
        Ok(PVal::object(entries))
    })
}

fn flatten(items: Vec<Value>) -> Vec<Value> {
    let mut out = Vec::new();
    for v in items {
        match v {
            Value::Array(inner) => out.extend(flatten(inner)),
            other => out.push(other),
        }
    }
    out
}

/// Terraform's `format` for the verbs configurations use: `%s`, `%d`, `%v`, `%q`, `%%`.
fn format(values: Vec<Value>) -> Option<String> {
    let mut values = values.into_iter();
    let Value::String(spec) = values.next()? else {
        return None;
    };
    let text = |v: Value| match v {
        Value::String(s) => s,
        other => other.to_string(),
    };
    let mut out = String::new();
    let mut chars = spec.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            '%' => out.push('%'),
            's' | 'v' | 'd' => out.push_str(&text(values.next()?)),
            'q' => out.push_str(&format!("{:?}", text(values.next()?))),
            _ => return None,
        }
    }
    Some(out)
}
