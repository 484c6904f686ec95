//! A unit (`terragrunt.hcl`) with its includes evaluated and merged, as Terragrunt sees it.

use std::path::{Path, PathBuf};

use super::config::{Config, IncludeDecl, dependency_names, evaluate, includes};
use super::eval::{Ctx, FileScope, Names};
use super::files::Loader;
use super::value::{PVal, Problem};
use crate::proposal::{Note, NoteKind};

/// One unit, resolved.
pub(crate) struct Unit {
    /// Its directory.
    pub dir: PathBuf,
    /// Its stack id: the directory relative to the import root.
    pub id: String,
    /// Its `terragrunt.hcl`, relative to the import root.
    pub file: String,
    /// Its settings merged with those of its includes.
    pub config: Config,
    /// The files it includes.
    pub included: Vec<PathBuf>,
    /// Problems met evaluating its includes.
    pub notes: Vec<Note>,
}

/// Reads the unit whose `terragrunt.hcl` is `path`.
pub(crate) fn resolve(loader: &Loader, path: &Path) -> Result<Unit, Problem> {
    let file = loader.parse(path)?;
    let dir = file.dir().to_path_buf();
    let mut notes = Vec::new();
    let bare = Ctx {
        loader,
        unit_dir: &dir,
        includes: &[],
        current_include: None,
    };
    let mut decls: Vec<IncludeDecl> = Vec::new();
    for decl in includes(&FileScope::new(bare, &file, Names::default()), &file.body) {
        match decl {
            Ok(d) => decls.push(d),
            Err(p) => notes.push(not_converted(&p, "include not converted")),
        }
    }
    let pairs: Vec<(String, PathBuf)> = decls
        .iter()
        .map(|d| {
            (
                d.name.clone(),
                d.path.parent().unwrap_or(Path::new("/")).to_path_buf(),
            )
        })
        .collect();
    let mut included_files = Vec::new();
    let mut deps = dependency_names(&file.body);
    for d in &decls {
        match loader.parse(&d.path) {
            Ok(f) => {
                for n in dependency_names(&f.body) {
                    if !deps.contains(&n) {
                        deps.push(n);
                    }
                }
                included_files.push(Some(f));
            }
            Err(p) => {
                notes.push(not_converted(&p, "include not converted"));
                included_files.push(None);
            }
        }
    }
    let mut configs = Vec::new();
    let mut exposed: Vec<(String, PVal)> = Vec::new();
    for ((decl, (_, inc_dir)), inc) in decls.iter().zip(&pairs).zip(&included_files) {
        let Some(inc) = inc else { continue };
        let ctx = Ctx {
            loader,
            unit_dir: &dir,
            includes: &pairs,
            current_include: Some(inc_dir),
        };
        let scope = FileScope::new(
            ctx,
            inc,
            Names {
                includes: &[],
                dependencies: Some(&deps),
            },
        );
        if let Some(nested) = inc
            .body
            .blocks()
            .find(|b| b.ident.value().as_str() == "include")
        {
            notes.push(Note::at(
                &inc.display,
                Some(
                    inc.source
                        .line_col(hcl_edit::Span::span(nested).map_or(0, |r| r.start))
                        .0,
                ),
                NoteKind::NotConverted,
                "an included file's own `include` is not followed (Terragrunt allows one level)",
            ));
        }
        let config = evaluate(&scope);
        if decl.expose {
            exposed.push((decl.name.clone(), exposure(&scope, &config)));
        }
        configs.push((config, decl.merge));
    }
    let ctx = Ctx {
        loader,
        unit_dir: &dir,
        includes: &pairs,
        current_include: None,
    };
    let scope = FileScope::new(
        ctx,
        &file,
        Names {
            includes: &exposed,
            dependencies: Some(&deps),
        },
    );
    let mut config = evaluate(&scope);
    for (inc, strategy) in configs.into_iter().rev() {
        config = inc.merged_with(config, strategy);
    }
    Ok(Unit {
        id: loader.display(&dir),
        file: file.display.clone(),
        dir,
        config,
        included: decls.into_iter().map(|d| d.path).collect(),
        notes,
    })
}

fn not_converted(p: &Problem, what: &str) -> Note {
    Note {
        location: Some(p.loc.clone()),
        kind: NoteKind::NotConverted,
        message: format!("{what}: {}", p.message),
    }
}

/// What `include.NAME` gives an includer: the included file's locals, inputs and attributes.
fn exposure(scope: &FileScope<'_>, config: &Config) -> PVal {
    let locals: Vec<(String, PVal)> = scope
        .all_locals()
        .into_iter()
        .filter_map(|(k, v)| v.ok().map(|v| (k, v)))
        .collect();
    let inputs: Vec<(String, PVal)> = config
        .inputs
        .iter()
        .filter_map(|i| i.value.clone().ok().map(|v| (i.key.clone(), v)))
        .collect();
    let mut entries = vec![
        ("locals".to_string(), PVal::object(locals)),
        ("inputs".to_string(), PVal::object(inputs)),
    ];
    for (k, v, _) in &config.attrs {
        if let Ok(v) = v {
            entries.push((k.clone(), v.clone()));
        }
    }
    PVal::object(entries)
}
