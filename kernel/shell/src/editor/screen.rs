//! The terminal side: how a line's bytes look on screen and the VT100
//! sequences that move the cursor. Everything here writes to the caller's
//! `out`; nothing keeps state.

/// Erases from the cursor to the end of the screen line (`ESC [ K`).
pub const ERASE_TO_END: &[u8] = b"\x1b[K";

/// Back to column 0 (CR), then erase to the end of the row: the prompt
/// line is gone and the cursor is at its start. Tools can tell it from
/// anything else the console sends, which never has CR right before ESC.
pub const HIDE: &[u8] = b"\r\x1b[K";

/// Rung when Tab has nothing to offer.
pub const BELL: &[u8] = b"\x07";

/// Where a list of completions wraps.
pub const WIDTH: usize = 80;

/// Whether a byte shows as itself.
pub fn printable(byte: u8) -> bool {
    byte.is_ascii_graphic() || byte == b' '
}

/// Writes line bytes as they look: a byte the terminal cannot show (kept
/// for the parser to reject) takes one column as `?`, so the cursor
/// arithmetic stays one byte, one column.
pub fn show(bytes: &[u8], out: &mut dyn FnMut(&[u8])) {
    for run in bytes.split_inclusive(|b| !printable(*b)) {
        match run.split_last() {
            Some((last, text)) if !printable(*last) => {
                out(text);
                out(b"?");
            }
            _ => out(run),
        }
    }
}

/// Moves the cursor `n` columns left: `BS` for one (so backspace at the
/// end of the line stays `BS space BS`), else `ESC [ n D`.
pub fn left(n: usize, out: &mut dyn FnMut(&[u8])) {
    match n {
        1 => out(b"\x08"),
        _ => cursor_move(n, b'D', out),
    }
}

/// Moves the cursor `n` columns right (`ESC [ n C`).
pub fn right(n: usize, out: &mut dyn FnMut(&[u8])) {
    cursor_move(n, b'C', out);
}

fn cursor_move(n: usize, direction: u8, out: &mut dyn FnMut(&[u8])) {
    if n == 0 {
        return;
    }
    let mut sequence = [0u8; 24];
    sequence[..2].copy_from_slice(b"\x1b[");
    let mut digits = [0u8; 20];
    let mut count = 0;
    let mut rest = n;
    while rest > 0 || count == 0 {
        digits[count] = b'0' + (rest % 10) as u8;
        rest /= 10;
        count += 1;
    }
    for i in 0..count {
        sequence[2 + i] = digits[count - 1 - i];
    }
    sequence[2 + count] = direction;
    out(&sequence[..3 + count]);
}
