//! A minimal `newc` cpio writer: enough to build the initramfs that holds
//! the Linux benchmark's `/init` (Linux unpacks this format at boot).

/// One entry of the archive.
pub enum Entry<'a> {
    /// A directory (mode 0755) at this path; Linux needs it to exist before
    /// it can unpack the entries inside it.
    Dir(&'a str),
    /// A regular file with its contents.
    File {
        /// Path inside the archive, without a leading `/` (e.g. `init`).
        name: &'a str,
        /// Permission bits only (e.g. `0o755`); the file-type bits are added.
        mode: u32,
        /// The file's contents, written as they are.
        data: &'a [u8],
    },
    /// A character device node, e.g. `dev/console` (5, 1).
    CharDev {
        /// Path inside the archive, without a leading `/`.
        name: &'a str,
        /// Device major number (e.g. 5 for `/dev/console`).
        major: u32,
        /// Device minor number (e.g. 1 for `/dev/console`).
        minor: u32,
    },
}

const DIR: u32 = 0o040_000;
const FILE: u32 = 0o100_000;
const CHAR_DEVICE: u32 = 0o020_000;

fn pad4(out: &mut Vec<u8>) {
    while out.len() % 4 != 0 {
        out.push(0);
    }
}

fn header(out: &mut Vec<u8>, ino: u32, mode: u32, size: usize, rdev: (u32, u32), name: &str) {
    // c_magic, then 13 eight-digit hex fields: ino, mode, uid, gid, nlink,
    // mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize
    // (with its NUL), check.
    let fields = [
        ino,
        mode,
        0,
        0,
        1,
        0,
        size as u32,
        0,
        0,
        rdev.0,
        rdev.1,
        name.len() as u32 + 1,
        0,
    ];
    out.extend_from_slice(b"070701");
    for field in fields {
        out.extend_from_slice(format!("{field:08x}").as_bytes());
    }
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    pad4(out);
}

/// The archive bytes for `entries`, with the trailer.
pub fn archive(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let ino = i as u32 + 1;
        match *entry {
            Entry::Dir(name) => header(&mut out, ino, DIR | 0o755, 0, (0, 0), name),
            Entry::CharDev { name, major, minor } => {
                header(&mut out, ino, CHAR_DEVICE | 0o600, 0, (major, minor), name)
            }
            Entry::File { name, mode, data } => {
                header(&mut out, ino, FILE | mode, data.len(), (0, 0), name);
                out.extend_from_slice(data);
                pad4(&mut out);
            }
        }
    }
    header(&mut out, 0, 0, 0, (0, 0), "TRAILER!!!");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newc_layout() {
        let a = archive(&[Entry::File {
            name: "init",
            mode: 0o755,
            data: b"abc",
        }]);
        assert!(a.starts_with(b"070701"));
        // 110-byte header + "init\0" padded to 116, then 3 data bytes padded.
        assert_eq!(&a[110..114], b"init");
        assert_eq!(&a[116..119], b"abc");
        assert_eq!(a.len() % 4, 0);
        assert!(a.windows(10).any(|w| w == b"TRAILER!!!"));
        // filesize field of the first entry.
        assert_eq!(&a[54..62], b"00000003");
    }
}
