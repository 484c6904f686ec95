//! `plinth ls` and `plinth graph` on the three repository layouts of DESIGN.md section 2,
//! plus discovery rules (.gitignore, `.terraform`, `.plinth`) and `-C`.

mod support;

use serde_json::json;
use support::{Fixture, code, instance_ids, stderr, stdout, strings};

/// Components + environments: `envs/<env>` stacks limited to one environment each, calling
/// modules from `components/`.
fn components_layout() -> Fixture {
    let f = Fixture::new();
    f.write(
        "plinth.hcl",
        r#"plinth {
  project   = "shop"
  var_files = ["${env.name}.tfvars"]
}

environment "dev" {
  lifecycle = "persistent"
}

environment "prod" {
  lifecycle    = "persistent"
  promote_from = "dev"
  protected    = true
}
"#,
    )
    .write(
        "components/network/main.tf",
        "resource \"terraform_data\" \"vpc\" {}\n",
    )
    .write(
        "components/app/main.tf",
        "module \"network\" {\n  source = \"../network\"\n}\n",
    );
    for env in ["dev", "prod"] {
        f.write(
            &format!("envs/{env}/stack.hcl"),
            &format!(
                "stack {{\n  description  = \"Everything in {env}\"\n  environments = [\"{env}\"]\n  tags         = [\"app\", \"{env}\"]\n}}\n\ninputs = {{\n  env_name = env.name\n}}\n"
            ),
        )
        .write(
            &format!("envs/{env}/main.tf"),
            "module \"app\" {\n  source = \"../../components/app\"\n}\n",
        );
    }
    f
}

#[test]
fn components_layout_has_one_instance_per_env_directory() {
    let f = components_layout();
    let doc = f.json(&["ls", "--json"]);
    assert_eq!(
        doc,
        json!({
            "project": "shop",
            "instances": [
                {"env": "dev", "stack": "envs/dev", "id": "dev/envs/dev", "depends_on": [],
                 "tags": ["app", "dev"], "lifecycle": "persistent"},
                {"env": "prod", "stack": "envs/prod", "id": "prod/envs/prod", "depends_on": [],
                 "tags": ["app", "prod"], "lifecycle": "persistent"},
            ]
        })
    );
    assert_eq!(
        f.json(&["graph", "prod", "--format", "json"]),
        json!({
            "env": "prod",
            "nodes": [{"stack": "envs/prod", "depends_on": []}],
            "layers": [["envs/prod"]],
        })
    );
    // `components/` holds modules, not stacks: never an instance.
    assert_eq!(
        instance_ids(&f.json(&["ls", "dev", "--json"])),
        ["dev/envs/dev"]
    );
}

/// Per-module stacks with a foundation: each module stack depends on `infra/plumbing`,
/// written both as a project-relative id and as a `../` path.
fn modules_layout() -> Fixture {
    let f = Fixture::new();
    f.write(
        "plinth.hcl",
        r#"plinth {
  project = "atropos"
}

environment "dev" {
  lifecycle = "persistent"
}

environment "test" {
  lifecycle = "ephemeral"
  ttl       = "72h"
}

environment "prod" {
  lifecycle = "persistent"
}
"#,
    )
    .write(
        "infra/plumbing/stack.hcl",
        "stack {\n  description = \"VPC, subnets, DNS\"\n  tags        = [\"foundation\"]\n}\n",
    )
    .write(
        "infra/licensing/terraform/stack.hcl",
        r#"stack {
  tags = ["service"]
}

dependency "plumbing" {
  stack        = "../../plumbing"
  mock_outputs = { vpc_id = "vpc-00000000" }
}

inputs = {
  vpc_id   = dependency.plumbing.outputs.vpc_id
  env_name = env.name
  label    = "licensing-${env.name}"
}
"#,
    )
    .write(
        "infra/calibration/terraform/stack.hcl",
        r#"dependency "plumbing" {
  stack = "infra/plumbing"
}

dependency "licensing" {
  stack = "../../licensing/terraform/"
}

inputs = {
  vpc_id      = dependency.plumbing.outputs.vpc_id
  license_url = dependency.licensing.outputs.url
}
"#,
    )
    .write(
        "infra/payments/terraform/stack.hcl",
        r#"stack {
  environments = ["prod"]
  tags         = ["service", "pci"]
  after        = ["infra/calibration/terraform"]
}

dependency "plumbing" {
  stack = "infra/plumbing"
}
"#,
    );
    f
}

#[test]
fn modules_layout_graph_has_foundation_first_layers() {
    let f = modules_layout();
    assert_eq!(
        f.json(&["graph", "prod", "--format", "json"]),
        json!({
            "env": "prod",
            "nodes": [
                {"stack": "infra/calibration/terraform",
                 "depends_on": ["infra/plumbing", "infra/licensing/terraform"]},
                {"stack": "infra/licensing/terraform", "depends_on": ["infra/plumbing"]},
                {"stack": "infra/payments/terraform",
                 "depends_on": ["infra/plumbing", "infra/calibration/terraform"]},
                {"stack": "infra/plumbing", "depends_on": []},
            ],
            "layers": [
                ["infra/plumbing"],
                ["infra/licensing/terraform"],
                ["infra/calibration/terraform"],
                ["infra/payments/terraform"],
            ],
        })
    );
    // payments only runs in prod, so dev has one layer fewer.
    let dev = f.json(&["graph", "dev", "--format", "json"]);
    assert_eq!(
        dev["layers"],
        json!([
            ["infra/plumbing"],
            ["infra/licensing/terraform"],
            ["infra/calibration/terraform"]
        ])
    );
}

#[test]
fn modules_layout_ls_lists_every_instance_with_lifecycle_and_tags() {
    let f = modules_layout();
    let doc = f.json(&["ls", "--json"]);
    assert_eq!(doc["project"], "atropos");
    assert_eq!(
        instance_ids(&doc),
        [
            "dev/infra/calibration/terraform",
            "dev/infra/licensing/terraform",
            "dev/infra/plumbing",
            "test/infra/calibration/terraform",
            "test/infra/licensing/terraform",
            "test/infra/plumbing",
            "prod/infra/calibration/terraform",
            "prod/infra/licensing/terraform",
            "prod/infra/payments/terraform",
            "prod/infra/plumbing",
        ]
    );
    let instances = doc["instances"].as_array().unwrap();
    let test_plumbing = &instances[5];
    assert_eq!(
        *test_plumbing,
        json!({"env": "test", "stack": "infra/plumbing", "id": "test/infra/plumbing",
               "depends_on": [], "tags": ["foundation"], "lifecycle": "ephemeral"})
    );
    let payments = &instances[8];
    assert_eq!(strings(&payments["tags"]), ["service", "pci"]);
    assert_eq!(
        strings(&payments["depends_on"]),
        ["infra/plumbing", "infra/calibration/terraform"]
    );

    assert_eq!(
        instance_ids(&f.json(&["ls", "test", "--json"])),
        [
            "test/infra/calibration/terraform",
            "test/infra/licensing/terraform",
            "test/infra/plumbing",
        ]
    );
}

#[test]
fn graph_text_and_dot_formats_show_layers_and_edges() {
    let f = modules_layout();
    let out = f.plinth(&["graph", "prod"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "prod: 4 instances in 4 layers\n\
         layer 0\n  infra/plumbing\n\
         layer 1\n  infra/licensing/terraform  <- infra/plumbing\n\
         layer 2\n  infra/calibration/terraform  <- infra/plumbing, infra/licensing/terraform\n\
         layer 3\n  infra/payments/terraform  <- infra/plumbing, infra/calibration/terraform\n"
    );

    let out = f.plinth(&["graph", "dev", "--format", "dot"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let dot = stdout(&out);
    assert!(dot.starts_with("digraph \"dev\" {\n"), "{dot}");
    for edge in [
        "\"infra/licensing/terraform\" -> \"infra/plumbing\";",
        "\"infra/calibration/terraform\" -> \"infra/licensing/terraform\";",
    ] {
        assert!(dot.contains(edge), "missing {edge} in:\n{dot}");
    }
    assert!(
        !dot.contains("payments"),
        "payments has no dev instance:\n{dot}"
    );
    assert!(dot.trim_end().ends_with('}'), "{dot}");
}

#[test]
fn graph_without_env_uses_the_first_declared_environment() {
    let f = modules_layout();
    let doc = f.json(&["graph", "--format", "json"]);
    assert_eq!(doc["env"], "dev");
    assert_eq!(doc["nodes"].as_array().unwrap().len(), 3);
}

/// One root per service, with per-environment var files next to its code.
fn services_layout() -> Fixture {
    let f = Fixture::new();
    f.write(
        "plinth.hcl",
        r#"plinth {
  project   = "services"
  var_files = ["env/${env.name}.tfvars", "${env.name}.tfvars"]
}

environment "dev" {
  lifecycle = "persistent"
}

environment "staging" {
  lifecycle    = "persistent"
  promote_from = "dev"
}
"#,
    );
    for service in ["billing", "edge-api"] {
        f.write(
            &format!("services/{service}/main.tf"),
            "variable \"region\" {}\n",
        )
        .write(
            &format!("services/{service}/env/dev.tfvars"),
            "region = \"us-east-1\"\n",
        )
        .write(
            &format!("services/{service}/staging.tfvars"),
            "region = \"eu-west-1\"\n",
        );
    }
    f.write("services/billing/stack.hcl", "stack {\n  tags = [\"billing\"]\n}\n")
        .write(
            "services/edge-api/stack.hcl",
            "dependency \"billing\" {\n  stack = \"../billing\"\n}\n\ninputs = {\n  billing_url = dependency.billing.outputs.url\n}\n",
        );
    f
}

#[test]
fn services_layout_has_every_service_in_every_environment() {
    let f = services_layout();
    let doc = f.json(&["ls", "--json"]);
    assert_eq!(
        doc,
        json!({
            "project": "services",
            "instances": [
                {"env": "dev", "stack": "services/billing", "id": "dev/services/billing",
                 "depends_on": [], "tags": ["billing"], "lifecycle": "persistent"},
                {"env": "dev", "stack": "services/edge-api", "id": "dev/services/edge-api",
                 "depends_on": ["services/billing"], "tags": [], "lifecycle": "persistent"},
                {"env": "staging", "stack": "services/billing", "id": "staging/services/billing",
                 "depends_on": [], "tags": ["billing"], "lifecycle": "persistent"},
                {"env": "staging", "stack": "services/edge-api", "id": "staging/services/edge-api",
                 "depends_on": ["services/billing"], "tags": [], "lifecycle": "persistent"},
            ]
        })
    );
    assert_eq!(
        f.json(&["graph", "staging", "--format", "json"])["layers"],
        json!([["services/billing"], ["services/edge-api"]])
    );
}

#[test]
fn ls_text_output_lists_instances_and_dependencies() {
    let f = services_layout();
    let out = f.plinth(&["ls", "staging"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("INSTANCE"), "{text}");
    assert!(
        lines[1].starts_with("staging/services/billing") && lines[1].trim_end().ends_with('-'),
        "{text}"
    );
    assert!(
        lines[2].starts_with("staging/services/edge-api")
            && lines[2].trim_end().ends_with("services/billing"),
        "{text}"
    );
}

#[test]
fn discovery_skips_gitignored_terraform_and_plinth_directories() {
    let f = services_layout();
    let dead = "stack {\n  tags = [\"must-not-be-found\"]\n}\n";
    f.write(".gitignore", "/archive/\n*.bak.d/\n")
        .write("archive/old/stack.hcl", dead)
        .write("services/billing/old.bak.d/stack.hcl", dead)
        .write("services/billing/.terraform/modules/x/stack.hcl", dead)
        .write(".terraform/stack.hcl", dead)
        .write(".plinth/work/dev/stack.hcl", dead)
        // A nested .gitignore applies below its directory.
        .write("services/edge-api/.gitignore", "vendored/\n")
        .write("services/edge-api/vendored/lib/stack.hcl", dead)
        // Hidden directories that are not ignored are searched.
        .write(
            ".ops/runner/stack.hcl",
            "stack {\n  environments = [\"dev\"]\n}\n",
        );

    // .gitignore is honoured outside a git checkout too …
    let stacks = |doc: &serde_json::Value| -> Vec<String> {
        doc["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["stack"].as_str().unwrap().to_string())
            .collect()
    };
    let expected = [".ops/runner", "services/billing", "services/edge-api"];
    assert_eq!(
        stacks(&f.json(&["graph", "dev", "--format", "json"])),
        expected
    );
    // … and inside one.
    f.git_init();
    assert_eq!(
        stacks(&f.json(&["graph", "dev", "--format", "json"])),
        expected
    );
}

#[test]
fn dash_c_from_a_subdirectory_finds_the_project_root() {
    let f = modules_layout();
    let out = f.plinth_in("infra/licensing/terraform", &["ls", "prod", "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Stack ids stay project-relative wherever plinth starts.
    assert_eq!(
        instance_ids(&doc),
        [
            "prod/infra/calibration/terraform",
            "prod/infra/licensing/terraform",
            "prod/infra/payments/terraform",
            "prod/infra/plumbing",
        ]
    );
}

#[test]
fn dash_c_to_a_missing_directory_or_outside_a_project_is_a_usage_error() {
    let f = Fixture::new();
    f.write("not-a-project/readme.md", "hello\n");
    let out = f.plinth_in("nope", &["ls"]);
    assert_eq!(code(&out), 64);
    assert!(
        stderr(&out).contains("no such directory"),
        "{}",
        stderr(&out)
    );

    let out = f.plinth_in("not-a-project", &["ls"]);
    assert_eq!(code(&out), 64);
    assert!(stderr(&out).contains("no plinth.hcl"), "{}", stderr(&out));
}

#[test]
fn unknown_environment_is_a_usage_error_with_a_suggestion() {
    let f = modules_layout();
    for args in [
        &["ls", "prd"][..],
        &["graph", "prd", "--format", "json"][..],
    ] {
        let err = f.usage_error(args);
        assert!(err.contains("unknown environment `prd`"), "{err}");
        assert!(err.contains("did you mean `prod`?"), "{err}");
    }
}

#[test]
fn a_project_without_stacks_lists_nothing() {
    let f = Fixture::new();
    f.write(
        "plinth.hcl",
        "plinth {\n  project = \"empty\"\n}\n\nenvironment \"dev\" {\n  lifecycle = \"persistent\"\n}\n",
    );
    assert_eq!(
        f.json(&["ls", "--json"]),
        json!({"project": "empty", "instances": []})
    );
    assert_eq!(
        f.json(&["graph", "dev", "--format", "json"]),
        json!({"env": "dev", "nodes": [], "layers": []})
    );
}

#[test]
fn dot_slash_dependencies_are_relative_to_the_stack_directory() {
    let f = Fixture::new();
    f.write(
        "plinth.hcl",
        "plinth {\n  project = \"nested\"\n}\n\nenvironment \"dev\" {\n  lifecycle = \"persistent\"\n}\n",
    )
    .write("net/stack.hcl", "dependency \"peering\" {\n  stack = \"./peering\"\n}\n")
    .write("net/peering/stack.hcl", "stack {}\n")
    // A project-relative id that happens to look like the nested one, from elsewhere.
    .write("app/stack.hcl", "stack {\n  after = [\"net\", \"net/peering\"]\n}\n");
    assert_eq!(
        f.json(&["graph", "dev", "--format", "json"]),
        json!({
            "env": "dev",
            "nodes": [
                {"stack": "app", "depends_on": ["net", "net/peering"]},
                {"stack": "net", "depends_on": ["net/peering"]},
                {"stack": "net/peering", "depends_on": []},
            ],
            "layers": [["net/peering"], ["net"], ["app"]],
        })
    );
}

#[test]
fn dash_c_accepts_a_path_relative_to_the_working_directory() {
    let f = services_layout();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_plinth"))
        .current_dir(f.root().join("services"))
        .args(["-C", "../services/billing/env", "ls", "dev", "--json"])
        .output()
        .expect("run plinth");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        instance_ids(&doc),
        ["dev/services/billing", "dev/services/edge-api"]
    );
}
