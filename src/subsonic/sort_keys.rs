//! The keys artists are sorted and indexed by (getIndexes, getArtists, the byArtist album
//! list): shared by the handlers of both browsing modes, so it lives outside them.

/// Articles ignored when sorting and indexing artists.
pub const IGNORED_ARTICLES: &str = "The El La Los Las Le Les";

/// The name an artist is sorted and indexed by: its sort name, or its name without a leading
/// article.
pub fn sort_key(name: &str, sort_name: Option<&str>) -> String {
    if let Some(s) = sort_name.filter(|s| !s.is_empty()) {
        return s.to_lowercase();
    }
    let lower = name.to_lowercase();
    for article in IGNORED_ARTICLES.split(' ') {
        let prefix = format!("{} ", article.to_lowercase());
        if let Some(rest) = lower.strip_prefix(&prefix)
            && !rest.is_empty()
        {
            return rest.to_string();
        }
    }
    lower
}

/// The index letter of a sort key: its first letter, or "#" for anything else.
pub fn index_letter(key: &str) -> String {
    match key.chars().next() {
        Some(c) if c.is_alphabetic() => c.to_uppercase().collect(),
        _ => "#".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn articles_are_ignored_for_sorting_and_indexing() {
        assert_eq!(sort_key("The Beatles", None), "beatles");
        assert_eq!(sort_key("The", None), "the");
        assert_eq!(sort_key("Los Lobos", None), "lobos");
        assert_eq!(sort_key("Björk", Some("Bjork")), "bjork");
        assert_eq!(index_letter("beatles"), "B");
        assert_eq!(index_letter("ökonom"), "Ö");
        assert_eq!(index_letter("2pac"), "#");
    }
}
