//! Webhook deliveries: signatures, delivery ids and decoding, with GitHub's real payloads
//! (`@octokit/webhooks-examples`) and GitLab's and Gitea's documented shapes.

mod gitea;
mod github;
mod gitlab;
mod signatures;

use plinth_forge::fake::webhooks::Delivery;
use plinth_forge::webhook::{decode, verify};
use plinth_forge::{Event, ForgeKind};

/// The secret the tests sign with.
pub const SECRET: &str = "It's a Secret to Everybody";

/// Verifies and decodes a delivery as the server will.
pub fn receive(kind: ForgeKind, delivery: &Delivery) -> Event {
    verify(kind, &delivery.headers, &delivery.body, SECRET).expect("the signature verifies");
    decode(kind, &delivery.headers, &delivery.body).expect("the payload decodes")
}

/// The reason of an ignored event; panics on any other.
pub fn ignored_reason(event: Event) -> String {
    match event {
        Event::Ignored { reason, .. } => reason,
        other => panic!("expected an ignored event, got {other:?}"),
    }
}
