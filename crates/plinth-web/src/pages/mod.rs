//! The dashboard's pages, one module each, and the pieces they share.

pub(crate) mod copies;
pub(crate) mod instance;
pub(crate) mod locks;
pub(crate) mod overview;
pub(crate) mod pulls;
pub(crate) mod run;
pub(crate) mod runs;

use maud::{Markup, html};

use crate::display::{age, rfc3339, status_class};

/// A status as a coloured badge.
pub(crate) fn badge(status: &str) -> Markup {
    html! { span class={ "badge " (status_class(status)) } { (status) } }
}

/// An age, with its exact time in `datetime`.
pub(crate) fn ago(ms: i64, now: i64) -> Markup {
    html! { time datetime=(rfc3339(ms)) { (age(ms, now)) " ago" } }
}

/// What a page says when it has nothing to show, and why.
pub(crate) fn empty(text: &str) -> Markup {
    html! { p.empty { (text) } }
}

/// An empty string as `None` (HTML forms send empty fields for "any").
pub(crate) fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}
