//! `mkimage <kernel-elf> <out-dir>`: wraps the kernel ELF into `bios.img`
//! and `uefi.img` with the `bootloader` crate.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use boot::qemu::Firmware;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [kernel, out_dir] = args.as_slice() else {
        eprintln!("usage: mkimage <kernel-elf> <out-dir>");
        return ExitCode::from(2);
    };
    match build(Path::new(kernel), Path::new(out_dir)) {
        Ok(images) => {
            for image in images {
                println!("{}", image.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("mkimage: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn build(kernel: &Path, out_dir: &Path) -> Result<Vec<PathBuf>, String> {
    if !kernel.is_file() {
        return Err(format!("kernel ELF {} not found", kernel.display()));
    }
    std::fs::create_dir_all(out_dir)
        .map_err(|e| format!("cannot create {}: {e}", out_dir.display()))?;
    let bios = out_dir.join(Firmware::Bios.image_name());
    bootloader::BiosBoot::new(kernel)
        .create_disk_image(&bios)
        .map_err(|e| format!("BIOS image {}: {e:#}", bios.display()))?;
    let uefi = out_dir.join(Firmware::Uefi.image_name());
    bootloader::UefiBoot::new(kernel)
        .create_disk_image(&uefi)
        .map_err(|e| format!("UEFI image {}: {e:#}", uefi.display()))?;
    Ok(vec![bios, uefi])
}
