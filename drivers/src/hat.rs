//! Platform identity from the Raspberry Pi HAT EEPROM, as Linux exposes it
//! under /proc/device-tree/hat/ (vendor, product, product_id, product_ver,
//! uuid; each a NUL-terminated string).
//!
//! The pump's carrier board carries this EEPROM; which mechanism the board
//! drives is read from it at boot and cross-checked against the signed
//! mechanism profile (src/platform).

use std::fmt;
use std::path::Path;

/// The device-tree folder where Linux publishes the HAT EEPROM.
pub const DEVICE_TREE_HAT: &str = "/proc/device-tree/hat";

/// What the HAT EEPROM says the board is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HatIdentity {
    pub vendor: String,
    pub product: String,
    pub product_id: u16,
    pub product_version: u16,
    pub uuid: [u8; 16],
}

impl HatIdentity {
    /// The UUID in its usual 8-4-4-4-12 form.
    pub fn uuid_text(&self) -> String {
        let hex: String = self.uuid.iter().map(|byte| format!("{byte:02x}")).collect();
        let part = |range: std::ops::Range<usize>| hex.get(range).unwrap_or_default().to_owned();
        format!(
            "{}-{}-{}-{}-{}",
            part(0..8),
            part(8..12),
            part(12..16),
            part(16..20),
            part(20..32)
        )
    }
}

impl fmt::Display for HatIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} (product 0x{:04x} version 0x{:04x}, uuid {})",
            self.vendor,
            self.product,
            self.product_id,
            self.product_version,
            self.uuid_text()
        )
    }
}

/// Why the identity could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HatError {
    /// No HAT EEPROM was found (no /proc/device-tree/hat, or a field missing).
    Missing { field: &'static str, detail: String },
    /// A field is present but not what the HAT specification allows.
    Invalid {
        field: &'static str,
        value: String,
        expected: &'static str,
    },
}

impl fmt::Display for HatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HatError::Missing { field, detail } => {
                write!(f, "the board identity EEPROM gives no {field} ({detail}): is the pump carrier board fitted?")
            }
            HatError::Invalid {
                field,
                value,
                expected,
            } => {
                write!(
                    f,
                    "the board identity EEPROM's {field} is \"{value}\"; expected {expected}"
                )
            }
        }
    }
}

impl std::error::Error for HatError {}

fn text(value: &[u8]) -> String {
    String::from_utf8_lossy(value)
        .trim_end_matches('\0')
        .trim()
        .to_owned()
}

fn hex_u16(field: &'static str, value: &str) -> Result<u16, HatError> {
    let digits = value
        .strip_prefix("0x")
        .or_else(|| value.strip_prefix("0X"))
        .unwrap_or_default();
    u16::from_str_radix(digits, 16).map_err(|_| HatError::Invalid {
        field,
        value: value.to_owned(),
        expected: "a hexadecimal number such as 0x0001",
    })
}

fn parse_uuid(value: &str) -> Result<[u8; 16], HatError> {
    let invalid = || HatError::Invalid {
        field: "uuid",
        value: value.to_owned(),
        expected: "a UUID such as 12345678-9abc-def0-1234-56789abcdef0",
    };
    let groups: Vec<&str> = value.split('-').collect();
    let lengths: Vec<usize> = groups.iter().map(|group| group.len()).collect();
    if lengths != [8, 4, 4, 4, 12] {
        return Err(invalid());
    }
    let mut uuid = [0_u8; 16];
    hex::decode_to_slice(groups.concat(), &mut uuid).map_err(|_| invalid())?;
    if uuid == [0; 16] {
        return Err(invalid());
    }
    Ok(uuid)
}

impl HatIdentity {
    /// Parses the five fields as read from the device tree.
    pub fn parse(
        vendor: &[u8],
        product: &[u8],
        product_id: &[u8],
        product_version: &[u8],
        uuid: &[u8],
    ) -> Result<Self, HatError> {
        let vendor = text(vendor);
        let product = text(product);
        for (field, value) in [("vendor", &vendor), ("product", &product)] {
            if value.is_empty() {
                return Err(HatError::Invalid {
                    field,
                    value: String::new(),
                    expected: "a non-empty name",
                });
            }
        }
        Ok(Self {
            vendor,
            product,
            product_id: hex_u16("product_id", &text(product_id))?,
            product_version: hex_u16("product_ver", &text(product_version))?,
            uuid: parse_uuid(&text(uuid))?,
        })
    }

    /// Reads the identity from a device-tree folder (normally `DEVICE_TREE_HAT`).
    pub fn read_from(folder: &Path) -> Result<Self, HatError> {
        let read = |field: &'static str| {
            std::fs::read(folder.join(field)).map_err(|error| HatError::Missing {
                field,
                detail: error.to_string(),
            })
        };
        Self::parse(
            &read("vendor")?,
            &read("product")?,
            &read("product_id")?,
            &read("product_ver")?,
            &read("uuid")?,
        )
    }
}
