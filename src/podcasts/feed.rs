//! Podcast feeds as data: RSS 2.0 (with the iTunes tags) and Atom, parsed from bytes into a
//! `Feed`. Pure: no I/O, no database, so every rule here is unit-tested.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

/// What a feed says about its channel and episodes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Feed {
    pub title: Option<String>,
    pub description: Option<String>,
    pub image_url: Option<String>,
    /// In feed order; items without an enclosure (no audio to fetch) are left out.
    pub episodes: Vec<FeedEpisode>,
}

/// One episode of a feed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedEpisode {
    /// What keeps the episode unique across refreshes: the GUID (Atom: the entry id), else
    /// the enclosure URL.
    pub guid: String,
    pub title: String,
    pub description: Option<String>,
    /// Epoch milliseconds.
    pub published_ms: Option<i64>,
    pub duration_secs: Option<i32>,
    pub enclosure_url: String,
    pub enclosure_length: Option<i64>,
    pub enclosure_type: Option<String>,
}

/// Why bytes are not a feed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FeedError {
    #[error("the feed is not valid XML: {0}")]
    Xml(String),
    #[error("the document is not an RSS or Atom feed (its root element is <{0}>)")]
    NotAFeed(String),
}

/// Longest text kept of a title or description, in characters.
const MAX_TEXT_CHARS: usize = 8_000;

/// Parses an RSS 2.0 or Atom document.
pub fn parse(bytes: &[u8]) -> Result<Feed, FeedError> {
    let text = String::from_utf8_lossy(bytes);
    let mut reader = Reader::from_str(&text);
    reader.config_mut().trim_text(false);
    // Element names from the root down, with the text gathered directly inside each.
    let mut stack: Vec<(String, String)> = Vec::new();
    let mut builder = Builder::default();
    let mut root: Option<String> = None;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| FeedError::Xml(format!("{e} (at byte {})", reader.error_position())))?;
        match event {
            Event::Start(e) => {
                let name = qualified_name(&e);
                if root.is_none() {
                    check_root(&name)?;
                    root = Some(name.clone());
                }
                builder.open(&stack, &name, &e);
                stack.push((name, String::new()));
            }
            Event::Empty(e) => {
                let name = qualified_name(&e);
                if root.is_none() {
                    check_root(&name)?;
                    root = Some(name.clone());
                }
                builder.open(&stack, &name, &e);
                builder.close(&stack, &name, String::new());
            }
            Event::Text(t) => push_text(&mut stack, &t.xml10_content()),
            Event::CData(t) => push_text(&mut stack, &t.xml10_content()),
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    _ => {
                        let name = r.xml10_content();
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .map(str::to_string)
                            .ok_or_else(|| FeedError::Xml(format!("unknown entity &{name};")))?
                    }
                };
                push_text(&mut stack, &resolved);
            }
            Event::End(_) => {
                let Some((name, text)) = stack.pop() else {
                    return Err(FeedError::Xml("an end tag without a start".into()));
                };
                builder.close(&stack, &name, text);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if let Some((open, _)) = stack.last() {
        return Err(FeedError::Xml(format!("the document ends inside <{open}>")));
    }
    if root.is_none() {
        return Err(FeedError::Xml("the document is empty".into()));
    }
    Ok(builder.feed)
}

fn check_root(name: &str) -> Result<(), FeedError> {
    match name {
        "rss" | "feed" | "rdf:RDF" => Ok(()),
        other => Err(FeedError::NotAFeed(other.to_string())),
    }
}

/// The element's name with its prefix, except Atom's own ("atom:entry" is "entry").
fn qualified_name(e: &BytesStart<'_>) -> String {
    let name = e.name().as_ref().to_string();
    match name.strip_prefix("atom:") {
        Some(rest) => rest.to_string(),
        None => name,
    }
}

fn push_text(stack: &mut [(String, String)], text: &str) {
    if let Some((_, buffer)) = stack.last_mut()
        && buffer.len() < MAX_TEXT_CHARS * 4
    {
        buffer.push_str(text);
    }
}

fn attribute(e: &BytesStart<'_>, key: &str) -> Option<String> {
    e.attributes().flatten().find_map(|a| {
        (a.key.as_ref() == key)
            .then(|| a.normalized_value(quick_xml::XmlVersion::Implicit1_0).ok())
            .flatten()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    })
}

/// Assembles the feed while the elements go by.
#[derive(Default)]
struct Builder {
    feed: Feed,
    item: Option<ItemFields>,
}

/// What an item said so far; several tags can give one field, the better ones win.
#[derive(Default)]
struct ItemFields {
    guid: Option<String>,
    title: Option<String>,
    description: Option<String>,
    summary: Option<String>,
    published_ms: Option<i64>,
    updated_ms: Option<i64>,
    duration_secs: Option<i32>,
    enclosure: Option<(String, Option<i64>, Option<String>)>,
}

impl ItemFields {
    fn finish(self) -> Option<FeedEpisode> {
        let (url, length, kind) = self.enclosure?;
        Some(FeedEpisode {
            guid: self.guid.unwrap_or_else(|| url.clone()),
            title: self.title.unwrap_or_else(|| url.clone()),
            description: self.description.or(self.summary),
            published_ms: self.published_ms.or(self.updated_ms),
            duration_secs: self.duration_secs,
            enclosure_url: url,
            enclosure_length: length.filter(|n| *n > 0),
            enclosure_type: kind,
        })
    }
}

impl Builder {
    /// A start tag (attributes are only read here).
    fn open(&mut self, stack: &[(String, String)], name: &str, e: &BytesStart<'_>) {
        let parent = stack.last().map(|(n, _)| n.as_str()).unwrap_or("");
        match name {
            "item" | "entry" => self.item = Some(ItemFields::default()),
            "enclosure" => {
                if let Some(item) = &mut self.item
                    && let Some(url) = attribute(e, "url")
                {
                    let length = attribute(e, "length").and_then(|l| l.parse().ok());
                    item.enclosure = Some((url, length, attribute(e, "type")));
                }
            }
            // Atom: <link rel="enclosure" href=".." type=".." length=".."/>.
            "link" if self.item.is_some() => {
                if attribute(e, "rel").as_deref() == Some("enclosure")
                    && let Some(url) = attribute(e, "href")
                    && let Some(item) = &mut self.item
                    && item.enclosure.is_none()
                {
                    let length = attribute(e, "length").and_then(|l| l.parse().ok());
                    item.enclosure = Some((url, length, attribute(e, "type")));
                }
            }
            "itunes:image" if self.item.is_none() && matches!(parent, "channel" | "feed") => {
                if let Some(href) = attribute(e, "href") {
                    self.feed.image_url = Some(href);
                }
            }
            _ => {}
        }
    }

    /// An end tag, with the text directly inside the element.
    fn close(&mut self, stack: &[(String, String)], name: &str, text: String) {
        let parent = stack.last().map(|(n, _)| n.as_str()).unwrap_or("");
        let text = text.trim();
        if matches!(name, "item" | "entry") {
            if let Some(episode) = self.item.take().and_then(ItemFields::finish) {
                self.feed.episodes.push(episode);
            }
            return;
        }
        if let Some(item) = &mut self.item {
            match name {
                "guid" | "id" if !text.is_empty() => item.guid = Some(text.to_string()),
                "title" if !text.is_empty() => item.title = Some(clean(text)),
                "description" | "content:encoded" | "content" if !text.is_empty() => {
                    item.description.get_or_insert_with(|| clean(text));
                }
                "itunes:summary" | "summary" | "itunes:subtitle" if !text.is_empty() => {
                    item.summary.get_or_insert_with(|| clean(text));
                }
                "pubDate" | "published" | "dc:date" => item.published_ms = parse_date(text),
                "updated" => item.updated_ms = parse_date(text),
                "itunes:duration" => item.duration_secs = parse_duration(text),
                _ => {}
            }
            return;
        }
        let in_channel = matches!(parent, "channel" | "feed");
        match name {
            "title" if in_channel && !text.is_empty() => {
                self.feed.title = Some(clean(text));
            }
            "description" | "subtitle" | "itunes:summary" if in_channel && !text.is_empty() => {
                self.feed.description.get_or_insert_with(|| clean(text));
            }
            // RSS <image><url>; Atom <logo> (else <icon>); itunes:image (an attribute) wins.
            "url" if parent == "image" && !text.is_empty() => {
                self.feed.image_url.get_or_insert_with(|| text.to_string());
            }
            "logo" | "icon" if in_channel && !text.is_empty() => {
                self.feed.image_url.get_or_insert_with(|| text.to_string());
            }
            _ => {}
        }
    }
}

/// Text as people should read it: HTML tags removed, entities of HTML's common few decoded,
/// runs of white space made one space, cut to `MAX_TEXT_CHARS`.
pub fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    let decoded = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&apos;", "'")
        .replace("&amp;", "&");
    decoded
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(MAX_TEXT_CHARS)
        .collect()
}

/// `itunes:duration`: seconds ("1800"), "m:s" or "h:m:s" (fractions of a second dropped).
pub fn parse_duration(text: &str) -> Option<i32> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let parts: Vec<&str> = text.split(':').collect();
    if parts.len() > 3 {
        return None;
    }
    let mut seconds: i64 = 0;
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let whole = if last {
            part.split('.').next().unwrap_or("")
        } else {
            part
        };
        let n: i64 = whole.trim().parse().ok().filter(|n| *n >= 0)?;
        if i > 0 && n >= 60 {
            return None;
        }
        seconds = seconds * 60 + n;
    }
    i32::try_from(seconds).ok()
}

/// A feed date: RFC 2822 (RSS `pubDate`, with the usual sloppiness: named zones, missing
/// weekday) or RFC 3339 (Atom). Epoch milliseconds.
pub fn parse_date(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Ok(d) = chrono::DateTime::parse_from_rfc2822(text) {
        return Some(d.timestamp_millis());
    }
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(d.timestamp_millis());
    }
    // "Mon, 02 Jan 2026 10:00:00 EST"-style zone names chrono does not know, and dates without
    // a zone at all: read as UTC.
    let without_zone = text
        .rsplit_once(' ')
        .filter(|(_, zone)| zone.chars().all(|c| c.is_ascii_alphabetic()))
        .map(|(rest, _)| rest)
        .unwrap_or(text);
    let without_weekday = without_zone
        .split_once(", ")
        .map(|(_, rest)| rest)
        .unwrap_or(without_zone);
    for format in ["%d %b %Y %H:%M:%S", "%d %b %Y %H:%M", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(d) = chrono::NaiveDateTime::parse_from_str(without_weekday, format) {
            return Some(d.and_utc().timestamp_millis());
        }
    }
    chrono::NaiveDate::parse_from_str(without_weekday, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc().timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    const RSS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"
     xmlns:content="http://purl.org/rss/1.0/modules/content/">
  <channel>
    <title>Tea &amp; Sound</title>
    <description><![CDATA[<p>Talks about <b>tea</b>.</p>]]></description>
    <image><url>http://example.test/small.png</url><title>x</title></image>
    <itunes:image href="http://example.test/cover.jpg"/>
    <item>
      <title>Episode 2</title>
      <description>Second &#233;pisode</description>
      <pubDate>Tue, 02 Jun 2026 10:00:00 +0000</pubDate>
      <itunes:duration>1:02:03</itunes:duration>
      <guid isPermaLink="false">ep-2</guid>
      <enclosure url="http://example.test/2.mp3" length="12345" type="audio/mpeg"/>
    </item>
    <item>
      <title>Episode 1</title>
      <itunes:summary>First</itunes:summary>
      <pubDate>Mon, 01 Jun 2026 10:00:00 GMT</pubDate>
      <itunes:duration>45:30</itunes:duration>
      <enclosure url="http://example.test/1.mp3" type="audio/mpeg"/>
    </item>
    <item><title>A blog post, no audio</title></item>
  </channel>
</rss>"#;

    #[test]
    fn rss_with_itunes_tags() {
        let feed = parse(RSS.as_bytes()).unwrap();
        assert_eq!(feed.title.as_deref(), Some("Tea & Sound"));
        assert_eq!(feed.description.as_deref(), Some("Talks about tea ."));
        assert_eq!(
            feed.image_url.as_deref(),
            Some("http://example.test/cover.jpg")
        );
        assert_eq!(feed.episodes.len(), 2, "the item without audio is left out");
        let two = &feed.episodes[0];
        assert_eq!(two.guid, "ep-2");
        assert_eq!(two.title, "Episode 2");
        assert_eq!(two.description.as_deref(), Some("Second épisode"));
        assert_eq!(two.duration_secs, Some(3723));
        assert_eq!(two.enclosure_length, Some(12345));
        assert_eq!(two.enclosure_type.as_deref(), Some("audio/mpeg"));
        assert_eq!(two.published_ms, Some(1_780_394_400_000));
        let one = &feed.episodes[1];
        assert_eq!(
            one.guid, "http://example.test/1.mp3",
            "no guid: the enclosure URL"
        );
        assert_eq!(one.description.as_deref(), Some("First"));
        assert_eq!(one.duration_secs, Some(2730));
        assert_eq!(one.enclosure_length, None);
        assert_eq!(one.published_ms, Some(1_780_308_000_000));
    }

    #[test]
    fn atom_feeds() {
        let atom = r#"<?xml version="1.0"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Atom Cast</title>
  <subtitle>Sub</subtitle>
  <logo>http://example.test/logo.png</logo>
  <entry>
    <title>Entry</title>
    <id>urn:uuid:1</id>
    <updated>2026-06-03T10:00:00Z</updated>
    <summary>Sum</summary>
    <link rel="alternate" href="http://example.test/page"/>
    <link rel="enclosure" href="http://example.test/e.ogg" type="audio/ogg" length="99"/>
  </entry>
</feed>"#;
        let feed = parse(atom.as_bytes()).unwrap();
        assert_eq!(feed.title.as_deref(), Some("Atom Cast"));
        assert_eq!(feed.description.as_deref(), Some("Sub"));
        assert_eq!(
            feed.image_url.as_deref(),
            Some("http://example.test/logo.png")
        );
        let e = &feed.episodes[0];
        assert_eq!(e.guid, "urn:uuid:1");
        assert_eq!(e.enclosure_url, "http://example.test/e.ogg");
        assert_eq!(e.enclosure_length, Some(99));
        assert_eq!(e.published_ms, Some(1_780_480_800_000));
        assert_eq!(e.description.as_deref(), Some("Sum"));
    }

    #[test]
    fn bad_documents_are_errors() {
        assert!(matches!(
            parse(b"<rss><channel><title>x</title></rss>"),
            Err(FeedError::Xml(_))
        ));
        assert!(matches!(parse(b"<rss><channel>"), Err(FeedError::Xml(_))));
        assert!(matches!(parse(b""), Err(FeedError::Xml(_))));
        assert!(parse(b"not xml at all &&&").is_err());
        assert_eq!(
            parse(b"<html><body>hi</body></html>"),
            Err(FeedError::NotAFeed("html".into()))
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1800"), Some(1800));
        assert_eq!(parse_duration("05:07"), Some(307));
        assert_eq!(parse_duration("1:00:00"), Some(3600));
        assert_eq!(parse_duration("12:34.56"), Some(754));
        assert_eq!(parse_duration("1:75"), None);
        assert_eq!(parse_duration("1:2:3:4"), None);
        assert_eq!(parse_duration("about an hour"), None);
        assert_eq!(parse_duration(""), None);
    }

    #[test]
    fn dates() {
        let utc = 1_780_394_400_000;
        assert_eq!(parse_date("Tue, 02 Jun 2026 10:00:00 +0000"), Some(utc));
        assert_eq!(parse_date("Tue, 02 Jun 2026 12:00:00 +0200"), Some(utc));
        assert_eq!(parse_date("2026-06-02T10:00:00Z"), Some(utc));
        assert_eq!(parse_date("Tue, 02 Jun 2026 10:00:00 XYZ"), Some(utc));
        assert_eq!(parse_date("02 Jun 2026 10:00:00"), Some(utc));
        assert_eq!(parse_date("yesterday"), None);
    }

    #[test]
    fn clean_text() {
        assert_eq!(clean("<p>a&nbsp;<i>b</i></p>\n\n c"), "a b c");
        assert_eq!(clean("x &amp;lt; y"), "x &lt; y");
    }
}
