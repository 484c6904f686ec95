//! The shapes a secret value takes in logs and documents, for the masker: the value itself,
//! as it appears inside JSON (serde's and Go's escaping, which Terraform's JSON uses), in
//! base64 and URL-encoded.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// RFC 3986 `unreserved` stays as is; everything else is escaped (JavaScript's
/// `encodeURIComponent`, Go's `url.PathEscape` for a segment).
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Every string to mask for `value`, longest first, without duplicates. Base64 forms are
/// of the value alone: inside a longer base64 text the value's bytes are encoded at one of
/// three alignments and cannot be found this way.
pub fn mask_forms(value: &str) -> Vec<String> {
    if value.is_empty() {
        return Vec::new();
    }
    let mut forms = vec![value.to_string()];
    let json = serde_json::to_string(value).unwrap_or_default();
    let json = json[1..json.len() - 1].to_string();
    forms.push(go_json_escape(&json));
    forms.push(json);
    for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
        forms.push(engine.encode(value));
    }
    let url = utf8_percent_encode(value, COMPONENT).to_string();
    forms.push(url.replace("%20", "+"));
    forms.push(url);
    forms.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    forms.dedup();
    forms
}

/// Go's `encoding/json` also escapes `<`, `>`, `&`, U+2028 and U+2029, which serde does not.
fn go_json_escape(serde_escaped: &str) -> String {
    serde_escaped
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_value_has_its_base64_forms() {
        let forms = mask_forms("hunter2");
        assert!(forms.contains(&"hunter2".to_string()));
        assert!(forms.contains(&"aHVudGVyMg==".to_string()));
        assert!(forms.contains(&"aHVudGVyMg".to_string()));
        assert_eq!(forms.len(), 3, "{forms:?}");
    }

    #[test]
    fn every_escaping_is_covered() {
        let v = "p@ss w/rd\"<&>é?";
        let forms = mask_forms(v);
        let has = |s: &str| forms.iter().any(|f| f == s);
        assert!(has(v));
        assert!(has(r#"p@ss w/rd\"<&>é?"#), "serde JSON: {forms:?}");
        assert!(
            has(r#"p@ss w/rd\"\u003c\u0026\u003eé?"#),
            "Go JSON: {forms:?}"
        );
        assert!(
            has("p%40ss%20w%2Frd%22%3C%26%3E%C3%A9%3F"),
            "URL: {forms:?}"
        );
        assert!(has("p%40ss+w%2Frd%22%3C%26%3E%C3%A9%3F"), "form: {forms:?}");
        assert!(has(&STANDARD.encode(v)));
        assert!(has(&URL_SAFE_NO_PAD.encode(v)));
        assert!(forms.windows(2).all(|w| w[0].len() >= w[1].len()));
        // What Terraform's JSON would hold decodes back to the value.
        let go_form = forms.iter().find(|f| f.contains("\\u003c")).unwrap();
        let decoded: String = serde_json::from_str(&format!("\"{go_form}\"")).unwrap();
        assert_eq!(decoded, v);
        assert!(mask_forms("").is_empty());
    }
}
