//! Chat: addChatMessage and getChatMessages, one room for every user (`library::chat`).

use super::auth::Ctx;
use super::error::ApiError;
use super::model::{ChatMessage, ChatMessages};
use super::response::{Element, ToElement};
use crate::db;
use crate::people::chat::{self, ChatError};

impl From<ChatError> for ApiError {
    fn from(e: ChatError) -> Self {
        match e {
            ChatError::Empty => ApiError::MissingParam("message"),
            ChatError::TooLong => ApiError::BadParam("message"),
            ChatError::Db(e) => e.into(),
        }
    }
}

/// addChatMessage: `message`, posted as the caller.
pub async fn add_chat_message(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let message = ctx.params.required("message")?.to_string();
    let user_id = ctx.user.id;
    let now = db::now_ms();
    ctx.write(move |c| Ok(chat::add(c, user_id, &message, now)?))
        .await?;
    Ok(None)
}

/// getChatMessages: messages after `since` (epoch ms; all kept messages without it), newest
/// first.
pub async fn get_chat_messages(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let since = ctx.params.number::<i64>("since")?;
    let messages = ctx.db(move |c| Ok(chat::since(c, since)?)).await?;
    Ok(Some(
        ChatMessages(
            messages
                .into_iter()
                .map(|m| ChatMessage {
                    username: m.username,
                    time: m.time,
                    message: m.message,
                })
                .collect(),
        )
        .into_element("chatMessages"),
    ))
}
