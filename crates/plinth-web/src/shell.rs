//! The page shell: head, navigation, who is signed in and the sign-out button.

use maud::{DOCTYPE, Markup, html};

use crate::csrf;
use crate::session::Session;

/// Which navigation entry is current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Nav {
    Overview,
    Runs,
    Pulls,
    Locks,
    Copies,
}

const ENTRIES: &[(Nav, &str, &str)] = &[
    (Nav::Overview, "/", "Overview"),
    (Nav::Runs, "/runs", "Runs"),
    (Nav::Pulls, "/pulls", "Pull requests"),
    (Nav::Locks, "/locks", "Locks"),
    (Nav::Copies, "/copies", "Copies"),
];

/// Extra things a page puts in its `<head>`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Head {
    /// Load the live-progress script.
    pub live: bool,
}

/// A signed-in page.
pub(crate) fn page(title: &str, nav: Nav, session: &Session, head: Head, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head_of(title, head))
            body {
                header.top {
                    a.brand href="/" { "plinth" }
                    nav {
                        @for (entry, href, label) in ENTRIES {
                            @if *entry == nav {
                                a.current href=(href) aria-current="page" { (label) }
                            } @else {
                                a href=(href) { (label) }
                            }
                        }
                    }
                    div.who {
                        span title="signed in with this token" {
                            (session.actor.name) " · " (session.actor.scope.as_str())
                        }
                        form method="post" action="/logout" {
                            input type="hidden" name=(csrf::FIELD) value=(session.csrf);
                            button.link type="submit" { "Sign out" }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// A page without navigation (sign-in, errors).
pub(crate) fn bare(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head_of(title, Head::default()))
            body {
                header.top { a.brand href="/" { "plinth" } }
                main.narrow { (body) }
            }
        }
    }
}

fn head_of(title: &str, head: Head) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            meta name="referrer" content="no-referrer";
            title { (title) " · plinth" }
            link rel="stylesheet" href="/assets/plinth.css";
            @if head.live {
                script src="/assets/live.js" defer {}
            }
        }
    }
}
