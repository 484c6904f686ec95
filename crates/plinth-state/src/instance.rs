//! Instance identifiers: `project/env/stack`, where the stack id may contain slashes.

use std::fmt;

use crate::error::StateError;

/// One stack in one environment of one project: the unit of state and lock.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InstanceId {
    /// Project name.
    pub project: String,
    /// Environment name.
    pub env: String,
    /// Stack id (project-relative path, `/`-separated).
    pub stack: String,
}

impl InstanceId {
    /// Validates the three parts; names are path segments of `[A-Za-z0-9._-]`, never `.`/`..`.
    pub fn new(project: &str, env: &str, stack: &str) -> Result<Self, StateError> {
        check_segment("project", project)?;
        check_segment("environment", env)?;
        let stack = stack.trim_matches('/');
        if stack.is_empty() {
            return Err(StateError::BadRequest("the stack id is empty".into()));
        }
        for part in stack.split('/') {
            check_segment("stack", part).map_err(|_| {
                StateError::BadRequest(format!(
                    "invalid stack id {stack:?}: each segment must be non-empty, not `.` or `..`, \
                     and use only letters, digits, `.`, `_` and `-`"
                ))
            })?;
        }
        Ok(InstanceId {
            project: project.to_owned(),
            env: env.to_owned(),
            stack: stack.to_owned(),
        })
    }

    /// Parses `PROJECT/ENV/STACK…`.
    pub fn parse(key: &str) -> Result<Self, StateError> {
        let mut parts = key.splitn(3, '/');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(project), Some(env), Some(stack)) => Self::new(project, env, stack),
            _ => Err(StateError::BadRequest(format!(
                "invalid instance {key:?}: expected PROJECT/ENV/STACK"
            ))),
        }
    }

    /// The database key, `project/env/stack`.
    pub fn key(&self) -> String {
        format!("{}/{}/{}", self.project, self.env, self.stack)
    }
}

impl fmt::Display for InstanceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.project, self.env, self.stack)
    }
}

fn check_segment(what: &str, value: &str) -> Result<(), StateError> {
    let valid = !value.is_empty()
        && value != "."
        && value != ".."
        && value.len() <= 200
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if valid {
        Ok(())
    } else {
        Err(StateError::BadRequest(format!(
            "invalid {what} name {value:?}: use letters, digits, `.`, `_` and `-`"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_ids_keep_their_slashes() {
        let id = InstanceId::parse("atropos/prod/plumbing/network").unwrap();
        assert_eq!(id.env, "prod");
        assert_eq!(id.stack, "plumbing/network");
        assert_eq!(id.key(), "atropos/prod/plumbing/network");
    }

    #[test]
    fn traversal_and_odd_characters_are_refused() {
        assert!(InstanceId::new("p", "prod", "a/../b").is_err());
        assert!(InstanceId::new("p", "..", "a").is_err());
        assert!(InstanceId::new("p", "prod", "a//b").is_err());
        assert!(InstanceId::new("p q", "prod", "a").is_err());
        assert!(InstanceId::parse("p/prod").is_err());
    }
}
