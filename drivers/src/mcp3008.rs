//! Microchip MCP3008: 8-channel, 10-bit SPI ADC for the pressure sensors and
//! the plunger-position potentiometer.
//!
//! One conversion is one 3-byte transfer (SPI mode 0): a start bit, then
//! SGL/DIFF and the channel in the top nibble of the second byte; the reply
//! carries a null bit (always 0) and 10 data bits. A set null bit means no
//! chip drives MISO (a pulled-up, floating line reads all ones), which is
//! reported rather than taken as a reading.

use embedded_hal::spi::SpiDevice;

use crate::Error;

/// One of the eight single-ended inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Channel(u8);

impl Channel {
    pub const fn index(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for Channel {
    type Error = &'static str;

    fn try_from(value: u8) -> Result<Self, Self::Error> {
        if value < 8 {
            Ok(Self(value))
        } else {
            Err("the MCP3008 has channels 0 to 7")
        }
    }
}

/// A raw conversion result, 0 to 1023.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct AdcCounts(u16);

impl AdcCounts {
    /// Full scale of a 10-bit conversion.
    pub const MAX: u16 = 1023;

    /// Wraps a raw count; refuses values a 10-bit converter cannot produce.
    pub const fn new(counts: u16) -> Option<Self> {
        if counts <= Self::MAX {
            Some(Self(counts))
        } else {
            None
        }
    }

    pub const fn get(self) -> u16 {
        self.0
    }
}

pub struct Mcp3008<SPI> {
    spi: SPI,
}

impl<SPI: SpiDevice> Mcp3008<SPI> {
    pub fn new(spi: SPI) -> Self {
        Self { spi }
    }

    pub fn release(self) -> SPI {
        self.spi
    }

    /// One single-ended conversion of `channel`.
    pub fn read(&mut self, channel: Channel) -> Result<AdcCounts, Error<SPI::Error>> {
        let mut frame = [0x01, 0x80 | (channel.0 << 4), 0x00];
        self.spi.transfer_in_place(&mut frame)?;
        let [_, high, low] = frame;
        if high & 0x04 != 0 {
            return Err(Error::UnexpectedResponse(
                "MCP3008 null bit set: the ADC is not answering",
            ));
        }
        let counts = (u16::from(high & 0x03) << 8) | u16::from(low);
        AdcCounts::new(counts).ok_or(Error::UnexpectedResponse(
            "MCP3008 conversion above 10 bits",
        ))
    }
}
