use super::*;

#[test]
fn partial_dates_become_item_dates() {
    let date = |s| ItemDate::parse(s).map(|d| d.into_element("releaseDate").to_json());
    assert_eq!(
        date(Some("1999-03-21")),
        Some(serde_json::json!({"year": 1999, "month": 3, "day": 21}))
    );
    assert_eq!(date(Some("1999")), Some(serde_json::json!({"year": 1999})));
    assert_eq!(
        date(Some("1999-11")),
        Some(serde_json::json!({"year": 1999, "month": 11}))
    );
    assert_eq!(date(Some("soon")), None);
    assert_eq!(date(None), None);
}
