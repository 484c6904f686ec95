//! The provider plugin cache every instance shares (`.plinth/plugin-cache`).

use super::{Doctor, Finding};

/// The cache directory can be created and written.
pub(super) fn check(d: &Doctor) -> Vec<Finding> {
    let what = "plugin cache";
    let Some(root) = &d.root else {
        return vec![Finding::skipped(what, "no project")];
    };
    let dir = plinth_engine::Layout::new(root).plugin_cache();
    let shown = dir.strip_prefix(root).unwrap_or(&dir).display().to_string();
    let probe = dir.join(format!(".plinth-doctor-{}", std::process::id()));
    let result = std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(&probe, b"probe"))
        .and_then(|()| std::fs::remove_file(&probe));
    vec![match result {
        Ok(()) => Finding::ok(what, format!("{shown} is writable")),
        Err(e) => Finding::fail(
            what,
            format!("{shown}: {e}"),
            format!(
                "make {shown} a directory plinth's user can write (remove whatever is in its place)"
            ),
        ),
    }]
}
