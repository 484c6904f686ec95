//! `Intake::accept` on a real SQLite store with deliveries signed as each forge signs them.

use std::sync::Arc;

use plinth_forge::fake::payloads::github::{GitHubPayload, OctokitExamples};
use plinth_forge::fake::payloads::{gitea, gitlab};
use plinth_forge::fake::webhooks::{Delivery, delivery};
use plinth_forge::webhook::decode;
use plinth_forge::{Event, ForgeKind};
use plinth_pulls::{Accepted, Intake, Refusal, decode_stored};
use plinth_state::{Sealer, Store, StoreOptions};

use super::load;

const GH_SECRET: &str = "gh-webhook-secret";
const GHES_SECRET: &str = "ghes-webhook-secret";
const LAB_SECRET: &str = "lab-webhook-token";
const TEA_SECRET: &str = "gitea-webhook-secret";
const HEAD: &str = "1111111111111111111111111111111111111111";

const FILE: &str = r#"
forge "gh" {
  type = "github"
  token_env = "GH_TOKEN"
  webhook_secret_env = "GH_SECRET"
}
forge "ghes" {
  type = "github"
  api_url = "https://ghes.example.com/api/v3"
  token_env = "GH_TOKEN"
  webhook_secret_env = "GHES_SECRET"
}
forge "lab" {
  type = "gitlab"
  token_env = "GH_TOKEN"
  webhook_secret_env = "LAB_SECRET"
}
forge "tea" {
  type = "gitea"
  token_env = "GH_TOKEN"
  webhook_secret_env = "TEA_SECRET"
}
repo "acme/infra" {
  forge = "gh"
}
repo "corp/platform" {
  forge = "ghes"
}
repo "group/sub/infra" {
  forge = "lab"
}
repo "acme/gitea-infra" {
  forge = "tea"
}
"#;

struct Fixture {
    intake: Intake,
    store: Store,
    _dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let setup = load(
        FILE,
        dir.path(),
        &[
            ("GH_TOKEN", "token"),
            ("GH_SECRET", GH_SECRET),
            ("GHES_SECRET", GHES_SECRET),
            ("LAB_SECRET", LAB_SECRET),
            ("TEA_SECRET", TEA_SECRET),
        ],
    )
    .unwrap();
    let url = format!("sqlite:{}", dir.path().join("state.db").display());
    let store = Store::open(StoreOptions::new(url, Sealer::insecure_plaintext()))
        .await
        .unwrap();
    Fixture {
        intake: Intake::new(Arc::new(setup), store.clone()),
        store,
        _dir: dir,
    }
}

fn examples() -> &'static OctokitExamples {
    OctokitExamples::get()
}

fn opened(repo: &str, number: u64) -> GitHubPayload {
    examples()
        .example("pull_request", Some("opened"))
        .repo(repo)
        .number(number)
        .head(HEAD)
}

impl Fixture {
    async fn accept(&self, kind: ForgeKind, d: &Delivery) -> Result<Accepted, Refusal> {
        self.intake.accept(kind, &d.headers, &d.body).await
    }

    async fn job_count(&self) -> i64 {
        self.store.job_counts().await.unwrap().queued
    }
}

fn job(accepted: Result<Accepted, Refusal>) -> i64 {
    match accepted {
        Ok(Accepted::New(job)) => job,
        other => panic!("expected a new job, got {other:?}"),
    }
}

#[tokio::test]
async fn a_github_pull_request_is_stored_with_its_job_under_the_pull_key() {
    let f = fixture().await;
    let d = opened("acme/infra", 7).delivery(GH_SECRET);
    let id = job(f.accept(ForgeKind::GitHub, &d).await);
    let stored = f
        .store
        .delivery("gh", &d.id)
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(
        (stored.repo.as_str(), stored.event.as_str(), stored.job),
        ("acme/infra", "pull_request", Some(id))
    );
    assert_eq!(
        stored.payload,
        serde_json::from_slice::<serde_json::Value>(&d.body).unwrap()
    );
    let details = f.store.job(id).await.unwrap().unwrap();
    assert_eq!(details.serial_key, "pull:acme/infra#7");
    assert_eq!(details.kind, plinth_state::DELIVERY_JOB_KIND);
    // The job decodes the stored delivery back into the same event.
    let body = serde_json::to_vec(&stored.payload).unwrap();
    let again = decode_stored(ForgeKind::GitHub, &stored.event, &body).unwrap();
    assert_eq!(
        again,
        decode(ForgeKind::GitHub, &d.headers, &d.body).unwrap()
    );
    assert!(matches!(again, Event::PullRequest(pr) if pr.number == 7 && pr.head_sha == HEAD));
}

#[tokio::test]
async fn a_redelivery_is_accepted_once() {
    let f = fixture().await;
    let d = opened("acme/infra", 7).delivery(GH_SECRET);
    job(f.accept(ForgeKind::GitHub, &d).await);
    assert_eq!(
        f.accept(ForgeKind::GitHub, &d.redelivery()).await,
        Ok(Accepted::Duplicate)
    );
    assert_eq!(f.job_count().await, 1);
}

#[tokio::test]
async fn bad_and_missing_signatures_are_unauthorized_and_store_nothing() {
    let f = fixture().await;
    let wrong = opened("acme/infra", 7).delivery("not-the-secret");
    let missing = opened("acme/infra", 7)
        .delivery(GH_SECRET)
        .with_header("x-hub-signature-256", None);
    let sha1 = opened("acme/infra", 7)
        .delivery(GH_SECRET)
        .with_header("x-hub-signature-256", Some("sha1=0123"));
    for (d, says) in [
        (&wrong, "does not match"),
        (&missing, "no x-hub-signature-256 header"),
        (&sha1, "sha256="),
    ] {
        match f.accept(ForgeKind::GitHub, d).await {
            Err(Refusal::Unauthorized(m)) => {
                assert!(m.contains(says), "{m}");
                assert!(!m.contains(GH_SECRET) && !m.contains(GHES_SECRET), "{m}");
            }
            other => panic!("expected 401, got {other:?}"),
        }
        assert!(f.store.delivery("gh", &d.id).await.unwrap().is_none());
    }
    // A GitLab token that is wrong, and a body tampered after signing.
    let lab = gitlab::GitLabMergeRequest::new("group/sub/infra", 3, HEAD)
        .event("open")
        .delivery("wrong-token");
    assert!(matches!(
        f.accept(ForgeKind::GitLab, &lab).await,
        Err(Refusal::Unauthorized(_))
    ));
    let mut tampered = opened("acme/infra", 7).delivery(GH_SECRET);
    tampered.body.push(b' ');
    assert!(matches!(
        f.accept(ForgeKind::GitHub, &tampered).await,
        Err(Refusal::Unauthorized(_))
    ));
    assert_eq!(f.job_count().await, 0);
}

#[tokio::test]
async fn each_forge_block_of_a_type_verifies_with_its_own_secret() {
    let f = fixture().await;
    let d = opened("corp/platform", 2).delivery(GHES_SECRET);
    job(f.accept(ForgeKind::GitHub, &d).await);
    assert!(f.store.delivery("ghes", &d.id).await.unwrap().is_some());
    assert!(f.store.delivery("gh", &d.id).await.unwrap().is_none());
    // Signed by github.com's secret, but the repository is the Enterprise Server's.
    let cross = opened("corp/platform", 2).delivery(GH_SECRET);
    match f.accept(ForgeKind::GitHub, &cross).await {
        Err(Refusal::Forbidden(m)) => assert!(m.contains("forge `ghes`, not `gh`"), "{m}"),
        other => panic!("expected 403, got {other:?}"),
    }
}

#[tokio::test]
async fn unlisted_repositories_are_forbidden() {
    let f = fixture().await;
    let d = opened("acme/other", 1).delivery(GH_SECRET);
    match f.accept(ForgeKind::GitHub, &d).await {
        Err(Refusal::Forbidden(m)) => assert!(m.contains("acme/other"), "{m}"),
        other => panic!("expected 403, got {other:?}"),
    }
    // Even an event plinth would ignore: the sender learns the repository is not served.
    let push = examples()
        .example("push", None)
        .repo("acme/other")
        .delivery(GH_SECRET);
    assert!(matches!(
        f.accept(ForgeKind::GitHub, &push).await,
        Err(Refusal::Forbidden(_))
    ));
    assert_eq!(f.job_count().await, 0);
}

#[tokio::test]
async fn malformed_deliveries_are_bad_requests() {
    let f = fixture().await;
    let not_json = delivery(
        ForgeKind::GitHub,
        "pull_request",
        b"{\"action\":".to_vec(),
        GH_SECRET,
    );
    match f.accept(ForgeKind::GitHub, &not_json).await {
        Err(Refusal::BadRequest(m)) => assert!(m.contains("not JSON"), "{m}"),
        other => panic!("expected 400, got {other:?}"),
    }
    let no_id = opened("acme/infra", 7)
        .delivery(GH_SECRET)
        .with_header("x-github-delivery", None);
    match f.accept(ForgeKind::GitHub, &no_id).await {
        Err(Refusal::BadRequest(m)) => assert!(m.contains("X-GitHub-Delivery"), "{m}"),
        other => panic!("expected 400, got {other:?}"),
    }
    let mut shapeless = opened("acme/infra", 7);
    shapeless.json["pull_request"]["head"] = serde_json::json!("nope");
    match f
        .accept(ForgeKind::GitHub, &shapeless.delivery(GH_SECRET))
        .await
    {
        Err(Refusal::BadRequest(m)) => assert!(m.starts_with("pull_request payload"), "{m}"),
        other => panic!("expected 400, got {other:?}"),
    }
    assert_eq!(f.job_count().await, 0);
}

#[tokio::test]
async fn ignored_events_are_answered_and_not_stored() {
    let f = fixture().await;
    let push = examples()
        .example("push", None)
        .repo("acme/infra")
        .delivery(GH_SECRET);
    let edited = examples()
        .example("issue_comment", Some("edited"))
        .repo("acme/infra")
        .on_pull_request()
        .delivery(GH_SECRET);
    for d in [&push, &edited] {
        match f.accept(ForgeKind::GitHub, d).await {
            Ok(Accepted::Ignored(reason)) => assert!(!reason.is_empty()),
            other => panic!("expected ignored, got {other:?}"),
        }
        assert!(f.store.delivery("gh", &d.id).await.unwrap().is_none());
    }
    assert_eq!(f.job_count().await, 0);
}

#[tokio::test]
async fn comments_queue_under_their_pull_request() {
    let f = fixture().await;
    let c = examples()
        .example("issue_comment", Some("created"))
        .repo("acme/infra")
        .number(7)
        .on_pull_request()
        .comment(99, "plinth plan")
        .delivery(GH_SECRET);
    let id = job(f.accept(ForgeKind::GitHub, &c).await);
    assert_eq!(
        f.store.job(id).await.unwrap().unwrap().serial_key,
        "pull:acme/infra#7"
    );
}

#[tokio::test]
async fn gitlab_and_gitea_deliveries_are_stored() {
    let f = fixture().await;
    let mr = gitlab::GitLabMergeRequest::new("group/sub/infra", 3, HEAD);
    let note = mr
        .note(1244, "plinth apply staging", ("sre", 77))
        .delivery(LAB_SECRET);
    let open = mr.event("open").delivery(LAB_SECRET);
    for d in [&open, &note] {
        let id = job(f.accept(ForgeKind::GitLab, d).await);
        let details = f.store.job(id).await.unwrap().unwrap();
        assert_eq!(details.serial_key, "pull:group/sub/infra#3");
        let stored = f.store.delivery("lab", &d.id).await.unwrap().unwrap();
        let body = serde_json::to_vec(&stored.payload).unwrap();
        assert_eq!(
            decode_stored(ForgeKind::GitLab, &stored.event, &body).unwrap(),
            decode(ForgeKind::GitLab, &d.headers, &d.body).unwrap()
        );
    }
    let pr = gitea::GiteaPull::new("acme/gitea-infra", 5, HEAD);
    let sync = pr.synchronized().delivery(TEA_SECRET);
    let comment = pr
        .comment(91, "plinth plan", ("bob", 12), "created")
        .delivery(TEA_SECRET);
    for d in [&sync, &comment] {
        let id = job(f.accept(ForgeKind::Gitea, d).await);
        assert_eq!(
            f.store.job(id).await.unwrap().unwrap().serial_key,
            "pull:acme/gitea-infra#5"
        );
        let stored = f.store.delivery("tea", &d.id).await.unwrap().unwrap();
        let body = serde_json::to_vec(&stored.payload).unwrap();
        assert_eq!(
            decode_stored(ForgeKind::Gitea, &stored.event, &body).unwrap(),
            decode(ForgeKind::Gitea, &d.headers, &d.body).unwrap()
        );
    }
    assert_eq!(f.job_count().await, 4);
}

#[tokio::test]
async fn the_repo_block_spelling_keys_the_job() {
    let f = fixture().await;
    let d = opened("ACME/Infra", 7).delivery(GH_SECRET);
    let id = job(f.accept(ForgeKind::GitHub, &d).await);
    assert_eq!(
        f.store.job(id).await.unwrap().unwrap().serial_key,
        "pull:acme/infra#7"
    );
    assert_eq!(
        f.store.delivery("gh", &d.id).await.unwrap().unwrap().repo,
        "acme/infra"
    );
}

#[tokio::test]
async fn a_forge_type_without_a_block_is_not_configured() {
    let dir = tempfile::tempdir().unwrap();
    let text = "forge \"gh\" {\n  type = \"github\"\n  token_env = \"T\"\n  webhook_secret_env = \"S\"\n}\n";
    let setup = load(text, dir.path(), &[("T", "t"), ("S", "s")]).unwrap();
    let url = format!("sqlite:{}", dir.path().join("state.db").display());
    let store = Store::open(StoreOptions::new(url, Sealer::insecure_plaintext()))
        .await
        .unwrap();
    let intake = Intake::new(Arc::new(setup), store);
    let d = gitea::GiteaPull::new("acme/infra", 1, HEAD)
        .event("opened")
        .delivery("s");
    assert!(matches!(
        intake.accept(ForgeKind::Gitea, &d.headers, &d.body).await,
        Err(Refusal::NotConfigured(_))
    ));
}
