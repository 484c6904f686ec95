//! CSRF protection of the session's forms: the synchronizer token pattern. Each session has
//! a random token stored with it; every state-changing form carries it in a hidden field and
//! the handler compares it in constant time. SameSite=Strict on the cookie is the first line;
//! this is the second, for browsers or proxies that do not honour it.

use subtle::ConstantTimeEq;

use crate::error::WebError;
use crate::session::Session;

/// The hidden field's name.
pub(crate) const FIELD: &str = "csrf";

/// Refuses the request unless `sent` is the session's token.
pub(crate) fn check(session: &Session, sent: Option<&str>) -> Result<(), WebError> {
    let Some(sent) = sent else {
        return Err(WebError::forbidden(
            "the form has no CSRF token; reload the page and retry",
        ));
    };
    if bool::from(sent.as_bytes().ct_eq(session.csrf.as_bytes())) {
        Ok(())
    } else {
        Err(WebError::forbidden(
            "the form's CSRF token does not belong to this session; reload the page and retry",
        ))
    }
}

/// A random token (32 bytes, hex) for forms not yet bound to a session (sign-in).
pub(crate) fn random_token() -> Result<String, WebError> {
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(|e| WebError::internal(format!("no randomness: {e}")))?;
    Ok(hex::encode(raw))
}

/// Constant-time equality of two tokens.
pub(crate) fn same(a: &str, b: &str) -> bool {
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}
