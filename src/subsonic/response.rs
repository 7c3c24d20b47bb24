//! One response model, two wire formats. Every Subsonic response is built once as a small
//! neutral tree of `Element`s (by the typed values of `model`, through `ToElement`); the XML
//! and JSON writers both walk it, so the formats cannot drift:
//! - scalars are XML attributes and typed JSON properties (numbers stay numbers);
//! - `list` children are repeated XML elements and JSON arrays, even with 0 or 1 items;
//! - `child` is one nested element (a JSON object); text content is JSON `value`;
//! - absent values are never written (no `""`, no `null`).

use quick_xml::escape::escape;
use std::borrow::Cow;
use std::sync::Arc;

/// A scalar attribute value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Str(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Str(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Str(v.clone())
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::Int(v.into())
    }
}
impl From<usize> for Value {
    fn from(v: usize) -> Self {
        Value::Int(v as i64)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}

/// A typed wire value (see `model`) that renders itself as one element named `name`. List
/// items take the list's name whatever `name` is given.
pub trait ToElement {
    fn into_element(self, name: &'static str) -> Element;
}

impl ToElement for Element {
    fn into_element(self, _name: &'static str) -> Element {
        self
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Child {
    One(Element),
    List(&'static str, Vec<Element>),
    Scalars(&'static str, Vec<Value>),
    Field(&'static str, String),
    /// Where the items of a streamed list go (see `render_streamed`).
    Hole(&'static str),
    /// A list written once in both formats (`RenderedList`).
    Rendered(&'static str, Arc<RenderedList>),
}

/// A list of elements written once in both formats, for answers made from cached catalog
/// data that many requests share: getArtists at a million tracks lists 28,000 artists, tens of
/// milliseconds to build and write each time and a copy to reuse. What every request would
/// write the same way (no per-user values) belongs here, nothing else.
#[derive(Debug, PartialEq)]
pub struct RenderedList {
    xml: String,
    json: String,
}

impl RenderedList {
    /// The items as the list named `name` would write them.
    pub fn of(name: &'static str, items: &[Element]) -> RenderedList {
        let mut xml = String::new();
        let mut json = String::from("[");
        for (i, item) in items.iter().enumerate() {
            item.write_xml_as(name, &mut xml, None);
            if i > 0 {
                json.push(',');
            }
            item.write_json(&mut json);
        }
        json.push(']');
        RenderedList { xml, json }
    }
}

/// Marks a streamed list's place in a rendered envelope. Never written otherwise: control
/// characters are stripped from XML text and escaped in JSON strings.
const HOLE: char = '\0';

/// A response element: attributes, optional text, and ordered children.
#[derive(Debug, Clone, PartialEq)]
pub struct Element {
    name: &'static str,
    attrs: Vec<(&'static str, Value)>,
    text: Option<String>,
    children: Vec<Child>,
}

impl Element {
    pub fn new(name: &'static str) -> Self {
        Self {
            name,
            attrs: Vec::new(),
            text: None,
            children: Vec::new(),
        }
    }

    /// Adds an attribute.
    pub fn attr(mut self, key: &'static str, value: impl Into<Value>) -> Self {
        self.attrs.push((key, value.into()));
        self
    }

    /// Adds an attribute when the value is present.
    pub fn attr_opt<V: Into<Value>>(self, key: &'static str, value: Option<V>) -> Self {
        match value {
            Some(v) => self.attr(key, v),
            None => self,
        }
    }

    /// Sets the text content (XML character data, JSON `value`).
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.text = Some(text.into());
        self
    }

    /// Adds one nested element.
    pub fn child(mut self, child: Element) -> Self {
        self.children.push(Child::One(child));
        self
    }

    /// Adds a nested element when present.
    pub fn child_opt(self, child: Option<Element>) -> Self {
        match child {
            Some(c) => self.child(c),
            None => self,
        }
    }

    /// Adds a list of elements named `name` (a JSON array even when empty).
    pub fn list(mut self, name: &'static str, items: Vec<Element>) -> Self {
        self.children.push(Child::List(name, items));
        self
    }

    /// Adds a list of typed items rendered as elements named `name`.
    pub fn items<T: ToElement>(
        self,
        name: &'static str,
        items: impl IntoIterator<Item = T>,
    ) -> Self {
        self.list(
            name,
            items.into_iter().map(|i| i.into_element(name)).collect(),
        )
    }

    /// Makes the list named `name` (empty; added last when absent) a streamed one: its items
    /// are not in the tree but written one by one after the envelope's head
    /// (`render_streamed`, `write_item`). An envelope holds at most one.
    pub fn streamed_list(mut self, name: &'static str) -> Self {
        let place = self
            .children
            .iter_mut()
            .find(|c| matches!(c, Child::List(n, items) if *n == name && items.is_empty()));
        match place {
            Some(place) => *place = Child::Hole(name),
            None => self.children.push(Child::Hole(name)),
        }
        self
    }

    /// Adds a list written beforehand (`RenderedList::of` with the same `name`).
    pub fn rendered_list(mut self, name: &'static str, list: Arc<RenderedList>) -> Self {
        self.children.push(Child::Rendered(name, list));
        self
    }

    /// Adds a text field: a child element with text in XML (`<notes>…</notes>`), a plain string
    /// property in JSON (the shape of artistInfo/albumInfo fields). Empty values are left out.
    pub fn field_opt(mut self, name: &'static str, value: Option<&str>) -> Self {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            self.children.push(Child::Field(name, v.to_string()));
        }
        self
    }

    /// Adds a list of scalars: `<name>v</name>` elements in XML, an array in JSON.
    pub fn scalars(mut self, name: &'static str, items: Vec<Value>) -> Self {
        self.children.push(Child::Scalars(name, items));
        self
    }

    /// A payload that is not one element but several children of the envelope itself (such
    /// as the `openSubsonicExtensions` array).
    pub fn fragment() -> Self {
        Self::new("")
    }

    /// Renders as an XML element (no declaration).
    pub fn write_xml(&self, out: &mut String, namespace: Option<&str>) {
        self.write_xml_as(self.name, out, namespace);
    }

    /// Renders as an XML element named `name` (list items take the list's name).
    fn write_xml_as(&self, name: &str, out: &mut String, namespace: Option<&str>) {
        out.push('<');
        out.push_str(name);
        if let Some(ns) = namespace {
            out.push_str(" xmlns=\"");
            out.push_str(ns);
            out.push('"');
        }
        for (key, value) in &self.attrs {
            out.push(' ');
            out.push_str(key);
            out.push_str("=\"");
            write_xml_scalar(out, value);
            out.push('"');
        }
        if self.text.is_none() && self.children.is_empty() {
            out.push_str("/>");
            return;
        }
        out.push('>');
        if let Some(text) = &self.text {
            out.push_str(&escape(strip_controls(text)));
        }
        for child in &self.children {
            match child {
                Child::One(e) => e.write_xml(out, None),
                Child::List(list_name, items) => items
                    .iter()
                    .for_each(|e| e.write_xml_as(list_name, out, None)),
                Child::Field(name, text) => {
                    out.push('<');
                    out.push_str(name);
                    out.push('>');
                    out.push_str(&escape(strip_controls(text)));
                    out.push_str("</");
                    out.push_str(name);
                    out.push('>');
                }
                Child::Hole(_) => out.push(HOLE),
                Child::Rendered(_, list) => out.push_str(&list.xml),
                Child::Scalars(name, items) => {
                    for v in items {
                        out.push('<');
                        out.push_str(name);
                        out.push('>');
                        write_xml_scalar(out, v);
                        out.push_str("</");
                        out.push_str(name);
                        out.push('>');
                    }
                }
            }
        }
        out.push_str("</");
        out.push_str(name);
        out.push('>');
    }

    /// Renders the element's content as a JSON object (its name is the caller's key).
    pub fn to_json(&self) -> serde_json::Value {
        let mut out = String::new();
        self.write_json(&mut out);
        serde_json::from_str(&out).unwrap_or(serde_json::Value::Null)
    }

    /// Writes the element's content as a JSON object, keys in insertion order. Written
    /// directly rather than through `serde_json::Value`: a 500-song page is ~20,000 values.
    pub fn write_json(&self, out: &mut String) {
        out.push('{');
        let mut first = true;
        let mut key = |out: &mut String, k: &str| {
            if !first {
                out.push(',');
            }
            first = false;
            json_string(out, k);
            out.push(':');
        };
        for (k, value) in &self.attrs {
            key(out, k);
            json_scalar_into(out, value);
        }
        if let Some(text) = &self.text {
            key(out, "value");
            json_string(out, &strip_controls(text));
        }
        for child in &self.children {
            match child {
                Child::One(e) => {
                    key(out, e.name);
                    e.write_json(out);
                }
                Child::List(name, items) => {
                    key(out, name);
                    out.push('[');
                    for (i, e) in items.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        e.write_json(out);
                    }
                    out.push(']');
                }
                Child::Field(name, text) => {
                    key(out, name);
                    json_string(out, &strip_controls(text));
                }
                Child::Hole(name) => {
                    key(out, name);
                    out.push('[');
                    out.push(HOLE);
                    out.push(']');
                }
                Child::Rendered(name, list) => {
                    key(out, name);
                    out.push_str(&list.json);
                }
                Child::Scalars(name, items) => {
                    key(out, name);
                    out.push('[');
                    for (i, v) in items.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        json_scalar_into(out, v);
                    }
                    out.push(']');
                }
            }
        }
        out.push('}');
    }

    pub fn name(&self) -> &'static str {
        self.name
    }
}

/// Control characters make an XML document invalid; the scanner strips them from tags, this
/// is the last line of defence for anything else.
///
/// `s` without the control characters clients cannot take (tabs and line breaks stay);
/// borrowed when there are none, which is nearly always.
fn strip_controls(s: &str) -> Cow<'_, str> {
    let is_stripped = |c: char| c.is_control() && !matches!(c, '\t' | '\n' | '\r');
    // Control characters are below 0x20, 0x7F, or U+0080-U+009F (0xC2 0x80-0x9F in UTF-8): a
    // byte scan rules them out before any decoding.
    let maybe = s
        .bytes()
        .any(|b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0x7F || b == 0xC2);
    if maybe && s.chars().any(is_stripped) {
        Cow::Owned(s.chars().filter(|c| !is_stripped(*c)).collect())
    } else {
        Cow::Borrowed(s)
    }
}

/// Writes a scalar as XML attribute text (escaped).
fn write_xml_scalar(out: &mut String, v: &Value) {
    use std::fmt::Write;
    match v {
        Value::Str(s) => out.push_str(&escape(strip_controls(s))),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) => {
            let _ = write!(out, "{f}");
        }
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
    }
}

fn json_scalar_into(out: &mut String, v: &Value) {
    use std::fmt::Write;
    match v {
        Value::Str(s) => json_string(out, &strip_controls(s)),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        // JSON has no NaN or infinity; such a value is written as 0 rather than as null.
        Value::Float(f) if f.is_finite() => {
            let _ = write!(out, "{f}");
        }
        Value::Float(_) => out.push('0'),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
    }
}

/// A JSON string literal with the escapes JSON requires; the runs between them are copied
/// whole (answers are mostly such runs: a 1,000-song answer is a megabyte of them).
fn json_string(out: &mut String, s: &str) {
    use std::fmt::Write;
    out.push('"');
    let mut run = 0;
    for (i, b) in s.bytes().enumerate() {
        let escaped = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..0x20 => "",
            _ => continue,
        };
        // `i` is at an ASCII byte, so both slices end on character boundaries.
        out.push_str(&s[run..i]);
        if escaped.is_empty() {
            let _ = write!(out, "\\u{b:04x}");
        } else {
            out.push_str(escaped);
        }
        run = i + 1;
    }
    out.push_str(&s[run..]);
    out.push('"');
}

/// Whether the client name `c` is one of `legacy` (case-insensitively; "DSub" also matches
/// "DSub_phone" or "DSub-2", as the per-client bitrate caps match).
pub fn is_legacy_client(legacy: &[String], client: Option<&str>) -> bool {
    let Some(client) = client.map(str::trim) else {
        return false;
    };
    legacy
        .iter()
        .any(|name| crate::config::client_name_matches(name, client))
}

/// The response formats a client can ask for with `f=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    Xml,
    Json,
    /// JSON wrapped in a call of this (validated) JavaScript identifier.
    Jsonp(String),
}

/// The Subsonic protocol version we speak.
pub const API_VERSION: &str = "1.16.1";
/// Our name in the envelope's `type` (never "subsonic": DSub would switch to Madsonic mode).
pub const SERVER_TYPE: &str = "mediastreamer";
const NAMESPACE: &str = "http://subsonic.org/restapi";

/// A whole response body: the envelope around an optional payload, as (content type, body).
/// The payload is moved into the envelope, not copied (a 100,000-song playlist is hundreds of
/// MB of elements).
pub fn render(format: &Format, ok: bool, payload: Option<Element>) -> (&'static str, String) {
    let envelope = Element::new("subsonic-response")
        .attr("status", if ok { "ok" } else { "failed" })
        .attr("version", API_VERSION)
        .attr("type", SERVER_TYPE)
        .attr("serverVersion", env!("CARGO_PKG_VERSION"))
        .attr("openSubsonic", true);
    let envelope = match payload {
        Some(p) if p.name.is_empty() => {
            let mut e = envelope;
            e.children.extend(p.children);
            e
        }
        other => envelope.child_opt(other),
    };
    match format {
        Format::Xml => {
            let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
            envelope.write_xml(&mut out, Some(NAMESPACE));
            (content_type(format), out)
        }
        Format::Json => (content_type(format), json_envelope(&envelope)),
        Format::Jsonp(callback) => (
            content_type(format),
            format!("{callback}({});", json_envelope(&envelope)),
        ),
    }
}

/// The content type of an answer in `format`.
pub fn content_type(format: &Format) -> &'static str {
    match format {
        Format::Xml => "text/xml; charset=utf-8",
        Format::Json => "application/json; charset=utf-8",
        Format::Jsonp(_) => "application/javascript; charset=utf-8",
    }
}

/// An envelope whose one streamed list (`Element::streamed_list`) is written item by item:
/// `head`, then each item (`write_item`), then `tail` make the same bytes as `render` of the
/// tree with those items in the list.
pub struct StreamedEnvelope {
    pub content_type: &'static str,
    pub head: String,
    pub tail: String,
}

/// Renders `payload` (holding one `streamed_list`) into the envelope, split at the list.
pub fn render_streamed(format: &Format, payload: Element) -> StreamedEnvelope {
    let (content_type, mut body) = render(format, true, Some(payload));
    let at = body
        .find(HOLE)
        .expect("a streamed envelope holds a streamed list");
    let tail = body.split_off(at + HOLE.len_utf8());
    body.truncate(at);
    debug_assert!(!tail.contains(HOLE), "one streamed list per envelope");
    StreamedEnvelope {
        content_type,
        head: body,
        tail,
    }
}

/// Writes one item of a streamed list named `list` (`first`: the list's first item, which
/// JSON writes without a separator).
pub fn write_item(
    format: &Format,
    list: &'static str,
    item: &Element,
    first: bool,
    out: &mut String,
) {
    match format {
        Format::Xml => item.write_xml_as(list, out, None),
        Format::Json | Format::Jsonp(_) => {
            if !first {
                out.push(',');
            }
            item.write_json(out);
        }
    }
}

fn json_envelope(envelope: &Element) -> String {
    let mut out = String::with_capacity(4096);
    out.push_str("{\"subsonic-response\":");
    envelope.write_json(&mut out);
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Element {
        Element::new("album")
            .attr("id", "al-1")
            .attr("songCount", 2)
            .attr("isCompilation", false)
            .attr_opt::<i32>("year", None)
            .attr("name", "A & B <\u{1}live>")
            .list(
                "song",
                vec![Element::new("song").attr("id", "tr-1").attr("duration", 61)],
            )
            .list("genres", vec![])
            .scalars("moods", vec!["calm".into()])
    }

    #[test]
    fn legacy_clients_match_by_name() {
        let legacy = vec!["DSub".to_string()];
        for c in [
            "DSub",
            "dsub",
            " DSub ",
            "DSub_phone",
            "dsub-2",
            "DSub tablet",
        ] {
            assert!(is_legacy_client(&legacy, Some(c)), "{c}");
        }
        for c in ["DSubX", "Symfonium", "", "Sub"] {
            assert!(!is_legacy_client(&legacy, Some(c)), "{c}");
        }
        assert!(!is_legacy_client(&legacy, None));
        assert!(!is_legacy_client(&[], Some("DSub")));
    }

    #[test]
    fn json_keeps_types_arrays_and_omits_absent_values() {
        let (ctype, body) = render(&Format::Json, true, Some(sample()));
        assert!(ctype.starts_with("application/json"));
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        let r = &v["subsonic-response"];
        assert_eq!(r["status"], "ok");
        assert_eq!(r["version"], "1.16.1");
        assert_eq!(r["openSubsonic"], true);
        let album = &r["album"];
        assert_eq!(album["songCount"], 2);
        assert_eq!(album["isCompilation"], false);
        assert!(album.get("year").is_none());
        assert_eq!(album["name"], "A & B <live>");
        assert!(album["song"].is_array() && album["song"].as_array().unwrap().len() == 1);
        assert_eq!(album["genres"], serde_json::json!([]));
        assert_eq!(album["moods"], serde_json::json!(["calm"]));
    }

    #[test]
    fn xml_has_namespace_attributes_and_escapes() {
        let (ctype, body) = render(&Format::Xml, true, Some(sample()));
        assert!(ctype.starts_with("text/xml"));
        assert!(
            body.contains("<subsonic-response xmlns=\"http://subsonic.org/restapi\" status=\"ok\"")
        );
        assert!(body.contains("name=\"A &amp; B &lt;live&gt;\""));
        assert!(body.contains("<song id=\"tr-1\" duration=\"61\"/>"));
        assert!(body.contains("<moods>calm</moods>"));
        assert!(!body.contains("year="));
    }

    #[test]
    fn list_items_take_the_list_name_and_fragments_join_the_envelope() {
        let payload = Element::fragment().list(
            "openSubsonicExtensions",
            vec![Element::new("x").attr("name", "formPost")],
        );
        let (_, xml) = render(&Format::Xml, true, Some(payload.clone()));
        assert!(xml.contains("openSubsonic=\"true\"><openSubsonicExtensions name=\"formPost\"/></subsonic-response>"), "{xml}");
        let (_, json) = render(&Format::Json, true, Some(payload));
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            v["subsonic-response"]["openSubsonicExtensions"][0]["name"],
            "formPost"
        );
    }

    #[test]
    fn a_rendered_list_writes_the_bytes_of_the_tree() {
        let items = |n: i32| -> Vec<Element> {
            (0..n)
                .map(|i| {
                    Element::new("ignored")
                        .attr("name", format!("<A & \"{i}\">"))
                        .items("artist", [Element::new("x").attr("id", i)])
                })
                .collect()
        };
        for n in [0, 1, 3] {
            let tree = Element::new("artists")
                .attr("ignoredArticles", "The")
                .list("index", items(n));
            let rendered = Element::new("artists")
                .attr("ignoredArticles", "The")
                .rendered_list("index", Arc::new(RenderedList::of("index", &items(n))));
            for format in [Format::Xml, Format::Json, Format::Jsonp("cb".into())] {
                assert_eq!(
                    render(&format, true, Some(rendered.clone())),
                    render(&format, true, Some(tree.clone())),
                    "{n} items"
                );
            }
        }
    }

    #[test]
    fn json_strings_are_escaped() {
        let e = Element::new("x")
            .attr("q", "a\"b\\c\nd\u{7}")
            .attr("f", 1.5);
        let mut out = String::new();
        e.write_json(&mut out);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["q"], "a\"b\\c\nd");
        assert_eq!(v["f"], 1.5);
        // Escapes at either end, multi-byte text between them, C0 and C1 controls stripped.
        for raw in [
            "\"",
            "\\x\\",
            "\tÉté 🎵\r\n",
            "a\u{85}b\u{1f}c\u{7f}",
            "plain",
            "",
        ] {
            let mut out = String::new();
            json_string(&mut out, &strip_controls(raw));
            let back: String = serde_json::from_str(&out).unwrap();
            let expected: String = raw
                .chars()
                .filter(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'))
                .collect();
            assert_eq!(back, expected, "{raw:?} -> {out}");
        }
        let mut out = String::new();
        json_string(&mut out, "\u{1}");
        assert_eq!(out, "\"\\u0001\"");
    }

    #[test]
    fn a_streamed_list_renders_the_bytes_of_the_tree() {
        let item = |i: i32| {
            Element::new("whatever")
                .attr("id", format!("tr-{i}"))
                .attr("title", "<a & \"b\">\u{1}")
                .scalars("moods", vec!["calm".into()])
                .list("genres", vec![Element::new("g").attr("name", "Rock")])
        };
        let head = || {
            Element::new("playlist")
                .attr("id", "pl-1")
                .attr("name", "x")
        };
        // The list in the middle of its element (replaced in place), or added last.
        for format in [Format::Xml, Format::Json, Format::Jsonp("cb".into())] {
            for in_tree in [true, false] {
                let shape = |e: Element| match in_tree {
                    true => e.attr("after", 1).child(Element::new("after")),
                    false => e,
                };
                for n in [0, 1, 3] {
                    let tree = shape(head().items("entry", (0..n).map(item)));
                    let (tree_type, tree_body) = render(&format, true, Some(tree));
                    let payload = if in_tree {
                        shape(head().items("entry", Vec::<Element>::new()))
                    } else {
                        head()
                    };
                    let streamed = render_streamed(&format, payload.streamed_list("entry"));
                    let mut body = streamed.head.clone();
                    for i in 0..n {
                        write_item(&format, "entry", &item(i), i == 0, &mut body);
                    }
                    body.push_str(&streamed.tail);
                    assert_eq!(streamed.content_type, tree_type);
                    assert_eq!(body, tree_body, "{format:?}, {n} items, in tree: {in_tree}");
                }
            }
        }
    }

    #[test]
    fn jsonp_wraps_the_json() {
        let (ctype, body) = render(&Format::Jsonp("cb".into()), false, None);
        assert!(ctype.starts_with("application/javascript"));
        assert!(body.starts_with("cb({\"subsonic-response\":"));
        assert!(body.ends_with("});"));
    }
}
