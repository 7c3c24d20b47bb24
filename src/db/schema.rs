// @generated automatically by Diesel CLI.

diesel::table! {
    album_artists (album_id, role, position) {
        album_id -> Integer,
        artist_id -> Integer,
        role -> Text,
        position -> Integer,
    }
}

diesel::table! {
    album_folders (album_id, folder_id) {
        album_id -> Integer,
        folder_id -> Integer,
    }
}

diesel::table! {
    album_genres (album_id, genre_id) {
        album_id -> Integer,
        genre_id -> Integer,
    }
}

diesel::table! {
    albums (id) {
        id -> Integer,
        album_key -> Text,
        name -> Text,
        sort_name -> Nullable<Text>,
        artist_display -> Text,
        year -> Nullable<Integer>,
        original_date -> Nullable<Text>,
        release_date -> Nullable<Text>,
        mbid -> Nullable<Text>,
        release_group_mbid -> Nullable<Text>,
        compilation -> Bool,
        release_type -> Nullable<Text>,
        cover_directory_id -> Nullable<Integer>,
        cover_track_id -> Nullable<Integer>,
        song_count -> Integer,
        disc_count -> Integer,
        duration_ms -> BigInt,
        size -> BigInt,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    annotations (user_id, item_type, item_id) {
        user_id -> Integer,
        item_type -> Text,
        item_id -> Integer,
        starred_at -> Nullable<BigInt>,
        rating -> Nullable<Integer>,
        play_count -> BigInt,
        last_played -> Nullable<BigInt>,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Integer,
        user_id -> Integer,
        key_hash -> Text,
        name -> Text,
        created_at -> BigInt,
        last_used -> Nullable<BigInt>,
    }
}

diesel::table! {
    artists (id) {
        id -> Integer,
        name -> Text,
        name_key -> Text,
        sort_name -> Nullable<Text>,
        mbid -> Nullable<Text>,
        created_at -> BigInt,
    }
}

diesel::table! {
    bookmarks (user_id, track_id) {
        user_id -> Integer,
        track_id -> Integer,
        position_ms -> BigInt,
        comment -> Nullable<Text>,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    chat_messages (id) {
        id -> Integer,
        user_id -> Integer,
        message -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    directories (id) {
        id -> Integer,
        folder_id -> Integer,
        parent_id -> Nullable<Integer>,
        path -> Text,
        name -> Text,
        mtime -> BigInt,
        cover_art -> Nullable<Text>,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    genres (id) {
        id -> Integer,
        name -> Text,
    }
}

diesel::table! {
    library_folders (id) {
        id -> Integer,
        path -> Text,
        name -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    play_queue_tracks (user_id, position) {
        user_id -> Integer,
        position -> Integer,
        track_id -> Integer,
    }
}

diesel::table! {
    play_queues (user_id) {
        user_id -> Integer,
        current_index -> Nullable<Integer>,
        position_ms -> BigInt,
        changed_at -> BigInt,
        changed_by -> Text,
    }
}

diesel::table! {
    playlist_tracks (playlist_id, position) {
        playlist_id -> Integer,
        position -> Integer,
        track_id -> Integer,
    }
}

diesel::table! {
    playlists (id) {
        id -> Integer,
        owner_id -> Integer,
        name -> Text,
        comment -> Nullable<Text>,
        public -> Bool,
        source_path -> Nullable<Text>,
        source_mtime -> Nullable<BigInt>,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    radio_stations (id) {
        id -> Integer,
        name -> Text,
        stream_url -> Text,
        homepage_url -> Nullable<Text>,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    scan_errors (id) {
        id -> Integer,
        folder_id -> Integer,
        path -> Text,
        size -> BigInt,
        mtime -> BigInt,
        reason -> Text,
        seen_at -> BigInt,
    }
}

diesel::table! {
    scans (id) {
        id -> Integer,
        kind -> Text,
        started_at -> BigInt,
        finished_at -> Nullable<BigInt>,
        completed -> Bool,
        tracks -> Integer,
        added -> Integer,
        updated -> Integer,
        moved -> Integer,
        removed -> Integer,
        errors -> Integer,
    }
}

diesel::table! {
    share_tracks (share_id, position) {
        share_id -> Text,
        position -> Integer,
        track_id -> Integer,
    }
}

diesel::table! {
    shares (id) {
        id -> Text,
        user_id -> Integer,
        description -> Nullable<Text>,
        created_at -> BigInt,
        expires_at -> Nullable<BigInt>,
        last_visited -> Nullable<BigInt>,
        visit_count -> Integer,
    }
}

diesel::table! {
    track_artists (track_id, role, position) {
        track_id -> Integer,
        artist_id -> Integer,
        role -> Text,
        position -> Integer,
    }
}

diesel::table! {
    track_genres (track_id, genre_id) {
        track_id -> Integer,
        genre_id -> Integer,
        position -> Integer,
    }
}

diesel::table! {
    track_loudness (track_id) {
        track_id -> Integer,
        size -> BigInt,
        mtime -> BigInt,
        fingerprint -> BigInt,
        album_id -> Integer,
        album_tracks -> Integer,
        track_lufs -> Nullable<Double>,
        track_peak -> Nullable<Double>,
        album_lufs -> Nullable<Double>,
        album_peak -> Nullable<Double>,
        failure -> Nullable<Text>,
        analysed_at -> BigInt,
    }
}

diesel::table! {
    tracks (id) {
        id -> Integer,
        folder_id -> Integer,
        directory_id -> Integer,
        album_id -> Integer,
        path -> Text,
        size -> BigInt,
        mtime -> BigInt,
        suffix -> Text,
        content_type -> Text,
        codec -> Text,
        duration_ms -> BigInt,
        bitrate -> Nullable<Integer>,
        sample_rate -> Nullable<Integer>,
        bit_depth -> Nullable<Integer>,
        channels -> Nullable<Integer>,
        title -> Text,
        sort_title -> Nullable<Text>,
        album_name -> Text,
        artist_display -> Text,
        album_artist_display -> Nullable<Text>,
        track_number -> Nullable<Integer>,
        track_total -> Nullable<Integer>,
        disc_number -> Nullable<Integer>,
        disc_total -> Nullable<Integer>,
        disc_subtitle -> Nullable<Text>,
        year -> Nullable<Integer>,
        release_date -> Nullable<Text>,
        original_date -> Nullable<Text>,
        comment -> Nullable<Text>,
        bpm -> Nullable<Integer>,
        isrc -> Nullable<Text>,
        compilation -> Bool,
        release_type -> Nullable<Text>,
        label -> Nullable<Text>,
        grouping -> Nullable<Text>,
        mood -> Nullable<Text>,
        mb_recording_id -> Nullable<Text>,
        mb_track_id -> Nullable<Text>,
        mb_release_id -> Nullable<Text>,
        mb_release_group_id -> Nullable<Text>,
        mb_artist_id -> Nullable<Text>,
        mb_album_artist_id -> Nullable<Text>,
        rg_track_gain -> Nullable<Double>,
        rg_track_peak -> Nullable<Double>,
        rg_album_gain -> Nullable<Double>,
        rg_album_peak -> Nullable<Double>,
        lyrics -> Nullable<Text>,
        synced_lyrics -> Nullable<Text>,
        has_embedded_art -> Bool,
        fingerprint -> BigInt,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    user_avatars (user_id) {
        user_id -> Integer,
        content_type -> Text,
        data -> Binary,
        updated_at -> BigInt,
    }
}

diesel::table! {
    user_folders (user_id, folder_id) {
        user_id -> Integer,
        folder_id -> Integer,
    }
}

diesel::table! {
    users (id) {
        id -> Integer,
        name -> Text,
        is_admin -> Bool,
        password_enc -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
        email -> Nullable<Text>,
        max_bit_rate -> Integer,
        settings_role -> Bool,
        stream_role -> Bool,
        download_role -> Bool,
        playlist_role -> Bool,
        cover_art_role -> Bool,
        comment_role -> Bool,
        share_role -> Bool,
        all_folders -> Bool,
        podcast_role -> Bool,
    }
}

diesel::joinable!(album_artists -> albums (album_id));
diesel::joinable!(album_artists -> artists (artist_id));
diesel::joinable!(album_folders -> albums (album_id));
diesel::joinable!(album_folders -> library_folders (folder_id));
diesel::joinable!(album_genres -> albums (album_id));
diesel::joinable!(album_genres -> genres (genre_id));
diesel::joinable!(albums -> directories (cover_directory_id));
diesel::joinable!(annotations -> users (user_id));
diesel::joinable!(api_keys -> users (user_id));
diesel::joinable!(bookmarks -> tracks (track_id));
diesel::joinable!(bookmarks -> users (user_id));
diesel::joinable!(chat_messages -> users (user_id));
diesel::joinable!(directories -> library_folders (folder_id));
diesel::joinable!(play_queue_tracks -> play_queues (user_id));
diesel::joinable!(play_queue_tracks -> tracks (track_id));
diesel::joinable!(play_queues -> users (user_id));
diesel::joinable!(playlist_tracks -> playlists (playlist_id));
diesel::joinable!(playlist_tracks -> tracks (track_id));
diesel::joinable!(playlists -> users (owner_id));
diesel::joinable!(scan_errors -> library_folders (folder_id));
diesel::joinable!(share_tracks -> shares (share_id));
diesel::joinable!(share_tracks -> tracks (track_id));
diesel::joinable!(shares -> users (user_id));
diesel::joinable!(track_artists -> artists (artist_id));
diesel::joinable!(track_artists -> tracks (track_id));
diesel::joinable!(track_genres -> genres (genre_id));
diesel::joinable!(track_genres -> tracks (track_id));
diesel::joinable!(track_loudness -> tracks (track_id));
diesel::joinable!(tracks -> directories (directory_id));
diesel::joinable!(tracks -> library_folders (folder_id));
diesel::joinable!(user_avatars -> users (user_id));
diesel::joinable!(user_folders -> library_folders (folder_id));
diesel::joinable!(user_folders -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    album_artists,
    album_folders,
    album_genres,
    albums,
    annotations,
    api_keys,
    artists,
    bookmarks,
    chat_messages,
    directories,
    genres,
    library_folders,
    play_queue_tracks,
    play_queues,
    playlist_tracks,
    playlists,
    radio_stations,
    scan_errors,
    scans,
    share_tracks,
    shares,
    track_artists,
    track_genres,
    track_loudness,
    tracks,
    user_avatars,
    user_folders,
    users,
);
