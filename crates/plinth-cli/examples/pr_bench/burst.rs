//! GitHub's deliveries (`@octokit/webhooks-examples`, re-pointed at the benchmark's
//! repository) and the concurrent senders that time each answer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use plinth_forge::fake::payloads::github::OctokitExamples;
use plinth_forge::fake::webhooks::Delivery;
use serde_json::Value;

/// The repository the server serves.
pub const REPO: &str = "acme/infra";
/// The forge block's webhook secret.
pub const SECRET: &str = "bench-webhook-secret-0123456789abcdef";
/// Who comments `plinth plan` (its runs are the fresh plans asked for).
pub const PLANNER: (&str, u64) = ("alice", 1001);
/// Who comments everything else.
pub const CHATTER: (&str, u64) = ("bob", 1002);

/// A `pull_request` delivery with `action` for pull request `number` at `head` into `main`
/// at `base`, fetched from `clone_url`.
pub fn pull_event(clone_url: &str, action: &str, number: u64, head: &str, base: &str) -> Delivery {
    OctokitExamples::get()
        .example("pull_request", Some(action))
        .repo(REPO)
        .clone_url(clone_url)
        .number(number)
        .head(head)
        .base(base, "main")
        .draft(false)
        .sender("octocat", 583231)
        .delivery(SECRET)
}

/// An `issue_comment created` delivery on pull request `number`.
pub fn comment(number: u64, id: u64, body: &str, who: (&str, u64)) -> Delivery {
    OctokitExamples::get()
        .example("issue_comment", Some("created"))
        .repo(REPO)
        .on_pull_request()
        .number(number)
        .comment(id, body)
        .commenter(who.0, who.1)
        .delivery(SECRET)
}

/// One delivery to send.
pub struct Send {
    /// What it is (`opened`, `redelivery`, …), for the table.
    pub label: &'static str,
    /// The delivery.
    pub delivery: Delivery,
}

/// One answer, timed.
#[derive(Debug, Clone)]
pub struct Sample {
    /// What was sent.
    pub label: &'static str,
    /// The HTTP status (0: no answer).
    pub status: u16,
    /// From before the request was written until the whole answer was read.
    pub latency: Duration,
}

/// POSTs `delivery` to `url`; the status, the JSON answer and the round trip.
pub async fn post(
    client: &reqwest::Client,
    url: &str,
    delivery: &Delivery,
) -> (u16, Value, Duration) {
    let t = Instant::now();
    let mut request = client.post(url).body(delivery.body.clone());
    for (name, value) in &delivery.headers {
        request = request.header(name, value);
    }
    let (status, body) = match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let body = response.bytes().await.unwrap_or_default();
            (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
        }
        Err(e) => {
            eprintln!("delivery {} failed: {e}", delivery.id);
            (0, Value::Null)
        }
    };
    (status, body, t.elapsed())
}

/// Sends every lane's deliveries, each lane in order from its own client (its own
/// connection, as separate forge senders have), all lanes at once; the samples and how long
/// the whole burst took to send, from when it started.
pub async fn fire(url: &str, lanes: Vec<Vec<Send>>) -> (Vec<Sample>, Instant, Duration) {
    let start = Arc::new(tokio::sync::Barrier::new(lanes.len() + 1));
    let mut tasks = Vec::new();
    for lane in lanes {
        let start = Arc::clone(&start);
        let url = url.to_string();
        tasks.push(tokio::spawn(async move {
            let client = crate::server::http_client();
            start.wait().await;
            let mut samples = Vec::with_capacity(lane.len());
            for send in lane {
                let (status, _, latency) = post(&client, &url, &send.delivery).await;
                samples.push(Sample {
                    label: send.label,
                    status,
                    latency,
                });
            }
            samples
        }));
    }
    start.wait().await;
    let t0 = Instant::now();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("a sender does not panic"));
    }
    (all, t0, t0.elapsed())
}
