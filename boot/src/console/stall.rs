//! Playing a host that stops reading the serial console, to show that a
//! guest whose UART backs up keeps its CPUs (`tests/console_stall.rs`).
//!
//! QEMU writes the console into a pipe; once nobody reads it and it is
//! full, the guest's UART stops taking bytes. A small pipe makes that
//! happen after a known amount of output. Never used by the other tests.

use super::Console;

impl Console {
    /// Resizes the pipe QEMU writes the serial console into; returns the
    /// size Linux set (at least a page). Fails the test if it cannot, e.g.
    /// when the pipe holds more than `bytes`: call it while reading.
    pub fn set_serial_pipe_size(&mut self, bytes: usize) -> usize {
        let resized = match &self.serial_fd {
            Some(fd) => rustix::pipe::fcntl_setpipe_size(fd, bytes).map_err(|e| e.to_string()),
            None => Err("no descriptor for the serial pipe".to_owned()),
        };
        resized.unwrap_or_else(|e| self.fail(&format!("cannot resize the serial pipe: {e}")))
    }

    /// Stops reading the guest's serial output: what it prints from now on
    /// stays in the pipe. Pause while the guest is quiet (at a prompt), or
    /// a burst already on its way may still be read.
    pub fn stop_reading(&self) {
        self.serial.pause(true);
    }

    /// Reads the guest's serial output again, from where it stopped.
    pub fn resume_reading(&self) {
        self.serial.pause(false);
    }

    /// Serial bytes read so far, `\r` included (what the guest wrote into
    /// the pipe, unlike [`Console::log`]).
    pub fn serial_bytes_read(&self) -> usize {
        self.serial.lock().raw_len
    }
}
