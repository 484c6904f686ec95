//! Repository names and user names as URL path segments.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::error::ForgeError;

/// Everything but RFC 3986's unreserved characters is encoded, `/` included.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// One path segment, encoded.
pub(crate) fn seg(text: &str) -> String {
    utf8_percent_encode(text, SEGMENT).to_string()
}

/// `owner/name` as two encoded segments (GitHub, Gitea).
pub(crate) fn owner_repo(repo: &str) -> Result<String, ForgeError> {
    match repo.split_once('/') {
        Some((owner, name))
            if !owner.is_empty() && !name.is_empty() && !name.contains('/') && valid(repo) =>
        {
            Ok(format!("{}/{}", seg(owner), seg(name)))
        }
        _ => Err(ForgeError::Invalid(format!(
            "repository `{repo}` is not `owner/name`"
        ))),
    }
}

/// A GitLab project id: the full path as one encoded segment (`group%2Fsub%2Fproject`).
pub(crate) fn gitlab_project(repo: &str) -> Result<String, ForgeError> {
    let parts_ok = repo.split('/').all(|p| !p.is_empty());
    if repo.contains('/') && parts_ok && valid(repo) {
        Ok(seg(repo))
    } else {
        Err(ForgeError::Invalid(format!(
            "project `{repo}` is not a full path `group/project`"
        )))
    }
}

/// Refuses `.`/`..` segments and control characters, which no forge names a repository with.
fn valid(repo: &str) -> bool {
    !repo.chars().any(char::is_control) && repo.split('/').all(|p| p != "." && p != "..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_segments() {
        assert_eq!(owner_repo("acme/infra.live").unwrap(), "acme/infra.live");
        assert_eq!(
            gitlab_project("acme/platform/infra").unwrap(),
            "acme%2Fplatform%2Finfra"
        );
        assert_eq!(seg("some user"), "some%20user");
        assert!(owner_repo("acme").is_err());
        assert!(owner_repo("a/b/c").is_err());
        assert!(owner_repo("acme/..").is_err());
        assert!(gitlab_project("acme").is_err());
        assert!(gitlab_project("acme//x").is_err());
    }
}
