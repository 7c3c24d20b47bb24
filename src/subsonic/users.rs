//! User management: getUser, getUsers, createUser, updateUser, deleteUser, changePassword,
//! and our own API key methods (createApiKey, getApiKeys, deleteApiKey; OpenSubsonic's
//! apiKeyAuthentication defines how keys are used, not how they are made).
//!
//! Admins manage everyone; a user may read their own account, change their own password and
//! manage their own API keys (the last two need the settings role). The last administrator can
//! be neither deleted nor demoted: error 0 with a message saying so.

use super::auth::Ctx;
use super::error::ApiError;
use super::model::{self, ApiKey, ApiKeys, Users};
use super::response::{Element, ToElement};
use crate::db::models::{Role, User};
use crate::library::access;
use crate::users::{self, FolderAccess, Profile, Roles, UserError};

impl From<UserError> for ApiError {
    fn from(e: UserError) -> Self {
        match e {
            UserError::NotFound(_) => ApiError::NotFound("User"),
            UserError::UnknownFolder(_) => ApiError::NotFound("Music folder"),
            UserError::Exists(_)
            | UserError::BadName
            | UserError::EmptyPassword
            | UserError::LastAdmin(_)
            | UserError::BadBitRate(_)
            | UserError::AlreadySetUp => ApiError::Refused(e.to_string()),
            UserError::Key { .. } | UserError::Decrypt | UserError::Db(_) => {
                ApiError::Internal(e.to_string())
            }
        }
    }
}

/// A `User`: the roles the user holds and the music folders they may see.
fn user_model(user: &User, folders: &[i32]) -> model::User {
    model::User {
        username: user.name.clone(),
        email: user.email.clone(),
        max_bit_rate: user.max_bit_rate,
        admin_role: user.is_admin,
        settings_role: user.has_role(Role::Settings),
        download_role: user.has_role(Role::Download),
        playlist_role: user.has_role(Role::Playlist),
        cover_art_role: user.has_role(Role::CoverArt),
        comment_role: user.has_role(Role::Comment),
        stream_role: user.has_role(Role::Stream),
        share_role: user.has_role(Role::Share),
        podcast_role: user.has_role(Role::Podcast),
        folders: folders.to_vec(),
    }
}

/// Whether `name` is the caller.
fn is_self(ctx: &Ctx, name: &str) -> bool {
    name.eq_ignore_ascii_case(&ctx.user.name)
}

/// `username`, which must name the caller unless the caller is an admin.
fn username_param(ctx: &Ctx) -> Result<String, ApiError> {
    let name = ctx.params.required("username")?.to_string();
    if !ctx.user.is_admin && !is_self(ctx, &name) {
        return Err(ApiError::NotAuthorized);
    }
    Ok(name)
}

/// `password`: clear, or `enc:` and the hex of its UTF-8 bytes (as for `p` in auth.rs).
fn password_param(ctx: &Ctx, required: bool) -> Result<Option<String>, ApiError> {
    let Some(raw) = ctx.params.get("password") else {
        return if required {
            Err(ApiError::MissingParam("password"))
        } else {
            Ok(None)
        };
    };
    match raw.strip_prefix("enc:") {
        None => Ok(Some(raw.to_string())),
        Some(hex) => hex::decode(hex)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .map(Some)
            .ok_or(ApiError::BadParam("password")),
    }
}

/// getUser: yourself, or anyone for an admin.
pub async fn get_user(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let name = username_param(&ctx)?;
    let (user, folders) = ctx
        .db(move |c| {
            let user = users::find(c, &name)?.ok_or(ApiError::NotFound("User"))?;
            let folders = access::visible_folder_ids(c, &user)?;
            Ok((user, folders))
        })
        .await?;
    Ok(Some(user_model(&user, &folders).into_element("user")))
}

/// getUsers: every user (admins only).
pub async fn get_users(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    ctx.require_admin()?;
    let all = ctx
        .db(|c| {
            users::list(c)?
                .into_iter()
                .map(|u| {
                    let folders = access::visible_folder_ids(c, &u)?;
                    Ok((u, folders))
                })
                .collect::<Result<Vec<_>, ApiError>>()
        })
        .await?;
    Ok(Some(
        Users(all.iter().map(|(u, f)| user_model(u, f)).collect()).into_element("users"),
    ))
}

/// The role parameters of createUser and updateUser, in the spec's names.
const ROLE_PARAMS: &[(&str, Role)] = &[
    ("settingsRole", Role::Settings),
    ("streamRole", Role::Stream),
    ("downloadRole", Role::Download),
    ("playlistRole", Role::Playlist),
    ("coverArtRole", Role::CoverArt),
    ("commentRole", Role::Comment),
    ("shareRole", Role::Share),
    ("podcastRole", Role::Podcast),
];

/// The profile changes a createUser or updateUser call asks for. Absent parameters change
/// nothing; uploadRole, jukeboxRole, videoConversionRole and ldapAuthenticated
/// are accepted and ignored (features this server does not have).
struct ProfileParams {
    admin: Option<bool>,
    email: Option<String>,
    max_bit_rate: Option<i32>,
    roles: Vec<(Role, bool)>,
    folders: Option<Vec<i32>>,
}

impl ProfileParams {
    fn parse(ctx: &Ctx) -> Result<Self, ApiError> {
        let mut roles = Vec::new();
        for (key, role) in ROLE_PARAMS {
            if let Some(on) = ctx.params.boolean(key)? {
                roles.push((*role, on));
            }
        }
        let folder_values = ctx.params.all("musicFolderId");
        let folders = if folder_values.is_empty() {
            None
        } else {
            Some(
                folder_values
                    .into_iter()
                    .filter(|v| !v.trim().is_empty())
                    .map(|v| v.trim().parse::<i32>())
                    .collect::<Result<Vec<i32>, _>>()
                    .map_err(|_| ApiError::BadParam("musicFolderId"))?,
            )
        };
        Ok(ProfileParams {
            admin: ctx.params.boolean("adminRole")?,
            email: ctx.params.get("email").map(str::to_string),
            max_bit_rate: ctx.params.number("maxBitRate")?,
            roles,
            folders,
        })
    }

    fn apply(self, p: &mut Profile) {
        if let Some(admin) = self.admin {
            p.admin = admin;
        }
        if let Some(email) = self.email {
            p.email = Some(email);
        }
        if let Some(rate) = self.max_bit_rate {
            p.max_bit_rate = rate;
        }
        for (role, on) in self.roles {
            p.roles.set(role, on);
        }
        if let Some(ids) = self.folders {
            p.folders = FolderAccess::Only(ids);
        }
    }
}

/// createUser (admins): roles default as the Subsonic API documents them (settings and
/// streaming only); without `musicFolderId` the user sees every folder.
pub async fn create_user(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    ctx.require_admin()?;
    let name = ctx.params.required("username")?.to_string();
    let password = password_param(&ctx, true)?.unwrap_or_default();
    let changes = ProfileParams::parse(&ctx)?;
    let mut profile = Profile {
        roles: Roles::SUBSONIC_DEFAULT,
        ..Profile::new(false)
    };
    changes.apply(&mut profile);
    let key = ctx.state.password_key.clone();
    ctx.write(move |c| Ok(users::create(c, &key, &name, &password, profile)?))
        .await?;
    Ok(None)
}

/// updateUser (admins): changes only what the call names; `musicFolderId` replaces the folder
/// list (naming every folder means "all folders", also those added later).
pub async fn update_user(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    ctx.require_admin()?;
    let name = ctx.params.required("username")?.to_string();
    let password = password_param(&ctx, false)?;
    let changes = ProfileParams::parse(&ctx)?;
    let key = ctx.state.password_key.clone();
    let keep = caller_api_key(&ctx);
    ctx.write(move |c| {
        users::update(c, &key, &name, password.as_deref(), keep.as_deref(), |p| {
            changes.apply(p)
        })?;
        Ok(())
    })
    .await?;
    Ok(None)
}

/// deleteUser (admins): not oneself, not the last administrator.
pub async fn delete_user(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    ctx.require_admin()?;
    let name = ctx.params.required("username")?.to_string();
    if is_self(&ctx, &name) {
        return Err(ApiError::Refused(
            "you cannot delete your own account; another administrator can".into(),
        ));
    }
    ctx.write(move |c| Ok(users::delete(c, &name)?)).await?;
    Ok(None)
}

/// changePassword: an admin for anyone; a user with the settings role for themselves.
pub async fn change_password(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let name = username_param(&ctx)?;
    ctx.require_role(Role::Settings)?;
    let password = password_param(&ctx, true)?.unwrap_or_default();
    let key = ctx.state.password_key.clone();
    let keep = caller_api_key(&ctx);
    ctx.write(move |c| {
        Ok(users::set_password(
            c,
            &key,
            &name,
            &password,
            keep.as_deref(),
        )?)
    })
    .await?;
    Ok(None)
}

/// The API key this call was made with: a password change revokes the user's keys but this
/// one, so the browser or app that made the change stays signed in.
fn caller_api_key(ctx: &Ctx) -> Option<String> {
    ctx.params.get("apiKey").map(str::to_string)
}

/// Whose API keys a call is about: `username` (admins: anyone; others: themselves), else the
/// caller. Anyone may list and revoke their own keys (a leaked key must be revocable by its
/// owner); making a new one needs the settings role, like changing one's password.
fn key_owner(ctx: &Ctx) -> Result<String, ApiError> {
    match ctx.params.get("username") {
        Some(_) => username_param(ctx),
        None => Ok(ctx.user.name.clone()),
    }
}

/// createApiKey (ours): a new key for the caller (or, for an admin, `username`), labelled
/// `name`. The answer is the only time the key is shown.
pub async fn create_api_key(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let owner = key_owner(&ctx)?;
    ctx.require_role(Role::Settings)?;
    let label = match ctx.params.get("name").map(str::trim) {
        Some(l) if !l.is_empty() => l.to_string(),
        _ => "api key".to_string(),
    };
    let stored_label = label.clone();
    let (id, key, created) = ctx
        .write(move |c| {
            let (id, key) = users::create_api_key(c, &owner, &stored_label)?;
            let created = users::api_keys_of(c, &owner)?
                .into_iter()
                .find(|k| k.0 == id)
                .map_or(0, |k| k.2);
            Ok((id, key, created))
        })
        .await?;
    let key = ApiKey {
        id,
        name: label,
        key: Some(key),
        created,
        last_used: None,
    };
    Ok(Some(key.into_element("apiKey")))
}

/// getApiKeys (ours): the caller's keys (or `username`'s, for an admin), without the keys.
pub async fn get_api_keys(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let owner = key_owner(&ctx)?;
    let keys = ctx.db(move |c| Ok(users::api_keys_of(c, &owner)?)).await?;
    Ok(Some(
        ApiKeys(
            keys.into_iter()
                .map(|(id, name, created, last_used)| ApiKey {
                    id,
                    name,
                    key: None,
                    created,
                    last_used,
                })
                .collect(),
        )
        .into_element("apiKeys"),
    ))
}

/// deleteApiKey (ours): revokes one of the caller's keys (or `username`'s, for an admin).
pub async fn delete_api_key(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let owner = key_owner(&ctx)?;
    let id: i32 = ctx
        .params
        .number("id")?
        .ok_or(ApiError::MissingParam("id"))?;
    ctx.write(move |c| match users::revoke_api_key(c, &owner, id) {
        Err(UserError::NotFound(_)) => Err(ApiError::NotFound("API key")),
        other => Ok(other?),
    })
    .await?;
    Ok(None)
}
