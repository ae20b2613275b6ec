//! A simulated machine for host tests: std threads stand in for CPUs.
//!
//! The test thread is the boot CPU (cpu0) and the control CPU. Each AP is a
//! thread that receives requests over a channel, calls `Engine::ap_run` and
//! answers over another channel; the BP waits with `recv_timeout`. Every
//! callback appends to one global trace, so tests that use a `Sim` hold a
//! global lock for their whole run (`Sim::new` takes it).
#![allow(dead_code)]

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hotplug::{
    ApEnv, ApOutcome, ApRequest, Backend, Config, CpuId, Direction, Engine, HotplugError, LogEvent,
    SetOutcome, StateId, Step, StepError, Table,
};

pub use Direction::{Down, Up};

/// The test table: every shape the engine must handle (BP prepare steps, the
/// kick, AP starting steps, a no-fail step, a BP step between two AP runs, a
/// step without teardown, the dynamic range before `online`).
pub static STEPS: &[Step] = &[
    Step::OFFLINE,
    Step::prepare("mm:prepare", Some(up), Some(down)).why("first: memory for the rest"),
    Step::prepare("timers:prepare", Some(up), Some(down)).why("before the kick"),
    Step::prepare("cpu:kick", Some(kick_up), Some(kick_down))
        .starts_ap()
        .tear_down_no_fail()
        .why("last BP step: starts the AP"),
    Step::starting("sched:starting", Some(up), Some(down)).why("first on the AP"),
    Step::starting("timers:starting", Some(up), Some(down)).why("after sched:starting"),
    Step::online("sched:online", Some(up), Some(down)).why("interrupts on"),
    Step::online("rcu:online", Some(up), Some(down))
        .no_fail()
        .why("a no-fail online step"),
    Step::bp_online("bp:sync", Some(up), Some(down)).why("a BP step between AP runs"),
    Step::online("workqueue:online", Some(up), Some(down)).why("after bp:sync"),
    Step::online("notify:online", Some(up), None).why("a step without teardown"),
    Step::ONLINE,
];
pub const DYN_SLOTS: usize = 3;
pub const MAX_CPUS: usize = 8;

pub fn table() -> Table {
    Table::new(STEPS, "online", DYN_SLOTS).expect("the test table is valid")
}

/// One callback invocation, as the trace records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Call {
    pub cpu: u32,
    pub state: u16,
    pub dir: Direction,
    /// The simulated CPU whose thread ran the callback.
    pub ran_on: u32,
    pub irqs_off: bool,
    pub ok: bool,
}

static TEST_LOCK: Mutex<()> = Mutex::new(());
static TRACE: Mutex<Vec<Call>> = Mutex::new(Vec::new());

fn sim_now() -> Option<u64> {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    Some(START.get_or_init(Instant::now).elapsed().as_nanos() as u64)
}

/// Callbacks that fail every time: (cpu, state, direction).
static FAILS: Mutex<Vec<(u32, u16, Direction)>> = Mutex::new(Vec::new());
/// APs that ignore their next request and die (park).
static HANGS: Mutex<Vec<u32>> = Mutex::new(Vec::new());
/// Callbacks that stop answering (until INIT) the next time they run:
/// (cpu, state, direction). Unlike an armed hang, this one may wait for a
/// given direction, e.g. the teardown in a rollback.
static HANG_IN: Mutex<Vec<(u32, u16, Direction)>> = Mutex::new(Vec::new());
/// One callback that sleeps once before returning: (cpu, state, how long).
static SLOW: Mutex<Option<(u32, u16, Duration)>> = Mutex::new(None);
/// How many interrupts-off windows the APs opened.
static IRQ_WINDOWS: AtomicUsize = AtomicUsize::new(0);
static PARKED: [AtomicBool; MAX_CPUS] = [const { AtomicBool::new(true) }; MAX_CPUS];
/// Bumped by `force_down` (the simulated INIT): an AP thread whose
/// request began in an older generation is dead and must not act.
static GENERATION: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];
/// How many times each CPU was forced down.
static FORCED: [AtomicUsize; MAX_CPUS] = [const { AtomicUsize::new(0) }; MAX_CPUS];

/// Set while a `Sim` shuts down, so that a hung AP thread ends too.
static SHUTDOWN: AtomicBool = AtomicBool::new(false);

/// What unwinds an AP thread that INIT stopped mid-request.
struct Killed;

thread_local! {
    static ON_CPU: Cell<u32> = const { Cell::new(0) };
    static IRQS_OFF: Cell<bool> = const { Cell::new(false) };
    /// The generation the running request began in.
    static ALIVE_IN: Cell<u64> = const { Cell::new(0) };
}

/// Unwinds the calling AP thread if it was forced down since its request
/// began: nothing it does after INIT may happen.
fn die_if_forced_down() {
    let cpu = ON_CPU.get() as usize;
    let forced = GENERATION[cpu].load(Ordering::SeqCst) != ALIVE_IN.get();
    if cpu != 0 && (forced || SHUTDOWN.load(Ordering::SeqCst)) {
        std::panic::resume_unwind(Box::new(Killed));
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn record(cpu: CpuId, state: StateId, dir: Direction) -> Result<(), StepError> {
    let hang = {
        let mut hangs = lock(&HANG_IN);
        let at = hangs.iter().position(|&h| h == (cpu.0, state.0, dir));
        at.map(|at| hangs.remove(at)).is_some()
    };
    if hang {
        hang_until_forced_down();
    }
    let slow = lock(&SLOW).take_if(|(c, s, _)| *c == cpu.0 && *s == state.0);
    if let Some((_, _, how_long)) = slow {
        std::thread::sleep(how_long);
        die_if_forced_down();
    }
    let ok = !lock(&FAILS).contains(&(cpu.0, state.0, dir));
    lock(&TRACE).push(Call {
        cpu: cpu.0,
        state: state.0,
        dir,
        ran_on: ON_CPU.get(),
        irqs_off: IRQS_OFF.get(),
        ok,
    });
    ok.then_some(())
        .ok_or(StepError::failed("simulated failure"))
}

pub fn up(cpu: CpuId, state: StateId) -> Result<(), StepError> {
    record(cpu, state, Up)
}

pub fn down(cpu: CpuId, state: StateId) -> Result<(), StepError> {
    record(cpu, state, Down)
}

/// INIT-SIPI: the AP is alive (not parked) from here on.
fn kick_up(cpu: CpuId, state: StateId) -> Result<(), StepError> {
    PARKED[cpu.index()].store(false, Ordering::SeqCst);
    record(cpu, state, Up)
}

/// Waits, with a deadline, until the AP has parked.
fn kick_down(cpu: CpuId, state: StateId) -> Result<(), StepError> {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !PARKED[cpu.index()].load(Ordering::SeqCst) {
        if Instant::now() > deadline {
            return Err(StepError::Timeout);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    record(cpu, state, Down)
}

/// How many times `cpu` was forced down since the `Sim` was built.
pub fn forced(cpu: u32) -> usize {
    FORCED[cpu as usize].load(Ordering::SeqCst)
}

pub fn irq_windows() -> usize {
    IRQ_WINDOWS.load(Ordering::SeqCst)
}

pub fn take_trace() -> Vec<Call> {
    std::mem::take(&mut *lock(&TRACE))
}

/// Makes a callback fail every time from now on.
pub fn fail_always(cpu: u32, state: StateId, dir: Direction) {
    lock(&FAILS).push((cpu, state.0, dir));
}

pub fn clear_failures() {
    lock(&FAILS).clear();
}

/// Spins (sleeping) until INIT, then unwinds out of the request.
fn hang_until_forced_down() -> ! {
    loop {
        die_if_forced_down();
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The callback of `state` in `dir` on `cpu` stops answering the next
/// time it runs.
pub fn hang_in(cpu: u32, state: StateId, dir: Direction) {
    lock(&HANG_IN).push((cpu, state.0, dir));
}

/// The AP ignores its next request and dies.
pub fn hang_next(cpu: u32) {
    lock(&HANGS).push(cpu);
}

/// The callback of `state` on `cpu` sleeps once for `how_long`.
pub fn slow_once(cpu: u32, state: StateId, how_long: Duration) {
    *lock(&SLOW) = Some((cpu, state.0, how_long));
}

enum Msg {
    Run,
    Quit,
}

struct SimEnv {
    log: Arc<Mutex<Vec<LogEvent>>>,
}

impl ApEnv for SimEnv {
    fn with_irqs_off(&self, f: &mut dyn FnMut()) {
        IRQ_WINDOWS.fetch_add(1, Ordering::SeqCst);
        IRQS_OFF.set(true);
        f();
        IRQS_OFF.set(false);
    }

    fn hang(&self) -> ! {
        hang_until_forced_down()
    }

    fn log(&self, event: &LogEvent) {
        lock(&self.log).push(*event);
    }

    fn now_ns(&self) -> Option<u64> {
        sim_now()
    }
}

/// The control CPU's side of the simulated machine.
pub struct SimBackend {
    engine: Arc<Engine>,
    to_ap: Vec<Option<Sender<Msg>>>,
    from_ap: Vec<Option<Mutex<Receiver<u64>>>>,
    log: Arc<Mutex<Vec<LogEvent>>>,
    /// How many requests went to an AP (cpu0's inline ones included).
    pub requests: AtomicUsize,
}

impl Backend for SimBackend {
    fn run_on_ap(
        &self,
        cpu: CpuId,
        request: ApRequest,
        timeout: Duration,
    ) -> Result<(), StepError> {
        self.requests.fetch_add(1, Ordering::SeqCst);
        if cpu == CpuId::BOOT {
            let env = SimEnv {
                log: self.log.clone(),
            };
            self.engine.ap_run(cpu, &env);
            return Ok(());
        }
        let gone = StepError::Protocol("no such AP thread");
        let to_ap = self.to_ap[cpu.index()].as_ref().ok_or(gone)?;
        to_ap.send(Msg::Run).map_err(|_| gone)?;
        let from_ap = lock(self.from_ap[cpu.index()].as_ref().ok_or(gone)?);
        let deadline = Instant::now() + timeout;
        loop {
            match from_ap.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(id) if id == request.id => return Ok(()),
                Ok(_late) => continue,
                Err(RecvTimeoutError::Timeout) => return Err(StepError::Timeout),
                Err(RecvTimeoutError::Disconnected) => return Err(gone),
            }
        }
    }

    fn force_down(&self, cpu: CpuId) -> Result<(), StepError> {
        if cpu == CpuId::BOOT {
            return Err(StepError::failed(
                "the control CPU cannot force itself down",
            ));
        }
        GENERATION[cpu.index()].fetch_add(1, Ordering::SeqCst);
        FORCED[cpu.index()].fetch_add(1, Ordering::SeqCst);
        PARKED[cpu.index()].store(true, Ordering::SeqCst);
        Ok(())
    }

    fn log(&self, event: &LogEvent) {
        lock(&self.log).push(*event);
    }

    fn now_ns(&self) -> Option<u64> {
        sim_now()
    }
}

fn ap_main(cpu: u32, engine: Arc<Engine>, rx: Receiver<Msg>, tx: Sender<u64>, env: SimEnv) {
    ON_CPU.set(cpu);
    while let Ok(Msg::Run) = rx.recv() {
        let hang = {
            let mut hangs = lock(&HANGS);
            let i = hangs.iter().position(|&c| c == cpu);
            i.map(|i| hangs.remove(i)).is_some()
        };
        if hang {
            PARKED[cpu as usize].store(true, Ordering::SeqCst);
            continue;
        }
        ALIVE_IN.set(GENERATION[cpu as usize].load(Ordering::SeqCst));
        IRQS_OFF.set(false);
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            engine.ap_run(CpuId(cpu), &env)
        }));
        let outcome = match run {
            Ok(outcome) => outcome,
            // Forced down mid-request: this incarnation is over.
            Err(payload) if payload.is::<Killed>() => continue,
            Err(payload) => std::panic::resume_unwind(payload),
        };
        match outcome {
            ApOutcome::Answered { request, park } => {
                let _ = tx.send(request);
                if park {
                    PARKED[cpu as usize].store(true, Ordering::SeqCst);
                }
            }
            ApOutcome::NoRequest | ApOutcome::Abandoned { .. } => {
                PARKED[cpu as usize].store(true, Ordering::SeqCst);
            }
        }
    }
}

/// A machine of `cpus` CPUs, all present, cpu0 online, the rest offline.
pub struct Sim {
    pub engine: Arc<Engine>,
    pub backend: SimBackend,
    threads: Vec<JoinHandle<()>>,
    _exclusive: MutexGuard<'static, ()>,
}

impl Sim {
    pub fn new(cpus: usize) -> Sim {
        Sim::build(cpus, cpus, Duration::from_secs(5))
    }

    /// `possible` CPUs of which the first `present` are present; APs must
    /// answer within `timeout`.
    pub fn build(possible: usize, present: usize, timeout: Duration) -> Sim {
        assert!(possible <= MAX_CPUS);
        let exclusive = lock(&TEST_LOCK);
        take_trace();
        clear_failures();
        lock(&HANGS).clear();
        lock(&HANG_IN).clear();
        *lock(&SLOW) = None;
        PARKED.iter().for_each(|p| p.store(true, Ordering::SeqCst));
        FORCED.iter().for_each(|f| f.store(0, Ordering::SeqCst));
        SHUTDOWN.store(false, Ordering::SeqCst);
        IRQ_WINDOWS.store(0, Ordering::SeqCst);
        let config = Config {
            ap_timeout: timeout,
        };
        let engine = Arc::new(Engine::new(table(), possible, config));
        let log = Arc::new(Mutex::new(Vec::new()));
        let (mut to_ap, mut from_ap, mut threads) = (vec![None], vec![None], vec![]);
        for cpu in 1..possible as u32 {
            if (cpu as usize) < present {
                engine.mark_present(CpuId(cpu)).expect("cpu in range");
            }
            let (req_tx, req_rx) = channel();
            let (ans_tx, ans_rx) = channel();
            let (engine, env) = (engine.clone(), SimEnv { log: log.clone() });
            let thread = std::thread::spawn(move || ap_main(cpu, engine, req_rx, ans_tx, env));
            to_ap.push(Some(req_tx));
            from_ap.push(Some(Mutex::new(ans_rx)));
            threads.push(thread);
        }
        let backend = SimBackend {
            engine: engine.clone(),
            to_ap,
            from_ap,
            log,
            requests: AtomicUsize::new(0),
        };
        Sim {
            engine,
            backend,
            threads,
            _exclusive: exclusive,
        }
    }

    pub fn id(&self, name: &str) -> StateId {
        self.engine
            .lookup(name)
            .unwrap_or_else(|| panic!("{name}: no such state"))
    }

    pub fn go(&self, cpu: u32, name: &str) -> Result<(), HotplugError> {
        self.engine
            .set_target(&self.backend, CpuId(cpu), self.id(name))
    }

    /// Moves the set `cpus` to `name` in one operation
    /// (`Engine::set_target_many`).
    pub fn many(&self, cpus: &[u32], name: &str) -> Result<SetOutcome, HotplugError> {
        let cpus: Vec<CpuId> = cpus.iter().map(|&c| CpuId(c)).collect();
        self.engine
            .set_target_many(&self.backend, &cpus, self.id(name))
    }

    /// The kick point of the test table: the state just below `cpu:kick`,
    /// where a set's members going up wait for each other.
    pub fn kick_point(&self) -> StateId {
        StateId(self.id("cpu:kick").0 - 1)
    }

    pub fn up(&self, cpu: u32) -> Result<(), HotplugError> {
        self.engine.cpu_up(&self.backend, CpuId(cpu))
    }

    pub fn down(&self, cpu: u32) -> Result<(), HotplugError> {
        self.engine.cpu_down(&self.backend, CpuId(cpu))
    }

    pub fn arm(&self, cpu: u32, name: &str) -> Result<(), HotplugError> {
        self.engine.arm_fault(CpuId(cpu), Some(self.id(name)))
    }

    /// Arms a hang of `name`'s callback on `cpu` (`Engine::arm_hang`).
    pub fn hang(&self, cpu: u32, name: &str) -> Result<(), HotplugError> {
        self.engine.arm_hang(CpuId(cpu), Some(self.id(name)))
    }

    pub fn state(&self, cpu: u32) -> &'static str {
        let state = self.engine.state_of(CpuId(cpu)).expect("cpu in range");
        self.engine
            .state_name(state)
            .expect("a CPU rests at a defined state")
    }

    pub fn logs(&self) -> Vec<LogEvent> {
        lock(&self.backend.log).clone()
    }

    pub fn requests(&self) -> usize {
        self.backend.requests.load(Ordering::SeqCst)
    }

    /// The calls a walk of `cpu` from `from` to `to` makes when nothing
    /// fails: (cpu, state, direction, ran_on, irqs_off).
    pub fn expected(&self, cpu: u32, from: StateId, to: StateId) -> Vec<Call> {
        let dir = if to >= from { Up } else { Down };
        let rows = self.engine.table_rows();
        let mut states: Vec<_> = match dir {
            Up => rows.iter().filter(|r| r.id > from && r.id <= to).collect(),
            Down => rows
                .iter()
                .rev()
                .filter(|r| r.id <= from && r.id > to)
                .collect(),
        };
        states.retain(|r| has_callback(r.name, dir));
        states
            .into_iter()
            .map(|r| Call {
                cpu,
                state: r.id.0,
                dir,
                ran_on: if r.side == hotplug::Side::Ap { cpu } else { 0 },
                irqs_off: r.section == hotplug::Section::Starting,
                ok: true,
            })
            .collect()
    }
}

/// Whether a state of the test table (or a test's dynamic state) has a
/// callback for `dir`.
pub fn has_callback(name: &str, dir: Direction) -> bool {
    !matches!(
        (name, dir),
        ("offline" | "online", _) | ("notify:online", Down)
    )
}

impl Drop for Sim {
    fn drop(&mut self) {
        SHUTDOWN.store(true, Ordering::SeqCst);
        for to_ap in self.backend.to_ap.iter().flatten() {
            let _ = to_ap.send(Msg::Quit);
        }
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}
