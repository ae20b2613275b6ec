//! A small dump shaped like a real one (an online of cpu2 whose
//! `smp:online` step fails and rolls back), for the host tests.

/// Kernel log lines in between, as the console may print them.
pub const DUMP: &str = "\
trace: 1000 1500 cpu0 step cpu2 threads:prepare up ok
trace: 1600 9000 cpu0 step cpu2 cpu:kick up ok
trace: 1700 1700 cpu0 init cpu2
trace: 1710 1710 cpu0 sipi cpu2
trace: 8000 8000 cpu2 alive cpu2
trace: 9100 9100 cpu0 request cpu2 1
trace: 9300 9800 cpu2 step cpu2 apic:starting up ok
trace: 9800 10200 cpu2 step cpu2 timers:starting up ok
trace: 10300 10300 cpu2 answer cpu2 1
cpu2: smp:online bring-up failed: injected
trace: 10500 10500 cpu0 step cpu2 smp:online up injected
trace: 10600 10600 cpu0 request cpu2 2
trace: 10800 11000 cpu2 step cpu2 timers:starting down ok
trace: 11050 11050 cpu2 parked cpu2
trace: 11100 11100 cpu2 answer cpu2 2
trace: 11200 11900 cpu0 step cpu2 threads:prepare down failed
";
