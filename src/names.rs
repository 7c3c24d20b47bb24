//! Naming rules of the catalog shared by the scanner (which stores names) and the read side
//! (which looks them up): how names compare, which folders are discs of one album, and the
//! album artist of compilations. Pure functions; neither side owns them.

/// The album artist assumed for compilations that name none.
pub const VARIOUS_ARTISTS: &str = "Various Artists";

/// The folder an album lives in: the directory itself, or its parent for a disc sub-folder.
pub fn album_folder(dir_rel_path: &str) -> &str {
    match dir_rel_path.rsplit_once('/') {
        Some((parent, last)) if is_disc_folder_name(last) => parent,
        None if is_disc_folder_name(dir_rel_path) => "",
        _ => dir_rel_path,
    }
}

/// Case- and space-insensitive comparison form of a name.
pub fn normalize(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Whether a folder name denotes one disc of a multi-disc album ("Disc 1", "CD2", "disk-03",
/// "CD 2 - Bonus"), case-insensitively. The album name then comes from the folder above.
pub fn is_disc_folder_name(name: &str) -> bool {
    let name = name.trim();
    let lower = name.as_bytes();
    let prefix_len = ["disc", "disk", "cd"]
        .iter()
        .find(|p| lower.len() >= p.len() && lower[..p.len()].eq_ignore_ascii_case(p.as_bytes()))
        .map(|p| p.len());
    let Some(mut i) = prefix_len else {
        return false;
    };
    while i < lower.len() && matches!(lower[i], b' ' | b'_' | b'-' | b'.' | b'#') {
        i += 1;
    }
    let digits_start = i;
    while i < lower.len() && lower[i].is_ascii_digit() {
        i += 1;
    }
    let digits = i - digits_start;
    if !(1..=3).contains(&digits) {
        return false;
    }
    // Anything may follow the number as long as it is not glued on ("CD2 (Bonus)" is a disc,
    // "CD2000s" is not).
    i == lower.len() || !lower[i].is_ascii_alphanumeric()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_compare_without_case_or_extra_spaces() {
        assert_eq!(normalize("  The   Band "), "the band");
        assert_eq!(normalize(VARIOUS_ARTISTS), "various artists");
    }

    #[test]
    fn disc_folders_belong_to_the_album_folder_above() {
        assert_eq!(album_folder("X/Box/Disc 1"), "X/Box");
        assert_eq!(album_folder("X/Box/CD2 (Bonus)"), "X/Box");
        assert_eq!(album_folder("CD 2"), "");
        assert_eq!(album_folder("X/CD2000s"), "X/CD2000s");
        assert!(is_disc_folder_name("disk-03") && !is_disc_folder_name("Discography"));
    }
}
