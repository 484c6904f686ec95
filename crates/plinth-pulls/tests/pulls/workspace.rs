//! Working copies with real git: a mirror from a local repository, a worktree per commit,
//! reuse, prune, concurrency, a half-made worktree, and the token over HTTP (a dumb-HTTP git
//! server that insists on the forge's header).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use plinth_forge::fake::FakeForge;
use plinth_forge::{ForgeKind, GitAuth, pull_head_ref};
use plinth_pulls::{WorkspaceError, Workspaces};

const REPO: &str = "acme/infra";

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .env_remove("GIT_DIR")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A repository as the forge holds it: `main` with two commits, pull request 7's head one
/// commit ahead of the first, under `refs/pull/7/head`.
struct Origin {
    dir: tempfile::TempDir,
    base: String,
    main: String,
    head: String,
}

impl Origin {
    fn new() -> Origin {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        git(p, &["init", "-q", "-b", "main"]);
        std::fs::write(p.join("main.tf"), "# base\n").unwrap();
        git(p, &["add", "."]);
        git(p, &["commit", "-qm", "base"]);
        let base = git(p, &["rev-parse", "HEAD"]);
        git(p, &["checkout", "-qb", "feature"]);
        std::fs::create_dir(p.join("network")).unwrap();
        std::fs::write(p.join("network/main.tf"), "# change\n").unwrap();
        git(p, &["add", "."]);
        git(p, &["commit", "-qm", "change the network"]);
        let head = git(p, &["rev-parse", "HEAD"]);
        git(
            p,
            &["update-ref", &pull_head_ref(ForgeKind::GitHub, 7), &head],
        );
        git(p, &["checkout", "-q", "main"]);
        std::fs::write(p.join("other.tf"), "# main moves on\n").unwrap();
        git(p, &["add", "."]);
        git(p, &["commit", "-qm", "main moves on"]);
        let main = git(p, &["rev-parse", "HEAD"]);
        Origin {
            dir,
            base,
            main,
            head,
        }
    }

    fn url(&self) -> String {
        format!("file://{}", self.dir.path().display())
    }

    /// One more commit on pull request 7's head.
    fn push(&self, file: &str) -> String {
        let p = self.dir.path();
        git(p, &["checkout", "-q", "feature"]);
        std::fs::write(p.join(file), "# pushed\n").unwrap();
        git(p, &["add", "."]);
        git(p, &["commit", "-qm", "push"]);
        let sha = git(p, &["rev-parse", "HEAD"]);
        git(p, &["update-ref", "refs/pull/7/head", &sha]);
        git(p, &["checkout", "-q", "main"]);
        sha
    }
}

async fn auth() -> (GitAuth, String) {
    let forge = FakeForge::start(ForgeKind::GitHub).await;
    let auth = forge
        .client(&plinth_forge::fake::fast_retries())
        .git_auth(REPO)
        .await
        .unwrap();
    (auth, forge.token().to_string())
}

const REFS: [&str; 2] = ["refs/pull/7/head", "main"];

/// Every registered worktree path of the mirror.
fn registered(mirror: &Path) -> Vec<PathBuf> {
    git(mirror, &["worktree", "list", "--porcelain"])
        .lines()
        .filter_map(|l| l.strip_prefix("worktree "))
        .map(PathBuf::from)
        .filter(|p| p != mirror)
        .collect()
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().filter_map(Result::ok) {
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[tokio::test]
async fn a_worktree_per_commit_from_a_mirror_with_merge_base() {
    let origin = Origin::new();
    let data = tempfile::tempdir().unwrap();
    let ws = Workspaces::new(data.path());
    let (auth, _) = auth().await;
    let tree = ws
        .checkout(REPO, &origin.url(), &auth, &REFS, &origin.head)
        .await
        .unwrap();
    assert_eq!(tree.sha(), origin.head);
    assert_eq!(tree.path(), ws.worktree_path(REPO, &origin.head));
    assert_eq!(
        std::fs::read_to_string(tree.path().join("network/main.tf")).unwrap(),
        "# change\n"
    );
    assert!(!tree.path().join("other.tf").exists());
    assert_eq!(git(tree.path(), &["rev-parse", "HEAD"]), origin.head);
    let mirror = ws.mirror_path(REPO);
    assert!(mirror.ends_with("mirrors/acme+infra.git"));
    assert_eq!(git(&mirror, &["rev-parse", "refs/heads/main"]), origin.main);
    assert_eq!(
        git(&mirror, &["rev-parse", "refs/pull/7/head"]),
        origin.head
    );
    assert_eq!(
        ws.merge_base(REPO, &origin.head, "refs/heads/main")
            .await
            .unwrap()
            .as_deref(),
        Some(origin.base.as_str())
    );
    // The tree is clean: no marker or lock of plinth's inside it.
    assert_eq!(
        git(tree.path(), &["status", "--porcelain", "--ignored"]),
        ""
    );
}

#[tokio::test]
async fn a_made_worktree_is_reused_without_fetching() {
    let origin = Origin::new();
    let data = tempfile::tempdir().unwrap();
    let ws = Workspaces::new(data.path());
    let (auth, _) = auth().await;
    let first = ws
        .checkout(REPO, &origin.url(), &auth, &REFS, &origin.head)
        .await
        .unwrap();
    std::fs::write(first.path().join(".terraform-cache"), "kept").unwrap();
    drop(first);
    // The forge is gone: a reuse must not need it.
    let gone = format!("file://{}/missing", data.path().display());
    let again = ws
        .checkout(REPO, &gone, &auth, &REFS, &origin.head)
        .await
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(again.path().join(".terraform-cache")).unwrap(),
        "kept"
    );
    // A new commit needs a fetch, and gets its own worktree.
    let pushed = origin.push("dns.tf");
    assert!(matches!(
        ws.checkout(REPO, &gone, &auth, &REFS, &pushed).await,
        Err(WorkspaceError::Git { .. })
    ));
    let second = ws
        .checkout(REPO, &origin.url(), &auth, &REFS, &pushed)
        .await
        .unwrap();
    assert_ne!(second.path(), again.path());
    assert!(second.path().join("dns.tf").exists());
    assert_eq!(registered(&ws.mirror_path(REPO)).len(), 2);
}

#[tokio::test]
async fn prune_removes_unneeded_worktrees_but_not_one_in_use() {
    let origin = Origin::new();
    let data = tempfile::tempdir().unwrap();
    let ws = Workspaces::new(data.path());
    let (auth, _) = auth().await;
    let old = ws
        .checkout(REPO, &origin.url(), &auth, &REFS, &origin.head)
        .await
        .unwrap();
    let old_path = old.path().to_path_buf();
    let pushed = origin.push("dns.tf");
    let new = ws
        .checkout(REPO, &origin.url(), &auth, &REFS, &pushed)
        .await
        .unwrap();
    let keep: HashSet<String> = [pushed.clone()].into();
    // A job still plans in the old worktree: it stays.
    let report = ws.prune(REPO, &keep).await.unwrap();
    assert_eq!(report.in_use, vec![origin.head.clone()]);
    assert!(report.removed.is_empty());
    assert!(old_path.exists());
    drop(old);
    let report = ws.prune(REPO, &keep).await.unwrap();
    assert_eq!(report.removed, vec![origin.head.clone()]);
    assert!(!old_path.exists());
    assert_eq!(
        registered(&ws.mirror_path(REPO)),
        [new.path().to_path_buf()]
    );
    assert!(new.path().join("dns.tf").exists());
    // Nothing is left of the removed commit beside the kept one.
    let names: Vec<String> = std::fs::read_dir(old_path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(names.iter().all(|n| n.starts_with(&pushed)), "{names:?}");
}

#[tokio::test]
async fn four_tasks_checking_out_one_commit_share_one_worktree() {
    let origin = Origin::new();
    let data = tempfile::tempdir().unwrap();
    let (auth, _) = auth().await;
    let url = origin.url();
    let mut tasks = Vec::new();
    for _ in 0..4 {
        // Separate values, as separate workers (or replicas) would hold.
        let ws = Workspaces::new(data.path());
        let (auth, url, head) = (auth.clone(), url.clone(), origin.head.clone());
        tasks.push(tokio::spawn(async move {
            let tree = ws.checkout(REPO, &url, &auth, &REFS, &head).await.unwrap();
            let content = std::fs::read_to_string(tree.path().join("network/main.tf")).unwrap();
            (tree.path().to_path_buf(), content)
        }));
    }
    let mut paths = HashSet::new();
    for task in tasks {
        let (path, content) = task.await.unwrap();
        assert_eq!(content, "# change\n");
        paths.insert(path);
    }
    assert_eq!(paths.len(), 1);
    let ws = Workspaces::new(data.path());
    assert_eq!(registered(&ws.mirror_path(REPO)).len(), 1);
}

#[tokio::test]
async fn a_half_made_worktree_and_stale_git_locks_are_rebuilt() {
    let origin = Origin::new();
    let data = tempfile::tempdir().unwrap();
    let ws = Workspaces::new(data.path());
    let (auth, _) = auth().await;
    // A first checkout makes the mirror; its worktree is then put back into the state a
    // kill -9 in the middle of `git worktree add` leaves: registered, still "initializing",
    // files missing, no ready marker.
    drop(
        ws.checkout(REPO, &origin.url(), &auth, &REFS, &origin.base)
            .await
            .unwrap(),
    );
    let mirror = ws.mirror_path(REPO);
    let path = ws.worktree_path(REPO, &origin.head);
    git(
        &mirror,
        &[
            "fetch",
            "-q",
            &origin.url(),
            "+refs/pull/7/head:refs/pull/7/head",
        ],
    );
    git(
        &mirror,
        &[
            "worktree",
            "add",
            "-q",
            "--detach",
            "--no-checkout",
            path.to_str().unwrap(),
            &origin.head,
        ],
    );
    let admin = mirror.join("worktrees").join(&origin.head);
    std::fs::write(admin.join("locked"), "initializing").unwrap();
    std::fs::write(path.join("half-written.tf"), "garbage").unwrap();
    // And a ref lock a killed fetch left behind.
    std::fs::write(mirror.join("refs/pull/7/head.lock"), "").unwrap();

    let pushed = origin.push("dns.tf");
    let tree = ws
        .checkout(REPO, &origin.url(), &auth, &REFS, &origin.head)
        .await
        .unwrap();
    assert!(!tree.path().join("half-written.tf").exists());
    assert_eq!(
        std::fs::read_to_string(tree.path().join("network/main.tf")).unwrap(),
        "# change\n"
    );
    assert_eq!(git(tree.path(), &["status", "--porcelain"]), "");
    let again = registered(&mirror);
    assert_eq!(again.iter().filter(|p| **p == path).count(), 1, "{again:?}");
    // The fetch that had to happen for the new head went through the stale lock.
    drop(tree);
    ws.checkout(REPO, &origin.url(), &auth, &REFS, &pushed)
        .await
        .unwrap();
    assert_eq!(git(&mirror, &["rev-parse", "refs/pull/7/head"]), pushed);
}

#[tokio::test]
async fn bad_input_is_refused_before_git_runs() {
    let data = tempfile::tempdir().unwrap();
    let ws = Workspaces::new(data.path());
    let (auth, token) = auth().await;
    let origin = Origin::new();
    let url = origin.url();
    let sha = origin.head.as_str();
    assert!(matches!(
        ws.checkout(REPO, &url, &auth, &REFS, "../../etc").await,
        Err(WorkspaceError::BadCommit(_))
    ));
    for bad in ["--upload-pack=touch /tmp/x", "refs/heads/a..b", "main:main"] {
        assert!(matches!(
            ws.checkout(REPO, &url, &auth, &[bad], sha).await,
            Err(WorkspaceError::BadRef(_))
        ));
    }
    let with_token = format!("https://x-access-token:{token}@github.com/acme/infra.git");
    match ws.checkout(REPO, &with_token, &auth, &REFS, sha).await {
        Err(e @ WorkspaceError::CredentialsInUrl { .. }) => {
            assert!(!e.to_string().contains(&token), "{e}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(!data.path().join("mirrors/acme+infra.git").exists());
    // A commit the forge does not have.
    let missing = "0123456789012345678901234567890123456789";
    assert!(matches!(
        ws.checkout(REPO, &url, &auth, &REFS, missing).await,
        Err(WorkspaceError::CommitNotFound { .. })
    ));
}

/// A git server over git's "dumb" HTTP protocol (static files of a bare repository) that
/// answers 401 unless the request carries `expected` as its `Authorization` header, and
/// records every header value it received.
struct DumbHttp {
    url: String,
    seen: Arc<Mutex<Vec<Option<String>>>>,
    task: tokio::task::JoinHandle<()>,
    _bare: tempfile::TempDir,
}

impl Drop for DumbHttp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Clone)]
struct Served {
    root: PathBuf,
    expected: String,
    seen: Arc<Mutex<Vec<Option<String>>>>,
}

async fn serve_file(
    State(s): State<Served>,
    uri: Uri,
    headers: HeaderMap,
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let sent = headers
        .get("authorization")
        .map(|v| v.to_str().unwrap().to_string());
    s.seen.lock().unwrap().push(sent.clone());
    let mut answer = HeaderMap::new();
    if sent.as_deref() != Some(s.expected.as_str()) {
        answer.insert("www-authenticate", "Basic realm=\"git\"".parse().unwrap());
        return (StatusCode::UNAUTHORIZED, answer, Vec::new());
    }
    let rel = uri.path().trim_start_matches("/acme/infra.git/");
    match std::fs::read(s.root.join(rel)) {
        Ok(bytes) => (StatusCode::OK, answer, bytes),
        Err(_) => (StatusCode::NOT_FOUND, answer, Vec::new()),
    }
}

impl DumbHttp {
    async fn start(origin: &Origin, expected: &str) -> DumbHttp {
        let bare = tempfile::tempdir().unwrap();
        let root = bare.path().join("infra.git");
        git(
            bare.path(),
            &[
                "clone",
                "-q",
                "--mirror",
                origin.dir.path().to_str().unwrap(),
                "infra.git",
            ],
        );
        git(&root, &["update-server-info"]);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let state = Served {
            root,
            expected: expected.to_string(),
            seen: seen.clone(),
        };
        let app = axum::Router::new().fallback(serve_file).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/acme/infra.git", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        DumbHttp {
            url,
            seen,
            task,
            _bare: bare,
        }
    }
}

#[tokio::test]
async fn the_token_travels_as_a_header_and_is_stored_nowhere() {
    let origin = Origin::new();
    let (auth, token) = auth().await;
    let server = DumbHttp::start(&origin, auth.value()).await;
    let data = tempfile::tempdir().unwrap();
    let ws = Workspaces::new(data.path());
    let tree = ws
        .checkout(REPO, &server.url, &auth, &REFS, &origin.head)
        .await
        .unwrap();
    assert!(tree.path().join("network/main.tf").exists());
    {
        let seen = server.seen.lock().unwrap();
        assert!(!seen.is_empty());
        assert!(
            seen.iter().all(|s| s.as_deref() == Some(auth.value())),
            "every request carries the header"
        );
    }
    // Neither the token nor the header is in any file of the data directory.
    let credentials = auth.value().split_once(' ').unwrap().1.to_string();
    for file in files_under(data.path()) {
        let bytes = std::fs::read(&file).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains(&token) && !text.contains(&credentials),
            "{} holds the token",
            file.display()
        );
    }
    assert!(
        !std::fs::read_to_string(ws.mirror_path(REPO).join("config"))
            .unwrap()
            .contains("extraheader")
    );

    // With a token the forge refuses, the error says so without showing it.
    let other = FakeForge::start(ForgeKind::GitHub).await;
    let wrong = other
        .client(&plinth_forge::fake::fast_retries())
        .git_auth(REPO)
        .await
        .unwrap();
    let pushed = origin.push("dns.tf");
    let server = DumbHttp::start(&origin, auth.value()).await;
    match ws.checkout(REPO, &server.url, &wrong, &REFS, &pushed).await {
        Err(e @ WorkspaceError::Git { .. }) => {
            let text = e.to_string();
            assert!(!text.contains(other.token()), "{text}");
            assert!(!text.contains(wrong.value()), "{text}");
            assert!(text.contains("fetch"), "{text}");
        }
        other => panic!("expected a fetch failure, got {other:?}"),
    }
}
