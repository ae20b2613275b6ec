//! Random and structured lines parse to exactly what an independent
//! reference parser says: the same command and typed arguments, or the
//! same `error:` text.
//!
//! The reference below is written from the README's command list, word by
//! word, without the crate's table or helpers, so that a mistake in
//! `shell::COMMANDS` or in the parser shows up as a disagreement.

#[path = "fuzz/reference.rs"]
mod reference;

use proptest::prelude::*;
use shell::{parse, CpuList, Edit, LineEditor, Value, COMMANDS, MAX_LINE};

use reference::Outcome;

fn actual(line: Result<&[u8], ()>) -> Outcome<'_> {
    match parse(line) {
        Ok(None) => Ok(None),
        Ok(Some(inv)) => {
            let spec = &COMMANDS[inv.index];
            let slots = (0..spec.args.len()).map(|i| inv.args.get(i)).collect();
            Ok(Some((spec.name, slots)))
        }
        Err(e) => Err(e.to_string()),
    }
}

/// Parses `line` both ways and fails on any difference.
fn check(line: Result<&[u8], ()>) -> Outcome<'_> {
    let ours = actual(line);
    let expected = reference::parse(line);
    assert_eq!(
        ours,
        expected,
        "line {:?}: parser (left) and reference (right) differ",
        line.map(String::from_utf8_lossy)
    );
    ours
}

/// State names Tab may complete to while random bytes are fed.
fn states(each: &mut dyn FnMut(&str)) {
    ["offline", "cpu:prepare", "stack", "online"]
        .into_iter()
        .for_each(each);
}

/// Feeds `bytes` through the editor (its echo is dropped: the editor's
/// own tests check that) and checks every line it completes; returns how
/// many it completed.
fn feed_and_check(ed: &mut LineEditor, bytes: &[u8]) -> usize {
    let mut out = [0u8; MAX_LINE];
    let mut lines = 0;
    for &b in bytes {
        if ed.feed(b, &states, &mut |_| {}) == Edit::Line {
            lines += 1;
            let line = ed.take_line(&mut out);
            let _ = check(line.map(|n| &out[..n]).map_err(|_| ()));
        }
    }
    lines
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]
    #[test]
    fn random_bytes_parse_as_the_reference_says(
        bytes in proptest::collection::vec(any::<u8>(), 0..600)
    ) {
        feed_and_check(&mut LineEditor::new("hp> "), &bytes);
    }
}

/// xorshift64*: a fast deterministic generator for the million-line runs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// One million random byte strings, half of them made of command-like
/// words, through the editor and both parsers.
#[test]
fn a_million_random_lines_parse_as_the_reference_says() {
    const WORDS: [&[u8]; 19] = [
        b"all",
        b",",
        b"1-3",
        b"timer ",
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
        b"\t",
        b"\x1b[D",
        b"\x1b[A",
    ];
    let mut rng = Rng(0x0dd_ba11_cafe);
    let mut ed = LineEditor::new("hp> ");
    let mut lines = 0;
    for _ in 0..1_000_000 {
        let len = rng.below(48);
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
        lines += feed_and_check(&mut ed, &input);
    }
    assert!(lines >= 1_000_000, "every string ends a line: {lines}");
}

/// A word an argument position might hold: edge numbers, state names,
/// keywords and random digits or letters.
fn random_word(rng: &mut Rng) -> String {
    const EDGES: [&str; 44] = [
        "all",
        "All",
        "1-3",
        "3-1",
        "1,,2",
        "1-",
        "-",
        ",",
        "1,",
        ",1",
        "2,4-6,15",
        "0-1023",
        "0-1024",
        "1-2-3",
        "all,1",
        "1,-3",
        "0-4294967296",
        "7-7",
        "0",
        "1",
        "00",
        "007",
        "-1",
        "+1",
        "-0",
        "999",
        "1000",
        "1001",
        "65535",
        "65536",
        "1000000",
        "1000001",
        "4294967295",
        "4294967296",
        "18446744073709551615",
        "18446744073709551616",
        "none",
        "stack",
        "Stack",
        "cpu:active",
        "demo:a",
        "Bad",
        "a-b_c:9",
        "x.y",
    ];
    match rng.below(4) {
        0 | 1 => rng.pick(&EDGES).to_string(),
        2 => (0..1 + rng.below(24))
            .map(|_| char::from(b'0' + rng.below(10) as u8))
            .collect(),
        _ => {
            const ALPHABET: &[u8] = b"az09:_-Z.#,,--";
            (0..1 + rng.below(36))
                .map(|_| char::from(*rng.pick(ALPHABET)))
                .collect()
        }
    }
}

/// A command name, a near miss or a random word, then 0-4 words, with
/// random spaces and tabs around them, sometimes one stray byte.
fn structured_line(rng: &mut Rng) -> Vec<u8> {
    const NEAR_MISSES: [&str; 6] = ["HELP", "onlin", "online2", "off-line", "#", "none"];
    let blank = |rng: &mut Rng| -> String {
        (0..1 + rng.below(3))
            .map(|_| if rng.below(4) == 0 { '\t' } else { ' ' })
            .collect()
    };
    let mut line = String::new();
    if rng.below(4) == 0 {
        line += &blank(rng);
    }
    line += match rng.below(10) {
        0 => rng.pick(&NEAR_MISSES),
        _ => rng.pick(&COMMANDS).name,
    };
    for _ in 0..rng.below(5) {
        line += &blank(rng);
        line += &random_word(rng);
    }
    if rng.below(4) == 0 {
        line += &blank(rng);
    }
    let mut bytes = line.into_bytes();
    if rng.below(20) == 0 {
        let at = rng.below(bytes.len() + 1);
        bytes.insert(at, rng.next() as u8);
    }
    bytes
}

/// One million lines shaped like commands, straight to both parsers; every
/// command parses at least once, and both answers are common.
#[test]
fn a_million_structured_lines_parse_as_the_reference_says() {
    let mut rng = Rng(0x5ca1_ab1e_0042);
    let mut parsed = vec![0u32; COMMANDS.len()];
    let (mut ok, mut errors) = (0u32, 0u32);
    for _ in 0..1_000_000 {
        let line = structured_line(&mut rng);
        match check(Ok(&line)) {
            Ok(Some((name, _))) => {
                ok += 1;
                parsed[COMMANDS.iter().position(|c| c.name == name).unwrap()] += 1;
            }
            Ok(None) => {}
            Err(_) => errors += 1,
        }
    }
    for (spec, n) in COMMANDS.iter().zip(&parsed) {
        assert!(*n > 100, "`{}` parsed only {n} times", spec.name);
    }
    assert!(ok > 100_000 && errors > 100_000, "ok {ok}, errors {errors}");
}

/// The reference agrees on the texts the QEMU tests look for, so it is
/// not just agreeing with itself.
#[test]
fn reference_gives_the_documented_answers() {
    let err = |line: &[u8]| reference::parse(Ok(line)).unwrap_err();
    assert_eq!(err(b"online -1"), "'-1' is not a valid CPU number");
    assert_eq!(err(b"offline"), "'offline' needs a CPU number");
    assert_eq!(
        err(b"online 3-1"),
        "'3-1' is not a valid CPU list: the range 3-1 runs backwards"
    );
    assert_eq!(
        err(b"online 1,,2"),
        "'1,,2' is not a valid CPU list: an empty item"
    );
    assert_eq!(
        err(b"crash all"),
        "'crash' takes one CPU number, not a list ('all')"
    );
    assert_eq!(
        reference::parse(Ok(b"offline 2,4-6,15")),
        Ok(Some((
            "offline",
            vec![Some(Value::Cpus(CpuList::Set(
                [2, 4, 5, 6, 15].into_iter().collect()
            )))]
        )))
    );
    assert_eq!(err(b"cpus\0"), "line contains non-printable bytes");
    assert!(err(b"frob").starts_with("unknown command 'frob'"));
    assert_eq!(
        reference::parse(Ok(b"crash 3 stack")),
        Ok(Some((
            "crash",
            vec![Some(Value::Cpu(3)), Some(Value::Flag(true))]
        )))
    );
    assert_eq!(
        reference::parse(Err(())),
        Err("line too long (max 256 bytes)".to_string())
    );
}
