//! Command parsing: one line in, one typed command (or a reason) out.

/// The help text, one command per line.
pub const HELP: &str = "\
help                  this list
cpus                  every possible CPU: number, APIC id, state, presence, APIC mode
states                the hotplug state table, in bring-up order
online <cpu>          bring a CPU all the way up
offline <cpu>         take a CPU all the way down (it parks)
target <cpu> <state>  move a CPU up or down to a state (name or index)
fail <cpu> <state>    make that state's callback fail once on that CPU
fail <cpu> none       disarm
register <name>       add a demo state (counts its calls per CPU) before `online`
unregister <name>     remove a demo state
threads               every kernel thread: id, name, CPU, state
timers                every possible CPU: pending timers, timer interrupts taken
spawn <n>             start n unbound demo threads (sleep on timers, count wakeups)
stop                  demo threads exit after their current sleep
work                  demo totals: timers armed and fired, wakeups counted
crash <cpu> [stack]   debug: an exception on that CPU, or a thread there overflowing its stack
probe <cpu>           debug: kick a CPU the firmware marked not present (expect a timeout)
torture <ops> [seed]  random online/offline/target with random faults, under load; checks nothing is lost
bench [cycles]        time offline/online cycles on every AP, with each state's median
poweroff              power the machine off (exits QEMU)";

/// A state named on the command line: by index or by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateArg<'a> {
    Index(u16),
    Name(&'a str),
}

/// A parsed console command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command<'a> {
    /// An empty line: print the prompt again.
    Empty,
    Help,
    Cpus,
    States,
    Online(u32),
    Offline(u32),
    Target(u32, StateArg<'a>),
    /// `None` disarms.
    Fail(u32, Option<StateArg<'a>>),
    Register(&'a str),
    Unregister(&'a str),
    Threads,
    Timers,
    Spawn(u32),
    Stop,
    Work,
    /// `true`: overflow a thread's stack instead of raising #UD.
    Crash(u32, bool),
    Probe(u32),
    /// Operations, and the seed (random if absent).
    Torture(u32, Option<u64>),
    /// Cycles per AP (a default if absent).
    Bench(Option<u32>),
    Poweroff,
}

/// Why a line is not a command. Displayed after `error: `.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError<'a> {
    TooLong,
    NotText,
    Unknown(&'a str),
    Missing {
        command: &'static str,
        what: &'static str,
    },
    Unexpected {
        command: &'static str,
        arg: &'a str,
    },
    BadNumber {
        what: &'static str,
        arg: &'a str,
    },
    BadName(&'a str),
}

impl core::fmt::Display for ParseError<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ParseError::TooLong => write!(f, "line too long (max {} bytes)", crate::MAX_LINE),
            ParseError::NotText => write!(f, "line contains non-printable bytes"),
            ParseError::Unknown(word) => write!(f, "unknown command '{word}' (try 'help')"),
            ParseError::Missing { command, what } => write!(f, "'{command}' needs a {what}"),
            ParseError::Unexpected { command, arg } => {
                write!(f, "'{command}': unexpected argument '{arg}'")
            }
            ParseError::BadNumber { what, arg } => {
                write!(f, "'{arg}' is not a valid {what}")
            }
            ParseError::BadName(name) => write!(
                f,
                "'{name}' is not a valid state name (1-{MAX_NAME} of a-z 0-9 : _ -, not all digits)"
            ),
        }
    }
}

/// Most cycles per AP one `bench` run may do.
pub const MAX_BENCH_CYCLES: u32 = 1000;

/// Most operations one `torture` run may do.
pub const MAX_TORTURE_OPS: u32 = 1_000_000;

/// Longest name `register` accepts.
pub const MAX_NAME: usize = 32;

/// Parses one line. `line` is `Err` if the editor cut it short.
pub fn parse(line: Result<&[u8], ()>) -> Result<Command<'_>, ParseError<'_>> {
    let bytes = line.map_err(|()| ParseError::TooLong)?;
    if !bytes
        .iter()
        .all(|&b| b.is_ascii_graphic() || b == b' ' || b == b'\t')
    {
        return Err(ParseError::NotText);
    }
    let text = core::str::from_utf8(bytes).map_err(|_| ParseError::NotText)?;
    let mut args = Args {
        words: text.split_ascii_whitespace(),
        command: "",
    };
    let Some(name) = args.words.next() else {
        return Ok(Command::Empty);
    };
    let command = match name {
        "help" => args.done("help", Command::Help)?,
        "cpus" => args.done("cpus", Command::Cpus)?,
        "states" => args.done("states", Command::States)?,
        "poweroff" => args.done("poweroff", Command::Poweroff)?,
        "threads" => args.done("threads", Command::Threads)?,
        "timers" => args.done("timers", Command::Timers)?,
        "stop" => args.done("stop", Command::Stop)?,
        "work" => args.done("work", Command::Work)?,
        "crash" => {
            args.command = "crash";
            let cpu = args.cpu()?;
            let stack = match args.words.next() {
                None => false,
                Some("stack") => true,
                Some(arg) => {
                    return Err(ParseError::Unexpected {
                        command: "crash",
                        arg,
                    })
                }
            };
            args.done("crash", Command::Crash(cpu, stack))?
        }
        "probe" => {
            args.command = "probe";
            let cpu = args.cpu()?;
            args.done("probe", Command::Probe(cpu))?
        }
        "bench" => {
            args.command = "bench";
            let cycles = match args.words.next() {
                None => None,
                Some(arg) => Some(
                    parse_decimal(arg)
                        .filter(|n| (1..=MAX_BENCH_CYCLES).contains(n))
                        .ok_or(ParseError::BadNumber {
                            what: "cycle count (1-1000)",
                            arg,
                        })?,
                ),
            };
            args.done("bench", Command::Bench(cycles))?
        }
        "torture" => {
            args.command = "torture";
            let arg = args.next("operation count")?;
            let ops = parse_decimal(arg)
                .filter(|n| (1..=MAX_TORTURE_OPS).contains(n))
                .ok_or(ParseError::BadNumber {
                    what: "operation count (1-1000000)",
                    arg,
                })?;
            let seed = match args.words.next() {
                None => None,
                Some(arg) => Some(
                    arg.parse::<u64>()
                        .ok()
                        .filter(|_| arg.bytes().all(|b| b.is_ascii_digit()))
                        .ok_or(ParseError::BadNumber { what: "seed", arg })?,
                ),
            };
            args.done("torture", Command::Torture(ops, seed))?
        }
        "spawn" => {
            args.command = "spawn";
            let arg = args.next("thread count")?;
            let n = parse_decimal(arg).ok_or(ParseError::BadNumber {
                what: "thread count",
                arg,
            })?;
            args.done("spawn", Command::Spawn(n))?
        }
        "online" => {
            args.command = "online";
            let cpu = args.cpu()?;
            args.done("online", Command::Online(cpu))?
        }
        "offline" => {
            args.command = "offline";
            let cpu = args.cpu()?;
            args.done("offline", Command::Offline(cpu))?
        }
        "target" => {
            args.command = "target";
            let cpu = args.cpu()?;
            let state = args.state()?;
            args.done("target", Command::Target(cpu, state))?
        }
        "fail" => {
            args.command = "fail";
            let cpu = args.cpu()?;
            let state = match args.state()? {
                StateArg::Name("none") => None,
                state => Some(state),
            };
            args.done("fail", Command::Fail(cpu, state))?
        }
        "register" => {
            args.command = "register";
            let name = args.new_name()?;
            args.done("register", Command::Register(name))?
        }
        "unregister" => {
            args.command = "unregister";
            let name = args.next("state name")?;
            args.done("unregister", Command::Unregister(name))?
        }
        other => return Err(ParseError::Unknown(other)),
    };
    Ok(command)
}

struct Args<'a, I: Iterator<Item = &'a str>> {
    words: I,
    command: &'static str,
}

impl<'a, I: Iterator<Item = &'a str>> Args<'a, I> {
    fn next(&mut self, what: &'static str) -> Result<&'a str, ParseError<'a>> {
        self.words.next().ok_or(ParseError::Missing {
            command: self.command,
            what,
        })
    }

    fn done(
        &mut self,
        command: &'static str,
        parsed: Command<'a>,
    ) -> Result<Command<'a>, ParseError<'a>> {
        match self.words.next() {
            Some(arg) => Err(ParseError::Unexpected { command, arg }),
            None => Ok(parsed),
        }
    }

    fn cpu(&mut self) -> Result<u32, ParseError<'a>> {
        let arg = self.next("CPU number")?;
        parse_decimal(arg).ok_or(ParseError::BadNumber {
            what: "CPU number",
            arg,
        })
    }

    fn state(&mut self) -> Result<StateArg<'a>, ParseError<'a>> {
        let arg = self.next("state (name or index)")?;
        if arg.bytes().all(|b| b.is_ascii_digit()) {
            let index = parse_decimal(arg)
                .and_then(|n| u16::try_from(n).ok())
                .ok_or(ParseError::BadNumber {
                    what: "state index",
                    arg,
                })?;
            Ok(StateArg::Index(index))
        } else {
            Ok(StateArg::Name(arg))
        }
    }

    fn new_name(&mut self) -> Result<&'a str, ParseError<'a>> {
        let name = self.next("state name")?;
        let allowed = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b":_-".contains(&b);
        let valid = (1..=MAX_NAME).contains(&name.len())
            && name.bytes().all(allowed)
            && !name.bytes().all(|b| b.is_ascii_digit())
            && name != "none";
        if valid {
            Ok(name)
        } else {
            Err(ParseError::BadName(name))
        }
    }
}

/// Plain decimal, no sign, no overflow.
fn parse_decimal(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands() {
        assert_eq!(parse(Ok(b"cpus")), Ok(Command::Cpus));
        assert_eq!(parse(Ok(b"  help \t")), Ok(Command::Help));
        assert_eq!(parse(Ok(b"")), Ok(Command::Empty));
        assert_eq!(parse(Ok(b"poweroff")), Ok(Command::Poweroff));
        assert_eq!(parse(Ok(b"states")), Ok(Command::States));
        assert_eq!(parse(Ok(b"online 3")), Ok(Command::Online(3)));
        assert_eq!(parse(Ok(b"offline  12")), Ok(Command::Offline(12)));
        assert_eq!(
            parse(Ok(b"target 2 cpu:active")),
            Ok(Command::Target(2, StateArg::Name("cpu:active")))
        );
        assert_eq!(
            parse(Ok(b"target 2 4")),
            Ok(Command::Target(2, StateArg::Index(4)))
        );
        assert_eq!(
            parse(Ok(b"fail 1 cpu:kick")),
            Ok(Command::Fail(1, Some(StateArg::Name("cpu:kick"))))
        );
        assert_eq!(parse(Ok(b"fail 1 none")), Ok(Command::Fail(1, None)));
        assert_eq!(
            parse(Ok(b"register demo:a")),
            Ok(Command::Register("demo:a"))
        );
        assert_eq!(
            parse(Ok(b"unregister demo:a")),
            Ok(Command::Unregister("demo:a"))
        );
    }

    #[test]
    fn errors() {
        assert_eq!(parse(Ok(b"reboot")), Err(ParseError::Unknown("reboot")));
        assert_eq!(
            parse(Ok(b"cpus 3")),
            Err(ParseError::Unexpected {
                command: "cpus",
                arg: "3"
            })
        );
        assert_eq!(parse(Ok(b"cp\x1bus")), Err(ParseError::NotText));
        assert_eq!(parse(Ok(b"\xff\xfe")), Err(ParseError::NotText));
        assert_eq!(parse(Err(())), Err(ParseError::TooLong));
        assert_eq!(
            parse(Ok(b"online")),
            Err(ParseError::Missing {
                command: "online",
                what: "CPU number"
            })
        );
        assert_eq!(
            parse(Ok(b"online -1")),
            Err(ParseError::BadNumber {
                what: "CPU number",
                arg: "-1"
            })
        );
        assert_eq!(
            parse(Ok(b"online +1")),
            Err(ParseError::BadNumber {
                what: "CPU number",
                arg: "+1"
            })
        );
        assert_eq!(
            parse(Ok(b"online 99999999999999999999")),
            Err(ParseError::BadNumber {
                what: "CPU number",
                arg: "99999999999999999999"
            })
        );
        assert_eq!(
            parse(Ok(b"target 1 70000")),
            Err(ParseError::BadNumber {
                what: "state index",
                arg: "70000"
            })
        );
        assert_eq!(
            parse(Ok(b"online 1 2")),
            Err(ParseError::Unexpected {
                command: "online",
                arg: "2"
            })
        );
        assert_eq!(parse(Ok(b"register 123")), Err(ParseError::BadName("123")));
        assert_eq!(parse(Ok(b"register Bad")), Err(ParseError::BadName("Bad")));
        assert_eq!(
            parse(Ok(b"register none")),
            Err(ParseError::BadName("none"))
        );
    }
}
