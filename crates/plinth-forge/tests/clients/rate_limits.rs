//! Rate limits and server errors: the forge's wait is honoured, retries are bounded, and a
//! wait longer than the budget fails at once with a clear error.

use std::time::{Duration, Instant};

use plinth_forge::fake::{FakeForge, FakePull, Injection, fast_retries};
use plinth_forge::{ClientConfig, ForgeError, ForgeKind, RetryPolicy};

const REPO: &str = "acme/infra";

async fn with_pull(kind: ForgeKind) -> FakeForge {
    let fake = FakeForge::start(kind).await;
    fake.set_pull(REPO, 7, FakePull::open("a1"));
    fake
}

#[tokio::test]
async fn a_secondary_limit_waits_the_retry_after_then_succeeds() {
    let fake = with_pull(ForgeKind::GitHub).await;
    fake.inject(
        1,
        Injection::SecondaryRateLimit {
            retry_after_secs: 1,
        },
    );
    let client = fake.client(&fast_retries());
    let started = Instant::now();
    let info = client.pull_request(REPO, 7).await.unwrap();
    let took = started.elapsed();
    assert_eq!(info.head_sha, "a1");
    let statuses: Vec<u16> = fake.calls().iter().map(|c| c.status).collect();
    assert_eq!(statuses, [403, 200]);
    // The forge's 1 s, not the 20 ms backoff of the policy.
    assert!(took >= Duration::from_secs(1), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
}

#[tokio::test]
async fn a_primary_limit_waits_for_the_reset() {
    let fake = with_pull(ForgeKind::GitHub).await;
    fake.inject(2, Injection::PrimaryRateLimit { reset_in_secs: 0 });
    let info = fake
        .client(&fast_retries())
        .pull_request(REPO, 7)
        .await
        .unwrap();
    assert_eq!(info.head_sha, "a1");
    assert_eq!(fake.calls().len(), 3);
}

#[tokio::test]
async fn gitlabs_429_is_retried_for_any_method() {
    let fake = with_pull(ForgeKind::GitLab).await;
    fake.inject(1, Injection::GitLabRateLimit { reset_in_secs: 0 });
    let client = fake.client(&fast_retries());
    // POST too: a rate-limited request was not acted on.
    client.post_comment(REPO, 7, "hello").await.unwrap();
    assert_eq!(fake.comments(REPO, 7).len(), 1);
    let statuses: Vec<u16> = fake.calls().iter().map(|c| c.status).collect();
    assert_eq!(statuses, [429, 201]);
}

#[tokio::test]
async fn a_limit_that_persists_gives_up_after_the_retries() {
    let fake = with_pull(ForgeKind::GitHub).await;
    fake.inject(
        10,
        Injection::SecondaryRateLimit {
            retry_after_secs: 0,
        },
    );
    let config = fast_retries();
    let started = Instant::now();
    let err = fake
        .client(&config)
        .pull_request(REPO, 7)
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    match &err {
        ForgeError::RateLimited {
            attempts,
            retry_after,
            ..
        } => {
            assert_eq!(*attempts, config.retry.max_retries + 1);
            assert_eq!(*retry_after, Some(Duration::ZERO));
        }
        other => panic!("{other}"),
    }
    assert_eq!(fake.calls().len(), (config.retry.max_retries + 1) as usize);
    let text = err.to_string();
    assert!(
        text.starts_with("github GET /repos/acme/infra/pulls/7: rate limited"),
        "{text}"
    );
}

#[tokio::test]
async fn a_wait_beyond_the_budget_fails_at_once() {
    let fake = with_pull(ForgeKind::GitHub).await;
    fake.inject(
        1,
        Injection::SecondaryRateLimit {
            retry_after_secs: 3600,
        },
    );
    let started = Instant::now();
    let err = fake
        .client(&fast_retries())
        .pull_request(REPO, 7)
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(
        matches!(err, ForgeError::RateLimited { attempts: 1, .. }),
        "{err}"
    );
    assert!(err.is_transient());
    assert!(err.to_string().contains("asks to wait 3600 s"), "{err}");
    assert_eq!(fake.calls().len(), 1);
}

#[tokio::test]
async fn server_errors_are_retried_only_where_repeating_is_safe() {
    let fake = with_pull(ForgeKind::Gitea).await;
    let client = fake.client(&fast_retries());
    fake.inject(2, Injection::Status(502));
    assert_eq!(client.pull_request(REPO, 7).await.unwrap().head_sha, "a1");
    assert_eq!(fake.calls().len(), 3);

    // A POST that met a 502 may have been acted on: not repeated.
    fake.clear_calls();
    fake.inject(1, Injection::Status(502));
    let err = client.post_comment(REPO, 7, "hello").await.unwrap_err();
    assert_eq!(err.status(), Some(502));
    assert_eq!(fake.calls().len(), 1);
    assert!(fake.comments(REPO, 7).is_empty());
}

#[tokio::test]
async fn the_backoff_grows_and_stays_within_the_budget() {
    let fake = with_pull(ForgeKind::GitHub).await;
    // A server error names no wait: the policy's backoff, doubling up to its cap.
    let config = ClientConfig {
        retry: RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(50),
            max_delay: Duration::from_millis(120),
            max_total_wait: Duration::from_secs(5),
        },
        ..ClientConfig::default()
    };
    fake.inject(3, Injection::Status(503));
    let started = Instant::now();
    fake.client(&config).pull_request(REPO, 7).await.unwrap();
    let took = started.elapsed();
    // 50 + 100 + 120 ms.
    assert!(took >= Duration::from_millis(270), "{took:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert_eq!(fake.calls().len(), 4);
}

#[tokio::test]
async fn an_unreachable_forge_is_a_transport_error_naming_the_request() {
    let fake = FakeForge::start(ForgeKind::GitLab).await;
    let client = fake.client(&fast_retries());
    drop(fake);
    let err = client.pull_request(REPO, 7).await.unwrap_err();
    assert!(matches!(err, ForgeError::Transport { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with("gitlab GET /api/v4/projects/acme%2Finfra/merge_requests/7"),
        "{err}"
    );
}
