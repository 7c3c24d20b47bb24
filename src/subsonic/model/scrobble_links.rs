//! Our scrobbling methods' types: `scrobbleServices` (the configured services and the
//! caller's link to each) and `lastFmAuth`.

use super::iso_time;
use crate::subsonic::response::{Element, ToElement};

/// Our `service`: one configured scrobbling service and the caller's link to it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScrobbleService {
    pub id: String,
    pub name: String,
    /// "listenbrainz" or "lastfm".
    pub kind: &'static str,
    pub linked: bool,
    /// The account's name at the service.
    pub account: Option<String>,
    /// Last.fm only: stars become loves.
    pub love_on_star: Option<bool>,
    /// Listens (and loves) still to be sent.
    pub pending: i64,
    /// Why the service rejected the link (nothing is sent until it is linked again).
    pub broken_reason: Option<String>,
    /// The last failure of a send that will be retried.
    pub last_error: Option<String>,
    /// Epoch milliseconds.
    pub linked_at: Option<i64>,
}

impl ToElement for ScrobbleService {
    fn into_element(self, name: &'static str) -> Element {
        Element::new(name)
            .attr("id", self.id)
            .attr("name", self.name)
            .attr("type", self.kind)
            .attr("linked", self.linked)
            .attr_opt("account", self.account)
            .attr_opt("loveOnStar", self.love_on_star)
            .attr("pending", self.pending)
            .attr_opt("brokenReason", self.broken_reason)
            .attr_opt("lastError", self.last_error)
            .attr_opt("linkedAt", self.linked_at.map(iso_time))
    }
}

list_type!(
    /// Our `scrobbleServices`.
    ScrobbleServices(ScrobbleService) = "service"
);

/// Our `lastFmAuth`: the Last.fm page that links the caller's account.
#[derive(Debug, Clone, PartialEq)]
pub struct LastFmAuth {
    pub url: String,
}

impl ToElement for LastFmAuth {
    fn into_element(self, name: &'static str) -> Element {
        Element::new(name).attr("url", self.url)
    }
}
