//! The overview's per-instance summary on both databases: each instance's last apply stays the
//! newest one in the history when runs arrive out of order and when a re-post (same run id)
//! withdraws, changes or backdates a result; totals, filters and paging of the overview; and
//! the migration's backfill of a database that already has a history.

mod common;

use std::collections::BTreeMap;

use plinth_state::{
    CopyStatus, CopyUpdate, DriftStatus, InstanceId, Overview, OverviewQuery, PullRef, PutMode,
    RunInstanceReport, RunReport, RunSource, Scope, Store,
};

use common::{Db, actor, open};

const PROJECT: &str = "atropos";

/// `2026-11-22T10:MM:00Z`.
fn at(minute: u32) -> String {
    format!("2026-11-22T10:{minute:02}:00Z")
}

fn report(id: &str, action: &str, env: &str, minute: u32, results: &[(&str, &str)]) -> RunReport {
    RunReport {
        run_id: id.into(),
        project: PROJECT.into(),
        action: action.into(),
        env: env.into(),
        status: "succeeded".into(),
        who: Some(format!("{id}@ci")),
        commit: Some(format!("commit-{id}")),
        source: RunSource::Cli,
        started_at: at(minute),
        finished_at: None,
        from_plan: None,
        approved_destructive: false,
        skipped_promotion: None,
        instances: results
            .iter()
            .map(|(stack, status)| RunInstanceReport {
                stack: (*stack).into(),
                status: (*status).into(),
                add: 0,
                change: 0,
                destroy: 0,
                preview_only: false,
                reason: None,
                duration_ms: 10,
                log: None,
            })
            .collect(),
    }
}

fn state() -> bytes::Bytes {
    bytes::Bytes::from_static(
        br#"{"version":4,"terraform_version":"1.11.4","serial":1,"lineage":"l","outputs":{},"resources":[]}"#,
    )
}

fn everything() -> OverviewQuery {
    OverviewQuery {
        project: Some(PROJECT.into()),
        filter: None,
        problems: false,
        page: 1,
        per_page: 10_000,
    }
}

/// Every listed instance's last apply as `(run id, status)`.
async fn last_applies(store: &Store) -> BTreeMap<(String, String), Option<(String, String)>> {
    let overview = store.dashboard_overview(&everything()).await.unwrap();
    overview
        .instances
        .into_iter()
        .map(|i| ((i.env, i.stack), i.last_apply.map(|a| (a.run_id, a.status))))
        .collect()
}

async fn last_apply(store: &Store, env: &str, stack: &str) -> Option<(String, String)> {
    last_applies(store)
        .await
        .remove(&(env.to_owned(), stack.to_owned()))
        .unwrap_or_else(|| panic!("{env}/{stack} is not listed"))
}

fn shown(run: &str, status: &str) -> Option<(String, String)> {
    Some((run.into(), status.into()))
}

async fn last_apply_follows_the_history(db: Db) {
    let store = open(&db).await;
    let ci = actor("ci", Scope::Write);
    let net = InstanceId::new(PROJECT, "dev", "net").unwrap();
    store
        .write_state(&net, state(), None, None, &ci)
        .await
        .unwrap();
    assert_eq!(last_apply(&store, "dev", "net").await, None, "state only");

    let b = report(
        "r-02",
        "apply",
        "dev",
        20,
        &[("net", "succeeded"), ("app", "failed")],
    );
    store.record_run(&b, &ci).await.unwrap();
    assert_eq!(
        last_apply(&store, "dev", "net").await,
        shown("r-02", "succeeded")
    );
    // An older run recorded later does not hide the newer one.
    let a = report("r-01", "apply", "dev", 10, &[("net", "failed")]);
    store.record_run(&a, &ci).await.unwrap();
    assert_eq!(
        last_apply(&store, "dev", "net").await,
        shown("r-02", "succeeded")
    );
    // Same start: the greater run id is newer; a skipped result is no apply.
    let c = report(
        "r-03",
        "apply",
        "dev",
        20,
        &[("net", "skipped"), ("app", "unchanged")],
    );
    store.record_run(&c, &ci).await.unwrap();
    assert_eq!(
        last_apply(&store, "dev", "net").await,
        shown("r-02", "succeeded")
    );
    assert_eq!(
        last_apply(&store, "dev", "app").await,
        shown("r-03", "unchanged")
    );

    // A re-post that withdraws net's result falls back to the older run.
    let b_again = report("r-02", "apply", "dev", 20, &[("app", "succeeded")]);
    store.record_run(&b_again, &ci).await.unwrap();
    assert_eq!(
        last_apply(&store, "dev", "net").await,
        shown("r-01", "failed")
    );
    assert_eq!(
        last_apply(&store, "dev", "app").await,
        shown("r-03", "unchanged"),
        "r-03 is still newer than the re-posted r-02"
    );
    // A re-post moved back in time loses to what is now newer.
    let b_earlier = report("r-02", "apply", "dev", 5, &[("net", "succeeded")]);
    store.record_run(&b_earlier, &ci).await.unwrap();
    assert_eq!(
        last_apply(&store, "dev", "net").await,
        shown("r-01", "failed")
    );
    // A re-post that turns the apply into a plan withdraws all its results.
    let a_plan = report("r-01", "plan", "dev", 10, &[("net", "succeeded")]);
    store.record_run(&a_plan, &ci).await.unwrap();
    assert_eq!(
        last_apply(&store, "dev", "net").await,
        shown("r-02", "succeeded")
    );
    // Running and final reports of the same run: the final one shows.
    let d_running = report("r-04", "destroy", "dev", 30, &[("net", "running")]);
    store.record_run(&d_running, &ci).await.unwrap();
    assert_eq!(
        last_apply(&store, "dev", "net").await,
        shown("r-04", "running")
    );
    let mut d_done = report("r-04", "destroy", "dev", 30, &[("net", "succeeded")]);
    d_done.finished_at = Some(at(31));
    store.record_run(&d_done, &ci).await.unwrap();
    let overview = store.dashboard_overview(&everything()).await.unwrap();
    let cell = overview
        .instances
        .iter()
        .find(|i| i.env == "dev" && i.stack == "net")
        .unwrap();
    let apply = cell.last_apply.as_ref().unwrap();
    assert_eq!(
        (
            apply.run_id.as_str(),
            apply.action.as_str(),
            apply.status.as_str()
        ),
        ("r-04", "destroy", "succeeded")
    );
    assert_eq!(apply.commit.as_deref(), Some("commit-r-04"));
    assert_eq!(apply.who, "r-04@ci");
    assert_eq!(apply.at_ms, 1_795_343_460_000, "finished time");
    assert!(cell.state.is_some(), "the state version is shown beside it");

    // A re-post that moves the run to another environment leaves the first one's instances.
    let e = report("r-05", "apply", "dev", 40, &[("cache", "succeeded")]);
    store.record_run(&e, &ci).await.unwrap();
    assert_eq!(
        last_apply(&store, "dev", "cache").await,
        shown("r-05", "succeeded")
    );
    let e_prod = report("r-05", "apply", "prod", 40, &[("cache", "succeeded")]);
    store.record_run(&e_prod, &ci).await.unwrap();
    let listed = last_applies(&store).await;
    assert!(
        !listed.contains_key(&("dev".to_owned(), "cache".to_owned())),
        "an instance with no state, apply or drift left is no longer listed: {listed:?}"
    );
    assert_eq!(
        listed[&("prod".to_owned(), "cache".to_owned())],
        shown("r-05", "succeeded")
    );

    // Drift results show beside the apply, from a drift run or recorded alone.
    let mut drift = report("r-06", "drift", "dev", 50, &[("net", "drifted")]);
    drift.instances[0].change = 3;
    store.record_run(&drift, &ci).await.unwrap();
    store
        .record_drift(
            &InstanceId::new(PROJECT, "prod", "cache").unwrap(),
            DriftStatus::Failed,
            (0, 0, 0),
            None,
        )
        .await
        .unwrap();
    let overview = store.dashboard_overview(&everything()).await.unwrap();
    let drift_of = |env: &str, stack: &str| {
        let i = overview
            .instances
            .iter()
            .find(|i| i.env == env && i.stack == stack)
            .unwrap();
        let d = i.drift.as_ref().unwrap();
        (d.status.clone(), d.counts, d.run_id.clone())
    };
    assert_eq!(
        drift_of("dev", "net"),
        ("drifted".into(), (0, 3, 0), Some("r-06".into()))
    );
    assert_eq!(
        drift_of("prod", "cache"),
        ("failed".into(), (0, 0, 0), None)
    );
    assert_eq!(
        last_apply(&store, "dev", "net").await,
        shown("r-04", "succeeded"),
        "a drift run is no apply"
    );
}

/// A deterministic generator, so a failure replays.
struct Lcg(u64);
impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

/// The last apply of each instance, computed from the runs as last reported.
fn expected(
    runs: &BTreeMap<String, RunReport>,
) -> BTreeMap<(String, String), Option<(String, String)>> {
    let mut newest: BTreeMap<(String, String), (&str, &str, &str)> = BTreeMap::new();
    for run in runs.values() {
        if !matches!(run.action.as_str(), "apply" | "destroy") {
            continue;
        }
        for i in &run.instances {
            if matches!(i.status.as_str(), "skipped" | "pending") {
                continue;
            }
            let key = (run.env.clone(), i.stack.clone());
            let candidate = (
                run.started_at.as_str(),
                run.run_id.as_str(),
                i.status.as_str(),
            );
            let slot = newest.entry(key).or_insert(candidate);
            if (candidate.0, candidate.1) > (slot.0, slot.1) {
                *slot = candidate;
            }
        }
    }
    newest
        .into_iter()
        .map(|(key, (_, run, status))| (key, shown(run, status)))
        .collect()
}

async fn summary_matches_a_random_history(db: Db) {
    let store = open(&db).await;
    let ci = actor("ci", Scope::Write);
    let mut rng = Lcg(7);
    let mut runs: BTreeMap<String, RunReport> = BTreeMap::new();
    let stacks = ["a", "b", "c", "d/e"];
    let statuses = [
        "succeeded",
        "failed",
        "skipped",
        "pending",
        "running",
        "unchanged",
        "blocked",
    ];
    for step in 0..80 {
        // Few run ids and start times: many re-posts, many ties.
        let id = format!("r-{:02}", rng.below(12));
        let action = ["apply", "apply", "destroy", "plan"][rng.below(4)];
        let env = ["dev", "prod"][rng.below(2)];
        let mut results: Vec<(&str, &str)> = Vec::new();
        for stack in stacks {
            if rng.below(3) > 0 {
                results.push((stack, statuses[rng.below(statuses.len())]));
            }
        }
        let run = report(&id, action, env, rng.below(5) as u32, &results);
        store.record_run(&run, &ci).await.unwrap();
        runs.insert(id, run);
        assert_eq!(
            last_applies(&store).await,
            expected(&runs),
            "after step {step}"
        );
    }
}

fn lock_info(id: &str) -> Vec<u8> {
    format!(r#"{{"ID":"{id}","Operation":"OperationTypeApply","Who":"oncall@laptop"}}"#)
        .into_bytes()
}

/// dev: a applied, b failed, c state-locked; prod: a applied, b drifted, z held by a pull
/// request and known from nothing else; copy pr-7 has state of its own.
async fn populate(store: &Store) {
    let ci = actor("ci", Scope::Write);
    for (env, stack) in [
        ("dev", "a"),
        ("dev", "b"),
        ("dev", "c"),
        ("prod", "a"),
        ("prod", "b"),
        ("pr-7", "a"),
    ] {
        let id = InstanceId::new(PROJECT, env, stack).unwrap();
        store
            .write_state(&id, state(), None, None, &ci)
            .await
            .unwrap();
    }
    let dev = report(
        "r-01",
        "apply",
        "dev",
        1,
        &[("a", "succeeded"), ("b", "failed")],
    );
    store.record_run(&dev, &ci).await.unwrap();
    let prod = report(
        "r-02",
        "apply",
        "prod",
        2,
        &[("a", "succeeded"), ("b", "unchanged")],
    );
    store.record_run(&prod, &ci).await.unwrap();
    let drift = report(
        "r-03",
        "drift",
        "prod",
        3,
        &[("a", "in-sync"), ("b", "drifted")],
    );
    store.record_run(&drift, &ci).await.unwrap();
    let copy = report("r-04", "apply", "pr-7", 4, &[("a", "failed")]);
    store.record_run(&copy, &ci).await.unwrap();
    store
        .lock(
            &InstanceId::new(PROJECT, "dev", "c").unwrap(),
            &lock_info("L1"),
            &ci,
        )
        .await
        .unwrap();
    store
        .acquire_all(
            PROJECT,
            &PullRef::new("acme/infra", 9).unwrap(),
            [("prod", "z")],
        )
        .await
        .unwrap();
    store
        .put_copy(
            PROJECT,
            "pr-7",
            &CopyUpdate {
                template: "dev".into(),
                creator: None,
                pull_request: Some(7),
                created_at: None,
                expires_at: None,
                status: CopyStatus::Up,
                instances: 1,
            },
            PutMode::Upsert,
            &ci,
        )
        .await
        .unwrap();
}

fn page_stacks(overview: &Overview) -> Vec<&str> {
    let mut stacks: Vec<&str> = overview
        .instances
        .iter()
        .map(|i| i.stack.as_str())
        .collect();
    stacks.dedup();
    stacks
}

async fn overview_totals_filters_and_pages(db: Db) {
    let store = open(&db).await;
    populate(&store).await;
    let all = store.dashboard_overview(&everything()).await.unwrap();
    assert_eq!(all.projects, [PROJECT]);
    assert_eq!(all.copies.iter().collect::<Vec<_>>(), ["pr-7"]);
    let totals: Vec<_> = all
        .totals
        .iter()
        .map(|t| {
            (
                t.env.as_str(),
                t.instances,
                t.applied,
                t.failed,
                t.drifted,
                t.locked,
            )
        })
        .collect();
    assert_eq!(
        totals,
        [("dev", 3, 1, 1, 0, 1), ("prod", 3, 2, 0, 1, 1)],
        "the copy is left out; the pull-locked instance counts"
    );
    assert_eq!((all.stacks, all.page, all.pages), (4, 1, 1));
    assert_eq!(page_stacks(&all), ["a", "b", "c", "z"]);
    assert!(all.instances.iter().all(|i| i.env != "pr-7"));
    let cell = |o: &Overview, env: &str, stack: &str| {
        o.instances
            .iter()
            .find(|i| i.env == env && i.stack == stack)
            .cloned()
            .unwrap()
    };
    let c = cell(&all, "dev", "c");
    let lock = c.state_lock.unwrap();
    assert_eq!(
        (lock.who.as_str(), lock.lock_id.as_str()),
        ("oncall@laptop", "L1")
    );
    assert!(c.last_apply.is_none() && c.state.is_some());
    let z = cell(&all, "prod", "z");
    assert_eq!(
        z.pull_lock.map(|p| (p.repo, p.number)),
        Some(("acme/infra".into(), 9))
    );
    assert!(z.state.is_none() && z.last_apply.is_none() && z.drift.is_none());

    let query =
        |filter: Option<&str>, problems: bool, page: usize, per_page: usize| OverviewQuery {
            project: None,
            filter: filter.map(str::to_owned),
            problems,
            page,
            per_page,
        };
    let problems = store
        .dashboard_overview(&query(None, true, 1, 100))
        .await
        .unwrap();
    assert_eq!(
        page_stacks(&problems),
        ["b", "c", "z"],
        "failed, drifted, locked"
    );
    assert_eq!(problems.totals, all.totals, "totals ignore the filter");
    let b = store
        .dashboard_overview(&query(Some("b"), false, 1, 100))
        .await
        .unwrap();
    assert_eq!((page_stacks(&b), b.stacks), (vec!["b"], 1));
    assert_eq!(b.instances.len(), 2, "both environments of the stack");
    let none = store
        .dashboard_overview(&query(Some("nothing"), false, 1, 100))
        .await
        .unwrap();
    assert_eq!((none.stacks, none.pages, none.instances.len()), (0, 1, 0));
    let second = store
        .dashboard_overview(&query(None, false, 2, 3))
        .await
        .unwrap();
    assert_eq!(
        (page_stacks(&second), second.page, second.pages),
        (vec!["z"], 2, 2)
    );
    let past_the_end = store
        .dashboard_overview(&query(None, false, 9, 3))
        .await
        .unwrap();
    assert_eq!(past_the_end.page, 2);
}

async fn backfill_rebuilds_the_summary(db: Db) {
    let store = open(&db).await;
    populate(&store).await;
    let ci = actor("ci", Scope::Write);
    // Out of order and re-posted, so the backfill has something to get wrong.
    let late = report(
        "r-00",
        "apply",
        "dev",
        0,
        &[("a", "failed"), ("c", "succeeded")],
    );
    store.record_run(&late, &ci).await.unwrap();
    let withdrawn = report("r-01", "apply", "dev", 1, &[("a", "succeeded")]);
    store.record_run(&withdrawn, &ci).await.unwrap();
    let before = store.dashboard_overview(&everything()).await.unwrap();
    store.close().await;

    // The database as it was before migration 0101.
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
    for sql in [
        "DROP TABLE instance_summary",
        "DROP TABLE runs_guard",
        "DELETE FROM _sqlx_migrations WHERE version = 101",
    ] {
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
    pool.close().await;

    let store = open(&db).await;
    let after = store.dashboard_overview(&everything()).await.unwrap();
    assert_eq!(after.instances, before.instances);
    assert!(
        after
            .instances
            .iter()
            .any(|i| i.env == "dev" && i.stack == "b" && i.last_apply.is_none()),
        "b's only apply was withdrawn"
    );
    assert_eq!(after.totals, before.totals);
    assert_eq!(
        after
            .instances
            .iter()
            .find(|i| i.env == "dev" && i.stack == "a")
            .and_then(|i| i.last_apply.as_ref())
            .map(|a| a.run_id.as_str()),
        Some("r-01"),
        "the newest run, not the last recorded"
    );
}

on_both!(
    last_apply_follows_the_history,
    summary_matches_a_random_history,
    overview_totals_filters_and_pages,
    backfill_rebuilds_the_summary,
);
