//! Chat: one room shared by every user (what Subsonic offered and DSub still shows). The
//! newest `KEEP` messages are kept; older ones are dropped as new ones arrive. No wire format
//! here.

use crate::db::schema::{chat_messages, users};
use diesel::prelude::*;

/// Messages kept; adding one beyond this drops the oldest.
pub const KEEP: i64 = 1000;
/// Longest message accepted, in characters.
pub const MAX_MESSAGE_CHARS: usize = 4000;

/// One message: who, when (epoch milliseconds) and what.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Message {
    pub username: String,
    pub time: i64,
    pub message: String,
}

/// Why a message was refused.
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    #[error("the message is empty")]
    Empty,
    #[error("the message is longer than {MAX_MESSAGE_CHARS} characters")]
    TooLong,
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// Posts a message as `user_id`, dropping messages beyond the newest `KEEP`.
pub fn add(
    conn: &mut SqliteConnection,
    user_id: i32,
    message: &str,
    now_ms: i64,
) -> Result<(), ChatError> {
    if message.trim().is_empty() {
        return Err(ChatError::Empty);
    }
    if message.chars().count() > MAX_MESSAGE_CHARS {
        return Err(ChatError::TooLong);
    }
    crate::db::immediate(conn, |conn| {
        diesel::insert_into(chat_messages::table)
            .values((
                chat_messages::user_id.eq(user_id),
                chat_messages::message.eq(message),
                chat_messages::created_at.eq(now_ms),
            ))
            .execute(conn)?;
        // The oldest message kept, then everything older (one ordered index walk each).
        let oldest_kept: Option<(i64, i32)> = chat_messages::table
            .select((chat_messages::created_at, chat_messages::id))
            .order((chat_messages::created_at.desc(), chat_messages::id.desc()))
            .offset(KEEP - 1)
            .first(conn)
            .optional()?;
        if let Some((at, id)) = oldest_kept {
            let older = chat_messages::created_at
                .lt(at)
                .or(chat_messages::created_at
                    .eq(at)
                    .and(chat_messages::id.lt(id)));
            diesel::delete(chat_messages::table.filter(older)).execute(conn)?;
        }
        Ok(())
    })
}

/// Messages posted after `since` (epoch milliseconds; everything kept when None), newest
/// first as Subsonic lists them.
pub fn since(conn: &mut SqliteConnection, since: Option<i64>) -> QueryResult<Vec<Message>> {
    chat_messages::table
        .inner_join(users::table)
        .filter(chat_messages::created_at.gt(since.unwrap_or(i64::MIN)))
        .order((chat_messages::created_at.desc(), chat_messages::id.desc()))
        .select((
            users::name,
            chat_messages::created_at,
            chat_messages::message,
        ))
        .load(conn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db;

    #[test]
    fn only_the_newest_messages_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        db::open_and_migrate(&path).unwrap();
        let mut conn = db::connect(&path).unwrap();
        diesel::sql_query(
            "INSERT INTO users (id, name, is_admin, password_enc, created_at, updated_at) \
             VALUES (1, 'bob', 0, '', 0, 0)",
        )
        .execute(&mut conn)
        .unwrap();
        for n in 0..KEEP + 5 {
            add(&mut conn, 1, &format!("m{n}"), 1_000 + n).unwrap();
        }
        let all = since(&mut conn, None).unwrap();
        assert_eq!(all.len() as i64, KEEP);
        assert_eq!(all[0].message, format!("m{}", KEEP + 4));
        assert_eq!(all.last().unwrap().message, "m5");
        let recent = since(&mut conn, Some(1_000 + KEEP + 2)).unwrap();
        let texts: Vec<&str> = recent.iter().map(|m| m.message.as_str()).collect();
        assert_eq!(texts, [format!("m{}", KEEP + 4), format!("m{}", KEEP + 3)]);
        assert!(matches!(add(&mut conn, 1, " \n", 0), Err(ChatError::Empty)));
    }
}
