//! The benchmarks' `--material` choice: tiny templates (quick, for CI) or real-world material
//! (files of real sizes in every format the scanner reads, real-sized pictures).

use anyhow::{Context, ensure};
use mediastreamer::synth::{LibrarySpec, RealMaterial};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
pub enum Material {
    /// Copies of tiny template files: quick, but reads far less than real files need.
    Small,
    /// Files of real sizes (MP3 7.7 MB, FLAC 31 MB…) in every format, a third with pictures
    /// up to 3000 px; sparse unless `dense` (see `synth::RealMaterial`).
    Real,
}

/// The command-line options every benchmark with a `--material` takes.
#[derive(clap::Args)]
pub struct MaterialArgs {
    /// `small`: tiny template files (quick, for CI); `real`: files of real sizes in every
    /// format the scanner reads, a third with pictures up to 3000 px.
    #[arg(long, default_value = "small")]
    pub material: Material,
    /// Where the real material is (made there by tools/make-real-templates.sh when missing;
    /// default: `real-material` beside this program).
    #[arg(long, value_name = "DIR")]
    pub material_dir: Option<PathBuf>,
    /// With `--material real`: write whole files instead of sparse ones (about 15 MB of disk
    /// per track instead of about 1 MB).
    #[arg(long)]
    pub dense: bool,
}

impl MaterialArgs {
    /// The library to generate: `tracks` tracks from `seed` of this material.
    pub fn library(&self, tracks: usize, seed: u64) -> anyhow::Result<LibrarySpec> {
        Ok(match self.material {
            Material::Small => LibrarySpec {
                tracks,
                seed,
                ..LibrarySpec::default()
            },
            Material::Real => LibrarySpec {
                tracks,
                seed,
                formats: RealMaterial::mix(),
                material: Some(self.real()?),
            },
        })
    }

    /// What the benchmark reports as its material.
    pub fn describe(&self) -> &'static str {
        match self.material {
            Material::Small => "small (tiny templates)",
            Material::Real if self.dense => "real (whole files)",
            Material::Real => "real (sparse files: heads and tails written)",
        }
    }

    /// The real material, made by tools/make-real-templates.sh when its folder has none yet;
    /// loaded once per process.
    fn real(&self) -> anyhow::Result<Arc<RealMaterial>> {
        static LOADED: OnceLock<Arc<RealMaterial>> = OnceLock::new();
        if let Some(material) = LOADED.get() {
            return Ok(material.clone());
        }
        let dir = match &self.material_dir {
            Some(dir) => dir.clone(),
            None => std::env::current_exe()?.with_file_name("real-material"),
        };
        if !dir.join("real.flac").is_file() {
            let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/make-real-templates.sh");
            eprintln!("making the real material in {}…", dir.display());
            let status = Command::new(&script)
                .arg(&dir)
                .status()
                .with_context(|| format!("running {}", script.display()))?;
            ensure!(status.success(), "{} failed: {status}", script.display());
        }
        let material = Arc::new(RealMaterial::load(&dir, !self.dense)?);
        Ok(LOADED.get_or_init(|| material).clone())
    }
}
