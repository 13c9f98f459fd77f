//! The pump window drawn without a display, by Slint's software renderer
//! into memory: for the gallery (every page to PNG) and the UI benchmark.
//! The same renderer draws on the Pi's framebuffer.

use std::path::Path;
use std::rc::Rc;
use std::time::Instant;

use slint::platform::software_renderer::{MinimalSoftwareWindow, RepaintBufferType};
use slint::platform::{Platform, WindowAdapter};
use slint::PhysicalSize;
use slint::Rgb8Pixel;

struct OffscreenPlatform {
    window: Rc<MinimalSoftwareWindow>,
    started: Instant,
}

impl Platform for OffscreenPlatform {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, slint::PlatformError> {
        Ok(self.window.clone())
    }

    fn duration_since_start(&self) -> std::time::Duration {
        self.started.elapsed()
    }
}

/// A window in memory.
pub struct Offscreen {
    window: Rc<MinimalSoftwareWindow>,
    buffer: Vec<Rgb8Pixel>,
}

impl Offscreen {
    /// Makes the in-memory window this thread's Slint platform (once per
    /// process), `width` × `height` pixels.
    pub fn install(width: u32, height: u32) -> Result<Offscreen, String> {
        let window = MinimalSoftwareWindow::new(RepaintBufferType::NewBuffer);
        slint::platform::set_platform(Box::new(OffscreenPlatform {
            window: window.clone(),
            started: Instant::now(),
        }))
        .map_err(|error| format!("cannot set up the offscreen renderer: {error}"))?;
        let mut offscreen = Offscreen {
            window,
            buffer: Vec::new(),
        };
        offscreen.resize(width, height);
        Ok(offscreen)
    }

    pub fn resize(&mut self, width: u32, height: u32) {
        self.window.set_size(PhysicalSize::new(width, height));
        let pixels = usize::try_from(u64::from(width) * u64::from(height)).unwrap_or(0);
        self.buffer = vec![Rgb8Pixel::new(0, 0, 0); pixels];
    }

    /// The window drawn (to read its item tree after a draw).
    pub fn window(&self) -> &slint::Window {
        self.window.window()
    }

    pub fn size(&self) -> (u32, u32) {
        let size = self.window.size();
        (size.width, size.height)
    }

    /// Draws the whole window now.
    pub fn draw(&mut self) {
        slint::platform::update_timers_and_animations();
        self.window.request_redraw();
        let (width, _) = self.size();
        let buffer = &mut self.buffer;
        self.window.draw_if_needed(|renderer| {
            renderer.render(buffer, width as usize);
        });
    }

    /// Draws the window and writes it as a PNG file.
    pub fn save_png(&mut self, path: &Path) -> Result<(), String> {
        self.draw();
        let (width, height) = self.size();
        let file =
            std::fs::File::create(path).map_err(|error| format!("{}: {error}", path.display()))?;
        let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let bytes: Vec<u8> = self
            .buffer
            .iter()
            .flat_map(|pixel| [pixel.r, pixel.g, pixel.b])
            .collect();
        encoder
            .write_header()
            .and_then(|mut writer| writer.write_image_data(&bytes))
            .map_err(|error| format!("{}: {error}", path.display()))
    }
}
