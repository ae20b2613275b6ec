//! Garbage on the console gets `error:` (or `ok`) line by line, and the
//! kernel keeps answering: random bytes, a 10,000-byte line, NUL/ESC/DEL,
//! negative and huge numbers, and junk arguments to every command. Needs
//! `make images` first.

use boot::console::{Console, COMMAND_TIMEOUT};
use boot::qemu::{Firmware, Machine, QemuConfig};

/// Sends one line of raw bytes (CR-terminated) and returns its status line.
fn status_of(console: &mut Console, line: &[u8]) -> String {
    let mut bytes = line.to_vec();
    bytes.push(b'\r');
    console.send_bytes(&bytes);
    let text = console.until_prompt(COMMAND_TIMEOUT);
    let status = text
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or("")
        .to_owned();
    if !(status == "ok" || status.starts_with("ok: ") || status.starts_with("error: ")) {
        console.fail(&format!(
            "line {:?} got no status line, only {text:?}",
            String::from_utf8_lossy(line)
        ));
    }
    status
}

fn expect_error(console: &mut Console, line: &[u8], needle: &str) {
    let status = status_of(console, line);
    if !(status.starts_with("error: ") && status.contains(needle)) {
        console.fail(&format!(
            "line {:?}: expected an error with {needle:?}, got {status:?}",
            String::from_utf8_lossy(line)
        ));
    }
}

/// xorshift64*: deterministic bytes, so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[test]
fn garbage_gets_errors_and_the_kernel_keeps_answering() {
    let config = QemuConfig::default()
        .firmware(Firmware::Bios)
        .machine(Machine::Q35)
        .cpu("max")
        .smp("2");
    let mut console = Console::boot(&config);

    let mut rng = Rng(0x5eed_1234_abcd_0001);
    for _ in 0..60 {
        let len = 1 + (rng.next() % 120) as usize;
        // Any byte but the line ends, and Ctrl-C and Tab, which may print
        // a new prompt (abandoned line, list of completions) with no status
        // line; a leading `#` keeps random bytes from ever spelling a real
        // command.
        let mut line = vec![b'#'];
        line.extend(
            (0..len)
                .map(|_| rng.next() as u8)
                .filter(|b| !matches!(b, b'\r' | b'\n' | 0x03 | b'\t')),
        );
        status_of(&mut console, &line);
    }
    expect_error(&mut console, &[b'a'; 10_000], "too long");
    expect_error(&mut console, b"cpus\0", "non-printable");
    // Escape sequences the editor does not know vanish from the line.
    expect_error(
        &mut console,
        b"\x1b[15~fr\x1b[1;5Dob",
        "unknown command 'frob'",
    );
    expect_error(&mut console, b"on\x7fline 1", "unknown command");
    for line in [
        &b"online -1"[..],
        b"offline 99999999999999999999",
        b"spawn 4294967296",
        b"fail 1 65536",
        b"crash -0",
    ] {
        expect_error(&mut console, line, "not a valid");
    }
    // Every command refuses junk arguments with the parser's own text.
    for spec in &shell::COMMANDS {
        let line = format!("{} x x x", spec.name);
        let expected = match shell::parse(Ok(line.as_bytes())) {
            Err(e) => format!("error: {e}"),
            Ok(parsed) => panic!("{line:?} must not parse (it would run): {parsed:?}"),
        };
        let status = status_of(&mut console, line.as_bytes());
        if status != expected {
            console.fail(&format!("{line:?}: expected {expected:?}, got {status:?}"));
        }
    }
    // Not a number, so a (nonexistent) state name.
    expect_error(&mut console, b"target 1 -5", "unknown state");
    expect_error(&mut console, b"online 4294967295", "no such CPU");
    expect_error(&mut console, b"spawn 0", "1 to 100");
    // Still answering, and nothing changed.
    console.expect_ok("cpus", COMMAND_TIMEOUT);
    console.expect_ok("online 1", COMMAND_TIMEOUT);
    console.poweroff(COMMAND_TIMEOUT);
}

/// `bench` keeps every sample, so its memory grows with cycles x APs: a
/// count the heap cannot hold is refused up front (it used to exhaust the
/// heap and panic, e.g. `bench 1000` at `-smp 100`), and one that fits runs.
/// The heap grows to half of usable memory, so the machine is kept small:
/// at 64 MiB it can never hold the ~33 MiB that 1,000 cycles on 99 APs need
/// with half of it left free.
#[test]
fn bench_refuses_more_samples_than_the_heap_can_hold() {
    let config = QemuConfig::default()
        .firmware(Firmware::Bios)
        .machine(Machine::Q35)
        .cpu("max")
        .smp("100")
        .memory("64M");
    let mut console = Console::boot(&config);
    let max = shell::MAX_BENCH_CYCLES.to_string();
    expect_error(
        &mut console,
        format!("bench {max}").as_bytes(),
        "heap is free",
    );
    console.expect_ok("bench 1", COMMAND_TIMEOUT);
    console.poweroff(COMMAND_TIMEOUT);
}

/// `spawn N` starts N threads or none: on a machine too small for 100
/// stacks (44 MiB, 16 CPUs; it used to leave the 24 threads that fit
/// running) it says so and no demo thread is left.
#[test]
fn spawn_starts_all_threads_or_none() {
    let config = QemuConfig::default()
        .firmware(Firmware::Bios)
        .machine(Machine::Q35)
        .cpu("max")
        .smp("16")
        .memory("44M");
    let mut console = Console::boot(&config);
    let status = status_of(&mut console, b"spawn 100");
    let expected_demo = if status == "ok: 100 demo threads started" {
        100
    } else if status.starts_with("error: ") && status.contains("no thread started") {
        0
    } else {
        console.fail(&format!("spawn 100: {status:?}"));
    };
    let threads = console.expect_ok("threads", COMMAND_TIMEOUT);
    let demo = threads.lines.iter().filter(|l| l.contains("demo/")).count();
    if demo != expected_demo {
        console.fail(&format!("after {status:?}: {demo} demo threads"));
    }
    console.poweroff(COMMAND_TIMEOUT);
}
