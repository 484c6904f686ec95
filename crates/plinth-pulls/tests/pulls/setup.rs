//! `PullsSetup::load`: secrets from the environment, all missing ones named at once.

use plinth_forge::ForgeKind;
use plinth_forge::fake::TEST_APP_KEY_PEM;

use super::load;

const FILE: &str = r#"server {
  public_url = "https://plinth.example.com/"
  data_dir   = "data"
  workers    = 3
}

forge "gh" {
  type               = "github"
  token_env          = "GH_TOKEN"
  webhook_secret_env = "GH_HOOK_SECRET"
}

forge "lab" {
  type               = "gitlab"
  api_url            = "https://gitlab.example.com/api/v4"
  token_env          = "LAB_TOKEN"
  webhook_secret_env = "LAB_HOOK_TOKEN"
}

repo "acme/infra" {
  forge       = "gh"
  clone_url   = "https://github.com/acme/infra.git"
  appliers    = ["platform-lead"]
  project_dir = "terraform"
}

repo "group/sub/infra" {
  forge = "lab"
}
"#;

const SECRETS: [(&str, &str); 4] = [
    ("GH_TOKEN", "ghp_secret-token-value"),
    ("GH_HOOK_SECRET", "gh-hook-secret-value"),
    ("LAB_TOKEN", "glpat-secret-token-value"),
    ("LAB_HOOK_TOKEN", "lab-hook-secret-value"),
];

#[test]
fn every_missing_variable_is_named_at_once_at_its_attribute() {
    let dir = tempfile::tempdir().unwrap();
    let errors = load(
        FILE,
        dir.path(),
        &[("GH_TOKEN", "t"), ("LAB_HOOK_TOKEN", "   ")],
    )
    .unwrap_err();
    assert_eq!(
        errors,
        [
            "plinth-server.hcl:10:24: forge `gh`: the environment variable GH_HOOK_SECRET is unset or empty",
            "plinth-server.hcl:16:24: forge `lab`: the environment variable LAB_TOKEN is unset or empty",
            "plinth-server.hcl:17:24: forge `lab`: the environment variable LAB_HOOK_TOKEN is unset or empty",
        ]
    );
}

#[test]
fn a_complete_environment_gives_clients_repos_and_settings() {
    let dir = tempfile::tempdir().unwrap();
    let setup = load(FILE, dir.path(), &SECRETS).unwrap();
    assert_eq!(setup.forges().len(), 2);
    assert_eq!(setup.forge("lab").unwrap().kind(), ForgeKind::GitLab);
    assert_eq!(
        setup.forge("lab").unwrap().api_url(),
        "https://gitlab.example.com/api/v4"
    );
    let repo = setup
        .repo("ACME/Infra")
        .expect("names compare without case");
    assert_eq!(repo.name, "acme/infra");
    assert_eq!(repo.forge, "gh");
    assert_eq!(repo.kind, ForgeKind::GitHub);
    assert_eq!(
        repo.clone_url.as_deref(),
        Some("https://github.com/acme/infra.git")
    );
    assert_eq!(
        repo.appliers.as_deref(),
        Some(&["platform-lead".to_string()][..])
    );
    assert_eq!(repo.project_dir, "terraform");
    let gitlab = setup.repo("group/sub/infra").unwrap();
    assert_eq!(
        (gitlab.clone_url.as_deref(), gitlab.appliers.as_deref()),
        (None, None)
    );
    assert_eq!(gitlab.project_dir, ".");
    assert_eq!(
        setup.forge_of("group/sub/infra").unwrap().kind(),
        ForgeKind::GitLab
    );
    assert!(setup.forge_of("acme/other").is_none());
    assert_eq!(setup.data_dir(), dir.path().join("data"));
    assert_eq!(setup.public_url(), Some("https://plinth.example.com"));
    assert_eq!(setup.workers(), 3);
}

#[test]
fn debug_output_never_shows_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let setup = load(FILE, dir.path(), &SECRETS).unwrap();
    let debug = format!("{setup:?} {:?}", setup.forges());
    assert!(
        debug.contains("gh") && debug.contains("REDACTED"),
        "{debug}"
    );
    for (_, value) in SECRETS {
        assert!(!debug.contains(value), "{value} in {debug}");
    }
}

#[test]
fn without_data_dir_it_sits_next_to_the_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let text = FILE.replace("  data_dir   = \"data\"\n", "");
    let setup = load(&text, dir.path(), &SECRETS).unwrap();
    assert_eq!(
        setup.data_dir(),
        std::path::Path::new("/nonexistent/server")
    );
    assert_eq!(setup.workers(), 3);
}

#[test]
fn a_github_app_key_is_read_relative_to_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.pem"), TEST_APP_KEY_PEM).unwrap();
    let text = "forge \"app\" {\n  type = \"github\"\n  app_id = 42\n  private_key_file = \"app.pem\"\n  webhook_secret_env = \"S\"\n}\n";
    let setup = load(text, dir.path(), &[("S", "hook")]).unwrap();
    assert_eq!(setup.forge("app").unwrap().kind(), ForgeKind::GitHub);
    assert!(!format!("{setup:?}").contains("PRIVATE KEY"));

    let missing = text.replace("app.pem", "missing.pem");
    let errors = load(&missing, dir.path(), &[]).unwrap_err();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0].starts_with(
            "plinth-server.hcl:4:22: forge `app`: cannot read the GitHub App's private key"
        ),
        "{errors:?}"
    );
    assert!(
        errors[1].starts_with("plinth-server.hcl:5:24: forge `app`: the environment variable S"),
        "{errors:?}"
    );
}

#[test]
fn names_the_store_cannot_key_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = "forge \"my forge\" {\n  type = \"gitea\"\n  token_env = \"T\"\n  webhook_secret_env = \"S\"\n}\n";
    let errors = load(text, dir.path(), &[("T", "t"), ("S", "s")]).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("plinth-server.hcl:1:7: forge name `my forge`"),
        "{errors:?}"
    );
}
