//! `make debug`: QEMU stopped at the first instruction with its gdb stub
//! open, and gdb connected with the kernel's symbols and one named thread
//! per vCPU.
//!
//! Owns the gdb side of that: where the kernel's symbols are (the kernel
//! asks the bootloader to load it at [`KERNEL_BASE`]) and the script gdb
//! starts with. QEMU itself is started through [`crate::qemu::QemuConfig`].

use std::path::Path;

/// Where the bootloader loads the position-independent kernel; the same
/// number as `KERNEL_BASE` in `kernel/src/main.rs`. A breakpoint set from
/// the ELF's symbols lands only if the two agree (`boot/tests/gdb.rs`
/// checks that one does).
pub const KERNEL_BASE: u64 = 0xffff_ffff_8000_0000;

/// QEMU arguments for a guest that waits for gdb on `port` before its
/// first instruction.
pub fn qemu_args(port: u16) -> Vec<String> {
    vec!["-gdb".into(), format!("tcp:127.0.0.1:{port}"), "-S".into()]
}

/// The script gdb runs first: the kernel's symbols at their load address,
/// the connection, and each vCPU's thread named `cpuN` (QEMU numbers its
/// vCPU threads from 1 in MADT order, which is also the kernel's CPU
/// order).
pub fn gdb_script(kernel_elf: &Path, port: u16) -> String {
    format!(
        "set pagination off\n\
         set confirm off\n\
         symbol-file -o {KERNEL_BASE:#x} {elf}\n\
         target remote 127.0.0.1:{port}\n\
         python\n\
         for t in gdb.selected_inferior().threads():\n    t.name = \"cpu%d\" % (t.num - 1)\n\
         end\n",
        elf = kernel_elf.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_loads_symbols_at_the_kernel_base_and_names_threads() {
        let script = gdb_script(Path::new("/k/kernel"), 4321);
        assert!(script.contains("symbol-file -o 0xffffffff80000000 /k/kernel\n"));
        assert!(script.contains("target remote 127.0.0.1:4321\n"));
        assert!(script.contains("t.name = \"cpu%d\" % (t.num - 1)"));
        assert_eq!(qemu_args(4321), ["-gdb", "tcp:127.0.0.1:4321", "-S"]);
    }
}
