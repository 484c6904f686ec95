//! Retention: which old versions may be deleted. The current version never is.

/// How many old versions to keep. A version is deleted only when every set rule allows it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retention {
    /// Keep at least this many newest versions per instance.
    pub keep_last: Option<u32>,
    /// Keep every version younger than this many days.
    pub keep_days: Option<u32>,
}

impl Retention {
    /// Keeps everything (the default).
    pub fn keep_all() -> Self {
        Retention::default()
    }

    /// Whether any rule is set (with none, nothing is ever pruned).
    pub fn prunes(&self) -> bool {
        self.keep_last.is_some() || self.keep_days.is_some()
    }

    /// The newest version number that may be deleted, given the instance's head.
    pub(crate) fn max_prunable_version(&self, head: i64) -> i64 {
        match self.keep_last {
            Some(n) => head - i64::from(n.max(1)),
            None => head,
        }
    }

    /// Versions created before this instant (Unix ms) may be deleted.
    pub(crate) fn prunable_before_ms(&self, now_ms: i64) -> i64 {
        match self.keep_days {
            Some(days) => now_ms - i64::from(days) * 86_400_000,
            None => i64::MAX,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_last_never_reaches_the_head() {
        let r = Retention {
            keep_last: Some(0),
            keep_days: None,
        };
        // Even "keep 0" keeps one version: the newest.
        assert_eq!(r.max_prunable_version(10), 9);
        assert!(r.prunes());
        assert!(!Retention::keep_all().prunes());
    }
}
