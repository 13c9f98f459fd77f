//! LSI/CSI LS7366R: 32-bit quadrature counter on SPI, counting the motor
//! encoder independently of the stepper driver, for the supervisor's runaway
//! check.
//!
//! The instruction byte is op (bits 7..6: 00 clear, 01 read, 10 write,
//! 11 load) and register (bits 5..3: 001 MDR0, 010 MDR1, 100 CNTR, 110 STR).
//! The counter is configured for x4 quadrature, free-running, 4-byte counter;
//! MDR0 is read back to prove a chip is there.

use embedded_hal::spi::SpiDevice;

use crate::Error;

const WRITE_MDR0: u8 = 0x88;
const WRITE_MDR1: u8 = 0x90;
const READ_MDR0: u8 = 0x48;
const CLEAR_CNTR: u8 = 0x20;
const READ_CNTR: u8 = 0x60;

/// MDR0: x4 quadrature, free-running count, index disabled, filter clock / 1.
const MDR0_X4_FREE_RUNNING: u8 = 0x03;
/// MDR1: 4-byte counter, counting enabled, no flags.
const MDR1_FOUR_BYTES: u8 = 0x00;

/// Encoder counts (x4 quadrature edges) since the counter was cleared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct EncoderCounts(pub i32);

pub struct Ls7366r<SPI> {
    spi: SPI,
}

impl<SPI: SpiDevice> Ls7366r<SPI> {
    pub fn new(spi: SPI) -> Self {
        Self { spi }
    }

    pub fn release(self) -> SPI {
        self.spi
    }

    /// Configures x4 counting, verifies the chip by reading MDR0 back, and
    /// clears the count.
    pub fn configure(&mut self) -> Result<(), Error<SPI::Error>> {
        self.spi.write(&[WRITE_MDR0, MDR0_X4_FREE_RUNNING])?;
        self.spi.write(&[WRITE_MDR1, MDR1_FOUR_BYTES])?;
        let mut readback = [READ_MDR0, 0];
        self.spi.transfer_in_place(&mut readback)?;
        if readback[1] != MDR0_X4_FREE_RUNNING {
            return Err(Error::UnexpectedResponse(
                "LS7366R MDR0 did not read back: no counter on this bus",
            ));
        }
        self.spi.write(&[CLEAR_CNTR])?;
        Ok(())
    }

    /// The current count, once MDR0 has read back as configured: a counter
    /// that stopped answering (MISO stuck, reading all ones) is an error, not
    /// a count of -1.
    pub fn checked_count(&mut self) -> Result<EncoderCounts, Error<SPI::Error>> {
        let mut readback = [READ_MDR0, 0];
        self.spi.transfer_in_place(&mut readback)?;
        if readback[1] != MDR0_X4_FREE_RUNNING {
            return Err(Error::UnexpectedResponse(
                "LS7366R MDR0 no longer reads back: the counter does not answer",
            ));
        }
        self.count()
    }

    /// The current count.
    pub fn count(&mut self) -> Result<EncoderCounts, Error<SPI::Error>> {
        let mut frame = [READ_CNTR, 0, 0, 0, 0];
        self.spi.transfer_in_place(&mut frame)?;
        let [_, b3, b2, b1, b0] = frame;
        Ok(EncoderCounts(i32::from_be_bytes([b3, b2, b1, b0])))
    }
}
