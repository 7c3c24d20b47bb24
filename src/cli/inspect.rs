//! `inspect`: the raw tags of audio files, the fields mapped from them and their album key.

use mediastreamer::config::Config;
use mediastreamer::error::AppError;
use mediastreamer::scanner;
use std::path::PathBuf;

pub fn run(config: &Config, files: &[PathBuf]) -> Result<(), AppError> {
    use scanner::tags;
    let options = tags::TagOptions {
        artist_separators: config.scan.artist_separators.clone(),
    };
    for path in files {
        println!("== {}", path.display());
        match tags::read_raw_tags(path) {
            Ok(raw) => {
                for tag in raw {
                    println!("-- raw tag: {}", tag.tag_type);
                    for (key, value) in tag.items {
                        println!("   {key} = {value}");
                    }
                }
            }
            Err(e) => {
                println!("   cannot read: {e}");
                continue;
            }
        }
        let sidecar = path.with_extension("lrc");
        let sidecar = sidecar.is_file().then_some(sidecar);
        match tags::read_track(path, sidecar.as_deref(), &options) {
            Ok(meta) => {
                println!("-- mapped fields");
                println!("{meta:#?}");
                let dir = path
                    .parent()
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_default();
                println!(
                    "-- album key: {}",
                    scanner::grouping::album_key(&meta, 0, &dir).replace('\u{1f}', " | ")
                );
            }
            Err(e) => println!("   cannot map: {e}"),
        }
    }
    Ok(())
}
