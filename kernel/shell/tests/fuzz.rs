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
