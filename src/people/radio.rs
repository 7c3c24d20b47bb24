//! Internet radio stations: a list every user sees and admins keep. Clients play a station's
//! stream URL themselves; the server only stores the list. No wire format here.

use crate::db::schema::radio_stations;
use diesel::prelude::*;

/// Longest station name kept, in characters.
const MAX_NAME_CHARS: usize = 200;
/// Longest URL kept, in bytes.
const MAX_URL_LEN: usize = 2048;

/// A station as stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = radio_stations)]
pub struct Station {
    pub id: i32,
    pub name: String,
    pub stream_url: String,
    pub homepage_url: Option<String>,
}

/// A station's fields as a client gives them (create and update take the same).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StationFields {
    pub name: String,
    pub stream_url: String,
    /// Empty or absent: none.
    pub homepage_url: Option<String>,
}

/// Why a station could not be saved. Nothing is changed in any of these cases.
#[derive(Debug, thiserror::Error)]
pub enum RadioError {
    #[error("internet radio station not found")]
    NotFound,
    #[error("the station name must be 1 to {MAX_NAME_CHARS} characters")]
    BadName,
    /// The field whose URL is not an absolute http(s) URL.
    #[error("{0} must be an absolute http or https URL")]
    BadUrl(&'static str),
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// Checked fields: name trimmed, URLs absolute http(s) with a host.
fn validate(fields: &StationFields) -> Result<StationFields, RadioError> {
    let name = fields.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(RadioError::BadName);
    }
    let stream_url = checked_url(&fields.stream_url, "streamUrl")?;
    let homepage_url = match fields.homepage_url.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(url) => Some(checked_url(url, "homepageUrl")?),
    };
    Ok(StationFields {
        name: name.to_string(),
        stream_url,
        homepage_url,
    })
}

/// The URL as given (trimmed) when it is an absolute http(s) URL with a host. Kept as typed
/// rather than normalised: clients hand it straight to their players.
fn checked_url(raw: &str, field: &'static str) -> Result<String, RadioError> {
    let raw = raw.trim();
    let ok = raw.len() <= MAX_URL_LEN
        && url::Url::parse(raw).is_ok_and(|u| {
            matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty())
        });
    if ok {
        Ok(raw.to_string())
    } else {
        Err(RadioError::BadUrl(field))
    }
}

/// Every station, by name.
pub fn list(conn: &mut SqliteConnection) -> QueryResult<Vec<Station>> {
    radio_stations::table
        .order((
            diesel::dsl::sql::<diesel::sql_types::Text>(crate::library::sql::NAME_NOCASE),
            radio_stations::id,
        ))
        .select(Station::as_select())
        .load(conn)
}

/// Adds a station; returns its id.
pub fn create(
    conn: &mut SqliteConnection,
    fields: &StationFields,
    now_ms: i64,
) -> Result<i32, RadioError> {
    let f = validate(fields)?;
    Ok(diesel::insert_into(radio_stations::table)
        .values((
            radio_stations::name.eq(&f.name),
            radio_stations::stream_url.eq(&f.stream_url),
            radio_stations::homepage_url.eq(&f.homepage_url),
            radio_stations::created_at.eq(now_ms),
            radio_stations::updated_at.eq(now_ms),
        ))
        .returning(radio_stations::id)
        .get_result(conn)?)
}

/// Replaces a station's fields (an absent home page removes it, as in Subsonic).
pub fn update(
    conn: &mut SqliteConnection,
    id: i32,
    fields: &StationFields,
    now_ms: i64,
) -> Result<(), RadioError> {
    let f = validate(fields)?;
    let n = diesel::update(radio_stations::table.find(id))
        .set((
            radio_stations::name.eq(&f.name),
            radio_stations::stream_url.eq(&f.stream_url),
            radio_stations::homepage_url.eq(&f.homepage_url),
            radio_stations::updated_at.eq(now_ms),
        ))
        .execute(conn)?;
    if n == 0 {
        return Err(RadioError::NotFound);
    }
    Ok(())
}

/// Removes a station.
pub fn delete(conn: &mut SqliteConnection, id: i32) -> Result<(), RadioError> {
    let n = diesel::delete(radio_stations::table.find(id)).execute(conn)?;
    if n == 0 {
        return Err(RadioError::NotFound);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(name: &str, stream: &str, home: Option<&str>) -> StationFields {
        StationFields {
            name: name.into(),
            stream_url: stream.into(),
            homepage_url: home.map(Into::into),
        }
    }

    #[test]
    fn only_absolute_http_urls_pass() {
        let ok = validate(&fields(
            " FIP ",
            "https://icecast.radiofrance.fr/fip-hifi.aac",
            None,
        ))
        .unwrap();
        assert_eq!(ok.name, "FIP");
        assert!(validate(&fields("A", "http://10.0.0.2:8000/live", Some(""))).is_ok());
        for bad in [
            "ftp://host/x",
            "javascript:alert(1)",
            "/relative",
            "http://",
            "",
        ] {
            assert!(
                matches!(
                    validate(&fields("A", bad, None)),
                    Err(RadioError::BadUrl("streamUrl"))
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            validate(&fields("A", "http://x/", Some("file:///etc/passwd"))),
            Err(RadioError::BadUrl("homepageUrl"))
        ));
        assert!(matches!(
            validate(&fields("  ", "http://x/", None)),
            Err(RadioError::BadName)
        ));
    }
}
