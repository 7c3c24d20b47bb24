//! `backup`: a consistent copy of the database and its key files.

use mediastreamer::config::Config;
use mediastreamer::error::AppError;

pub fn run(config: &Config, dir: &std::path::Path) -> Result<(), AppError> {
    let done = mediastreamer::ops::backup::backup(&config.database.path, dir)?;
    println!("{} ({} bytes)", done.database.display(), done.bytes);
    for key in &done.keys {
        println!("{}", key.display());
    }
    Ok(())
}
