//! Random input never panics the editor or the parser.

use proptest::prelude::*;
use shell::{parse, Edit, LineEditor, MAX_LINE};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut ed = LineEditor::new();
        let mut out = [0u8; MAX_LINE];
        for b in bytes {
            if ed.feed(b) == Edit::Line {
                let line = ed.take_line(&mut out);
                let _ = parse(line.map(|n| &out[..n]).map_err(|_| ()));
            }
        }
    }
}

/// xorshift64*: a fast deterministic generator for the million-line run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// One million random byte strings, half of them shaped like commands with
/// random arguments, through the editor and the parser: no panic, and
/// every complete line parses to a command or an error.
#[test]
fn a_million_random_lines_never_panic() {
    const WORDS: [&[u8]; 12] = [
        b"online ",
        b"offline ",
        b"target ",
        b"fail ",
        b"register ",
        b"spawn ",
        b"crash ",
        b"-",
        b"none",
        b"99999999999999999999",
        b"\x7f",
        b"\x1b",
    ];
    let mut rng = Rng(0x0dd_ba11_cafe);
    let mut ed = LineEditor::new();
    let mut out = [0u8; MAX_LINE];
    let mut lines = 0u64;
    for _ in 0..1_000_000 {
        let len = (rng.next() % 48) as usize;
        let mut input = Vec::with_capacity(len + 16);
        for _ in 0..len {
            let r = rng.next();
            if r % 2 == 0 {
                input.extend_from_slice(WORDS[(r >> 8) as usize % WORDS.len()]);
            } else {
                input.push((r >> 16) as u8);
            }
        }
        input.push(b'\r');
        for b in input {
            if ed.feed(b) == Edit::Line {
                lines += 1;
                let line = ed.take_line(&mut out);
                let _ = parse(line.map(|n| &out[..n]).map_err(|_| ()));
            }
        }
    }
    assert!(lines >= 1_000_000, "every string ends a line: {lines}");
}
