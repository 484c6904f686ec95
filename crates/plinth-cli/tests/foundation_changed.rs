//! `plinth ls --changed[=BASE] [--with-dependents]`: each mapping rule picks exactly the
//! instances a changed file can affect, on a real git repository.

mod support;

use support::{Fixture, code, instance_ids, stderr};

const PLINTH_HCL: &str = r#"plinth {
  project   = "changes"
  var_files = ["env/${env.name}.tfvars", "${env.name}.tfvars"]
}

environment "dev" {
  lifecycle = "persistent"
  vars      = { region = "us-east-1" }
}

environment "staging" {
  lifecycle    = "persistent"
  promote_from = "dev"
  vars         = { region = "eu-west-1" }
}

environment "prod" {
  lifecycle    = "persistent"
  promote_from = "staging"
  protected    = true
}
"#;

/// A repository on branch `feature`, one commit ahead of nothing: `main` holds the base.
///
/// Instances: network, api, worker in dev, staging and prod; batch in dev only.
/// api → network, worker → api. api calls modules/web, which calls modules/base; batch
/// calls modules/base directly.
fn repo() -> Fixture {
    let f = Fixture::new();
    f.write("plinth.hcl", PLINTH_HCL)
        .write(".gitignore", ".terraform/\n.plinth/\n")
        .write("README.md", "# changes\n")
        .write(
            "plumbing/network/stack.hcl",
            "stack {\n  tags = [\"foundation\"]\n}\n",
        )
        .write(
            "plumbing/network/main.tf",
            "resource \"terraform_data\" \"vpc\" {}\n",
        )
        .write("plumbing/network/env/dev.tfvars", "cidr = \"10.0.0.0/16\"\n")
        .write("plumbing/network/env/prod.tfvars", "cidr = \"10.2.0.0/16\"\n")
        .write("plumbing/network/staging.tfvars", "cidr = \"10.1.0.0/16\"\n")
        .write(
            "modules/base/main.tf",
            "resource \"terraform_data\" \"base\" {}\n",
        )
        .write(
            "modules/web/main.tf",
            "module \"base\" {\n  source = \"../base\"\n}\n",
        )
        .write(
            "modules/unused/main.tf",
            "resource \"terraform_data\" \"unused\" {}\n",
        )
        .write(
            "services/api/stack.hcl",
            "dependency \"network\" {\n  stack = \"../../plumbing/network\"\n}\n\ninputs = {\n  vpc_id = dependency.network.outputs.vpc_id\n}\n",
        )
        .write(
            "services/api/main.tf",
            "variable \"vpc_id\" {}\n\nmodule \"web\" {\n  source = \"../../modules/web\"\n}\n\nmodule \"registry\" {\n  source  = \"terraform-aws-modules/vpc/aws\"\n  version = \"5.0.0\"\n}\n",
        )
        .write(
            "services/worker/stack.hcl",
            "dependency \"api\" {\n  stack = \"services/api\"\n}\n",
        )
        .write(
            "services/worker/main.tf",
            "resource \"terraform_data\" \"worker\" {}\n",
        )
        .write(
            "services/batch/stack.hcl",
            "stack {\n  environments = [\"dev\"]\n}\n",
        )
        .write(
            "services/batch/main.tf",
            "module \"base\" {\n  source = \"../../modules/base/\"\n}\n",
        );
    f.git_init();
    f.commit_all("base");
    f.git(&["checkout", "-q", "-b", "feature"]);
    f
}

/// Instance ids of `plinth ls --json ARGS…`.
fn ls(f: &Fixture, args: &[&str]) -> Vec<String> {
    let mut all = vec!["ls", "--json"];
    all.extend_from_slice(args);
    instance_ids(&f.json(&all))
}

/// Commits one edit on the current branch.
fn commit(f: &Fixture, rel: &str, text: &str) {
    f.write(rel, text);
    f.commit_all(&format!("edit {rel}"));
}

const API_EVERYWHERE: [&str; 3] = [
    "dev/services/api",
    "staging/services/api",
    "prod/services/api",
];

#[test]
fn nothing_changed_selects_nothing() {
    let f = repo();
    assert_eq!(ls(&f, &["--changed"]), Vec::<String>::new());
    // A file that belongs to no stack and no module affects nothing.
    commit(&f, "README.md", "# changes, documented\n");
    commit(&f, "docs/adr/0001.md", "decided\n");
    assert_eq!(ls(&f, &["--changed"]), Vec::<String>::new());
}

#[test]
fn a_stacks_own_file_selects_all_its_instances() {
    let f = repo();
    commit(&f, "services/api/main.tf", "variable \"vpc_id\" {}\n");
    assert_eq!(ls(&f, &["--changed"]), API_EVERYWHERE);

    // stack.hcl is one of the stack's files; batch only exists in dev.
    commit(
        &f,
        "services/batch/stack.hcl",
        "stack {\n  environments = [\"dev\"]\n  tags = [\"nightly\"]\n}\n",
    );
    assert_eq!(
        ls(&f, &["--changed"]),
        [
            "dev/services/api",
            "dev/services/batch",
            "staging/services/api",
            "prod/services/api"
        ]
    );
    // ENV narrows the listing.
    assert_eq!(
        ls(&f, &["dev", "--changed"]),
        ["dev/services/api", "dev/services/batch"]
    );
    let doc = f.json(&["ls", "prod", "--json", "--changed"]);
    assert_eq!(
        doc["instances"][0]["reason"], "services/api/main.tf changed",
        "{doc}"
    );
}

#[test]
fn a_local_module_selects_every_stack_calling_it_transitively() {
    let f = repo();
    commit(
        &f,
        "modules/base/main.tf",
        "resource \"terraform_data\" \"base\" {\n  input = 1\n}\n",
    );
    // api reaches base through web; batch calls it directly; network and worker do not.
    assert_eq!(
        ls(&f, &["--changed"]),
        [
            "dev/services/api",
            "dev/services/batch",
            "staging/services/api",
            "prod/services/api"
        ]
    );
    let doc = f.json(&["ls", "dev", "--json", "--changed"]);
    let reason = doc["instances"][0]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("module modules/base changed"),
        "{reason}"
    );
}

#[test]
fn a_module_called_only_by_one_stack_selects_only_it() {
    let f = repo();
    commit(&f, "modules/web/variables.tf", "variable \"name\" {}\n");
    assert_eq!(ls(&f, &["--changed"]), API_EVERYWHERE);
}

#[test]
fn a_module_nobody_calls_selects_nothing() {
    let f = repo();
    commit(&f, "modules/unused/main.tf", "# nothing\n");
    assert_eq!(ls(&f, &["--changed"]), Vec::<String>::new());
}

#[test]
fn a_per_environment_var_file_selects_only_that_environments_instance() {
    let f = repo();
    commit(
        &f,
        "plumbing/network/env/dev.tfvars",
        "cidr = \"10.9.0.0/16\"\n",
    );
    assert_eq!(ls(&f, &["--changed"]), ["dev/plumbing/network"]);
    let doc = f.json(&["ls", "--json", "--changed"]);
    assert_eq!(
        doc["instances"][0]["reason"],
        "var file plumbing/network/env/dev.tfvars changed"
    );
}

#[test]
fn every_var_file_pattern_is_an_environment_file() {
    // `${env.name}.tfvars`, the second pattern, at the stack's top level.
    let f = repo();
    commit(
        &f,
        "plumbing/network/staging.tfvars",
        "cidr = \"10.8.0.0/16\"\n",
    );
    assert_eq!(ls(&f, &["--changed"]), ["staging/plumbing/network"]);
}

#[test]
fn a_var_file_for_an_environment_without_an_instance_selects_nothing() {
    let f = repo();
    commit(&f, "services/batch/env/prod.tfvars", "x = 1\n");
    assert_eq!(ls(&f, &["--changed"]), Vec::<String>::new());
}

#[test]
fn a_tfvars_file_matching_no_pattern_is_an_ordinary_stack_file() {
    let f = repo();
    commit(&f, "plumbing/network/common.tfvars", "x = 1\n");
    assert_eq!(
        ls(&f, &["--changed"]),
        [
            "dev/plumbing/network",
            "staging/plumbing/network",
            "prod/plumbing/network"
        ]
    );
}

#[test]
fn an_environment_block_selects_that_environments_instances() {
    let f = repo();
    commit(
        &f,
        "plinth.hcl",
        &PLINTH_HCL.replace("eu-west-1", "eu-central-1"),
    );
    assert_eq!(
        ls(&f, &["--changed"]),
        [
            "staging/plumbing/network",
            "staging/services/api",
            "staging/services/worker"
        ]
    );
    let doc = f.json(&["ls", "--json", "--changed"]);
    assert_eq!(
        doc["instances"][0]["reason"],
        "environment `staging` changed in plinth.hcl"
    );
}

#[test]
fn a_new_environment_selects_its_instances() {
    let f = repo();
    commit(
        &f,
        "plinth.hcl",
        &format!("{PLINTH_HCL}\nenvironment \"qa\" {{\n  lifecycle = \"ephemeral\"\n}}\n"),
    );
    assert_eq!(
        ls(&f, &["--changed"]),
        [
            "qa/plumbing/network",
            "qa/services/api",
            "qa/services/worker"
        ]
    );
}

#[test]
fn a_comment_in_plinth_hcl_selects_nothing_and_project_settings_select_everything() {
    let f = repo();
    commit(
        &f,
        "plinth.hcl",
        &format!("# The changes project.\n{PLINTH_HCL}"),
    );
    assert_eq!(ls(&f, &["--changed"]), Vec::<String>::new());

    commit(
        &f,
        "plinth.hcl",
        &PLINTH_HCL.replace(", \"${env.name}.tfvars\"]", "]"),
    );
    assert_eq!(ls(&f, &["--changed"]).len(), 10);
}

#[test]
fn with_dependents_adds_everything_downstream_in_the_same_environment() {
    let f = repo();
    commit(
        &f,
        "plumbing/network/env/dev.tfvars",
        "cidr = \"10.9.0.0/16\"\n",
    );
    assert_eq!(
        ls(&f, &["--changed", "--with-dependents"]),
        [
            "dev/plumbing/network",
            "dev/services/api",
            "dev/services/worker"
        ]
    );
    let doc = f.json(&["ls", "--json", "--changed", "--with-dependents"]);
    assert_eq!(
        doc["instances"][2]["reason"],
        "depends on a changed instance"
    );
}

#[test]
fn with_dependents_requires_changed() {
    let f = repo();
    let out = f.plinth(&["ls", "--with-dependents"]);
    assert_eq!(code(&out), 64, "{}", stderr(&out));
    assert!(stderr(&out).contains("--changed"), "{}", stderr(&out));
}

#[test]
fn uncommitted_and_untracked_files_count() {
    let f = repo();
    // Modified in the work tree, not staged.
    f.write("services/api/main.tf", "variable \"vpc_id\" {}\n");
    assert_eq!(ls(&f, &["--changed"]), API_EVERYWHERE);

    // Untracked.
    f.write("services/worker/extra.tf", "locals {}\n");
    assert_eq!(
        ls(&f, &["prod", "--changed"]),
        ["prod/services/api", "prod/services/worker"]
    );

    // Staged deletion.
    f.git(&["rm", "-q", "plumbing/network/env/prod.tfvars"]);
    assert_eq!(
        ls(&f, &["prod", "--changed"]),
        [
            "prod/plumbing/network",
            "prod/services/api",
            "prod/services/worker"
        ]
    );
}

#[test]
fn ignored_files_do_not_count() {
    let f = repo();
    f.write("services/api/.terraform/terraform.tfstate", "{}\n")
        .write(".plinth/plinth.db", "")
        .write("services/worker/.terraform/modules/modules.json", "{}\n");
    assert_eq!(ls(&f, &["--changed"]), Vec::<String>::new());
}

#[test]
fn engine_caches_do_not_count_even_when_not_ignored() {
    let f = repo();
    f.write(".gitignore", "");
    f.commit_all("stop ignoring");
    f.write("services/api/.terraform/terraform.tfstate", "{}\n")
        .write("services/worker/.plinth/work/plan.bin", "x");
    assert_eq!(ls(&f, &["--changed=HEAD"]), Vec::<String>::new());
    // The lock file next to the code is code.
    f.write("services/api/.terraform.lock.hcl", "# providers\n");
    assert_eq!(ls(&f, &["--changed=HEAD"]), API_EVERYWHERE);
}

#[test]
fn on_the_default_branch_only_uncommitted_work_counts() {
    let f = repo();
    f.git(&["checkout", "-q", "main"]);
    assert_eq!(ls(&f, &["--changed"]), Vec::<String>::new());
    f.write("services/worker/main.tf", "# edited\n");
    assert_eq!(
        ls(&f, &["--changed"]),
        [
            "dev/services/worker",
            "staging/services/worker",
            "prod/services/worker"
        ]
    );
}

#[test]
fn an_explicit_base_compares_with_that_revision() {
    let f = repo();
    commit(&f, "services/api/main.tf", "variable \"vpc_id\" {}\n");
    commit(&f, "services/worker/main.tf", "# edited\n");
    let worker = [
        "dev/services/worker",
        "staging/services/worker",
        "prod/services/worker",
    ];
    assert_eq!(ls(&f, &["--changed=HEAD~1"]), worker);
    // The default is the merge-base with main: both commits.
    let both = [
        "dev/services/api",
        "dev/services/worker",
        "staging/services/api",
        "staging/services/worker",
        "prod/services/api",
        "prod/services/worker",
    ];
    assert_eq!(ls(&f, &["--changed"]), both);
    assert_eq!(ls(&f, &["--changed=main"]), both);

    // main moved on after the branch: its own changes are not ours.
    f.git(&["checkout", "-q", "main"]);
    commit(&f, "plumbing/network/main.tf", "# on main\n");
    f.git(&["checkout", "-q", "feature"]);
    assert_eq!(ls(&f, &["--changed=main"]), both);
}

#[test]
fn an_unknown_base_is_a_usage_error() {
    let f = repo();
    let out = f.plinth(&["ls", "--changed=no-such-branch"]);
    assert_eq!(code(&out), 64, "{}", stderr(&out));
    assert!(stderr(&out).contains("no-such-branch"), "{}", stderr(&out));
}

#[test]
fn changed_outside_a_git_repository_is_a_usage_error() {
    let f = Fixture::new();
    f.write("plinth.hcl", PLINTH_HCL)
        .write("app/stack.hcl", "stack {}\n");
    let out = f.plinth(&["ls", "--changed"]);
    assert_eq!(code(&out), 64, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is not inside a git repository"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn components_layout_module_change_selects_each_env_stack() {
    // envs/<env> stacks limited to one environment, all calling components/app.
    let f = Fixture::new();
    f.write(
        "plinth.hcl",
        "plinth {\n  project = \"c\"\n}\n\nenvironment \"dev\" {\n  lifecycle = \"persistent\"\n}\n\nenvironment \"prod\" {\n  lifecycle = \"persistent\"\n}\n",
    )
    .write("components/net/main.tf", "resource \"terraform_data\" \"n\" {}\n")
    .write(
        "components/app/main.tf",
        "module \"net\" {\n  source = \"../net\"\n}\n",
    );
    for env in ["dev", "prod"] {
        f.write(
            &format!("envs/{env}/stack.hcl"),
            &format!("stack {{\n  environments = [\"{env}\"]\n}}\n"),
        )
        .write(
            &format!("envs/{env}/main.tf"),
            "module \"app\" {\n  source = \"../../components/app\"\n}\n",
        );
    }
    f.git_init();
    f.commit_all("base");
    f.git(&["checkout", "-q", "-b", "feature"]);
    commit(&f, "components/net/main.tf", "# edited\n");
    assert_eq!(ls(&f, &["--changed"]), ["dev/envs/dev", "prod/envs/prod"]);
    commit(&f, "envs/prod/main.tf", "# only prod\n");
    assert_eq!(ls(&f, &["--changed=HEAD~1"]), ["prod/envs/prod"]);
}

#[test]
fn a_project_in_a_subdirectory_of_the_repository_maps_its_own_files() {
    let f = Fixture::new();
    f.write("other/notes.md", "not plinth\n")
        .write("infra/plinth.hcl", PLINTH_HCL)
        .write(
            "infra/net/stack.hcl",
            "stack {\n  environments = [\"prod\"]\n}\n",
        )
        .write("infra/net/main.tf", "# net\n");
    f.git_init();
    f.commit_all("base");
    f.write("infra/net/main.tf", "# edited\n")
        .write("other/notes.md", "edited\n");
    let out = f.plinth_in("infra", &["ls", "--json", "--changed"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(instance_ids(&doc), ["prod/net"]);
}

#[test]
fn a_file_of_a_nested_stack_belongs_to_the_innermost_stack_only() {
    let f = Fixture::new();
    f.write("plinth.hcl", PLINTH_HCL)
        .write("net/stack.hcl", "stack {\n  environments = [\"dev\"]\n}\n")
        .write("net/main.tf", "# net\n")
        .write(
            "net/peering/stack.hcl",
            "stack {\n  environments = [\"dev\"]\n}\n",
        )
        .write("net/peering/main.tf", "# peering\n");
    f.git_init();
    f.commit_all("base");
    f.write("net/peering/main.tf", "# edited\n");
    assert_eq!(ls(&f, &["--changed"]), ["dev/net/peering"]);
    f.write("net/main.tf", "# edited\n");
    assert_eq!(ls(&f, &["--changed"]), ["dev/net", "dev/net/peering"]);
}

#[test]
fn in_a_clone_the_default_base_is_origins_default_branch() {
    // CI checks out a branch of a clone whose default branch is not `main`, with no local
    // copy of it: the base must come from `origin/HEAD`.
    let f = Fixture::new();
    f.write("upstream/plinth.hcl", PLINTH_HCL)
        .write("upstream/net/stack.hcl", "stack {}\n")
        .write(
            "upstream/app/stack.hcl",
            "stack {\n  environments = [\"prod\"]\n}\n",
        );
    f.git_in("upstream", &["init", "-q", "-b", "trunk"]);
    f.git_in("upstream", &["add", "-A"]);
    f.git_in("upstream", &["commit", "-q", "-m", "base"]);
    f.git(&["clone", "-q", "upstream", "work"]);
    f.git_in("work", &["checkout", "-q", "-b", "feature"]);
    f.write("work/app/main.tf", "# new\n");
    f.git_in("work", &["add", "-A"]);
    f.git_in("work", &["commit", "-q", "-m", "app code"]);
    f.git_in("work", &["branch", "-q", "-D", "trunk"]);

    let out = f.plinth_in("work", &["ls", "--json", "--changed"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(instance_ids(&doc), ["prod/app"]);
}

#[test]
fn var_files_outside_the_stack_select_each_reader_in_that_environment() {
    let f = Fixture::new();
    f.write(
        "plinth.hcl",
        &PLINTH_HCL.replace(
            r#""${env.name}.tfvars"]"#,
            r#""../../shared/${env.name}.tfvars"]"#,
        ),
    )
    .write("svc/a/stack.hcl", "stack {}\n")
    .write("svc/a/env/dev.tfvars", "size = 1\n")
    .write("svc/b/stack.hcl", "stack {}\n")
    .write(
        "svc/c/stack.hcl",
        "stack {\n  environments = [\"dev\"]\n}\n",
    )
    .write("shared/prod.tfvars", "size = 3\n")
    .write(
        "shared/README.md",
        "per-environment settings of every service\n",
    );
    f.git_init();
    f.commit_all("base");

    // Read by every stack in prod; c has no prod instance.
    f.write("shared/prod.tfvars", "size = 4\n");
    assert_eq!(ls(&f, &["--changed"]), ["prod/svc/a", "prod/svc/b"]);
    let doc = f.json(&["ls", "--json", "--changed"]);
    assert_eq!(
        doc["instances"][0]["reason"],
        "var file shared/prod.tfvars changed"
    );

    // A new shared file for dev: every dev instance reads it.
    f.write("shared/dev.tfvars", "size = 1\n");
    assert_eq!(
        ls(&f, &["dev", "--changed"]),
        ["dev/svc/a", "dev/svc/b", "dev/svc/c"]
    );

    // The in-stack pattern still works next to it; other files in shared/ are nobody's.
    f.git(&["checkout", "-q", "--", "shared"]);
    f.remove("shared/dev.tfvars");
    f.write("shared/README.md", "edited\n")
        .write("svc/a/env/dev.tfvars", "size = 2\n");
    assert_eq!(ls(&f, &["--changed"]), ["dev/svc/a"]);
}
