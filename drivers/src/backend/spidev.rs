//! An embedded-hal `SpiDevice` over Linux spidev that never allocates: a
//! transaction becomes at most `MAX_OPERATIONS` kernel transfers in one
//! ioctl, with chip select held across them, as embedded-hal requires.
//! (rppal's and linux-embedded-hal's SPI devices copy or collect into a
//! `Vec` on every transfer, which the control loop must not do.)

use std::fmt;
use std::path::Path;

use arrayvec::ArrayVec;
use embedded_hal::spi::{self, ErrorType, Operation, SpiDevice};
use spidev::{SpiModeFlags, Spidev, SpidevOptions, SpidevTransfer};

use crate::config::SpiAddress;

/// Most operations in one transaction.
pub const MAX_OPERATIONS: usize = 8;
/// Longest in-place transfer, bytes (the largest frame any chip here takes is 5).
pub const MAX_IN_PLACE: usize = 64;

#[derive(Debug)]
pub enum SpidevError {
    Io(std::io::Error),
    /// More operations, or a longer in-place buffer, than the fixed capacity.
    TooLarge,
    /// A transfer whose read and write buffers differ in length (spidev
    /// clocks one length both ways).
    UnequalTransfer,
}

impl fmt::Display for SpidevError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpidevError::Io(error) => write!(f, "spidev: {error}"),
            SpidevError::TooLarge => write!(f, "spidev: transaction larger than {MAX_OPERATIONS} operations of {MAX_IN_PLACE} bytes"),
            SpidevError::UnequalTransfer => write!(f, "spidev: a transfer's read and write buffers must be the same length"),
        }
    }
}

impl spi::Error for SpidevError {
    fn kind(&self) -> spi::ErrorKind {
        spi::ErrorKind::Other
    }
}

/// SPI mode of a chip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Mode0,
    Mode3,
}

pub struct SpidevDevice {
    device: Spidev,
}

impl SpidevDevice {
    /// Opens `/dev/spidev<bus>.<cs>` at `speed_hz` in `mode`.
    pub fn open(address: SpiAddress, mode: Mode, speed_hz: u32) -> std::io::Result<Self> {
        let path = format!("/dev/spidev{}.{}", address.bus, address.chip_select);
        let mut device = Spidev::open(Path::new(&path))?;
        let flags = match mode {
            Mode::Mode0 => SpiModeFlags::SPI_MODE_0,
            Mode::Mode3 => SpiModeFlags::SPI_MODE_3,
        };
        device.configure(
            &SpidevOptions::new()
                .bits_per_word(8)
                .max_speed_hz(speed_hz)
                .mode(flags)
                .build(),
        )?;
        Ok(Self { device })
    }
}

impl ErrorType for SpidevDevice {
    type Error = SpidevError;
}

impl SpiDevice for SpidevDevice {
    fn transaction(&mut self, operations: &mut [Operation<'_, u8>]) -> Result<(), SpidevError> {
        if operations.len() > MAX_OPERATIONS {
            return Err(SpidevError::TooLarge);
        }
        // Transmit copies for in-place operations, on the stack.
        let mut copies = [[0_u8; MAX_IN_PLACE]; MAX_OPERATIONS];
        for (operation, copy) in operations.iter().zip(copies.iter_mut()) {
            if let Operation::TransferInPlace(buffer) = operation {
                copy.get_mut(..buffer.len())
                    .ok_or(SpidevError::TooLarge)?
                    .copy_from_slice(buffer);
            }
        }
        let mut transfers: ArrayVec<SpidevTransfer<'_, '_>, MAX_OPERATIONS> = ArrayVec::new();
        for (operation, copy) in operations.iter_mut().zip(copies.iter()) {
            let transfer = match operation {
                Operation::Read(buffer) => SpidevTransfer::read(buffer),
                Operation::Write(buffer) => SpidevTransfer::write(buffer),
                Operation::Transfer(read, write) => {
                    if read.len() != write.len() {
                        return Err(SpidevError::UnequalTransfer);
                    }
                    SpidevTransfer::read_write(write, read)
                }
                Operation::TransferInPlace(buffer) => {
                    let length = buffer.len();
                    SpidevTransfer::read_write(
                        copy.get(..length).ok_or(SpidevError::TooLarge)?,
                        buffer,
                    )
                }
                Operation::DelayNs(nanoseconds) => SpidevTransfer::delay(
                    u16::try_from(nanoseconds.div_ceil(1000)).unwrap_or(u16::MAX),
                ),
            };
            transfers.push(transfer);
        }
        self.device
            .transfer_multiple(&mut transfers)
            .map_err(SpidevError::Io)
    }
}
