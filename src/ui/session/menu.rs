//! The menu: history with its filters, settings behind the PIN (language,
//! brightness, alarm volume, the biomedical facts) and the screen lock.

use super::*;

/// Longest PIN the keypad takes.
const PIN_DIGITS: usize = 8;

/// The settings PIN of a prototype that was given none
/// (`PERFUSE_SETTINGS_PIN` sets another). Not a secret: it keeps settings
/// away from a stray touch, not from a determined user.
pub const DEFAULT_SETTINGS_PIN: &str = "2580";

/// A settings PIN as configured: 4 to 8 digits.
pub fn settings_pin(text: &str) -> Result<String, String> {
    let digits = text.len();
    if (4..=PIN_DIGITS).contains(&digits) && text.bytes().all(|byte| byte.is_ascii_digit()) {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "the settings PIN must be 4 to {PIN_DIGITS} digits, not \"{text}\""
        ))
    }
}

/// The biomedical details the settings show.
pub fn biomed_facts(
    platform: &str,
    limits: RateLimits,
    library: Option<&Library>,
    supervisor_socket: &str,
) -> Vec<(&'static str, String)> {
    vec![
        ("biomed-platform", platform.to_owned()),
        (
            "biomed-rates",
            format!(
                "{} – {} mL/h",
                display_decimal(limits.min.value()),
                display_decimal(limits.max.value())
            ),
        ),
        ("biomed-library", library_fact(library)),
        ("biomed-supervisor", supervisor_socket.to_owned()),
        (
            "biomed-software",
            format!("Perfuse {}", env!("CARGO_PKG_VERSION")),
        ),
    ]
}

/// A library as the settings show it: name, version, effective date and
/// the start of its hash.
pub fn library_fact(library: Option<&Library>) -> String {
    library.map_or_else(
        || "–".to_owned(),
        |library| {
            let identity = &library.identity;
            format!(
                "{} {} · {} · sha256 {}",
                identity.name,
                identity.version,
                identity.effective,
                identity.short_hash()
            )
        },
    )
}

impl Session {
    /// Why the staged library cannot be activated now (None: it can).
    pub fn activation_blocked(&self) -> Option<String> {
        match &self.staged {
            None => return Some(self.texts.get("library-staged-none")),
            Some(Err(_)) => return Some(self.texts.get("library-staged-unusable")),
            Some(Ok(_)) => {}
        }
        let loaded = self.active.is_some() || !matches!(self.snapshot.mode, Mode::Idle);
        loaded.then(|| self.texts.get("library-activate-program-loaded"))
    }

    /// Activate, pressed on the settings: the first press arms it (the
    /// button names the library to confirm), the second activates the
    /// staged library, whole, if no program is loaded.
    pub fn activate_library(&mut self) {
        self.touch(if self.activation_armed {
            "confirm activate library"
        } else {
            "activate library"
        });
        if !matches!(self.screen, Screen::Menu(MenuView::Settings)) {
            return;
        }
        if let Some(why) = self.activation_blocked() {
            self.activation_armed = false;
            self.notice = Some(Notice::Refused(why));
            return;
        }
        if !self.activation_armed {
            self.activation_armed = true;
            return;
        }
        self.activation_armed = false;
        match self.pump.activate_library(self.snapshot.mode) {
            Ok(verified) => {
                let library = Arc::new(verified.library.clone());
                let fact = library_fact(Some(&library));
                if let Some(entry) = self
                    .biomed
                    .iter_mut()
                    .find(|(id, _)| *id == "biomed-library")
                {
                    entry.1 = fact;
                }
                self.interaction(
                    Action::Value,
                    format!(
                        "library activated {} {}",
                        library.identity.name, library.identity.version
                    ),
                );
                self.library = Some(library);
                self.library_state = LibraryState::Activated;
                self.staged = None;
                self.notice = None;
            }
            Err(why) => {
                self.staged = self.pump.staged_library();
                self.notice = Some(Notice::Refused(
                    self.texts
                        .format("library-activate-refused", &[("detail", Arg::Text(why))]),
                ));
            }
        }
    }

    /// Opens the menu (history first) from home or the running screen.
    pub fn open_menu(&mut self) {
        self.touch("menu");
        if matches!(self.screen, Screen::Home | Screen::Running) {
            let view = self.history_view();
            self.show(view);
        }
    }

    /// Leaves the menu for where the pump is: running or home.
    pub fn close_menu(&mut self) {
        self.touch("close");
        if matches!(self.screen, Screen::Menu(MenuView::Locked { .. })) {
            return;
        }
        let back = if self.active.is_some() {
            Screen::Running
        } else {
            Screen::Home
        };
        self.show(back);
    }

    /// The history page, its rows read now.
    fn history_view(&mut self) -> Screen {
        Screen::Menu(MenuView::History {
            rows: self.history.latest(self.history_filter),
        })
    }

    pub fn show_history(&mut self) {
        self.touch("history");
        if matches!(
            self.screen,
            Screen::Menu(MenuView::History { .. } | MenuView::Pin(_) | MenuView::Settings)
        ) {
            let view = self.history_view();
            self.show(view);
        }
    }

    pub fn filter_history(&mut self, filter: HistoryFilter) {
        self.touch(&format!("filter {filter:?}"));
        self.history_filter = filter;
        if matches!(self.screen, Screen::Menu(MenuView::History { .. })) {
            let view = self.history_view();
            self.show(view);
        }
    }

    /// Settings: behind the PIN, asked each time the settings are opened.
    pub fn show_settings(&mut self) {
        self.touch("settings");
        if matches!(
            self.screen,
            Screen::Menu(MenuView::History { .. } | MenuView::Pin(_))
        ) {
            self.show(Screen::Menu(MenuView::Pin(PinEntry::default())));
        }
    }

    pub fn pin_key(&mut self, key: Key) {
        // The PIN itself is never recorded, only that a key was pressed.
        self.touch("pin key");
        let Screen::Menu(MenuView::Pin(entry)) = &mut self.screen else {
            return;
        };
        entry.wrong = false;
        match key {
            Key::Digit(digit) if entry.typed.len() < PIN_DIGITS => {
                entry.typed.push(char::from(b'0' + digit.min(9)))
            }
            Key::Backspace => {
                entry.typed.pop();
            }
            Key::Clear => entry.typed.clear(),
            Key::Digit(_) | Key::Point => {}
        }
    }

    pub fn pin_enter(&mut self) {
        self.touch("pin enter");
        let Screen::Menu(MenuView::Pin(entry)) = &mut self.screen else {
            return;
        };
        if !self.settings_pin.is_empty() && entry.typed == self.settings_pin {
            self.staged = self.pump.staged_library();
            self.activation_armed = false;
            self.show(Screen::Menu(MenuView::Settings));
        } else {
            entry.typed.clear();
            entry.wrong = true;
            self.interaction(Action::Value, "wrong PIN".to_owned());
        }
    }

    /// Brightness up or down one tenth, between a tenth and full.
    pub fn brightness(&mut self, brighter: bool) {
        self.touch(if brighter { "brighter" } else { "dimmer" });
        if !matches!(self.screen, Screen::Menu(MenuView::Settings)) {
            return;
        }
        self.brightness_tenths = if brighter {
            self.brightness_tenths.saturating_add(1).min(10)
        } else {
            self.brightness_tenths.saturating_sub(1).max(1)
        };
        self.interaction(
            Action::Value,
            format!("brightness {}0 %", self.brightness_tenths),
        );
        if let Some(backlight) = &self.backlight {
            if let Err(error) = backlight.set(self.brightness_tenths) {
                let text = self
                    .texts
                    .format("refused-backlight", &[("detail", Arg::Text(error))]);
                self.notice = Some(Notice::Refused(text));
            }
        }
    }

    /// Alarm volume up or down one level, between the quietest (which
    /// still sounds) and the loudest.
    pub fn alarm_volume(&mut self, louder: bool) {
        self.touch(if louder { "louder" } else { "quieter" });
        if !matches!(self.screen, Screen::Menu(MenuView::Settings)) {
            return;
        }
        let volume = self.alarm_volume.step(louder);
        if self.send(Command::SetAlarmVolume(volume)) {
            self.alarm_volume = volume;
            self.interaction(
                Action::Value,
                format!(
                    "alarm volume {} of {}",
                    volume.level(),
                    AlarmVolume::LOUDEST.level()
                ),
            );
        }
    }

    pub fn choose_language(&mut self, tag: &str) {
        self.touch(&format!("language {tag}"));
        if !matches!(self.screen, Screen::Menu(MenuView::Settings)) {
            return;
        }
        if let Ok(language) = Language::from_tag(tag) {
            self.set_language(language);
        }
    }

    /// Locks the screen: only the alarm banner and Unlock take touches.
    pub fn lock(&mut self) {
        self.touch("lock");
        if matches!(self.screen, Screen::Menu(_)) {
            self.show(Screen::Menu(MenuView::Locked {
                unlock_armed: false,
            }));
        }
    }

    /// Unlocks in two deliberate presses, so a brush against the screen
    /// does not.
    pub fn unlock(&mut self, confirm: bool) {
        self.touch(if confirm { "confirm unlock" } else { "unlock" });
        let Screen::Menu(MenuView::Locked { unlock_armed }) = &mut self.screen else {
            return;
        };
        if confirm && *unlock_armed {
            let back = if self.active.is_some() {
                Screen::Running
            } else {
                Screen::Home
            };
            self.show(back);
        } else {
            *unlock_armed = !confirm;
        }
    }

    // ---------------------------------------------------------------- interrupted
}
