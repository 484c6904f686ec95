//! The parts of a Terraform state file the server checks: format, lineage, serial.

use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::error::StateError;

/// What the server learns from an uploaded body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StateHeader {
    /// A plain Terraform state (format version 4).
    Plain { lineage: String, serial: i64 },
    /// An OpenTofu client-side encrypted envelope: opaque, versioned by upload time.
    Opaque,
}

#[derive(Deserialize)]
struct RawHeader {
    version: Option<serde_json::Value>,
    lineage: Option<serde_json::Value>,
    serial: Option<serde_json::Value>,
    encryption_version: Option<IgnoredAny>,
}

/// Parses just the header fields; the rest of the document is validated but not kept.
pub(crate) fn parse_header(body: &[u8]) -> Result<StateHeader, StateError> {
    crate::text::check_state_text(body)?;
    let raw: RawHeader = serde_json::from_slice(body).map_err(|e| {
        StateError::BadRequest(format!("the state is not a valid JSON object: {e}"))
    })?;
    if raw.encryption_version.is_some() {
        return Ok(StateHeader::Opaque);
    }
    match raw.version.as_ref().and_then(|v| v.as_u64()) {
        Some(4) => {}
        Some(other) => {
            return Err(StateError::BadRequest(format!(
                "unsupported state format version {other}: the server stores version 4 \
                 (Terraform ≥ 0.12, OpenTofu)"
            )));
        }
        None => {
            return Err(StateError::BadRequest(
                "the state has no numeric `version` field: not a Terraform state file".into(),
            ));
        }
    }
    let lineage = match raw.lineage {
        Some(serde_json::Value::String(s)) if !s.is_empty() => {
            crate::text::check_field("lineage", &s, crate::text::MAX_LINEAGE)?;
            s
        }
        _ => {
            return Err(StateError::BadRequest(
                "the state has no `lineage` string".into(),
            ));
        }
    };
    let serial = raw
        .serial
        .as_ref()
        .and_then(|v| v.as_u64())
        .and_then(|s| i64::try_from(s).ok())
        .ok_or_else(|| StateError::BadRequest("the state has no unsigned `serial`".into()))?;
    Ok(StateHeader::Plain { lineage, serial })
}

/// Rewrites the serial of a plain state (rollback publishes an old body under a new serial so
/// that clients still holding the newer serial cannot silently overwrite the rollback).
pub(crate) fn with_serial(body: &[u8], serial: i64) -> Result<Vec<u8>, StateError> {
    let mut doc: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| StateError::Internal(format!("a stored state is not JSON: {e}")))?;
    let obj = doc
        .as_object_mut()
        .ok_or_else(|| StateError::Internal("a stored state is not a JSON object".into()))?;
    obj.insert("serial".into(), serial.into());
    // Terraform writes its state indented by two spaces; keep that shape.
    let mut out = serde_json::to_vec_pretty(&doc)
        .map_err(|e| StateError::Internal(format!("cannot re-encode a state: {e}")))?;
    out.push(b'\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_states_give_lineage_and_serial() {
        let h = parse_header(br#"{"version":4,"serial":7,"lineage":"L","resources":[]}"#).unwrap();
        assert_eq!(
            h,
            StateHeader::Plain {
                lineage: "L".into(),
                serial: 7
            }
        );
    }

    #[test]
    fn encrypted_envelopes_are_opaque() {
        let h = parse_header(br#"{"meta":{},"encrypted_data":"AA==","encryption_version":"v0"}"#)
            .unwrap();
        assert_eq!(h, StateHeader::Opaque);
    }

    #[test]
    fn malformed_bodies_are_bad_requests() {
        for body in [
            &b"{\"version\":4,"[..],
            b"[]",
            b"{\"version\":3,\"serial\":1,\"lineage\":\"L\"}",
            b"{\"version\":4,\"serial\":-1,\"lineage\":\"L\"}",
            b"{\"version\":4,\"serial\":1}",
        ] {
            assert!(
                matches!(parse_header(body), Err(StateError::BadRequest(_))),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn serial_rewrite_keeps_everything_else() {
        let out = with_serial(br#"{"version":4,"serial":2,"lineage":"L","x":[1]}"#, 9).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["serial"], 9);
        assert_eq!(v["lineage"], "L");
        assert_eq!(v["x"][0], 1);
    }
}
