//! Trinamic TMC5160 stepper motor driver, configured over SPI and stepped
//! through its STEP/DIR inputs.
//!
//! SPI: mode 3, 40-bit datagrams, MSB first: one address byte (bit 7 set for
//! a write) and 32 data bits. Every reply starts with the SPI status byte. A
//! read is pipelined: the data of a read request arrives with the *next*
//! datagram, so a read costs two datagrams, each framed by its own chip
//! select (one `transfer_in_place` each).
//!
//! Stepping uses double-edge STEP (CHOPCONF.dedge): every toggle of the STEP
//! pin is one microstep, so the control thread never has to hold a pulse
//! high and wait. The driver's ENABLE line is not here: only the supervisor
//! holds it.

use embedded_hal::digital::OutputPin;
use embedded_hal::spi::SpiDevice;

use crate::Error;

/// Register addresses (datasheet section 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Register {
    /// Global configuration flags.
    Gconf = 0x00,
    /// Global status flags, latched; write 1 to clear.
    Gstat = 0x01,
    /// Input pin states; bits 31..24 hold the chip version.
    Ioin = 0x04,
    /// Motor current scaling for the whole chip (0 means 256).
    GlobalScaler = 0x0B,
    /// Hold current, run current and hold delay.
    IholdIrun = 0x10,
    /// Delay from standstill to hold current, in units of 2^18 clocks.
    Tpowerdown = 0x11,
    /// Chopper configuration, microstep resolution and step edge mode.
    Chopconf = 0x6C,
    /// Driver status: stall, temperature, short and open-load flags.
    DrvStatus = 0x6F,
}

/// Bit 7 of the address byte marks a write.
const WRITE: u8 = 0x80;
/// IOIN bits 31..24 read 0x30 on a TMC5160 (0x11 would be a TMC2130).
pub const VERSION_TMC5160: u8 = 0x30;

/// The status byte that starts every SPI reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SpiStatus(pub u8);

impl SpiStatus {
    /// The chip has reset since GSTAT was last cleared.
    pub const fn reset_flag(self) -> bool {
        self.0 & 0x01 != 0
    }
    /// The driver shut down on a fault (see DRV_STATUS).
    pub const fn driver_error(self) -> bool {
        self.0 & 0x02 != 0
    }
    /// StallGuard reports a stall.
    pub const fn stall(self) -> bool {
        self.0 & 0x04 != 0
    }
    /// The motor is at standstill.
    pub const fn standstill(self) -> bool {
        self.0 & 0x08 != 0
    }
}

/// Microsteps per full step: a power of two from 1 to 256.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Microsteps(u16);

impl Microsteps {
    pub const fn get(self) -> u16 {
        self.0
    }

    /// CHOPCONF.MRES: 0 is 256 microsteps, 8 is full step.
    const fn mres(self) -> u32 {
        8 - self.0.trailing_zeros()
    }
}

impl TryFrom<u16> for Microsteps {
    type Error = &'static str;

    fn try_from(value: u16) -> Result<Self, Self::Error> {
        if value.is_power_of_two() && value <= 256 {
            Ok(Self(value))
        } else {
            Err("microsteps must be 1, 2, 4, 8, 16, 32, 64, 128 or 256")
        }
    }
}

/// A current setting in 32nds of the full-scale current (IRUN/IHOLD: 0 to 31).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CurrentScale(u8);

impl CurrentScale {
    pub const fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for CurrentScale {
    type Error = &'static str;

    fn try_from(value: u8) -> Result<Self, Self::Error> {
        if value <= 31 {
            Ok(Self(value))
        } else {
            Err("a current scale is 0 to 31 (32nds of full scale)")
        }
    }
}

/// How the chip is set up at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DriverConfig {
    pub microsteps: Microsteps,
    pub run_current: CurrentScale,
    pub hold_current: CurrentScale,
    /// GLOBALSCALER: 0 means full scale (256); otherwise 32 to 255.
    pub global_scaler: u8,
}

/// Faults and conditions from DRV_STATUS and GSTAT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DriverStatus {
    pub standstill: bool,
    pub open_load_a: bool,
    pub open_load_b: bool,
    pub short_to_ground_a: bool,
    pub short_to_ground_b: bool,
    pub overtemperature_warning: bool,
    pub overtemperature: bool,
    pub stall: bool,
    /// Actual motor current scale, 0 to 31.
    pub current_scale: u8,
    /// GSTAT.reset: the chip reset (lost its configuration) since the last clear.
    pub reset: bool,
    /// GSTAT.drv_err: the driver shut down on a fault.
    pub driver_error: bool,
    /// GSTAT.uv_cp: charge-pump undervoltage.
    pub undervoltage: bool,
    /// IOIN.DRV_ENN: the enable input is high, so the power stage is off
    /// (the supervisor holds this line).
    pub enable_off: bool,
}

impl DriverStatus {
    /// Decodes DRV_STATUS (bit 31 stst, 30 olb, 29 ola, 28 s2gb, 27 s2ga,
    /// 26 otpw, 25 ot, 24 StallGuard, 20..16 CS_ACTUAL) and GSTAT (bit 0
    /// reset, 1 drv_err, 2 uv_cp).
    pub fn decode(drv_status: u32, gstat: u32) -> Self {
        let bit = |n: u32| drv_status & (1 << n) != 0;
        Self {
            standstill: bit(31),
            open_load_b: bit(30),
            open_load_a: bit(29),
            short_to_ground_b: bit(28),
            short_to_ground_a: bit(27),
            overtemperature_warning: bit(26),
            overtemperature: bit(25),
            stall: bit(24),
            current_scale: ((drv_status >> 16) & 0x1F) as u8,
            reset: gstat & 0x01 != 0,
            driver_error: gstat & 0x02 != 0,
            undervoltage: gstat & 0x04 != 0,
            enable_off: false,
        }
    }

    /// A condition that must stop delivery. Open load counts only while the
    /// motor moves (the chip detects it only then).
    pub const fn is_fault(&self) -> bool {
        self.overtemperature
            || self.short_to_ground_a
            || self.short_to_ground_b
            || self.driver_error
            || self.undervoltage
            || self.reset
            || self.stall
            || (!self.standstill && (self.open_load_a || self.open_load_b))
    }
}

/// The TMC5160 on its SPI device.
pub struct Tmc5160<SPI> {
    spi: SPI,
    last_status: SpiStatus,
}

impl<SPI: SpiDevice> Tmc5160<SPI> {
    pub fn new(spi: SPI) -> Self {
        Self {
            spi,
            last_status: SpiStatus::default(),
        }
    }

    /// Gives the SPI device back.
    pub fn release(self) -> SPI {
        self.spi
    }

    /// The status byte of the last reply.
    pub fn last_status(&self) -> SpiStatus {
        self.last_status
    }

    fn datagram(&mut self, address: u8, data: u32) -> Result<u32, Error<SPI::Error>> {
        let [b3, b2, b1, b0] = data.to_be_bytes();
        let mut frame = [address, b3, b2, b1, b0];
        self.spi.transfer_in_place(&mut frame)?;
        let [status, r3, r2, r1, r0] = frame;
        self.last_status = SpiStatus(status);
        Ok(u32::from_be_bytes([r3, r2, r1, r0]))
    }

    pub fn write_register(
        &mut self,
        register: Register,
        value: u32,
    ) -> Result<(), Error<SPI::Error>> {
        self.datagram(WRITE | register as u8, value).map(|_| ())
    }

    pub fn read_register(&mut self, register: Register) -> Result<u32, Error<SPI::Error>> {
        self.datagram(register as u8, 0)?;
        self.datagram(register as u8, 0)
    }

    /// Checks the chip is a TMC5160, clears latched flags and writes the
    /// configuration, double-edge stepping on.
    pub fn configure(&mut self, config: &DriverConfig) -> Result<(), Error<SPI::Error>> {
        if config.global_scaler != 0 && config.global_scaler < 32 {
            return Err(Error::InvalidInput(
                "GLOBALSCALER must be 0 (full scale) or 32 to 255",
            ));
        }
        let version = (self.read_register(Register::Ioin)? >> 24) as u8;
        if version != VERSION_TMC5160 {
            return Err(Error::UnexpectedResponse(
                "IOIN version is not 0x30: no TMC5160 answers on this bus",
            ));
        }
        self.write_register(Register::Gstat, 0x07)?;
        self.write_register(Register::Gconf, 0)?;
        self.write_register(Register::GlobalScaler, u32::from(config.global_scaler))?;
        let hold_delay = 6_u32;
        let currents = u32::from(config.hold_current.get())
            | (u32::from(config.run_current.get()) << 8)
            | (hold_delay << 16);
        self.write_register(Register::IholdIrun, currents)?;
        self.write_register(Register::Tpowerdown, 10)?;
        self.write_register(Register::Chopconf, chopconf(config.microsteps))?;
        Ok(())
    }

    /// Reads DRV_STATUS, GSTAT and IOIN.
    /// Is the power stage enabled? Reads IOIN only (two datagrams): DRV_ENN
    /// low means enabled. A chip that does not answer as a TMC5160 (its
    /// version byte wrong, e.g. MISO stuck high) counts as not enabled, so a
    /// silent driver is never stepped blind.
    pub fn enabled(&mut self) -> Result<bool, Error<SPI::Error>> {
        let ioin = self.read_register(Register::Ioin)?;
        Ok((ioin >> 24) as u8 == VERSION_TMC5160 && ioin & (1 << 4) == 0)
    }

    /// The driver's status. A chip that does not answer as a TMC5160 (its
    /// IOIN version byte wrong: MISO stuck high reads every flag set) gives
    /// `UnexpectedResponse`, never a status made of noise.
    pub fn status(&mut self) -> Result<DriverStatus, Error<SPI::Error>> {
        let drv_status = self.read_register(Register::DrvStatus)?;
        let gstat = self.read_register(Register::Gstat)?;
        let ioin = self.read_register(Register::Ioin)?;
        if (ioin >> 24) as u8 != VERSION_TMC5160 {
            return Err(Error::UnexpectedResponse(
                "IOIN version is not 0x30: the TMC5160 does not answer",
            ));
        }
        Ok(DriverStatus {
            enable_off: ioin & (1 << 4) != 0,
            ..DriverStatus::decode(drv_status, gstat)
        })
    }
}

/// CHOPCONF for spreadCycle with the datasheet's starting values (TOFF 3,
/// HSTRT 4, HEND 1, TBL 2), interpolation to 256 microsteps, double-edge STEP.
pub const fn chopconf(microsteps: Microsteps) -> u32 {
    let toff = 3;
    let hstrt = 4 << 4;
    let hend = 1 << 7;
    let tbl = 2 << 15;
    let intpol = 1 << 28;
    let dedge = 1 << 29;
    toff | hstrt | hend | tbl | (microsteps.mres() << 24) | intpol | dedge
}

/// Which way the plunger or rotor turns: forward delivers fluid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Forward,
    Reverse,
}

/// The STEP and DIR pins, driven by the control thread.
pub struct StepDir<STEP, DIR> {
    step: STEP,
    dir: DIR,
    step_level: bool,
    direction: Option<Direction>,
}

impl<STEP: OutputPin, DIR: OutputPin<Error = STEP::Error>> StepDir<STEP, DIR> {
    pub fn new(step: STEP, dir: DIR) -> Self {
        Self {
            step,
            dir,
            step_level: false,
            direction: None,
        }
    }

    pub fn release(self) -> (STEP, DIR) {
        (self.step, self.dir)
    }

    /// One microstep in `direction`: sets DIR if it changed, then toggles
    /// STEP (double-edge mode). Never waits.
    pub fn step(&mut self, direction: Direction) -> Result<(), Error<STEP::Error>> {
        if self.direction != Some(direction) {
            match direction {
                Direction::Forward => self.dir.set_high()?,
                Direction::Reverse => self.dir.set_low()?,
            }
            self.direction = Some(direction);
        }
        self.step_level = !self.step_level;
        if self.step_level {
            self.step.set_high()?;
        } else {
            self.step.set_low()?;
        }
        Ok(())
    }
}
