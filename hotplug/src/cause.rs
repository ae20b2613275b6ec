//! The text of why a callback failed, formatted where it failed, so the
//! console can show the arch or kernel detail (`answered with APIC id 7,
//! expected 3`) instead of a fixed phrase.
//!
//! Owns [`Cause`]: a fixed-capacity, `Copy` string. Copy keeps every error
//! and log type of the engine `Copy`, and a fixed buffer means a failure path
//! never allocates (it may be reporting that memory ran out). It never
//! interprets the text.

use alloc::string::String;
use core::fmt::{self, Write};

/// Why a callback failed, as text; longer text is cut at a character
/// boundary and shown with a trailing `...`.
#[derive(Clone, Copy)]
pub struct Cause {
    bytes: [u8; Cause::CAPACITY],
    len: u8,
    truncated: bool,
}

impl Cause {
    /// The most bytes a cause keeps: one line of detail, long enough for
    /// every arch and kernel error text with its context (the longest
    /// today, a per-CPU area or thread-stack allocation failure, are about
    /// 65). A `HotplugError` carrying one stays under 256 bytes, the limit
    /// `clippy.toml` sets for errors returned by value.
    pub const CAPACITY: usize = 120;

    /// A cause with no text.
    pub const EMPTY: Cause = Cause {
        bytes: [0; Cause::CAPACITY],
        len: 0,
        truncated: false,
    };

    /// The cause `text` (usable in `const` items).
    pub const fn new(text: &str) -> Cause {
        let text = text.as_bytes();
        let mut cause = Cause::EMPTY;
        let mut len = text.len();
        if len > Cause::CAPACITY {
            cause.truncated = true;
            len = Cause::CAPACITY;
            // Back up to the start of a character (not a continuation byte).
            while len > 0 && (text[len] & 0xC0) == 0x80 {
                len -= 1;
            }
        }
        let mut i = 0;
        while i < len {
            cause.bytes[i] = text[i];
            i += 1;
        }
        cause.len = len as u8;
        cause
    }

    /// The cause formatted from `args` (`Cause::format(format_args!(..))`).
    pub fn format(args: fmt::Arguments<'_>) -> Cause {
        let mut cause = Cause::EMPTY;
        // Our `write_str` never fails; it cuts what does not fit.
        let _ = cause.write_fmt(args);
        cause
    }

    /// The cause as `value`'s `Display` text: for an arch or kernel error.
    pub fn display(value: &dyn fmt::Display) -> Cause {
        Cause::format(format_args!("{value}"))
    }

    /// The text kept (without the `...` of a cut one).
    pub fn as_str(&self) -> &str {
        let (used, _) = self.bytes.split_at(usize::from(self.len));
        // Only whole characters are ever copied in, so this never fails.
        core::str::from_utf8(used).unwrap_or_default()
    }

    /// Whether the text was longer than [`Cause::CAPACITY`] and was cut.
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }
}

impl Write for Cause {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        if self.truncated {
            return Ok(());
        }
        let used = usize::from(self.len);
        let room = Cause::CAPACITY - used;
        let mut take = text.len().min(room);
        while !text.is_char_boundary(take) {
            take -= 1;
        }
        self.bytes[used..used + take].copy_from_slice(&text.as_bytes()[..take]);
        self.len += take as u8;
        self.truncated = take < text.len();
        Ok(())
    }
}

impl From<&str> for Cause {
    fn from(text: &str) -> Cause {
        Cause::new(text)
    }
}

impl From<String> for Cause {
    fn from(text: String) -> Cause {
        Cause::new(&text)
    }
}

impl PartialEq for Cause {
    fn eq(&self, other: &Cause) -> bool {
        self.as_str() == other.as_str() && self.truncated == other.truncated
    }
}

impl Eq for Cause {}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())?;
        if self.truncated {
            f.write_str("...")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())?;
        if self.truncated {
            f.write_str("...")?;
        }
        Ok(())
    }
}
