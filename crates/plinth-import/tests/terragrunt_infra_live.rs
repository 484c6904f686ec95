//! The conversion of a tree laid out like Terragrunt's documented "infrastructure-live"
//! example: `account.hcl` / `region.hcl` / `env.hcl` read by `root.hcl`, an s3 `remote_state`
//! keyed by `path_relative_to_include()`, a `generate "provider"` block, an `_envcommon`
//! include, and modules from the registry (`tfr://`) and from git.

use std::path::Path;

use plinth_import::terragrunt::{TerragruntOptions, convert};
use plinth_import::{NoteKind, Proposal};

const ROOT: &str = r#"locals {
  account_vars = read_terragrunt_config(find_in_parent_folders("account.hcl"))
  region_vars  = read_terragrunt_config(find_in_parent_folders("region.hcl"))
  env_vars     = read_terragrunt_config(find_in_parent_folders("env.hcl"))

  account_name = local.account_vars.locals.account_name
  account_id   = local.account_vars.locals.aws_account_id
  aws_region   = local.region_vars.locals.aws_region
}

generate "provider" {
  path      = "provider.tf"
  if_exists = "overwrite_terragrunt"
  contents  = <<EOF
provider "aws" {
  region              = "${local.aws_region}"
  allowed_account_ids = ["${local.account_id}"]
}
EOF
}

remote_state {
  backend = "s3"
  config = {
    encrypt        = true
    bucket         = "acme-tfstate-${local.account_name}-${local.aws_region}"
    key            = "${path_relative_to_include()}/terraform.tfstate"
    region         = local.aws_region
    dynamodb_table = "terraform-locks"
    s3_bucket_tags = { owner = "platform" }
  }
  generate = {
    path      = "backend.tf"
    if_exists = "overwrite_terragrunt"
  }
}

inputs = merge(
  local.account_vars.locals,
  local.region_vars.locals,
  local.env_vars.locals,
)
"#;

const ENVCOMMON_MYSQL: &str = r#"locals {
  environment_vars = read_terragrunt_config(find_in_parent_folders("env.hcl"))
  env              = local.environment_vars.locals.environment
  base_source_url  = "git::https://github.com/acme/infrastructure-modules.git//mysql"
}

inputs = {
  name              = "mysql_${local.env}"
  instance_class    = "db.t2.micro"
  allocated_storage = 20
  storage_type      = "standard"
  master_username   = "admin"
}
"#;

const MYSQL_UNIT: &str = r#"include "root" {
  path = find_in_parent_folders("root.hcl")
}

include "envcommon" {
  path   = "${dirname(find_in_parent_folders("root.hcl"))}/_envcommon/mysql.hcl"
  expose = true
}

terraform {
  source = "${include.envcommon.locals.base_source_url}?ref=v0.8.0"
}

inputs = {
  instance_class = "db.t2.medium"
}
"#;

const VPC_UNIT: &str = r#"include "root" {
  path = find_in_parent_folders("root.hcl")
}

terraform {
  source = "tfr:///terraform-aws-modules/vpc/aws?version=5.8.1"
}

inputs = {
  cidr = "10.0.0.0/16"
}
"#;

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(r, "root.hcl", ROOT);
    write(r, "_envcommon/mysql.hcl", ENVCOMMON_MYSQL);
    for (account, id, envs) in [
        ("non-prod", "111111111111", &["qa", "stage"][..]),
        ("prod", "222222222222", &["prod"][..]),
    ] {
        write(
            r,
            &format!("{account}/account.hcl"),
            &format!(
                "locals {{\n  account_name   = \"{account}\"\n  aws_account_id = \"{id}\"\n}}\n"
            ),
        );
        write(
            r,
            &format!("{account}/us-east-1/region.hcl"),
            "locals {\n  aws_region = \"us-east-1\"\n}\n",
        );
        for env in envs {
            let base = format!("{account}/us-east-1/{env}");
            write(
                r,
                &format!("{base}/env.hcl"),
                &format!("locals {{\n  environment = \"{env}\"\n}}\n"),
            );
            write(r, &format!("{base}/mysql/terragrunt.hcl"), MYSQL_UNIT);
            write(r, &format!("{base}/vpc/terragrunt.hcl"), VPC_UNIT);
        }
    }
    dir
}

fn file<'a>(p: &'a Proposal, path: &str) -> &'a str {
    &p.files
        .iter()
        .find(|f| f.path == path)
        .unwrap_or_else(|| {
            panic!(
                "no {path} in {:?}",
                p.files.iter().map(|f| &f.path).collect::<Vec<_>>()
            )
        })
        .text
}

fn has_note(p: &Proposal, kind: NoteKind, text: &str) -> bool {
    p.notes
        .iter()
        .any(|n| n.kind == kind && n.message.contains(text))
}

#[test]
fn hierarchy_state_and_sources_convert() {
    let dir = tree();
    let root = dir.path().canonicalize().unwrap();
    let p = convert(
        &root,
        &TerragruntOptions {
            project: "acme".into(),
        },
    )
    .unwrap();
    assert_eq!(p.validate(), Vec::<String>::new());
    assert_eq!(
        p.environments,
        ["qa", "stage", "prod"],
        "env.hcl names the environments in promotion order"
    );
    assert_eq!(p.stacks.len(), 6);

    let project = file(&p, "plinth.hcl");
    assert!(
        project.contains(
            "state {\n  backend = \"s3\"\n  key     = \"${stack.id}/terraform.tfstate\"\n  config = {\n    encrypt        = true\n"
        ),
        "the key template reproduces Terragrunt's keys:\n{project}"
    );
    assert!(
        project.contains(
            "    region         = \"us-east-1\"\n    dynamodb_table = \"terraform-locks\"\n"
        ),
        "{project}"
    );
    assert!(has_note(
        &p,
        NoteKind::NotConverted,
        "state config `bucket` differs between units and not by environment name"
    ));
    assert!(has_note(
        &p,
        NoteKind::Changed,
        "`s3_bucket_tags` drives Terragrunt's bucket creation"
    ));
    assert!(has_note(
        &p,
        NoteKind::Changed,
        "Terragrunt creates a missing state bucket"
    ));

    // Inputs merged: root.hcl's merge() of the hierarchy, then envcommon, then the unit.
    let mysql = file(&p, "prod/us-east-1/prod/mysql/stack.hcl");
    assert!(mysql.contains("  environments = [\"prod\"]\n"), "{mysql}");
    for line in [
        "  account_name      = \"prod\"\n",
        "  aws_region        = \"us-east-1\"\n",
        "  name              = \"mysql_prod\"\n",
        "  instance_class    = \"db.t2.medium\"\n",
        "  allocated_storage = 20\n",
    ] {
        assert!(mysql.contains(line), "missing {line:?}:\n{mysql}");
    }
    let wrapper = file(&p, "prod/us-east-1/prod/mysql/main.tf");
    assert!(
        wrapper.contains(
            "source = \"git::https://github.com/acme/infrastructure-modules.git//mysql?ref=v0.8.0\""
        ),
        "{wrapper}"
    );
    assert!(
        wrapper.contains("  allocated_storage = var.allocated_storage\n"),
        "{wrapper}"
    );
    let vpc = file(&p, "non-prod/us-east-1/qa/vpc/main.tf");
    assert!(
        vpc.contains("  source  = \"terraform-aws-modules/vpc/aws\"\n  version = \"5.8.1\"\n"),
        "{vpc}"
    );

    // generate "provider" is written into each stack, evaluated for its account and region.
    let provider = file(&p, "non-prod/us-east-1/stage/vpc/provider.tf");
    assert!(
        provider.contains(
            "  region              = \"us-east-1\"\n  allowed_account_ids = [\"111111111111\"]\n"
        ),
        "{provider}"
    );
    assert!(has_note(
        &p,
        NoteKind::Changed,
        "generate \"provider\": written once as provider.tf in each stack (plinth generates no code at run time) (6 units)"
    ));
}
