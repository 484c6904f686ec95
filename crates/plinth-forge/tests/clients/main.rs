//! Each forge's client against the stand-in forge: every call of the trait, the wire format
//! it sends (paths, auth, bodies), rate limits, and GitHub App token exchange.

mod gitea;
mod github;
mod github_app;
mod gitlab;
mod rate_limits;

use base64::Engine as _;
use plinth_forge::GitAuth;

/// The `user:password` inside a Basic header.
pub fn basic_pair(auth: &GitAuth) -> String {
    assert_eq!(auth.name(), "Authorization");
    let encoded = auth.value().strip_prefix("Basic ").expect("Basic auth");
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap(),
    )
    .unwrap()
}
