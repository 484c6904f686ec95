//! Signature and token checks, delivery ids, and the deliveries that cannot be decoded.

use plinth_forge::fake::webhooks::{delivery, github_signature};
use plinth_forge::webhook::{DecodeError, VerifyError, decode, delivery_id, verify};
use plinth_forge::{Event, ForgeKind};

use super::SECRET;

const BODY: &[u8] = br#"{"zen":"Keep it logically awesome.","hook_id":1}"#;

#[test]
fn github_accepts_its_own_signature_and_refuses_any_other() {
    let d = delivery(ForgeKind::GitHub, "ping", BODY.to_vec(), SECRET);
    assert_eq!(
        verify(ForgeKind::GitHub, &d.headers, &d.body, SECRET),
        Ok(())
    );

    let header = "x-hub-signature-256";
    let wrong_secret = verify(ForgeKind::GitHub, &d.headers, &d.body, "another secret");
    assert_eq!(wrong_secret, Err(VerifyError::Mismatch { header }));

    let mut tampered = d.body.clone();
    tampered[3] ^= 1;
    let tampered = verify(ForgeKind::GitHub, &d.headers, &tampered, SECRET);
    assert_eq!(tampered, Err(VerifyError::Mismatch { header }));

    let missing = d.clone().with_header(header, None);
    assert_eq!(
        verify(ForgeKind::GitHub, &missing.headers, &missing.body, SECRET),
        Err(VerifyError::Missing { header })
    );

    // The legacy SHA-1 scheme, even correctly computed, is not accepted.
    let sha1 = d.clone().with_header(
        header,
        Some("sha1=0123456789abcdef0123456789abcdef01234567"),
    );
    assert_eq!(
        verify(ForgeKind::GitHub, &sha1.headers, &sha1.body, SECRET),
        Err(VerifyError::WrongScheme { header })
    );

    let not_hex = d.clone().with_header(header, Some("sha256=not-hex"));
    assert_eq!(
        verify(ForgeKind::GitHub, &not_hex.headers, &not_hex.body, SECRET),
        Err(VerifyError::Malformed { header })
    );

    // A truncated digest is a mismatch, not a prefix match.
    let full = github_signature(&d.body, SECRET);
    let short = d.clone().with_header(header, Some(&full[..full.len() - 2]));
    assert_eq!(
        verify(ForgeKind::GitHub, &short.headers, &short.body, SECRET),
        Err(VerifyError::Mismatch { header })
    );
}

#[test]
fn an_empty_secret_verifies_nothing() {
    let d = delivery(ForgeKind::GitHub, "ping", BODY.to_vec(), "");
    assert_eq!(
        verify(ForgeKind::GitHub, &d.headers, &d.body, ""),
        Err(VerifyError::NoSecret)
    );
    let d = delivery(ForgeKind::GitLab, "Push Hook", BODY.to_vec(), "");
    assert_eq!(
        verify(ForgeKind::GitLab, &d.headers, &d.body, ""),
        Err(VerifyError::NoSecret)
    );
}

#[test]
fn gitea_and_forgejo_signatures() {
    let d = delivery(ForgeKind::Gitea, "push", BODY.to_vec(), SECRET);
    assert_eq!(
        verify(ForgeKind::Gitea, &d.headers, &d.body, SECRET),
        Ok(())
    );
    assert_eq!(
        verify(ForgeKind::Gitea, &d.headers, &d.body, "wrong"),
        Err(VerifyError::Mismatch {
            header: "x-gitea-signature"
        })
    );

    // Forgejo sends the same HMAC under its own name.
    let signature = d.headers["x-gitea-signature"].to_str().unwrap().to_string();
    let forgejo = d
        .clone()
        .with_header("x-gitea-signature", None)
        .with_header("x-forgejo-signature", Some(&signature));
    assert_eq!(
        verify(ForgeKind::Gitea, &forgejo.headers, &forgejo.body, SECRET),
        Ok(())
    );

    // The GitHub-style copy Gitea also sends is not enough on its own.
    let only_hub = d.clone().with_header("x-gitea-signature", None);
    assert_eq!(
        verify(ForgeKind::Gitea, &only_hub.headers, &only_hub.body, SECRET),
        Err(VerifyError::Missing {
            header: "x-gitea-signature"
        })
    );

    let not_hex = d.with_header("x-gitea-signature", Some("zz"));
    assert_eq!(
        verify(ForgeKind::Gitea, &not_hex.headers, &not_hex.body, SECRET),
        Err(VerifyError::Malformed {
            header: "x-gitea-signature"
        })
    );
}

#[test]
fn gitlab_compares_the_token() {
    let header = "x-gitlab-token";
    let d = delivery(ForgeKind::GitLab, "Push Hook", BODY.to_vec(), SECRET);
    assert_eq!(
        verify(ForgeKind::GitLab, &d.headers, &d.body, SECRET),
        Ok(())
    );
    for wrong in ["It's a Secret to Everybody!", "It's a Secret", "", "x"] {
        let w = d.clone().with_header(header, Some(wrong));
        let expected = if wrong.is_empty() {
            VerifyError::Missing { header }
        } else {
            VerifyError::Mismatch { header }
        };
        assert_eq!(
            verify(ForgeKind::GitLab, &w.headers, &w.body, SECRET),
            Err(expected),
            "{wrong:?}"
        );
    }
    let missing = d.with_header(header, None);
    assert_eq!(
        verify(ForgeKind::GitLab, &missing.headers, &missing.body, SECRET),
        Err(VerifyError::Missing { header })
    );
}

#[test]
fn verify_errors_never_quote_the_secret_or_signature() {
    let d = delivery(ForgeKind::GitHub, "ping", BODY.to_vec(), SECRET);
    let sent = d.headers["x-hub-signature-256"]
        .to_str()
        .unwrap()
        .to_string();
    let err = verify(ForgeKind::GitHub, &d.headers, &d.body, "other")
        .unwrap_err()
        .to_string();
    assert!(!err.contains(SECRET) && !err.contains(&sent[7..]), "{err}");
    let g = delivery(ForgeKind::GitLab, "Push Hook", BODY.to_vec(), "sent-token");
    let err = verify(ForgeKind::GitLab, &g.headers, &g.body, SECRET)
        .unwrap_err()
        .to_string();
    assert!(
        !err.contains("sent-token") && !err.contains(SECRET),
        "{err}"
    );
}

#[test]
fn delivery_ids_come_from_each_forges_header() {
    for kind in [ForgeKind::GitHub, ForgeKind::GitLab, ForgeKind::Gitea] {
        let d = delivery(kind, "push", BODY.to_vec(), SECRET);
        assert_eq!(
            delivery_id(kind, &d.headers).as_deref(),
            Some(d.id.as_str())
        );
    }
    let github = delivery(ForgeKind::GitHub, "push", BODY.to_vec(), SECRET)
        .with_header("x-github-delivery", None);
    assert_eq!(delivery_id(ForgeKind::GitHub, &github.headers), None);
    let gitlab = delivery(ForgeKind::GitLab, "Push Hook", BODY.to_vec(), SECRET)
        .with_header("x-gitlab-event-uuid", None);
    // The hook's own UUID is not a delivery id.
    assert!(gitlab.headers.contains_key("x-gitlab-webhook-uuid"));
    assert_eq!(delivery_id(ForgeKind::GitLab, &gitlab.headers), None);
    let gitea = delivery(ForgeKind::Gitea, "push", BODY.to_vec(), SECRET);
    assert_eq!(
        delivery_id(ForgeKind::Gitea, &gitea.headers),
        Some(
            gitea.headers["x-gitea-delivery"]
                .to_str()
                .unwrap()
                .to_string()
        )
    );
}

#[test]
fn undecodable_deliveries_are_errors() {
    let no_event = delivery(ForgeKind::GitHub, "ping", BODY.to_vec(), SECRET)
        .with_header("x-github-event", None);
    assert!(matches!(
        decode(ForgeKind::GitHub, &no_event.headers, &no_event.body),
        Err(DecodeError::NoEventHeader { .. })
    ));

    for kind in [ForgeKind::GitHub, ForgeKind::GitLab, ForgeKind::Gitea] {
        let d = delivery(kind, "push", b"{\"action\": ".to_vec(), SECRET);
        let err = decode(kind, &d.headers, &d.body).unwrap_err();
        assert!(matches!(err, DecodeError::Json(_)), "{kind:?}: {err}");
    }

    // A relevant event without the fields plinth needs.
    let d = delivery(
        ForgeKind::GitHub,
        "pull_request",
        br#"{"action":"opened","number":1}"#.to_vec(),
        SECRET,
    );
    let err = decode(ForgeKind::GitHub, &d.headers, &d.body).unwrap_err();
    assert!(
        matches!(&err, DecodeError::Shape { event, .. } if event == "pull_request"),
        "{err}"
    );
    assert!(err.to_string().contains("pull_request"), "{err}");

    // An irrelevant event needs no particular fields.
    let d = delivery(
        ForgeKind::GitHub,
        "star",
        br#"{"action":"created"}"#.to_vec(),
        SECRET,
    );
    assert!(matches!(
        decode(ForgeKind::GitHub, &d.headers, &d.body),
        Ok(Event::Ignored { repo: None, .. })
    ));
}
