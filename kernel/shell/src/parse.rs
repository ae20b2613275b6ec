//! Command parsing: one line in, one typed command (or a reason) out.

/// The help text, one command per line.
pub const HELP: &str = "\
help             this list
cpus             every possible CPU: number, APIC id, state, presence, APIC mode
poweroff         power the machine off (exits QEMU)";

/// A parsed console command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// An empty line: print the prompt again.
    Empty,
    Help,
    Cpus,
    Poweroff,
}

/// Why a line is not a command. Displayed after `error: `.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError<'a> {
    TooLong,
    NotText,
    Unknown(&'a str),
    UnexpectedArgument { command: &'static str, arg: &'a str },
}

impl core::fmt::Display for ParseError<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ParseError::TooLong => write!(f, "line too long (max {} bytes)", crate::MAX_LINE),
            ParseError::NotText => write!(f, "line contains non-printable bytes"),
            ParseError::Unknown(word) => write!(f, "unknown command '{word}' (try 'help')"),
            ParseError::UnexpectedArgument { command, arg } => {
                write!(f, "'{command}' takes no argument, got '{arg}'")
            }
        }
    }
}

/// Parses one line. `line` is `Err` if the editor cut it short.
pub fn parse(line: Result<&[u8], ()>) -> Result<Command, ParseError<'_>> {
    let bytes = line.map_err(|()| ParseError::TooLong)?;
    if !bytes
        .iter()
        .all(|&b| b.is_ascii_graphic() || b == b' ' || b == b'\t')
    {
        return Err(ParseError::NotText);
    }
    let text = core::str::from_utf8(bytes).map_err(|_| ParseError::NotText)?;
    let mut words = text.split_ascii_whitespace();
    let Some(name) = words.next() else {
        return Ok(Command::Empty);
    };
    let (command, name): (Command, &'static str) = match name {
        "help" => (Command::Help, "help"),
        "cpus" => (Command::Cpus, "cpus"),
        "poweroff" => (Command::Poweroff, "poweroff"),
        other => return Err(ParseError::Unknown(other)),
    };
    if let Some(arg) = words.next() {
        return Err(ParseError::UnexpectedArgument { command: name, arg });
    }
    Ok(command)
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
    }

    #[test]
    fn errors() {
        assert_eq!(parse(Ok(b"reboot")), Err(ParseError::Unknown("reboot")));
        assert_eq!(
            parse(Ok(b"cpus 3")),
            Err(ParseError::UnexpectedArgument {
                command: "cpus",
                arg: "3"
            })
        );
        assert_eq!(parse(Ok(b"cp\x1bus")), Err(ParseError::NotText));
        assert_eq!(parse(Ok(b"\xff\xfe")), Err(ParseError::NotText));
        assert_eq!(parse(Err(())), Err(ParseError::TooLong));
    }
}
