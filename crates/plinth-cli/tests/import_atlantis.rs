//! `plinth import atlantis` on the shapes Atlantis's repo-level config documents: one directory
//! planned per environment through `-var-file` workflows, one directory per workspace, and
//! directories per component with `depends_on`, custom `run` steps and apply requirements.

mod support;

use serde_json::Value;
use support::{Fixture, code, instance_ids, stderr, stdout};

const TF: &str = "variable \"env_name\" {\n  type    = string\n  default = \"none\"\n}\n\nresource \"terraform_data\" \"x\" {\n  input = var.env_name\n}\n\noutput \"seen\" {\n  value = terraform_data.x.output\n}\n";

/// Atlantis's "multiple environments with var files" pattern: one root, two projects, each
/// with a workflow that passes its own `-var-file`.
const VAR_FILE_WORKFLOWS: &str = r#"version: 3
projects:
- name: staging
  dir: .
  workflow: staging
- name: production
  dir: .
  workflow: production
  apply_requirements: [approved, mergeable]
workflows:
  staging:
    plan:
      steps:
      - init
      - plan:
          extra_args: ["-var-file", "staging.tfvars"]
  production:
    plan:
      steps:
      - init
      - plan:
          extra_args: ["-var-file", "production.tfvars"]
"#;

#[test]
fn var_file_workflows_become_environments_of_one_stack() {
    let f = Fixture::new();
    f.write("atlantis.yaml", VAR_FILE_WORKFLOWS)
        .write("main.tf", TF)
        .write("staging.tfvars", "env_name = \"from-staging-tfvars\"\n")
        .write(
            "production.tfvars",
            "env_name = \"from-production-tfvars\"\n",
        );
    let out = f.plinth(&["import", "atlantis"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let printed = stdout(&out);
    assert!(
        printed.contains("1 stack(s) in 2 environment(s) (staging, production)"),
        "{printed}"
    );
    assert!(
        printed.contains(
            "atlantis.yaml:9: not converted: apply requirement `mergeable` has no equivalent"
        ),
        "{printed}"
    );
    let cfg = plinth_config::ProjectConfig::parse(
        "plinth.hcl",
        &std::fs::read_to_string(f.root().join("plinth.hcl")).unwrap(),
        "x",
    )
    .unwrap();
    assert_eq!(
        cfg.environment("production").unwrap().approvals,
        1,
        "`approved` became approvals = 1"
    );
    assert_eq!(cfg.environment("staging").unwrap().approvals, 0);
    assert!(
        cfg.environment("staging")
            .unwrap()
            .pull_request
            .as_ref()
            .unwrap()
            .autoplan
    );
    assert_eq!(
        instance_ids(&f.json(&["ls", "--json"])),
        ["staging/.", "production/."]
    );

    // The default var_files pattern `${env.name}.tfvars` reads each environment's file.
    let out = f.plinth(&["apply", "staging", "--auto-approve", "--json"]);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    let out = f.plinth(&["output", "staging", "--format", "json"]);
    let outputs: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(outputs["."]["seen"], "from-staging-tfvars");
}

/// One directory, one project per workspace.
#[test]
fn workspaces_become_environments() {
    let f = Fixture::new();
    f.write(
        "atlantis.yaml",
        "version: 3\nprojects:\n- dir: project1\n  workspace: staging\n- dir: project1\n  workspace: production\n  autoplan:\n    enabled: false\n",
    )
    .write("project1/main.tf", TF);
    let out = f.plinth(&["import", "atlantis"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let printed = stdout(&out);
    assert!(printed.contains("atlantis.yaml:4: changed: project project1 (staging): workspace `staging` becomes environment `staging`"), "{printed}");
    let cfg = plinth_config::ProjectConfig::parse(
        "plinth.hcl",
        &std::fs::read_to_string(f.root().join("plinth.hcl")).unwrap(),
        "x",
    )
    .unwrap();
    assert!(
        !cfg.environment("production")
            .unwrap()
            .pull_request
            .as_ref()
            .unwrap()
            .autoplan
    );
    assert_eq!(
        instance_ids(&f.json(&["ls", "--json"])),
        ["staging/project1", "production/project1"]
    );
}

/// Components in their own directories, planned per environment, with ordering and the
/// settings plinth has no equivalent for.
#[test]
fn depends_on_becomes_after_and_the_rest_is_listed() {
    let f = Fixture::new();
    f.write(
        "atlantis.yaml",
        r#"version: 3
automerge: true
parallel_plan: true
projects:
- name: network-staging
  dir: network
  workflow: staging
  autoplan:
    when_modified: ["*.tf", "../modules/**/*.tf"]
    enabled: true
- name: app-staging
  dir: app
  workflow: staging
  depends_on: [network-staging]
  execution_order_group: 2
- name: network-production
  dir: network
  workflow: production
- name: app-production
  dir: app
  workflow: production
  depends_on: [network-production]
  apply_requirements: [approved]
workflows:
  staging:
    plan:
      steps:
      - run: ./scripts/lint.sh
      - init
      - plan:
          extra_args: ["-var-file", "env/staging.tfvars"]
  production:
    plan:
      steps:
      - init
      - plan:
          extra_args: ["-var-file", "env/production.tfvars", "-lock=false"]
"#,
    )
    .write("network/main.tf", TF)
    .write("app/main.tf", TF);
    let out = f.plinth(&["import", "atlantis"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let printed = stdout(&out);
    for expected in [
        "atlantis.yaml:2: not converted: `automerge` has no equivalent",
        "atlantis.yaml:3: changed: `parallel_plan`: plinth always runs independent stacks in parallel",
        "atlantis.yaml:9: not converted: project network-staging: when_modified [\"*.tf\", \"../modules/**/*.tf\"] has no equivalent",
        "atlantis.yaml:15: not converted: project app-staging: execution_order_group",
        "atlantis.yaml:28: not converted: workflow staging (plan): `run: ./scripts/lint.sh` has no equivalent",
        "not converted: workflow production: plan arguments [\"-lock=false\"] have no equivalent",
        "2 stack(s) in 2 environment(s) (staging, production)",
    ] {
        assert!(
            printed.contains(expected),
            "missing {expected:?}:\n{printed}"
        );
    }
    let app = std::fs::read_to_string(f.root().join("app/stack.hcl")).unwrap();
    assert!(app.contains("  after = [\"network\"]\n"), "{app}");
    let graph = f.json(&["graph", "production", "--format", "json"]);
    assert_eq!(graph["layers"], serde_json::json!([["network"], ["app"]]));
}

#[test]
fn invalid_yaml_is_an_error_at_its_line() {
    let f = Fixture::new();
    f.write("atlantis.yaml", "version: 3\nprojects:\n- dir: [unclosed\n");
    let err = f.usage_error(&["import", "atlantis"]);
    assert!(err.contains("atlantis.yaml:"), "{err}");
    assert!(!f.root().join("plinth.hcl").exists());
}
