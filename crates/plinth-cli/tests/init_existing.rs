//! `plinth init` in an existing Terraform repository without stack.hcl files: root modules
//! found (called modules are not stacks), environments inferred from `env/*.tfvars`,
//! `*.tfvars` and `envs/<env>/`, the proposal printed and written only with `--write`, and
//! `terraform_remote_state` reads listed as the dependencies they should become.

mod support;

use support::{Fixture, code, instance_ids, stderr, stdout};

const NETWORK: &str = r#"terraform {
  backend "s3" {
    bucket = "acme-state"
    key    = "network/terraform.tfstate"
    region = "us-east-1"
  }
}

variable "cidr" {
  type = string
}

resource "terraform_data" "vpc" {
  input = var.cidr
}

output "vpc_id" {
  value = terraform_data.vpc.output
}
"#;

const EDGE_API: &str = r#"terraform {
  backend "s3" {
    bucket = "acme-state"
    key    = "services/edge-api/terraform.tfstate"
    region = "us-east-1"
  }
}

data "terraform_remote_state" "network" {
  backend = "s3"
  config = {
    bucket = "acme-state"
    key    = "network/terraform.tfstate"
    region = "us-east-1"
  }
}

resource "terraform_data" "api" {
  input = data.terraform_remote_state.network.outputs.vpc_id
}
"#;

fn repository() -> Fixture {
    let f = Fixture::new();
    f.write("network/main.tf", NETWORK)
        .write("network/dev.tfvars", "cidr = \"10.0.0.0/16\"\n")
        .write("network/staging.tfvars", "cidr = \"10.1.0.0/16\"\n")
        .write("network/prod.tfvars", "cidr = \"10.2.0.0/16\"\n")
        .write(
            "network/terraform.tfvars",
            "# loaded in every environment\n",
        )
        .write("services/edge-api/main.tf", EDGE_API)
        .write("services/edge-api/env/dev.tfvars", "")
        .write("services/edge-api/env/prod.tfvars", "")
        .write(
            "modules/app/main.tf",
            "resource \"terraform_data\" \"app\" {}\n",
        )
        .write(
            "modules/unused/main.tf",
            "resource \"terraform_data\" \"x\" {}\n",
        );
    for env in ["dev", "prod"] {
        f.write(
            &format!("envs/{env}/main.tf"),
            "module \"app\" {\n  source = \"../../modules/app\"\n}\n",
        );
    }
    f
}

#[test]
fn proposes_stacks_environments_and_dependencies_without_writing() {
    let f = repository();
    let out = f.plinth(&["init"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let printed = stdout(&out);
    for file in [
        "--- plinth.hcl",
        "--- envs/dev/stack.hcl",
        "--- envs/prod/stack.hcl",
        "--- network/stack.hcl",
        "--- services/edge-api/stack.hcl",
    ] {
        assert!(printed.contains(file), "missing {file}:\n{printed}");
    }
    assert!(
        !printed.contains("--- modules/"),
        "called and library modules are no stacks:\n{printed}"
    );
    assert!(
        printed.contains("modules/unused: suggestion: no root module calls this module"),
        "{printed}"
    );
    assert!(
        printed.contains("services/edge-api/main.tf:9: suggestion: data.terraform_remote_state.network reads the state of stack `network`: make it `dependency \"network\" { stack = \"network\" }` with inputs { vpc_id = dependency.network.outputs.vpc_id }"),
        "{printed}"
    );
    assert!(
        printed.contains("network/main.tf:2: changed: `network` declares backend \"s3\""),
        "{printed}"
    );
    assert!(
        printed.contains("4 stack(s) in 3 environment(s) (dev, staging, prod)"),
        "{printed}"
    );
    assert!(
        printed.contains("nothing written: run `plinth init --write` to write them"),
        "{printed}"
    );
    assert!(
        !f.root().join("plinth.hcl").exists(),
        "without --write nothing is written"
    );
}

#[test]
fn write_gives_a_project_plinth_loads() {
    let f = repository();
    let out = f.plinth(&["init", "--write"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let plinth_hcl = std::fs::read_to_string(f.root().join("plinth.hcl")).unwrap();
    assert!(plinth_hcl.contains("state {\n  backend = \"s3\"\n  config = {\n    bucket = \"acme-state\"\n    region = \"us-east-1\"\n  }\n}"), "{plinth_hcl}");
    let edge = std::fs::read_to_string(f.root().join("services/edge-api/stack.hcl")).unwrap();
    assert!(
        edge.contains("  environments = [\"dev\", \"prod\"]\n  after        = [\"network\"]\n"),
        "{edge}"
    );
    let doc = f.json(&["ls", "--json"]);
    assert_eq!(
        instance_ids(&doc),
        [
            "dev/envs/dev",
            "dev/network",
            "dev/services/edge-api",
            "staging/network",
            "prod/envs/prod",
            "prod/network",
            "prod/services/edge-api",
        ]
    );
    let graph = f.json(&["graph", "dev", "--format", "json"]);
    assert_eq!(
        graph["layers"],
        serde_json::json!([["envs/dev", "network"], ["services/edge-api"]])
    );
}
