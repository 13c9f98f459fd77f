//! The pump on a virtual clock that UI tests, the gallery and the UI
//! benchmark drive in place of the control thread.

use std::cell::RefCell;
use std::rc::Rc;

use perfuse::control::api::{Command, ControlEvent, Snapshot};
use perfuse::ui::pump::{Pump, SendRefusal};

use crate::rig::Rig;

/// The real controller against the simulated mechanism on a virtual clock
/// (`rig::Rig`): each snapshot runs `step_s` seconds. For UI tests, the
/// gallery and the UI benchmark, where no board process runs.
pub struct VirtualPump {
    pub rig: Rc<RefCell<Rig>>,
    pub step_s: f64,
}

impl Pump for VirtualPump {
    fn send(&mut self, command: Command) -> Result<(), SendRefusal> {
        self.rig.borrow_mut().command(command);
        Ok(())
    }

    fn snapshot(&mut self) -> Snapshot {
        let mut rig = self.rig.borrow_mut();
        rig.run_for(self.step_s);
        rig.last
    }

    fn events(&mut self) -> Vec<ControlEvent> {
        std::mem::take(&mut self.rig.borrow_mut().events)
    }
}
