//! Failure causes keep the callback's own text, formatted where it failed,
//! all the way to the error the console prints.

use std::fmt;

use hotplug::{
    ApRequest, Backend, Cause, Config, CpuId, Engine, HotplugError, StateId, Step, StepError, Table,
};

#[test]
fn errors_stay_small_enough_to_return_by_value() {
    // clippy's result_large_err limit (clippy.toml); a StepError is in
    // every callback's Result.
    assert!(std::mem::size_of::<HotplugError>() < 256);
    assert!(std::mem::size_of::<StepError>() <= 128);
}

#[test]
fn a_cause_keeps_formatted_text_and_cuts_long_text_at_a_character() {
    let cause = Cause::format(format_args!("answered with APIC id {}, expected {}", 7, 3));
    assert_eq!(cause.as_str(), "answered with APIC id 7, expected 3");
    assert!(!cause.is_truncated());
    assert_eq!(Cause::from(String::from("owned")), Cause::new("owned"));
    assert_eq!(Cause::from("borrowed").to_string(), "borrowed");

    // 'é' is two bytes: a cut through it backs up to the character before.
    let long = "é".repeat(Cause::CAPACITY);
    let cut = Cause::new(&long);
    assert!(cut.is_truncated());
    assert_eq!(cut.as_str(), "é".repeat(Cause::CAPACITY / 2));
    assert_eq!(cut.to_string(), format!("{}...", cut.as_str()));
    let formatted = Cause::format(format_args!("x{long}"));
    assert!(formatted.is_truncated());
    assert_eq!(formatted.as_str().len(), Cause::CAPACITY - 1);
    assert!(formatted.as_str().starts_with('x'));
}

/// An arch error as a kernel would get it from `kick`.
struct WrongApicId {
    expected: u32,
    found: u32,
}

impl fmt::Display for WrongApicId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "answered with APIC id {}, expected {}",
            self.found, self.expected
        )
    }
}

fn kick(cpu: CpuId, _: StateId) -> Result<(), StepError> {
    Err(StepError::because(&WrongApicId {
        expected: cpu.0,
        found: 7,
    }))
}

fn ok(_: CpuId, _: StateId) -> Result<(), StepError> {
    Ok(())
}

/// The kick fails before any AP step, so no request reaches an AP.
struct NoAp;

impl Backend for NoAp {
    fn run_on_ap(&self, _: CpuId, _: ApRequest, _: std::time::Duration) -> Result<(), StepError> {
        panic!("the kick failed: no AP step may run")
    }

    fn force_down(&self, _: CpuId) -> Result<(), StepError> {
        panic!("no AP ran, so none can be lost")
    }
}

#[test]
fn an_arch_error_reaches_the_console_with_its_detail() {
    static STEPS: &[Step] = &[
        Step::OFFLINE,
        Step::prepare("cpu:kick", Some(kick), Some(ok))
            .starts_ap()
            .why("starts the AP"),
        Step::ONLINE,
    ];
    let engine = Engine::new(Table::fixed(STEPS).unwrap(), 4, Config::new());
    engine.mark_present(CpuId(3)).unwrap();
    let error = engine.cpu_up(&NoAp, CpuId(3)).unwrap_err();
    assert_eq!(
        error.to_string(),
        "cpu3: cpu:kick bring-up failed: answered with APIC id 7, expected 3; \
         rolled back to offline"
    );
    let HotplugError::StepFailed(failure) = error else {
        panic!("{error:?}");
    };
    assert_eq!(
        failure.error,
        StepError::failed("answered with APIC id 7, expected 3")
    );
    assert_eq!(engine.last_error(CpuId(3)), Ok(Some(failure)));
}
