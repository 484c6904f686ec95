//! `plinth import terragrunt` on a tree written to Terragrunt's documented patterns (a root
//! `root.hcl` included by every unit, `env.hcl` per environment read with
//! `read_terragrunt_config(find_in_parent_folders())`, an `_envcommon` include exposed to its
//! units, `dependency` blocks with mocks and `skip_outputs`, `dependencies { paths }`, local
//! sources with `//` and a remote git source), then `plinth graph` and `plinth apply` with the
//! real terraform: each output must arrive where Terragrunt wired it.

mod support;

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use support::{Fixture, code, stderr, stdout};

const ROOT_HCL: &str = r#"locals {
  env_vars    = read_terragrunt_config(find_in_parent_folders("env.hcl"))
  environment = local.env_vars.locals.environment
}

remote_state {
  backend = "local"
  generate = {
    path      = "backend.tf"
    if_exists = "overwrite_terragrunt"
  }
  config = {
    path = "${get_parent_terragrunt_dir()}/.tfstate/${path_relative_to_include()}/terraform.tfstate"
  }
}

inputs = {
  environment = local.environment
  owner       = "platform"
}
"#;

const ENVCOMMON_MYSQL: &str = r#"locals {
  env_vars    = read_terragrunt_config(find_in_parent_folders("env.hcl"))
  base_source = "${dirname(find_in_parent_folders("root.hcl"))}/modules//mysql"
}

terraform {
  source = local.base_source
}

dependency "vpc" {
  config_path = "../vpc"

  mock_outputs = {
    vpc_id = "vpc-mock"
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan"]
}

inputs = {
  engine = "mysql"
  size   = local.env_vars.locals.instance_size
  vpc_id = dependency.vpc.outputs.vpc_id
}
"#;

const INCLUDE_ROOT: &str = "include \"root\" {\n  path = find_in_parent_folders(\"root.hcl\")\n}\n";

const MYSQL_UNIT: &str = r#"include "root" {
  path = find_in_parent_folders("root.hcl")
}

include "envcommon" {
  path   = "${dirname(find_in_parent_folders("root.hcl"))}/_envcommon/mysql.hcl"
  expose = true
}

inputs = {
  name = "orders-${include.envcommon.locals.env_vars.locals.environment}"
}
"#;

const BACKEND_UNIT: &str = r#"include "root" {
  path = find_in_parent_folders("root.hcl")
}

terraform {
  source = "../../../modules//backend-app"

  before_hook "lint" {
    commands = ["plan"]
    execute  = ["tflint"]
  }
}

locals {
  build = run_cmd("git", "rev-parse", "HEAD")
}

dependency "mysql" {
  config_path = "../mysql"

  mock_outputs = {
    domain = "mysql.mock"
  }
}

dependency "redis" {
  config_path = "../redis"

  mock_outputs = {
    domain = "redis.mock"
  }
}

dependencies {
  paths = ["../vpc"]
}

inputs = {
  mysql_url = dependency.mysql.outputs.domain
  redis_url = "redis://${dependency.redis.outputs.domain}:6379"
  build_id  = local.build
  image_tag = get_env("IMAGE_TAG", "latest")
}
"#;

fn module(vars: &[&str], output: &str, value: &str) -> String {
    let mut s = String::from("terraform {\n  required_version = \">= 1.6\"\n}\n\n");
    for v in vars {
        s.push_str(&format!("variable \"{v}\" {{\n  type = string\n}}\n\n"));
    }
    s.push_str(&format!(
        "resource \"terraform_data\" \"this\" {{\n  input = \"{value}\"\n}}\n\noutput \"{output}\" {{\n  value = terraform_data.this.output\n}}\n"
    ));
    s
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@plinth.invalid",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A module catalogue in its own git repository, tagged v1.0.0: the "remote" source.
fn catalog() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("frontend-app");
    std::fs::create_dir_all(&m).unwrap();
    std::fs::write(
        m.join("main.tf"),
        module(
            &["backend_url", "vpc_hint", "environment", "owner"],
            "url",
            "https://frontend/${var.backend_url}/${var.vpc_hint}/${var.owner}/${var.environment}",
        ),
    )
    .unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "catalog"]);
    git(dir.path(), &["tag", "v1.0.0"]);
    dir
}

fn terragrunt_tree(catalog: &Path) -> Fixture {
    let f = Fixture::new();
    f.write("root.hcl", ROOT_HCL)
        .write("_envcommon/mysql.hcl", ENVCOMMON_MYSQL)
        .write(
            "modules/vpc/main.tf",
            &module(
                &["cidr", "environment"],
                "vpc_id",
                "vpc-${var.environment}-${var.cidr}",
            ),
        )
        .write(
            "modules/mysql/main.tf",
            &module(
                &["name", "engine", "size", "vpc_id"],
                "domain",
                "${var.name}.${var.engine}.${var.size}.${var.vpc_id}",
            ),
        )
        .write(
            "modules/redis/main.tf",
            &module(&["vpc_id"], "domain", "redis.${var.vpc_id}"),
        )
        .write(
            "modules/backend-app/main.tf",
            &module(
                &["mysql_url", "redis_url", "image_tag"],
                "url",
                "https://backend/${var.mysql_url}/${var.redis_url}/${var.image_tag}",
            ),
        )
        // Terragrunt's working copies must be ignored.
        .write(
            "live/dev/vpc/.terragrunt-cache/x/terragrunt.hcl",
            "this is not HCL {{{",
        )
        .write(".gitignore", ".terragrunt-cache/\n");
    for (env, size) in [("dev", "small"), ("prod", "large")] {
        f.write(
            &format!("live/{env}/env.hcl"),
            &format!("locals {{\n  environment   = \"{env}\"\n  instance_size = \"{size}\"\n}}\n"),
        )
        .write(
            &format!("live/{env}/vpc/terragrunt.hcl"),
            &format!("{INCLUDE_ROOT}\nterraform {{\n  source = \"../../../modules//vpc\"\n}}\n\ninputs = {{\n  cidr = \"10.{}.0.0/16\"\n}}\n", if env == "dev" { 0 } else { 1 }),
        )
        .write(&format!("live/{env}/mysql/terragrunt.hcl"), MYSQL_UNIT);
    }
    f.write(
        "live/dev/redis/terragrunt.hcl",
        &format!(
            "{INCLUDE_ROOT}\nterraform {{\n  source = \"../../../modules//redis\"\n}}\n\ndependency \"vpc\" {{\n  config_path  = \"../vpc\"\n  mock_outputs = {{ vpc_id = \"vpc-mock\" }}\n}}\n\ninputs = {{\n  vpc_id = dependency.vpc.outputs.vpc_id\n}}\n"
        ),
    )
    .write("live/dev/backend-app/terragrunt.hcl", BACKEND_UNIT)
    .write(
        "live/dev/frontend-app/terragrunt.hcl",
        &format!(
            "{INCLUDE_ROOT}\nterraform {{\n  source = \"git::file://{}//frontend-app?ref=v1.0.0\"\n}}\n\ndependency \"backend\" {{\n  config_path  = \"../backend-app\"\n  mock_outputs = {{ url = \"https://backend.mock\" }}\n}}\n\ndependency \"vpc\" {{\n  config_path  = \"../vpc\"\n  skip_outputs = true\n  mock_outputs = {{ vpc_id = \"vpc-static\" }}\n}}\n\ninputs = {{\n  backend_url = dependency.backend.outputs.url\n  vpc_hint    = dependency.vpc.outputs.vpc_id\n}}\n",
            catalog.display()
        ),
    );
    f
}

fn import(f: &Fixture) -> String {
    let out = f.plinth(&["import", "terragrunt"]);
    assert_eq!(
        code(&out),
        0,
        "import failed:\n{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    stdout(&out)
}

fn read(f: &Fixture, rel: &str) -> String {
    std::fs::read_to_string(f.root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn converted_tree_parses_graphs_and_lists_what_it_could_not_convert() {
    let cat = catalog();
    let f = terragrunt_tree(cat.path());
    let printed = import(&f);

    // Everything written parses with plinth's own parser.
    let project = plinth_config::ProjectConfig::parse("plinth.hcl", &read(&f, "plinth.hcl"), "x")
        .expect("plinth.hcl parses");
    assert_eq!(
        project.environment_names().collect::<Vec<_>>(),
        ["dev", "prod"]
    );
    for unit in ["vpc", "mysql", "redis", "backend-app", "frontend-app"] {
        let rel = format!("live/dev/{unit}/stack.hcl");
        plinth_config::StackConfig::parse(&rel, &read(&f, &rel))
            .unwrap_or_else(|d| panic!("{rel}: {d:?}"));
    }
    let backend = read(&f, "live/dev/backend-app/stack.hcl");
    assert!(
        backend.contains("  environments = [\"dev\"]\n  after        = [\"live/dev/vpc\"]\n"),
        "{backend}"
    );
    assert!(backend.contains("dependency \"mysql\" {\n  stack = \"live/dev/mysql\"\n  mock_outputs = {\n    domain = \"mysql.mock\"\n  }\n}"), "{backend}");
    assert!(
        backend.contains("  redis_url = \"redis://${dependency.redis.outputs.domain}:6379\"\n"),
        "{backend}"
    );
    assert!(
        backend.contains("  image_tag = getenv(\"IMAGE_TAG\", \"latest\")\n"),
        "{backend}"
    );
    // Inputs merged from the includes, evaluated through env.hcl and the exposed envcommon.
    let mysql = read(&f, "live/prod/mysql/stack.hcl");
    assert!(mysql.contains("  engine = \"mysql\"\n  size   = \"large\"\n  vpc_id = dependency.vpc.outputs.vpc_id\n  name   = \"orders-prod\"\n"), "{mysql}");
    // A remote source gets a wrapper calling it at the pinned ref, exporting what dependents read.
    let wrapper = read(&f, "live/dev/frontend-app/main.tf");
    assert!(
        wrapper.contains(&format!(
            "  source = \"git::file://{}//frontend-app?ref=v1.0.0\"\n",
            cat.path().display()
        )),
        "{wrapper}"
    );
    let frontend = read(&f, "live/dev/frontend-app/stack.hcl");
    assert!(
        frontend.contains("  vpc_hint    = \"vpc-static\"\n"),
        "skip_outputs mocks become literals:\n{frontend}"
    );
    assert!(
        frontend.contains("after        = [\"live/dev/vpc\"]"),
        "{frontend}"
    );

    // What could not be converted is listed at its place.
    for expected in [
        "live/dev/backend-app/terragrunt.hcl:15: not converted: input `build_id` not converted: `run_cmd()` is known only when Terragrunt runs",
        "live/dev/backend-app/terragrunt.hcl:8: not converted: before_hook \"lint\" is not converted",
        "root.hcl:6: changed: local state moves",
        "root.hcl:19: changed: input `owner`: the module declares no such variable",
        "live/dev/frontend-app/terragrunt.hcl:14: changed: dependency \"vpc\" has skip_outputs",
        "_envcommon/mysql.hcl:16: changed: plinth uses mock_outputs only for preview plans",
    ] {
        assert!(
            printed.contains(expected),
            "missing {expected:?} in:\n{printed}"
        );
    }
    assert!(!printed.contains(".terragrunt-cache"), "{printed}");
    assert!(
        printed.contains("7 stack(s) in 2 environment(s) (dev, prod)"),
        "{printed}"
    );

    let out = f.plinth(&["graph", "dev", "--format", "json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let graph: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        graph["layers"],
        serde_json::json!([
            ["live/dev/vpc"],
            ["live/dev/mysql", "live/dev/redis"],
            ["live/dev/backend-app"],
            ["live/dev/frontend-app"]
        ])
    );
    let out = f.plinth(&["check", "--no-engine"]);
    assert_eq!(code(&out), 0, "check:\n{}{}", stdout(&out), stderr(&out));

    // Nothing is overwritten on a second import.
    let again = import(&f);
    assert!(
        again.contains("kept  plinth.hcl (it exists; not overwritten)"),
        "{again}"
    );
    assert!(!again.contains("wrote "), "{again}");
}

#[test]
fn applies_with_the_wiring_terragrunt_had() {
    let cat = catalog();
    let f = terragrunt_tree(cat.path());
    import(&f);
    let out = f.plinth(&["apply", "dev", "--auto-approve", "--json"]);
    assert_eq!(code(&out), 0, "apply:\n{}\n{}", stdout(&out), stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["status"], "succeeded", "{report}");
    let out = f.plinth(&["output", "dev", "--format", "json", "--reveal"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let outputs: Value = serde_json::from_slice(&out.stdout).unwrap();
    let vpc = "vpc-dev-10.0.0.0/16";
    let mysql = format!("orders-dev.mysql.small.{vpc}");
    let backend = format!("https://backend/{mysql}/redis://redis.{vpc}:6379/latest");
    assert_eq!(outputs["live/dev/vpc"]["vpc_id"], vpc);
    assert_eq!(outputs["live/dev/mysql"]["domain"], mysql.as_str());
    assert_eq!(
        outputs["live/dev/redis"]["domain"],
        format!("redis.{vpc}").as_str()
    );
    assert_eq!(outputs["live/dev/backend-app"]["url"], backend.as_str());
    assert_eq!(
        outputs["live/dev/frontend-app"]["module_outputs"]["url"],
        format!("https://frontend/{backend}/vpc-static/platform/dev").as_str(),
        "the remote module got the upstream output, the skip_outputs mock and root.hcl's inputs"
    );
}

#[test]
fn a_syntax_error_in_an_included_file_stops_with_its_place() {
    let cat = catalog();
    let f = terragrunt_tree(cat.path());
    f.write("root.hcl", "locals {\n  broken = \n}\n");
    let err = f.usage_error(&["import", "terragrunt"]);
    assert!(err.contains("root.hcl:"), "{err}");
    assert!(!f.root().join("plinth.hcl").exists(), "nothing is written");
}
