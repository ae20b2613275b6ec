//! LAPIC timer rate arithmetic: the core crystal clock CPUID leaf 0x15
//! gives (derived as Linux's `native_calibrate_tsc` does where the leaf
//! leaves it out), the timer rate that clock makes, and whether a quick
//! measurement agrees with a rate already in hand.
//!
//! Only numbers: the kernel reads CPUID and the LAPIC and decides what to
//! do with the answers.

/// CPUID leaf 0x15, "Time Stamp Counter and Nominal Core Crystal Clock
/// Information" (SDM Vol. 2A, CPUID), as the CPU reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CrystalLeaf {
    /// EAX: the denominator of the TSC / core crystal clock ratio.
    pub ratio_denominator: u32,
    /// EBX: the numerator of that ratio; 0 means the ratio is not given.
    pub ratio_numerator: u32,
    /// ECX: the core crystal clock in Hz; 0 means not enumerated.
    pub crystal_hz: u32,
}

/// Intel family 6, model 0x5f: Atom Goldmont-D (Denverton). It leaves the
/// crystal out of leaf 0x15 and has no leaf 0x16; its crystal is 25 MHz
/// (Linux `native_calibrate_tsc`, `INTEL_ATOM_GOLDMONT_D`).
const GOLDMONT_D: (u32, u32) = (6, 0x5f);
const GOLDMONT_D_CRYSTAL_HZ: u64 = 25_000_000;

/// The core crystal clock in Hz, or `None` where CPUID does not give it.
///
/// `family_model` is the display family and model (see
/// [`display_family_model`]); `base_mhz` is CPUID leaf 0x16 EAX (the
/// processor base frequency) where the CPU has that leaf. Linux's order:
/// ECX as given; else 25 MHz on Denverton; else the base frequency times
/// the ratio's inverse (the TSC runs at the base frequency on the parts
/// that leave ECX out, Skylake and Kaby Lake clients).
pub fn core_crystal_hz(
    leaf: CrystalLeaf,
    family_model: (u32, u32),
    base_mhz: Option<u32>,
) -> Option<u64> {
    if leaf.ratio_numerator == 0 || leaf.ratio_denominator == 0 {
        return None;
    }
    if leaf.crystal_hz != 0 {
        return Some(u64::from(leaf.crystal_hz));
    }
    if family_model == GOLDMONT_D {
        return Some(GOLDMONT_D_CRYSTAL_HZ);
    }
    let base_hz = u64::from(base_mhz.filter(|&mhz| mhz != 0)?) * 1_000_000;
    let hz = base_hz * u64::from(leaf.ratio_denominator) / u64::from(leaf.ratio_numerator);
    (hz != 0).then_some(hz)
}

/// The display family and model from CPUID leaf 1 EAX (SDM Vol. 2A,
/// CPUID, "Version Information"): the extended model counts for families
/// 6 and 15, the extended family for family 15 only.
pub fn display_family_model(leaf1_eax: u32) -> (u32, u32) {
    let family = (leaf1_eax >> 8) & 0xf;
    let model = (leaf1_eax >> 4) & 0xf;
    let ext_model = (leaf1_eax >> 16) & 0xf;
    let ext_family = (leaf1_eax >> 20) & 0xff;
    let display_family = if family == 0xf {
        family + ext_family
    } else {
        family
    };
    let display_model = if family == 0x6 || family == 0xf {
        (ext_model << 4) | model
    } else {
        model
    };
    (display_family, display_model)
}

/// LAPIC timer ticks per millisecond for a timer clock of `clock_hz`
/// counted through a divide-by-`divide` (SDM Vol. 3A 11.5.4: with leaf
/// 0x15 enumerated the timer runs at the core crystal clock, divided by
/// the divide configuration register's value). 0 for a divide of 0.
pub fn ticks_per_ms(clock_hz: u64, divide: u64) -> u64 {
    clock_hz.checked_div(divide).unwrap_or(0) / 1000
}

/// Whether `measured` is within `tolerance_percent` of `reference`. A
/// reference of 0 (nothing known) agrees with nothing.
pub fn rate_agrees(measured: u64, reference: u64, tolerance_percent: u64) -> bool {
    if reference == 0 {
        return false;
    }
    let off = u128::from(measured.abs_diff(reference)) * 100;
    off <= u128::from(reference) * u128::from(tolerance_percent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn leaf(den: u32, num: u32, hz: u32) -> CrystalLeaf {
        CrystalLeaf {
            ratio_denominator: den,
            ratio_numerator: num,
            crystal_hz: hz,
        }
    }

    #[test]
    fn the_crystal_comes_from_ecx_when_given() {
        // An Ice Lake-style leaf: 38.4 MHz crystal, TSC ratio 78/2.
        let crystal = core_crystal_hz(leaf(2, 78, 38_400_000), (6, 0x7e), Some(1500));
        assert_eq!(crystal, Some(38_400_000));
    }

    #[test]
    fn no_ratio_means_no_crystal_even_with_ecx() {
        assert_eq!(core_crystal_hz(leaf(0, 0, 0), (6, 0x55), Some(2000)), None);
        assert_eq!(
            core_crystal_hz(leaf(2, 0, 24_000_000), (6, 0x55), None),
            None
        );
        assert_eq!(
            core_crystal_hz(leaf(0, 200, 24_000_000), (6, 0x55), None),
            None
        );
    }

    #[test]
    fn skylake_clients_derive_the_crystal_from_the_base_frequency() {
        // Skylake client: ECX 0, ratio 216/2, base 2592 MHz: 24 MHz.
        let crystal = core_crystal_hz(leaf(2, 216, 0), (6, 0x5e), Some(2592));
        assert_eq!(crystal, Some(24_000_000));
    }

    #[test]
    fn denverton_has_a_25_mhz_crystal() {
        assert_eq!(
            core_crystal_hz(leaf(1, 88, 0), (6, 0x5f), None),
            Some(25_000_000)
        );
    }

    #[test]
    fn without_ecx_or_leaf_16_there_is_no_crystal() {
        assert_eq!(core_crystal_hz(leaf(2, 216, 0), (6, 0x5e), None), None);
        assert_eq!(core_crystal_hz(leaf(2, 216, 0), (6, 0x5e), Some(0)), None);
    }

    #[test]
    fn display_family_and_model_follow_the_sdm() {
        // Skylake client (06_5EH), Goldmont-D (06_5FH), QEMU's `max` and
        // `qemu64` under TCG (what they report), and a Zen part (family
        // 0x17 through the extended family).
        assert_eq!(display_family_model(0x000506e3), (6, 0x5e));
        assert_eq!(display_family_model(0x000506f1), (6, 0x5f));
        assert_eq!(display_family_model(0x00000663), (6, 0x06));
        assert_eq!(display_family_model(0x00060fb1), (0xf, 0x6b));
        assert_eq!(display_family_model(0x00800f12), (0x17, 0x01));
        // Family 5: the extended model does not count.
        assert_eq!(display_family_model(0x00010543), (5, 0x4));
    }

    #[test]
    fn ticks_per_ms_divides_the_clock() {
        // QEMU's LAPIC timer: a 1 GHz clock through divide-by-16.
        assert_eq!(ticks_per_ms(1_000_000_000, 16), 62_500);
        // A 24 MHz crystal through divide-by-16: 1,500 ticks per ms.
        assert_eq!(ticks_per_ms(24_000_000, 16), 1_500);
        assert_eq!(ticks_per_ms(24_000_000, 0), 0);
    }

    #[test]
    fn rates_agree_within_the_tolerance_only() {
        assert!(rate_agrees(62_500, 62_500, 10));
        assert!(rate_agrees(68_750, 62_500, 10));
        assert!(rate_agrees(56_250, 62_500, 10));
        assert!(!rate_agrees(68_751, 62_500, 10));
        assert!(!rate_agrees(56_249, 62_500, 10));
        // Twice or half the rate (another divide, another bus) never passes.
        assert!(!rate_agrees(125_000, 62_500, 10));
        assert!(!rate_agrees(31_250, 62_500, 10));
        assert!(!rate_agrees(0, 62_500, 10));
        assert!(!rate_agrees(62_500, 0, 10));
        assert!(!rate_agrees(0, 0, 10));
    }

    proptest! {
        #[test]
        fn agreement_is_exactly_the_percent_bound(
            reference in 1u64..u64::MAX / 2,
            measured in 0u64..u64::MAX,
            tolerance in 0u64..100,
        ) {
            let off = measured.abs_diff(reference) as f64 / reference as f64 * 100.0;
            let agrees = rate_agrees(measured, reference, tolerance);
            // Away from the boundary the float check and the integer one agree.
            if (off - tolerance as f64).abs() > 1e-6 {
                prop_assert_eq!(agrees, off <= tolerance as f64);
            }
        }

        #[test]
        fn a_derived_crystal_times_the_ratio_is_the_base_frequency(
            den in 1u32..10,
            num in 1u32..500,
            base_mhz in 100u32..10_000,
        ) {
            let crystal = core_crystal_hz(leaf(den, num, 0), (6, 0x5e), Some(base_mhz));
            let base_hz = u64::from(base_mhz) * 1_000_000;
            match crystal {
                Some(hz) => {
                    let tsc = hz * u64::from(num) / u64::from(den);
                    // Truncation costs at most one crystal tick per ratio step.
                    prop_assert!(tsc <= base_hz);
                    prop_assert!(base_hz - tsc <= u64::from(num).div_ceil(u64::from(den)) + 1);
                }
                None => prop_assert!(base_hz * u64::from(den) < u64::from(num)),
            }
        }
    }
}
