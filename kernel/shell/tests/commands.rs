//! The parser on hand-picked lines, the error texts the QEMU tests look
//! for, `help`'s output and the handler table's checks.

use shell::{
    parse, ArgKind, CommandTable, CpuList, CpuSet, Help, ParseError, StateArg, Value, COMMANDS,
    MAX_ARGS,
};

/// What a line parsed to: the command's name and its argument slots.
type Parsed<'a> = Result<Option<(&'static str, Vec<Option<Value<'a>>>)>, ParseError<'a>>;

/// The command a line names and its argument slots.
fn run(line: &[u8]) -> Parsed<'_> {
    Ok(parse(Ok(line))?.map(|inv| {
        let spec = &COMMANDS[inv.index];
        assert_eq!(inv.args.command(), spec);
        let slots = (0..spec.args.len()).map(|i| inv.args.get(i)).collect();
        (spec.name, slots)
    }))
}

/// A plain CPU number given where a list may go.
fn one(cpu: u32) -> Value<'static> {
    Value::Cpus(CpuList::One(cpu))
}

fn ok(name: &'static str, values: &[Option<Value<'static>>]) -> Parsed<'static> {
    Ok(Some((name, values.to_vec())))
}

#[test]
fn commands() {
    assert_eq!(run(b"cpus"), ok("cpus", &[]));
    assert_eq!(run(b"  help \t"), ok("help", &[]));
    assert_eq!(run(b""), Ok(None));
    assert_eq!(run(b" \t "), Ok(None));
    assert_eq!(run(b"poweroff"), ok("poweroff", &[]));
    assert_eq!(run(b"online 3"), ok("online", &[Some(one(3))]));
    assert_eq!(run(b"offline  12"), ok("offline", &[Some(one(12))]));
    assert_eq!(
        run(b"online all"),
        ok("online", &[Some(Value::Cpus(CpuList::All))])
    );
    let set = |cpus: &[u32]| Value::Cpus(CpuList::Set(cpus.iter().copied().collect()));
    assert_eq!(run(b"offline 1-3"), ok("offline", &[Some(set(&[1, 2, 3]))]));
    assert_eq!(
        run(b"offline 2,4-6,15"),
        ok("offline", &[Some(set(&[2, 4, 5, 6, 15]))])
    );
    assert_eq!(run(b"online 3-3"), ok("online", &[Some(set(&[3]))]));
    assert_eq!(
        run(b"timer 1,2 5"),
        ok("timer", &[Some(set(&[1, 2])), Some(Value::Count(5))])
    );
    assert_eq!(
        run(b"target 2 cpu:active"),
        ok(
            "target",
            &[
                Some(one(2)),
                Some(Value::State(StateArg::Name("cpu:active")))
            ]
        )
    );
    assert_eq!(
        run(b"target 2 4"),
        ok(
            "target",
            &[Some(one(2)), Some(Value::State(StateArg::Index(4)))]
        )
    );
    assert_eq!(
        run(b"fail 1 cpu:kick"),
        ok(
            "fail",
            &[
                Some(one(1)),
                Some(Value::StateOrNone(Some(StateArg::Name("cpu:kick"))))
            ]
        )
    );
    assert_eq!(
        run(b"fail 1 none"),
        ok("fail", &[Some(one(1)), Some(Value::StateOrNone(None))])
    );
    assert_eq!(
        run(b"register demo:a"),
        ok("register", &[Some(Value::Name("demo:a"))])
    );
    assert_eq!(
        run(b"unregister Demo"),
        ok("unregister", &[Some(Value::Name("Demo"))])
    );
    assert_eq!(
        run(b"crash 1"),
        ok("crash", &[Some(Value::Cpu(1)), Some(Value::Flag(false))])
    );
    assert_eq!(
        run(b"crash 1 stack"),
        ok("crash", &[Some(Value::Cpu(1)), Some(Value::Flag(true))])
    );
    assert_eq!(run(b"bench"), ok("bench", &[None]));
    assert_eq!(run(b"bench 1000"), ok("bench", &[Some(Value::Count(1000))]));
    assert_eq!(
        run(b"torture 5"),
        ok("torture", &[Some(Value::Count(5)), None, None])
    );
    assert_eq!(
        run(b"torture 5 18446744073709551615"),
        ok(
            "torture",
            &[Some(Value::Count(5)), Some(Value::Seed(u64::MAX)), None]
        )
    );
    assert_eq!(
        run(b"torture 5 7 500"),
        ok(
            "torture",
            &[
                Some(Value::Count(5)),
                Some(Value::Seed(7)),
                Some(Value::Count(500))
            ]
        )
    );
    assert_eq!(run(b"spawn 0"), ok("spawn", &[Some(Value::Count(0))]));
    assert_eq!(run(b"autoonline"), ok("autoonline", &[None]));
    assert_eq!(
        run(b"autoonline on"),
        ok("autoonline", &[Some(Value::Switch(true))])
    );
    assert_eq!(
        run(b"autoonline off"),
        ok("autoonline", &[Some(Value::Switch(false))])
    );
}

/// The texts boot/tests/{bad_input,hotplug}.rs look for.
fn error_text(line: &[u8]) -> String {
    match parse(Ok(line)) {
        Err(e) => e.to_string(),
        Ok(parsed) => panic!("{:?} parsed: {parsed:?}", String::from_utf8_lossy(line)),
    }
}

#[test]
fn error_texts() {
    assert_eq!(
        error_text(b"reboot"),
        "unknown command 'reboot' (try 'help')"
    );
    assert_eq!(error_text(b"cpus 3"), "'cpus': unexpected argument '3'");
    assert_eq!(
        error_text(b"online 1 2"),
        "'online': unexpected argument '2'"
    );
    assert_eq!(
        error_text(b"crash 1 heap"),
        "'crash': unexpected argument 'heap'"
    );
    assert_eq!(
        error_text(b"crash 1 stack x"),
        "'crash': unexpected argument 'x'"
    );
    assert_eq!(error_text(b"cp\x1bus"), "line contains non-printable bytes");
    assert_eq!(error_text(b"\xff\xfe"), "line contains non-printable bytes");
    assert_eq!(
        parse(Err(())).unwrap_err().to_string(),
        "line too long (max 256 bytes)"
    );
    assert_eq!(error_text(b"offline"), "'offline' needs a CPU number");
    assert_eq!(
        error_text(b"autoonline yes"),
        "'yes' is not a valid setting (on or off)"
    );
    assert_eq!(
        error_text(b"autoonline on off"),
        "'autoonline': unexpected argument 'off'"
    );
    assert_eq!(
        error_text(b"target 1"),
        "'target' needs a state (name or index)"
    );
    assert_eq!(error_text(b"torture"), "'torture' needs a operation count");
    assert_eq!(error_text(b"unregister"), "'unregister' needs a state name");
    assert_eq!(error_text(b"online -1"), "'-1' is not a valid CPU number");
    assert_eq!(error_text(b"online +1"), "'+1' is not a valid CPU number");
    assert_eq!(error_text(b"crash -0"), "'-0' is not a valid CPU number");
    assert_eq!(
        error_text(b"online 99999999999999999999"),
        "'99999999999999999999' is not a valid CPU number"
    );
    assert_eq!(
        error_text(b"spawn 4294967296"),
        "'4294967296' is not a valid thread count"
    );
    assert_eq!(
        error_text(b"fail 1 65536"),
        "'65536' is not a valid state index"
    );
    assert_eq!(
        error_text(b"target 1 70000"),
        "'70000' is not a valid state index"
    );
    assert_eq!(
        error_text(b"bench 0"),
        "'0' is not a valid cycle count (1-1000)"
    );
    assert_eq!(
        error_text(b"torture 1000001"),
        "'1000001' is not a valid operation count (1-1000000)"
    );
    assert_eq!(error_text(b"torture 1 -3"), "'-3' is not a valid seed");
    assert_eq!(
        error_text(b"online 3-1"),
        "'3-1' is not a valid CPU list: the range 3-1 runs backwards"
    );
    assert_eq!(
        error_text(b"online 1,,2"),
        "'1,,2' is not a valid CPU list: an empty item"
    );
    assert_eq!(
        error_text(b"online 1-"),
        "'1-' is not a valid CPU list: the range '1-' has no end"
    );
    assert_eq!(
        error_text(b"offline 1,-3"),
        "'1,-3' is not a valid CPU list: the range '-3' has no start"
    );
    assert_eq!(
        error_text(b"online 1,x"),
        "'1,x' is not a valid CPU list: 'x' is not a CPU number"
    );
    assert_eq!(
        error_text(b"online 1-2-3"),
        "'1-2-3' is not a valid CPU list: '2-3' is not a CPU number"
    );
    assert_eq!(
        error_text(b"online 0-1024"),
        "'0-1024' is not a valid CPU list: '1024' is past 1023, the highest CPU number there can be"
    );
    assert_eq!(error_text(b"online All"), "'All' is not a valid CPU number");
    assert_eq!(
        error_text(b"crash 1-3"),
        "'crash' takes one CPU number, not a list ('1-3')"
    );
    assert_eq!(
        error_text(b"irq serial all"),
        "'irq' takes one CPU number, not a list ('all')"
    );
    assert_eq!(
        error_text(b"crash 1,,3"),
        "'1,,3' is not a valid CPU number"
    );
    for name in ["123", "Bad", "none", &"a".repeat(33)] {
        assert_eq!(
            parse(Ok(format!("register {name}").as_bytes())),
            Err(ParseError::BadName(name))
        );
    }
    assert!(error_text(b"register 1").contains("not a valid state name"));
}

#[test]
fn help_lists_every_command_once_with_aligned_help() {
    let help = Help(&COMMANDS).to_string();
    let lines: Vec<&str> = help.lines().collect();
    assert_eq!(lines.len(), COMMANDS.len());
    let column = lines[0].find(COMMANDS[0].help).unwrap();
    for (line, spec) in lines.iter().zip(&COMMANDS) {
        assert!(line.starts_with(&spec.synopsis().to_string()), "{line}");
        assert_eq!(line.find(spec.help), Some(column), "aligned: {line}");
    }
    assert!(help.contains("\ntarget <cpus> <state>  "));
    assert!(help.contains("\nfail <cpus> <state|none>  "));
    assert!(help.contains("\ncrash <cpu> [stack]  "));
    assert!(help.contains("\ntorture <ops> [seed] [hang-every]  "));
}

#[test]
fn arguments_stay_within_the_slots() {
    for spec in &COMMANDS {
        assert!(spec.args.len() <= MAX_ARGS, "{}", spec.name);
    }
}

#[test]
fn handlers_get_back_the_typed_arguments() {
    let table = CommandTable::new(COMMANDS.map(|spec| (spec.name, spec.name)));
    let (handler, args) = table.parse(Ok(b"fail 3 cpu:kick")).unwrap().unwrap();
    assert_eq!(*handler, "fail");
    assert_eq!(args.cpus(0), Ok(CpuList::One(3)));
    assert!(
        args.cpu(0).is_err(),
        "a list argument is not read as one CPU"
    );
    assert_eq!(args.state_or_none(1), Ok(Some(StateArg::Name("cpu:kick"))));
    // A handler reading an argument its spec does not give is told so.
    let mismatch = args.state(1).unwrap_err();
    assert_eq!(mismatch.command, "fail");
    assert!(mismatch
        .to_string()
        .starts_with("internal: 'fail' read argument 1"));
    assert!(args.cpus(2).is_err());
    assert!(args.count(0).is_err());

    let (_, args) = table.parse(Ok(b"bench")).unwrap().unwrap();
    assert_eq!(args.optional_count(0), Ok(None));
    assert!(args.optional_seed(0).is_err());
    let (_, args) = table.parse(Ok(b"torture 9 7")).unwrap().unwrap();
    assert_eq!((args.count(0), args.optional_seed(1)), (Ok(9), Ok(Some(7))));
    let (_, args) = table.parse(Ok(b"crash 2 stack")).unwrap().unwrap();
    assert_eq!((args.cpu(0), args.flag(1)), (Ok(2), Ok(true)));
    assert!(args.cpus(0).is_err(), "crash takes one CPU");
    let (_, args) = table.parse(Ok(b"online 0-1,3")).unwrap().unwrap();
    let expected: CpuSet = [0, 1, 3].into_iter().collect();
    assert_eq!(args.cpus(0), Ok(CpuList::Set(expected)));
    let (_, args) = table.parse(Ok(b"register x")).unwrap().unwrap();
    assert_eq!(args.name(0), Ok("x"));
    assert_eq!(table.parse(Ok(b"")), Ok(None));
}

#[test]
#[should_panic(expected = "out of step")]
fn a_handler_table_out_of_step_is_refused() {
    let mut handlers = COMMANDS.map(|spec| (spec.name, ()));
    handlers.swap(1, 2);
    CommandTable::new(handlers);
}

#[test]
fn counts_show_their_range_only_when_limited() {
    let limited = ParseError::BadNumber {
        kind: ArgKind::Count {
            what: "x",
            min: 2,
            max: 3,
        },
        arg: "9",
    };
    assert_eq!(limited.to_string(), "'9' is not a valid x (2-3)");
    let full = ParseError::BadNumber {
        kind: ArgKind::Count {
            what: "x",
            min: 0,
            max: u32::MAX,
        },
        arg: "-",
    };
    assert_eq!(full.to_string(), "'-' is not a valid x");
}

/// A well-formed word for each argument kind.
fn valid_word(kind: ArgKind) -> String {
    match kind {
        ArgKind::Cpu | ArgKind::CpuList | ArgKind::State | ArgKind::Seed => "1".into(),
        ArgKind::StateOrNone => "none".into(),
        ArgKind::NewStateName | ArgKind::StateName => "demo:x".into(),
        ArgKind::Count { min, .. } => min.to_string(),
        ArgKind::Keyword(word) => word.into(),
        ArgKind::OneOf(words) => words[0].into(),
        ArgKind::Switch => "off".into(),
    }
}

#[test]
fn every_command_refuses_an_extra_or_missing_argument() {
    for spec in &COMMANDS {
        let words: Vec<String> = spec.args.iter().map(|a| valid_word(a.kind)).collect();
        let line = format!("{} {}", spec.name, words.join(" "));
        let parsed = parse(Ok(line.as_bytes())).unwrap().unwrap();
        assert_eq!(COMMANDS[parsed.index].name, spec.name);

        let extra = format!("{line} extra");
        assert_eq!(
            parse(Ok(extra.as_bytes())),
            Err(ParseError::Unexpected {
                command: spec.name,
                arg: "extra"
            })
        );
        let junk = format!("{} x x x", spec.name);
        assert!(parse(Ok(junk.as_bytes())).is_err(), "{junk}");
        if let Some(first) = spec.args.first().filter(|a| !a.optional) {
            assert_eq!(
                parse(Ok(spec.name.as_bytes())),
                Err(ParseError::Missing {
                    command: spec.name,
                    what: first.kind.noun()
                })
            );
        }
    }
}
