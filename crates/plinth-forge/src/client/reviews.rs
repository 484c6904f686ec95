//! Which reviews approve a pull request now: each reviewer's latest deciding review.

use std::collections::BTreeMap;

use crate::forge::Approval;

/// What one review says, once the forge's vocabulary is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Approves.
    Approve,
    /// Asks for changes, or an approval that was dismissed: it cancels an earlier approval.
    Block,
    /// A comment, a pending draft, a review request: says nothing about approval.
    Neutral,
}

/// The approvals left standing by `reviews`, given oldest first as (login, verdict, commit).
pub(crate) fn standing_approvals(
    reviews: impl IntoIterator<Item = (String, Verdict, Option<String>)>,
) -> Vec<Approval> {
    let mut latest: BTreeMap<String, Option<Option<String>>> = BTreeMap::new();
    for (user, verdict, commit) in reviews {
        match verdict {
            Verdict::Approve => {
                latest.insert(user, Some(commit));
            }
            Verdict::Block => {
                latest.insert(user, None);
            }
            Verdict::Neutral => {}
        }
    }
    latest
        .into_iter()
        .filter_map(|(user, approved)| approved.map(|commit_sha| Approval { user, commit_sha }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_later_change_request_cancels_an_approval_and_comments_do_not() {
        let reviews = vec![
            ("ann".to_string(), Verdict::Approve, Some("a1".to_string())),
            ("bob".to_string(), Verdict::Approve, Some("a1".to_string())),
            ("ann".to_string(), Verdict::Neutral, Some("a2".to_string())),
            ("bob".to_string(), Verdict::Block, Some("a2".to_string())),
            ("cid".to_string(), Verdict::Block, Some("a1".to_string())),
            ("cid".to_string(), Verdict::Approve, Some("a2".to_string())),
        ];
        let users: Vec<_> = standing_approvals(reviews)
            .into_iter()
            .map(|a| (a.user, a.commit_sha.unwrap()))
            .collect();
        assert_eq!(
            users,
            [("ann".into(), "a1".into()), ("cid".into(), "a2".into())]
        );
    }
}
