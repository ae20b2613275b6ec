//! A tiny VT100 model: enough to check that what the editor writes puts
//! the line on screen as the editor holds it, with the cursor in place.
//! It panics on any byte the editor has no business sending.

use shell::{Edit, LineEditor, MAX_LINE};

/// The console's prompt.
pub const PROMPT: &str = "hp> ";

/// State names offered to Tab in these tests.
pub fn states(each: &mut dyn FnMut(&str)) {
    [
        "offline",
        "cpu:prepare",
        "cpu:starting",
        "sched:active",
        "online",
    ]
    .into_iter()
    .for_each(each);
}

/// A screen as wide as needed, plus the editor feeding it, acting as the
/// kernel console does (newline and prompt after a line or a Ctrl-C).
pub struct Console {
    pub editor: LineEditor,
    rows: Vec<Vec<u8>>,
    row: usize,
    col: usize,
    /// Everything the editor wrote, for exact-echo checks.
    pub written: Vec<u8>,
    /// Lines completed: what `take_line` gave.
    pub lines: Vec<Result<Vec<u8>, usize>>,
    pub cancels: usize,
}

impl Console {
    pub fn new() -> Self {
        let mut console = Console {
            editor: LineEditor::new(PROMPT),
            rows: vec![Vec::new()],
            row: 0,
            col: 0,
            written: Vec::new(),
            lines: Vec::new(),
            cancels: 0,
        };
        console.draw(PROMPT.as_bytes());
        console.written.clear();
        console
    }

    pub fn type_bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            let mut out = Vec::new();
            let edit = self
                .editor
                .feed(b, &states, &mut |s| out.extend_from_slice(s));
            self.draw(&out);
            self.written.extend_from_slice(&out);
            match edit {
                Edit::Pending => {}
                Edit::Line => {
                    let mut line = [0; MAX_LINE];
                    let got = self.editor.take_line(&mut line);
                    self.lines.push(got.map(|n| line[..n].to_vec()));
                    self.draw(b"\r\n");
                    self.draw(PROMPT.as_bytes());
                }
                Edit::Cancelled => {
                    self.cancels += 1;
                    self.draw(b"\r\n");
                    self.draw(PROMPT.as_bytes());
                }
            }
        }
    }

    /// Held event lines arriving at the prompt, printed as the kernel
    /// console does: the prompt line erased, each line and CRLF, the
    /// prompt and the line drawn again.
    #[allow(dead_code)] // editor_redraw.rs's, not editor.rs's
    pub fn events_at_prompt(&mut self, lines: &[&str]) {
        let mut out = Vec::new();
        self.editor.hide(&mut |s| out.extend_from_slice(s));
        for line in lines {
            out.extend_from_slice(line.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        self.editor.redraw(&mut |s| out.extend_from_slice(s));
        self.draw(&out);
        self.written.extend_from_slice(&out);
    }

    /// The row the cursor is on.
    #[allow(dead_code)] // editor_redraw.rs's, not editor.rs's
    pub fn cursor_row(&self) -> usize {
        self.row
    }

    /// The last line completed, as text.
    pub fn last_line(&self) -> String {
        let line = self
            .lines
            .last()
            .expect("a line")
            .as_ref()
            .expect("not too long");
        String::from_utf8_lossy(line).into_owned()
    }

    /// Every screen row, trailing blanks dropped.
    pub fn rows(&self) -> Vec<String> {
        (self.rows.iter())
            .map(|r| String::from_utf8_lossy(r).trim_end().to_string())
            .collect()
    }

    /// The screen shows the prompt and the editor's line (non-printable
    /// bytes as `?`), blanks after it, and the cursor at the editor's.
    pub fn assert_screen_matches(&self) {
        let mut expected = PROMPT.as_bytes().to_vec();
        expected.extend((self.editor.line().iter()).map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                b
            } else {
                b'?'
            }
        }));
        let row = &self.rows[self.row];
        let shown = &row[..expected.len().min(row.len())];
        assert_eq!(
            String::from_utf8_lossy(shown),
            String::from_utf8_lossy(&expected),
            "screen row vs line"
        );
        assert!(
            row[shown.len()..].iter().all(|b| *b == b' ') && shown.len() == expected.len(),
            "stale text after the line: {:?}",
            String::from_utf8_lossy(row)
        );
        assert_eq!(
            self.col,
            PROMPT.len() + self.editor.cursor(),
            "cursor column"
        );
    }

    fn put(&mut self, byte: u8) {
        let row = &mut self.rows[self.row];
        if row.len() <= self.col {
            row.resize(self.col + 1, b' ');
        }
        row[self.col] = byte;
        self.col += 1;
    }

    fn draw(&mut self, bytes: &[u8]) {
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\r' => self.col = 0,
                b'\n' => {
                    self.row += 1;
                    if self.rows.len() == self.row {
                        self.rows.push(Vec::new());
                    }
                }
                0x08 => self.col = self.col.checked_sub(1).expect("BS at column 0"),
                0x07 => {}
                0x1b => {
                    assert_eq!(bytes.get(i + 1), Some(&b'['), "only CSI is sent");
                    let digits = bytes[i + 2..]
                        .iter()
                        .take_while(|b| b.is_ascii_digit())
                        .count();
                    let n: usize = std::str::from_utf8(&bytes[i + 2..i + 2 + digits])
                        .unwrap()
                        .parse()
                        .unwrap_or(1);
                    i += 2 + digits;
                    match bytes[i] {
                        b'D' => self.col = self.col.checked_sub(n).expect("left past column 0"),
                        b'C' => self.col += n,
                        b'K' => self.rows[self.row].truncate(self.col),
                        other => panic!("unexpected CSI final {:?}", other as char),
                    }
                }
                b if b.is_ascii_graphic() || b == b' ' => self.put(b),
                b => panic!("editor wrote control byte {b:#04x}"),
            }
            i += 1;
        }
    }
}
