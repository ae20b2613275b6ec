//! The legacy 8259 PIC pair, which we never use.
//!
//! Firmware may leave it programmed onto vectors 0x08-0x0F, which collide
//! with CPU exceptions. Masking every line before any CPU sets IF keeps a
//! stray timer tick from masquerading as a double fault.

use x86_64::instructions::port::Port;

const PIC1_DATA: u16 = 0x21;
const PIC2_DATA: u16 = 0xa1;

/// Masks all 16 legacy IRQ lines.
pub fn mask_all() {
    // SAFETY: 0x21/0xa1 are the 8259 interrupt mask registers; writing 0xff
    // only masks lines and cannot affect memory safety.
    unsafe {
        Port::<u8>::new(PIC1_DATA).write(0xff);
        Port::<u8>::new(PIC2_DATA).write(0xff);
    }
}
