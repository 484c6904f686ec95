//! Configuration errors: each exits 64, prints nothing on stdout, and points at
//! `file:line:col` with a hint.

mod support;

use support::{Fixture, code, stderr};

const TWO_ENVS: &str = r#"plinth {
  project = "errs"
}

environment "dev" {
  lifecycle = "persistent"
}

environment "prod" {
  lifecycle = "persistent"
}
"#;

fn project() -> Fixture {
    let f = Fixture::new();
    f.write("plinth.hcl", TWO_ENVS);
    f
}

/// `dependency "NAME" { stack = "TARGET" }`.
fn dep(name: &str, target: &str) -> String {
    format!("dependency \"{name}\" {{\n  stack = \"{target}\"\n}}\n")
}

#[test]
fn a_cycle_names_every_stack_on_it() {
    let f = project();
    f.write("ring/a/stack.hcl", &dep("c", "ring/c"))
        .write("ring/b/stack.hcl", &dep("a", "../a"))
        .write("ring/c/stack.hcl", "stack {\n  after = [\"ring/b\"]\n}\n")
        .write("standalone/stack.hcl", &dep("a", "ring/a"));
    let err = f.usage_error(&["graph", "dev", "--format", "json"]);
    assert!(
        err.contains("dependency cycle in environment `dev`: ring/a → ring/c → ring/b → ring/a"),
        "{err}"
    );
    // Points at the dependency that closes the cycle.
    assert!(err.contains("--> ring/a/stack.hcl:2:11"), "{err}");
    assert!(!err.contains("standalone"), "not on the cycle:\n{err}");
    assert!(
        err.ends_with("\n\nerror: aborting due to 1 configuration error\n"),
        "{err}"
    );

    // `ls` covers both environments but reports the cycle once.
    let err = f.usage_error(&["ls", "--json"]);
    assert_eq!(err.matches("dependency cycle").count(), 1, "{err}");
}

#[test]
fn a_cycle_larger_than_the_path_shown_lists_all_its_members() {
    // a → b → a and b → c → b: one strongly connected set of three stacks.
    let f = project();
    f.write("a/stack.hcl", &dep("b", "b"))
        .write(
            "b/stack.hcl",
            &format!("{}{}", dep("a", "a"), dep("c", "c")),
        )
        .write("c/stack.hcl", &dep("b", "b"));
    let err = f.usage_error(&["graph", "prod"]);
    assert!(
        err.contains("dependency cycle in environment `prod`"),
        "{err}"
    );
    assert!(err.contains("stacks on the cycle: a, b, c"), "{err}");
}

#[test]
fn a_self_dependency_is_an_error() {
    let f = project();
    f.write("net/stack.hcl", &dep("me", "./"));
    let err = f.usage_error(&["ls"]);
    assert!(err.contains("stack `net` depends on itself"), "{err}");
    assert!(err.contains("--> net/stack.hcl:2:11"), "{err}");
}

#[test]
fn hcl_syntax_error_names_file_and_line() {
    let f = project();
    f.write("ok/stack.hcl", "stack {}\n")
        .write("svc/stack.hcl", "stack {\n  tags = [\"a\",\n}\n");
    let err = f.usage_error(&["ls", "--json"]);
    assert!(err.contains("HCL syntax error"), "{err}");
    assert!(err.contains("--> svc/stack.hcl:3:"), "{err}");
    assert!(err.contains("help:"), "{err}");
}

#[test]
fn hcl_syntax_error_in_plinth_hcl_names_it() {
    let f = Fixture::new();
    f.write(
        "plinth.hcl",
        "plinth {\n  project = \"x\"\n\nenvironment \"dev\" {}\n",
    )
    .write("ok/stack.hcl", "stack {}\n");
    let err = f.usage_error(&["graph", "dev"]);
    assert!(err.contains("HCL syntax error"), "{err}");
    assert!(err.contains("--> plinth.hcl:"), "{err}");
}

#[test]
fn unknown_blocks_and_attributes_suggest_the_right_name() {
    let f = project();
    f.write(
        "app/stack.hcl",
        "stak {\n}\n\ndependency \"db\" {\n  stack  = \"db\"\n  mock   = {}\n}\n",
    )
    .write("db/stack.hcl", "stack {\n  enviroments = [\"dev\"]\n}\n");
    let err = f.usage_error(&["ls"]);
    assert!(err.contains("unknown block `stak`"), "{err}");
    assert!(err.contains("--> app/stack.hcl:1:1"), "{err}");
    assert!(err.contains("did you mean `stack`?"), "{err}");
    assert!(err.contains("--> app/stack.hcl:6:3"), "{err}");
    assert!(err.contains("--> db/stack.hcl:2:3"), "{err}");
    assert!(err.contains("did you mean `environments`?"), "{err}");
    // Every error of every file, not only the first.
    assert!(
        err.contains("aborting due to 3 configuration errors"),
        "{err}"
    );
}

#[test]
fn unknown_block_in_plinth_hcl_is_an_error() {
    let f = Fixture::new();
    f.write(
        "plinth.hcl",
        &format!("{TWO_ENVS}\nenviroment \"staging\" {{\n  lifecycle = \"persistent\"\n}}\n"),
    );
    let err = f.usage_error(&["ls"]);
    assert!(err.contains("unknown block `enviroment`"), "{err}");
    assert!(err.contains("--> plinth.hcl:13:1"), "{err}");
    assert!(err.contains("did you mean `environment`?"), "{err}");
}

#[test]
fn wrong_types_are_errors_with_position() {
    let f = project();
    f.write(
        "app/stack.hcl",
        "stack {\n  tags         = \"web\"\n  environments = [\"dev\", 3]\n}\n",
    );
    let err = f.usage_error(&["ls"]);
    assert!(
        err.contains("`tags` in the `stack` block must be a list of strings"),
        "{err}"
    );
    assert!(err.contains("--> app/stack.hcl:2:18"), "{err}");
    assert!(err.contains("--> app/stack.hcl:3:"), "{err}");
}

#[test]
fn duplicate_environments_are_an_error_pointing_at_both() {
    let f = Fixture::new();
    f.write(
        "plinth.hcl",
        &format!("{TWO_ENVS}\nenvironment \"dev\" {{\n  lifecycle = \"ephemeral\"\n}}\n"),
    );
    let err = f.usage_error(&["ls"]);
    assert!(err.contains("environment `dev` is declared twice"), "{err}");
    assert!(err.contains("--> plinth.hcl:13:13"), "{err}");
    assert!(err.contains("first declared here"), "{err}");
    assert!(err.contains("help:"), "{err}");
}

#[test]
fn reference_to_an_undeclared_dependency_is_an_error() {
    let f = project();
    f.write("net/stack.hcl", "stack {}\n").write(
        "app/stack.hcl",
        &format!(
            "{}\ninputs = {{\n  vpc_id = dependency.netwrk.outputs.vpc_id\n  name   = env.nam\n}}\n",
            dep("network", "net")
        ),
    );
    let err = f.usage_error(&["ls", "--json"]);
    assert!(
        err.contains("refers to dependency `netwrk`, which this stack does not declare"),
        "{err}"
    );
    assert!(err.contains("--> app/stack.hcl:6:23"), "{err}");
    assert!(err.contains("did you mean `network`?"), "{err}");
    assert!(err.contains("--> app/stack.hcl:7:"), "{err}");
    assert!(err.contains("did you mean `env.name`?"), "{err}");
}

#[test]
fn a_stack_listing_an_undeclared_environment_is_an_error() {
    let f = project();
    f.write(
        "app/stack.hcl",
        "stack {\n  environments = [\"dev\", \"prd\"]\n}\n",
    );
    let err = f.usage_error(&["ls"]);
    assert!(
        err.contains("stack `app` lists unknown environment `prd`"),
        "{err}"
    );
    assert!(err.contains("--> app/stack.hcl:2:26"), "{err}");
    assert!(err.contains("did you mean `prod`?"), "{err}");
}

#[test]
fn a_dependency_on_a_missing_stack_names_it() {
    let f = project();
    f.write("infra/database/stack.hcl", "stack {}\n")
        .write("infra/app/stack.hcl", &dep("db", "infra/databse"))
        .write("infra/web/stack.hcl", &dep("cache", "../cache"))
        .write(
            "infra/jobs/stack.hcl",
            "stack {\n  after = [\"../../../outside\"]\n}\n",
        );
    let err = f.usage_error(&["graph", "dev", "--format", "json"]);
    assert!(
        err.contains("stack `infra/app` depends on `infra/databse`, which does not exist"),
        "{err}"
    );
    assert!(err.contains("--> infra/app/stack.hcl:2:11"), "{err}");
    assert!(err.contains("did you mean `infra/database`?"), "{err}");
    // A `../` path is resolved from the stack's directory before it is reported.
    assert!(
        err.contains("stack `infra/web` depends on `infra/cache`, which does not exist"),
        "{err}"
    );
    assert!(err.contains("--> infra/web/stack.hcl:2:11"), "{err}");
    assert!(err.contains("points outside the project root"), "{err}");
    assert!(err.contains("--> infra/jobs/stack.hcl:2:12"), "{err}");
}

#[test]
fn a_dependency_absent_from_an_environment_names_both_stacks() {
    let f = project();
    f.write(
        "data/db/stack.hcl",
        "stack {\n  environments = [\"dev\"]\n}\n",
    )
    .write("svc/api/stack.hcl", &dep("db", "../../data/db"));

    // dev has both instances: fine.
    let dev = f.json(&["graph", "dev", "--format", "json"]);
    assert_eq!(dev["layers"], serde_json::json!([["data/db"], ["svc/api"]]));

    let err = f.usage_error(&["graph", "prod", "--format", "json"]);
    assert!(
        err.contains(
            "stack `svc/api` depends on `data/db`, which has no instance in environment `prod`"
        ),
        "{err}"
    );
    assert!(err.contains("--> svc/api/stack.hcl:2:11"), "{err}");
    assert!(err.contains("`data/db` only runs in: dev"), "{err}");
    assert!(
        err.contains("add `prod` to the environments of `data/db`"),
        "{err}"
    );

    // `ls` covers every environment, so it fails too; `ls dev` does not.
    let err = f.usage_error(&["ls"]);
    assert!(err.contains("no instance in environment `prod`"), "{err}");
    let out = f.plinth(&["ls", "dev", "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

#[test]
fn an_after_entry_absent_from_an_environment_is_reported_too() {
    let f = project();
    f.write("dns/stack.hcl", "stack {\n  environments = [\"prod\"]\n}\n")
        .write("web/stack.hcl", "stack {\n  after = [\"dns\"]\n}\n");
    let err = f.usage_error(&["graph", "dev"]);
    assert!(
        err.contains("stack `web` depends on `dns`, which has no instance in environment `dev`"),
        "{err}"
    );
    assert!(err.contains("--> web/stack.hcl:2:12"), "{err}");
}

#[test]
fn errors_leave_the_repository_untouched() {
    let f = project();
    f.write("svc/stack.hcl", "stack {\n  tags = [\"a\",\n}\n");
    let before = listing(f.root());
    f.usage_error(&["ls"]);
    f.usage_error(&["graph", "dev"]);
    assert_eq!(listing(f.root()), before);
}

fn listing(root: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                out.push((format!("{}/", path.display()), Vec::new()));
                todo.push(path);
            } else {
                out.push((path.display().to_string(), std::fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn the_cycle_shown_starts_and_ends_on_the_same_stack() {
    // a → b, b → c and b → a, c → b: from a, following b's first dependency (c) leads to a
    // loop b → c → b that misses a; the message must still show a closed cycle through a.
    let f = project();
    f.write("a/stack.hcl", &dep("b", "b"))
        .write(
            "b/stack.hcl",
            &format!("{}{}", dep("c", "c"), dep("a", "a")),
        )
        .write("c/stack.hcl", &dep("b", "b"));
    let err = f.usage_error(&["graph", "dev"]);
    assert!(
        err.contains("dependency cycle in environment `dev`: a → b → a\n"),
        "{err}"
    );
    assert!(err.contains("--> a/stack.hcl:2:11"), "{err}");
    assert!(err.contains("stacks on the cycle: a, b, c"), "{err}");
}

#[test]
fn a_typo_in_one_stack_file_is_reported_alone() {
    let f = project();
    f.write("net/stack.hcl", "stak {}\n")
        .write("app/stack.hcl", &dep("net", "net"))
        .write("web/stack.hcl", "stack {\n  after = [\"net\"]\n}\n");
    let err = f.usage_error(&["ls"]);
    assert!(
        err.contains("net/stack.hcl:1:1: unknown block `stak`")
            || err.contains("--> net/stack.hcl:1:1"),
        "{err}"
    );
    assert!(
        !err.contains("does not exist") && !err.contains("no stack.hcl at"),
        "the dependents of a broken stack are not reported: {err}"
    );
    assert!(
        err.ends_with("aborting due to 1 configuration error\n"),
        "{err}"
    );
}

#[test]
fn an_unclosed_brace_is_reported_where_it_opens() {
    let f = project();
    f.write(
        "net/stack.hcl",
        "stack {\n  tags = [\"a\"]\n\ndependency \"x\" {\n  stack = \"y\"\n",
    );
    let err = f.usage_error(&["ls"]);
    assert!(err.contains("--> net/stack.hcl:4:16"), "{err}");
    assert!(err.contains("`{` is never closed"), "{err}");
}

#[test]
fn a_file_that_is_not_utf8_is_located() {
    let f = project();
    std::fs::create_dir_all(f.root().join("net")).unwrap();
    std::fs::write(
        f.root().join("net/stack.hcl"),
        b"stack {\n  description = \"caf\xe9\"\n}\n",
    )
    .unwrap();
    let err = f.usage_error(&["ls"]);
    assert!(
        err.contains("net/stack.hcl is not valid UTF-8") && err.contains("--> net/stack.hcl:2:21"),
        "{err}"
    );
}

#[test]
fn a_stack_file_that_is_a_directory_or_a_fifo_is_an_error() {
    let f = project();
    std::fs::create_dir_all(f.root().join("odd/stack.hcl")).unwrap();
    let err = f.usage_error(&["ls"]);
    assert!(err.contains("odd/stack.hcl is a directory"), "{err}");

    let f = project();
    std::fs::create_dir_all(f.root().join("pipe")).unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(f.root().join("pipe/stack.hcl"))
        .status()
        .unwrap();
    assert!(status.success());
    // Never opened (a FIFO would block the read forever).
    let err = f.usage_error(&["ls"]);
    assert!(
        err.contains("pipe/stack.hcl is not a regular file"),
        "{err}"
    );
}

#[test]
fn two_directories_that_differ_only_in_non_utf8_bytes_are_an_error() {
    use std::os::unix::ffi::OsStrExt;
    let f = project();
    for name in [&b"svc-\xff"[..], &b"svc-\xfe"[..]] {
        let dir = f.root().join(std::ffi::OsStr::from_bytes(name));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("stack.hcl"), "").unwrap();
    }
    let err = f.usage_error(&["ls"]);
    assert!(
        err.contains("two stack directories have the id `svc-\u{fffd}`")
            && err.contains("svc-\\xFE")
            && err.contains("svc-\\xFF"),
        "both paths are named: {err}"
    );
}

#[test]
fn an_engine_version_mismatch_is_a_configuration_error() {
    let f = Fixture::new();
    f.write(
        "plinth.hcl",
        "plinth {\n  engine_version = \">= 99.0\"\n}\nenvironment \"dev\" {}\n",
    )
    .write("net/stack.hcl", "")
    .write("net/main.tf", "");
    let out = f.plinth(&["plan", "dev"]);
    assert_eq!(code(&out), 64, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("requires engine_version \">= 99.0\""),
        "{}",
        stderr(&out)
    );
}
