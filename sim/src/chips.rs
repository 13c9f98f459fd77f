//! The chips of the simulated board, emulated at the bus: the bytes a real
//! TMC5160, MCP3008 or LS7366R would put on MISO for the bytes on MOSI, and
//! what the stepper does on each STEP edge. The real drivers in this crate
//! therefore run unchanged against them.
//!
//! Emulation runs in whichever process drives the bus (a chip answers as the
//! bits are clocked), against the shared `BoardMemory`. It never blocks and
//! never allocates.

use std::sync::atomic::Ordering;

use super::memory::{board_clock_ms, board_clock_us, chip_fault, BoardMemory};
use super::physics::NATIVE_MICROSTEPS_PER_STEP;

/// TMC5160 register addresses the emulation gives meaning to.
const GCONF: u8 = 0x00;
const GSTAT: u8 = 0x01;
const IOIN: u8 = 0x04;
const IHOLD_IRUN: u8 = 0x10;
const CHOPCONF: u8 = 0x6C;
const DRV_STATUS: u8 = 0x6F;
/// The reply to a read when no read was pending.
const NO_PENDING_READ: u8 = 0xFF;
/// The chip reports standstill 2^20 clock cycles (about 87 ms at 12 MHz)
/// after the last step.
const STANDSTILL_AFTER_MS: u64 = 87;

fn has_fault(memory: &BoardMemory, fault: u32) -> bool {
    memory.chip_faults.load(Ordering::Acquire) & fault != 0
}

/// Latches GSTAT.drv_err while a shutdown fault is present.
fn latch_driver_faults(memory: &BoardMemory) {
    if has_fault(
        memory,
        chip_fault::OVERTEMPERATURE | chip_fault::SHORT_TO_GROUND,
    ) {
        memory.stepper_gstat.fetch_or(0x02, Ordering::AcqRel);
    }
}

fn stepper_moving(memory: &BoardMemory) -> bool {
    let last = memory.stepper_last_step_ms.load(Ordering::Acquire);
    last != 0 && board_clock_ms().saturating_sub(last) < STANDSTILL_AFTER_MS
}

fn drv_status(memory: &BoardMemory) -> u32 {
    let moving = stepper_moving(memory);
    let currents = memory.stepper_registers.get(IHOLD_IRUN);
    let current = if moving {
        (currents >> 8) & 0x1F
    } else {
        currents & 0x1F
    };
    let mut status = current << 16;
    if !moving {
        status |= 1 << 31;
    }
    if has_fault(memory, chip_fault::OPEN_LOAD) {
        status |= 1 << 29;
    }
    if has_fault(memory, chip_fault::SHORT_TO_GROUND) {
        status |= 1 << 27;
    }
    if has_fault(memory, chip_fault::OVERTEMPERATURE) {
        status |= (1 << 25) | (1 << 26);
    }
    if memory.rotor_blocked.load(Ordering::Acquire) && moving {
        status |= 1 << 24;
    }
    status
}

fn stepper_register(memory: &BoardMemory, address: u8) -> u32 {
    match address {
        GSTAT => memory.stepper_gstat.load(Ordering::Acquire),
        // Version 0x30 in bits 31..24; bit 4 is the DRV_ENN input level.
        IOIN => (0x30 << 24) | (u32::from(!memory.motor_enabled()) << 4),
        DRV_STATUS => drv_status(memory),
        other => memory.stepper_registers.get(other),
    }
}

/// One 40-bit TMC5160 datagram, in place.
pub fn stepper_datagram(memory: &BoardMemory, frame: &mut [u8; 5]) {
    if has_fault(memory, chip_fault::STEPPER_SILENT) {
        *frame = [0xFF; 5];
        return;
    }
    latch_driver_faults(memory);
    let [address_byte, b3, b2, b1, b0] = *frame;
    let pending = memory
        .stepper_pending_read
        .swap(NO_PENDING_READ, Ordering::AcqRel);
    let reply = if pending == NO_PENDING_READ {
        0
    } else {
        stepper_register(memory, pending)
    };
    let gstat = memory.stepper_gstat.load(Ordering::Acquire);
    let stall = memory.rotor_blocked.load(Ordering::Acquire) && stepper_moving(memory);
    let status = (gstat & 0x03) as u8
        | if stall { 0x04 } else { 0 }
        | if stepper_moving(memory) { 0 } else { 0x08 };
    let address = address_byte & 0x7F;
    if address_byte & 0x80 != 0 {
        let value = u32::from_be_bytes([b3, b2, b1, b0]);
        if address == GSTAT {
            memory.stepper_gstat.fetch_and(!value, Ordering::AcqRel);
            latch_driver_faults(memory);
        } else {
            memory.stepper_registers.set(address, value);
        }
    } else {
        memory
            .stepper_pending_read
            .store(address, Ordering::Release);
    }
    let [r3, r2, r1, r0] = reply.to_be_bytes();
    *frame = [status, r3, r2, r1, r0];
}

/// What the stepper does on an edge of its STEP input.
pub fn stepper_step_edge(memory: &BoardMemory, rising: bool) {
    let chopconf = memory.stepper_registers.get(CHOPCONF);
    let double_edge = chopconf & (1 << 29) != 0;
    if !rising && !double_edge {
        return;
    }
    latch_driver_faults(memory);
    let powered = chopconf & 0x0F != 0;
    let shut_down = memory.stepper_gstat.load(Ordering::Acquire) & 0x02 != 0;
    if !memory.motor_enabled() {
        memory.steps_while_disabled.fetch_add(1, Ordering::AcqRel);
        return;
    }
    if !powered || shut_down {
        memory.steps_while_shut_down.fetch_add(1, Ordering::AcqRel);
        return;
    }
    memory
        .stepper_last_step_ms
        .store(board_clock_ms().max(1), Ordering::Release);
    let direction_line = memory.wiring.direction.load(Ordering::Acquire);
    let shaft_inverted = memory.stepper_registers.get(GCONF) & (1 << 4) != 0;
    let forward = memory.level(direction_line) != shaft_inverted;
    // MRES 0 is 256 microsteps per full step, 8 is full step: each STEP edge
    // turns the rotor 2^MRES native (1/256 step) units.
    let mres = (chopconf >> 24) & 0x0F;
    let native = i64::from(NATIVE_MICROSTEPS_PER_STEP >> mres.min(8));
    let signed = if forward { native } else { -native };
    memory.rotor_commanded.fetch_add(signed, Ordering::AcqRel);
    if forward && memory.rotor_blocked.load(Ordering::Acquire) {
        return;
    }
    memory.rotor_actual.fetch_add(signed, Ordering::AcqRel);
    if forward {
        memory
            .rotor_forward_at_us
            .store(board_clock_us(), Ordering::Release);
    }
}

/// One MCP3008 conversion frame (3 bytes), in place.
pub fn adc_frame(memory: &BoardMemory, frame: &mut [u8]) {
    if has_fault(memory, chip_fault::ADC_SILENT) {
        frame.fill(0xFF);
        return;
    }
    let (start, command) = match frame {
        [start, command, _] => (*start, *command),
        _ => {
            frame.fill(0xFF);
            return;
        }
    };
    if start & 0x01 == 0 || command & 0x80 == 0 {
        // No start bit, or a differential conversion this board never wires.
        frame.fill(0xFF);
        return;
    }
    let channel = usize::from((command >> 4) & 0x07);
    let counts = memory
        .adc_counts
        .get(channel)
        .map_or(0, |value| value.load(Ordering::Acquire))
        .min(1023);
    let [high, low] = counts.to_be_bytes();
    frame.copy_from_slice(&[0x00, high & 0x03, low]);
}

/// One LS7366R frame (instruction byte and data bytes), in place.
pub fn encoder_frame(memory: &BoardMemory, frame: &mut [u8]) {
    if has_fault(memory, chip_fault::ENCODER_SILENT) {
        frame.fill(0xFF);
        return;
    }
    let Some((&mut instruction, data)) = frame.split_first_mut() else {
        return;
    };
    let operation = instruction >> 6;
    let register = (instruction >> 3) & 0x07;
    match (operation, register) {
        (0b10, 0b001) => memory
            .encoder_mdr0
            .store(data.first().copied().unwrap_or(0), Ordering::Release),
        (0b10, 0b010) => memory
            .encoder_mdr1
            .store(data.first().copied().unwrap_or(0), Ordering::Release),
        (0b00, 0b100) => {
            let counts = memory.encoder_counts.load(Ordering::Acquire);
            memory.encoder_zero.store(counts, Ordering::Release);
        }
        (0b01, 0b001) => fill_read(data, &[memory.encoder_mdr0.load(Ordering::Acquire)]),
        (0b01, 0b010) => fill_read(data, &[memory.encoder_mdr1.load(Ordering::Acquire)]),
        (0b01, 0b100) => {
            let raw = memory.encoder_counts.load(Ordering::Acquire)
                - memory.encoder_zero.load(Ordering::Acquire);
            // MDR0 bits 1..0: non-quadrature (no counting here), x1, x2, x4.
            let counted = match memory.encoder_mdr0.load(Ordering::Acquire) & 0x03 {
                0b11 => raw,
                0b10 => raw / 2,
                0b01 => raw / 4,
                _ => 0,
            };
            fill_read(data, &(counted as i32).to_be_bytes());
        }
        _ => data.fill(0),
    }
    instruction_echo(frame);
}

fn fill_read(data: &mut [u8], bytes: &[u8]) {
    for (slot, byte) in data
        .iter_mut()
        .zip(bytes.iter().chain(std::iter::repeat(&0)))
    {
        *slot = *byte;
    }
}

/// MISO is undriven (reads high) while the instruction byte is clocked in.
fn instruction_echo(frame: &mut [u8]) {
    if let Some(first) = frame.first_mut() {
        *first = 0xFF;
    }
}
