//! `print!`/`println!` to the serial console.

macro_rules! print {
    ($($arg:tt)*) => { arch::serial::write_fmt(format_args!($($arg)*)) };
}

macro_rules! println {
    () => { print!("\n") };
    ($($arg:tt)*) => { print!("{}\n", format_args!($($arg)*)) };
}
