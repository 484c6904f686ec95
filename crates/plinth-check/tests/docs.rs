//! docs/checks.md, which SARIF's `informationUri` and `helpUri` point at, has an entry for
//! every rule, under the anchor `helpUri` names.

use plinth_check::{RULES, registry};

#[test]
fn every_rule_has_an_anchored_entry_with_its_message() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/checks.md");
    let doc = std::fs::read_to_string(&path).expect("docs/checks.md");
    for rule in RULES {
        let anchor = format!("<a id=\"{}\"></a>", rule.id.to_ascii_lowercase());
        assert!(
            doc.contains(&anchor),
            "{} has no anchor in docs/checks.md",
            rule.id
        );
        let heading = format!("### {} `{}`: {}", rule.id, rule.name, rule.message);
        assert!(doc.contains(&heading), "docs/checks.md lacks `{heading}`");
        assert!(
            registry::help_uri(rule)
                .ends_with(&format!("docs/checks.md#{}", rule.id.to_ascii_lowercase()))
        );
    }
}
