//! The `sim` board back-end: embedded-hal 1.0 pins and SPI devices over the
//! virtual board, and the virtual watchdog. What the real drivers see here is
//! what they would see on the Pi's header: levels on lines and bytes on SPI.

use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use embedded_hal::digital::{ErrorType as PinErrorType, InputPin, OutputPin, StatefulOutputPin};
use embedded_hal::spi::{self, ErrorType as SpiErrorType, Operation, SpiDevice};

use perfuse_drivers::tone::{Tone, ToneOutput};

use super::chips;
use super::memory::{board_clock_ms, Board};

/// A GPIO line of the simulated board, usable as input and output.
#[derive(Clone)]
pub struct SimPin {
    board: Arc<Board>,
    line: u8,
}

impl SimPin {
    pub fn new(board: Arc<Board>, line: u8) -> Self {
        Self { board, line }
    }

    pub fn line(&self) -> u8 {
        self.line
    }

    fn set(&mut self, high: bool) {
        let memory = self.board.memory();
        let before = memory.set_level(self.line, high);
        if before != high && self.line == memory.wiring.step.load(Ordering::Acquire) {
            chips::stepper_step_edge(memory, high);
        }
    }
}

impl PinErrorType for SimPin {
    type Error = Infallible;
}

impl OutputPin for SimPin {
    fn set_low(&mut self) -> Result<(), Infallible> {
        self.set(false);
        Ok(())
    }

    fn set_high(&mut self) -> Result<(), Infallible> {
        self.set(true);
        Ok(())
    }
}

impl StatefulOutputPin for SimPin {
    fn is_set_high(&mut self) -> Result<bool, Infallible> {
        Ok(self.board.memory().level(self.line))
    }

    fn is_set_low(&mut self) -> Result<bool, Infallible> {
        Ok(!self.board.memory().level(self.line))
    }
}

impl InputPin for SimPin {
    fn is_high(&mut self) -> Result<bool, Infallible> {
        Ok(self.board.memory().level(self.line))
    }

    fn is_low(&mut self) -> Result<bool, Infallible> {
        Ok(!self.board.memory().level(self.line))
    }
}

/// The buzzer's PWM channel on the simulated board: the same two register
/// settings the Pi's PWM0 takes, kept in the board for the sound card,
/// the tests and `perfuse-sim ctl status` to read.
#[derive(Clone)]
pub struct SimTone {
    board: Arc<Board>,
}

impl SimTone {
    pub fn new(board: Arc<Board>) -> Self {
        Self { board }
    }
}

impl ToneOutput for SimTone {
    type Error = Infallible;

    fn set_tone(&mut self, tone: Option<Tone>) -> Result<(), Infallible> {
        let memory = self.board.memory();
        match tone {
            Some(tone) => {
                memory
                    .buzzer_pwm_period_ns
                    .store(tone.period_ns, Ordering::Release);
                memory
                    .buzzer_pwm_duty_ns
                    .store(tone.duty_ns, Ordering::Release);
                memory.buzzer_pwm_enabled.store(true, Ordering::Release);
            }
            None => memory.buzzer_pwm_enabled.store(false, Ordering::Release),
        }
        Ok(())
    }

    fn tone(&mut self) -> Result<Option<Tone>, Infallible> {
        Ok(self.board.memory().buzzer_pwm())
    }
}

/// Which chip sits at the other end of a simulated SPI device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimChip {
    Stepper,
    Adc,
    EncoderCounter,
}

/// The longest frame (bytes within one chip select) the simulated bus carries.
pub const MAX_FRAME: usize = 32;

/// Errors of the simulated SPI bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimBusError {
    /// A transaction longer than `MAX_FRAME` bytes: no chip on this board takes one.
    FrameTooLong,
}

impl spi::Error for SimBusError {
    fn kind(&self) -> spi::ErrorKind {
        spi::ErrorKind::Other
    }
}

/// An SPI device (one chip select) of the simulated board.
#[derive(Clone)]
pub struct SimSpi {
    board: Arc<Board>,
    chip: SimChip,
}

impl SimSpi {
    pub fn new(board: Arc<Board>, chip: SimChip) -> Self {
        Self { board, chip }
    }
}

impl SpiErrorType for SimSpi {
    type Error = SimBusError;
}

impl SpiDevice for SimSpi {
    /// The bytes of all operations form one frame under one chip select, as
    /// on a real bus: MOSI is gathered, the chip answers, MISO is handed back.
    fn transaction(&mut self, operations: &mut [Operation<'_, u8>]) -> Result<(), SimBusError> {
        let mut mosi = [0_u8; MAX_FRAME];
        let mut length = 0;
        for operation in operations.iter() {
            // (bytes clocked out on MOSI, length of the operation on the bus)
            let (bytes, total): (&[u8], usize) = match operation {
                Operation::Write(bytes) => (bytes, bytes.len()),
                Operation::Transfer(read, write) => (write, read.len().max(write.len())),
                Operation::TransferInPlace(bytes) => (bytes, bytes.len()),
                Operation::Read(read) => (&[], read.len()),
                Operation::DelayNs(_) => continue,
            };
            let end = length + total;
            let slot = mosi.get_mut(length..end).ok_or(SimBusError::FrameTooLong)?;
            for (target, byte) in slot.iter_mut().zip(bytes) {
                *target = *byte;
            }
            length = end;
        }
        let frame = mosi.get_mut(..length).ok_or(SimBusError::FrameTooLong)?;
        let memory = self.board.memory();
        // An injected hang: the transfer does not return while it lasts.
        while self.chip == SimChip::Stepper
            && memory.chip_faults.load(Ordering::Acquire)
                & super::memory::chip_fault::STEPPER_BUS_HANG
                != 0
        {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        match self.chip {
            SimChip::Stepper => match <&mut [u8; 5]>::try_from(&mut *frame) {
                Ok(datagram) => chips::stepper_datagram(memory, datagram),
                Err(_) => frame.fill(0xFF),
            },
            SimChip::Adc => chips::adc_frame(memory, frame),
            SimChip::EncoderCounter => chips::encoder_frame(memory, frame),
        }
        let mut offset = 0;
        for operation in operations.iter_mut() {
            let (target, consumed): (Option<&mut [u8]>, usize) = match operation {
                Operation::Write(bytes) => (None, bytes.len()),
                Operation::Transfer(read, write) => {
                    let consumed = write.len().max(read.len());
                    (Some(&mut **read), consumed)
                }
                Operation::TransferInPlace(bytes) => {
                    let consumed = bytes.len();
                    (Some(&mut **bytes), consumed)
                }
                Operation::Read(read) => {
                    let consumed = read.len();
                    (Some(&mut **read), consumed)
                }
                Operation::DelayNs(_) => (None, 0),
            };
            if let Some(target) = target {
                let answer = frame.get(offset..).unwrap_or_default();
                for (slot, byte) in target.iter_mut().zip(answer) {
                    *slot = *byte;
                }
            }
            offset += consumed;
        }
        Ok(())
    }
}

/// The simulated board's hardware watchdog, as the supervisor uses it: open
/// with a timeout, keep it fed; closing does not stop it (no magic close).
pub struct SimWatchdog {
    board: Arc<Board>,
}

impl SimWatchdog {
    /// Opens and starts the watchdog with `timeout_ms`.
    pub fn open(board: Arc<Board>, timeout_ms: u32) -> Self {
        let memory = board.memory();
        memory
            .watchdog_fed_at_ms
            .store(board_clock_ms(), Ordering::Release);
        memory
            .watchdog_timeout_ms
            .store(timeout_ms.max(1), Ordering::Release);
        Self { board }
    }

    pub fn feed(&mut self) {
        self.board
            .memory()
            .watchdog_fed_at_ms
            .store(board_clock_ms(), Ordering::Release);
    }
}
