//! Internet radio: getInternetRadioStations (everyone), createInternetRadioStation,
//! updateInternetRadioStation, deleteInternetRadioStation (admins). The rules live in
//! `library::radio`. Note the spellings: the request parameter is `homepageUrl`, the
//! response attribute `homePageUrl`.

use super::auth::Ctx;
use super::error::ApiError;
use super::model::{InternetRadioStation, InternetRadioStations};
use super::response::{Element, ToElement};
use crate::db;
use crate::people::radio::{self, RadioError, Station, StationFields};

impl From<RadioError> for ApiError {
    fn from(e: RadioError) -> Self {
        match e {
            RadioError::NotFound => ApiError::NotFound("Internet radio station"),
            RadioError::BadName => ApiError::BadParam("name"),
            RadioError::BadUrl(field) => ApiError::BadParam(field),
            RadioError::Db(e) => e.into(),
        }
    }
}

fn station_model(s: &Station) -> InternetRadioStation {
    InternetRadioStation {
        id: s.id,
        name: s.name.clone(),
        stream_url: s.stream_url.clone(),
        home_page_url: s.homepage_url.clone(),
    }
}

/// A station id parameter; one that is not a number names no station.
fn station_id(ctx: &Ctx) -> Result<i32, ApiError> {
    ctx.params
        .required("id")?
        .trim()
        .parse()
        .map_err(|_| ApiError::NotFound("Internet radio station"))
}

/// `streamUrl`, `name` (both required) and `homepageUrl`.
fn fields(ctx: &Ctx) -> Result<StationFields, ApiError> {
    Ok(StationFields {
        stream_url: ctx.params.required("streamUrl")?.to_string(),
        name: ctx.params.required("name")?.to_string(),
        homepage_url: ctx.params.get("homepageUrl").map(str::to_string),
    })
}

/// getInternetRadioStations: every station, by name.
pub async fn get_internet_radio_stations(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let stations = ctx.db(|c| Ok(radio::list(c)?)).await?;
    Ok(Some(
        InternetRadioStations(stations.iter().map(station_model).collect())
            .into_element("internetRadioStations"),
    ))
}

/// createInternetRadioStation: `streamUrl`, `name`, `homepageUrl` (admins).
pub async fn create_internet_radio_station(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    ctx.require_admin()?;
    let fields = fields(&ctx)?;
    let now = db::now_ms();
    ctx.write(move |c| Ok(radio::create(c, &fields, now)?))
        .await?;
    Ok(None)
}

/// updateInternetRadioStation: `id`, `streamUrl`, `name`, `homepageUrl` (admins).
pub async fn update_internet_radio_station(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    ctx.require_admin()?;
    let id = station_id(&ctx)?;
    let fields = fields(&ctx)?;
    let now = db::now_ms();
    ctx.write(move |c| Ok(radio::update(c, id, &fields, now)?))
        .await?;
    Ok(None)
}

/// deleteInternetRadioStation: `id` (admins).
pub async fn delete_internet_radio_station(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    ctx.require_admin()?;
    let id = station_id(&ctx)?;
    ctx.write(move |c| Ok(radio::delete(c, id)?)).await?;
    Ok(None)
}
