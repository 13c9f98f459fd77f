//! The pump's panel as the device draws on it, for `perfuse-frame-bench`:
//! the first connected DRM/KMS output at its preferred mode, two dumb
//! buffers in XRGB8888, each frame drawn by Slint's software renderer into
//! the back buffer and flipped at the next vertical blank. This is the path
//! Slint's linuxkms back-end takes with the software renderer on the Pi
//! (vc4) and on the emulated machine's virtio-gpu.

use std::fs::{File, OpenOptions};
use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;
use std::time::{Duration, Instant};

use drm::buffer::{Buffer as _, DrmFourcc};
use drm::control::dumbbuffer::DumbBuffer;
use drm::control::{connector, crtc, framebuffer, Device as _, Mode, ModeTypeFlags, PageFlipFlags};
use slint::platform::software_renderer::{PremultipliedRgbaColor, TargetPixel};

/// A DRM card, opened read-write.
struct Card(File);

impl AsFd for Card {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

impl drm::Device for Card {}
impl drm::control::Device for Card {}

/// One pixel of an XRGB8888 dumb buffer (little-endian: B, G, R, X).
#[repr(transparent)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Xrgb8888(pub u32);

impl Xrgb8888 {
    fn premultiplied(self) -> PremultipliedRgbaColor {
        let [blue, green, red, _] = self.0.to_le_bytes();
        PremultipliedRgbaColor {
            red,
            green,
            blue,
            alpha: u8::MAX,
        }
    }
}

impl TargetPixel for Xrgb8888 {
    fn blend(&mut self, color: PremultipliedRgbaColor) {
        let mut under = self.premultiplied();
        under.blend(color);
        *self = Self::from_rgb(under.red, under.green, under.blue);
    }

    fn from_rgb(red: u8, green: u8, blue: u8) -> Self {
        Xrgb8888(u32::from_le_bytes([blue, green, red, u8::MAX]))
    }
}

/// The panel: its output, mode and two buffers.
pub struct Panel {
    card: Card,
    crtc: crtc::Handle,
    mode: Mode,
    buffers: [DumbBuffer; 2],
    framebuffers: [framebuffer::Handle; 2],
    /// The buffer drawn next (the other one is on the screen).
    back: usize,
    /// "card0 Virtual-1 800x480@60", for the report.
    pub description: String,
}

fn error(what: &str) -> impl Fn(std::io::Error) -> String + '_ {
    move |error| format!("{what}: {error}")
}

impl Panel {
    /// Opens `card` and lights its first connected output at the preferred
    /// mode with a black frame. Needs DRM master: nothing else may be
    /// drawing on it (stop perfuse-app first).
    pub fn open(card: &Path) -> Result<Panel, String> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(card)
            .map_err(|error| format!("cannot open {}: {error}", card.display()))?;
        let card_handle = Card(file);
        let resources = card_handle.resource_handles().map_err(error(
            "cannot read the DRM resources (is this a KMS device?)",
        ))?;
        let connected = resources
            .connectors()
            .iter()
            .filter_map(|handle| card_handle.get_connector(*handle, true).ok())
            .find(|info| info.state() == connector::State::Connected)
            .ok_or_else(|| format!("{}: no connected display", card.display()))?;
        let mode = connected
            .modes()
            .iter()
            .find(|mode| mode.mode_type().contains(ModeTypeFlags::PREFERRED))
            .or_else(|| connected.modes().first())
            .copied()
            .ok_or_else(|| format!("{}: the display offers no mode", card.display()))?;
        let crtc = connected
            .encoders()
            .iter()
            .filter_map(|handle| card_handle.get_encoder(*handle).ok())
            .find_map(|encoder| {
                encoder.crtc().or_else(|| {
                    resources
                        .filter_crtcs(encoder.possible_crtcs())
                        .first()
                        .copied()
                })
            })
            .ok_or_else(|| format!("{}: no CRTC can drive the display", card.display()))?;
        let (width, height) = mode.size();
        let make = || -> Result<(DumbBuffer, framebuffer::Handle), String> {
            let buffer = card_handle
                .create_dumb_buffer(
                    (u32::from(width), u32::from(height)),
                    DrmFourcc::Xrgb8888,
                    32,
                )
                .map_err(error("cannot create a dumb buffer"))?;
            let framebuffer = card_handle
                .add_framebuffer(&buffer, 24, 32)
                .map_err(error("cannot add a framebuffer"))?;
            Ok((buffer, framebuffer))
        };
        let (first, first_fb) = make()?;
        let (second, second_fb) = make()?;
        card_handle
            .set_crtc(
                crtc,
                Some(first_fb),
                (0, 0),
                &[connected.handle()],
                Some(mode),
            )
            .map_err(error(
                "cannot light the display (DRM master held by another program?)",
            ))?;
        let description = format!(
            "{} {}-{} {width}x{height}@{}",
            card.file_name()
                .map_or_else(String::new, |name| name.to_string_lossy().into_owned()),
            connected.interface().as_str(),
            connected.interface_id(),
            mode.vrefresh()
        );
        Ok(Panel {
            card: card_handle,
            crtc,
            mode,
            buffers: [first, second],
            framebuffers: [first_fb, second_fb],
            back: 1,
            description,
        })
    }

    /// The time between two vertical blanks at the panel's mode.
    pub fn refresh_period(&self) -> Duration {
        Duration::from_secs(1) / self.mode.vrefresh().max(1)
    }

    pub fn size(&self) -> (u32, u32) {
        let (width, height) = self.mode.size();
        (u32::from(width), u32::from(height))
    }

    /// Hands the back buffer to `draw` as pixels and their stride.
    pub fn draw(&mut self, draw: impl FnOnce(&mut [Xrgb8888], usize)) -> Result<(), String> {
        let (width, _) = self.size();
        let buffer = if self.back == 0 {
            &mut self.buffers[0]
        } else {
            &mut self.buffers[1]
        };
        let stride = usize::try_from(buffer.pitch() / 4).unwrap_or(width as usize);
        let mut mapping = self
            .card
            .map_dumb_buffer(buffer)
            .map_err(error("cannot map the back buffer"))?;
        let pixels: &mut [Xrgb8888] = bytemuck::try_cast_slice_mut(mapping.as_mut())
            .map_err(|error| format!("the back buffer is not XRGB8888 pixels: {error}"))?;
        draw(pixels, stride.max(width as usize));
        Ok(())
    }

    /// Queues the back buffer for the next vertical blank and waits until
    /// it is on the screen; returns the wait.
    pub fn flip(&mut self) -> Result<Duration, String> {
        let framebuffer = if self.back == 0 {
            self.framebuffers[0]
        } else {
            self.framebuffers[1]
        };
        let started = Instant::now();
        self.card
            .page_flip(self.crtc, framebuffer, PageFlipFlags::EVENT, None)
            .map_err(error("cannot queue the page flip"))?;
        loop {
            let events = self
                .card
                .receive_events()
                .map_err(error("cannot read the page-flip event"))?;
            if events
                .into_iter()
                .any(|event| matches!(event, drm::control::Event::PageFlip(_)))
            {
                break;
            }
        }
        self.back = 1 - self.back;
        Ok(started.elapsed())
    }
}

impl Drop for Panel {
    fn drop(&mut self) {
        for framebuffer in self.framebuffers {
            let _ = self.card.destroy_framebuffer(framebuffer);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixels_are_blue_green_red_in_memory_and_blend_like_slint() {
        let pixel = Xrgb8888::from_rgb(0x12, 0x34, 0x56);
        assert_eq!(pixel.0.to_le_bytes(), [0x56, 0x34, 0x12, 0xff]);
        let mut under = Xrgb8888::from_rgb(200, 100, 0);
        // Half-transparent white, premultiplied.
        under.blend(PremultipliedRgbaColor {
            red: 128,
            green: 128,
            blue: 128,
            alpha: 128,
        });
        let mut expected = PremultipliedRgbaColor {
            red: 200,
            green: 100,
            blue: 0,
            alpha: 255,
        };
        expected.blend(PremultipliedRgbaColor {
            red: 128,
            green: 128,
            blue: 128,
            alpha: 128,
        });
        assert_eq!(
            under,
            Xrgb8888::from_rgb(expected.red, expected.green, expected.blue)
        );
    }

    #[test]
    fn a_missing_card_is_named() {
        let Err(message) = Panel::open(Path::new("/nonexistent/card0")) else {
            unreachable!("a missing card opened");
        };
        assert!(
            message.starts_with("cannot open /nonexistent/card0"),
            "{message}"
        );
    }
}
