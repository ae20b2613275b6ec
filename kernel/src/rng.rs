//! A small deterministic random number generator (xorshift64*): random
//! sleep lengths for the demo workload, random operations for torture.
//! Reproducible from its seed; not for anything that needs secrecy.

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        // Zero is xorshift's one fixed point.
        Rng(seed | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform enough in `0..n` for the small `n` used here.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}
