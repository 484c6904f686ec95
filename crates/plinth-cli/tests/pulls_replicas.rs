//! Two `plinth serve` replicas on one PostgreSQL database take a burst of deliveries sent to
//! either of them: every job runs exactly once, on one replica, which the stand-in forge's
//! recorded calls show.

mod pulls_support;
mod serve_support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use plinth_forge::ForgeKind;
use plinth_forge::fake::FakePull;
use plinth_forge::fake::payloads::github::OctokitExamples;
use pulls_support::{PullsEnv, REPO, SECRET, STACKS, two_stacks};
use serve_support::Db;

#[test]
fn two_replicas_share_a_burst_of_fifty_deliveries_and_run_each_job_once() {
    let env = PullsEnv::start_on(ForgeKind::GitHub, Db::postgres(), two_stacks, STACKS);
    let second = env.second_replica();
    let head = env.sha("HEAD");
    const N: u64 = 50;
    for n in 1..=N {
        env.forge.set_pull(REPO, n, FakePull::open(&head));
    }
    // Sent from four threads, alternating between the replicas.
    let deliveries: Vec<_> = (1..=N)
        .map(|n| {
            OctokitExamples::get()
                .example("issue_comment", Some("created"))
                .repo(REPO)
                .on_pull_request()
                .number(n)
                .comment(10_000 + n, "plinth help")
                .commenter("alice", 1001)
                .delivery(SECRET)
        })
        .collect();
    let urls = [env.server.url.clone(), second.url.clone()];
    std::thread::scope(|scope| {
        for chunk in deliveries.chunks(13).enumerate() {
            let (i, chunk) = chunk;
            let url = urls[i % 2].clone();
            let env = &env;
            scope.spawn(move || {
                for d in chunk {
                    let headers: Vec<(String, String)> = d
                        .headers
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_string()))
                        .collect();
                    let refs: Vec<(&str, &str)> = headers
                        .iter()
                        .map(|(k, v)| (k.as_str(), v.as_str()))
                        .collect();
                    let (status, body) = env.server.http(
                        None,
                        "POST",
                        &format!("{url}/webhooks/github"),
                        d.body.clone(),
                        &refs,
                    );
                    assert_eq!(status, 202, "{}", String::from_utf8_lossy(&body));
                }
            });
        }
    });
    // Every pull request answered, once.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let answered = (1..=N).filter(|n| !env.comments(*n).is_empty()).count() as u64;
        if answered == N && (1..=N).all(|n| env.pull(n)["idle"] == true) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{answered} of {N} answered\n{}\n{}",
            env.server.log(),
            second.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let posts = env
        .forge
        .calls_to("POST", &format!("/repos/{REPO}/issues/"));
    let mut per_pull: BTreeMap<u64, usize> = BTreeMap::new();
    for call in &posts {
        let n: u64 = call.path.split('/').nth(5).unwrap().parse().unwrap();
        *per_pull.entry(n).or_default() += 1;
    }
    assert_eq!(per_pull.len() as u64, N);
    assert!(
        per_pull.values().all(|c| *c == 1),
        "a job ran twice: {per_pull:?}"
    );
    // Each job was claimed once, and both replicas took some.
    let mut workers = BTreeMap::new();
    for n in 1..=N {
        let view = env.pull(n);
        for job in view["jobs"].as_array().unwrap() {
            assert_eq!(job["attempts"], 1, "{job}");
            let (_, detail) = env
                .server
                .api(&env.read, "GET", &format!("/v1/jobs/{}", job["id"]));
            let replica = detail["worker"]
                .as_str()
                .unwrap()
                .rsplit_once('-')
                .unwrap()
                .0
                .to_string();
            *workers.entry(replica).or_insert(0) += 1;
        }
    }
    assert_eq!(workers.values().sum::<i32>(), N as i32);
    assert_eq!(workers.len(), 2, "both replicas worked: {workers:?}");
}
