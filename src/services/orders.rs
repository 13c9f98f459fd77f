//! Infusion orders from the hospital (IHE PCD-03) as the app takes them:
//! each is a proposal put before the nurse, one at a time, and goes
//! through the same therapy core and limits as a program typed at the
//! bedside once the nurse confirms it. Nothing here starts, changes or
//! stops an infusion: a confirmed order is loaded, and the nurse starts it.
//!
//! The app checks again what the link already checked (the link is the
//! process that faces the network): a replayed or expired order is refused
//! here too, and so is an order while the pump holds a program.

use perfuse_link::local::{ProposedOrder, Refusal};
use perfuse_link::seen::{Seen, REMEMBERED};

use crate::control::api::Mode;

/// The order before the nurse, and the order numbers already seen.
pub struct OrderDesk {
    pending: Option<ProposedOrder>,
    seen: Seen,
}

impl Default for OrderDesk {
    fn default() -> Self {
        OrderDesk {
            pending: None,
            seen: Seen::new(REMEMBERED),
        }
    }
}

/// Does the pump hold a program in `mode` (an order must not replace it)?
pub fn holds_program(mode: Mode) -> bool {
    match mode {
        Mode::Ready | Mode::Delivering | Mode::KeepVeinOpen | Mode::Paused | Mode::AlarmStopped => {
            true
        }
        Mode::SelfTest | Mode::PlatformRejected | Mode::Idle | Mode::Completed | Mode::Fault => {
            false
        }
    }
}

impl OrderDesk {
    /// An order arrived with the pump in `mode` at wall-clock `now` (Unix
    /// seconds): it is put before the nurse, or refused.
    pub fn arrive(&mut self, order: ProposedOrder, mode: Mode, now: i64) -> Result<(), Refusal> {
        if !self.seen.first_time(&order.order_id) {
            return Err(Refusal::Replayed);
        }
        if now >= order.expires_at {
            return Err(Refusal::Expired);
        }
        // Only a pump that is up, verified and holds nothing takes one.
        let free = match mode {
            Mode::Idle | Mode::Completed => true,
            Mode::SelfTest | Mode::PlatformRejected | Mode::Fault => false,
            Mode::Ready
            | Mode::Delivering
            | Mode::KeepVeinOpen
            | Mode::Paused
            | Mode::AlarmStopped => false,
        };
        if !free || self.pending.is_some() {
            return Err(Refusal::Busy);
        }
        self.pending = Some(order);
        Ok(())
    }

    /// The order before the nurse.
    pub fn pending(&self) -> Option<&ProposedOrder> {
        self.pending.as_ref()
    }

    /// The nurse confirmed: the order, if still valid at `now` and the pump
    /// holds no program in `mode`; it leaves the desk either way.
    pub fn confirm(&mut self, mode: Mode, now: i64) -> Result<ProposedOrder, (String, Refusal)> {
        let Some(order) = self.pending.take() else {
            return Err((
                String::new(),
                Refusal::Malformed("no order is waiting".into()),
            ));
        };
        if now >= order.expires_at {
            return Err((order.order_id, Refusal::Expired));
        }
        if holds_program(mode) {
            return Err((order.order_id, Refusal::Busy));
        }
        Ok(order)
    }

    /// The nurse declined: the order's number.
    pub fn decline(&mut self) -> Option<String> {
        self.pending.take().map(|order| order.order_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(id: &str, expires_at: i64) -> ProposedOrder {
        ProposedOrder {
            order_id: id.into(),
            pump_id: "PERFUSE-0001".into(),
            patient_id: "MRN1".into(),
            patient_name: "Jane Doe".into(),
            drug: "Heparin".into(),
            concentration: None,
            rate: Some("25".parse().unwrap()),
            dose: None,
            vtbi: "50".parse().unwrap(),
            weight: None,
            sent_at: 0,
            expires_at,
        }
    }

    #[test]
    fn an_order_waits_for_the_nurse_alone_and_only_on_a_pump_without_a_program() {
        let mut desk = OrderDesk::default();
        assert_eq!(
            desk.arrive(order("A", 100), Mode::Delivering, 10),
            Err(Refusal::Busy)
        );
        assert_eq!(desk.arrive(order("B", 100), Mode::Idle, 10), Ok(()));
        assert_eq!(
            desk.arrive(order("C", 100), Mode::Idle, 10),
            Err(Refusal::Busy)
        );
        assert_eq!(
            desk.arrive(order("B", 100), Mode::Idle, 10),
            Err(Refusal::Replayed)
        );
        assert_eq!(
            desk.arrive(order("D", 10), Mode::Idle, 10),
            Err(Refusal::Expired)
        );
        assert_eq!(desk.pending().map(|o| o.order_id.as_str()), Some("B"));
        assert_eq!(
            desk.confirm(Mode::Idle, 20).map(|o| o.order_id),
            Ok("B".into())
        );
        assert!(desk.pending().is_none());
    }

    #[test]
    fn a_confirmation_too_late_or_over_a_new_program_is_refused() {
        let mut desk = OrderDesk::default();
        desk.arrive(order("A", 100), Mode::Idle, 10).unwrap();
        assert_eq!(
            desk.confirm(Mode::Idle, 100),
            Err(("A".into(), Refusal::Expired))
        );
        desk.arrive(order("B", 100), Mode::Completed, 10).unwrap();
        assert_eq!(
            desk.confirm(Mode::Ready, 20),
            Err(("B".into(), Refusal::Busy))
        );
        desk.arrive(order("C", 100), Mode::Idle, 10).unwrap();
        assert_eq!(desk.decline(), Some("C".into()));
        assert_eq!(desk.decline(), None);
    }
}
