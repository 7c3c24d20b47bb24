//! The podcast tables (migration 2026-12-04-000009_podcasts), kept beside the module that owns
//! them rather than in `db::schema`: nothing outside `podcasts` joins them.

diesel::table! {
    podcast_channels (id) {
        id -> Integer,
        url -> Text,
        title -> Nullable<Text>,
        description -> Nullable<Text>,
        image_url -> Nullable<Text>,
        image_path -> Nullable<Text>,
        status -> Text,
        error_message -> Nullable<Text>,
        created_at -> BigInt,
        refreshed_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    podcast_episodes (id) {
        id -> Integer,
        channel_id -> Integer,
        guid -> Text,
        title -> Text,
        description -> Nullable<Text>,
        published_at -> Nullable<BigInt>,
        feed_duration_secs -> Nullable<Integer>,
        enclosure_url -> Text,
        enclosure_length -> Nullable<BigInt>,
        enclosure_type -> Nullable<Text>,
        status -> Text,
        error_message -> Nullable<Text>,
        file_path -> Nullable<Text>,
        downloaded_bytes -> BigInt,
        total_bytes -> Nullable<BigInt>,
        suffix -> Nullable<Text>,
        content_type -> Nullable<Text>,
        duration_ms -> Nullable<BigInt>,
        bitrate -> Nullable<Integer>,
        sample_rate -> Nullable<Integer>,
        file_mtime -> Nullable<BigInt>,
        play_count -> Integer,
        played_at -> Nullable<BigInt>,
        created_at -> BigInt,
    }
}

diesel::table! {
    podcast_bookmarks (user_id, episode_id) {
        user_id -> Integer,
        episode_id -> Integer,
        position_ms -> BigInt,
        comment -> Nullable<Text>,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::joinable!(podcast_episodes -> podcast_channels (channel_id));
diesel::allow_tables_to_appear_in_same_query!(
    podcast_channels,
    podcast_episodes,
    podcast_bookmarks
);
