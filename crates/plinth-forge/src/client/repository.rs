//! A repository's JSON as GitHub (`GET /repos/O/R`) and Gitea (the same path under `/api/v1`)
//! answer it: its default branch and, for an authenticated caller, the caller's permissions.

use serde::Deserialize;

use crate::forge::{Permission, RepoAccess};

/// The fields plinth reads.
#[derive(Deserialize)]
pub(crate) struct RepoJson {
    default_branch: Option<String>,
    permissions: Option<PermissionsJson>,
}

/// GitHub: `admin`, `maintain`, `push`, `triage`, `pull`; Gitea: `admin`, `push`, `pull`.
#[derive(Deserialize)]
struct PermissionsJson {
    #[serde(default)]
    admin: bool,
    #[serde(default)]
    maintain: bool,
    #[serde(default)]
    push: bool,
    #[serde(default)]
    triage: bool,
    #[serde(default)]
    pull: bool,
}

impl RepoJson {
    /// What the answer tells of the caller's access.
    pub(crate) fn access(self) -> RepoAccess {
        RepoAccess {
            permission: self.permissions.map(|p| match p {
                PermissionsJson { admin: true, .. } => Permission::Admin,
                PermissionsJson { push: true, .. } | PermissionsJson { maintain: true, .. } => {
                    Permission::Write
                }
                PermissionsJson { pull: true, .. } | PermissionsJson { triage: true, .. } => {
                    Permission::Read
                }
                _ => Permission::None,
            }),
            default_branch: self.default_branch.filter(|b| !b.is_empty()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(json: &str) -> RepoAccess {
        serde_json::from_str::<RepoJson>(json).unwrap().access()
    }

    #[test]
    fn permissions_become_a_level() {
        let a = access(
            r#"{"default_branch":"main","permissions":{"admin":false,"maintain":true,"push":false,"triage":true,"pull":true}}"#,
        );
        assert_eq!(a.permission, Some(Permission::Write));
        assert_eq!(a.default_branch.as_deref(), Some("main"));
        let a = access(r#"{"permissions":{"admin":false,"push":false,"pull":true}}"#);
        assert_eq!(
            (a.permission, a.can_push()),
            (Some(Permission::Read), Some(false))
        );
        let a = access(r#"{"default_branch":"","permissions":{"admin":true}}"#);
        assert_eq!(
            (a.permission, a.default_branch),
            (Some(Permission::Admin), None)
        );
        let a = access(r#"{"default_branch":"trunk"}"#);
        assert_eq!((a.permission, a.can_push()), (None, None));
    }
}
