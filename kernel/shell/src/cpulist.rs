//! CPU lists in Linux's cpulist format (`3`, `1-7`, `2,4-6,15`, `all`),
//! as `/sys/devices/system/cpu/online` prints them and the console reads
//! them.
//!
//! Owns the syntax and the canonical form: a [`CpuSet`] prints itself
//! sorted, each run of consecutive CPUs as one range (`0-1,3,7-14`), and
//! parsing that text gives the same set back. It never decides which CPUs
//! exist: `all` stays [`CpuList::All`] for the kernel to resolve (only it
//! knows which CPUs are present or online), and a number is only checked
//! against [`MAX_LIST_CPUS`] here, the kernel checking it against the
//! possible CPUs.

use core::fmt;

/// One past the highest CPU number a list may name: the kernel's
/// `arch::percpu::MAX_CPUS` (the kernel checks at compile time that they
/// agree), so a [`CpuSet`] holds any CPU the kernel could have.
pub const MAX_LIST_CPUS: usize = 1024;

const WORDS: usize = MAX_LIST_CPUS / 64;

/// A set of CPU numbers below [`MAX_LIST_CPUS`]: a fixed bitset (128
/// bytes), so it needs no allocator and copies like a number.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct CpuSet {
    bits: [u64; WORDS],
}

impl CpuSet {
    /// No CPUs.
    pub const fn new() -> Self {
        CpuSet { bits: [0; WORDS] }
    }

    /// Adds `cpu`; `false` (and no change) if it is at or past
    /// [`MAX_LIST_CPUS`].
    pub fn insert(&mut self, cpu: u32) -> bool {
        let Some(word) = self.bits.get_mut(cpu as usize / 64) else {
            return false;
        };
        *word |= 1 << (cpu % 64);
        true
    }

    /// Takes `cpu` out (nothing happens if it was not in).
    pub fn remove(&mut self, cpu: u32) {
        if let Some(word) = self.bits.get_mut(cpu as usize / 64) {
            *word &= !(1 << (cpu % 64));
        }
    }

    /// Whether `cpu` is in the set.
    pub fn contains(&self, cpu: u32) -> bool {
        self.bits
            .get(cpu as usize / 64)
            .is_some_and(|word| word & (1 << (cpu % 64)) != 0)
    }

    /// How many CPUs the set holds.
    pub fn len(&self) -> usize {
        self.bits.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Whether the set holds no CPU.
    pub fn is_empty(&self) -> bool {
        self.bits.iter().all(|w| *w == 0)
    }

    /// The CPUs in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        (self.bits.iter().enumerate()).flat_map(|(i, &word)| {
            let mut rest = word;
            core::iter::from_fn(move || {
                let bit = (rest != 0).then(|| rest.trailing_zeros())?;
                rest &= rest - 1;
                Some(i as u32 * 64 + bit)
            })
        })
    }

    /// The runs of consecutive CPUs, each as `(first, last)`, in order.
    pub fn ranges(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        let mut cpus = self.iter().peekable();
        core::iter::from_fn(move || {
            let first = cpus.next()?;
            let mut last = first;
            while cpus.next_if_eq(&(last + 1)).is_some() {
                last += 1;
            }
            Some((first, last))
        })
    }

    /// Parses a list of items separated by `,`, each a CPU number or a
    /// range `first-last` (`first <= last`), every number below
    /// [`MAX_LIST_CPUS`]. Items may overlap and come in any order. `all`
    /// is not a set: see [`CpuList::parse`].
    pub fn parse(text: &str) -> Result<CpuSet, ListError<'_>> {
        let mut set = CpuSet::new();
        for item in text.split(',') {
            let (first, last) = match item.split_once('-') {
                None if item.is_empty() => return Err(ListError::EmptyItem),
                None => {
                    let cpu = number(item)?;
                    (cpu, cpu)
                }
                Some(("", _)) => return Err(ListError::NoStart(item)),
                Some((_, "")) => return Err(ListError::NoEnd(item)),
                Some((first, last)) => (number(first)?, number(last)?),
            };
            if first > last {
                return Err(ListError::Backwards { first, last });
            }
            for cpu in first..=last {
                set.insert(cpu);
            }
        }
        Ok(set)
    }
}

impl FromIterator<u32> for CpuSet {
    /// The CPUs below [`MAX_LIST_CPUS`] among `cpus` (others are dropped).
    fn from_iter<I: IntoIterator<Item = u32>>(cpus: I) -> Self {
        let mut set = CpuSet::new();
        for cpu in cpus {
            set.insert(cpu);
        }
        set
    }
}

/// A CPU number inside a list: plain decimal below [`MAX_LIST_CPUS`].
fn number(text: &str) -> Result<u32, ListError<'_>> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ListError::NotANumber(text));
    }
    match text.parse::<u32>() {
        Ok(n) if (n as usize) < MAX_LIST_CPUS => Ok(n),
        _ => Err(ListError::TooBig(text)),
    }
}

impl fmt::Display for CpuSet {
    /// The canonical form, `0-1,3,7-14`; the empty set prints nothing, as
    /// an empty sysfs mask does.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (first, last)) in self.ranges().enumerate() {
            let comma = if i > 0 { "," } else { "" };
            match first == last {
                true => write!(f, "{comma}{first}")?,
                false => write!(f, "{comma}{first}-{last}")?,
            }
        }
        Ok(())
    }
}

impl fmt::Debug for CpuSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CpuSet({self})")
    }
}

/// A CPU argument as typed: one number, `all`, or a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpuList {
    /// A plain number (`3`): one CPU, any `u32`, which the kernel checks
    /// and answers in the single-CPU formats (`ok: cpu3 online in ...`).
    One(u32),
    /// `all`: every CPU the command can apply to, which the kernel picks.
    All,
    /// Ranges or commas (`1-7`, `2,4-6,15`, even `3-3`): the CPUs named.
    Set(CpuSet),
}

impl CpuList {
    /// Whether `word` is written as a list (a `,`, or a `-` after its first
    /// byte) rather than as one number: a bad list gets a list's error, a
    /// bad number (`-1`, `+1`, `x`) a number's.
    pub fn looks_like_list(word: &str) -> bool {
        word.contains(',') || word.get(1..).is_some_and(|rest| rest.contains('-'))
    }

    /// Reads a word: `all`, a list (see [`CpuSet::parse`]), or one number.
    /// `Err(None)` is a word that is not a number either (`-1`, `x`,
    /// a number past `u32`); the caller words that error.
    pub fn parse(word: &str) -> Result<CpuList, Option<ListError<'_>>> {
        if word == "all" {
            return Ok(CpuList::All);
        }
        if Self::looks_like_list(word) {
            return CpuSet::parse(word).map(CpuList::Set).map_err(Some);
        }
        let digits = !word.is_empty() && word.bytes().all(|b| b.is_ascii_digit());
        match digits.then(|| word.parse::<u32>().ok()).flatten() {
            Some(cpu) => Ok(CpuList::One(cpu)),
            None => Err(None),
        }
    }
}

impl fmt::Display for CpuList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CpuList::One(cpu) => write!(f, "{cpu}"),
            CpuList::All => f.write_str("all"),
            CpuList::Set(set) => write!(f, "{set}"),
        }
    }
}

/// Why a word is not a CPU list; displayed after `'<word>' is not a valid
/// CPU list: `.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListError<'a> {
    /// Two commas in a row, or one at either end.
    EmptyItem,
    /// A range with nothing before its `-` (`-3`).
    NoStart(&'a str),
    /// A range with nothing after its `-` (`1-`).
    NoEnd(&'a str),
    /// A part that is not plain decimal (`x`, `+1`, `1-2-3`'s `2-3`).
    NotANumber(&'a str),
    /// A number at or past [`MAX_LIST_CPUS`].
    TooBig(&'a str),
    /// A range whose first CPU is above its last (`3-1`).
    Backwards {
        /// The range's start.
        first: u32,
        /// Its end.
        last: u32,
    },
}

impl fmt::Display for ListError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListError::EmptyItem => f.write_str("an empty item"),
            ListError::NoStart(item) => write!(f, "the range '{item}' has no start"),
            ListError::NoEnd(item) => write!(f, "the range '{item}' has no end"),
            ListError::NotANumber(text) => write!(f, "'{text}' is not a CPU number"),
            ListError::TooBig(text) => write!(
                f,
                "'{text}' is past {}, the highest CPU number there can be",
                MAX_LIST_CPUS - 1
            ),
            ListError::Backwards { first, last } => {
                write!(f, "the range {first}-{last} runs backwards")
            }
        }
    }
}
