//! Does every text on the screen fit? Finds, on the window as drawn by the
//! software renderer (the Pi's, with the pump's own font), each visible
//! text that:
//!
//! - is narrower than its longest word while it wraps at words, so that
//!   the renderer breaks the word in the middle ("Sekundäri / nfusion");
//! - is narrower than its line while it does not wrap, so that it is
//!   clipped or elided ("Durch Alarm ges…");
//! - needs more lines than its height shows, so that lines are cut off;
//! - reaches beyond the screen's edge (a layout wider than the screen).
//!
//! The sizes are the renderer's own measures (Slint's layout information
//! for the text item), so what is reported is what the screen shows.
//! Slint's item tree is read through `i_slint_core`, pinned to the version
//! the pump links; this is test tooling, never part of the pump.

// Slint's measures are logical pixels in f32; nothing here doses anyone.
#![allow(clippy::float_arithmetic)]

use std::ops::ControlFlow;

use i_slint_core::item_tree::{ItemRc, ParentItemTraversalMode};
use i_slint_core::items::{ComplexText, Flickable, SimpleText, TextOverflow, TextWrap};
use i_slint_core::layout::Orientation;
use i_slint_core::window::{WindowAdapter, WindowInner};

/// How a text does not fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Misfit {
    /// A word is wider than the text's width: the renderer breaks it.
    WordBroken,
    /// One line wider than the text's width, shown clipped or elided.
    CutOff,
    /// More lines than the text's height shows.
    LinesCutOff,
    /// Beyond the screen's edge (a layout wider or taller than the screen).
    OffScreen,
}

/// One text that does not fit, with the sizes that show it (logical px).
#[derive(Debug, Clone, PartialEq)]
pub struct TextMisfit {
    pub text: String,
    pub misfit: Misfit,
    /// The text's width (or height, for `LinesCutOff`).
    pub has: f32,
    /// What it needs: the longest word, the line, or the lines' height.
    pub needs: f32,
}

impl std::fmt::Display for TextMisfit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.misfit {
            Misfit::WordBroken => "a word broken in the middle",
            Misfit::CutOff => "cut off",
            Misfit::LinesCutOff => "lines cut off",
            Misfit::OffScreen => "beyond the screen's edge",
        };
        write!(
            f,
            "\"{}\": {what} ({:.0} px, needs {:.0})",
            self.text, self.has, self.needs
        )
    }
}

/// Half a pixel of rounding between layout and measure.
const SLACK: f32 = 0.5;

/// Every visible text of `window` that does not fit.
pub fn misfits(window: &slint::Window) -> Vec<TextMisfit> {
    let inner = WindowInner::from_pub(window);
    let adapter = inner.window_adapter();
    let root = ItemRc::new_root(inner.component());
    let screen = window.size().to_logical(window.scale_factor());
    let mut found = Vec::new();
    root.visit_descendants(|item| {
        if let Some(misfit) = misfit(item, &adapter, (screen.width, screen.height)) {
            found.push(misfit);
        }
        ControlFlow::<()>::Continue(())
    });
    found
}

fn misfit(
    item: &ItemRc,
    adapter: &std::rc::Rc<dyn WindowAdapter>,
    screen: (f32, f32),
) -> Option<TextMisfit> {
    let (text, wrap, overflow) = if let Some(complex) = item.downcast::<ComplexText>() {
        let complex = complex.as_pin_ref();
        (complex.text(), complex.wrap(), complex.overflow())
    } else if let Some(simple) = item.downcast::<SimpleText>() {
        (
            simple.as_pin_ref().text(),
            TextWrap::NoWrap,
            TextOverflow::Clip,
        )
    } else {
        return None;
    };
    if text.trim().is_empty() || !item.is_visible() {
        return None;
    }
    let geometry = item.geometry();
    let (width, height) = (geometry.width(), geometry.height());
    let pinned = item.borrow();
    let across = pinned
        .as_ref()
        .layout_info(Orientation::Horizontal, -1 as _, adapter, item);
    let report = |misfit, has: f32, needs: f32| {
        (has + SLACK < needs).then(|| TextMisfit {
            text: text.to_string(),
            misfit,
            has,
            needs,
        })
    };
    // Inside a scroll area the area's own edge is what must be on screen:
    // the rest scrolls into view.
    let bounds = scroll_area(item).unwrap_or_else(|| item.clone());
    let bounds_geometry = bounds.geometry();
    let corner = bounds.map_to_window(bounds_geometry.origin);
    let right = corner.x + bounds_geometry.width();
    let bottom = corner.y + bounds_geometry.height();
    if right > screen.0 + SLACK || bottom > screen.1 + SLACK {
        let (has, needs) = if right > screen.0 + SLACK {
            (screen.0, right)
        } else {
            (screen.1, bottom)
        };
        return Some(TextMisfit {
            text: text.to_string(),
            misfit: Misfit::OffScreen,
            has,
            needs,
        });
    }
    let lines_cut_off = || {
        let down = pinned
            .as_ref()
            .layout_info(Orientation::Vertical, width as _, adapter, item);
        report(Misfit::LinesCutOff, height, down.min)
    };
    if wrap == TextWrap::NoWrap {
        // Its preferred width is the whole line (clipped or elided).
        report(Misfit::CutOff, width, across.preferred)
    } else if wrap == TextWrap::WordWrap && overflow == TextOverflow::Clip {
        // Slint's minimum for a word-wrapping text is its longest word.
        report(Misfit::WordBroken, width, across.min).or_else(lines_cut_off)
    } else {
        // Wrapping at any character, or eliding its last line.
        lines_cut_off()
    }
}

/// The nearest scroll area (Flickable) around `item`, if any.
fn scroll_area(item: &ItemRc) -> Option<ItemRc> {
    let mut parent = item.parent_item(ParentItemTraversalMode::StopAtPopups);
    while let Some(candidate) = parent {
        if candidate.downcast::<Flickable>().is_some() {
            return Some(candidate);
        }
        parent = candidate.parent_item(ParentItemTraversalMode::StopAtPopups);
    }
    None
}
