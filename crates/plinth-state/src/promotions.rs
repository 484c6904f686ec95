//! Promotion records: "subject S at fingerprint F was applied successfully in environment E by
//! run R at commit C". An environment with `promote_from = X` applies an instance only when X
//! holds a record for the same subject and fingerprint (DESIGN §1, §3).

use std::fmt;

use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::clock::{now_ms, parse_rfc3339, rfc3339};
use crate::error::StateError;
use crate::instance::InstanceId;
use crate::store::Store;
use crate::text::check_field;
use crate::tokens::{Actor, Scope};

/// What a record is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PromotionKind {
    /// A stack present in both environments: its id.
    Stack,
    /// A local module a single-environment stack calls: its path.
    Module,
}

impl PromotionKind {
    /// `stack` or `module`.
    pub fn as_str(self) -> &'static str {
        match self {
            PromotionKind::Stack => "stack",
            PromotionKind::Module => "module",
        }
    }

    /// Parses `stack` or `module`.
    pub fn parse(text: &str) -> Result<Self, StateError> {
        match text {
            "stack" => Ok(PromotionKind::Stack),
            "module" => Ok(PromotionKind::Module),
            other => Err(StateError::BadRequest(format!(
                "unknown promotion kind {other:?}: use stack or module"
            ))),
        }
    }
}

impl fmt::Display for PromotionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A record to store (`POST /v1/promotions`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPromotion {
    /// Project.
    pub project: String,
    /// The environment the subject was applied in.
    pub env: String,
    /// stack or module.
    pub kind: PromotionKind,
    /// Stack id or module path.
    pub subject: String,
    /// The promoted-code fingerprint.
    pub fingerprint: String,
    /// The run that applied it.
    pub run_id: String,
    /// The commit applied.
    pub commit: String,
    /// Who ran the apply (default: the token's name).
    #[serde(default)]
    pub who: Option<String>,
    /// When it was applied, RFC 3339 (default: now).
    #[serde(default)]
    pub applied_at: Option<String>,
}

/// A stored record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Promotion {
    /// Record id.
    pub id: i64,
    /// Project.
    pub project: String,
    /// Environment.
    pub env: String,
    /// stack or module.
    pub kind: PromotionKind,
    /// Stack id or module path.
    pub subject: String,
    /// The promoted-code fingerprint.
    pub fingerprint: String,
    /// The run that applied it.
    pub run_id: String,
    /// The commit applied.
    pub commit: String,
    /// Who ran the apply.
    pub who: String,
    /// The token that reported it.
    pub recorded_by: String,
    /// When it was applied, RFC 3339.
    pub applied_at: String,
}

/// Filters of `promotions` (project and env are required).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PromotionQuery {
    /// Project.
    pub project: String,
    /// Environment.
    pub env: String,
    /// Only this kind.
    pub kind: Option<PromotionKind>,
    /// Only this subject.
    pub subject: Option<String>,
    /// Only this fingerprint.
    pub fingerprint: Option<String>,
    /// At most this many (1..=1000; default 100).
    pub limit: Option<i64>,
}

macro_rules! select_promotions {
    ($rest:literal) => {
        concat!(
            "SELECT id, project, env, kind, subject, fingerprint, run_id, commit_sha, who, \
             recorded_by, applied_ms FROM promotions ",
            $rest
        )
    };
}

fn check_subject(subject: &str) -> Result<(), StateError> {
    check_field("subject", subject, 1000)
}

fn check_scope(project: &str, env: &str) -> Result<(), StateError> {
    InstanceId::new(project, env, "x").map(|_| ())
}

impl Store {
    /// Stores a record (write scope) and returns it as stored.
    pub async fn record_promotion(
        &self,
        new: &NewPromotion,
        actor: &Actor,
    ) -> Result<Promotion, StateError> {
        actor.require(Scope::Write, "recording a promotion")?;
        check_scope(&new.project, &new.env)?;
        check_subject(&new.subject)?;
        check_field("fingerprint", &new.fingerprint, 200)?;
        check_field("run id", &new.run_id, 200)?;
        check_field("commit", &new.commit, 100)?;
        let who = new.who.clone().unwrap_or_else(|| actor.name.clone());
        check_field("who", &who, 255)?;
        let applied_ms = match &new.applied_at {
            Some(t) => parse_rfc3339("applied_at", t)?,
            None => now_ms(),
        };
        let _gate = self.gate().await;
        let row = sqlx::query(
            "INSERT INTO promotions (project, env, kind, subject, fingerprint, run_id, commit_sha, \
             who, recorded_by, applied_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             RETURNING id",
        )
        .bind(&new.project)
        .bind(&new.env)
        .bind(new.kind.as_str())
        .bind(&new.subject)
        .bind(&new.fingerprint)
        .bind(&new.run_id)
        .bind(&new.commit)
        .bind(&who)
        .bind(&actor.name)
        .bind(applied_ms)
        .fetch_one(&self.pool)
        .await?;
        Ok(Promotion {
            id: row.try_get("id")?,
            project: new.project.clone(),
            env: new.env.clone(),
            kind: new.kind,
            subject: new.subject.clone(),
            fingerprint: new.fingerprint.clone(),
            run_id: new.run_id.clone(),
            commit: new.commit.clone(),
            who,
            recorded_by: actor.name.clone(),
            applied_at: rfc3339(applied_ms),
        })
    }

    /// The newest record of the subject at exactly this fingerprint: the promotion gate.
    pub async fn find_promotion(
        &self,
        project: &str,
        env: &str,
        kind: PromotionKind,
        subject: &str,
        fingerprint: &str,
    ) -> Result<Option<Promotion>, StateError> {
        let mut found = self
            .promotions(&PromotionQuery {
                project: project.to_owned(),
                env: env.to_owned(),
                kind: Some(kind),
                subject: Some(subject.to_owned()),
                fingerprint: Some(fingerprint.to_owned()),
                limit: Some(1),
            })
            .await?;
        Ok(found.pop())
    }

    /// The newest record of the subject, whatever its fingerprint (what X last applied).
    pub async fn latest_promotion(
        &self,
        project: &str,
        env: &str,
        kind: PromotionKind,
        subject: &str,
    ) -> Result<Option<Promotion>, StateError> {
        let mut found = self
            .promotions(&PromotionQuery {
                project: project.to_owned(),
                env: env.to_owned(),
                kind: Some(kind),
                subject: Some(subject.to_owned()),
                fingerprint: None,
                limit: Some(1),
            })
            .await?;
        Ok(found.pop())
    }

    /// Records matching the query, newest first.
    pub async fn promotions(&self, query: &PromotionQuery) -> Result<Vec<Promotion>, StateError> {
        check_scope(&query.project, &query.env)?;
        if let Some(s) = &query.subject {
            check_subject(s)?;
        }
        if let Some(f) = &query.fingerprint {
            check_field("fingerprint", f, 200)?;
        }
        let rows = sqlx::query(select_promotions!(
            "WHERE project = $1 AND env = $2 AND ($3 IS NULL OR kind = $3) \
             AND ($4 IS NULL OR subject = $4) AND ($5 IS NULL OR fingerprint = $5) \
             ORDER BY applied_ms DESC, id DESC LIMIT $6"
        ))
        .bind(&query.project)
        .bind(&query.env)
        .bind(query.kind.map(PromotionKind::as_str))
        .bind(query.subject.as_deref())
        .bind(query.fingerprint.as_deref())
        .bind(query.limit.unwrap_or(100).clamp(1, 1000))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(promotion_of).collect()
    }

    /// The newest record of every subject in the environment (what `plinth promote` compares
    /// against), by kind then subject.
    pub async fn latest_promotions(
        &self,
        project: &str,
        env: &str,
        kind: Option<PromotionKind>,
    ) -> Result<Vec<Promotion>, StateError> {
        check_scope(project, env)?;
        let rows = sqlx::query(select_promotions!(
            "p WHERE project = $1 AND env = $2 AND ($3 IS NULL OR kind = $3) \
             AND id = (SELECT q.id FROM promotions q WHERE q.project = p.project \
               AND q.env = p.env AND q.kind = p.kind AND q.subject = p.subject \
               ORDER BY q.applied_ms DESC, q.id DESC LIMIT 1) \
             ORDER BY kind, subject"
        ))
        .bind(project)
        .bind(env)
        .bind(kind.map(PromotionKind::as_str))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(promotion_of).collect()
    }
}

fn promotion_of(row: &AnyRow) -> Result<Promotion, StateError> {
    Ok(Promotion {
        id: row.try_get("id")?,
        project: row.try_get("project")?,
        env: row.try_get("env")?,
        kind: PromotionKind::parse(&row.try_get::<String, _>("kind")?)?,
        subject: row.try_get("subject")?,
        fingerprint: row.try_get("fingerprint")?,
        run_id: row.try_get("run_id")?,
        commit: row.try_get("commit_sha")?,
        who: row.try_get("who")?,
        recorded_by: row.try_get("recorded_by")?,
        applied_at: rfc3339(row.try_get("applied_ms")?),
    })
}
