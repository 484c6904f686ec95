//! Text, JSON and SARIF output; SARIF validated against the SARIF 2.1.0 JSON schema.

mod common;

use common::{check_dir, fixture};
use plinth_check::output;
use serde_json::Value;

fn schema() -> Value {
    let path = fixture("sarif", "sarif-schema-2.1.0.json");
    let mut schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    // The published schema's `language` patterns (run, toolComponent) have a stray `]`,
    // which ECMA regexes accept and the jsonschema crate's meta-schema check rejects.
    // plinth never writes `language`; the pattern is replaced by the one the authors meant.
    let mut fixed = 0;
    fix_language_patterns(&mut schema, &mut fixed);
    assert_eq!(fixed, 2);
    schema
}

fn fix_language_patterns(value: &mut Value, fixed: &mut usize) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if key == "pattern" && v == "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$" {
                    *v = Value::from("^[a-zA-Z]{2}(-[a-zA-Z]{2})?$");
                    *fixed += 1;
                } else {
                    fix_language_patterns(v, fixed);
                }
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| fix_language_patterns(v, fixed)),
        _ => {}
    }
}

#[test]
fn sarif_output_is_valid_sarif_2_1_0() {
    let validator = jsonschema::draft4::new(&schema()).expect("schema compiles");
    for rule in ["SAF001", "SCR001", "SUP001", "ARC005", "FMT007"] {
        let report = check_dir(&fixture(rule, "bad"));
        assert!(!report.findings.is_empty());
        let root = fixture(rule, "bad");
        let base = output::sarif::Base {
            repo_root: root.parent().unwrap(),
            prefix: "",
        };
        let sarif = output::sarif::render(&report, &base);
        let errors: Vec<String> = validator
            .iter_errors(&sarif)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{rule}: {errors:#?}");
        let results = sarif["runs"][0]["results"].as_array().unwrap();
        assert_eq!(results.len(), report.findings.len());
        let first = &results[0]["locations"][0]["physicalLocation"];
        assert!(first["region"]["startLine"].as_u64().unwrap() >= 1);
        assert!(
            first["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .starts_with("bad/")
        );
    }
}

#[test]
fn the_schema_rejects_a_broken_log() {
    // Guards the test above: a log missing `version` must fail validation.
    let validator = jsonschema::draft4::new(&schema()).unwrap();
    let broken = serde_json::json!({"runs": []});
    assert!(!validator.is_valid(&broken));
}

#[test]
fn json_output_has_the_documented_shape() {
    let report = check_dir(&fixture("SAF009", "bad"));
    let doc = output::json::render(&report);
    let f = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "SAF009")
        .unwrap();
    assert_eq!(f["severity"], "warning");
    assert_eq!(f["stack"], "bad");
    assert_eq!(f["file"], "bad/main.tf");
    assert_eq!(f["line"], 6);
    assert_eq!(f["column"], 3);
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("publicly accessible")
    );
    assert_eq!(
        doc["summary"]["warnings"].as_u64().unwrap() as usize,
        report.findings.len()
            - report.count(plinth_diag::Severity::Error)
            - report.count(plinth_diag::Severity::Note)
    );
}

#[test]
fn text_output_renders_each_finding_and_a_summary_line() {
    let report = check_dir(&fixture("SAF004", "bad"));
    let text = output::text::render(&report, false);
    assert!(text.contains("warning[SAF004]"), "{text}");
    assert!(text.contains("bad/main.tf:1:1"), "{text}");
    assert!(
        text.trim_end()
            .lines()
            .last()
            .unwrap()
            .starts_with("check: 0 errors, "),
        "{text}"
    );
    assert!(!text.contains('\u{1b}'), "no colour when not asked");
    assert!(output::text::render(&report, true).contains('\u{1b}'));
}
